from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import ValidationError

from workflows import machine as wf
from workflows.states import N_, State

from .. import permissions
from ..errors import ValidationFailed
from ..extensions import db
from ..forms import ActionForm, choices
from ..i18n import KIND_LABELS
from ..models import Attachment, Nomination, Province, Round
from ..schemas import NominationIn
from ..serializers import merge_changes, nomination_in
from ..services import attachments as attachment_service
from ..services import eligibility, queries
from ..services import nominations as service
from ..services.cleaning import removal_notice
from ..text import nfc_deep, vi_order
from ..timeutil import today
from ..validation import field_errors
from . import bp
from .forms import AchievementsForm, CraftForm, NomineeForm, UploadForm

STEPS = (
    ("nominee", N_("1. Thông tin nghệ nhân")),
    ("craft", N_("2. Nghề và quá trình hành nghề")),
    ("achievements", N_("3. Sản phẩm và truyền nghề")),
    ("evidence", N_("4. Tài liệu minh chứng")),
    ("review", N_("5. Kiểm tra và nộp")),
)


def _owned(nomination_id: int) -> Nomination:
    nomination = queries.get_visible(current_user, nomination_id)
    if nomination.owner_id != current_user.id:
        abort(404)
    return nomination


def _rounds_open():
    on = today()
    rows = db.session.scalars(sa.select(Round).order_by(Round.number.desc())).all()
    return [r for r in rows if r.intake_closes >= on] or rows


def _province_choices():
    stmt = sa.select(Province).where(Province.active.is_(True)).order_by(vi_order(Province.name))
    if permissions.files_only_in_own_province(current_user) and current_user.province_code:
        stmt = stmt.where(Province.code == current_user.province_code)
    return [(p.code, p.name) for p in db.session.scalars(stmt)]


def _save(nomination: Nomination | None, changes: dict) -> Nomination | None:
    """Merge a step's changes into the dossier and save it; flash problems and return None."""
    base = merge_changes(nomination_in(nomination) if nomination else {}, changes)
    try:
        data = NominationIn.model_validate(nfc_deep(base))
        if nomination is None:
            return service.create_nomination(current_user, data)
        return service.update_nomination(current_user, nomination, data)
    except ValidationError as exc:
        for field, message in field_errors(exc, _).items():
            flash(f"{field}: {message}" if field != "_" else message, "error")
    except ValidationFailed as exc:
        for message in exc.field_texts(_).values() or [exc.text(_)]:
            flash(message, "error")
    return None


def _blank(value):
    return value if value not in ("", None) else None


@bp.route("/")
@login_required
def index():
    """My dossiers."""
    rows = db.session.scalars(
        sa.select(Nomination)
        .where(Nomination.owner_id == current_user.id)
        .order_by(Nomination.updated_at.desc())
    ).all()
    return render_template("applicant/index.html", nominations=rows,
                           returns=service.return_requests(rows))


@bp.route("/new", methods=["GET", "POST"])
@bp.route("/<int:nomination_id>/nominee", methods=["GET", "POST"])
@login_required
def step_nominee(nomination_id: int | None = None):
    """Step 1: the nominee and who files."""
    if not permissions.can_file(current_user):
        abort(403)
    nomination = _owned(nomination_id) if nomination_id else None
    if nomination and not permissions.can_edit(current_user, nomination):
        return redirect(url_for("dossier.show", nomination_id=nomination.id))
    form = NomineeForm(obj=nomination)
    form.round_id.choices = choices((r.id, r.name) for r in _rounds_open())
    form.province_code.choices = choices(_province_choices())
    if nomination is not None and request.method == "GET":
        form.filed_by_name.data = nomination.filed_by_name
    if nomination is not None:
        form.province_code.render_kw = {"disabled": True}
        form.province_code.validators = []
        form.province_code.data = nomination.province_code
    if form.validate_on_submit():
        changes = {
            "round_id": form.round_id.data,
            "title": form.title.data,
            "posthumous": form.posthumous.data,
            "nominee": {
                "full_name": form.full_name.data,
                "pen_name": _blank(form.pen_name.data),
                "birth_date": form.birth_date.data,
                "death_date": form.death_date.data,
                "gender": _blank(form.gender.data),
                "ethnicity": _blank(form.ethnicity.data),
                "hometown": _blank(form.hometown.data),
                "province_code": nomination.province_code if nomination else form.province_code.data,
                "address": _blank(form.address.data),
                "phone": _blank(form.phone.data),
                "email": _blank(form.email.data),
            },
            "filed_by": {
                "relationship": form.filed_by_relationship.data,
                "full_name": _blank(form.filed_by_name.data),
            },
        }
        saved = _save(nomination, changes)
        if saved is not None:
            flash(_("Đã lưu bản nháp."), "success")
            return redirect(url_for("applicant.step_craft", nomination_id=saved.id))
    return render_template(
        "applicant/step_nominee.html", form=form, nomination=nomination, steps=STEPS, step="nominee",
        eligibility=eligibility.of(nomination) if nomination else None,
    )


