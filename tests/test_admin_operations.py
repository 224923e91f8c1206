"""Administration writes are operations of the services: the change and its audit event in one
transaction, the same whether a page or the API asks; a failure part-way leaves neither."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.errors import ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Council, CouncilMember, Round
from artisan_awards.schemas import CouncilIn, RoundIn
from artisan_awards.services import account_admin, admin_events, councils, queries, rounds
from artisan_awards.timeutil import local_date, now_utc


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def council_body(round_id: int, chair, member, name: str, *others) -> dict:
    """A council of the chair, ``member`` and ``others`` (the suite's configured size is 3 to 20)."""
    return {"level": "province", "province_code": "HNI", "round_id": round_id, "name": name,
            "decision_no": "12/QĐ-UBND", "decision_date": "2026-03-01",
            "members": [{"email": chair.email, "position": "chair"},
                        *({"email": m.email, "position": "member"} for m in (member, *others))]}


def test_council_created_by_page_and_by_api_both_have_their_audit_event(client, api, auth, make):
    intake = make.round()
    chair = make.user("province_council_member", "HNI")
    member = make.user("province_council_member", "HNI")
    third = make.user("province_council_member", "HNI")
    api_officer = make.user("province_officer", "HNI")
    r = api.post("/api/v1/councils", api_officer, json=council_body(intake.id, chair, member, "HĐ qua API", third))
    assert r.status_code == 201, r.get_json()
    by_api = r.get_json()["id"]

    page_officer = auth.login_as("province_officer", "HNI")
    r = client.post("/admin/councils/new", data={
        "level": "province", "round_id": intake.id, "province_code": "HNI", "name": "HĐ qua trang",
        "decision_no": "13/QĐ-UBND", "decision_date": "2026-03-02",
        f"position-{chair.id}": "chair", f"position-{member.id}": "member", f"position-{third.id}": "member",
    })
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    by_page = db.session.scalar(sa.select(Council.id).where(Council.name == "HĐ qua trang"))

    created = {e.target_id: e for e in events("council_created")}
    assert set(created) == {by_api, by_page}  # one event each, no more
    assert created[by_api].actor_id == api_officer.id and created[by_page].actor_id == page_officer.id
    assert created[by_api].details["decision_no"] == "12/QĐ-UBND"
    assert sorted(m[0] for m in created[by_page].details["members"]) == sorted([chair.id, member.id, third.id])


@pytest.mark.realdb  # reads the tables afresh after the failure
def test_a_failure_after_the_council_insert_leaves_neither_council_nor_event(make, monkeypatch):
    intake = make.round()
    chair, member = make.user("province_council_member", "HNI"), make.user("province_council_member", "HNI")
    third = make.user("province_council_member", "HNI")
    officer = make.user("province_officer", "HNI")
    real_record = admin_events.record
    seen = []

    def record_then_fail(*args, **kwargs):
        real_record(*args, **kwargs)
        seen.append(db.session.scalar(sa.select(sa.func.count()).select_from(Council)))  # inserted by now
        raise RuntimeError("disk full")

    monkeypatch.setattr(admin_events, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        councils.create_council(officer, CouncilIn.model_validate(council_body(intake.id, chair, member, "HĐ", third)))
    assert seen == [1]
    db.session.commit()  # a later write in the same request would store what the service left behind
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Council)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CouncilMember)) == 0
    assert events("council_created") == []


def test_a_refused_council_writes_nothing_and_leaves_the_session_usable(make):
    intake = make.round()
    chair = make.user("province_council_member", "HNI")
    officer = make.user("province_officer", "HNI")
    body = council_body(intake.id, chair, chair, "HĐ")  # one person in two seats
    with pytest.raises(ValidationFailed):
        councils.create_council(officer, CouncilIn.model_validate(body))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Council)) == 0
    assert events("council_created") == []
    assert make.user("applicant").id  # the session was rolled back cleanly, not left failed


