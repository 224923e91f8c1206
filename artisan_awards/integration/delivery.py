"""The delivery worker: ``flask integration deliver`` (once) or ``--loop`` (a long-running service).

Each pass claims due deliveries, POSTs each one's body to its subscriber, signed with the subscriber's
secret (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), and writes the
attempt's result.  A 2xx answer delivers it; anything else (another status, a timeout, a refused
connection) counts an attempt and waits ``INTEGRATION_BACKOFF_SECONDS`` x 2^(attempts-1) (at most
``INTEGRATION_BACKOFF_MAX_SECONDS``); after ``INTEGRATION_MAX_ATTEMPTS`` it is a dead letter, kept
until an administrator replays it.

* **Exactly the same message on every retry**: the body is stored with the delivery and its
  ``webhook-id`` never changes, so a receiver deduplicates on it (a worker killed after the POST and
  before writing the result sends it again: at least once, never lost).
* **Ordering per dossier per subscriber**: a delivery is not claimed while an earlier one of the same
  dossier to the same subscriber is not delivered, pending or dead.  Behind a dead letter the
  dossier's later messages wait (they are not dead themselves) until it is replayed and delivered.
* **Claims**: a claim is a lease (``claimed_by``, ``claimed_until`` = now + ``INTEGRATION_CLAIM_SECONDS``)
  written in a short transaction before the POST, so no transaction stays open while a partner
  answers.  On PostgreSQL the candidates are read ``FOR UPDATE SKIP LOCKED``: two workers never claim
  one row; on SQLite the claim takes the database's write lock first (one writer at a time).  A worker
  killed mid-send leaves a lease that runs out; then any worker takes the delivery again.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import requests
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import aliased
from standardwebhooks.webhooks import Webhook

from ..extensions import db
from ..models import Delivery, DeliveryAttempt, Subscriber
from ..models.integration import DEAD, DELIVERED, PENDING
from ..timeutil import now_utc

USER_AGENT = "artisan-awards-webhooks/1"


@dataclass
class Pass:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def backoff(attempts: int) -> timedelta:
    cfg = current_app.config
    seconds = float(cfg["INTEGRATION_BACKOFF_SECONDS"]) * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, float(cfg["INTEGRATION_BACKOFF_MAX_SECONDS"])))


def _blocked():
    """An earlier delivery of the same dossier to the same subscriber is not delivered yet."""
    earlier = aliased(Delivery)
    return sa.exists().where(earlier.subscriber_id == Delivery.subscriber_id,
                             earlier.nomination_id == Delivery.nomination_id,
                             earlier.sequence < Delivery.sequence,
                             earlier.status != DELIVERED)


def due_query(now: datetime) -> sa.Select:
    return (sa.select(Delivery.id)
            .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
            .where(Delivery.status == PENDING, Subscriber.active.is_(True),
                   sa.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                   sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                   ~_blocked())
            .order_by(Delivery.id))


def claim(worker: str, limit: int) -> list[int]:
    """Claim up to ``limit`` due deliveries for ``worker`` (committed): their ids."""
    now = now_utc()
    cfg = current_app.config  # a claim outlives the slowest answer it waits for: no second sender meanwhile
    until = now + timedelta(seconds=max(float(cfg["INTEGRATION_CLAIM_SECONDS"]),
                                        float(cfg["INTEGRATION_TIMEOUT_SECONDS"]) + 5))
    table = Delivery.__table__
    try:
        query = due_query(now).limit(limit)
        if db.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Delivery)
        else:  # SQLite: take the write lock before reading, so two workers claim one after the other
            db.session.execute(sa.update(table).where(sa.false()).values(claimed_by=None))
        ids = list(db.session.scalars(query))
        if ids:  # still unclaimed when written (the row's latest version): only one worker's claim holds
            ids = sorted(db.session.scalars(
                sa.update(table).where(table.c.id.in_(ids), table.c.status == PENDING,
                                       sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now))
                .values(claimed_by=worker, claimed_until=until).returning(table.c.id)))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return ids


def sign(secret: str, message_id: str, body: bytes, at: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``."""
    at = at or now_utc()
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body)}


def _post(url: str, secret: str, message_id: str, body: bytes) -> tuple[int | None, str | None]:
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
               **sign(secret, message_id, body)}
    seconds = float(current_app.config["INTEGRATION_TIMEOUT_SECONDS"])
    try:
        answer = requests.post(url, data=body, headers=headers, allow_redirects=False, timeout=seconds)
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"HTTP {answer.status_code}: {answer.text[:200]}"[:500]


