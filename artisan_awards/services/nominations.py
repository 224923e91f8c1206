"""Operations on nominations: create, edit, take an action, look up.

Every state change goes through ``perform``: it checks the actor's role and
scope, asks the one state machine whether the move is possible, applies the
move's side effects, writes exactly one log row and commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.exc import StaleDataError

from workflows import machine as wf
from workflows.states import N_, Action, State

from .. import audit_chain, nomination_data, permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import (
    MAX_DB_INT,
    CodeCounter,
    Nomination,
    Province,
    Round,
    Title,
    TransitionLog,
    User,
    get_row,
    window_due,
)
from ..schemas import NominationIn
from ..text import contains_pattern, nfc, search_key, vi_order
from ..timeutil import VN, local_date, now_utc, today
from . import notifications

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


# -- reading ----------------------------------------------------------------


def get_visible(user: User, nomination_id: int) -> Nomination:
    """The nomination if ``user`` may see it; otherwise NotFound (never Forbidden)."""
    nomination = get_row(Nomination, nomination_id)
    if nomination is None or not permissions.can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return nomination


@dataclass
class Filters:
    state: str | None = None
    province_code: str | None = None
    round_id: int | None = None
    title: str | None = None
    q: str | None = None
    overdue_only: bool = False
    sort: str | None = None
    stage: str | None = None  # a key of STAGES: several states at once


# Stages of the round (the dashboard's columns; ?stage= on the lists): groups of the machine's states.
STAGES = [
    ("intake", N_("Tiếp nhận"), (State.SUBMITTED, State.RETURNED)),
    ("province", N_("Cấp tỉnh"), (State.ACCEPTED, State.PROVINCE_REVIEW, State.PROVINCE_PASSED)),
    ("ministry", N_("Cấp Bộ"), (State.MINISTRY_REVIEW, State.MINISTRY_PASSED)),
    ("consultation", N_("Lấy ý kiến"), (State.PUBLIC_CONSULTATION, State.FINAL_CONSULTATION, State.ON_HOLD)),
    ("state", N_("Cấp Nhà nước"), (State.STATE_REVIEW, State.STATE_PASSED)),
    ("government", N_("Thủ tướng, Chủ tịch nước"), (State.SUBMITTED_TO_PM, State.SUBMITTED_TO_PRESIDENT)),
    ("awarded", N_("Đã phong tặng"), (State.AWARDED,)),
    ("stopped", N_("Dừng"), (State.CLOSED_INCOMPLETE, State.PROVINCE_REJECTED, State.MINISTRY_REJECTED,
                             State.STATE_REJECTED, State.NOT_AWARDED, State.WITHDRAWN)),
]
STAGE_STATES = {key: states for key, _label, states in STAGES}


def visible_query(user: User, filters: Filters) -> sa.Select:
    stmt = sa.select(Nomination).where(permissions.visible_filter(user))
    return apply_filters(stmt, filters)


def apply_filters(stmt: sa.Select, filters: Filters) -> sa.Select:
    """The list filters as WHERE clauses, on any select over ``nominations``."""
    if filters.state:
        stmt = stmt.where(Nomination.state == filters.state)
    if filters.stage in STAGE_STATES:
        stmt = stmt.where(Nomination.state.in_(STAGE_STATES[filters.stage]))
    if filters.province_code:
        stmt = stmt.where(Nomination.province_code == filters.province_code)
    if filters.round_id is not None:  # an id no INTEGER column can hold names no round: nothing matches
        in_range = 0 < filters.round_id <= MAX_DB_INT
        stmt = stmt.where(Nomination.round_id == filters.round_id if in_range else sa.false())
    if filters.title:
        stmt = stmt.where(Nomination.title == filters.title)
    if filters.q:
        key = search_key(filters.q)
        pattern = contains_pattern(key)
        stmt = stmt.where(
            sa.or_(
                Nomination.name_key.like(pattern, escape="\\"),
                sa.func.lower(Nomination.code).like(pattern, escape="\\"),
            )
        )
    if filters.overdue_only:
        stmt = stmt.where(current_deadlines().overdue_clause())
    return stmt


# -- lists: order, pages, deadlines -------------------------------------------------------------

# Sort keys a list accepts (?sort=...): names, provinces and crafts in Vietnamese collation.
SORTS = {
    "received": lambda: [Nomination.received_at.asc().nulls_last()],
    "updated": lambda: [Nomination.updated_at.desc()],
    "name": lambda: [vi_order(Nomination.full_name)],
    "province": lambda: [vi_order(Province.name), vi_order(Nomination.full_name)],
    "craft": lambda: [vi_order(Nomination.craft), vi_order(Nomination.full_name)],
    "code": lambda: [Nomination.code.asc().nulls_last()],
}


def order(stmt: sa.Select, sort: str | None, default: str) -> sa.Select:
    """Order a list by ``sort`` (one of SORTS; anything else means ``default``), then by id."""
    key = sort if sort in SORTS else default
    if key == "province":
        stmt = stmt.join(Province, Province.code == Nomination.province_code)
    return stmt.order_by(*SORTS[key](), Nomination.id)


# How many dossiers each (round, province, state) has, kept exact by triggers on ``nominations``
# (migration 0011): the dashboard's and the inbox's counts read this, not every dossier.
nomination_counts = sa.Table(
    "nomination_counts", db.metadata,
    sa.Column("round_id", sa.Integer, primary_key=True),
    sa.Column("province_code", sa.String(3), primary_key=True),
    sa.Column("state", sa.String(30), primary_key=True),
    sa.Column("n", sa.Integer, nullable=False, server_default="0"),
)


def counts_by(*columns, where=()) -> sa.Select:
    """``SELECT columns..., sum(n)`` from nomination_counts, drafts and emptied counters left out."""
    c = nomination_counts.c
    return (
        sa.select(*[c[name] for name in columns], sa.func.sum(c.n))
        .where(c.state != State.DRAFT, c.n > 0, *where)
        .group_by(*[c[name] for name in columns])
    )


# Counting a long list stops here: "more than 10 000" is as useful as the exact figure and
# costs the same at 100 000 dossiers as at 10 000.
COUNT_CAP = 10_000


@dataclass
class Page:
    items: list
    number: int
    per_page: int
    total: int
    capped: bool  # total is COUNT_CAP and more exist

    @property
    def has_next(self) -> bool:
        return self.capped or self.number * self.per_page < self.total

    @property
    def has_prev(self) -> bool:
        return self.number > 1


def paginate(stmt: sa.Select, number: int, per_page: int, key=Nomination.id) -> Page:
    """One page of ``stmt`` (already ordered) and a capped count: two queries whatever N is.

    ``key``: a column of the listed table (the count selects only it).
    """
    number = max(1, min(number, 10_000_000 // per_page))
    counted = stmt.order_by(None).with_only_columns(key).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted))
    if key is Nomination.id:  # a list of dossiers: each row's province, not the dossier's contents
        stmt = stmt.options(joinedload(Nomination.province), lazyload(Nomination.periods),
                            lazyload(Nomination.products))
    items = db.session.scalars(stmt.limit(per_page).offset((number - 1) * per_page)).unique().all()
    return Page(items, number, per_page, min(total, COUNT_CAP), total > COUNT_CAP)


# The plan deadline a dossier must have left its stage by (keys of ``Round.deadlines``): a dossier
# still at the provincial stage when the date for sending dossiers to the ministry has passed is late.
STAGE_DEADLINE = {
    State.ACCEPTED: "province_to_ministry",
    State.PROVINCE_REVIEW: "province_to_ministry",
    State.PROVINCE_PASSED: "province_to_ministry",
    State.MINISTRY_REVIEW: "ministry_to_state",
    State.MINISTRY_PASSED: "ministry_to_state",
    State.PUBLIC_CONSULTATION: "ministry_to_state",
    State.STATE_REVIEW: "state_to_pm",
    State.STATE_PASSED: "state_to_pm",
    State.FINAL_CONSULTATION: "state_to_pm",
}


def _plan_date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _vn_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN).astimezone(UTC)


class Deadlines:
    """Every clock on a dossier, read from the rounds' plans once per request.

    Two faces of one rule: ``due(row)`` gives a row's due date (for display and exports) and
    ``overdue_clause()`` the same test as SQL, so that "overdue only" filters, counts and
    paginates in the database.  The clocks: the secretariat's reply (``reply_days`` after
    receipt), the applicant's completion (``completion_days`` after a return), and the plan's
    stage deadlines (STAGE_DEADLINE).  A dossier on hold has no running clock.
    """

    def __init__(self, rounds: list[Round], on: date):
        self.on = on
        self.rounds = {r.id: r for r in rounds}

    def due(self, row) -> date | None:
        """``row``: a Nomination or any row with state, round_id, received_at and returned_at."""
        round_ = self.rounds.get(row.round_id)
        if round_ is None:
            return None
        due = window_due(row.state, row.received_at, row.returned_at, round_)
        if due is not None:
            return due
        key = STAGE_DEADLINE.get(row.state)
        return _plan_date((round_.deadlines or {}).get(key)) if key else None

    def is_overdue(self, row) -> bool:
        due = self.due(row)
        return due is not None and self.on > due

    def overdue_clause(self):
        """SQL for ``is_overdue``: today > due  <=>  the clock started before midnight of (today - days)."""
        by_reply: dict[int, list[int]] = {}
        by_completion: dict[int, list[int]] = {}
        late_states: dict[str, list[int]] = {}
        for r in self.rounds.values():
            by_reply.setdefault(r.reply_days, []).append(r.id)
            by_completion.setdefault(r.completion_days, []).append(r.id)
            for state, key in STAGE_DEADLINE.items():
                due = _plan_date((r.deadlines or {}).get(key))
                if due is not None and self.on > due:
                    late_states.setdefault(state, []).append(r.id)
        clauses = [
            sa.and_(Nomination.state == State.SUBMITTED, Nomination.round_id.in_(ids),
                    Nomination.received_at < _vn_midnight_utc(self.on - timedelta(days=d)))
            for d, ids in by_reply.items()
        ] + [
            sa.and_(Nomination.state == State.RETURNED, Nomination.round_id.in_(ids),
                    Nomination.returned_at < _vn_midnight_utc(self.on - timedelta(days=d)))
            for d, ids in by_completion.items()
        ] + [
            sa.and_(Nomination.state == state, Nomination.round_id.in_(ids))
            for state, ids in late_states.items()
        ]
        return sa.or_(*clauses) if clauses else sa.false()


def current_deadlines() -> Deadlines:
    """The request's Deadlines (one query for the rounds, however many lists use it)."""
    if "deadlines" not in g:
        g.deadlines = Deadlines(list(db.session.scalars(sa.select(Round))), today())
    return g.deadlines


