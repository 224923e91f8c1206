"""The scheme pages.  Each view parses its form and calls one operation of services/schemes.py; a service's
field errors are placed next to the fields they name."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import exports, permissions
from ..errors import TransitionRefused, ValidationFailed
from ..extensions import db
from ..forms import ActionForm, choices
from ..models import Nomination, Province, TransitionLog
from ..permissions import guard
from ..services import programmes, schemes
from ..text import vi_order
from ..timeutil import today
from . import bp
from .forms import AppraisalForm, ApprovalForm, ProposalForm, RecordForm, YearEditForm, YearForm

SPARE_LINES = 3
RECORD_KINDS = ("report", "inspection", "acceptance", "settlement")


def _place(form, exc: ValidationFailed, names: dict[str, str] | None = None) -> None:
    """The service's field errors next to the form's fields (``lines.2.item`` is ``lines-1-item``)."""
    texts = exc.field_texts(_)
    for key, text in texts.items():
        key = (names or {}).get(key, key)
        target = None
        if key.startswith("lines.") and hasattr(form, "lines"):
            parts = key.split(".")
            try:
                entry = form.lines.entries[int(parts[1]) - 1]
                target = getattr(entry.form, parts[2]) if len(parts) > 2 else entry.form.item
            except (IndexError, ValueError, AttributeError):
                target = None
        elif key == "lines" and hasattr(form, "lines"):
            target = form.lines.entries[0].form.item
        else:
            target = getattr(form, key, None) if key in form._fields else None
        if target is not None:
            target.errors = [*(target.errors or []), text]
        else:
            flash(text, "error")


def _errors(form) -> list[tuple[str, str, str]]:
    """(id, label, message) of every field in error, for the summary at the top."""
    out = []
    for f in form:
        if f.type == "FieldList":
            for entry in f.entries:
                for sub in entry.form:
                    if sub.errors:
                        out.append((sub.id, f"{sub.label.text} ({entry.id.rsplit('-', 1)[-1]})", " ".join(
                            map(str, sub.errors))))
        elif f.errors and isinstance(f.errors, list):
            out.append((f.id, f.label.text, " ".join(map(str, f.errors))))
    return out


def _form_page(form, operation, done, template: str, **context):
    """A page with a form: on a valid POST ``operation()`` runs (its field errors go next to the fields) and
    ``done(result)`` gives the message to flash and the page to go to (303); otherwise the form is shown
    (again, 422, with the summary of its errors after a POST)."""
    if form.validate_on_submit():
        try:
            result = operation()
        except ValidationFailed as exc:
            _place(form, exc)
        else:
            message, target = done(result)
            flash(message, "success")
            return redirect(target, code=303)
    status = 422 if request.method == "POST" else 200
    return render_template(template, form=form, errors=_errors(form), **context), status


def _post_back(form, operation, success, back: str, *, refusals=(ValidationFailed,), say_why: bool = False):
    """A form posted from another page (the scheme's, the plan's): on a valid POST ``operation()`` runs and
    ``success(result)`` is flashed; a refusal's field errors (and, with ``say_why``, its message) and the
    form's own errors are flashed; either way back to ``back`` (303)."""
    if form.validate_on_submit():
        try:
            result = operation()
        except refusals as exc:
            if say_why:
                flash(exc.text(_), "error")
            for text in exc.field_texts(_).values():
                flash(text, "error")
        else:
            flash(success(result), "success")
    else:
        for f in form:
            for e in f.errors if isinstance(f.errors, list) else []:
                flash(f"{f.label.text}: {e}", "error")
    return redirect(back, code=303)


def _year(round_id: int):
    return schemes.get_year(round_id)


def _scheme(scheme_id: int) -> Nomination:
    return schemes.get_scheme(scheme_id, current_user)


# -- years -----------------------------------------------------------------------------------------------


@bp.route("/")
@guard(permissions.can_see_scheme_years)
def index():
    """The years of the plan: each with its guidance, the caller's own schemes and the links they may use."""
    own = list(db.session.scalars(sa.select(Nomination).where(Nomination.owner_id == current_user.id,
                                                              Nomination.programme_id == schemes.PROGRAMME_ID)
                                  .order_by(Nomination.id.desc())))
    return render_template("schemes/index.html", years=schemes.years(), own=own, label=programmes.state_label)


@bp.route("/years/new", methods=["GET", "POST"])
@guard(permissions.can_manage_schemes)
def new_year():
    """The department opens a year: guidance, content areas (the default list to start from), intake."""
    form = YearForm()
    if request.method == "GET":
        form.content_areas.data = "\n".join(schemes.default_content_areas())
        form.plan_year.data = today().year + 1
    return _form_page(form, lambda: schemes.open_year(current_user, {
        "plan_year": form.plan_year.data, "guidance_number": form.guidance_number.data,
        "guidance_date": form.guidance_date.data, "guidance_text": form.guidance_text.data or "",
        "content_areas": form.content_areas.data, "intake_opens": form.intake_opens.data,
        "intake_closes": form.intake_closes.data}),
        lambda year: (_("Đã mở năm kế hoạch %(year)s.", year=year.plan_year),
                      url_for("schemes.year", round_id=year.round_id)),
        "schemes/year_form.html", year=None)


