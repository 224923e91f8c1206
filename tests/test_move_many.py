"""The bulk move of a council session's opening and close (services.nominations.move_many).

What it must keep from the one-by-one path: one log row per dossier, in the order given, in the
keyed audit chain; the stage reached; the version (a concurrent writer is a 409 with nothing
written); and it must cost a number of statements that does not grow with the agenda.
"""

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from artisan_awards import audit_chain
from artisan_awards.errors import TransitionRefused
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.services.nominations import move_many
from tests.test_councils import Chain
from workflows import machine as wf
from workflows.states import CouncilEvent, State


def _accepted(make, officer, count):
    return [make.nomination(State.ACCEPTED, officer=officer) for _ in range(count)]


def test_each_dossier_gets_its_own_log_row_in_order_and_the_chain_verifies(app, make):
    officer = make.user("province_officer", "HNI")
    nominations = _accepted(make, officer, 3)
    versions = {n.id: n.version for n in nominations}
    ordered = [nominations[2], nominations[0], nominations[1]]
    move_many([(n, CouncilEvent.PROVINCE_VOTE_OPENS, {"session_id": 7, "i": i}) for i, n in enumerate(ordered)],
              officer.id, "Hội đồng thử nghiệm")
    db.session.commit()
    db.session.expire_all()
    rows = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.action == "province_vote_opens")
                              .order_by(TransitionLog.seq)).all()
    assert [r.nomination_id for r in rows] == [n.id for n in ordered]
    assert [r.meta["i"] for r in rows] == [0, 1, 2]
    assert [r.seq for r in rows] == list(range(rows[0].seq, rows[0].seq + 3))
    assert all(r.from_state == "accepted" and r.to_state == "province_review" for r in rows)
    assert all(r.actor_name == "Hội đồng thử nghiệm" and r.actor_id == officer.id for r in rows)
    for n in nominations:
        fresh = db.session.get(Nomination, n.id)
        assert fresh.state == State.PROVINCE_REVIEW
        assert fresh.stage_reached == wf.advance(0, State.PROVINCE_REVIEW)
        assert fresh.version == versions[n.id] + 1
    with db.engine.connect() as conn:
        report = audit_chain.check(conn)
    assert report.ok, [b.reason for b in report.breaks]


def test_the_objects_in_the_session_match_what_was_written(app, make):
    officer = make.user("province_officer", "HNI")
    nomination = _accepted(make, officer, 1)[0]
    move_many([(nomination, CouncilEvent.PROVINCE_VOTE_OPENS, {})], officer.id, "HĐ")
    assert nomination.state == State.PROVINCE_REVIEW
    nomination.craft = "Gốm sứ Bát Tràng"  # the ORM's next flush must carry the new version
    db.session.commit()
    db.session.expire_all()
    fresh = db.session.get(Nomination, nomination.id)
    assert (fresh.state, fresh.craft) == (State.PROVINCE_REVIEW, "Gốm sứ Bát Tràng")


def test_a_row_changed_since_it_was_read_is_a_conflict_with_nothing_written(app, make):
    officer = make.user("province_officer", "HNI")
    first, second = _accepted(make, officer, 2)
    logs_before = db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog))
    table = Nomination.__table__
    db.session.execute(sa.update(table).where(table.c.id == second.id).values(version=table.c.version + 1))
    with pytest.raises(TransitionRefused) as refused:
        move_many([(first, CouncilEvent.PROVINCE_VOTE_OPENS, {}), (second, CouncilEvent.PROVINCE_VOTE_OPENS, {})],
                  officer.id, "HĐ")
    assert refused.value.code == "conflict"
    db.session.rollback()
    db.session.expire_all()
    assert {db.session.get(Nomination, n.id).state for n in (first, second)} == {State.ACCEPTED}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)) == logs_before


def test_a_move_the_machine_refuses_writes_nothing(app, make):
    officer = make.user("province_officer", "HNI")
    accepted = _accepted(make, officer, 1)[0]
    draft = make.nomination(State.DRAFT)
    with pytest.raises(TransitionRefused):
        move_many([(accepted, CouncilEvent.PROVINCE_VOTE_OPENS, {}), (draft, CouncilEvent.PROVINCE_VOTE_OPENS, {})],
                  officer.id, "HĐ")
    db.session.rollback()
    assert db.session.get(Nomination, accepted.id).state == State.ACCEPTED


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


def _statements(app, run):
    seen = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement.split(None, 2)[:2])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return seen


def _sent(app, run) -> list[str]:
    """The statements the application sent while ``run`` ran, one per statement executed: the rows of
    one executemany count once even where the driver sends them one by one (SQLite with RETURNING)."""
    contexts = []

    def count(conn, cursor, statement, params, context, executemany):
        if not any(c is context for c in contexts):
            contexts.append(context)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    return [c.statement for c in contexts]


