"""The public register of typical rural-industrial products (issue 18): the certificates valid today (or on
a chosen day), filtered, each with its PDF.  An expired or revoked certificate is not listed; its number
looked up says so (services/certificates.py)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request

from workflows.states import N_

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Province
from ..services import certificates
from ..timeutil import today
from . import bp

LEVEL_LABELS = {"province": N_("Cấp tỉnh"), "region": N_("Cấp khu vực"), "nation": N_("Cấp quốc gia")}


@bp.route("/certificates")
def certificates_register():
    """The register: valid certificates, highest level first; filters by day, level, province, group and text,
    read by ``certificates.register_filter`` as the API reads them.  A bad filter is named by its field
    (400), the form keeping every filter as it was sent."""
    args = request.args
    chosen = {"on": args.get("on", ""), "level": args.get("level", ""), "province": args.get("province", ""),
              "group": args.get("group", ""), "q": args.get("q", "")}
    errors, rows, looked_up = {}, [], None
    try:
        wanted = certificates.register_filter(args)
    except ValidationFailed as exc:
        errors, on = exc.fields, today()
    else:
        on, rows = wanted.on, wanted.rows()
        chosen["q"] = wanted.text or ""
        if wanted.text and not rows:  # a number typed in: say why it is not listed
            looked_up = certificates.lookup(wanted.text, on)
    provinces = db.session.scalars(sa.select(Province).where(Province.active).order_by(Province.code)).all()
    return render_template("public/certificates.html", rows=rows, on=on, chosen=chosen, levels=LEVEL_LABELS,
                           provinces=provinces, groups=certificates.register_groups(), errors=errors,
                           looked_up=looked_up), 400 if errors else 200


@bp.route("/certificates/<int:certificate_id>.pdf")
def certificate_pdf(certificate_id: int):
    """The certificate as a PDF (what it says is public)."""
    from ..documents.service import certificate_pdf as make

    return make(certificates.get(certificate_id)).response()
