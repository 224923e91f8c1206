"""Accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from workflows.states import N_

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Province, User
from ..permissions import PROVINCE_SCOPED_ROLES, ROLES, SELF_SERVICE_ROLES
from ..text import nfc, strip_accents
from ..timeutil import now_utc
from . import sessions

MIN_PASSWORD_LENGTH = 10
_hashers: dict[tuple, tuple[PasswordHasher, str]] = {}


def _hasher() -> tuple[PasswordHasher, str]:
    """Argon2id with the parameters in ``PASSWORD_HASH_PARAMS`` (tests use cheap ones).

    The second value is a hash of nothing, verified against when the e-mail is unknown,
    so that an unknown e-mail takes as long as a wrong password.
    """
    params = tuple(sorted(current_app.config.get("PASSWORD_HASH_PARAMS", {}).items()))
    if params not in _hashers:
        hasher = PasswordHasher(**dict(params))
        _hashers[params] = (hasher, hasher.hash("not-a-real-password"))
    return _hashers[params]


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def check_password(user: User | None, password: str) -> bool:
    hasher, dummy = _hasher()
    try:
        hasher.verify(user.password_hash if user else dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None and user.active


def normalise_email(email: str) -> str:
    return nfc(email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def authenticate(email: str, password: str, address: str | None = None) -> User | None:
    """The account if the password is right, else ``None``; ``LoginThrottled`` while a wait runs.

    No lock: failed attempts make the next ones from the same place wait (services/throttle.py),
    so nobody can keep an account's owner out by typing wrong passwords for it.
    """
    from flask import has_request_context, request

    from . import throttle

    if address is None:
        address = (request.remote_addr or "") if has_request_context() else ""
    email_key = normalise_email(email)
    user = find_user(email)
    throttle.check(email_key, address, user.id if user else None)
    if check_password(user, password):
        throttle.succeeded(email_key, address)
        return user
    throttle.failed(email_key, address)
    return None


def set_locale(user: User, language: str) -> None:
    """The language ``user`` reads pages and e-mail in (the language switch sets it when logged in)."""
    if language in current_app.config["LANGUAGES"] and user.locale != language:
        user.locale = language
        db.session.commit()


def clear_throttle(user: User) -> None:
    """Forget the account-wide wait after wrong passwords (a reset; the caller commits)."""
    from . import throttle

    throttle.clear_account(user.email)


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).resolve().parent.parent / "auth" / "common_passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(_squash(line) for line in lines if line.strip() and not line.startswith("#"))


def _squash(text: str) -> str:
    """Lower case, no accents, no white space: what people mean by 'the same password'."""
    return "".join(strip_accents(nfc(text or "")).casefold().split())


def min_password_length() -> int:
    return int(current_app.config.get("PASSWORD_MIN_LENGTH", MIN_PASSWORD_LENGTH))


def validate_password(password: str, email: str | None = None, full_name: str | None = None) -> None:
    """The password policy: long enough, not common, not the person's e-mail or name.

    Checked wherever a person chooses a password: registration, reset and invitation links,
    change of password, ``flask users create``.  (Imported accounts get a random password and
    choose their own through the invitation link.)
    """
    password = password or ""
    n = min_password_length()
    if len(password) < n:
        raise ValidationFailed(fields={"password": N_("Mật khẩu cần ít nhất %(n)s ký tự.")}, params={"n": n})
    if len(password) > 200:
        raise ValidationFailed(fields={"password": N_("Mật khẩu dài tối đa 200 ký tự.")})
    squashed = _squash(password)
    if squashed in common_passwords() or len(set(squashed)) < 4:
        raise ValidationFailed(fields={"password": N_("Mật khẩu này quá phổ biến hoặc quá đơn giản, dễ bị đoán. "
                                                      "Hãy chọn mật khẩu khác.")})
    email = normalise_email(email or "")
    local = email.partition("@")[0]
    if email and (squashed == _squash(email) or (len(local) >= 4 and _squash(local) in squashed)):
        raise ValidationFailed(fields={"password": N_("Mật khẩu không được chứa địa chỉ thư điện tử của bạn.")})
    name = _squash(full_name or "")
    if len(name) >= 4 and name in squashed:
        raise ValidationFailed(fields={"password": N_("Mật khẩu không được chứa họ và tên của bạn.")})


def _account_errors(email: str, full_name: str, roles=SELF_SERVICE_ROLES, province_code: str | None = None) -> dict:
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = N_("Địa chỉ thư điện tử không hợp lệ.")
    unknown = set(roles) - set(ROLES)
    if unknown:
        errors["roles"] = N_("Vai trò không hợp lệ.")
    if set(roles) & PROVINCE_SCOPED_ROLES and not province_code:
        errors["province_code"] = N_("Vai trò cấp tỉnh cần chọn tỉnh, thành phố.")
    if province_code and not db.session.get(Province, province_code):
        errors["province_code"] = N_("Không có tỉnh, thành phố với mã này.")
    if not nfc(full_name or "").strip():
        errors["full_name"] = N_("Cần nhập họ và tên.")
    return errors


def check_new_account(email: str, password: str, full_name: str) -> None:
    """Every check a new applicant account gets except "is the address taken" (see register_applicant)."""
    email = normalise_email(email)
    errors = _account_errors(email, full_name)
    if errors:
        raise ValidationFailed(fields=errors)
    validate_password(password, email, full_name)


def create_user(
    email: str,
    password: str,
    full_name: str,
    roles=SELF_SERVICE_ROLES,
    province_code: str | None = None,
    locale: str = "vi",
    commit: bool = True,
) -> User:
    email = normalise_email(email)
    errors = _account_errors(email, full_name, roles, province_code)
    if "email" not in errors and find_user(email):
        errors["email"] = N_("Địa chỉ thư điện tử này đã được đăng ký.")
    if errors:
        raise ValidationFailed(fields=errors)
    validate_password(password, email, full_name)
    user = User(
        email=email,
        full_name=nfc(full_name).strip(),
        password_hash=hash_password(password),
        province_code=province_code,
        locale=locale,
    )
    user.set_roles(roles)
    db.session.add(user)
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return user


class EmailNotConfirmed(ServiceError):
    status = 403
    code = "email_not_confirmed"
    message = N_("Bạn cần xác nhận địa chỉ thư điện tử trước khi đăng nhập: hãy mở đường liên kết "
                 "trong thư chúng tôi đã gửi.")


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the plain value is returned once and only its hash is kept.

    Only to an active account whose e-mail is confirmed (``EmailNotConfirmed`` otherwise).
    """
    from .sessions import client_address, device_summary

    if not user.active or not user.email_confirmed:
        raise EmailNotConfirmed()
    plain = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=hashlib.sha256(plain.encode()).hexdigest(),
        expires_at=now_utc() + timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
        user_agent=device_summary(),
        client_address=client_address(),
    )
    db.session.add(token)
    db.session.commit()
    return plain, token


def user_for_token(plain: str) -> User | None:
    token = sessions.token_for(plain)
    return token.user if token else None


def end_token(token: ApiToken) -> None:
    """End one token (``POST /api/v1/auth/logout``); commits."""
    db.session.delete(token)
    db.session.commit()
