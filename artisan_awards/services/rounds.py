"""Rounds (đợt xét tặng) and their plans.

A plan's dates must follow one another: intake opens, intake closes, then each stage's
deadline in ``DEADLINE_ORDER``.  Every creation and change is written to the audit log with
who and when; a change made once the round has opened is marked as such.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workflows.programme import ARTISAN_ID
from workflows.registry import registry
from workflows.states import N_

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..models import AuditKind, Round, User, get_row
from ..schemas import RoundIn
from ..timeutil import today
from . import admin_events, transaction

# The stage deadlines of a Minister's plan, in the order they fall.
DEADLINE_ORDER = ("province_to_ministry", "ministry_to_state", "state_to_pm", "announcement")
DEADLINE_LABELS = {
    "province_to_ministry": N_("Hạn tỉnh gửi hồ sơ lên Bộ"),
    "ministry_to_state": N_("Hạn Bộ gửi Hội đồng cấp Nhà nước"),
    "state_to_pm": N_("Hạn trình Thủ tướng"),
    "announcement": N_("Ngày công bố"),
}
PLAN_FIELDS = ("number", "name", "governing_decree", "intake_opens", "intake_closes", "reply_days",
               "completion_days", "consultation_days", "consultation_windows", "deadlines",
               "reply_day_kind", "completion_day_kind", "consultation_day_kind")


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
            params = {"previous": _label(previous_key), "date": vn_date(previous)}
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


def get_round(round_id: int) -> Round:
    row = get_row(Round, round_id)
    if row is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    return row


def all_rounds() -> list[Round]:
    """Every round, the newest first."""
    return list(db.session.scalars(sa.select(Round).order_by(Round.number.desc())))


def programme_rounds(programme_id: str = ARTISAN_ID) -> list[Round]:
    """The rounds of one programme, the newest first: by default the artisan titles' (what their pages,
    pickers and ``GET /api/v1/rounds`` list; a scheme year or a product-selection round is another
    programme's round and is listed only when asked for by its id)."""
    return list(db.session.scalars(sa.select(Round).where(Round.programme_id == programme_id)
                                   .order_by(Round.number.desc())))


def programme_title(row: Round) -> str:
    """The Vietnamese name (a message id) of the programme the round runs, from the version it records;
    the id itself when that definition is not loaded."""
    try:
        return registry().get(row.programme_id, row.programme_version).definition.title
    except KeyError:
        return row.programme_id


def checked_programme_id(value: str | None) -> str:
    """A programme id given by a caller (``?programme_id=``): the artisan titles when absent, a 422 naming
    the parameter when the registry has no such programme."""
    if value is None or value == "":
        return ARTISAN_ID
    if value not in registry().ids():
        raise ValidationFailed(fields={"programme_id": N_("Không có chương trình này.")})
    return value


def _programme_of(data: RoundIn) -> str:
    """The round's programme: the artisan titles by default; another one of the registry with a version in
    effect on the day intake opens (a 422 naming ``programme_id`` otherwise)."""
    programme_id = data.programme_id or ARTISAN_ID
    if programme_id not in registry().ids():
        raise ValidationFailed(fields={"programme_id": N_("Không có chương trình này.")})
    if programme_id != ARTISAN_ID:
        try:
            registry().effective(programme_id, data.intake_opens)
        except KeyError:
            raise ValidationFailed(fields={"intake_opens": N_(
                "Chương trình chưa có phiên bản áp dụng vào ngày mở tiếp nhận.")}) from None
    return programme_id


@transaction.one_transaction()
def create_round(actor: User, data: RoundIn) -> Round:
    if _number_taken(data.number):
        raise ValidationFailed(fields={"number": N_("Đã có đợt xét tặng với số thứ tự này.")})
    validate_plan(data)
    programme_id = _programme_of(data)
    row = Round(
        programme_id=programme_id,
        number=data.number,
        name=data.name,
        governing_decree=data.governing_decree,
        intake_opens=data.intake_opens,
        intake_closes=data.intake_closes,
        reply_days=data.reply_days,
        completion_days=data.completion_days,
        consultation_days=data.consultation_days,
        consultation_windows=data.consultation_windows,
        reply_day_kind=data.reply_day_kind,
        completion_day_kind=data.completion_day_kind,
        consultation_day_kind=data.consultation_day_kind,
        deadlines={k: v.isoformat() for k, v in data.deadlines.items()},
    )
    db.session.add(row)
    db.session.flush()
    admin_events.record(AuditKind.ROUND_CREATED, actor, target=row, plan=_plan(row))
    return row


@transaction.one_transaction()
def update_round(actor: User, row: Round, data: RoundIn) -> dict:
    """Change a round's plan; returns {field: [before, after]} of what changed (logged)."""
    if _number_taken(data.number, row.id):
        raise ValidationFailed(fields={"number": N_("Đã có đợt xét tặng với số thứ tự này.")})
    check_legal_minimums(row, data)
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
    return changes


# -- once a round is open: legal minimums, and what a plan change does to the dossiers in it -------

WINDOW_LABELS = {
    "reply_days": N_("Thời hạn Sở trả lời (ngày)"),
    "completion_days": N_("Thời hạn bổ sung hồ sơ (ngày)"),
    "consultation_days": N_("Thời gian lấy ý kiến nhân dân (ngày)"),
    "consultation_windows": N_("Số lần lấy ý kiến nhân dân"),
}


def has_opened(row: Round, on: date | None = None) -> bool:
    """Intake has opened (as stored, before any change), or a dossier has already been submitted:
    moving the opening day into the future does not make a running round new again."""
    from ..models import Nomination

    if (on or today()) >= row.intake_opens:
        return True
    return db.session.scalar(sa.select(sa.func.count()).select_from(Nomination).where(
        Nomination.round_id == row.id, Nomination.submitted_at.is_not(None))) > 0


