"""The typical products through the API (issue 18; docs/programmes.md): the scorers' panels, each scorer's
own sheet, the close of the scoring, the ranking, the certificates and the public register.

Paths (stable): ``/programme-dossiers/{id}/levels/{level}/sheet`` (GET, PUT: the caller's own sheet),
``/programme-dossiers/{id}/levels/{level}/scoring`` (GET) and ``.../scoring/close`` (POST: the secretariat),
``/programme-rounds/{round_id}/levels/{level}/scorers`` (POST) and ``.../ranking`` (GET),
``/programme-dossiers/{id}/certificates`` (GET, POST), ``/certificates/{id}/revoke`` (POST),
``/certificates`` (GET, public: the register), ``/certificates/{id}.pdf`` (GET, public), ``/scoring`` (GET:
the dossiers awaiting the caller's sheet).
"""

from __future__ import annotations

from datetime import date

from flask import g, jsonify, request
from pydantic import Field

from workflows.states import N_

from .. import regions
from ..errors import NotFound, ValidationFailed
from ..models import CERTIFICATE_LEVELS
from ..permissions import guard
from ..schemas import DbId, LongText, _In
from ..services import certificates, scoring
from . import bp, json_body
from . import openapi as spec

Level = Field(pattern=r"^[a-z][a-z0-9_]{0,29}$")


class SheetIn(_In):
    scores: dict[str, float | str]
    comment: LongText | None = None


class ScoringCloseIn(_In):
    comment: LongText | None = None


class ScorerIn(_In):
    user_id: DbId
    region: str | None = Field(default=None, max_length=20)


class CertificateIn(_In):
    level: str = Field(max_length=20)
    issued_on: date | None = None
    number: str | None = Field(default=None, max_length=60)


class RevokeIn(_In):
    reason: LongText
    revoked_on: date | None = None


def _sheet_out(level, sheet, nomination) -> dict:
    return {
        "nomination_id": nomination.id, "level": level.id, "open": scoring.is_open(nomination, level),
        "criteria": [{"group": g.id, "id": c.id, "label": c.label, "max_points": c.max_points, "weight": g.weight}
                     for g in level.decision.groups for c in g.criteria],
        "scores": sheet.scores if sheet else None, "total": sheet.total if sheet else None,
        "comment": sheet.comment if sheet else "",
        "updated_at": sheet.updated_at.isoformat() if sheet and sheet.updated_at else None,
    }


def _own_sheet(nomination, level: str):
    """The caller's own sheet of the dossier at ``level`` as the API answers it (read back after a PUT)."""
    level_def, sheet = scoring.own_sheet(g.api_user, nomination, level)
    return jsonify(_sheet_out(level_def, sheet, nomination))


@bp.get("/scoring")
@guard()
def scoring_queue():
    """The dossiers waiting for the caller's sheet, on every panel he sits on."""
    return jsonify({"items": [
        {"nomination_id": q["nomination"].id, "name": q["nomination"].full_name, "level": q["level"].id,
         "region": q["region"], "handed_in": q["sheet"] is not None,
         "total": q["sheet"].total if q["sheet"] else None} for q in scoring.queue(g.api_user)]})


@bp.get("/programme-dossiers/<int:dossier_id>/levels/<level>/sheet")
@guard()
def get_sheet(dossier_id: int, level: str):
    """The caller's own sheet (404 for anyone not on the dossier's panel)."""
    return _own_sheet(certificates.programme_dossier(dossier_id), level)


@bp.put("/programme-dossiers/<int:dossier_id>/levels/<level>/sheet")
@guard()
def put_sheet(dossier_id: int, level: str):
    """Enter or correct the caller's own sheet while the scoring is open."""
    nomination = certificates.programme_dossier(dossier_id)
    data = SheetIn.model_validate(json_body())
    scoring.save_sheet(g.api_user, nomination, level, data.scores, data.comment)
    return _own_sheet(nomination, level)


@bp.get("/programme-dossiers/<int:dossier_id>/levels/<level>/scoring")
@guard()
def get_scoring(dossier_id: int, level: str):
    """The secretariat: the panel and who handed in; after the close (and for the panel): every sheet."""
    nomination = certificates.programme_dossier(dossier_id)
    return jsonify(scoring.status(g.api_user, nomination, level))


@bp.post("/programme-dossiers/<int:dossier_id>/levels/<level>/scoring/close")
@guard()
def close_scoring(dossier_id: int, level: str):
    """Close the scoring: the decision computed from the stored sheets moves the dossier."""
    nomination = certificates.programme_dossier(dossier_id)
    data = ScoringCloseIn.model_validate(json_body(required=False))
    state = scoring.close(g.api_user, nomination, level, data.comment)
    return jsonify({"state": state, **scoring.status(g.api_user, nomination, level)})


