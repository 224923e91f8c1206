"""What every page request does, made cheaper for the public status page (issue 16, acceptance 5), and
still doing the same thing: the security headers, the templates' helpers and context, Flask-Login's
session protection, the language and the page's kept texts, the render context, the status form's links.

Each test is written against the broken variant it rules out (named in its docstring)."""

from __future__ import annotations

import jinja2
import pytest
from flask import render_template_string
from flask.templating import _default_template_ctx_processor

from artisan_awards import LOCALES, create_app, i18n
from artisan_awards.views import CSP
from tests.factories import Factory
from workflows.states import State

SECURITY = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": CSP}


@pytest.fixture
def fresh(app_config):
    """An app of its own, no application context held open: each request gets its own ``g`` (and a test
    may add a route or a global to it without touching the shared app)."""
    return create_app(app_config)


def test_each_answer_carries_each_security_header_once_and_a_views_own_is_kept(fresh):
    """Broken variants: the headers appended without looking (a view's own CSP duplicated or overridden,
    a header set in another case twice), or not added when the view set one of the others."""

    @fresh.get("/own-headers")
    def own_headers():
        return "x", 200, {"content-security-policy": "default-src 'none'", "X-Frame-Options": "SAMEORIGIN"}

    client = fresh.test_client()
    for path in ("/public/status", "/api/v1/status?code=NN&key=K", "/static/app.css", "/khong-co"):
        headers = client.get(path).headers
        for name, value in SECURITY.items():
            assert headers.getlist(name) == [value], (path, name, headers)
        assert "Strict-Transport-Security" not in headers
    own = client.get("/own-headers").headers
    assert own.getlist("Content-Security-Policy") == ["default-src 'none'"]
    assert own.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert own.getlist("X-Content-Type-Options") == ["nosniff"] and own.getlist("Referrer-Policy") == ["same-origin"]
    secure = client.get("/public/status", base_url="https://localhost").headers
    assert secure.getlist("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]
    assert secure.getlist("Content-Security-Policy") == [CSP]


def test_the_templates_helpers_reach_every_page_and_the_default_context_runs_once(app):
    """The helpers that were context processors are globals now; Flask's default processor (g, request,
    session) runs for the application only, not again for the page's blueprint. Broken variants: a helper
    lost on the way, the default processor dropped everywhere (no ``request`` in a template)."""
    processors = app.template_context_processors
    assert processors[None].count(_default_template_ctx_processor) == 1
    assert all(_default_template_ctx_processor not in funcs for name, funcs in processors.items() if name)
    names = ("can_view", "may_act", "can_edit", "available_actions", "return_request", "unread_notifications",
             "province_name", "hard_case_panel", "product_links", "round_document_tasks", "can_export_documents",
             "one_stop_notices", "notice_label")
    source = "{{ request.path }}|{{ session is defined }}|{{ g is defined }}|{{ today }}|" + "|".join(
        "{{ " + name + " is callable }}" for name in names)
    from artisan_awards.timeutil import today

    for path in ("/public/status", "/admin/", "/"):  # a blueprint's page, another's, the application's
        with app.test_request_context(path):
            out = render_template_string(source).split("|")
        assert out[:4] == [path, "True", "True", str(today())], out
        assert out[4:] == ["True"] * len(names), dict(zip(names, out[4:], strict=True))


def test_session_protection_hashes_the_visitor_only_when_there_is_a_session(fresh, make, monkeypatch):
    """An anonymous visit skips Flask-Login's identifier (nothing to compare it with); a logged-in session
    is still checked, and a stolen cookie refused. Broken variant: the check skipped for every request."""
    from artisan_awards.extensions import login_manager

    with fresh.app_context():
        user = make.user("applicant")
        email = user.email
    computed = []
    original = login_manager._session_identifier_generator
    monkeypatch.setattr(login_manager, "_session_identifier_generator",
                        lambda: computed.append(1) or original())
    client = fresh.test_client()
    assert client.get("/public/status").status_code == 200 and computed == []
    agent = {"User-Agent": "Firefox/140"}
    client.post("/login", data={"email": email, "password": Factory.PASSWORD}, headers=agent)
    computed.clear()
    assert client.get("/my/", headers=agent).status_code == 200 and computed
    stolen = client.get("/my/", headers={"User-Agent": "curl/8"})
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]


