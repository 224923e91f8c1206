"""Provinces from the data file shipped with the package (``artisan_awards/data/provinces.csv``).

The 34 provincial-level units in force since 2025-07-01 are active; the earlier
ones that no longer exist under their own name are kept inactive so that
historical dossiers still point at a real province.  The file's source, date and
columns are described in ``artisan_awards/data/README.md``.
"""

from __future__ import annotations

import csv
from importlib import resources

import sqlalchemy as sa

from ..extensions import db
from ..models import Province

DATA_FILE = "provinces.csv"
COLUMNS = ("code", "gso_code", "name", "full_name", "active")


def reference_provinces() -> list[dict]:
    """Every province, current first, as plain dicts."""
    text = resources.files("artisan_awards.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ValueError(f"{DATA_FILE}: expected columns {','.join(COLUMNS)}, got {reader.fieldnames}")
    rows = []
    for line, raw in enumerate(reader, start=2):
        if raw["active"] not in ("0", "1") or not all(raw[c] for c in COLUMNS):
            raise ValueError(f"{DATA_FILE}, line {line}: incomplete row {raw}")
        rows.append({**raw, "active": raw["active"] == "1"})
    for key in ("code", "name"):
        values = [r[key] for r in rows]
        if len(values) != len(set(values)):
            raise ValueError(f"{DATA_FILE}: the column {key} must be unique")
    return rows


def sync_provinces() -> int:
    """Insert or update the province table from the reference data; return the row count."""
    existing = {p.code: p for p in db.session.scalars(sa.select(Province))}
    for ref in reference_provinces():
        row = existing.get(ref["code"])
        if row is None:
            db.session.add(Province(**ref))
        else:
            for key, value in ref.items():
                setattr(row, key, value)
    db.session.flush()
    from .law import apply_mergers  # the 2025 reorganisation: successors and dates (province_mergers.csv)

    apply_mergers({ref["code"] for ref in reference_provinces()})
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Province))
