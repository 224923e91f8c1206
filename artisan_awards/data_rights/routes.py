"""Pages of the person's rights (``/my-data``), the notice (``/privacy``) and the data officer's cases
(``/data-officer/requests``).  Each page parses its form and calls one operation of services/data_rights.py."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.states import N_

from .. import permissions
from ..errors import TransitionRefused, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..forms import ActionForm
from ..i18n import label
from ..models import RequestKind, RequestOutcome, RequestStatus
from ..permissions import guard
from ..redirects import safe_target
from ..services import data_rights
from ..timeutil import today
from . import bp

REQUEST_KIND_LABELS = {
    RequestKind.CORRECTION: N_("Chỉnh sửa dữ liệu"),
    RequestKind.DELETION: N_("Xóa dữ liệu"),
    RequestKind.WITHDRAWAL: N_("Rút lại sự đồng ý"),
}
OUTCOME_LABELS = {
    RequestOutcome.DONE: N_("Đã thực hiện"),
    RequestOutcome.PARTLY: N_("Đã thực hiện phần pháp luật cho phép"),
    RequestOutcome.REFUSED: N_("Từ chối, có nêu lý do"),
}
STATUS_LABELS = {RequestStatus.OPEN: N_("Đang xử lý"), RequestStatus.ANSWERED: N_("Đã trả lời")}
READ_ACTION_LABELS = {
    "dossier": N_("Mở hồ sơ"),
    "evidence": N_("Tải tài liệu minh chứng"),
    "export": N_("Kết xuất danh sách"),
    "own_data": N_("Tải toàn bộ dữ liệu của mình"),
}
DONE_LABELS = {
    "deleted_draft": N_("Đã xóa hồ sơ chưa nộp"),
    "consent_withdrawn": N_("Đã rút lại sự đồng ý"),
    "account_anonymised": N_("Đã ẩn danh và đóng tài khoản"),
    "kept_dossier": N_("Giữ lại hồ sơ đã nộp (thủ tục hành chính, lưu trữ theo quy định)"),
    "account": N_("Giữ lại tài khoản (còn hồ sơ đã nộp hoặc là cán bộ)"),
    "audit_log": N_("Giữ lại nhật ký kiểm tra (chuỗi nhật ký không được sửa, xóa)"),
}


@bp.app_template_global()
def request_kind_label(kind) -> str:
    return label(REQUEST_KIND_LABELS, kind)


@bp.app_template_global()
def request_outcome_label(outcome) -> str:
    return label(OUTCOME_LABELS, outcome)


@bp.app_template_global()
def done_label(item: str) -> str:
    """One line of what the system did or kept: ``deleted_draft:12:Name`` -> its label and detail."""
    head, _sep, rest = str(item).partition(":")
    text = label(DONE_LABELS, head) if head in DONE_LABELS else head
    if head == "consent_withdrawn":
        return f"{text}: {data_rights.purpose_text(rest, str(get_locale()))}"
    detail = rest.split(":", 1)[-1] if head == "deleted_draft" else rest.split(":", 1)[0]
    return f"{text}: {detail}" if rest else text


@bp.app_template_global()
def privacy_notice():
    return data_rights.current_notice()


@bp.app_template_global()
def purpose_label(key: str) -> str:
    return data_rights.purpose_text(key, str(get_locale()))


@bp.app_template_global()
def consent_to_ask(context: str):
    """The purposes a form asks in ``context`` (those not yet decided under the current notice)."""
    return data_rights.to_ask(current_user, context)


@bp.record_once
def _commit_reads(state):
    """Every page that logged a reading commits it after it succeeded (one commit, no extra round trip)."""
    state.app.after_request(data_rights.commit_pending_reads)


# -- the notice (public) ------------------------------------------------------------------------------------


@bp.route("/privacy")
def notice():
    """The personal data notice in force (both languages: the page's)."""
    return render_template("data_rights/notice.html", notice=data_rights.current_notice())


@bp.route("/privacy/consent", methods=["GET", "POST"])
@login_required
def consent():
    """The notice again (a new version): read it and decide each optional purpose anew."""
    form = ActionForm()
    target = safe_target(request.values.get("next")) or url_for("home")
    asked = list(data_rights.purposes())
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            data_rights.record_consents(context="login", version=request.form.get("notice_version"), user=current_user,
                                    asked=request.form.getlist("asked"), granted=request.form.getlist("consent"))
        except ValidationFailed as exc:
            flash(exc.text(_), "error")
            return render_template("data_rights/consent.html", form=form, asked=asked, next=target), 422
        flash(_("Đã ghi nhận lựa chọn của bạn."), "success")
        return redirect(target)
    return render_template("data_rights/consent.html", form=form, asked=asked, next=target)


# -- the person's own data ----------------------------------------------------------------------------------


@bp.route("/my-data")
@login_required
def my_data():
    """Dữ liệu cá nhân của tôi: consents, requests, who read my dossiers, the download."""
    consents = data_rights.consents_of(current_user)
    return render_template(
        "data_rights/my_data.html", form=ActionForm(), consents=consents,
        purposes=data_rights.purposes(), requests=data_rights.requests_of(current_user),
        reads=data_rights.reads_of(current_user), today=today(), status_labels=STATUS_LABELS,
        read_action_labels=READ_ACTION_LABELS, reader_label=data_rights.reader_label,
        read_purpose=data_rights.read_purpose,
        is_overdue=data_rights.is_overdue, errors={}, kinds=(RequestKind.CORRECTION, RequestKind.DELETION),
    )


@bp.route("/my-data/export.zip")
@login_required
def export():
    """All data held about me: a ZIP of JSON files, the field dictionary and my files (the export is logged)."""
    data = data_rights.export_own_data(current_user)
    name = f"du-lieu-ca-nhan-{current_user.id}-{today().isoformat()}.zip"
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


@bp.route("/my-data/requests", methods=["POST"])
@login_required
def new_request():
    """Ask for a correction or a deletion: a case with its deadline."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        case = data_rights.open_request(current_user, request.form.get("kind", ""), request.form.get("details", ""))
    except ValidationFailed as exc:
        db.session.rollback()
        for message in [exc.text(_), *exc.field_texts(_).values()][-1:]:
            flash(message, "error")
        return redirect(url_for("data_rights.my_data") + "#requests", code=303)
    flash(_("Đã gửi yêu cầu số %(id)s. Hạn trả lời: %(due)s.", id=case.id, due=vn_date(case.due_on)),
          "success")
    return redirect(url_for("data_rights.my_data") + "#requests", code=303)


@bp.route("/my-data/consents/<purpose>/withdraw", methods=["POST"])
@login_required
def withdraw(purpose: str):
    """Withdraw one consent: it stops now; the data officer confirms in a case."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    case = data_rights.withdraw(current_user, purpose)
    flash(_("Đã rút lại sự đồng ý. Yêu cầu số %(id)s được chuyển cán bộ bảo vệ dữ liệu cá nhân xác nhận.",
            id=case.id), "success")
    return redirect(url_for("data_rights.my_data"), code=303)


@bp.route("/my-data/consents", methods=["POST"])
@login_required
def give_consent():
    """Give consent for an optional purpose from one's account (never ticked in advance)."""
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    asked = [p for p in request.form.getlist("asked") if p in data_rights.purposes()]
    try:
        data_rights.record_consents(context="account", version=request.form.get("notice_version"), user=current_user,
                                asked=asked, granted=request.form.getlist("consent"))
    except ValidationFailed as exc:
        flash(exc.text(_), "error")
    else:
        flash(_("Đã ghi nhận lựa chọn của bạn."), "success")
    return redirect(url_for("data_rights.my_data"), code=303)


# -- the data officer ---------------------------------------------------------------------------------------


@bp.route("/data-officer/requests")
@guard(permissions.can_answer_data_requests)
def requests():
    """The people's requests: open ones by deadline (overdue first), then the answered ones."""
    return render_template("data_rights/requests.html", cases=data_rights.officer_list(), today=today(),
                           status_labels=STATUS_LABELS, is_overdue=data_rights.is_overdue)


@bp.route("/data-officer/requests/<int:request_id>", methods=["GET", "POST"], endpoint="request")
@guard()
def case_page(request_id: int):
    """One request: the person's data in brief, and the answer form (someone else's request: not there, 404)."""
    http = request
    if not permissions.can_answer_data_requests(current_user):
        abort(404)
    case = data_rights.get_request(request_id)
    form = ActionForm()
    errors: dict[str, str] = {}
    status = 200
    if http.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            data_rights.answer(current_user, case, http.form.get("outcome", ""), http.form.get("answer", ""))
        except ValidationFailed as exc:
            errors = exc.field_texts(_)
            flash(exc.text(_), "error")
            status = 422
        except TransitionRefused as exc:
            flash(exc.text(_), "error")
            status = 409
        else:
            flash(_("Đã trả lời yêu cầu số %(id)s; người yêu cầu đã được thông báo.", id=case.id), "success")
            return redirect(url_for("data_rights.requests"), code=303)
    person = case.user
    return render_template(
        "data_rights/request.html", case=case, person=person, form=form, errors=errors, today=today(),
        status_labels=STATUS_LABELS, is_overdue=data_rights.is_overdue, outcomes=OUTCOME_LABELS,
        drafts=data_rights.deletable_drafts(person) if case.status == RequestStatus.OPEN else [],
        kept=data_rights.kept_dossiers(person) if case.status == RequestStatus.OPEN else [],
    ), status
