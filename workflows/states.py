"""States and actions of a nomination, with the labels people read.

They are what the artisan titles' programme definition declares
(``workflows/programmes/artisan-titles/<version>.yaml``, docs/programmes.md): the enums are built from
it at import.  Labels are plain Vietnamese strings; Babel extracts them from the definition
(``workflows/babel_yaml.py``) and the application translates them at display time.  Each state has a staff
label (what the secretariat and councils see), a citizen label (what the public
status lookup shows) and the next step a citizen should expect.
"""

from __future__ import annotations

from dataclasses import dataclass

from .programme import ARTISAN_ID, N_, Programme, load_definition, newest_file

__all__ = ["ACTION_LABELS", "AGENDA_STATE", "ARTISAN", "PAST_PROVINCE", "STATE_INFO", "TRANSFER_PROVINCE",
           "Action", "CouncilEvent", "N_", "State", "StateInfo"]


# The artisan titles' definition (workflows/programmes/artisan-titles/<version>.yaml, its newest version):
# the states, actions and council events below are what it declares, in its order.
ARTISAN = Programme(load_definition(newest_file(ARTISAN_ID)), module=__name__)

State = ARTISAN.State
# Actions people take (the API's ``/actions/{action}``).
Action = ARTISAN.Action
# Events fired by a council session, never by a person directly.
CouncilEvent = ARTISAN.Event


@dataclass(frozen=True)
class StateInfo:
    staff_label: str
    citizen_label: str
    next_step: str
    final: bool = False


STATE_INFO: dict[State, StateInfo] = {
    State(s.id): StateInfo(s.staff_label, s.citizen_label, s.next_step, s.final)
    for s in ARTISAN.definition.states
}

# A log row that moves a dossier to a merged province's successor (not a move of the state machine:
# from_state == to_state; artisan_awards/services/law.py, checked by the audit chain).
TRANSFER_PROVINCE = "transfer_province"

ACTION_LABELS: dict[str, str] = {
    **{ARTISAN.trigger(a.id): a.label for a in (*ARTISAN.definition.actions, *ARTISAN.definition.events)},
    TRANSFER_PROVINCE: N_("Chuyển sang tỉnh, thành phố hợp nhất"),
}

# States in which a council session may put a nomination on its agenda: the entry of each level that
# decides by ballot.
AGENDA_STATE = {
    level.id: State(level.entry) for level in ARTISAN.definition.levels if level.decision is not None
}

# States a dossier reaches only after its provincial council proposed it.
PAST_PROVINCE = tuple(s for s in State if s not in (
    State.DRAFT, State.SUBMITTED, State.RETURNED, State.CLOSED_INCOMPLETE, State.ACCEPTED,
    State.PROVINCE_REVIEW, State.PROVINCE_REJECTED, State.WITHDRAWN))
