"""The provincial secretariat (Sở Công Thương): the inbox of dossiers and their deadlines."""

from flask import Blueprint

bp = Blueprint("province", __name__, url_prefix="/province")


@bp.app_template_global()
def deadlines():
    """The request's clocks (services.queries.Deadlines): one rule for every list and badge."""
    from ..services.queries import current_deadlines

    return current_deadlines()


from . import routes  # noqa: E402,F401
