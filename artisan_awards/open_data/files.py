"""The open-data files' bytes: CSV (RFC 4180, UTF-8 with a byte-order mark) and JSON, from the service's rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from ..exports import neutralise
from ..services import open_data as service

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8; header=present", "json": "application/json"}


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    # A text a spreadsheet would run as a formula gets a leading quote, as in every export of the house
    # (docs/security.md, "smaller holes closed"); the JSON file keeps the exact text.
    return neutralise(str(value))


def to_csv(name: str, data: list[dict]) -> bytes:
    """CRLF line ends, quotes where needed, a header line of the schema's field names, in its order."""
    fields = service.DATASETS[name].fields
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f.name for f in fields])
    for r in data:
        writer.writerow([_cell(r[f.name]) for f in fields])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def to_json(name: str, data: list[dict]) -> bytes:
    """An array of objects, one per row, every field present (null when empty); dates ISO 8601."""
    fields = service.DATASETS[name].fields
    items = [{f.name: (r[f.name].isoformat() if isinstance(r[f.name], date) else r[f.name]) for f in fields}
             for r in data]
    return (json.dumps(items, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def render(name: str, fmt: str, round_number: int | None = None) -> bytes:
    data = service.rows(name, round_number)
    return to_csv(name, data) if fmt == "csv" else to_json(name, data)
