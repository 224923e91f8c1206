"""list indexes and nomination_counts: the dashboard's and inbox's counts kept by triggers; Vietnamese name order

``nomination_counts`` holds how many dossiers each (round, province, state) has.  Triggers on
``nominations`` keep it exact in the same transaction as the change, so the round dashboard and
the inbox counters read a few hundred rows whatever the number of dossiers (issue 8: a page at
100 000 dossiers within 1.5x of its time at 1 000).  On PostgreSQL the triggers are per
statement, with transition tables, and write the changed counters in key order (so two
transactions touching the same counters wait for each other instead of deadlocking); on SQLite
(one writer at a time) they are per row.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# (name, columns): for both databases.  The first two are also made by the benchmark branch's 0009
# under the same names, hence IF NOT EXISTS; this migration's downgrade leaves those to 0009.
SHARED = [
    # the dashboard counts a round by province and state: an index-only scan on PostgreSQL
    ("ix_nominations_round_province_state", ["round_id", "province_code", "state"]),
    # the ministry's list, newest first
    ("ix_nominations_updated_at", ["updated_at"]),
]
OWN = [
    # the province inbox, oldest receipt first
    ("ix_nominations_province_received", ["province_code", "received_at"]),
]
# PostgreSQL only: ORDER BY ... COLLATE "vi-x-icu" LIMIT 50 reads these instead of sorting every row.
# (SQLite gets none: an index with the application's own collation would make the file unwritable
# for any tool that has not registered it, such as the sqlite3 shell used for backups.)
PG_COLLATED = [
    ("ix_nominations_full_name_vi", "full_name"),
    ("ix_nominations_craft_vi", "craft"),
]


PG_FUNCTION = """
CREATE FUNCTION nomination_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO nomination_counts AS c (round_id, province_code, state, n)
      SELECT round_id, province_code, state, count(*) FROM new_rows
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (round_id, province_code, state) DO UPDATE SET n = c.n + excluded.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO nomination_counts AS c (round_id, province_code, state, n)
      SELECT round_id, province_code, state, -count(*) FROM old_rows
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (round_id, province_code, state) DO UPDATE SET n = c.n + excluded.n;
  ELSE
    INSERT INTO nomination_counts AS c (round_id, province_code, state, n)
      SELECT round_id, province_code, state, sum(d) FROM (
        SELECT round_id, province_code, state, -1 AS d FROM old_rows
        UNION ALL SELECT round_id, province_code, state, 1 FROM new_rows
      ) AS moves GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (round_id, province_code, state) DO UPDATE SET n = c.n + excluded.n;
  END IF;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
KEY_NEW = "NEW.round_id, NEW.province_code, NEW.state"
WHERE_NEW = "round_id = NEW.round_id AND province_code = NEW.province_code AND state = NEW.state"
WHERE_OLD = "round_id = OLD.round_id AND province_code = OLD.province_code AND state = OLD.state"
SQLITE_TRIGGERS = {
    "INSERT": f"INSERT OR IGNORE INTO nomination_counts VALUES ({KEY_NEW}, 0); "
              f"UPDATE nomination_counts SET n = n + 1 WHERE {WHERE_NEW};",
    "DELETE": f"UPDATE nomination_counts SET n = n - 1 WHERE {WHERE_OLD};",
    "UPDATE OF round_id, province_code, state": (
        f"UPDATE nomination_counts SET n = n - 1 WHERE {WHERE_OLD}; "
        f"INSERT OR IGNORE INTO nomination_counts VALUES ({KEY_NEW}, 0); "
        f"UPDATE nomination_counts SET n = n + 1 WHERE {WHERE_NEW};"
    ),
}


def _create_counts():
    op.create_table(
        "nomination_counts",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("province_code", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("round_id", "province_code", "state", name="pk_nomination_counts"),
    )
    op.execute("INSERT INTO nomination_counts (round_id, province_code, state, n) "
               "SELECT round_id, province_code, state, count(*) FROM nominations GROUP BY 1, 2, 3")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for verb, referencing in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER nomination_counts_{verb.lower()} AFTER {verb} ON nominations "
                       f"{referencing} FOR EACH STATEMENT EXECUTE FUNCTION nomination_counts_track()")
    else:
        for verb, body in SQLITE_TRIGGERS.items():
            name = verb.split()[0].lower()
            op.execute(f"CREATE TRIGGER nomination_counts_{name} AFTER {verb} ON nominations "
                       f"FOR EACH ROW BEGIN {body} END")


def _drop_counts():
    for verb in ("insert", "delete", "update"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS nomination_counts_{verb} ON nominations")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS nomination_counts_{verb}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS nomination_counts_track()")
    op.drop_table("nomination_counts")


def upgrade():
    _create_counts()
    for name, columns in SHARED + OWN:
        op.create_index(name, "nominations", columns, unique=False, if_not_exists=True)
    if op.get_bind().dialect.name == "postgresql":
        for name, column in PG_COLLATED:
            op.execute(f'CREATE INDEX {name} ON nominations ({column} COLLATE "vi-x-icu", id)')


def downgrade():
    _drop_counts()
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in PG_COLLATED:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _columns in OWN:
        op.drop_index(name, table_name="nominations", if_exists=True)
