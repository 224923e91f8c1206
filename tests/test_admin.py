"""Administration pages: accounts, one-time links, bulk import, rounds, councils, audit, permissions."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from itsdangerous import TimestampSigner
from openpyxl import Workbook

from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Council, OutboxMessage, Round, User
from artisan_awards.services import account_admin, accounts
from tests.confirming import answer_fields, is_question, post_confirmed
from tests.factories import Factory

PW = Factory.PASSWORD
NEW_PW = "mat-khau-moi-2026"


def _events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def _outbox_link(address: str) -> str:
    row = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == address)
                            .order_by(OutboxMessage.id.desc()))
    assert row is not None, address
    return next(w for w in row.body.split() if w.startswith("http")).removeprefix("http://localhost")


def _invite(client, **fields):
    data = {"full_name": "Phạm Thị Lan", "email": "lan@example.vn", "roles": ["province_officer"],
            "province_code": "HNI", "locale": "vi"}
    data.update(fields)
    return client.post("/admin/accounts/invite", data=data)


def test_province_officer_cannot_invite_into_another_province(client, auth):
    auth.login_as("province_officer", "HNI")
    r = _invite(client, province_code="HCM", roles=["province_council_member"])
    assert r.status_code in (200, 403)
    assert accounts.find_user("lan@example.vn") is None


@pytest.mark.parametrize("role", ["admin", "ministry_officer", "ministry_council_member", "state_council_member",
                                  "government_officer"])
def test_province_officer_cannot_grant_roles_above_their_own(client, auth, make, role):
    officer = auth.login_as("province_officer", "HNI")
    assert accounts.find_user("lan@example.vn") is None
    _invite(client, roles=[role])
    assert accounts.find_user("lan@example.vn") is None
    # nor through the service directly
    with pytest.raises(account_admin.Forbidden):
        account_admin.invite(officer, "x@example.vn", "X", [role], "HNI")
    member = make.user("province_council_member", "HNI")
    r = client.post(f"/admin/accounts/{member.id}", data={"roles": [role], "province_code": "HNI"})
    assert r.status_code in (200, 403)
    db.session.expire_all()
    assert member.roles == {"province_council_member"}


def test_province_officer_sees_and_manages_only_their_province(client, auth, make):
    auth.login_as("province_officer", "HNI")
    inside = make.user("province_council_member", "HNI", full_name="Trong Tỉnh")
    outside = make.user("province_council_member", "HCM", full_name="Ngoài Tỉnh")
    above = make.user(["province_officer", "ministry_officer"], "HNI", full_name="Cấp Cao")
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "Trong Tỉnh" in page and "Ngoài Tỉnh" not in page
    assert client.get(f"/admin/accounts/{inside.id}").status_code == 200
    assert client.get(f"/admin/accounts/{outside.id}").status_code == 404
    assert client.get(f"/admin/accounts/{above.id}").status_code == 404
    r = client.post(f"/admin/accounts/{outside.id}", data={"roles": ["applicant"], "province_code": "HNI"})
    assert r.status_code == 404
    r = client.post(f"/admin/accounts/{outside.id}/status", data={"active": "0"})
    assert r.status_code == 404
    db.session.expire_all()
    assert outside.active


def test_province_officer_invites_in_own_province(client, auth):
    auth.login_as("province_officer", "HNI")
    r = _invite(client, roles=["province_council_member", "applicant"])
    assert r.status_code == 302, r.get_data(as_text=True)
    user = accounts.find_user("lan@example.vn")
    assert user.roles == {"province_council_member", "applicant"} and user.province_code == "HNI"


# -- invitations and one-time links ---------------------------------------------------------------

def test_invitation_link_sets_password_once(client, auth):
    admin = auth.login_as("admin")
    assert _invite(client).status_code == 302
    user = accounts.find_user("lan@example.vn")
    assert not user.email_confirmed
    assert accounts.authenticate("lan@example.vn", NEW_PW) is None
    [event] = _events("account_invited")
    assert event.actor_id == admin.id and event.target_id == user.id
    auth.logout()
    link = _outbox_link("lan@example.vn")
    assert link.startswith("/invitation/")
    assert client.get(link).status_code == 200
    r = client.post(link, data={"password": NEW_PW, "confirm": NEW_PW})
    assert r.status_code == 302
    assert auth.login("lan@example.vn", NEW_PW).status_code == 302
    # used: refused
    auth.logout()
    r = client.get(link)
    assert r.status_code == 410
    assert "không hợp lệ hoặc đã được dùng" in r.get_data(as_text=True)
    assert client.post(link, data={"password": "khac-han-nhe-1", "confirm": "khac-han-nhe-1"}).status_code == 410


def test_expired_invitation_is_refused(client, auth, monkeypatch):
    auth.login_as("admin")
    assert _invite(client, email="old@example.vn").status_code == 302
    user = accounts.find_user("old@example.vn")
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 73 * 3600)
    token = account_admin.make_token(user, "invite")
    monkeypatch.setattr(TimestampSigner, "get_timestamp", real)
    auth.logout()
    r = client.get(f"/invitation/{token}")
    assert r.status_code == 410 and "hết hạn" in r.get_data(as_text=True)
    assert client.get("/invitation/not-a-token").status_code == 410
    # a reset token is no invitation
    assert client.get(f"/invitation/{account_admin.make_token(user, 'reset')}").status_code == 410


def test_roles_change_and_deactivation_are_logged(client, auth, make):
    admin = auth.login_as("admin")
    user = make.user("applicant")
    r = client.post(f"/admin/accounts/{user.id}",
                    data={"roles": ["province_officer", "province_council_member"], "province_code": "DNG"})
    assert r.status_code == 302
    db.session.expire_all()
    assert user.roles == {"province_officer", "province_council_member"} and user.province_code == "DNG"
    [roles_event] = _events("roles_changed")
    assert roles_event.actor_id == admin.id
    assert roles_event.details == {"before": ["applicant"], "after": ["province_council_member", "province_officer"]}
    assert _events("province_changed")[0].details == {"before": None, "after": "DNG"}
    assert client.post(f"/admin/accounts/{user.id}/status", data={"active": "0"}).status_code == 302
    db.session.expire_all()
    assert not user.active and db.session.get(User, user.id) is not None  # never deleted
    assert _events("account_deactivated")
    auth.logout()
    assert auth.login(user.email).status_code == 200  # cannot log in


def test_province_scoped_role_needs_a_province(client, auth, make):
    auth.login_as("admin")
    user = make.user("applicant")
    r = client.post(f"/admin/accounts/{user.id}", data={"roles": ["province_officer"], "province_code": ""})
    assert r.status_code == 200
    assert "cần chọn tỉnh" in r.get_data(as_text=True)


def test_login_and_failed_login_are_logged(client, auth, make):
    user = make.user("applicant")
    assert auth.login(user.email, "sai-mat-khau-1").status_code == 200
    assert auth.login("nobody@example.vn", "sai-mat-khau-1").status_code == 200
    assert auth.login(user.email).status_code == 302
    failed = _events("login_failed")
    assert [e.target_label for e in failed] == [user.email, "nobody@example.vn"]
    assert failed[0].target_id == user.id and failed[1].target_id is None
    assert _events("login")[0].actor_id == user.id


def test_audit_log_is_append_only(app, make):
    make.user("applicant")
    from artisan_awards.services import admin_events

    admin_events.record("login", None, target_label="x")
    db.session.commit()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.update(AuditEvent).values(actor_name="forged"))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.delete(AuditEvent))
        db.session.commit()
    db.session.rollback()


# -- self-service --------------------------------------------------------------------------------

def test_registration_needs_email_confirmation(client, auth):
    r = client.post("/register", data={"full_name": "Đỗ Văn Bình", "email": "binh@example.vn",
                                       "password": NEW_PW, "confirm": NEW_PW})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    r = auth.login("binh@example.vn", NEW_PW)
    assert r.status_code == 200 and "xác nhận địa chỉ thư điện tử" in r.get_data(as_text=True)
    link = _outbox_link("binh@example.vn")
    assert link.startswith("/confirm/")
    assert client.get(link).status_code == 302
    assert auth.login("binh@example.vn", NEW_PW).status_code == 302
    auth.logout()
    r = client.get(link, follow_redirects=True)  # works once
    assert "không hợp lệ hoặc đã được dùng" in r.get_data(as_text=True)


def test_forgot_and_reset_password(client, auth, make):
    user = make.user("applicant")
    r = client.post("/forgot", data={"email": user.email})
    assert r.status_code == 302
    client.post("/forgot", data={"email": "unknown@example.vn"})  # same answer, no mail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    link = _outbox_link(user.email)
    assert link.startswith("/reset/")
    assert client.post(link, data={"password": NEW_PW, "confirm": NEW_PW}).status_code == 302
    assert auth.login(user.email, PW).status_code == 200
    assert auth.login(user.email, NEW_PW).status_code == 302
    assert client.get(link).status_code == 410


def test_change_password(client, auth):
    user = auth.login_as("applicant")
    r = client.post("/account/password", data={"current": "sai-mat-khau-1", "password": NEW_PW, "confirm": NEW_PW})
    assert r.status_code == 200 and "không đúng" in r.get_data(as_text=True)
    r = client.post("/account/password", data={"current": PW, "password": NEW_PW, "confirm": NEW_PW})
    assert r.status_code == 302
    assert accounts.authenticate(user.email, NEW_PW) is not None
    assert [e.details["via"] for e in _events("password_changed")] == ["change"]


# -- bulk import ---------------------------------------------------------------------------------

HEADER = ["name", "email", "position", "role", "province"]
CLEAN = [
    ["Nguyễn Văn An", "an@example.vn", "Giám đốc Sở", "province_council_member", "HNI"],
    ["Trần Thị Bích", "bich@example.vn", "Phó Giám đốc", "province_council_member;applicant", "HNI"],
    ["Lê Văn Cường", "cuong@example.vn", "Chuyên viên", "province_officer", "HNI"],
]


def _csv(rows, bom=True) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, content: bytes, name: str):
    return client.post("/admin/accounts/import", data={"sheet": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _payload(page: str) -> str:
    import html
    import re

    return html.unescape(re.search(r'name="payload" value="([^"]*)"', page).group(1))


def _count_users() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.mark.parametrize("kind", ["csv-bom", "csv", "xlsx"])
def test_import_clean_sheet_creates_each_account_once(client, auth, kind):
    auth.login_as("admin")
    content = _xlsx(CLEAN) if kind == "xlsx" else _csv(CLEAN, bom=kind == "csv-bom")
    name = "danh-sach.xlsx" if kind == "xlsx" else "danh-sach.csv"
    before = _count_users()
    r = _upload(client, content, name)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Sẽ tạo mới" in page and "Nguyễn Văn An" in page
    assert _count_users() == before  # preview writes nothing
    r = client.post("/admin/accounts/import/confirm", data={"payload": _payload(page)})
    assert r.status_code == 302
    assert _count_users() == before + 3
    assert accounts.find_user("bich@example.vn").roles == {"province_council_member", "applicant"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3  # invitations
    # re-import: no duplicate
    page = _upload(client, content, name).get_data(as_text=True)
    assert page.count("Đã có tài khoản") == 3
    r = client.post("/admin/accounts/import/confirm", data={"payload": _payload(page)})
    assert r.status_code == 302
    assert _count_users() == before + 3


def test_import_with_one_bad_row_writes_nothing(app, client, auth):
    admin = auth.login_as("admin")
    rows = [*CLEAN, ["Phạm Đức Dũng", "dung-at-example.vn", "Ủy viên", "province_council_member", "HNI"],
            ["Võ Thị Em", "em@example.vn", "", "quan_tri_vien", "HNI"]]
    before = _count_users()
    r = _upload(client, _csv(rows), "ds.csv")
    page = r.get_data(as_text=True)
    assert "2 dòng có lỗi" in page
    assert "Địa chỉ thư điện tử không hợp lệ." in page and "Vai trò không hợp lệ: quan_tri_vien" in page
    assert 'action="/admin/accounts/import/confirm"' not in page  # no import button
    # forcing the confirmation anyway (rows typed by the client, not the signed preview) writes nothing
    r = client.post("/admin/accounts/import/confirm", data={"payload": json.dumps([
        {"number": 2, **dict(zip(HEADER, CLEAN[0], strict=True))},
        {"number": 5, **dict(zip(HEADER, rows[3], strict=True))},
    ])})
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "Bản xem trước không hợp lệ" in text and "chưa có tài khoản nào được tạo" in text
    assert _count_users() == before
    # a genuine signed preview of the bad rows (the page offers no button for it) is refused by the
    # service too, naming the rows again
    from artisan_awards.services import account_import

    records = account_import.read_sheet("ds.csv", _csv(rows))
    with app.test_request_context():
        token = account_import.preview_token(admin, records)
    r = client.post("/admin/accounts/import/confirm", data={"payload": token})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "không có tài khoản nào được tạo" in text and "<td data-label=\"Dòng\">5</td>" in text
    assert _count_users() == before


def test_province_officer_import_is_scoped(client, auth):
    auth.login_as("province_officer", "HNI")
    rows = [["A", "a1@example.vn", "", "province_council_member", "HCM"],
            ["B", "b1@example.vn", "", "ministry_officer", "HNI"]]
    page = _upload(client, _csv(rows), "x.csv").get_data(as_text=True)
    assert "chỉ quản lý tài khoản của tỉnh" in page and "cao hơn vai trò của mình" in page


def test_import_refuses_unreadable_file(client, auth):
    auth.login_as("admin")
    r = _upload(client, b"\x00\x01garbage", "x.xlsx")
    assert "Không đọc được tệp" in r.get_data(as_text=True)
    r = _upload(client, b"a,b\n1,2\n", "x.csv")
    assert "Tệp cần có các cột" in r.get_data(as_text=True)


# -- rounds --------------------------------------------------------------------------------------

def _round_form(**kw):
    on = date.today()
    data = {"number": 55, "name": "Xét tặng lần thứ 55", "governing_decree": "43/2024",
            "intake_opens": (on + timedelta(days=10)).isoformat(),
            "intake_closes": (on + timedelta(days=60)).isoformat(),
            "province_to_ministry": (on + timedelta(days=120)).isoformat(),
            "ministry_to_state": (on + timedelta(days=200)).isoformat(),
            "state_to_pm": "", "announcement": "",
            "reply_days": 10, "completion_days": 15, "consultation_days": 20, "consultation_windows": 2}
    data.update(kw)
    return data


def test_round_plan_out_of_order_is_refused(client, auth):
    auth.login_as("ministry_officer")
    on = date.today()
    r = client.post("/admin/rounds/new", data=_round_form(
        ministry_to_state=(on + timedelta(days=100)).isoformat()))
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "Kế hoạch đợt xét tặng có ngày không theo thứ tự." in text
    assert "phải sau mốc trước đó (Hạn tỉnh gửi hồ sơ lên Bộ" in text
    r = client.post("/admin/rounds/new", data=_round_form(intake_closes=on.isoformat()))
    assert r.status_code == 422
    assert "Ngày mở tiếp nhận phải trước ngày đóng tiếp nhận." in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(Round).where(Round.number == 55)) is None


def test_round_change_is_logged_with_who_and_when(client, auth, make):
    officer = auth.login_as("ministry_officer")
    r = client.post("/admin/rounds/new", data=_round_form())
    assert r.status_code == 302
    row = db.session.scalar(sa.select(Round).where(Round.number == 55))
    assert _events("round_created")[0].actor_id == officer.id
    on = date.today()
    # open it (intake started), then change the plan
    r = client.post(f"/admin/rounds/{row.id}", data=_round_form(
        intake_opens=(on - timedelta(days=1)).isoformat(), consultation_days=25))
    assert is_question(r), "a plan change is previewed before it is saved"
    assert not _events("round_changed")
    r = client.post(f"/admin/rounds/{row.id}", data=answer_fields(r))
    assert r.status_code == 302
    [event] = _events("round_changed")
    assert event.actor_id == officer.id and event.actor_name == officer.full_name and event.at is not None
    assert event.details["changes"]["consultation_days"] == [20, 25]
    r = post_confirmed(client, f"/admin/rounds/{row.id}", data=_round_form(
        intake_opens=(on - timedelta(days=1)).isoformat(), consultation_days=30))
    events = _events("round_changed")
    assert events[-1].details["after_opening"] is True
    page = client.get(f"/admin/rounds/{row.id}").get_data(as_text=True)
    assert officer.full_name in page and "sau khi đợt đã mở" in page


# -- councils ------------------------------------------------------------------------------------

def test_secretariat_sets_up_a_council(client, auth, make):
    officer = auth.login_as("province_officer", "HNI")
    intake = make.round()
    chair = make.user("province_council_member", "HNI", full_name="Chủ Tịch")
    vice = make.user("province_council_member", "HNI", full_name="Phó Chủ Tịch")
    member = make.user("province_council_member", "HNI", full_name="Ủy Viên")
    page = client.get("/admin/councils/new").get_data(as_text=True)
    assert "Chủ Tịch" in page
    r = client.post("/admin/councils/new", data={
        "level": "province", "round_id": intake.id, "province_code": "HNI", "name": "Hội đồng cấp tỉnh Hà Nội",
        "decision_no": "123/QĐ-UBND", "decision_date": "2026-03-01", "exclude_conflicted_votes": "y",
        f"position-{chair.id}": "chair", f"position-{vice.id}": "vice_chair", f"preside-{vice.id}": "1",
        f"position-{member.id}": "member",
    })
    assert r.status_code == 302, r.get_data(as_text=True)
    council = db.session.scalar(sa.select(Council))
    assert council.decision_no == "123/QĐ-UBND" and council.province_code == "HNI"
    positions = {m.user_id: (m.position, m.authorised_to_preside) for m in council.members}
    assert positions == {chair.id: ("chair", False), vice.id: ("vice_chair", True), member.id: ("member", False)}
    [event] = _events("council_created")
    assert event.actor_id == officer.id


def test_council_needs_one_chair(client, auth, make):
    auth.login_as("admin")
    intake = make.round()
    m = make.user("ministry_council_member")
    r = client.post("/admin/councils/new", data={
        "level": "ministry", "round_id": intake.id, "name": "HĐ", "decision_no": "1/QĐ",
        f"position-{m.id}": "member"})
    assert r.status_code == 200 and "đúng một Chủ tịch" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(Council)) is None


# -- audit view ----------------------------------------------------------------------------------

def test_audit_view_filters_and_exports_csv_with_bom(client, auth, make):
    admin = auth.login_as("admin")
    user = make.user("applicant", full_name="Người Được Đổi")
    client.post(f"/admin/accounts/{user.id}", data={"roles": ["applicant", "province_council_member"],
                                                    "province_code": "HNI"})
    page = client.get("/admin/audit?area=role").get_data(as_text=True)
    assert "Đổi vai trò" in page and "Đăng nhập</td>" not in page
    page = client.get("/admin/audit?kind=login").get_data(as_text=True)
    assert admin.email in page and "Đổi vai trò" not in page.split("<tbody>")[1]
    r = client.get("/admin/audit?format=csv&area=role")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    raw = r.data
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][0] == "Thời điểm"
    assert any("Đổi vai trò" in row[1] and user.email in row[3] for row in rows[1:])
    today = date.today().isoformat()
    assert "Đổi vai trò" in client.get(f"/admin/audit?from={today}&to={today}").get_data(as_text=True)
    assert "Không có sự kiện nào" in client.get("/admin/audit?from=2000-01-01&to=2000-01-02").get_data(as_text=True)


def test_admin_pages_in_english(client, auth, make):
    auth.login_as("admin")
    intake = make.round()
    client.post("/lang/en")
    for path, text in (("/admin/", "Administration"), ("/admin/accounts", "Invite a user"),
                       ("/admin/accounts/invite", "Send invitation"), ("/admin/rounds", "Create a round"),
                       (f"/admin/rounds/{intake.id}", "Stage deadlines"), ("/admin/councils/new", "Set up a council"),
                       ("/admin/audit", "Administration log"), ("/account/password", "Change password")):
        r = client.get(path)
        assert r.status_code == 200 and text in r.get_data(as_text=True), path
