"""The council's side (issue 13, item 5): a member's home, sessions edited and cancelled until opened,
dates checked, council sizes, external members invited, the ballot's order and the vote's questions."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from artisan_awards.errors import Forbidden, TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, CouncilSession, OutboxMessage
from artisan_awards.schemas import SessionIn
from artisan_awards.services import accounts
from artisan_awards.services import councils as service
from artisan_awards.timeutil import today
from tests.confirming import answer_fields, is_question
from tests.test_councils import Chain

NEW_PW = "Mat-khau-chuyen-gia-2026"


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


def _planned(chain, size=5, **extra):
    council, members, secretariat = chain.council("province", size=size, **extra)
    nomination = chain.accepted()
    sid = chain.api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat, json={
        "held_on": (today() + timedelta(days=5)).isoformat(), "nomination_ids": [nomination.id]}).get_json()["id"]
    return council, members, secretariat, nomination, sid


# -- a member's home -----------------------------------------------------------------------------


def test_a_members_home_shows_the_open_ballot(chain, api, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    auth.login(members[0].email)
    page = client.get("/council/agenda").get_data(as_text=True)
    assert "Chưa mở bỏ phiếu" in page and f"/council/sessions/{sid}/ballot" not in page
    auth.logout()
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members[:4]]})
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    auth.login(members[0].email)
    r = client.get("/")
    assert r.status_code == 302 and urlsplit(r.headers["Location"]).path == "/council/agenda"
    page = client.get("/council/agenda").get_data(as_text=True)
    assert "Có 1 phiếu bầu đang chờ ông/bà." in page and f"/council/sessions/{sid}/ballot" in page
    auth.logout()
    # once voted, it still shows, as voted; an absent member is told why they cannot vote
    api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(nomination.id): "yes"}})
    auth.login(members[0].email)
    page = client.get("/council/agenda").get_data(as_text=True)
    assert "ông/bà đã bỏ phiếu" in page and "phiếu bầu đang chờ" not in page
    auth.logout()
    auth.login(members[4].email)
    page = client.get("/council/agenda").get_data(as_text=True)
    assert "không có tên trong danh sách có mặt" in page and f"/council/sessions/{sid}/ballot" not in page
    auth.logout()
    # someone of another council sees none of it
    other = chain.make.user("province_council_member", "HNI")
    auth.login(other.email)
    page = client.get("/council/agenda").get_data(as_text=True)
    assert "Không có phiên họp nào đang chờ ông/bà." in page


# -- sessions: dates, editing, cancelling ----------------------------------------------------------


def test_a_session_date_in_the_past_or_before_the_council_is_refused(chain, api):
    council, _members, secretariat = chain.council("province", size=5, decision_date=(
        today() + timedelta(days=10)).isoformat(), decision_no="9/QĐ")
    nomination = chain.accepted()
    url = f"/api/v1/councils/{council['id']}/sessions"
    for held_on, message in ((today() - timedelta(days=1), "quá khứ"),
                             (today() + timedelta(days=3), "trước ngày thành lập Hội đồng")):
        r = api.post(url, secretariat, json={"held_on": held_on.isoformat(), "nomination_ids": [nomination.id]})
        assert r.status_code == 422 and message in r.get_json()["error"]["fields"]["held_on"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CouncilSession)) == 0
    r = api.post(url, secretariat, json={"held_on": (today() + timedelta(days=10)).isoformat(),
                                         "nomination_ids": [nomination.id]})
    assert r.status_code == 201


def test_the_page_refuses_a_past_date_with_a_message(chain, client, auth):
    council, _members, secretariat = chain.council("province", size=5)
    nomination = chain.accepted()
    auth.login(secretariat.email)
    r = client.post(f"/council/councils/{council['id']}", data={
        "held_on": (today() - timedelta(days=2)).isoformat(), "nomination_ids": [str(nomination.id)]},
        follow_redirects=True)
    assert "Ngày họp không được ở trong quá khứ." in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CouncilSession)) == 0
    page = client.get(f"/council/councils/{council['id']}").get_data(as_text=True)
    assert f'value="{nomination.id}">' in page and f'value="{nomination.id}" checked' not in page


def test_a_planned_session_is_edited_and_its_members_told(chain, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    second = chain.accepted()
    auth.login(secretariat.email)
    assert client.get(f"/council/sessions/{sid}/edit").status_code == 200
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    new_day = today() + timedelta(days=9)
    r = client.post(f"/council/sessions/{sid}/edit", data={
        "held_on": new_day.isoformat(), "place": "Phòng họp số 2",
        "nomination_ids": [str(nomination.id), str(second.id)]})
    assert r.status_code == 302
    session = db.session.get(CouncilSession, sid)
    db.session.refresh(session)
    assert session.held_on == new_day and session.place == "Phòng họp số 2"
    assert {i.nomination_id for i in session.items} == {nomination.id, second.id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) >= before + len(members)
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "session_changed")).all()
    assert event.details["changes"]["place"] == [None, "Phòng họp số 2"]
    # a past date is refused on edit too, and nothing changes
    r = client.post(f"/council/sessions/{sid}/edit", data={
        "held_on": (today() - timedelta(days=1)).isoformat(), "nomination_ids": [str(nomination.id)]})
    db.session.refresh(session)
    assert session.held_on == new_day and len(session.items) == 2


def test_a_session_cannot_be_edited_or_cancelled_once_opened(chain, api, make):
    council, members, secretariat, nomination, sid = _planned(chain)
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    session = db.session.get(CouncilSession, sid)
    db.session.refresh(session)
    data = SessionIn.model_validate({"held_on": (today() + timedelta(days=8)).isoformat(),
                                     "nomination_ids": [nomination.id]})
    with pytest.raises(TransitionRefused):
        service.update_session(secretariat, session, data)
    with pytest.raises(TransitionRefused):
        service.cancel_session(secretariat, session, "Đổi lịch")
    with pytest.raises(Forbidden):  # a member is not the secretariat
        service.cancel_session(members[0], session, "Đổi lịch")


def test_a_planned_session_is_cancelled_after_a_question(chain, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    auth.login(secretariat.email)
    url = f"/council/sessions/{sid}/cancel"
    r = client.post(url, data={"reason": ""})
    assert r.status_code == 302 and db.session.get(CouncilSession, sid) is not None  # a reason is needed
    r = client.post(url, data={"reason": "Chủ tịch đi công tác"})
    assert is_question(r) and "trở lại danh sách chờ" in r.get_data(as_text=True)
    assert db.session.get(CouncilSession, sid) is not None
    told = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    r = client.post(url, data=answer_fields(r))
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid) is None
    mails = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id).offset(told)).all()
    assert {m.to for m in mails} == {m.email for m in members}
    assert all("Chủ tịch đi công tác" in m.body and m.subject.startswith("Hủy phiên họp") for m in mails)
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "session_cancelled")).all()
    assert event.details["reason"] == "Chủ tịch đi công tác" and event.details["nomination_ids"] == [nomination.id]
    council_row = service.get_council(secretariat, council["id"])
    assert nomination.id in {n.id for n in service.waiting_nominations(council_row)}


# -- composition and external members -------------------------------------------------------------


REAL_SIZES = {"default": {"min_members": 7, "max_members": 15}}


@pytest.mark.parametrize("size,ok", [(1, False), (6, False), (7, True), (15, True), (16, False)])
def test_council_composition_is_checked_against_the_configured_sizes(chain, app, api, size, ok):
    app.config["COUNCIL_SIZES"] = REAL_SIZES
    members = [chain.make.user("province_council_member", "HNI") for _ in range(size)]
    body = {"level": "province", "province_code": "HNI", "round_id": chain.round.id, "name": "Hội đồng cỡ",
            "decision_no": "1/QĐ", "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                                               for i, u in enumerate(members)]}
    r = api.post("/api/v1/councils", chain.officer, json=body)
    assert r.status_code == (201 if ok else 422), r.get_json()
    if not ok:
        assert "từ 7 đến 15 thành viên" in r.get_json()["error"]["fields"]["members"]


def test_an_external_member_is_invited_sets_a_password_and_sees_the_ballot(chain, app, api, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    auth.login(secretariat.email)
    page = client.get(f"/council/councils/{council['id']}").get_data(as_text=True)
    assert 'data-testid="invite-member"' in page
    r = client.post(f"/council/councils/{council['id']}/members", data={
        "full_name": "Trần Văn Chuyêngia", "email": "chuyengia@vien.vn", "position": "member"})
    assert r.status_code == 302
    user = accounts.find_user("chuyengia@vien.vn")
    assert user is not None and not user.email_confirmed and user.province_code == "HNI"
    row = service.get_council(secretariat, council["id"])
    assert row.member_for(user) is not None and row.members_total == 6
    # twice: refused with a message, nothing added
    r = client.post(f"/council/councils/{council['id']}/members", data={
        "full_name": "Trần Văn Chuyêngia", "email": "chuyengia@vien.vn"}, follow_redirects=True)
    assert "đã là thành viên Hội đồng" in r.get_data(as_text=True)
    auth.logout()
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == "chuyengia@vien.vn")).one()
    link = urlsplit(re.search(r"https?://\S+/invitation/\S+", mail.body).group(0)).path
    assert client.post(link, data={"password": NEW_PW, "confirm": NEW_PW}).status_code == 302
    assert auth.login("chuyengia@vien.vn", NEW_PW).status_code == 302
    assert client.get("/council/agenda").status_code == 200
    auth.logout()
    # present and the vote open: the expert's home offers the ballot
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
             json={"present": [m.email for m in members] + ["chuyengia@vien.vn"]})
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    auth.login("chuyengia@vien.vn", NEW_PW)
    assert f"/council/sessions/{sid}/ballot" in client.get("/council/agenda").get_data(as_text=True)


def test_invitations_beyond_the_largest_size_or_by_a_member_are_refused(chain, app, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    app.config["COUNCIL_SIZES"] = {"default": {"min_members": 3, "max_members": 5}}
    row = service.get_council(secretariat, council["id"])
    with pytest.raises(ValidationFailed) as caught:
        service.invite_member(secretariat, row, "thu6@vien.vn", "Người Thứ Sáu")
    assert "tối đa" in caught.value.fields["email"]
    assert accounts.find_user("thu6@vien.vn") is None
    auth.login(members[0].email)
    r = client.post(f"/council/councils/{council['id']}/members", data={
        "full_name": "Người Ngoài", "email": "ngoai@vien.vn"})
    assert r.status_code == 403 and accounts.find_user("ngoai@vien.vn") is None


# -- the ballot ------------------------------------------------------------------------------------


def _open(chain, api, size=5):
    council, members, secretariat, nomination, sid = _planned(chain, size=size)
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    return council, members, secretariat, nomination, sid


def test_the_ballot_links_each_dossier_and_asks_for_conflicts_before_the_choices(chain, api, client, auth):
    _council, members, _secretariat, nomination, sid = _open(chain, api)
    auth.login(members[1].email)
    page = client.get(f"/council/sessions/{sid}/ballot").get_data(as_text=True)
    link = f'href="/nominations/{nomination.id}"'
    assert link in page
    assert page.index('data-testid="conflicts"') < page.index('id="ballot-form"')
    assert page.index(f"/conflict/{nomination.id}") < page.index(f'name="vote-{nomination.id}"')
    assert client.get(f"/nominations/{nomination.id}").status_code == 200  # the member may open it


def test_a_ballot_with_blanks_asks_first(chain, api, client, auth):
    _council, members, _secretariat, nomination, sid = _open(chain, api)
    auth.login(members[1].email)
    url = f"/council/sessions/{sid}/ballot"
    r = client.post(url, data={})
    assert is_question(r) and "không hợp lệ" in r.get_data(as_text=True)
    assert service.ballots_cast(db.session.get(CouncilSession, sid)) == 0
    r = client.post(url, data=answer_fields(r))
    assert r.status_code == 302
    assert service.ballots_cast(db.session.get(CouncilSession, sid)) == 1
    # a full ballot is not asked about
    auth.logout()
    auth.login(members[2].email)
    r = client.post(url, data={f"vote-{nomination.id}": "yes"})
    assert r.status_code == 302 and service.ballots_cast(db.session.get(CouncilSession, sid)) == 2


def test_opening_and_closing_the_vote_ask_first(chain, api, client, auth):
    council, members, secretariat, nomination, sid = _planned(chain)
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    auth.login(secretariat.email)
    r = client.post(f"/council/sessions/{sid}/open", data={})
    assert is_question(r) and nomination.full_name in r.get_data(as_text=True)
    assert db.session.get(CouncilSession, sid).status == "planned"
    assert client.post(f"/council/sessions/{sid}/open", data=answer_fields(r)).status_code == 302
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == "open"
    for m in members:
        api.post(f"/api/v1/sessions/{sid}/ballot", m, json={"votes": {str(nomination.id): "yes"}})
    r = client.post(f"/council/sessions/{sid}/close", data={})
    assert is_question(r) and "5/5" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == "open"
    client.post(f"/council/sessions/{sid}/close", data=answer_fields(r))
    db.session.expire_all()
    assert db.session.get(CouncilSession, sid).status == "closed"
