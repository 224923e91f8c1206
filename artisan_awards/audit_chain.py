"""One keyed, numbered chain over both logs, so that an edited, removed or rewritten row is found.

Every row of ``transition_log`` (dossier moves) and ``audit_events`` (logins, roles, rounds,
councils...) carries a global sequence number ``seq`` (1, 2, 3... across the two tables, no gaps),
``prev_hash`` (the MAC of the row numbered ``seq - 1``, "" for the first) and

    hash = HMAC-SHA256(AUDIT_CHAIN_KEY, canonical JSON of {log, seq, prev, the row's fields})

The key is not in the database (``chain_key``), so someone who can write the database can delete
or edit rows but cannot make the MACs agree again.  The one-row table ``audit_chain_head`` holds
the last number and MAC; a transaction that wrote log rows locks it just before it commits
(``_seal``), numbers its rows and moves the head, so numbers are handed out one transaction at a
time and never skipped.  Rows are therefore not added to the session directly: ``append`` keeps
them until the commit.

``flask --app wsgi audit verify`` walks the chain in ``seq`` order and reports every break (a
gap, a broken link, a MAC that does not match, a head that does not match the last row), checks
each dossier's state and code against its last log row, and checks signed checkpoints
(``flask --app wsgi audit checkpoint``; one is also put in each round's document ZIP): a
checkpoint names the head (number and MAC) at a moment, signed with the key, so a later rewrite
of the whole chain -- even one re-MACed with another key -- no longer extends it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from workflows.states import TRANSFER_PROVINCE

from .timeutil import as_utc

LOGS = ("transition_log", "audit_events")
TRANSITION_FIELDS = ("nomination_id", "action", "from_state", "to_state", "actor_id", "actor_name", "comment",
                     "meta")
EVENT_FIELDS = ("kind", "actor_id", "actor_name", "target_type", "target_id", "target_label", "province_code",
                "ip", "details")
FIELDS = {"transition_log": TRANSITION_FIELDS, "audit_events": EVENT_FIELDS}
KEY_LABEL = b"artisan-awards/audit-chain/v1"
CHECKPOINT_KIND = "artisan-awards/audit-checkpoint"
MIN_KEY_LENGTH = 32


# -- the key --------------------------------------------------------------------------------------

def chain_key(config=None) -> bytes:
    """``AUDIT_CHAIN_KEY`` if set; else derived from ``SECRET_KEY`` under a label of its own."""
    if config is None:
        from flask import current_app

        config = current_app.config
    configured = config.get("AUDIT_CHAIN_KEY")
    if configured:
        return configured.encode("utf-8") if isinstance(configured, str) else bytes(configured)
    secret = config.get("SECRET_KEY") or ""
    secret = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, KEY_LABEL, hashlib.sha256).digest()


def init_app(app) -> None:
    """Refuse a configured key too short to be secret; say so when the key is only derived."""
    configured = app.config.get("AUDIT_CHAIN_KEY")
    if configured and len(configured) < MIN_KEY_LENGTH:
        raise RuntimeError(f"AUDIT_CHAIN_KEY must be at least {MIN_KEY_LENGTH} characters long")
    if not configured and not (app.debug or app.testing) and app.config.get("SECRET_KEY") != "dev-only-change-me":
        app.logger.warning("AUDIT_CHAIN_KEY is not set: the audit chain key is derived from SECRET_KEY; "
                           "set AUDIT_CHAIN_KEY (kept outside the database) in production")


# -- canonical form and MAC -----------------------------------------------------------------------

# A transition-log row that moves a dossier to a merged province's successor (services/law.py): the
# state stays, ``meta`` names ``from_province`` and ``to_province``; the dossier keeps its code.
TRANSFER_ACTION = TRANSFER_PROVINCE


def log_table(name: str = "transition_log", numbered: bool = False) -> sa.TableClause:
    """A lightweight, typed view of a log table (also used by the migrations: 0006 reads the
    transition log as it was then, without ``seq``)."""
    if name == "transition_log":
        columns = [sa.column("nomination_id", sa.Integer), sa.column("action", sa.String),
                   sa.column("from_state", sa.String), sa.column("to_state", sa.String),
                   sa.column("actor_id", sa.Integer), sa.column("actor_name", sa.String),
                   sa.column("comment", sa.Text), sa.column("meta", sa.JSON)]
    else:
        columns = [sa.column("kind", sa.String), sa.column("actor_id", sa.Integer),
                   sa.column("actor_name", sa.String), sa.column("target_type", sa.String),
                   sa.column("target_id", sa.Integer), sa.column("target_label", sa.String),
                   sa.column("province_code", sa.String), sa.column("ip", sa.String),
                   sa.column("details", sa.JSON)]
    if numbered:
        columns.append(sa.column("seq", sa.BigInteger))
    return sa.table(name, sa.column("id", sa.Integer), *columns, sa.column("at", sa.DateTime(timezone=True)),
                    sa.column("prev_hash", sa.String), sa.column("hash", sa.String))


def head_table() -> sa.TableClause:
    return sa.table("audit_chain_head", sa.column("id", sa.Integer), sa.column("seq", sa.BigInteger),
                    sa.column("hash", sa.String), sa.column("at", sa.DateTime(timezone=True)))


def _canonical_time(at) -> str:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return as_utc(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value):
    if isinstance(value, str):
        return json.loads(value)
    return value or {}


def _canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def row_mac(key: bytes, log: str, seq: int, prev_hash: str, values) -> str:
    payload = {name: values.get(name) for name in FIELDS[log]}
    payload["meta" if log == "transition_log" else "details"] = _json(
        values.get("meta" if log == "transition_log" else "details"))
    payload.update(log=log, seq=int(seq), prev=prev_hash, at=_canonical_time(values["at"]))
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def legacy_link_hash(prev_hash: str, values: dict) -> str:
    """The old unkeyed per-nomination SHA-256 link (migration 0006); kept for the downgrade of 0013."""
    payload = {name: values.get(name) for name in TRANSITION_FIELDS}
    payload["at"] = _canonical_time(values["at"])
    payload["meta"] = _json(payload["meta"])
    return hashlib.sha256((prev_hash + _canonical(payload).decode("utf-8")).encode("utf-8")).hexdigest()


link_hash = legacy_link_hash  # the name migration 0006 imports


# -- writing: rows join the chain at commit ---------------------------------------------------------

PENDING = "audit_chain_pending"


def append(row, session: Session | None = None) -> None:
    """Add a TransitionLog or AuditEvent row to the current transaction; it is numbered and MACed
    (and inserted) when the transaction commits, under the chain head's lock."""
    if session is None:
        from .extensions import db

        session = db.session()
    session.info.setdefault(PENDING, []).append(row)


