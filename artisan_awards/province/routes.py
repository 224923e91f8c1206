from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user

from workflows.states import N_, State

from .. import exports, permissions
from ..extensions import db
from ..models import Nomination, Round
from ..permissions import guard
from ..services import nominations as service
from . import bp

INBOX_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.PROVINCE_PASSED)
PER_PAGE = 50


def list_filters() -> service.Filters:
    args = request.args
    return service.Filters(
        state=args.get("state") or None,
        round_id=args.get("round_id", type=int),
        title=args.get("title") or None,
        q=(args.get("q") or "").strip()[:100] or None,
        province_code=args.get("province_code") or None,
        overdue_only=bool(args.get("overdue")),
        sort=args.get("sort") or None,
        stage=args.get("stage") if args.get("stage") in service.STAGE_STATES else None,
    )


def query_args() -> dict:
    """The page's filters, to carry into pager, sort and export links."""
    return {k: v for k, v in request.args.items() if k not in ("page", "sort")}


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


# Sort choices offered on the lists (msgids; translated in the template).
SORT_LABELS = {
    "received": N_("Ngày nhận"),
    "updated": N_("Mới cập nhật"),
    "name": N_("Họ tên"),
    "province": N_("Tỉnh, thành phố"),
    "craft": N_("Nghề"),
    "code": N_("Mã hồ sơ"),
}
