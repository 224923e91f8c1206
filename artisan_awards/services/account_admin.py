"""Accounts managed in the browser: invitations, one-time links, roles, scope, deactivation.

Who may grant what (``permissions``): an administrator any role anywhere; a province officer only
``permissions.GRANTABLE_BY_PROVINCE`` roles, only in their own province, and only on accounts that hold
nothing more.  Every change writes an ``AuditEvent`` in the same transaction.

One-time links are itsdangerous timed tokens bound to the account and to a fingerprint of
its password hash and confirmation state: once the password is set (or the e-mail
confirmed) the fingerprint changes and the link no longer works.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Province, User, UserRole, get_row
from ..text import contains_pattern, vi_order
from . import accounts, admin_events, mail, sessions, transaction

ROLE_LABELS = permissions.ROLE_LABELS
TOKEN_HOURS = {"invite": 72, "reset": 2, "confirm": 72}


# -- who may do what: permissions.py ------------------------------------------------------------

can_manage_accounts = permissions.can_manage_accounts
grantable_roles = permissions.grantable_roles
can_manage = permissions.can_manage


def _check_grant(actor: User, roles: set[str], province_code: str | None) -> None:
    if not can_manage_accounts(actor):
        raise Forbidden()
    if permissions.is_administrator(actor):
        return
    if not permissions.may_grant(actor, roles):
        raise Forbidden(N_("Bạn không thể cấp vai trò cao hơn vai trò của mình."))
    if province_code != actor.province_code:
        raise Forbidden(N_("Bạn chỉ quản lý tài khoản của tỉnh, thành phố mình."))


def _validate_roles(roles: set[str], province_code: str | None) -> None:
    fields = {}
    if not roles:
        fields["roles"] = N_("Cần chọn ít nhất một vai trò.")
    elif roles - set(permissions.ROLES):
        fields["roles"] = N_("Vai trò không hợp lệ.")
    if roles & permissions.PROVINCE_SCOPED_ROLES and not province_code:
        fields["province_code"] = N_("Vai trò cấp tỉnh cần chọn tỉnh, thành phố.")
    if province_code and db.session.get(Province, province_code) is None:
        fields["province_code"] = N_("Không có tỉnh, thành phố với mã này.")
    if fields:
        raise ValidationFailed(fields=fields)


# -- one-time links ------------------------------------------------------------------------------

def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"account-{purpose}")


def _fingerprint(user: User) -> str:
    raw = f"{user.password_hash}|{user.email_confirmed}|{user.active}|{user.email}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def token_hours(purpose: str) -> int:
    return int(current_app.config.get(f"{purpose.upper()}_TOKEN_HOURS", TOKEN_HOURS[purpose]))


class LinkInvalid(ValidationFailed):
    code = "link_invalid"
    message = N_("Đường liên kết không hợp lệ hoặc đã được dùng.")


class LinkExpired(ValidationFailed):
    code = "link_expired"
    message = N_("Đường liên kết đã hết hạn. Vui lòng yêu cầu một đường liên kết mới.")


def user_for_token(token: str, purpose: str) -> User:
    """The account a still-valid, unused link belongs to; else ``LinkInvalid``/``LinkExpired``."""
    try:
        data = _serializer(purpose).loads(token, max_age=token_hours(purpose) * 3600)
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or not secrets.compare_digest(_fingerprint(user), str(data.get("f"))):
        raise LinkInvalid()
    return user


def set_password_with_token(token: str, purpose: str, password: str) -> User:
    user = user_for_token(token, purpose)
    accounts.validate_password(password, user.email, user.full_name)
    user.password_hash = accounts.hash_password(password)
    user.email_confirmed = True
    admin_events.record(AuditKind.PASSWORD_CHANGED, user, target=user, via=purpose)
    sessions.end_all(user, f"password_{purpose}", actor=None)
    accounts.clear_throttle(user)
    db.session.commit()
    return user


def confirm_email(token: str) -> User:
    user = user_for_token(token, "confirm")
    user.email_confirmed = True
    admin_events.record(AuditKind.EMAIL_CONFIRMED, user, target=user)
    db.session.commit()
    return user


# -- mail ----------------------------------------------------------------------------------------

def _mail(user: User, purpose: str) -> None:
    endpoint = {"invite": "auth.accept_invitation", "reset": "auth.reset_password",
                "confirm": "auth.confirm_email", "registered_again": "auth.reset_password"}[purpose]
    token_purpose = "reset" if purpose == "registered_again" else purpose
    link = url_for(endpoint, token=make_token(user, token_purpose), _external=True)
    hours = token_hours(token_purpose)
    with force_locale(user.locale or "vi"):
        if purpose == "registered_again":
            subject = _("Có người vừa đăng ký bằng địa chỉ thư điện tử của bạn")
            body = _("Kính gửi %(name)s,\n\nCó người vừa dùng địa chỉ thư điện tử này để đăng ký một tài khoản "
                     "mới trên Hệ thống xét tặng danh hiệu Nghệ nhân. Địa chỉ này đã có tài khoản, nên không "
                     "có tài khoản nào được tạo thêm.\n\nNếu đó là bạn và bạn quên mật khẩu, hãy đặt lại mật "
                     "khẩu tại đường liên kết sau (hiệu lực %(hours)s giờ, chỉ dùng một lần):\n\n%(link)s\n\n"
                     "Nếu không phải bạn, hãy bỏ qua thư này: tài khoản của bạn không thay đổi.\n",
                     name=user.full_name, hours=hours, link=link)
        elif purpose == "invite":
            subject = _("Mời tham gia Hệ thống xét tặng Nghệ nhân")
            body = _("Kính gửi %(name)s,\n\nBạn được mời sử dụng Hệ thống xét tặng danh hiệu Nghệ nhân "
                     "nhân dân, Nghệ nhân ưu tú. Để đặt mật khẩu, vui lòng mở đường liên kết sau "
                     "(hiệu lực %(hours)s giờ, chỉ dùng một lần):\n\n%(link)s\n",
                     name=user.full_name, hours=hours, link=link)
        elif purpose == "reset":
            subject = _("Đặt lại mật khẩu")
            body = _("Kính gửi %(name)s,\n\nĐể đặt lại mật khẩu, vui lòng mở đường liên kết sau "
                     "(hiệu lực %(hours)s giờ, chỉ dùng một lần):\n\n%(link)s\n\nNếu bạn không yêu cầu, "
                     "hãy bỏ qua thư này.\n", name=user.full_name, hours=hours, link=link)
        else:
            subject = _("Xác nhận địa chỉ thư điện tử")
            body = _("Kính gửi %(name)s,\n\nĐể xác nhận địa chỉ thư điện tử và kích hoạt tài khoản, vui lòng "
                     "mở đường liên kết sau (hiệu lực %(hours)s giờ):\n\n%(link)s\n",
                     name=user.full_name, hours=hours, link=link)
    mail.queue(user.email, subject, body, user.locale or "vi")


# -- lists -------------------------------------------------------------------------------------

def active_provinces(scope: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the provinces in force, in Vietnamese order; only ``scope`` if given."""
    query = sa.select(Province).where(Province.active).order_by(vi_order(Province.name))
    if scope:
        query = query.where(Province.code == scope)
    return [(p.code, p.name) for p in db.session.scalars(query)]


