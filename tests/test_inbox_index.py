"""The province inbox's partial index (migration 0028) holds exactly the inbox's states.

PostgreSQL and SQLite use a partial index only for a query whose WHERE implies the index's: if
``INBOX_STATES`` changed and the index did not, the inbox would silently go back to filtering the
province's every dossier (bench/pages_bench.py, docs/performance.md)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from artisan_awards.models import Nomination
from artisan_awards.province.routes import INBOX_STATES

ROOT = Path(__file__).resolve().parent.parent


def _states(where: str) -> set[str]:
    return set(re.findall(r"'([a-z_]+)'", where))


def test_the_models_partial_index_holds_the_inbox_states():
    index = next(i for i in Nomination.__table__.indexes if i.name == "ix_nominations_province_inbox")
    assert [c.name for c in index.columns] == ["province_code", "received_at", "id"]
    for dialect in ("postgresql", "sqlite"):
        where = str(index.dialect_options[dialect]["where"])
        assert _states(where) == {str(s) for s in INBOX_STATES}, dialect


def test_the_migration_makes_the_same_index():
    spec = importlib.util.spec_from_file_location("m0028", ROOT / "migrations" / "versions" / "0028_perf3.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.revision == "0028"
    assert set(module.INBOX_STATES) == {str(s) for s in INBOX_STATES}