def history(nomination: Nomination) -> list[TransitionLog]:
    return list(db.session.scalars(nomination.log.select().order_by(TransitionLog.id)))


_STATUS_COLUMNS = Nomination.__table__.c
_STATUS_QUERY = sa.select(
    _STATUS_COLUMNS.code, _STATUS_COLUMNS.state, _STATUS_COLUMNS.state_changed_at,
    _STATUS_COLUMNS.access_key_hash,
).where(_STATUS_COLUMNS.code == sa.bindparam("code"))


def lookup_status(code: str, key: str) -> sa.Row:
    """Public lookup by dossier code and access key; the same NotFound for either being wrong.

    The public's hot path (bench/lookup_bench.py): one indexed read of four columns on a pooled
    connection of its own, with no ORM session, object or related rows.  The answer has ``code``,
    ``state`` and ``state_changed_at``.
    """
    code = nfc(code or "").strip().upper()
    row = None
    if code and len(code) <= 32:
        with db.engine.connect() as conn:
            row = conn.execute(_STATUS_QUERY, {"code": code}).first()
    expected = row.access_key_hash if row is not None and row.access_key_hash else ""
    given = _key_hash(key or "")
    if row is None or not hmac.compare_digest(expected, given):
        raise NotFound(N_("Không tìm thấy hồ sơ với mã và mã tra cứu này."), code="not_found")
    return row


