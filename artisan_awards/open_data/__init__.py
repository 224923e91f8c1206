"""Open data (issue 19 item 4): the published results, consultation lists and titles as CSV and JSON files
at stable URLs, their field dictionary, and the page that lists them.  No login, no session."""

from flask import Blueprint

bp = Blueprint("open_data", __name__, url_prefix="/open-data")

from . import routes  # noqa: E402,F401
