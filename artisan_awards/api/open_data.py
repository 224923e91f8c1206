"""``GET /api/v1/open-data``: the open-data catalogue (anyone, no login; docs/open-data.md)."""

from __future__ import annotations

from flask import current_app, jsonify, url_for

from ..services import open_data as service
from . import bp


@bp.get("/open-data")
def open_data_catalogue():
    """Every dataset with its URLs (all rounds and per round), its fields and the dictionary's URL."""
    cfg = current_app.config
    base = url_for("open_data.index", _external=True) + "/" + service.VERSION
    body = service.catalogue(base, cfg["OPEN_DATA_LICENSE_NAME"], cfg["OPEN_DATA_LICENSE_URL"],
                             cfg["OPEN_DATA_LICENSE_TITLE"])
    response = jsonify(body)
    response.cache_control.public = True
    response.cache_control.max_age = cfg["OPEN_DATA_MAX_AGE"]
    return response
