"""The one nomination state machine.

``TRANSITIONS`` is the declarative table: every move a nomination can make, who
may make it and the guards that must hold.  It is the artisan titles' programme
definition (``workflows/programmes/artisan-titles/<version>.yaml``, read by
``workflows.programme``).  ``MACHINE`` is the single ``transitions.Machine``
built from it at import time and shared by every nomination (never one machine
per row).  Pages, the API, the documents and the
documentation diagram all read this table; nothing else defines a move.

The machine works on a small plain object (``Subject``) that carries the state
and the facts the guards need, so it stays free of Flask and of the database.
The application copies the resulting state back to its row and writes the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from transitions import Machine

from .programme import COUNCIL, OWNER, Move, TransitionNotAllowed
from .states import AGENDA_STATE, ARTISAN, Action, State

__all__ = ["COUNCIL", "HOLDABLE", "HUMAN_ACTIONS", "MACHINE", "OWNER", "ROLES", "STAGE_OF", "TRANSITIONS",
           "WITHDRAWABLE", "Move", "Stage", "Subject", "TransitionNotAllowed", "actions_from", "actor_for",
           "advance", "can_fire", "fire", "is_final", "moves_for"]

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
if not set(ARTISAN.definition.roles) <= set(ROLES):  # a definition names the system's roles only
    raise RuntimeError(f"the artisan definition names unknown roles: {set(ARTISAN.definition.roles) - set(ROLES)}")
PROVINCE_SCOPED_ROLES = frozenset({PROVINCE_OFFICER, PROVINCE_COUNCIL_MEMBER})


# The table of the artisan titles' definition (workflows/programmes/artisan-titles/<version>.yaml), in its
# order; ``Move`` rows as workflows.programme builds them.
TRANSITIONS: tuple[Move, ...] = ARTISAN.moves


def _sources_of(action: str) -> tuple[State, ...]:
    (move,) = (m for m in TRANSITIONS if m.trigger == action)
    return move.sources


# Holding is possible while the ministry or the public is looking at a file.
HOLDABLE = _sources_of(Action.HOLD)
# Withdrawal is possible in any state before the file reaches the President.
WITHDRAWABLE = _sources_of(Action.WITHDRAW)

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


# The one machine, built by workflows.programme from the definition.
MACHINE: Machine = ARTISAN.machine


def fire(subject: Subject, action: str) -> State:
    """Move ``subject`` by ``action``; return the new state or raise ``TransitionNotAllowed``."""
    return ARTISAN.fire(subject, action)


def can_fire(subject: Subject, action: str) -> bool:
    """Whether ``action`` would succeed on ``subject``, without moving it."""
    return ARTISAN.can_fire(subject, action)


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
