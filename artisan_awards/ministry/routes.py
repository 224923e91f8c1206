from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy.orm import contains_eager

from workflows.programme import ARTISAN_ID
from workflows.states import N_, PAST_PROVINCE, State

from .. import exports, field_view, permissions, personal_fields
from ..extensions import db
from ..forms import SORT_LABELS, ActionForm, list_filters, query_args
from ..i18n import state_label
from ..models import Nomination, Province, PublicComment, ReadAction, Round
from ..permissions import guard
from ..schemas import CommentStatusIn
from ..services import consultations, data_rights, queries
from ..services import reveal as reveal_service
from ..services import rounds as round_service
from ..text import vi_order
from ..timeutil import local_date
from ..validation import field_errors
from . import bp
from . import dashboard as dashboard_data

PER_PAGE = 50


# the national list's order when none is asked for; its sort box shows this label (issue 13)
DEFAULT_SORT = "updated"


@bp.route("/nominations")
@guard(permissions.can_list_national)
def nominations():
    """All dossiers past the draft stage, filterable by province, state, round and name."""
    filters = list_filters()
    stmt = queries.order(queries.visible_query(current_user, filters), filters.sort, DEFAULT_SORT)
    page = queries.paginate(stmt, request.args.get("page", 1, type=int), PER_PAGE)
    provinces = db.session.scalars(
        sa.select(Province).where(Province.active.is_(True)).order_by(vi_order(Province.name))
    ).all()
    rounds = round_service.programme_rounds()  # the artisan titles' rounds
    return render_template(
        "ministry/nominations.html", nominations=page.items, page=page, filters=filters,
        provinces=provinces, rounds=rounds, states=[s for s in State if s != State.DRAFT],
        show_overdue=True, query_args=query_args(), sorts=SORT_LABELS, sort_default=DEFAULT_SORT,
        endpoint="ministry.nominations",
        export_endpoint="ministry.nominations_export",
    )


@bp.route("/nominations/export.<fmt>")
@guard(permissions.can_list_national)
def nominations_export(fmt: str):
    """The national list as filtered on the page, every row, as CSV or XLSX."""
    filters = list_filters()
    stmt = queries.order(queries.visible_query(current_user, filters), filters.sort, DEFAULT_SORT)
    data_rights.log_read(current_user, ReadAction.EXPORT, target=request.full_path)  # one row per export
    return exports.nominations_response(stmt, fmt, "ho-so-toan-quoc")


@bp.route("/results/export.<fmt>")
@guard(permissions.can_list_national)
def results_export(fmt: str):
    """The published results of the provincial councils (the public page's list) as a file."""
    stmt = queries.order(
        queries.visible_query(current_user, list_filters()).where(Nomination.state.in_(PAST_PROVINCE)),
        "province", "province",
    )
    data_rights.log_read(current_user, ReadAction.EXPORT, target=request.full_path)
    return exports.nominations_response(stmt, fmt, "ket-qua-xet-chon")


# Stages of the dashboard: columns that group the machine's states.
STAGES = queries.STAGES


@bp.route("/dashboard")
@guard(permissions.can_see_dashboard)
def dashboard():
    """The round at a glance: by stage and province, council sessions, deadlines, what is overdue."""
    # the artisan titles' rounds (another programme's: its own filter, templates/programmes/_dashboard.html)
    rounds = db.session.scalars(sa.select(Round).where(Round.programme_id == ARTISAN_ID)
                                .order_by(Round.number.desc())).all()
    round_id = request.args.get("round_id", type=int) or (rounds[0].id if rounds else None)
    current = next((r for r in rounds if r.id == round_id), None)
    data = dashboard_data.build(current, current_user) if current else None
    return render_template(
        "ministry/dashboard.html", rounds=rounds, current=current, stages=STAGES, data=data,
        deadlines_plan=sorted((current.deadlines or {}).items(), key=lambda kv: str(kv[1])) if current else [],
    )


COMMENT_STATUSES = {
    "received": N_("Mới nhận"),
    "under_verification": N_("Đang xác minh"),
    "substantiated": N_("Có cơ sở"),
    "unsubstantiated": N_("Không có cơ sở"),
}
COMMENT_KINDS = {"comment": N_("Góp ý"), "complaint": N_("Khiếu nại")}


