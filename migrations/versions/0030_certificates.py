"""certificates: the typical rural-industrial products' certificates, one per product and level (issue 18)

A level of the selection (province, region, nation) issues a certificate valid from ``issued_on`` to
``valid_until``; a revoked one stops being valid on ``revoked_on``.  The holder, the product, its group
and province are copied from the dossier when it is issued.  A new table: nothing else changes.

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


def downgrade():
    op.drop_index("ix_certificates_register", table_name="certificates")
    op.drop_index("ix_certificates_nomination_id", table_name="certificates")
    op.drop_table("certificates")
