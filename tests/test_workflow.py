"""The state machine on its own: no Flask, no database."""

import pytest
from transitions import Machine

from workflows import machine as wf
from workflows.machine import MACHINE, TRANSITIONS, Subject, TransitionNotAllowed, fire
from workflows.states import STATE_INFO, Action, State

CONTRACT_STATES = """draft submitted returned closed_incomplete accepted province_review province_passed
province_rejected ministry_review ministry_passed ministry_rejected public_consultation on_hold
state_review state_passed state_rejected final_consultation submitted_to_pm submitted_to_president
awarded not_awarded withdrawn""".split()
CONTRACT_ACTIONS = """submit return resubmit close_incomplete accept withdraw forward_to_ministry
open_consultation hold release forward_to_state submit_to_pm submit_to_president record_award
record_not_awarded""".split()

# The main path of the API contract: (from, action, to, who).
CONTRACT_MOVES = [
    ("draft", "submit", "submitted", "owner"),
    ("submitted", "accept", "accepted", "province_officer"),
    ("submitted", "return", "returned", "province_officer"),
    ("returned", "resubmit", "submitted", "owner"),
    ("returned", "close_incomplete", "closed_incomplete", "province_officer"),
    ("province_passed", "forward_to_ministry", "ministry_review", "province_officer"),
    ("ministry_passed", "open_consultation", "public_consultation", "ministry_officer"),
    ("public_consultation", "forward_to_state", "state_review", "ministry_officer"),
    ("state_passed", "open_consultation", "final_consultation", "ministry_officer"),
    ("final_consultation", "submit_to_pm", "submitted_to_pm", "ministry_officer"),
    ("submitted_to_pm", "submit_to_president", "submitted_to_president", "government_officer"),
    ("submitted_to_president", "record_award", "awarded", "government_officer"),
    ("submitted_to_president", "record_not_awarded", "not_awarded", "government_officer"),
]


def test_states_and_actions_cover_the_contract():
    assert set(CONTRACT_STATES) <= {s.value for s in State}
    assert set(CONTRACT_ACTIONS) == {a.value for a in Action}
    assert set(STATE_INFO) == set(State), "every state has staff and citizen labels"


def test_one_machine_without_auto_transitions():
    assert isinstance(MACHINE, Machine)
    assert not MACHINE.auto_transitions
    assert MACHINE.models == []  # no model registered: it serves every nomination
    assert not any(name.startswith("to_") for name in MACHINE.events)


@pytest.mark.parametrize("source,action,dest,actor", CONTRACT_MOVES)
def test_contract_moves_exist_with_their_actor(source, action, dest, actor):
    # closing as incomplete waits for the applicant's completion period to run out (issue 14)
    subject = Subject(State(source), completion_open=action != "close_incomplete")
    assert fire(subject, action) == State(dest)
    assert wf.actor_for(action) == actor


@pytest.mark.parametrize("state", [s for s in State if s not in (State.SUBMITTED,)])
def test_accept_only_from_submitted(state):
    with pytest.raises(TransitionNotAllowed):
        fire(Subject(state), Action.ACCEPT)


@pytest.mark.parametrize("held", wf.HOLDABLE)
def test_hold_and_release_returns_to_where_it_was(held):
    subject = Subject(held)
    assert fire(subject, Action.HOLD) == State.ON_HOLD
    subject.held_from = held
    assert fire(subject, Action.RELEASE) == held


def test_withdraw_possible_until_the_president():
    for state in State:
        allowed = wf.can_fire(Subject(state), Action.WITHDRAW)
        assert allowed == (state in wf.WITHDRAWABLE), state
    assert State.SUBMITTED_TO_PRESIDENT not in wf.WITHDRAWABLE


def test_submit_needs_the_intake_window():
    with pytest.raises(TransitionNotAllowed) as exc:
        fire(Subject(State.DRAFT, intake_open=False), Action.SUBMIT)
    assert exc.value.reason == "guard"


def test_resubmit_needs_the_completion_window():
    assert not wf.can_fire(Subject(State.RETURNED, completion_open=False), Action.RESUBMIT)
    assert wf.can_fire(Subject(State.RETURNED, completion_open=False), Action.CLOSE_INCOMPLETE)


def test_close_incomplete_waits_for_the_completion_period():
    """The period is the applicant's: while it runs, the secretariat cannot close the dossier."""
    assert not wf.can_fire(Subject(State.RETURNED, completion_open=True), Action.CLOSE_INCOMPLETE)
    assert wf.can_fire(Subject(State.RETURNED, completion_open=True), Action.RESUBMIT)


def test_consultation_must_run_its_course():
    assert not wf.can_fire(Subject(State.PUBLIC_CONSULTATION, consultation_over=False),
                           Action.FORWARD_TO_STATE)
    assert wf.can_fire(Subject(State.PUBLIC_CONSULTATION, consultation_over=True),
                       Action.FORWARD_TO_STATE)


@pytest.mark.parametrize("windows,before,after", [(2, True, True), (1, True, False), (0, False, False)])
def test_number_of_consultation_windows_is_configuration(windows, before, after):
    assert wf.can_fire(Subject(State.MINISTRY_PASSED, consultation_windows=windows),
                       Action.OPEN_CONSULTATION) == before
    assert wf.can_fire(Subject(State.MINISTRY_PASSED, consultation_windows=windows),
                       Action.FORWARD_TO_STATE) == (not before)
    assert wf.can_fire(Subject(State.STATE_PASSED, consultation_windows=windows),
                       Action.SUBMIT_TO_PM) == (not after)


def test_final_states_have_no_way_out():
    finals = {s for s, info in STATE_INFO.items() if info.final}
    assert finals == {s for s in State if wf.is_final(s)}


def test_can_fire_does_not_move_the_subject():
    subject = Subject(State.DRAFT)
    assert wf.can_fire(subject, Action.SUBMIT)
    assert subject.state == State.DRAFT


def test_every_action_has_one_actor():
    for move in TRANSITIONS:
        assert wf.actor_for(move.trigger) == move.actor


def test_unknown_action_is_refused():
    with pytest.raises(TransitionNotAllowed) as exc:
        fire(Subject(State.DRAFT), "teleport")
    assert exc.value.reason == "unknown_action"


def test_documentation_diagram_is_generated_from_the_machine():
    from pathlib import Path

    from workflows.diagram import document

    committed = (Path(__file__).resolve().parent.parent / "docs" / "state-machine.md").read_text("utf-8")
    assert committed == document(), "run: python -m workflows.diagram > docs/state-machine.md"
