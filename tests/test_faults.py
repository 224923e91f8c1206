"""A worker killed in the middle of an operation leaves no half state.

The operation runs in a separate Python process against the test database (forked from a fork
server that imported the application once: tests/fault_worker.py). A SQLAlchemy event
listener in that process (the product code is untouched) stops it at a chosen point inside the
operation's transaction: after a given SQL statement, or just before COMMIT is sent, or just after
it. The test then SIGKILLs the process and compares every row of the database with what it was:
killed before the commit, nothing changed; killed after it, the whole change is there. Either way
the audit chain verifies, and the same operation then succeeds (no lock or journal is left behind).

A control case runs a deliberately split operation (two commits) and shows that the same check
sees its half state, so the check can fail.
"""

from __future__ import annotations

import multiprocessing
import signal

import pytest
import sqlalchemy as sa

from artisan_awards.audit_chain import verify
from artisan_awards.extensions import db
from artisan_awards.models import CouncilSession, Nomination, TransitionLog, User
from artisan_awards.services import councils as council_service
from artisan_awards.services import nominations as service
from tests import fault_worker
from tests.test_councils import Chain
from workflows.states import Action, State

# The worker (tests/fault_worker.py) is forked from a fork server that imported the application once.
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["tests.fault_worker"])


def snapshot() -> dict[str, list[tuple]]:
    db.session.remove()
    with db.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(sa.select(t).order_by(*(t.primary_key.columns or t.columns)))]
                for t in db.metadata.sorted_tables}


def chain_ok() -> int:
    with db.engine.connect() as conn:
        count, broken = verify(conn)
    assert broken is None, broken
    return count


def run_and_kill(app_config, at: str, op: str, ident: int, actor: int, nth: int = 1) -> str:
    """Start the worker, wait until it stops at ``at``, SIGKILL it; return where it stopped."""
    db.session.remove()
    db.engine.dispose()
    env = {"FAULT_DB": app_config["SQLALCHEMY_DATABASE_URI"], "FAULT_AT": at,
           "FAULT_SECRET": app_config["SECRET_KEY"],
           "FAULT_NTH": str(nth), "FAULT_UPLOADS": app_config["UPLOAD_DIR"],
           "FAULT_TODAY": app_config.get("TODAY") or ""}
    reader, writer = _FORKS.Pipe(duplex=False)
    proc = _FORKS.Process(target=fault_worker.main, args=(env, op, ident, actor, writer), daemon=True)
    proc.start()
    writer.close()
    try:
        line = ""
        while not line.endswith("\n") and reader.poll(120):
            try:
                line += reader.recv_bytes().decode()
            except EOFError:
                break
        assert line.startswith("STOPPED"), (line, proc.exitcode)
        proc.kill()  # SIGKILL
        proc.join(30)
        assert proc.exitcode == -signal.SIGKILL
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        reader.close()
    return line.strip()


# -- one transition ---------------------------------------------------------------------------


BEFORE_COMMIT = [r"UPDATE code_counters|INSERT INTO code_counters", r"UPDATE nominations",
                 r"UPDATE audit_chain_head", r"INSERT INTO transition_log", "COMMIT"]


@pytest.mark.parametrize("at", BEFORE_COMMIT, ids=["counter", "nomination", "chain-lock", "log-row", "commit"])
def test_submission_killed_inside_its_transaction_changes_nothing(app, app_config, make, at):
    n = make.nomination(State.DRAFT)
    nid, owner = n.id, n.owner_id
    before = snapshot()
    logs = chain_ok()
    where = run_and_kill(app_config, at, Action.SUBMIT, nid, owner)
    assert where.startswith("STOPPED")
    assert snapshot() == before, f"half state after a kill at {where}"
    assert chain_ok() == logs
    # Nothing is left locked or half-written: the same submission now goes through.
    n = db.session.get(Nomination, nid)
    assert n.state == State.DRAFT and n.code is None
    assert service.perform(n, Action.SUBMIT, db.session.get(User, owner))
    assert n.state == State.SUBMITTED and n.code
    assert chain_ok() == logs + 1


