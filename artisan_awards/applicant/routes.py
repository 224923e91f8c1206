from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import ValidationError

from workflows import machine as wf
from workflows.programme import ARTISAN_ID
from workflows.states import N_, State

from .. import permissions
from ..documents import service as documents
from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..forms import ActionForm, choices
from ..i18n import KIND_LABELS, action_label
from ..models import Attachment, Nomination, Province, Round
from ..schemas import NominationIn
from ..serializers import merge_changes, nomination_in
from ..services import attachments as attachment_service
from ..services import data_rights, eligibility, queries
from ..services import nominations as service
from ..services.cleaning import removal_notice
from ..text import nfc_deep, vi_order
from ..timeutil import today
from ..validation import field_errors
from . import bp
from .forms import (
    PROVINCE_PLACEHOLDER,
    AchievementsForm,
    CommitmentForm,
    CraftForm,
    NomineeForm,
    UploadForm,
    add_error,
    error_list,
)

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
    # the artisan declaration files into the artisan titles' rounds (another programme's take its own form)
    rows = db.session.scalars(sa.select(Round).where(Round.programme_id == ARTISAN_ID)
                              .order_by(Round.number.desc())).all()
    return [r for r in rows if r.intake_closes >= on] or rows


def _province_choices():
    stmt = sa.select(Province).where(Province.active.is_(True)).order_by(vi_order(Province.name))
    if permissions.files_only_in_own_province(current_user) and current_user.province_code:
        stmt = stmt.where(Province.code == current_user.province_code)
    return [(p.code, p.name) for p in db.session.scalars(stmt)]


def _save(nomination: Nomination | None, changes: dict, place) -> Nomination | None:
    """Merge a step's changes into the dossier and save it.

    A problem goes next to the field it concerns (``place(path, message)`` returns that field, or None
    for one the step has no field for: then it is shown at the top, in words, without the path)."""
    base = merge_changes(nomination_in(nomination) if nomination else {}, changes)
    try:
        data = NominationIn.model_validate(nfc_deep(base))
        if nomination is None:
            return service.create_nomination(current_user, data)
        return service.update_nomination(current_user, nomination, data)
    except ValidationError as exc:
        problems = field_errors(exc, _)
    except ValidationFailed as exc:
        problems = exc.field_texts(_) or {"_": exc.text(_)}
    for path, message in problems.items():
        target = place(path, message)
        if target is not None:
            add_error(target, message)
        else:
            flash(message, "error")
    return None


# model-level messages of NominationIn/NomineeIn (schemas.py), by the field they concern
_NOMINEE_MESSAGES = {
    N_("Ngày sinh không thể ở tương lai."): "birth_date",
    N_("Ngày mất phải sau ngày sinh."): "death_date",
    N_("Hồ sơ truy tặng cần ngày mất của nghệ nhân."): "death_date",
    N_("Đã có ngày mất: hãy chọn hình thức truy tặng."): "death_date",
}


def _nominee_place(form: NomineeForm):
    def place(path: str, message: str):
        head, _sep, tail = path.partition(".")
        if head == "nominee" and tail and tail in form:
            return form[tail]
        if head == "filed_by":
            return form.filed_by_name if tail == "full_name" else form.filed_by_relationship
        if head in ("round_id", "title", "posthumous"):
            return form[head]
        if path in ("nominee", "_"):
            for msgid, name in _NOMINEE_MESSAGES.items():
                if message == _(msgid):
                    return form[name]
        return None
    return place


_CRAFT_FIELDS = {"craft", "workshop", "special_craft", "special_craft_rationale", "career_summary",
                 "skills_summary", "intangible_heritage_track"}
_PERIOD_FIELDS = {"from": "from_date", "to": "to_date", "workplace": "workplace", "role": "role"}
_MERIT_FIELDS = {"decision_no": "meritorious_decision_no", "decision_date": "meritorious_decision_date",
                 "field": "meritorious_field"}


def _craft_place(form: CraftForm, sources: list):
    """``sources[i]``: the row of the form the i-th saved period came from (blank and removed rows skipped)."""
    def place(path: str, message: str):
        parts = path.split(".")
        if parts[0] in _CRAFT_FIELDS:
            return form[parts[0]]
        if parts[0] == "craft_periods" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(sources):
            row = sources[int(parts[1])].form
            return row[_PERIOD_FIELDS.get(parts[2], "to_date") if len(parts) > 2 else "to_date"]
        if parts[0] == "meritorious_title":
            return form[_MERIT_FIELDS.get(parts[1], "meritorious_decision_no") if len(parts) > 1
                        else "meritorious_decision_no"]
        return None
    return place


