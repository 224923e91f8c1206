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
    return item is not None and "chromium" in getattr(item, "fixturenames", ())


@pytest.fixture
def chromium():
    """The shared Chromium (Debian's, through Playwright): open a context or page on it per test."""
    browser = _Shared.get()
    yield browser
    for context in list(browser.contexts) if browser.is_connected() else []:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    if not uses_chromium(nextitem):
        _Shared.stop()


def pytest_sessionfinish(session):
    _Shared.stop()
