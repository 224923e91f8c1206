"""indexes for the list and dashboard pages at scale (bench/pages_bench.py)

* ``ix_nominations_updated_at``: the ministry's list orders every dossier by ``updated_at`` and
  shows 50; with the index PostgreSQL reads the newest rows backwards and stops, instead of
  sorting the whole table.
* ``ix_nominations_round_province_state``: the dashboard counts a round's dossiers by province and
  state; the three columns in one index answer it from the index alone.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("nominations") as batch_op:
        batch_op.create_index("ix_nominations_updated_at", ["updated_at"], unique=False)
        batch_op.create_index("ix_nominations_round_province_state", ["round_id", "province_code", "state"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("nominations") as batch_op:
        batch_op.drop_index("ix_nominations_round_province_state")
        batch_op.drop_index("ix_nominations_updated_at")
