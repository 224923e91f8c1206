"""``POST /api/v1/eligibility/check``: the eligibility check as a dry run (anyone, no login)."""

from __future__ import annotations

from datetime import date

from flask import jsonify

from ..schemas import NominationIn
from ..services import eligibility as service
from . import bp, json_body


class EligibilityCheckIn(NominationIn):
    """NominationIn (no id needed), plus the day it would be filed: that day chooses the rule set."""

    filed_on: date | None = None


@bp.post("/eligibility/check")
def eligibility_check():
    """Check a nomination against the rule set in force on its filing date (default today)."""
    data = EligibilityCheckIn.model_validate(json_body())
    assessment = service.check_input(data, data.filed_on)
    return jsonify(service.api_view(service.present(assessment)))
