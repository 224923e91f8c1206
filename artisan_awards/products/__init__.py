"""Pages of the typical products (issue 18): the scorer's queue and own sheet, the secretariat's scoring
page and close, the level's panel and ranking, a dossier's certificates.  The public register is in
``public/certificates.py``; the same operations through the API in ``api/products.py``."""

from flask import Blueprint

bp = Blueprint("products", __name__)

from . import routes  # noqa: E402,F401
