"""Administration pages.  Each checks its guard from ``permissions``/``account_admin``;
an account outside one's scope is simply not there (404)."""

from __future__ import annotations

import json
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from workflows.states import N_

from .. import confirm, exports, permissions
from ..errors import Forbidden, TransitionRefused, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..models import AuditKind, Position, Round, User
from ..permissions import ROLE_LABELS, ROLES, guard
from ..schemas import CouncilIn, MemberIn, RoundIn
from ..services import account_admin, account_import, awards, councils, law, queries, rounds, sessions
from ..timeutil import today
from ..validation import field_errors
from . import bp
from .forms import AccessForm, BaseSalaryForm, CouncilForm, ImportForm, InviteForm, RoundForm, choices

PAGE_SIZE = 100
POSITION_LABELS = {
    Position.CHAIR: N_("Chủ tịch"),
    Position.VICE_CHAIR: N_("Phó Chủ tịch"),
    Position.MEMBER: N_("Ủy viên"),
    Position.SECRETARY: N_("Thư ký"),
}


def _provinces(scope: str | None = None) -> list[tuple[str, str]]:
    return account_admin.active_provinces(scope)


def _province_choices(actor: User, blank: bool = True) -> list[tuple[str, str]]:
    if permissions.is_administrator(actor):
        return ([("", _("— Không gắn với tỉnh —"))] if blank else []) + _provinces()
    return _provinces(actor.province_code)


def _role_choices(actor: User) -> list[tuple[str, str]]:
    return [(r, _(ROLE_LABELS[r])) for r in permissions.grantable_roles(actor)]


def _apply_errors(form, exc: ValidationFailed) -> None:
    texts = exc.field_texts(_)
    for name, message in texts.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")
    if not texts:
        flash(exc.text(_), "error")


@bp.route("/")
@guard(permissions.can_open_administration)
def index():
    """What this person can administer."""
    return render_template("admin/index.html", links=admin_links(current_user))


def admin_links(user: User) -> list[tuple[str, str]]:
    return [(endpoint, _(label)) for endpoint, label in permissions.admin_sections(user)]


# -- accounts ------------------------------------------------------------------------------------

@bp.route("/accounts")
@guard(permissions.can_manage_accounts)
def accounts():
    """The accounts one manages, filterable by name/e-mail, role, province and status."""
    q = (request.args.get("q") or "").strip()
    role, province, status = request.args.get("role"), request.args.get("province"), request.args.get("status")
    users = account_admin.list_accounts(current_user, account_admin.AccountFilters(q, role, province, status))
    return render_template(
        "admin/accounts.html", users=users, q=q, role=role, province=province, status=status,
        roles=[(r, _(ROLE_LABELS[r])) for r in ROLES],
        provinces=_provinces() if permissions.is_administrator(current_user) else [],
        can_manage=account_admin.can_manage,
    )


@bp.route("/accounts/invite", methods=["GET", "POST"])
@guard(permissions.can_manage_accounts)
def invite():
    """Invite a person by e-mail; they set their own password from the link."""
    form = InviteForm()
    form.roles.choices = choices(_role_choices(current_user))
    form.province_code.choices = choices(_province_choices(current_user))
    if form.validate_on_submit():
        try:
            user = account_admin.invite(current_user, form.email.data, form.full_name.data, form.roles.data,
                                        form.province_code.data or None, form.locale.data)
        except Forbidden as exc:
            flash(exc.text(_), "error")
            return render_template("admin/invite.html", form=form), 403
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Đã gửi lời mời tới %(email)s.", email=user.email), "success")
            return redirect(url_for("admin.account", user_id=user.id))
    return render_template("admin/invite.html", form=form)


def _managed_user(user_id: int) -> User:
    return account_admin.managed_account(current_user, user_id)  # 404 outside one's scope