@dataclass
class AccountFilters:
    q: str = ""  # part of the name or e-mail, any case
    role: str | None = None
    province: str | None = None  # administrators only; others see their own province
    status: str | None = None  # "active", "inactive" or anything else for both


def managed_account(actor: User, user_id: int) -> User:
    """An account ``actor`` manages; NotFound for one outside their scope, as for one that does not exist."""
    user = get_row(User, user_id)
    if user is None or not can_manage(actor, user):
        raise NotFound(N_("Không tìm thấy tài khoản."), code="account_not_found")
    return user


def list_accounts(actor: User, filters: AccountFilters, limit: int = 500) -> list[User]:
    """The accounts ``actor`` manages (all for an administrator, else their province's), filtered."""
    query = sa.select(User)
    if not permissions.is_administrator(actor):
        query = query.where(User.province_code == actor.province_code)
    elif filters.province:
        query = query.where(User.province_code == filters.province)
    if filters.q:
        like = contains_pattern(filters.q.lower())
        query = query.where(sa.or_(sa.func.lower(User.email).like(like, escape="\\"),
                                   sa.func.lower(User.full_name).like(like, escape="\\")))
    if filters.role in permissions.ROLES:
        query = query.where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == filters.role)))
    if filters.status == "active":
        query = query.where(User.active)
    elif filters.status == "inactive":
        query = query.where(sa.not_(User.active))
    return list(db.session.scalars(query.order_by(vi_order(User.full_name), User.id).limit(limit)))


# -- operations ----------------------------------------------------------------------------------

@transaction.one_transaction()
def invite(actor: User, email: str, full_name: str, roles, province_code: str | None,
           locale: str = "vi") -> User:
    roles = set(roles)
    province_code = province_code or None
    _check_grant(actor, roles, province_code)
    _validate_roles(roles, province_code)
    user = accounts.create_user(email, secrets.token_urlsafe(24), full_name, sorted(roles), province_code,
                                locale=locale, commit=False)
    user.email_confirmed = False
    admin_events.record(AuditKind.ACCOUNT_INVITED, actor, target=user, roles=sorted(roles))
    _mail(user, "invite")
    return user


