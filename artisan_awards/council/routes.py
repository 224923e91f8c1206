from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from workflows import machine as wf
from workflows.states import AGENDA_STATE

from ..extensions import db
from ..models import Nomination
from ..permissions import roles_required, visible_filter
from . import bp

LEVEL_OF_ROLE = {
    wf.PROVINCE_COUNCIL_MEMBER: "province",
    wf.PROVINCE_OFFICER: "province",
    wf.MINISTRY_COUNCIL_MEMBER: "ministry",
    wf.MINISTRY_OFFICER: "ministry",
    wf.STATE_COUNCIL_MEMBER: "state",
}


@bp.route("/agenda")
@roles_required(*LEVEL_OF_ROLE)
def agenda():
    """The dossiers waiting for each council I sit on or serve as secretariat."""
    levels = []
    for role, level in LEVEL_OF_ROLE.items():
        if current_user.has_role(role) and level not in levels:
            levels.append(level)
    sections = []
    for level in levels:
        stmt = (
            sa.select(Nomination)
            .where(visible_filter(current_user))
            .where(Nomination.state == AGENDA_STATE[level])
            .order_by(Nomination.province_code, Nomination.name_key)
        )
        if level == "province":
            stmt = stmt.where(Nomination.province_code == current_user.province_code)
        sections.append((level, db.session.scalars(stmt).all()))
    return render_template("council/agenda.html", sections=sections)
