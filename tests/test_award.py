"""The award (issue 14 item 8): the President's decision records title, number and date, and the bonus
that comes with the title is coefficient x the base salary in force on the decision date (a dated table).

Through the API (``record_award``), the government officer's decision page (field errors, 422), the
administrator's base-salary page, the lists and exports, and the public results.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.demo import run_session
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, BaseSalary, Nomination, TransitionLog
from artisan_awards.schemas import CouncilIn
from artisan_awards.services import awards, councils
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import today
from tests.factories import Factory
from workflows.states import Action, State

SEEDED_2024 = 2_340_000  # migration 0021: in force from 01/07/2024 (unverified)


class Road:
    """People and councils of one round, to bring dossiers to the President through the operations."""

    def __init__(self, make: Factory):
        self.make = make
        self.officer = make.user("province_officer", "HNI")
        self.ministry = make.user("ministry_officer")
        self.government = make.user("government_officer")
        self.round = make.round(consultation_days=0)
        self.councils = {}
        roles = {"province": "province_council_member", "ministry": "ministry_council_member",
                 "state": "state_council_member"}
        for level, role in roles.items():
            members = [make.user(role, "HNI" if level == "province" else None) for _ in range(3)]
            secretariat = self.officer if level == "province" else self.ministry
            self.councils[level] = (secretariat, councils.create_council(secretariat, CouncilIn.model_validate({
                "level": level, "round_id": self.round.id, "name": f"Hội đồng {level}", "decision_no": "7/QĐ",
                "province_code": "HNI" if level == "province" else None,
                "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                            for i, u in enumerate(members)]})))

    def to_president(self, title="meritorious", **overrides) -> Nomination:
        extra = {"meritorious_title": {"decision_no": "12/QĐ-CTN", "decision_date": "2019-11-20",
                                       "field": "handicraft"}} if title == "people" else {}
        n = self.make.nomination(State.ACCEPTED, officer=self.officer, round_id=self.round.id, title=title,
                                 **extra, **overrides)
        run_session(*self.councils["province"], [n])
        service.perform(n, Action.FORWARD_TO_MINISTRY, self.officer)
        run_session(*self.councils["ministry"], [n])
        service.perform(n, Action.OPEN_CONSULTATION, self.ministry)
        service.perform(n, Action.FORWARD_TO_STATE, self.ministry)
        run_session(*self.councils["state"], [n])
        service.perform(n, Action.OPEN_CONSULTATION, self.ministry)
        service.perform(n, Action.SUBMIT_TO_PM, self.ministry)
        service.perform(n, Action.SUBMIT_TO_PRESIDENT, self.government)
        assert n.state == State.SUBMITTED_TO_PRESIDENT
        return n


@pytest.fixture
def road(app, make):
    app.config["TODAY"] = None
    return Road(make)


def test_seeded_base_salaries_and_the_one_in_force(app):
    rows = awards.history()
    assert [(r.effective_from, r.amount_vnd, r.verified) for r in rows] == [
        (date(2024, 7, 1), 2_340_000, False), (date(2023, 7, 1), 1_800_000, False)]
    assert awards.base_salary_on(date(2024, 6, 30)).amount_vnd == 1_800_000
    assert awards.base_salary_on(date(2024, 7, 1)).amount_vnd == 2_340_000
    assert awards.base_salary_on(date(2023, 6, 30)) is None and awards.compute("people", date(2020, 1, 1)) is None
    # 12.5 x 2 340 000 and 9.0 x 2 340 000; 12.5 x 1 800 000 and 9 x 1 800 000 (16.2 million: the press figure)
    assert awards.compute("people", date(2025, 1, 1)).bonus_vnd == 29_250_000
    assert awards.compute("meritorious", date(2025, 1, 1)).bonus_vnd == 21_060_000
    assert awards.compute("people", date(2024, 1, 1)).bonus_vnd == 22_500_000
    assert awards.compute("meritorious", date(2024, 1, 1)).bonus_vnd == 16_200_000


def test_coefficients_are_configuration(app):
    app.config["AWARD_COEFFICIENTS"] = {"people": 13.25, "meritorious": 9.5}
    award = awards.compute("people", date(2025, 1, 1))
    assert award.coefficient == awards.coefficient("people") and award.bonus_vnd == 31_005_000  # 13.25 x 2 340 000
    assert awards.compute("meritorious", date(2025, 1, 1)).bonus_vnd == 22_230_000


@pytest.mark.parametrize("title,bonus", [("people", 29_250_000), ("meritorious", 21_060_000)])
def test_record_award_through_the_api_computes_and_keeps_the_bonus(road, api, title, bonus):
    n = road.to_president(title)
    on = today()
    r = api.post(f"/api/v1/nominations/{n.id}/actions/record_award", road.government,
                 json={"decision_no": "2050/QĐ-CTN", "decision_date": on.isoformat(), "title": title})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "awarded" and out["decision_no"] == "2050/QĐ-CTN"
    assert out["award"] == {"decision_no": "2050/QĐ-CTN", "decision_date": on.isoformat(), "title": title,
                            "coefficient": {"people": 12.5, "meritorious": 9.0}[title],
                            "base_salary_vnd": SEEDED_2024, "bonus_vnd": bonus}
    db.session.refresh(n)
    assert (n.award_title, n.award_base_salary_vnd, n.award_bonus_vnd) == (title, SEEDED_2024, bonus)
    log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id)
                             .order_by(TransitionLog.id.desc())).first()
    assert log.action == "record_award" and log.meta["bonus_vnd"] == bonus and log.meta["title"] == title
    # a later base salary never rewrites a decision already recorded
    awards.add_base_salary(road.make.user("admin"), on - timedelta(days=1), 3_000_000, "Nghị định thử")
    assert api.get(f"/api/v1/nominations/{n.id}", road.government).get_json()["award"]["bonus_vnd"] == bonus


def test_the_base_salary_in_force_on_the_decision_date_is_used(road, api, app):
    admin = road.make.user("admin")
    on = today()
    awards.add_base_salary(admin, on - timedelta(days=3), 2_500_000, "Nghị định thử nghiệm", verified=True)
    early, late = road.to_president("people"), road.to_president("people")
    out = api.post(f"/api/v1/nominations/{late.id}/actions/record_award", road.government,
                   json={"decision_no": "1/QĐ-CTN", "decision_date": on.isoformat()}).get_json()
    assert out["award"]["base_salary_vnd"] == 2_500_000 and out["award"]["bonus_vnd"] == 31_250_000
    # the decision dated the day before the new salary: the previous row (the dossier was filed earlier)
    app.config["TODAY"] = None
    db.session.execute(sa.update(Nomination).where(Nomination.id == early.id)
                       .values(submitted_at=early.submitted_at - timedelta(days=30)))
    db.session.commit()
    out = api.post(f"/api/v1/nominations/{early.id}/actions/record_award", road.government,
                   json={"decision_no": "2/QĐ-CTN", "decision_date": (on - timedelta(days=4)).isoformat()}).get_json()
    assert out["award"]["base_salary_vnd"] == SEEDED_2024 and out["award"]["bonus_vnd"] == 29_250_000


def test_a_wrong_decision_is_refused_field_by_field_and_nothing_changes(road, api):
    n = road.to_president("meritorious")
    url = f"/api/v1/nominations/{n.id}/actions/record_award"
    on = today()
    cases = [
        ({}, {"decision_no", "decision_date"}),
        ({"decision_no": "QĐ-CTN", "decision_date": on.isoformat()}, {"decision_no"}),
        ({"decision_no": "5/QĐ-CTN", "decision_date": (on + timedelta(days=1)).isoformat()}, {"decision_date"}),
        ({"decision_no": "5/QĐ-CTN", "decision_date": "2020-01-01"}, {"decision_date"}),  # before filing
        ({"decision_no": "5/QĐ-CTN", "decision_date": on.isoformat(), "title": "people"}, {"title"}),
    ]
    for body, fields in cases:
        r = api.post(url, road.government, json=body)
        assert r.status_code == 422, (body, r.get_json())
        assert set(r.get_json()["error"]["fields"]) == fields, body
    r = api.post(url, road.government, json={"decision_no": "5/QĐ-CTN", "decision_date": "2026-02-30"})
    assert r.status_code in (400, 422)
    db.session.refresh(n)
    assert n.state == State.SUBMITTED_TO_PRESIDENT and n.award_bonus_vnd is None and n.decision_no is None
    # only the government officer records it
    assert api.post(url, road.ministry, json={"decision_no": "5/QĐ", "decision_date": on.isoformat()}
                    ).status_code == 403


def test_decision_page_records_the_award_with_field_errors_first(road, client, app):
    n = road.to_president("people")
    client.post("/login", data={"email": road.government.email, "password": Factory.PASSWORD})
    page = client.get(f"/nominations/{n.id}")
    assert f"/nominations/{n.id}/decision".encode() in page.data  # the dossier links to the decision form
    r = client.get(f"/nominations/{n.id}/decision")
    assert r.status_code == 200 and "Tiền thưởng dự kiến".encode() in r.data and b"29.250.000" in r.data
    on = today()
    bad = client.post(f"/nominations/{n.id}/decision", data={
        "outcome": "record_award", "decision_no": "", "decision_date": "30/02/2026", "title": "meritorious"})
    assert bad.status_code == 422
    text = bad.data.decode()
    assert "Ngày không hợp lệ" in text
    bad = client.post(f"/nominations/{n.id}/decision", data={
        "outcome": "record_award", "decision_no": "", "decision_date": (on + timedelta(days=2)).isoformat(),
        "title": "meritorious"})
    text = bad.data.decode()
    assert bad.status_code == 422 and "Cần số quyết định của Chủ tịch nước." in text
    assert "Ngày quyết định không được sau ngày hôm nay." in text
    db.session.refresh(n)
    assert n.state == State.SUBMITTED_TO_PRESIDENT
    ok = client.post(f"/nominations/{n.id}/decision", data={
        "outcome": "record_award", "decision_no": "2050/QĐ-CTN", "decision_date": on.isoformat(),
        "title": "people", "comment": "Quyết định phong tặng đợt thử."})
    assert ok.status_code == 302
    db.session.refresh(n)
    assert n.state == State.AWARDED and n.award_bonus_vnd == 29_250_000
    shown = client.get(f"/nominations/{n.id}").data.decode()
    assert "2050/QĐ-CTN" in shown and "29.250.000" in shown and "Tiền thưởng" in shown
    # the lists and the finance export
    listed = client.get("/ministry/nominations?state=awarded").data.decode()
    assert "29.250.000" in listed
    body = client.get("/ministry/nominations/export.csv?state=awarded").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    mine = [row for row in rows if row["Mã hồ sơ"] == n.code]
    assert mine and mine[0]["Tiền thưởng (đồng)"] == "29250000" and mine[0]["Lương cơ sở (đồng)"] == "2340000"
    assert mine[0]["Số quyết định phong tặng"] == "2050/QĐ-CTN" and mine[0]["Hệ số"] == "12.5"
    # the public results show the award
    public = client.get("/public/results").data.decode()
    assert n.full_name in public and "2050/QĐ-CTN" in public and "Đã được Chủ tịch nước phong tặng" in public


def test_decision_page_not_awarded_and_who_may_open_it(road, client, make):
    n = road.to_president("meritorious")
    client.post("/login", data={"email": road.ministry.email, "password": Factory.PASSWORD})
    assert client.get(f"/nominations/{n.id}/decision").status_code == 403
    client.post("/logout")
    client.post("/login", data={"email": road.government.email, "password": Factory.PASSWORD})
    r = client.post(f"/nominations/{n.id}/decision", data={"outcome": "record_not_awarded",
                                                           "comment": "Chưa đủ điều kiện."})
    assert r.status_code == 302
    db.session.refresh(n)
    assert n.state == State.NOT_AWARDED and n.award_bonus_vnd is None
    # a second decision is refused, nothing changes
    r = client.post(f"/nominations/{n.id}/decision", data={
        "outcome": "record_award", "decision_no": "1/QĐ-CTN", "decision_date": today().isoformat()})
    assert r.status_code == 409
    db.session.refresh(n)
    assert n.state == State.NOT_AWARDED


def test_admin_adds_a_base_salary_on_its_page(client, make):
    admin = make.user("admin")
    client.post("/login", data={"email": admin.email, "password": Factory.PASSWORD})
    page = client.get("/admin/base-salaries")
    assert page.status_code == 200 and "2.340.000" in page.data.decode()
    bad = client.post("/admin/base-salaries", data={"effective_from": "2024-07-01", "amount_vnd": "hai triệu",
                                                    "legal_basis": ""})
    text = bad.data.decode()
    assert bad.status_code == 422 and "Nhập mức lương bằng số đồng" in text
    bad = client.post("/admin/base-salaries", data={"effective_from": "2024-07-01", "amount_vnd": "2.500.000",
                                                    "legal_basis": ""})
    text = bad.data.decode()
    assert bad.status_code == 422 and "Đã có mức lương cơ sở áp dụng từ ngày này." in text
    assert "Cần căn cứ pháp lý" in text
    bad = client.post("/admin/base-salaries", data={"effective_from": "2026-07-01", "amount_vnd": "99",
                                                    "legal_basis": "Nghị định"})
    assert bad.status_code == 422 and "100 000" in bad.data.decode()
    ok = client.post("/admin/base-salaries", data={"effective_from": "2026-07-01", "amount_vnd": "2 530 000 đ",
                                                   "legal_basis": "Nghị định thử nghiệm", "verified": "y"})
    assert ok.status_code == 302
    row = db.session.scalar(sa.select(BaseSalary).where(BaseSalary.effective_from == date(2026, 7, 1)))
    assert row.amount_vnd == 2_530_000 and row.verified and row.created_by_id == admin.id
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "base_salary_added")).one()
    assert event.details["amount_vnd"] == 2_530_000 and event.actor_id == admin.id
    assert awards.base_salary_on(date(2026, 7, 2)).amount_vnd == 2_530_000
    # only the administrator
    client.post("/logout")
    officer = make.user("ministry_officer")
    client.post("/login", data={"email": officer.email, "password": Factory.PASSWORD})
    assert client.get("/admin/base-salaries").status_code == 403
    assert client.post("/admin/base-salaries", data={"effective_from": "2027-01-01", "amount_vnd": "3000000",
                                                     "legal_basis": "x"}).status_code == 403
