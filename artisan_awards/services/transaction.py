"""One transaction per operation, with ONE error path.

Every write of an action (a dossier's move, a council's session, an administration change with its
audit event) runs inside ``one_transaction``: what the block wrote is committed together at its end;
any refusal or error on the way rolls everything back (letting go of the row locks) and is raised
again, so nothing half-done is ever stored and no operation writes its own rollbacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..errors import TransitionRefused
from ..extensions import db


@contextmanager
def one_transaction(conflict: str | None = None, duplicate: TransitionRefused | None = None) -> Iterator[None]:
    """Commit the block's writes at its end, or roll all of them back and re-raise.

    ``conflict``: the message (a msgid) of the 409 answered when a concurrent writer changed a
    versioned row first (``StaleDataError``). ``duplicate``: the refusal answered when a unique
    constraint says the thing exists already (``IntegrityError``). Also a decorator.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        if conflict is None:
            raise
        raise TransitionRefused(conflict, code="conflict") from exc
    except IntegrityError:
        db.session.rollback()
        if duplicate is None:
            raise
        raise duplicate from None
    except BaseException:
        db.session.rollback()
        raise
