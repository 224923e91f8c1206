"""other programmes' index (issue 16, acceptance 5): the inboxes' section of the other programmes' dossiers

The province inbox and the national list end with the dossiers of the other programmes that wait for
the signed-in person (``services/programme_dossiers.awaiting``): ``programme_id <> 'artisan-titles'``
in the officer's province, oldest move first. No index served that condition, so at 100 000 artisan
dossiers the section read a province's 3 000 artisan rows to find none (13 ms of the inbox's 17 ms of
SQL, bench/pages_bench.py). A partial index holding only the other programmes' dossiers, in the
section's order, hands over exactly its rows. The query inlines the id, so a generic plan can use it.

Plain CREATE INDEX on both databases (no batch mode: it would rebuild the SQLite table and lose the
counter triggers of 0011); SQLite supports partial indexes too.

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

WHERE = "programme_id <> 'artisan-titles'"  # workflows.programme.ARTISAN_ID


def upgrade():
    where = sa.text(WHERE)
    op.create_index("ix_nominations_other_programmes", "nominations", ["province_code", "state_changed_at", "id"],
                    postgresql_where=where, sqlite_where=where, if_not_exists=True)


def downgrade():
    op.drop_index("ix_nominations_other_programmes", table_name="nominations", if_exists=True)
