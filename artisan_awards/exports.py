"""Lists as files: CSV (UTF-8 with BOM, so Excel shows the diacritics) and XLSX (openpyxl).

Every export takes the same select the page lists (same filters, same order), reads it in
batches and writes rows as they come: CSV is streamed to the client, XLSX is written by
openpyxl's write-only workbook into a spooled temporary file.  Headers and labels are in the
user's language; dates are dd/mm/yyyy.

This is the ONE place that writes spreadsheets (every list, the comments, the administrator's
audit log): a text cell that a spreadsheet would read as a formula (it starts with = + - @, a
tab or a carriage return, or their full-width forms, OWASP "CSV injection") is written with a
leading single quote in CSV and as a string cell, never a formula, in XLSX; so a hostile name,
e-mail or comment cannot run in Excel.  Numbers stay numbers (a negative count is still -1).
"""

from __future__ import annotations

import csv
import functools
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import Response, send_file, stream_with_context
from flask_babel import gettext as _

from workflows.states import N_

from .errors import NotFound
from .extensions import db
from .i18n import TITLE_LABELS, label, state_label, vn_date
from .models import Nomination, Province
from .services.queries import current_deadlines
from .timeutil import local_date, today

FORMATS = ("csv", "xlsx")
BATCH = 1000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# What makes a spreadsheet start a formula (or DDE command); the full-width forms too, which
# some spreadsheet locales fold to their ASCII twins.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass
class Column:
    header: str  # msgid, translated when the file is written
    value: Callable  # row -> str | int | date | None
    width: int = 14


def _year(d: date | None):
    return d.year if d else None


def _local(moment: datetime | None) -> date | None:
    return local_date(moment) if moment else None


def nomination_columns() -> list[Column]:
    """The columns people expect in a list of dossiers."""
    dl = current_deadlines()
    provinces = dict(db.session.execute(sa.select(Province.code, Province.name)).all())

    def round_name(row):
        r = dl.rounds.get(row.round_id)
        return r.name if r else ""

    overdue_text, yes = _("Quá hạn"), _("Có")
    # labels translated once per export, not once per row
    state_text = functools.cache(state_label)
    title_text = functools.cache(lambda title: label(TITLE_LABELS, title))

    def overdue(row):
        return overdue_text if dl.is_overdue(row) else ""

    return [
        Column(N_("Mã hồ sơ"), lambda r: r.code or "", 20),
        Column(N_("Họ và tên"), lambda r: r.full_name, 28),
        Column(N_("Năm sinh"), lambda r: _year(r.birth_date), 10),
        Column(N_("Giới tính"), lambda r: r.gender or "", 10),
        Column(N_("Dân tộc"), lambda r: r.ethnicity or "", 10),
        Column(N_("Nghề"), lambda r: r.craft or "", 22),
        Column(N_("Tỉnh, thành phố"), lambda r: provinces.get(r.province_code, r.province_code), 18),
        Column(N_("Danh hiệu"), lambda r: title_text(r.title), 20),
        Column(N_("Truy tặng"), lambda r: yes if r.posthumous else "", 10),
        Column(N_("Đợt"), round_name, 18),
        Column(N_("Trạng thái"), lambda r: state_text(r.state), 28),
        Column(N_("Ngày nộp"), lambda r: _local(r.submitted_at), 12),
        Column(N_("Ngày nhận"), lambda r: _local(r.received_at), 12),
        Column(N_("Hạn"), lambda r: dl.due(r), 12),
        Column(N_("Quá hạn"), overdue, 10),
        # a dossier transferred after a province merger: the province it was filed with (issue 14)
        Column(N_("Nộp tại (tỉnh cũ)"), lambda r: provinces.get(r.filed_province_code, r.filed_province_code)
               if r.filed_province_code else "", 18),
        # the President's decision and the bonus that comes with the title (for finance)
        Column(N_("Số quyết định phong tặng"), lambda r: r.decision_no or "", 18),
        Column(N_("Ngày quyết định"), lambda r: r.decision_date, 12),
        Column(N_("Hệ số"), lambda r: float(r.award_coefficient) if r.award_coefficient is not None else None, 8),
        Column(N_("Lương cơ sở (đồng)"), lambda r: r.award_base_salary_vnd, 14),
        Column(N_("Tiền thưởng (đồng)"), lambda r: r.award_bonus_vnd, 14),
    ]


