"""Province mergers (issue 14, item 4): the 2025 reorganisation as data; a dossier filed with a former
province is transferred to its successor with its code, history, votes and documents; filing after
the effective date goes to the successor; lists, exports and the dashboard show both names."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from artisan_awards.extensions import db
from artisan_awards.models import AgendaItem, Attachment, AuditEvent, Nomination, Province, TransitionLog, User
from artisan_awards.services import attachments as attachment_service
from artisan_awards.services import law
from artisan_awards.services.provinces import reference_provinces
from artisan_awards.timeutil import today
from tests.confirming import post_confirmed
from tests.test_api import png_bytes
from workflows.states import State


def verify(runner):
    db.session.remove()
    return runner.invoke(args=["audit", "verify"])


def test_the_reorganisation_is_data_with_its_source():
    rows = law.reference_mergers()
    current = {p["code"] for p in reference_provinces() if p["active"]}
    former = {p["code"] for p in reference_provinces() if not p["active"]}
    assert {r["former_code"] for r in rows} == former  # every former province has its successor
    assert {r["successor_code"] for r in rows} <= current
    assert len(current) == 34 and len(current | former) == 63
    assert all(r["effective"] == date(2025, 7, 1) and "202/2025/QH15" in r["source"] for r in rows)
    by_former = {r["former_code"]: r["successor_code"] for r in rows}
    assert by_former["HDG"] == "HPG" and by_former["NDH"] == "NBH" and by_former["BRV"] == "HCM"


def test_sync_writes_successors(app):
    hdg = db.session.get(Province, "HDG")
    assert (hdg.successor_code, hdg.merged_on, hdg.active) == ("HPG", date(2025, 7, 1), False)
    assert db.session.get(Province, "HPG").successor_code is None


def test_filing_with_a_merged_province_goes_to_its_successor(api, make):
    applicant = make.user("applicant")
    r = api.post("/api/v1/nominations", applicant, json=make.nomination_data(province="HDG"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["province_code"] == "HPG"
    assert db.session.get(Nomination, r.get_json()["id"]).province_code == "HPG"


@pytest.fixture
def before_merger(app):
    """The world before 1 July 2025 as far as Hải Dương is concerned: its department still takes dossiers."""
    hdg = db.session.get(Province, "HDG")
    hdg.active, hdg.merged_on = True, today() + timedelta(days=30)
    db.session.commit()

    def takes_effect():
        row = db.session.get(Province, "HDG")
        row.active, row.merged_on = False, today() - timedelta(days=1)
        db.session.commit()
    return takes_effect


def _province_vote(api, make, province, nominations, yes):
    officer = make.user("province_officer", province)
    members = [make.user("province_council_member", province) for _ in range(9)]
    body = {"level": "province", "round_id": nominations[0].round_id, "name": f"Hội đồng {province}",
            "decision_no": "5/QĐ-UBND", "province_code": province,
            "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                        for i, u in enumerate(members)]}
    r = api.post("/api/v1/councils", officer, json=body)
    assert r.status_code == 201, r.get_json()
    council = r.get_json()
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", officer,
                 json={"held_on": today().isoformat(), "nomination_ids": [n.id for n in nominations]})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    assert api.post(f"/api/v1/sessions/{sid}/attendance", officer,
                    json={"present": [m.email for m in members]}).status_code == 200
    assert api.post(f"/api/v1/sessions/{sid}/open", officer).status_code == 200
    for i, m in enumerate(members):
        choice = "yes" if i < yes else "no"
        assert api.post(f"/api/v1/sessions/{sid}/ballot", m,
                        json={"votes": {str(n.id): choice for n in nominations}}).status_code == 201
    r = api.post(f"/api/v1/sessions/{sid}/close", officer)
    assert r.status_code == 200, r.get_json()
    for n in nominations:
        db.session.refresh(n)
    return sid


def _with_photo(make, province):
    n = make.nomination(State.DRAFT, province=province)
    attachment_service.add_attachment(n.owner, n, "photo", FileStorage(io.BytesIO(png_bytes()), "anh.png",
                                                                       content_type="image/png"))
    return n


@pytest.mark.realdb
def test_a_transferred_dossier_keeps_code_history_votes_and_documents(client, api, auth, make, runner,
                                                                    before_merger):
    n = _with_photo(make, "HDG")
    from artisan_awards.services import nominations as service
    hdg_officer = make.user("province_officer", "HDG")
    service.perform(n, "submit", n.owner)
    service.perform(n, "accept", hdg_officer, comment="Hợp lệ")
    code = n.code
    assert code.split("-")[2] == "HDG"
    _province_vote(api, make, "HDG", [n], yes=9)
    assert n.state == State.PROVINCE_PASSED
    log_before = [(r.id, r.hash) for r in db.session.scalars(
        sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id).order_by(TransitionLog.id))]
    votes_before = [(i.id, i.yes, i.no, i.passed) for i in db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.nomination_id == n.id))]
    files_before = [(a.id, a.sha256) for a in db.session.scalars(
        sa.select(Attachment).where(Attachment.nomination_id == n.id))]
    assert len(files_before) == 1 and votes_before[0][3] is True
    before_merger()  # 1 July 2025 arrives

    # Hải Phòng's secretariat sees it waiting for transfer; Hà Nội's does not
    auth.login_as("province_officer", "HNI")
    assert code not in client.get("/admin/transfers").get_data(as_text=True)
    assert client.post(f"/admin/transfers/{n.id}", data={"reason": "x"}).status_code == 404
    auth.logout()
    hpg_officer = auth.login_as("province_officer", "HPG")
    page = client.get("/admin/transfers").get_data(as_text=True)
    assert code in page and "Hải Dương" in page
    r = client.post(f"/admin/transfers/{n.id}", data={"reason": "  "})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Nomination, n.id).province_code == "HDG"  # no reason, nothing moved
    r = client.post(f"/admin/transfers/{n.id}", data={"reason": "Nghị quyết 202/2025/QH15"})
    assert r.status_code == 303
    db.session.expire_all()
    moved = db.session.get(Nomination, n.id)
    assert (moved.province_code, moved.filed_province_code, moved.code) == ("HPG", "HDG", code)
    assert moved.state == State.PROVINCE_PASSED
    log_after = list(db.session.scalars(
        sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id).order_by(TransitionLog.id)))
    assert [(r.id, r.hash) for r in log_after[:-1]] == log_before  # every earlier row, unchanged
    last = log_after[-1]
    assert (last.action, last.from_state, last.to_state, last.actor_id) == (
        "transfer_province", "province_passed", "province_passed", hpg_officer.id)
    assert last.meta["from_province"] == "HDG" and last.meta["to_province"] == "HPG"
    assert [(i.id, i.yes, i.no, i.passed) for i in db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.nomination_id == n.id))] == votes_before
    assert [(a.id, a.sha256) for a in db.session.scalars(
        sa.select(Attachment).where(Attachment.nomination_id == n.id))] == files_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "province_transfer")) == 1
    # the successor's secretariat now holds it: both names on the dossier, the list and the export
    show = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert "Hải Phòng" in show and "nộp tại Hải Dương" in show
    inbox = client.get("/province/inbox").get_data(as_text=True)
    assert code in inbox and "nộp tại Hải Dương" in inbox
    export = client.get("/province/inbox/export.csv").get_data(as_text=True).lstrip("\ufeff")
    row = next(r for r in csv.DictReader(io.StringIO(export)) if r["Mã hồ sơ"] == code)
    assert row["Tỉnh, thành phố"] == "Hải Phòng" and row["Nộp tại (tỉnh cũ)"] == "Hải Dương"
    r = post_confirmed(client, f"/nominations/{n.id}/actions/forward_to_ministry", data={})
    assert r.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Nomination, n.id).state == State.MINISTRY_REVIEW
    # a second transfer is refused: Hải Phòng was not merged away
    with pytest.raises(law.Forbidden):
        law.transfer(db.session.get(Nomination, n.id), hpg_officer, "lại")
    with pytest.raises(law.TransitionRefused):
        law.transfer(db.session.get(Nomination, n.id), make.user("admin"), "lại")
    result = verify(runner)
    assert result.exit_code == 0, result.output


@pytest.mark.realdb
def test_the_audit_chain_catches_a_province_moved_without_its_transfer(app, make, runner, before_merger):
    from artisan_awards.services import nominations as service
    nid = make.nomination(State.SUBMITTED, province="HDG").id
    admin_id = make.user("admin").id
    before_merger()
    assert verify(runner).exit_code == 0
    db.session.execute(sa.update(Nomination).where(Nomination.id == nid).values(province_code="HPG"))
    db.session.commit()
    result = verify(runner)
    assert result.exit_code != 0 and "HDG" in result.output
    # put back and transfer properly: clean again
    db.session.execute(sa.update(Nomination).where(Nomination.id == nid).values(province_code="HDG"))
    db.session.commit()
    law.transfer(db.session.get(Nomination, nid), db.session.get(User, admin_id), "Nghị quyết 202/2025/QH15")
    assert verify(runner).exit_code == 0
    assert service  # the factory drove the real operations


def test_the_cli_transfers_a_whole_province_as_the_system(app, make, runner, before_merger):
    a = make.nomination(State.SUBMITTED, province="HDG")
    b = make.nomination(State.DRAFT, province="HDG")
    other = make.nomination(State.SUBMITTED, province="HNI")
    result = runner.invoke(args=["provinces", "transfer", "--from", "HDG"])
    assert result.exit_code != 0 and "hợp nhất" in result.output  # not yet in effect
    before_merger()
    result = runner.invoke(args=["provinces", "transfer", "--from", "hdg", "--dry-run"])
    assert result.exit_code == 0 and "2 would move, 0 skipped" in result.output
    db.session.expire_all()
    assert db.session.get(Nomination, a.id).province_code == "HDG"
    result = runner.invoke(args=["provinces", "transfer", "--from", "HDG"])
    assert result.exit_code == 0 and "2 moved, 0 skipped" in result.output, result.output
    db.session.expire_all()
    assert {db.session.get(Nomination, x.id).province_code for x in (a, b)} == {"HPG"}
    assert db.session.get(Nomination, other.id).province_code == "HNI"
    row = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == a.id)
                             .order_by(TransitionLog.id.desc())).first()
    assert row.action == "transfer_province" and row.actor_id is None and "Hệ thống" in row.actor_name
    assert runner.invoke(args=["provinces", "transfer", "--from", "HNI"]).exit_code != 0
    assert runner.invoke(args=["provinces", "transfer", "--from", "ZZZ"]).exit_code != 0


def test_a_dossier_on_an_unfinished_session_is_not_transferred(api, make, before_merger):
    n = make.nomination(State.ACCEPTED, province="HDG")
    officer = make.user("province_officer", "HDG")
    members = [make.user("province_council_member", "HDG") for _ in range(7)]
    r = api.post("/api/v1/councils", officer, json={
        "level": "province", "round_id": n.round_id, "name": "Hội đồng HDG", "decision_no": "1/QĐ",
        "province_code": "HDG", "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                                            for i, u in enumerate(members)]})
    assert r.status_code == 201, r.get_json()
    r = api.post(f"/api/v1/councils/{r.get_json()['id']}/sessions", officer,
                 json={"held_on": today().isoformat(), "nomination_ids": [n.id]})
    assert r.status_code == 201, r.get_json()
    before_merger()
    with pytest.raises(law.TransitionRefused) as refused:
        law.transfer(n, make.user("admin"), "Nghị quyết 202/2025/QH15")
    assert refused.value.code == "on_open_agenda"
    result = law.transfer_province("HDG", "Nghị quyết 202/2025/QH15")
    assert not result.moved and [x.id for x, _ in result.skipped] == [n.id]


@pytest.mark.realdb  # audit verify reads what was committed
def test_the_api_transfers_as_the_contract_says_and_refuses_everyone_else(api, make, people, runner, before_merger):
    """The contract's ``transfer`` action (api-v1.md v1.1) moves a voted dossier of a merged province to its
    successor with its code, history and votes; the wrong people, the wrong province, a missing reason and a
    merger not yet in effect change nothing."""
    from artisan_awards.services import nominations as service
    n = make.nomination(State.DRAFT, province="HDG")
    hdg_officer = make.user("province_officer", "HDG")
    service.perform(n, "submit", n.owner)
    service.perform(n, "accept", hdg_officer, comment="Hợp lệ")
    _province_vote(api, make, "HDG", [n], yes=9)
    nid, code, owner = n.id, n.code, n.owner
    hpg_officer, hni_officer, admin = make.user("province_officer", "HPG"), people.officer, make.user("admin")
    log_before = [(r.id, r.hash) for r in db.session.scalars(
        sa.select(TransitionLog).where(TransitionLog.nomination_id == nid).order_by(TransitionLog.id))]
    votes_before = [(i.id, i.yes, i.no, i.passed) for i in db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.nomination_id == nid))]
    url = f"/api/v1/nominations/{nid}/actions/transfer"
    good = {"province_code": "HPG", "comment": "Nghị quyết 202/2025/QH15"}

    def where():
        db.session.expire_all()
        row = db.session.get(Nomination, nid)
        return row.province_code, row.filed_province_code

    r = api.post(url, admin, json=good)  # 1 July 2025 has not come for Hải Dương yet
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_merged", r.get_json()
    before_merger()
    for stranger in (hni_officer, owner, make.user("ministry_council_member")):
        r = api.post(url, stranger, json=good)  # not theirs to move, nor to know about
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "nomination_not_found", r.get_json()
    r = api.post(url, hpg_officer, json={**good, "province_code": "HNI"})
    assert r.status_code == 422 and "Hải Phòng" in r.get_json()["error"]["fields"]["province_code"], r.get_json()
    r = api.post(url, hpg_officer, json={"province_code": "HPG", "comment": "   "})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"comment"}, r.get_json()
    r = api.post(url, hpg_officer, json={"comment": "x"})
    assert r.status_code == 422 and set(r.get_json()["error"]["fields"]) == {"province_code"}, r.get_json()
    r = api.client.post(url, headers=api.headers(hpg_officer), data="{not json", content_type="application/json")
    assert r.status_code == 400
    assert where() == ("HDG", None), "a refused transfer moves nothing"

    r = api.post(url, hpg_officer, json={**good, "province_code": " hpg "})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert (out["code"], out["province_code"], out["state"]) == (code, "HPG", "province_passed")
    assert where() == ("HPG", "HDG")
    log_after = [(r.id, r.hash, r.action) for r in db.session.scalars(
        sa.select(TransitionLog).where(TransitionLog.nomination_id == nid).order_by(TransitionLog.id))]
    assert [(i, h) for i, h, _ in log_after[:-1]] == log_before and log_after[-1][2] == "transfer_province"
    assert [(i.id, i.yes, i.no, i.passed) for i in db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.nomination_id == nid))] == votes_before
    assert api.post(url, hpg_officer, json=good).status_code == 404  # Hải Phòng was not merged away
    result = verify(runner)
    assert result.exit_code == 0, result.output
