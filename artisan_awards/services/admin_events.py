"""Record one administration event (``AuditEvent``: logins, accounts, roles, rounds, councils) in the
current transaction; ``audit_chain`` numbers and MACs it at commit.

Every administration write (an account, a round, a council) is ONE transaction with its event
(``transaction.one_transaction``: the change and its event are committed together or neither is).
Reading the log (one target's events, the filtered audit page) is in ``services.queries``.
"""

from __future__ import annotations

from flask import has_request_context, request

from .. import audit_chain as chain
from ..models import AuditEvent, User


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
    chain.append(event)  # numbered and MACed into the keyed chain at commit (artisan_awards/audit_chain.py)
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
