"""The language switch without a session (issue 16, the public status page's throughput).

An anonymous visitor gets a plain link (GET ``/lang/<code>?next=...``) that sets nothing but the ``lang``
preference cookie: a public page then needs no CSRF token, so no session cookie is made and signed for
every visit. A logged-in user keeps the POST form (CSRF token), which also keeps the choice with the
account for its e-mail; a GET never changes an account. docs/security.md, "The language switch".
"""

from __future__ import annotations

import re

import pytest

from artisan_awards import create_app
from artisan_awards.extensions import db
from artisan_awards.models import User
from tests.factories import Factory


@pytest.fixture
def guarded(app_config):
    """The app as deployed: CSRF protection on."""
    return create_app({**app_config, "WTF_CSRF_ENABLED": True})


def _set_cookies(response) -> dict[str, str]:
    return {v.split("=", 1)[0]: v for k, v in response.headers.items() if k.lower() == "set-cookie"}


def _html_lang(response) -> str:
    return re.search(r'<html lang="(\w+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("path", ["/", "/public/status", "/public/results"])
def test_an_anonymous_page_makes_no_session_and_offers_a_link(guarded, path):
    client = guarded.test_client()
    r = client.get(path)
    assert r.status_code == 200
    assert "session" not in _set_cookies(r)
    page = r.get_data(as_text=True)
    link = re.search(r'<a href="(/lang/en\?next=[^"]+)" lang="en"', page)
    assert link, page[:2000]
    assert f"next={path.replace('/', '%2F')}" in link.group(1) or f"next={path}" in link.group(1)


def test_the_link_sets_only_the_language_cookie_and_the_pages_follow_it(guarded):
    client = guarded.test_client()
    r = client.get("/lang/en?next=/public/status")
    assert r.status_code == 302 and r.headers["Location"].endswith("/public/status")
    cookies = _set_cookies(r)
    assert set(cookies) == {"lang"}, cookies  # no session
    assert cookies["lang"].startswith("lang=en;")
    assert "HttpOnly" in cookies["lang"] and "SameSite=Lax" in cookies["lang"] and "Max-Age=" in cookies["lang"]
    page = client.get("/public/status")
    assert _html_lang(page) == "en" and "session" not in _set_cookies(page)
    assert 'href="/lang/vi?next=' in page.get_data(as_text=True)  # and back
    client.get("/lang/vi?next=/")
    assert _html_lang(client.get("/")) == "vi"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", ""])
def test_the_link_never_leaves_the_site(guarded, target):
    r = guarded.test_client().get("/lang/en", query_string={"next": target})
    assert r.status_code == 302
    assert r.headers["Location"] in ("/", "http://localhost/")


def test_an_unknown_language_changes_nothing(guarded):
    client = guarded.test_client()
    r = client.get("/lang/fr?next=/")
    assert r.status_code == 302 and "lang" not in _set_cookies(r)
    client.set_cookie("lang", "xx")  # a forged cookie is ignored
    assert _html_lang(client.get("/")) == "vi"


def test_over_https_the_cookie_is_secure(guarded):
    r = guarded.test_client().get("/lang/en?next=/", base_url="https://localhost")
    assert "Secure" in _set_cookies(r)["lang"]


def test_a_logged_in_user_keeps_the_form_and_only_the_post_changes_the_account(app_config, make):
    app = create_app(app_config)  # CSRF off in the suite's config: the form's token is checked elsewhere
    with app.app_context():
        user = make.user("applicant")
        uid, email = user.id, user.email
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    page = client.get("/public/status").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/lang/en"', page)
    assert 'href="/lang/en?next=' not in page
    client.get("/lang/en?next=/")  # a link followed while logged in (another tab): the pages, not the account
    with app.app_context():
        assert db.session.get(User, uid).locale != "en"
    assert _html_lang(client.get("/public/status")) == "en"
    r = client.post("/lang/en", data={"next": "/"})
    assert r.status_code == 302 and "lang" in _set_cookies(r)
    with app.app_context():
        assert db.session.get(User, uid).locale == "en"


def test_the_post_form_still_wants_its_csrf_token(guarded, make):
    with guarded.app_context():
        user = make.user("applicant")
        email = user.email
        db.session.commit()
    client = guarded.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
    r = client.post("/login", data={"email": email, "password": Factory.PASSWORD, "csrf_token": token})
    assert r.status_code == 302 and "/login" not in r.headers["Location"]
    r = client.post("/lang/en", data={"next": "/"})
    assert r.status_code == 400  # no token: refused
    assert "lang" not in _set_cookies(r)


def test_the_pages_kept_translations_follow_each_request_s_language(app):
    """``i18n._page_gettext``: the catalogue's texts kept per language give what Flask-Babel gives, in the
    request's language, escaped and formatted like Jinja's new-style gettext."""
    from flask import render_template_string
    from flask_babel import gettext, refresh

    source = '{{ _("Tra cứu hồ sơ") }}|{{ _("không dịch %(v)s", v="<b>") }}|{{ _("100%% xong") }}'
    seen, babel = {}, {}
    for _round in range(2):  # the second time from the kept texts
        for lang in ("en", "vi", "en"):
            with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
                refresh()
                seen.setdefault(lang, set()).add(render_template_string(source))
                babel[lang] = gettext("Tra cứu hồ sơ")
    assert all(len(v) == 1 for v in seen.values()), seen
    en, vi = seen["en"].pop().split("|"), seen["vi"].pop().split("|")
    assert (en[0], vi[0]) == (babel["en"], babel["vi"]) and babel["en"] != babel["vi"] == "Tra cứu hồ sơ"
    assert vi[1] == en[1] == "không dịch &lt;b&gt;" and vi[2] == "100% xong"


def test_the_layout_s_kept_links_follow_the_script_root(guarded):
    """``i18n.layout_url`` keeps the layout's fixed links per script root: an app mounted under a prefix
    (behind a proxy) and the same app at the root each get their own links."""
    client = guarded.test_client()
    for _round in range(2):
        at_root = client.get("/public/status").get_data(as_text=True)
        prefixed = client.get("/public/status", environ_overrides={"SCRIPT_NAME": "/nghenhan"}).get_data(as_text=True)
        assert 'href="/public/results"' in at_root and 'href="/static/app.css' in at_root
        assert 'href="/nghenhan/public/results"' in prefixed and 'href="/nghenhan/static/app.css' in prefixed
        assert 'href="/public/results"' not in prefixed
