from __future__ import annotations

import re

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from workflows.states import N_

from .. import confirm, permissions
from ..errors import NotFound, ServiceError, ValidationFailed
from ..extensions import db
from ..forms import VnDateField, WholeNumberField, choices
from ..models import Province, ReadAction, Round
from ..permissions import guard
from ..schemas import RoundIn
from ..services import attachments as attachment_service
from ..services import data_rights, rounds
from ..services import programme_dossiers as dossiers
from ..services import programmes as service
from ..services.cleaning import removal_notice
from ..text import vi_order
from . import bp


class _Required:
    """Marks a field required for the label's * and aria-required; the definition's check (``clean_form``)
    says what is wrong, next to the field."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


class _CommentForm(FlaskForm):
    comment = TextAreaField(_l("Ghi chú, lý do"), validators=[Optional(), Length(max=20000)])


class _EvidenceForm(FlaskForm):
    kind = SelectField(_l("Loại tài liệu"), validate_choice=False)
    file = FileField(_l("Tệp (ảnh, video, PDF)"))


def _dossier_form(programme, formdata=None):
    """A WTForms form built from the definition's ``dossier.fields`` (labels: the definition's message ids)."""

    class DossierForm(FlaskForm):
        province_code = SelectField(_l("Tỉnh, thành phố"), validators=[_Required()], validate_choice=False)

    for f in programme.definition.dossier.fields:
        label = _(f.label)
        required = [_Required()] if f.required else []
        if f.type == "textarea":
            field = TextAreaField(label, validators=required, render_kw={"maxlength": f.max_length, "rows": 5})
        elif f.type == "choice":
            field = SelectField(label, validators=required, validate_choice=False,
                                choices=choices([("", _("— Chọn —")), *((c, _(c)) for c in f.choices)]))
        elif f.type == "boolean":
            field = BooleanField(label)
        elif f.type in ("integer", "money"):
            hint = {"inputmode": "numeric", "autocomplete": "off"}
            field = StringField(label, validators=required, render_kw=hint)
        elif f.type == "date":
            field = StringField(label, validators=required, render_kw={"type": "date"})
        else:
            field = StringField(label, validators=required, render_kw={"maxlength": f.max_length})
        setattr(DossierForm, f"f_{f.id}", field)
    return DossierForm(formdata=formdata) if formdata is not None else DossierForm()


def _values(programme, form) -> dict:
    values = {}
    for f in programme.definition.dossier.fields:
        data = getattr(form, f"f_{f.id}").data
        values[f.id] = bool(data) if f.type == "boolean" else (data or "")
    return values


def _place_errors(form, exc: ServiceError) -> list[tuple[str, str, str]]:
    """Each field error of ``exc`` next to its field; (id, label, message) for the summary at the top."""
    summary = []
    for name, message in exc.field_texts(_).items():
        field = getattr(form, "province_code" if name == "province_code" else f"f_{name}", None)
        if field is None:
            summary.append(("", name, message))
            continue
        field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        summary.append((field.id, field.label.text, message))
    if not summary:
        summary.append(("", "", exc.text(_)))
    return summary


@bp.route("/programmes/")
def index():
    """The programmes other than the artisan titles, each with its rounds open for filing."""
    rows = []
    for pid in dossiers.programme_ids():
        programme = dossiers.programme_or_404(pid)
        rows.append((programme, dossiers.open_rounds(pid)))
    mine = dossiers.my_dossiers(current_user) if current_user.is_authenticated else []
    return render_template("programmes/index.html", rows=rows, mine=mine)


@bp.route("/programmes/<programme_id>/rounds/<int:round_id>/new", methods=["GET", "POST"])
@guard(permissions.can_file_programme_dossier)
def new(programme_id: str, round_id: int):
    """File a dossier in a round of the programme: the form is the round's version's fields."""
    dossiers.programme_or_404(programme_id)
    round_ = db.session.get(Round, round_id)
    if round_ is None or round_.programme_id != programme_id:
        abort(404)
    programme = service.programme_of_round(round_)
    if not dossiers.uses_own_fields(programme):
        abort(404)
    form = _dossier_form(programme)
    stmt = sa.select(Province).where(Province.active.is_(True)).order_by(vi_order(Province.name))
    form.province_code.choices = choices([("", _("— Chọn tỉnh, thành phố —")),
                                          *((p.code, p.name) for p in db.session.scalars(stmt))])
    summary = []
    if request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
        else:
            try:
                nomination = service.create_dossier(current_user, round_.id, form.province_code.data or "",
                                                    _values(programme, form))
            except ValidationFailed as exc:
                summary = _place_errors(form, exc)
            else:
                flash(_("Đã lưu bản nháp hồ sơ. Bổ sung tài liệu rồi nộp hồ sơ."), "success")
                return redirect(url_for("programmes.show", dossier_id=nomination.id), code=303)
    status = 422 if summary else 200
    return render_template("programmes/new.html", programme=programme, round=round_, form=form,
                           summary=summary), status


def _visible(dossier_id: int):
    try:
        return dossiers.get_visible(current_user, dossier_id)
    except NotFound:
        abort(404)


# The figures a decision records in its history row (workflows.programme.decide), as the page names them.
META_LABELS = {
    "members": N_("Số thành viên"), "present": N_("Có mặt"), "yes": N_("Đồng ý"),
    "quorum": N_("Số có mặt tối thiểu"), "threshold": N_("Số phiếu cần đạt"),
    "amount": N_("Số tiền thẩm định (đồng)"), "requested": N_("Số tiền đề nghị (đồng)"),
    "score": N_("Điểm bình quân"), "pass_mark": N_("Điểm đạt"), "scorers": N_("Số người chấm"),
}


def _meta_lines(meta: dict) -> list[tuple[str, object]]:
    """A decision's figures for the history: (label, value), the known ones named, numbers as numbers."""
    return [(META_LABELS.get(k, k), v) for k, v in (meta or {}).items()
            if k not in ("level", "decision", "currency", "code") and not isinstance(v, (dict, list))]


