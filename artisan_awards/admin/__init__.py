"""Administration in the browser: accounts, roles, provinces, bulk import, rounds, councils, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


from . import partners, routes  # noqa: E402,F401
