"""An anonymous visitor's layout header and footer are rendered once per page and language
(``i18n.layout_fragment``, issue 16: the public status page's throughput), and never anyone else's.

Each test compares what is served with what a fresh render gives: the kept fragment must be exactly
what the page would have printed, and whatever depends on the user, the language or the path must
never come from another visit."""

from __future__ import annotations

import re

import pytest


def _header(html: str) -> str:
    return re.search(r'<header class="top">.*?</header>', html, re.S).group(0)


def _footer(html: str) -> str:
    return re.search(r'<footer class="wrap foot">.*?</footer>', html, re.S).group(0)


def _kept(app) -> dict:
    return app.extensions.get("layout_fragments", {})


def test_an_anonymous_page_is_served_the_layout_it_would_render(app, client):
    first = client.get("/public/status").get_data(as_text=True)
    assert any(key[0] == "header" and key[3] == "/public/status" for key in _kept(app))
    again = client.get("/public/status").get_data(as_text=True)
    assert again == first
    # The same page with the cache emptied renders the same layout: the kept one is not stale.
    _kept(app).clear()
    assert client.get("/public/status").get_data(as_text=True) == first


def test_each_page_and_language_keeps_its_own(app, client):
    status = client.get("/public/status").get_data(as_text=True)
    results = client.get("/public/results").get_data(as_text=True)
    # The language link's "next" is the page's own path.
    assert "next=%2Fpublic%2Fstatus" in _header(status) or "next=/public/status" in _header(status)
    assert "next=%2Fpublic%2Fresults" in _header(results) or "next=/public/results" in _header(results)
    client.set_cookie("lang", "en")
    english = client.get("/public/status").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert _header(english) != _header(status) and _footer(english) != _footer(status)
    assert 'href="/lang/vi?next=' in _header(english)
    client.delete_cookie("lang")
    assert _header(client.get("/public/status").get_data(as_text=True)) == _header(status)


def test_a_logged_in_users_layout_is_never_kept_nor_served_from_the_cache(app, client, auth, make):
    anonymous = client.get("/public/status").get_data(as_text=True)  # kept
    kept_before = dict(_kept(app))
    officer = make.user("province_officer", province_code="HNI", full_name="Cán Bộ Một")
    auth.login(officer.email)
    page = client.get("/public/status").get_data(as_text=True)  # the same page, logged in
    assert "Cán Bộ Một" in _header(page) and 'name="csrf_token"' in _header(page)
    assert _header(page) != _header(anonymous)
    assert dict(_kept(app)) == kept_before  # nothing of theirs was kept
    auth.logout()
    assert _header(client.get("/public/status").get_data(as_text=True)) == _header(anonymous)


@pytest.mark.parametrize("path", ["/public/status?code=NN-2026-HNI-00001", "/public/help?x=1"])
def test_an_address_with_a_query_string_is_rendered_not_kept(app, client, path):
    r = client.get(path)
    assert r.status_code in (200, 303)
    assert not any("?" in key[3] for key in _kept(app))
    assert len(_kept(app)) <= 2 * 2  # at most the header and footer of one plain page, per language
