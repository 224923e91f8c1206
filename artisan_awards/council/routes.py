from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import ValidationError

from workflows.states import AGENDA_STATE, N_

from .. import confirm, permissions
from ..errors import ValidationFailed
from ..extensions import db
from ..forms import ActionForm
from ..models import ConflictDeclaration, Nomination, SessionStatus
from ..permissions import guard, visible_filter
from ..schemas import MemberInviteIn, NonVoterIn, SessionIn
from ..services import councils as service
from ..services import eligibility
from ..text import vi_order
from ..validation import field_errors
from . import bp


@bp.route("/agenda")
@guard(permissions.can_use_council_agenda)
def agenda():
    """The dossiers waiting for each council I sit on or serve as secretariat."""
    levels = permissions.council_levels(current_user)
    sections = []
    for level in levels:
        stmt = (
            sa.select(Nomination)
            .where(visible_filter(current_user))
            .where(Nomination.state == AGENDA_STATE[level])
            .order_by(Nomination.province_code, vi_order(Nomination.full_name))
        )
        if level == "province":
            stmt = stmt.where(Nomination.province_code == current_user.province_code)
        sections.append((level, db.session.scalars(stmt).all()))
    return render_template("council/agenda.html", sections=sections, mine=service.my_sessions(current_user))


# -- councils and sessions ---------------------------------------------------------------------



@bp.route("/councils")
@login_required
def councils():
    """The councils I sit on, serve as secretariat, or may see."""
    return render_template("council/councils.html", councils=service.councils_for(current_user))


@bp.route("/councils/<int:council_id>", methods=["GET", "POST"])
@login_required
def council(council_id: int):
    """A council: members, sessions, and (for the secretariat) planning a new session."""
    council = service.get_council(current_user, council_id)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        data = _session_in()
        if data is not None:
            session = service.create_session(current_user, council, data)
            flash(_("Đã lập phiên họp."), "success")
            return redirect(url_for("council.session", session_id=session.id))
    waiting = service.waiting_nominations(council) if service.is_secretariat(current_user, council) else []
    return render_template("council/council.html", council=council, waiting=waiting, form=form,
                           is_secretariat=service.is_secretariat(current_user, council),
                           sizes=service.size_limits(council.level))


