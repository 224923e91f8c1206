"""Every HTML form, posted with hostile values: never a server error, and nothing stored wrongly.

The forms are not listed by hand: each page in ``PAGES`` is fetched as the person who uses it,
every ``<form>`` on it is read (fields, hidden values, selected options), and it is sent back
with hostile values -- very long strings, control characters, decomposed (NFD) Vietnamese, HTML
and script, SQL fragments, impossible dates, negative and huge counts -- first in every text
field at once, then in one field at a time with the others left valid.  Each answer must be a
redirect, a page, or a clear 4xx -- never a 5xx -- and the raw script must never come back
unescaped.  A page that re-renders a refused form carries a Vietnamese message.

Then targeted tests check what was stored: NFD text is stored composed (NFC), script is
stored as the text it is and shown escaped.
"""

from __future__ import annotations

import unicodedata

import lxml.html
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, PublicComment, Round, TransitionLog, User
from tests.confirming import is_question, post_confirmed
from tests.factories import Factory
from tests.test_route_matrix import world  # noqa: F401  (the same objects, built once for this module)

SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Hồng")
HOSTILE = {
    "long": "Ạ" * 60_000,
    "control": "Lê\x01\x07\x08\x1b[31m\u202eVăn\u200b\r\n\t\x7fTâm",
    "nfd": NFD_NAME,
    "script": SCRIPT,
    "sql": "'; DROP TABLE users; -- \" OR 1=1 /*",
    "bad_date": "2024-02-30",
    "other_date": "31/12/99999",
    "negative": "-5",
    "huge": "99999999999999999999999",
    "float": "1e309",
}
MIXED = NFD_NAME + SCRIPT + "'; DROP TABLE nominations; --\x07" + "Ạ" * 3000

# Pages whose forms are fuzzed, and who opens them.  ({...} are the world's ids.)
PAGES = [
    ("anon", "/register"), ("anon", "/login"), ("anon", "/forgot"), ("anon", "/confirm"),
    ("anon", "/public/status"), ("anon", "/public/consultations/{consult}"), ("anon", "/public/certificates"),
    ("owner", "/my/new"), ("owner", "/my/{draft}/nominee"), ("owner", "/my/{draft}/craft"),
    ("owner", "/my/{draft}/achievements"), ("owner", "/account/password"), ("owner", "/nominations/{sub}"),
    ("po", "/nominations/{sub}"), ("po", "/province/inbox"), ("po", "/council/councils/{council}"),
    ("po", "/admin/councils/new"), ("po", "/admin/accounts/invite"), ("po", "/province/batch"),
    ("po", "/council/sessions/{session}/edit"),
    ("mo", "/ministry/nominations"), ("mo", "/ministry/comments"), ("mo", "/admin/rounds/new"),
    ("admin", "/admin/accounts"), ("admin", "/admin/accounts/{member}"), ("admin", "/admin/rounds/{round}"),
    ("admin", "/admin/rules"), ("admin", "/admin/audit"),
]
# Fields a page no longer shows this person but a tampered request can still carry: sent as hostile values
# too.  The owner's dossier page has no staff note since the applicant merge (only the "Rút hồ sơ" button).
UNSHOWN = {("owner", "/nominations/{sub}"): ("comment",)}
# Forms left alone: they end the session, switch the language, or take files (tests/test_uploads*).
SKIP_ACTIONS = ("/logout", "/lang/", "/delete")
# Valid values for fields a form cannot do without, so that one hostile field gets past the others.
GOOD = {
    "full_name": "Trần Văn Bình", "email": "binh.tran@example.vn", "password": "Gốm-men-lam-1985",
    "confirm": "Gốm-men-lam-1985", "current": Factory.PASSWORD, "birth_date": "1960-05-01",
    "content": "Ý kiến đóng góp.", "reason": "Có căn cứ.", "comment": "Ghi chú.", "held_on": "2030-01-02",
    "name": "Đợt thử", "number": "77", "intake_opens": "2030-01-01", "intake_closes": "2030-03-01",
    "decision_no": "12/QĐ",
}
ALLOWED = {200, 302, 400, 403, 404, 409, 410, 413, 422, 429}
ERROR_MARKERS = ('class="error"', "flash-error", 'class="error-page"', "has-error", 'role="alert"', "<h1>Lỗi ")


def _client(world, principal):  # noqa: F811
    return world.app.test_client() if principal == "anon" else world.page[principal]


