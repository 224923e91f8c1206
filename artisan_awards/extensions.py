"""Extensions, created unbound here and bound to an app in ``create_app``."""

import sqlalchemy as sa
from flask import session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager as _LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


class LoginManager(_LoginManager):
    """Flask-Login's, without hashing the visitor's address and browser when there is no session to protect.

    Flask-Login's session protection computes that identifier for every request and then compares it
    only when the session holds something (an empty session: "an anonymous user or just logged out, so
    we can skip this"). Every anonymous visit, the public status page's too, paid for the SHA-512 for
    nothing (issue 16). A non-empty session goes through Flask-Login's check unchanged."""

    def _session_protection_failed(self):
        if not session:
            return False
        return super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)


def commit_keeping_loaded() -> None:
    """Commit the session without expiring its objects: what the request has just read stays loaded.

    For a bookkeeping commit in the middle of a request (a token's or a login's "last seen", the log of a
    page's reads): with SQLAlchemy's default, the commit would expire everything, and the request's next
    use of an object it already read (the account, its roles, a streamed export's rows) would read it again."""
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
