"""The data officer's desk (issue 17 item 5, docs/personal-data.md §5): the register of processing
activities built from the configuration, the impact assessment drafted from the same data, and the
breach record with its notification deadline and the drafted notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from workflows.states import N_

from .. import personal_fields as pf
from ..errors import ValidationFailed
from ..extensions import db
from ..models import AuditKind, PersonalDataBreach
from ..timeutil import as_utc, now_utc
from . import admin_events, retention
from .transaction import one_transaction


def register() -> list[dict]:
    """One row per processing activity: purpose, basis, subjects, categories, recipients, period."""
    rows = []
    columns = pf.personal_columns()
    for activity in current_app.config["PRIVACY_ACTIVITIES"]:
        setting = activity.get("retention")
        days = int(current_app.config.get(setting) or 0) if setting else 0
        rows.append({
            "key": activity["key"], "purpose": activity["purpose"], "basis": activity["basis"],
            "subjects": activity["subjects"], "recipients": activity["recipients"],
            "classes": [{"key": c, "label": pf.CLASSES[c], "columns": columns.get(c, [])}
                        for c in activity["classes"]],
            "retention_days": days, "retention_setting": setting or "",
        })
    return rows


def retention_schedule() -> list[dict]:
    return [{"kind": k, "label": label, "action": action, "days": retention.period_days(k), "setting": setting}
            for k, (setting, action, label) in retention.KINDS.items()]


def encrypted_columns() -> dict[str, str]:
    from ..field_crypto import ENCRYPTED_COLUMNS

    return dict(ENCRYPTED_COLUMNS)


# -- breaches --------------------------------------------------------------------------------------

@dataclass
class BreachIn:
    description: str
    discovered_at: datetime
    occurred_at: datetime | None
    affected_count: int
    classes: list[str]
    measures: str


def parse_breach(form) -> BreachIn:
    """The breach form's values, or ValidationFailed with a Vietnamese message per field."""
    errors = {}
    description = " ".join((form.get("description") or "").split())
    if len(description) < 10:
        errors["description"] = N_("Mô tả sự cố (ít nhất 10 ký tự).")
    elif len(description) > 4000:
        errors["description"] = N_("Mô tả dài quá 4000 ký tự.")
    moments = {}
    for name in ("discovered_at", "occurred_at"):
        raw = (form.get(name) or "").strip()
        if not raw:
            moments[name] = None
            continue
        try:
            from ..timeutil import VN

            moment = datetime.fromisoformat(raw)
            moments[name] = (moment if moment.tzinfo else moment.replace(tzinfo=VN)).astimezone(now_utc().tzinfo)
        except ValueError:
            errors[name] = N_("Ngày giờ không hợp lệ (ví dụ 2026-12-05T08:30).")
    if not errors.get("discovered_at") and moments.get("discovered_at") is None:
        errors["discovered_at"] = N_("Cần thời điểm phát hiện sự cố.")
    for name in ("discovered_at", "occurred_at"):
        if moments.get(name) and moments[name] > now_utc() + timedelta(minutes=5):
            errors[name] = N_("Thời điểm không thể ở tương lai.")
    occurred, discovered = moments.get("occurred_at"), moments.get("discovered_at")
    if occurred and discovered and occurred > discovered and "occurred_at" not in errors:
        errors["occurred_at"] = N_("Sự cố không thể xảy ra sau khi được phát hiện.")
    raw_count = (form.get("affected_count") or "").strip()
    count = int(raw_count) if raw_count.isdigit() and len(raw_count) < 10 else None
    if count is None:
        errors["affected_count"] = N_("Số người bị ảnh hưởng là một số nguyên không âm.")
    classes = [c for c in form.getlist("classes") if c in pf.MASKABLE + (pf.EVIDENCE, pf.ACCOUNT)]
    if not classes:
        errors["classes"] = N_("Chọn ít nhất một loại dữ liệu bị ảnh hưởng.")
    measures = " ".join((form.get("measures") or "").split())[:4000]
    if errors:
        raise ValidationFailed(fields=errors)
    return BreachIn(description, moments["discovered_at"], moments.get("occurred_at"), count, classes, measures)


def record_breach(user, data: BreachIn) -> PersonalDataBreach:
    with one_transaction():
        breach = PersonalDataBreach(description=data.description, discovered_at=data.discovered_at,
                                    occurred_at=data.occurred_at, affected_count=data.affected_count,
                                    classes=data.classes, measures=data.measures, recorded_by_id=user.id)
        db.session.add(breach)
        db.session.flush()
        admin_events.record(AuditKind.BREACH_RECORDED, user, target=breach, target_type="breach",
                            target_label=f"#{breach.id}", affected=data.affected_count, classes=data.classes)
    return breach


def mark_notified(user, breach: PersonalDataBreach) -> None:
    with one_transaction():
        breach.authority_notified_at = now_utc()


def breaches() -> list[PersonalDataBreach]:
    return list(db.session.scalars(sa.select(PersonalDataBreach).order_by(PersonalDataBreach.discovered_at.desc())))


def deadline(breach: PersonalDataBreach) -> datetime:
    return as_utc(breach.discovered_at) + timedelta(hours=int(current_app.config["BREACH_NOTICE_HOURS"]))


def clock(breach: PersonalDataBreach, now: datetime | None = None) -> dict:
    """The notice deadline and the hours left (negative: late); done once the authority is told."""
    now = now or now_utc()
    due = deadline(breach)
    left = (due - now).total_seconds() / 3600
    return {"due": due, "hours_left": int(left) if left >= 0 else -int(-left) - 1,
            "late": breach.authority_notified_at is None and now > due,
            "done": breach.authority_notified_at is not None,
            "on_time": breach.authority_notified_at is not None and as_utc(breach.authority_notified_at) <= due}


def notice_context(breach: PersonalDataBreach) -> dict:
    config = current_app.config
    return {"controller": config["PRIVACY_CONTROLLER"], "contact": config["PRIVACY_CONTACT"],
            "authority": config["PRIVACY_AUTHORITY"], "hours": config["BREACH_NOTICE_HOURS"],
            "classes": [pf.CLASSES.get(c, c) for c in breach.classes], "due": deadline(breach)}
