"""Write and read the administration audit log (``AuditEvent``).

Every administration write (an account, a round, a council) is ONE transaction with its audit
event: ``one_transaction`` commits the change and its event together or rolls both back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import has_request_context, request

from .. import audit as chain
from ..extensions import db
from ..models import AuditEvent, AuditKind, User
from ..models.audit import AREAS
from ..text import contains_pattern
from ..timeutil import VN


@contextmanager
def one_transaction() -> Iterator[None]:
    """Commit what the block wrote (the change and its audit event) at its end; on any error roll
    everything back and re-raise: the caller's one error path."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def record(kind: str, actor: User | None = None, *, target=None, target_type: str = "",
           target_label: str = "", province_code: str | None = None, **details) -> AuditEvent:
    """Add one audit row to the current transaction (the caller commits; the row is inserted then)."""
    if target is not None and not target_type:
        target_type = {"User": "user", "Round": "round", "Council": "council"}.get(type(target).__name__, "")
    if target is not None and not target_label:
        target_label = getattr(target, "email", None) or getattr(target, "name", "") or ""
    if province_code is None and target is not None:
        province_code = getattr(target, "province_code", None)
    actor_ok = actor is not None and getattr(actor, "is_authenticated", False) and getattr(actor, "id", None)
    event = AuditEvent(
        kind=str(kind),
        actor_id=actor.id if actor_ok else None,
        actor_name=actor.full_name if actor_ok else "",
        target_type=target_type,
        target_id=getattr(target, "id", None),
        target_label=str(target_label)[:300],
        province_code=province_code,
        ip=(request.remote_addr or "")[:45] if has_request_context() else None,
        details=_jsonable(details),
    )
    chain.append(event)  # numbered and MACed into the keyed chain at commit (artisan_awards/audit.py)
    return event


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def events_for(target_type: str, target_id: int, limit: int | None = None) -> list[AuditEvent]:
    """One account's, round's or council's events, newest first."""
    query = (sa.select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id == target_id)
             .order_by(AuditEvent.id.desc()))
    return list(db.session.scalars(query.limit(limit) if limit else query))


@dataclass
class EventFilters:
    """The audit page's filters (?area=, ?kind=, ?actor=, ?target=, ?from=, ?to=)."""

    area: str | None = None
    kind: str | None = None
    actor: str | None = None
    target: str | None = None
    from_: str | None = None  # ISO dates, local (Vietnam) days, both inclusive
    to: str | None = None

    @classmethod
    def from_args(cls, args) -> EventFilters:
        return cls(args.get("area"), args.get("kind"), args.get("actor"), args.get("target"),
                   args.get("from"), args.get("to"))


def events_query(filters: EventFilters) -> sa.Select:
    """The administration log, newest first, narrowed by ``filters`` (unknown values are ignored)."""
    query = sa.select(AuditEvent)
    if filters.area in AREAS:
        query = query.where(AuditEvent.kind.in_([str(k) for k in AREAS[filters.area]]))
    if filters.kind in {k.value for k in AuditKind}:
        query = query.where(AuditEvent.kind == filters.kind)
    for text, column in ((filters.actor, AuditEvent.actor_name), (filters.target, AuditEvent.target_label)):
        text = (text or "").strip()
        if text:
            query = query.where(sa.func.lower(column).like(contains_pattern(text.lower()), escape="\\"))
    for value, later in ((filters.from_, False), (filters.to, True)):
        try:
            day = date.fromisoformat(value or "")
        except ValueError:
            continue
        # Midnight in Vietnam, as UTC: SQLite compares the stored UTC text, not the zone.
        moment = datetime.combine(day + timedelta(days=1) if later else day, time(), tzinfo=VN).astimezone(UTC)
        query = query.where(AuditEvent.at < moment if later else AuditEvent.at >= moment)
    return query.order_by(AuditEvent.id.desc())