def attempt(delivery_id: int, worker: str) -> str:
    """Send one claimed delivery and write the result: ``delivered``, ``failed`` or ``dead``."""
    row = db.session.get(Delivery, delivery_id)
    subscriber = row.subscriber
    url, secret, message_id, body = subscriber.url, subscriber.secret, row.message_id, row.body.encode("utf-8")
    db.session.commit()  # no transaction open while the partner answers
    started = time.monotonic()
    status_code, error = _post(url, secret, message_id, body)
    took = int((time.monotonic() - started) * 1000)
    now = now_utc()
    row = db.session.get(Delivery, delivery_id, with_for_update=db.engine.dialect.name == "postgresql",
                         populate_existing=True)
    row.attempts += 1  # this round's count (a replay starts it again); the log numbers every attempt ever
    number = 1 + db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryAttempt)
                                   .where(DeliveryAttempt.delivery_id == row.id))
    db.session.add(DeliveryAttempt(delivery_id=row.id, number=number, at=now, status_code=status_code,
                                   error=error, duration_ms=took, worker=worker))
    row.last_status_code, row.last_error = status_code, error
    if row.claimed_by == worker:
        row.claimed_by = row.claimed_until = None
    if error is None:
        row.status, row.delivered_at, outcome = DELIVERED, now, "delivered"
    elif row.status == DELIVERED:  # another worker delivered it after this one's lease ran out
        outcome = "failed"
    elif row.attempts >= int(current_app.config["INTEGRATION_MAX_ATTEMPTS"]):
        row.status, row.dead_at, row.next_attempt_at, outcome = DEAD, now, None, "dead"
    else:
        row.next_attempt_at, outcome = now + backoff(row.attempts), "failed"
    db.session.commit()
    return outcome


def deliver_due(limit: int = 50, worker: str | None = None) -> Pass:
    """One pass: claim what is due and send it, one delivery at a time."""
    worker = worker or worker_name()
    result = Pass()
    for delivery_id in claim(worker, limit):
        result.claimed += 1
        outcome = attempt(delivery_id, worker)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def replay(ids: list[int] | None = None, subscriber_id: int | None = None) -> list[int]:
    """Dead letters back into the queue (all of them, one subscriber's, or the ones given): attempts
    start again from 0, the log of earlier attempts stays.  The caller commits; returns their ids."""
    query = sa.select(Delivery).where(Delivery.status == DEAD)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    if subscriber_id is not None:
        query = query.where(Delivery.subscriber_id == subscriber_id)
    rows = list(db.session.scalars(query.order_by(Delivery.id).with_for_update()))
    for row in rows:
        row.status, row.attempts, row.next_attempt_at, row.dead_at = PENDING, 0, None, None
        row.claimed_by = row.claimed_until = None
    return [row.id for row in rows]


integration_cli = AppGroup("integration", help="Events for other systems: webhooks and status sync.")


@integration_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep running: a pass, then wait when nothing was due.")
@click.option("--interval", type=float, default=None,
              help="Seconds between passes with --loop (default INTEGRATION_POLL_SECONDS).")
@click.option("--limit", default=50, show_default=True, help="Deliveries claimed per pass.")
def deliver_command(loop: bool, interval: float | None, limit: int) -> None:
    """Send the deliveries that are due (once, or with --loop until stopped)."""
    interval = float(current_app.config["INTEGRATION_POLL_SECONDS"] if interval is None else interval)
    worker = worker_name()
    stopping = []
    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stopping.append(True))
    while True:
        done = deliver_due(limit=limit, worker=worker)
        if done.claimed or not loop:
            click.echo(f"claimed {done.claimed}, delivered {done.delivered}, failed {done.failed}, "
                       f"dead {done.dead}", err=loop)
        if not loop or stopping:
            return
        if not done.claimed:
            deadline = time.monotonic() + interval
            while time.monotonic() < deadline and not stopping:
                time.sleep(min(0.2, interval))
            if stopping:
                return


@integration_cli.command("replay")
@click.option("--subscriber", "subscriber_id", type=int, default=None, help="Only this subscriber's dead letters.")
def replay_command(subscriber_id: int | None) -> None:
    """Put the dead letters back into the queue."""
    ids = replay(subscriber_id=subscriber_id)
    db.session.commit()
    click.echo(f"replayed {len(ids)}")
