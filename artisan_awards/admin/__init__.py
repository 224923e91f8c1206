"""Administration in the browser: accounts, roles, provinces, bulk import, rounds, councils, audit."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.record_once
def _setup(state) -> None:
    from ..services import mail

    mail.init_app(state.app)


from . import routes  # noqa: E402,F401
