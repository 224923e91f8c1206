"""A hash chain over the transition log, so that an edited or removed row is found.

Each log row stores ``hash = sha256(prev_hash + canonical fields)``, where
``prev_hash`` is the hash of the nomination's previous row ("" for the first).
The chain runs per nomination, so that writes to different dossiers never contend;
the nomination's row lock (taken by every transition) keeps each chain linear.
``flask --app wsgi audit verify`` walks every chain and names the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import click
import sqlalchemy as sa

FIELDS = ("nomination_id", "action", "from_state", "to_state", "actor_id", "actor_name", "comment", "meta")


def log_table() -> sa.TableClause:
    """A lightweight, typed view of the table (also used by the migration that adds the chain)."""
    return sa.table(
        "transition_log",
        sa.column("id", sa.Integer), sa.column("nomination_id", sa.Integer), sa.column("action", sa.String),
        sa.column("from_state", sa.String), sa.column("to_state", sa.String), sa.column("actor_id", sa.Integer),
        sa.column("actor_name", sa.String), sa.column("comment", sa.Text),
        sa.column("at", sa.DateTime(timezone=True)), sa.column("meta", sa.JSON),
        sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    )


def _canonical_time(at) -> str:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_hash(prev_hash: str, values: dict) -> str:
    payload = {name: values.get(name) for name in FIELDS}
    payload["at"] = _canonical_time(values["at"])
    payload["meta"] = payload["meta"] or {}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


@dataclass
class Broken:
    log_id: int
    nomination_id: int
    reason: str


def verify(connection) -> tuple[int, Broken | None]:
    """Check every chain; return (rows checked, first broken link or None)."""
    table = log_table()
    rows = connection.execute(sa.select(table).order_by(table.c.nomination_id, table.c.id)).mappings()
    last: dict[int, str] = {}
    count = 0
    for row in rows:
        count += 1
        meta = row["meta"]
        if isinstance(meta, str):
            meta = json.loads(meta)
        values = {**row, "meta": meta}
        expected_prev = last.get(row["nomination_id"], "")
        if row["prev_hash"] != expected_prev:
            return count, Broken(row["id"], row["nomination_id"], "prev_hash does not match the previous row")
        if row["hash"] != link_hash(expected_prev, values):
            return count, Broken(row["id"], row["nomination_id"], "the row's content does not match its hash")
        last[row["nomination_id"]] = row["hash"]
    return count, None


@click.group("audit")
def audit_cli():
    """The tamper-evident transition log."""


@audit_cli.command("verify")
def verify_command():
    """Walk every nomination's chain; exit 1 at the first broken link."""
    from .extensions import db

    with db.engine.connect() as connection:
        count, broken = verify(connection)
    if broken:
        click.echo(f"BROKEN at log row {broken.log_id} (nomination {broken.nomination_id}): {broken.reason}")
        raise SystemExit(1)
    click.echo(f"OK: {count} log rows, every chain intact")
