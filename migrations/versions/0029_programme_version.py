"""programme_version: every round and dossier records the programme and version it runs under (issue 18)

A programme version is a definition file (workflows/programmes/<id>/<version>.yaml, docs/programmes.md).
``rounds.programme_id``/``programme_version`` say which one a round was opened under;
``nominations.programme_id``/``programme_version`` which one a dossier was filed under: it keeps that
version when a newer one takes effect.  Existing rows are the artisan titles' first definition
(artisan-titles 2024).  ``nominations.programme_data`` holds the values of a programme's own dossier
fields (the artisan titles keep their columns).

The state and title CHECKs of ``nominations`` list the artisan titles' states and titles: they now hold
for the artisan dossiers only (another programme's states are its definition's, checked by its machine).
PostgreSQL drops and re-adds them.  SQLite cannot alter a CHECK; the table is not rebuilt (batch mode
would drop the counter triggers of 0011): its stored schema text is edited in place, the documented way
for a change that loosens a constraint (https://www.sqlite.org/lang_altertable.html, "otherwise
unchanged on-disk content"), then checked with ``PRAGMA integrity_check``.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

ARTISAN_ID = "artisan-titles"
ARTISAN_VERSION = "2024"
STATES = ("draft", "submitted", "returned", "closed_incomplete", "accepted", "province_review", "province_passed",
          "province_rejected", "ministry_review", "ministry_passed", "ministry_rejected", "public_consultation",
          "on_hold", "state_review", "state_passed", "state_rejected", "final_consultation", "submitted_to_pm",
          "submitted_to_president", "awarded", "not_awarded", "withdrawn")
TITLES = ("people", "meritorious")


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


OLD = {"ck_nominations_known_state": _in("state", STATES), "ck_nominations_known_title": _in("title", TITLES)}
NEW = {name: f"programme_id <> '{ARTISAN_ID}' OR {check}" for name, check in OLD.items()}


def _columns(table: str) -> None:
    op.add_column(table, sa.Column("programme_id", sa.String(40), nullable=False, server_default=ARTISAN_ID))
    op.add_column(table, sa.Column("programme_version", sa.String(20), nullable=False,
                                   server_default=ARTISAN_VERSION))


def _sqlite_checks(before: dict, after: dict) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'nominations'").scalar()
    for name in before:
        old_clause = f"CONSTRAINT {name} CHECK ({before[name]})"
        if old_clause not in sql:
            raise RuntimeError(f"nominations: {name} is not as expected; not changed")
        sql = sql.replace(old_clause, f"CONSTRAINT {name} CHECK ({after[name]})")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'nominations'", (sql,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    result = bind.exec_driver_sql("PRAGMA integrity_check").scalar()
    if result != "ok":
        raise RuntimeError(f"SQLite integrity check after editing the nominations CHECKs: {result}")


def _checks(before: dict, after: dict) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_checks(before, after)
        return
    for name, check in after.items():
        op.drop_constraint(op.f(name), "nominations", type_="check")
        op.create_check_constraint(op.f(name), "nominations", sa.text(check))


def upgrade():
    # plain ADD COLUMN on both databases (batch mode would rebuild the SQLite table and lose its triggers)
    _columns("rounds")
    _columns("nominations")
    op.add_column("nominations", sa.Column("programme_data", sa.JSON(), nullable=True))
    _checks(OLD, NEW)


def downgrade():
    bind = op.get_bind()
    others = bind.exec_driver_sql(f"SELECT count(*) FROM nominations WHERE programme_id <> '{ARTISAN_ID}'").scalar()
    if others:
        raise RuntimeError(f"{others} dossiers of other programmes than the artisan titles: remove them first")
    _checks(NEW, OLD)
    for table, columns in (("nominations", ("programme_data", "programme_version", "programme_id")),
                           ("rounds", ("programme_version", "programme_id"))):
        for column in columns:
            if bind.dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place, keeping the triggers
                op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            else:
                op.drop_column(table, column)
