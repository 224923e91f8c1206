"""API: councils, sessions and votes; the public consultation."""

from __future__ import annotations

from flask import g, jsonify

from workflows.states import N_

from .. import permissions
from ..errors import ValidationFailed
from ..extensions import limiter
from ..models import CouncilSession
from ..permissions import guard
from ..schemas import (
    AttendanceIn,
    BallotIn,
    CloseIn,
    CommentIn,
    CommentStatusIn,
    ConflictIn,
    CouncilIn,
    SessionIn,
)
from ..serializers import _d, _dt
from ..services import consultations, data_rights
from ..services import councils as service
from . import bp, json_body


def session_out(session: CouncilSession, with_agenda: bool = True) -> dict:
    out = {
        "id": session.id,
        "council_id": session.council_id,
        "held_on": _d(session.held_on),
        "place": session.place,
        "status": session.status,
        "present": [a.member.user.email for a in session.attendance],
        "ballots_cast": service.ballots_cast(session),
        "opened_at": _dt(session.opened_at),
        "closed_at": _dt(session.closed_at),
    }
    if with_agenda:
        out["nomination_ids"] = service.agenda_ids(session)
    return out


def council_out(council) -> dict:
    return {
        "id": council.id,
        "level": council.level,
        "round_id": council.round_id,
        "province_code": council.province_code,
        "name": council.name,
        "decision_no": council.decision_no,
        "decision_date": _d(council.decision_date),
        "members_total": council.members_total,
        "quorum": council.quorum,
        "pass_threshold": council.pass_threshold,
        "quorum_percent": council.quorum_percent,
        "pass_percent": council.pass_percent,
        "exclude_conflicted_votes": council.exclude_conflicted_votes,
        "members": [
            {"email": m.user.email, "full_name": m.user.full_name, "position": m.position,
             "authorised_to_preside": m.authorised_to_preside}
            for m in council.members
        ],
        "sessions": [session_out(s) for s in council.sessions],
    }


@bp.post("/councils")
@guard(permissions.can_create_councils)
def create_council():
    """Set up a council from its establishing decision."""
    council = service.create_council(g.api_user, CouncilIn.model_validate(json_body()))
    return jsonify(council_out(council)), 201


@bp.get("/councils/<int:council_id>")
@guard(permissions.is_staff)
def get_council(council_id: int):
    """A council with its members and sessions."""
    return jsonify(council_out(service.get_council(g.api_user, council_id)))


@bp.post("/councils/<int:council_id>/sessions")
@guard()
def create_session(council_id: int):
    """Plan a session; its agenda takes only nominations waiting at the council's level."""
    council = service.get_council(g.api_user, council_id)
    session = service.create_session(g.api_user, council, SessionIn.model_validate(json_body()))
    return jsonify(session_out(session)), 201


@bp.get("/sessions/<int:session_id>")
@guard()
def get_session(session_id: int):
    """A session: agenda, attendance, status."""
    return jsonify(session_out(service.get_session(g.api_user, session_id)))


@bp.post("/sessions/<int:session_id>/attendance")
@guard()
def attendance(session_id: int):
    """Record who is present (replaces the list, before the session opens)."""
    session = service.get_session(g.api_user, session_id)
    service.set_attendance(g.api_user, session, AttendanceIn.model_validate(json_body()).present)
    return jsonify(session_out(session))


@bp.post("/sessions/<int:session_id>/open")
@guard()
def open_session(session_id: int):
    """Open the vote; 409 when attendance is below the quorum."""
    session = service.get_session(g.api_user, session_id)
    service.open_session(g.api_user, session)
    return jsonify(session_out(session))


@bp.post("/sessions/<int:session_id>/conflicts")
@guard()
def declare_conflict(session_id: int):
    """A present member declares a conflict of interest for a nominee, before voting."""
    session = service.get_session(g.api_user, session_id)
    data = ConflictIn.model_validate(json_body())
    service.declare_conflict(g.api_user, session, data.nomination_id, data.reason)
    return jsonify({"ok": True}), 201


