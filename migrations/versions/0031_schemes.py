"""schemes: a year of the national khuyến công plan, a scheme's budget lines and its monitoring records
(issue 18 item 4; artisan_awards/models/schemes.py, docs/programmes.md "National khuyến công schemes")

``scheme_years``: a round of the ``khuyen-cong-schemes`` programme with the department's guidance, the
year's content areas and the ministry's approval of the plan.  ``scheme_budget_lines``: each line's state
share and co-financing (VND, integers).  ``scheme_records``: progress reports, inspection visits, the
acceptance and the settlement.  New tables only: no existing table is rebuilt (the SQLite counter
triggers of 0011 stay).

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheme_years",
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("plan_year", sa.Integer(), nullable=False, unique=True),
        sa.Column("guidance_number", sa.String(length=60), nullable=False),
        sa.Column("guidance_date", sa.Date(), nullable=False),
        sa.Column("guidance_text", sa.Text(), nullable=False),
        sa.Column("content_areas", sa.JSON(), nullable=False),
        sa.Column("plan_decision_number", sa.String(length=60), nullable=True),
        sa.Column("plan_decision_date", sa.Date(), nullable=True),
        sa.Column("plan_approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_approved_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scheme_budget_lines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=300), nullable=False),
        sa.Column("state_amount", sa.BigInteger(), nullable=False),
        sa.Column("cofinancing", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("state_amount >= 0 AND cofinancing >= 0", name="amounts_not_negative"),
        sa.UniqueConstraint("nomination_id", "position", name="uq_scheme_budget_line_position"),
    )
    op.create_table(
        "scheme_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("period", sa.String(length=100), nullable=True),
        sa.Column("progress_percent", sa.Integer(), nullable=True),
        sa.Column("team", sa.String(length=500), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('report', 'inspection', 'acceptance', 'settlement')", name="known_kind"),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
    )


def downgrade():
    op.drop_table("scheme_records")
    op.drop_table("scheme_budget_lines")
    op.drop_table("scheme_years")