def test_the_chosen_language_is_the_kept_locale(app):
    """``select_locale`` still answers a language code; Flask-Babel gets the Locale parsed once for it.
    Broken variant: the kept Locales mixed up (an English page in Vietnamese)."""
    from flask_babel import get_locale, refresh

    from artisan_awards import select_locale

    for headers, path, expected in ((None, "/public/status", "vi"), ({"Cookie": "lang=en"}, "/public/status", "en"),
                                    ({"Accept-Language": "en"}, "/api/v1/status", "en"),
                                    ({"Accept-Language": "en"}, "/public/status", "vi")):
        with app.test_request_context(path, headers=headers or {}):
            refresh()  # as before each request (the test's app context outlives it)
            assert select_locale() == expected
            assert get_locale() is LOCALES[expected] and str(get_locale()) == expected


def test_the_pages_state_texts_are_flask_babels_in_each_request_s_language(app):
    """The page's ``state_label`` and ``next_step`` read the page's kept texts: the same as the module's
    (Flask-Babel's gettext) for every state, audience and language, asked in turn. Broken variant: texts
    kept without their language (the English page gets the Vietnamese label kept first)."""
    from flask_babel import refresh

    i18n._TRANSLATED.clear()
    i18n._FORMATTED.clear()
    source = ("{% for s in states %}{{ state_label(s, 'citizen') }}~{{ state_label(s) }}~{{ next_step(s) }}\n"
              "{% endfor %}")
    states = [s.value for s in State]
    seen = {}
    for lang in ("vi", "en", "vi", "en"):
        with app.test_request_context("/public/status", headers={"Cookie": f"lang={lang}"}):
            refresh()
            page = render_template_string(source, states=states)
            expected = "".join(f"{i18n.state_label(s, 'citizen')}~{i18n.state_label(s)}~{i18n.next_step(s)}\n"
                               for s in states)
            expected = str(jinja2.utils.markupsafe.escape(expected))
        assert page == expected, lang
        seen.setdefault(lang, set()).add(page)
    assert len(seen["vi"]) == len(seen["en"]) == 1 and seen["vi"] != seen["en"]


def test_kept_texts_without_variables_are_formatted_and_escaped_as_jinja_does(app):
    """``_()`` without variables is kept once formatted (``%%`` is ``%``); with variables, or outside
    autoescaping, it is formatted each time. Broken variants: the formatted text kept across languages,
    a variable's value kept, an unescaped value, a ``%(n)s`` left unformatted."""
    from flask_babel import gettext, refresh

    source = ('{{ _("Tra cứu hồ sơ") }}|{{ _("100%% xong") }}|{{ _("có %(n)s", n=v) }}|'
              '{% autoescape false %}{{ _("a < %(n)s", n=v) }}{% endautoescape %}')
    firsts = {}
    for lang in ("en", "vi", "en"):
        for value in ("<i>", "2"):
            with app.test_request_context("/", headers={"Cookie": f"lang={lang}"}):
                refresh()
                out = render_template_string(source, v=value).split("|")
                first = firsts[lang] = gettext("Tra cứu hồ sơ")  # the catalogue through Flask-Babel
            escaped = "&lt;i&gt;" if value == "<i>" else value
            assert out == [first, "100% xong", f"có {escaped}", f"a < {value}"], (lang, out)
    assert firsts["vi"] == "Tra cứu hồ sơ" != firsts["en"]
    with app.test_request_context("/"), pytest.raises(KeyError):
        render_template_string('{{ _("thiếu %(n)s") }}')


def test_the_render_context_is_jinjas_and_follows_the_globals(fresh):
    """``i18n.Template`` builds each render's context from the environment's globals directly. Broken
    variants: the globals copied once (a global added later unseen), a template's own globals lost, a page
    that renders differently from Jinja's own Template class."""
    env = fresh.jinja_env
    assert env.template_class is i18n.Template
    late = env.from_string("{{ late_global | default('missing') }}")
    assert late.render() == "missing"
    env.globals["late_global"] = "here"
    try:
        assert late.render() == "here"
    finally:
        del env.globals["late_global"]
    own = env.from_string("{{ own }}|{{ can_view is defined }}", globals={"own": "mine"})
    assert own.render() == "mine|True"
    assert own.globals["own"] == "mine" and "own" not in env.globals

    stock = create_app(fresh.config)  # the same pages through Jinja's own Template
    stock.jinja_env.template_class = jinja2.Template
    for app in (fresh, stock):
        app.extensions.pop("layout_fragments", None)
    for headers in ({}, {"Cookie": "lang=en"}):
        for path, data in (("/public/status", None), ("/public/status", {"code": "NN-2026-XXX-1", "key": "A"}),
                           ("/public/results", None), ("/public/help", None)):
            pages = [app.test_client().open(path, method="POST" if data else "GET", data=data, headers=headers)
                     for app in (fresh, stock)]
            assert [p.status_code for p in pages][0] == pages[1].status_code
            assert pages[0].get_data(as_text=True) == pages[1].get_data(as_text=True), (path, headers)


