from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.states import N_, Action, State

from .. import confirm, exports, permissions
from ..errors import Forbidden, NotFound
from ..extensions import db
from ..formatting import vn_date
from ..forms import SORT_LABELS, ActionForm, list_filters, query_args
from ..i18n import state_label
from ..models import Nomination, ReadAction
from ..permissions import guard
from ..services import batch as batch_service
from ..services import data_rights, queries
from ..services import rounds as round_service
from ..timeutil import today
from . import bp

INBOX_STATES = (State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.PROVINCE_PASSED)
PER_PAGE = 50


def inbox_query() -> tuple[sa.Select, queries.Filters]:
    filters = list_filters()
    filters.province_code = current_user.province_code
    stmt = queries.visible_query(current_user, filters)
    if not filters.state and not filters.stage:
        stmt = stmt.where(Nomination.state.in_(INBOX_STATES))
    return stmt, filters


@bp.route("/inbox")
@guard(permissions.can_use_province_inbox)
def inbox():
    """Dossiers of my province: what waits for a reply, what waits for completion, what is overdue."""
    stmt, filters = inbox_query()
    counts = dict(db.session.execute(queries.counts_by(
        "state", where=[queries.nomination_counts.c.province_code == current_user.province_code])).all())
    page = queries.paginate(queries.order(stmt, filters.sort, "received"),
                            request.args.get("page", 1, type=int), PER_PAGE,
                            total=queries.kept_total(current_user, filters, counts, INBOX_STATES))
    rounds = round_service.programme_rounds()  # the artisan titles' rounds: another programme's are not this list's
    return render_template(
        "province/inbox.html", nominations=page.items, page=page, filters=filters, counts=counts,
        rounds=rounds, states=[s for s in State if s != State.DRAFT], show_overdue=True,
        query_args=query_args(), sorts=SORT_LABELS, endpoint="province.inbox",
        export_endpoint="province.inbox_export", today_=today(),
    )


@bp.route("/inbox/export.<fmt>")
@guard(permissions.can_use_province_inbox)
def inbox_export(fmt: str):
    """The inbox as filtered on the page, every row, as CSV or XLSX."""
    stmt, filters = inbox_query()
    data_rights.log_read(current_user, ReadAction.EXPORT, target=request.full_path)  # one row per export
    return exports.nominations_response(queries.order(stmt, filters.sort, "received"), fmt, "ho-so-tinh")




# -- batch actions: accept several, send several to the ministry under one tờ trình -------------------


def _ids() -> list[int]:
    return [int(i) for i in request.form.getlist("nomination_ids") if i.isascii() and i.isdigit() and len(i) < 10]


def _rows(outcomes) -> list[list]:
    """The outcomes as table rows: code, name, the result in plain words."""
    rows = []
    for o in outcomes:
        params = dict(o.params)
        if "state_key" in params:
            params = {"state": state_label(params.pop("state_key"))}
        result = _("Được") if o.ok and not o.message else _(o.message, **params)
        rows.append([o.nomination.code or "—", o.nomination.full_name, result])
    return rows


@bp.route("/batch")
@guard(permissions.can_act_in_batch)
def batch():
    """Several dossiers at once: accept those submitted; send those passed by the provincial council to
    the ministry, one closed session (one tờ trình with its list) at a time."""
    submitted = batch_service.submitted(current_user)
    return render_template("province/batch.html", submitted=submitted,
                           groups=batch_service.sessions_to_forward(current_user))


