"""Personal data, issue 17 items 1, 2 and 6: notice and consent, the person's rights, reading logged.

Each guarantee has its test; the attacker tests carry a broken variant (a predicate that lets everyone in)
which must make them fail, so they can fail.  The browser walk is tests/test_personal_data_browser.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from artisan_awards import permissions
from artisan_awards.extensions import db
from artisan_awards.models import (
    NOTICE_PURPOSE,
    Attachment,
    AuditEvent,
    ConsentRecord,
    DataRequest,
    Nomination,
    OutboxMessage,
    PersonalDataRead,
    PublicComment,
    User,
)
from artisan_awards.services import data_rights
from artisan_awards.services import data_rights_export as px
from artisan_awards.timeutil import today
from workflows.states import State

PASSWORD = "mat-khau-thu-nghiem"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (120, 60, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def login(client, user):
    client.post("/logout")
    r = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert r.status_code == 302, r.data[:300]
    return r


def upload(client, nomination) -> Attachment:
    r = client.post(f"/my/{nomination.id}/evidence", data={"kind": "photo", "upload": "1",
                    "file": (io.BytesIO(png()), "xuong-gom.png")}, content_type="multipart/form-data")
    assert r.status_code in (200, 302, 303), r.data[:300]
    return db.session.scalars(sa.select(Attachment).where(Attachment.nomination_id == nomination.id)).one()


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def consent_rows(**where) -> list[ConsentRecord]:
    stmt = sa.select(ConsentRecord).order_by(ConsentRecord.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(ConsentRecord, key) == value)
    return list(db.session.scalars(stmt))


@pytest.fixture
def officer_dp(make):
    return make.user("data_officer", full_name="Bùi Thị Mai")


# == 1. notice and consent =================================================================================


def test_registration_shows_the_notice_with_unticked_boxes_and_states_the_legal_basis(client):
    page = client.get("/register").get_data(as_text=True)
    assert 'name="notice_version" value="1"' in page
    assert "thực hiện thủ tục hành chính theo pháp luật, không cần sự đồng ý" in page
    boxes = page.count('type="checkbox"')
    assert boxes == len(data_rights.purposes("register")) >= 2
    assert " checked" not in page  # nothing ticked in advance
    for heading in ("Chúng tôi thu thập gì", "Để làm gì", "Ai được xem", "Lưu trong bao lâu", "Quyền của bạn"):
        assert heading in page
    client.post("/lang/en", data={"next": "/privacy"})
    english = client.get("/privacy").get_data(as_text=True)
    for heading in ("What we collect", "Why", "Who sees it", "How long it is kept", "Your rights"):
        assert heading in english


def test_registration_records_each_purpose_with_the_notice_version(app, client):
    app.config["EMAIL_CONFIRMATION_REQUIRED"] = False
    r = client.post("/register", data={
        "full_name": "Lê Thị Gốm", "email": "gom@example.vn", "password": "Gom-Bat-Trang-2026",
        "confirm": "Gom-Bat-Trang-2026", "notice_version": "1",
        "asked": ["email_reminders", "future_programmes"], "consent": ["email_reminders"]})
    assert r.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "gom@example.vn"))
    rows = {c.purpose: c for c in consent_rows(user_id=user.id)}
    assert set(rows) == {NOTICE_PURPOSE, "email_reminders", "future_programmes"}
    assert rows["email_reminders"].granted and not rows["future_programmes"].granted
    assert {c.notice_version for c in rows.values()} == {1} and {c.context for c in rows.values()} == {"register"}
    assert all(c.recorded_at is not None for c in rows.values())
    assert events("consent_recorded")[-1].details["granted"] == ["email_reminders"]


def test_a_tick_on_a_purpose_not_shown_counts_for_nothing(app, client):
    app.config["EMAIL_CONFIRMATION_REQUIRED"] = False
    client.post("/register", data={
        "full_name": "Lê Văn Mây", "email": "may@example.vn", "password": "May-Tre-Dan-2026!",
        "confirm": "May-Tre-Dan-2026!", "notice_version": "1", "asked": ["email_reminders", "publish_photo"],
        "consent": ["publish_photo", "no_such_purpose"]})
    user = db.session.scalar(sa.select(User).where(User.email == "may@example.vn"))
    # publish_photo is asked at filing, not at registration: neither recorded nor granted
    assert {c.purpose: c.granted for c in consent_rows(user_id=user.id)} == {
        NOTICE_PURPOSE: True, "email_reminders": False}


def test_a_stale_notice_version_is_refused_before_the_account_exists(client):
    data_rights.publish_notice("# Mới\nPhiên bản hai.", "# New\nVersion two.")
    r = client.post("/register", data={
        "full_name": "Lê Văn Cũ", "email": "cu@example.vn", "password": "Cu-Phien-Ban-2026!",
        "confirm": "Cu-Phien-Ban-2026!", "notice_version": "1"})
    assert r.status_code == 200
    assert "vừa được cập nhật" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "cu@example.vn")) is None
    r = client.post("/register", data={
        "full_name": "Lê Văn Cũ", "email": "cu@example.vn", "password": "Cu-Phien-Ban-2026!",
        "confirm": "Cu-Phien-Ban-2026!", "notice_version": "not-a-number"})
    assert r.status_code == 200 and "không hợp lệ" in r.get_data(as_text=True)


def test_a_new_notice_version_asks_again_at_the_next_login(client, make):
    user = make.user("applicant")
    data_rights.record_consents(context="register", user=user, version=1, asked=["email_reminders"],
                            granted=["email_reminders"])
    login(client, user)
    assert client.get("/").status_code == 302  # version 1 read: no question
    notice = data_rights.publish_notice("# Thay đổi\nChúng tôi đổi nơi lưu trữ.", "# Change\nWe moved the storage.")
    assert notice.version == 2 and data_rights.needs_notice(user)
    r = login(client, user)
    assert r.headers["Location"].startswith("/privacy/consent")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Chúng tôi đổi nơi lưu trữ." in page and " checked" not in page
    r = client.post("/privacy/consent", data={"notice_version": "2", "next": "/my/",
                                              "asked": list(data_rights.purposes()), "consent": ["future_programmes"]})
    assert r.status_code == 302 and r.headers["Location"] == "/my/"
    assert not data_rights.needs_notice(user)
    assert data_rights.granted_purposes(user) == {"future_programmes"}  # asked again: the old yes is not assumed
    assert login(client, user).headers["Location"] != "/privacy/consent"


def test_filing_shows_the_notice_and_records_the_consents_with_the_submission(client, make):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    login(client, owner)
    upload(client, nomination)
    page = client.get(f"/my/{nomination.id}/review").get_data(as_text=True)
    assert 'name="notice_version"' in page and " checked" not in page
    assert 'value="publish_photo"' in page
    r = client.post(f"/nominations/{nomination.id}/actions/submit", data={
        "commitment": "y", "notice_version": "1", "asked": ["email_reminders", "publish_photo", "future_programmes"],
        "consent": ["publish_photo"]})
    assert r.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED
    rows = {c.purpose: c.granted for c in consent_rows(user_id=owner.id, context="filing")}
    assert rows == {NOTICE_PURPOSE: True, "email_reminders": False, "publish_photo": True,
                    "future_programmes": False}


def test_a_filing_with_a_stale_notice_is_refused_and_nothing_moves(client, make):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    login(client, owner)
    upload(client, nomination)
    data_rights.publish_notice("# Hai\nHai.", "# Two\nTwo.")
    r = client.post(f"/nominations/{nomination.id}/actions/submit", data={"notice_version": "1", "commitment": "y"},
                    follow_redirects=True)
    assert "vừa được cập nhật" in r.get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.state == State.DRAFT and consent_rows(user_id=owner.id) == []


def test_a_comment_records_the_commenters_consent_against_the_comment(client, make):
    nomination = make.nomination(State.SUBMITTED)
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id).values(
        state=State.PUBLIC_CONSULTATION, consultation_ends=today() + timedelta(days=10)))
    db.session.commit()
    page = client.get(f"/public/consultations/{nomination.id}").get_data(as_text=True)
    assert 'value="comment_follow_up"' in page and " checked" not in page
    r = client.post(f"/public/consultations/{nomination.id}", data={
        "full_name": "Phạm Văn Cường", "phone": "0987654321", "address": "Bát Tràng", "content": "Đồng ý.",
        "kind": "comment", "notice_version": "1", "asked": ["comment_follow_up"], "consent": ["comment_follow_up"]})
    assert r.status_code == 302
    comment = db.session.scalars(sa.select(PublicComment).order_by(PublicComment.id.desc())).first()
    rows = {c.purpose: c.granted for c in consent_rows(comment_id=comment.id)}
    assert rows == {NOTICE_PURPOSE: True, "comment_follow_up": True}


def _consultation_open(make) -> Nomination:
    nomination = make.nomination(State.SUBMITTED)
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id).values(
        state=State.PUBLIC_CONSULTATION, consultation_ends=today() + timedelta(days=10)))
    db.session.commit()
    return nomination


def test_an_api_comment_records_the_consents_of_the_notice_the_client_showed(client, make):
    nomination = _consultation_open(make)
    notice = client.get("/api/v1/privacy/notice").get_json()
    assert notice["version"] == 1 and notice["body_vi"] and notice["body_en"]
    assert [p["key"] for p in notice["purposes"]["comment"]] == ["comment_follow_up"]
    r = client.post(f"/api/v1/public/consultations/{nomination.id}/comments", json={
        "full_name": "Phạm Văn Cường", "phone": "0987654321", "address": "Bát Tràng", "content": "Đồng ý.",
        "notice_version": notice["version"], "consents": []})
    assert r.status_code == 201, r.get_json()
    rows = {c.purpose: c.granted for c in consent_rows(comment_id=r.get_json()["id"])}
    assert rows == {NOTICE_PURPOSE: True, "comment_follow_up": False}  # asked, not ticked: a recorded no


def test_an_api_comment_with_a_stale_notice_or_an_unknown_purpose_keeps_nothing(client, make):
    nomination = _consultation_open(make)
    body = {"full_name": "Phạm Văn Cường", "phone": "0987654321", "address": "Bát Tràng", "content": "Đồng ý."}
    url = f"/api/v1/public/consultations/{nomination.id}/comments"
    data_rights.publish_notice("# Hai\nHai.", "# Two\nTwo.")  # version 2 is in force now
    refused = (({"notice_version": 1}, None), ({"notice_version": 2, "consents": ["sell_my_data"]}, "consents"),
               ({"consents": ["comment_follow_up"]}, "notice_version"))
    for extra, field in refused:
        r = client.post(url, json=body | extra)
        assert r.status_code == 422, (extra, r.get_json())
        if field:
            assert field in r.get_json()["error"]["fields"], r.get_json()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PublicComment)) == 0
    assert consent_rows(context="comment") == []
    r = client.post(url, json=body | {"notice_version": 2, "consents": ["comment_follow_up"]})
    assert r.status_code == 201
    rows = {c.purpose: (c.granted, c.notice_version) for c in consent_rows(comment_id=r.get_json()["id"])}
    assert rows == {NOTICE_PURPOSE: (True, 2), "comment_follow_up": (True, 2)}


# == 2. the person's rights ================================================================================


def test_the_zip_holds_every_record_its_dictionary_and_the_files(client, make):
    owner = make.user("applicant", full_name="Trần Thị Sứ")
    draft = make.nomination(owner=owner, nominee={"full_name": "Trần Thị Sứ"})
    filed = make.nomination(State.SUBMITTED, owner=owner)
    data_rights.record_consents(context="register", user=owner, version=1, asked=["email_reminders"],
                            granted=["email_reminders"])
    login(client, owner)
    attachment = upload(client, draft)
    officer = make.user("province_officer", "HNI")
    login(client, officer)
    assert client.get(f"/nominations/{filed.id}").status_code == 200
    login(client, owner)
    r = client.get("/my-data/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert "attachment" in r.headers["Content-Disposition"]
    z = zipfile.ZipFile(io.BytesIO(r.data))
    names = set(z.namelist())
    dictionary = json.loads(z.read("fields.json"))
    for kind in px.FIELDS:
        assert f"{kind}.json" in names
        records = json.loads(z.read(f"{kind}.json"))
        for record in records if isinstance(records, list) else [records]:
            assert set(record) <= set(dictionary[f"{kind}.json"]), kind  # every field explained
    for file_fields in dictionary.values():
        for meaning in file_fields.values():
            assert meaning["vi"] and meaning["en"] and meaning["vi"] != meaning["en"]
    dossiers = json.loads(z.read("dossiers.json"))
    assert {d["id"] for d in dossiers} == {draft.id, filed.id}
    assert "access_key_hash" not in dossiers[0] and dossiers[0]["birth_date"]
    (item,) = json.loads(z.read("attachments.json"))
    from artisan_awards.services.attachments import attachment_bytes
    assert z.read(item["file"]) == attachment_bytes(db.session.get(Attachment, attachment.id))
    assert json.loads(z.read("account.json"))["email"] == owner.email
    assert {c["purpose"] for c in json.loads(z.read("consents.json"))} == {NOTICE_PURPOSE, "email_reminders"}
    reads = json.loads(z.read("reads.json"))
    assert [r["dossier_id"] for r in reads] == [filed.id]
    assert reads[0]["reader"] == "Cán bộ tỉnh (thường trực Hội đồng cấp tỉnh)"  # by role, not by name
    assert officer.full_name not in z.read("reads.json").decode()
    history = json.loads(z.read("history.json"))
    assert {h["dossier_id"] for h in history} == {filed.id}
    # the export is logged: a reading of one's own data and an audit event
    own = db.session.scalars(sa.select(PersonalDataRead).where(PersonalDataRead.action == "own_data")).all()
    assert [(o.reader_id, o.subject_id) for o in own] == [(owner.id, owner.id)]
    assert events("personal_data_exported")[-1].actor_id == owner.id


def test_every_dossier_column_is_exported_with_its_meaning_or_set_aside_with_a_reason(monkeypatch):
    def unclassified():
        columns = {c.key for c in Nomination.__mapper__.column_attrs}
        return columns - set(px.FIELDS["dossiers"]) - set(px.NOT_EXPORTED)

    assert unclassified() == set()
    assert set(px.dossier_columns()) == set(px.FIELDS["dossiers"])
    broken = {k: v for k, v in px.FIELDS["dossiers"].items() if k != "phone"}  # a field without a meaning
    monkeypatch.setitem(px.FIELDS, "dossiers", broken)
    assert unclassified() == {"phone"}


def test_a_correction_is_a_case_with_its_deadline_answered_on_the_officers_page(client, make, officer_dp):
    owner = make.user("applicant", full_name="Đỗ Văn Sơn")
    login(client, owner)
    r = client.post("/my-data/requests", data={"kind": "correction", "details": "Ngày sinh đúng là 02/03/1960."})
    assert r.status_code == 303
    case = db.session.scalars(sa.select(DataRequest).where(DataRequest.user_id == owner.id)).one()
    assert case.status == "open" and case.due_on == today() + timedelta(days=3)
    assert events("data_request_opened")[-1].details["request_id"] == case.id
    told = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == officer_dp.email)).all()
    assert told and str(case.id) in told[-1].subject
    # a case overdue comes first on the officer's list
    late = DataRequest(user_id=owner.id, kind="deletion", details="", status="open", done=[],
                       due_on=today() - timedelta(days=1))
    db.session.add(late)
    db.session.commit()
    assert [c.id for c in data_rights.officer_list()][:2] == [late.id, case.id]
    login(client, officer_dp)
    page = client.get("/data-officer/requests").get_data(as_text=True)
    assert page.index(f">{late.id}</a>") < page.index(f">{case.id}</a>") and "Quá hạn" in page
    assert client.post(f"/data-officer/requests/{case.id}", data={"outcome": "done", "answer": ""}).status_code == 422
    assert client.post(f"/data-officer/requests/{case.id}", data={"outcome": "maybe", "answer": "x"}).status_code == 422
    r = client.post(f"/data-officer/requests/{case.id}", data={"outcome": "done",
                                                                "answer": "Đã sửa ngày sinh theo giấy tờ."})
    assert r.status_code == 303
    db.session.refresh(case)
    assert case.status == "answered" and case.outcome == "done" and case.answered_by_id == officer_dp.id
    assert case.answered_at is not None and data_rights.is_overdue(case) is False
    assert events("data_request_answered")[-1].details["late"] is False
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == owner.email)).all()
    assert "Đã sửa ngày sinh theo giấy tờ." in mail[-1].body
    again = client.post(f"/data-officer/requests/{case.id}", data={"outcome": "done", "answer": "Lần hai"})
    assert again.status_code == 409
    login(client, owner)
    assert "Đã sửa ngày sinh theo giấy tờ." in client.get("/my-data").get_data(as_text=True)


def test_a_correction_without_details_is_refused_in_plain_words(client, make):
    owner = make.user("applicant")
    login(client, owner)
    r = client.post("/my-data/requests", data={"kind": "correction", "details": "  "}, follow_redirects=True)
    assert "Hãy ghi thông tin nào chưa đúng" in r.get_data(as_text=True)
    r = client.post("/my-data/requests", data={"kind": "hack", "details": "x"}, follow_redirects=True)
    assert "Loại yêu cầu không hợp lệ" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataRequest)) == 0


def test_withdrawing_a_consent_stops_it_at_once_and_opens_a_case(client, make):
    owner = make.user("applicant")
    data_rights.record_consents(context="register", user=owner, version=1, asked=["email_reminders",
                            "future_programmes"], granted=["email_reminders", "future_programmes"])
    login(client, owner)
    assert client.post("/my-data/consents/email_reminders/withdraw").status_code == 303
    assert data_rights.granted_purposes(owner) == {"future_programmes"}
    case = db.session.scalars(sa.select(DataRequest).where(DataRequest.user_id == owner.id)).one()
    assert (case.kind, case.purpose, case.status) == ("withdrawal", "email_reminders", "open")
    assert events("consent_withdrawn")[-1].details["purpose"] == "email_reminders"
    # nothing to withdraw (never given, already withdrawn, unknown): 404
    for purpose in ("email_reminders", "publish_photo", "no_such_purpose"):
        assert client.post(f"/my-data/consents/{purpose}/withdraw").status_code == 404
    # given again from the account, never ticked in advance
    assert client.post("/my-data/consents", data={"notice_version": "1", "asked": ["email_reminders"],
                                                  "consent": ["email_reminders"]}).status_code == 303
    assert data_rights.granted_purposes(owner) == {"future_programmes", "email_reminders"}


def test_deletion_deletes_the_unsubmitted_draft_and_says_what_the_law_keeps(client, make, officer_dp):
    owner = make.user("applicant")
    draft = make.nomination(owner=owner, nominee={"full_name": "Hồ Sơ Nháp"})
    filed = make.nomination(State.ACCEPTED, owner=owner)
    login(client, owner)
    attachment = upload(client, draft)
    key = attachment.stored_name
    from artisan_awards.storage import storage
    assert storage().get(key)
    data_rights.record_consents(context="register", user=owner, version=1, asked=["email_reminders"],
                            granted=["email_reminders"])
    client.post("/my-data/requests", data={"kind": "deletion", "details": "Xin xóa dữ liệu của tôi."})
    case = db.session.scalars(sa.select(DataRequest).where(DataRequest.user_id == owner.id)).one()
    login(client, officer_dp)
    page = client.get(f"/data-officer/requests/{case.id}").get_data(as_text=True)
    assert "Hồ Sơ Nháp" in page and filed.code in page
    r = client.post(f"/data-officer/requests/{case.id}", data={"outcome": "done", "answer": "Đã xóa phần được phép."})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Nomination, draft.id) is None
    assert db.session.get(Nomination, filed.id) is not None  # the administrative procedure's record
    assert db.session.get(Attachment, attachment.id) is None
    assert key not in storage().keys()
    case = db.session.get(DataRequest, case.id)
    assert case.outcome == "partly"  # the law keeps the filed dossier: not "done"
    assert f"deleted_draft:{draft.id}:Hồ Sơ Nháp" in case.done and any(d.startswith("kept_dossier:") for d in case.done)
    assert "consent_withdrawn:email_reminders" in case.done and data_rights.granted_purposes(owner) == set()
    user = db.session.get(User, owner.id)
    assert user.active and user.email == owner.email  # kept: a filed dossier still needs its filer
    mail = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == owner.email)).all()
    assert "pháp luật buộc phải lưu" in mail[-1].body


def test_deletion_of_someone_with_only_a_draft_anonymises_and_closes_the_account(client, make, officer_dp):
    owner = make.user("applicant", full_name="Người Sẽ Xóa")
    email = owner.email
    make.nomination(owner=owner)
    case = data_rights.open_request(owner, "deletion", "")
    data_rights.answer(officer_dp, case, "done", "Đã xóa.")
    db.session.expire_all()
    user = db.session.get(User, owner.id)
    assert not user.active and user.full_name != "Người Sẽ Xóa" and user.email != email
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Nomination)
                             .where(Nomination.owner_id == owner.id)) == 0
    assert case.outcome == "done" and "account_anonymised" in case.done
    assert db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == email)).all()
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 200  # the old address and password no longer open anything


def test_a_deletion_that_fails_half_way_deletes_nothing(make, officer_dp, monkeypatch):
    owner = make.user("applicant")
    draft = make.nomination(owner=owner)
    case = data_rights.open_request(owner, "deletion", "")

    def broken(*a, **kw):
        raise RuntimeError("mail down")

    monkeypatch.setattr(data_rights.notifications, "data_request_answered", broken)
    with pytest.raises(RuntimeError):
        data_rights.answer(officer_dp, case, "done", "Đã xóa.")
    db.session.expire_all()
    assert db.session.get(Nomination, draft.id) is not None
    assert db.session.get(DataRequest, case.id).status == "open"
    assert db.session.get(User, owner.id).active


# == attackers: another user reaches neither someone's data nor their requests ============================


def leaks(client, victim, attacker, case_id) -> list[str]:
    """What ``attacker`` reaches of ``victim``'s: their ZIP's content, their requests (list, case)."""
    found = []
    login(client, attacker)
    z = zipfile.ZipFile(io.BytesIO(client.get("/my-data/export.zip").data))
    if victim.email in z.read("account.json").decode() or victim.full_name in z.read("dossiers.json").decode():
        found.append("zip")
    r = client.get(f"/data-officer/requests/{case_id}")
    if r.status_code != 404:
        found.append(f"case {r.status_code}")
    if client.get("/data-officer/requests").status_code != 403:
        found.append("list")
    if client.post(f"/data-officer/requests/{case_id}", data={"outcome": "done", "answer": "x"}).status_code != 404:
        found.append("answer")
    if "Sửa tên làng nghề" in client.get("/my-data").get_data(as_text=True):
        found.append("my-data")
    return found


def test_another_user_reaches_neither_the_data_nor_the_requests(client, make):
    victim = make.user("applicant", full_name="Nạn Nhân Thị Gốm")
    make.nomination(owner=victim, nominee={"full_name": "Nạn Nhân Thị Gốm"})
    case = data_rights.open_request(victim, "correction", "Sửa tên làng nghề.")
    for role in ("applicant", "province_officer", "ministry_officer", "admin"):
        assert leaks(client, victim, make.user(role), case.id) == [], role


def test_the_attacker_check_fails_when_the_officers_predicate_lets_everyone_in(client, make, monkeypatch):
    victim = make.user("applicant", full_name="Nạn Nhân Văn Tre")
    case = data_rights.open_request(victim, "correction", "Sửa tên làng nghề.")
    monkeypatch.setattr(permissions, "can_answer_data_requests", lambda user: True)
    found = leaks(client, victim, make.user("applicant"), case.id)
    assert "case 200" in found and "answer" in found


# == 6. reading is logged ==================================================================================


def test_opening_downloading_and_exporting_are_logged_once_lists_are_not(client, make):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    login(client, owner)
    attachment = upload(client, nomination)
    client.post(f"/nominations/{nomination.id}/actions/submit", data={"commitment": "y"})
    assert client.get(f"/nominations/{nomination.id}").status_code == 200  # the owner: not logged
    officer = make.user("province_officer", "HNI", full_name="Cán Bộ Đọc")
    login(client, officer)
    count = lambda: db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataRead))  # noqa: E731
    assert count() == 0
    assert client.get("/province/inbox").status_code == 200
    assert count() == 0  # a list logs nothing
    assert client.get(f"/nominations/{nomination.id}").status_code == 200
    assert client.get(f"/nominations/{nomination.id}/attachments/{attachment.id}").status_code == 200
    assert client.get("/province/inbox/export.csv").status_code == 200
    rows = db.session.scalars(sa.select(PersonalDataRead).order_by(PersonalDataRead.id)).all()
    assert [(r.action, r.reader_id, r.reader_role) for r in rows] == [
        ("dossier", officer.id, "province_officer"), ("evidence", officer.id, "province_officer"),
        ("export", officer.id, "province_officer")]
    assert rows[0].subject_id == owner.id and rows[1].target == attachment.original_name
    assert client.get("/nominations/999999").status_code == 404 and count() == 3  # a refusal logs nothing
    login(client, owner)
    page = client.get("/my-data").get_data(as_text=True)
    assert "Cán bộ tỉnh (thường trực Hội đồng cấp tỉnh)" in page and "Cán Bộ Đọc" not in page
    assert "Tiếp nhận, thẩm định hồ sơ" in page  # the role's purpose


def test_readers_by_name_when_configured(app, client, make):
    app.config["PRIVACY_READERS_SHOWN_BY"] = "name"
    nomination = make.nomination(State.SUBMITTED)
    officer = make.user("province_officer", "HNI", full_name="Cán Bộ Có Tên")
    login(client, officer)
    client.get(f"/nominations/{nomination.id}")
    login(client, nomination.owner)
    assert "Cán Bộ Có Tên (Cán bộ tỉnh" in client.get("/my-data").get_data(as_text=True)


def test_a_reason_is_asked_first_when_configured(app, client, make):
    app.config["PRIVACY_READ_REASON_REQUIRED"] = True
    nomination = make.nomination(State.SUBMITTED, nominee={"full_name": "Bí Mật Thị Lan"})
    login(client, make.user("province_officer", "HNI"))
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert 'name="reason"' in page and "Bí Mật Thị Lan" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataRead)) == 0
    page = client.get(f"/nominations/{nomination.id}?reason=Kiểm+tra+khiếu+nại").get_data(as_text=True)
    assert "Bí Mật Thị Lan" in page
    row = db.session.scalars(sa.select(PersonalDataRead)).one()
    assert row.purpose == "Kiểm tra khiếu nại"
    assert "Bí Mật Thị Lan" in client.get(f"/nominations/{nomination.id}").get_data(as_text=True)  # remembered
    login(client, nomination.owner)
    assert "Kiểm tra khiếu nại" in client.get("/my-data").get_data(as_text=True)


# == the pages in English ===================================================================================


def test_the_pages_in_english(client, make, officer_dp):
    owner = make.user("applicant")
    data_rights.open_request(owner, "correction", "Sai tên.")
    login(client, owner)
    client.post("/lang/en", data={"next": "/"})
    page = client.get("/my-data").get_data(as_text=True)
    for text in ("My personal data", "Download all data", "Correction", "Who read my dossiers"):
        assert text in page, text
    login(client, officer_dp)
    client.post("/lang/en", data={"next": "/"})
    assert "Personal data requests" in client.get("/data-officer/requests").get_data(as_text=True)


def test_a_pdf_of_the_dossier_and_the_apis_answer_are_logged_too(client, make, api):
    nomination = make.nomination(State.SUBMITTED)
    officer = make.user("province_officer", "HNI")
    assert api.get(f"/api/v1/nominations/{nomination.id}", officer).status_code == 200
    login(client, officer)
    assert client.get(f"/nominations/{nomination.id}/declaration.pdf").status_code == 200
    rows = db.session.scalars(sa.select(PersonalDataRead).order_by(PersonalDataRead.id)).all()
    assert [(r.action, r.target, r.subject_id) for r in rows] == [
        ("dossier", "", nomination.owner_id), ("export", "declaration.pdf", nomination.owner_id)]
    assert api.get(f"/api/v1/nominations/{nomination.id}", nomination.owner).status_code == 200
    assert len(db.session.scalars(sa.select(PersonalDataRead)).all()) == 2  # the owner's own: not logged
