"""Web hardening: cookies, session renewal, lockout, rate limit, password policy, redirects, headers, bandit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from artisan_awards import create_app
from artisan_awards.errors import ValidationFailed
from artisan_awards.services import accounts
from tests.factories import Factory

ROOT = Path(__file__).resolve().parent.parent


def _new_user(app, make, role="applicant"):
    """An account made in ``app``'s own context; its (id, e-mail)."""
    with app.app_context():
        user = make.user(role)
        return user.id, user.email


@pytest.fixture
def fresh(app_config):
    """An app with no application context held open, so each request gets its own ``g``
    (the ``client`` fixture's requests share one, which would keep Flask-Login's user)."""
    return create_app(app_config)


def _cookie_header(response) -> str:
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie" and v.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


# -- cookies and the session ------------------------------------------------------------------------

def test_session_cookie_is_httponly_samesite_and_secure_over_https(fresh, make):
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    plain = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    cookie = _cookie_header(plain)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    client.post("/logout")
    secure = client.post("/login", data={"email": email, "password": Factory.PASSWORD},
                         base_url="https://localhost")
    assert "Secure" in _cookie_header(secure) and "HttpOnly" in _cookie_header(secure)


def test_secure_cookie_forced_by_configuration(app_config, make):
    strict = create_app({**app_config, "SESSION_COOKIE_SECURE": True})
    uid, email = _new_user(strict, make)
    r = strict.test_client().post("/login", data={"email": email, "password": Factory.PASSWORD})
    assert "Secure" in _cookie_header(r)


def test_behind_a_proxy_https_is_taken_from_x_forwarded_proto(app_config, make):
    proxied = create_app({**app_config, "PROXY_HOPS": 1})
    uid, email = _new_user(proxied, make)
    r = proxied.test_client().post("/login", data={"email": email, "password": Factory.PASSWORD},
                                   headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in _cookie_header(r)
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_login_starts_a_new_session(fresh, make):
    """Nothing planted in the session before login survives it (no session fixation)."""
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["_user_id"] = "999999"
        session["lang"] = "en"
    before = client.get_cookie("session").value
    client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].split(":")[0] == str(uid)  # "<id>:<login session key>"
        assert session["lang"] == "en", "the chosen language is kept"
    assert client.get_cookie("session").value != before


def test_logout_empties_the_session(fresh, make):
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    assert _login(client, email, Factory.PASSWORD).status_code == 302
    with client.session_transaction() as session:
        session["anything"] = 1
    client.post("/logout")
    with client.session_transaction() as session:
        assert "_user_id" not in session and "anything" not in session
    assert "/login" in client.get("/my/").headers["Location"]


def test_session_cookie_from_another_browser_is_refused(fresh, make):
    """Flask-Login's strong session protection: the cookie only works with the browser that got it."""
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    agent = {"User-Agent": "Firefox/140"}
    client.post("/login", data={"email": email, "password": Factory.PASSWORD}, headers=agent)
    assert client.get("/my/", headers=agent).status_code == 200
    stolen = client.get("/my/", headers={"User-Agent": "curl/8"})
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]


# -- rate limit and throttling -------------------------------------------------------------------------

