"""Partner systems file dossiers here (issue 19): requests signed per RFC 9421, no bearer token.

``POST /api/v1/intake/dossiers``: multipart, the JSON part ``dossier`` and the evidence files
(integration/intake.py says what the message holds); 201 with the dossier's status (and its access
key, given once), 200 for a repeat of the same message, 409 ``external_code_conflict`` for the same
code with another message.  ``GET /api/v1/intake/dossiers/<external_code>``: the status of one of the
partner's own dossiers (another partner's code is not there: 404).
"""

from __future__ import annotations

import json

from flask import current_app, jsonify, request, url_for

from workflows.states import N_

from ..errors import NotFound, ValidationFailed
from ..extensions import limiter
from ..integration import http_signatures, intake
from . import bp, nfc_deep


def parse_message(raw: str | None) -> dict:
    """The JSON part ``dossier``: an object, NFC everywhere, NUL refused (the API's own rule)."""
    if raw is None or not raw.strip():
        raise ValidationFailed(fields={intake.MESSAGE_PART: N_("Thiếu phần JSON 'dossier' của hồ sơ.")})
    try:
        message = json.loads(raw)
    except ValueError:
        raise ValidationFailed(fields={intake.MESSAGE_PART: N_("Phần 'dossier' không phải JSON hợp lệ.")}) from None
    if not isinstance(message, dict):
        raise ValidationFailed(fields={intake.MESSAGE_PART: N_("Phần 'dossier' phải là một đối tượng JSON.")})
    return nfc_deep(message)


def _answer(filed: intake.Filed):
    body = intake.status_of(filed.nomination)
    if filed.access_key:
        body["access_key"] = filed.access_key  # the public lookup's key: given once, with the 201
    response = jsonify(body)
    response.headers["Location"] = url_for("api.intake_dossier", external_code=filed.nomination.external_code)
    return response, 201 if filed.created else 200


@bp.post("/intake/dossiers")
@limiter.limit(lambda: current_app.config["INTAKE_RATE_LIMIT"])
def intake_dossiers():
    """File a dossier from a partner system (signed request; multipart: ``dossier`` JSON and files)."""
    partner = http_signatures.verify(request)  # the body is read (and its digest checked) first
    message = parse_message(request.form.get(intake.MESSAGE_PART))
    return _answer(intake.file_dossier(partner, message, intake.read_uploads(request)))


@bp.get("/intake/dossiers/<path:external_code>")
@limiter.limit(lambda: current_app.config["INTAKE_RATE_LIMIT"])
def intake_dossier(external_code: str):
    """The status of one of the calling partner's dossiers, by the partner's own code (signed request)."""
    partner = http_signatures.verify(request)
    row = intake.find(partner, external_code)
    if row is None:
        raise NotFound(N_("Không có hồ sơ với mã này của hệ thống gửi."), code="dossier_not_found")
    return jsonify(intake.status_of(row))
