"""The one nomination state machine.

``TRANSITIONS`` is the declarative table: every move a nomination can make, who
may make it and the guards that must hold.  ``MACHINE`` is the single
``transitions.Machine`` built from it at import time and shared by every
nomination (never one machine per row).  Pages, the API, the documents and the
documentation diagram all read this table; nothing else defines a move.

The machine works on a small plain object (``Subject``) that carries the state
and the facts the guards need, so it stays free of Flask and of the database.
The application copies the resulting state back to its row and writes the log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from transitions import Machine, MachineError

from .states import AGENDA_STATE, Action, CouncilEvent, State

OWNER = "owner"
COUNCIL = "council"

# Roles, as the API contract names them.
APPLICANT = "applicant"
PROVINCE_OFFICER = "province_officer"
PROVINCE_COUNCIL_MEMBER = "province_council_member"
MINISTRY_OFFICER = "ministry_officer"
MINISTRY_COUNCIL_MEMBER = "ministry_council_member"
STATE_COUNCIL_MEMBER = "state_council_member"
GOVERNMENT_OFFICER = "government_officer"
ADMIN = "admin"
DATA_OFFICER = "data_officer"  # personal data protection (Law 91/2025/QH15): the data officer's desk
ROLES = (
    APPLICANT,
    PROVINCE_OFFICER,
    PROVINCE_COUNCIL_MEMBER,
    MINISTRY_OFFICER,
    MINISTRY_COUNCIL_MEMBER,
    STATE_COUNCIL_MEMBER,
    GOVERNMENT_OFFICER,
    ADMIN,
    DATA_OFFICER,
)
PROVINCE_SCOPED_ROLES = frozenset({PROVINCE_OFFICER, PROVINCE_COUNCIL_MEMBER})


@dataclass(frozen=True)
class Move:
    """One row of the table: ``trigger`` takes a nomination from ``sources`` to ``dest``."""

    trigger: str
    sources: tuple[State, ...]
    dest: State
    actor: str  # OWNER, COUNCIL or a role name
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


# Holding is possible while the ministry or the public is looking at a file.
HOLDABLE = (
    State.MINISTRY_REVIEW,
    State.PUBLIC_CONSULTATION,
    State.STATE_REVIEW,
    State.FINAL_CONSULTATION,
)
# Withdrawal is possible in any state before the file reaches the President.
WITHDRAWABLE = (
    State.DRAFT,
    State.SUBMITTED,
    State.RETURNED,
    State.ACCEPTED,
    State.PROVINCE_REVIEW,
    State.PROVINCE_PASSED,
    State.MINISTRY_REVIEW,
    State.MINISTRY_PASSED,
    State.PUBLIC_CONSULTATION,
    State.ON_HOLD,
    State.STATE_REVIEW,
    State.STATE_PASSED,
    State.FINAL_CONSULTATION,
    State.SUBMITTED_TO_PM,
)

TRANSITIONS: tuple[Move, ...] = (
    # Intake at the province (Sở Công Thương).
    Move(Action.SUBMIT, (State.DRAFT,), State.SUBMITTED, OWNER, ("intake_open",)),
    Move(Action.ACCEPT, (State.SUBMITTED,), State.ACCEPTED, PROVINCE_OFFICER),
    Move(Action.RETURN, (State.SUBMITTED,), State.RETURNED, PROVINCE_OFFICER),
    Move(Action.RESUBMIT, (State.RETURNED,), State.SUBMITTED, OWNER, ("completion_open",)),
    # The completion period is the applicant's: closing waits until it has run out.
    Move(Action.CLOSE_INCOMPLETE, (State.RETURNED,), State.CLOSED_INCOMPLETE, PROVINCE_OFFICER, (),
         ("completion_open",)),
    # Provincial council (moved by its session).
    Move(CouncilEvent.PROVINCE_VOTE_OPENS, (State.ACCEPTED,), State.PROVINCE_REVIEW, COUNCIL),
    Move(CouncilEvent.PROVINCE_PASS, (State.PROVINCE_REVIEW,), State.PROVINCE_PASSED, COUNCIL),
    Move(CouncilEvent.PROVINCE_REJECT, (State.PROVINCE_REVIEW,), State.PROVINCE_REJECTED, COUNCIL),
    Move(Action.FORWARD_TO_MINISTRY, (State.PROVINCE_PASSED,), State.MINISTRY_REVIEW, PROVINCE_OFFICER),
    # Ministry specialised council.
    Move(CouncilEvent.MINISTRY_PASS, (State.MINISTRY_REVIEW,), State.MINISTRY_PASSED, COUNCIL),
    Move(CouncilEvent.MINISTRY_REJECT, (State.MINISTRY_REVIEW,), State.MINISTRY_REJECTED, COUNCIL),
    # First public consultation (Art. 16 cl. 1 pt c), then the state council.
    Move(Action.OPEN_CONSULTATION, (State.MINISTRY_PASSED,), State.PUBLIC_CONSULTATION,
         MINISTRY_OFFICER, ("consultation_before_state",)),
    Move(Action.FORWARD_TO_STATE, (State.PUBLIC_CONSULTATION,), State.STATE_REVIEW,
         MINISTRY_OFFICER, ("consultation_over",)),
    Move(Action.FORWARD_TO_STATE, (State.MINISTRY_PASSED,), State.STATE_REVIEW,
         MINISTRY_OFFICER, (), ("consultation_before_state",)),
    Move(CouncilEvent.STATE_PASS, (State.STATE_REVIEW,), State.STATE_PASSED, COUNCIL),
    Move(CouncilEvent.STATE_REJECT, (State.STATE_REVIEW,), State.STATE_REJECTED, COUNCIL),
    # Second public consultation (Art. 16 cl. 2 pt c), then the Prime Minister.
    Move(Action.OPEN_CONSULTATION, (State.STATE_PASSED,), State.FINAL_CONSULTATION,
         MINISTRY_OFFICER, ("consultation_after_state",)),
    Move(Action.SUBMIT_TO_PM, (State.FINAL_CONSULTATION,), State.SUBMITTED_TO_PM,
         MINISTRY_OFFICER, ("consultation_over",)),
    Move(Action.SUBMIT_TO_PM, (State.STATE_PASSED,), State.SUBMITTED_TO_PM,
         MINISTRY_OFFICER, (), ("consultation_after_state",)),
    Move(Action.SUBMIT_TO_PRESIDENT, (State.SUBMITTED_TO_PM,), State.SUBMITTED_TO_PRESIDENT,
         GOVERNMENT_OFFICER),
    Move(Action.RECORD_AWARD, (State.SUBMITTED_TO_PRESIDENT,), State.AWARDED, GOVERNMENT_OFFICER),
    Move(Action.RECORD_NOT_AWARDED, (State.SUBMITTED_TO_PRESIDENT,), State.NOT_AWARDED,
         GOVERNMENT_OFFICER),
    # Holding for verification of comments and complaints, and releasing.
    Move(Action.HOLD, HOLDABLE, State.ON_HOLD, MINISTRY_OFFICER),
    *(
        Move(Action.RELEASE, (State.ON_HOLD,), held, MINISTRY_OFFICER, (f"held_from_{held}",))
        for held in HOLDABLE
    ),
    Move(Action.WITHDRAW, WITHDRAWABLE, State.WITHDRAWN, OWNER),
)

HUMAN_ACTIONS = tuple(Action)


@dataclass
class Subject:
    """What the machine moves: the state plus the facts its guards read."""

    state: State
    held_from: State | None = None
    intake_open: bool = True
    completion_open: bool = True
    consultation_over: bool = True
    consultation_windows: int = 2

    @property
    def consultation_before_state(self) -> bool:
        return self.consultation_windows >= 1

    @property
    def consultation_after_state(self) -> bool:
        return self.consultation_windows >= 2

    def __getattr__(self, name: str):
        if name.startswith("held_from_"):
            return self.held_from == name.removeprefix("held_from_")
        raise AttributeError(name)


def _build_machine() -> Machine:
    rows = [
        {
            "trigger": str(m.trigger),
            "source": list(m.sources),
            "dest": m.dest,
            "conditions": list(m.conditions),
            "unless": list(m.unless),
        }
        for m in TRANSITIONS
    ]
    return Machine(
        model=None,
        states=State,
        transitions=rows,
        initial=State.DRAFT,
        auto_transitions=False,
        ignore_invalid_triggers=False,
        model_attribute="state",
    )


MACHINE = _build_machine()


class TransitionNotAllowed(Exception):
    """The action cannot be taken from the nomination's current state."""

    def __init__(self, state: State, action: str, reason: str = "state"):
        super().__init__(f"{action!s} is not allowed from {state!s} ({reason})")
        self.state = state
        self.action = action
        self.reason = reason