def _decision_fields(level) -> list[tuple[str, str]]:
    """(input name, label) of a level's decision form."""
    kind = level.decision.kind
    if kind == "ballot":
        return [("members", N_("Số thành viên Hội đồng")), ("present", N_("Số thành viên có mặt")),
                ("yes", N_("Số phiếu đồng ý"))]
    if kind == "appraisal":
        return [("amount", N_("Số tiền thẩm định (đồng; 0 là không hỗ trợ)"))]
    return []


@bp.route("/programme-dossiers/<int:dossier_id>")
@login_required
def show(dossier_id: int):
    """The dossier: its fields, state, evidence and history, the actions the visitor may take now, and the level's
    decision form for the level's officer."""
    nomination, programme = _visible(dossier_id)
    data_rights.log_read(current_user, ReadAction.DOSSIER, nomination=nomination)
    return _page(nomination, programme)


def _page(nomination, programme, decision_errors: dict | None = None, entered: dict | None = None,
          status: int = 200):
    evidence_form = _EvidenceForm()
    evidence_form.kind.choices = choices([(k, _(_kind_label(k))) for k in programme.definition.dossier.evidence])
    return render_template(
        "programmes/show.html", nomination=nomination, programme=programme,
        state=programme.state_def(nomination.state),
        fields=programme.definition.dossier.fields, data=nomination.programme_data or {},
        actions=dossiers.allowed_actions(current_user, nomination, programme),
        decisions=permissions.programme_decisions(current_user, nomination, programme),
        decision_fields=_decision_fields, decision_errors=decision_errors or {}, entered=entered or {},
        history=dossiers.history(nomination), evidence=dossiers.evidence(nomination),
        trigger_label=lambda trigger: dossiers.trigger_label(programme, trigger, _), meta_lines=_meta_lines,
        may_add_evidence=permissions.can_add_programme_evidence(current_user, nomination, programme),
        evidence_form=evidence_form, form=_CommentForm(), round=nomination.round,
        access_key=session.get("access_keys", {}).get(str(nomination.id))
        if nomination.owner_id == current_user.id else None,
    ), status


def _kind_label(kind: str) -> str:
    from ..i18n import KIND_LABELS

    return KIND_LABELS.get(kind, kind)


def _to_state(programme, nomination, trigger: str) -> str | None:
    for move in programme.moves_for(trigger):
        if nomination.state in move.sources:
            return programme.state_def(move.dest).staff_label
    return None


