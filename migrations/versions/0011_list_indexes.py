"""list indexes: the round dashboard's grouped count, the lists' default orders, Vietnamese name order

Revision ID: 0011
Revises: 0006
"""

from alembic import op

revision = "0011"
down_revision = "0006"
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


def upgrade():
    for name, columns in SHARED + OWN:
        op.create_index(name, "nominations", columns, unique=False, if_not_exists=True)
    if op.get_bind().dialect.name == "postgresql":
        for name, column in PG_COLLATED:
            op.execute(f'CREATE INDEX {name} ON nominations ({column} COLLATE "vi-x-icu", id)')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name, _column in PG_COLLATED:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, _columns in OWN:
        op.drop_index(name, table_name="nominations", if_exists=True)
