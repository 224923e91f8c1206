"""Council members: the dossiers waiting on their council's agenda."""

from flask import Blueprint

bp = Blueprint("council", __name__, url_prefix="/council")

from . import routes  # noqa: E402,F401