@dataclass
class Values:
    """A log row kept as plain column values (``append_values``), inserted at the commit with the rows
    next to it in one executemany instead of as an ORM object flushed with the unit of work."""

    log: str
    values: dict


def append_values(log: str, session: Session | None = None, **values) -> None:
    """``append`` for a row given as its columns' values, for an operation that writes many at once (a
    council session's 250 moves: ``services.nominations.move_many``).  Numbered, MACed and placed in the
    chain exactly as an ``append``ed object would be; no object is made, so nothing reads its id back."""
    if log not in FIELDS:
        raise ValueError(f"not a chained log: {log}")
    if session is None:
        from .extensions import db

        session = db.session()
    session.info.setdefault(PENDING, []).append(Values(log, dict(values)))


def _fill_defaults(row, log: str) -> None:
    from .timeutil import now_utc

    if row.at is None:
        row.at = now_utc()
    if log == "transition_log":
        row.meta = row.meta or {}
    else:
        row.details = row.details or {}
        for name in ("actor_name", "target_type", "target_label"):
            if getattr(row, name) is None:
                setattr(row, name, "")


def _lock_head(connection) -> tuple[int, str]:
    """Take the head's row lock (a write lock on SQLite) and read it."""
    head = head_table()
    # An UPDATE, not SELECT ... FOR UPDATE: it also takes SQLite's write lock before the read.
    connection.execute(sa.update(head).where(head.c.id == 1).values(seq=head.c.seq))
    row = connection.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).one_or_none()
    if row is None:
        raise RuntimeError("audit_chain_head is empty: run the migrations (flask --app wsgi db upgrade)")
    return int(row.seq), row.hash


