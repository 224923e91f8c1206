"""Provincial intake windows (issue 14, item 10): a province sets its own intake deadline within the
round's window; submission, the lists and the reminders follow the province's date."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, ProvinceIntake
from artisan_awards.services import law, reminders
from artisan_awards.timeutil import today
from workflows.states import State


def test_a_province_closes_earlier_and_submission_follows_it(api, make):
    round_ = make.current_round()
    admin = make.user("admin")
    law.set_intake(admin, round_, "HPG", today() - timedelta(days=1), "Kế hoạch của Sở Công Thương Hải Phòng")
    late = make.nomination(State.DRAFT, province="HPG")
    on_time = make.nomination(State.DRAFT, province="HNI")
    r = api.post(f"/api/v1/nominations/{late.id}/actions/submit", late.owner, json={})
    assert r.status_code == 409 and "thời hạn tiếp nhận" in r.get_json()["error"]["message"]
    r = api.post(f"/api/v1/nominations/{on_time.id}/actions/submit", on_time.owner, json={})
    assert r.status_code == 200, r.get_json()
    # the province moves its date back to the round's: the dossier can go in
    law.set_intake(admin, round_, "HPG", None)
    r = api.post(f"/api/v1/nominations/{late.id}/actions/submit", late.owner, json={})
    assert r.status_code == 200, r.get_json()
    kinds = db.session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.kind == "intake_changed")).all()
    assert len(kinds) == 2


def test_the_secretariat_sets_its_own_date_on_the_page(client, auth, make):
    round_ = make.current_round()
    officer = auth.login_as("province_officer", "HNI")
    page = client.get(f"/admin/rounds/{round_.id}/intake")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hà Nội" in html and "Hải Phòng" not in html  # only its own province
    closes = today() + timedelta(days=3)
    r = client.post(f"/admin/rounds/{round_.id}/intake", data={"province_code": "HNI",
                                                               "intake_closes": closes.isoformat()})
    assert r.status_code == 303
    row = db.session.get(ProvinceIntake, (round_.id, "HNI"))
    assert row.intake_closes == closes and row.set_by_id == officer.id
    inbox = client.get("/province/inbox").get_data(as_text=True)
    assert closes.strftime("%d/%m/%Y") in inbox
    timeline = client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True)
    assert closes.strftime("%d/%m/%Y") in timeline
    # another province's date: refused; a date outside the round's window: a Vietnamese 422
    r = client.post(f"/admin/rounds/{round_.id}/intake", data={"province_code": "HPG",
                                                               "intake_closes": closes.isoformat()})
    assert r.status_code == 403
    after = round_.intake_closes + timedelta(days=1)
    r = client.post(f"/admin/rounds/{round_.id}/intake", data={"province_code": "HNI",
                                                               "intake_closes": after.isoformat()})
    assert r.status_code == 422 and "phải nằm trong thời hạn tiếp nhận của đợt" in r.get_data(as_text=True)
    r = client.post(f"/admin/rounds/{round_.id}/intake", data={"province_code": "HNI", "intake_closes": "31/02"})
    assert r.status_code == 422 and "Cần ngày hợp lệ" in r.get_data(as_text=True)
    r = client.post(f"/admin/rounds/{round_.id}/intake", data={"province_code": "XX", "intake_closes": "2026-01-01"})
    assert r.status_code == 422
    assert client.get("/admin/rounds/99999/intake").status_code == 404


def test_applicants_and_council_members_cannot_set_it(client, auth, make):
    round_ = make.current_round()
    for role in ("applicant", "province_council_member"):
        auth.login_as(role, "HNI" if role != "applicant" else None)
        assert client.get(f"/admin/rounds/{round_.id}/intake").status_code in (403, 404)
        r = client.post(f"/admin/rounds/{round_.id}/intake",
                        data={"province_code": "HNI", "intake_closes": today().isoformat()})
        assert r.status_code in (403, 404)
        auth.logout()


def test_reminders_follow_the_provinces_date(app, make):
    round_ = make.current_round()
    hni = make.nomination(State.DRAFT, province="HNI")
    hpg = make.nomination(State.DRAFT, province="HPG")
    own = today() + timedelta(days=1)
    law.set_intake(make.user("admin"), round_, "HNI", own)
    found = [d for d in reminders.deadlines(today(), 60) if d.kind == "intake"]
    by_draft = {n.id: d.due for d in found for n in d.context["drafts"]}
    assert by_draft[hni.id] == own
    assert by_draft[hpg.id] == round_.intake_closes
    keys = {d.key for d in found}
    assert f"intake:{round_.id}:{own.isoformat()}" in keys and f"intake:{round_.id}" in keys