NOMINATION_FIELDS = (
    Nomination.id, Nomination.code, Nomination.full_name, Nomination.birth_date, Nomination.gender,
    Nomination.ethnicity, Nomination.craft, Nomination.province_code, Nomination.title,
    Nomination.posthumous, Nomination.round_id, Nomination.state, Nomination.submitted_at,
    Nomination.received_at, Nomination.returned_at, Nomination.filed_province_code,
    Nomination.decision_no, Nomination.decision_date,
    Nomination.award_coefficient, Nomination.award_base_salary_vnd, Nomination.award_bonus_vnd,
)


def stream_rows(stmt: sa.Select) -> Iterator:
    """Rows of ``stmt`` fetched in batches (a server-side cursor on PostgreSQL)."""
    result = db.session.execute(stmt.execution_options(yield_per=BATCH))
    yield from result


def nominations_response(stmt: sa.Select, fmt: str, basename: str) -> Response:
    """``stmt``: the page's select over Nomination (filters and order); all its rows, as a file."""
    rows = stream_rows(stmt.with_only_columns(*NOMINATION_FIELDS))
    return respond(fmt, basename, nomination_columns(), rows)


def respond(fmt: str, basename: str, columns: list[Column], rows: Iterable, dated: bool = True) -> Response:
    if fmt not in FORMATS:
        raise NotFound(N_("Không có định dạng xuất này."), code="unknown_format")
    filename = f"{basename}-{today().isoformat()}.{fmt}" if dated else f"{basename}.{fmt}"
    if fmt == "csv":
        response = Response(stream_with_context(_csv_chunks(columns, rows)), mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        response = send_file(_xlsx_file(columns, rows), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it without running it: a leading quote when it could start a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value) -> str:
    """One CSV cell: dates dd/mm/yyyy, numbers as they are, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, date):
        return vn_date(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return str(value)  # a real number, even negative, is not a formula
    return neutralise(str(value))


def xlsx_cell(sheet, value):
    """One XLSX cell: numbers and dates typed, every text a string cell (never a formula)."""
    from openpyxl.cell import WriteOnlyCell

    if value is not None and not isinstance(value, (int, float, date)):
        value = str(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, date):
        cell.number_format = "DD/MM/YYYY"
    elif isinstance(value, str):
        cell.data_type = "s"  # openpyxl would make "=..." a formula: text stays text
    return cell


def _csv_chunks(columns: list[Column], rows: Iterable) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # the BOM: Excel then reads the file as UTF-8
    writer.writerow([_(c.header) for c in columns])
    for i, row in enumerate(rows, 1):
        writer.writerow([csv_cell(c.value(row)) for c in columns])
        if i % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_file(columns: list[Column], rows: Iterable):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Danh sách"))
    for i, column in enumerate(columns, 1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=_(column.header))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([xlsx_cell(sheet, column.value(row)) for column in columns])
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(out)
    out.seek(0)
    return out


def scheme_plan_columns() -> list[Column]:
    """A year's khuyến công plan (services/schemes.plan rows): one row per scheme, amounts in đồng."""
    state_text = functools.cache(lambda s: _(_scheme_state(s)) if s else "")
    return [
        Column(N_("Mã đề án"), lambda r: r.nomination.id if r.nomination else "", 10),
        Column(N_("Tên đề án"), lambda r: r.nomination.full_name if r.nomination else _("Tổng cộng"), 40),
        Column(N_("Địa phương"), lambda r: r.province, 18),
        Column(N_("Đơn vị đề xuất"), lambda r: r.unit, 28),
        Column(N_("Nội dung khuyến công"), lambda r: r.area, 30),
        Column(N_("Kinh phí khuyến công quốc gia được duyệt (đồng)"), lambda r: r.approved, 18),
        Column(N_("Kinh phí đối ứng (đồng)"), lambda r: r.cofinancing, 16),
        Column(N_("Trạng thái"), lambda r: state_text(r.nomination.state if r.nomination else ""), 24),
        Column(N_("Số tiền quyết toán (đồng)"), lambda r: r.settled, 16),
    ]


def _scheme_state(state: str) -> str:
    from workflows.registry import registry

    programme = registry().versions("khuyen-cong-schemes")[-1]
    return programme.state_def(state).staff_label