@event.listens_for(Session, "before_commit")
def _seal(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if not rows:
        return
    from .timeutil import now_utc

    key = chain_key()
    seq, prev = _lock_head(session.connection())
    run: list[dict] = []  # consecutive ``Values`` rows of one table, inserted together
    run_log, added = None, False

    def insert_run() -> None:
        nonlocal added
        if not run:
            return
        if added:  # objects numbered before this run are inserted first: ids follow the chain's order
            session.flush()
            added = False
        session.execute(sa.insert(_TABLES[run_log]()), list(run))
        run.clear()

    for row in rows:
        if isinstance(row, Values):
            log, values = row.log, row.values
            if values.get("at") is None:
                values["at"] = now_utc()
            if log == "transition_log":
                values["meta"] = values.get("meta") or {}
            else:
                values["details"] = values.get("details") or {}
                for name in ("actor_name", "target_type", "target_label"):
                    values[name] = values.get(name) or ""
            seq += 1
            values["seq"], values["prev_hash"] = seq, prev
            values["hash"] = prev = row_mac(key, log, seq, prev, values)
            if log != run_log:
                insert_run()
                run_log = log
            run.append(values)
            continue
        insert_run()
        log = row.__tablename__
        _fill_defaults(row, log)
        seq += 1
        values = {name: getattr(row, name) for name in (*FIELDS[log], "at")}
        row.seq, row.prev_hash = seq, prev
        row.hash = prev = row_mac(key, log, seq, row.prev_hash, values)
        session.add(row)
        added = True
    insert_run()
    head = head_table()
    session.execute(sa.update(head).where(head.c.id == 1).values(seq=seq, hash=prev, at=now_utc()))


def _transition_table() -> sa.Table:
    from .models import TransitionLog

    return TransitionLog.__table__


def _event_table() -> sa.Table:
    from .models import AuditEvent

    return AuditEvent.__table__


_TABLES = {"transition_log": _transition_table, "audit_events": _event_table}


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or rolled back)
        session.info.pop(PENDING, None)


# -- checking -------------------------------------------------------------------------------------

@dataclass
class Broken:
    log: str  # transition_log, audit_events, nominations, audit_chain_head, checkpoint
    row_id: int | None
    seq: int | None
    nomination_id: int | None
    reason: str

    @property
    def log_id(self) -> int | None:
        return self.row_id

    def where(self) -> str:
        seq = f" seq {self.seq}" if self.seq is not None else ""
        if self.log == "transition_log":
            return f"log row {self.row_id} (nomination {self.nomination_id}){seq}"
        if self.log == "audit_events":
            return f"admin event {self.row_id}{seq}"
        if self.log == "nominations":
            return f"nomination {self.nomination_id} (last log row {self.row_id})"
        if self.log == "audit_chain_head":
            return f"chain head{seq}"
        return f"checkpoint {self.row_id or ''}".rstrip()


@dataclass
class Report:
    transitions: int = 0
    events: int = 0
    head_seq: int = 0
    breaks: list[Broken] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _rows(connection) -> list[tuple[str, dict]]:
    out = []
    for log in LOGS:
        table = log_table(log, numbered=True)
        for row in connection.execute(sa.select(table)).mappings():
            out.append((log, dict(row)))
    return out


def check(connection, key: bytes | None = None, checkpoints: list[tuple[str, dict]] = ()) -> Report:
    """Walk the whole chain and every dossier; return every break found."""
    key = chain_key() if key is None else key
    report = Report()
    rows = _rows(connection)
    report.transitions = sum(1 for log, _ in rows if log == "transition_log")
    report.events = len(rows) - report.transitions

    def broken(log, row, reason):
        report.breaks.append(Broken(log, row.get("id"), row.get("seq"), row.get("nomination_id"), reason))

    numbered = []
    for log, row in rows:
        if row["seq"] is None:
            broken(log, row, "the row has no sequence number: it was not written through the chain")
        else:
            numbered.append((log, row))
    numbered.sort(key=lambda item: (item[1]["seq"], item[0]))
    by_seq: dict[int, dict] = {}
    expected, prev = 1, ""
    last_move: dict[int, dict] = {}
    transfers: dict[int, list[dict]] = {}
    for log, row in numbered:
        seq = int(row["seq"])
        if seq < expected:
            broken(log, row, f"sequence number {seq} is used twice")
            continue
        for reason in (_link_problem(expected, prev, row), _mac_problem(key, log, row)):
            if reason:
                broken(log, row, reason)
        by_seq[seq] = row
        prev, expected = row["hash"], seq + 1
        if log == "transition_log":
            last_move[row["nomination_id"]] = row
            if row["action"] == TRANSFER_ACTION:
                transfers.setdefault(row["nomination_id"], []).append(row)
    _check_head(connection, expected - 1, prev, report)
    _check_nominations(connection, last_move, report, transfers)
    for name, statement in checkpoints:
        _check_checkpoint(key, name, statement, by_seq, report)
    return report


def _missing(first: int, last: int) -> str:
    return f"row {first} of the chain is missing" if first == last else f"rows {first}..{last} of the chain are missing"


