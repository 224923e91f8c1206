"""Switching the language switches every page.

Each role logs in (and the public, logged out), picks English with the header's switch and
visits every page the URL map offers that answers 200 for that person, with the ids of the demo
world's objects filled in.  What a person reads (text, titles, labels, placeholders) must hold
no Vietnamese letter once the data stored in the database (names, crafts, provinces ...) is taken
out.  Switching back, the Vietnamese pages must hold no English sentence from the catalogue.
"""

from __future__ import annotations

import functools
import itertools
import re
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po
from flask import g

from artisan_awards.i18n import vn_date
from tests import demo_world

VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ]"
)
ISO_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b")
# The same without the word boundaries: taking data out of a text only puts spaces where it was, so a text
# this does not match cannot hold an ISO date once its data is out (and one without Vietnamese letters cannot
# hold any then): the crawl strips the data only out of texts that could still fail.
ISO_DATE_ANYWHERE = re.compile(r"\d{4}-\d\d-\d\d")
# Official document numbers keep their Vietnamese letters in English text (Decree 43/2024/NĐ-CP).
DOCUMENT_NUMBER = re.compile(r"\S*/(NĐ-CP|QĐ-[A-Z]+)")
# Not pages a person reads: machine formats, files, and links that consume a token.
SKIP_ENDPOINTS = {"static", "documents.task_json", "documents.task_download", "dossier.attachment",
                  "programmes.evidence_file",  # downloads
                  "auth.set_language"}  # the switch itself (a redirect), used below
CATALOGUE = Path(__file__).resolve().parent.parent / "artisan_awards" / "translations"


class Readable:
    """The text a reader meets, without scripts, styles, comments and parts marked in another language.

    Read from lxml's tree of the page (libxml2 parses it, in C): the texts come in document order, an
    element's labels (``aria-label``, ``title``, ``placeholder``, ``alt``, a submit button's value) before
    its text; an element in ``<script>``/``<style>`` or under a ``lang`` other than the page's locale is
    skipped with everything inside it, and its tail (the text after it) belongs to its parent."""

    LABELS = ("aria-label", "title", "placeholder", "alt")

    def __init__(self, html: str, locale: str):
        self.locale = locale
        self.texts: list[str] = []
        root = lxml.html.document_fromstring(html) if html.strip() else None
        self.html_lang = root.get("lang") if root is not None and root.tag == "html" else None
        if root is not None:
            self._element(root, False)

    def _element(self, element, skipping: bool) -> None:
        add = self.texts.append
        attrs = element.attrib
        skip = skipping or element.tag in ("script", "style") or attrs.get("lang") not in (None, self.locale)
        if not skip:
            for name in self.LABELS:
                if attrs.get(name):
                    add(attrs[name])
            if element.tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
                add(attrs["value"])
            if element.text and element.text.strip():
                add(element.text.strip())
        for child in element:
            if isinstance(child.tag, str):
                self._element(child, skip)
            if child.tail and not skip and child.tail.strip():
                add(child.tail.strip())


def readable(html: str, locale: str) -> Readable:
    return Readable(html, locale)


def page_urls(app, world: demo_world.World) -> list[str]:
    values = world.url_values()
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS or rule.rule.startswith("/api/"):
            continue
        if rule.rule.endswith((".pdf", ".json", ".<fmt>")):  # files: exports are checked in test_exports
            continue
        args = sorted(rule.arguments)
        if "token" in args:
            urls.append(rule.rule.replace("<token>", "not-a-valid-token"))
            continue
        for combo in itertools.product(*(values[a] for a in args)):
            with app.test_request_context():
                from flask import url_for

                urls.append(url_for(rule.endpoint, **dict(zip(args, combo, strict=True))))
    return sorted(set(urls))


@pytest.fixture
def world(app):
    app.config["TODAY"] = None
    return demo_world.build()


def _strip_data(text: str, data: list[str]) -> str:
    text = DOCUMENT_NUMBER.sub(" ", text)
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    if text.endswith("…"):  # a stored value cut short to fit a chart label
        head = text[:-1].strip()
        if head and any(value.startswith(head) for value in data):
            return " "
    return text


def _get(client, url):
    # The test's app context outlives the requests: forget the user Flask-Login cached in ``g``.
    g.pop("_login_user", None)
    return client.get(url)


