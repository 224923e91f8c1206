"""The law's hard cases (issue 14): a nominee's death, Art. 2(3) overrides, the paper arrival date,
the council's special-craft decisions

* ``nominations.arrived_on`` / ``receipt_book_no``: the day a paper or postal dossier reached the
  provincial department and its number in the receipt book (``so tiep nhan``).  When set, it drives the
  reply and completion clocks and the choice of the governing decree instead of the day it was typed in.
* ``nominations.family_contact_phone`` / ``family_contact_email``: after a nominee's death the family
  becomes the applicant side (its name and relationship go to ``filed_by_name`` / ``filed_by_relationship``).
* ``nominee_deaths``: one row per dossier, the recorded death with its evidence (an attachment).
* ``exclusion_overrides``: append-only, a higher role's recorded reason for letting a dossier that
  Art. 2(3) excludes be submitted or accepted (only where EXCLUSION_OVERRIDE_ALLOWED).
* ``special_craft_decisions``: append-only, the council's decisions that a craft is (or is not) special,
  with the session and the reasons; the latest row is in force.

Plain ADD COLUMN on ``nominations`` (batch mode would rebuild the SQLite table and drop the counter
triggers of 0011); triggers refuse UPDATE and DELETE on the two logs.

Revision ID: 0019
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

APPEND_ONLY = ("exclusion_overrides", "special_craft_decisions")


def upgrade():
    op.add_column("nominations", sa.Column("arrived_on", sa.Date(), nullable=True))
    op.add_column("nominations", sa.Column("receipt_book_no", sa.String(length=40), nullable=True))
    op.add_column("nominations", sa.Column("family_contact_phone", sa.String(length=30), nullable=True))
    op.add_column("nominations", sa.Column("family_contact_email", sa.String(length=254), nullable=True))
    op.create_table(
        "nominee_deaths",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=False, unique=True),
        sa.Column("death_date", sa.Date(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), sa.ForeignKey("attachments.id"), nullable=False),
        sa.Column("state_at_record", sa.String(length=30), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "exclusion_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "special_craft_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=False, index=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("council_sessions.id"), nullable=False, index=True),
        sa.Column("is_special", sa.Boolean(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "sqlite":
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
        else:
            op.execute(f"CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
                       f"RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql")
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()")


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect != "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
        op.drop_table(table)
    op.drop_table("nominee_deaths")
    for column in ("family_contact_email", "family_contact_phone", "receipt_book_no", "arrived_on"):
        if dialect == "sqlite":  # SQLite >= 3.35 drops a column in place, keeping the triggers
            op.execute(f"ALTER TABLE nominations DROP COLUMN {column}")
        else:
            op.drop_column("nominations", column)
