"""Accessibility and phones, checked in a real browser (Debian's Chromium through Playwright).

* axe-core (vendored in ``tests/vendor/axe-core``, version in ``AXE_VERSION``) runs on the main
  pages of every role, at desktop width and at 360 px, in Vietnamese and in English: no violation
  of impact "serious" or "critical" is allowed (they are printed when found); with
  ``AXE_IMPACTS=minor,moderate,serious,critical`` every impact counts (the pages pass that too);
* the keyboard alone reaches every control of the applicant's form and of the ballot, and the
  focused control shows a visible outline;
* at 360 px no main page scrolls sideways.

The browser context bypasses the application's Content-Security-Policy only so that the test can
inject axe's script; the pages themselves are served exactly as in production.
"""

from __future__ import annotations

import json
import os

import pytest
from playwright.sync_api import Page

from tests import demo_world
from tests.plugins.browser import AXE, new_context
from tests.test_browser import DESKTOP, PHONE

pytestmark = pytest.mark.browser

AXE_DIR = AXE.parent
AXE_VERSION = "4.11.0"
BLOCKING = tuple(os.environ.get("AXE_IMPACTS", "serious,critical").split(","))


def main_pages(world: demo_world.World) -> dict[str, list[str]]:
    """The main pages of each person, by the role that sees them."""
    n = world.nominations
    draft = n["draft-HNI"]
    return {
        "public": ["/", "/public/status", "/public/results", "/public/consultations", "/open-data", "/login",
                   "/register", "/public/procedure", "/public/help"],
        "applicant": ["/my/", "/my/new", f"/my/{draft}/nominee", f"/my/{draft}/craft",
                      f"/my/{draft}/achievements", f"/my/{draft}/evidence", f"/my/{draft}/review",
                      f"/my/{n['submitted-HNI']}/receipt", f"/nominations/{n['returned']}",
                      f"/my/{n['returned']}/nominee", "/notifications"],
        "province_officer": ["/province/inbox", f"/nominations/{n['submitted-HNI']}",
                             f"/council/councils/{world.council_id}", f"/council/sessions/{world.open_session_id}",
                             f"/council/sessions/{world.closed_session_id}"],
        "province_council_member": [f"/council/sessions/{world.open_session_id}/ballot", "/council/agenda"],
        "ministry_officer": ["/ministry/dashboard", "/ministry/nominations", "/ministry/comments"],
        "government_officer": ["/ministry/nominations", f"/nominations/{n['submitted_to_president']}/decision",
                               f"/nominations/{n['awarded']}"],
        "admin": ["/admin/", "/admin/accounts", "/admin/accounts/invite", "/admin/audit", "/admin/rules",
                  "/admin/base-salaries", "/admin/integration/", "/admin/integration/new",
                  "/admin/integration/deliveries"],
        "data_officer": ["/data-officer/"],
    }


def axe_violations(page: Page) -> list[dict]:
    """axe's serious and critical violations on the page as it is now.

    axe-core is loaded once per context by contexts made with ``new_context(..., axe=True)`` (an init
    script); in any other page it is added here."""
    if not page.evaluate("() => !!(window.axe && typeof window.axe.run === 'function')"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [node["target"] for node in v["nodes"]][:5],
         "summary": v["nodes"][0].get("failureSummary", "")[:300]}
        for v in result["violations"] if v["impact"] in BLOCKING
    ]



def test_vendored_axe_is_the_pinned_version():
    head = AXE.read_text(encoding="utf-8")[:400]
    assert f"axe v{AXE_VERSION}" in head
    assert (AXE_DIR / "LICENSE").exists()


LANGUAGES = ("vi", "en")
VIEWPORTS = (DESKTOP, PHONE)
LOOKUP = "lookup answer"  # the public timeline of a dossier that went far, reached by the status form
# What is wider than the phone, for the message of a page that scrolls sideways.
OFFENDERS = """(limit) => [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > limit + 1)
    .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def page_language(page: Page) -> str | None:
    return None if page.url == "about:blank" else page.evaluate("document.documentElement.lang")


def switch_language(page: Page, lang: str) -> None:
    """The header's language control (a link for the anonymous, a form for a person logged in), as a person uses it."""
    page.goto("/")
    if page_language(page) != lang:
        page.locator(f"header .account :is(a, button)[lang={lang}]").click()
        page.wait_for_load_state()
    assert page_language(page) == lang