def test_submission_killed_after_commit_is_whole(app, app_config, make):
    n = make.nomination(State.DRAFT)
    nid, owner = n.id, n.owner_id
    logs = chain_ok()
    run_and_kill(app_config, "AFTER COMMIT", Action.SUBMIT, nid, owner)
    db.session.remove()
    n = db.session.get(Nomination, nid)
    assert n.state == State.SUBMITTED and n.code and n.access_key_hash
    [row] = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nid)).all()
    assert (row.action, row.to_state, row.meta["code"]) == (Action.SUBMIT, State.SUBMITTED, n.code)
    assert chain_ok() == logs + 1


def test_the_check_sees_a_split_operation(app, app_config, make):
    """Control: an operation in two transactions, killed between them, is caught as half done."""
    n = make.nomination(State.DRAFT)
    before = snapshot()
    run_and_kill(app_config, "COMMIT", "split", n.id, n.owner_id, nth=1)
    assert snapshot() == before  # killed before its first commit: nothing yet
    run_and_kill(app_config, r"UPDATE nominations", "split", n.id, n.owner_id, nth=2)
    after = snapshot()
    assert after != before
    row = db.session.get(Nomination, n.id)
    assert row.craft == "Đổi ở giao dịch thứ nhất" and row.career_summary != "Đổi ở giao dịch thứ hai"


# -- a council session's close ------------------------------------------------------------------


@pytest.fixture
def open_session(app, api, make):
    """A provincial council session, open, with every member's ballot in, on three dossiers."""
    app.config["TODAY"] = None
    chain = Chain(api, make)
    nominations = [chain.accepted() for _ in range(3)]
    council, members, secretariat = chain.council("province", size=7)
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    assert api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                    json={"present": [m.email for m in members]}).status_code == 200
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    votes = {str(nominations[0].id): "yes", str(nominations[1].id): "yes",
             str(nominations[2].id): "no"}  # the third falls short
    for member in members:
        assert api.post(f"/api/v1/sessions/{sid}/ballot", member, json={"votes": votes}).status_code == 201
    return sid, secretariat.id, [n.id for n in nominations]


# The log rows join the audit chain at commit: inserted together (one statement on PostgreSQL),
# then the chain head moves (its second UPDATE: the first takes the lock) -- the last write.
@pytest.mark.parametrize("at, nth", [(r"INSERT INTO transition_log", 1), (r"UPDATE audit_chain_head", 2),
                                     (r"UPDATE council_sessions", 1), ("COMMIT", 1)],
                         ids=["first-log-row", "chain-head", "session-row", "commit"])
def test_session_close_killed_inside_its_transaction_changes_nothing(app, app_config, open_session, at, nth):
    sid, secretariat, nids = open_session
    before = snapshot()
    logs = chain_ok()
    run_and_kill(app_config, at, "close", sid, secretariat, nth=nth)
    assert snapshot() == before
    assert chain_ok() == logs
    session = db.session.get(CouncilSession, sid)
    assert session.status == "open" and all(item.passed is None for item in session.items)
    # Closing again works and moves every nominee at once.
    results = council_service.close_session(db.session.get(User, secretariat), session)
    assert [r["passed"] for r in results] == [True, True, False]
    states = [db.session.get(Nomination, i).state for i in nids]
    assert states == [State.PROVINCE_PASSED, State.PROVINCE_PASSED, State.PROVINCE_REJECTED]
    assert chain_ok() == logs + 3


def test_session_close_killed_after_commit_is_whole(app, app_config, open_session):
    sid, secretariat, nids = open_session
    logs = chain_ok()
    run_and_kill(app_config, "AFTER COMMIT", "close", sid, secretariat)
    session = db.session.get(CouncilSession, sid)
    assert session.status == "closed"
    assert [db.session.get(Nomination, i).state for i in nids] == [
        State.PROVINCE_PASSED, State.PROVINCE_PASSED, State.PROVINCE_REJECTED]
    assert chain_ok() == logs + 3