def _link_problem(expected: int, prev: str, row: dict) -> str | None:
    """The numbering and the link: a row deleted anywhere leaves a gap or a link to nothing."""
    seq = int(row["seq"])
    if seq > expected:
        return f"{_missing(expected, seq - 1)} (deleted) before this row"
    if row["prev_hash"] != prev:
        return "prev_hash does not match the previous row's MAC (a row was replaced)"
    return None


def _mac_problem(key: bytes, log: str, row: dict) -> str | None:
    """The row's own MAC under the key: an edit, or a row written by someone without the key."""
    if hmac.compare_digest(row["hash"] or "", row_mac(key, log, int(row["seq"]), row["prev_hash"] or "", row)):
        return None
    return "the row's content does not match its MAC (edited, or written without the key)"


def _check_head(connection, last: int, last_hash: str, report: Report) -> None:
    """The head names the last number and MAC: rows deleted at the end of the chain are seen."""
    head = head_table()
    row = connection.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).one_or_none()
    if row is None:
        report.breaks.append(Broken("audit_chain_head", None, None, None, "the chain head row is missing"))
        return
    report.head_seq = int(row.seq)
    reason = None
    if row.seq > last:
        reason = f"the newest {_missing(last + 1, row.seq)} (deleted); the head says {row.seq}"
    elif row.seq < last:
        reason = f"rows after the head ({row.seq}) were added behind the chain's back"
    elif row.hash != last_hash:
        reason = "the head's MAC does not match the last row (the chain was rewritten)"
    if reason:
        report.breaks.append(Broken("audit_chain_head", None, int(row.seq), None, reason))


def _province_path(code_province: str, moves: list[dict]) -> str | None:
    """Where the logged transfers took a dossier filed in ``code_province`` (None: a broken path)."""
    at = code_province
    for move in moves:
        meta = move["meta"] if isinstance(move["meta"], dict) else json.loads(move["meta"] or "{}")
        if meta.get("from_province") != at:
            return None
        at = meta.get("to_province")
    return at


def _check_nominations(connection, last_move: dict[int, dict], report: Report,
                       transfers: dict[int, list[dict]] | None = None) -> None:
    nominations = sa.table("nominations", sa.column("id", sa.Integer), sa.column("state", sa.String),
                           sa.column("code", sa.String), sa.column("province_code", sa.String))
    for n in connection.execute(sa.select(nominations).order_by(nominations.c.id)).mappings():
        move = last_move.get(n["id"])

        def broken(reason, move=move, n=n):
            report.breaks.append(Broken("nominations", move["id"] if move else None,
                                        move["seq"] if move else None, n["id"], reason))

        if move is None:
            if n["state"] != "draft":
                broken(f"the dossier is in state '{n['state']}' but has no log row")
            continue
        if move["to_state"] != n["state"]:
            broken(f"the state column says '{n['state']}' but the last log row says '{move['to_state']}'")
        if n["code"]:
            parts = n["code"].split("-")
            moved = (transfers or {}).get(n["id"], [])
            if len(parts) == 4 and moved and _province_path(parts[2], moved) != n["province_code"]:
                broken(f"the province column says '{n['province_code']}' but the logged transfers of the dossier "
                       f"(code {n['code']}) lead elsewhere")
            elif len(parts) == 4 and not moved and parts[2] != n["province_code"]:
                broken(f"the province column says '{n['province_code']}' but the dossier code {n['code']} "
                       f"was given in '{parts[2]}'")


# -- checkpoints ----------------------------------------------------------------------------------

def _signature(key: bytes, statement: dict) -> str:
    body = {k: v for k, v in statement.items() if k != "signature"}
    return hmac.new(key, _canonical(body), hashlib.sha256).hexdigest()


def checkpoint(connection, key: bytes | None = None, **extra) -> dict:
    """A signed statement of the chain head now: its number, its MAC, the time."""
    from .timeutil import now_utc

    key = chain_key() if key is None else key
    head = head_table()
    row = connection.execute(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)).one()
    statement = {"kind": CHECKPOINT_KIND, "version": 1, "seq": int(row.seq), "hash": row.hash,
                 "at": _canonical_time(now_utc()), **extra}
    statement["signature"] = _signature(key, statement)
    return statement


