"""The public register of typical rural-industrial products (issue 18): the certificates valid today (or on
a chosen day), filtered, each with its PDF.  An expired or revoked certificate is not listed; its number
looked up says so (services/certificates.py)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import render_template, request

from workflows.states import N_

from ..extensions import db
from ..models import CERTIFICATE_LEVELS, Province
from ..services import certificates
from ..timeutil import today
from . import bp

LEVEL_LABELS = {"province": N_("Cấp tỉnh"), "region": N_("Cấp khu vực"), "nation": N_("Cấp quốc gia")}


@bp.route("/certificates")
def certificates_register():
    """The register: valid certificates, highest level first; filters by level, province, group, text."""
    args = request.args
    errors = {}
    on = today()
    if args.get("on"):
        try:
            on = date.fromisoformat(args["on"])
        except ValueError:
            errors["on"] = N_("Ngày không hợp lệ (định dạng YYYY-MM-DD).")
    level = args.get("level") if args.get("level") in CERTIFICATE_LEVELS else None
    province = args.get("province") or None
    text = (args.get("q") or "").strip()[:100]
    rows = certificates.register(on, level, province, None, text or None)
    looked_up = None
    if text and not rows:  # a number typed in: say why it is not listed
        looked_up = certificates.lookup(text, on)
    provinces = db.session.scalars(sa.select(Province).where(Province.active).order_by(Province.code)).all()
    status = 422 if errors else 200
    return render_template("public/certificates.html", rows=rows, on=on, chosen={
        "level": level, "province": province, "q": text, "on": args.get("on", "")}, levels=LEVEL_LABELS,
        provinces=provinces, errors=errors, looked_up=looked_up), status


@bp.route("/certificates/<int:certificate_id>.pdf")
def certificate_pdf(certificate_id: int):
    """The certificate as a PDF (what it says is public)."""
    from ..documents.service import certificate_pdf as make

    return make(certificates.get(certificate_id)).response()
