"""Dossiers of programmes other than the artisan titles, run from their definition alone (issue 18).

A programme version is a definition file (workflows/programme.py, docs/programmes.md).  This module files
a dossier of such a programme with the programme's own fields, moves it by the actions of its definition
(who may act is the definition's ``by``) and records a level's decision (ballot, rubric, appraisal: the
arithmetic is ``workflows.programme.decide``).  Every move goes through the same ``record_move`` as the
artisan titles' (one log row in the audit chain, the stage reached); nothing here names a programme.

The artisan titles keep their own operations (services/nominations.py): their dossier is the declaration
form and their decisions are council sessions; ``programme_of`` answers for them too.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workflows import programme as pg
from workflows.machine import Subject
from workflows.registry import registry
from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import Nomination, Province, Round, ScoringPanelMember, User, window_due
from ..text import nfc
from ..timeutil import local_date, now_utc, today
from . import queries, transaction
from .nominations import CONFLICT, _new_access_key, _next_code, record_move


def programme_of(nomination: Nomination) -> pg.Programme:
    """The programme version the dossier was filed under (it stays on it)."""
    return registry().get(nomination.programme_id or pg.ARTISAN_ID, nomination.programme_version or "2024")


def programme_of_round(round_: Round) -> pg.Programme:
    return registry().get(round_.programme_id, round_.programme_version)


def _own_programme(nomination: Nomination) -> pg.Programme:
    programme = programme_of(nomination)
    if programme.id == pg.ARTISAN_ID:
        raise NotFound(N_("Không có thao tác này."), code="unknown_action")
    return programme


def subject(nomination: Nomination, programme: pg.Programme, on: date) -> Subject:
    """What the programme's machine moves: its state (the programme's enum) and the engine's guards."""
    round_ = nomination.round
    due = window_due(nomination.state, nomination.received_at, nomination.returned_at, round_) \
        if nomination.returned_at and nomination.state == "returned" else None
    return Subject(
        state=programme.State(nomination.state),
        held_from=programme.State(nomination.held_from) if nomination.held_from else None,
        intake_open=round_.intake_is_open(on, nomination.province_code),
        completion_open=due is None or on <= due,
        consultation_over=nomination.consultation_ends is None or on >= nomination.consultation_ends,
        consultation_windows=round_.consultation_windows,
    )


def create_dossier(actor: User, round_id: int, province_code: str, values: dict) -> Nomination:
    """File a draft in a round of a programme other than the artisan titles, with its own fields."""
    round_ = db.session.get(Round, round_id) if isinstance(round_id, int) else None
    if round_ is None:
        raise NotFound(N_("Không tìm thấy đợt xét tặng."), code="round_not_found")
    programme = programme_of_round(round_)
    definition = programme.definition
    # a programme whose definition names a form of the application's (the artisan declaration, a scheme's
    # proposal with its budget lines) files through that form, not the generic field list
    if programme.id == pg.ARTISAN_ID or not definition.dossier.fields or definition.dossier.form is not None:
        raise ValidationFailed(N_("Đợt này dùng mẫu bản khai riêng, không nhận hồ sơ theo mẫu chương trình."),
                               code="wrong_form")
    # the filer owns the dossier; an applicant's account files it (province officers' paper dossiers: not yet)
    if not actor.is_authenticated or not permissions.can_file_in(actor, None) or \
            not any(t.by == pg.OWNER for t in definition.transitions):
        raise Forbidden()
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    clean, errors = pg.clean_form(definition.dossier, {k: nfc(v) if isinstance(v, str) else v
                                                       for k, v in values.items()})
    if not isinstance(province_code, str) or db.session.get(Province, province_code) is None:
        errors["province_code"] = N_("Tỉnh, thành phố không hợp lệ.")
    if errors:
        raise ValidationFailed(fields=errors)
    name = str(clean.get(definition.dossier.name_field, "")) if definition.dossier.name_field else ""
    with transaction.one_transaction():
        nomination = Nomination(
            round_id=round_.id, province_code=province_code, owner_id=actor.id, title="",
            full_name=name[:200], state=definition.initial, programme_id=programme.id,
            programme_version=programme.version, programme_data=clean,
        )
        nomination.refresh_name_key()
        db.session.add(nomination)
    return nomination


