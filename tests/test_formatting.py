"""One way to write numbers, dates and percentages (issue 13, item 9): artisan_awards/formatting.py, used by
the pages, the exports and the PDFs; no template formats on its own."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from artisan_awards import formatting
from artisan_awards.documents import engine

ROOT = Path(__file__).resolve().parent.parent
NBSP = "\u00a0"


def test_vietnamese_numbers_percentages_and_dates():
    assert formatting.number(1234567, locale="vi") == "1.234.567"
    assert formatting.number(12.5, locale="vi") == "12,5"
    assert formatting.number(1234567, locale="en") == "1,234,567"
    assert formatting.percent(10, 15, locale="vi") == f"66,67{NBSP}%"
    assert formatting.percent(10, 11, locale="vi") == f"90,91{NBSP}%"
    assert formatting.percent(11, 11, locale="vi") == f"100,00{NBSP}%"
    assert formatting.percent(75, locale="vi") == f"75{NBSP}%"  # already a percentage
    assert formatting.percent(2, 3, locale="en") == f"66.67{NBSP}%"
    assert formatting.percent(1, 0) == "" and formatting.percent(None, 3) == ""
    assert formatting.vn_date(date(2026, 2, 5)) == "05/02/2026"
    assert formatting.vn_date("2026-02-05") == "05/02/2026"  # a plan kept in JSON
    assert formatting.vn_date(None) == ""
    late = datetime(2026, 2, 5, 20, 30, tzinfo=UTC)  # 03:30 the next day in Vietnam
    assert formatting.vn_date(late) == "06/02/2026 03:30"
    assert formatting.vn_date(late, with_time=False) == "06/02/2026"
    assert formatting.file_size(500, locale="vi") == f"500{NBSP}B"
    assert formatting.file_size(12_595, locale="vi") == f"12,3{NBSP}KB"
    assert formatting.file_size(5 * 1048576, locale="vi") == f"5,0{NBSP}MB"


def test_the_pdfs_write_them_the_same_way():
    assert engine.percent(10, 11) == formatting.percent(10, 11, locale="vi") == f"90,91{NBSP}%"
    assert engine.percent(90) == f"90{NBSP}%"
    assert engine.vn_date(datetime(2026, 2, 5, 20, 30, tzinfo=UTC)) == "06/02/2026"
    assert engine.number(29_250_000) == "29.250.000"


def test_pages_use_the_page_language(app):
    with app.test_request_context("/"):
        render = app.jinja_env.from_string("{{ 2|percent(3) }} {{ 1234|number }} {{ d|vn_date }}")
        assert render.render(d=date(2026, 2, 5)) == f"66,67{NBSP}% 1.234 05/02/2026"


# Formatting written inline in a template: Python's % or str.format, Jinja's round/format filters,
# strftime, or a number glued to its % sign (which wraps and differs from the PDFs).
AD_HOC = [
    (re.compile(r"\|\s*round\b|\bround\("), "round"),
    (re.compile(r"\|\s*format\b"), "the format filter"),
    (re.compile(r"[\"']%[0-9.,]*[dfi][\"']"), "a printf pattern"),
    (re.compile(r"[\"']\{:[^}]*\}[\"']\s*\.format\("), "str.format"),
    (re.compile(r"\.strftime\("), "strftime"),
    (re.compile(r"\}\}\s*%(?![%(sd])"), "a value glued to a % sign"),
]


def _templates():
    return sorted(p for p in (ROOT / "templates").rglob("*") if p.suffix in (".html", ".txt"))


@pytest.mark.parametrize("pattern,what", AD_HOC, ids=[w for _, w in AD_HOC])
def test_no_template_formats_numbers_or_dates_on_its_own(pattern, what):
    offenders = []
    for path in _templates():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, f"{what} outside artisan_awards/formatting.py:\n" + "\n".join(offenders)


def test_the_scan_catches_what_it_looks_for():
    samples = {"round": "{{ (x / 1024)|round(1) }}", "the format filter": '{{ "%.2f"|format(x) }}',
               "a printf pattern": '{{ "%.2f"|format(x) }}', "str.format": '{{ "{:,}".format(n) }}',
               "strftime": '{{ d.strftime("%H:%M") }}', "a value glued to a % sign": "{{ t.percent }}%"}
    for pattern, what in AD_HOC:
        assert pattern.search(samples[what]), what
    assert not any(p.search('{{ _("%(n)s hồ sơ", n=page.total|number) }}') for p, _ in AD_HOC)


def test_python_code_writes_dates_through_the_module():
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "artisan_awards").rglob("*.py")
                 if p.name != "formatting.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
                 if re.search(r"strftime\([\"']%d/%m/%Y", line)]
    assert not offenders, offenders
