"""Council sessions, public comments, rule parameters and login sessions run through the one runner
(services/transaction.py) like the dossier actions: every refusal, and every failure part-way after
something was written, leaves every table exactly as it was; the same call then succeeds."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from artisan_awards import audit_chain, ballot_box
from artisan_awards.errors import TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import (
    AuditEvent,
    AuditKind,
    CouncilSession,
    LoginSession,
    Nomination,
    PublicComment,
    SessionStatus,
    TransitionLog,
    User,
)
from artisan_awards.schemas import CommentIn, NonVoterIn
from artisan_awards.services import consultations, councils, sessions
from artisan_awards.timeutil import now_utc, today
from tests.test_councils import Chain
from tests.test_operations import snapshot
from workflows import machine as wf
from workflows.states import State

pytestmark = pytest.mark.realdb  # compares what another connection sees before and after


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


def _open_session(chain, api, size=4, present=3, nominees=2):
    """An open province session of ``nominees`` dossiers, ``present`` of ``size`` members present."""
    nominations = [chain.accepted(nominee={"full_name": f"Nghệ Nhân Thử {i}"}) for i in range(nominees)]
    council, members, secretariat = chain.council("province", size=size)
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    r = api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                 json={"present": [m.email for m in members[:present]]})
    assert r.status_code == 200, r.get_json()
    r = api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    assert r.status_code == 200, r.get_json()
    return sid, [n.id for n in nominations], [m.id for m in members], secretariat.id


def _vote(api, sid, member_id, nomination_ids, choice="yes"):
    member = db.session.get(User, member_id)
    r = api.post(f"/api/v1/sessions/{sid}/ballot", member, json={"votes": {str(n): choice for n in nomination_ids}})
    assert r.status_code == 201, r.get_json()


def _email(user_id: int) -> str:
    return db.session.get(User, user_id).email


def _close(sid, secretariat_id, non_voters=None):
    return councils.close_session(db.session.get(User, secretariat_id), db.session.get(CouncilSession, sid),
                                  non_voters)


def _fail_on_second(monkeypatch, module, name):
    real, calls = getattr(module, name), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)


CLOSE_FAILURES = ["ballots_missing", "reason_for_a_stranger", "box_unreadable", "fails_after_first_move"]


@pytest.mark.parametrize("failure", CLOSE_FAILURES)
def test_a_close_refused_or_failing_part_way_writes_nothing(chain, api, monkeypatch, failure):
    sid, nomination_ids, member_ids, secretariat_id = _open_session(chain, api)
    for member_id in member_ids[:2]:
        _vote(api, sid, member_id, nomination_ids)
    reasons = [NonVoterIn(email=_email(member_ids[2]), reason="Rời phiên họp vì lý do sức khỏe")]
    expected: type[Exception] = TransitionRefused
    if failure == "ballots_missing":
        reasons = None
    elif failure == "reason_for_a_stranger":
        reasons = [NonVoterIn(email=_email(member_ids[3]), reason="Vắng mặt")]  # not present
        expected = ValidationFailed
    elif failure == "box_unreadable":
        def unreadable(*args, **kwargs):
            raise ballot_box.BoxUnreadable()
        monkeypatch.setattr(ballot_box, "open_box", unreadable)
    else:  # the boxes are deleted, the counts written and the agenda's states written when a log row fails
        # the close's moves give their log rows as values (audit_chain.append_values, issue 16)
        _fail_on_second(monkeypatch, audit_chain, "append_values")
        expected = RuntimeError
    before = snapshot()
    with pytest.raises(expected):
        _close(sid, secretariat_id, reasons)
    assert snapshot() == before
    monkeypatch.undo()
    tally = _close(sid, secretariat_id, [NonVoterIn(email=_email(member_ids[2]), reason="Rời phiên họp sớm")])
    assert [(row["yes"], row["no"], row["invalid"]) for row in tally] == [(2, 0, 0), (2, 0, 0)]
    assert db.session.get(CouncilSession, sid).status == SessionStatus.CLOSED
    for row in tally:  # each dossier moved once, by the close that went through
        state = db.session.get(Nomination, row["nomination_id"]).state
        assert state == (State.PROVINCE_PASSED if row["passed"] else State.PROVINCE_REJECTED)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog).where(
            TransitionLog.nomination_id == row["nomination_id"], TransitionLog.to_state == state)) == 1


def test_a_ballot_failing_after_its_participation_leaves_the_member_free_to_vote(chain, api, monkeypatch):
    sid, nomination_ids, member_ids, _ = _open_session(chain, api)

    def broken_seal(*args, **kwargs):
        raise RuntimeError("no key")

    monkeypatch.setattr(ballot_box, "seal", broken_seal)
    before = snapshot()
    with pytest.raises(RuntimeError):
        councils.cast_ballot(db.session.get(User, member_ids[0]), db.session.get(CouncilSession, sid),
                             {str(n): "yes" for n in nomination_ids})
    assert snapshot() == before  # no participation without its sealed box
    monkeypatch.undo()
    _vote(api, sid, member_ids[0], nomination_ids)
    before = snapshot()
    with pytest.raises(TransitionRefused) as again:
        councils.cast_ballot(db.session.get(User, member_ids[0]), db.session.get(CouncilSession, sid),
                             {str(n): "no" for n in nomination_ids})
    assert again.value.code == "already_voted"
    assert snapshot() == before


def test_an_opening_failing_after_the_moves_leaves_the_agenda_waiting(chain, api, monkeypatch):
    nominations = [chain.accepted(nominee={"full_name": f"Nghệ Nhân Mở {i}"}) for i in range(2)]
    council, members, secretariat = chain.council("province", size=3)
    sid = chain.session(council, secretariat, [n.id for n in nominations])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    secretariat_id, nomination_ids = secretariat.id, [n.id for n in nominations]

    def broken(*args, **kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(councils.notifications, "session_opened", broken)
    before = snapshot()
    with pytest.raises(RuntimeError):
        councils.open_session(db.session.get(User, secretariat_id), db.session.get(CouncilSession, sid))
    assert snapshot() == before
    monkeypatch.undo()
    councils.open_session(db.session.get(User, secretariat_id), db.session.get(CouncilSession, sid))
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == SessionStatus.OPEN
    for nomination_id in nomination_ids:  # the vote opens: one move each
        assert db.session.get(Nomination, nomination_id).state == State.PROVINCE_REVIEW
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog).where(
            TransitionLog.nomination_id == nomination_id, TransitionLog.to_state == State.PROVINCE_REVIEW)) == 1


def test_a_signed_complaint_is_taken_with_its_hold_or_not_at_all(make, monkeypatch):
    n = make.nomination(State.DRAFT)
    n.state, n.stage_reached = State.PUBLIC_CONSULTATION, wf.advance(None, State.PUBLIC_CONSULTATION)
    n.consultation_ends = today()
    db.session.commit()
    nomination_id = n.id
    complaint = CommentIn(kind="complaint", full_name="Trần Văn Khiếu", phone="0912345678",
                          address="Hà Nội", content="Tác phẩm không do nghệ nhân làm.")

    def broken(*args, **kwargs):
        raise RuntimeError("log down")

    monkeypatch.setattr(consultations, "move_by_event", broken)
    before = snapshot()
    with pytest.raises(RuntimeError):
        consultations.add_comment(nomination_id, complaint)
    assert snapshot() == before  # no comment that should have held the dossier but did not
    monkeypatch.undo()
    comment = consultations.add_comment(nomination_id, complaint)
    assert db.session.get(PublicComment, comment.id).blocks
    assert db.session.get(Nomination, nomination_id).state == State.ON_HOLD


def _live_session(user: User) -> LoginSession:
    row = LoginSession(user_id=user.id, key_hash=secrets.token_hex(32), created_at=now_utc(),
                       last_seen_at=now_utc())
    db.session.add(row)
    db.session.commit()
    return row


def test_ending_ones_other_sessions_is_one_operation_with_its_event(make):
    user_id = make.user("applicant").id
    kept, other, _another = (_live_session(db.session.get(User, user_id)).id for _ in range(3))
    user = db.session.get(User, user_id)
    user.login_session_id = kept
    assert sessions.end_others(user) == (2, 0)
    db.session.expire_all()
    assert [r.id for r in sessions.active_sessions(user)] == [kept]
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.SESSIONS_ENDED,
                                                            AuditEvent.target_id == user.id)).all()
    assert [(e.details["sessions"], e.details["reason"]) for e in events] == [(2, "ended_by_user")]
    before = snapshot()
    user = db.session.get(User, user_id)
    assert not sessions.end_one(user, user, "web", other)  # ended already: nothing written
    assert not sessions.end_one(user, user, "telepathy", kept)
    assert snapshot() == before
    user = db.session.get(User, user_id)
    assert sessions.end_one(user, user, "web", kept)
    assert sessions.active_sessions(db.session.get(User, user_id)) == []
