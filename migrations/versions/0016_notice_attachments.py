"""notice_attachments: the one-stop notices kept with each dossier, and attachments in the e-mail outbox

The one-stop notices (Circular 03/2025/TT-VPCP, Annex I: receipt and appointment slip, request to complete,
refusal, apology with a new appointment) are issued at their moment in a dossier's life; each row keeps the
data printed on it and the PDF as issued (signed when the issuing body has a certificate).  An outbox message
may now carry files: a notice (by reference, so the bytes are stored once) or bytes of its own.

Two new tables only: no existing table is rebuilt (SQLite batch mode would drop the counter triggers of 0011).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "one_stop_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("deadline_key", sa.String(120), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("kind IN ('receipt', 'request', 'refusal', 'apology')",
                           name=op.f("ck_one_stop_notices_known_kind")),
        sa.ForeignKeyConstraint(["nomination_id"], ["nominations.id"],
                                name=op.f("fk_one_stop_notices_nomination_id_nominations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_stop_notices")),
        # an apology is issued once per dossier and missed deadline, even by two runs at once
        sa.UniqueConstraint("nomination_id", "kind", "deadline_key", name=op.f("uq_one_stop_notices_deadline")),
    )
    op.create_index(op.f("ix_one_stop_notices_nomination_id"), "one_stop_notices", ["nomination_id"])
    op.create_table(
        "outbox_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.CheckConstraint("(notice_id IS NULL) <> (data IS NULL)", name=op.f("ck_outbox_attachments_one_source")),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_messages.id"],
                                name=op.f("fk_outbox_attachments_message_id_outbox_messages")),
        sa.ForeignKeyConstraint(["notice_id"], ["one_stop_notices.id"],
                                name=op.f("fk_outbox_attachments_notice_id_one_stop_notices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attachments")),
    )
    op.create_index(op.f("ix_outbox_attachments_message_id"), "outbox_attachments", ["message_id"])


def downgrade():
    op.drop_index(op.f("ix_outbox_attachments_message_id"), table_name="outbox_attachments")
    op.drop_table("outbox_attachments")
    op.drop_index(op.f("ix_one_stop_notices_nomination_id"), table_name="one_stop_notices")
    op.drop_table("one_stop_notices")
