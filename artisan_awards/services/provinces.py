"""Provinces from the maintained ``vietnamadminunits`` data set.

The 34 provincial-level units in force since 2025-07-01 are active; the 63
earlier ones that no longer exist under their own name are kept inactive so that
historical dossiers still point at a real province.  Our short codes (HNI, HCM,
DNG ...) are derived from the names, with the few clashes settled below.
"""

from __future__ import annotations

import sqlalchemy as sa
from vietnamadminunits.database import get_data

from ..extensions import db
from ..models import Province
from ..text import strip_accents

# Where the derivation rule gives two provinces the same code, the later one takes these.
CODE_OVERRIDES = {"Đắk Nông": "DKN", "Hậu Giang": "HUG", "Bà Rịa - Vũng Tàu": "BRV"}


def short_code(name: str) -> str:
    if name in CODE_OVERRIDES:
        return CODE_OVERRIDES[name]
    words = strip_accents(name).upper().replace("-", " ").split()
    if len(words) == 1:
        return words[0][:3]
    if len(words) == 2:
        return words[0][0] + words[1][0] + words[1][-1]
    return "".join(w[0] for w in words[:3])


def reference_provinces() -> list[dict]:
    """Every province, current first, as plain dicts."""
    fields = ["province", "provinceShort", "provinceCode"]
    current = get_data(fields, "admin_units")
    legacy = get_data(fields, "admin_units_legacy")
    seen: dict[str, dict] = {}
    for rows, active in ((current, True), (legacy, False)):
        for row in rows:
            name = row["provinceShort"]
            if name in seen:
                continue
            seen[name] = {
                "code": short_code(name),
                "gso_code": row["provinceCode"],
                "name": name,
                "full_name": row["province"],
                "active": active,
            }
    codes = [p["code"] for p in seen.values()]
    assert len(codes) == len(set(codes)), "province codes must be unique"
    return list(seen.values())


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
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Province))
