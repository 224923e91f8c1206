"""The in-app inbox: what ``services.notifications.send`` wrote for a person, read and marked read.

Every read is narrowed to the caller's own rows (``user_id``): another person's notification does
not exist for them (404), exactly like a missing one.  Marking read is a write of its own, in
``one_transaction``."""

from __future__ import annotations

import sqlalchemy as sa

from workflows.states import N_

from ..errors import NotFound
from ..extensions import db
from ..models import InboxNotification, User
from ..timeutil import now_utc
from .transaction import one_transaction

PAGE_SIZE = 50


def unread_count(user: User) -> int:
    """How many of the person's notifications are unread (the header's bell); one indexed count."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification)
                             .where(InboxNotification.user_id == user.id, InboxNotification.read_at.is_(None))) or 0


def list_for(user: User, page: int = 1) -> tuple[list[InboxNotification], int]:
    """One page of the person's notifications, unread first, newest first; and how many in all."""
    page = max(1, min(page, 10_000))
    mine = InboxNotification.user_id == user.id
    total = db.session.scalar(sa.select(sa.func.count()).select_from(InboxNotification).where(mine)) or 0
    rows = db.session.scalars(
        sa.select(InboxNotification).where(mine)
        .order_by(InboxNotification.read_at.is_not(None), InboxNotification.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return list(rows), total


def get_own(user: User, notification_id: int) -> InboxNotification:
    row = db.session.scalar(sa.select(InboxNotification).where(InboxNotification.id == notification_id,
                                                               InboxNotification.user_id == user.id))
    if row is None:
        raise NotFound(N_("Không tìm thấy thông báo."), code="not_found")
    return row


@one_transaction()
def mark_read(user: User, notification_id: int) -> InboxNotification:
    """Mark one of the person's own notifications read (another's: NotFound, nothing written)."""
    row = get_own(user, notification_id)
    if row.read_at is None:
        row.read_at = now_utc()
    return row


@one_transaction()
def mark_all_read(user: User) -> int:
    """Mark every unread notification of the person read; how many were."""
    result = db.session.execute(
        sa.update(InboxNotification)
        .where(InboxNotification.user_id == user.id, InboxNotification.read_at.is_(None))
        .values(read_at=now_utc())
    )
    return result.rowcount or 0
