from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request

from workflows import machine as wf
from workflows.states import State

from ..extensions import db
from ..models import Nomination, Province, Round
from ..permissions import roles_required
from ..province.routes import list_filters
from ..services import nominations as service
from . import bp

PER_PAGE = 50


@bp.route("/nominations")
@roles_required(
    wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN, wf.MINISTRY_COUNCIL_MEMBER,
    wf.STATE_COUNCIL_MEMBER,
)
def nominations():
    """All dossiers past the draft stage, filterable by province, state, round and name."""
    from flask_login import current_user

    filters = list_filters()
    stmt = service.visible_query(current_user, filters)
    page = max(request.args.get("page", 1, type=int), 1)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Nomination.updated_at.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    ).all()
    provinces = db.session.scalars(
        sa.select(Province).where(Province.active.is_(True)).order_by(Province.name)
    ).all()
    rounds = db.session.scalars(sa.select(Round).order_by(Round.number.desc())).all()
    return render_template(
        "ministry/nominations.html", nominations=rows, filters=filters, total=total, page=page,
        per_page=PER_PAGE, provinces=provinces, rounds=rounds,
        states=[s for s in State if s != State.DRAFT],
        query_args={k: v for k, v in request.args.items() if k != "page"},
    )