@bp.route("/batch/accept", methods=["POST"])
@guard(permissions.can_act_in_batch)
def batch_accept():
    """Accept the chosen dossiers, each on its own (asks first; refusals reported per dossier)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    nominations, missing = batch_service.chosen(current_user, _ids())
    if not nominations:
        flash(_("Hãy chọn ít nhất một hồ sơ."), "error")
        return redirect(url_for("province.batch"))
    headers = [N_("Mã hồ sơ"), N_("Họ và tên"), N_("Kết quả kiểm tra")]
    if not confirm.confirmed():
        checked = batch_service.check(current_user, nominations, Action.ACCEPT)
        return confirm.ask(
            N_("Tiếp nhận %(n)s hồ sơ"),
            (N_("Mỗi hồ sơ được kiểm tra và tiếp nhận riêng, như khi tiếp nhận từng hồ sơ: "
                "hồ sơ không tiếp nhận được sẽ được nêu rõ lý do, các hồ sơ khác vẫn được tiếp nhận."),
             N_("Hồ sơ được tiếp nhận chuyển sang chờ Hội đồng cấp tỉnh xét; không thể trả lại để bổ sung."),
             N_("Mỗi người đề nghị nhận thông báo qua thư điện tử.")),
            cancel_url=url_for("province.batch"), button=N_("Tiếp nhận %(n)s hồ sơ"), danger=False,
            params={"n": sum(o.ok for o in checked)}, table=(headers, _rows(checked)))
    outcomes = batch_service.run(current_user, nominations, Action.ACCEPT, request.form.get("comment") or None)
    done = sum(o.ok for o in outcomes)
    return render_template("province/batch_result.html", title=_("Kết quả tiếp nhận nhiều hồ sơ"),
                           summary=_("Đã tiếp nhận %(done)s/%(n)s hồ sơ.", done=done, n=len(outcomes)),
                           headers=headers, rows=_rows(outcomes), missing=missing, session=None), \
        (200 if done else 409)


@bp.route("/batch/forward/<int:session_id>", methods=["POST"])
@guard(permissions.is_staff)
def batch_forward(session_id: int):
    """Send the chosen dossiers of one closed provincial session to the ministry under its tờ trình
    (Mẫu 03) and list (Mẫu 04): all of them or, if one would be refused, none.

    A session the user does not see answers 404, as every session route does, whatever the role: a
    staff member without the batch page learns nothing of the session's existence either."""
    if not permissions.can_act_in_batch(current_user):
        if batch_service.sees_session(current_user, session_id):
            raise Forbidden()
        raise NotFound(N_("Không có phiên họp nào với hồ sơ chờ gửi lên Bộ."), code="session_not_found")
    if not ActionForm().validate_on_submit():
        abort(400)
    group = next(((s, ns) for s, ns in batch_service.sessions_to_forward(current_user) if s.id == session_id), None)
    if group is None:
        raise NotFound(N_("Không có phiên họp nào với hồ sơ chờ gửi lên Bộ."), code="session_not_found")
    session, passed = group
    nominations, missing = batch_service.chosen(current_user, _ids())
    if not nominations:
        flash(_("Hãy chọn ít nhất một hồ sơ."), "error")
        return redirect(url_for("province.batch"))
    on_letter = {n.id for n in passed}
    stray = [n for n in nominations if n.id not in on_letter]
    headers = [N_("Mã hồ sơ"), N_("Họ và tên"), N_("Kết quả kiểm tra")]
    letter = _("Tờ trình của %(council)s, phiên họp ngày %(date)s (Mẫu 03) kèm Danh sách (Mẫu 04)",
               council=session.council.name, date=vn_date(session.held_on))
    if stray or missing:
        flash(_("Chỉ gửi được các hồ sơ có trong Tờ trình này: không gửi hồ sơ nào."), "error")
        return render_template("province/batch_result.html", title=_("Gửi hồ sơ lên Bộ"),
                               summary=_("Không gửi hồ sơ nào."), headers=headers,
                               rows=[[n.code or "—", n.full_name, _("Không có trong Tờ trình này")] for n in stray],
                               missing=missing, session=session), 422
    comment = _("Gửi lên Bộ Công Thương kèm %(letter)s.", letter=letter)
    if not confirm.confirmed():
        checked = batch_service.check(current_user, nominations, Action.FORWARD_TO_MINISTRY)
        refused = [o for o in checked if not o.ok]
        return confirm.ask(
            N_("Gửi %(n)s hồ sơ lên Bộ Công Thương"),
            (N_("Các hồ sơ được gửi lên Bộ Công Thương cùng một Tờ trình và Danh sách; "
                "Sở không còn sửa hay trả lại được."),
             N_("Nếu có hồ sơ không gửi được, không hồ sơ nào được gửi: hãy bỏ chọn hồ sơ đó rồi gửi lại."),
             N_("Nhật ký của từng hồ sơ ghi Tờ trình kèm theo.")),
            cancel_url=url_for("province.batch"), button=N_("Gửi %(n)s hồ sơ lên Bộ Công Thương"), danger=False,
            params={"n": len(nominations)}, notes=[letter] + ([_("Có %(n)s hồ sơ không gửi được.", n=len(refused))]
                                                              if refused else []),
            table=(headers, _rows(checked)))
    outcomes = batch_service.run(current_user, nominations, Action.FORWARD_TO_MINISTRY, comment, mode="all")
    done = sum(o.ok and not o.message for o in outcomes)
    sent = all(o.ok for o in outcomes)
    return render_template(
        "province/batch_result.html", title=_("Gửi hồ sơ lên Bộ"),
        summary=(_("Đã gửi %(n)s hồ sơ lên Bộ Công Thương kèm %(letter)s.", n=done, letter=letter) if sent else
                 _("Không gửi hồ sơ nào: có hồ sơ không gửi được.") if not done else
                 _("Đã gửi %(done)s/%(n)s hồ sơ; các hồ sơ còn lại không gửi được.", done=done, n=len(outcomes))),
        headers=headers, rows=_rows(outcomes), missing=missing, session=session), (200 if sent else 409)
