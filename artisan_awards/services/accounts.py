"""Accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from workflows.machine import PROVINCE_SCOPED_ROLES, ROLES
from workflows.states import N_

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Province, User
from ..text import nfc, strip_accents
from ..timeutil import now_utc

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


class AccountLocked(ServiceError):
    """Too many wrong passwords in a row: the account refuses every password for a while."""

    status = 429
    code = "account_locked"
    message = N_("Tài khoản tạm khóa vì nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau %(minutes)s phút "
                 "hoặc liên hệ quản trị viên để mở khóa.")


def lock_minutes_left(user: User | None) -> int:
    """Whole minutes (rounded up) until a locked account takes passwords again; 0 when not locked."""
    if user is None or user.locked_until is None:
        return 0
    until = user.locked_until
    if until.tzinfo is None:  # SQLite gives back naive UTC
        until = until.replace(tzinfo=UTC)
    seconds = (until - now_utc()).total_seconds()
    return max(0, -int(-seconds // 60))


def authenticate(email: str, password: str) -> User | None:
    """The account if the password is right; ``None`` if not; ``AccountLocked`` while locked.

    Failed attempts are counted in the ``users`` row with an atomic UPDATE, so every worker
    process (on every machine) shares the count: ``LOGIN_LOCKOUT_ATTEMPTS`` wrong passwords in
    a row lock the account for ``LOGIN_LOCKOUT_MINUTES``, during which even the right password
    is refused.  A right password resets the count.
    """
    user = find_user(email)
    minutes = lock_minutes_left(user)
    if minutes:
        check_password(None, password)  # spend the same time as a real check
        raise AccountLocked(params={"minutes": minutes})
    if check_password(user, password):
        if user.failed_logins or user.locked_until is not None:
            db.session.execute(sa.update(User).where(User.id == user.id)
                               .values(failed_logins=0, locked_until=None))
            db.session.commit()
            db.session.refresh(user)
        return user
    if user is not None and _count_failure(user):
        raise AccountLocked(params={"minutes": lock_minutes_left(user)})
    return None


def _count_failure(user: User) -> bool:
    """Add one failed attempt; lock when the limit is reached.  True if this attempt locked it."""
    limit = int(current_app.config.get("LOGIN_LOCKOUT_ATTEMPTS", 5))
    if limit <= 0:
        return False
    duration = timedelta(minutes=int(current_app.config.get("LOGIN_LOCKOUT_MINUTES", 15)))
    db.session.execute(sa.update(User).where(User.id == user.id)
                       .values(failed_logins=User.failed_logins + 1))
    locked = db.session.execute(
        sa.update(User).where(User.id == user.id, User.failed_logins >= limit)
        .values(failed_logins=0, locked_until=now_utc() + duration)
    ).rowcount
    db.session.commit()
    db.session.refresh(user)
    return bool(locked)


def set_locale(user: User, language: str) -> None:
    """The language ``user`` reads pages and e-mail in (the language switch sets it when logged in)."""
    if language in current_app.config["LANGUAGES"] and user.locale != language:
        user.locale = language
        db.session.commit()


def unlock(user: User) -> None:
    """Lift a lockout (administrators); the caller commits."""
    user.failed_logins = 0
    user.locked_until = None


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


def _account_errors(email: str, full_name: str, roles=("applicant",), province_code: str | None = None) -> dict:
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
    roles=("applicant",),
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


def issue_token(user: User) -> tuple[str, ApiToken]:
    """A new bearer token; the plain value is returned once and only its hash is kept."""
    plain = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        token_hash=hashlib.sha256(plain.encode()).hexdigest(),
        expires_at=now_utc() + timedelta(hours=current_app.config["API_TOKEN_HOURS"]),
    )
    db.session.add(token)
    db.session.commit()
    return plain, token


def user_for_token(plain: str) -> User | None:
    digest = hashlib.sha256(plain.encode()).hexdigest()
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == digest))
    if token is None:
        return None
    expires = token.expires_at
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= now_utc() or not token.user.active:
        return None
    return token.user