def test_login_is_rate_limited(app_config, make):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOGIN_LIMIT": "3 per minute",
                          "LOGIN_THROTTLE_FREE_FAILURES": 0})
    uid, email = _new_user(limited, make)
    client = limited.test_client()
    codes = [client.post("/login", data={"email": email, "password": "sai-mat-khau-1"}).status_code
             for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    page = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    assert page.status_code == 429
    assert "Bạn thao tác quá nhiều lần" in page.get_data(as_text=True)
    assert client.get("/login").status_code == 200, "only attempts are limited, not the form"


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


# The hard lockout is gone (issue 12): failures make the next attempts from the same place wait.
# The throttling tests are in tests/test_account_sessions.py; these keep what the lockout tests proved.

def test_a_right_password_resets_the_count(app_config, make):
    throttled = create_app({**app_config, "LOGIN_THROTTLE_FREE_FAILURES": 3})
    uid, email = _new_user(throttled, make)
    client = throttled.test_client()
    for _ in range(2):
        _login(client, email, "sai-mat-khau")
    assert _login(client, email, Factory.PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(2):
        assert _login(client, email, "sai-mat-khau").status_code == 200
    assert _login(client, email, Factory.PASSWORD).status_code == 302


def test_the_count_is_shared_by_processes(app_config, make):
    """Two application instances on one database (as two gunicorn workers would be) share one count."""
    config = {**app_config, "LOGIN_THROTTLE_FREE_FAILURES": 3}
    first, second = create_app(config), create_app(config)
    uid, email = _new_user(first, make)
    one, two = first.test_client(), second.test_client()
    assert _login(one, email, "sai-1").status_code == 200
    assert _login(two, email, "sai-2").status_code == 200
    assert _login(one, email, "sai-3").status_code == 200
    r = _login(two, email, Factory.PASSWORD)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1


def test_unknown_email_says_the_same_as_a_wrong_password(app, make):
    client = app.test_client()
    texts = {_login(client, "khong-co@example.vn", "sai-mat-khau").get_data(as_text=True).count(
        "Thư điện tử hoặc mật khẩu không đúng.") for _ in range(3)}
    assert texts == {1}


# -- password policy ----------------------------------------------------------------------------------

@pytest.mark.parametrize("password,message", [
    ("ngan-qua", "Mật khẩu cần ít nhất 10 ký tự."),
    ("matkhau123", "quá phổ biến"),
    ("Mật Khẩu 123", "quá phổ biến"),  # case, accents and spaces do not make it another password
    ("1234567890", "quá phổ biến"),
    ("aaaaaaaaaaaa", "quá đơn giản"),
    ("abababababab", "quá đơn giản"),
    ("nguyen.hoa@example.vn", "địa chỉ thư điện tử"),
    ("xx-nguyen.hoa-2026", "địa chỉ thư điện tử"),
    ("NguyenThiHoa2026!", "họ và tên"),
    ("x" * 201, "tối đa 200"),
])
def test_password_policy_refuses(app, password, message):
    from flask_babel import gettext

    with pytest.raises(ValidationFailed) as caught:
        accounts.validate_password(password, "nguyen.hoa@example.vn", "Nguyễn Thị Hoa")
    with app.test_request_context():
        assert message in caught.value.field_texts(gettext)["password"]


@pytest.mark.parametrize("password", ["Gốm-men-lam-1985", "mat-khau-thu-nghiem", "NgheNhan@2026"])
def test_password_policy_accepts(app, password):
    accounts.validate_password(password, "nguyen.hoa@example.vn", "Nguyễn Thị Hoa")


def test_password_minimum_is_configurable(app):
    app.config["PASSWORD_MIN_LENGTH"] = 14
    accounts.validate_password("Gốm-men-lam-19", None, None)  # 14 characters: fine
    with pytest.raises(ValidationFailed):
        accounts.validate_password("Gốm-men-lam-1", None, None)  # 13: refused


def test_registration_applies_the_policy(client):
    r = client.post("/register", data={"full_name": "Nguyễn Thị Hoa", "email": "hoa.nguyen@example.vn",
                                       "password": "matkhau123", "confirm": "matkhau123"})
    assert r.status_code == 200
    assert "Mật khẩu này quá phổ biến" in r.get_data(as_text=True)
    assert accounts.find_user("hoa.nguyen@example.vn") is None
    r = client.post("/register", data={"full_name": "Nguyễn Thị Hoa", "email": "hoa.nguyen@example.vn",
                                       "password": "NguyenThiHoa-99", "confirm": "NguyenThiHoa-99"})
    assert "Mật khẩu không được chứa họ và tên của bạn." in r.get_data(as_text=True)


def test_reset_and_invitation_links_apply_the_policy(client, make):
    from artisan_awards.services import account_admin

    user = make.user("province_officer", "HNI", email="to.chuc@example.vn")
    for purpose, path in (("reset", "/reset/"), ("invite", "/invitation/")):
        token = account_admin._serializer(purpose).dumps(
            {"u": user.id, "f": account_admin._fingerprint(user)})
        r = client.post(path + token, data={"password": "to.chuc-2026", "confirm": "to.chuc-2026"})
        assert r.status_code == 200
        assert "Mật khẩu không được chứa địa chỉ thư điện tử của bạn." in r.get_data(as_text=True)
        r = client.post(path + token, data={"password": "password1234", "confirm": "password1234"})
        assert "quá phổ biến" in r.get_data(as_text=True)


def test_change_password_applies_the_policy(fresh, make):
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    _login(client, email, Factory.PASSWORD)
    r = client.post("/account/password", data={"current": Factory.PASSWORD, "password": "qwertyuiop",
                                               "confirm": "qwertyuiop"})
    assert "Mật khẩu này quá phổ biến" in r.get_data(as_text=True)


def test_command_line_applies_the_policy(runner):
    r = runner.invoke(args=["users", "create", "--email", "x@example.vn", "--password", "password123",
                            "--role", "admin"])
    assert r.exit_code != 0 and "quá phổ biến" in r.output
    assert accounts.find_user("x@example.vn") is None


# -- redirects ------------------------------------------------------------------------------------------

HOSTILE_NEXT = ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)",
                "/\t/evil.com", "/\n/evil.com", " //evil.com", "http:/evil.com", "///evil.com",
                "evil.com", "https:evil.com", "/\\/evil.com"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_redirects_off_site(fresh, make, target):
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    r = client.post("/login", query_string={"next": target},
                    data={"email": email, "password": Factory.PASSWORD})
    assert r.status_code == 302
    assert r.headers["Location"] in ("/", "http://localhost/"), r.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_language_switch_never_redirects_off_site(client, target):
    r = client.post("/lang/en", data={"next": target})
    assert r.headers["Location"] in ("/", "http://localhost/")


def test_login_follows_a_local_next(fresh, make):
    uid, email = _new_user(fresh, make)
    client = fresh.test_client()
    r = client.post("/login", query_string={"next": "/my/?tab=1"},
                    data={"email": email, "password": Factory.PASSWORD})
    assert r.headers["Location"] == "/my/?tab=1"


# -- headers ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/login", "/api/v1/provinces", "/khong-co-trang-nay", "/api/v1/khong-co"])
def test_security_headers_everywhere(client, path):
    r = client.get(path)
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "same-origin"
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "object-src 'none'" in csp


# -- static analysis ------------------------------------------------------------------------------------

def test_bandit_finds_no_medium_or_high_issue():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "artisan_awards", "workflows", "-ll", "-f", "json", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    report = json.loads(result.stdout)
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in report["results"]]
    assert findings == [] and result.returncode == 0, findings
    assert report["metrics"]["_totals"]["loc"] > 5000, "bandit scanned the code"
