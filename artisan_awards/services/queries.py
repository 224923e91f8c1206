"""Reading nominations: one dossier, the lists (filters, stages, order, pages, counts, clocks), the
history and the public status lookup; and reading the administration log (one target's events, the
audit page's filters).

Nothing here writes; the operations are in ``services.nominations``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import joinedload, lazyload

from workflows.law_days import earliest_start_not_late
from workflows.programme import ARTISAN_ID
from workflows.registry import registry
from workflows.states import N_, State

from .. import audit_chain, field_crypto, permissions
from ..errors import NotFound
from ..extensions import db
from ..models import (
    MAX_DB_INT,
    AuditEvent,
    AuditKind,
    Nomination,
    Province,
    Round,
    TransitionLog,
    User,
    get_row,
    law_calendar,
    window_due,
)
from ..models.admin_log import AREAS
from ..text import contains_pattern, nfc, search_key, vi_order
from ..timeutil import VN, local_date, today

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
    # returned dossiers whose completion period still runs ("waiting") or has run out ("expired")
    completion: str | None = None


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
        matches = [
            Nomination.name_key.like(pattern, escape="\\"),
            sa.func.lower(Nomination.code).like(pattern, escape="\\"),
        ]
        # a whole phone number finds its dossier through the keyed index (the phone is encrypted at rest)
        if len(field_crypto.normalise_phone(filters.q)) >= 9 and not any(ch.isalpha() for ch in filters.q):
            matches.append(Nomination.phone_index == field_crypto.phone_index(filters.q))
        stmt = stmt.where(sa.or_(*matches))
    if filters.overdue_only:
        stmt = stmt.where(current_deadlines().overdue_clause())
    if filters.completion in ("waiting", "expired"):  # the applicant's completion period (issue 14)
        late = current_deadlines().overdue_clause()
        wanted = late if filters.completion == "expired" else sa.not_(late)
        stmt = stmt.where(Nomination.state == State.RETURNED, wanted)
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
    sa.Index("ix_nomination_counts_province_state", "province_code", "state"),  # 0028: a province's counters
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


def paginate(stmt: sa.Select, number: int, per_page: int, key=Nomination.id, total: int | None = None) -> Page:
    """One page of ``stmt`` (already ordered) and a capped count: two queries whatever N is.

    ``key``: a column of the listed table (the count selects only it).  ``total``: the count when
    the caller already knows it exactly (from ``nomination_counts``); then one query.
    """
    number = max(1, min(number, 10_000_000 // per_page))
    if total is None:
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
        by_reply: dict[date, list[int]] = {}
        by_completion: dict[date, list[int]] = {}
        late_states: dict[str, list[int]] = {}
        calendar = law_calendar()
        for r in self.rounds.values():
            # a window's last start day not yet late (workflows.law_days)
            by_reply.setdefault(earliest_start_not_late(self.on, r.reply_days, r.reply_day_kind or "calendar",
                                                        calendar), []).append(r.id)
            by_completion.setdefault(earliest_start_not_late(
                self.on, r.completion_days, r.completion_day_kind or "calendar", calendar), []).append(r.id)
            for state, key in STAGE_DEADLINE.items():
                due = _plan_date((r.deadlines or {}).get(key))
                if due is not None and self.on > due:
                    late_states.setdefault(state, []).append(r.id)
        clauses = [
            sa.and_(Nomination.state == State.SUBMITTED, Nomination.round_id.in_(ids),
                    Nomination.received_at < _vn_midnight_utc(cutoff))
            for cutoff, ids in by_reply.items()
        ] + [
            sa.and_(Nomination.state == State.RETURNED, Nomination.round_id.in_(ids),
                    Nomination.returned_at < _vn_midnight_utc(cutoff))
            for cutoff, ids in by_completion.items()
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
    _STATUS_COLUMNS.access_key_hash, _STATUS_COLUMNS.programme_id, _STATUS_COLUMNS.programme_version,
).where(_STATUS_COLUMNS.code == sa.bindparam("code"))
# The page's lookup: the same columns and, joined in the same query, the states the dossier went through
# (to_state and date of each log row; never who moved it, the comment or the meta).
_LOG = TransitionLog.__table__.c
_PATH_QUERY = (
    sa.select(_STATUS_COLUMNS.code, _STATUS_COLUMNS.state, _STATUS_COLUMNS.state_changed_at,
              _STATUS_COLUMNS.access_key_hash, _STATUS_COLUMNS.programme_id, _STATUS_COLUMNS.programme_version,
              _LOG.to_state, _LOG.at)
    .select_from(Nomination.__table__.outerjoin(TransitionLog.__table__, _LOG.nomination_id == _STATUS_COLUMNS.id))
    .where(_STATUS_COLUMNS.code == sa.bindparam("code"))
    .order_by(_LOG.id)
)
# What people type between the parts of a code or key: spaces of any kind and dashes of any kind.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212_.]+")
_CODE = re.compile(r"NN(\d{4})([A-Z]{2,4})(\d{1,6})")


def normalise_access_key(key: str | None) -> str:
    """The one spelling of an access key: upper case, no spaces, one dash in the middle.

    "ab12 cd34", "AB12CD34" and " ab12-cd34 " are all "AB12-CD34" (the form printed on the receipt and
    hashed at submission)."""
    raw = _SEPARATORS.sub("", nfc(key or "")).upper()
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def normalise_code(code: str | None) -> str:
    """The one spelling of a dossier code: "nn 2026 hni 42" and "NN2026HNI00042" are "NN-2026-HNI-00042"."""
    text = nfc(code or "").strip().upper()
    match = _CODE.fullmatch(_SEPARATORS.sub("", text))
    if match is None:
        return "".join(text.split())
    year, province, number = match.groups()
    # a short number is padded to the printed five digits; a longer one is kept as typed (never re-padded)
    return f"NN-{year}-{province}-{number if len(number) >= 5 else f'{int(number):05d}'}"


def _not_found() -> NotFound:
    return NotFound(N_("Không tìm thấy hồ sơ với mã và mã tra cứu này."), code="not_found")


def _key_matches(row, key: str) -> bool:
    expected = row.access_key_hash if row is not None and row.access_key_hash else ""
    return hmac.compare_digest(expected, key_hash(key or ""))


def lookup_status(code: str, key: str) -> sa.Row:
    """Public lookup by dossier code and access key; the same NotFound for either being wrong.

    The public's hot path (bench/lookup_bench.py): one indexed read of four columns on a pooled
    connection of its own, in autocommit, with no ORM session, object or related rows.  The answer has ``code``,
    ``state`` and ``state_changed_at``.
    """
    code = normalise_code(code)
    row = None
    if code and len(code) <= 32:
        # One read-only statement needs no transaction: in autocommit the driver sends no BEGIN before it
        # and the pool no ROLLBACK after it (two round trips of three; issue 16, bench/lookup_bench.py).
        with db.engine.connect() as conn:
            row = conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                _STATUS_QUERY, {"code": code}).first()
    if row is None or not _key_matches(row, key):
        raise _not_found()
    return row


@dataclass(frozen=True)
class PublicStep:
    """One stage on a dossier's public path: the state reached (its citizen label) and the day."""

    state: str
    on: date  # the day in Vietnam
    current: bool = False


