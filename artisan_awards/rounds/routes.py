from __future__ import annotations

from flask import render_template
from flask_login import current_user

from workflows.states import N_

from .. import permissions
from ..errors import NotFound
from ..models import Round, get_row
from ..permissions import NATIONAL_ROLES, guard
from ..report_files import report_file
from ..services import rounds as round_service
from ..services import timeline
from ..timeutil import today
from . import bp


def _is_staff() -> bool:
    return bool(current_user.is_authenticated and permissions.is_staff(current_user))


def _scope() -> str | None:
    """The province a province-scoped user sees; None for national roles."""
    if current_user.roles & NATIONAL_ROLES:
        return None
    return current_user.province_code


@bp.route("/")
def index():
    """Every round of the artisan titles, its intake window and where it stands, with a link to its timeline
    (a scheme year or a product-selection round is another programme's, on that programme's pages)."""
    rows = round_service.programme_rounds()
    return render_template("rounds/index.html", rounds=rows, today=today())


@bp.route("/<int:round_id>/timeline", endpoint="timeline")
def timeline_page(round_id: int):
    """The round's plan as a timeline: each milestone done, due today, upcoming or overdue."""
    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    on = today()
    staff = _is_staff()
    rows = timeline.milestones(round_, on, staff=staff, province=_scope() if staff else None,
                               viewer=current_user if staff else None)
    return render_template("rounds/timeline.html", round=round_, milestones=rows, today=on, staff=staff,
                           current=timeline.next_milestone(rows), STATUS_LABELS=timeline.STATUS_LABELS)


@bp.route("/<int:round_id>/report", endpoint="report")
@guard(permissions.can_read_round_report)
def report_page(round_id: int):
    """The round's record: per level and province, proposed, passed, rejected, withdrawn, on hold,
    awarded, by title and with posthumous proposals apart (``?format=csv|xlsx|pdf`` downloads it)."""
    from flask import request

    from ..services import law

    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    data = law.round_report(round_)
    fmt = request.args.get("format")
    if fmt:
        return report_file(round_, data, fmt)
    names = law.province_names()
    return render_template("rounds/report.html", round=round_, data=data, names=names, levels=law.LEVELS,
                           measures=law.MEASURES, measure_labels=law.MEASURE_LABELS, titles=law.TITLE_ORDER)