def fire(subject: Subject, action: str) -> State:
    """Move ``subject`` by ``action``; return the new state or raise ``TransitionNotAllowed``."""
    event = MACHINE.events.get(str(action))
    if event is None:
        raise TransitionNotAllowed(subject.state, action, "unknown_action")
    before = subject.state
    try:
        moved = event.trigger(subject)
    except MachineError as exc:
        raise TransitionNotAllowed(before, action, "state") from exc
    if not moved:
        raise TransitionNotAllowed(before, action, "guard")
    return State(subject.state)


def can_fire(subject: Subject, action: str) -> bool:
    """Whether ``action`` would succeed on ``subject``, without moving it."""
    try:
        fire(replace(subject), action)
    except TransitionNotAllowed:
        return False
    return True


def actions_from(state: State) -> list[str]:
    """Triggers that have a move out of ``state``, guards not considered."""
    return sorted({str(m.trigger) for m in TRANSITIONS if state in m.sources})


def moves_for(action: str) -> list[Move]:
    return [m for m in TRANSITIONS if str(m.trigger) == str(action)]


def actor_for(action: str) -> str:
    """Who may take ``action``: OWNER, COUNCIL or a role.  One actor per action."""
    actors = {m.actor for m in moves_for(action)}
    if len(actors) != 1:
        raise KeyError(action)
    return actors.pop()


