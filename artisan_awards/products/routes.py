from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.states import N_

from .. import confirm, permissions, regions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..forms import ActionForm
from ..models import CERTIFICATE_LEVELS, Round, User
from ..permissions import guard
from ..services import certificates, scoring
from ..timeutil import today
from . import bp

LEVEL_LABELS = {"province": N_("Cấp tỉnh"), "region": N_("Cấp khu vực"), "nation": N_("Cấp quốc gia")}


def _check_form() -> ActionForm:
    form = ActionForm()
    if not form.validate_on_submit():
        raise ValidationFailed(N_("Biểu mẫu đã hết hạn. Hãy tải lại trang và gửi lại."), code="csrf")
    return form


@bp.route("/scoring")
@guard(permissions.can_score)
def queue():
    """The dossiers waiting for my sheet, on every panel I sit on."""
    return render_template("products/queue.html", rows=scoring.queue(current_user), regions=regions.REGIONS)


@bp.route("/programme-dossiers/<int:dossier_id>/levels/<level>/sheet", methods=["GET", "POST"])
@guard(permissions.can_score)
def sheet(dossier_id: int, level: str):
    """My own sheet for the dossier at the level: enter or correct it while the scoring is open."""
    nomination = certificates.programme_dossier(dossier_id)
    level_def, own = scoring.own_sheet(current_user, nomination, level)
    values = {cid: own.scores.get(cid) for cid in (own.scores if own else {})}
    comment = own.comment if own else ""
    errors, status = {}, 200
    if request.method == "POST":
        _check_form()
        values = {c.id: request.form.get(c.id, "") for g in level_def.decision.groups for c in g.criteria}
        comment = request.form.get("comment", "")
        try:
            scoring.save_sheet(current_user, nomination, level, values, comment)
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        else:
            flash(_("Đã lưu phiếu chấm của ông/bà."), "success")
            return redirect(url_for("products.sheet", dossier_id=nomination.id, level=level))
    own = scoring.own_sheet(current_user, nomination, level)[1]
    return render_template("products/sheet.html", n=nomination, level=level_def, sheet=own, values=values,
                           comment=comment, errors=errors, open=scoring.is_open(nomination, level_def),
                           form=ActionForm()), status


@bp.route("/programme-dossiers/<int:dossier_id>/levels/<level>/scoring")
@guard(permissions.is_staff)
def scoring_page(dossier_id: int, level: str):
    """The secretariat: the panel and who handed in, the close; after it, every sheet and the outcome."""
    nomination = certificates.programme_dossier(dossier_id)
    status = scoring.status(current_user, nomination, level)
    level_def = scoring.rubric_level(scoring._programme_of(nomination), level)
    officer = permissions.may_act_as(current_user, nomination, level_def.officer)
    return render_template("products/scoring.html", n=nomination, level=level_def, s=status, officer=officer,
                           form=ActionForm(), certificates=certificates.for_dossier(nomination.id),
                           level_labels=LEVEL_LABELS)


@bp.route("/programme-dossiers/<int:dossier_id>/levels/<level>/scoring/close", methods=["POST"])
@guard(permissions.is_staff)
def close(dossier_id: int, level: str):
    """Close the scoring (confirmed first): the stored sheets decide."""
    nomination = certificates.programme_dossier(dossier_id)
    status = scoring.status(current_user, nomination, level)  # who may, and what is handed in
    _check_form()
    back = url_for("products.scoring_page", dossier_id=nomination.id, level=level)
    if not confirm.confirmed():
        return confirm.ask(
            N_("Kết thúc chấm điểm"),
            (N_("Điểm của hồ sơ là trung bình các phiếu chấm đã nộp; hồ sơ đạt hoặc không đạt theo điểm sàn."),
             N_("Sau bước này người chấm không sửa được phiếu chấm và hồ sơ chuyển bước; không hoàn tác được.")),
            cancel_url=back, button=N_("Kết thúc chấm điểm"),
            notes=[_("Số phiếu chấm đã nộp: %(n)s.", n=status["handed_in"])])
    scoring.close(current_user, nomination, level, request.form.get("comment") or None)
    flash(_("Đã kết thúc chấm điểm."), "success")
    return redirect(back)