@bp.route("/accounts/<int:user_id>", methods=["GET", "POST"])
@guard(permissions.can_manage_accounts)
def account(user_id: int):
    """One account: roles, province scope, status and its recent events."""
    user = _managed_user(user_id)
    form = AccessForm(data={"roles": sorted(user.roles), "province_code": user.province_code or ""})
    form.roles.choices = choices(_role_choices(current_user))
    form.province_code.choices = choices(_province_choices(current_user))
    if form.validate_on_submit():
        try:
            changed = account_admin.change_access(current_user, user, form.roles.data,
                                                  form.province_code.data or None)
        except Forbidden as exc:
            flash(exc.text(_), "error")
            return redirect(url_for("admin.account", user_id=user.id)), 403
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Đã lưu thay đổi.") if changed else _("Không có gì thay đổi."), "success")
            return redirect(url_for("admin.account", user_id=user.id))
    events = queries.events_for("user", user.id, limit=20)
    return render_template("admin/account.html", user=user, form=form, events=events,
                           role_labels=ROLE_LABELS,
                           login_sessions=sessions.active_sessions(user), tokens=sessions.active_tokens(user))


@bp.route("/accounts/<int:user_id>/sessions/end", methods=["POST"])
@guard(permissions.can_manage_accounts)
def end_sessions(user_id: int):
    """End every login session and API token of an account (a stolen laptop, a leaked token)."""
    user = _managed_user(user_id)
    account_admin.end_sessions(current_user, user)
    flash(_("Đã kết thúc mọi phiên đăng nhập và mã truy cập của tài khoản này."), "success")
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/status", methods=["POST"])
@guard(permissions.can_manage_accounts)
def account_status(user_id: int):
    """Deactivate (never delete) or reactivate an account."""
    user = _managed_user(user_id)
    active = request.form.get("active") == "1"
    try:
        account_admin.set_active(current_user, user, active)
    except Forbidden as exc:
        flash(exc.text(_), "error")
        return redirect(url_for("admin.account", user_id=user.id)), 403
    flash(_("Tài khoản đã được mở lại.") if active else _("Tài khoản đã bị khóa."), "success")
    return redirect(url_for("admin.account", user_id=user.id))


@bp.route("/accounts/<int:user_id>/resend", methods=["POST"])
@guard(permissions.can_manage_accounts)
def resend(user_id: int):
    """Send a new invitation link (the person has not set a password yet)."""
    user = _managed_user(user_id)
    account_admin.resend_invitation(current_user, user)
    flash(_("Đã gửi lại lời mời tới %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.account", user_id=user.id))


# -- bulk import ---------------------------------------------------------------------------------

