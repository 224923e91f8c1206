"""Issue 16, "one operation per action": the administration pages (holidays, transfers, provincial intake,
base salaries) and the law's hard cases write through ``services.transaction.one_transaction`` (or
``nominations._run`` for a move); no blueprint rolls back and no hard case commits on its own."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, BaseSalary, PublicHoliday
from artisan_awards.services import admin_events, awards, law

PACKAGE = Path(__file__).resolve().parent.parent / "artisan_awards"


def _session_calls(path: Path) -> list[str]:
    """``db.session.commit()`` / ``rollback()`` and ``_commit_or_conflict()`` / ``record_move()`` calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = ast.unparse(node.func)
            if name in ("db.session.commit", "db.session.rollback") or node.func.attr in (
                    "_commit_or_conflict", "record_move"):
                found.append(f"{path.name}:{node.lineno} {name}")
    return found


@pytest.mark.parametrize("relative", ["admin/routes.py", "services/hard_cases.py"])
def test_no_own_commit_or_rollback(relative):
    assert _session_calls(PACKAGE / relative) == []


def test_the_check_sees_a_seeded_rollback(tmp_path):
    seeded = tmp_path / "routes.py"
    seeded.write_text("def page():\n    try:\n        pass\n    except Exception:\n        db.session.rollback()\n")
    assert _session_calls(seeded) == ["routes.py:5 db.session.rollback"]


def test_a_failure_after_the_write_stores_nothing(app, make, monkeypatch):
    """The audit event fails after the row was added: one_transaction rolls both back."""
    admin = make.user("admin")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(BaseSalary))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(admin_events, "record", broken)
    with pytest.raises(RuntimeError):
        awards.add_base_salary(admin, date(2031, 7, 1), 3_100_000, "Nghị định thử")
    with pytest.raises(RuntimeError):
        law.save_holiday(admin, date(2031, 9, 3), "off", "Ngày nghỉ thử")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BaseSalary)) == before
    assert db.session.get(PublicHoliday, date(2031, 9, 3)) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    monkeypatch.undo()
    awards.add_base_salary(admin, date(2031, 7, 1), 3_100_000, "Nghị định thử")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BaseSalary)) == before + 1
