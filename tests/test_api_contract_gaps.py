"""The contract's v1.1 additions the server did not serve (shared/api-v1.md, "Additions (v1.1)"):

1. ``GET /holidays`` (anyone) and ``POST /holidays`` (admin), kinds ``holiday``, ``day_off``, ``make_up_workday``;
2. ``GET /rounds/{id}/provinces/{code}`` (staff) and ``PUT`` (that province's officer, the ministry):
   ``{"intake_closes"}`` inside the round's window;
3. ``GET /rounds/{id}/report`` (ministry, admin): the round's record as JSON, CSV, Excel or PDF;
4. ``POST /councils/{id}/special_crafts`` (the council's secretariat);
5. the error code ``excluded_by_article_2_3``;
6. rounds take and give ``day_kinds``.
Each with its refusals: wrong role, wrong province, bad input (4xx in the API's error shape, never 500).
"""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Province, PublicHoliday, Round, SpecialCraftDecision, law_calendar
from artisan_awards.timeutil import today
from tests.test_hard_cases import council_with, special_claim
from tests.test_round_report import _round_played
from workflows.law_days import add_days
from workflows.states import State

API = "/api/v1"


def _error(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.get_data(as_text=True)[:500])
    body = r.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def _put(api, path, user=None, **kw):
    return api.client.put(path, headers=api.headers(user), **kw)


def _weekday(after: date) -> date:
    day = after
    while day.weekday() >= 5 or db.session.get(PublicHoliday, day) is not None:
        day += timedelta(days=1)
    return day


def _saturday(after: date) -> date:
    day = after
    while day.weekday() != 5 or db.session.get(PublicHoliday, day) is not None:
        day += timedelta(days=1)
    return day


# == 1. the holiday calendar =====================================================================


def test_anyone_reads_the_calendar_with_the_contracts_three_kinds(client):
    r = client.get(f"{API}/holidays", query_string={"year": 2025})
    assert r.status_code == 200
    days = {d["date"]: d for d in r.get_json()}
    assert days and all(d.startswith("2025-") for d in days)
    assert {d["kind"] for d in days.values()} == {"holiday", "day_off", "make_up_workday"}
    assert days["2025-04-30"]["kind"] == "holiday"  # a public holiday of the Labour Code
    assert days["2025-05-02"]["kind"] == "day_off"  # swapped for the Saturday worked
    assert days["2025-04-26"]["kind"] == "make_up_workday"  # that Saturday
    assert days["2025-04-30"]["name"] == "Ngày Chiến thắng 30/4"
    every = client.get(f"{API}/holidays").get_json()
    assert len(every) > len(days) and [d["date"] for d in every] == sorted(d["date"] for d in every)
    for bad in ("abc", "20251", "-1", "1800"):
        err = _error(client.get(f"{API}/holidays", query_string={"year": bad}), 422, "validation_failed")
        assert "year" in err["fields"]


