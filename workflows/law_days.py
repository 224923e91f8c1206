"""The law's own days: the one deadline function (pure: no Flask, no database).

A window of a round's plan counts either calendar days or working days (``DayKind``).  Working
days skip Saturdays, Sundays and the days off of a holiday calendar (Tết and the other public
holidays, with the compensatory days off the government announces), and count a weekend day the
government made a working day (a swapped Saturday).  The calendar itself is data (the
``public_holidays`` table, seeded from ``artisan_awards/data/holidays.csv``); this module only
counts.

Counting follows the Civil Code 2015, Art. 147: a period in days starts on the day after the
event (a dossier received on Monday with 10 days to answer: day 1 is Tuesday).  When
``roll_forward`` is set, a calendar-day period whose last day is not a working day ends on the next
working day (Civil Code 2015, Art. 148 cl. 5); the default is a plain count (docs/rules.md).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta


class DayKind(enum.StrEnum):
    CALENDAR = "calendar"  # ngày (lịch)
    WORKING = "working"  # ngày làm việc


@dataclass(frozen=True)
class LawCalendar:
    """Days off and swapped working days; everything else follows the Monday-Friday week."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    working_weekend_days: frozenset[date] = field(default_factory=frozenset)
    roll_forward: bool = False

    @classmethod
    def of(cls, days_off: Iterable[date] = (), working_weekend_days: Iterable[date] = (),
           roll_forward: bool = False) -> LawCalendar:
        return cls(frozenset(days_off), frozenset(working_weekend_days), roll_forward)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_weekend_days:
            return True
        return day.weekday() < 5 and day not in self.days_off


PLAIN = LawCalendar()  # weekends only, no holidays: what a test or a tool without data uses

# A period longer than this many days is refused (a typo such as 1000 working days would otherwise
# walk years of calendar).
MAX_DAYS = 3660


def add_days(start: date, days: int, kind: str | DayKind = DayKind.CALENDAR,
             calendar: LawCalendar = PLAIN) -> date:
    """The last day of a period of ``days`` days (calendar or working) counted from ``start``.

    ``start`` is the day of the event (receipt, return, opening); it does not count.  ``days == 0``
    gives ``start`` itself.
    """
    kind = DayKind(kind)
    if not 0 <= days <= MAX_DAYS:
        raise ValueError(f"a period of {days} days is out of range (0..{MAX_DAYS})")
    if kind == DayKind.CALENDAR:
        end = start + timedelta(days=days)
        if calendar.roll_forward and days > 0:
            while not calendar.is_working_day(end):
                end += timedelta(days=1)
        return end
    day, left = start, days
    while left:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            left -= 1
    return day


def earliest_start_not_late(today: date, days: int, kind: str | DayKind = DayKind.CALENDAR,
                            calendar: LawCalendar = PLAIN) -> date:
    """The first start day whose period has not run out by ``today`` (``add_days(s, ...) >= today``).

    ``add_days`` never decreases as ``start`` grows, so "overdue on ``today``" is exactly "started
    before this day": the lists turn that into one SQL comparison per round and window.
    """
    kind = DayKind(kind)
    if kind == DayKind.CALENDAR and not calendar.roll_forward:
        return today - timedelta(days=days)
    start = today
    # step back while the day before still runs out on or after today
    while add_days(start - timedelta(days=1), days, kind, calendar) >= today:
        start -= timedelta(days=1)
    return start


def working_days_between(start: date, end: date, calendar: LawCalendar = PLAIN) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += calendar.is_working_day(day)
    return count
