"""Every action of the machine is one operation: one log row when it succeeds, nothing at all when it
is refused or fails part-way (the runner's one error path), the same for pages, API, jobs and demo."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog, User
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import now_utc, today
from workflows import machine as wf
from workflows.states import Action, State

ACTIONS = list(Action)
# Actions whose operation needs more than a comment; the rest take (nomination, actor, comment).
REASONED = {Action.RETURN, Action.HOLD}


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, read on a connection of its own (what is really in the database).

    What the session still holds is committed first: an operation that failed without rolling back
    would show here, as a later commit in the same request (an error page's own write) would store it.
    """
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as conn:
        return {t.name: [tuple(r) for r in conn.execute(
                    sa.select(t).order_by(*(t.primary_key.columns or t.columns)))]
                for t in db.metadata.sorted_tables}


def log_count(nomination_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)
                             .where(TransitionLog.nomination_id == nomination_id))


def place(make, action: Action) -> tuple[int, int, State]:
    """A dossier from which ``action`` is possible now, and the user who may take it: (ids, target)."""
    owner = make.user("applicant")
    n = make.nomination(State.DRAFT, owner=owner)
    actor_role = wf.actor_for(action)
    actor = owner if actor_role == wf.OWNER else make.user(actor_role)
    for move in wf.moves_for(action):
        for source in move.sources:
            held = State.MINISTRY_REVIEW if source == State.ON_HOLD else None
            n.state = source
            n.stage_reached = wf.advance(None, held or source)
            n.held_from = held
            n.consultation_ends = None
            # a returned dossier's completion period running (resubmit) or run out (close_incomplete)
            for returned_at in (now_utc(), now_utc() - timedelta(days=365)):
                n.returned_at = returned_at if source == State.RETURNED else None
                if wf.can_fire(n.subject(today()), action):
                    db.session.commit()
                    return n.id, actor.id, move.dest
    raise AssertionError(f"no state from which {action} can be taken")


def operation_call(action: Action, nomination: Nomination, actor: User, *, valid: bool = True):
    operation = service.OPERATIONS[action]
    comment = "Lý do đầy đủ" if valid or action not in REASONED else "   "
    if action == Action.RECORD_AWARD:
        if valid:
            return operation(nomination, actor, "123/QĐ-CTN", date(2026, 9, 2), comment)
        return operation(nomination, actor, "  ", None, comment)
    return operation(nomination, actor, comment)


def test_every_action_has_its_operation_and_perform_only_dispatches():
    assert set(service.OPERATIONS) == set(Action) == set(wf.HUMAN_ACTIONS)
    assert len(set(service.OPERATIONS.values())) == len(Action)  # one function per action


@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_operation_writes_the_move_and_exactly_one_log_row(make, action):
    nomination_id, actor_id, target = place(make, action)
    nomination, actor = db.session.get(Nomination, nomination_id), db.session.get(User, actor_id)
    before = log_count(nomination_id)
    key = operation_call(action, nomination, actor)
    db.session.expire_all()
    nomination = db.session.get(Nomination, nomination_id)
    assert nomination.state == target
    assert log_count(nomination_id) == before + 1
    last = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination_id)
                              .order_by(TransitionLog.id.desc())).first()
    assert (last.action, last.to_state, last.actor_id) == (str(action), str(target), actor_id)
    assert (key is not None) == (action == Action.SUBMIT)  # only the first submission issues a key
    if action == Action.RECORD_AWARD:
        assert (nomination.decision_no, last.meta["decision_no"]) == ("123/QĐ-CTN", "123/QĐ-CTN")


