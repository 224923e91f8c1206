from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.states import N_, Action

from .. import permissions
from ..errors import ValidationFailed
from ..extensions import db
from ..forms import ActionForm
from ..i18n import action_label
from ..models import Attachment
from ..redirects import back
from ..services import attachments as attachment_service
from ..services import consultations
from ..services import nominations as service
from . import bp


@bp.route("/<int:nomination_id>")
@login_required
def show(nomination_id: int):
    """The dossier: declaration, evidence, deadlines, history and the actions allowed now."""
    nomination = service.get_visible(current_user, nomination_id)
    return render_template(
        "dossier/show.html",
        nomination=nomination,
        history=service.history(nomination),
        missing=service.missing_for_submission(nomination),
        form=ActionForm(),
        comments=consultations.comments_for(nomination) if permissions.can_handle_public_comments(current_user) else [],
    )


@bp.route("/<int:nomination_id>/actions/<action>", methods=["POST"])
@login_required
def act(nomination_id: int, action: str):
    """Take an action (submit, accept, return ...) on the dossier."""
    nomination = service.get_visible(current_user, nomination_id)
    form = ActionForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        raise ValidationFailed(fields={"comment": N_("Ghi chú, lý do dài tối đa 20 000 ký tự.")})
    key = service.perform(nomination, action, current_user, comment=form.comment.data)
    flash(_("Đã thực hiện: %(action)s.", action=action_label(action)), "success")
    if key:
        keys = session.get("access_keys", {})
        keys[str(nomination.id)] = key
        session["access_keys"] = keys
        return redirect(url_for("applicant.receipt", nomination_id=nomination.id))
    if action == Action.SUBMIT and nomination.owner_id == current_user.id:
        return redirect(url_for("applicant.receipt", nomination_id=nomination.id))
    return back(url_for("dossier.show", nomination_id=nomination.id))


@bp.route("/<int:nomination_id>/attachments/<int:attachment_id>")
@login_required
def attachment(nomination_id: int, attachment_id: int):
    """Download one piece of evidence (as an attachment, never rendered inline)."""
    nomination = service.get_visible(current_user, nomination_id)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.nomination_id != nomination.id:
        abort(404)
    return attachment_service.send_attachment(row)
