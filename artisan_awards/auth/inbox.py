"""One's in-app notifications: the list (unread first), marking read, the way to the dossier."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..redirects import back
from ..services import inbox
from . import bp


@bp.route("/notifications")
@login_required
def notifications():
    """Thông báo: one's notifications, unread first."""
    page = request.args.get("page", 1, type=int) or 1
    rows, total = inbox.list_for(current_user, page)
    return render_template("auth/notifications.html", rows=rows, total=total, page=page,
                           page_size=inbox.PAGE_SIZE)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    """Mark one of one's notifications read and go to what it is about."""
    row = inbox.mark_read(current_user, notification_id)
    return redirect(request.script_root + row.link if row.link else url_for("auth.notifications"))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read_notification(notification_id: int):
    """Mark one of one's notifications read and stay on the list."""
    inbox.mark_read(current_user, notification_id)
    return redirect(url_for("auth.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all_notifications():
    """Mark all of one's notifications read."""
    inbox.mark_all_read(current_user)
    return back(url_for("auth.notifications"))
