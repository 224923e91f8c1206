"""partner_intake: dossiers filed by partner systems (issue 19, item 1)

``partners``: the systems that file here (the national public-service portal, a province's one-stop
system): code (the keyid of their RFC 9421 signatures), name, channel label, the HMAC key sealed by
field_crypto, the mapping of their message onto ours, an optional province they file for.
``partner_request_nonces``: signature nonces already used (replays are refused).
``nominations``: ``channel`` (web | paper | partner; existing rows are ``web``, or ``paper`` when the
owner is a province officer, who types in paper dossiers), ``partner_id``, ``external_code`` (unique
per partner) and ``intake_digest`` (the repeat check).

Plain CREATE TABLE / ADD COLUMN / CREATE INDEX on both databases (no batch mode: the SQLite counter
triggers of 0011 are untouched).

Revision ID: 0026
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=40), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel_label", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("key_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field_mapping", sa.JSON(), nullable=False),
        sa.Column("province_code", sa.String(length=3), sa.ForeignKey("provinces.code"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("code <> ''", name="partner_code_not_empty"),
    )
    op.create_table(
        "partner_request_nonces",
        sa.Column("partner_id", sa.Integer(), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("nonce", sa.String(length=128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_partner_request_nonces_seen_at", "partner_request_nonces", ["seen_at"])
    op.add_column("nominations", sa.Column("channel", sa.String(length=10), nullable=False, server_default="web"))
    # SQLite cannot drop a column that is part of a foreign key (the downgrade): the reference is
    # declared on PostgreSQL, where it matters in production; the application writes only real ids.
    reference = [] if op.get_bind().dialect.name == "sqlite" else [sa.ForeignKey("partners.id")]
    op.add_column("nominations", sa.Column("partner_id", sa.Integer(), *reference, nullable=True))
    op.add_column("nominations", sa.Column("external_code", sa.String(length=100), nullable=True))
    op.add_column("nominations", sa.Column("intake_digest", sa.String(length=64), nullable=True))
    op.create_index("uq_nominations_partner_external_code", "nominations", ["partner_id", "external_code"],
                    unique=True)
    # dossiers typed in by a province officer were filed on paper at the one-stop desk
    op.execute("UPDATE nominations SET channel = 'paper' WHERE owner_id IN "
               "(SELECT user_id FROM user_roles WHERE role = 'province_officer')")


def downgrade():
    op.drop_index("uq_nominations_partner_external_code", table_name="nominations")
    for column in ("intake_digest", "external_code", "partner_id", "channel"):
        if op.get_bind().dialect.name == "sqlite":  # in place, keeping the triggers
            op.execute(f"ALTER TABLE nominations DROP COLUMN {column}")
        else:
            op.drop_column("nominations", column)
    op.drop_index("ix_partner_request_nonces_seen_at", table_name="partner_request_nonces")
    op.drop_table("partner_request_nonces")
    op.drop_table("partners")
