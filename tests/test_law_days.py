"""The law's own days (issue 14, item 7): calendar or working days per window, a holiday calendar as
data (Tết, public holidays, compensatory days off, swapped Saturdays), one deadline function."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Nomination, PublicHoliday, Round, forget_law_calendar, window_due
from artisan_awards.services.law import reference_holidays
from artisan_awards.services.queries import Deadlines
from artisan_awards.timeutil import VN
from workflows.law_days import PLAIN, LawCalendar, add_days, earliest_start_not_late, working_days_between
from workflows.states import State

D = date.fromisoformat
# Tết Bính Ngọ 2026 as the seed file has it: Monday 16 to Friday 20 February off (14-22 with the weekends).
TET_2026 = LawCalendar.of(D("2026-02-16") + timedelta(days=i) for i in range(5))
# 2025: Friday 2 May off, Saturday 26 April worked in exchange; 30 April and 1 May are holidays.
MAY_2025 = LawCalendar.of([D("2025-04-30"), D("2025-05-01"), D("2025-05-02")], [D("2025-04-26")])


@pytest.mark.parametrize("start, days, kind, calendar, expected", [
    # calendar days: a plain count, whatever the weekday (the day of the event does not count)
    ("2026-12-04", 10, "calendar", PLAIN, "2026-12-14"),
    ("2026-02-12", 10, "calendar", TET_2026, "2026-02-22"),
    ("2026-12-04", 0, "calendar", PLAIN, "2026-12-04"),
    # working days across a weekend: Friday + 1 is Monday, Friday + 5 is the next Friday
    ("2026-12-04", 1, "working", PLAIN, "2026-12-07"),
    ("2026-12-04", 5, "working", PLAIN, "2026-12-11"),
    ("2026-12-05", 1, "working", PLAIN, "2026-12-07"),  # an event on a Saturday: Monday is day 1
    ("2026-12-07", 10, "working", PLAIN, "2026-12-21"),
    # across Tết 2026: Thursday 12 Feb + 10 working days = Friday 13, then 23-27 Feb, then 2-5 March
    ("2026-02-12", 10, "working", TET_2026, "2026-03-05"),
    ("2026-02-12", 1, "working", TET_2026, "2026-02-13"),
    ("2026-02-13", 1, "working", TET_2026, "2026-02-23"),
    ("2026-02-12", 10, "working", PLAIN, "2026-02-26"),  # the same without the holiday: a week earlier
    # a swapped Saturday counts, the compensatory Friday does not
    ("2025-04-25", 1, "working", MAY_2025, "2025-04-26"),
    ("2025-04-29", 1, "working", MAY_2025, "2025-05-05"),
    ("2025-04-24", 3, "working", MAY_2025, "2025-04-28"),  # Fri 25, Sat 26 (worked), Mon 28
    # Civil Code Art. 148 cl. 5, when configured: a calendar period ending on a day off ends on the next working day
    ("2026-02-06", 10, "calendar", LawCalendar.of(TET_2026.days_off, roll_forward=True), "2026-02-23"),
    ("2026-12-04", 8, "calendar", LawCalendar.of(roll_forward=True), "2026-12-14"),
])
def test_add_days_table(start, days, kind, calendar, expected):
    assert add_days(D(start), days, kind, calendar) == D(expected)


@pytest.mark.parametrize("bad", [-1, 100000])
def test_a_period_out_of_range_is_refused(bad):
    with pytest.raises(ValueError):
        add_days(D("2026-01-01"), bad, "working")
    with pytest.raises(ValueError):
        add_days(D("2026-01-01"), 3, "fortnights")


@pytest.mark.parametrize("kind, calendar", [
    ("calendar", PLAIN), ("working", PLAIN), ("working", TET_2026), ("working", MAY_2025),
    ("calendar", LawCalendar.of(TET_2026.days_off, roll_forward=True)),
])
@pytest.mark.parametrize("days", [0, 1, 5, 10, 15])
def test_the_sql_cutoff_agrees_with_the_function(kind, calendar, days):
    """overdue on ``today`` (today > due) exactly when the clock started before the cutoff day."""
    for today in (D("2026-02-20"), D("2026-02-23"), D("2026-03-06"), D("2025-05-05"), D("2025-04-27")):
        cutoff = earliest_start_not_late(today, days, kind, calendar)
        for offset in range(-40, 3):
            start = today + timedelta(days=offset)
            assert (today > add_days(start, days, kind, calendar)) == (start < cutoff), (today, start)


def test_working_days_between():
    assert working_days_between(D("2026-02-12"), D("2026-03-05"), TET_2026) == 10
    assert working_days_between(D("2026-12-04"), D("2026-12-07")) == 1
    assert working_days_between(D("2026-12-07"), D("2026-12-04")) == 0


def test_the_seed_calendar_has_each_year_with_sources():
    rows = reference_holidays()
    for year in (2025, 2026, 2027):
        mine = [r for r in rows if r["day"].year == year]
        assert any("Tết Nguyên đán" in r["name"] for r in mine), year
        assert all(r["source"] and r["confidence"] in "HML" for r in mine)
    assert all(r["day"].weekday() >= 5 for r in rows if r["kind"] == "work")


# -- on the database ---------------------------------------------------------------------------

def _at(day: str) -> datetime:
    return datetime.combine(D(day), time(9), tzinfo=VN).astimezone(UTC)


def test_reply_deadline_in_working_days_across_tet(app, make):
    """The seeded calendar is in the database: 10 working days from Thursday 12 Feb 2026 end on 5 March."""
    assert db.session.get(PublicHoliday, D("2026-02-17")).kind == "off"
    round_ = make.round(reply_day_kind="working", completion_day_kind="working")
    n = make.nomination(State.SUBMITTED)
    n.round_id = round_.id
    n.received_at = _at("2026-02-12")
    db.session.commit()
    forget_law_calendar()
    assert n.due_date() == D("2026-03-05")
    assert window_due(State.RETURNED, None, _at("2026-02-13"), round_) == add_days(
        D("2026-02-13"), 15, "working", TET_2026)
    for on, late in (("2026-03-05", False), ("2026-03-06", True)):
        deadlines = Deadlines([round_], D(on))
        assert deadlines.is_overdue(n) is late
        found = db.session.scalar(sa.select(sa.func.count()).select_from(Nomination)
                                  .where(Nomination.id == n.id, deadlines.overdue_clause()))
        assert found == int(late), on


def test_calendar_days_stay_plain_and_a_weekend_counts_in_working_days(app, make):
    calendar_round = make.round()
    working_round = make.round(reply_day_kind="working")
    rows = []
    for r in (calendar_round, working_round):
        n = make.nomination(State.SUBMITTED)
        n.round_id, n.received_at = r.id, _at("2026-12-04")  # a Friday
        rows.append(n)
    db.session.commit()
    forget_law_calendar()
    assert rows[0].due_date() == D("2026-12-14")  # 10 calendar days
    assert rows[1].due_date() == D("2026-12-18")  # 10 working days: two weekends skipped
    deadlines = Deadlines([calendar_round, working_round], D("2026-12-15"))
    late = set(db.session.scalars(sa.select(Nomination.id).where(
        Nomination.id.in_([n.id for n in rows]), deadlines.overdue_clause())))
    assert late == {rows[0].id}


def test_the_administrator_edits_the_calendar_and_deadlines_follow(client, auth, make):
    round_ = make.round(reply_day_kind="working")
    n = make.nomination(State.SUBMITTED)
    n.round_id, n.received_at = round_.id, _at("2026-12-04")
    db.session.commit()
    auth.login_as("admin")
    page = client.get("/admin/holidays?year=2026")
    assert page.status_code == 200 and "Tết Nguyên đán" in page.get_data(as_text=True)
    r = client.post("/admin/holidays", data={"day": "2026-12-08", "kind": "off", "name": "Nghỉ đột xuất",
                                              "source": "Quyết định thử", "confidence": "H"})
    assert r.status_code == 302
    forget_law_calendar()
    db.session.expire_all()
    assert db.session.get(Nomination, n.id).due_date() == D("2026-12-21")
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "holiday_changed")).all()
    assert events and events[-1].target_label == "2026-12-08"
    # a swapped working day must be a weekend day; a bad date is a Vietnamese 422, not a 500
    r = client.post("/admin/holidays", data={"day": "2026-12-09", "kind": "work", "name": "Làm bù"})
    assert r.status_code == 422 and "thứ Bảy" in r.get_data(as_text=True)
    r = client.post("/admin/holidays", data={"day": "không-phải-ngày", "kind": "off", "name": "x"})
    assert r.status_code == 422 and "Cần ngày" in r.get_data(as_text=True)
    r = client.post("/admin/holidays", data={"day": "2026-12-08", "delete": "1"})
    assert r.status_code == 302 and db.session.get(PublicHoliday, D("2026-12-08")) is None


def test_only_the_administrator_edits_the_calendar(client, auth):
    auth.login_as("ministry_officer")
    assert client.get("/admin/holidays").status_code in (403, 404)
    assert client.post("/admin/holidays", data={"day": "2026-12-08", "kind": "off",
                                                 "name": "x"}).status_code in (403, 404)


def test_the_round_plan_says_working_days(client, auth, make):
    round_ = make.round()
    auth.login_as("admin")
    form = client.get(f"/admin/rounds/{round_.id}").get_data(as_text=True)
    assert "ngày làm việc" in form
    data = {"number": round_.number, "name": round_.name, "governing_decree": "43/2024",
            "intake_opens": round_.intake_opens.isoformat(), "intake_closes": round_.intake_closes.isoformat(),
            "reply_days": 10, "completion_days": 15, "consultation_days": 20, "consultation_windows": 2,
            "reply_day_kind": "working", "completion_day_kind": "calendar", "consultation_day_kind": "working"}
    r = client.post(f"/admin/rounds/{round_.id}", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    db.session.expire_all()
    row = db.session.get(Round, round_.id)
    assert (row.reply_day_kind, row.completion_day_kind, row.consultation_day_kind) == (
        "working", "calendar", "working")


def test_holidays_sync_keeps_edits(app, runner):
    row = db.session.get(PublicHoliday, D("2026-01-01"))
    row.name = "Đã sửa"
    db.session.delete(db.session.get(PublicHoliday, D("2027-01-01")))
    db.session.commit()
    result = runner.invoke(args=["holidays", "sync"])
    assert result.exit_code == 0 and result.output.strip() == "1 days added"
    db.session.expire_all()
    assert db.session.get(PublicHoliday, D("2026-01-01")).name == "Đã sửa"
    assert db.session.get(PublicHoliday, D("2027-01-01")) is not None
