"""Time in one place: UTC in the database, Vietnam's calendar for deadlines."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:  # SQLite returns naive datetimes that were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN).date()


def iso_moment(value: datetime | None) -> str | None:
    """A stored moment as ISO 8601 with its offset (naive values from SQLite are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def today() -> date:
    """Today in Vietnam, or the date pinned by the ``TODAY`` setting (rehearsals, tests)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("TODAY"):
        return date.fromisoformat(current_app.config["TODAY"])
    return datetime.now(VN).date()
