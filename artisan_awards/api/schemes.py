"""National khuyến công schemes through the API (issue 18 item 4; docs/programmes.md "National khuyến công
schemes").  services/schemes.py does the work, as for the pages.  The moves that carry nothing but a
comment (submit, accept, return, withdraw) are the programme's generic actions; a proposal with its
budget lines, the appraisal, the plan and the monitoring records are here."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import g, jsonify, request
from flask_babel import gettext
from pydantic import BaseModel, ConfigDict, Field

from workflows.states import N_

from .. import exports, permissions
from ..errors import Forbidden, ValidationFailed
from ..permissions import guard
from ..services import schemes
from . import bp, json_body

Short = Annotated[str, Field(max_length=300)]
Amount = Annotated[int | str, Field(description="VND: an integer, or its text with dots (500.000.000)")]
Day = Annotated[str, Field(max_length=10, description="YYYY-MM-DD")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SchemeYearIn(_Body):
    """A year of the plan: its guidance and content areas (default: the SCHEME_CONTENT_AREAS setting)."""

    plan_year: int | str
    guidance_number: Annotated[str, Field(max_length=60)]
    guidance_date: Day
    guidance_text: Annotated[str, Field(max_length=20000)] = ""
    content_areas: Annotated[list[Short], Field(max_length=30)] | None = None
    intake_opens: Day
    intake_closes: Day


class SchemeYearPatch(_Body):
    guidance_number: Annotated[str, Field(max_length=60)]
    guidance_date: Day
    guidance_text: Annotated[str, Field(max_length=20000)] = ""
    content_areas: Annotated[list[Short], Field(max_length=30)] | None = None


class BudgetLineIn(_Body):
    item: Short
    state_amount: Amount
    cofinancing: Amount = 0


class SchemeIn(_Body):
    """A proposal: the programme's fields (docs/programmes.md), the province and the budget lines; the
    amounts asked for are the lines' totals."""

    province_code: Annotated[str, Field(max_length=10)]
    title: Short
    content_area: Short
    proposer_kind: Short
    proposer_name: Short
    beneficiaries: Annotated[str, Field(max_length=3000)]
    beneficiary_count: int | str | None = None
    product_certificate: Annotated[str, Field(max_length=40)] | None = None
    summary: Annotated[str, Field(max_length=5000)] | None = None
    budget_lines: Annotated[list[BudgetLineIn], Field(min_length=1, max_length=50)]


class AppraisalIn(_Body):
    score: float | str
    amount: Amount
    comment: Annotated[str, Field(max_length=5000)]


class PlanApprovalIn(_Body):
    decision_number: Annotated[str, Field(max_length=60)]
    decision_date: Day


class SchemeRecordIn(_Body):
    kind: Literal["report", "inspection", "acceptance", "settlement"]
    on_date: Day
    text: Annotated[str, Field(max_length=20000)]
    period: Annotated[str, Field(max_length=100)] | None = None
    progress_percent: int | str | None = None
    team: Annotated[str, Field(max_length=500)] | None = None
    reference: Annotated[str, Field(max_length=100)] | None = None
    amount: Amount | None = None


def _values(model: BaseModel) -> dict:
    return model.model_dump(exclude_none=True)


def _scheme(scheme_id: int):
    return schemes.get_scheme(scheme_id, g.api_user)


def _out(n) -> dict:
    out = schemes.scheme_out(n)
    out["priority"]["explanation"] = schemes.explain(schemes.priority(n), gettext)
    return out


@bp.get("/scheme-years")
@guard(permissions.can_see_scheme_years)
def scheme_years():
    """The years of the national khuyến công plan."""
    return jsonify([schemes.year_out(y) for y in schemes.years()])


@bp.post("/scheme-years")
@guard(permissions.can_manage_schemes)
def open_scheme_year():
    """The department opens a year with its guidance and content areas."""
    data = SchemeYearIn.model_validate(json_body())
    return jsonify(schemes.year_out(schemes.open_year(g.api_user, _values(data)))), 201


@bp.get("/scheme-years/<int:round_id>")
@guard(permissions.can_see_scheme_years)
def scheme_year(round_id: int):
    return jsonify(schemes.year_out(schemes.get_year(round_id)))


