from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from workflows.states import State

from .. import exports, permissions
from ..extensions import db
from ..forms import SORT_LABELS, list_filters, query_args
from ..models import Nomination, Round
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


@bp.route("/inbox")
@guard(permissions.can_use_province_inbox)
def inbox():
    """Dossiers of my province: what waits for a reply, what waits for completion, what is overdue."""
    stmt, filters = inbox_query()
    page = service.paginate(service.order(stmt, filters.sort, "received"),
                            request.args.get("page", 1, type=int), PER_PAGE)
    counts = dict(db.session.execute(service.counts_by(
        "state", where=[service.nomination_counts.c.province_code == current_user.province_code])).all())
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