@bp.route("/programme-rounds/<int:round_id>/levels/<level>", methods=["GET", "POST"])
@guard(permissions.is_staff)
def level_page(round_id: int, level: str):
    """A level of a round: its panels of scorers (and adding one), the ranking of what it scored."""
    round_ = db.session.get(Round, round_id)
    region = request.values.get("region") or ""
    errors, status = {}, 200
    if request.method == "POST":
        _check_form()
        try:
            user_id = int(request.form.get("user_id", ""))
        except ValueError:
            user_id = 0
        try:
            scoring.assign_scorer(current_user, round_id, level, user_id, region)
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        else:
            flash(_("Đã thêm người chấm điểm."), "success")
            return redirect(url_for("products.level_page", round_id=round_id, level=level))
    rows = scoring.ranking(current_user, round_id, level)  # refuses who is not the level's secretariat
    level_def = scoring.rubric_level(scoring._programme_of_round(round_), level)
    keys = list(regions.REGIONS) if level_def.scope == "region" else [""]
    panels = {key: scoring.panel(round_id, level, key) for key in keys}
    candidates = [u for u in db.session.query(User).filter(User.active).order_by(User.full_name)
                  if permissions.holds_role(u, level_def.council)]
    return render_template("products/level.html", round=round_, level=level_def, rows=rows, panels=panels,
                           regions=regions.REGIONS, candidates=candidates, errors=errors, form=ActionForm(),
                           chosen_region=region), status


@bp.route("/programme-dossiers/<int:dossier_id>/certificates", methods=["GET", "POST"])
@guard()
def dossier_certificates(dossier_id: int):
    """The dossier's certificates; the level's secretariat issues one here."""
    nomination = certificates.programme_dossier(dossier_id)
    if not certificates.may_read_dossier(current_user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    errors, status, values = {}, 200, {}
    if request.method == "POST":
        _check_form()
        values = {k: request.form.get(k, "") for k in ("level", "number", "issued_on")}
        try:
            c = certificates.issue_certificate(nomination, values["level"], current_user,
                                               issued_on=values["issued_on"] or None, number=values["number"] or None)
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except TransitionRefused as exc:
            errors, status = {"level": exc.message}, exc.status
        else:
            flash(_("Đã cấp giấy chứng nhận số %(number)s.", number=c.number), "success")
            return redirect(url_for("products.dossier_certificates", dossier_id=nomination.id))
    issuable = [lv for lv in CERTIFICATE_LEVELS if _officer_of(nomination, lv)]
    return render_template("products/certificates.html", n=nomination, rows=certificates.for_dossier(nomination.id),
                           issuable=issuable, level_labels=LEVEL_LABELS, errors=errors, values=values,
                           form=ActionForm(), today=today()), status


def _officer_of(nomination, level: str) -> bool:
    from ..services.programmes import programme_of

    try:
        return permissions.may_act_as(current_user, nomination, programme_of(nomination).level(level).officer)
    except KeyError:
        return False


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@guard(permissions.is_staff)
def revoke(certificate_id: int):
    """Revoke a certificate (confirmed first), with the reason."""
    c = certificates.get(certificate_id)
    _check_form()
    back = url_for("products.dossier_certificates", dossier_id=c.nomination_id)
    if not _officer_of(c.nomination, c.level):
        raise Forbidden()
    if not (request.form.get("reason") or "").strip():
        flash(_("Hãy nêu lý do thu hồi."), "error")
        return redirect(back)
    if not confirm.confirmed():
        return confirm.ask(N_("Thu hồi giấy chứng nhận"),
                           (N_("Giấy chứng nhận hết hiệu lực từ ngày thu hồi và không còn trong sổ đăng ký công khai."),
                            N_("Chủ thể sản xuất nhận thông báo kèm lý do.")),
                           cancel_url=back, button=N_("Thu hồi"))
    certificates.revoke(c, current_user, request.form.get("reason", ""), request.form.get("revoked_on") or None)
    flash(_("Đã thu hồi giấy chứng nhận số %(number)s.", number=c.number), "success")
    return redirect(back)


def dossier_links(nomination) -> list[tuple[str, str]]:
    """What the visitor of a programme dossier's page may open here: his sheet, the level's scoring (its
    secretariat), the dossier's certificates (its owner and the levels' secretariats)."""
    from workflows import programme as pg

    from ..services.programmes import programme_of

    if not current_user.is_authenticated:
        return []
    programme = programme_of(nomination)
    links = []
    for level in programme.definition.levels:
        if not isinstance(level.decision, pg.RubricDecision):
            continue
        args = {"dossier_id": nomination.id, "level": level.id}
        if permissions.may_act_as(current_user, nomination, level.officer):
            links.append((_("Chấm điểm %(level)s", level=_(level.name)), url_for("products.scoring_page", **args)))
        elif scoring.is_open(nomination, level) and scoring.on_panel(current_user, nomination, level):
            links.append((_("Phiếu chấm của tôi: %(level)s", level=_(level.name)), url_for("products.sheet", **args)))
    if certificates.for_dossier(nomination.id) or any(_officer_of(nomination, lv) for lv in CERTIFICATE_LEVELS):
        if certificates.may_read_dossier(current_user, nomination):
            links.append((_("Giấy chứng nhận sản phẩm tiêu biểu"),
                          url_for("products.dossier_certificates", dossier_id=nomination.id)))
    return links


# A template global, not a context processor: the same function for every page (issue 16).
bp.add_app_template_global(dossier_links, "product_links")