@pytest.mark.parametrize("size", [2, 8])
def test_opening_and_closing_cost_the_same_statements_whatever_the_agenda(chain, api, app, size):
    nominations = [chain.accepted() for _ in range(size)]
    council, members, secretariat = chain.council("province", 4)
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    assert api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                    json={"present": [m.email for m in members]}).status_code == 200
    opened = _statements(app, lambda: api.post(f"/api/v1/sessions/{sid}/open", secretariat))
    for i, member in enumerate(members):
        r = api.post(f"/api/v1/sessions/{sid}/ballot", member,
                     json={"votes": {str(n.id): "yes" if i or j % 2 else "no" for j, n in enumerate(nominations)}})
        assert r.status_code == 201
    closed = _statements(app, lambda: api.post(f"/api/v1/sessions/{sid}/close", secretariat))
    for seen in (opened, closed):
        updates = Counter(table for verb, table in seen if verb == "UPDATE")
        # the dossiers: one UPDATE per target state (pass / reject), never one per dossier; the
        # agenda's counts in one executemany
        assert updates["nominations"] <= 2 and updates["agenda_items"] <= 1, updates
        assert sum(updates.values()) <= 8, updates  # + the session row and the chain head, twice each at most
    council_moves = ["province_vote_opens", "province_pass", "province_reject"]
    chain_rows = db.session.scalars(sa.select(TransitionLog).where(
        TransitionLog.nomination_id.in_([n.id for n in nominations]), TransitionLog.action.in_(council_moves))).all()
    assert len(chain_rows) == 2 * size  # one at the opening, one at the close, for each dossier
    for n in nominations:
        db.session.refresh(n)
    passed = [n for j, n in enumerate(nominations) if j % 2]
    assert {n.state for n in passed} == {State.PROVINCE_PASSED}
    assert {n.state for n in nominations if n not in passed} == {State.PROVINCE_REJECTED}
    assert all(n.stage_reached == wf.advance(0, State.PROVINCE_PASSED) for n in passed)


# -- the integration outbox inside the bulk moves (issue 16): batched, and the same rows -----------------

@pytest.fixture
def subscribers(make):
    """A webhook that wants every dossier move and the session's close, and a partner portal with a
    status map covering the council's states: each council move then writes events and deliveries."""
    from tests.outbox_helpers import subscribe

    admin = make.user("admin")
    hook = subscribe(admin, "http://127.0.0.1:9/hook", events=["dossier.state_changed", "council_session.closed"])
    portal = subscribe(admin, "http://127.0.0.1:9/portal", kind="partner", events=[], name="Cổng dịch vụ công",
                       status_map={"accepted": "3", "province_review": "4", "province_passed": "5",
                                   "province_rejected": "6"})
    return hook, portal


def _queue(subscriber_id: int, nomination_id: int) -> list[dict]:
    from artisan_awards.models import Delivery

    rows = db.session.scalars(sa.select(Delivery).where(Delivery.subscriber_id == subscriber_id,
                                                        Delivery.nomination_id == nomination_id)
                              .order_by(Delivery.id)).all()
    return [{"sequence": r.sequence, "status": r.status, "attempts": r.attempts, "message_id": r.message_id,
             "body": json.loads(r.body)} for r in rows]


