"""Pages of every programme other than the artisan titles, generated from its definition (issue 18).

``/programmes/``: the programmes and their rounds open for filing; ``/programmes/<id>/rounds/<round>/new``:
the filing form built from the definition's fields; ``/programme-dossiers/<id>``: the dossier (fields, state,
history, evidence, the actions the visitor may take, the level's decision form for its officer).
Paths: docs/programmes.md "Pages".
"""

from flask import Blueprint

bp = Blueprint("programmes", __name__)

from . import routes  # noqa: E402,F401
