"""The one way numbers, dates and percentages are written: pages, exports and PDFs all call these.

Vietnamese usage (Decree 30/2020 and everyday administrative writing):

* dates ``dd/mm/yyyy`` (``05/02/2026``), a moment also with its time in Vietnam (``05/02/2026 14:30``);
* whole numbers grouped by dots (``1.234.567``), decimals after a comma (``12,5``);
* percentages with two decimals after a comma, a non-breaking space before the sign (``66,67 %``), so the
  sign never wraps to the next line.

Pages in English write numbers the English way (``1,234``, ``66.67 %``); PDFs and exports, which are
Vietnamese documents, always write them the Vietnamese way (``locale="vi"``). Numbers are formatted by
Babel (CLDR data), never by hand. ``tests/test_formatting.py`` checks that no template formats on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_decimal

NBSP = "\u00a0"
PERCENT_DIGITS = 2


def _locale(locale: str | None) -> str:
    if locale:
        return locale
    try:  # a page: the reader's language; outside a request (CLI, PDF jobs): Vietnamese
        from flask_babel import get_locale

        return str(get_locale() or "vi")
    except (RuntimeError, ImportError):
        return "vi"


def vn_date(value, with_time: bool = True, seconds: bool = False) -> str:
    """``dd/mm/yyyy``; a datetime (stored in UTC) in Vietnam's time, with ``HH:MM`` unless ``with_time`` is
    False; an ISO date string (a round's plan kept in JSON) is read first; None is "". Any other value is
    returned as text."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        from .timeutil import VN, as_utc

        local = as_utc(value).astimezone(VN)
        if not with_time:
            return local.strftime("%d/%m/%Y")
        return local.strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def utc_time(value) -> str:
    """A moment's time of day in UTC, ``14:30:05 UTC`` (a signature's time-stamp, as the authority gives it)."""
    if value is None:
        return ""
    from .timeutil import as_utc

    return as_utc(value).strftime("%H:%M:%S UTC")


def number(value, digits: int | None = None, locale: str | None = None) -> str:
    """A number grouped and punctuated for ``locale`` (default: the page's): ``1.234``, ``12,5`` in Vietnamese.
    ``digits``: exactly that many decimals; else as many as the value has (up to three)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, (int, float, Decimal)):
        return str(value)
    pattern = "#,##0" + ("." + "0" * digits if digits else "") if digits is not None else None
    return format_decimal(value, format=pattern, locale=_locale(locale))


def percent(part, whole=None, digits: int = PERCENT_DIGITS, locale: str | None = None) -> str:
    """``part`` out of ``whole`` as a percentage (``10, 15`` -> ``66,67 %``); with no ``whole``, ``part`` is
    already a percentage (``75`` -> ``75 %``, whole numbers without decimals). "" when the whole is 0/None
    or the part is missing."""
    if part is None or part == "":
        return ""
    if whole is None:
        shown = number(part, digits=0 if isinstance(part, int) else digits, locale=locale)
    else:
        if not whole:
            return ""
        shown = number(Decimal(100) * Decimal(part) / Decimal(whole), digits=digits, locale=locale)
    return f"{shown}{NBSP}%"


def file_size(size: int | None, locale: str | None = None) -> str:
    """A file's size for people: ``850 B``, ``12,3 KB``, ``4,5 MB``."""
    if size is None:
        return ""
    if size < 1024:
        return f"{number(size, locale=locale)}{NBSP}B"
    if size < 1024 * 1024:
        return f"{number(size / 1024, digits=1, locale=locale)}{NBSP}KB"
    return f"{number(size / 1048576, digits=1, locale=locale)}{NBSP}MB"


def init_app(app) -> None:
    """The filters every page template uses (PDF templates get the same functions: documents/engine.py)."""
    app.jinja_env.filters.update(vn_date=vn_date, number=number, percent=percent, file_size=file_size,
                               utc_time=utc_time)
