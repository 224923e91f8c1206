from __future__ import annotations

import re
from datetime import timedelta

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows import rules

from .. import permissions
from ..errors import ValidationFailed
from ..i18n import TITLE_LABELS
from ..permissions import guard
from ..services import eligibility as service
from ..services import queries
from . import bp
from .forms import BoolParameterForm, CriterionReviewForm, IntParameterForm


def _slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", "-".join(parts)).strip("-")


def _parameter_form(ruleset_id: str, criterion_id: str, p: rules.Parameter):
    form_class = BoolParameterForm if p.kind == "bool" else IntParameterForm
    form = form_class(prefix=_slug(ruleset_id, criterion_id, p.name))
    if not form.is_submitted():
        form.value.data = ("true" if p.value else "false") if p.kind == "bool" else p.value
        form.verified.data = p.verified
    return form


def _rule_pages_context(editable: bool) -> dict:
    sets = service.rulesets()
    views = []
    for i, rs in enumerate(sets):
        until = sets[i + 1].effective_from - timedelta(days=1) if i + 1 < len(sets) else None
        criteria = []
        for c in rs.criteria:
            item = service.criterion_view(c)
            if editable:
                for pv, p in zip(item["parameters"], c.params, strict=True):
                    pv["form"] = _parameter_form(rs.id, c.id, p)
                    pv["action"] = url_for("rules.set_parameter", ruleset_id=rs.id, criterion_id=c.id,
                                           name=p.name)
            criteria.append(item)
        general = [service.parameter_view(p) for p in rs.general]
        if editable:
            for pv, p in zip(general, rs.general, strict=True):
                pv["form"] = _parameter_form(rs.id, rules.GENERAL, p)
                pv["action"] = url_for("rules.set_parameter", ruleset_id=rs.id,
                                       criterion_id=rules.GENERAL, name=p.name)
        views.append({
            "id": rs.id, "name": service.ruleset_title(rs), "decree": rs.decree, "signed_on": rs.signed_on,
            "effective_from": rs.effective_from, "until": until, "tag": rs.tag, "verified": rs.verified,
            "general": general, "criteria": criteria,
        })
    return {"rulesets": views, "log": service.parameter_log(), "editable": editable,
            "title_labels": TITLE_LABELS}


@bp.route("/admin/rules")
@guard(permissions.can_edit_rules)
def admin():
    """The rule sets with a form for every parameter, and the change log."""
    return render_template("rules/index.html", **_rule_pages_context(editable=True))


@bp.route("/admin/rules/<ruleset_id>/<criterion_id>/<name>", methods=["POST"])
@guard(permissions.can_edit_rules)
def set_parameter(ruleset_id: str, criterion_id: str, name: str):
    """Change one parameter of a rule set (logged)."""
    try:
        current = service.ruleset(ruleset_id).parameter(criterion_id, name)
    except KeyError:
        abort(404)
    form = _parameter_form(ruleset_id, criterion_id, current)
    anchor = _slug(ruleset_id, criterion_id)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(url_for("rules.admin", _anchor=anchor))
    try:
        change = service.set_parameter(
            current_user, ruleset_id, criterion_id, name, form.value.data, form.verified.data,
            form.reason.data,
        )
    except ValidationFailed as exc:
        for message in exc.field_texts(_).values() or [exc.text(_)]:
            flash(message, "error")
    else:
        flash(_("Đã đổi %(param)s (%(criterion)s): %(old)s → %(new)s.", param=_(current.label),
                criterion=criterion_id, old=value_text(change.old_value),
                new=value_text(change.new_value)), "success")
    return redirect(url_for("rules.admin", _anchor=anchor))


@bp.route("/ministry/rules")
@guard(permissions.can_read_rules)
def read_only():
    """The rule sets as they are applied now, read-only, with the change log."""
    return render_template("rules/index.html", **_rule_pages_context(editable=False))


@bp.route("/nominations/<int:nomination_id>/criteria/<criterion_id>/review", methods=["POST"])
@login_required
def review(nomination_id: int, criterion_id: str):
    """Record the secretariat's decision (or finding) on a criterion left to people."""
    nomination = queries.get_visible(current_user, nomination_id)
    form = CriterionReviewForm(prefix=_slug("review", criterion_id))
    target = url_for("dossier.show", nomination_id=nomination.id, _anchor="eligibility")
    if not form.validate_on_submit():
        if not permissions.can_review_criteria(current_user, nomination):
            abort(403)
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return redirect(target)
    service.record_review(current_user, nomination, criterion_id, form.result.data, form.reason.data)
    flash(_("Đã ghi kết luận cho tiêu chí %(id)s.", id=criterion_id), "success")
    return redirect(target)


@bp.app_template_global()
def value_text(value) -> str:
    """A parameter's value as people read it: yes/no for booleans."""
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    return str(value)


@bp.app_template_global()
def criterion_review_form(criterion_id: str) -> CriterionReviewForm:
    return CriterionReviewForm(prefix=_slug("review", criterion_id))


@bp.app_template_global()
def can_review_criteria(user, nomination) -> bool:
    return permissions.can_review_criteria(user, nomination)
