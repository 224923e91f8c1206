"""Time in one place: UTC in the database, Vietnam's calendar for deadlines."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def now_utc() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware datetime: SQLite hands back naive datetimes that were stored as UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def local_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(VN).date()


def iso_moment(value: datetime | None) -> str | None:
    """A stored moment as ISO 8601 with its offset (naive values from SQLite are UTC)."""
    return as_utc(value).isoformat() if value is not None else None


def today() -> date:
    """Today in Vietnam, or the date pinned by the ``TODAY`` setting (rehearsals, tests)."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("TODAY"):
        return date.fromisoformat(current_app.config["TODAY"])
    return datetime.now(VN).date()