def is_final(state: State) -> bool:
    return not actions_from(state)


# -- stages: how far a dossier has come ------------------------------------------------------------
#
# A dossier "reaches" a stage when it enters the stage's first state; it keeps that stage afterwards,
# whatever happens next (rejected, withdrawn, held, awarded).  The entry states are read from the
# table above and from ``AGENDA_STATE``; the states of each stage are derived from the machine: those
# reachable from the entry by moves that take a dossier forward (not withdrawal, not hold/release,
# which leave it where it stood).  The application keeps the highest stage reached in a column
# (``nominations.stage_reached``, set with every move by ``advance``), so "has this dossier ever been
# at the ministry?" is one comparison in SQL.


class Stage(IntEnum):
    NONE = 0  # a draft: not yet anywhere
    INTAKE = 1  # submitted to the provincial secretariat
    PROVINCE = 2  # accepted: on the provincial council's agenda
    MINISTRY = 3  # sent on by the province: at the ministry, on its council's agenda
    STATE = 4  # on the state council's agenda
    GOVERNMENT = 5  # submitted to the Prime Minister


def _dest_of(action: str) -> State:
    (dest,) = {m.dest for m in moves_for(action)}
    return dest


STAGE_ENTRY: dict[Stage, State] = {
    Stage.INTAKE: _dest_of(Action.SUBMIT),
    Stage.PROVINCE: AGENDA_STATE["province"],
    Stage.MINISTRY: AGENDA_STATE["ministry"],
    Stage.STATE: AGENDA_STATE["state"],
    Stage.GOVERNMENT: _dest_of(Action.SUBMIT_TO_PM),
}
# Moves that do not take a dossier forward: it keeps the stage it had.
SIDEWAYS = frozenset({Action.WITHDRAW, Action.HOLD, Action.RELEASE})


def _forward_from(start: State) -> frozenset[State]:
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        for m in TRANSITIONS:
            if m.trigger not in SIDEWAYS and here in m.sources and m.dest not in seen:
                seen.add(m.dest)
                todo.append(m.dest)
    return frozenset(seen)


STAGE_OF: dict[State, Stage] = {
    state: max((stage for stage, entry in STAGE_ENTRY.items() if state in _forward_from(entry)),
               default=Stage.NONE)
    for state in State
}


def advance(reached: int | None, state: State) -> Stage:
    """The highest stage reached once a dossier at ``reached`` enters ``state``."""
    return Stage(max(reached or 0, STAGE_OF[State(state)]))
