"""The law's calendar, provinces' intake deadlines and the round's record through the API
(shared/api-v1.md v1.1; services/law.py does the work, as for the admin and round pages)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from flask import g, jsonify, request
from pydantic import Field

from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import Province, Round, get_row
from ..permissions import guard
from ..schemas import Name, _In
from ..services import law
from . import bp, json_body, renamed_fields


class HolidayIn(_In):
    """One day of the holiday calendar (``POST /holidays``): added, or changed if the date is there."""

    date: Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))]
    name: Name
    kind: Literal["holiday", "day_off", "make_up_workday"]


class IntakeIn(_In):
    """A province's own intake deadline in a round; ``null`` removes it (the round's deadline rules)."""

    intake_closes: dt.date | None


def _year_arg() -> int | None:
    year = request.args.get("year")
    if year is None or year == "":
        return None
    if not (year.isascii() and year.isdigit() and 1900 <= int(year) <= 2200):
        raise ValidationFailed(fields={"year": N_("Năm từ 1900 đến 2200.")})
    return int(year)


@bp.get("/holidays")
def list_holidays():
    """The holiday calendar the working-day deadlines count with (``?year=`` for one year)."""
    return jsonify([law.holiday_out(r) for r in law.holidays(_year_arg())])


@bp.post("/holidays")
@guard(permissions.can_edit_holidays)
def save_holiday():
    """Add a day to the calendar, or change the day of that date (the administrator)."""
    data = HolidayIn.model_validate(json_body())
    kind, statutory = law.API_KINDS[data.kind]
    old = db.session.get(law.PublicHoliday, data.date)
    try:
        row = law.save_holiday(g.api_user, data.date, kind, data.name,
                               source=old.source if old is not None else "",
                               confidence=old.confidence if old is not None else "H", statutory=statutory)
    except ValidationFailed as exc:
        raise renamed_fields(exc, {"day": "date"}) from None
    return jsonify(law.holiday_out(row)), 201


def _round(round_id: int) -> Round:
    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    return round_


def _province(code: str) -> Province:
    province = db.session.get(Province, code.strip().upper()[:10])
    if province is None:
        raise NotFound(N_("Không có tỉnh, thành phố này."), code="province_not_found")
    return province


def _intake_out(round_: Round, province: Province) -> dict:
    own = next((r for r in round_.province_intakes if r.province_code == province.code), None)
    return {"round_id": round_.id, "province_code": province.code, "province": province.name,
            "intake_opens": round_.intake_opens.isoformat(),
            "intake_closes": round_.intake_closes_for(province.code).isoformat(),
            "own_deadline": own is not None, "round_intake_closes": round_.intake_closes.isoformat()}


@bp.get("/rounds/<int:round_id>/provinces/<code>")
@guard(permissions.is_staff)
def get_intake(round_id: int, code: str):
    """A province's intake deadline in a round: its own if it set one, else the round's."""
    return jsonify(_intake_out(_round(round_id), _province(code)))


@bp.put("/rounds/<int:round_id>/provinces/<code>")
@guard(permissions.can_set_intakes_by_api)
def put_intake(round_id: int, code: str):
    """Set (or with ``null`` remove) the province's own intake deadline inside the round's window:
    that province's officer, or the ministry."""
    round_, province = _round(round_id), _province(code)
    user = g.api_user
    if not permissions.can_set_intake(user, province.code):  # a province's officer: their own province only
        raise Forbidden(N_("Chỉ Sở của tỉnh này hoặc Bộ mới đặt được hạn tiếp nhận của tỉnh."))
    data = IntakeIn.model_validate(json_body())
    if not province.active:
        raise ValidationFailed(fields={"province_code": N_("Tỉnh, thành phố đã hợp nhất, không còn tiếp nhận.")})
    law.set_intake(user, round_, province.code, data.intake_closes)
    return jsonify(_intake_out(round_, province))


@bp.get("/rounds/<int:round_id>/report")
@guard(permissions.can_fetch_round_report)
def round_report(round_id: int):
    """The round's record (JSON); ``?format=csv``, ``xlsx`` or ``pdf`` downloads it as the round page does."""
    from ..report_files import REPORT_FORMATS, report_file

    round_ = _round(round_id)
    fmt = request.args.get("format")
    if fmt in (None, "", "json"):
        return jsonify({"round_id": round_.id, "round": round_.name, **law.report_figures(round_)})
    if fmt not in REPORT_FORMATS:
        raise ValidationFailed(fields={"format": N_("Chỉ nhận csv, xlsx hoặc pdf.")})
    return report_file(round_, law.round_report(round_), fmt)