_PRODUCT_FIELDS = {"name": "name", "made_on": "made_on", "materials": "materials", "self_designed": "self_designed"}
_AWARD_FIELDS = {"rank": "award_rank", "level": "award_level", "state_delegated": "award_state_delegated",
                 "organiser": "award_organiser", "awarded_on": "awarded_on"}


def _achievements_place(form: AchievementsForm, sources: list):
    def place(path: str, message: str):
        parts = path.split(".")
        if parts[0] in ("learners_trained", "honours_summary"):
            return form[parts[0]]
        if parts[0] == "products" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(sources):
            row = sources[int(parts[1])].form
            if len(parts) > 3 and parts[2] == "award":
                return row[_AWARD_FIELDS.get(parts[3], "award_level")]
            return row[_PRODUCT_FIELDS.get(parts[2], "name") if len(parts) > 2 else "name"]
        return None
    return place


def _blank(value):
    return value if value not in ("", None) else None


def _removing(rows) -> bool:
    """Whether the applicant asked to remove a row (the "remove" box of a period or a product row):
    the step is shown again, saved, so they see what is left."""
    return any(e.form.remove.data for e in rows.entries)


@bp.route("/")
@login_required
def index():
    """My dossiers."""
    rows = db.session.scalars(
        sa.select(Nomination)
        .where(Nomination.owner_id == current_user.id, Nomination.programme_id == ARTISAN_ID)  # the artisan titles'
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
    form.province_code.choices = choices([PROVINCE_PLACEHOLDER, *_province_choices()])
    if nomination is not None and request.method == "GET":
        form.filed_by_name.data = nomination.filed_by_name
    if nomination is not None:
        form.province_code.render_kw = {"disabled": True}
        form.province_code.validators = []
        form.province_code.flags.required = False
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
        saved = _save(nomination, changes, _nominee_place(form))
        if saved is not None:
            flash(_("Đã lưu bản nháp."), "success")
            return redirect(url_for("applicant.step_craft", nomination_id=saved.id))
    errors = error_list(form)
    return render_template(
        "applicant/step_nominee.html", form=form, nomination=nomination, steps=STEPS, step="nominee",
        eligibility=eligibility.of(nomination) if nomination else None, errors=errors,
    ), 400 if errors else 200


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
    elif form.is_submitted():
        valid = form.validate()  # the rows are checked too, so that every problem shows at once
        periods, sources = [], []
        for e in form.periods.entries:
            f = e.form
            if f.remove.data:
                continue
            if not (f.from_date.data or f.to_date.data or (f.workplace.data or "").strip()
                    or (f.role.data or "").strip()):
                continue  # a blank row
            if not f.from_date.data:
                add_error(f.from_date, _("Cần ngày bắt đầu của giai đoạn này."))
            if not f.to_date.data:
                add_error(f.to_date, _("Cần ngày kết thúc của giai đoạn này."))
            periods.append({"from": f.from_date.data, "to": f.to_date.data,
                            "workplace": f.workplace.data or "", "role": _blank(f.role.data)})
            sources.append(e)
        if valid and not error_list(form):
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
            saved = _save(nomination, changes, _craft_place(form, sources))
            if saved is not None:
                if form.add_period.data:
                    flash(_("Đã lưu. Hãy nhập giai đoạn mới."), "success")
                    return redirect(url_for("applicant.step_craft", nomination_id=saved.id, add=1))
                if _removing(form.periods):
                    flash(_("Đã lưu và xóa các dòng đã chọn."), "success")
                    return redirect(url_for("applicant.step_craft", nomination_id=saved.id))
                flash(_("Đã lưu bản nháp."), "success")
                return redirect(url_for("applicant.step_achievements", nomination_id=saved.id))
    if request.method == "GET" and request.args.get("add"):
        form.periods.append_entry()
    errors = error_list(form)
    return render_template(
        "applicant/step_craft.html", form=form, nomination=nomination, steps=STEPS, step="craft",
        eligibility=eligibility.of(nomination), errors=errors,
    ), 400 if errors else 200


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
    elif form.is_submitted():
        valid = form.validate()  # the rows are checked too, so that every problem shows at once
        products, sources = [], []
        for e in form.products.entries:
            f = e.form
            if f.remove.data:
                continue
            if not (f.name.data or "").strip():
                if (f.made_on.data or (f.materials.data or "").strip() or f.award_level.data or f.award_rank.data
                        or (f.award_organiser.data or "").strip() or f.awarded_on.data):
                    add_error(f.name, _("Cần ghi tên sản phẩm, tác phẩm (hoặc đánh dấu xóa dòng này)."))
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
            sources.append(e)
        changes = {
            "products": products,
            "learners_trained": form.learners_trained.data,
            "honours_summary": _blank(form.honours_summary.data),
        }
        place = _achievements_place(form, sources)
        saved = None if not valid or error_list(form) else _save(nomination, changes, place)
        if saved is not None:
            if form.add_product.data:
                flash(_("Đã lưu. Hãy nhập sản phẩm mới."), "success")
                return redirect(url_for("applicant.step_achievements", nomination_id=saved.id, add=1))
            if _removing(form.products):
                flash(_("Đã lưu và xóa các dòng đã chọn."), "success")
                return redirect(url_for("applicant.step_achievements", nomination_id=saved.id))
            flash(_("Đã lưu bản nháp."), "success")
            return redirect(url_for("applicant.step_evidence", nomination_id=saved.id))
    errors = error_list(form)
    return render_template(
        "applicant/step_achievements.html", form=form, nomination=nomination, steps=STEPS,
        step="achievements", eligibility=eligibility.of(nomination), errors=errors,
    ), 400 if errors else 200


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


@bp.route("/<int:nomination_id>/review", methods=["GET", "POST"])
@login_required
def step_review(nomination_id: int):
    """Step 5: the declaration as it will be printed, what is missing, and the submission with its commitment."""
    nomination = _owned(nomination_id)
    missing = service.missing_for_submission(nomination)
    action = wf.Action.RESUBMIT if nomination.state == State.RETURNED else wf.Action.SUBMIT
    form = CommitmentForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            status = 400
        else:
            # the personal-data notice shown with the form (its version), and the optional purposes decided there
            shown = request.form.get("notice_version")
            try:
                if shown is not None:
                    data_rights.check_notice_version(shown)
                key = service.perform(nomination, action, current_user, commitment=service.COMMITMENT)
                if shown is not None:
                    data_rights.record_consents(context="filing", user=current_user, version=shown,
                                                asked=request.form.getlist("asked"),
                                                granted=request.form.getlist("consent"))
            except ServiceError as exc:
                for message in (exc.field_texts(_).values() if isinstance(exc, ValidationFailed) else ()) \
                        or [exc.text(_)]:
                    flash(message, "error")
                status = exc.status
            else:
                flash(_("Đã thực hiện: %(action)s.", action=action_label(action)), "success")
                if key:
                    keys = session.get("access_keys", {})
                    keys[str(nomination.id)] = key
                    session["access_keys"] = keys
                if action == wf.Action.SUBMIT:
                    return redirect(url_for("applicant.receipt", nomination_id=nomination.id))
                return redirect(url_for("dossier.show", nomination_id=nomination.id))
    photo = documents.portrait_id(nomination)
    declaration = documents.declaration_html(
        nomination, url_for("static", filename="pdf/"),
        url_for("dossier.attachment", nomination_id=nomination.id, attachment_id=photo) if photo else None,
        screen_css=url_for("static", filename="declaration-screen.css"),
    )
    return render_template(
        "applicant/step_review.html", nomination=nomination, steps=STEPS, step="review",
        missing=missing, action=str(action), form=form, declaration=declaration,
        intake_open=nomination.round.intake_is_open(today(), nomination.province_code),
        eligibility=eligibility.of(nomination), errors=error_list(form),
    ), status


@bp.route("/<int:nomination_id>/receipt")
@login_required
def receipt(nomination_id: int):
    """The printable receipt with the dossier code (and the access key, right after submission)."""
    nomination = _owned(nomination_id)
    if nomination.code is None:
        abort(404)
    key = session.get("access_keys", {}).get(str(nomination.id))
    return render_template("applicant/receipt.html", nomination=nomination, access_key=key)