@bp.route("/programme-dossiers/<int:dossier_id>/actions/<action>", methods=["POST"])
@login_required
def act(dossier_id: int, action: str):
    """Take one of the definition's actions, after a confirmation that says where the dossier goes."""
    nomination, programme = _visible(dossier_id)
    form = _CommentForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        raise ValidationFailed(fields={"comment": N_("Ghi chú, lý do dài tối đa 20 000 ký tự.")})
    comment = (form.comment.data or "").strip()
    back = url_for("programmes.show", dossier_id=nomination.id)
    if action in dossiers.allowed_actions(current_user, nomination, programme) and not confirm.confirmed():
        label = programme.label(action)
        return confirm.ask(label, [N_("Hồ sơ chuyển sang trạng thái: %(to)s.")], cancel_url=back,
                           button=label, danger=False,
                           params={"to": _(_to_state(programme, nomination, action) or "")},
                           table=([N_("Hồ sơ"), N_("Ghi chú, lý do")], [[nomination.full_name, comment or "—"]]))
    service.perform(nomination, action, current_user, comment=comment or None)
    flash(_("Đã thực hiện: %(action)s.", action=_(programme.label(action))), "success")
    key = nomination.__dict__.pop("new_access_key", None)
    if key:  # the first submission: shown to the filer on the dossier page while this login lasts
        keys = session.get("access_keys", {})
        keys[str(nomination.id)] = key
        session["access_keys"] = keys
    return redirect(back, code=303)


def _amount(text: str) -> str:
    """``450.000.000`` or ``450 000 000`` as Vietnamese write amounts: the digits."""
    return re.sub(r"[.\s\u00a0]", "", text or "")


@bp.route("/programme-dossiers/<int:dossier_id>/decision", methods=["POST"])
@login_required
def decide(dossier_id: int):
    """Record a level's decision (its officer): the tally, the scores or the appraised amount."""
    nomination, programme = _visible(dossier_id)
    form = _CommentForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        raise ValidationFailed(fields={"comment": N_("Ghi chú, lý do dài tối đa 20 000 ký tự.")})
    level_id = request.form.get("level", "")
    try:
        level = programme.level(level_id)
    except KeyError:
        abort(404)
    if level.decision is None:
        abort(404)
    inputs: dict = {}
    if level.decision.kind == "rubric":
        sheets = []
        for i in range(max(level.decision.min_scorers, 1)):
            sheet = {c.id: request.form.get(f"s{i}_{c.id}", "").strip()
                     for g in level.decision.groups for c in g.criteria}
            sheets.append({k: _number(v) for k, v in sheet.items()})
        inputs["scores"] = sheets
    else:
        for name, _label in _decision_fields(level):
            raw = request.form.get(name, "")
            inputs[name] = _amount(raw) if name == "amount" else raw.strip()
    back = url_for("programmes.show", dossier_id=nomination.id)
    allowed = level in permissions.programme_decisions(current_user, nomination, programme)
    if allowed:
        try:  # the inputs are checked before the question: a wrong figure is shown next to its input
            dossiers.check_decision(nomination, level, inputs)
        except ValidationFailed as exc:
            entered = {k: v for k, v in request.form.items() if k not in ("csrf_token", confirm.FIELD, confirm.NEXT)}
            return _page(nomination, programme, {level.id: exc.field_texts(_)}, entered, 422)
    if allowed and not confirm.confirmed():
        return confirm.ask(N_("Ghi quyết định: %(level)s"), [N_("Kết quả được tính từ số liệu đã nhập và hồ sơ "
                                                                "chuyển theo kết quả đó.")],
                           cancel_url=back, button=N_("Ghi quyết định"), danger=False,
                           params={"level": _(level.name)},
                           table=([N_("Số liệu"), N_("Giá trị")], _figures(level)))
    outcome = service.decide(nomination, level.id, inputs, current_user, comment=(form.comment.data or "").strip()
                             or None)
    flash(_("Đã ghi quyết định (%(level)s): %(state)s.", level=_(level.name),
            state=_(programme.state_def(outcome).staff_label)), "success")
    return redirect(back, code=303)


