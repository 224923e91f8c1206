"""The round dashboard's figures, each from one grouped query (the count of queries does not grow with N).

The charts are drawn on the server as SVG from the same figures as the tables beside them, so the
two cannot disagree, no script is needed (the CSP forbids inline script) and no chart library has
to be served.
"""

from __future__ import annotations

import sqlalchemy as sa

from workflows.machine import STAGE_OF, Stage
from workflows.states import State

from .. import permissions
from ..extensions import db
from ..models import (
    AgendaItem,
    Attendance,
    BallotParticipation,
    Council,
    CouncilMember,
    CouncilSession,
    Level,
    Nomination,
    Province,
    Round,
    User,
)
from ..services.queries import STAGES, counts_by, current_deadlines, nomination_counts
from ..text import vi_sort_key

OVERDUE_SHOWN = 20  # the dashboard lists the first ones; the list page has them all
OVERDUE_CAP = 1000  # and counts up to here ("more than 1000"): the cost stays flat as dossiers grow
SESSIONS_SHOWN = 60
# Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
STAGE_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"]
CHART_WIDTH = 520  # px of the bars' area
# Past the draft, the states that do not tell a dossier's stage (workflows.machine.STAGE_OF).
UNPLACED = tuple(state for state, at in STAGE_OF.items() if at == Stage.NONE and state != State.DRAFT)


def _levels_seen(user: User) -> list[str]:
    """The council levels whose sessions ``user`` sees (permissions.can_see_level)."""
    return [str(level) for level in Level if permissions.can_see_level(user, level)]


def _grid_rows(round_: Round, user: User):
    """(province, state, n) of the round, counting only the dossiers ``user`` may see.

    The counters the triggers keep (nomination_counts) know states, not stages.  A dossier in a state
    of the pipeline is exactly at that state's stage (no move leads back), so for a national role that
    sees dossiers from its stage on (permissions.STAGE_FROM) the counters of the states from that
    stage on are exact; only withdrawn and held dossiers (whose state says nothing of how far they
    came) are counted over the dossiers themselves, with the lists' WHERE clause: few rows, on the
    round's index.  No figure tells such a role about a dossier that is not there for it.
    """
    stage = permissions.national_stage(user)
    if stage is None or stage == Stage.NONE:
        yield from db.session.execute(
            counts_by("province_code", "state", where=[nomination_counts.c.round_id == round_.id]))
        return
    states = [str(state) for state, at in STAGE_OF.items() if at != Stage.NONE and at >= stage]
    yield from db.session.execute(
        counts_by("province_code", "state",
                  where=[nomination_counts.c.round_id == round_.id, nomination_counts.c.state.in_(states)]))
    yield from db.session.execute(
        sa.select(Nomination.province_code, Nomination.state, sa.func.count())
        .where(Nomination.round_id == round_.id, Nomination.state.in_([str(s) for s in UNPLACED]),
               permissions.visible_filter(user))
        .group_by(Nomination.province_code, Nomination.state)
    )


