from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.states import N_, Action

from .. import confirm, field_view, permissions
from ..errors import TransitionRefused, ValidationFailed
from ..extensions import db
from ..forms import ActionForm
from ..i18n import ACTION_LABELS, action_label
from ..models import Attachment, ReadAction
from ..services import attachments as attachment_service
from ..services import awards, consultations, data_rights, eligibility, hard_case_checks, queries
from ..services import nominations as service
from ..services import reveal as reveal_service
from ..timeutil import today
from . import bp
from .forms import OUTCOMES, DecisionForm


@bp.route("/<int:nomination_id>")
@login_required
def show(nomination_id: int):
    """The dossier: declaration, evidence, deadlines, history and the actions allowed now."""
    nomination = queries.get_visible(current_user, nomination_id)
    reason = _read_reason(nomination)
    if reason is None:
        return render_template("dossier/read_reason.html", nomination=nomination, form=ActionForm()), 200
    data_rights.log_read(current_user, ReadAction.DOSSIER, nomination=nomination, purpose=reason)
    return render_template(
        "dossier/show.html",
        nomination=nomination,
        history=queries.history(nomination),
        missing=service.missing_for_submission(nomination),
        eligibility=eligibility.of(nomination),
        form=ActionForm(),
        comments=consultations.comments_for(nomination) if permissions.can_handle_public_comments(current_user) else [],
    )


def _read_reason(nomination) -> str | None:
    """The reason for opening someone else's dossier: "" (the role's own purpose is logged), the reason given
    (PRIVACY_READ_REASON_REQUIRED; remembered for this dossier in the login session), or None: ask it."""
    from flask import current_app

    if not permissions.must_give_read_reason(current_user, nomination,
                                             current_app.config.get("PRIVACY_READ_REASON_REQUIRED", False)):
        return ""
    reasons = session.get("read_reasons", {})
    given = " ".join((request.args.get("reason") or "").split())[:500]
    if given:
        reasons[str(nomination.id)] = given
        session["read_reasons"] = reasons
        return given
    return reasons.get(str(nomination.id))