@bp.route("/accounts/import", methods=["GET", "POST"])
@guard(permissions.can_manage_accounts)
def import_accounts():
    """Upload a sheet and preview every row's problems; nothing is written yet."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.sheet.data
        try:
            records = account_import.read_sheet(upload.filename, upload.read())
        except ValidationFailed as exc:
            form.sheet.errors = [*form.sheet.errors, exc.text(_)]
        else:
            return _import_preview(records)
    return render_template("admin/import.html", form=form)


def _import_preview(records: list[dict], status: int = 200):
    rows = account_import.check(current_user, records)
    return render_template("admin/import_preview.html", rows=rows,
                           payload=account_import.preview_token(current_user, records),
                           bad=sum(1 for r in rows if r.problems),
                           new=sum(1 for r in rows if not r.exists and not r.problems),
                           role_labels=ROLE_LABELS), status


@bp.route("/accounts/import/confirm", methods=["POST"])
@guard(permissions.can_manage_accounts)
def import_confirm():
    """Write the previewed sheet: every new account, or none.

    The form carries the preview's signed token, not rows the browser could change: see
    services/account_import.py.  A tampered, foreign or expired token answers 400.
    """
    try:
        records = account_import.confirmed_records(current_user, request.form.get("payload"))
    except account_import.PreviewInvalid as exc:
        form = ImportForm()
        form.sheet.errors = [exc.text(_)]
        return render_template("admin/import.html", form=form), exc.status
    try:
        created, skipped = account_import.apply(current_user, records)
    except ValidationFailed as exc:  # the data changed since the preview (a province, an account)
        flash(exc.text(_), "error")
        return _import_preview(records, 422)
    flash(_("Đã tạo %(created)s tài khoản, bỏ qua %(skipped)s tài khoản đã có.",
            created=created, skipped=skipped), "success")
    return redirect(url_for("admin.accounts"))


# -- rounds --------------------------------------------------------------------------------------

@bp.route("/rounds", endpoint="rounds")
@guard(permissions.can_manage_rounds)
def rounds_list():
    """Every round and its plan, of every programme, each with the programme it runs."""
    rows = rounds.all_rounds()
    return render_template("admin/rounds.html", rounds=rows, today=today(),
                           programme_titles={r.id: rounds.programme_title(r) for r in rows})


def _round_in(form: RoundForm) -> RoundIn:
    deadlines = {k: getattr(form, k).data for k in rounds.DEADLINE_ORDER if getattr(form, k).data}
    return RoundIn.model_validate({
        "number": form.number.data, "name": form.name.data, "governing_decree": form.governing_decree.data,
        "intake_opens": form.intake_opens.data, "intake_closes": form.intake_closes.data,
        "reply_days": form.reply_days.data, "completion_days": form.completion_days.data,
        "consultation_days": form.consultation_days.data,
        "consultation_windows": form.consultation_windows.data, "deadlines": deadlines,
        "reply_day_kind": form.reply_day_kind.data, "completion_day_kind": form.completion_day_kind.data,
        "consultation_day_kind": form.consultation_day_kind.data,
    })


def _save_round(form: RoundForm, row: Round | None):
    try:
        data = _round_in(form)
        if row is None:
            row = rounds.create_round(current_user, data)
            flash(_("Đã tạo đợt xét tặng."), "success")
        elif not confirm.confirmed() and (effects := _plan_preview(row, data)):
            return effects
        else:
            changes = rounds.update_round(current_user, row, data)
            flash(_("Đã lưu kế hoạch.") if changes else _("Không có gì thay đổi."), "success")
    except ValidationError as exc:
        errors = field_errors(exc, _)
        for loc, message in errors.items():
            field = getattr(form, loc, None)
            if field is not None:
                field.errors = [*field.errors, message]
            else:
                flash(message, "error")
        return None
    except ValidationFailed as exc:  # the service wrote nothing
        flash(exc.text(_), "error")
        for name, message in exc.field_texts(_).items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
        return None
    return redirect(url_for("admin.edit_round", round_id=row.id))


def _plan_preview(row: Round, data: RoundIn):
    """Before a change of dates or windows is saved: its effect on the dossiers already in the round.

    The plan is checked first (order of dates, legal minimums once open), so a refused change is
    shown on the form, not after a confirmation.  None when no date or window changes.
    """
    rounds.check_legal_minimums(row, data)
    rounds.validate_plan(data)
    effects = rounds.plan_effects(row, data)
    if not effects:
        return None
    total = len(set().union(*(item["ids"] for item in effects)))
    return confirm.ask(
        N_("Lưu thay đổi kế hoạch đợt xét tặng"),
        (N_("Những thay đổi dưới đây áp dụng ngay cho các hồ sơ đã có trong đợt; "
            "bảng cho biết hạn nào dời và bao nhiêu hồ sơ chịu ảnh hưởng."),
         N_("Người đề nghị và cán bộ thấy ngay các hạn mới; thay đổi được ghi vào nhật ký với người thực hiện.")),
        cancel_url=url_for("admin.edit_round", round_id=row.id), button=N_("Lưu kế hoạch"), danger=False,
        reversible=True,
        notes=[_("Đợt đã mở tiếp nhận.") if rounds.has_opened(row) else _("Đợt chưa mở tiếp nhận."),
               _("Số hồ sơ trong đợt có hạn thay đổi: %(n)s.", n=total)],
        table=([N_("Nội dung thay đổi"), N_("Trước"), N_("Sau"), N_("Số hồ sơ chịu ảnh hưởng"), N_("Hồ sơ")],
               [[_label(e), e["before"], e["after"], e["count"], "; ".join(e["examples"]) or "—"]
                for e in effects]))


def _label(effect: dict) -> str:
    msgid = effect["label"]
    return _(msgid)


@bp.route("/rounds/new", methods=["GET", "POST"])
@guard(permissions.can_manage_rounds)
def new_round():
    """Create a round with its plan."""
    form = RoundForm()
    if form.validate_on_submit():
        done = _save_round(form, None)
        if done:
            return done
    status = 422 if request.method == "POST" else 200
    return render_template("admin/round_form.html", form=form, round=None, history=[]), status


@bp.route("/rounds/<int:round_id>", methods=["GET", "POST"])
@guard(permissions.can_manage_rounds)
def edit_round(round_id: int):
    """Edit a round's plan; every change is logged with who and when."""
    row = rounds.get_round(round_id)
    data = {name: getattr(row, name) for name in rounds.PLAN_FIELDS if name != "deadlines"}
    for key in rounds.DEADLINE_ORDER:
        value = (row.deadlines or {}).get(key)
        data[key] = date.fromisoformat(value) if value else None
    form = RoundForm(data=data)
    if form.validate_on_submit():
        done = _save_round(form, row)
        if done:
            return done
    history = queries.events_for("round", row.id)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/round_form.html", form=form, round=row, history=history), status


