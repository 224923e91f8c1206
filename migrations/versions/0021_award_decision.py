"""award_decision: the President's decision records the title awarded and the bonus, from a dated base salary

A decision awards a title (Nghệ nhân nhân dân or Nghệ nhân ưu tú); the bonus that comes with it is a
coefficient (configuration ``AWARD_COEFFICIENTS``: 12.5 and 9.0, Decree 98/2023/NĐ-CP Art. 56(3)) times
the base salary (lương cơ sở) in force on the decision date.  Base salaries are a dated table that an
administrator extends when the government changes it; the values below are seeded from the project's
domain notes (effective dates not verified against the decrees: ``verified`` is false).  The figures
used are kept on the dossier, so a later change of the table never rewrites a decision already made.

Revision ID: 0021
Revises: 0015
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

SEED = [
    (date(2023, 7, 1), 1_800_000, "Nghị định 24/2023/NĐ-CP (mức 1,8 triệu đồng)"),
    (date(2024, 7, 1), 2_340_000, "Nghị định 73/2024/NĐ-CP (mức 2,34 triệu đồng)"),
]


def upgrade():
    table = op.create_table(
        "base_salaries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("effective_from", sa.Date(), nullable=False, unique=True),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column("legal_basis", sa.String(200), nullable=False, server_default=""),
        sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_vnd > 0", name="ck_base_salaries_amount_positive"),
    )
    op.bulk_insert(table, [{"effective_from": d, "amount_vnd": a, "legal_basis": basis, "verified": False}
                           for d, a, basis in SEED])
    # plain ADD COLUMNs on both databases (batch mode would rebuild the SQLite table and lose its triggers)
    op.add_column("nominations", sa.Column("award_title", sa.String(20), nullable=True))
    op.add_column("nominations", sa.Column("award_coefficient", sa.Numeric(5, 2), nullable=True))
    op.add_column("nominations", sa.Column("award_base_salary_vnd", sa.BigInteger(), nullable=True))
    op.add_column("nominations", sa.Column("award_bonus_vnd", sa.BigInteger(), nullable=True))


def downgrade():
    for column in ("award_bonus_vnd", "award_base_salary_vnd", "award_coefficient", "award_title"):
        if op.get_bind().dialect.name == "sqlite":  # SQLite >= 3.35 drops a column in place, keeping the triggers
            op.execute(f"ALTER TABLE nominations DROP COLUMN {column}")
        else:
            op.drop_column("nominations", column)
    op.drop_table("base_salaries")