def lookup_path(code: str, key: str) -> tuple[sa.Row, list[PublicStep]]:
    """The page's lookup: the status (as ``lookup_status``) and the path of public stages so far.

    Still one query: the dossier's four columns with its log's states and dates joined.  A state
    entered twice in a row (a council event on an already-moved dossier) shows once; the draft is not
    a public stage.  Nothing else of the log (who, comments, votes) is read."""
    code = normalise_code(code)
    rows = []
    if code and len(code) <= 32:
        # One read-only statement, in autocommit as lookup_status's: no BEGIN before it, no ROLLBACK after.
        with db.engine.connect() as conn:
            rows = conn.execution_options(isolation_level="AUTOCOMMIT").execute(_PATH_QUERY, {"code": code}).all()
    head = rows[0] if rows else None
    if head is None or not _key_matches(head, key):
        raise _not_found()
    steps: list[PublicStep] = []
    initial = _initial_state(head)
    for r in rows:
        if r.to_state is None or r.to_state == initial:
            continue
        if steps and steps[-1].state == r.to_state:
            continue
        steps.append(PublicStep(r.to_state, local_date(r.at)))
    if steps and steps[-1].state == head.state:
        steps[-1] = PublicStep(steps[-1].state, steps[-1].on, current=True)
    return head, steps


