"""One Chromium for a run of browser tests, instead of one Playwright and one Chromium per test.

Starting Playwright's driver and Chromium cost about 0.7 CPU-seconds a test (and more wall time on
a loaded machine); a new browser context per test is a few hundredths of a second and as isolated:
its own cookies, storage, cache and viewport.  The ``chromium`` fixture hands a test the shared
browser; every context the test opened is closed at its end.

Why not one browser for the whole session: while Playwright's sync API is started, the main thread
has a running asyncio loop, so ``asyncio.run`` (pyHanko signs with it) and a second
``sync_playwright()`` fail there.  So the browser lives as long as the tests that ask for it follow
one another (a browser module, and the next one on the same worker), and is stopped before the
first test that does not ask for it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
# What every log-in of a browser test waits for: the header names the person.
LOGGED_IN = "header .who"
SIGN_IN = re.compile("^(Đăng nhập|Sign in)$")
SIGN_OUT = re.compile("^(Đăng xuất|Sign out)$")
EMAIL_LABEL = re.compile("^(Thư điện tử|Email)")  # and the mark of a required field
PASSWORD_LABEL = re.compile("^(Mật khẩu|Password)")


@functools.cache
def _axe_script() -> str:
    # In the top document only, as ``add_script_tag`` put it: axe then audits the same documents (a frame's
    # own document is not audited by either).
    return "if (window === window.top) {\n" + AXE.read_text(encoding="utf-8") + "\n}\n"


def new_context(browser, base_url: str, *, axe: bool = False, timeout: float | None = None, **options):
    """A context of the shared browser on ``base_url``.

    ``axe=True``: the context bypasses the application's Content-Security-Policy (unless
    ``bypass_csp=False``: the init script and ``page.evaluate`` are not subject to it) and loads axe-core
    into every page as an init script, once per context, instead of sending the 500 kB file with each page
    (``add_script_tag``), in the top document only (as that did).
    The pages themselves are served as in production."""
    if axe:
        options.setdefault("bypass_csp", True)
    context = browser.new_context(base_url=base_url, **options)
    if axe:
        context.add_init_script(script=_axe_script())
    if timeout is not None:
        context.set_default_timeout(timeout)
    return context


def log_in(page, email: str, password: str, *, from_header: bool = False, clear: bool = False) -> None:
    """Log ``email`` in through the application's login form, as a person would, and see that it worked.

    The one log-in of the browser tests: the fields are found by their labels and the form sent with its
    button (Vietnamese or English); afterwards the header names the person and offers to sign out.
    ``from_header``: reach the form with the header's link rather than by its address; ``clear``: forget
    whoever was logged in first (the context's cookies)."""
    from playwright.sync_api import expect

    if clear:
        page.context.clear_cookies()
    if from_header:
        page.get_by_role("banner").get_by_role("link", name=SIGN_IN).click()
        expect(page.get_by_role("heading", name=SIGN_IN)).to_be_visible()
    else:
        page.goto("/login")
    page.get_by_label(EMAIL_LABEL).fill(email)
    page.get_by_label(PASSWORD_LABEL).fill(password)
    page.locator("main form").get_by_role("button", name=SIGN_IN).click()
    page.wait_for_load_state()
    expect(page.locator(LOGGED_IN)).to_be_visible()
    expect(page.get_by_role("button", name=SIGN_OUT)).to_be_visible()
    assert "/login" not in page.url, page.url


@contextmanager
def live_site(config: dict, build=None) -> Iterator[tuple[str, object, dict]]:
    """The application made from ``config``, its data built by ``build(app)`` (in an app context; what it
    returns, a dict, is handed on), served on a real socket: yields ``(base URL, app, data)``.

    The one live-server start of the browser tests (tests/liveserver.py serves it)."""
    from artisan_awards import create_app
    from artisan_awards.extensions import db
    from tests.liveserver import serve

    app = create_app(config)
    data: dict = {}
    if build is not None:
        with app.app_context():
            data = build(app) or {}
            db.session.remove()
    with serve(app) as url:
        yield url, app, data


class _Shared:
    """The worker's Playwright and Chromium while browser tests follow one another."""

    playwright = None
    browser = None
    launches = 0

    @classmethod
    def get(cls):
        if cls.browser is not None and not cls.browser.is_connected():  # crashed in an earlier test
            cls.stop()
        if cls.browser is None:
            from playwright.sync_api import sync_playwright

            cls.playwright = sync_playwright().start()
            try:
                cls.browser = cls.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            except BaseException:
                cls.stop()
                raise
            cls.launches += 1
        return cls.browser

    @classmethod
    def stop(cls):
        browser, playwright = cls.browser, cls.playwright
        cls.browser = cls.playwright = None
        try:
            if browser is not None and browser.is_connected():
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


def uses_chromium(item) -> bool:
    return item is not None and bool({"chromium", "module_chromium"} & set(getattr(item, "fixturenames", ())))


@contextmanager
def _closing_what_it_opens() -> Iterator:
    """The shared browser; at the end, the contexts opened meanwhile are closed (not those open before)."""
    browser = _Shared.get()
    before = set(browser.contexts)
    yield browser
    for context in list(browser.contexts) if browser.is_connected() else []:
        if context not in before:
            context.close()


@pytest.fixture
def chromium():
    """The shared Chromium (Debian's, through Playwright): open a context or page on it per test.

    Every context the test opened is closed at its end; the contexts a module's fixture keeps (made on
    ``module_chromium`` before the test started) are left to that fixture."""
    with _closing_what_it_opens() as browser:
        yield browser


@pytest.fixture(scope="module")
def module_chromium():
    """The shared Chromium for a module's fixtures that keep contexts for all its tests (one context per role,
    logged in once: a new context costs Chromium a renderer process, about 1.2 CPU-s with its first page, and
    a log-in two page loads). The contexts opened on it are closed at the module's end."""
    with _closing_what_it_opens() as browser:
        yield browser


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if not uses_chromium(nextitem):
        _Shared.stop()


def pytest_sessionfinish(session):
    _Shared.stop()
