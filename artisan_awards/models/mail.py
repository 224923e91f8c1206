"""The e-mail outbox: a message is written in the same transaction as the change it reports,
then delivered by ``services.mail.send_pending`` (``flask mail send``).  Nothing is lost when
the SMTP server is down: the row stays, with its attempts and last error, until it goes out."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import now_utc


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
