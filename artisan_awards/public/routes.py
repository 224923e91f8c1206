from __future__ import annotations

from flask import current_app, render_template, request

from ..errors import NotFound
from ..extensions import limiter
from ..services import nominations as service
from . import bp


@bp.route("/status", methods=["GET"])
@limiter.shared_limit(lambda: current_app.config["STATUS_LOOKUP_LIMIT"], scope="status-lookup",
                      exempt_when=lambda: not request.args.get("code"))
def status():
    """Look up a dossier's status by its code and access key."""
    code = (request.args.get("code") or "").strip()[:40]
    key = (request.args.get("key") or "").strip()[:40]
    nomination, not_found = None, False
    if code or key:
        try:
            nomination = service.lookup_status(code, key)
        except NotFound:
            not_found = True
    status_code = 404 if not_found else 200
    return (
        render_template("public/status.html", nomination=nomination, not_found=not_found,
                        code=code, key=key),
        status_code,
    )
