"""The messages other systems receive: one pydantic model per event type.

Every body is ``{"type": ..., "timestamp": ..., "data": {...}}`` (the Standard Webhooks envelope);
``data`` is one of the models below.  The same models describe the payloads in the OpenAPI
document's ``webhooks`` section (``api/openapi._webhooks``), so the contract and what is sent are
one thing.  No personal data of the nominee is sent: codes, states, dates and units only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

STATE_CHANGED = "dossier.state_changed"
SESSION_CLOSED = "council_session.closed"
DECISION_RECORDED = "decision.recorded"
CONSULTATION_OPENED = "consultation.opened"
PARTNER_STATUS = "dossier.status"  # what a partner subscriber receives (status sync)
EVENT_TYPES = (STATE_CHANGED, SESSION_CLOSED, DECISION_RECORDED, CONSULTATION_OPENED)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Unit(_Strict):
    """The unit that processed the step: a province's department, the ministry, a council, the system."""

    kind: Literal["province", "ministry", "council", "system"]
    code: str | None = Field(None, description="Province code (HNI ...) for a province's unit")
    name: str


class DossierStateChanged(_Strict):
    dossier_id: int
    dossier_code: str | None = Field(description="Our dossier code (NN-2026-HNI-00001); none before submission")
    round_id: int
    province_code: str
    action: str = Field(description="The action taken (submit, accept, ..., province_transfer, record_death)")
    from_state: str
    to_state: str
    changed_at: datetime
    unit: Unit
    sequence: int = Field(description="1, 2, 3 ... per dossier and subscriber, in the order sent")


class SessionResult(_Strict):
    dossier_code: str | None
    passed: bool


class CouncilSessionClosed(_Strict):
    session_id: int
    council_id: int
    council_name: str
    level: str
    province_code: str | None
    closed_at: datetime
    received: int
    passed: int
    rejected: int
    results: list[SessionResult]


class DecisionRecorded(_Strict):
    dossier_id: int
    dossier_code: str | None
    round_id: int
    province_code: str
    title: str = Field(description="The title proposed: people or meritorious")
    award_title: str | None
    decision_no: str | None
    decision_date: date | None
    recorded_at: datetime
    sequence: int


class ConsultationOpened(_Strict):
    dossier_id: int
    dossier_code: str | None
    round_id: int
    province_code: str
    title: str
    consultation_ends: date | None
    opened_at: datetime
    sequence: int


class PartnerStatus(_Strict):
    """A status message to a partner (the portal): in the partner's vocabulary."""

    dossier_code: str | None = Field(description="Our dossier code")
    external_code: str | None = Field(description="The partner's own code of the dossier, when filed there")
    status_code: str = Field(description="The partner's status code mapped from our state")
    state: str = Field(description="Our state (the machine's name)")
    action: str
    processed_at: datetime
    processing_unit: Unit
    sequence: int


DATA_MODELS: dict[str, type[BaseModel]] = {
    STATE_CHANGED: DossierStateChanged,
    SESSION_CLOSED: CouncilSessionClosed,
    DECISION_RECORDED: DecisionRecorded,
    CONSULTATION_OPENED: ConsultationOpened,
    PARTNER_STATUS: PartnerStatus,
}


def envelope(type_: str) -> type[BaseModel]:
    """The whole body of ``type_``: the envelope around its data model (for the OpenAPI document)."""
    from pydantic import create_model

    return create_model(
        f"{DATA_MODELS[type_].__name__}Message", __base__=_Strict,
        type=(Literal[type_], ...), timestamp=(datetime, ...), data=(DATA_MODELS[type_], ...))
