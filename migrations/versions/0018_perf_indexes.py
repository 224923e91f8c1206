"""perf indexes: the province inbox read in its own order (province, receipt date, id)

The inbox lists a province's dossiers by receipt date (``services.nominations.SORTS["received"]``:
``received_at ASC NULLS LAST, id``), 50 at a time.  With only (province_code, state) to go by, the
database gathered every matching dossier of the province and sorted them to keep 50: a cost that
grows with the province's dossiers (bench/pages_bench.py, 1 000 -> 100 000).  This index hands them
over in that order, so a page stops after its 50 rows.  A plain CREATE INDEX on both databases (no
batch mode: it would rebuild the SQLite table and lose the counter triggers of 0011).

Revision ID: 0018
Revises: 0015
"""

from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # IF NOT EXISTS: on SQLite an earlier batch rebuild of the table may already have made it from the model
    op.create_index("ix_nominations_province_received", "nominations", ["province_code", "received_at", "id"],
                    if_not_exists=True)


def downgrade():
    op.drop_index("ix_nominations_province_received", table_name="nominations", if_exists=True)