def _figures(level) -> list[list[str]]:
    """What the officer entered, as the confirmation shows it: (the input's label, the value)."""
    if level.decision.kind == "rubric":
        return [[_("Phiếu chấm của thành viên %(n)s", n=i + 1) + " · " + _(c.label),
                 request.form.get(f"s{i}_{c.id}", "")]
                for i in range(max(level.decision.min_scorers, 1))
                for g in level.decision.groups for c in g.criteria]
    rows = [[_(label), request.form.get(name, "")] for name, label in _decision_fields(level)]
    comment = (request.form.get("comment") or "").strip()
    return rows + ([[_("Ghi chú, lý do"), comment]] if comment else [])


def _number(text: str):
    try:
        return float(text.replace(",", ".")) if text else None
    except ValueError:
        return text


@bp.route("/programme-dossiers/<int:dossier_id>/evidence", methods=["POST"])
@login_required
def upload(dossier_id: int):
    """Add a piece of evidence of one of the definition's kinds."""
    nomination, programme = _visible(dossier_id)
    form = _EvidenceForm()
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)
    row = dossiers.add_evidence(current_user, nomination, programme, form.kind.data or "",
                                request.files.get("file"))
    notice = removal_notice(row.removed, _)
    flash(_("Đã tải lên: %(name)s.", name=row.original_name) + (" " + notice if notice else ""), "success")
    return redirect(url_for("programmes.show", dossier_id=nomination.id) + "#evidence", code=303)


@bp.route("/programme-dossiers/<int:dossier_id>/evidence/<int:attachment_id>")
@login_required
def evidence_file(dossier_id: int, attachment_id: int):
    """Download one piece of evidence (as an attachment, never rendered inline)."""
    nomination, _programme = _visible(dossier_id)
    try:
        row = dossiers.attachment_of(nomination, attachment_id)
    except NotFound:
        abort(404)
    data_rights.log_read(current_user, ReadAction.EVIDENCE, nomination=nomination, target=row.original_name)
    return attachment_service.send_attachment(row)


# -- opening a round (a year) of any programme ---------------------------------------------------------------


_DAYS = [InputRequired(_l("Cần nhập số ngày.")), NumberRange(0, 365, _l("Từ %(min)s đến %(max)s."))]


class _ProgrammeRoundForm(FlaskForm):
    programme_id = SelectField(_l("Chương trình"), validate_choice=False)
    number = WholeNumberField(_l("Số thứ tự của đợt"), validators=[
        InputRequired(_l("Cần nhập số thứ tự của đợt.")), NumberRange(1, 1000, _l("Từ %(min)s đến %(max)s."))])
    name = StringField(_l("Tên đợt"), validators=[InputRequired(_l("Cần nhập tên đợt.")), Length(max=200)])
    intake_opens = VnDateField(_l("Ngày mở tiếp nhận"), validators=[InputRequired(_l("Cần nhập ngày."))])
    intake_closes = VnDateField(_l("Ngày đóng tiếp nhận"), validators=[InputRequired(_l("Cần nhập ngày."))])
    reply_days = WholeNumberField(_l("Số ngày kiểm tra, trả lời hồ sơ"), validators=_DAYS)
    completion_days = WholeNumberField(_l("Số ngày bổ sung hồ sơ"), validators=_DAYS)
    consultation_days = WholeNumberField(_l("Số ngày lấy ý kiến nhân dân"), validators=_DAYS)


def _round_needs(programme) -> dict[str, tuple[int, str]]:
    """The round's windows the programme uses, each (default days, counting): ``reply`` when it declares that
    deadline, ``completion`` when a move waits on the completion period, ``consultation`` on a consultation."""
    d = programme.definition
    deadlines = {x.id: (x.days, x.counting) for x in d.deadlines}
    guards = {g for t in d.transitions for g in (*t.when, *t.unless)}
    needs = {}
    if "reply" in deadlines:
        needs["reply"] = deadlines["reply"]
    if "completion_open" in guards:
        needs["completion"] = deadlines.get("completion", (15, "calendar"))
    if guards & {"consultation_over", "consultation_before_state", "consultation_after_state"}:
        needs["consultation"] = deadlines.get("consultation", (20, "calendar"))
    return needs


