"""Pages anyone may open without an account: the status lookup."""

from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")

from . import certificates, routes  # noqa: E402,F401
