from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from workflows.states import State

from .. import exports, permissions
from ..extensions import db
from ..forms import SORT_LABELS, list_filters, query_args
from ..models import MAX_DB_INT, Nomination, Round
from ..permissions import guard
from ..services import nominations as service
from . import bp

INBOX_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.PROVINCE_PASSED)
PER_PAGE = 50


def inbox_query() -> tuple[sa.Select, service.Filters]:
    filters = list_filters()
    filters.province_code = current_user.province_code
    stmt = service.visible_query(current_user, filters)
    if not filters.state and not filters.stage:
        stmt = stmt.where(Nomination.state.in_(INBOX_STATES))
    return stmt, filters


def _kept_total(filters: service.Filters, counts: dict) -> int | None:
    """The inbox's length read from the kept counts (``nomination_counts``) instead of counted, when
    the filters are ones those counts hold apart (state or stage, round); else None (counted).

    Exact: the list is the officer's province in non-draft states, which every province officer
    sees, and the counters are kept by triggers in the same transaction as each dossier's change.
    """
    if filters.q or filters.title or filters.overdue_only:
        return None
    if not (current_user.roles & permissions.PROVINCE_SCOPED_ROLES and current_user.province_code):
        return None  # sees other dossiers than the province's (visible_filter): counted
    if filters.round_id is not None and not 0 < filters.round_id <= MAX_DB_INT:
        return 0
    if filters.state:
        states = (filters.state,)
    elif filters.stage in service.STAGE_STATES:
        states = service.STAGE_STATES[filters.stage]
    elif filters.stage:
        return None
    else:
        states = INBOX_STATES
    states = [str(s) for s in states]
    if State.DRAFT in states:  # an officer's own drafts are listed, and not counted there
        return None
    if filters.round_id is None:
        return sum(counts.get(s, 0) for s in states)
    c = service.nomination_counts.c
    where = [c.province_code == current_user.province_code, c.state.in_(states), c.round_id == filters.round_id]
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(c.n), 0)).where(*where)))


@bp.route("/inbox")
@guard(permissions.can_use_province_inbox)
def inbox():
    """Dossiers of my province: what waits for a reply, what waits for completion, what is overdue."""
    stmt, filters = inbox_query()
    counts = dict(db.session.execute(service.counts_by(
        "state", where=[service.nomination_counts.c.province_code == current_user.province_code])).all())
    page = service.paginate(service.order(stmt, filters.sort, "received"),
                            request.args.get("page", 1, type=int), PER_PAGE, total=_kept_total(filters, counts))
    rounds = db.session.scalars(sa.select(Round).order_by(Round.number.desc())).all()
    return render_template(
        "province/inbox.html", nominations=page.items, page=page, filters=filters, counts=counts,
        rounds=rounds, states=[s for s in State if s != State.DRAFT], show_overdue=True,
        query_args=query_args(), sorts=SORT_LABELS, endpoint="province.inbox",
        export_endpoint="province.inbox_export",
    )


@bp.route("/inbox/export.<fmt>")
@guard(permissions.can_use_province_inbox)
def inbox_export(fmt: str):
    """The inbox as filtered on the page, every row, as CSV or XLSX."""
    stmt, filters = inbox_query()
    return exports.nominations_response(service.order(stmt, filters.sort, "received"), fmt, "ho-so-tinh")


