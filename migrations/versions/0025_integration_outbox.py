"""integration_outbox: events for other systems, their subscribers, deliveries and delivery log

Issue 19 (items 2 and 3): ``integration_subscribers`` (webhook or partner; the secret sealed like the
personal fields), ``integration_events`` (written in the transaction of the change they report),
``integration_deliveries`` (one per event and subscriber: the body, its webhook-id, its place in the
dossier's queue, attempts, the claim, dead letters) and ``integration_delivery_attempts`` (the log).
Plain CREATE TABLEs on both databases (no batch mode: the SQLite counter triggers are untouched).

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "integration_subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("status_map", sa.JSON(), nullable=False),
        sa.Column("partner_code", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('webhook', 'partner')", name="ck_integration_subscribers_kind"),
    )
    op.create_table(
        "integration_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_integration_events_nomination_id", "integration_events", ["nomination_id"])
    op.create_table(
        "integration_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("integration_events.id"), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("integration_subscribers.id"), nullable=False),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.String(length=40), nullable=False, unique=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=80), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", "subscriber_id", name="uq_integration_deliveries_event_subscriber"),
        sa.UniqueConstraint("subscriber_id", "nomination_id", "sequence", name="uq_integration_deliveries_sequence"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="ck_integration_deliveries_status"),
    )
    op.create_index("ix_integration_deliveries_due", "integration_deliveries", ["status", "next_attempt_at", "id"])
    op.create_index("ix_integration_deliveries_queue", "integration_deliveries",
                    ["subscriber_id", "nomination_id", "sequence"])
    op.create_table(
        "integration_delivery_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("integration_deliveries.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=True),
    )
    op.create_index("ix_integration_delivery_attempts_delivery_id", "integration_delivery_attempts",
                    ["delivery_id"])


def downgrade():
    op.drop_index("ix_integration_delivery_attempts_delivery_id", table_name="integration_delivery_attempts")
    op.drop_table("integration_delivery_attempts")
    op.drop_index("ix_integration_deliveries_queue", table_name="integration_deliveries")
    op.drop_index("ix_integration_deliveries_due", table_name="integration_deliveries")
    op.drop_table("integration_deliveries")
    op.drop_index("ix_integration_events_nomination_id", table_name="integration_events")
    op.drop_table("integration_events")
    op.drop_table("integration_subscribers")
