"""The three regions of the typical products' regional selections (North, Central, South): which province is
in which (artisan_awards/data/regions.csv, its source in data/README.md), the ``PROVINCE_REGIONS`` setting
prevailing for a province a deployment groups otherwise (the grouping is not verified: docs/configuration.md).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from flask import current_app, has_app_context

from workflows.states import N_

REGIONS = {"north": N_("Miền Bắc"), "central": N_("Miền Trung"), "south": N_("Miền Nam")}
FILE = Path(__file__).resolve().parent / "data" / "regions.csv"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, str]:
    with FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    mapping = {row["province_code"]: row["region"] for row in rows}
    if len(mapping) != len(rows) or set(mapping.values()) - set(REGIONS):
        raise RuntimeError(f"{FILE}: a province twice or an unknown region")
    return mapping


def mapping() -> dict[str, str]:
    """Province code → region id, the setting prevailing over the shipped file."""
    override = current_app.config.get("PROVINCE_REGIONS") if has_app_context() else None
    return {**_shipped(), **{k: v for k, v in (override or {}).items() if v in REGIONS}}


def region_of(province_code: str | None) -> str | None:
    return mapping().get(province_code) if province_code else None


def provinces_of(region: str) -> list[str]:
    return sorted(code for code, r in mapping().items() if r == region)