@bp.route("/<int:nomination_id>/craft", methods=["GET", "POST"])
@login_required
def step_craft(nomination_id: int):
    """Step 2: the craft, the years in it and the Meritorious title held."""
    nomination = _owned(nomination_id)
    if not permissions.can_edit(current_user, nomination):
        return redirect(url_for("dossier.show", nomination_id=nomination.id))
    form = CraftForm()
    if request.method == "GET":
        form = CraftForm(obj=nomination)
        form.meritorious_field.data = nomination.meritorious_field or "handicraft"
        while len(form.periods.entries):
            form.periods.pop_entry()
        for p in nomination.periods or [None]:
            entry = form.periods.append_entry()
            if p is not None:
                entry.form.from_date.data = p.from_date
                entry.form.to_date.data = p.to_date
                entry.form.workplace.data = p.workplace
                entry.form.role.data = p.role
    elif form.validate_on_submit():
        periods = [
            {"from": e.form.from_date.data, "to": e.form.to_date.data,
             "workplace": e.form.workplace.data or "", "role": _blank(e.form.role.data)}
            for e in form.periods.entries
            if e.form.from_date.data or e.form.to_date.data
        ]
        incomplete = [p for p in periods if not (p["from"] and p["to"])]
        if incomplete:
            flash(_("Mỗi giai đoạn cần cả ngày bắt đầu và ngày kết thúc."), "error")
        else:
            merit = None
            if form.meritorious_decision_no.data or form.meritorious_decision_date.data:
                merit = {
                    "decision_no": _blank(form.meritorious_decision_no.data),
                    "decision_date": form.meritorious_decision_date.data,
                    "field": form.meritorious_field.data,
                }
            changes = {
                "craft": form.craft.data or "",
                "workshop": _blank(form.workshop.data),
                "special_craft": form.special_craft.data,
                "special_craft_rationale": _blank(form.special_craft_rationale.data),
                "career_summary": _blank(form.career_summary.data),
                "skills_summary": _blank(form.skills_summary.data),
                "craft_periods": periods,
                "meritorious_title": merit,
                "intangible_heritage_track": form.intangible_heritage_track.data,
            }
            saved = _save(nomination, changes)
            if saved is not None:
                if form.add_period.data:
                    flash(_("Đã lưu. Hãy nhập giai đoạn mới."), "success")
                    return redirect(url_for("applicant.step_craft", nomination_id=saved.id, add=1))
                flash(_("Đã lưu bản nháp."), "success")
                return redirect(url_for("applicant.step_achievements", nomination_id=saved.id))
    if request.method == "GET" and request.args.get("add"):
        form.periods.append_entry()
    return render_template(
        "applicant/step_craft.html", form=form, nomination=nomination, steps=STEPS, step="craft",
        eligibility=eligibility.of(nomination),
    )


