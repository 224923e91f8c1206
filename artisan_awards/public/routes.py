from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from workflows.states import PAST_PROVINCE, State

from ..errors import NotFound, ValidationFailed
from ..extensions import db, limiter
from ..forms import ActionForm
from ..models import Nomination
from ..schemas import CommentIn
from ..services import data_rights, queries
from ..services.consultations import add_comment, consultation_nomination, open_consultations
from ..text import vi_order
from ..validation import field_errors
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
            nomination = queries.lookup_status(code, key)
        except NotFound:
            not_found = True
    status_code = 404 if not_found else 200
    return (
        render_template("public/status.html", nomination=nomination, not_found=not_found,
                        code=code, key=key),
        status_code,
    )


@bp.route("/consultations")
def consultations():
    """Nominees now open to public comment (Art. 16 cl. 1 pt c and cl. 2 pt c)."""
    return render_template("public/consultations.html", nominations=open_consultations())


@bp.route("/consultations/<int:nomination_id>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def comment(nomination_id: int):
    """Send a comment or complaint about one nominee."""
    nomination = consultation_nomination(nomination_id)
    form = ActionForm()
    errors = {}
    if request.method == "POST" and form.validate_on_submit():
        shown = request.form.get("notice_version")  # the page shows the notice; a bare client did not
        try:
            if shown is not None:
                data_rights.check_notice_version(shown)
            data = CommentIn.model_validate(
                {k: (request.form.get(k) or None) for k in ("full_name", "phone", "address")}
                | {"content": request.form.get("content", ""),
                   "kind": request.form.get("kind") or "comment"})
        except ValidationError as exc:
            errors = field_errors(exc, _)
        except ValidationFailed as exc:
            errors = {"notice_version": exc.text(_)}
            flash(exc.text(_), "error")
        else:
            saved = add_comment(nomination.id, data)
            if shown is not None:  # the commenter's consents, recorded against the comment
                data_rights.record_consents(context="comment", comment=saved, version=shown,
                                        user=current_user if current_user.is_authenticated else None,
                                        asked=request.form.getlist("asked"), granted=request.form.getlist("consent"))
            if saved.informational:
                flash(_("Đã nhận ý kiến. Ý kiến không ghi đủ họ tên, điện thoại, địa chỉ "
                        "chỉ được dùng để tham khảo."), "info")
            else:
                flash(_("Đã nhận ý kiến của ông/bà. Bộ Công Thương sẽ xem xét, xác minh."), "success")
            return redirect(url_for("public.consultations"))
    return render_template("public/comment.html", nomination=nomination, form=form, errors=errors)


@bp.route("/results")
def results():
    """Dossiers the provincial councils have proposed, by province (Art. 14 pt d)."""
    rows = db.session.scalars(
        sa.select(Nomination).where(Nomination.state.in_(PAST_PROVINCE))
        .order_by(Nomination.province_code, Nomination.title, vi_order(Nomination.full_name))
    ).all()
    by_province: dict = {}
    for n in rows:
        by_province.setdefault(n.province, []).append(n)
    # The President's decisions: who was awarded which title, by which decision (Art. 5: published).
    awarded = db.session.scalars(
        sa.select(Nomination).where(Nomination.state == State.AWARDED)
        .order_by(Nomination.decision_date.desc(), Nomination.title, vi_order(Nomination.full_name))
    ).all()
    return render_template("public/results.html", by_province=by_province, awarded=awarded)
