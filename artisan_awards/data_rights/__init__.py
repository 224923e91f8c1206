"""The person's rights over their personal data (issue 17): the notice, consents, the ZIP of all one's
data, requests (correction, deletion, withdrawal) and the data officer's answers."""

from flask import Blueprint

bp = Blueprint("data_rights", __name__)

from . import routes  # noqa: E402,F401
