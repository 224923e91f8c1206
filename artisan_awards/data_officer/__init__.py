"""The data officer's desk (issue 17 item 5): register of processing, impact assessment, breaches."""

from flask import Blueprint

bp = Blueprint("data_officer", __name__, url_prefix="/data-officer")

from . import routes  # noqa: E402,F401