@bp.route("/<int:nomination_id>/actions/<action>", methods=["POST"])
@login_required
def act(nomination_id: int, action: str):
    """Take an action (submit, accept, return ...) on the dossier."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = ActionForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        if "missing" in form.errors:
            raise ValidationFailed(fields={"missing": N_("Danh mục cần bổ sung dài tối đa 30 000 ký tự.")})
        raise ValidationFailed(fields={"comment": N_("Ghi chú, lý do dài tối đa 20 000 ký tự.")})
    if action == Action.RECORD_AWARD:  # the decision needs its number, date and title: its own form
        return redirect(url_for("dossier.decision", nomination_id=nomination.id), code=303)
    comment = (form.comment.data or "").strip()
    commitment = None
    if action in (Action.SUBMIT, Action.RESUBMIT):  # the filer ticks the commitment (the review step's box)
        if request.form.get("commitment") not in ("y", "on", "1", "true"):
            raise ValidationFailed(fields={"commitment": N_("Cần đánh dấu ô cam đoan trước khi nộp hồ sơ.")})
        commitment = service.COMMITMENT
    # the law's refusals come before any question (issue 14): Art. 2(3), the completion period
    hard_case_checks.refuse_if_excluded(nomination, action)
    hard_case_checks.refuse_early_close(nomination, action)
    if (confirm.needs_confirmation(action) and not confirm.confirmed()
            and not (action == Action.RETURN and not comment)  # refused below: a return needs reasons
            and action in permissions.available_actions(current_user, nomination, today())):
        # allowed now, and irreversible: say what it causes first (a refused action is refused below)
        return confirm.ask(ACTION_LABELS[action], confirm.ACTION_CONSEQUENCES[action],
                           cancel_url=url_for("dossier.show", nomination_id=nomination.id),
                           button=ACTION_LABELS[action], danger=True,
                           table=([N_("Mã hồ sơ"), N_("Họ và tên"), N_("Ghi chú, lý do")],
                                  [[nomination.code or "—", nomination.full_name, comment or "—"]]))
    # filing: the notice shown with the form (its version), and the optional purposes decided there
    shown = request.form.get("notice_version") if action in (Action.SUBMIT, Action.RESUBMIT) else None
    if shown is not None:
        data_rights.check_notice_version(shown)
    key = service.perform(nomination, action, current_user, comment=form.comment.data,
                          missing=service.missing_lines(form.missing.data) if action == Action.RETURN else None,
                          commitment=commitment)
    if shown is not None:
        data_rights.record_consents(context="filing", user=current_user, version=shown,
                                asked=request.form.getlist("asked"), granted=request.form.getlist("consent"))
    flash(_("Đã thực hiện: %(action)s.", action=action_label(action)), "success")
    if key:
        keys = session.get("access_keys", {})
        keys[str(nomination.id)] = key
        session["access_keys"] = keys
        return redirect(url_for("applicant.receipt", nomination_id=nomination.id))
    if action == Action.SUBMIT and nomination.owner_id == current_user.id:
        return redirect(url_for("applicant.receipt", nomination_id=nomination.id))
    return confirm.back(url_for("dossier.show", nomination_id=nomination.id))


@bp.route("/<int:nomination_id>/attachments/<int:attachment_id>")
@login_required
def attachment(nomination_id: int, attachment_id: int):
    """Download one piece of evidence (as an attachment, never rendered inline)."""
    nomination = queries.get_visible(current_user, nomination_id)
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.nomination_id != nomination.id:
        abort(404)
    data_rights.log_read(current_user, ReadAction.EVIDENCE, nomination=nomination, target=row.original_name,
                     purpose=session.get("read_reasons", {}).get(str(nomination.id), ""))
    return attachment_service.send_attachment(row)


@bp.route("/<int:nomination_id>/reveal", methods=["POST"])
@login_required
def reveal(nomination_id: int):
    """Show a masked field of the dossier for a while, the reason recorded (docs/personal-data.md §3)."""
    nomination = queries.get_visible(current_user, nomination_id)
    cls = request.form.get("cls", "")
    reveal_service.reveal(current_user, cls, request.form.get("reason"), nomination)
    field_view.remember(field_view.target_of(nomination), cls)
    flash(_("Đã ghi lý do; dữ liệu được hiện trong %(m)d phút.", m=field_view.REVEAL_MINUTES), "success")
    return redirect(url_for("dossier.show", nomination_id=nomination.id) + "#personal")


@bp.route("/<int:nomination_id>/decision", methods=["GET", "POST"])
@login_required
def decision(nomination_id: int):
    """Record the President's decision: its number, date and the title awarded (or that none is)."""
    nomination = queries.get_visible(current_user, nomination_id)
    if not permissions.may_act(current_user, nomination, Action.RECORD_AWARD):
        abort(403)
    form = DecisionForm(data={"title": nomination.title})
    open_now = any(a in permissions.available_actions(current_user, nomination, today())
                   for a in (Action.RECORD_AWARD, Action.RECORD_NOT_AWARDED))
    status = 200
    if request.method == "POST":
        status = 422
        valid = form.validate_on_submit()
        if "csrf_token" in form.errors:
            abort(400)
        action = form.outcome.data or Action.RECORD_AWARD
        award = action == Action.RECORD_AWARD
        if action not in OUTCOMES:
            form.outcome.errors = [*form.outcome.errors, _("Chọn phong tặng hoặc không phong tặng.")]
            flash(_("Quyết định của Chủ tịch nước chưa hợp lệ."), "error")
        elif not valid:
            flash(_("Quyết định của Chủ tịch nước chưa hợp lệ."), "error")
        else:
            try:
                service.perform(
                    nomination, action, current_user, comment=form.comment.data,
                    decision_no=form.decision_no.data if award else None,
                    decision_date=form.decision_date.data if award else None,
                    award_title=(form.title.data or None) if award else None,
                )
            except ValidationFailed as exc:
                db.session.rollback()
                flash(exc.text(_), "error")
                for name, message in exc.field_texts(_).items():
                    target = getattr(form, name, None)
                    if target is not None:
                        target.errors = [*target.errors, message]
                    else:
                        flash(message, "error")
            except TransitionRefused as exc:
                db.session.rollback()
                flash(exc.text(_), "error")
                status = 409
            else:
                flash(_("Đã thực hiện: %(action)s.", action=action_label(action)), "success")
                return redirect(url_for("dossier.show", nomination_id=nomination.id))
    on = form.decision_date.data if isinstance(form.decision_date.data, date) else today()
    preview = awards.compute(nomination.title, on)
    return render_template("dossier/decision.html", nomination=nomination, form=form, open_now=open_now,
                           preview=preview, salaries=awards.history(),
                           coefficients={t: awards.coefficient(t) for t in ("people", "meritorious")}), status