# -- councils ------------------------------------------------------------------------------------

@bp.route("/councils/new", methods=["GET", "POST"])
@guard(permissions.can_create_councils)
def new_council():
    """Set up a council: establishing decision, members picked from the accounts, positions."""
    form = CouncilForm()
    national = permissions.can_create_national_councils(current_user)
    if not national:
        form.level.choices = choices([("province", _("Cấp tỉnh"))])
    form.round_id.choices = choices([(r.id, f"{r.number}. {r.name}") for r in rounds.all_rounds()])
    provinces = ([("", "—")] + _provinces()) if national else _provinces(current_user.province_code)
    form.province_code.choices = choices(provinces)
    candidates = councils.candidates(current_user)
    picked = {}
    if request.method == "POST":
        for user in candidates:
            position = request.form.get(f"position-{user.id}", "")
            if position in {p.value for p in Position}:
                picked[user.id] = (position, request.form.get(f"preside-{user.id}") == "1")
    if form.validate_on_submit():
        try:
            emails = {u.id: u.email for u in candidates}
            data = CouncilIn.model_validate({
                "level": form.level.data, "round_id": form.round_id.data,
                "province_code": form.province_code.data or None, "name": form.name.data,
                "decision_no": form.decision_no.data, "decision_date": form.decision_date.data,
                "exclude_conflicted_votes": form.exclude_conflicted_votes.data,
                "members": [MemberIn(email=emails[uid], position=pos,
                                     authorised_to_preside=pos == Position.VICE_CHAIR and preside)
                            for uid, (pos, preside) in picked.items()],
            })
            council = councils.create_council(current_user, data)
        except ValidationError as exc:
            for loc, message in field_errors(exc, _).items():
                flash(message if loc == "_" else f"{loc}: {message}", "error")
        except (ValidationFailed, Forbidden) as exc:  # the service wrote nothing
            texts = exc.field_texts(_)
            for message in texts.values() or [exc.text(_)]:
                flash(message, "error")
            if not texts:
                flash(exc.text(_), "error")
        else:  # the council and its audit event, written together by the service
            flash(_("Đã thành lập Hội đồng."), "success")
            return redirect(url_for("council.council", council_id=council.id))
    return render_template("admin/council_form.html", form=form, candidates=candidates, picked=picked,
                           positions=POSITION_LABELS, role_labels=ROLE_LABELS)


# -- base salaries (the award bonus) ---------------------------------------------------------------

def _amount(text: str | None) -> int | None | bool:
    """Đồng as typed (2340000, 2.340.000, 2 340 000 đ): the integer, None if blank, False if not a number."""
    cleaned = "".join((text or "").replace("đồng", "").replace("đ", "").split()).replace(".", "").replace(",", "")
    if not cleaned:
        return None
    return int(cleaned) if cleaned.isascii() and cleaned.isdigit() and len(cleaned) <= 15 else False


@bp.route("/base-salaries", methods=["GET", "POST"])
@guard(permissions.can_manage_base_salaries)
def base_salaries():
    """The dated base salaries the award bonus is computed from; add the one a new decree sets."""
    form = BaseSalaryForm()
    status = 200
    if request.method == "POST":
        status = 422
        amount = _amount(form.amount_vnd.data)
        if form.validate_on_submit() and amount is not False:
            try:
                awards.add_base_salary(current_user, form.effective_from.data, amount,
                                       form.legal_basis.data, form.verified.data)
            except ValidationFailed as exc:
                flash(exc.text(_), "error")
                for name, message in exc.field_texts(_).items():
                    getattr(form, name).errors = [*getattr(form, name).errors, message]
            else:
                flash(_("Đã thêm mức lương cơ sở."), "success")
                return redirect(url_for("admin.base_salaries"))
        elif "csrf_token" in form.errors:
            abort(400)
        if amount is False:
            form.amount_vnd.errors = [*form.amount_vnd.errors,
                                      _("Nhập mức lương bằng số đồng, ví dụ 2340000 hoặc 2.340.000.")]
    return render_template("admin/base_salaries.html", form=form, salaries=awards.history(),
                           coefficients={t: awards.coefficient(t) for t in ("people", "meritorious")}), status


