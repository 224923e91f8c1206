"""certificates: the typical rural-industrial products' certificates, one per product and level, and the
scorers' panels and sheets of a level deciding on a rubric (issue 18)

A level of the selection (province, region, nation) issues a certificate valid from ``issued_on`` to
``valid_until``; a revoked one stops being valid on ``revoked_on``.  The holder, the product, its group
and province are copied from the dossier when it is issued.  ``scoring_panel_members``: who scores at a
level of a round (for one region, or "" for all); ``score_sheets``: one scorer's points for one dossier at
one level.  New tables: nothing else changes.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

LEVELS = ("province", "region", "nation")


def upgrade():
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("programme_id", sa.String(length=40), nullable=False),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("holder_name", sa.String(length=300), nullable=False),
        sa.Column("product_name", sa.String(length=300), nullable=False),
        sa.Column("product_group", sa.String(length=200), nullable=False),
        sa.Column("province_code", sa.String(length=3), sa.ForeignKey("provinces.code"), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN (" + ", ".join(f"'{v}'" for v in LEVELS) + ")", name="known_level"),
        sa.CheckConstraint("valid_until >= issued_on", name="valid_after_issue"),
        sa.CheckConstraint("revoked_on IS NULL OR revoked_on >= issued_on", name="revoked_after_issue"),
        sa.CheckConstraint("number <> ''", name="number_not_empty"),
        sa.UniqueConstraint("number", name="uq_certificates_number"),
        sa.UniqueConstraint("nomination_id", "level", name="uq_certificates_nomination_level"),
    )
    op.create_index("ix_certificates_nomination_id", "certificates", ["nomination_id"])
    op.create_index("ix_certificates_register", "certificates", ["valid_until", "issued_on"])
    op.create_table(
        "scoring_panel_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("round_id", sa.Integer(), sa.ForeignKey("rounds.id"), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.Column("region", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("round_id", "level", "region", "user_id", name="uq_scoring_panel_members_seat"),
    )
    op.create_index("ix_scoring_panel_members_round_id", "scoring_panel_members", ["round_id"])
    op.create_index("ix_scoring_panel_members_user_id", "scoring_panel_members", ["user_id"])
    op.create_table(
        "score_sheets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=False),
        sa.Column("level", sa.String(length=30), nullable=False),
        sa.Column("scorer_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("nomination_id", "level", "scorer_id", name="uq_score_sheets_own"),
    )
    op.create_index("ix_score_sheets_nomination_id", "score_sheets", ["nomination_id"])
    op.create_index("ix_score_sheets_scorer_id", "score_sheets", ["scorer_id"])


def downgrade():
    for table in ("score_sheets", "scoring_panel_members"):
        op.drop_table(table)
    op.drop_index("ix_certificates_register", table_name="certificates")
    op.drop_index("ix_certificates_nomination_id", table_name="certificates")
    op.drop_table("certificates")
