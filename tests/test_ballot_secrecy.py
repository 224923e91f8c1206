"""Ballot secrecy against a database reader, and the close (issue 12, acceptance 1 and 2).

A. The attacker.  One session of 9 present members runs in two worlds: the same members, the
   same voting order, the same final totals, but the members' ballots permuted.  After EVERY
   ballot the attacker copies the whole database (SQLite: every table in its physical order,
   with the rowid where the table has one; PostgreSQL: every table with ctid, xmin and xmax,
   and the raw heap pages with their dead row versions through ``pageinspect``), the
   application log, an access log line per request and the mail outbox.  It decodes every
   blob it can (text, JSON), diffs consecutive copies, and masks only what it cannot read: a
   sealed box becomes its length, a random box id a placeholder (and values random or timed
   for reasons unrelated to the vote: password salts, token hashes, timestamps, transaction
   ids renumbered by first appearance).  The two worlds' views must be identical at every
   step.  The CONTROL runs the same attack on deliberately leaky variants, which it must catch.

B. The race.  Ballots and the close fired at the same moment, many rounds, on a real file
   database (SQLite) or server (PostgreSQL): the decision, the log row, the tally and the
   minutes PDF always agree; every ballot answered 201 is counted, every other one got 409.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import request

from artisan_awards import ballot_box, create_app, field_crypto
from artisan_awards.extensions import db
from artisan_awards.models import AgendaItem, CouncilSession, Nomination, SealedBallot, TransitionLog
from artisan_awards.services import councils as council_service
from tests import factories
from tests.apps import config_from_snapshot, world_snapshot
from tests.confirming import post_confirmed
from tests.conftest import ApiClient
from tests.factories import Factory
from tests.test_councils import Chain

# Nine ballots over three nominees ("" = left blank, an invalid vote).  World B gives member i
# the ballot of member i+1 of world A: same totals, different member -> choice.
BALLOTS_A = [
    ("yes", "yes", ""), ("no", "yes", "yes"), ("yes", "no", "no"), ("yes", "yes", "yes"), ("no", "no", ""),
    ("yes", "", "yes"), ("yes", "yes", "no"), ("no", "yes", "yes"), ("yes", "yes", "yes"),
]
BALLOTS_B = BALLOTS_A[1:] + BALLOTS_A[:1]

RANDOM_COLUMNS = {"password_hash", "access_key_hash", "token_hash", "hash", "prev_hash"}
TIME_TYPES = ("timestamp", "datetime")
HINT_BITS = 0x0100 | 0x0200 | 0x0400 | 0x0800  # xmin/xmax committed/invalid: set lazily by readers
TIME_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:[+-]\d{2}:?\d{2}|Z)?|\b\d{1,2}:\d{2}(?::\d{2})?\b")


def _readable(value):
    """What the attacker reads in a value; only a blob it cannot decode is reduced to its length.

    A blob counts as sealed only when it is at least nonce + tag long (28 bytes) and is not text;
    anything shorter or decodable is compared byte for byte (and as text / JSON when it decodes).
    """
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            text = value.decode()
        except UnicodeDecodeError:
            if len(value) >= ballot_box.NONCE_BYTES + 16:
                return ("sealed", len(value))
            return ("bytes", value.hex())
        at = text.find(field_crypto.PREFIX)
        if 0 <= at <= 4:  # a sealed personal field as stored in a heap page (its varlena header first)
            return ("encrypted", value[:at].hex(), len(value))
        try:  # a clock time in a stored document (a notice's "received_time") differs run to run
            return ("json", TIME_TEXT.sub("<time>", json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)))
        except ValueError:
            return ("text", TIME_TEXT.sub("<time>", text))
    if isinstance(value, str):
        if field_crypto.is_encrypted(value):  # a personal field sealed at rest (issue 17): opaque without the key
            return ("encrypted", field_crypto.key_id_of(value), len(value))
        return TIME_TEXT.sub("<time>", value)
    if isinstance(value, (dict, list)):  # a JSON column read back as Python
        return ("json", TIME_TEXT.sub("<time>", json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)))
    return value


class Xids:
    """Transaction ids renumbered by order of first appearance (their values differ run to run)."""

    def __init__(self):
        self.seen: dict[int, int] = {}

    def __call__(self, xid) -> int:
        xid = int(xid)
        if xid < 3:  # invalid, bootstrap, frozen
            return -xid
        return self.seen.setdefault(xid, len(self.seen) + 1)


def _column_kinds(conn, table: str, dialect: str) -> list[tuple[str, str]]:
    if dialect == "sqlite":
        return [(r[1], (r[2] or "").lower()) for r in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')]
    return [(r[0], r[1]) for r in conn.execute(sa.text(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 ORDER BY attnum"), {"t": table})]


def _mask(table: str, column: str, kind: str, value):
    if value is None:
        return None
    if table == "sealed_ballots" and column == "id":
        return "<random id>"
    if column in RANDOM_COLUMNS:
        return "<random>"
    if any(t in kind for t in TIME_TYPES):
        return "<time>"
    return _readable(value)


def _sqlite_copy(conn, kinds_of) -> dict:
    """Every table as stored: physical order, rowid where the table has one."""
    copy = {}
    for name, sql in conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all():
        kinds = kinds_of(conn, name)
        with_rowid = "WITHOUT ROWID" not in (sql or "").upper()
        select = f'SELECT {"rowid, " if with_rowid else ""}* FROM "{name}"'
        rows = []
        for row in conn.exec_driver_sql(select):
            values = list(row)
            rowid = values.pop(0) if with_rowid else None
            rows.append((rowid, tuple(_mask(name, c, k, v) for (c, k), v in zip(kinds, values, strict=True))))
        copy[name] = rows
    return copy


def _pg_copy(conn, xids: Xids, kinds_of) -> dict:
    """Every table with its system columns, then its raw heap pages including dead versions."""
    copy = {}
    tables = conn.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")).scalars().all()
    for name in tables:
        kinds = kinds_of(conn, name)
        live_kinds = [(c, k) for c, k in kinds if not c.startswith("........pg.dropped")]
        rows = []
        for row in conn.execute(sa.text(
                f'SELECT ctid::text, xmin::text, xmax::text, * FROM "{name}" ORDER BY ctid')):
            values = list(row)
            ctid, xmin, xmax = values[:3]
            rows.append((ctid, xids(xmin), xids(xmax), tuple(
                _mask(name, c, k, v) for (c, k), v in zip(live_kinds, values[3:], strict=True))))
        copy[name] = rows
        pages = conn.execute(sa.text("SELECT pg_relation_size(CAST(:t AS regclass)) / 8192"), {"t": name}).scalar()
        heap = []
        for block in range(pages):  # one statement per page (one for all pages costs the server ten times more)
            for item in conn.execute(sa.text(
                    "SELECT lp, lp_flags, lp_len, t_xmin::text, t_xmax::text, t_ctid::text, t_infomask, "
                    "t_infomask2, t_attrs FROM heap_page_item_attrs(get_raw_page(:t, :b), CAST(:t AS regclass))"),
                    {"t": name, "b": block}):
                lp, flags, length, txmin, txmax, tctid, infomask, infomask2, attrs = item
                masked = None
                if attrs is not None:
                    masked = []
                    for (c, k), raw in zip(kinds, attrs, strict=False):
                        raw = bytes(raw) if raw is not None else None
                        if raw is not None and raw[:1] == b"\x01" and len(raw) == 18:
                            masked.append("<toast pointer>")  # holds a cluster-wide OID
                        else:
                            masked.append(_mask(name, c, k, raw))
                heap.append((block, lp, flags, length, None if txmin is None else xids(txmin),
                             None if txmax is None else xids(txmax), tctid,
                             None if infomask is None else infomask & ~HINT_BITS, infomask2,
                             None if masked is None else tuple(masked)))
        copy[f"{name} (heap pages)"] = heap
    return copy


def _diff(before: dict, after: dict) -> dict:
    """What changed from one copy to the next: rows gone and rows new, per table."""
    out = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        gone = [r for r in old if r not in new]
        added = [r for r in new if r not in old]
        if gone or added:
            out[table] = (gone, added)
    return out


class World:
    """One run of the session; the attacker's copies after every ballot."""

    def __init__(self, app_config, start, ballots, dialect, last_step=None):
        self.app_config, self.start, self.ballots, self.dialect = app_config, start, ballots, dialect
        # The attacker copies after every step up to ``last_step`` (all of them when None); the
        # session itself always runs to its close.
        self.last_step = len(ballots) + 1 if last_step is None else last_step
        self.views: list[dict] = []
        self.access_log: list[str] = []
        self.app_log: list[str] = []
        self.tally = self.states = self.log_meta = None
        self.kinds: dict[str, list[tuple[str, str]]] = {}  # the schema does not change during a run

    def _kinds_of(self, conn, table: str) -> list[tuple[str, str]]:
        if table not in self.kinds:
            self.kinds[table] = _column_kinds(conn, table, self.dialect)
        return self.kinds[table]

    def _copy(self, attacker, xids) -> dict | None:
        if len(self.views) > self.last_step:
            return None
        with attacker.connect() as conn:
            data = (_sqlite_copy(conn, self._kinds_of) if self.dialect == "sqlite"
                    else _pg_copy(conn, xids, self._kinds_of))
            outbox = conn.execute(sa.text("SELECT * FROM outbox_messages ORDER BY id")).mappings().all()
        return {"database": data,
                "outbox": [{k: _mask("outbox_messages", k, "timestamp" if k.endswith("_at") else "", v)
                            for k, v in row.items()} for row in outbox],
                "access log": list(self.access_log), "application log": list(self.app_log)}

    def _view(self, attacker, xids) -> None:
        if (view := self._copy(attacker, xids)) is not None:
            self.views.append(view)

    def run(self) -> World:
        """The ballots and the close, on a copy of the open session (``_session_start``)."""
        app = create_app(self.app_config)

        @app.after_request
        def access_log(response):  # gunicorn's default access-log fields, without the time
            self.access_log.append(
                f'{request.remote_addr} - - "{request.method} {request.full_path} HTTP/1.1" '
                f'{response.status_code} {response.calculate_content_length()} "-" '
                f'"{request.user_agent.string}"')
            return response

        class Capture(logging.Handler):
            def emit(inner, record):
                self.app_log.append(f"{record.name} {record.levelname} "
                                    f"{TIME_TEXT.sub('<time>', record.getMessage())}")

        handler = Capture(level=logging.DEBUG)
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        attacker = sa.create_engine(self.app_config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
        xids = Xids()
        try:
            with app.app_context():
                start = self.start
                api = ApiClient(app.test_client())
                nominations = [SimpleNamespace(id=i) for i in start.nomination_ids]
                members = [SimpleNamespace(id=i, email=e) for i, e in start.members]
                secretariat, sid = SimpleNamespace(id=start.secretariat[0], email=start.secretariat[1]), start.sid
                # Tokens first, in this world (their use is written at most once a minute: tokens made
                # before the copy would be touched or not by how long ago the copy was made, not by votes).
                for user in [*members, secretariat]:
                    api.token(user)
                db.session.commit()
                self._view(attacker, xids)
                for member, ballot in zip(members, self.ballots, strict=True):
                    r = api.post(f"/api/v1/sessions/{sid}/ballot", member,
                                 json={"votes": {str(n.id): c for n, c in zip(nominations, ballot, strict=True)}})
                    assert r.status_code == 201, r.get_json()
                    self._view(attacker, xids)
                r = api.post(f"/api/v1/sessions/{sid}/close", secretariat)
                assert r.status_code == 200, r.get_json()
                self.tally = [(row["yes"], row["no"], row["invalid"], row["passed"]) for row in r.get_json()]
                self._view(attacker, xids)
                db.session.expire_all()
                self.states = [db.session.get(Nomination, n.id).state for n in nominations]
                self.log_meta = [db.session.scalars(sa.select(TransitionLog).where(
                    TransitionLog.nomination_id == n.id).order_by(TransitionLog.id.desc())).first().meta
                    for n in nominations]
                self.boxes_left = db.session.scalar(sa.select(sa.func.count()).select_from(SealedBallot))
                db.session.remove()
                db.engine.dispose()
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            attacker.dispose()
        return self


def _document_clock(moment) -> str:
    return "8 giờ 00" if moment else ""


def _open_the_session(dialect: str) -> SimpleNamespace:
    """Three accepted dossiers, a council of 9, its session open with all present (each world signs in)."""
    from flask import current_app

    factories._seq = itertools.count(1)
    if dialect == "postgresql":
        db.session.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        # Autovacuum would rewrite pages at moments that differ by timing, not by votes.
        for table in db.session.execute(sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all():
            db.session.execute(sa.text(f'ALTER TABLE "{table}" SET (autovacuum_enabled = off)'))
        db.session.commit()
    api, make = ApiClient(current_app.test_client()), Factory()
    chain = Chain(api, make)
    nominations = [chain.accepted(nominee={"full_name": f"Nghệ nhân {i}"}) for i in range(3)]
    council, members, secretariat = chain.council("province", size=len(BALLOTS_A))
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    assert api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                    json={"present": [m.email for m in members]}).status_code == 200
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    db.session.commit()
    return SimpleNamespace(sid=sid, nomination_ids=[n.id for n in nominations],
                           members=[(m.id, m.email) for m in members], secretariat=(secretariat.id, secretariat.email))


@pytest.fixture(scope="module")
def session_start(request, database_factory, tmp_path_factory):
    """The open session every world starts from, built once per module (real commits, tests/apps.py).

    Each world (two per test) gets its own copy of this database: no world sees another's ballots,
    and both worlds of an attack start from the same bytes, so any difference the attacker finds
    comes from the ballots and the close."""
    from artisan_awards.documents import data as document_data

    dialect = request.config.getoption("--db")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(document_data, "clock", _document_clock)
        with world_snapshot(database_factory, tmp_path_factory.mktemp("session-start"),
                            lambda: _open_the_session(dialect)) as snapshot:
            yield snapshot


def _attack(database_factory, session_start, tmp_path, db_kind, last_step=None) -> tuple[World, World, str | None]:
    """Run both worlds; the first step at which the attacker tells them apart, or None.

    ``last_step``: the attacker copies the worlds up to that step only (every step when None).  The
    verdict is the FIRST step at which the worlds differ, read step by step from step 0, so copies
    after the step a control must catch its leak at could never change that control's verdict.

    Both worlds' documents read one clock time: a notice's "received_time" (HH:MM) is the time of the
    run, not of any vote, and on PostgreSQL it sits inside a compressed value whose very length changes."""
    from artisan_awards.documents import data as document_data

    worlds = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(document_data, "clock", _document_clock)
        for label, ballots in (("a", BALLOTS_A), ("b", BALLOTS_B)):
            (tmp_path / label).mkdir(exist_ok=True)
            config, drop = config_from_snapshot(database_factory, session_start, tmp_path / label)
            try:
                worlds.append(World(config, session_start.value, ballots, db_kind, last_step).run())
            finally:
                drop()
    a, b = worlds
    assert len(a.views) == len(b.views) == (len(BALLOTS_A) + 2 if last_step is None else last_step + 1)
    for step, (va, vb) in enumerate(zip(a.views, b.views, strict=True)):
        for part in va:
            if part == "database":
                for table in sorted(set(va[part]) | set(vb[part])):
                    if va[part].get(table) != vb[part].get(table):
                        return a, b, f"step {step}: table {table}"
            elif va[part] != vb[part]:
                return a, b, f"step {step}: {part}"
        if step:
            da, db_ = _diff(a.views[step - 1]["database"], va["database"]), \
                _diff(b.views[step - 1]["database"], vb["database"])
            if da != db_:
                return a, b, f"step {step}: the change since the previous copy"
    return a, b, None


EXPECTED_TALLY = [  # yes, no, invalid, passed (pass needs ceil(0.9 x 9) = 9 yes)
    (6, 3, 0, False), (6, 2, 1, False), (5, 2, 2, False)]


def test_a_database_reader_learns_nothing_beyond_the_totals(database_factory, session_start, tmp_path, db_kind):
    a, b, leak = _attack(database_factory, session_start, tmp_path, db_kind)
    assert leak is None, f"the attacker tells the worlds apart at {leak}"
    assert a.tally == b.tally == EXPECTED_TALLY
    assert a.states == b.states == ["province_rejected"] * 3
    assert [(m["yes"], m["no"], m["invalid"]) for m in a.log_meta] == [t[:3] for t in EXPECTED_TALLY]
    assert a.boxes_left == b.boxes_left == 0
    # The copies did see the ballots arrive (participation), so the comparison had material.
    assert a.views[1]["database"] != a.views[0]["database"]
    assert any("/ballot" in line for line in a.access_log)
    def sealed(rows):
        return [r for r in rows if any(isinstance(v, tuple) and v[:1] == ("sealed",) for v in r[-1] or ())]

    if db_kind == "postgresql":  # the raw pages were read: the box is there after the first ballot,
        assert len(sealed(a.views[1]["database"]["sealed_ballots (heap pages)"])) == 1
        # and after the close (deleted, then VACUUM) not even a dead version of it is left.
        assert sealed(a.views[-1]["database"]["sealed_ballots (heap pages)"]) == []
    else:
        assert len(a.views[1]["database"]["sealed_ballots"]) == 1
        assert a.views[-1]["database"]["sealed_ballots"] == []


def _leaky_counters(monkeypatch):
    """The old design: the agenda counters move with every ballot."""
    real = council_service.cast_ballot

    def cast(user, session, votes):
        real(user, session, votes)
        for nomination_id, choice in votes.items():
            column = getattr(AgendaItem, choice or "invalid")
            db.session.execute(sa.update(AgendaItem).where(
                AgendaItem.session_id == session.id, AgendaItem.nomination_id == int(nomination_id))
                .values({column.key: column + 1}))
        db.session.commit()

    monkeypatch.setattr(council_service, "cast_ballot", cast)


def _leaky_unsealed(monkeypatch):
    """The box stored in clear."""
    monkeypatch.setattr(ballot_box, "seal", lambda session_id, codes: ballot_box.encode(codes))
    monkeypatch.setattr(ballot_box, "open_box", lambda session_id, box, n: bytes(box))


def _leaky_length(monkeypatch):
    """Sealed, but at a length that depends on the choices (trailing blanks left out)."""
    real_seal, real_open = ballot_box.seal, ballot_box.open_box

    def seal(session_id, codes):
        codes = list(codes)
        while codes and codes[-1] == ballot_box.INVALID:
            codes.pop()
        return real_seal(session_id, codes or [ballot_box.INVALID])

    def open_(session_id, box, n):
        key_box = bytes(box)
        for length in range(n, 0, -1):
            try:
                codes = real_open(session_id, key_box, length)
            except ballot_box.BoxUnreadable:
                continue
            return codes + bytes([ballot_box.INVALID]) * (n - len(codes))
        raise ballot_box.BoxUnreadable()

    monkeypatch.setattr(ballot_box, "seal", seal)
    monkeypatch.setattr(ballot_box, "open_box", open_)


@pytest.mark.parametrize("variant", [_leaky_counters, _leaky_unsealed, _leaky_length],
                         ids=["counters-per-ballot", "unsealed-box", "variable-length"])
def test_the_attacker_catches_a_leaky_ballot_box(database_factory, session_start, tmp_path, db_kind, monkeypatch,
                                                 variant):
    """CONTROL: the same attack finds the leak in each deliberately broken variant."""
    variant(monkeypatch)
    # Each leak must show at step 1 (the first ballot): the copies stop there, the session runs on.
    a, b, leak = _attack(database_factory, session_start, tmp_path, db_kind, last_step=1)
    assert leak is not None and leak.startswith("step 1"), leak
    assert a.tally == b.tally == EXPECTED_TALLY  # the variants count right: only secrecy is broken


# -- B. the close ------------------------------------------------------------------------------


def _run_together(app, calls):
    """Each call(client) in its own thread and database connection, all released at once."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            results[i] = call(client)
            db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def _minutes_text(api, sid, user) -> str:
    from tests.test_documents import text_of

    r = api.get(f"/api/v1/sessions/{sid}/minutes.pdf", user)
    assert r.status_code == 200, r.data[:300]
    return text_of(r.data)


ROUNDS = 20


def test_ballots_racing_the_close_are_counted_in_the_decision_or_refused(app, api, make, monkeypatch):
    """Six members vote, then three ballots and the close (with the three's reasons) go at once.

    Whatever the order the database lets them through, the decision, its log row, the tally API
    and the minutes PDF say the same numbers; each ballot answered 201 is in them, each other one
    got 409 ``session_state`` and its member is listed in the minutes as not having voted.
    """
    chain = Chain(api, make)
    council, members, secretariat = chain.council("province", size=9)
    tokens = {m.id: api.token(m) for m in [*members, secretariat]}
    db.session.commit()
    seen_orders = set()
    for _round in range(ROUNDS):
        nomination = chain.accepted()
        sid = chain.session(council, secretariat, [nomination.id])
        api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
        assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
        early, racing = members[:6], members[6:]
        for m in early:
            assert api.post(f"/api/v1/sessions/{sid}/ballot", m,
                            json={"votes": {str(nomination.id): "yes"}}).status_code == 201
        db.session.commit()

        # Plain values only inside the threads: an ORM object expired by the commit above would
        # be refreshed by several threads at once through one session, which SQLAlchemy forbids.
        nomination_id = str(nomination.id)
        ballot_headers = {m.id: {"Authorization": f"Bearer {tokens[m.id]}"} for m in racing}
        close_headers = {"Authorization": f"Bearer {tokens[secretariat.id]}"}
        non_voters = [{"email": m.email, "reason": f"Lý do của {m.full_name}"} for m in racing]

        def ballot(member, sid=sid, headers=ballot_headers, nomination_id=nomination_id):
            member_headers = headers[member.id]
            return lambda client: client.post(
                f"/api/v1/sessions/{sid}/ballot", headers=member_headers,
                json={"votes": {nomination_id: "no"}})

        def close(client, sid=sid, headers=close_headers, non_voters=non_voters):
            return client.post(f"/api/v1/sessions/{sid}/close", headers=headers, json={"non_voters": non_voters})

        answers = _run_together(app, [ballot(m) for m in racing] + [close])
        *ballot_answers, closed = answers
        assert closed.status_code == 200, closed.get_json()
        counted = [m for m, r in zip(racing, ballot_answers, strict=True) if r.status_code == 201]
        refused = [m for m, r in zip(racing, ballot_answers, strict=True) if r.status_code != 201]
        for r in ballot_answers:
            assert r.status_code in (201, 409), r.get_json()
            if r.status_code == 409:
                assert r.get_json()["error"]["code"] == "session_state"
        seen_orders.add(len(counted))
        expected = (6, len(counted), 0)
        row = closed.get_json()[0]
        assert (row["yes"], row["no"], row["invalid"]) == expected
        tally = api.get(f"/api/v1/sessions/{sid}/tally", secretariat).get_json()[0]
        assert (tally["yes"], tally["no"], tally["invalid"]) == expected
        db.session.expire_all()
        log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination.id)
                                 .order_by(TransitionLog.id.desc())).first()
        assert (log.meta["yes"], log.meta["no"], log.meta["invalid"]) == expected
        assert db.session.get(Nomination, nomination.id).state == "province_rejected"  # 6 < 9
        assert council_service.ballots_cast(db.session.get(CouncilSession, sid)) == 6 + len(counted)
        text = _minutes_text(api, sid, secretariat)
        assert f"{nomination.full_name}: 6 đồng ý, {len(counted)} không đồng ý, 0 không hợp lệ" in text
        assert f"số phiếu thu về: {6 + len(counted)}" in text
        for m in refused:
            assert f"{m.full_name}: Lý do của {m.full_name}" in text
        for m in counted:
            assert f"Lý do của {m.full_name}" not in text
    # The race was real: more than one interleaving happened over the rounds (reported, not
    # required, as a scheduler may serialise them all one way).
    print(f"racing ballots counted per round: {sorted(seen_orders)}")


def test_the_race_test_catches_a_close_that_does_not_wait(app, api, make, monkeypatch, db_kind):
    """CONTROL: with the serialising locks taken away, the close counts boxes and participations
    read at different moments, and a ballot lands after the close read the status: the checks of
    the race test then fail (the close refuses the mismatch, or a ballot is accepted after it)."""
    real_locked = council_service._locked_session
    monkeypatch.setattr(council_service, "_take_write_lock", lambda session: None)

    def unlocked(session, *, share):
        locked = real_locked(session, share=True) if db_kind == "sqlite" else db.session.get(
            CouncilSession, session.id, populate_existing=True)
        return locked

    monkeypatch.setattr(council_service, "_locked_session", unlocked)
    real_voters = council_service.voters

    def slow_voters(session):  # widen the window between reading the status and the boxes
        out = real_voters(session)
        import time

        time.sleep(0.05)
        return out

    monkeypatch.setattr(council_service, "voters", slow_voters)
    chain = Chain(api, make)
    council, members, secretariat = chain.council("province", size=9)
    tokens = {m.id: api.token(m) for m in [*members, secretariat]}
    db.session.commit()
    disagreements = 0
    for _round in range(5):
        nomination = chain.accepted()
        sid = chain.session(council, secretariat, [nomination.id])
        api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
        api.post(f"/api/v1/sessions/{sid}/open", secretariat)
        for m in members[:6]:
            api.post(f"/api/v1/sessions/{sid}/ballot", m, json={"votes": {str(nomination.id): "yes"}})
        db.session.commit()
        racing = members[6:]

        def ballot(member, sid=sid, nomination=nomination):
            def call(client):
                import time

                time.sleep(0.02)  # arrive while the close is between its reads
                return client.post(
                    f"/api/v1/sessions/{sid}/ballot", headers={"Authorization": f"Bearer {tokens[member.id]}"},
                    json={"votes": {str(nomination.id): "no"}})
            return call

        def close(client, sid=sid, racing=racing):
            return client.post(
                f"/api/v1/sessions/{sid}/close", headers={"Authorization": f"Bearer {tokens[secretariat.id]}"},
                json={"non_voters": [{"email": m.email, "reason": "Lý do"} for m in racing]})

        *ballot_answers, closed = _run_together(app, [ballot(m) for m in racing] + [close])
        accepted = sum(r.status_code == 201 for r in ballot_answers)
        if closed.status_code != 200:
            disagreements += 1  # refused by the box/participation check: not one set of numbers
            continue
        db.session.expire_all()
        counted = db.session.get(CouncilSession, sid).items[0].no
        left = db.session.scalar(sa.select(sa.func.count()).select_from(SealedBallot)
                                 .where(SealedBallot.session_id == sid))
        if counted != accepted or left:
            disagreements += 1  # a ballot answered 201 that the decision does not count
    assert disagreements, "the race test would not notice a close that does not wait for ballots"


def test_closing_with_missing_ballots_needs_each_reason(app, api, make, client):
    """Refused (409, saying how many are missing, in Vietnamese or English) until each present
    member who did not vote has a reason; the reasons are on the session page and in the minutes.
    A member whose conflicts cover the whole agenda is not waited for."""
    chain = Chain(api, make)
    nomination = chain.accepted()
    council, members, secretariat = chain.council("province", size=5)
    sid = chain.session(council, secretariat, [nomination.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    r = api.post(f"/api/v1/sessions/{sid}/conflicts", members[4],
                 json={"nomination_id": nomination.id, "reason": "Là học trò của nghệ nhân."})
    assert r.status_code == 201
    api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(nomination.id): "yes"}})
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ballots_missing"
    assert "Còn 3 thành viên" in r.get_json()["error"]["message"]  # members[4] is not waited for
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat, headers={"Accept-Language": "en"})
    assert r.status_code == 409 and "3 members" in r.get_json()["error"]["message"]
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat, json={"non_voters": [{"email": members[1].email}]})
    assert r.status_code == 422 and set(r.get_json()["error"]) == {"code", "message", "fields"}
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat, json={"non_voters": "ai"})
    assert r.status_code == 422
    # The browser: the session page asks for each missing member's reason.
    client.post("/login", data={"email": secretariat.email, "password": Factory.PASSWORD})
    page = client.get(f"/council/sessions/{sid}").get_data(as_text=True)
    member_ids = {m.email: db.session.scalar(sa.select(sa.text("id")).select_from(sa.table("council_members"))
                                             .where(sa.text(f"user_id = {m.id}"))) for m in members}
    for m in members[1:4]:
        assert f'name="reason-{member_ids[m.email]}"' in page
    assert f'name="reason-{member_ids[members[0].email]}"' not in page
    assert f'name="reason-{member_ids[members[4].email]}"' not in page
    r = client.post(f"/council/sessions/{sid}/close", data={f"reason-{member_ids[members[1].email]}": "Ốm"},
                    headers={"Referer": f"/council/sessions/{sid}"})
    assert r.status_code == 302
    assert db.session.get(CouncilSession, sid).status == "open"
    assert "Còn 2 thành viên" in client.get(f"/council/sessions/{sid}").get_data(as_text=True)
    reasons = {members[1]: "Ốm, xin về sớm", members[2]: "Mất kết nối", members[3]: "Từ chối bỏ phiếu"}
    r = post_confirmed(client, f"/council/sessions/{sid}/close",
                       data={f"reason-{member_ids[m.email]}": why for m, why in reasons.items()})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == "closed"
    page = client.get(f"/council/sessions/{sid}").get_data(as_text=True)
    text = _minutes_text(api, sid, secretariat)
    for m, why in reasons.items():
        assert f"{m.full_name}: {why}" in page
        assert f"{m.full_name}: {why}" in text
    non_voters = re.split(r"không bỏ phiếu[^:]*:", text)[1].split("Kết quả")[0]  # the minutes' list of them
    assert members[0].full_name + ":" not in non_voters


def test_a_box_opens_only_with_its_key_and_in_its_session(app, api, make):
    """The seal: fixed length, bound to its session, and the key is not in the database: with
    another BALLOT_SEAL_KEY the close is refused (409) and nothing moves; with the right one it
    closes."""
    a = ballot_box.seal(1, [ballot_box.YES, ballot_box.NO, ballot_box.INVALID])
    b = ballot_box.seal(1, [ballot_box.EXCLUDED, ballot_box.YES, ballot_box.YES])
    assert len(a) == len(b) == ballot_box.NONCE_BYTES + 3 + 16 and a != ballot_box.seal(1, [1, 2, 3])
    assert ballot_box.open_box(1, a, 3) == bytes([1, 2, 3])
    with pytest.raises(ballot_box.BoxUnreadable):
        ballot_box.open_box(2, a, 3)  # copied into another session
    with pytest.raises(ballot_box.BoxUnreadable):
        ballot_box.open_box(1, a[:-1] + bytes([a[-1] ^ 1]), 3)  # altered
    chain = Chain(api, make)
    nomination = chain.accepted()
    council, members, secretariat = chain.council("province", size=3)
    sid = chain.session(council, secretariat, [nomination.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    for m in members:
        api.post(f"/api/v1/sessions/{sid}/ballot", m, json={"votes": {str(nomination.id): "yes"}})
    app.config["BALLOT_SEAL_KEY"] = "another key, as after a careless rotation"
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ballot_box_unreadable"
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == "open"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SealedBallot)) == 3
    app.config["BALLOT_SEAL_KEY"] = None
    r = api.post(f"/api/v1/sessions/{sid}/close", secretariat)
    assert r.status_code == 200 and r.get_json()[0]["yes"] == 3
