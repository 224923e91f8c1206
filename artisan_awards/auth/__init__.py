"""Log in, log out, register, choose the language."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import account, inbox, routes  # noqa: E402,F401
