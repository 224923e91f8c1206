"""The provincial secretariat (Sở Công Thương): the inbox of dossiers and their deadlines."""

from flask import Blueprint

bp = Blueprint("province", __name__, url_prefix="/province")

from . import routes  # noqa: E402,F401
