from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from workflows.states import N_

from .. import permissions
from ..errors import NotFound
from ..extensions import db
from ..models import Round, get_row
from ..permissions import NATIONAL_ROLES
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
    """Every round, its intake window and where it stands, with a link to its timeline."""
    rows = list(db.session.scalars(sa.select(Round).order_by(Round.number.desc())))
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