def _initial_state(head) -> str:
    """The draft of the dossier's programme (not a public stage): the artisan titles' or its definition's."""
    if head.programme_id in (None, ARTISAN_ID):
        return State.DRAFT
    return registry().get(head.programme_id, head.programme_version).definition.initial


def key_hash(key: str) -> str:
    """The stored form of an access key (keyed with the app's secret; spaces, dashes and case do not matter)."""
    normalised = normalise_access_key(key)
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()


# -- the administration log ---------------------------------------------------


def events_for(target_type: str, target_id: int, limit: int | None = None) -> list[AuditEvent]:
    """One account's, round's or council's events, newest first."""
    query = (sa.select(AuditEvent).where(AuditEvent.target_type == target_type, AuditEvent.target_id == target_id)
             .order_by(AuditEvent.id.desc()))
    return list(db.session.scalars(query.limit(limit) if limit else query))


@dataclass
class EventFilters:
    """The audit page's filters (?area=, ?kind=, ?actor=, ?target=, ?from=, ?to=)."""

    area: str | None = None
    kind: str | None = None
    actor: str | None = None
    target: str | None = None
    from_: str | None = None  # ISO dates, local (Vietnam) days, both inclusive
    to: str | None = None

    @classmethod
    def from_args(cls, args) -> EventFilters:
        return cls(args.get("area"), args.get("kind"), args.get("actor"), args.get("target"),
                   args.get("from"), args.get("to"))


def events(filters: EventFilters, offset: int = 0, limit: int = 100):
    """The rows of ``events_query``: ``limit`` of them from ``offset`` (an iterable, read as it goes)."""
    return db.session.scalars(events_query(filters).offset(offset).limit(limit))


def chain_status() -> dict:
    """The audit chain's quick check for the audit page (``audit_chain.quick_status``)."""
    return audit_chain.quick_status(db.session.connection())


def events_query(filters: EventFilters) -> sa.Select:
    """The administration log, newest first, narrowed by ``filters`` (unknown values are ignored)."""
    query = sa.select(AuditEvent)
    if filters.area in AREAS:
        query = query.where(AuditEvent.kind.in_([str(k) for k in AREAS[filters.area]]))
    if filters.kind in {k.value for k in AuditKind}:
        query = query.where(AuditEvent.kind == filters.kind)
    for text, column in ((filters.actor, AuditEvent.actor_name), (filters.target, AuditEvent.target_label)):
        text = (text or "").strip()
        if text:
            query = query.where(sa.func.lower(column).like(contains_pattern(text.lower()), escape="\\"))
    for value, later in ((filters.from_, False), (filters.to, True)):
        try:
            day = date.fromisoformat(value or "")
        except ValueError:
            continue
        # Midnight in Vietnam, as UTC: SQLite compares the stored UTC text, not the zone.
        moment = _vn_midnight_utc(day + timedelta(days=1) if later else day)
        query = query.where(AuditEvent.at < moment if later else AuditEvent.at >= moment)
    return query.order_by(AuditEvent.id.desc())


def kept_total(user: User, filters: Filters, counts: dict, default_states) -> int | None:
    """A province list's length read from the kept counts (``nomination_counts``) instead of counted,
    when the filters are ones those counts hold apart (state or stage, round); else None (counted).

    ``counts``: the user's province's kept counts by state; ``default_states``: the states the list
    shows without a state or stage filter.  Exact: the list is the officer's province in non-draft
    states, which every province officer sees, and the counters are kept by triggers in the same
    transaction as each dossier's change.
    """
    if filters.q or filters.title or filters.overdue_only or filters.completion:
        return None
    if not (user.roles & permissions.PROVINCE_SCOPED_ROLES and user.province_code):
        return None  # sees other dossiers than the province's (visible_filter): counted
    if filters.round_id is not None and not 0 < filters.round_id <= MAX_DB_INT:
        return 0
    if filters.state:
        states = (filters.state,)
    elif filters.stage in STAGE_STATES:
        states = STAGE_STATES[filters.stage]
    elif filters.stage:
        return None
    else:
        states = default_states
    states = [str(s) for s in states]
    if State.DRAFT in states:  # an officer's own drafts are listed, and not counted there
        return None
    if filters.round_id is None:
        return sum(counts.get(s, 0) for s in states)
    c = nomination_counts.c
    where = [c.province_code == user.province_code, c.state.in_(states), c.round_id == filters.round_id]
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(c.n), 0)).where(*where)))
