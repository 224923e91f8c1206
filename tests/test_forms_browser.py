"""Forms that help and the phone header (issue 13, items 7 and 9), in Debian's Chromium.

* long values (a 200-letter name, a long craft, one unbroken 120-letter word) never widen a page of the wizard,
  the dossier or the list, at 360 px or at desktop width;
* the phone header takes at most 15 % of the first screen at 360 px, and its menu button opens the navigation
  (on a desktop the navigation shows without the button);
* the wizard with its errors shown and the review step (its printed declaration, its commitment box) have no
  serious or critical axe violation, in Vietnamese and in English, at both widths;
* the screenshots of docs/screenshots/ (the wizard at 360 px, the review step) are taken here with SCREENSHOTS=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import Factory
from tests.plugins.browser import live_site, log_in, new_context
from tests.test_a11y import axe_violations
from tests.test_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
LONG_NAME = ("Nguyễn Thị Phương Hoa Hồng Ngọc Bích " * 6)[:200].strip()
LONG_WORD = "Gốmsứmenlamvẽtaythủcôngtruyềnthống" * 4  # 136 letters, no space to break at
LONG_CRAFT = "Chế tác gốm sứ men lam, men rạn, men ngọc và gốm hoa nâu theo kỹ thuật truyền thống " * 2


@pytest.fixture
def forms_site(app_config):
    """An applicant with a draft full of long values and a filled-in draft, served for the browser."""
    def build(app):
        make = Factory()
        make.current_round()
        owner = make.user("applicant", full_name="Trần Văn Dài " + "Tên" * 20)
        long = make.nomination(owner=owner, nominee={"full_name": LONG_NAME, "address": LONG_WORD,
                                                     "hometown": LONG_WORD},
                               craft=LONG_CRAFT[:200], workshop=LONG_WORD,
                               products=[{"name": LONG_WORD, "materials": LONG_WORD}],
                               craft_periods=[{"from": "1985-01-01", "to": "2005-12-31", "workplace": LONG_WORD}])
        plain = make.nomination(owner=owner, nominee={"full_name": "Đỗ Thị Lan"})
        ids = {"email": owner.email, "long": long.id, "plain": plain.id}
        return ids

    config = {**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False}
    with live_site(config, build) as (url, app, built):
        yield url, built


def _log_in(page, email):
    log_in(page, email, Factory.PASSWORD)



def _shot(page, name):
    if os.environ.get("SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_SCREENSHOTS / name), full_page=True)


def test_long_values_never_widen_the_page(chromium, forms_site):
    url, ids = forms_site
    n = ids["long"]
    paths = [f"/my/{n}/nominee", f"/my/{n}/craft", f"/my/{n}/achievements", f"/my/{n}/evidence",
             f"/my/{n}/review", f"/nominations/{n}", "/my/"]
    wide = {}
    browser = chromium
    page = browser.new_page(base_url=url, viewport=PHONE)
    _log_in(page, ids["email"])
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        for path in paths:
            page.goto(path)
            assert LONG_NAME[:30] in page.content()
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > viewport["width"]:
                wide[f"{viewport['width']}px {path}"] = width
    page.set_viewport_size(PHONE)
    page.goto(f"/my/{n}/nominee")
    _shot(page, "forms-long-values-360.png")
    assert not wide, f"pages wider than the screen: {wide}"


def test_the_phone_header_is_compact_and_its_menu_button_opens_the_navigation(chromium, forms_site):
    url, ids = forms_site
    browser = chromium
    page = browser.new_page(base_url=url, viewport=PHONE)
    _log_in(page, ids["email"])
    page.goto("/my/")
    header = page.locator("header.top")
    height = header.bounding_box()["height"]
    assert height <= 0.15 * PHONE["height"], f"header {height} px of {PHONE['height']}"
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Điều hướng chính")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    # the account stays in reach: the language, who is signed in, logging out
    expect(page.locator("header .who")).to_be_visible()
    expect(page.locator("header .account button[lang=en]")).to_be_visible()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Hồ sơ của tôi")).to_be_visible()
    expect(page.locator("#site-menu").get_by_role("link", name="Đổi mật khẩu")).to_be_visible()
    menu.click()
    expect(nav).to_be_hidden()

    page.set_viewport_size(DESKTOP)  # a desktop shows the navigation, no button
    expect(nav).to_be_visible()
    expect(menu).to_be_hidden()

    phone = browser.new_page(base_url=url, viewport=PHONE, java_script_enabled=False)
    phone.goto("/")  # without script the whole navigation shows: nothing is out of reach
    expect(phone.get_by_role("navigation", name="Điều hướng chính")).to_be_visible()


def test_the_wizard_with_errors_and_the_review_step_pass_axe_in_both_languages(chromium, forms_site):
    url, ids = forms_site
    n = ids["plain"]
    found = {}
    browser = chromium
    context = new_context(browser, url, axe=True, viewport=PHONE)
    page = context.new_page()
    _log_in(page, ids["email"])
    for lang in ("vi", "en"):
        if lang == "en":
            page.goto("/my/")
            page.locator("header .account button[lang=en]").click(force=True)
            page.wait_for_load_state()
        for viewport in (PHONE, DESKTOP):
            page.set_viewport_size(viewport)
            # step 1 refused: no province chosen, a death date without the posthumous box
            page.goto("/my/new")
            page.locator("#full_name").fill("Đỗ Thị Lan")
            page.locator("#death_date").fill("2020-01-01")
            page.locator("main form button[name=save]").click()
            page.wait_for_load_state()
            expect(page.locator("#province_code-error")).to_be_visible()
            expect(page.locator("#death_date-error")).to_be_visible()
            expect(page.locator(".error-summary a[href='#province_code']")).to_be_visible()
            if lang == "vi" and viewport is PHONE:
                _shot(page, "forms-step1-errors-360.png")
            if violations := axe_violations(page):
                found[f"{lang} {viewport['width']} step 1 with errors"] = violations
            for step in ("craft", "achievements", "review"):
                page.goto(f"/my/{n}/{step}")
                if violations := axe_violations(page):
                    found[f"{lang} {viewport['width']} {step}"] = violations
            if lang == "vi":
                expect(page.frame_locator("iframe.declaration-frame").locator("body")) \
                    .to_contain_text("Đỗ Thị Lan")
                if viewport is DESKTOP:
                    _shot(page, "forms-review.png")
                else:
                    _shot(page, "forms-review-360.png")
    context.close()
    assert not found, f"axe: {found}"
