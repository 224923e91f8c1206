"""Plain-data views of the models: the API's JSON and the forms' starting values."""

from __future__ import annotations

from datetime import date, datetime

from pydantic_core import to_jsonable_python

from . import nomination_data
from .i18n import state_label
from .models import Nomination, Round, TransitionLog
from .timeutil import iso_moment


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: datetime | None) -> str | None:
    return iso_moment(value)


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
        # a return's list of what is missing (printed on the request to complete)
        **({"missing": row.meta["missing"]} if row.meta and row.meta.get("missing") else {}),
    }


def nomination_out(n: Nomination, history: list[TransitionLog] | None = None,
                   eligibility: dict | None = None, hard_cases: dict | None = None) -> dict:
    """NominationOut.  ``history``, ``eligibility`` (services.eligibility.api_of) and ``hard_cases``
    (services.hard_cases.api_view), computed once by the view that needs them, are added when given:
    the one-dossier answers carry them, lists do not."""
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
        award=_award(n),
        # how it came in (web, paper, partner) and, from a partner system, its code there (issue 19)
        channel=n.channel,
        external_code=n.external_code,
        partner=({"code": n.partner.code, "channel_label": n.partner.channel_label} if n.partner else None),
        attachments=[
            {"id": a.id, "kind": a.kind, "name": a.original_name, "size": a.size,
             "content_type": a.content_type}
            for a in n.attachments
        ],
    )
    if history is not None:
        data["history"] = [log_entry(r) for r in history]
    if eligibility is not None:
        data["eligibility"] = eligibility
    if hard_cases is not None:
        data.update(hard_cases)
    return data


def _award(n: Nomination) -> dict | None:
    """The ``award`` object of the API (``record_award``), or None before the decision."""
    if n.award_bonus_vnd is None:
        return None
    return {
        "decision_no": n.decision_no,
        "decision_date": _d(n.decision_date),
        "title": n.award_title,
        "coefficient": float(n.award_coefficient),
        "base_salary_vnd": n.award_base_salary_vnd,
        "bonus_vnd": n.award_bonus_vnd,
    }


def round_out(r: Round, today: date) -> dict:
    return {
        "id": r.id,
        "number": r.number,
        "name": r.name,
        # which programme the round runs, and the version (docs/programmes.md): the artisan titles or another
        "programme_id": r.programme_id,
        "programme_version": r.programme_version,
        "status": r.status(today),
        "governing_decree": r.governing_decree,
        "intake_opens": _d(r.intake_opens),
        "intake_closes": _d(r.intake_closes),
        "reply_days": r.reply_days,
        "completion_days": r.completion_days,
        "consultation_days": r.consultation_days,
        "consultation_windows": r.consultation_windows,
        "deadlines": dict(r.deadlines or {}),
        # calendar or working days per window: the contract's object, and the flat fields RoundIn also takes
        "day_kinds": {"reply": r.reply_day_kind or "calendar", "completion": r.completion_day_kind or "calendar",
                      "consultation": r.consultation_day_kind or "calendar"},
        "reply_day_kind": r.reply_day_kind or "calendar",
        "completion_day_kind": r.completion_day_kind or "calendar",
        "consultation_day_kind": r.consultation_day_kind or "calendar",
    }