# -- audit ---------------------------------------------------------------------------------------

KIND_LABELS = {
    AuditKind.NOMINEE_DEATH_RECORDED: N_("Ghi nhận nghệ nhân đã mất (truy tặng)"),
    AuditKind.EXCLUSION_OVERRIDDEN: N_("Cho phép ngoại lệ Điều 2 khoản 3"),
    AuditKind.PAPER_ARRIVAL_RECORDED: N_("Ghi ngày hồ sơ giấy đến Sở"),
    AuditKind.SPECIAL_CRAFT_DECIDED: N_("Hội đồng quyết định nghề đặc thù"),
    AuditKind.COMPLETION_EXPIRED: N_("Hết thời hạn bổ sung hồ sơ"),
    AuditKind.LOGIN: N_("Đăng nhập"),
    AuditKind.LOGIN_FAILED: N_("Đăng nhập không thành công"),
    AuditKind.PASSWORD_CHANGED: N_("Đổi mật khẩu"),
    AuditKind.PASSWORD_RESET_REQUESTED: N_("Yêu cầu đặt lại mật khẩu"),
    AuditKind.ACCOUNT_INVITED: N_("Mời người dùng"),
    AuditKind.ACCOUNT_REGISTERED: N_("Tự đăng ký"),
    AuditKind.EMAIL_CONFIRMED: N_("Xác nhận thư điện tử"),
    AuditKind.ROLES_CHANGED: N_("Đổi vai trò"),
    AuditKind.PROVINCE_CHANGED: N_("Đổi tỉnh, thành phố"),
    AuditKind.ACCOUNT_DEACTIVATED: N_("Khóa tài khoản"),
    AuditKind.ACCOUNT_REACTIVATED: N_("Mở lại tài khoản"),
    AuditKind.ACCOUNTS_IMPORTED: N_("Nhập danh sách"),
    AuditKind.SESSIONS_ENDED: N_("Kết thúc phiên đăng nhập"),
    AuditKind.ROUND_CREATED: N_("Tạo đợt xét tặng"),
    AuditKind.ROUND_CHANGED: N_("Sửa kế hoạch đợt"),
    AuditKind.SCHEME_YEAR_OPENED: N_("Mở năm kế hoạch khuyến công"),
    AuditKind.SCHEME_YEAR_CHANGED: N_("Sửa hướng dẫn năm kế hoạch khuyến công"),
    AuditKind.HOLIDAY_CHANGED: N_("Sửa lịch ngày nghỉ"),
    AuditKind.INTAKE_CHANGED: N_("Hạn tiếp nhận của tỉnh"),
    AuditKind.PROVINCE_TRANSFER: N_("Chuyển hồ sơ sang tỉnh hợp nhất"),
    AuditKind.COUNCIL_CREATED: N_("Thành lập Hội đồng"),
    AuditKind.COUNCIL_MEMBER_INVITED: N_("Mời thành viên Hội đồng"),
    AuditKind.SESSION_CHANGED: N_("Sửa phiên họp"),
    AuditKind.SESSION_CANCELLED: N_("Hủy phiên họp"),
    AuditKind.BASE_SALARY_ADDED: N_("Thêm mức lương cơ sở"),
    AuditKind.CONSENT_RECORDED: N_("Ghi nhận đồng ý xử lý dữ liệu cá nhân"),
    AuditKind.CONSENT_WITHDRAWN: N_("Rút lại sự đồng ý"),
    AuditKind.DATA_REQUEST_OPENED: N_("Yêu cầu về dữ liệu cá nhân"),
    AuditKind.DATA_REQUEST_ANSWERED: N_("Trả lời yêu cầu về dữ liệu cá nhân"),
    AuditKind.PERSONAL_DATA_EXPORTED: N_("Tải toàn bộ dữ liệu cá nhân"),
    AuditKind.PRIVACY_NOTICE_PUBLISHED: N_("Ban hành thông báo xử lý dữ liệu cá nhân"),
    AuditKind.SUBSCRIBER_CHANGED: N_("Sửa bên nhận sự kiện (webhook, đối tác)"),
    AuditKind.DELIVERY_REPLAYED: N_("Gửi lại sự kiện"),
    AuditKind.PERSONAL_DATA_REVEALED: N_("Xem dữ liệu cá nhân được che (có lý do)"),
    AuditKind.RETENTION_APPLIED: N_("Xóa, ẩn danh dữ liệu hết thời hạn lưu trữ"),
    AuditKind.BREACH_RECORDED: N_("Ghi nhận sự cố lộ lọt dữ liệu cá nhân"),
    AuditKind.PARTNER_CREATED: N_("Thêm hệ thống đối tác"),
    AuditKind.PARTNER_CHANGED: N_("Sửa hệ thống đối tác"),
    AuditKind.PARTNER_DEACTIVATED: N_("Tạm ngừng hệ thống đối tác"),
    AuditKind.PARTNER_REACTIVATED: N_("Mở lại hệ thống đối tác"),
    AuditKind.PARTNER_KEY_ROTATED: N_("Đổi khóa của hệ thống đối tác"),
    AuditKind.CERTIFICATE_ISSUED: N_("Cấp giấy chứng nhận sản phẩm tiêu biểu"),
    AuditKind.CERTIFICATE_REVOKED: N_("Thu hồi giấy chứng nhận sản phẩm tiêu biểu"),
    AuditKind.SCORER_ASSIGNED: N_("Phân công người chấm điểm"),
}
AREA_LABELS = {
    "account": N_("Tài khoản"),
    "role": N_("Vai trò, phạm vi"),
    "round": N_("Đợt xét tặng"),
    "council": N_("Hội đồng"),
    "dossier": N_("Hồ sơ: trường hợp đặc biệt"),
    "award": N_("Tiền thưởng"),
    "personal_data": N_("Dữ liệu cá nhân"),
    "privacy": N_("Dữ liệu cá nhân"),
    "integration": N_("Kết nối hệ thống khác"),
    "partner": N_("Hệ thống đối tác"),
    "certificate": N_("Sản phẩm tiêu biểu: chấm điểm, giấy chứng nhận"),
}


