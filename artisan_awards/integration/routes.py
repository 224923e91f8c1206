"""The administrator's pages for other systems: subscribers (webhooks, partners), deliveries, dead letters.

Only the administrator (``permissions.can_manage_integration``).  A subscriber's secret appears once,
in the answer to its creation or rotation, never again (it is stored sealed)."""

from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.states import STATE_INFO

from .. import permissions
from ..errors import ValidationFailed
from ..permissions import guard
from . import subscribers as service
from .forms import EVENT_LABELS, ActionForm, SubscriberForm

bp = Blueprint("integration", __name__, url_prefix="/admin/integration")


def _data(form: SubscriberForm) -> service.SubscriberIn:
    return service.SubscriberIn(name=form.name.data, url=form.url.data, kind=form.kind.data,
                                events=list(form.events.data or []), status_map=form.status_map.data,
                                partner_code=form.partner_code.data, active=bool(form.active.data))


def _errors(form: SubscriberForm, exc: ValidationFailed) -> None:
    texts = exc.field_texts(_)
    for name, message in texts.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
    flash(exc.text(_) if not texts else _("Cần sửa các mục được đánh dấu."), "error")


def _form_page(form, subscriber=None, status=200):
    return render_template("integration/subscriber_form.html", form=form, subscriber=subscriber,
                           states=STATE_INFO, event_labels=EVENT_LABELS), status


@bp.route("/")
@guard(permissions.can_manage_integration)
def index():
    return render_template("integration/index.html", subscribers=service.all_subscribers(), counts=service.counts(),
                           event_labels=EVENT_LABELS, action_form=ActionForm())


@bp.route("/new", methods=["GET", "POST"])
@guard(permissions.can_manage_integration)
def new():
    form = SubscriberForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Phiên làm việc đã hết hạn, hãy gửi lại biểu mẫu."), "error")
            return _form_page(form, status=400)
        try:
            row, secret = service.create(current_user, _data(form))
        except ValidationFailed as exc:
            _errors(form, exc)
            return _form_page(form, status=422)
        return render_template("integration/secret.html", subscriber=row, secret=secret, created=True)
    return _form_page(form)


@bp.route("/<int:subscriber_id>", methods=["GET", "POST"])
@guard(permissions.can_manage_integration)
def edit(subscriber_id: int):
    row = service.get(subscriber_id)
    form = SubscriberForm(obj=row) if request.method == "GET" else SubscriberForm()
    if request.method == "GET":
        form.status_map.data = json.dumps(row.status_map or {}, ensure_ascii=False, indent=1) if row.status_map else ""
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("Phiên làm việc đã hết hạn, hãy gửi lại biểu mẫu."), "error")
            return _form_page(form, row, 400)
        try:
            service.update(current_user, row, _data(form))
        except ValidationFailed as exc:
            _errors(form, exc)
            return _form_page(form, row, 422)
        flash(_("Đã lưu bên nhận."), "success")
        return redirect(url_for("integration.edit", subscriber_id=row.id))
    return _form_page(form, row)


@bp.route("/<int:subscriber_id>/rotate", methods=["POST"])
@guard(permissions.can_manage_integration)
def rotate(subscriber_id: int):
    row = service.get(subscriber_id)
    if not ActionForm().validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn, hãy thử lại."), "error")
        return redirect(url_for("integration.edit", subscriber_id=row.id)), 400
    secret = service.rotate(current_user, row)
    return render_template("integration/secret.html", subscriber=row, secret=secret, created=False)


@bp.route("/<int:subscriber_id>/status", methods=["POST"])
@guard(permissions.can_manage_integration)
def status(subscriber_id: int):
    row = service.get(subscriber_id)
    if not ActionForm().validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn, hãy thử lại."), "error")
        return redirect(url_for("integration.index")), 400
    active = request.form.get("active") == "1"
    service.set_active(current_user, row, active)
    flash(_("Bên nhận đã hoạt động trở lại.") if active else _("Đã ngừng gửi tới bên nhận này."), "success")
    return redirect(url_for("integration.index"))


@bp.route("/deliveries")
@guard(permissions.can_manage_integration)
def deliveries():
    status = request.args.get("status") or None
    subscriber_id = request.args.get("subscriber", type=int)
    rows = service.deliveries(status, subscriber_id)
    return render_template("integration/deliveries.html", rows=rows, status=status, subscriber_id=subscriber_id,
                           action_form=ActionForm())


@bp.route("/deliveries/<int:delivery_id>")
@guard(permissions.can_manage_integration)
def delivery(delivery_id: int):
    row = service.get_delivery(delivery_id)
    try:
        body = json.dumps(json.loads(row.body), ensure_ascii=False, indent=2)
    except ValueError:
        body = row.body
    return render_template("integration/delivery.html", row=row, body=body, behind=service.waiting_behind(row),
                           action_form=ActionForm())


@bp.route("/deliveries/<int:delivery_id>/replay", methods=["POST"])
@guard(permissions.can_manage_integration)
def replay_one(delivery_id: int):
    row = service.get_delivery(delivery_id)
    if not ActionForm().validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn, hãy thử lại."), "error")
        return redirect(url_for("integration.delivery", delivery_id=row.id)), 400
    n = service.replay(current_user, delivery_id=row.id)
    flash(_("Đã đưa lần gửi trở lại hàng đợi.") if n else _("Lần gửi này không nằm trong danh sách gửi lỗi."),
          "success" if n else "error")
    return redirect(url_for("integration.delivery", delivery_id=row.id))


@bp.route("/deliveries/replay", methods=["POST"])
@guard(permissions.can_manage_integration)
def replay_all():
    if not ActionForm().validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn, hãy thử lại."), "error")
        return redirect(url_for("integration.deliveries", status="dead")), 400
    subscriber_id = request.form.get("subscriber", type=int)
    n = service.replay(current_user, subscriber_id=subscriber_id)
    flash(_("Đã đưa %(n)s lần gửi lỗi trở lại hàng đợi.", n=n), "success")
    return redirect(url_for("integration.deliveries", status="dead"))