# -- writing ----------------------------------------------------------------


def create_nomination(owner: User, data: NominationIn) -> Nomination:
    round_ = db.session.get(Round, data.round_id)
    if round_ is None:
        raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng này.")})
    province_code = data.nominee.province_code
    if permissions.files_only_in_own_province(owner):
        province_code = province_code or owner.province_code
    if not province_code:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Cần chọn tỉnh, thành phố nơi nộp hồ sơ.")}
        )
    province = db.session.get(Province, province_code)
    if province is None or not province.active:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Tỉnh, thành phố không hợp lệ.")}
        )
    if not permissions.can_file_in(owner, province_code):
        raise Forbidden(N_("Bạn chỉ có thể lập hồ sơ cho tỉnh, thành phố của mình."))
    nomination = Nomination(
        owner_id=owner.id,
        round_id=round_.id,
        province_code=province_code,
        governing_decree=round_.governing_decree,
        state=State.DRAFT,
    )
    _apply(nomination, data)
    db.session.add(nomination)
    db.session.commit()
    return nomination


def update_nomination(user: User, nomination: Nomination, data: NominationIn) -> Nomination:
    if nomination.owner_id != user.id:
        raise Forbidden()
    if not permissions.can_edit(user, nomination):
        raise TransitionRefused(
            N_("Chỉ sửa được hồ sơ ở trạng thái bản nháp hoặc đã trả lại để bổ sung."),
            code="not_editable",
        )
    if data.round_id != nomination.round_id:
        if nomination.state != State.DRAFT or db.session.get(Round, data.round_id) is None:
            raise ValidationFailed(fields={"round_id": N_("Không đổi được đợt xét tặng.")})
        nomination.round_id = data.round_id
    if data.nominee.province_code and data.nominee.province_code != nomination.province_code:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Không đổi được tỉnh, thành phố nơi nộp hồ sơ.")}
        )
    _apply(nomination, data)
    _commit_or_conflict()
    return nomination


