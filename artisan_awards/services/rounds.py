"""Rounds (đợt xét tặng) and their plans.

A plan's dates must follow one another: intake opens, intake closes, then each stage's
deadline in ``DEADLINE_ORDER``.  Every creation and change is written to the audit log with
who and when; a change made once the round has opened is marked as such.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workflows.states import N_

from ..errors import ValidationFailed
from ..extensions import db
from ..models import AuditKind, Round, User
from ..schemas import RoundIn
from ..timeutil import today
from . import admin_events

# The stage deadlines of a Minister's plan, in the order they fall.
DEADLINE_ORDER = ("province_to_ministry", "ministry_to_state", "state_to_pm", "announcement")
DEADLINE_LABELS = {
    "province_to_ministry": N_("Hạn tỉnh gửi hồ sơ lên Bộ"),
    "ministry_to_state": N_("Hạn Bộ gửi Hội đồng cấp Nhà nước"),
    "state_to_pm": N_("Hạn trình Thủ tướng"),
    "announcement": N_("Ngày công bố"),
}
PLAN_FIELDS = ("number", "name", "governing_decree", "intake_opens", "intake_closes", "reply_days",
               "completion_days", "consultation_days", "consultation_windows", "deadlines")


def _label(key: str) -> str:
    from flask_babel import gettext

    text = N_("Ngày đóng tiếp nhận") if key == "intake_closes" else DEADLINE_LABELS[key]
    try:
        return gettext(text)
    except (KeyError, RuntimeError):  # no request / app context
        return text


def validate_plan(data: RoundIn) -> None:
    """Dates in order, or a clear message naming the two dates that are not."""
    fields = {}
    params = {}
    if data.intake_opens > data.intake_closes:
        fields["intake_closes"] = N_("Ngày đóng tiếp nhận phải sau ngày mở tiếp nhận.")
    previous_key, previous = "intake_closes", data.intake_closes
    for key in DEADLINE_ORDER:
        value = data.deadlines.get(key)
        if value is None:
            continue
        if value <= previous:
            fields[key] = N_("Ngày này phải sau mốc trước đó (%(previous)s: %(date)s).")
            params = {"previous": _label(previous_key), "date": previous.strftime("%d/%m/%Y")}
            break
        previous_key, previous = key, value
    if fields:
        raise ValidationFailed(N_("Kế hoạch đợt xét tặng có ngày không theo thứ tự."), fields=fields,
                               params=params)


def _plan(row: Round) -> dict:
    values = {name: getattr(row, name) for name in PLAN_FIELDS}
    values["deadlines"] = dict(row.deadlines or {})
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def _number_taken(number: int, except_id: int | None = None) -> bool:
    query = sa.select(Round.id).where(Round.number == number)
    if except_id is not None:
        query = query.where(Round.id != except_id)
    return db.session.scalar(query) is not None


def create_round(actor: User, data: RoundIn) -> Round:
    if _number_taken(data.number):
        raise ValidationFailed(fields={"number": N_("Đã có đợt xét tặng với số thứ tự này.")})
    validate_plan(data)
    row = Round(
        number=data.number,
        name=data.name,
        governing_decree=data.governing_decree,
        intake_opens=data.intake_opens,
        intake_closes=data.intake_closes,
        reply_days=data.reply_days,
        completion_days=data.completion_days,
        consultation_days=data.consultation_days,
        consultation_windows=data.consultation_windows,
        deadlines={k: v.isoformat() for k, v in data.deadlines.items()},
    )
    db.session.add(row)
    db.session.flush()
    admin_events.record(AuditKind.ROUND_CREATED, actor, target=row, plan=_plan(row))
    db.session.commit()
    return row


def update_round(actor: User, row: Round, data: RoundIn) -> dict:
    """Change a round's plan; returns {field: [before, after]} of what changed (logged)."""
    if _number_taken(data.number, row.id):
        raise ValidationFailed(fields={"number": N_("Đã có đợt xét tặng với số thứ tự này.")})
    validate_plan(data)
    before = _plan(row)
    for name in PLAN_FIELDS:
        if name == "deadlines":
            row.deadlines = {k: v.isoformat() for k, v in data.deadlines.items()}
        else:
            setattr(row, name, getattr(data, name))
    after = _plan(row)
    changes = {k: [before[k], after[k]] for k in PLAN_FIELDS if before[k] != after[k]}
    if changes:
        opened = today() >= date.fromisoformat(before["intake_opens"])
        admin_events.record(AuditKind.ROUND_CHANGED, actor, target=row, changes=changes, after_opening=opened)
    db.session.commit()
    return changes