def legal_minimums() -> dict[str, int]:
    from flask import current_app

    return dict(current_app.config.get("ROUND_LEGAL_MINIMUMS") or {})


def check_legal_minimums(row: Round, data: RoundIn) -> None:
    """Once the round is open, no legal window may be shortened below its configured minimum.

    A window already below it (a rehearsal round) may stay as it is or grow; it may not shrink.
    """
    if not has_opened(row):
        return
    fields, params = {}, {}
    for key, minimum in legal_minimums().items():
        before, after = getattr(row, key), getattr(data, key)
        if after < before and after < minimum:
            fields[key] = N_("Đợt đã mở: không được rút xuống dưới mức tối thiểu theo quy định (%(minimum)s).")
            params = {"minimum": minimum}
    if fields:
        raise ValidationFailed(
            N_("Đợt xét tặng đã mở: không được rút ngắn thời hạn luật định xuống dưới mức tối thiểu."),
            fields=fields, params=params, code="legal_minimum")


class _Planned:
    """The round as it would be with ``data``: the plan's fields from ``data``, the rest from the row."""

    def __init__(self, row: Round, data: RoundIn):
        self._row, self._data = row, data

    def __getattr__(self, name):
        if name in PLAN_FIELDS and name != "deadlines":
            return getattr(self._data, name)
        return getattr(self._row, name)


# Until each milestone of the plan, the states a dossier may still be in (it has not passed it yet).
_BEFORE_MILESTONE = {
    "province_to_ministry": ("submitted", "returned", "accepted", "province_review", "province_passed"),
    "ministry_to_state": ("ministry_review", "ministry_passed", "public_consultation"),
    "state_to_pm": ("state_review", "state_passed", "final_consultation"),
    "announcement": ("submitted_to_pm", "submitted_to_president"),
}


def plan_effects(row: Round, data: RoundIn, limit: int = 10) -> list[dict]:
    """What saving ``data`` would change for the dossiers already in the round, nothing written.

    One entry per changed item of the plan: ``label`` (msgid), ``before``, ``after`` (readable),
    ``count`` (dossiers concerned), ``ids`` (their ids) and ``examples`` (up to ``limit`` "code: before →
    after").
    """
    from ..models import Nomination, window_due

    planned = _Planned(row, data)
    in_round = list(db.session.scalars(sa.select(Nomination).where(Nomination.round_id == row.id)))

    def held_or(n):
        return n.held_from if n.state == "on_hold" and n.held_from else n.state

    def d(value):
        return vn_date(value) if value else "—"

    effects = []
    for key, state in (("reply_days", "submitted"), ("completion_days", "returned")):
        if getattr(row, key) == getattr(data, key):
            continue
        moved = []
        for n in in_round:
            if n.state != state:
                continue
            before = window_due(n.state, n.received_at, n.returned_at, row)
            after = window_due(n.state, n.received_at, n.returned_at, planned)
            if before != after:
                moved.append((n.id, f"{n.code or n.full_name}: {d(before)} → {d(after)}"))
        effects.append({"label": WINDOW_LABELS[key], "before": getattr(row, key), "after": getattr(data, key),
                        "count": len(moved), "examples": [text for _i, text in moved[:limit]],
                        "ids": {i for i, _text in moved}})
    if row.consultation_days != data.consultation_days:
        waiting = [n for n in in_round if held_or(n) in ("ministry_review", "ministry_passed", "state_review",
                                                         "state_passed")]
        effects.append({"label": WINDOW_LABELS["consultation_days"], "before": row.consultation_days,
                        "after": data.consultation_days, "count": len(waiting),
                        "examples": [n.code or n.full_name for n in waiting[:limit]], "ids": {n.id for n in waiting}})
    if row.consultation_windows != data.consultation_windows:
        not_yet = [n for n in in_round if held_or(n) in _BEFORE_MILESTONE["province_to_ministry"]
                   + _BEFORE_MILESTONE["ministry_to_state"][:2] + _BEFORE_MILESTONE["state_to_pm"][:2]]
        effects.append({"label": WINDOW_LABELS["consultation_windows"], "before": row.consultation_windows,
                        "after": data.consultation_windows, "count": len(not_yet),
                        "examples": [n.code or n.full_name for n in not_yet[:limit]], "ids": {n.id for n in not_yet}})
    if row.intake_closes != data.intake_closes or row.intake_opens != data.intake_opens:
        drafts = [n for n in in_round if n.state == "draft"]
        effects.append({"label": N_("Thời gian tiếp nhận hồ sơ"),
                        "before": f"{d(row.intake_opens)} – {d(row.intake_closes)}",
                        "after": f"{d(data.intake_opens)} – {d(data.intake_closes)}", "count": len(drafts),
                        "examples": [n.full_name for n in drafts[:limit]], "ids": {n.id for n in drafts}})
    old = {k: date.fromisoformat(v) for k, v in (row.deadlines or {}).items()}
    states: tuple = ()
    for key in DEADLINE_ORDER:
        states += _BEFORE_MILESTONE[key]
        if old.get(key) == data.deadlines.get(key):
            continue
        concerned = [n for n in in_round if held_or(n) in states]
        effects.append({"label": DEADLINE_LABELS[key], "before": d(old.get(key)), "after": d(data.deadlines.get(key)),
                        "count": len(concerned), "examples": [n.code or n.full_name for n in concerned[:limit]],
                        "ids": {n.id for n in concerned}})
    return effects