def _forms(html: str, page_url: str):
    """(method, action, fields, text fields, choice and hidden fields) for every form on the page."""
    doc = lxml.html.fromstring(html)
    for form in doc.forms:
        action = form.get("action") or page_url
        method = (form.get("method") or "get").upper()
        if any(s in action for s in SKIP_ACTIONS) or form.get("enctype") == "multipart/form-data":
            continue
        fields, text, other = [], [], []
        for el in form.inputs:
            name = el.get("name")
            if not name or el.get("disabled") is not None:
                continue
            kind = (el.get("type") or "text").lower() if el.tag == "input" else el.tag
            if kind in ("submit", "button", "file", "image", "reset"):
                continue
            if name != "csrf_token" and name not in other and kind in ("checkbox", "radio", "select", "hidden"):
                other.append(name)  # values the page did not offer: tampered with
            if kind in ("checkbox", "radio"):
                if el.checked:
                    fields.append((name, el.get("value") or "on"))
                continue
            if el.tag == "select":
                options = el.xpath("option")
                picked = [o for o in options if o.get("selected") is not None] or options[:1]
                fields.append((name, picked[0].get("value", picked[0].text or "") if picked else ""))
                continue
            value = el.text or "" if el.tag == "textarea" else el.get("value") or ""
            fields.append((name, GOOD.get(name.rsplit("-", 1)[-1], value) if not value else value))
            if kind not in ("hidden",) and name != "csrf_token":
                text.append(name)
        targets = [action] if form.get("action") else (
            [b.get("formaction") for b in form.xpath(".//button[@formaction]")] or [action])
        for target in targets:
            yield method, target, fields, text, other


def _send(client, method, action, fields):
    fields = MultiDict(fields)
    if method == "GET":
        return client.get(action, query_string=fields)
    response = client.post(action, data=fields)
    if response.status_code in (301, 302, 303, 307, 308):
        _read_the_flashes(client)
    return response


def _read_the_flashes(client) -> None:
    """What a browser's visit to the redirect's target does to the session: the flashed messages are shown, so gone.

    The test client does not follow the redirect, so before, every refused or accepted post's message stayed in
    the signed session cookie: ``admin /admin/rules`` (526 posts, nearly all redirects) ended with hundreds of
    messages in it, and each later request decoded, re-signed and re-compressed all of them (a quarter of
    that test's CPU), and the next test of the same logged-in client was shown them.
    """
    with client.session_transaction() as session:
        session.pop("_flashes", None)


def _check(response, what):
    status = response.status_code
    body = response.get_data(as_text=True) if response.mimetype.startswith("text/") else ""
    assert status < 500, f"{what}: {status}\n{body[:800]}"
    assert status in ALLOWED, f"{what}: {status}"
    assert "<script>alert(" not in body, f"{what}: the script came back unescaped"
    if status >= 400 and body:
        assert 'lang="vi"' in body and any(m in body for m in ERROR_MARKERS), f"{what}: {status} without a message"
    return body


def _pages():
    return [pytest.param(p, url, id=f"{p} {url}") for p, url in PAGES]


@pytest.mark.parametrize("principal,url", _pages())
def test_hostile_values_in_every_form(world, principal, url):  # noqa: F811
    client = _client(world, principal)
    page_url = url.format(**world.ids)
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    forms = list(_forms(page.get_data(as_text=True), page_url))
    assert forms, f"no form on {page_url}"
    sent = 0
    for method, action, fields, text, other in forms:
        unshown = [n for n in UNSHOWN.get((principal, url), ()) if n not in {f for f, _v in fields}]
        other = other + unshown
        for name in other:  # a choice the page did not offer, a tampered hidden value
            for value in (MIXED, HOSTILE["negative"], HOSTILE["huge"]):
                hostile = [(n, v) for n, v in fields if n != name] + [(name, value)]
                _check(_send(client, method, action, hostile), f"{method} {action} {name}={value[:20]!r}")
                sent += 1
        if not text:
            continue
        for label, value in HOSTILE.items():  # every text field at once
            hostile = [(n, value if n in text else v) for n, v in fields]
            response = _send(client, method, action, hostile)
            body = _check(response, f"{method} {action} all fields={label}")
            if (method == "POST" and response.status_code == 200 and label in ("long", "bad_date")
                    and not is_question(response)):  # a confirmation page is not a form shown again
                assert any(m in body for m in ERROR_MARKERS), f"{action} {label}: re-rendered without a message"
            sent += 1
        for name in text:  # one field at a time
            hostile = [(n, MIXED if n == name else v) for n, v in fields]
            _check(_send(client, method, action, hostile), f"{method} {action} {name}=mixed")
            sent += 1
    assert sent, f"no field to fill in the forms of {page_url}"


# -- what is stored ---------------------------------------------------------------------------------

def test_nominee_name_stored_composed_and_shown_escaped(world):  # noqa: F811
    client = world.page["owner"]
    page = client.get("/my/new").get_data(as_text=True)
    method, action, fields, *_ = next(f for f in _forms(page, "/my/new") if f[0] == "POST")
    data = dict(fields) | {"full_name": NFD_NAME + SCRIPT[:30], "pen_name": NFD_NAME, "birth_date": "1960-05-01",
                           "province_code": "HNI"}  # the province list starts empty: the applicant chooses
    r = client.post(action, data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with world.app.app_context():
        row = db.session.scalars(sa.select(Nomination).order_by(Nomination.id.desc())).first()
        assert row.full_name == unicodedata.normalize("NFC", NFD_NAME + SCRIPT[:30]).strip()
        assert row.pen_name == "Nguyễn Thị Ánh Hồng" and unicodedata.is_normalized("NFC", row.full_name)
        nid = row.id
    html = client.get(f"/my/{nid}/review").get_data(as_text=True)
    assert "Nguyễn Thị Ánh Hồng&lt;script&gt;" in html and "Hồng<script>" not in html


def test_registration_stores_the_name_composed(world):  # noqa: F811
    client = world.app.test_client()
    r = client.post("/register", data={"full_name": NFD_NAME, "email": "nfd.name@example.vn",
                                       "password": "Gốm-men-lam-1985", "confirm": "Gốm-men-lam-1985"})
    assert r.status_code == 302
    with world.app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "nfd.name@example.vn"))
        assert user.full_name == "Nguyễn Thị Ánh Hồng"


