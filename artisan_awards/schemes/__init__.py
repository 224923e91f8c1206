"""National khuyến công schemes in the browser (issue 18 item 4; services/schemes.py does the work): the
years, a proposal with its budget lines, the appraisal list with the certificate priority, the plan with its
totals and export, a scheme with its monitoring."""

from flask import Blueprint

bp = Blueprint("schemes", __name__, url_prefix="/schemes")

from . import routes  # noqa: E402,F401