@bp.post("/programme-rounds/<int:round_id>/levels/<level>/scorers")
@guard()
def add_scorer(round_id: int, level: str):
    """Put a council member on the level's panel (for a region when the level is scoped by region)."""
    data = ScorerIn.model_validate(json_body())
    member = scoring.assign_scorer(g.api_user, round_id, level, data.user_id, data.region or "")
    return jsonify({"id": member.id, "round_id": member.round_id, "level": member.level, "region": member.region,
                    "user_id": member.user_id}), 201


@bp.get("/programme-rounds/<int:round_id>/levels/<level>/ranking")
@guard()
def ranking(round_id: int, level: str):
    """The dossiers the level scored, best first (?region= north, central or south)."""
    region = request.args.get("region") or None
    if region is not None and region not in regions.REGIONS:
        raise ValidationFailed(fields={"region": N_("Chọn khu vực: Miền Bắc, Miền Trung hoặc Miền Nam.")})
    rows = scoring.ranking(g.api_user, round_id, level, region)
    return jsonify({"items": [{"nomination_id": r["nomination"].id, "name": r["nomination"].full_name,
                               "province_code": r["nomination"].province_code, "region": r["region"],
                               "score": r["score"], "passed": r["passed"], "state": r["nomination"].state}
                              for r in rows]})