def _apply(n: Nomination, data: NominationIn) -> None:
    nomination_data.apply(n, data.model_dump(by_alias=True))


def missing_for_submission(n: Nomination) -> dict[str, str]:
    """What a dossier still lacks before it can be submitted, in plain words."""
    missing: dict[str, str] = {}
    if not n.birth_date:
        missing["nominee.birth_date"] = N_("Cần ngày sinh của nghệ nhân.")
    if not n.address:
        missing["nominee.address"] = N_("Cần địa chỉ nơi cư trú.")
    if not n.craft:
        missing["craft"] = N_("Cần ghi tên nghề thủ công mỹ nghệ.")
    if not n.periods:
        missing["craft_periods"] = N_("Cần khai ít nhất một giai đoạn hành nghề.")
    if n.title == Title.PEOPLE and not (n.meritorious_decision_no and n.meritorious_decision_date):
        missing["meritorious_title"] = (
            N_("Hồ sơ Nghệ nhân nhân dân cần số và ngày quyết định phong tặng Nghệ nhân ưu tú.")
        )
    if n.learners_trained is None:
        missing["learners_trained"] = N_("Cần ghi số người đã được truyền nghề.")
    if n.posthumous or n.filed_by_relationship != "self":
        if not n.filed_by_name:
            missing["filed_by.full_name"] = N_("Cần họ tên người nộp thay.")
    if n.special_craft and not (n.special_craft_rationale or "").strip():
        missing["special_craft_rationale"] = N_("Nghề đặc thù cần nêu lý do.")
    return missing


