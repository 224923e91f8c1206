"""Accounts that can be ended (issue 12, items 4 and 5): server-side login sessions, ends on every
change of what an account may do, the sessions page, the secret key, tokens for confirmed accounts
only, and login throttling instead of the hard lockout.

Each guarantee is played by the attacker, and each has a broken variant (the protection
monkeypatched away) under which the same attack succeeds: the test proves it can fail.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards import DEV_SECRET_KEY, InsecureSecretKey, create_app
from artisan_awards.config import ensure_secret_key_file
from artisan_awards.extensions import db
from artisan_awards.models import ApiToken, AuditEvent, AuditKind, LoginSession, User
from artisan_awards.services import account_admin, sessions, throttle
from artisan_awards.timeutil import now_utc
from tests.factories import Factory

NEW_PASSWORD = "mot-mat-khau-moi-rat-dai"


# -- helpers ----------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _each_request_loads_its_own_user(app):
    """The test's app context outlives requests; Flask-Login caches the user in ``g``: forget it."""
    from flask import g

    app.teardown_request(lambda exc: g.pop("_login_user", None))


def _login(client, email, password=Factory.PASSWORD, **kw):
    return client.post("/login", data={"email": email, "password": password}, **kw)


def _token(client, email, password=Factory.PASSWORD):
    r = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["token"]


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _replay(app, cookie: str, token: str) -> tuple[int, int]:
    """A stranger's fresh client with a copied cookie, and the copied token: (page status, API status)."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    page = thief.get("/account/sessions")
    if page.status_code == 302:
        assert "/login" in page.headers["Location"]
    api = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    return page.status_code, api.status_code


def _admin_client(app, make):
    admin = make.user("admin")
    client = app.test_client()
    assert _login(client, admin.email).status_code == 302
    return client


def _event(name, app, make, client, user, token):
    """Make ``name`` happen to ``user`` (whose browser is ``client``), as a person would."""
    if name == "logout":  # the browser logs out, the API client logs its token out
        assert client.post("/logout").status_code == 302
        assert app.test_client().post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
                                      ).status_code == 204
    elif name == "password_change":
        r = client.post("/account/password", data={"current": Factory.PASSWORD, "password": NEW_PASSWORD,
                                                   "confirm": NEW_PASSWORD})
        assert r.status_code == 302, r.get_data(as_text=True)[:400]
    elif name == "password_reset":
        link = account_admin.make_token(user, "reset")
        r = app.test_client().post(f"/reset/{link}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert r.status_code == 302
    elif name == "deactivation":
        r = _admin_client(app, make).post(f"/admin/accounts/{user.id}/status", data={"active": "0"})
        assert r.status_code == 302
    elif name == "role_change":
        r = _admin_client(app, make).post(f"/admin/accounts/{user.id}",
                                          data={"roles": ["applicant", "province_council_member"],
                                                "province_code": "HNI"})
        assert r.status_code == 302
    elif name == "province_change":
        r = _admin_client(app, make).post(f"/admin/accounts/{user.id}",
                                          data={"roles": ["applicant"], "province_code": "HCM"})
        assert r.status_code == 302
    db.session.expire_all()


EVENTS = ["logout", "password_change", "password_reset", "deactivation", "role_change", "province_change"]


def _copies_before(app, make, event):
    """Log a user in from two browsers and take a token; copy it all; then the event happens."""
    user = make.user("applicant")
    client, other = app.test_client(), app.test_client()
    assert _login(client, user.email).status_code == 302
    assert _login(other, user.email).status_code == 302
    copies = [_cookie(client), _cookie(other)]
    token = _token(app.test_client(), user.email)
    for cookie in copies:  # the copies work before the event
        assert _replay(app, cookie, token) == (200, 200)
    _event(event, app, make, client, user, token)
    return user, client, copies, token


# -- 1, 2: every earlier cookie and token ends ------------------------------------------------------

@pytest.mark.parametrize("event", EVENTS)
def test_earlier_cookies_and_tokens_are_refused_after(app, make, event):
    user, client, copies, token = _copies_before(app, make, event)
    for cookie in copies[:1] if event == "logout" else copies:  # logout ends that browser's session only
        assert _replay(app, cookie, token) == (302, 401), event
    if event == "password_change":  # the browser that made the change stays logged in, with a new key
        assert client.get("/account/sessions").status_code == 200
        assert _cookie(client) not in copies
    ended = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.SESSIONS_ENDED,
                                                           AuditEvent.target_id == user.id)).all()
    if event != "logout":
        assert ended and ended[-1].details["tokens"] == 1, "the end is in the audit log"


@pytest.mark.parametrize("event", ["logout", "password_change", "deactivation"])
def test_broken_variant_without_the_session_check_lets_the_copy_in(app, make, monkeypatch, event):
    """Monkeypatch the login-session check away (and the ends): the copied cookie and token work again."""
    monkeypatch.setattr(sessions, "live_clause", lambda now=None: sa.true())
    monkeypatch.setattr(sessions, "_end_rows", lambda *a, **k: (0, 0))
    if event == "deactivation":  # an inactive account is refused by Flask-Login and token_for anyway
        monkeypatch.setattr(User, "is_active", property(lambda self: True))
        monkeypatch.setattr(sessions.User, "active", True, raising=False)
    user, _client, copies, token = _copies_before(app, make, event)
    page, api = _replay(app, copies[0], token)
    assert page == 200, "without the check the copied cookie gets in"
    if event == "password_change":
        assert api == 200, "without the ends the old token still works"


def test_a_cookie_without_a_login_session_is_refused(app, make):
    """A cookie signed with the right key but naming only a user id (the old format) is void."""
    user = make.user("applicant")
    thief = app.test_client()
    with thief.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert thief.get("/account/sessions").status_code == 302
    with thief.session_transaction() as session:
        session["_user_id"] = f"{user.id}:not-a-session-key"
    assert thief.get("/account/sessions").status_code == 302


def test_idle_and_absolute_timeouts(app, make):
    user = make.user("applicant")
    client = app.test_client()
    assert _login(client, user.email).status_code == 302
    row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == user.id))
    row.last_seen_at = now_utc() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    assert client.get("/account/sessions").status_code == 302, "idle too long"
    assert _login(client, user.email).status_code == 302
    row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == user.id,
                                                          LoginSession.ended_at.is_(None))
                            .order_by(LoginSession.id.desc()))
    row.created_at = now_utc() - timedelta(hours=app.config["SESSION_MAX_HOURS"], minutes=1)
    db.session.commit()
    assert client.get("/account/sessions").status_code == 302, "older than the absolute limit"


def test_remember_me_cookie_ends_with_the_session(app, make):
    """A remember-me cookie (Flask-Login) holds the same "<id>:<key>": ending the session voids it."""
    from flask_login import login_user

    user = make.user("applicant")
    with app.test_request_context():
        sessions.start(user)
        db.session.commit()
        login_user(user, remember=True)
        cookie_value = __import__("flask").session["_user_id"]
    from flask_login.utils import encode_cookie

    client = app.test_client()
    client.set_cookie("remember_token", encode_cookie(cookie_value))
    assert client.get("/account/sessions").status_code == 200, "the remember cookie logs in"
    sessions.end_all(user, "test")
    db.session.commit()
    client2 = app.test_client()
    client2.set_cookie("remember_token", encode_cookie(cookie_value))
    assert client2.get("/account/sessions").status_code == 302


# -- 3: the sessions page ---------------------------------------------------------------------------

def test_sessions_page_lists_and_ends_sessions(app, make):
    user = make.user("applicant")
    mine, laptop = app.test_client(), app.test_client()
    firefox = {"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/128.0"}
    chrome = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120"}
    assert _login(mine, user.email, headers=firefox).status_code == 302
    assert _login(laptop, user.email, headers=chrome).status_code == 302
    laptop_cookie = _cookie(laptop)
    token = _token(app.test_client(), user.email)
    page = mine.get("/account/sessions", headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/128.0"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Firefox / Linux" in text and "Chrome / Windows" in text and "phiên này" in text
    assert "Mã truy cập API" in text
    ua = {"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/128.0"}
    laptop_row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == user.id,
                                                                 LoginSession.user_agent.like("Chrome%")))
    assert mine.post(f"/account/sessions/web/{laptop_row.id}/end", headers=ua).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", laptop_cookie)
    assert thief.get("/account/sessions", headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120"}
                     ).status_code == 302, "the ended session's cookie is refused"
    assert mine.get("/account/sessions", headers=ua).status_code == 200, "this session stays"
    assert mine.post("/account/sessions/end-others", headers=ua).status_code == 302
    assert app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert mine.get("/account/sessions", headers=ua).status_code == 200


def test_one_cannot_end_another_persons_session(app, make):
    victim, attacker = make.user("applicant"), make.user("applicant")
    victim_client, attacker_client = app.test_client(), app.test_client()
    assert _login(victim_client, victim.email).status_code == 302
    assert _login(attacker_client, attacker.email).status_code == 302
    row = db.session.scalar(sa.select(LoginSession).where(LoginSession.user_id == victim.id))
    assert attacker_client.post(f"/account/sessions/web/{row.id}/end").status_code == 404
    assert victim_client.get("/account/sessions").status_code == 200


def test_admin_ends_another_accounts_sessions(app, make):
    user = make.user("applicant")
    client = app.test_client()
    assert _login(client, user.email).status_code == 302
    token = _token(app.test_client(), user.email)
    admin = _admin_client(app, make)
    page = admin.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "Phiên đăng nhập" in page and "Mã truy cập API" in page
    assert admin.post(f"/admin/accounts/{user.id}/sessions/end").status_code == 302
    assert _replay(app, _cookie(client), token) == (302, 401)


def test_province_officer_ends_only_own_province_accounts(app, make):
    here, there = make.user("applicant", "HNI"), make.user("applicant", "HCM")
    here.province_code, there.province_code = "HNI", "HCM"
    db.session.commit()
    officer = make.user("province_officer", "HNI")
    client = app.test_client()
    assert _login(client, officer.email).status_code == 302
    assert client.post(f"/admin/accounts/{here.id}/sessions/end").status_code == 302
    assert client.post(f"/admin/accounts/{there.id}/sessions/end").status_code == 404


def test_api_sessions_and_logout(app, make):
    user = make.user("applicant")
    browser = app.test_client()
    assert _login(browser, user.email).status_code == 302
    first, second = _token(app.test_client(), user.email), _token(app.test_client(), user.email)
    api = app.test_client()
    rows = api.get("/api/v1/me/sessions", headers={"Authorization": f"Bearer {first}"}).get_json()
    assert {r["kind"] for r in rows} == {"web", "api"} and sum(r["current"] for r in rows) == 1
    web = next(r for r in rows if r["kind"] == "web")
    assert api.delete(f"/api/v1/me/sessions/{web['id']}",
                      headers={"Authorization": f"Bearer {first}"}).status_code == 204
    assert browser.get("/account/sessions").status_code == 302
    bad = api.delete("/api/v1/me/sessions/web-999999", headers={"Authorization": f"Bearer {first}"})
    assert bad.status_code == 404 and bad.get_json()["error"]["code"] == "not_found"
    assert api.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {second}"}).status_code == 204
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {first}"}).status_code == 200


# -- 4: the secret key ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY, "short-key", "x" * 31])
def test_create_app_refuses_the_builtin_or_a_short_key(app_config, tmp_path, monkeypatch, key):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = {**app_config, "TESTING": False, "DEBUG": False, "SECRET_KEY": key,
              "SECRET_KEY_FILE": str(tmp_path / "none")}
    with pytest.raises(InsecureSecretKey, match="SECRET_KEY"):
        create_app(config)
    assert create_app({**config, "TESTING": True}), "tests may use any key"
    assert create_app({**config, "DEBUG": True}), "development (FLASK_DEBUG) may use the built-in key"


def test_a_long_key_and_the_demo_key_file_start_the_app(app_config, tmp_path):
    config = {**app_config, "TESTING": False, "DEBUG": False}
    assert create_app({**config, "SECRET_KEY": "k" * 32}).secret_key == "k" * 32
    path = ensure_secret_key_file(tmp_path / "instance" / "secret_key")
    key = path.read_text().strip()
    assert len(key) >= 48 and oct(path.stat().st_mode & 0o777) == "0o600"
    assert ensure_secret_key_file(path).read_text().strip() == key, "written once, reused"
    app = create_app({**config, "SECRET_KEY": None, "SECRET_KEY_FILE": str(path)})
    assert app.secret_key == key


def test_the_demo_and_setup_scripts_write_the_key():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    assert "ensure_secret_key_file" in (root / "scripts" / "setup").read_text()
    assert "bash scripts/setup" in (root / "scripts" / "demo").read_text()


# -- 5: tokens only for confirmed, active accounts ---------------------------------------------------

def test_no_token_for_an_unconfirmed_account(app, make):
    user = make.user("applicant")
    user.email_confirmed = False
    db.session.commit()
    r = app.test_client().post("/api/v1/auth/token", json={"email": user.email, "password": Factory.PASSWORD},
                               headers={"Accept-Language": "en"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "email_not_confirmed"
    assert "confirm your e-mail" in r.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


@pytest.mark.parametrize("change", ["unconfirmed", "inactive"])
def test_an_existing_token_of_an_unconfirmed_or_inactive_account_is_refused(app, make, monkeypatch, change):
    user = make.user("applicant")
    token = _token(app.test_client(), user.email)
    headers = {"Authorization": f"Bearer {token}"}
    # Directly in the database (a restore, a script): no operation ended the token.
    setattr(user, "email_confirmed" if change == "unconfirmed" else "active", False)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 1
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    # Broken variant: a token check that looks only at expiry lets it in.
    def lax(cls, plain):
        import hashlib

        return db.session.scalar(sa.select(ApiToken).where(
            ApiToken.token_hash == hashlib.sha256(plain.encode()).hexdigest()))

    monkeypatch.setattr(ApiToken, "live", classmethod(lax))
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200


# -- 6: throttling instead of the hard lockout ------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = now_utc()

    def __call__(self):
        return self.now

    def wait(self, seconds):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(throttle, "now_utc", c)
    return c


ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}
OWNER = {"REMOTE_ADDR": "198.51.100.7"}


def _try(client, email, password, addr):
    return client.post("/login", data={"email": email, "password": password}, environ_base=addr)


def test_attacker_is_slowed_by_a_growing_wait_and_the_owner_still_logs_in(app, make, clock):
    user = make.user("applicant")
    attacker, owner = app.test_client(), app.test_client()
    free = app.config["LOGIN_THROTTLE_FREE_FAILURES"]
    for _ in range(free):
        assert _try(attacker, user.email, "sai-mat-khau", ATTACKER).status_code == 200
    waits = []
    for _ in range(4):
        r = _try(attacker, user.email, "sai-mat-khau", ATTACKER)
        assert r.status_code == 429
        assert "Vui lòng chờ" in r.get_data(as_text=True)
        waits.append(int(r.headers["Retry-After"]))
        assert _try(attacker, user.email, Factory.PASSWORD, ATTACKER).status_code == 429, \
            "while the wait runs even the right password is not tried"
        clock.wait(waits[-1])
        assert _try(attacker, user.email, "sai-mat-khau", ATTACKER).status_code == 200  # counted
    assert waits == sorted(waits) and waits[-1] > waits[0], f"the wait grows: {waits}"
    # Meanwhile the owner, from another address, logs in at once.
    assert _try(owner, user.email, Factory.PASSWORD, OWNER).status_code == 302
    # And after the wait the right password works from the attacker's address too.
    r = _try(attacker, user.email, Factory.PASSWORD, ATTACKER)
    assert r.status_code == 429
    clock.wait(int(r.headers["Retry-After"]))
    assert _try(app.test_client(), user.email, Factory.PASSWORD, ATTACKER).status_code == 302
    failed = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                               .where(AuditEvent.kind == AuditKind.LOGIN_FAILED))
    assert failed >= free + 8, "failed and refused attempts stay in the audit log"


def test_the_wait_is_capped(app, make, clock):
    user = make.user("applicant")
    client = app.test_client()
    cap = app.config["LOGIN_THROTTLE_MAX_SECONDS"]
    waits = []
    for _ in range(40):
        r = _try(client, user.email, "sai", ATTACKER)
        if r.status_code == 429:
            waits.append(int(r.headers["Retry-After"]))
            clock.wait(waits[-1])
    assert max(waits) == cap and waits[-3:] == [cap] * 3, waits


def test_a_stranger_cannot_keep_the_owner_out_longer_than_the_account_cap(app, make, clock):
    """Failures spread over many addresses: the account-wide wait is at most its short cap, and none
    at all from an address the owner has logged in from before."""
    user = make.user("applicant")
    home = {"REMOTE_ADDR": "192.0.2.10"}
    assert _try(app.test_client(), user.email, Factory.PASSWORD, home).status_code == 302
    for n in range(40):
        _try(app.test_client(), user.email, "sai", {"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250 + 1}"})
    travel = _try(app.test_client(), user.email, Factory.PASSWORD, {"REMOTE_ADDR": "192.0.2.99"})
    assert travel.status_code == 429
    assert int(travel.headers["Retry-After"]) <= app.config["LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS"]
    assert _try(app.test_client(), user.email, Factory.PASSWORD, home).status_code == 302, "home is not slowed"


def test_one_client_guessing_across_many_accounts_is_slowed(app, make, clock):
    users = [make.user("applicant") for _ in range(12)]
    client = app.test_client()
    codes = [_try(client, u.email, "sai-mat-khau", ATTACKER).status_code for u in users]
    free = app.config["LOGIN_THROTTLE_CLIENT_FREE_FAILURES"]
    assert codes[:free] == [200] * free and 429 in codes[free:], codes
    # A new account from the same client is refused too, even with its right password, until the wait ends.
    r = _try(client, users[-1].email, Factory.PASSWORD, ATTACKER)
    assert r.status_code == 429
    # Another client is not affected.
    assert _try(app.test_client(), users[-1].email, Factory.PASSWORD, OWNER).status_code == 302


def test_broken_variant_without_throttling_lets_the_attacker_guess_freely(app, make, clock, monkeypatch):
    monkeypatch.setattr(throttle, "check", lambda *a, **k: None)
    user = make.user("applicant")
    client = app.test_client()
    codes = {_try(client, user.email, "sai-mat-khau", ATTACKER).status_code for _ in range(15)}
    assert codes == {200}


def test_api_token_is_throttled_with_retry_after(app, make, clock):
    user = make.user("applicant")
    client = app.test_client()
    for _ in range(app.config["LOGIN_THROTTLE_FREE_FAILURES"]):
        r = client.post("/api/v1/auth/token", json={"email": user.email, "password": "sai"}, environ_base=ATTACKER)
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", json={"email": user.email, "password": "sai"}, environ_base=ATTACKER,
                    headers={"Accept-Language": "en"})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "login_throttled"
    assert int(r.headers["Retry-After"]) >= 1 and "wait" in r.get_json()["error"]["message"]


def test_unknown_emails_are_throttled_like_known_ones(app, make, clock):
    known = make.user("applicant")
    a, b = app.test_client(), app.test_client()
    free = app.config["LOGIN_THROTTLE_FREE_FAILURES"]
    known_codes = [_try(a, known.email, "sai", ATTACKER).status_code for _ in range(free + 1)]
    unknown_codes = [_try(b, "khong-co@example.vn", "sai", OWNER).status_code for _ in range(free + 1)]
    assert known_codes == unknown_codes == [200] * free + [429]


# -- who is asking: one statement per request (issue 16) ----------------------------------------------

def test_who_is_asking_costs_one_statement(app, make):
    """The user loader (a login cookie) and the bearer-token check each read the session or token, the
    account and its roles in one statement; a role that a later statement would have to fetch is already
    there (the guard asks for roles on every request)."""
    user = make.user("province_officer", "HNI")
    user_id = user.id
    client = app.test_client()
    assert _login(client, user.email).status_code == 302
    token = _token(app.test_client(), user.email)
    with client.session_transaction() as cookie:
        cookie_id = cookie["_user_id"]
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    for load in (lambda: sessions.load(cookie_id), lambda: ApiToken.live(token)):
        db.session.expunge_all()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            with app.test_request_context():
                found = load()
                who = found if isinstance(found, User) else found.user
                assert who.id == user_id and who.roles == {"province_officer"}
                assert who.province_code == "HNI" and who.active
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        assert len(statements) == 1, statements
        statements.clear()
    # a cookie or token that is not live still finds no one
    assert sessions.load(f"{user_id}:not-the-key") is None
    assert ApiToken.live("not-a-token") is None
