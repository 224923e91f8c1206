"""One dossier, as every role that may see it sees it, with the actions it allows."""

from flask import Blueprint

bp = Blueprint("dossier", __name__, url_prefix="/nominations")

from . import hard_cases, routes  # noqa: E402,F401
