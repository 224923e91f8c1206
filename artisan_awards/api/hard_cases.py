"""The law's hard cases through the API (issue 14; services/hard_cases.py): a nominee's death, an
Art. 2(3) override, a paper dossier's arrival date, the council's special-craft decision."""

from __future__ import annotations

from datetime import date

from flask import g, jsonify, request
from pydantic import ValidationError

from workflows.states import N_

from .. import field_view, permissions
from ..errors import Forbidden, ValidationFailed
from ..permissions import guard
from ..schemas import DbId, LongText, _In
from ..serializers import nomination_out
from ..services import councils as council_service
from ..services import eligibility, hard_cases, queries
from ..timeutil import iso_moment
from . import bp, json_body, renamed_fields


class DeathIn(_In):
    """The form fields of ``POST /nominations/{id}/death`` (multipart, with the ``evidence`` file)."""

    death_date: date
    family_name: str
    family_relationship: str
    family_phone: str | None = None
    family_email: str | None = None
    note: str | None = None


class ArrivalIn(_In):
    arrived_on: date
    receipt_book_no: str


class ExclusionOverrideIn(_In):
    reason: LongText


class CouncilSpecialCraftIn(_In):
    """The contract's body of ``POST /councils/{id}/special_crafts`` (shared/api-v1.md v1.1)."""

    nomination_id: DbId
    special: bool
    rationale: LongText


class SpecialCraftIn(_In):
    session_id: DbId
    is_special: bool
    reasons: LongText


def _out(row, status: int = 200):
    data = nomination_out(row, queries.history(row), eligibility.api_of(row), hard_cases.api_view(row))
    return jsonify(field_view.mask_nomination_out(data, g.api_user, row)), status


@bp.post("/nominations/<int:nomination_id>/death")
@guard()
def record_death(nomination_id: int):
    """Record the nominee's death (multipart: the fields of DeathIn and the ``evidence`` file)."""
    return record_death_from_request(nomination_id, 201)


def record_death_from_request(nomination_id: int, status: int = 200):
    """``POST /nominations/{id}/death`` and the contract's action ``record_death`` (v1.1). The body is multipart
    (DeathIn's fields and the ``evidence`` file) or, as the contract writes it, JSON with ``comment`` for ``note``.
    Issue 14 asks for the family's contact and the death evidence, which the contract's ``{"death_date",
    "comment"}`` lacks: a body without them is refused field by field (422), the evidence as a multipart file."""
    user = g.api_user
    row = queries.get_visible(user, nomination_id)
    hard_cases.check_may_record_death(user, row)  # who and when, before the body is read
    if request.mimetype == "multipart/form-data":
        raw = request.form.to_dict()
    else:
        raw = json_body(required=False) or {}
        if "comment" in raw and "note" not in raw:  # the contract's name for the note
            raw["note"] = raw.pop("comment")
    evidence = request.files.get("evidence")
    fields: dict[str, str] = {}
    try:
        data = DeathIn.model_validate(raw)
    except ValidationError as exc:
        from flask_babel import gettext

        from ..validation import field_errors

        fields = field_errors(exc, gettext)
        data = None
    if evidence is None or not evidence.filename:
        fields.setdefault("evidence", N_("Cần tải lên giấy chứng tử hoặc giấy báo tử (gửi dạng multipart, "
                                         "trường evidence)."))
    if fields:
        raise ValidationFailed(fields=fields)
    hard_cases.record_death(user, row, death_date=data.death_date, family_name=data.family_name,
                            family_relationship=data.family_relationship, family_phone=data.family_phone,
                            family_email=data.family_email, note=data.note, evidence=evidence)
    return _out(row, status)


@bp.post("/nominations/<int:nomination_id>/arrival")
@guard()
def record_arrival(nomination_id: int):
    """Record the day a paper dossier reached the department, with its receipt-book number."""
    row = queries.get_visible(g.api_user, nomination_id)
    data = ArrivalIn.model_validate(json_body())
    hard_cases.record_arrival(g.api_user, row, data.arrived_on, data.receipt_book_no)
    return _out(row)


@bp.post("/nominations/<int:nomination_id>/exclusion-override")
@guard()
def override_exclusion(nomination_id: int):
    """Let an Art. 2(3)-excluded dossier go on (where configuration allows it; the administrator)."""
    row = queries.get_visible(g.api_user, nomination_id)
    data = ExclusionOverrideIn.model_validate(json_body())
    hard_cases.override_exclusion(g.api_user, row, data.reason)
    return _out(row, 201)


@bp.post("/nominations/<int:nomination_id>/special-craft")
@guard()
def special_craft(nomination_id: int):
    """The council's decision that the dossier's craft is (not) special, recorded by whoever presides."""
    row = queries.get_visible(g.api_user, nomination_id)
    data = SpecialCraftIn.model_validate(json_body())
    hard_cases.record_special_craft(g.api_user, row, data.session_id, data.is_special, data.reasons)
    return _out(row, 201)


@bp.post("/councils/<int:council_id>/special_crafts")
@guard(permissions.is_staff)
def council_special_craft(council_id: int):
    """The council's decision that a nominee's craft is (not) special, recorded by its secretariat in the
    session that took the dossier up (the same record as ``/nominations/{id}/special-craft``)."""
    council = council_service.get_council(g.api_user, council_id)  # one who may not see it: 404
    if not permissions.is_secretariat(g.api_user, council):
        raise Forbidden(hard_cases.NOT_SECRETARIAT, code="not_secretariat")
    data = CouncilSpecialCraftIn.model_validate(json_body())
    try:
        decision = hard_cases.record_council_special_craft(g.api_user, council, data.nomination_id, data.special,
                                                           data.rationale)
    except ValidationFailed as exc:
        raise renamed_fields(exc, {"is_special": "special", "reasons": "rationale"}) from None
    row = queries.get_visible(g.api_user, data.nomination_id)
    return jsonify({"id": decision.id, "council_id": council.id, "session_id": decision.session_id,
                    "nomination_id": row.id, "special": decision.is_special, "rationale": decision.reasons,
                    "decided_at": iso_moment(decision.at), "eligibility": eligibility.api_of(row)}), 201