def test_with_subscribers_opening_and_closing_cost_the_same_statements_whatever_the_agenda(
        chain, api, app, subscribers):
    """The outbox's events are written in a fixed number of statements: an N+1 (a MAX(sequence), an
    event and a delivery per dossier and subscriber) makes the close of 8 dossiers cost more than of 2."""
    hook, portal = subscribers
    costs, agendas = {}, {}
    for size in (2, 8):
        # each nominee with an address of their own, every other one also an account's (``applicants``)
        nominations = [chain.accepted(nominee={"email": f"nghe.nhan.{size}.{k}@example.vn"}) for k in range(size)]
        for k in range(0, size, 2):
            chain.make.user("applicant", email=f"Nghe.Nhan.{size}.{k}@example.vn")
        council, members, secretariat = chain.council("province", 4)
        sid = chain.session(council, secretariat, [n.id for n in nominations])
        assert api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                        json={"present": [m.email for m in members]}).status_code == 200
        opened = _sent(app, lambda sid=sid, by=secretariat: api.post(f"/api/v1/sessions/{sid}/open", by))
        for i, member in enumerate(members):
            assert api.post(f"/api/v1/sessions/{sid}/ballot", member, json={"votes": {
                str(n.id): "yes" if i or j % 2 else "no" for j, n in enumerate(nominations)}}).status_code == 201
        answer = []
        closed = _sent(app, lambda sid=sid, by=secretariat, out=answer: out.append(
            api.post(f"/api/v1/sessions/{sid}/close", by)))
        assert answer[0].status_code == 200
        # the close answers with what it wrote: the tally read back afterwards is the same, row for row
        again = api.get(f"/api/v1/sessions/{sid}/tally", secretariat)
        assert again.status_code == 200 and again.get_json() == answer[0].get_json()
        assert [row["nomination_id"] for row in again.get_json()] == [n.id for n in nominations]
        costs[size] = (len(opened), len(closed))
        for sent in (opened, closed):  # the log rows in one executemany, the messages in one per table
            inserts = Counter(statement.split()[2] for statement in sent if statement.startswith("INSERT"))
            assert inserts["transition_log"] == 1, inserts
            assert inserts["integration_events"] == inserts["integration_deliveries"] == 1, inserts
        agendas[size] = nominations
    assert costs[2] == costs[8], costs
    # and every dossier's queue at each subscriber is numbered 1, 2, 3... with the council's moves last
    for j, n in enumerate(agendas[8]):
        decided = "province_passed" if j % 2 else "province_rejected"
        webhook = _queue(hook.id, n.id)
        assert [d["sequence"] for d in webhook] == list(range(1, len(webhook) + 1))
        assert [d["body"]["data"]["sequence"] for d in webhook] == [d["sequence"] for d in webhook]
        assert [(d["body"]["data"]["from_state"], d["body"]["data"]["to_state"]) for d in webhook[-2:]] == [
            ("accepted", "province_review"), ("province_review", decided)]
        assert webhook[-1]["body"]["data"]["unit"]["kind"] == "council"
        assert all((d["status"], d["attempts"]) == ("pending", 0) for d in webhook)
        partner = _queue(portal.id, n.id)
        assert [d["sequence"] for d in partner] == list(range(1, len(partner) + 1))
        assert [d["body"]["data"]["status_code"] for d in partner[-2:]] == ["4", "5" if j % 2 else "6"]
    from artisan_awards.models import IntegrationEvent

    closes = db.session.scalars(sa.select(IntegrationEvent).where(IntegrationEvent.type == "council_session.closed")
                                .order_by(IntegrationEvent.id)).all()
    assert [len(e.data["results"]) for e in closes] == [2, 8]
    # each nominee was told: an account's holder in the in-app inbox too, the others by mail only
    from artisan_awards.models import InboxNotification, OutboxMessage, User

    for k, n in enumerate(agendas[8]):
        address = f"nghe.nhan.8.{k}@example.vn"
        mails = db.session.scalars(sa.select(OutboxMessage.subject).where(sa.func.lower(OutboxMessage.to) == address)
                                   .order_by(OutboxMessage.id)).all()
        assert len(mails) >= 2, (address, mails)  # the opening's and the close's messages at least
        account = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address))
        assert (account is not None) == (k % 2 == 0)
        if account is not None:
            inbox = db.session.scalars(sa.select(InboxNotification.subject).where(
                InboxNotification.user_id == account.id, InboxNotification.nomination_id == n.id)).all()
            assert inbox[-2:] == mails[-2:]


def test_the_batched_outbox_writes_what_publishing_one_by_one_writes(app, make, subscribers):
    """Two dossiers with the same history; the same two events published for each, one by one for the
    first and inside ``outbox.batched()`` for the second: the same events and deliveries (bodies,
    sequences, subscribers, order), only the dossier's own id and code differ; and the batch costs
    three statements (the queues' last numbers, the events, the deliveries)."""
    from artisan_awards.integration import outbox
    from artisan_awards.models import Delivery, IntegrationEvent

    hook, portal = subscribers
    officer = make.user("province_officer", "HNI")
    first, second = _accepted(make, officer, 2)
    last_event = db.session.scalar(sa.select(sa.func.max(IntegrationEvent.id))) or 0
    last_delivery = db.session.scalar(sa.select(sa.func.max(Delivery.id))) or 0

    def publish(n):
        meta = {"session_id": 7}
        outbox.dossier_moved(n, "province_vote_opens", "accepted", "province_review", officer.id, "HĐ", meta, AT)
        outbox.dossier_moved(n, "province_pass", "province_review", "province_passed", officer.id, "HĐ", meta, AT)

    before = {s.id: len(_queue(s.id, first.id)) for s in (hook, portal)}
    assert before == {s.id: len(_queue(s.id, second.id)) for s in (hook, portal)}
    publish(first)
    seen = _sent(app, lambda: _batched(outbox, lambda: publish(second)))
    assert len(seen) == 3, seen
    db.session.commit()

    def normal(text, n):
        return json.loads(json.dumps(text).replace(n.code, "CODE").replace(f'"dossier_id": {n.id}', '"dossier_id": 0'))

    events = {n.id: [(e.type, normal(e.data, n)) for e in db.session.scalars(
        sa.select(IntegrationEvent).where(IntegrationEvent.id > last_event, IntegrationEvent.nomination_id == n.id)
        .order_by(IntegrationEvent.id))] for n in (first, second)}
    assert len(events[first.id]) == 2 and events[first.id] == events[second.id]
    rows = {n.id: [(d.subscriber_id, d.sequence, d.status, d.attempts, normal(json.loads(d.body), n))
                   for d in db.session.scalars(sa.select(Delivery).where(
                       Delivery.id > last_delivery, Delivery.nomination_id == n.id).order_by(Delivery.id))]
            for n in (first, second)}
    h, q = before[hook.id], before[portal.id]
    assert [r[:2] for r in rows[first.id]] == [(hook.id, h + 1), (portal.id, q + 1),
                                               (hook.id, h + 2), (portal.id, q + 2)]
    assert rows[first.id] == rows[second.id]