@bp.route("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    """A session: agenda, attendance, the vote's progress, and the tally once closed."""
    session = service.get_session(current_user, session_id)
    council = session.council
    member = council.member_for(current_user)
    present_ids = {a.member_id for a in session.attendance}
    quorum_ok, quorum_reason = service.quorum_check(session)
    # The session pack's criteria, once per dossier, for those who see the pack.
    pack = ({i.nomination_id: eligibility.of(i.nomination) for i in session.items}
            if member is not None or service.is_secretariat(current_user, council) else {})
    return render_template(
        "council/session.html", session=session, council=council, form=ActionForm(),
        is_secretariat=service.is_secretariat(current_user, council),
        member=member, present_ids=present_ids,
        voted=member is not None and service.has_voted(member, session),
        ballots_cast=service.ballots_cast(session),
        tally=service.tally(session) if session.status == SessionStatus.CLOSED else None,
        quorum_ok=quorum_ok, quorum_reason=quorum_reason, SessionStatus=SessionStatus,
        missing=service.missing_voters(session) if session.status == SessionStatus.OPEN else [],
        non_voters=service.non_voters(session), eligibility_by_id=pack,
    )


def _session_in(current=None) -> SessionIn | None:
    """The session form (date, place, agenda) as ``SessionIn``; None with the problems flashed."""
    try:
        held_on = date.fromisoformat(request.form.get("held_on", ""))
    except ValueError:
        flash(_("Ngày họp không hợp lệ."), "error")
        return None
    ids = [int(i) for i in request.form.getlist("nomination_ids") if i.isdigit() and len(i) < 10]
    if not ids:
        flash(_("Hãy chọn ít nhất một hồ sơ cho chương trình phiên họp."), "error")
        return None
    try:
        return SessionIn(held_on=held_on, place=request.form.get("place") or None, nomination_ids=ids)
    except ValidationError as exc:  # a place too long, too many dossiers: say which
        for message in field_errors(exc, _).values():
            flash(message, "error")
        return None


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def edit_session(session_id: int):
    """Change the date, place or agenda of a session not yet opened (the secretariat)."""
    session = service.get_session(current_user, session_id)
    council = session.council
    if not service.is_secretariat(current_user, council):
        abort(403)
    form = ActionForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        data = _session_in()
        if data is not None:
            changes = service.update_session(current_user, session, data)
            flash(_("Đã lưu phiên họp; các thành viên được thông báo.") if changes else _("Không có gì thay đổi."),
                  "success")
            return redirect(url_for("council.session", session_id=session.id))
        status = 422
    if session.status != SessionStatus.PLANNED:
        flash(_("Chỉ sửa được phiên họp chưa mở bỏ phiếu."), "error")
        return redirect(url_for("council.session", session_id=session.id))
    current = [i.nomination for i in session.items]
    choices = current + [n for n in service.waiting_nominations(council) if n not in current]
    return render_template("council/session_edit.html", session=session, council=council, form=form,
                           choices=choices, chosen={n.id for n in current}), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@login_required
def cancel_session(session_id: int):
    """Cancel a session not yet opened, with a reason (asks first)."""
    session = service.get_session(current_user, session_id)
    council = session.council
    if not ActionForm().validate_on_submit():
        abort(400)
    reason = (request.form.get("reason") or "").strip()
    if (service.is_secretariat(current_user, council) and session.status == SessionStatus.PLANNED
            and reason and len(reason) <= 2000 and not confirm.confirmed()):
        return confirm.ask(
            N_("Hủy phiên họp"),
            (N_("Phiên họp ngày %(date)s bị hủy; điểm danh và chương trình của phiên họp bị xóa."),
             N_("Các hồ sơ trong chương trình trở lại danh sách chờ Hội đồng xét, để đưa vào phiên họp khác."),
             N_("Việc hủy, lý do và người thực hiện được ghi vào nhật ký quản trị.")),
            cancel_url=url_for("council.session", session_id=session.id), button=N_("Hủy phiên họp"),
            params={"date": session.held_on.strftime("%d/%m/%Y")},
            table=([N_("Mã hồ sơ"), N_("Họ và tên")],
                   [[i.nomination.code or "—", i.nomination.full_name] for i in session.items]))
    service.cancel_session(current_user, session, reason)
    flash(_("Đã hủy phiên họp."), "success")
    return redirect(url_for("council.council", council_id=council.id))


@bp.route("/councils/<int:council_id>/members", methods=["POST"])
@login_required
def invite_member(council_id: int):
    """Invite an external member (an expert without an account): the account and its invitation."""
    council = service.get_council(current_user, council_id)
    if not service.is_secretariat(current_user, council):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        data = MemberInviteIn(email=request.form.get("email", ""), full_name=request.form.get("full_name", ""),
                              position=request.form.get("position") or "member")
    except ValidationError as exc:
        for message in field_errors(exc, _).values():
            flash(message, "error")
        return redirect(url_for("council.council", council_id=council.id))
    member = service.invite_member(current_user, council, data.email, data.full_name, data.position)
    flash(_("Đã thêm %(name)s vào Hội đồng và gửi thư mời đặt mật khẩu.", name=member.user.full_name)
          if not member.user.email_confirmed else _("Đã thêm %(name)s vào Hội đồng.", name=member.user.full_name),
          "success")
    return redirect(url_for("council.council", council_id=council.id))


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
@login_required
def attendance(session_id: int):
    """Record who is present."""
    session = service.get_session(current_user, session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    by_id = {str(m.id): m.user.email for m in session.council.members}
    emails = [by_id[i] for i in request.form.getlist("present") if i in by_id]
    service.set_attendance(current_user, session, emails)
    flash(_("Đã ghi nhận điểm danh: %(n)s thành viên có mặt.", n=len(emails)), "success")
    return redirect(url_for("council.session", session_id=session.id))


@bp.route("/sessions/<int:session_id>/<any(open, close):step>", methods=["POST"])
@login_required
def step(session_id: int, step: str):
    """Open the vote (with quorum) or close it (tally and move every nominee)."""
    session = service.get_session(current_user, session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    secretariat = service.is_secretariat(current_user, session.council)
    if step == "open":
        if (secretariat and session.status == SessionStatus.PLANNED and service.quorum_check(session)[0]
                and not confirm.confirmed()):
            return confirm.ask(
                N_("Mở bỏ phiếu"),
                (N_("Điểm danh và chương trình phiên họp được chốt: không sửa, không hủy phiên họp được nữa."),
                 N_("Các thành viên có mặt được bỏ phiếu kín cho %(n)s hồ sơ trong chương trình."),
                 N_("Hồ sơ trong chương trình chuyển sang trạng thái đang được Hội đồng xét.")),
                cancel_url=url_for("council.session", session_id=session.id), button=N_("Mở bỏ phiếu"),
                danger=False, params={"n": len(session.items)},
                table=([N_("Mã hồ sơ"), N_("Họ và tên")],
                       [[i.nomination.code or "—", i.nomination.full_name] for i in session.items]))
        service.open_session(current_user, session)
        flash(_("Đã mở bỏ phiếu."), "success")
    else:
        reasons = {m.id: (request.form.get(f"reason-{m.id}") or "").strip()
                   for m in service.missing_voters(session)}
        if any(len(r) > 2000 for r in reasons.values()):
            raise ValidationFailed(fields={"non_voters": N_("Lý do dài tối đa 2 000 ký tự.")})
        if (secretariat and session.status == SessionStatus.OPEN and all(reasons.values())
                and not confirm.confirmed()):  # (a member without vote nor reason: refused below)
            return confirm.ask(
                N_("Kết thúc bỏ phiếu và kiểm phiếu"),
                (N_("Bỏ phiếu kết thúc: thành viên chưa bỏ phiếu không bỏ phiếu được nữa."),
                 N_("Phiếu kín được mở, kiểm và hủy; kết quả được ghi vào biên bản kiểm phiếu."),
                 N_("Mỗi hồ sơ trong chương trình chuyển sang được đề nghị hoặc không được đề nghị theo kết quả.")),
                cancel_url=url_for("council.session", session_id=session.id),
                button=N_("Kết thúc bỏ phiếu và kiểm phiếu"), danger=False,
                notes=[_("Đã nhận %(n)s/%(p)s phiếu.", n=service.ballots_cast(session), p=len(session.attendance))])
        service.close_session(current_user, session,
                              [NonVoterIn(member_id=i, reason=r) for i, r in reasons.items() if r])
        flash(_("Đã kết thúc bỏ phiếu và kiểm phiếu."), "success")
    return redirect(url_for("council.session", session_id=session.id))


@bp.route("/sessions/<int:session_id>/ballot", methods=["GET", "POST"])
@login_required
def ballot(session_id: int):
    """The secret ballot (phiếu bầu) of a present member: agree or disagree for each nominee."""
    session = service.get_session(current_user, session_id)
    member = session.council.member_for(current_user)
    if member is None:
        abort(403)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        votes = {str(i.nomination_id): request.form.get(f"vote-{i.nomination_id}") or ""
                 for i in session.items}
        votes = {k: (v if v in ("yes", "no") else "") for k, v in votes.items()}
        blanks = [i.nomination for i in session.items if not votes[str(i.nomination_id)]]
        declared = {c.nomination_id for c in session_conflicts(session) if c.member_id == member.id}
        blanks = [n for n in blanks if n.id not in declared]
        if (blanks and session.status == SessionStatus.OPEN and not service.has_voted(member, session)
                and not confirm.confirmed()):
            return confirm.ask(
                N_("Gửi phiếu bầu còn để trống"),
                (N_("Phiếu bầu còn %(n)s nghệ nhân chưa chọn Đồng ý hoặc Không đồng ý: "
                    "phiếu cho những người này được tính là không hợp lệ."),
                 N_("Phiếu đã gửi không sửa được.")),
                cancel_url=url_for("council.ballot", session_id=session.id), button=N_("Gửi phiếu bầu"),
                params={"n": len(blanks)},
                table=([N_("Họ và tên"), N_("Lựa chọn")], [[n.full_name, _("Để trống")] for n in blanks]))
        service.cast_ballot(current_user, session, votes)
        flash(_("Phiếu bầu của bạn đã được ghi nhận. Cảm ơn ông/bà."), "success")
        return redirect(url_for("council.session", session_id=session.id))
    declared = {c.nomination_id for c in session_conflicts(session) if c.member_id == member.id}
    return render_template("council/ballot.html", session=session, council=session.council, form=form,
                           voted=service.has_voted(member, session), declared=declared,
                           present=member.id in {a.member_id for a in session.attendance})


def session_conflicts(session):
    return db.session.scalars(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.session_id == session.id)
    ).all()


@bp.route("/sessions/<int:session_id>/conflict/<int:nomination_id>", methods=["POST"])
@login_required
def conflict(session_id: int, nomination_id: int):
    """Declare a conflict of interest for one nominee, with a reason, before voting."""
    session = service.get_session(current_user, session_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Cần ghi rõ lý do xung đột lợi ích.")})
    if len(reason) > 5000:  # refused, not cut short: what is stored is what was written
        raise ValidationFailed(fields={"reason": N_("Lý do dài tối đa 5 000 ký tự.")})
    service.declare_conflict(current_user, session, nomination_id, reason)
    flash(_("Đã ghi nhận kê khai xung đột lợi ích."), "success")
    return redirect(url_for("council.ballot", session_id=session.id))
