"""Administration pages.  Each checks its guard from ``permissions``/``account_admin``;
an account outside one's scope is simply not there (404)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from workflows.states import N_

from .. import audit_chain, exports, permissions
from ..errors import Forbidden, ValidationFailed
from ..extensions import db
from ..models import AuditEvent, AuditKind, Position, Province, Round, User, UserRole
from ..models.admin_log import AREAS
from ..permissions import ROLE_LABELS, ROLES, guard
from ..schemas import CouncilIn, MemberIn, RoundIn
from ..services import account_admin, account_import, admin_events, councils, rounds, sessions
from ..text import contains_pattern, vi_order
from ..timeutil import VN, as_utc, today
from ..validation import field_errors
from . import bp
from .forms import AccessForm, CouncilForm, ImportForm, InviteForm, RoundForm, choices

PAGE_SIZE = 100
POSITION_LABELS = {
    Position.CHAIR: N_("Chủ tịch"),
    Position.VICE_CHAIR: N_("Phó Chủ tịch"),
    Position.MEMBER: N_("Ủy viên"),
    Position.SECRETARY: N_("Thư ký"),
}


def _provinces(scope: str | None = None) -> list[tuple[str, str]]:
    query = sa.select(Province).where(Province.active).order_by(vi_order(Province.name))
    if scope:
        query = query.where(Province.code == scope)
    return [(p.code, p.name) for p in db.session.scalars(query)]


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

def _scoped_users():
    query = sa.select(User)
    if not permissions.is_administrator(current_user):
        query = query.where(User.province_code == current_user.province_code)
    return query


@bp.route("/accounts")
@guard(permissions.can_manage_accounts)
def accounts():
    """The accounts one manages, filterable by name/e-mail, role, province and status."""
    query = _scoped_users()
    q = (request.args.get("q") or "").strip()
    if q:
        like = contains_pattern(q.lower())
        query = query.where(sa.or_(sa.func.lower(User.email).like(like, escape="\\"),
                                   sa.func.lower(User.full_name).like(like, escape="\\")))
    role = request.args.get("role")
    if role in ROLES:
        query = query.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == role)))
    province = request.args.get("province")
    if province and permissions.is_administrator(current_user):
        query = query.where(User.province_code == province)
    status = request.args.get("status")
    if status == "active":
        query = query.where(User.active)
    elif status == "inactive":
        query = query.where(sa.not_(User.active))
    users = list(db.session.scalars(query.order_by(vi_order(User.full_name), User.id).limit(500)))
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
    user = db.session.get(User, user_id)
    if user is None or not account_admin.can_manage(current_user, user):
        abort(404)
    return user


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
    events = list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_type == "user", AuditEvent.target_id == user.id)
        .order_by(AuditEvent.id.desc()).limit(20)
    ))
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
    """Every round and its plan."""
    rows = list(db.session.scalars(sa.select(Round).order_by(Round.number.desc())))
    return render_template("admin/rounds.html", rounds=rows, today=today())


def _round_in(form: RoundForm) -> RoundIn:
    deadlines = {k: getattr(form, k).data for k in rounds.DEADLINE_ORDER if getattr(form, k).data}
    return RoundIn.model_validate({
        "number": form.number.data, "name": form.name.data, "governing_decree": form.governing_decree.data,
        "intake_opens": form.intake_opens.data, "intake_closes": form.intake_closes.data,
        "reply_days": form.reply_days.data, "completion_days": form.completion_days.data,
        "consultation_days": form.consultation_days.data,
        "consultation_windows": form.consultation_windows.data, "deadlines": deadlines,
    })


def _save_round(form: RoundForm, row: Round | None):
    try:
        data = _round_in(form)
        if row is None:
            row = rounds.create_round(current_user, data)
            flash(_("Đã tạo đợt xét tặng."), "success")
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
    except ValidationFailed as exc:
        db.session.rollback()
        flash(exc.text(_), "error")
        for name, message in exc.field_texts(_).items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*field.errors, message]
        return None
    return redirect(url_for("admin.edit_round", round_id=row.id))


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
    row = db.get_or_404(Round, round_id)
    data = {name: getattr(row, name) for name in rounds.PLAN_FIELDS if name != "deadlines"}
    for key in rounds.DEADLINE_ORDER:
        value = (row.deadlines or {}).get(key)
        data[key] = date.fromisoformat(value) if value else None
    form = RoundForm(data=data)
    if form.validate_on_submit():
        done = _save_round(form, row)
        if done:
            return done
    history = list(db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.target_type == "round", AuditEvent.target_id == row.id)
        .order_by(AuditEvent.id.desc())
    ))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/round_form.html", form=form, round=row, history=history), status


# -- councils ------------------------------------------------------------------------------------

def _council_candidates(actor: User) -> list[User]:
    query = (sa.select(User).where(User.active)
             .where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(
                 permissions.council_candidate_roles())))))
    if not permissions.can_create_national_councils(actor):
        query = query.where(User.province_code == actor.province_code)
    return list(db.session.scalars(query.order_by(User.province_code, vi_order(User.full_name)).limit(500)))


@bp.route("/councils/new", methods=["GET", "POST"])
@guard(permissions.can_create_councils)
def new_council():
    """Set up a council: establishing decision, members picked from the accounts, positions."""
    form = CouncilForm()
    national = permissions.can_create_national_councils(current_user)
    if not national:
        form.level.choices = choices([("province", _("Cấp tỉnh"))])
    form.round_id.choices = choices([(r.id, f"{r.number}. {r.name}") for r in
                                     db.session.scalars(sa.select(Round).order_by(Round.number.desc()))])
    provinces = ([("", "—")] + _provinces()) if national else _provinces(current_user.province_code)
    form.province_code.choices = choices(provinces)
    candidates = _council_candidates(current_user)
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
        except (ValidationFailed, Forbidden) as exc:
            db.session.rollback()
            texts = exc.field_texts(_)
            for message in texts.values() or [exc.text(_)]:
                flash(message, "error")
            if not texts:
                flash(exc.text(_), "error")
        else:
            admin_events.record(AuditKind.COUNCIL_CREATED, current_user, target=council,
                         level=council.level, decision_no=council.decision_no,
                         members=[[m.user_id, m.position, m.authorised_to_preside] for m in council.members])
            db.session.commit()
            flash(_("Đã thành lập Hội đồng."), "success")
            return redirect(url_for("council.council", council_id=council.id))
    return render_template("admin/council_form.html", form=form, candidates=candidates, picked=picked,
                           positions=POSITION_LABELS, role_labels=ROLE_LABELS)


# -- audit ---------------------------------------------------------------------------------------

KIND_LABELS = {
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
    AuditKind.COUNCIL_CREATED: N_("Thành lập Hội đồng"),
}
AREA_LABELS = {
    "account": N_("Tài khoản"),
    "role": N_("Vai trò, phạm vi"),
    "round": N_("Đợt xét tặng"),
    "council": N_("Hội đồng"),
}


def _audit_query():
    query = sa.select(AuditEvent)
    args = request.args
    area = args.get("area")
    if area in AREAS:
        query = query.where(AuditEvent.kind.in_([str(k) for k in AREAS[area]]))
    kind = args.get("kind")
    if kind in {k.value for k in AuditKind}:
        query = query.where(AuditEvent.kind == kind)
    for key, column in (("actor", AuditEvent.actor_name), ("target", AuditEvent.target_label)):
        text = (args.get(key) or "").strip()
        if text:
            query = query.where(sa.func.lower(column).like(contains_pattern(text.lower()), escape="\\"))
    for key, op in (("from", "ge"), ("to", "lt")):
        try:
            day = date.fromisoformat(args.get(key) or "")
        except ValueError:
            continue
        if op == "lt":
            day += timedelta(days=1)
        moment = datetime.combine(day, time(), tzinfo=VN)
        query = query.where(AuditEvent.at >= moment if op == "ge" else AuditEvent.at < moment)
    return query.order_by(AuditEvent.id.desc())


def _local(moment: datetime) -> str:
    return as_utc(moment).astimezone(VN).strftime("%d/%m/%Y %H:%M:%S")


@bp.route("/audit")
@guard(permissions.can_read_audit_log)
def audit_log():
    """The administration log, filterable; ``?format=csv`` exports it (UTF-8 with BOM)."""
    query = _audit_query()
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
        return exports.respond(fmt, "nhat-ky-quan-tri", columns, db.session.scalars(query.limit(50000)),
                               dated=False)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    events = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    chain = audit_chain.quick_status(db.session.connection())
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