@bp.route("/years/<int:round_id>/edit", methods=["GET", "POST"])
@guard(permissions.can_manage_schemes)
def edit_year(round_id: int):
    year = _year(round_id)
    form = YearEditForm()
    if request.method == "GET":
        form.guidance_number.data = year.guidance_number
        form.guidance_date.data = year.guidance_date
        form.guidance_text.data = year.guidance_text
        form.content_areas.data = "\n".join(year.content_areas)
    return _form_page(form, lambda: schemes.update_year(current_user, year, {
        "guidance_number": form.guidance_number.data, "guidance_date": form.guidance_date.data,
        "guidance_text": form.guidance_text.data or "", "content_areas": form.content_areas.data}),
        lambda _result: (_("Đã lưu hướng dẫn của năm kế hoạch."), url_for("schemes.year", round_id=year.round_id)),
        "schemes/year_form.html", year=year)


@bp.route("/years/<int:round_id>")
@guard(permissions.can_see_scheme_years)
def year(round_id: int):
    """A year: its guidance and content areas; for the department the appraisal list, ranked with the
    priority explained; for a proposing unit its own schemes."""
    y = _year(round_id)
    ranked = schemes.appraisal_list(y) if permissions.can_manage_schemes(current_user) else None
    waiting = [n for n in schemes._schemes(y) if n.state == "submitted"] \
        if permissions.can_manage_schemes(current_user) else []
    own = [n for n in schemes._schemes(y) if n.owner_id == current_user.id]
    return render_template("schemes/year.html", year=y, ranked=ranked, waiting=waiting, own=own,
                           explain=lambda p: schemes.explain(p, _), label=programmes.state_label,
                           levels=schemes.CERTIFICATE_LEVEL_LABELS,
                           intake_open=y.round.intake_is_open(today()))


# -- proposals -------------------------------------------------------------------------------------------


def _proposal_form(year, n: Nomination | None = None) -> ProposalForm:
    form = ProposalForm()
    form.content_area.choices = choices([("", _("— Chọn nội dung —")), *((a, a) for a in year.content_areas)])
    provinces = db.session.scalars(sa.select(Province).where(Province.active.is_(True))
                                   .order_by(vi_order(Province.name)))
    form.province_code.choices = choices([("", _("— Chọn tỉnh, thành phố —")), *((p.code, p.name) for p in provinces)])
    programme = programmes.programme_of_round(year.round)
    kinds = next(f.choices for f in programme.definition.dossier.fields if f.id == "proposer_kind")
    form.proposer_kind.choices = choices([("", _("— Chọn —")), *((k, _(k)) for k in kinds)])
    if request.method == "GET":
        count = len(schemes.lines_of(n)) if n is not None else 0
        extra = min(max(request.args.get("rows", type=int) or SPARE_LINES, 1), 20)
        while len(form.lines.entries) < min(count + extra, 50):
            form.lines.append_entry()
        if n is not None:
            data = n.programme_data or {}
            for name in ("title", "content_area", "proposer_kind", "proposer_name", "beneficiaries",
                         "beneficiary_count", "product_certificate", "summary"):
                getattr(form, name).data = data.get(name)
            form.province_code.data = n.province_code
            for entry, line in zip(form.lines.entries, schemes.lines_of(n), strict=False):
                entry.form.item.data = line.item
                entry.form.state_amount.data = f"{line.state_amount:,}".replace(",", ".")
                entry.form.cofinancing.data = f"{line.cofinancing:,}".replace(",", ".")
    return form


def _proposal_values(form: ProposalForm) -> tuple[dict, list]:
    values = {name: getattr(form, name).data for name in (
        "title", "content_area", "province_code", "proposer_kind", "proposer_name", "beneficiaries",
        "beneficiary_count", "product_certificate", "summary")}
    values = {k: v for k, v in values.items() if v not in (None, "")}
    lines = [{"item": e.form.item.data, "state_amount": e.form.state_amount.data,
              "cofinancing": e.form.cofinancing.data} for e in form.lines.entries]
    return values, lines


@bp.route("/years/<int:round_id>/propose", methods=["GET", "POST"])
@guard(permissions.can_propose_scheme)
def propose(round_id: int):
    """A proposing unit's scheme: its fields and budget lines (spare rows; ``?rows=`` for more)."""
    y = _year(round_id)
    form = _proposal_form(y)
    return _form_page(form, lambda: schemes.propose(current_user, y, *_proposal_values(form)),
                      lambda n: (_("Đã lưu đề án (bản nháp). Kiểm tra rồi gửi đề án cho Cục."),
                                 url_for("schemes.show", scheme_id=n.id)),
                      "schemes/proposal_form.html", year=y, scheme=None)


@bp.route("/<int:scheme_id>/edit", methods=["GET", "POST"])
@guard(permissions.can_propose_scheme)
def edit(scheme_id: int):
    n = _scheme(scheme_id)
    if n.owner_id != current_user.id:
        abort(404)
    y = schemes.year_of(n)
    form = _proposal_form(y, n)
    return _form_page(form, lambda: schemes.update_proposal(current_user, n, *_proposal_values(form)),
                      lambda _result: (_("Đã lưu đề án."), url_for("schemes.show", scheme_id=n.id)),
                      "schemes/proposal_form.html", year=y, scheme=n)


