"""Where a redirect may go when the client names it (a ``next`` field, the Referer header).

One rule for the whole application: a path on this site, never another host.  Every redirect
whose target comes from the request goes through ``safe_target`` (a ``next`` value) or
``back`` (the Referer), so no header or field can turn the site into an open redirect.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request


def safe_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site; else None (no open redirect).

    Browsers read ``/\\evil.com`` as ``//evil.com`` and drop tabs and newlines inside URLs, so
    a backslash, any control character or white space makes the target unsafe too.
    """
    if not target or len(target) > 2000:
        return None
    if "\\" in target or any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def referrer_path() -> str | None:
    """The Referer as a path on this site (same scheme and host), else None."""
    referrer = request.headers.get("Referer")
    if not referrer or len(referrer) > 2000:
        return None
    try:
        parts = urlsplit(referrer)
    except ValueError:
        return None
    if parts.scheme != request.scheme or parts.netloc != request.host:
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_target(path)


def back(default: str):
    """A redirect to the page the request came from, when it is on this site; else to ``default``."""
    return redirect(referrer_path() or default)