def test_officer_comment_stored_as_text_and_escaped(world):  # noqa: F811
    with world.app.app_context():
        owner = db.session.get(User, world.users["owner"][0])
        officer = db.session.get(User, world.users["po"][0])
        fresh = Factory().nomination("submitted", owner=owner, officer=officer)
        nid = fresh.id
    comment = NFD_NAME + " " + SCRIPT
    r = post_confirmed(world.page["po"], f"/nominations/{nid}/actions/return", data={"comment": comment})
    assert r.status_code == 302
    with world.app.app_context():
        log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nid)
                                 .order_by(TransitionLog.id.desc())).first()
        assert log.comment == unicodedata.normalize("NFC", comment)
    html = world.page["po"].get(f"/nominations/{nid}").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    assert "Nguyễn Thị Ánh Hồng" in html


def test_public_comment_stored_as_text_and_escaped_for_the_ministry(world):  # noqa: F811
    content = NFD_NAME + " phản ánh: " + SCRIPT
    r = world.app.test_client().post(f"/public/consultations/{world.ids['consult']}",
                                     data={"full_name": NFD_NAME, "content": content, "kind": "comment"})
    assert r.status_code == 302
    with world.app.app_context():
        row = db.session.scalars(sa.select(PublicComment).order_by(PublicComment.id.desc())).first()
        assert row.content == unicodedata.normalize("NFC", content) and row.full_name == "Nguyễn Thị Ánh Hồng"
    html = world.page["mo"].get("/ministry/comments").get_data(as_text=True)
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html


def test_round_name_stored_composed(world):  # noqa: F811
    client = world.page["admin"]
    page = client.get("/admin/rounds/new").get_data(as_text=True)
    method, action, fields, *_ = next(f for f in _forms(page, "/admin/rounds/new") if f[0] == "POST")
    data = dict(fields) | {"number": "88", "name": NFD_NAME + SCRIPT[:20], "intake_opens": "2031-01-01",
                           "intake_closes": "2031-02-01"}
    r = client.post(action, data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    with world.app.app_context():
        row = db.session.scalar(sa.select(Round).where(Round.number == 88))
        assert row.name == unicodedata.normalize("NFC", NFD_NAME + SCRIPT[:20])
    assert "<script>" not in client.get("/admin/rounds").get_data(as_text=True).split("</head>")[1]


def test_search_with_decomposed_text_finds_the_composed_name(world):  # noqa: F811
    """A filter typed in NFD matches names stored in NFC."""
    html = world.page["po"].get("/province/inbox", query_string={"q": unicodedata.normalize(
        "NFD", "Nguyễn Văn Ánh")}).get_data(as_text=True)
    assert "Nguyễn Văn Ánh" in html


def test_council_forms_take_hostile_values(world):  # noqa: F811
    """The session-planning, attendance, conflict and ballot forms (raw fields, no WTForms)."""
    from artisan_awards.models import ConflictDeclaration

    ids = world.ids
    posts = [
        ("po", f"/council/councils/{ids['council']}", {"held_on": HOSTILE["bad_date"], "place": MIXED,
                                                        "nomination_ids": ["-1", HOSTILE["huge"], "x"]}),
        ("po", f"/council/councils/{ids['council']}", {"held_on": "2030-01-02", "place": HOSTILE["long"],
                                                        "nomination_ids": [str(ids["acc"])]}),
        ("po", f"/council/sessions/{ids['session']}/open", {}),  # all seven members are present
        ("pcm", f"/council/sessions/{ids['session']}/conflict/{ids['acc']}", {"reason": HOSTILE["long"]}),
        ("pcm", f"/council/sessions/{ids['session']}/conflict/{ids['acc']}", {"reason": NFD_NAME + SCRIPT}),
        ("pcm", f"/council/sessions/{ids['session']}/ballot", {f"vote-{ids['acc']}": MIXED}),
        ("po", f"/council/sessions/{ids['session']}/attendance", {"present": [HOSTILE["sql"], "-5", MIXED]}),
    ]
    for principal, url, data in posts:  # a question (open the vote, a ballot with blanks) is answered
        _check(post_confirmed(world.page[principal], url, data=data), f"{principal} POST {url}")
    with world.app.app_context():
        reasons = db.session.scalars(sa.select(ConflictDeclaration.reason)).all()
    assert reasons == [unicodedata.normalize("NFC", NFD_NAME + SCRIPT)], "the over-long reason is refused, not cut"