@bp.route("/<int:nomination_id>/achievements", methods=["GET", "POST"])
@login_required
def step_achievements(nomination_id: int):
    """Step 3: products and works, learners trained, honours."""
    nomination = _owned(nomination_id)
    if not permissions.can_edit(current_user, nomination):
        return redirect(url_for("dossier.show", nomination_id=nomination.id))
    form = AchievementsForm()
    if request.method == "GET":
        form = AchievementsForm(obj=nomination)
        while len(form.products.entries):
            form.products.pop_entry()
        for p in nomination.products or [None]:
            entry = form.products.append_entry()
            if p is not None:
                f = entry.form
                f.name.data, f.made_on.data, f.materials.data = p.name, p.made_on, p.materials
                f.self_designed.data = p.self_designed
                f.award_level.data = p.award_level or ""
                f.award_rank.data = p.award_rank
                f.award_state_delegated.data = p.award_state_delegated
                f.award_organiser.data = p.award_organiser
                f.awarded_on.data = p.awarded_on
        if request.args.get("add"):
            form.products.append_entry()
    elif form.validate_on_submit():
        products = []
        for e in form.products.entries:
            f = e.form
            if not (f.name.data or "").strip():
                continue
            award = None
            if f.award_level.data or f.award_rank.data:
                award = {
                    "rank": f.award_rank.data,
                    "level": _blank(f.award_level.data),
                    "state_delegated": f.award_state_delegated.data,
                    "organiser": _blank(f.award_organiser.data),
                    "awarded_on": f.awarded_on.data,
                }
            products.append({
                "name": f.name.data, "made_on": f.made_on.data, "materials": _blank(f.materials.data),
                "self_designed": f.self_designed.data, "award": award,
            })
        changes = {
            "products": products,
            "learners_trained": form.learners_trained.data,
            "honours_summary": _blank(form.honours_summary.data),
        }
        saved = _save(nomination, changes)
        if saved is not None:
            if form.add_product.data:
                flash(_("Đã lưu. Hãy nhập sản phẩm mới."), "success")
                return redirect(url_for("applicant.step_achievements", nomination_id=saved.id, add=1))
            flash(_("Đã lưu bản nháp."), "success")
            return redirect(url_for("applicant.step_evidence", nomination_id=saved.id))
    return render_template(
        "applicant/step_achievements.html", form=form, nomination=nomination, steps=STEPS,
        step="achievements", eligibility=eligibility.of(nomination),
    )


@bp.route("/<int:nomination_id>/evidence", methods=["GET", "POST"])
@login_required
def step_evidence(nomination_id: int):
    """Step 4: upload photos, videos, award decisions and certificates."""
    nomination = _owned(nomination_id)
    form = UploadForm()
    form.kind.choices = choices((k, _(v)) for k, v in KIND_LABELS.items())
    if form.validate_on_submit():
        try:
            attachment = attachment_service.add_attachment(
                current_user, nomination, form.kind.data, request.files.get("file")
            )
        except ValidationFailed as exc:
            for message in exc.field_texts(_).values():
                flash(message, "error")
        else:
            notice = removal_notice(attachment.removed, _)
            flash(_("Đã tải lên tài liệu.") + (" " + notice if notice else ""), "success")
            return redirect(url_for("applicant.step_evidence", nomination_id=nomination.id))
    return render_template(
        "applicant/step_evidence.html", form=form, nomination=nomination, steps=STEPS,
        step="evidence", delete_form=ActionForm(), eligibility=eligibility.of(nomination),
    )


@bp.route("/<int:nomination_id>/evidence/<int:attachment_id>/delete", methods=["POST"])
@login_required
def delete_evidence(nomination_id: int, attachment_id: int):
    """Remove an uploaded file from a draft."""
    nomination = _owned(nomination_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.nomination_id != nomination.id:
        abort(404)
    attachment_service.remove_attachment(current_user, nomination, attachment)
    flash(_("Đã xóa tài liệu."), "success")
    return redirect(url_for("applicant.step_evidence", nomination_id=nomination.id))


@bp.route("/<int:nomination_id>/review")
@login_required
def step_review(nomination_id: int):
    """Step 5: check what is missing and submit."""
    nomination = _owned(nomination_id)
    missing = service.missing_for_submission(nomination)
    action = wf.Action.RESUBMIT if nomination.state == State.RETURNED else wf.Action.SUBMIT
    return render_template(
        "applicant/step_review.html", nomination=nomination, steps=STEPS, step="review",
        missing=missing, action=str(action), form=ActionForm(),
        intake_open=nomination.round.intake_is_open(today(), nomination.province_code),
        eligibility=eligibility.of(nomination),
    )


@bp.route("/<int:nomination_id>/receipt")
@login_required
def receipt(nomination_id: int):
    """The printable receipt with the dossier code (and the access key, right after submission)."""
    nomination = _owned(nomination_id)
    if nomination.code is None:
        abort(404)
    key = session.get("access_keys", {}).get(str(nomination.id))
    return render_template("applicant/receipt.html", nomination=nomination, access_key=key)
