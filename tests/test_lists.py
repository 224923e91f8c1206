"""Lists and the dashboard: overdue in SQL, pages, a query count that does not grow, charts = lists."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, Round
from artisan_awards.services import queries
from artisan_awards.timeutil import VN, today
from tests.test_councils import Chain
from workflows.states import State


@pytest.fixture
def count_queries(app):
    """``with count_queries() as statements:`` collects every SQL statement sent meanwhile."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def before(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)

    return counting


def set_times(nomination, **values):
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id).values(**values))
    db.session.commit()
    db.session.refresh(nomination)


def vn_moment(day, hour, minute=0):
    """A moment given in Vietnam's local time, as the UTC datetime stored in the database."""
    return datetime.combine(day, time(hour, minute), tzinfo=VN).astimezone(UTC)


def listed_total(html: str) -> int:
    found = re.search(r'role="status">(?:Hơn )?([\d ]+) hồ sơ', html)
    assert found, html[:2000]
    return int(found.group(1).replace(" ", ""))


# -- overdue: one rule, in SQL and in Python --------------------------------------------------


def test_overdue_in_sql_agrees_with_each_rows_due_date_at_the_boundaries(app, make):
    on = today()
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    base = make.round()
    plan_round = make.round(deadlines={"province_to_ministry": (on - timedelta(days=1)).isoformat(),
                                       "ministry_to_state": on.isoformat()}, reply_days=5)
    rows = {}
    # the 10-day reply: received 10 days ago is due today (not overdue); 11 days ago is overdue,
    # including at 00:05 and 23:55 local time, where a UTC date would be a day off
    for label, moment in {
        "reply_10_days_late_evening": vn_moment(on - timedelta(days=10), 23, 55),
        "reply_10_days_early": vn_moment(on - timedelta(days=10), 0, 5),
        "reply_11_days_early": vn_moment(on - timedelta(days=11), 0, 5),
        "reply_11_days_late_evening": vn_moment(on - timedelta(days=11), 23, 55),
    }.items():
        rows[label] = make.nomination(State.SUBMITTED, owner=owner, officer=officer, round_id=base.id)
        set_times(rows[label], received_at=moment)
    # a round with a 5-day reply window: 6 days ago is overdue there
    rows["reply_5_day_round"] = make.nomination(State.SUBMITTED, owner=owner, officer=officer,
                                                round_id=plan_round.id)
    set_times(rows["reply_5_day_round"], received_at=vn_moment(on - timedelta(days=6), 12))
    for label, days in {"completion_15": 15, "completion_16": 16}.items():
        rows[label] = make.nomination(State.RETURNED, owner=owner, officer=officer, round_id=base.id)
        set_times(rows[label], returned_at=vn_moment(on - timedelta(days=days), 9))
    # the plan: "province_to_ministry" passed yesterday (late), "ministry_to_state" is today (not late)
    rows["plan_province_late"] = make.nomination(State.ACCEPTED, owner=owner, officer=officer,
                                                 round_id=plan_round.id)
    rows["plan_ministry_today"] = make.nomination(State.ACCEPTED, owner=owner, officer=officer,
                                                  round_id=plan_round.id)
    set_times(rows["plan_ministry_today"], state=State.MINISTRY_REVIEW)
    rows["accepted_no_plan"] = make.nomination(State.ACCEPTED, owner=owner, officer=officer, round_id=base.id)
    rows["draft"] = make.nomination(State.DRAFT, owner=owner, round_id=base.id)

    deadlines = queries.Deadlines(list(db.session.scalars(sa.select(Round))), on)
    in_sql = set(db.session.scalars(sa.select(Nomination.id).where(deadlines.overdue_clause())))
    in_python = {n.id for n in rows.values() if deadlines.is_overdue(n)}
    assert in_sql == in_python
    expected = {"reply_11_days_early", "reply_11_days_late_evening", "reply_5_day_round", "completion_16",
                "plan_province_late"}
    assert {label for label, n in rows.items() if n.id in in_sql} == expected
    # the model's own clocks say the same for the 10/15-day windows
    for label in ("reply_10_days_late_evening", "reply_10_days_early", "reply_11_days_early", "completion_16"):
        assert rows[label].is_overdue(on) == (label in expected)
    assert deadlines.due(rows["plan_ministry_today"]) == on