@pytest.fixture(scope="module")
def role_pages(module_chromium, module_site) -> dict:
    """One context and page per role, logged in once through the login form, for the whole module.

    The tests here only read the world (``module_site``: a copy of the demo world of this module's own):
    each of them goes to the pages it checks. Each role logs in here once, through the log-in form as a
    person does (``tests.plugins.browser.log_in`` checks that the header then names the person); the form
    is reached from the header in tests/test_browser.py and used by every flow module.
    The contexts are served as in production: axe-core comes as an init script, which the
    Content-Security-Policy does not govern (no bypass)."""
    url, world = module_site
    pages = {}
    for role in main_pages(world):
        context = new_context(module_chromium, url, axe=True, bypass_csp=False, timeout=15_000, viewport=DESKTOP)
        page = context.new_page()
        demo_world.log_in(page, role)
        pages[role] = page
    return pages


@pytest.fixture
def role_page(role_pages, chromium):
    """``role_page(role)``: the module's page of ``role``, in Vietnamese at desktop width, as a new log-in leaves it."""
    def get(role: str) -> Page:
        page = role_pages[role]
        page.set_viewport_size(DESKTOP)
        if page_language(page) != "vi":
            switch_language(page, "vi")
        return page
    return get


@pytest.fixture(scope="module")
def page_views(role_pages, module_site) -> dict:
    """Every main page of every role, in both languages, at desktop width and at 360 px, visited once:
    its answer, axe's serious and critical violations, and (at 360 px) how wide it scrolls. The tests below
    read these: one page load and one audit per page state, where two tests each loaded every page."""
    url, world = module_site
    views: dict[tuple, dict] = {}
    for role, paths in main_pages(world).items():
        page = role_pages[role]
        for lang in LANGUAGES:
            if page_language(page) != lang:
                switch_language(page, lang)
            for viewport in VIEWPORTS:
                page.set_viewport_size(viewport)
                for path in [*paths, *([LOOKUP] if role == "public" else [])]:
                    if path == LOOKUP:
                        page.goto("/public/status")
                        page.locator("#code").fill(world.path_code)
                        # The key as a person might type it: lower case, spaces for dashes (in one language, and
                        # as printed in the other).
                        key = world.path_key.lower().replace("-", " ") if lang == "vi" else world.path_key
                        page.locator("#key").fill(key)
                        page.locator("main form button[type=submit]").click()
                        page.wait_for_load_state()
                        assert world.path_code in page.locator("main").inner_text()
                        assert page.locator("[data-testid=public-timeline] li").count() >= 8
                        status = 200
                    else:
                        status = page.goto(path).status
                    view = {"status": status, "lang": page.evaluate("document.documentElement.lang")}
                    if viewport is PHONE:
                        view["width"] = page.evaluate("document.scrollingElement.scrollWidth")
                        if view["width"] > PHONE["width"]:
                            view["offenders"] = page.evaluate(OFFENDERS, PHONE["width"])
                    view["violations"] = axe_violations(page) if status == 200 else None
                    views[(role, lang, viewport["width"], path)] = view
    return views


def test_axe_finds_no_serious_violation_on_the_main_pages(page_views):
    """Every main page, desktop and 360 px, Vietnamese and English: no serious/critical violation."""
    found: dict[str, list[dict]] = {}
    for (role, lang, width, path), view in page_views.items():
        assert view["status"] == 200, (role, lang, width, path, view["status"])
        assert view["lang"] == lang, (role, lang, width, path)
        if view["violations"]:
            found[f"{role} {lang} {width}px {path}"] = view["violations"]
    if found:
        print(json.dumps(found, indent=1, ensure_ascii=False))
    assert not found, f"axe: serious or critical violations on {len(found)} page views: {sorted(found)}"
    assert len(page_views) >= 4 * 25


def test_every_main_page_state_was_visited(page_views, module_site):
    """The views the two tests above read are every main page of every role (and the lookup's answer), in both
    languages, at both widths: none left out."""
    _, world = module_site
    expected = {(role, lang, viewport["width"], path)
                for role, paths in main_pages(world).items()
                for path in [*paths, *([LOOKUP] if role == "public" else [])]
                for lang in LANGUAGES for viewport in VIEWPORTS}
    assert set(page_views) == expected
    assert all(view["violations"] is not None for view in page_views.values())