def perform(
    nomination: Nomination,
    action: str,
    actor: User,
    comment: str | None = None,
    decision_no: str | None = None,
    decision_date: date | None = None,
) -> str | None:
    """Take ``action`` on ``nomination`` as ``actor``.

    Returns the new access key when the action issued one (first submission),
    else None.  Raises Forbidden, TransitionRefused or ValidationFailed; on any
    error nothing is written.
    """
    if action not in set(wf.HUMAN_ACTIONS):
        raise NotFound(N_("Không có thao tác này."), code="unknown_action")
    if not permissions.may_act(actor, nomination, action):
        raise Forbidden()
    # Read the row afresh under a lock (PostgreSQL), so that two officers acting at
    # once are serialised: the second sees the first one's state and gets a 409.
    db.session.refresh(nomination, with_for_update=True)
    now = now_utc()
    on = today()
    before = nomination.state_enum
    subject = nomination.subject(on)
    try:
        after = wf.fire(subject, action)
    except wf.TransitionNotAllowed as exc:
        db.session.rollback()
        raise TransitionRefused(_refusal_message(exc)) from exc

    comment = nfc(comment).strip() if comment else None
    meta: dict = {}
    access_key = None
    if action == Action.SUBMIT:
        missing = missing_for_submission(nomination)
        if missing:
            db.session.rollback()
            raise ValidationFailed(N_("Hồ sơ còn thiếu thông tin."), fields=missing)
        if nomination.code is None:
            nomination.code = _next_code(nomination.province_code, local_date(now).year)
            access_key = _new_access_key()
            nomination.access_key_hash = _key_hash(access_key)
        nomination.submitted_at = now
        nomination.received_at = now
        meta["code"] = nomination.code
    elif action == Action.RESUBMIT:
        missing = missing_for_submission(nomination)
        if missing:
            db.session.rollback()
            raise ValidationFailed(N_("Hồ sơ còn thiếu thông tin."), fields=missing)
        nomination.received_at = now
    elif action in (Action.RETURN, Action.HOLD):
        if not comment:
            db.session.rollback()
            raise ValidationFailed(fields={"comment": N_("Cần ghi rõ lý do.")})
        if action == Action.RETURN:
            nomination.returned_at = now
        else:
            _refuse_if_voting(nomination)
            nomination.held_from = before
    elif action == Action.RELEASE:
        _refuse_if_complaints_open(nomination)
        nomination.held_from = None
    elif action == Action.OPEN_CONSULTATION:
        nomination.consultation_ends = on + timedelta(days=nomination.round.consultation_days)
        meta["consultation_ends"] = nomination.consultation_ends.isoformat()
    elif action == Action.RECORD_AWARD:
        fields = {}
        if not decision_no:
            fields["decision_no"] = N_("Cần số quyết định của Chủ tịch nước.")
        if not decision_date:
            fields["decision_date"] = N_("Cần ngày quyết định.")
        if fields:
            db.session.rollback()
            raise ValidationFailed(fields=fields)
        nomination.decision_no = nfc(decision_no).strip()
        nomination.decision_date = decision_date
        meta.update(decision_no=nomination.decision_no, decision_date=decision_date.isoformat())

    record_move(nomination, action, before, after, actor.id, actor.full_name, comment, meta, now)
    _commit_or_conflict()
    return access_key


def record_move(nomination: Nomination, action: str, before: State, after: State,
                actor_id: int | None, actor_name: str, comment: str | None, meta: dict,
                now=None) -> None:
    """Set the new state and add its one log row (the caller commits)."""
    now = now or now_utc()
    nomination.state = after
    nomination.stage_reached = wf.advance(nomination.stage_reached, after)
    nomination.state_changed_at = now
    values = {
        "nomination_id": nomination.id,
        "action": str(action),
        "from_state": str(before),
        "to_state": str(after),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "comment": comment,
        "at": now,
        "meta": meta,
    }
    _flush_or_conflict()  # writes the state change now, so a concurrent writer surfaces as a 409 here
    # Numbered and MACed into the keyed chain when the transaction commits (artisan_awards/audit_chain.py).
    audit_chain.append(TransitionLog(**values))
    notifications.nomination_moved(nomination, action, before, after, actor_id, comment, meta)


