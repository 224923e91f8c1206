from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from workflows.states import PAST_PROVINCE, State

from ..documents import service as document_service
from ..errors import NotFound, ValidationFailed
from ..extensions import csrf, db, limiter
from ..forms import ActionForm
from ..models import Nomination
from ..schemas import CommentIn
from ..services import programme_dossiers, queries
from ..services.consultations import add_comment, consultation_nomination, open_consultations
from ..text import vi_order
from ..timeutil import today
from ..validation import field_errors
from . import bp
from . import procedure as procedure_data


def _lookup_requested() -> bool:
    """Only a POST with a code is a lookup (and counts against the limit)."""
    return request.method == "POST" and bool((request.form.get("code") or "").strip())


@bp.route("/status", methods=["GET", "POST"])
@csrf.exempt  # a read-only lookup: see docs/security.md, "The public lookup needs no CSRF token"
@limiter.shared_limit(lambda: current_app.config["STATUS_LOOKUP_LIMIT"], scope="status-lookup",
                      exempt_when=lambda: not _lookup_requested())
def status():
    """Look up a dossier's status by its code and access key, sent by POST.

    The key never travels in the URL (browser history, proxy and server logs keep URLs): a GET that
    carries one is not looked up; the form answers, asking for the key again, with the code kept."""
    nomination, steps, not_found, errors, key_in_url = None, [], False, {}, False
    code = ""
    status_code = 200
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()[:40]
        key = (request.form.get("key") or "").strip()[:40]
        # No session and no CSRF token: a lookup changes nothing (docs/security.md).
        if not code:
            errors["code"] = _("Hãy nhập mã hồ sơ ghi trên giấy biên nhận.")
        if not key:
            errors["key"] = _("Hãy nhập mã tra cứu ghi trên giấy biên nhận.")
        if errors:
            status_code = 400
        else:
            try:
                nomination, steps = queries.lookup_path(code, key)
            except NotFound:
                not_found, status_code = True, 404
            else:
                code = nomination.code
    else:
        code = (request.args.get("code") or "").strip()[:40]
        if "key" in request.args:
            # Not looked up: back to the form without the key, so that the address bar, the history
            # and every later request (the language switch's "next") no longer carry it.
            return redirect(url_for("public.status", code=code or None, key_in_url=1), code=303)
        key_in_url = request.args.get("key_in_url") == "1"
    labels = {}
    texts = programme_dossiers.public_texts(nomination.programme_id, nomination.programme_version, _) \
        if nomination is not None else None
    if texts is not None:  # another programme's dossier: its definition's citizen labels and next steps
        labels = {"state_label": texts[0], "next_step": texts[1]}
    return (
        render_template("public/status.html", nomination=nomination, steps=steps,
                        not_found=not_found, errors=errors, key_in_url=key_in_url, code=code, **labels),
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
        # The commenter's consents, recorded against the comment in its transaction.
        notice = None if shown is None else {
            "version": shown, "asked": request.form.getlist("asked"), "granted": request.form.getlist("consent"),
            "user": current_user if current_user.is_authenticated else None}
        saved = None
        try:
            data = CommentIn.model_validate(
                {k: (request.form.get(k) or None) for k in ("full_name", "phone", "address")}
                | {"content": request.form.get("content", ""),
                   "kind": request.form.get("kind") or "comment"})
            saved = add_comment(nomination.id, data, notice=notice)
        except ValidationError as exc:
            errors = field_errors(exc, _)
        except ValidationFailed as exc:
            errors = {"notice_version": exc.text(_)}
            flash(exc.text(_), "error")
        if saved is not None:
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


@bp.route("/procedure")
def procedure():
    """The administrative procedure: legal basis, who may apply, documents, forms, deadlines, contacts."""
    on = today()
    evidence, cases = procedure_data.documents()
    national, provinces = procedure_data.contacts()
    return render_template(
        "public/procedure.html", today=on, basis=procedure_data.LEGAL_BASIS, other_basis=procedure_data.OTHER_BASIS,
        ruleset=procedure_data.ruleset(on), criteria=procedure_data.criteria(on), evidence=evidence, cases=cases,
        forms=procedure_data.form_numbers(), plan=procedure_data.deadlines(on), national_contact=national,
        provinces=provinces, max_upload_mb=current_app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024),
    )


@bp.route("/help")
def help_page():
    """Help: frequently asked questions, in the reader's language."""
    return render_template("public/help.html", faq=procedure_data.FAQ, numbers=procedure_data.faq_numbers())


@bp.route("/forms/<any(people, meritorious):title>.pdf")
@limiter.limit("60 per hour")
def blank_form(title: str):
    """The declaration form of a title (Mẫu 01 or 02), blank, as PDF."""
    return document_service.blank_declaration(title).response()
