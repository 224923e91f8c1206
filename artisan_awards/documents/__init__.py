"""The official documents as PDFs (Decree 43/2024 forms, Decree 30/2020 layout).

``engine``: plain data -> HTML (Jinja, autoescaped) -> PDF (WeasyPrint), safe fetching, cache.
``data``: plain data built from the models.  ``service``: the catalogue and who may download what.
``routes``: the page downloads.  The API paths live in ``api/documents.py``.
"""

from flask import Blueprint

bp = Blueprint("documents", __name__)

from . import cli, notices, routes  # noqa: E402,F401

# services.notifications issues a move's one-stop notice through this hook (it may not import documents).
bp.record_once(lambda state: notices.register(state.app))
