"""Reading and serving dossiers of programmes other than the artisan titles (issue 18): what the generic
pages (artisan_awards/programmes) and the API (artisan_awards/api/programmes.py) show and accept.

The moves themselves are services/programmes.py (``create_dossier``, ``perform``, ``decide``); this module
finds a dossier the caller may see, says what the caller may do with it now, describes a programme's
definition for clients, and adds evidence of the kinds the definition declares through the same stored-file
machinery as the artisan titles (services/attachments.py).  Nothing here names a programme or a role.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from workflows import programme as pg
from workflows.registry import registry
from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import MAX_DB_INT, Attachment, Nomination, Round, TransitionLog, User
from ..models.core import OTHER_PROGRAMMES_WHERE, AttachmentKind
from ..timeutil import today
from . import attachments
from .programmes import programme_of, subject

# Not the artisan titles: the id inlined (not a bound parameter), so that PostgreSQL's generic plans for a
# prepared statement can still use the partial index ix_nominations_other_programmes (migration 0032).
OTHER_PROGRAMMES = sa.text(OTHER_PROGRAMMES_WHERE.replace("programme_id", "nominations.programme_id"))


def programme_ids() -> list[str]:
    """Every programme of the registry but the artisan titles (which have their own pages and API)."""
    return [pid for pid in registry().ids() if pid != pg.ARTISAN_ID]


def programme_or_404(programme_id: str, on: date | None = None) -> pg.Programme:
    """The version of ``programme_id`` in effect on ``on`` (today), else the earliest one; 404 if unknown."""
    if not isinstance(programme_id, str) or programme_id not in programme_ids():
        raise NotFound(N_("Không có chương trình này."), code="programme_not_found")
    versions = registry().versions(programme_id)
    try:
        return registry().effective(programme_id, on or today())
    except KeyError:
        return versions[0]


def uses_own_fields(programme: pg.Programme) -> bool:
    return programme.id != pg.ARTISAN_ID and bool(programme.definition.dossier.fields)


def get_visible(user: User, dossier_id: int) -> tuple[Nomination, pg.Programme]:
    """The dossier of another programme if ``user`` may see it, with its version; otherwise 404 (never 403)."""
    nomination = db.session.get(Nomination, dossier_id) if 0 < dossier_id <= MAX_DB_INT else None
    if nomination is None or nomination.programme_id in (None, pg.ARTISAN_ID):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    programme = programme_of(nomination)
    if not permissions.can_view_programme_dossier(user, nomination, programme):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="dossier_not_found")
    return nomination, programme


def open_rounds(programme_id: str, on: date | None = None) -> list[Round]:
    """The rounds of the programme whose intake is open on ``on`` (any province's own deadline counted later,
    when the dossier is submitted)."""
    on = on or today()
    rows = db.session.scalars(sa.select(Round).where(Round.programme_id == programme_id)
                              .order_by(Round.number.desc())).all()
    return [r for r in rows if r.intake_opens <= on <= r.intake_closes]


def allowed_actions(user: User, nomination: Nomination, programme: pg.Programme, on: date | None = None) -> list[str]:
    return permissions.programme_actions(user, nomination, programme, subject(nomination, programme, on or today()))


def history(nomination: Nomination) -> list[TransitionLog]:
    return list(db.session.scalars(nomination.log.select().order_by(TransitionLog.id)))


def evidence(nomination: Nomination) -> list[Attachment]:
    return list(db.session.scalars(sa.select(Attachment).where(Attachment.nomination_id == nomination.id)
                                   .order_by(Attachment.id)))


def add_evidence(user: User, nomination: Nomination, programme: pg.Programme, kind: str,
                 upload: FileStorage | None) -> Attachment:
    """Add a file of one of the definition's evidence kinds, by the filer while the dossier is theirs to move."""
    if not permissions.can_add_programme_evidence(user, nomination, programme):
        if nomination.owner_id != user.id:
            raise Forbidden()
        raise TransitionRefused(N_("Không bổ sung được tài liệu ở trạng thái hiện tại của hồ sơ."),
                                code="not_editable")
    if kind not in programme.definition.dossier.evidence:
        raise ValidationFailed(fields={"kind": N_("Loại tài liệu không hợp lệ.")})
    return attachments.store_attachment(user, nomination, AttachmentKind(kind), upload)


def check_decision(nomination: Nomination, level, inputs: dict) -> pg.Outcome:
    """The outcome ``inputs`` would give at ``level`` (nothing recorded); ValidationFailed naming the input."""
    inputs = dict(inputs)
    requested = getattr(level.decision, "requested_field", None)
    if requested and "requested" not in inputs:
        inputs["requested"] = (nomination.programme_data or {}).get(requested)
    try:
        return pg.decide(level.decision, inputs)
    except pg.DecisionInputError as exc:
        raise ValidationFailed(fields={exc.field: exc.message}) from None


