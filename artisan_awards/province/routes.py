from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from workflows import machine as wf
from workflows.states import State

from ..extensions import db
from ..models import MAX_DB_INT, Nomination, Round
from ..permissions import roles_required
from ..services import nominations as service
from . import bp

INBOX_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.PROVINCE_PASSED)


def _db_id(value: int | None) -> int | None:
    """An id a filter may carry: beyond the INTEGER range (or below 1) it names nothing -- and
    SQLite cannot even bind it -- so it filters nothing out instead of failing."""
    return value if value is not None and 1 <= value <= MAX_DB_INT else None


def list_filters() -> service.Filters:
    args = request.args
    return service.Filters(
        state=args.get("state") or None,
        round_id=_db_id(args.get("round_id", type=int)),
        title=args.get("title") or None,
        q=(args.get("q") or "").strip()[:100] or None,
        province_code=args.get("province_code") or None,
        overdue_only=bool(args.get("overdue")),
    )


@bp.route("/inbox")
@roles_required(wf.PROVINCE_OFFICER, wf.PROVINCE_COUNCIL_MEMBER)
def inbox():
    """Dossiers of my province: what waits for a reply, what waits for completion, what is overdue."""
    filters = list_filters()
    filters.province_code = current_user.province_code
    stmt = service.visible_query(current_user, filters)
    if not filters.state:
        stmt = stmt.where(Nomination.state.in_(INBOX_STATES))
    rows = db.session.scalars(stmt.order_by(Nomination.received_at.asc().nulls_last())).all()
    from ..timeutil import today

    on = today()
    if filters.overdue_only:
        rows = [n for n in rows if n.is_overdue(on)]
    counts = dict(
        db.session.execute(
            sa.select(Nomination.state, sa.func.count())
            .where(Nomination.province_code == current_user.province_code)
            .where(Nomination.state != State.DRAFT)
            .group_by(Nomination.state)
        ).all()
    )
    rounds = db.session.scalars(sa.select(Round).order_by(Round.number.desc())).all()
    return render_template(
        "province/inbox.html", nominations=rows, filters=filters, counts=counts,
        rounds=rounds, states=[s for s in State if s != State.DRAFT], show_overdue=True,
    )