def test_the_administrator_adds_and_changes_days_and_the_deadlines_count_them(api, client, people):
    start = today() + timedelta(days=400)
    monday = _weekday(start)
    while monday.weekday() != 0:
        monday = _weekday(monday + timedelta(days=1))
    before = add_days(monday - timedelta(days=3), 1, "working", law_calendar())  # the Friday before: Monday
    assert before == monday
    r = api.post(f"{API}/holidays", people.admin, json={"date": monday.isoformat(), "name": "Nghỉ thử nghiệm",
                                                          "kind": "day_off"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {**r.get_json(), "date": monday.isoformat(), "name": "Nghỉ thử nghiệm", "kind": "day_off"}
    db.session.expire_all()
    listed = {d["date"]: d for d in client.get(f"{API}/holidays", query_string={"year": monday.year}).get_json()}
    assert listed[monday.isoformat()]["kind"] == "day_off"
    # the working-day deadlines now skip that Monday
    from artisan_awards.models import forget_law_calendar

    forget_law_calendar()
    assert add_days(monday - timedelta(days=3), 1, "working", law_calendar()) == monday + timedelta(days=1)
    # the same date again changes it: now a public holiday
    r = api.post(f"{API}/holidays", people.admin, json={"date": monday.isoformat(), "name": "Lễ thử nghiệm",
                                                          "kind": "holiday"})
    assert r.status_code == 201 and r.get_json()["kind"] == "holiday"
    listed = {d["date"]: d for d in client.get(f"{API}/holidays", query_string={"year": monday.year}).get_json()}
    assert listed[monday.isoformat()] == {**listed[monday.isoformat()], "kind": "holiday", "name": "Lễ thử nghiệm"}
    # a Saturday worked
    saturday = _saturday(start)
    r = api.post(f"{API}/holidays", people.admin, json={"date": saturday.isoformat(), "name": "Làm bù thử",
                                                          "kind": "make_up_workday"})
    assert r.status_code == 201 and r.get_json()["kind"] == "make_up_workday"
    row = db.session.get(PublicHoliday, saturday)
    db.session.refresh(row)
    assert (row.kind, row.statutory) == ("work", False)


def test_the_calendar_refuses_others_and_bad_days(api, client, people):
    day = _weekday(today() + timedelta(days=500))
    body = {"date": day.isoformat(), "name": "Nghỉ thử", "kind": "holiday"}
    _error(client.post(f"{API}/holidays", json=body), 401, "unauthorized")
    for user in (people.officer, people.ministry, people.applicant):
        _error(api.post(f"{API}/holidays", user, json=body), 403, "forbidden")
    cases = [
        ({**body, "kind": "weekend"}, "kind"),
        ({**body, "date": "2026-02-30"}, "date"),
        ({**body, "date": "ngày mai"}, "date"),
        ({**body, "date": "0001-01-01"}, "date"),
        ({**body, "name": "   "}, "name"),
        ({"date": day.isoformat(), "kind": "holiday"}, "name"),
        ({**body, "kind": "make_up_workday"}, "date"),  # a weekday cannot be made a working day
    ]
    for bad, field in cases:
        err = _error(api.post(f"{API}/holidays", people.admin, json=bad), 422, "validation_failed")
        assert field in err["fields"], (bad, err)
    _error(api.post(f"{API}/holidays", people.admin, data="{not json", content_type="application/json"), 400,
           "malformed_json")
    assert db.session.get(PublicHoliday, day) is None


# == 2. a province's own intake deadline =========================================================


def test_staff_read_a_provinces_deadline_and_its_officer_or_the_ministry_set_it(api, make, people):
    rnd = make.round(intake_opens=today() - timedelta(days=5), intake_closes=today() + timedelta(days=40))
    path = f"{API}/rounds/{rnd.id}/provinces/HNI"
    r = api.get(path, people.officer_hpg)  # any staff member reads it
    assert r.status_code == 200
    assert api.get(f"{API}/rounds/{rnd.id}/provinces/hni", people.officer).get_json() == r.get_json()
    assert r.get_json() == {**r.get_json(), "round_id": rnd.id, "province_code": "HNI",
                            "intake_closes": rnd.intake_closes.isoformat(), "own_deadline": False}
    own = today() + timedelta(days=20)
    r = _put(api, path, people.officer, json={"intake_closes": own.isoformat()})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["intake_closes"] == own.isoformat() and r.get_json()["own_deadline"] is True
    assert api.get(path, people.ministry).get_json()["intake_closes"] == own.isoformat()
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).intake_closes_for("HNI") == own
    assert db.session.get(Round, rnd.id).intake_closes_for("HPG") == rnd.intake_closes  # others keep the round's
    later = own + timedelta(days=5)
    r = _put(api, path, people.ministry, json={"intake_closes": later.isoformat()})
    assert r.status_code == 200 and r.get_json()["intake_closes"] == later.isoformat()
    # null: back to the round's deadline
    r = _put(api, path, people.officer, json={"intake_closes": None})
    assert r.status_code == 200 and r.get_json()["own_deadline"] is False
    assert r.get_json()["intake_closes"] == rnd.intake_closes.isoformat()


def test_a_provinces_deadline_refuses_others_and_dates_outside_the_round(api, client, make, people):
    rnd = make.round(intake_opens=today() - timedelta(days=5), intake_closes=today() + timedelta(days=40))
    path = f"{API}/rounds/{rnd.id}/provinces/HNI"
    good = {"intake_closes": (today() + timedelta(days=10)).isoformat()}
    _error(client.get(path), 401)
    _error(api.get(path, people.applicant), 403, "forbidden")
    _error(client.put(path, json=good), 401)
    for user in (people.officer_hpg, people.applicant, people.admin):  # another province's officer; not named
        _error(_put(api, path, user, json=good), 403, "forbidden")
    _error(api.get(f"{API}/rounds/999999/provinces/HNI", people.officer), 404, "round_not_found")
    _error(api.get(f"{API}/rounds/{rnd.id}/provinces/XYZ", people.officer), 404, "province_not_found")
    _error(_put(api, f"{API}/rounds/{rnd.id}/provinces/XYZ", people.ministry, json=good), 404, "province_not_found")
    for bad in (rnd.intake_closes + timedelta(days=1), rnd.intake_opens - timedelta(days=1)):
        err = _error(_put(api, path, people.officer, json={"intake_closes": bad.isoformat()}), 422)
        assert "intake_closes" in err["fields"] and "thời hạn tiếp nhận của đợt" in err["fields"]["intake_closes"]
    for bad in ({"intake_closes": "31/12/2026"}, {"intake_closes": "2026-13-01"}, {}):
        err = _error(_put(api, path, people.officer, json=bad), 422, "validation_failed")
        assert "intake_closes" in err["fields"]
    _error(_put(api, path, people.officer, data="[", content_type="application/json"), 400, "malformed_json")
    former = db.session.scalar(sa.select(Province).where(Province.active.is_(False)).limit(1))
    if former is not None:  # a province merged away takes no dossiers
        err = _error(_put(api, f"{API}/rounds/{rnd.id}/provinces/{former.code}", people.ministry, json=good), 422)
        assert "province_code" in err["fields"]
    db.session.expire_all()
    assert db.session.get(Round, rnd.id).province_intakes == []


# == 3. the round's record =======================================================================


@pytest.fixture
def chain(api, make, app):
    from tests.test_councils import Chain

    app.config["TODAY"] = None
    return Chain(api, make)


@pytest.mark.realdb  # closes council sessions: VACUUM outside any transaction on PostgreSQL (tests/conftest.py)
def test_the_rounds_record_as_json_and_files(api, chain, make):
    (a, b, c, d), _ = _round_played(chain)
    path = f"{API}/rounds/{chain.round.id}/report"
    admin = make.user("admin")
    r = api.get(path, chain.ministry)
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    # the level counts are those the sessions stored at their close
    assert out["levels"] == {"province": {"received": 4, "passed": 3, "rejected": 1},
                             "ministry": {"received": 2, "passed": 2, "rejected": 0},
                             "state": {"received": 1, "passed": 1, "rejected": 0}}
    assert (out["awarded"], out["not_awarded"], out["withdrawn"], out["on_hold"], out["posthumous"]) == (1, 0, 1, 1, 1)
    merit = out["by_title"]["meritorious"]
    assert merit["levels"] == out["levels"] and merit["awarded"] == 1 and merit["posthumous"] == 1
    assert out["by_title"]["people"]["levels"]["province"] == {"received": 0, "passed": 0, "rejected": 0}
    hni = [p for p in out["by_province"] if p["province_code"] == "HNI"]
    assert len(hni) == 1 and hni[0]["name"] == "Hà Nội" and hni[0]["levels"]["province"]["received"] == 4
    assert hni[0]["withdrawn"] == 1 and hni[0]["on_hold"] == 1 and hni[0]["awarded"] == 1
    assert api.get(path, admin).get_json() == out
    # the files are the round page's
    body = api.get(path, chain.ministry, query_string={"format": "csv"})
    assert body.status_code == 200 and body.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(body.get_data(as_text=True).lstrip("\ufeff"))))
    assert sum(int(x["Đề nghị"]) for x in rows if x["Cấp"] == "Cấp tỉnh") == 4
    assert sum(int(x["Được phong tặng"]) for x in rows) == 1
    xlsx = api.get(path, admin, query_string={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK" and "attachment" in xlsx.headers["Content-Disposition"]
    pdf = api.get(path, chain.ministry, query_string={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "BÁO CÁO" in text and "Hà Nội" in text
    err = _error(api.get(path, chain.ministry, query_string={"format": "doc"}), 422, "validation_failed")
    assert "format" in err["fields"]
    # who may not
    for user in (chain.officer, chain.government, a.owner):
        _error(api.get(path, user), 403, "forbidden")
    _error(api.client.get(path), 401)
    _error(api.get(f"{API}/rounds/999999/report", chain.ministry), 404, "round_not_found")


def test_an_empty_rounds_record_is_all_zeros(api, make, people):
    rnd = make.round()
    out = api.get(f"{API}/rounds/{rnd.id}/report", people.ministry).get_json()
    zero = {"received": 0, "passed": 0, "rejected": 0}
    assert out["levels"] == {lv: zero for lv in ("province", "ministry", "state")}
    assert [out[k] for k in ("awarded", "not_awarded", "withdrawn", "on_hold", "posthumous")] == [0] * 5
    assert out["by_province"] == []


# == 4. the council's special-craft decision by its secretariat ===================================


def test_the_councils_secretariat_records_a_special_craft(api, make, people):
    n = special_claim(make, people)
    council, session, members = council_with(make, people.officer, [n], open_only=True)
    path = f"{API}/councils/{council.id}/special_crafts"
    body = {"nomination_id": n.id, "special": True, "rationale": "Nghề có nguy cơ thất truyền, học trên 5 năm"}
    r = api.post(path, people.officer, json=body)  # the Sở runs the provincial council
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out == {**out, "nomination_id": n.id, "council_id": council.id, "session_id": session.id,
                   "special": True, "rationale": body["rationale"]}
    m5 = next(c for c in out["eligibility"]["criteria"] if c["id"] == "M5")
    assert m5["result"] == "pass" and "thất truyền" in m5["detail"]  # the eligibility answer cites it
    dossier = api.get(f"{API}/nominations/{n.id}", people.officer).get_json()
    assert dossier["special_craft_decision"]["is_special"] is True
    r = api.post(path, people.officer, json={**body, "special": False, "rationale": "Hội đồng xét lại: nghề phổ biến"})
    assert r.status_code == 201 and r.get_json()["special"] is False
    m5 = next(c for c in api.get(f"{API}/nominations/{n.id}", people.officer).get_json()["eligibility"]["criteria"]
              if c["id"] == "M5")
    assert m5["result"] == "fail"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpecialCraftDecision)
                             .where(SpecialCraftDecision.nomination_id == n.id)) == 2


def test_special_crafts_refuses_others_and_bad_bodies(api, client, make, people):
    n = special_claim(make, people)
    council, _session, members = council_with(make, people.officer, [n], open_only=True)
    path = f"{API}/councils/{council.id}/special_crafts"
    body = {"nomination_id": n.id, "special": True, "rationale": "Nghề có nguy cơ thất truyền"}
    _error(client.post(path, json=body), 401)
    for user in (people.applicant, members[0], people.admin):  # the chair presides, the secretariat records
        _error(api.post(path, user, json=body), 403)
    _error(api.post(path, people.officer_hpg, json=body), 404, "council_not_found")  # another province's council
    _error(api.post(f"{API}/councils/999999/special_crafts", people.officer, json=body), 404, "council_not_found")
    for bad, field in [({**body, "rationale": "ngắn"}, "rationale"), ({**body, "special": "có lẽ"}, "special"),
                       ({k: v for k, v in body.items() if k != "special"}, "special"),
                       ({**body, "nomination_id": 99999999}, "nomination_id"),
                       ({**body, "nomination_id": "abc"}, "nomination_id")]:
        err = _error(api.post(path, people.officer, json=bad), 422, "validation_failed")
        assert field in err["fields"], (bad, err)
    other = special_claim(make, people)  # not on this council's agenda: the council has not decided on it
    _error(api.post(path, people.officer, json={**body, "nomination_id": other.id}), 409, "not_on_agenda")
    _error(api.post(path, people.officer, data="{", content_type="application/json"), 400, "malformed_json")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpecialCraftDecision)) == 0


