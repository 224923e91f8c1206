"""Accounts, passwords and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

from workflows.machine import PROVINCE_SCOPED_ROLES, ROLES
from workflows.states import N_

from ..errors import ValidationFailed
from ..extensions import db
from ..models import ApiToken, Province, User
from ..text import nfc
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


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    return user if check_password(user, password) else None


def validate_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            fields={"password": N_("Mật khẩu cần ít nhất %(n)s ký tự.")},
            params={"n": MIN_PASSWORD_LENGTH},
        )


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
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = N_("Địa chỉ thư điện tử không hợp lệ.")
    elif find_user(email):
        errors["email"] = N_("Địa chỉ thư điện tử này đã được đăng ký.")
    unknown = set(roles) - set(ROLES)
    if unknown:
        errors["roles"] = N_("Vai trò không hợp lệ.")
    if set(roles) & PROVINCE_SCOPED_ROLES and not province_code:
        errors["province_code"] = N_("Vai trò cấp tỉnh cần chọn tỉnh, thành phố.")
    if province_code and not db.session.get(Province, province_code):
        errors["province_code"] = N_("Không có tỉnh, thành phố với mã này.")
    if not nfc(full_name or "").strip():
        errors["full_name"] = N_("Cần nhập họ và tên.")
    if errors:
        raise ValidationFailed(fields=errors)
    validate_password(password)
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
        from datetime import UTC

        expires = expires.replace(tzinfo=UTC)
    if expires <= now_utc() or not token.user.active:
        return None
    return token.user
