"""Login throttling: a growing wait after failed passwords instead of a lock on the account.

The rule (settings in config.py, counts in the ``login_throttles`` table so that every process
shares them; each counter forgets after ``LOGIN_THROTTLE_FORGET_MINUTES`` without a failure):

* **pair** (account e-mail, client address): after ``LOGIN_THROTTLE_FREE_FAILURES`` (3) failures
  each further attempt from that address for that account waits 2^k seconds (1, 2, 4, ...),
  capped at ``LOGIN_THROTTLE_MAX_SECONDS`` (15 minutes).  This slows the one who types wrong
  passwords, and nobody else.
* **client** (address, any accounts): after ``LOGIN_THROTTLE_CLIENT_FREE_FAILURES`` (10) the same
  growing wait, same cap: one address guessing across many accounts is slowed as a whole.
* **account** (e-mail, any address): after ``LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES`` (10) the same
  growing wait but capped at ``LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS`` (60 s), and waived for an
  address the account has logged in from before.  It slows guessing spread over many addresses,
  while a stranger can never keep the owner out for longer than that short cap (and not at all
  from the owner's usual addresses).

While a wait runs the password is not checked (the attempt is refused with 429 and
``Retry-After``) and not counted.  A right password clears the pair and account counters; the
client counter is cleared only by time (an attacker logging in to his own account must not reset
it).  Unknown e-mails are counted like known ones, so the answers do not tell them apart.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from workflows.states import N_

from ..errors import ServiceError
from ..extensions import db
from ..models import LoginSession, LoginThrottle
from ..timeutil import as_utc, now_utc


class LoginThrottled(ServiceError):
    """Too many wrong passwords from here (or for this account): wait before the next attempt."""

    status = 429
    code = "login_throttled"
    message = N_("Bạn đã nhập sai mật khẩu nhiều lần. Vui lòng chờ %(seconds)s giây rồi thử lại.")

    def __init__(self, seconds: int):
        super().__init__(params={"seconds": seconds})
        self.retry_after = seconds


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _scopes(email: str, address: str) -> list[tuple[str, str, int, int]]:
    """(kind, hash, free failures, cap seconds) for each counter an attempt touches."""
    cfg = current_app.config
    cap = int(cfg["LOGIN_THROTTLE_MAX_SECONDS"])
    return [
        ("pair", _key("pair", f"{email}|{address}"), int(cfg["LOGIN_THROTTLE_FREE_FAILURES"]), cap),
        ("client", _key("client", address), int(cfg["LOGIN_THROTTLE_CLIENT_FREE_FAILURES"]), cap),
        ("account", _key("account", email), int(cfg["LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES"]),
         int(cfg["LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS"])),
    ]


def wait_seconds(failures: int, free: int, cap: int) -> float:
    """2^(failures - free) seconds once ``free`` failures have been made, at most ``cap``."""
    if free <= 0 or failures < free:
        return 0
    return min(cap, 2 ** min(failures - free, 30))


def _forget_before(now: datetime) -> datetime:
    return now - timedelta(minutes=int(current_app.config["LOGIN_THROTTLE_FORGET_MINUTES"]))


def _known_address(user_id: int | None, address: str) -> bool:
    if user_id is None or not address:
        return False
    return db.session.scalar(sa.select(sa.exists().where(LoginSession.user_id == user_id,
                                                         LoginSession.client_address == address))) or False


def check(email: str, address: str, user_id: int | None = None) -> None:
    """Raise ``LoginThrottled`` while a wait runs for this attempt; else return."""
    now = now_utc()
    scopes = _scopes(email, address)
    rows = {r.scope_hash: r for r in db.session.scalars(
        sa.select(LoginThrottle).where(LoginThrottle.scope_hash.in_([s[1] for s in scopes])))}
    longest = 0.0
    for kind, key, free, cap in scopes:
        row = rows.get(key)
        if row is None or as_utc(row.last_failed_at) < _forget_before(now):
            continue
        if kind == "account" and _known_address(user_id, address):
            continue
        left = (as_utc(row.last_failed_at) + timedelta(seconds=wait_seconds(row.failures, free, cap)) - now)
        longest = max(longest, left.total_seconds())
    if longest > 0:
        raise LoginThrottled(max(1, math.ceil(longest)))


def failed(email: str, address: str) -> None:
    """Count one wrong password in every scope (atomic UPDATEs, shared by every process); commits."""
    now = now_utc()
    forget = _forget_before(now)
    for _kind, key, _free, _cap in _scopes(email, address):
        bump = (sa.update(LoginThrottle).where(LoginThrottle.scope_hash == key)
                .values(failures=sa.case((LoginThrottle.last_failed_at < forget, 1),
                                         else_=LoginThrottle.failures + 1),
                        last_failed_at=now))
        if db.session.execute(bump).rowcount:
            continue
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(scope_hash=key, failures=1, last_failed_at=now))
        except IntegrityError:  # another process inserted it meanwhile
            db.session.execute(bump)
    db.session.commit()


def succeeded(email: str, address: str) -> None:
    """A right password: forget the pair and account counters (not the client's); commits."""
    keys = [key for kind, key, _f, _c in _scopes(email, address) if kind != "client"]
    if db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.scope_hash.in_(keys))).rowcount:
        db.session.commit()


def clear_account(email: str) -> None:
    """An administrator lifts the account-wide wait (the caller commits)."""
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.scope_hash == _key("account", email)))