AT = datetime(2026, 12, 5, 3, 4, 5, tzinfo=UTC)


def _batched(outbox, run):
    with outbox.batched():
        run()


def test_log_rows_given_as_values_and_as_objects_share_one_chain_in_order(app, make):
    """``audit_chain.append_values`` (the bulk moves' rows) and ``append`` (objects) in one transaction:
    numbered in the order appended, inserted in that order (ids follow the numbers), and every MAC
    checks out, as if all had been objects."""
    from artisan_awards.models import AuditEvent

    officer = make.user("province_officer", "HNI")
    a, b, c = _accepted(make, officer, 3)
    at = AT
    audit_chain.append(TransitionLog(nomination_id=a.id, action="note", from_state="accepted", to_state="accepted",
                                     actor_id=officer.id, actor_name="Sở", at=at, meta={"k": 1}))
    audit_chain.append_values("transition_log", nomination_id=b.id, action="note", from_state="accepted",
                              to_state="accepted", actor_id=officer.id, actor_name="Sở", comment=None, at=at,
                              meta={"k": 2, "tên": "Hà Nội"})
    audit_chain.append_values("transition_log", nomination_id=c.id, action="note", from_state="accepted",
                              to_state="accepted", actor_id=None, actor_name="Hệ thống", comment="ghi chú",
                              at=None, meta=None)
    audit_chain.append(AuditEvent(kind="round.updated", actor_id=officer.id, actor_name="Sở", target_type="round",
                                  target_id=1, target_label="Đợt 1", details={"x": 1}))
    audit_chain.append_values("audit_events", kind="round.updated", actor_id=officer.id, actor_name=None,
                              target_type="round", target_id=1, target_label=None, province_code="HNI", ip=None,
                              details=None, at=at)
    audit_chain.append(TransitionLog(nomination_id=a.id, action="note", from_state="accepted", to_state="accepted",
                                     actor_id=officer.id, actor_name="Sở", at=at, meta={"k": 3}))
    db.session.commit()
    with db.engine.connect() as conn:
        rows = []
        for log in ("transition_log", "audit_events"):
            table = audit_chain.log_table(log, numbered=True)
            rows += [(r.seq, log, r.id) for r in conn.execute(sa.select(table.c.seq, table.c.id)
                                                              .order_by(table.c.seq.desc()).limit(6))]
        report = audit_chain.check(conn)
    assert report.ok, [x.reason for x in report.breaks]
    rows = sorted(rows)[-6:]
    assert [log for _s, log, _i in rows] == ["transition_log"] * 3 + ["audit_events"] * 2 + ["transition_log"]
    assert [s for s, _l, _i in rows] == list(range(rows[0][0], rows[0][0] + 6))
    logs = [i for _s, log, i in rows if log == "transition_log"]
    events = [i for _s, log, i in rows if log == "audit_events"]
    assert logs == sorted(logs) and events == sorted(events)
    stored = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.id.in_(logs))
                                .order_by(TransitionLog.id)).all()
    assert [r.nomination_id for r in stored] == [a.id, b.id, c.id, a.id]
    assert stored[1].meta == {"k": 2, "tên": "Hà Nội"} and stored[2].meta == {} and stored[2].at is not None
    assert stored[2].comment == "ghi chú" and stored[2].actor_id is None
    event = db.session.get(AuditEvent, events[1])
    assert (event.actor_name, event.target_label, event.details) == ("", "", {})


def test_a_log_name_outside_the_chain_is_refused(app):
    with pytest.raises(ValueError):
        audit_chain.append_values("nominations", id=1)
