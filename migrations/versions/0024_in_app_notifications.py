"""in_app_notifications: every notification sent to a user also lands in their in-app inbox

``services.notifications.send`` writes, next to the e-mail in the outbox and in the same transaction
as the change it reports, one row here per recipient who has an account: the subject and text, the
dossier it is about and a link inside the app.  ``read_at`` is set when its owner marks it read.
A plain CREATE TABLE on both databases (no batch mode: the SQLite counter triggers are untouched).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbox_notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("nomination_id", sa.Integer(), sa.ForeignKey("nominations.id"), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False, server_default="vi"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_inbox_notifications_user_unread", "inbox_notifications", ["user_id", "read_at", "id"])


def downgrade():
    op.drop_index("ix_inbox_notifications_user_unread", table_name="inbox_notifications")
    op.drop_table("inbox_notifications")