@bp.patch("/scheme-years/<int:round_id>")
@guard(permissions.can_manage_schemes)
def edit_scheme_year(round_id: int):
    """The year's guidance and content areas, edited."""
    year = schemes.get_year(round_id)
    data = SchemeYearPatch.model_validate(json_body())
    return jsonify(schemes.year_out(schemes.update_year(g.api_user, year, _values(data))))


def _proposal(data: SchemeIn) -> tuple[dict, list]:
    values = _values(data)
    lines = values.pop("budget_lines")
    return values, lines


@bp.post("/scheme-years/<int:round_id>/schemes")
@guard(permissions.can_propose_scheme)
def propose_scheme(round_id: int):
    """A proposing unit files a scheme (a draft) with its budget lines."""
    year = schemes.get_year(round_id)
    values, lines = _proposal(SchemeIn.model_validate(json_body()))
    return jsonify(_out(schemes.propose(g.api_user, year, values, lines))), 201


@bp.get("/scheme-years/<int:round_id>/appraisal")
@guard(permissions.can_manage_schemes)
def scheme_appraisal_list(round_id: int):
    """The year's schemes under and after appraisal, ranked with their priority explained."""
    year = schemes.get_year(round_id)
    return jsonify([{"place": r.place, "id": r.nomination.id, "title": r.nomination.full_name,
                     "state": r.nomination.state, "province_code": r.nomination.province_code,
                     "score": r.score, "ranking_score": r.ranking_score, "amount": r.amount,
                     "priority": r.priority.rank, "certificate_number": r.priority.certificate_number,
                     "certificate_level": r.priority.level,
                     "valid_until": r.priority.valid_until.isoformat() if r.priority.valid_until else None,
                     "explanation": schemes.explain(r.priority, gettext)}
                    for r in schemes.appraisal_list(year)])


@bp.get("/scheme-years/<int:round_id>/plan")
@guard(permissions.can_see_scheme_years)
def scheme_plan(round_id: int):
    """The year's plan with its totals by locality, unit and content area (``?format=csv|xlsx``: a file)."""
    p = schemes.visible_plan(round_id, g.api_user)
    fmt = request.args.get("format")
    if fmt:
        if fmt not in exports.FORMATS:
            raise ValidationFailed(fields={"format": N_("Định dạng là csv hoặc xlsx.")})
        return exports.respond(fmt, f"ke-hoach-khuyen-cong-{p.year.plan_year}", exports.scheme_plan_columns(),
                               schemes.plan_rows_with_total(p))
    return jsonify(schemes.plan_out(p))


@bp.post("/scheme-years/<int:round_id>/plan/approval")
@guard(permissions.can_manage_schemes)
def approve_scheme_plan(round_id: int):
    """The ministry's approval of the year's plan (its decision), recorded by the department."""
    year = schemes.get_year(round_id)
    data = PlanApprovalIn.model_validate(json_body())
    schemes.approve_plan(g.api_user, year, _values(data))
    return jsonify(schemes.plan_out(schemes.plan(year)))


@bp.get("/schemes/<int:scheme_id>")
@guard()
def scheme(scheme_id: int):
    """A scheme: its fields, budget lines and totals, appraisal, priority and monitoring records."""
    return jsonify(_out(_scheme(scheme_id)))


@bp.put("/schemes/<int:scheme_id>")
@guard()
def edit_scheme(scheme_id: int):
    """The owner's proposal, edited while a draft or returned for completion."""
    n = _scheme(scheme_id)
    if n.owner_id != g.api_user.id:
        raise Forbidden()
    values, lines = _proposal(SchemeIn.model_validate(json_body()))
    return jsonify(_out(schemes.update_proposal(g.api_user, n, values, lines)))


@bp.post("/schemes/<int:scheme_id>/appraisal")
@guard(permissions.can_manage_schemes)
def appraise_scheme(scheme_id: int):
    """The department's appraisal: score, comments, appraised amount (at most the state share asked for)."""
    n = _scheme(scheme_id)
    data = AppraisalIn.model_validate(json_body())
    schemes.appraise(g.api_user, n, _values(data))
    return jsonify(_out(n))


@bp.post("/schemes/<int:scheme_id>/records")
@guard()
def add_scheme_record(scheme_id: int):
    """A progress report (the owner), an inspection visit, the acceptance or the settlement (the department)."""
    n = _scheme(scheme_id)
    data = SchemeRecordIn.model_validate(json_body())
    values = _values(data)
    record = schemes.add_record(g.api_user, n, values.pop("kind"), values)
    return jsonify(schemes.record_out(record)), 201