def test_axe_catches_a_real_violation(chromium, module_site):
    """The check can fail: an image without text and an unlabeled field are reported."""
    url, _ = module_site
    browser = chromium
    page = browser.new_page(base_url=url, bypass_csp=True)
    page.goto("/public/status")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('beforeend', '<img src="/static/none.png"><input type="text">');
    }""")
    ids = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= ids


def test_no_main_page_scrolls_sideways_at_360px(page_views):
    """Every main page of every role (and the lookup's answer) at 360 px, in Vietnamese and in English."""
    wide: dict[str, int] = {}
    phone = {key: view for key, view in page_views.items() if key[2] == PHONE["width"]}
    for (role, lang, _, path), view in phone.items():
        if view["width"] > PHONE["width"]:
            print(role, lang, path, view["width"], view.get("offenders"))
            wide[f"{role} {lang} {path}"] = view["width"]
    assert not wide, f"pages wider than 360 px: {wide}"
    assert len(phone) >= 2 * 44


# The focus must be visible: an outline (or box-shadow) on the focused element.
FOCUS_STYLE = """() => {
    const e = document.activeElement;
    const s = getComputedStyle(e);
    return {tag: e.tagName, key: e.dataset.kbd || null, href: e.getAttribute('href'),
            what: e.tagName + ' ' + (e.id || e.getAttribute('name') || e.getAttribute('href') || '') + ' '
                  + (e.innerText || '').trim().slice(0, 30),
            outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
            shadow: s.boxShadow !== 'none'};
}"""
# Radio buttons of one group are one stop of the Tab key (the arrow keys move within the group).
# Number every visible control of the page (main content and header) in document order.
CONTROLS = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]
    .filter(e => e.type !== 'hidden' && !e.disabled && (e.offsetParent !== null || e.classList.contains('skip')))
    .map((e, i) => { e.dataset.kbd = e.type === 'radio' ? 'radio:' + e.name : String(i);
                     return {key: e.dataset.kbd, what: e.tagName + ' ' + (e.id || e.getAttribute('name') ||
                             e.getAttribute('href') || '') + ' ' + (e.innerText || '').trim().slice(0, 30)}; })"""


def tab_through(page: Page, limit: int = 400) -> tuple[set[str], list[dict]]:
    """Press Tab from the top of the (freshly loaded) page until the focus comes round; what got it, and how."""
    reached, unstyled = set(), []
    first = None
    for _ in range(limit):
        page.keyboard.press("Tab")
        info = page.evaluate(FOCUS_STYLE)
        if info["tag"] == "BODY":
            break
        if first is None:
            first = info
        elif info["key"] == first["key"]:
            break
        if info["key"] is not None:
            reached.add(info["key"])
        if not (info["outline"] or info["shadow"]):
            unstyled.append(info)
    return reached, unstyled


@pytest.mark.parametrize("role,which", [
    ("applicant", "nominee"), ("applicant", "craft"), ("applicant", "achievements"), ("applicant", "evidence"),
    ("applicant", "review"), ("province_council_member", "ballot"), ("public", "status"),
])
def test_keyboard_reaches_every_control_with_a_visible_focus(role_page, module_site, role, which):
    _, world = module_site
    draft = world.nominations["draft-HNI"]
    path = {"ballot": f"/council/sessions/{world.open_session_id}/ballot", "status": "/public/status"}.get(
        which, f"/my/{draft}/{which}")
    page = role_page(role)
    page.goto(path)
    # The skip link comes first and leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    page.goto(path)
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    controls = {c["key"]: c["what"] for c in page.evaluate(CONTROLS)}
    reached, unstyled = tab_through(page)
    if which == "ballot":  # within a group of radio buttons, the arrow keys choose
        first = page.locator("input[type=radio]").first
        first.focus()
        page.keyboard.press("ArrowRight")
        assert page.locator("input[type=radio]").nth(1).is_checked()
    assert len(controls) >= 10
    missed = [controls[k] for k in controls if k not in reached]
    assert not missed, f"not reachable by Tab: {missed}"
    assert not unstyled, f"focus not visible on: {unstyled[:5]}"
