"""The integration API v1 (see shared/api-v1.md): JSON, bearer tokens, the contract's error shape."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext
from pydantic import ValidationError

from workflows.states import N_

from ..errors import ServiceError, ValidationFailed
from ..models import MAX_DB_INT
from ..text import nfc
from ..validation import field_errors

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, fields=None):
    body = {"error": {"code": code, "message": gettext(message), "fields": fields or {}}}
    return jsonify(body), status


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError):
    response, status = error(exc.status, exc.code, exc.text(gettext), exc.field_texts(gettext))
    if getattr(exc, "retry_after", None):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, status


@bp.errorhandler(ValidationError)
def _validation_error(exc: ValidationError):
    return error(422, "validation_failed", N_("Dữ liệu chưa hợp lệ."), field_errors(exc, gettext))


class BadJSON(ServiceError):
    status = 400
    code = "malformed_json"
    message = N_("Nội dung gửi lên không phải JSON hợp lệ.")


def nfc_deep(value, path: str = ""):
    if isinstance(value, dict):
        return {nfc_deep(k, path): nfc_deep(v, f"{path}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_deep(v, f"{path}.{i}".lstrip(".")) for i, v in enumerate(value)]
    if isinstance(value, str) and "\x00" in value:
        from ..errors import ValidationFailed

        raise ValidationFailed(fields={path or "_": N_("Có ký tự không hợp lệ.")})
    return nfc(value)


def json_body(required: bool = True) -> dict:
    """The request's JSON object, NFC-normalised; 400 if it is not JSON, 422 if not an object."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise BadJSON(N_("Thiếu nội dung JSON."))
        return {}
    try:
        data = request.get_json(force=True, silent=False)
    except Exception as exc:  # werkzeug raises BadRequest on a parse error
        raise BadJSON() from exc
    if not isinstance(data, dict):
        from ..errors import ValidationFailed

        raise ValidationFailed(N_("Nội dung JSON phải là một đối tượng."))
    return nfc_deep(data)



def renamed_fields(exc: ServiceError, names: dict[str, str]) -> ServiceError:
    """``exc`` with its field names as the API spells them (a service's ``day`` is the contract's ``date``)."""
    exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
    return exc


def page_args() -> tuple[int, int]:
    """The list endpoints' ``page`` and ``per_page`` (20 by default, at most 100), refused field by field."""
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 20))
    except ValueError:
        raise ValidationFailed(fields={"page": N_("Cần một số nguyên.")}) from None
    if not 1 <= page <= MAX_DB_INT or not 1 <= per_page <= 100:
        raise ValidationFailed(fields={"per_page": N_("per_page từ 1 đến 100; page từ 1.")})
    return page, per_page


from . import (  # noqa: E402,F401
    councils,
    documents,
    eligibility,
    hard_cases,
    intake,
    law,
    open_data,
    products,  # typical products: scoring, certificates, register
    programmes,
    routes,
    schemes,  # khuyến công schemes: years, proposals, appraisal, plan, monitoring
)
