"""The e-mail outbox: a message is written in the same transaction as the change it reports,
then delivered by ``services.mail.send_pending`` (``flask mail send``).  Nothing is lost when
the SMTP server is down: the row stays, with its attempts and last error, until it goes out."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .documents import OneStopNotice


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_pending", "sent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(5), default="vi")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    attachments: Mapped[list[OutboxAttachment]] = relationship(order_by="OutboxAttachment.id")


class ReminderSent(db.Model):
    """One reminder that went into the outbox: ``flask reminders send`` never queues the same twice.

    ``key`` names the deadline and its date (``reply:42:2026-12-10``), ``threshold`` the reminder
    (7 days before, 1 day before ...), ``to`` the recipient.  The unique constraint makes a second,
    concurrent run fail on insert instead of mailing again; a moved deadline has a new key.
    """

    __tablename__ = "reminders_sent"
    __table_args__ = (
        sa.UniqueConstraint("key", "threshold", "to", name="uq_reminders_sent_key_threshold_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    threshold: Mapped[int]
    to: Mapped[str] = mapped_column(sa.String(254))
    deadline: Mapped[date]
    sent_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class OutboxAttachment(db.Model):
    """A file sent with an outbox message: a one-stop notice (by reference: its PDF is stored once, with
    the dossier) or bytes of its own."""

    __tablename__ = "outbox_attachments"
    __table_args__ = (sa.CheckConstraint("(notice_id IS NULL) <> (data IS NULL)", name="one_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(120))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    notice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("one_stop_notices.id"))
    data: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    notice: Mapped[OneStopNotice | None] = relationship()

    def content(self) -> bytes:
        return self.notice.pdf if self.notice_id is not None else self.data


class InboxNotification(db.Model):
    """A notification in its recipient's in-app inbox (the bell in the header, ``/notifications``).

    Written by ``services.notifications.send`` next to the e-mail, in the same transaction as the
    change it reports, for every recipient who has an account.  Only its owner reads it or marks it
    read (anyone else gets 404)."""

    __tablename__ = "inbox_notifications"
    __table_args__ = (sa.Index("ix_inbox_notifications_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    nomination_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nominations.id"))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str | None] = mapped_column(sa.String(500))  # a path inside the app, never another site
    # the recipient's language, as the e-mail's (the page marks the text with it)
    language: Mapped[str] = mapped_column(sa.String(5), default="vi", server_default="vi")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