def move_by_event(nomination: Nomination, event: str, actor_id: int | None, actor_name: str,
                  comment: str | None = None, meta: dict | None = None) -> None:
    """A move made by the system on people's behalf (a council's tally, a signed complaint).

    The machine still decides; roles are not checked here because no person fires it.
    The caller holds the row lock and commits.
    """
    before = nomination.state_enum
    subject = nomination.subject(today())
    try:
        after = wf.fire(subject, event)
    except wf.TransitionNotAllowed as exc:
        raise TransitionRefused(_refusal_message(exc)) from exc
    if event == Action.HOLD:
        nomination.held_from = before
    record_move(nomination, event, before, after, actor_id, actor_name, comment, meta or {})


def _refuse_if_voting(nomination: Nomination) -> None:
    from ..models import AgendaItem, CouncilSession, SessionStatus

    voting = db.session.scalar(
        sa.select(sa.func.count()).select_from(AgendaItem)
        .join(CouncilSession, CouncilSession.id == AgendaItem.session_id)
        .where(AgendaItem.nomination_id == nomination.id, CouncilSession.status == SessionStatus.OPEN)
    )
    if voting:
        db.session.rollback()
        raise TransitionRefused(N_("Hồ sơ đang được Hội đồng bỏ phiếu, không thể tạm dừng."),
                                code="session_open")


def _refuse_if_complaints_open(nomination: Nomination) -> None:
    from ..models import PublicComment

    comments = db.session.scalars(
        sa.select(PublicComment).where(PublicComment.nomination_id == nomination.id)
    ).all()
    if any(c.blocks for c in comments):
        db.session.rollback()
        raise TransitionRefused(
            N_("Còn ý kiến, khiếu nại chưa được kết luận; hãy kết luận trước khi tiếp tục xử lý."),
            code="complaints_open",
        )


def _refusal_message(exc: wf.TransitionNotAllowed) -> str:
    if exc.action in (Action.SUBMIT,) and exc.reason == "guard":
        return N_("Đợt xét tặng không trong thời hạn tiếp nhận hồ sơ.")
    if exc.action == Action.RESUBMIT and exc.reason == "guard":
        return N_("Đã quá thời hạn bổ sung hồ sơ.")
    if exc.reason == "guard":
        return N_("Chưa đủ điều kiện để thực hiện thao tác này (thời hạn lấy ý kiến chưa kết thúc).")
    return N_("Thao tác này không được phép ở trạng thái hiện tại của hồ sơ.")


def _flush_or_conflict() -> None:
    _write_or_conflict(db.session.flush)


def _commit_or_conflict() -> None:
    _write_or_conflict(db.session.commit)


def _write_or_conflict(write) -> None:
    """Flush or commit; a concurrent writer's newer version becomes a 409, with nothing written."""
    try:
        write()
    except StaleDataError as exc:
        db.session.rollback()
        raise TransitionRefused(
            N_("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang."), code="conflict"
        ) from exc


def _next_code(province_code: str, year: int) -> str:
    counter = db.session.get(CodeCounter, (province_code, year), with_for_update=True)
    if counter is None:
        counter = CodeCounter(province_code=province_code, year=year, last=0)
        db.session.add(counter)
    counter.last += 1
    return f"NN-{year}-{province_code}-{counter.last:05d}"


def _new_access_key() -> str:
    raw = "".join(secrets.choice(KEY_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _key_hash(key: str) -> str:
    normalised = key.strip().upper().replace(" ", "")
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()