@bp.route("/programmes/rounds/new", methods=["GET", "POST"])
@guard(permissions.can_manage_rounds)
def new_round():
    """Open a round of any programme: first the programme (from the registry), then the round's fields it
    needs; the version is the one in effect on the day intake opens."""
    chosen = request.values.get("programme_id") or ""
    programme = None
    if chosen:
        try:
            programme = dossiers.programme_or_404(chosen)
        except NotFound:
            abort(404)
    form = _ProgrammeRoundForm()
    form.programme_id.choices = choices([("", _("— Chọn chương trình —")),
                                         *((pid, _(dossiers.programme_or_404(pid).definition.title))
                                           for pid in dossiers.programme_ids())])
    needs = _round_needs(programme) if programme else {}
    if programme and request.method == "GET":
        for window, (days, _counting) in needs.items():
            getattr(form, f"{window}_days").data = days
    summary, status = [], 200
    if programme and request.method == "POST":
        if not form.validate_on_submit():
            if "csrf_token" in form.errors:
                abort(400)
            summary = [(getattr(form, k).id, getattr(form, k).label.text, " ".join(map(str, v)))
                       for k, v in form.errors.items() if hasattr(form, k) and k in _round_fields(needs)]
        if not summary:
            values = {"programme_id": programme.id, "number": form.number.data, "name": form.name.data,
                      "intake_opens": form.intake_opens.data, "intake_closes": form.intake_closes.data}
            for window, (_days, counting) in needs.items():
                values[f"{window}_days"] = getattr(form, f"{window}_days").data
                values[f"{window}_day_kind"] = counting
            try:
                if values["intake_opens"] > values["intake_closes"]:
                    raise ValidationFailed(fields={"intake_closes": N_(
                        "Ngày đóng tiếp nhận phải sau ngày mở tiếp nhận.")})
                row = rounds.create_round(current_user, RoundIn.model_validate(values))
            except ValidationFailed as exc:
                summary = _place_round_errors(form, exc)
            else:
                flash(_("Đã tạo đợt %(name)s của %(programme)s (phiên bản %(v)s).", name=row.name,
                        programme=_(programme.definition.title), v=row.programme_version), "success")
                return redirect(url_for("programmes.index"), code=303)
        status = 422
    return render_template("programmes/round_form.html", form=form, programme=programme, needs=needs,
                           fields=_round_fields(needs), summary=summary), status


def _round_fields(needs) -> list[str]:
    return ["number", "name", "intake_opens", "intake_closes", *(f"{w}_days" for w in needs)]


def _place_round_errors(form, exc: ServiceError) -> list[tuple[str, str, str]]:
    summary = []
    for name, message in exc.field_texts(_).items():
        field = getattr(form, name, None)
        if field is None:
            summary.append(("", "", message))
            continue
        field.errors = [*list(field.errors), message]
        summary.append((field.id, field.label.text, message))
    return summary or [("", "", exc.text(_))]


# -- across programmes: the inbox section and the dashboard's programme filter (templates call these) --------


def _programme_choices() -> list[tuple[str, str]]:
    return [(pid, _(dossiers.programme_or_404(pid).definition.title)) for pid in dossiers.programme_ids()]


@bp.app_template_global()
def programme_inbox() -> dict:
    """The other programmes' dossiers that wait for the signed-in person (``?programme=`` narrows to one)."""
    chosen = request.args.get("programme") or ""
    if chosen not in dossiers.programme_ids():
        chosen = ""
    return {"rows": dossiers.awaiting(current_user, chosen or None), "chosen": chosen,
            "choices": _programme_choices()}


@bp.app_template_global()
def programme_dashboard() -> dict:
    """The dashboard's programme filter: ``?programme=`` one of the other programmes, then ``?programme_round=``
    one of its rounds (the newest by default), counted by state and province."""
    chosen = request.args.get("programme") or ""
    out = {"chosen": chosen if chosen in dossiers.programme_ids() else "", "choices": _programme_choices(),
           "rounds": [], "current": None, "counts": None}
    if out["chosen"]:
        out["rounds"] = dossiers.programme_rounds(out["chosen"])
        wanted = request.args.get("programme_round", type=int)
        out["current"] = next((r for r in out["rounds"] if r.id == wanted), out["rounds"][0] if out["rounds"] else None)
        if out["current"] is not None:
            out["counts"] = dossiers.round_counts(out["current"])
    return out