@bp.route("/<int:scheme_id>")
@guard()
def show(scheme_id: int):
    """A scheme: its fields, budget lines and totals, priority, appraisal, monitoring, history, and the
    steps the caller may take (the plain moves through the programmes' generic action path)."""
    n = _scheme(scheme_id)
    programme = programmes.programme_of(n)
    subject = programmes.subject(n, programme, today())
    moves = [a for a in programme.actions_from(n.state)
             if a in programme.Action._value2member_map_ and a not in schemes.RECORD_MOVES.values()
             and a != "approve_plan" and permissions.may_act_as(current_user, n, programme.actor_for(a))
             and programme.can_fire(subject, a)]
    records = [k for k in RECORD_KINDS
               if permissions.may_act_as(current_user, n, programme.actor_for(schemes.RECORD_MOVES[k]))
               and programme.can_fire(subject, schemes.RECORD_MOVES[k])]
    can_appraise = n.state == "appraisal" and permissions.may_act_as(
        current_user, n, programme.level(schemes.APPRAISAL_LEVEL).officer)
    lines = schemes.lines_of(n)
    history = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id)
                                 .order_by(TransitionLog.id)).all()
    return render_template(
        "schemes/show.html", n=n, data=n.programme_data or {}, programme=programme, lines=lines,
        totals=(sum(x.state_amount for x in lines), sum(x.cofinancing for x in lines)),
        prio=schemes.priority(n), explain=lambda p: schemes.explain(p, _), levels=schemes.CERTIFICATE_LEVEL_LABELS,
        appraisal=schemes._decision_meta(n), records=schemes.records_of(n), history=history, moves=moves,
        record_kinds=records, record_labels=schemes.RECORD_LABELS, can_appraise=can_appraise,
        appraisal_form=AppraisalForm(prefix="appraisal"), record_forms={k: RecordForm(prefix=k) for k in records},
        action_form=ActionForm(), label=programme.label, year=schemes.year_of(n))


@bp.route("/<int:scheme_id>/appraisal", methods=["POST"])
@guard(permissions.can_manage_schemes)
def appraise(scheme_id: int):
    n = _scheme(scheme_id)
    form = AppraisalForm(prefix="appraisal")
    return _post_back(form, lambda: schemes.appraise(current_user, n, {
        "score": form.score.data, "amount": form.amount.data, "comment": form.comment.data}),
        lambda _result: _("Đã ghi kết quả thẩm định."), url_for("schemes.show", scheme_id=n.id))


@bp.route("/<int:scheme_id>/records/<kind>", methods=["POST"])
@guard()
def add_record(scheme_id: int, kind: str):
    """A progress report, an inspection visit, the acceptance or the settlement."""
    n = _scheme(scheme_id)
    if kind not in RECORD_KINDS:
        abort(404)
    programme = programmes.programme_of(n)
    if not permissions.may_act_as(current_user, n, programme.actor_for(schemes.RECORD_MOVES[kind])):
        abort(403)
    form = RecordForm(prefix=kind)
    fields = ("on_date", "period", "progress_percent", "team", "reference", "amount", "text")
    return _post_back(form, lambda: schemes.add_record(current_user, n, kind, {
        k: getattr(form, k).data for k in fields if getattr(form, k).data not in (None, "")}),
        lambda _result: _("Đã ghi: %(what)s.", what=_(schemes.RECORD_LABELS[kind])),
        url_for("schemes.show", scheme_id=n.id))


# -- the plan --------------------------------------------------------------------------------------------


@bp.route("/years/<int:round_id>/plan")
@guard(permissions.can_see_scheme_years)
def plan(round_id: int):
    """The year's plan and its totals by locality, unit and content area (``?format=csv|xlsx``: a file)."""
    p = schemes.visible_plan(round_id, current_user)
    fmt = request.args.get("format")
    if fmt:
        return exports.respond(fmt, f"ke-hoach-khuyen-cong-{p.year.plan_year}", exports.scheme_plan_columns(),
                               schemes.plan_rows_with_total(p))
    return render_template("schemes/plan.html", plan=p, form=ApprovalForm(), label=programmes.state_label,
                           can_approve=permissions.can_manage_schemes(current_user) and not p.approved)


@bp.route("/years/<int:round_id>/plan/approval", methods=["POST"])
@guard(permissions.can_manage_schemes)
def approve(round_id: int):
    y = _year(round_id)
    form = ApprovalForm()
    return _post_back(form, lambda: schemes.approve_plan(current_user, y, {
        "decision_number": form.decision_number.data, "decision_date": form.decision_date.data}),
        lambda moved: _("Đã ghi nhận phê duyệt kế hoạch: %(n)s đề án.", n=len(moved)),
        url_for("schemes.plan", round_id=y.round_id), refusals=(ValidationFailed, TransitionRefused), say_why=True)