@bp.post("/sessions/<int:session_id>/ballot")
@guard()
def ballot(session_id: int):
    """Cast one secret ballot: yes or no per nominee; blank entries count as invalid."""
    session = service.get_session(g.api_user, session_id)
    data = BallotIn.model_validate(json_body())
    service.cast_ballot(g.api_user, session, data.votes)
    return jsonify({"ok": True}), 201


@bp.post("/sessions/<int:session_id>/close")
@guard()
def close_session(session_id: int):
    """Close the vote: tally and move every nominee to passed or rejected.

    409 ``ballots_missing`` while a present member has not voted, unless the optional body
    ``{"non_voters": [{"member_id" or "email", "reason"}]}`` gives each one's reason (minutes).
    """
    session = service.get_session(g.api_user, session_id)
    data = CloseIn.model_validate(json_body(required=False))
    return jsonify(service.close_session(g.api_user, session, data.non_voters))


@bp.get("/sessions/<int:session_id>/tally")
@guard(permissions.is_staff)
def tally(session_id: int):
    """The tally per nominee (only after the session closes)."""
    return jsonify(service.tally(service.get_session(g.api_user, session_id)))


# -- public consultation -----------------------------------------------------------------------


@bp.get("/privacy/notice")
def privacy_notice():
    """The personal data notice in force, and the optional purposes a commenter may be asked.

    A client that sends a comment shows this notice first and sends back its ``version`` and the
    purposes the person ticked (``CommentIn.notice_version`` / ``consents``)."""
    notice = data_rights.current_notice()
    return jsonify({
        "version": notice.version, "body_vi": notice.body_vi, "body_en": notice.body_en,
        "published_at": _dt(notice.published_at) if notice.published_at else None,
        "purposes": {"comment": [{"key": key, "vi": spec.get("vi"), "en": spec.get("en")}
                                 for key, spec in data_rights.purposes("comment").items()]},
    })


@bp.get("/public/consultations")
def public_consultations():
    """Nominations now in a public-consultation window."""
    from ..i18n import title_text

    return jsonify([
        {
            "nomination_id": n.id,
            "code": n.code,
            "full_name": n.full_name,
            "craft": n.craft,
            "province_code": n.province_code,
            "province": n.province.name,
            "title": n.title,
            "title_label": title_text(n.title),
            "posthumous": n.posthumous,
            "window": n.state,
            "window_ends": _d(n.consultation_ends),
        }
        for n in consultations.open_consultations()
    ])


@bp.post("/public/consultations/<int:nomination_id>/comments")
@limiter.limit("20 per hour")
def public_comment(nomination_id: int):
    """A comment on a nominee; signed ones (name, phone, address) count, anonymous ones inform."""
    body = CommentIn.model_validate(json_body())
    notice = None
    if body.notice_version is not None:  # the client showed the notice: the person's choices are kept
        asked = list(data_rights.purposes("comment"))
        unknown = [p for p in body.consents if p not in asked]
        if unknown:
            message = N_("Mục đích không có trong thông báo về xử lý dữ liệu cá nhân.")
            raise ValidationFailed(message, fields={"consents": message})
        notice = {"version": body.notice_version, "asked": asked, "granted": body.consents}
    elif body.consents:
        message = N_("Cần gửi kèm phiên bản thông báo về xử lý dữ liệu cá nhân đã hiển thị.")
        raise ValidationFailed(message, fields={"notice_version": message})
    comment = consultations.add_comment(nomination_id, body, notice=notice)
    return jsonify({"id": comment.id, "informational": comment.informational,
                    "status": comment.status}), 201


@bp.post("/comments/<int:comment_id>/status")
@guard(permissions.can_handle_public_comments)
def comment_status(comment_id: int):
    """The ministry's finding on a comment; a substantiated one puts the dossier on hold."""
    comment = consultations.get_comment(comment_id)
    consultations.set_status(g.api_user, comment, CommentStatusIn.model_validate(json_body()))
    return jsonify({"id": comment.id, "status": comment.status,
                    "nomination_state": comment.nomination.state})
