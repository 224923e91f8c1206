"""the law's calendar: province mergers, working days and holidays, stored council results, provincial intake

Revision ID: 0020
Revises: 0015

* ``provinces.successor_code`` / ``provinces.merged_on``: the unit a former province was merged into
  and the day it took effect (the 2025 reorganisation, ``artisan_awards/data/province_mergers.csv``,
  loaded by ``flask provinces sync``).
* ``nominations.filed_province_code``: the province a transferred dossier was first filed with (its
  code keeps that province's short code); NULL for a dossier never transferred.
* ``public_holidays``: the holiday calendar (days off and swapped working Saturdays), seeded from
  ``artisan_awards/data/holidays.csv`` and edited by administrators.
* ``rounds.reply_day_kind`` / ``completion_day_kind`` / ``consultation_day_kind``: whether each window
  counts calendar or working days (default calendar, as before).
* ``council_sessions.received_count`` / ``passed_count`` / ``rejected_count``: what the session
  received, passed and rejected, stored at its close (filled here for sessions already closed, from
  their agenda items, which are not changed after the close).
* ``province_intakes``: a province's own intake deadline within the round's window.

Plain ADD COLUMN on both databases: batch mode would rebuild ``nominations`` on SQLite and lose the
counter triggers of 0011.
"""

import csv
from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _holiday_rows():
    text = resources.files("artisan_awards.data").joinpath("holidays.csv").read_text(encoding="utf-8")
    from datetime import date
    return [{"day": date.fromisoformat(r["day"]), "kind": r["kind"], "name": r["name"], "source": r["source"],
             "confidence": r["confidence"]} for r in csv.DictReader(text.splitlines())]


def upgrade():
    op.add_column("provinces", sa.Column("successor_code", sa.String(3), nullable=True))
    op.add_column("provinces", sa.Column("merged_on", sa.Date(), nullable=True))
    op.add_column("nominations", sa.Column("filed_province_code", sa.String(3), nullable=True))
    for name in ("reply_day_kind", "completion_day_kind", "consultation_day_kind"):
        op.add_column("rounds", sa.Column(name, sa.String(10), nullable=False, server_default="calendar"))
    for name in ("received_count", "passed_count", "rejected_count"):
        op.add_column("council_sessions", sa.Column(name, sa.Integer(), nullable=True))
    op.execute(
        "UPDATE council_sessions SET "
        "received_count = (SELECT count(*) FROM agenda_items a WHERE a.session_id = council_sessions.id), "
        "passed_count = (SELECT count(*) FROM agenda_items a WHERE a.session_id = council_sessions.id "
        "AND a.passed = true), "
        "rejected_count = (SELECT count(*) FROM agenda_items a WHERE a.session_id = council_sessions.id "
        "AND (a.passed = false OR a.passed IS NULL)) "
        "WHERE status = 'closed'"
    )
    holidays = op.create_table(
        "public_holidays",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("kind", sa.String(4), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(300), nullable=False, server_default=""),
        sa.Column("confidence", sa.String(1), nullable=False, server_default="M"),
        sa.Column("updated_by", sa.String(200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('off', 'work')", name="ck_public_holidays_known_kind"),
        sa.CheckConstraint("confidence IN ('H', 'M', 'L')", name="ck_public_holidays_known_confidence"),
    )
    op.bulk_insert(holidays, _holiday_rows())
    op.create_table(
        "province_intakes",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("province_code", sa.String(3), sa.ForeignKey("provinces.code"), primary_key=True),
        sa.Column("intake_closes", sa.Date(), nullable=False),
        sa.Column("note", sa.String(300), nullable=True),
        sa.Column("set_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def _drop(table, column):
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place, keeping the triggers
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def downgrade():
    op.drop_table("province_intakes")
    op.drop_table("public_holidays")
    for name in ("received_count", "passed_count", "rejected_count"):
        _drop("council_sessions", name)
    for name in ("reply_day_kind", "completion_day_kind", "consultation_day_kind"):
        _drop("rounds", name)
    _drop("nominations", "filed_province_code")
    _drop("provinces", "merged_on")
    _drop("provinces", "successor_code")