def attachment_of(nomination: Nomination, attachment_id: int) -> Attachment:
    row = db.session.get(Attachment, attachment_id) if 0 < attachment_id <= MAX_DB_INT else None
    if row is None or row.nomination_id != nomination.id:
        raise NotFound()
    return row


# -- what a client reads ------------------------------------------------------------------------------------


def _decision_out(decision) -> dict | None:
    if decision is None:
        return None
    out = decision.model_dump(mode="json")
    if decision.kind == "ballot":
        out["inputs"] = ["members", "present", "yes"]
    elif decision.kind == "rubric":
        out["inputs"] = ["scores"]
        out["max_score"] = decision.max_score
    else:
        out["inputs"] = ["amount"] + ([] if decision.requested_field else ["requested"])
    return out


def programme_out(programme: pg.Programme, gettext, full: bool = False) -> dict:
    """A programme version as the API describes it (labels translated with ``gettext``)."""
    d = programme.definition
    out = {
        "id": programme.id,
        "version": programme.version,
        "effective_from": d.effective_from.isoformat(),
        "title": gettext(d.title),
        "versions": [{"version": p.version, "effective_from": p.definition.effective_from.isoformat()}
                     for p in registry().versions(programme.id)],
        "levels": [{"id": lv.id, "name": gettext(lv.name), "entry": lv.entry,
                    "decision": lv.decision.kind if lv.decision else None} for lv in d.levels],
    }
    if not full:
        return out
    out["levels"] = [{"id": lv.id, "name": gettext(lv.name), "officer": lv.officer, "council": lv.council,
                      "entry": lv.entry, "decision": _decision_out(lv.decision)} for lv in d.levels]
    out["initial"] = d.initial
    out["fields"] = [{"id": f.id, "label": gettext(f.label), "type": f.type, "required": f.required,
                      "max_length": f.max_length, "choices": list(f.choices), "minimum": f.minimum,
                      "maximum": f.maximum} for f in d.dossier.fields]
    out["name_field"] = d.dossier.name_field
    out["evidence"] = list(d.dossier.evidence)
    out["states"] = [{"id": s.id, "staff_label": gettext(s.staff_label), "citizen_label": gettext(s.citizen_label),
                      "next_step": gettext(s.next_step), "final": s.final, "stage": programme.stage_of[s.id]}
                     for s in d.states]
    out["actions"] = [{"id": a.id, "label": gettext(a.label), "by": programme.actor_for(a.id),
                       "from": sorted({str(s) for m in programme.moves_for(a.id) for s in m.sources})}
                      for a in d.actions]
    out["events"] = [{"id": e.id, "label": gettext(e.label)} for e in d.events]
    out["transitions"] = [{"action": t.action, "from": list(t.sources), "to": t.dest, "by": t.by,
                           "when": list(t.when), "unless": list(t.unless), "forward": t.forward}
                          for t in d.transitions]
    return out


def dossier_out(user: User, nomination: Nomination, programme: pg.Programme, gettext) -> dict:
    """One dossier as its caller sees it: fields, state, stage, history, evidence, what the caller may do."""
    state = programme.state_def(nomination.state)
    return {
        "id": nomination.id,
        "code": nomination.code,
        "programme_id": programme.id,
        "programme_version": programme.version,
        "round_id": nomination.round_id,
        "province_code": nomination.province_code,
        "name": nomination.full_name,
        "state": nomination.state,
        "state_label": gettext(state.staff_label),
        "citizen_label": gettext(state.citizen_label),
        "next_step": gettext(state.next_step),
        "final": state.final,
        "stage": nomination.stage_reached or 0,
        "fields": dict(nomination.programme_data or {}),
        "owner": nomination.owner_id == user.id,
        "allowed_actions": [{"id": a, "label": gettext(programme.label(a))}
                            for a in allowed_actions(user, nomination, programme)],
        "decisions": [{"level": lv.id, "name": gettext(lv.name), "kind": lv.decision.kind}
                      for lv in permissions.programme_decisions(user, nomination, programme)],
        "may_add_evidence": permissions.can_add_programme_evidence(user, nomination, programme),
        "evidence": [{"id": a.id, "kind": str(a.kind), "name": a.original_name, "content_type": a.content_type,
                      "size": a.size, "sha256": a.sha256} for a in evidence(nomination)],
        "history": [{"action": r.action, "label": trigger_label(programme, r.action, gettext),
                     "from": r.from_state, "to": r.to_state,
                     "at": r.at.isoformat() if r.at else None, "by": r.actor_name, "comment": r.comment,
                     "meta": r.meta or {}} for r in history(nomination)],
    }


