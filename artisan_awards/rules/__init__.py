"""Award rules in the browser: the rule sets (read-only for staff, parameters for administrators)
and the secretariat's decisions on criteria that the check leaves to people."""

from flask import Blueprint

bp = Blueprint("rules", __name__)

from . import routes  # noqa: E402,F401