@transaction.one_transaction()
def change_access(actor: User, user: User, roles, province_code: str | None) -> bool:
    """New roles and province for ``user``; returns whether anything changed."""
    roles = set(roles)
    province_code = province_code or None
    if not can_manage(actor, user):
        raise Forbidden()
    _check_grant(actor, roles, province_code)
    _validate_roles(roles, province_code)
    if permissions.drops_own_administration(actor, user, roles):
        raise ValidationFailed(fields={"roles": N_("Bạn không thể tự bỏ vai trò quản trị của mình.")})
    changed = False
    if roles != user.roles:
        admin_events.record(AuditKind.ROLES_CHANGED, actor, target=user,
                     before=sorted(user.roles), after=sorted(roles))
        user.set_roles(roles)
        changed = True
    if province_code != user.province_code:
        admin_events.record(AuditKind.PROVINCE_CHANGED, actor, target=user,
                     before=user.province_code, after=province_code)
        user.province_code = province_code
        changed = True
    if changed:  # what the account may do changed: every session and token logs in again
        sessions.end_all(user, "access_changed", actor=actor)
    return changed


@transaction.one_transaction()
def set_active(actor: User, user: User, active: bool) -> None:
    """Deactivate (never delete) or reactivate an account."""
    if not can_manage(actor, user) or user.id == actor.id:
        raise Forbidden()
    if user.active == active:
        return
    user.active = active
    admin_events.record(AuditKind.ACCOUNT_REACTIVATED if active else AuditKind.ACCOUNT_DEACTIVATED, actor, target=user)
    if not active:
        sessions.end_all(user, "deactivated", actor=actor)


@transaction.one_transaction()
def end_sessions(actor: User, user: User) -> None:
    """An administrator (or the province officer managing the account) ends all its sessions and
    tokens, and lifts the account-wide wait after wrong passwords."""
    if not can_manage(actor, user):
        raise Forbidden()
    sessions.end_all(user, "ended_by_admin", actor=actor)
    accounts.clear_throttle(user)


def mail_invitation(user: User) -> None:
    """Queue the invitation (a one-time link to set a password) for an account just created by
    another operation (a council's secretariat inviting an external member); the caller commits."""
    _mail(user, "invite")


@transaction.one_transaction()
def resend_invitation(actor: User, user: User) -> None:
    if not can_manage(actor, user):
        raise Forbidden()
    _mail(user, "invite")


def register_applicant(email: str, password: str, full_name: str, locale: str = "vi") -> User | None:
    """Self-registration: the account exists but cannot log in until the e-mail is confirmed.

    An address that already has an account gets no second account and no error that would say
    so: the same checks run (the password policy, the hash), the owner is mailed a "someone
    tried to register with your address; reset your password here" note, and None comes back
    so that the page answers exactly as for a new registration.
    """
    existing = accounts.find_user(email)
    if existing is None:
        user = accounts.create_user(email, password, full_name, roles=permissions.SELF_SERVICE_ROLES, locale=locale,
                                    commit=False)
        admin_events.record(AuditKind.ACCOUNT_REGISTERED, None, target=user)
        if current_app.config.get("EMAIL_CONFIRMATION_REQUIRED", True):
            user.email_confirmed = False
            _mail(user, "confirm")
        db.session.commit()
        return user
    accounts.check_new_account(email, password, full_name)  # the same errors a new address would get
    accounts.hash_password(password)  # the same work as a new account: the answer's time tells nothing
    if existing.active:
        _mail(existing, "registered_again")
        db.session.commit()
    return None


def resend_confirmation(email: str) -> None:
    user = accounts.find_user(email)
    if user is not None and user.active and not user.email_confirmed:
        _mail(user, "confirm")
        db.session.commit()


def request_reset(email: str) -> None:
    """Mail a reset link if the account exists; the page says the same either way."""
    user = accounts.find_user(email)
    if user is None or not user.active:
        return
    admin_events.record(AuditKind.PASSWORD_RESET_REQUESTED, None, target=user)
    _mail(user, "reset")
    db.session.commit()


def change_password(user: User, current: str, new: str, keep_session: int | None = None) -> None:
    """Change one's own password; every other login session and every API token of the account
    ends in the same transaction (``keep_session``: the one that made the change)."""
    if not accounts.check_password(user, current):
        raise ValidationFailed(fields={"current": N_("Mật khẩu hiện tại không đúng.")})
    accounts.validate_password(new, user.email, user.full_name)
    user.password_hash = accounts.hash_password(new)
    admin_events.record(AuditKind.PASSWORD_CHANGED, user, target=user, via="change")
    sessions.end_all(user, "password_change", actor=user, keep_session=keep_session)
    db.session.commit()


def record_login(user: User | None, email: str, ok: bool, **details) -> None:
    if ok:
        admin_events.record(AuditKind.LOGIN, user, target=user, **details)
    else:
        admin_events.record(AuditKind.LOGIN_FAILED, None, target=user, target_type="user",
                     target_label=accounts.normalise_email(email)[:300], **details)
    db.session.commit()
