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
from workflows.machine import COUNCIL, OWNER, PROVINCE_SCOPED_ROLES
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


def visible_filter(user: User):
    """A WHERE clause selecting the nominations ``user`` may see."""
    own = Nomination.owner_id == user.id
    roles = user.roles
    if roles & NATIONAL_ROLES:
        return sa.or_(own, Nomination.state != State.DRAFT)
    if roles & PROVINCE_SCOPED_ROLES and user.province_code:
        return sa.or_(
            own,
            sa.and_(
                Nomination.province_code == user.province_code,
                Nomination.state != State.DRAFT,
            ),
        )
    return own


def can_view(user: User, nomination: Nomination) -> bool:
    if not user.is_authenticated:
        return False
    if nomination.owner_id == user.id:
        return True
    if nomination.state == State.DRAFT:
        return False
    if user.roles & NATIONAL_ROLES:
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