@bp.get("/programme-dossiers/<int:dossier_id>/certificates")
@guard()
def dossier_certificates(dossier_id: int):
    """Every certificate of the dossier, valid or not (its owner and the staff who may act on it)."""
    nomination = certificates.programme_dossier(dossier_id)
    if not certificates.may_read_dossier(g.api_user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return jsonify({"items": [certificates.as_dict(c) for c in certificates.for_dossier(nomination.id)]})


@bp.post("/programme-dossiers/<int:dossier_id>/certificates")
@guard()
def issue_certificate(dossier_id: int):
    """The level's secretariat issues its certificate to a product the level selected."""
    nomination = certificates.programme_dossier(dossier_id)
    data = CertificateIn.model_validate(json_body())
    c = certificates.issue_certificate(nomination, data.level, g.api_user, issued_on=data.issued_on,
                                       number=data.number)
    return jsonify(certificates.as_dict(c)), 201


@bp.post("/certificates/<int:certificate_id>/revoke")
@guard()
def revoke_certificate(certificate_id: int):
    """The issuing level's secretariat revokes a certificate from a day, with the reason."""
    data = RevokeIn.model_validate(json_body())
    c = certificates.revoke(certificates.get(certificate_id), g.api_user, data.reason, data.revoked_on)
    return jsonify(certificates.as_dict(c))


@bp.get("/certificates")
def register():
    """The public register: the certificates valid on ``?on=`` (today by default), filtered by ``level``,
    ``province``, ``group`` and ``q`` (read by ``certificates.register_filter``, as the public page reads them)."""
    chosen = certificates.register_filter(request.args)
    return jsonify({"on": chosen.on.isoformat(), "items": [certificates.as_dict(c, chosen.on)
                                                           for c in chosen.rows()]})


@bp.get("/certificates/<int:certificate_id>.pdf")
def certificate_pdf(certificate_id: int):
    """The certificate as a PDF (public: what it says is in the public register)."""
    from ..documents.service import certificate_pdf as make

    return make(certificates.get(certificate_id)).response()


# -- the OpenAPI document (api/openapi.py) ---------------------------------------------------------

_DOSSIER_404 = {404: ["nomination_not_found", "level_not_found", "not_scored"]}
spec.ROUTES.extend([
    ("get", "/scoring", "Hồ sơ chờ phiếu chấm của mình (người chấm)", True, None, 200, [401]),
    ("get", "/programme-dossiers/{dossier_id}/levels/{level}/sheet", "Phiếu chấm của chính mình", True, None,
     200, [401, 403, 404, 422]),
    ("put", "/programme-dossiers/{dossier_id}/levels/{level}/sheet", "Nhập, sửa phiếu chấm của chính mình", True,
     "SheetIn", 200, [400, 401, 403, 404, 409, 422]),
    ("get", "/programme-dossiers/{dossier_id}/levels/{level}/scoring", "Tình hình chấm điểm (thư ký; sau khi kết "
     "thúc: mọi phiếu chấm)", True, None, 200, [401, 403, 404, 422]),
    ("post", "/programme-dossiers/{dossier_id}/levels/{level}/scoring/close", "Kết thúc chấm điểm: quyết định "
     "theo các phiếu chấm đã lưu", True, "ScoringCloseIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/programme-rounds/{round_id}/levels/{level}/scorers", "Phân công người chấm điểm của cấp", True,
     "ScorerIn", 201, [400, 401, 403, 404, 409, 422]),
    ("get", "/programme-rounds/{round_id}/levels/{level}/ranking", "Xếp hạng các hồ sơ đã chấm điểm", True, None,
     200, [401, 403, 404, 422]),
    ("get", "/programme-dossiers/{dossier_id}/certificates", "Giấy chứng nhận của hồ sơ", True, None, 200,
     [401, 404]),
    ("post", "/programme-dossiers/{dossier_id}/certificates", "Cấp giấy chứng nhận sản phẩm tiêu biểu", True,
     "CertificateIn", 201, [400, 401, 403, 404, 409, 422]),
    ("post", "/certificates/{certificate_id}/revoke", "Thu hồi giấy chứng nhận", True, "RevokeIn", 200,
     [400, 401, 403, 404, 409, 422]),
    ("get", "/certificates", "Sổ đăng ký sản phẩm tiêu biểu: giấy chứng nhận còn hiệu lực (công khai)", False, None,
     200, [422]),
    ("get", "/certificates/{certificate_id}.pdf", "Giấy chứng nhận (PDF, công khai)", False, None, 200, [404]),
])
spec.OPTIONAL_BODIES.add("ScoringCloseIn")
spec.PARAMS["/certificates"] = [
    {"name": n, "in": "query", "required": False, "schema": s} for n, s in [
        ("on", {"type": "string", "format": "date"}), ("level", {"type": "string", "enum": list(CERTIFICATE_LEVELS)}),
        ("province", {"type": "string"}), ("group", {"type": "string"}),
        ("q", {"type": "string", "maxLength": certificates.TEXT_MAX})]]
spec.PARAMS["/programme-rounds/{round_id}/levels/{level}/ranking"] = [
    {"name": "region", "in": "query", "required": False, "schema": {"type": "string", "enum": list(regions.REGIONS)}}]
spec.ERROR_CODES.update({
    ("get", "/programme-dossiers/{dossier_id}/levels/{level}/sheet"): {**_DOSSIER_404, 422: ["no_region"]},
    ("put", "/programme-dossiers/{dossier_id}/levels/{level}/sheet"): {
        **_DOSSIER_404, 409: ["scoring_closed"], 422: ["no_region"]},
    ("get", "/programme-dossiers/{dossier_id}/levels/{level}/scoring"): {**_DOSSIER_404, 422: ["no_region"]},
    ("post", "/programme-dossiers/{dossier_id}/levels/{level}/scoring/close"): {
        **_DOSSIER_404, 409: ["scoring_closed"], 422: ["too_few_sheets", "no_region"]},
    ("post", "/programme-rounds/{round_id}/levels/{level}/scorers"): {
        404: ["round_not_found", "level_not_found", "not_scored"], 409: ["duplicate"]},
    ("get", "/programme-rounds/{round_id}/levels/{level}/ranking"): {
        404: ["round_not_found", "level_not_found", "not_scored"]},
    ("get", "/programme-dossiers/{dossier_id}/certificates"): {404: ["nomination_not_found"]},
    ("post", "/programme-dossiers/{dossier_id}/certificates"): {
        404: ["nomination_not_found", "level_not_found"], 409: ["not_selected", "duplicate"]},
    ("post", "/certificates/{certificate_id}/revoke"): {
        404: ["certificate_not_found", "level_not_found"], 409: ["revoked"]},
    ("get", "/certificates/{certificate_id}.pdf"): {404: ["certificate_not_found"]},
})
# the engine's decision endpoint: a rubric level with a panel decides from the sheets only (services/programmes.py)
_decide = ("post", "/programme-dossiers/{dossier_id}/decision")
_codes = {status: list(codes) for status, codes in spec.ERROR_CODES.get(_decide, {}).items()}
_codes[422] = [*_codes.get(422, []), "scored_by_sheets"]
spec.ERROR_CODES[_decide] = _codes
_CERT = {"type": "object", "required": ["id", "number", "level", "product_name", "holder_name", "issued_on",
                                        "valid_until", "valid"]}
spec.ANSWER_SCHEMAS["Certificate"] = {**_CERT, "properties": {
    "id": {"type": "integer"}, "number": {"type": "string"}, "level": {"type": "string"},
    "programme_id": {"type": "string"}, "holder_name": {"type": "string"}, "product_name": {"type": "string"},
    "product_group": {"type": "string"}, "province_code": {"type": ["string", "null"]},
    "issued_on": {"type": "string", "format": "date"}, "valid_until": {"type": "string", "format": "date"},
    "revoked_on": {"type": ["string", "null"], "format": "date"}, "valid": {"type": "boolean"}}}
for _model in (SheetIn, ScoringCloseIn, ScorerIn, CertificateIn, RevokeIn):
    spec.ANSWER_SCHEMAS[_model.__name__] = _model.model_json_schema()
spec.RESPONSES.update({
    ("post", "/programme-dossiers/{dossier_id}/certificates"): spec._ref("Certificate"),
    ("post", "/certificates/{certificate_id}/revoke"): spec._ref("Certificate"),
    ("get", "/certificates"): {"type": "object", "required": ["on", "items"], "properties": {
        "on": {"type": "string", "format": "date"}, "items": {"type": "array", "items": spec._ref("Certificate")}}},
    ("get", "/programme-dossiers/{dossier_id}/certificates"): {
        "type": "object", "required": ["items"],
        "properties": {"items": {"type": "array", "items": spec._ref("Certificate")}}},
})
