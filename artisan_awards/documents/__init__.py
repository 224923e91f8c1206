"""The official documents as PDFs (Decree 43/2024 forms, Decree 30/2020 layout).

``engine``: plain data -> HTML (Jinja, autoescaped) -> PDF (WeasyPrint), safe fetching, cache.
``data``: plain data built from the models.  ``service``: the catalogue and who may download what.
``routes``: the page downloads.  The API paths live in ``api/documents.py``.
"""

import logging

from flask import Blueprint

# WeasyPrint narrates its work at INFO ("Step 2 - Fetching and parsing CSS" ...), its own stylesheets
# at import and each render step after: how much it narrates depends on what the process has already
# parsed, so two processes doing the same thing log differently.  Noise that says nothing about the
# documents; set here, before anything in this package imports WeasyPrint.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

bp = Blueprint("documents", __name__)

from . import cli, notices, routes  # noqa: E402,F401

# services.notifications issues a move's one-stop notice through this hook (it may not import documents).
bp.record_once(lambda state: notices.register(state.app))