@pytest.mark.realdb  # compares what another connection sees
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_failure_after_the_change_leaves_nothing_written(make, action, monkeypatch):
    """The move is applied, its log row added, and then notifying fails: every table is as before."""
    nomination_id, actor_id, _ = place(make, action)

    def broken_notify(*args, **kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(service.notifications, "nomination_moved", broken_notify)
    before = snapshot()
    with pytest.raises(RuntimeError):
        operation_call(action, db.session.get(Nomination, nomination_id), db.session.get(User, actor_id))
    assert snapshot() == before


@pytest.mark.realdb  # compares what another connection sees
@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_operation_refused_by_the_machine_writes_nothing(make, action):
    """From a final state no action is possible: a 409 with the tables untouched."""
    nomination_id, actor_id, _ = place(make, action)
    n = db.session.get(Nomination, nomination_id)
    n.state = State.NOT_AWARDED
    db.session.commit()
    before = snapshot()
    with pytest.raises(TransitionRefused):
        operation_call(action, db.session.get(Nomination, nomination_id), db.session.get(User, actor_id))
    assert snapshot() == before


@pytest.mark.realdb  # compares what another connection sees
@pytest.mark.parametrize("action", sorted(REASONED | {Action.RECORD_AWARD, Action.SUBMIT}), ids=str)
def test_operation_refused_for_its_input_writes_nothing(make, action):
    """The action's own check fails after the machine said yes: 400, and not even a code is used up."""
    nomination_id, actor_id, _ = place(make, action)
    if action == Action.SUBMIT:  # a draft without the facts a submission needs
        n = db.session.get(Nomination, nomination_id)
        n.birth_date = None
        n.learners_trained = None
        db.session.commit()
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        operation_call(action, db.session.get(Nomination, nomination_id), db.session.get(User, actor_id),
                       valid=False)
    assert caught.value.fields
    assert snapshot() == before


def test_perform_dispatches_by_name_and_refuses_what_it_does_not_know(make):
    nomination_id, actor_id, target = place(make, Action.ACCEPT)
    n, officer = db.session.get(Nomination, nomination_id), db.session.get(User, actor_id)
    logged = log_count(nomination_id)
    with pytest.raises(NotFound):
        service.perform(n, "delete_everything", officer)
    with pytest.raises(Forbidden):  # the owner may not accept their own dossier
        service.perform(n, "accept", db.session.get(User, n.owner_id))
    assert service.perform(n, "accept", officer, comment="Đủ") is None
    assert n.state == target and log_count(nomination_id) == logged + 1


# -- eligibility is computed by the view that needs it, once -----------------------------------------


def _imports(path: str) -> set[str]:
    """Every module a file imports, at any depth of the code (function-level imports included)."""
    import ast
    import pathlib

    found = set()
    for node in ast.walk(ast.parse(pathlib.Path(path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
            found.update("." * node.level + (node.module + "." if node.module else "") + a.name
                         for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_serializers_and_eligibility_no_longer_import_each_other():
    assert not {m for m in _imports("artisan_awards/serializers.py") if "services" in m}
    assert not {m for m in _imports("artisan_awards/services/eligibility.py") if "serializers" in m}


def test_lists_do_not_assess_and_one_dossier_is_assessed_once(api, client, auth, make, monkeypatch):
    from artisan_awards.services import eligibility

    officer = make.user("province_officer", "HNI")
    owner = make.user("applicant")
    n = make.nomination(State.SUBMITTED, owner=owner, officer=officer)
    for _ in range(3):
        make.nomination(State.SUBMITTED, officer=officer)
    calls = []
    real_assess = eligibility.assess
    monkeypatch.setattr(eligibility, "assess",
                        lambda nomination: calls.append(nomination.id) or real_assess(nomination))

    r = api.get("/api/v1/nominations", officer)
    assert r.status_code == 200 and len(r.get_json()["items"]) == 4
    assert calls == [] and all("eligibility" not in item for item in r.get_json()["items"])

    r = api.get(f"/api/v1/nominations/{n.id}", owner)
    assert calls == [n.id] and r.get_json()["eligibility"]["criteria"]  # the contract's field, once
    calls.clear()
    auth.login(owner.email)
    assert client.get(f"/nominations/{n.id}").status_code == 200
    assert calls == [n.id]