def build(round_: Round, user: User) -> dict:
    stage_of = {state: key for key, _label, states in STAGES for state in states}
    keys = [key for key, _label, _states in STAGES]

    # 1. the round by stage x province: one query over the counters the triggers keep (nomination_counts),
    # a few hundred rows whatever the number of dossiers (and, for a role that sees a dossier only from
    # its stage on, one grouped query over the round's withdrawn and held dossiers)
    grid: dict[str, dict] = {}
    for code, state, n in _grid_rows(round_, user):
        if State(state) == State.DRAFT:
            continue
        row = grid.setdefault(code, dict.fromkeys(keys, 0))
        row[stage_of[State(state)]] += n
    names = dict(db.session.execute(sa.select(Province.code, Province.name).where(Province.code.in_(grid))).all())
    order = sorted(grid, key=lambda c: vi_sort_key(names[c]))
    totals = {key: sum(grid[c][key] for c in grid) for key in keys}
    widest = max((sum(grid[c].values()) for c in grid), default=0)
    bars = []
    for code in order:
        x, segments = 0.0, []
        for i, key in enumerate(keys):
            n = grid[code][key]
            if n:
                width = CHART_WIDTH * n / widest
                segments.append({"stage": key, "n": n, "x": round(x, 2), "width": round(width, 2),
                                 "colour": STAGE_COLOURS[i]})
                x += width
        bars.append({"code": code, "name": names[code], "total": sum(grid[code].values()), "segments": segments})

    # 2. overdue: a count (capped, like the lists') and the oldest few, by the one SQL rule of the lists
    overdue_where = sa.and_(Nomination.round_id == round_.id, current_deadlines().overdue_clause(),
                            permissions.visible_filter(user))
    counted = sa.select(Nomination.id).where(overdue_where).limit(OVERDUE_CAP + 1).subquery()
    overdue_count = db.session.scalar(sa.select(sa.func.count()).select_from(counted))
    overdue = db.session.execute(
        sa.select(Nomination.id, Nomination.code, Nomination.full_name, Nomination.state, Nomination.round_id,
                  Nomination.received_at, Nomination.returned_at)
        .where(overdue_where).order_by(Nomination.id).limit(OVERDUE_SHOWN)
    ).all()

    # 3. council sessions of the round: one row each, and one grouped query per figure
    sessions = db.session.execute(
        sa.select(CouncilSession.id, CouncilSession.held_on, CouncilSession.status, CouncilSession.members_total,
                  CouncilSession.present_count, Council.id.label("council_id"), Council.name.label("council"),
                  Council.level)
        .join(Council, Council.id == CouncilSession.council_id)
        .where(Council.round_id == round_.id, Council.level.in_(_levels_seen(user)))
        .order_by(CouncilSession.held_on.desc(), CouncilSession.id.desc()).limit(SESSIONS_SHOWN)
    ).all()
    session_ids = [s.id for s in sessions]
    council_ids = {s.council_id for s in sessions}

    def grouped(column, *where):
        return dict(db.session.execute(sa.select(column, sa.func.count()).where(*where).group_by(column)).all())

    members = grouped(CouncilMember.council_id, CouncilMember.council_id.in_(council_ids))
    present = grouped(Attendance.session_id, Attendance.session_id.in_(session_ids))
    ballots = grouped(BallotParticipation.session_id, BallotParticipation.session_id.in_(session_ids))
    items = grouped(AgendaItem.session_id, AgendaItem.session_id.in_(session_ids))
    passed = grouped(AgendaItem.session_id, AgendaItem.session_id.in_(session_ids), AgendaItem.passed.is_(True))
    progress = []
    for s in sessions:
        total = s.members_total or members.get(s.council_id, 0)
        here = s.present_count if s.present_count is not None else present.get(s.id, 0)
        cast = ballots.get(s.id, 0)
        progress.append({
            "id": s.id, "council": s.council, "level": s.level, "held_on": s.held_on, "status": s.status,
            "members": total, "present": here, "ballots": cast, "agenda": items.get(s.id, 0),
            "passed": passed.get(s.id, 0) if s.status == "closed" else None,
            "present_width": round(CHART_WIDTH * here / total, 2) if total else 0,
            "ballots_width": round(CHART_WIDTH * cast / total, 2) if total else 0,
        })
    # both names where a province received dossiers filed with a former province (mergers, issue 14)
    filed_in: dict[str, list[str]] = {}
    for code, filed in db.session.execute(
            sa.select(Nomination.province_code, Nomination.filed_province_code).distinct()
            .where(Nomination.round_id == round_.id, Nomination.filed_province_code.is_not(None))):
        filed_in.setdefault(code, []).append(filed)
    all_names = dict(db.session.execute(sa.select(Province.code, Province.name)).all()) if filed_in else {}
    filed_in = {c: sorted(all_names.get(f, f) for f in fs) for c, fs in filed_in.items()}
    return {
        "filed_in": filed_in,
        "grid": grid, "order": order, "names": names, "totals": totals, "bars": bars,
        "colours": dict(zip(keys, STAGE_COLOURS, strict=True)), "chart_width": CHART_WIDTH,
        "overdue": overdue, "overdue_count": min(overdue_count, OVERDUE_CAP),
        "overdue_capped": overdue_count > OVERDUE_CAP, "sessions": progress,
    }