def test_the_status_forms_links_follow_the_script_root(client):
    """The status form's action and its help link are kept links (``layout_url``), the style sheet and the
    script are in the kept layout fragments: an app mounted under a prefix and the same app at the root each
    get their own. Broken variants: a link or a fragment kept without its root."""
    for _round in range(2):
        at_root = client.get("/public/status").get_data(as_text=True)
        prefixed = client.post("/public/status", data={"code": "NN", "key": ""},  # no key: the form again, 400
                               environ_overrides={"SCRIPT_NAME": "/nghenhan"}).get_data(as_text=True)
        assert 'action="/public/status"' in at_root and 'href="/public/help"' in at_root
        assert 'action="/nghenhan/public/status"' in prefixed and 'href="/nghenhan/public/help"' in prefixed
        # the kept header now begins at the style sheet, the kept footer ends with the script
        assert 'href="/static/app.css' in at_root and 'src="/static/app.js' in at_root
        assert 'href="/nghenhan/static/app.css' in prefixed and 'src="/nghenhan/static/app.js' in prefixed


def test_form_and_query_values_are_checked_for_nul_and_composed_in_one_pass(fresh):
    """``refuse_nul_characters``: a NUL anywhere (a name or a value, the query or the form, first field or
    last) is refused with the Vietnamese message; a decomposed (NFD) name or value anywhere makes the whole
    source composed; a source already composed is served as it came. Broken variants: the check or the
    composition stopped at the first field, or skipped for one source."""
    import unicodedata

    from werkzeug.datastructures import MultiDict

    @fresh.route("/api/echo", methods=["POST"])
    def echo():
        from flask import jsonify, request

        return jsonify(args=list(request.args.items(multi=True)), form=list(request.form.items(multi=True)))

    client = fresh.test_client()
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")
    nfc = "Nguyễn Văn Ánh"
    assert nfd != nfc
    answer = client.post("/api/echo", query_string=MultiDict([("a", "x"), ("b", nfd)]),
                         data=MultiDict([("c", "y"), (nfd, "z"), ("d", nfd)]))
    assert answer.status_code == 200
    assert answer.get_json() == {"args": [["a", "x"], ["b", nfc]], "form": [["c", "y"], [nfc, "z"], ["d", nfc]]}
    only_a_name = client.post("/api/echo", data=MultiDict([("c", "y"), (nfd, "z")])).get_json()
    assert only_a_name["form"] == [["c", "y"], [nfc, "z"]]
    plain = client.post("/api/echo", query_string={"q": nfc}, data={"code": "NN-2026-HNI-1", "key": nfc}).get_json()
    assert plain == {"args": [["q", nfc]], "form": [["code", "NN-2026-HNI-1"], ["key", nfc]]}
    for query, form in (([("a", "x"), ("b", "y\x00")], None), (None, [("c", "y"), ("d", "\x00")]),
                        (None, [("c", "y"), ("d\x00", "z")]), ([("a", nfd)], [("c", "y"), ("d", "z\x00")])):
        refused = client.post("/api/echo", query_string=MultiDict(query or []), data=MultiDict(form or []))
        assert refused.status_code == 422, (query, form)
        assert "Có ký tự không hợp lệ" in str(refused.get_json()["error"]["fields"]), refused.get_json()
    # A page flashes the refusal and goes back (as before); the lookup is not made.
    status = client.post("/public/status", data={"code": "NN-2026", "key": "AB\x00"}, follow_redirects=True)
    assert status.status_code == 200 and "Có ký tự không hợp lệ" in status.get_data(as_text=True)
