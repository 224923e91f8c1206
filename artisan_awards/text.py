"""Vietnamese text helpers: NFC normalisation, accent-free search keys, Vietnamese collation."""

import functools
import sqlite3
import unicodedata

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


def nfc(value):
    """Normalise text to NFC; anything else is returned as it is."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def nfc_deep(value):
    """NFC-normalise every string inside nested dicts and lists (JSON bodies, form data)."""
    if isinstance(value, dict):
        return {nfc(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_deep(v) for v in value]
    return nfc(value)


def strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def search_key(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced: 'Nguyễn Văn Ánh' -> 'nguyen van anh'."""
    if not text:
        return ""
    return " ".join(strip_accents(nfc(text)).lower().split())


def contains_pattern(text: str, limit: int = 200) -> str:
    """A LIKE pattern for "contains ``text``": its ``%``, ``_`` and ``\\`` escaped (use it with
    ``escape="\\"``), and bounded, since SQLite refuses patterns over 50 kB."""
    text = text[:limit].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{text}%"


# -- Vietnamese collation ------------------------------------------------------------------------
#
# PostgreSQL sorts with ICU's Vietnamese collation (``COLLATE "vi-x-icu"``).  SQLite has no ICU,
# so the same order is computed here and registered on every SQLite connection as the collation
# ``vi``.  ``vi_order(column)`` writes the right clause for whichever database runs the query.
#
# The order is CLDR's Vietnamese tailoring: the alphabet a ă â b c d đ e ê g h i k l m n o ô ơ p q
# r s t u ư v x y (f j w z in their Latin places) decides first; the tone marks decide second
# (none < huyền < hỏi < ngã < sắc < nặng); letter case last (lower before upper).  Spaces sort
# before punctuation, punctuation before digits, digits before letters, as in ICU's root order.

VI_ALPHABET = "a ă â b c d đ e ê f g h i j k l m n o ô ơ p q r s t u ư v w x y z".split()
_LETTER_RANK = {letter: 1000 + i for i, letter in enumerate(VI_ALPHABET)}
# Combining marks that make a new Vietnamese letter (they belong to the primary level).
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve (ă), circumflex (â ê ô), horn (ơ ư)
# Tone marks, in the tailoring's secondary order: huyền, hỏi, ngã, sắc, nặng.
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _char_weights(base: str, marks: list[str]) -> tuple[int, int, int]:
    lower = base.lower()
    tertiary = 1 if base != lower else 0
    if base.isspace():
        return 1, 0, 0
    letter = lower + "".join(m for m in marks if m in _LETTER_MARKS)
    letter = unicodedata.normalize("NFC", letter)
    if letter in _LETTER_RANK:
        primary = _LETTER_RANK[letter]
    elif lower in _LETTER_RANK:  # a Latin letter with a mark Vietnamese does not use (ç, ü, ...)
        primary = _LETTER_RANK[lower]
    elif base.isdigit():
        primary = 100 + unicodedata.digit(base, 0)
    elif base.isalpha():
        primary = 10_000 + ord(lower)
    else:  # punctuation and symbols
        primary = 2 + min(ord(base), 97)
    secondary = 0
    for m in marks:
        if m in _TONE_RANK:
            secondary = secondary * 10 + _TONE_RANK[m]
        elif m not in _LETTER_MARKS:
            secondary = secondary * 10 + 6 + ord(m) % 4
    return primary, secondary, tertiary


@functools.lru_cache(maxsize=65_536)
def vi_sort_key(text: str | None) -> tuple:
    """A key that sorts Vietnamese text as ICU's ``vi`` collation does: 'Dương' < 'Đặng' < 'Hoàng'."""
    if not text:
        return ((), (), ())
    primary, secondary, tertiary = [], [], []
    base, marks = None, []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and base is not None:
            marks.append(ch)
            continue
        if base is not None:
            p, s, t = _char_weights(base, marks)
            primary.append(p), secondary.append(s), tertiary.append(t)
        base, marks = ch, []
    if base is not None:
        p, s, t = _char_weights(base, marks)
        primary.append(p), secondary.append(s), tertiary.append(t)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def vi_compare(a: str, b: str) -> int:
    """The three-way comparison SQLite calls for ``COLLATE vi``."""
    ka, kb = vi_sort_key(a), vi_sort_key(b)
    return (ka > kb) - (ka < kb)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _register_sqlite_collation(dbapi_connection, _record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_collation("vi", vi_compare)


class _ViCollate(ColumnElement):
    """``column COLLATE <Vietnamese>``, spelled for the database that compiles it."""

    # The wrapped column is part of the cache key, so statements using it are compiled once
    # and cached like any other (without this SQLAlchemy would compile them on every request).
    _traverse_internals = [("clause", InternalTraversal.dp_clauseelement)]
    inherit_cache = True

    def __init__(self, clause):
        self.clause = sa.sql.coercions.expect(sa.sql.roles.ExpressionElementRole, clause)
        self.type = self.clause.type


@compiles(_ViCollate)
def _vi_collate_sqlite(element, compiler, **kw):
    return f"{compiler.process(element.clause, **kw)} COLLATE vi"


@compiles(_ViCollate, "postgresql")
def _vi_collate_postgresql(element, compiler, **kw):
    return f'{compiler.process(element.clause, **kw)} COLLATE "vi-x-icu"'


def vi_order(column) -> ColumnElement:
    """``column`` under Vietnamese collation, for ORDER BY (and comparisons)."""
    return _ViCollate(column)
