from __future__ import annotations

import csv
import io
import json

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions, personal_fields
from ..forms import ActionForm
from ..models import PersonalDataBreach, get_row
from ..permissions import guard
from ..services import data_officer as desk
from ..timeutil import today
from . import bp

BREACH_CLASSES = (*personal_fields.MASKABLE, personal_fields.EVIDENCE, personal_fields.ACCOUNT)


@bp.route("/")
@guard(permissions.can_use_privacy_desk)
def index():
    """The register of processing activities, the retention schedule, the encrypted fields, the breaches."""
    return render_template("data_officer/index.html", register=desk.register(), schedule=desk.retention_schedule(),
                           encrypted=desk.encrypted_columns(), breaches=desk.breaches(), clock=desk.clock,
                           classes=[(c, personal_fields.CLASSES[c]) for c in BREACH_CLASSES], form=ActionForm(),
                           values={}, errors={})


@bp.route("/register.<fmt>")
@guard(permissions.can_use_privacy_desk)
def register_download(fmt: str):
    """The register as data: JSON (whole) or CSV (one row per activity)."""
    if fmt not in ("csv", "json"):
        abort(404)
    rows = desk.register()
    name = f"so-dang-ky-hoat-dong-xu-ly-du-lieu-{today().isoformat()}.{fmt}"
    if fmt == "json":
        body = json.dumps({"controller": current_app.config["PRIVACY_CONTROLLER"], "activities": rows},
                          ensure_ascii=False, indent=2)
        mimetype = "application/json"
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_("Hoạt động"), _("Mục đích"), _("Căn cứ"), _("Chủ thể dữ liệu"), _("Loại dữ liệu"),
                         _("Bên nhận"), _("Thời hạn lưu trữ (ngày)")])
        for r in rows:
            writer.writerow([r["key"], r["purpose"], r["basis"], r["subjects"],
                             "; ".join(_(label) for label in (c.get("label") for c in r["classes"])), r["recipients"],
                             r["retention_days"] or _("theo Luật Lưu trữ")])
        body, mimetype = "\ufeff" + out.getvalue(), "text/csv"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/impact-assessment.pdf")
@guard(permissions.can_use_privacy_desk)
def impact_assessment():
    """A draft of the personal data impact assessment, from the register, for the officer to complete."""
    from weasyprint import HTML

    html = render_template("data_officer/impact_assessment.html", register=desk.register(),
                           schedule=desk.retention_schedule(), encrypted=desk.encrypted_columns(),
                           access=permissions.FIELD_ACCESS, role_label=permissions.ROLE_LABELS,
                           class_label=personal_fields.CLASSES, config=current_app.config, on=today())
    pdf = HTML(string=html).write_pdf()
    name = f"danh-gia-tac-dong-xu-ly-du-lieu-ca-nhan-{today().isoformat()}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/breaches", methods=["POST"])
@guard(permissions.can_use_privacy_desk)
def breach_new():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    from ..errors import ValidationFailed

    try:
        data = desk.parse_breach(request.form)
    except ValidationFailed as exc:
        errors = exc.field_texts(_)
        return render_template("data_officer/index.html", register=desk.register(),
                               schedule=desk.retention_schedule(), encrypted=desk.encrypted_columns(),
                               breaches=desk.breaches(), clock=desk.clock, form=form,
                               classes=[(c, personal_fields.CLASSES[c]) for c in BREACH_CLASSES],
                               values=request.form, errors=errors), 422
    breach = desk.record_breach(current_user, data)
    flash(_("Đã ghi nhận sự cố; hạn thông báo cho cơ quan chức năng được tính từ thời điểm phát hiện."), "success")
    return redirect(url_for("data_officer.breach", breach_id=breach.id))


def _breach(breach_id: int) -> PersonalDataBreach:
    breach = get_row(PersonalDataBreach, breach_id)
    if breach is None:
        abort(404)
    return breach


@bp.route("/breaches/<int:breach_id>")
@guard(permissions.can_use_privacy_desk)
def breach(breach_id: int):
    """The breach, its deadline, and the notices to the authority and to the people affected, drafted."""
    row = _breach(breach_id)
    return render_template("data_officer/breach.html", breach=row, clock=desk.clock(row),
                           n=desk.notice_context(row), form=ActionForm())


@bp.route("/breaches/<int:breach_id>/notified", methods=["POST"])
@guard(permissions.can_use_privacy_desk)
def breach_notified(breach_id: int):
    row = _breach(breach_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    desk.mark_notified(current_user, row)
    flash(_("Đã ghi nhận thời điểm thông báo cho cơ quan chức năng."), "success")
    return redirect(url_for("data_officer.breach", breach_id=row.id))