def comments_query() -> tuple[sa.Select, dict]:
    """Comments with the page's filters (status, kind, round, accent-free name of the nominee)."""
    args = request.args
    chosen = {
        "status": args.get("status") if args.get("status") in COMMENT_STATUSES else None,
        "kind": args.get("kind") if args.get("kind") in COMMENT_KINDS else None,
        "round_id": args.get("round_id", type=int),
        "q": (args.get("q") or "").strip()[:100] or None,
    }
    stmt = (
        sa.select(PublicComment)
        .join(Nomination, Nomination.id == PublicComment.nomination_id)
        .options(contains_eager(PublicComment.nomination))
    )
    if chosen["status"]:
        stmt = stmt.where(PublicComment.status == chosen["status"])
    if chosen["kind"]:
        stmt = stmt.where(PublicComment.kind == chosen["kind"])
    stmt = queries.apply_filters(stmt, queries.Filters(round_id=chosen["round_id"], q=chosen["q"]))
    return stmt.order_by(PublicComment.id.desc()), chosen


@bp.route("/comments", methods=["GET", "POST"])
@guard(permissions.can_handle_public_comments)
def comments():
    """Comments and complaints from the public consultations, and the ministry's findings."""
    form = ActionForm()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        comment = consultations.get_comment(request.form.get("comment_id", type=int) or 0)
        try:
            data = CommentStatusIn.model_validate({"status": request.form.get("status"),
                                                   "resolution": request.form.get("resolution") or None})
        except ValidationError as exc:  # too long a finding, an unknown status: say so, keep the page
            for message in field_errors(exc, _).values():
                flash(message, "error")
            status = 422
        else:
            consultations.set_status(current_user, comment, data)
            flash(_("Đã cập nhật kết luận xác minh."), "success")
            return redirect(url_for("ministry.comments", **query_args()))
    stmt, chosen = comments_query()
    page = queries.paginate(stmt, request.args.get("page", 1, type=int), PER_PAGE, key=PublicComment.id)
    rounds = round_service.programme_rounds()  # the artisan titles' rounds
    return render_template(
        "ministry/comments.html", comments=page.items, page=page, form=form, chosen=chosen, rounds=rounds,
        statuses=COMMENT_STATUSES, kinds=COMMENT_KINDS, query_args=query_args(),
    ), status


@bp.route("/comments/reveal", methods=["POST"])
@guard(permissions.can_handle_public_comments)
def comments_reveal():
    """Show the commenters' names and contacts for a while, the reason recorded (docs/personal-data.md §3)."""
    reveal_service.reveal(current_user, personal_fields.COMMENTER_CONTACT, request.form.get("reason"))
    field_view.remember(field_view.target_of(None), personal_fields.COMMENTER_CONTACT)
    flash(_("Đã ghi lý do; dữ liệu được hiện trong %(m)d phút.", m=field_view.REVEAL_MINUTES), "success")
    return redirect(url_for("ministry.comments", **query_args()))


@bp.route("/comments/export.<fmt>")
@guard(permissions.can_handle_public_comments)
def comments_export(fmt: str):
    """The comments as filtered on the page, as CSV or XLSX (commenters' contacts as the person may see them)."""
    stmt, _chosen = comments_query()
    data_rights.log_read(current_user, ReadAction.EXPORT, target=request.full_path)  # commenters' contacts

    def contact(value):
        return field_view.shown(personal_fields.COMMENTER_CONTACT, value or "")

    rows = exports.stream_rows(stmt.with_only_columns(
        Nomination.code, Nomination.full_name.label("nominee"), PublicComment.kind, PublicComment.informational,
        PublicComment.full_name, PublicComment.phone, PublicComment.address, PublicComment.content,
        PublicComment.window, PublicComment.status, PublicComment.resolution, PublicComment.created_at,
    ))
    columns = [
        exports.Column(N_("Mã hồ sơ"), lambda r: r.code or "", 20),
        exports.Column(N_("Nghệ nhân"), lambda r: r.nominee, 26),
        exports.Column(N_("Loại"), lambda r: _(COMMENT_KINDS[r.kind]), 10),
        exports.Column(N_("Người gửi"), lambda r: _("Không ký tên") if r.informational else contact(r.full_name), 22),
        exports.Column(N_("Điện thoại"), lambda r: "" if r.informational else contact(r.phone), 14),
        exports.Column(N_("Địa chỉ"), lambda r: "" if r.informational else contact(r.address), 28),
        exports.Column(N_("Nội dung"), lambda r: r.content, 60),
        exports.Column(N_("Đợt lấy ý kiến"), lambda r: state_label(r.window) if r.window in set(State) else r.window,
                       24),
        exports.Column(N_("Trạng thái"), lambda r: _(COMMENT_STATUSES.get(r.status, r.status)), 16),
        exports.Column(N_("Kết luận"), lambda r: r.resolution or "", 40),
        exports.Column(N_("Ngày gửi"), lambda r: local_date(r.created_at), 12),
    ]
    return exports.respond(fmt, "y-kien-nhan-dan", columns, rows)
