"""Public consultation windows and the comments and complaints they bring in."""

from __future__ import annotations

import sqlalchemy as sa

from workflows.states import N_, Action, State

from .. import permissions
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..models import MAX_DB_INT, Nomination, PublicComment, User, get_row
from ..schemas import CommentIn, CommentStatusIn
from ..text import vi_order
from ..timeutil import today
from . import data_rights, transaction
from .nominations import move_by_event

CONSULTATION_STATES = (State.PUBLIC_CONSULTATION, State.FINAL_CONSULTATION)


def _in_open_window() -> sa.Select:
    return (
        sa.select(Nomination)
        .where(Nomination.state.in_(CONSULTATION_STATES))
        .where(sa.or_(Nomination.consultation_ends.is_(None), Nomination.consultation_ends >= today()))
    )


def open_consultations() -> list[Nomination]:
    """Nominations whose consultation window is running today."""
    stmt = _in_open_window().order_by(Nomination.province_code, vi_order(Nomination.full_name))
    return list(db.session.scalars(stmt))


def consultation_nomination(nomination_id: int) -> Nomination:
    """One nomination whose window is open today; NotFound otherwise."""
    nomination = None
    if 0 < nomination_id <= MAX_DB_INT:
        nomination = db.session.scalar(_in_open_window().where(Nomination.id == nomination_id))
    if nomination is None:
        raise NotFound(N_("Hồ sơ này không trong thời gian lấy ý kiến nhân dân."), code="not_in_consultation")
    return nomination


def add_comment(nomination_id: int, data: CommentIn, *, notice: dict | None = None) -> PublicComment:
    """Take a comment; a signed complaint holds the dossier until the ministry rules on it.

    ``notice``: the personal data notice the person was shown and their choices (``version``,
    ``asked``, ``granted``, ``user``), recorded against the comment in the same transaction, so a
    comment is never kept without the record of what its author was told, nor the record without it.
    """
    nomination = consultation_nomination(nomination_id)
    signed = bool(data.full_name and data.phone and data.address)
    if notice is not None:
        data_rights.check_notice_version(notice["version"])
    with transaction.one_transaction():  # the comment, its consents and the hold it causes, or none
        comment = PublicComment(
            nomination_id=nomination.id, kind=data.kind, full_name=data.full_name, phone=data.phone,
            address=data.address, content=data.content, informational=not signed, window=nomination.state,
        )
        db.session.add(comment)
        db.session.flush()
        if notice is not None:
            data_rights.record_consents(context="comment", comment=comment, version=notice["version"],
                                        asked=notice["asked"], granted=notice["granted"],
                                        user=notice.get("user"), commit=False)
        if comment.blocks:
            db.session.refresh(nomination, with_for_update=True)
            move_by_event(nomination, Action.HOLD, None, "Hệ thống: khiếu nại có ký tên",
                          comment=data.content[:500], meta={"comment_id": comment.id})
    return comment


def set_status(actor: User, comment: PublicComment, data: CommentStatusIn) -> PublicComment:
    """The ministry verifies a comment; a substantiated one holds the dossier."""
    if not permissions.can_handle_public_comments(actor):
        raise Forbidden()
    with transaction.one_transaction():  # the finding and the hold it causes, or neither
        comment.status = data.status
        comment.resolution = data.resolution
        comment.resolved_by_id = actor.id
        db.session.flush()
        nomination = comment.nomination
        if comment.blocks and nomination.state in CONSULTATION_STATES:
            db.session.refresh(nomination, with_for_update=True)
            move_by_event(nomination, Action.HOLD, actor.id, actor.full_name,
                          comment=data.resolution or comment.content[:500], meta={"comment_id": comment.id})
    return comment


def comments_for(nomination: Nomination) -> list[PublicComment]:
    return list(db.session.scalars(
        sa.select(PublicComment).where(PublicComment.nomination_id == nomination.id)
        .order_by(PublicComment.id)
    ))


def get_comment(comment_id: int) -> PublicComment:
    comment = get_row(PublicComment, comment_id)
    if comment is None:
        raise NotFound()
    return comment