def perform(nomination: Nomination, action: str, actor: User, comment: str | None = None,
            on: date | None = None) -> str:
    """Take one of the definition's actions on a dossier of that programme; return the new state."""
    programme = _own_programme(nomination)
    if str(action) not in programme.Action._value2member_map_:
        if str(action) in programme.Event._value2member_map_:
            raise Forbidden(N_("Bước này do quyết định của cấp xét thực hiện, không phải một thao tác."))
        raise NotFound(N_("Không có thao tác này."), code="unknown_action")
    if not permissions.may_act_as(actor, nomination, programme.actor_for(action)):
        raise Forbidden()
    return _move(nomination, programme, str(action), actor, nfc(comment).strip() if comment else None, {}, on)


def decide(nomination: Nomination, level_id: str, inputs: dict, actor: User, comment: str | None = None,
           on: date | None = None, meta: dict | None = None) -> str:
    """Record a level's decision (the tally, the scores, the appraisal) and move the dossier by its outcome.

    The level's secretariat (its ``officer`` role) records it.  ``meta``: what the caller adds to the log
    row (the scorers' sheets a closed scoring counted: services/scoring.py).  Returns the new state."""
    programme = _own_programme(nomination)
    try:
        level = programme.level(level_id)
    except KeyError:
        raise NotFound(N_("Không có cấp xét này."), code="level_not_found") from None
    if level.decision is None:
        raise ValidationFailed(N_("Cấp này không ra quyết định."), code="no_decision")
    if not permissions.may_act_as(actor, nomination, level.officer):
        raise Forbidden()
    if not isinstance(inputs, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    if isinstance(level.decision, pg.RubricDecision) and "sheets" not in (meta or {}):
        panel = sa.select(ScoringPanelMember.id).where(ScoringPanelMember.round_id == nomination.round_id,
                                                       ScoringPanelMember.level == level.id).limit(1)
        if db.session.scalar(panel) is not None:  # the scorers' own sheets decide (services/scoring.py)
            raise ValidationFailed(fields={"scores": N_("Cấp này chấm điểm bằng phiếu của từng người chấm: kết thúc "
                                                        "chấm điểm để ra quyết định.")}, code="scored_by_sheets")
    inputs = dict(inputs)
    requested = getattr(level.decision, "requested_field", None)
    if requested and "requested" not in inputs:
        inputs["requested"] = (nomination.programme_data or {}).get(requested)
    try:
        outcome = pg.decide(level.decision, inputs)
    except pg.DecisionInputError as exc:
        raise ValidationFailed(fields={exc.field: exc.message}) from None
    meta = {**(meta or {}), "level": level.id, "decision": level.decision.kind, **outcome.meta}
    return _move(nomination, programme, outcome.event, actor, nfc(comment).strip() if comment else None, meta, on)


def _move(nomination: Nomination, programme: pg.Programme, trigger: str, actor: User, comment: str | None,
          meta: dict, on: date | None) -> str:
    with transaction.one_transaction(conflict=CONFLICT):
        db.session.refresh(nomination, with_for_update=True)
        before = programme.State(nomination.state)
        try:
            after = programme.fire(subject(nomination, programme, on or today()), trigger)
        except pg.TransitionNotAllowed as exc:
            if exc.reason == "guard" and trigger == "submit":
                raise TransitionRefused(N_("Đợt xét tặng không trong thời hạn tiếp nhận hồ sơ.")) from exc
            raise TransitionRefused(N_("Không thể thực hiện thao tác này ở trạng thái hiện tại của hồ sơ."),
                                    code="transition_not_allowed") from exc
        now_state = str(after)
        if trigger == "submit" and nomination.submitted_at is None:
            nomination.submitted_at = now_utc()
        if nomination.code is None and str(before) == programme.definition.initial \
                and trigger not in programme.sideways:
            # filed: the code on the receipt and the access key of the public status lookup, as for the
            # artisan titles (one counter per province and year: codes are unique across programmes)
            nomination.code = _next_code(nomination.province_code, local_date(now_utc()).year)
            nomination.new_access_key = _new_access_key()  # not a column: shown once to the filer
            nomination.access_key_hash = queries.key_hash(nomination.new_access_key)
            meta = {**meta, "code": nomination.code}
        record_move(nomination, trigger, before, after, actor.id, actor.full_name, comment, meta)
    return now_state


def state_label(nomination: Nomination) -> str:
    """The staff label of the dossier's state, from its own programme version."""
    return programme_of(nomination).state_def(nomination.state).staff_label
