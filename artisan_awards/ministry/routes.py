from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError

from workflows import machine as wf
from workflows.states import State

from ..applicant.forms import ActionForm
from ..extensions import db
from ..models import Nomination, Province, PublicComment, Round
from ..permissions import roles_required
from ..province.routes import list_filters
from ..schemas import CommentStatusIn
from ..services import consultations
from ..services import nominations as service
from ..timeutil import today
from ..validation import field_errors
from . import bp

PER_PAGE = 50


@bp.route("/nominations")
@roles_required(
    wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN, wf.MINISTRY_COUNCIL_MEMBER,
    wf.STATE_COUNCIL_MEMBER,
)
def nominations():
    """All dossiers past the draft stage, filterable by province, state, round and name."""
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


# Stages of the dashboard: columns that group the machine's states.
STAGES = [
    ("intake", "Tiếp nhận", (State.SUBMITTED, State.RETURNED)),
    ("province", "Cấp tỉnh", (State.ACCEPTED, State.PROVINCE_REVIEW, State.PROVINCE_PASSED)),
    ("ministry", "Cấp Bộ", (State.MINISTRY_REVIEW, State.MINISTRY_PASSED)),
    ("consultation", "Lấy ý kiến", (State.PUBLIC_CONSULTATION, State.FINAL_CONSULTATION, State.ON_HOLD)),
    ("state", "Cấp Nhà nước", (State.STATE_REVIEW, State.STATE_PASSED)),
    ("government", "Thủ tướng, Chủ tịch nước", (State.SUBMITTED_TO_PM, State.SUBMITTED_TO_PRESIDENT)),
    ("awarded", "Đã phong tặng", (State.AWARDED,)),
    ("stopped", "Dừng", (State.CLOSED_INCOMPLETE, State.PROVINCE_REJECTED, State.MINISTRY_REJECTED,
                         State.STATE_REJECTED, State.NOT_AWARDED, State.WITHDRAWN)),
]
# Which plan deadline a state must be left by (round.deadlines keys).
STATE_DEADLINE = {
    State.PROVINCE_PASSED: "province_to_ministry",
    State.MINISTRY_PASSED: "ministry_to_state",
    State.STATE_PASSED: "state_to_pm",
}


@bp.route("/dashboard")
@roles_required(wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN)
def dashboard():
    """The round at a glance: every dossier by stage and province, deadlines, what is overdue."""
    rounds = db.session.scalars(sa.select(Round).order_by(Round.number.desc())).all()
    round_id = request.args.get("round_id", type=int) or (rounds[0].id if rounds else None)
    current = next((r for r in rounds if r.id == round_id), None)
    counts: dict = {}
    if current:
        for province_code, state, n in db.session.execute(
            sa.select(Nomination.province_code, Nomination.state, sa.func.count())
            .where(Nomination.round_id == current.id, Nomination.state != State.DRAFT)
            .group_by(Nomination.province_code, Nomination.state)
        ):
            counts.setdefault(province_code, {})[state] = n
    stage_of = {s: key for key, _label, states in STAGES for s in states}
    table = {}
    for province_code, states in counts.items():
        row = table.setdefault(province_code, {key: 0 for key, _l, _s in STAGES})
        for state, n in states.items():
            row[stage_of[State(state)]] += n
    provinces = {p.code: p for p in db.session.scalars(sa.select(Province).where(Province.code.in_(table)))}
    totals = {key: sum(row[key] for row in table.values()) for key, _l, _s in STAGES}
    on = today()
    overdue = []
    if current:
        candidates = db.session.scalars(
            sa.select(Nomination).where(
                Nomination.round_id == current.id,
                Nomination.state.in_([State.SUBMITTED, State.RETURNED, *STATE_DEADLINE]),
            )
        ).all()
        for n in candidates:
            key = STATE_DEADLINE.get(n.state_enum)
            due = n.due_date()
            if key and current.deadlines.get(key):
                due = date.fromisoformat(current.deadlines[key])
            if due and on > due:
                overdue.append((n, due))
    return render_template(
        "ministry/dashboard.html", rounds=rounds, current=current, stages=STAGES, table=table,
        provinces=provinces, totals=totals, overdue=overdue,
        deadlines=sorted((current.deadlines or {}).items(), key=lambda kv: kv[1]) if current else [],
    )


@bp.route("/comments", methods=["GET", "POST"])
@roles_required(wf.MINISTRY_OFFICER)
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
            return redirect(url_for("ministry.comments"))
    rows = db.session.scalars(sa.select(PublicComment).order_by(PublicComment.id.desc())).all()
    return render_template("ministry/comments.html", comments=rows, form=form), status
