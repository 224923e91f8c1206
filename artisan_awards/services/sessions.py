"""Login sessions and API tokens that can be ended.

A browser login is a row in ``login_sessions``: the signed session cookie (and the remember-me
cookie) carries ``"<user id>:<random key>"`` through Flask-Login's ``get_id``, the table only the
key's SHA-256.  The user loader (``load``) accepts the cookie while the row is live: not ended,
used within ``SESSION_IDLE_MINUTES``, younger than ``SESSION_MAX_HOURS``, account active.

``end_all`` ends every login session and API token of an account in the caller's transaction;
the operations that change what an account may do (password change or reset, deactivation, roles,
province) call it.  Every end is written to the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_login import login_user
from sqlalchemy.orm import joinedload

from ..extensions import commit_keeping_loaded, db
from ..models import ApiToken, AuditKind, LoginSession, User
from ..timeutil import as_utc, now_utc
from . import admin_events, transaction

TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute per session


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def device_summary() -> str:
    """A short description of the browser ("Firefox 128 on Linux"): enough to recognise one's devices."""
    if not has_request_context():
        return ""
    agent = request.user_agent.string or ""
    browser = next((name for name in ("Edg", "OPR", "Firefox", "Chrome", "Safari", "curl", "python")
                    if name in agent), "")
    system = next((name for name in ("Windows", "Android", "iPhone", "iPad", "Mac OS", "Linux")
                   if name in agent), "")
    text = " / ".join(part for part in ({"Edg": "Edge", "OPR": "Opera"}.get(browser, browser), system) if part)
    return (text or agent)[:120]


def client_address() -> str:
    return (request.remote_addr or "")[:45] if has_request_context() else ""


def idle_limit() -> timedelta:
    return timedelta(minutes=int(current_app.config["SESSION_IDLE_MINUTES"]))


def absolute_limit() -> timedelta:
    return timedelta(hours=int(current_app.config["SESSION_MAX_HOURS"]))


def live_clause(now: datetime | None = None):
    now = now or now_utc()
    return sa.and_(LoginSession.ended_at.is_(None),
                   LoginSession.last_seen_at > now - idle_limit(),
                   LoginSession.created_at > now - absolute_limit())


def start(user: User) -> LoginSession:
    """A new live login session for ``user`` (the caller commits); the key is set on ``user``."""
    key = secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, key_hash=_hash(key), created_at=now_utc(), last_seen_at=now_utc(),
                       user_agent=device_summary(), client_address=client_address())
    db.session.add(row)
    db.session.flush()
    user.login_session_key = key
    user.login_session_id = row.id
    return row


def login(user: User, remember: bool = False) -> LoginSession:
    """Log ``user`` in through a new login session (Flask-Login keeps "<id>:<key>" in the cookie)."""
    row = start(user)
    db.session.commit()
    login_user(user, remember=remember)
    return row


def load(cookie_id: str) -> User | None:
    """Flask-Login's user loader: the account behind a live login session, else ``None``."""
    user_id, sep, key = (cookie_id or "").partition(":")
    if not sep or not key or not user_id.isdigit():
        return None  # a cookie from before login sessions, or forged: void
    now = now_utc()
    # The live session, its account and the account's roles in one round trip (every signed-in request
    # passes here; it was three: the session, the account, its roles. Issue 16).
    found = db.session.execute(
        sa.select(User, LoginSession.id, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(LoginSession.key_hash == _hash(key), LoginSession.user_id == int(user_id), live_clause(now))
        .options(joinedload(User.role_rows))
    ).unique().first()
    if found is None:
        return None
    user, session_id, last_seen_at = found
    if as_utc(last_seen_at) < now - timedelta(seconds=TOUCH_SECONDS):
        db.session.execute(sa.update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now))
        commit_keeping_loaded()  # the account and roles just read stay loaded for the request
    if not user.active:
        return None
    user.login_session_key = key
    user.login_session_id = session_id
    return user


def touch_token(token: ApiToken) -> None:
    """Note when a token was last used (at most once a minute)."""
    token.touch(client_address())


def active_sessions(user: User) -> list[LoginSession]:
    return list(db.session.scalars(sa.select(LoginSession).where(LoginSession.user_id == user.id, live_clause())
                                   .order_by(LoginSession.last_seen_at.desc())))


def active_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id,
                                                             ApiToken.expires_at > now_utc())
                                   .order_by(ApiToken.created_at.desc())))


def _end_rows(user: User, reason: str, session_ids=None, token_ids=None, keep_session: int | None = None,
              keep_token: int | None = None) -> tuple[int, int]:
    now = now_utc()
    stmt = sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
    if session_ids is not None:
        stmt = stmt.where(LoginSession.id.in_(session_ids))
    if keep_session is not None:
        stmt = stmt.where(LoginSession.id != keep_session)
    sessions = db.session.execute(stmt.values(ended_at=now, ended_reason=reason)).rowcount
    stmt = sa.delete(ApiToken).where(ApiToken.user_id == user.id)
    if token_ids is not None:
        stmt = stmt.where(ApiToken.id.in_(token_ids))
    if keep_token is not None:
        stmt = stmt.where(ApiToken.id != keep_token)
    tokens = db.session.execute(stmt).rowcount
    return sessions, tokens


def end_all(user: User, reason: str, actor: User | None = None, keep_session: int | None = None,
            keep_token: int | None = None) -> tuple[int, int]:
    """End every login session and API token of ``user`` (but ``keep_*``), in the caller's transaction.

    Returns (sessions ended, tokens ended) and writes one audit event.
    """
    sessions, tokens = _end_rows(user, reason, keep_session=keep_session, keep_token=keep_token)
    admin_events.record(AuditKind.SESSIONS_ENDED, actor, target=user, reason=reason, sessions=sessions, tokens=tokens)
    return sessions, tokens


def end_others(user: User) -> tuple[int, int]:
    """The person ends every other login session and every API token of their account (the session
    they are using stays), with its audit event, in one transaction."""
    with transaction.one_transaction():
        return end_all(user, "ended_by_user", actor=user, keep_session=user.login_session_id)


def end_one(actor: User, user: User, kind: str, row_id: int) -> bool:
    """End one login session (``kind`` "web") or API token ("api") of ``user`` with its audit event, in
    one transaction.  False if there is no such live row (nothing written)."""
    if kind not in ("web", "api"):
        return False
    with transaction.one_transaction():
        if kind == "web":
            sessions, tokens = _end_rows(user, "ended_by_user" if actor.id == user.id else "ended_by_admin",
                                         session_ids=[row_id], token_ids=[])
        else:
            sessions, tokens = _end_rows(user, "", session_ids=[], token_ids=[row_id])
        if not sessions and not tokens:
            return False
        admin_events.record(AuditKind.SESSIONS_ENDED, actor, target=user, reason="one", sessions=sessions,
                            tokens=tokens)
    return True


def end_current(user: User, reason: str = "logout") -> None:
    """End the login session ``user`` was loaded through (logout); commits."""
    if user.login_session_id is not None:
        db.session.execute(sa.update(LoginSession).where(LoginSession.id == user.login_session_id,
                                                         LoginSession.ended_at.is_(None))
                           .values(ended_at=now_utc(), ended_reason=reason))
        db.session.commit()


def rotate(user: User, reason: str = "rotated") -> LoginSession:
    """Replace the current login session with a new one (a new key in the cookie); commits."""
    end_current(user, reason)
    return login(user)


def token_for(plain: str) -> ApiToken | None:
    """The live token behind a bearer value (``ApiToken.live``)."""
    return ApiToken.live(plain)