@pytest.mark.realdb  # reads the tables afresh after the failure
def test_a_failure_after_a_round_change_keeps_the_old_plan_and_writes_no_event(make, monkeypatch):
    row = make.round(name="Đợt cũ")
    row_id = row.id
    admin = make.user("admin")
    data = RoundIn.model_validate({
        "number": row.number, "name": "Đợt mới", "governing_decree": row.governing_decree,
        "intake_opens": row.intake_opens, "intake_closes": row.intake_closes, "reply_days": row.reply_days,
        "completion_days": row.completion_days, "consultation_days": row.consultation_days,
        "consultation_windows": row.consultation_windows, "deadlines": {},
    })

    def fail(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(admin_events, "record", fail)
    with pytest.raises(RuntimeError):
        rounds.update_round(admin, row, data)
    db.session.commit()  # a later write in the same request would store what the service left behind
    db.session.remove()
    assert db.session.get(Round, row_id).name == "Đợt cũ"
    assert events("round_changed") == []
    monkeypatch.undo()
    admin = db.session.merge(admin)
    assert rounds.update_round(admin, db.session.get(Round, row_id), data) == {"name": ["Đợt cũ", "Đợt mới"]}
    [event] = events("round_changed")
    assert event.target_id == row_id


def test_account_list_is_the_actors_scope_and_filters(make):
    admin = make.user("admin")
    hn = make.user("province_council_member", "HNI", full_name="Lê Thị Hoa")
    hp = make.user("province_council_member", "HPG", full_name="Lê Văn Hải")
    officer = make.user("province_officer", "HNI")
    filters = account_admin.AccountFilters
    assert {u.id for u in account_admin.list_accounts(officer, filters())} >= {hn.id, officer.id}
    assert hp.id not in {u.id for u in account_admin.list_accounts(officer, filters())}
    assert hp.id not in {u.id for u in account_admin.list_accounts(officer, filters(province="HPG"))}
    found = account_admin.list_accounts(admin, filters(q="LÊ", role="province_council_member"))
    assert {u.id for u in found} == {hn.id, hp.id}
    assert [u.id for u in account_admin.list_accounts(admin, filters(q="lê", province="HPG"))] == [hp.id]
    account_admin.set_active(admin, hp, False)
    assert [u.id for u in account_admin.list_accounts(admin, filters(q="lê", status="inactive"))] == [hp.id]


def test_audit_events_query_filters_by_area_text_and_local_days(make):
    admin = make.user("admin")
    target = make.user("applicant", full_name="Người Được Khóa")
    account_admin.set_active(admin, target, False)
    query = queries.events_query
    Filters = queries.EventFilters
    today = local_date(now_utc()).isoformat()
    assert [e.kind for e in db.session.scalars(query(Filters(kind="account_deactivated")))] == ["account_deactivated"]
    assert list(db.session.scalars(query(Filters(area="round")))) == []
    about_target = list(db.session.scalars(query(Filters(target=target.email.upper()))))
    assert "account_deactivated" in {e.kind for e in about_target}
    assert {e.target_id for e in about_target} == {target.id}
    assert list(db.session.scalars(query(Filters(to="2000-01-01")))) == []
    assert len(list(db.session.scalars(query(Filters(kind="account_deactivated", from_="nonsense"))))) == 1
    assert len(list(db.session.scalars(query(Filters(kind="account_deactivated", from_=today, to=today))))) == 1
    tomorrow = (local_date(now_utc()) + timedelta(days=1)).isoformat()
    assert list(db.session.scalars(query(Filters(kind="account_deactivated", from_=tomorrow)))) == []


def test_admin_pages_look_accounts_and_rounds_up_through_the_services(client, auth, make):
    """Outside one's scope, unknown, or beyond what a database integer holds: the same 404, never a 500."""
    other_province = make.user("province_council_member", "HPG")
    own = make.user("province_council_member", "HNI")
    auth.login_as("province_officer", "HNI")
    assert client.get(f"/admin/accounts/{own.id}").status_code == 200
    for user_id in (other_province.id, 987654321, 2**63, 10**30):
        r = client.get(f"/admin/accounts/{user_id}")
        assert r.status_code == 404, user_id
        assert client.post(f"/admin/accounts/{user_id}/status", data={"active": "0"}).status_code == 404
    assert db.session.get(type(own), other_province.id).active  # nothing changed on the way
    auth.logout()
    auth.login_as("admin")
    intake = make.round()
    assert client.get(f"/admin/rounds/{intake.id}").status_code == 200
    for round_id in (987654321, 2**63, 10**30):
        assert client.get(f"/admin/rounds/{round_id}").status_code == 404, round_id
    assert client.get("/admin/audit?page=99999999999999999999999").status_code == 200