def _login(client, role):
    g.pop("_login_user", None)
    if role == "public":
        return
    r = client.post("/login", data={"email": demo_world.ROLE_ACCOUNTS[role], "password": demo_world.PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]


ROLES = ["public", *demo_world.ROLE_ACCOUNTS]


def _english_sentences() -> set[str]:
    catalogue = read_po((CATALOGUE / "en" / "LC_MESSAGES" / "messages.po").open("rb"))
    return {m.string for m in catalogue if m.id and isinstance(m.string, str) and m.string != m.id
            and " " in m.string and len(m.string) >= 12 and "%" not in m.string}


def test_every_page_switches_language_for_every_role(app, world):
    """English shows no Vietnamese UI text; Vietnamese (the default) shows no English sentence.

    Dates on every page are written dd/mm/yyyy."""
    data = sorted(demo_world.data_strings(), key=len, reverse=True)
    data = sorted({*data, *(d.upper() for d in data), *(d.lower() for d in data)}, key=len, reverse=True)
    english = _english_sentences()

    @functools.cache
    def strip(text: str) -> str:  # the same names and labels recur on many pages and for many roles
        return _strip_data(text, data)

    urls = page_urls(app, world)
    leftovers: dict[str, set[str]] = {}
    english_in_vi: dict[str, set[str]] = {}
    iso_dates: dict[str, set[str]] = {}
    visited = {}
    for role in ROLES:
        client = app.test_client()
        _login(client, role)
        # Vietnamese is the default ...
        vi_pages = {}
        for url in urls:
            r = _get(client, url)
            assert r.status_code < 500, (role, url, r.status_code)
            if r.status_code != 200 or not r.mimetype == "text/html":
                continue
            parsed = readable(r.get_data(as_text=True), "vi")
            assert parsed.html_lang == "vi", (role, url)
            vi_pages[url] = parsed
            for text in parsed.texts:
                if ISO_DATE_ANYWHERE.search(text) and ISO_DATE.search(strip(text)):
                    iso_dates.setdefault(text, set()).add(url)
            for text in parsed.texts:
                if text in english:
                    english_in_vi.setdefault(text, set()).add(url)
        # ... and the header's switch turns every page to English.  (The crawl does not follow the redirects
        # to the login page: the notice each one flashed, in Vietnamese, is dropped rather than shown on the
        # first English page.)
        with client.session_transaction() as session:
            session.pop("_flashes", None)
        g.pop("_login_user", None)
        r = client.post("/lang/en", data={"next": "/"})
        assert r.status_code == 302
        for url in vi_pages:
            r = _get(client, url)
            assert r.status_code == 200, (role, url, r.status_code)
            parsed = readable(r.get_data(as_text=True), "en")
            assert parsed.html_lang == "en", (role, url)
            for text in parsed.texts:
                if VIETNAMESE.search(text) and VIETNAMESE.search(strip(text)):
                    leftovers.setdefault(text, set()).add(url)
        client.post("/lang/vi", data={"next": "/"})
        visited[role] = len(vi_pages)
    report = "\n".join(f"{text!r}  on {sorted(where)[:3]}" for text, where in sorted(leftovers.items()))
    assert not leftovers, f"Vietnamese left on English pages:\n{report}"
    report = "\n".join(f"{text!r}  on {sorted(where)[:3]}" for text, where in sorted(english_in_vi.items()))
    assert not english_in_vi, f"English on Vietnamese pages:\n{report}"
    report = "\n".join(f"{text!r}  on {sorted(where)[:3]}" for text, where in sorted(iso_dates.items()))
    assert not iso_dates, f"Dates not written dd/mm/yyyy:\n{report}"
    # The crawl really went round: every staff role reaches well beyond the public pages.
    assert visited["public"] >= 6
    for role in demo_world.ROLE_ACCOUNTS:
        assert visited[role] > visited["public"], (role, visited)


def test_the_checker_sees_untranslated_text():
    """The crawl's reader finds Vietnamese in text and labels, and ignores scripts and lang="vi" parts."""
    html = ('<html lang="en"><head><title>Dossiers</title><script>var a = "Hồ sơ";</script></head>'
            '<body><button lang="vi">Tiếng Việt</button><input placeholder="Tìm kiếm"><p>Sign in</p>'
            '<img src="x" alt="Ảnh"><br><p>Nguyễn Văn Ánh</p></body></html>')
    parsed = readable(html, "en")
    assert parsed.html_lang == "en"
    assert parsed.texts == ["Dossiers", "Tìm kiếm", "Sign in", "Ảnh", "Nguyễn Văn Ánh"]
    flagged = [t for t in parsed.texts if VIETNAMESE.search(_strip_data(t, ["Nguyễn Văn Ánh"]))]
    assert flagged == ["Tìm kiếm", "Ảnh"]


def test_dates_are_day_month_year_in_both_languages(client, make, app):
    from datetime import UTC, date, datetime

    assert vn_date(date(2026, 3, 7)) == "07/03/2026"
    # 23:30 UTC is already the next morning in Hà Nội.
    assert vn_date(datetime(2026, 3, 7, 23, 30, tzinfo=UTC)) == "08/03/2026 06:30"
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    client.post("/login", data={"email": owner.email, "password": make.PASSWORD})
    shown = vn_date(nomination.created_at)[:10]
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", shown)
    for lang in ("vi", "en"):
        client.post(f"/lang/{lang}", data={"next": "/"})
        html = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
        assert shown in html, lang
        assert not re.search(r"\b\d{4}-\d\d-\d\d\b", readable_text(html, lang)), lang


def readable_text(html: str, locale: str) -> str:
    return " ".join(readable(html, locale).texts)


@pytest.mark.parametrize("method,url,data", [
    ("get", "/no-such-page", None),                       # 404 page
    ("get", "/nominations/99999999", None),
    ("post", "/login", {"email": "", "password": ""}),    # form errors
    ("post", "/login", {"email": "khong-co@example.vn", "password": "sai-mat-khau-123"}),
    ("post", "/public/status", {"code": "NN-2026-HNI-99999", "key": "ABCD-EFGH"}),
    ("post", "/register", {"full_name": "", "email": "x", "password": "1", "confirm": "2"}),
    ("post", "/forgot", {"email": ""}),
])
def test_errors_and_form_messages_follow_the_language(client, method, url, data):
    """What the application answers to a mistake is in the reader's language too."""
    responses = {}
    for lang in ("vi", "en"):
        client.post(f"/lang/{lang}", data={"next": "/"})
        g.pop("_login_user", None)
        r = getattr(client, method)(url, data=data, follow_redirects=True)
        assert r.status_code < 500
        responses[lang] = readable(r.get_data(as_text=True), lang)
        assert responses[lang].html_lang == lang
    english = [t for t in responses["en"].texts if VIETNAMESE.search(_strip_data(t, []))]
    assert not english, english
    assert any(VIETNAMESE.search(t) for t in responses["vi"].texts)
