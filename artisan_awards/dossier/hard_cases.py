"""The law's hard cases on the dossier page (issue 14; services/hard_cases.py): record a nominee's
death, a paper dossier's arrival, an Art. 2(3) override, the council's special-craft decision."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, FileField, StringField, TextAreaField
from wtforms.validators import Optional

from ..i18n import RELATIONSHIP_LABELS
from ..redirects import back
from ..services import hard_cases, queries
from . import bp


class DeathForm(FlaskForm):
    death_date = DateField(validators=[Optional()])
    family_name = StringField()
    family_relationship = StringField()  # checked by the operation (child, spouse, other)
    family_phone = StringField()
    family_email = StringField()
    note = TextAreaField()
    evidence = FileField()


class ArrivalForm(FlaskForm):
    arrived_on = DateField(validators=[Optional()])
    receipt_book_no = StringField()


class ReasonForm(FlaskForm):
    reason = TextAreaField()


class SpecialCraftForm(FlaskForm):
    session_id = StringField()
    is_special = StringField()  # "yes" or "no"
    reasons = TextAreaField()


def _checked(form: FlaskForm) -> None:
    """CSRF (400) and the dates' format (a flash message); every other check is the operation's."""
    if form.validate_on_submit():
        return
    if "csrf_token" in form.errors:
        abort(400)
    for name in form.errors:
        if name in ("death_date", "arrived_on"):
            from workflows.states import N_

            from ..errors import ValidationFailed

            raise ValidationFailed(fields={name: N_("Ngày không hợp lệ (định dạng ngày/tháng/năm).")})


def _done(nomination_id: int, message: str):
    flash(message, "success")
    return back(url_for("dossier.show", nomination_id=nomination_id))


@bp.route("/<int:nomination_id>/death", methods=["POST"])
@login_required
def record_death(nomination_id: int):
    """Record the nominee's death with its evidence: the dossier goes on as a posthumous proposal."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = DeathForm()
    _checked(form)
    hard_cases.record_death(current_user, nomination, death_date=form.death_date.data,
                            family_name=form.family_name.data, family_relationship=form.family_relationship.data,
                            family_phone=form.family_phone.data, family_email=form.family_email.data,
                            note=form.note.data, evidence=request.files.get("evidence"))
    return _done(nomination.id, _("Đã ghi nhận nghệ nhân đã mất; hồ sơ tiếp tục là đề nghị truy tặng."))


@bp.route("/<int:nomination_id>/arrival", methods=["POST"])
@login_required
def record_arrival(nomination_id: int):
    """Record the day a paper dossier reached the department, with its receipt-book number."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = ArrivalForm()
    _checked(form)
    hard_cases.record_arrival(current_user, nomination, form.arrived_on.data, form.receipt_book_no.data)
    return _done(nomination.id, _("Đã ghi ngày hồ sơ đến Sở."))


@bp.route("/<int:nomination_id>/exclusion-override", methods=["POST"])
@login_required
def override_exclusion(nomination_id: int):
    """Let an Art. 2(3)-excluded dossier go on, with the reason (where configuration allows it)."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = ReasonForm()
    _checked(form)
    hard_cases.override_exclusion(current_user, nomination, form.reason.data)
    return _done(nomination.id, _("Đã ghi ngoại lệ và lý do."))


@bp.route("/<int:nomination_id>/special-craft", methods=["POST"])
@login_required
def special_craft(nomination_id: int):
    """The council's decision on the craft, recorded by whoever presides its open session."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = SpecialCraftForm()
    _checked(form)
    raw = (form.session_id.data or "").strip()
    session_id = int(raw) if raw.isdigit() and len(raw) < 10 else None
    is_special = {"yes": True, "no": False}.get(form.is_special.data or "")
    hard_cases.record_special_craft(current_user, nomination, session_id, is_special, form.reasons.data)
    return _done(nomination.id, _("Đã ghi quyết định của Hội đồng về nghề đặc thù."))


def panel_context(nomination) -> dict:
    """What the dossier page's "hard cases" panel shows (a template global)."""
    from .. import permissions
    from ..services import eligibility

    user = current_user
    excluded = hard_cases.exclusions(nomination)
    return {
        "death": hard_cases.death_of(nomination),
        "can_record_death": permissions.can_record_death(user, nomination) and not nomination.posthumous,
        "death_form": DeathForm(formdata=None),
        "relationships": [(k, v) for k, v in RELATIONSHIP_LABELS.items() if k != "self"],
        "can_record_arrival": permissions.can_record_arrival(user, nomination) and (
            nomination.state == "submitted" or (nomination.state == "returned" and nomination.owner_id == user.id)),
        "arrival_form": ArrivalForm(formdata=None),
        "excluded": [eligibility.text(r.detail) for r in excluded],
        "blocked": bool(excluded) and hard_cases.blocked_by_exclusion(nomination),
        "override": hard_cases.override_of(nomination) if excluded else None,
        "can_override": bool(excluded) and permissions.can_override_exclusion(user)
        and current_app.config["EXCLUSION_OVERRIDE_ALLOWED"],
        "reason_form": ReasonForm(formdata=None),
        "decision": hard_cases.special_craft_decision(nomination.id),
        "deciding_sessions": hard_cases.sessions_deciding(user, nomination),
        "special_form": SpecialCraftForm(formdata=None),
        "completion_running": hard_cases.completion_running(nomination),
    }


# A template global, not a context processor: the same function for every page (issue 16: a context
# processor is called for every render, the public status page's too).
bp.add_app_template_global(panel_context, "hard_case_panel")
