"""Who may see and do what: the one place where roles and province scope are checked.

Pages, the API and the templates all call these predicates, so a button shows
exactly when the action is allowed and a dossier outside one's scope is simply
not there (404), never "forbidden".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from workflows import machine as wf
from workflows.machine import COUNCIL, OWNER, PROVINCE_SCOPED_ROLES, Stage
from workflows.states import State

from .models import Nomination, User

NATIONAL_ROLES = frozenset(
    {
        wf.ADMIN,
        wf.MINISTRY_OFFICER,
        wf.MINISTRY_COUNCIL_MEMBER,
        wf.STATE_COUNCIL_MEMBER,
        wf.GOVERNMENT_OFFICER,
    }
)
STAFF_ROLES = NATIONAL_ROLES | PROVINCE_SCOPED_ROLES

# The stage from which each national role sees a dossier (and keeps seeing it: a dossier that reached
# the stage and was rejected, withdrawn or awarded later stays visible).  A dossier that never reached
# it does not exist for that role (404).  The same table decides which councils, sessions, tallies and
# session documents a national role sees (``can_see_level``), and the route matrix test
# (tests/test_stage_scope.py) plays it for every route.
STAGE_FROM: dict[str, Stage] = {
    wf.ADMIN: Stage.NONE,  # administration: every dossier but the drafts, as before
    wf.MINISTRY_OFFICER: Stage.MINISTRY,  # from its arrival at the ministry (the province sent it on)
    wf.MINISTRY_COUNCIL_MEMBER: Stage.MINISTRY,  # from the ministry council's agenda
    wf.STATE_COUNCIL_MEMBER: Stage.STATE,  # from the state council's agenda
    wf.GOVERNMENT_OFFICER: Stage.GOVERNMENT,  # from the submission to the Prime Minister
}
assert set(STAGE_FROM) == NATIONAL_ROLES
# The stage of the dossiers each council level puts on its agenda.
COUNCIL_STAGE: dict[str, Stage] = {
    "province": Stage.PROVINCE,
    "ministry": Stage.MINISTRY,
    "state": Stage.STATE,
}


def national_stage(user: User) -> Stage | None:
    """The earliest stage from which ``user``'s national roles see dossiers (None: no national role)."""
    stages = [STAGE_FROM[role] for role in user.roles & NATIONAL_ROLES]
    return min(stages) if stages else None


def can_see_level(user: User, level: str) -> bool:
    """Whether a national role sees every council of ``level`` (each dossier on its agenda has reached it)."""
    stage = national_stage(user)
    return stage is not None and stage <= COUNCIL_STAGE[str(level)]


def visible_filter(user: User):
    """A WHERE clause selecting the nominations ``user`` may see."""
    own = Nomination.owner_id == user.id
    roles = user.roles
    clauses = [own]
    stage = national_stage(user)
    if stage is not None:
        clauses.append(sa.and_(Nomination.state != State.DRAFT, Nomination.stage_reached >= int(stage)))
    if roles & PROVINCE_SCOPED_ROLES and user.province_code:
        clauses.append(
            sa.and_(
                Nomination.province_code == user.province_code,
                Nomination.state != State.DRAFT,
            )
        )
    return sa.or_(*clauses)


def can_view(user: User, nomination: Nomination) -> bool:
    if not user.is_authenticated:
        return False
    if nomination.owner_id == user.id:
        return True
    if nomination.state == State.DRAFT:
        return False
    stage = national_stage(user)
    if stage is not None and (nomination.stage_reached or 0) >= stage:
        return True
    return bool(user.roles & PROVINCE_SCOPED_ROLES) and user.province_code == nomination.province_code


def may_act(user: User, nomination: Nomination, action: str) -> bool:
    """Whether ``user`` holds the role (and scope) for ``action`` on ``nomination``.

    The state machine separately decides whether the action is possible now.
    """
    if not user.is_authenticated or not can_view(user, nomination):
        return False
    try:
        actor = wf.actor_for(action)
    except KeyError:
        return False
    if actor == COUNCIL:
        return False
    if actor == OWNER:
        return nomination.owner_id == user.id
    if not user.has_role(actor):
        return False
    if actor in PROVINCE_SCOPED_ROLES:
        return user.province_code == nomination.province_code
    return True


def can_edit(user: User, nomination: Nomination) -> bool:
    return nomination.owner_id == user.id and nomination.state in (State.DRAFT, State.RETURNED)


def available_actions(user: User, nomination: Nomination, today) -> list[str]:
    """Actions ``user`` may take on ``nomination`` right now (role, scope and machine)."""
    subject = nomination.subject(today)
    return [
        action
        for action in wf.actions_from(nomination.state_enum)
        if may_act(user, nomination, action) and wf.can_fire(subject, action)
    ]


def can_review_criteria(user: User, nomination: Nomination) -> bool:
    """Decide an eligibility criterion left to people: the secretariat of the dossier's province."""
    return (
        user.is_authenticated
        and can_view(user, nomination)
        and nomination.state != State.DRAFT
        and user.has_role(wf.PROVINCE_OFFICER)
        and user.province_code == nomination.province_code
    )


def can_file_in(user: User, province_code: str | None) -> bool:
    """Applicants file in any province; an officer files only in their own."""
    if user.has_role(wf.APPLICANT):
        return True
    return user.has_role(wf.PROVINCE_OFFICER) and user.province_code == province_code


def roles_required(*roles: str) -> Callable:
    """Page decorator: log in first, then hold one of ``roles`` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
