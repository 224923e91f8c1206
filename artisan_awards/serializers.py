"""Plain-data views of the models: the API's JSON and the forms' starting values."""

from __future__ import annotations

from datetime import date, datetime

from pydantic_core import to_jsonable_python

from . import nomination_data
from .i18n import state_label
from .models import Nomination, Round, TransitionLog
from .timeutil import as_utc


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def nomination_in(n: Nomination) -> dict:
    """The nomination in the shape of NominationIn, as JSON (what PATCH and the forms start from)."""
    return to_jsonable_python(nomination_data.to_data(n))


def merge_changes(base: dict, changes: dict) -> dict:
    """Apply a partial NominationIn (a form step, a PATCH) over a whole one; nested objects merge."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def log_entry(row: TransitionLog) -> dict:
    return {
        "from": row.from_state,
        "to": row.to_state,
        "action": row.action,
        "actor": row.actor_name,
        "at": _dt(row.at),
        "comment": row.comment,
    }


def nomination_out(n: Nomination, history: list[TransitionLog] | None = None) -> dict:
    data = nomination_in(n)
    data.update(
        id=n.id,
        code=n.code,
        state=n.state,
        state_label=state_label(n.state),
        province_code=n.province_code,
        governing_decree=n.governing_decree,
        created_at=_dt(n.created_at),
        updated_at=_dt(n.updated_at),
        submitted_at=_dt(n.submitted_at),
        reply_due=_d(n.reply_due()),
        completion_due=_d(n.completion_due()),
        consultation_ends=_d(n.consultation_ends),
        decision_no=n.decision_no,
        decision_date=_d(n.decision_date),
        attachments=[
            {"id": a.id, "kind": a.kind, "name": a.original_name, "size": a.size,
             "content_type": a.content_type}
            for a in n.attachments
        ],
    )
    if history is not None:
        data["history"] = [log_entry(r) for r in history]
    data["eligibility"] = _eligibility(n)
    data.update(_hard_cases(n))
    return data


def _hard_cases(n: Nomination) -> dict:
    """Issue 14: the recorded death, the paper arrival, Art. 2(3), the council's special-craft decision."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import NomineeDeath
    from .services import eligibility

    death = db.session.scalar(sa.select(NomineeDeath).where(NomineeDeath.nomination_id == n.id)) if n.id else None
    decision = eligibility.special_craft_decision(n.id) if n.id else None
    excluded = bool(n.id) and bool(eligibility.exclusions(n))
    override = eligibility.override_of(n) if excluded else None
    return {
        "received_at": _dt(n.received_at),
        "arrived_on": _d(n.arrived_on),
        "receipt_book_no": n.receipt_book_no,
        "family_contact": ({"name": n.filed_by_name, "relationship": n.filed_by_relationship,
                            "phone": n.family_contact_phone, "email": n.family_contact_email}
                           if death is not None else None),
        "death_record": ({"death_date": _d(death.death_date), "state_at_record": death.state_at_record,
                          "evidence_id": death.evidence_id, "recorded_at": _dt(death.recorded_at)}
                         if death is not None else None),
        "excluded_art_2_3": excluded,
        "blocked_by_exclusion": excluded and eligibility.blocked_by_exclusion(n),
        "exclusion_override": ({"reason": override.reason, "at": _dt(override.at)} if override else None),
        "special_craft_decision": ({"is_special": decision.is_special, "reasons": decision.reasons,
                                    "session_id": decision.session_id, "at": _dt(decision.at)}
                                   if decision is not None else None),
    }


def _eligibility(n: Nomination) -> dict:
    """As ``POST /api/v1/eligibility/check`` answers, with the secretariat's overrides applied."""
    from .services import eligibility

    return eligibility.api_view(eligibility.present(eligibility.assess(n)))


def round_out(r: Round, today: date) -> dict:
    return {
        "id": r.id,
        "number": r.number,
        "name": r.name,
        "status": r.status(today),
        "governing_decree": r.governing_decree,
        "intake_opens": _d(r.intake_opens),
        "intake_closes": _d(r.intake_closes),
        "reply_days": r.reply_days,
        "completion_days": r.completion_days,
        "consultation_days": r.consultation_days,
        "consultation_windows": r.consultation_windows,
        "deadlines": dict(r.deadlines or {}),
    }