def public_texts(programme_id: str | None, version: str | None, gettext):
    """For the public status lookup: None for the artisan titles (their own labels), else the functions
    (state → citizen label, state → next step) of the dossier's programme version."""
    if programme_id in (None, pg.ARTISAN_ID):
        return None
    programme = registry().get(programme_id, version)
    return (lambda state, audience="citizen": gettext(programme.state_def(state).citizen_label),
            lambda state: gettext(programme.state_def(state).next_step))


def trigger_label(programme: pg.Programme, trigger: str, gettext) -> str:
    known = {*programme.Action._value2member_map_, *programme.Event._value2member_map_}
    return gettext(programme.label(trigger)) if trigger in known else trigger



# -- across programmes: the inbox and the dashboard -----------------------------------------------------------


def awaiting(user: User, programme_id: str | None = None, limit: int = 500) -> list[dict]:
    """Dossiers of the other programmes that wait for ``user``: an action of theirs or their level's decision
    is possible now.  Each: the dossier, its programme version, the actions and the decisions."""
    stmt = sa.select(Nomination).where(OTHER_PROGRAMMES, Nomination.code.is_not(None))
    if programme_id:
        stmt = stmt.where(Nomination.programme_id == programme_id)
    if not permissions.sees_every_province(user):
        stmt = stmt.where(Nomination.province_code == user.province_code)
    rows = []
    on = today()
    for nomination in db.session.scalars(stmt.order_by(Nomination.state_changed_at, Nomination.id).limit(limit)):
        programme = programme_of(nomination)
        if programme.is_final(nomination.state) or \
                not permissions.can_view_programme_dossier(user, nomination, programme):
            continue
        actions = [a for a in allowed_actions(user, nomination, programme, on) if not owner_acts(programme, a)]
        decisions = permissions.programme_decisions(user, nomination, programme)
        if actions or decisions:
            rows.append({"nomination": nomination, "programme": programme, "actions": actions,
                         "decisions": decisions})
    return rows


def visible(user: User, programme_id: str | None = None, round_id: int | None = None, state: str | None = None,
            province_code: str | None = None, limit: int = 5000) -> list[tuple[Nomination, pg.Programme]]:
    """The other programmes' dossiers ``user`` may see, oldest first, each with its version."""
    stmt = sa.select(Nomination).where(OTHER_PROGRAMMES)
    if programme_id:
        stmt = stmt.where(Nomination.programme_id == programme_id)
    if round_id is not None:
        stmt = stmt.where(Nomination.round_id == round_id if 0 < round_id <= MAX_DB_INT else sa.false())
    if state:
        stmt = stmt.where(Nomination.state == state)
    if province_code:
        stmt = stmt.where(Nomination.province_code == province_code)
    rows = []
    for nomination in db.session.scalars(stmt.order_by(Nomination.id).limit(limit)):
        programme = programme_of(nomination)
        if permissions.can_view_programme_dossier(user, nomination, programme):
            rows.append((nomination, programme))
    return rows


def owner_acts(programme: pg.Programme, action: str) -> bool:
    return programme.actor_for(action) == permissions.OWNER


def my_dossiers(user: User) -> list[tuple[Nomination, pg.Programme]]:
    """The dossiers of the other programmes ``user`` filed, the latest first, each with its version."""
    rows = db.session.scalars(sa.select(Nomination).where(Nomination.owner_id == user.id,
                                                          Nomination.programme_id != pg.ARTISAN_ID)
                              .order_by(Nomination.id.desc()))
    return [(n, programme_of(n)) for n in rows]


def programme_rounds(programme_id: str) -> list[Round]:
    return list(db.session.scalars(sa.select(Round).where(Round.programme_id == programme_id)
                                   .order_by(Round.number.desc())))


def round_counts(round_: Round) -> dict:
    """A round of another programme at a glance: dossiers by state (in the definition's order, drafts not
    counted) and by province, and the amount asked for / granted when its decisions are appraisals."""
    programme = programme_of_round_(round_)
    rows = db.session.execute(
        sa.select(Nomination.state, Nomination.province_code, sa.func.count())
        .where(Nomination.round_id == round_.id, Nomination.state != programme.definition.initial)
        .group_by(Nomination.state, Nomination.province_code)).all()
    by_state: dict[str, int] = {}
    by_province: dict[str, int] = {}
    for state, province, count in rows:
        by_state[state] = by_state.get(state, 0) + count
        by_province[province] = by_province.get(province, 0) + count
    states = [(s, by_state.get(s.id, 0)) for s in programme.definition.states if s.id != programme.definition.initial]
    return {"programme": programme, "states": states, "provinces": sorted(by_province.items()),
            "total": sum(by_state.values()),
            "final": sum(n for s, n in states if s.final)}


def programme_of_round_(round_: Round) -> pg.Programme:
    return registry().get(round_.programme_id, round_.programme_version)
