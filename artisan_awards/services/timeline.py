"""A round's plan as a timeline: each milestone with its date, status and days left.

The milestones are the round's own data (``Round.intake_opens``, ``intake_closes`` and the stage
deadlines in ``Round.deadlines``) plus, for staff, its council sessions.  A stage deadline is
*done* when its date has passed with no dossier of the round left before that stage, *overdue*
when its date has passed with some left, *today* on the day, *upcoming* before.  The same
counts ("dossiers still before this stage") drive the reminders of ``services.reminders``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from workflows.states import N_, State

from .. import permissions
from ..extensions import db
from ..models import Council, CouncilSession, Nomination, Round, SessionStatus, User
from . import councils
from .rounds import DEADLINE_LABELS, DEADLINE_ORDER

# Where a dossier stands on the road: 0 province, 1 ministry, 2 state council, 3 government.
STAGE = {
    State.SUBMITTED: 0, State.RETURNED: 0, State.ACCEPTED: 0, State.PROVINCE_REVIEW: 0,
    State.PROVINCE_PASSED: 0,
    State.MINISTRY_REVIEW: 1, State.MINISTRY_PASSED: 1, State.PUBLIC_CONSULTATION: 1,
    State.STATE_REVIEW: 2, State.STATE_PASSED: 2, State.FINAL_CONSULTATION: 2,
    State.SUBMITTED_TO_PM: 3, State.SUBMITTED_TO_PRESIDENT: 3,
}
# The last stage a dossier may still be in for each deadline to count as met.
DEADLINE_STAGE = {"province_to_ministry": 0, "ministry_to_state": 1, "state_to_pm": 2, "announcement": 3}
PUBLIC_KEYS = frozenset({"intake_opens", "intake_closes", "announcement"})
LABELS = {
    "intake_opens": N_("Mở tiếp nhận hồ sơ"),
    "intake_closes": N_("Đóng tiếp nhận hồ sơ"),
    **DEADLINE_LABELS,
}
STATUS_LABELS = {
    "done": N_("Đã xong"),
    "today": N_("Hôm nay"),
    "upcoming": N_("Sắp tới"),
    "overdue": N_("Quá hạn"),
}


@dataclass
class Milestone:
    key: str
    label: str  # a msgid (translate when showing), or a council's name
    on: date
    status: str
    days_left: int
    public: bool
    pending: int | None = None  # dossiers still before this stage (stage deadlines)
    session_id: int | None = None
    extra: dict = field(default_factory=dict)


def pending_counts(round_: Round, visible=None) -> dict[tuple[int, str], int]:
    """{(stage, province code): dossiers of the round at that stage}, held ones at the stage they left.

    ``visible`` (permissions.visible_filter) counts only the dossiers a person may see.
    """
    rows = db.session.execute(
        sa.select(Nomination.state, Nomination.held_from, Nomination.province_code, sa.func.count())
        .where(Nomination.round_id == round_.id, *([] if visible is None else [visible]))
        .where(Nomination.state.in_([str(s) for s in (*STAGE, State.ON_HOLD)]))
        .group_by(Nomination.state, Nomination.held_from, Nomination.province_code)
    )
    counts: dict[tuple[int, str], int] = {}
    for state, held_from, province, count in rows:
        stage = STAGE.get(State(held_from) if state == State.ON_HOLD and held_from else State(state))
        if stage is None:
            continue
        counts[(stage, province)] = counts.get((stage, province), 0) + count
    return counts


def pending_before(counts: dict[tuple[int, str], int], key: str, province: str | None = None) -> int:
    """Dossiers not yet past the stage that deadline ``key`` closes (in ``province`` when given)."""
    limit = DEADLINE_STAGE[key]
    return sum(n for (stage, prov), n in counts.items()
               if stage <= limit and (province is None or prov == province))


def plan_deadlines(round_: Round) -> dict[str, date]:
    """The stage deadlines of the plan, as dates, in the plan's order."""
    raw = round_.deadlines or {}
    return {k: date.fromisoformat(raw[k]) for k in DEADLINE_ORDER if raw.get(k)}


def _status(on: date, today: date, finished: bool) -> str:
    if on > today:
        return "upcoming"
    if finished:
        return "done"
    return "today" if on == today else "overdue"


def milestones(round_: Round, today: date, staff: bool, province: str | None = None,
               viewer: User | None = None) -> list[Milestone]:
    """The round's timeline in date order; the public sees the public dates only.

    ``province`` (a province-scoped officer or council member) narrows the counts and the council
    sessions to that province, as everything else such a user sees.  ``viewer`` (a signed-in staff
    member) narrows them to what that person may see: a national role counts the dossiers and lists
    the sessions from its stage on (permissions.STAGE_FROM).
    """
    # a province's own intake deadline (ProvinceIntake) for the people of that province
    closes = round_.intake_closes_for(province) if province else round_.intake_closes
    rows = [
        Milestone("intake_opens", LABELS["intake_opens"], round_.intake_opens,
                  _status(round_.intake_opens, today, True), (round_.intake_opens - today).days, True),
        Milestone("intake_closes", LABELS["intake_closes"], closes, _status(closes, today, today > closes),
                  (closes - today).days, True),
    ]
    counts = pending_counts(round_, None if viewer is None else permissions.visible_filter(viewer))
    for key, on in plan_deadlines(round_).items():
        pending = pending_before(counts, key, province)
        rows.append(Milestone(key, LABELS[key], on, _status(on, today, pending == 0), (on - today).days,
                              key in PUBLIC_KEYS, pending if staff else None))
    if staff:
        sessions = db.session.scalars(
            sa.select(CouncilSession).join(Council, Council.id == CouncilSession.council_id)
            .where(Council.round_id == round_.id).order_by(CouncilSession.held_on, CouncilSession.id)
        )
        for s in sessions:
            if province and s.council.province_code not in (None, province):
                continue
            if viewer is not None and not councils.can_see_council(viewer, s.council):
                continue
            rows.append(Milestone(f"session:{s.id}", s.council.name, s.held_on,
                                  _status(s.held_on, today, s.status == SessionStatus.CLOSED),
                                  (s.held_on - today).days, False, session_id=s.id,
                                  extra={"place": s.place, "items": len(s.items)}))
    if not staff:
        rows = [m for m in rows if m.public]
    order = {k: i for i, k in enumerate(("intake_opens", "intake_closes", *DEADLINE_ORDER))}
    rows.sort(key=lambda m: (m.on, order.get(m.key, len(order))))
    return rows


def next_milestone(rows: list[Milestone]) -> Milestone | None:
    """The first milestone still to come or still open (shown as the current step)."""
    return next((m for m in rows if m.status != "done"), None)
