"""public_holidays.statutory: a public holiday of the Labour Code (Art. 112) apart from other days off

The API contract (shared/api-v1.md v1.1) tells three kinds of day apart: ``holiday`` (a public holiday,
Tết), ``day_off`` (a compensatory or swapped day off) and ``make_up_workday`` (a weekend day worked).
Deadlines count the first two alike; ``kind`` stays ``off``/``work`` and this flag says which day off.
The upgrade marks every day off statutory but the compensatory and swapped ones (``Nghỉ bù``, ``Nghỉ
hoán đổi``), the rule ``services.law.statutory_default`` applies to new days.
A plain ADD COLUMN on both databases (batch mode would rebuild the SQLite table and lose its triggers).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("public_holidays", sa.Column("statutory", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE public_holidays SET statutory = TRUE WHERE kind = 'off' "
               "AND name NOT LIKE 'Nghỉ bù%' AND name NOT LIKE 'Nghỉ hoán đổi%'")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place
        op.execute("ALTER TABLE public_holidays DROP COLUMN statutory")
    else:
        op.drop_column("public_holidays", "statutory")
