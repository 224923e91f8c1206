"""The event outbox: events written in the same transaction as the change they report.

``dossier_moved`` is called wherever a dossier's log row is written (``services.nominations.record_move``
and ``move_many``: every action of the machine and every council tally; ``services.law`` for a transfer
to a merged province's successor; ``services.hard_cases.record_death``); ``session_closed`` by a council
session's close.  Each event gets one ``Delivery`` per active subscriber that wants it, with the exact
body to send and, for a dossier, the next number of that dossier's queue at that subscriber.  Nothing
is sent here: the transaction commits the change, the event and its deliveries together, or none of
them (a refused or failed operation rolls back, so it publishes nothing), and the worker
(``integration.delivery``) sends them afterwards.  An event no subscriber wants is not stored.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Delivery, IntegrationEvent, Nomination, Province, Subscriber, User
from ..models.integration import PARTNER, PENDING, WEBHOOK
from ..timeutil import iso_moment, now_utc
from . import payloads as p

CACHE = "integration_subscribers"


def _subscribers() -> list[Subscriber]:
    """The active subscribers, read once per transaction."""
    session = db.session()
    if CACHE not in session.info:
        session.info[CACHE] = list(db.session.scalars(
            sa.select(Subscriber).where(Subscriber.active.is_(True)).order_by(Subscriber.id)))
    return session.info[CACHE]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(CACHE, None)


def _iso(moment: datetime) -> str:
    """UTC with a "Z" (the payloads' format); a naive value read back from SQLite is UTC too."""
    return iso_moment(moment).replace("+00:00", "Z")


def unit_of(nomination: Nomination | None, actor_id: int | None, actor_name: str | None, meta: dict | None) -> dict:
    """The unit that took the step: a council (its tally), the acting officer's province or the ministry,
    the dossier's province for a filer's own step, the system when no person acted."""
    from .. import permissions

    if meta and meta.get("session_id"):
        return {"kind": "council", "code": None, "name": actor_name or ""}
    user = db.session.get(User, actor_id) if actor_id else None
    if user is None:
        return {"kind": "system", "code": None, "name": actor_name or current_app.config["INTEGRATION_SYSTEM_NAME"]}
    code = user.province_code if permissions.is_staff(user) else None
    if code is None and not permissions.is_staff(user) and nomination is not None:
        code = nomination.province_code  # the filer's own step: the dossier's receiving department
    if code:
        province = db.session.get(Province, code)
        return {"kind": "province", "code": code, "name": province.full_name if province else code}
    return {"kind": "ministry", "code": None, "name": current_app.config["INTEGRATION_NATIONAL_UNIT"]}


def _next_sequence(subscriber_id: int, nomination_id: int) -> int:
    last = db.session.scalar(sa.select(sa.func.max(Delivery.sequence))
                             .where(Delivery.subscriber_id == subscriber_id, Delivery.nomination_id == nomination_id))
    return (last or 0) + 1


def _body(type_: str, data: dict, at: datetime) -> str:
    """The body as sent: validated against its model (the OpenAPI contract), compact JSON, UTF-8."""
    model = p.DATA_MODELS[type_].model_validate(data)
    return json.dumps({"type": type_, "timestamp": _iso(at), "data": model.model_dump(mode="json")},
                      ensure_ascii=False, separators=(",", ":"))


def _partner_data(subscriber: Subscriber, nomination: Nomination, data: dict) -> dict | None:
    """A partner's status message for a state change, or None when the new state is not in its mapping
    (or the state did not change: a transfer, a death recorded), or when the subscriber stands for an
    intake partner (``partner_code``) and the dossier was not filed by that partner."""
    if data["from_state"] == data["to_state"]:
        return None
    if subscriber.partner_code and (nomination.partner is None or nomination.partner.code != subscriber.partner_code):
        return None  # a partner's own system hears of the dossiers it filed, not of everyone else's
    code = (subscriber.status_map or {}).get(data["to_state"])
    if code in (None, ""):
        return None
    return {"dossier_code": data["dossier_code"], "external_code": nomination.external_code,
            "status_code": str(code), "state": data["to_state"], "action": data["action"],
            "processed_at": data["changed_at"], "processing_unit": data["unit"]}


def publish(type_: str, data: dict, nomination: Nomination | None = None, at: datetime | None = None) -> int:
    """Write ``type_`` with ``data`` and one delivery per subscriber that wants it, in the current
    transaction (the caller commits).  Returns the number of deliveries (0: nothing stored).

    Inside ``batched()`` the event and its deliveries are kept and written with the batch's others."""
    at = at or now_utc()
    wanted = []
    for subscriber in _subscribers():
        if subscriber.kind == WEBHOOK and type_ in (subscriber.events or []):
            wanted.append((subscriber, type_, dict(data)))
        elif subscriber.kind == PARTNER and type_ == p.STATE_CHANGED and nomination is not None:
            partner = _partner_data(subscriber, nomination, data)
            if partner is not None:
                wanted.append((subscriber, p.PARTNER_STATUS, partner))
    if not wanted:
        return 0
    batch = db.session().info.get(_BATCH)
    if batch is not None:
        batch.events.append((type_, data, nomination.id if nomination else None, at, wanted))
        return len(wanted)
    stored = IntegrationEvent(type=type_, nomination_id=nomination.id if nomination else None,
                              data=json.loads(json.dumps(data, default=str)), created_at=at)
    db.session.add(stored)
    for subscriber, body_type, body_data in wanted:
        sequence = _next_sequence(subscriber.id, nomination.id) if nomination is not None else None
        if "sequence" in p.DATA_MODELS[body_type].model_fields:
            body_data["sequence"] = sequence
        db.session.add(Delivery(event=stored, subscriber_id=subscriber.id,
                                nomination_id=nomination.id if nomination else None, sequence=sequence,
                                message_id=f"msg_{uuid.uuid4().hex}", body=_body(body_type, body_data, at),
                                status=PENDING, attempts=0, created_at=at))
        db.session.flush()  # the next sequence of this dossier's queue reads this one
    return len(wanted)


_BATCH = "integration_outbox_batch"


class _Batch:
    """Events kept by ``publish`` inside ``batched()``, in the order published."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict, int | None, datetime, list]] = []

    def write(self) -> None:
        """The same rows ``publish`` writes one by one, in three statements whatever their number: the
        last sequence of every (subscriber, dossier) queue concerned in one query, the events in one
        INSERT (their ids returned in order), the deliveries in one executemany."""
        if not self.events:
            return
        queues = {(subscriber.id, nomination_id) for _t, _d, nomination_id, _a, wanted in self.events
                  if nomination_id is not None for subscriber, _bt, _bd in wanted}
        last = dict.fromkeys(queues, 0)
        if queues:
            d = Delivery.__table__.c
            for subscriber_id, nomination_id, top in db.session.execute(
                    sa.select(d.subscriber_id, d.nomination_id, sa.func.max(d.sequence))
                    .where(d.subscriber_id.in_(sorted({s for s, _n in queues})),
                           d.nomination_id.in_(sorted({n for _s, n in queues})))
                    .group_by(d.subscriber_id, d.nomination_id)):
                if (subscriber_id, nomination_id) in last:
                    last[(subscriber_id, nomination_id)] = top or 0
        events = IntegrationEvent.__table__
        ids = db.session.scalars(
            sa.insert(events).returning(events.c.id, sort_by_parameter_order=True),
            [{"type": type_, "nomination_id": nomination_id, "data": json.loads(json.dumps(data, default=str)),
              "created_at": at} for type_, data, nomination_id, at, _w in self.events]).all()
        deliveries = []
        for event_id, (_type, _data, nomination_id, at, wanted) in zip(ids, self.events, strict=True):
            for subscriber, body_type, body_data in wanted:
                sequence = None
                if nomination_id is not None:
                    sequence = last[(subscriber.id, nomination_id)] = last[(subscriber.id, nomination_id)] + 1
                if "sequence" in p.DATA_MODELS[body_type].model_fields:
                    body_data["sequence"] = sequence
                deliveries.append({"event_id": event_id, "subscriber_id": subscriber.id,
                                   "nomination_id": nomination_id, "sequence": sequence,
                                   "message_id": f"msg_{uuid.uuid4().hex}", "body": _body(body_type, body_data, at),
                                   "status": PENDING, "attempts": 0, "created_at": at})
        db.session.execute(sa.insert(Delivery.__table__), deliveries)
        self.events.clear()


@contextmanager
def batched() -> Iterator[_Batch]:
    """Many moves in one transaction (a council session's opening or close: ``nominations.move_many``).

    Inside, ``publish`` decides as always who wants each event and what it says, but keeps it; at the
    end the events and their deliveries are written in three statements instead of three per event and
    subscriber (a ``MAX(sequence)``, the event, the delivery): the same rows, in the same order, with
    the same sequence numbers (issue 16).  An exception inside writes nothing (the caller's transaction
    is rolled back anyway)."""
    session = db.session()
    if _BATCH in session.info:  # already inside one: its writer writes everything
        yield session.info[_BATCH]
        return
    batch = session.info[_BATCH] = _Batch()
    try:
        yield batch
        batch.write()
    finally:
        session.info.pop(_BATCH, None)


def dossier_moved(nomination: Nomination, action: str, before: str, after: str, actor_id: int | None,
                  actor_name: str | None, meta: dict | None, at: datetime | None = None) -> None:
    """A dossier's log row was written (a move of the machine, a transfer, a death recorded)."""
    if not _subscribers():
        return
    at = at or now_utc()
    action, before, after = str(action), str(before), str(after)
    base = {"dossier_id": nomination.id, "dossier_code": nomination.code, "round_id": nomination.round_id,
            "province_code": nomination.province_code}
    publish(p.STATE_CHANGED, {**base, "action": action, "from_state": before, "to_state": after,
                              "changed_at": _iso(at), "unit": unit_of(nomination, actor_id, actor_name, meta),
                              "sequence": 0}, nomination, at)
    if action == "record_award":
        publish(p.DECISION_RECORDED, {**base, "title": str(nomination.title), "award_title": nomination.award_title,
                                      "decision_no": nomination.decision_no,
                                      "decision_date": _date(nomination.decision_date),
                                      "recorded_at": _iso(at), "sequence": 0}, nomination, at)
    elif action == "open_consultation":
        publish(p.CONSULTATION_OPENED, {**base, "title": str(nomination.title),
                                        "consultation_ends": _date(nomination.consultation_ends),
                                        "opened_at": _iso(at), "sequence": 0}, nomination, at)


def _date(value) -> str | None:
    return value.isoformat() if value else None


def session_closed(session, items) -> None:
    """A council session closed (its tally written): its counts and each dossier's result."""
    if not _subscribers():
        return
    council = session.council
    publish(p.SESSION_CLOSED, {
        "session_id": session.id, "council_id": council.id, "council_name": council.name,
        "level": str(council.level), "province_code": council.province_code,
        "closed_at": _iso(session.closed_at or now_utc()), "received": session.received_count or 0,
        "passed": session.passed_count or 0, "rejected": session.rejected_count or 0,
        "results": [{"dossier_code": item.nomination.code, "passed": bool(item.passed)} for item in items]})
