"""Ministry (Cục Công Thương địa phương) and government officers: every province's dossiers."""

from flask import Blueprint

bp = Blueprint("ministry", __name__, url_prefix="/ministry")

from . import routes  # noqa: E402,F401
