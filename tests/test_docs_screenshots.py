"""The role guides' screenshots, taken by a real browser on the demo world.

``test_guide_screenshots`` logs in as each role and photographs the pages its guide
(``docs/guides/<role>.md``) talks about, at 1280 px and at 360 px (a phone). The images go to
pytest's ``tmp_path``; with ``SCREENSHOTS=1`` they are also copied to ``docs/screenshots/`` as
``guide-<role>-<page>.png`` and ``guide-<role>-<page>-360.png``:

    SCREENSHOTS=1 .venv/bin/python -m pytest tests/test_docs_screenshots.py

``test_guides_show_the_screenshots_the_browser_takes`` needs no browser: every role has a guide,
each guide shows its screenshots at both widths, and every image a guide shows is in the docs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests import demo_world
from tests.test_browser import DESKTOP, PHONE

DOCS = Path(__file__).resolve().parent.parent / "docs"
GUIDES = DOCS / "guides"
SCREENSHOTS = DOCS / "screenshots"

# guide (file name) -> (demo role used to log in, [(shot name, path template)])
# Paths are formatted with the demo world's ids.
GUIDE_SHOTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "applicant": ("applicant", [
        ("my-dossiers", "/my/"),
        ("step-nominee", "/my/{draft}/nominee"),
        ("step-review", "/my/{draft}/review"),
        ("receipt", "/my/{submitted}/receipt"),
        ("returned", "/nominations/{returned}"),
        ("notifications", "/notifications"),
    ]),
    "province-officer": ("province_officer", [
        ("inbox", "/province/inbox"),
        ("dossier", "/nominations/{submitted}"),
        ("session", "/council/sessions/{open_session}"),
    ]),
    "province-council-member": ("province_council_member", [
        ("agenda", "/council/agenda"),
        ("ballot", "/council/sessions/{open_session}/ballot"),
    ]),
    "ministry-officer": ("ministry_officer", [
        ("dashboard", "/ministry/dashboard"),
        ("nominations", "/ministry/nominations"),
    ]),
    "council-member": ("state_council_member", [
        ("councils", "/council/councils"),
        ("nominations", "/ministry/nominations"),
    ]),
    "government-officer": ("government_officer", [
        ("nominations", "/ministry/nominations"),
        ("decision", "/nominations/{president}/decision"),
    ]),
    "public": ("public", [
        ("status", "/public/status"),
        ("results", "/public/results"),
        ("consultations", "/public/consultations"),
        ("timeline", "/public/status"),
        ("procedure", "/public/procedure"),
        ("help", "/public/help"),
    ]),
    "admin": ("admin", [
        ("index", "/admin/"),
        ("accounts", "/admin/accounts"),
        ("audit", "/admin/audit"),
        ("base-salaries", "/admin/base-salaries"),
    ]),
}


def shot_files(guide: str) -> list[str]:
    return [f"guide-{guide}-{name}{suffix}.png" for name, _ in GUIDE_SHOTS[guide][1] for suffix in ("", "-360")]


def test_guides_show_the_screenshots_the_browser_takes():
    guides = sorted(p.stem for p in GUIDES.glob("*.md") if p.stem != "README")
    assert guides == sorted(GUIDE_SHOTS)
    for guide in GUIDE_SHOTS:
        text = (GUIDES / f"{guide}.md").read_text("utf-8")
        shown = set(re.findall(r"\]\(\.\./screenshots/([^)]+\.png)\)", text))
        assert set(shot_files(guide)) <= shown, (guide, sorted(set(shot_files(guide)) - shown))
        missing = [name for name in shown if not (SCREENSHOTS / name).exists()]
        assert not missing, (guide, missing)
    index = (GUIDES / "README.md").read_text("utf-8")
    assert all(f"({guide}.md)" in index for guide in GUIDE_SHOTS)


@pytest.mark.browser
def test_guide_screenshots(chromium, site, tmp_path):
    url, world = site
    ids = {"draft": world.nominations["draft-HNI"], "submitted": world.nominations["submitted-HNI"],
           "open_session": world.open_session_id, "president": world.nominations["submitted_to_president"],
           "returned": world.nominations["returned"]}
    publish = os.environ.get("SCREENSHOTS") == "1"
    taken: list[Path] = []
    problems: list[str] = []
    browser = chromium
    for guide, (role, shots) in GUIDE_SHOTS.items():
        context = browser.new_context(viewport=DESKTOP, base_url=url, locale="vi-VN")
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("response", lambda r: r.status >= 400 and not r.url.endswith("favicon.ico")
                and problems.append(f"{r.status} {r.url}"))
        demo_world.log_in(page, role)
        for name, template in shots:
            path = template.format(**ids)
            for viewport, suffix in ((DESKTOP, ""), (PHONE, "-360")):
                page.set_viewport_size(viewport)
                page.goto(path)
                if guide == "public" and name in ("status", "timeline"):
                    code, key = ((world.code, world.access_key) if name == "status"
                                 else (world.path_code, world.path_key))
                    page.locator("#code").fill(code)
                    page.locator("#key").fill(key)
                    page.locator("main form button[type=submit]").click()
                    expect(page.locator("main")).to_contain_text(code)
                target = tmp_path / f"guide-{guide}-{name}{suffix}.png"
                page.screenshot(path=str(target), full_page=True)
                taken.append(target)
        context.close()
    assert not problems, problems
    assert sorted(p.name for p in taken) == sorted(f for g in GUIDE_SHOTS for f in shot_files(g))
    for target in taken:
        with Image.open(target) as image:
            width, height = image.size
            colours = len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])
        expected = PHONE["width"] if target.stem.endswith("-360") else DESKTOP["width"]
        # A page that scrolled sideways would photograph wider than the phone.
        assert width == expected, (target.name, width)
        assert height >= 400 and colours > 50, (target.name, height, colours)
        if publish:  # 256 colours, no dithering: the text stays sharp at a third of the size
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            with Image.open(target) as image:
                image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                              dither=Image.Dither.NONE).save(SCREENSHOTS / target.name, optimize=True)