def _local(moment: datetime) -> str:
    return vn_date(moment, seconds=True)


@bp.route("/audit")
@guard(permissions.can_read_audit_log)
def audit_log():
    """The administration log, filterable; ``?format=csv`` exports it (UTF-8 with BOM)."""
    filters = queries.EventFilters.from_args(request.args)
    fmt = request.args.get("format")
    if fmt in exports.FORMATS:
        columns = [
            exports.Column(N_("Thời điểm"), lambda e: _local(e.at), 20),
            exports.Column(N_("Sự kiện"), lambda e: _(KIND_LABELS.get(e.kind, e.kind)), 22),
            exports.Column(N_("Người thực hiện"), lambda e: e.actor_name, 28),
            exports.Column(N_("Đối tượng"), lambda e: f"{e.target_type}:{e.target_label}", 32),
            exports.Column(N_("Tỉnh"), lambda e: e.province_code or "", 8),
            exports.Column(N_("Địa chỉ IP"), lambda e: e.ip or "", 16),
            exports.Column(N_("Chi tiết"), lambda e: json.dumps(e.details or {}, ensure_ascii=False,
                                                                 sort_keys=True), 60),
        ]
        return exports.respond(fmt, "nhat-ky-quan-tri", columns, queries.events(filters, limit=50000),
                               dated=False)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)  # a bounded offset
    events = list(queries.events(filters, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE + 1))
    chain = queries.chain_status()
    return render_template("admin/audit.html", events=events[:PAGE_SIZE], more=len(events) > PAGE_SIZE,
                           page=page, kinds=KIND_LABELS, areas=AREA_LABELS, local=_local, args=request.args,
                           chain=chain)


@bp.app_template_filter("vn_moment")
def vn_moment(moment: datetime | None) -> str:
    return _local(moment) if moment else ""


@bp.context_processor
def _admin_context() -> dict:
    return {"kind_labels": KIND_LABELS, "position_labels": POSITION_LABELS,
            "role_labels": ROLE_LABELS}


