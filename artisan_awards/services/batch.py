"""Batch actions of the provincial secretariat: the same operation as one by one, for several dossiers.

``check`` says, before anything is done, which of the chosen dossiers the action can be taken on now and
why not for the others (the same rules as the dossier page: role, province, state machine).  ``run``
takes the action on each through ``services.nominations.perform`` (one transaction per dossier, one log
row each, the same notifications), and reports each outcome.

Two modes, stated on the pages:
* ``each`` (accepting several): every dossier on its own; the refused ones are listed with their
  reason, the others are done.
* ``all`` (sending several to the ministry under one tờ trình): if any chosen dossier would be refused,
  nothing is sent.  (Should another person change one between the check and the send, the ones already
  sent stay sent and the report names the one that was refused.)
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from workflows.states import N_, Action, State

from .. import permissions
from ..errors import ServiceError
from ..extensions import db
from ..models import CouncilSession, Level, Nomination, SessionStatus, User, get_row
from ..timeutil import today
from . import nominations as operations
from . import queries

MAX_BATCH = 200
BATCH_ACTIONS = (Action.ACCEPT, Action.FORWARD_TO_MINISTRY)


@dataclass
class Outcome:
    nomination: Nomination
    ok: bool
    message: str  # msgid (with params) or empty
    params: dict


def chosen(actor: User, ids: list[int]) -> tuple[list[Nomination], list[int]]:
    """The dossiers ``actor`` can see among ``ids`` (in the order given) and the ids that are not there."""
    ids = list(dict.fromkeys(ids))[:MAX_BATCH]
    rows = {n.id: n for n in db.session.scalars(
        sa.select(Nomination).where(Nomination.id.in_(ids), permissions.visible_filter(actor)))}
    return [rows[i] for i in ids if i in rows], [i for i in ids if i not in rows]


def check(actor: User, nominations: list[Nomination], action: str) -> list[Outcome]:
    on = today()
    out = []
    for n in nominations:
        if action in permissions.available_actions(actor, n, on):
            out.append(Outcome(n, True, "", {}))
        else:
            out.append(Outcome(n, False, N_("Không thực hiện được với hồ sơ đang ở trạng thái: %(state)s."),
                               {"state_key": n.state}))
    return out


def run(actor: User, nominations: list[Nomination], action: str, comment: str | None,
        mode: str = "each") -> list[Outcome]:
    if action not in BATCH_ACTIONS:
        raise ValueError(action)
    checked = check(actor, nominations, action)
    if mode == "all" and not all(o.ok for o in checked):
        return checked
    out = []
    for o in checked:
        if not o.ok:
            out.append(o)
            continue
        try:
            operations.perform(o.nomination, action, actor, comment=comment)
        except ServiceError as exc:  # refused since the check: nothing written for this one
            db.session.rollback()
            out.append(Outcome(o.nomination, False, exc.message, dict(exc.params)))
        else:
            out.append(Outcome(o.nomination, True, "", {}))
    return out


def sessions_to_forward(actor: User) -> list[tuple[CouncilSession, list[Nomination]]]:
    """The closed sessions of ``actor``'s provincial councils with dossiers passed and not yet sent on:
    each is one tờ trình (Mẫu 03) with its list (Mẫu 04)."""
    from ..models import AgendaItem, Council

    rows = db.session.execute(
        sa.select(CouncilSession, Nomination)
        .join(Council, Council.id == CouncilSession.council_id)
        .join(AgendaItem, AgendaItem.session_id == CouncilSession.id)
        .join(Nomination, Nomination.id == AgendaItem.nomination_id)
        .where(Council.level == Level.PROVINCE, Council.province_code == actor.province_code,
               CouncilSession.status == SessionStatus.CLOSED, Nomination.state == State.PROVINCE_PASSED)
        .order_by(CouncilSession.held_on.desc(), CouncilSession.id, AgendaItem.id)
    ).all()
    groups: dict[int, tuple[CouncilSession, list[Nomination]]] = {}
    for session, nomination in rows:
        groups.setdefault(session.id, (session, []))[1].append(nomination)
    return list(groups.values())


def submitted(user: User) -> list[Nomination]:
    """The dossiers of the user's province waiting to be accepted, oldest receipt first."""
    filters = queries.Filters(province_code=user.province_code)
    stmt = queries.visible_query(user, filters).where(Nomination.state == State.SUBMITTED)
    return list(db.session.scalars(queries.order(stmt, None, "received")))


def sees_session(user: User, session_id: int) -> bool:
    """The council session exists and ``user`` may see its council (a 403 then, not a 404)."""
    session = get_row(CouncilSession, session_id)
    return session is not None and permissions.can_see_council(user, session.council)
