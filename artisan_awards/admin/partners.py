"""Partner systems that file dossiers here (issue 19): the administrator's list, add, edit,
deactivate and key rotation.  The key is shown once, on the page that answers its creation or
rotation (never in a URL, a flash message or a later page)."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions
from ..errors import ValidationFailed
from ..integration import partners as service
from ..permissions import guard
from ..services import account_admin, queries
from . import bp


def _form() -> dict:
    return {k: (request.form.get(k) or "") for k in ("code", "name", "channel_label", "province_code",
                                                       "field_mapping")}


def _page(form: dict | None = None, errors: dict | None = None, status: int = 200, key=None, made=None):
    return render_template("admin/partners.html", partners=service.list_partners(), form=form or {},
                           errors=errors or {}, provinces=account_admin.active_provinces(), key=key,
                           made=made), status


@bp.route("/partners")
@guard(permissions.can_manage_partners)
def partners():
    """The partner systems and the form to add one."""
    return _page()


@bp.route("/partners", methods=["POST"])
@guard(permissions.can_manage_partners)
def add_partner():
    """Add a partner; the answer shows its key once."""
    form = _form()
    try:
        partner, key = service.create_partner(current_user, form["code"], form["name"], form["channel_label"],
                                              form["province_code"] or None, form["field_mapping"])
    except ValidationFailed as exc:
        return _page(form, exc.field_texts(_), 422)
    return _page(key=key, made=partner)


@bp.route("/partners/<int:partner_id>", methods=["GET", "POST"])
@guard(permissions.can_manage_partners)
def partner(partner_id: int):
    """One partner: name, channel label, province, the mapping of its message; its recent events."""
    row = service.get_partner(partner_id)
    errors, status = {}, 200
    form = {"name": row.name, "channel_label": row.channel_label, "province_code": row.province_code or "",
            "field_mapping": json.dumps(row.field_mapping or {}, ensure_ascii=False, indent=2)}
    if request.method == "POST":
        form = _form()
        try:
            changed = service.update_partner(current_user, row, form["name"], form["channel_label"],
                                             form["province_code"] or None, form["field_mapping"])
        except ValidationFailed as exc:
            errors, status = exc.field_texts(_), 422
        else:
            flash(_("Đã lưu thay đổi.") if changed else _("Không có gì thay đổi."), "success")
            return redirect(url_for("admin.partner", partner_id=row.id))
    events = queries.events_for("partner", row.id, limit=20)
    return render_template("admin/partner.html", partner=row, form=form, errors=errors, events=events,
                           provinces=account_admin.active_provinces(), key=None), status


@bp.route("/partners/<int:partner_id>/status", methods=["POST"])
@guard(permissions.can_manage_partners)
def partner_status(partner_id: int):
    """Deactivate (its requests are refused at once) or reactivate."""
    row = service.get_partner(partner_id)
    active = request.form.get("active") == "1"
    service.set_active(current_user, row, active)
    flash(_("Hệ thống đối tác đã được mở lại.") if active else _("Hệ thống đối tác đã bị tạm ngừng."), "success")
    return redirect(url_for("admin.partner", partner_id=row.id))


@bp.route("/partners/<int:partner_id>/key", methods=["POST"])
@guard(permissions.can_manage_partners)
def rotate_partner_key(partner_id: int):
    """A new key replaces the old one at once; the answer shows it once."""
    row = service.get_partner(partner_id)
    key = service.rotate_key(current_user, row)
    form = {"name": row.name, "channel_label": row.channel_label, "province_code": row.province_code or "",
            "field_mapping": json.dumps(row.field_mapping or {}, ensure_ascii=False, indent=2)}
    return render_template("admin/partner.html", partner=row, form=form, errors={},
                           events=queries.events_for("partner", row.id, limit=20),
                           provinces=account_admin.active_provinces(), key=key)