# -- the law's calendar, mergers and provincial intake (issue 14) -------------------------------

def _form_date(name: str) -> date | None:
    try:
        return date.fromisoformat((request.form.get(name) or "").strip())
    except ValueError:
        return None


@bp.route("/holidays", methods=["GET", "POST"])
@guard(permissions.can_edit_holidays)
def holidays():
    """The holiday calendar the working-day deadlines count with: days off and swapped working days."""
    status = 200
    if request.method == "POST":
        day = _form_date("day")
        try:
            if request.form.get("delete"):
                if day is None:
                    raise ValidationFailed(fields={"day": N_("Cần ngày.")})
                law.delete_holiday(current_user, day)
                flash(_("Đã xóa ngày %(d)s khỏi lịch.", d=vn_date(day)), "success")
            else:
                law.save_holiday(current_user, day, request.form.get("kind", ""), request.form.get("name", ""),
                                 request.form.get("source", ""), request.form.get("confidence", "M"))
                flash(_("Đã lưu ngày %(d)s.", d=vn_date(day)), "success")
            return redirect(url_for("admin.holidays", year=day.year))
        except ValidationFailed as exc:
            status = 422
            flash(" ".join([exc.text(_), *exc.field_texts(_).values()]), "error")
    year = request.args.get("year", type=int) or today().year
    if not 1900 <= year <= 2200:
        year = today().year
    return render_template("admin/holidays.html", rows=law.holidays(year), year=year,
                           kinds=law.HOLIDAY_KINDS, confidence=law.CONFIDENCE), status


@bp.route("/transfers", methods=["GET"])
@guard(permissions.can_use_transfers)
def transfers():
    """Dossiers still with a province merged away (to transfer) and those already transferred."""
    return render_template("admin/transfers.html", waiting=law.waiting_transfer(current_user),
                           done=law.transferred(current_user), names=law.province_names())


@bp.route("/transfers/<int:nomination_id>", methods=["POST"])
@guard(permissions.can_use_transfers)
def transfer(nomination_id: int):
    """Transfer one dossier to the successor of its merged province (code, history, votes kept)."""
    nomination = law.get_transferable(current_user, nomination_id)
    try:
        successor = law.transfer(nomination, current_user, request.form.get("reason"))
    except (ValidationFailed, TransitionRefused) as exc:
        flash(" ".join([exc.text(_), *exc.field_texts(_).values()]), "error")
        return redirect(url_for("admin.transfers")), 303
    flash(_("Đã chuyển hồ sơ %(code)s sang %(p)s.", code=nomination.code or nomination.id, p=successor.name),
          "success")
    return redirect(url_for("admin.transfers")), 303


@bp.route("/intake")
@guard(permissions.can_use_intake_page)
def intake():
    """The newest round's provincial intake deadlines."""
    newest = law.newest_round()
    if newest is None:
        flash(_("Chưa có đợt xét tặng nào."), "error")
        return redirect(url_for("admin.index"))
    return redirect(url_for("admin.round_intake", round_id=newest.id))


@bp.route("/rounds/<int:round_id>/intake", methods=["GET", "POST"])
@guard(permissions.can_use_intake_page)
def round_intake(round_id: int):
    """Provinces' own intake deadlines within the round's window."""
    row = db.get_or_404(Round, round_id)
    scope = permissions.own_province_only(current_user)
    status = 200
    if request.method == "POST":
        code = request.form.get("province_code", "")
        clear = bool(request.form.get("clear"))
        closes = None if clear else _form_date("intake_closes")
        try:
            if not clear and closes is None:
                raise ValidationFailed(fields={"intake_closes": N_("Cần ngày hợp lệ.")})
            law.set_intake(current_user, row, code, closes, request.form.get("note"))
            flash(_("Đã lưu hạn tiếp nhận."), "success")
            return redirect(url_for("admin.round_intake", round_id=row.id)), 303
        except ValidationFailed as exc:
            status = 422
            flash(" ".join([exc.text(_), *exc.field_texts(_).values()]), "error")
    provinces = law.active_provinces()
    if scope is not None:
        provinces = [p for p in provinces if p.code == scope]
    own = {r.province_code: r for r in row.province_intakes}
    return render_template("admin/round_intake.html", round=row, provinces=provinces, own=own), status