def test_overdue_only_filters_and_paginates_in_the_database(client, auth, make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    late = []
    for i in range(53):
        n = make.nomination(State.SUBMITTED, owner=owner, officer=officer, nominee={"full_name": f"Quá Hạn {i:02d}"})
        late.append(n.id)
    db.session.execute(sa.update(Nomination).where(Nomination.id.in_(late))
                       .values(received_at=datetime.now(UTC) - timedelta(days=12)))
    db.session.commit()
    for i in range(4):
        make.nomination(State.SUBMITTED, owner=owner, officer=officer, nominee={"full_name": f"Đúng Hạn {i}"})
    auth.login(officer.email)
    first = client.get("/province/inbox?overdue=1").get_data(as_text=True)
    assert listed_total(first) == 53
    assert first.count('class="row-overdue"') == 50 and "Đúng Hạn" not in first
    second = client.get("/province/inbox?overdue=1&page=2").get_data(as_text=True)
    assert second.count('class="row-overdue"') == 3 and "Trang trước" in second
    everything = client.get("/province/inbox").get_data(as_text=True)
    assert listed_total(everything) == 57 and "Trang sau" in everything
    # the ministry's list and the council agenda flag with the same rule
    auth.logout()
    auth.login_as("admin")  # every province at every stage (a ministry officer: from the ministry on)
    national = client.get("/ministry/nominations?overdue=1").get_data(as_text=True)
    assert listed_total(national) == 53


def test_plan_deadlines_flag_the_ministry_list_the_agenda_and_the_applicants_list(client, auth, make):
    on = today()
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    on_time_round = make.round(deadlines={"province_to_ministry": (on + timedelta(days=3)).isoformat()})
    late_round = make.round(deadlines={"province_to_ministry": (on - timedelta(days=3)).isoformat()})
    late = make.nomination(State.ACCEPTED, owner=owner, officer=officer, round_id=late_round.id,
                           nominee={"full_name": "Trễ Kế Hoạch"})
    make.nomination(State.ACCEPTED, owner=owner, officer=officer, round_id=on_time_round.id,
                    nominee={"full_name": "Kịp Kế Hoạch"})
    auth.login(officer.email)
    agenda = client.get("/council/agenda").get_data(as_text=True)
    row = agenda[agenda.index("Trễ Kế Hoạch") - 600:agenda.index("Trễ Kế Hoạch") + 900]
    assert "row-overdue" in row and "Quá hạn 3 ngày" in row
    inbox = client.get("/province/inbox?overdue=1").get_data(as_text=True)
    assert "Trễ Kế Hoạch" in inbox and "Kịp Kế Hoạch" not in inbox
    auth.logout()
    auth.login(owner.email)
    mine = client.get("/my/").get_data(as_text=True)
    assert "Quá hạn 3 ngày" in mine
    assert late.state == State.ACCEPTED


# -- the query count does not grow with the number of dossiers ----------------------------------


PAGES = {
    "province_officer": ["/province/inbox", "/province/inbox?overdue=1", "/province/inbox?sort=name",
                         "/council/agenda", "/province/inbox/export.csv"],
    # the national pages as the administrator, who sees these dossiers still at the province (a ministry
    # officer sees them only from their arrival at the ministry on)
    "admin": ["/ministry/nominations", "/ministry/nominations?sort=province",
              "/ministry/nominations?overdue=1&sort=craft", "/ministry/dashboard",
              "/ministry/nominations/export.csv", "/ministry/nominations/export.xlsx"],
    "ministry_officer": ["/ministry/nominations", "/ministry/dashboard", "/ministry/comments"],
    "applicant": ["/my/"],
}


def _add(make, owner, officer, count, start):
    states = [State.SUBMITTED, State.ACCEPTED, State.RETURNED]
    for i in range(start, start + count):
        province = ("HNI", "HPG", "DNG")[i % 3] if i >= 5 else "HNI"
        make.nomination(states[i % 3], owner=owner if i % 2 == 0 else None,
                        officer=officer if province == "HNI" else None,
                        province=province, nominee={"full_name": f"Nghệ Nhân {i:03d}"})


def test_each_list_and_dashboard_page_costs_the_same_queries_with_5_and_50_dossiers(
        client, auth, make, count_queries):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    ministry = make.user("ministry_officer")
    admin = make.user("admin")
    _add(make, owner, officer, 5, 0)
    emails = {"province_officer": officer.email, "ministry_officer": ministry.email, "applicant": owner.email,
              "admin": admin.email}

    def measure() -> dict[str, int]:
        counts = {}
        for role, paths in PAGES.items():
            auth.login(emails[role])
            for path in paths:
                client.get(path)  # warm: the first request of a login may load more
                db.session.expunge_all()  # the tests share one session across requests: start empty
                with count_queries() as statements:
                    response = client.get(path)
                    assert response.status_code == 200, path
                    response.get_data()  # a streamed export runs its queries while being read
                counts[path] = len(statements)
            auth.logout()
        return counts

    small = measure()
    owner, officer = db.session.merge(owner), db.session.merge(officer)
    _add(make, owner, officer, 45, 5)
    large = measure()
    assert large == small


# -- the dashboard: the charts' numbers are the lists' numbers ------------------------------------


def test_dashboard_chart_and_table_agree_with_the_filtered_lists(client, auth, api, make):
    chain = Chain(api, make)
    make.nomination(State.SUBMITTED)
    make.nomination(State.SUBMITTED, province="HPG")
    make.nomination(State.RETURNED, province="HPG")
    make.nomination(State.WITHDRAWN)
    chain.accepted()
    chain.accepted()
    # a session under way: 5 members, 4 present, 3 ballots cast
    council, members, secretariat = chain.council("province", size=5)
    sid = chain.session(council, secretariat, [chain.accepted().id])
    assert api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                    json={"present": [m.email for m in members[:4]]}).status_code == 200
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    nomination_id = db.session.scalar(sa.select(Nomination.id).where(Nomination.state == State.PROVINCE_REVIEW))
    for member in members[:3]:
        assert api.post(f"/api/v1/sessions/{sid}/ballot", member,
                        json={"votes": {str(nomination_id): "yes"}}).status_code == 201
    # the administrator sees the whole round (a ministry officer: the dossiers from the ministry on and no
    # provincial session, tests/test_route_matrix.py)
    auth.login(make.user("admin").email)
    round_id = chain.round.id
    html = client.get(f"/ministry/dashboard?round_id={round_id}").get_data(as_text=True)
    chart = html[html.index('data-testid="stage-chart"'):html.index("</svg>", html.index('data-testid="stage-chart"'))]
    segments = {}
    for group in re.finditer(r'<g data-province="(\w+)">(.*?)</g>', chart, re.S):
        for stage, n in re.findall(r'data-stage="(\w+)" data-count="(\d+)"', group.group(2)):
            segments[(group.group(1), stage)] = int(n)
    assert segments == {("HNI", "intake"): 1, ("HNI", "province"): 3, ("HNI", "stopped"): 1,
                        ("HPG", "intake"): 2}
    # every chart segment is the count of the list it links to (same filters)
    for (province, stage), n in segments.items():
        listing = client.get("/ministry/nominations", query_string={
            "province_code": province, "round_id": round_id, "stage": stage}).get_data(as_text=True)
        assert listed_total(listing) == n, (province, stage)
        assert f'stage={stage}' in html
    # the table says the same as the chart
    table = html[html.index('data-testid="stage-table"'):]
    for (province, stage), n in segments.items():
        row = re.search(rf'<tr data-province="{province}">(.*?)</tr>', table, re.S).group(1)
        assert re.search(rf'data-stage="{stage}">{n}</a>', row)
    # the session's progress: chart and table
    session_chart = html[html.index('data-testid="session-chart"'):]
    assert f'<g data-session="{sid}">' in session_chart
    assert 'data-kind="present" data-count="4"' in session_chart
    assert 'data-kind="ballots" data-count="3"' in session_chart
    row = re.search(rf'<tr data-session="{sid}">(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", row)[:4] == ["5", "4", "3", "1"]
    # the chart is drawn on the server: no script, no external resource
    assert not re.search(r'<script(?![^>]*\bsrc="/static/)', html)


def test_dashboard_overdue_is_a_count_and_the_first_few(client, auth, make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    ids = [make.nomination(State.SUBMITTED, owner=owner, officer=officer).id for _ in range(23)]
    db.session.execute(sa.update(Nomination).where(Nomination.id.in_(ids))
                       .values(received_at=datetime.now(UTC) - timedelta(days=20)))
    db.session.commit()
    round_id = make.current_round().id
    auth.login_as("admin")  # every province at every stage (a ministry officer: from the ministry on)
    html = client.get(f"/ministry/dashboard?round_id={round_id}").get_data(as_text=True)
    assert 'data-overdue-count="23"' in html
    panel = html[html.index('data-testid="overdue"'):html.index("</section>", html.index('data-testid="overdue"'))]
    assert panel.count("<li>") == 20
    assert f"overdue=1&amp;round_id={round_id}" in panel or f"round_id={round_id}&amp;overdue=1" in panel
    listing = client.get(f"/ministry/nominations?overdue=1&round_id={round_id}").get_data(as_text=True)
    assert listed_total(listing) == 23


# -- the counters the triggers keep ---------------------------------------------------------------


def test_nomination_counts_follow_every_insert_move_and_delete(client, api, make):
    def from_counters():
        c = queries.nomination_counts.c
        return {(r, p, s): n for r, p, s, n in db.session.execute(sa.select(c.round_id, c.province_code, c.state, c.n))
                if n}

    def from_rows():
        return {(r, p, s): n for r, p, s, n in db.session.execute(
            sa.select(Nomination.round_id, Nomination.province_code, Nomination.state, sa.func.count())
            .group_by(Nomination.round_id, Nomination.province_code, Nomination.state))}

    chain = Chain(api, make)
    drafts = [make.nomination(State.DRAFT) for _ in range(2)]
    make.nomination(State.SUBMITTED, province="HPG")
    make.nomination(State.RETURNED)
    make.nomination(State.CLOSED_INCOMPLETE)
    make.nomination(State.WITHDRAWN)
    passed, rejected = chain.accepted(), chain.accepted()
    chain.vote("province", [passed], yes_votes=11)
    chain.vote("province", [rejected], yes_votes=2)
    assert from_counters() == from_rows()
    assert from_counters()[(chain.round.id, "HNI", State.PROVINCE_PASSED.value)] == 1
    # moves made behind the application's back, several rows in one statement, and deletes
    other = make.round()
    db.session.execute(sa.update(Nomination).where(Nomination.id.in_([d.id for d in drafts]))
                       .values(round_id=other.id, province_code="DNG"))
    db.session.execute(sa.update(Nomination).where(Nomination.state == State.WITHDRAWN).values(state=State.SUBMITTED))
    db.session.execute(sa.delete(Nomination).where(Nomination.id == drafts[0].id))
    db.session.commit()
    assert from_counters() == from_rows()
    # a rolled-back change leaves the counters as they were
    db.session.execute(sa.update(Nomination).values(state=State.AWARDED, decision_no="1", decision_date=today()))
    db.session.rollback()
    assert from_counters() == from_rows()
