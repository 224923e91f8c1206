"""Language helpers: translated labels, Vietnamese date format, template filters."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import get_locale, gettext

from workflows.states import ACTION_LABELS, STATE_INFO, State

from .timeutil import VN

TITLE_LABELS = {"people": "Nghệ nhân nhân dân", "meritorious": "Nghệ nhân ưu tú"}
ROLE_LABELS = {
    "applicant": "Người đề nghị",
    "province_officer": "Cán bộ Sở Công Thương",
    "province_council_member": "Thành viên Hội đồng cấp tỉnh",
    "ministry_officer": "Cán bộ Bộ Công Thương",
    "ministry_council_member": "Thành viên Hội đồng cấp Bộ",
    "state_council_member": "Thành viên Hội đồng cấp Nhà nước",
    "government_officer": "Cán bộ Văn phòng Chính phủ",
    "admin": "Quản trị hệ thống",
}
KIND_LABELS = {
    "photo": "Ảnh",
    "video": "Video",
    "award_decision": "Quyết định khen thưởng",
    "certificate": "Giấy chứng nhận, bằng khen",
    "authorisation": "Giấy ủy quyền",
    "other": "Tài liệu khác",
}
RELATIONSHIP_LABELS = {"self": "Bản thân", "child": "Con", "spouse": "Vợ/chồng", "other": "Khác"}
LEVEL_LABELS = {
    "national": "Toàn quốc",
    "regional": "Khu vực",
    "international": "Quốc tế",
    "provincial": "Cấp tỉnh",
}


def state_label(state: str, audience: str = "staff") -> str:
    info = STATE_INFO[State(state)]
    return gettext(info.citizen_label if audience == "citizen" else info.staff_label)


def next_step(state: str) -> str:
    return gettext(STATE_INFO[State(state)].next_step)


def action_label(action: str) -> str:
    return gettext(ACTION_LABELS.get(action, action))


def label(table: dict, key) -> str:
    return gettext(table.get(key, key or "")) if key else ""


def vn_date(value) -> str:
    """dd/mm/yyyy, as Vietnamese forms write dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            from datetime import UTC

            value = value.replace(tzinfo=UTC)
        return value.astimezone(VN).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["vn_date"] = vn_date
    app.jinja_env.globals.update(
        get_locale=get_locale,
        state_label=state_label,
        next_step=next_step,
        action_label=action_label,
        title_label=lambda t: label(TITLE_LABELS, t),
        role_label=lambda r: label(ROLE_LABELS, r),
        kind_label=lambda k: label(KIND_LABELS, k),
        relationship_label=lambda r: label(RELATIONSHIP_LABELS, r),
        level_label=lambda v: label(LEVEL_LABELS, v),
        KIND_LABELS=KIND_LABELS,
        TITLE_LABELS=TITLE_LABELS,
    )
