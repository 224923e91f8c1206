"""The applicant's pages: my dossiers and the declaration (Mẫu 01 / 02) in steps."""

from flask import Blueprint

bp = Blueprint("applicant", __name__, url_prefix="/my")

from . import routes  # noqa: E402,F401
