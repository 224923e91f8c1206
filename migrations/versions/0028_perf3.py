"""perf indexes (issue 16): the province inbox's own rows in its order; the kept counts by province

The inbox (``province/routes.py``, ``INBOX_STATES``) lists a province's dossiers waiting on it
(submitted, returned, accepted, passed by the provincial council) by receipt date, 50 at a time.
0018's index hands the province's dossiers over in that order, but every state comes along and
is filtered out row by row: about four of every five at 100 000 dossiers (bench/pages_bench.py), a
read that grows with the province's finished dossiers. A partial index on the same columns,
holding only the inbox's states, hands over exactly the page's rows. The inbox's counters read
``nomination_counts`` by province (all rounds); its primary key starts with the round, so that
read walked the whole key: an index by (province, state) reads only the province's counters.

Plain CREATE INDEX on both databases (no batch mode: it would rebuild the SQLite table and lose
the counter triggers of 0011); SQLite supports partial indexes too.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

INBOX_STATES = ("submitted", "returned", "accepted", "province_passed")  # province/routes.py INBOX_STATES


def upgrade():
    where = sa.text("state IN (" + ", ".join(f"'{s}'" for s in INBOX_STATES) + ")")
    op.create_index("ix_nominations_province_inbox", "nominations", ["province_code", "received_at", "id"],
                    postgresql_where=where, sqlite_where=where, if_not_exists=True)
    op.create_index("ix_nomination_counts_province_state", "nomination_counts", ["province_code", "state"],
                    if_not_exists=True)


def downgrade():
    op.drop_index("ix_nomination_counts_province_state", table_name="nomination_counts", if_exists=True)
    op.drop_index("ix_nominations_province_inbox", table_name="nominations", if_exists=True)