def checkpoint_json(statement: dict) -> str:
    return json.dumps(statement, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _check_checkpoint(key: bytes, name: str, statement, by_seq: dict[int, dict], report: Report) -> None:
    def broken(reason, seq=None):
        report.breaks.append(Broken("checkpoint", name, seq, None, reason))

    if not isinstance(statement, dict) or statement.get("kind") != CHECKPOINT_KIND:
        broken("not an audit checkpoint")
        return
    if not hmac.compare_digest(str(statement.get("signature", "")), _signature(key, statement)):
        broken("the checkpoint's signature does not match: it was edited, or signed with another key")
        return
    seq, at = statement.get("seq"), statement.get("at")
    if not isinstance(seq, int) or seq < 0:
        broken("the checkpoint names no sequence number")
        return
    if seq == 0:
        return
    row = by_seq.get(seq)
    if row is None:
        broken(f"row {seq}, the head at the checkpoint of {at}, is no longer in the chain", seq)
    elif row["hash"] != statement.get("hash"):
        broken(f"row {seq} no longer has the MAC it had at the checkpoint of {at}: the chain was rewritten", seq)


def quick_status(connection, key: bytes | None = None) -> dict:
    """A cheap look for the admin page: every number up to the head is there (by counting) and the
    newest row's MAC holds.  The full walk is ``audit verify``."""
    key = chain_key() if key is None else key
    head = head_table()
    row = connection.execute(sa.select(head.c.seq, head.c.hash, head.c.at).where(head.c.id == 1)).one_or_none()
    if row is None:
        return {"ok": False, "seq": 0, "at": None}
    count, last = 0, None
    for log in LOGS:
        table = log_table(log, numbered=True)
        count += connection.execute(sa.select(sa.func.count()).select_from(table)
                                    .where(table.c.seq.is_not(None), table.c.seq <= row.seq)).scalar_one()
        found = connection.execute(sa.select(table).where(table.c.seq == row.seq)).mappings().first()
        last = (log, dict(found)) if found else last
    ok = count == row.seq and (row.seq == 0 or (
        last is not None and last[1]["hash"] == row.hash and _mac_problem(key, last[0], last[1]) is None))
    return {"ok": ok, "seq": int(row.seq), "at": row.at}


def verify(connection) -> tuple[int, Broken | None]:
    """Check the chain; return (transition log rows, first break or None)."""
    report = check(connection)
    return report.transitions, (report.breaks[0] if report.breaks else None)


# -- command line ---------------------------------------------------------------------------------

@click.group("audit")
def audit_cli():
    """The tamper-evident logs: one keyed chain over dossier moves and administrative events."""


MAX_SHOWN = 200


@audit_cli.command("verify")
@click.option("--checkpoint", "checkpoints", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A checkpoint written earlier (flask audit checkpoint, or a round's ZIP); repeatable.")
def verify_command(checkpoints):
    """Walk the whole chain; print every break and exit 1 if there is one."""
    from .extensions import db

    loaded = []
    for path in checkpoints:
        try:
            with open(path, encoding="utf-8") as handle:
                loaded.append((path, json.load(handle)))
        except (OSError, ValueError) as exc:
            loaded.append((path, {"unreadable": str(exc)}))
    with db.engine.connect() as connection:
        report = check(connection, checkpoints=loaded)
    for broken in report.breaks[:MAX_SHOWN]:
        click.echo(f"BROKEN at {broken.where()}: {broken.reason}")
    if len(report.breaks) > MAX_SHOWN:
        click.echo(f"... and {len(report.breaks) - MAX_SHOWN} more breaks")
    if report.breaks:
        click.echo(f"FAILED: {len(report.breaks)} breaks in {report.transitions} log rows and "
                   f"{report.events} admin events")
        raise SystemExit(1)
    extended = f"; extends {len(loaded)} checkpoint(s)" if loaded else ""
    click.echo(f"OK: {report.transitions} log rows and {report.events} admin events, chain 1..{report.head_seq} "
               f"intact, every dossier's state matches its log{extended}")


@audit_cli.command("checkpoint")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write the checkpoint to this file (default: standard output).")
def checkpoint_command(output):
    """Write a signed statement of the chain head (verifies the chain first)."""
    from .extensions import db

    with db.engine.connect() as connection:
        report = check(connection)
        if report.breaks:
            for broken in report.breaks[:MAX_SHOWN]:
                click.echo(f"BROKEN at {broken.where()}: {broken.reason}", err=True)
            click.echo("No checkpoint written: the chain is broken.", err=True)
            raise SystemExit(1)
        text = checkpoint_json(checkpoint(connection))
    if output:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        click.echo(f"Checkpoint of row {json.loads(text)['seq']} written to {output}")
    else:
        click.echo(text, nl=False)