# == 5. the contract's error code ================================================================


def test_an_article_2_3_exclusion_answers_the_contracts_code(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant, intangible_heritage_track=True)
    err = _error(api.post(f"{API}/nominations/{n.id}/actions/submit", people.applicant, json={}), 409,
                 "excluded_by_article_2_3")
    assert "Điều 2 khoản 3" in err["message"]


# == 6. rounds' day_kinds ========================================================================


def _round_body(number: int, **extra) -> dict:
    return {"number": number, "name": f"Đợt {number}", "intake_opens": today().isoformat(),
            "intake_closes": (today() + timedelta(days=60)).isoformat(), **extra}


def test_rounds_take_and_give_day_kinds(api, client, people):
    r = api.post(f"{API}/rounds", people.ministry, json=_round_body(
        971, day_kinds={"reply": "working", "completion": "working", "consultation": "calendar"}))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["day_kinds"] == {"reply": "working", "completion": "working", "consultation": "calendar"}
    row = db.session.get(Round, r.get_json()["id"])
    assert (row.reply_day_kind, row.completion_day_kind, row.consultation_day_kind) == ("working", "working",
                                                                                         "calendar")
    listed = {x["id"]: x for x in client.get(f"{API}/rounds").get_json()}
    assert listed[row.id]["day_kinds"] == r.get_json()["day_kinds"]
    # the flat fields (before v1.1) still work, and absent kinds are calendar days
    r = api.post(f"{API}/rounds", people.ministry, json=_round_body(972, consultation_day_kind="working"))
    assert r.status_code == 201
    assert r.get_json()["day_kinds"] == {"reply": "calendar", "completion": "calendar", "consultation": "working"}
    r = api.post(f"{API}/rounds", people.ministry, json=_round_body(973, day_kinds={"completion": "working"}))
    assert r.get_json()["day_kinds"] == {"reply": "calendar", "completion": "working", "consultation": "calendar"}


def test_rounds_refuse_bad_day_kinds(api, people):
    for bad in ({"day_kinds": {"reply": "weekdays"}}, {"day_kinds": "working"},
                {"day_kinds": {"reply": "working"}, "reply_day_kind": "calendar"}):
        r = api.post(f"{API}/rounds", people.ministry, json=_round_body(974, **bad))
        _error(r, 422, "validation_failed")
    assert db.session.scalar(sa.select(Round).where(Round.number == 974)) is None
