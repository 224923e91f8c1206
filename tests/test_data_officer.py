"""Issue 17 item 5: the data officer's desk: the register of processing activities generated from the
configuration (shown and downloadable), the impact assessment drafted as a PDF, the breach record with
its notification deadline and the notices drafted for the officer."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, PersonalDataBreach
from artisan_awards.timeutil import VN, as_utc, now_utc


@pytest.fixture
def officer(auth):
    return auth.login_as("data_officer")


def test_only_the_data_officer_opens_the_desk(client, auth, make):
    auth.login_as("admin")
    assert client.get("/data-officer/").status_code == 403
    auth.logout()
    auth.login_as("data_officer")
    page = client.get("/data-officer/")
    assert page.status_code == 200
    assert "Bảo vệ dữ liệu cá nhân" in page.get_data(as_text=True)


def test_the_register_is_generated_from_the_configuration(client, app, officer):
    app.config["RETENTION_COMMENT_DAYS"] = 123
    app.config["PRIVACY_ACTIVITIES"] = [*app.config["PRIVACY_ACTIVITIES"], {
        "key": "survey", "purpose": "Khảo sát mức độ hài lòng", "basis": "Sự đồng ý", "subjects": "Người nộp",
        "classes": ["phone"], "recipients": "Bộ Công Thương", "retention": "RETENTION_LOG_DAYS"}]
    page = client.get("/data-officer/").get_data(as_text=True)
    assert "Khảo sát mức độ hài lòng" in page and "123 ngày" in page
    data = json.loads(client.get("/data-officer/register.json").get_data(as_text=True))
    survey = next(a for a in data["activities"] if a["key"] == "survey")
    assert survey["classes"][0]["columns"] == ["nominations.phone", "nominations.email"]
    assert next(a for a in data["activities"] if a["key"] == "consultation")["retention_days"] == 123
    text = client.get("/data-officer/register.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "Mục đích" and any(r[1] == "Khảo sát mức độ hài lòng" for r in rows[1:])
    assert len(rows) == len(app.config["PRIVACY_ACTIVITIES"]) + 1
    assert client.get("/data-officer/register.xml").status_code == 404


def test_the_impact_assessment_is_a_pdf_drafted_from_the_register(client, app, officer):
    app.config["PRIVACY_CONTROLLER"] = "Bộ Công Thương thử nghiệm"
    r = client.get("/data-officer/impact-assessment.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).split())
    assert "Bộ Công Thương thử nghiệm" in text
    assert "Lấy ý kiến nhân dân về người được đề nghị" in text
    assert "nominations.phone" in text  # the encrypted fields
    assert "Xem khi ghi lý do" in text  # the policy table


def _breach_form(**over):
    moment = (datetime.now(VN) - timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M")
    form = {"description": "Máy tính xách tay chứa bản xuất danh sách bị mất", "discovered_at": moment,
            "affected_count": "37", "classes": ["phone", "address"], "measures": "Khóa tài khoản, đổi khóa"}
    form.update(over)
    return form


@pytest.mark.parametrize("bad, field, message", [
    ({"description": "ngắn"}, "description", "ít nhất 10 ký tự"),
    ({"discovered_at": ""}, "discovered_at", "Cần thời điểm phát hiện"),
    ({"discovered_at": "hôm qua"}, "discovered_at", "không hợp lệ"),
    ({"discovered_at": "2099-01-01T00:00"}, "discovered_at", "tương lai"),
    ({"affected_count": "-3"}, "affected_count", "số nguyên không âm"),
    ({"classes": []}, "classes", "ít nhất một loại"),
    ({"occurred_at": "2099-01-01T00:00"}, "occurred_at", "tương lai"),
])
def test_a_bad_breach_is_refused_with_a_message(client, officer, bad, field, message):
    r = client.post("/data-officer/breaches", data=_breach_form(**bad))
    assert r.status_code == 422
    assert message in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataBreach)) == 0


def test_a_breach_counts_its_deadline_and_drafts_both_notices(client, app, officer):
    app.config["BREACH_NOTICE_HOURS"] = 72
    r = client.post("/data-officer/breaches", data=_breach_form())
    assert r.status_code == 302
    breach = db.session.scalars(sa.select(PersonalDataBreach)).one()
    assert breach.affected_count == 37 and breach.classes == ["phone", "address"]
    due = as_utc(breach.discovered_at) + timedelta(hours=72)
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert due.astimezone(VN).strftime("%d/%m/%Y") in page
    assert "còn 61 giờ" in page or "còn 62 giờ" in page  # discovered 10 h ago, 72 h to notify
    assert app.config["PRIVACY_AUTHORITY"] in page
    assert "Kính gửi Ông/Bà" in page and "Máy tính xách tay chứa bản xuất danh sách bị mất" in page
    event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "breach_recorded")).one()
    assert event.details["affected"] == 37
    # a shorter deadline in configuration: already late
    app.config["BREACH_NOTICE_HOURS"] = 6
    assert "quá hạn" in client.get(f"/data-officer/breaches/{breach.id}").get_data(as_text=True)
    assert client.post(f"/data-officer/breaches/{breach.id}/notified").status_code == 302
    db.session.expire_all()
    assert as_utc(db.session.get(PersonalDataBreach, breach.id).authority_notified_at) <= now_utc()
    page = client.get(f"/data-officer/breaches/{breach.id}").get_data(as_text=True)
    assert "đã thông báo" in page and "(muộn)" in page
    assert client.get("/data-officer/breaches/999999").status_code == 404
