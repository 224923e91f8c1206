"""Notifications: a dossier's journey told by e-mail through a real local SMTP server (aiosmtpd),
in each recipient's language; deadline reminders sent once; the round plan's timeline."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, OutboxMessage
from artisan_awards.services import mail
from artisan_awards.timeutil import today
from tests.smtp import Mailbox, smtp_server  # noqa: F401
from tests.test_councils import Chain


@pytest.fixture
def chain(api, make, app, smtp_server):  # noqa: F811
    app.config["TODAY"] = None
    app.config.update(smtp_server.config)
    app.config["PUBLIC_BASE_URL"] = "https://nghenhan.example.vn"
    return Chain(api, make)


def _english(user):
    user.locale = "en"
    db.session.commit()
    return user


def _deliver(box: Mailbox) -> int:
    """What the background sender does; returns how many went out."""
    before = len(box.messages)
    sent, failed = mail.send_pending()
    assert failed == 0
    assert len(box.messages) == before + sent
    return sent


def _subjects(box: Mailbox, address: str) -> list[str]:
    return [m["Subject"] for m in box.to(address)]


def _body(box: Mailbox, address: str, subject_part: str) -> str:
    found = [m for m in box.to(address) if subject_part in m["Subject"]]
    assert found, (subject_part, _subjects(box, address))
    return Mailbox.body(found[-1])


def test_a_dossiers_journey_by_email(chain, api, smtp_server):  # noqa: F811
    box = smtp_server
    applicant = chain.make.user("applicant", full_name="Nguyễn Văn Ánh")
    english_officer = _english(chain.make.user("province_officer", "HNI", full_name="Lê Thu Trang"))
    other_province = chain.make.user("province_officer", "HPG")
    r = api.post("/api/v1/nominations", applicant, json=chain.make.nomination_data(round_id=chain.round.id))
    nomination = db.session.get(Nomination, r.get_json()["id"])

    # Submitted: a receipt for the applicant, "a dossier arrived" for the province's secretariat.
    chain.act(nomination, "submit", applicant)
    code = nomination.code
    assert _deliver(box) == 3  # applicant + two HNI officers; HPG hears nothing
    receipt = box.to(applicant.email)[-1]
    assert receipt["Subject"] == f"Hồ sơ {code} đã được tiếp nhận"
    text = Mailbox.body(receipt)
    reply_due = (today() + timedelta(days=10)).strftime("%d/%m/%Y")
    assert "Kính gửi Nguyễn Văn Ánh," in text
    assert "Sở Công Thương Hà Nội đã nhận hồ sơ đề nghị xét tặng danh hiệu Nghệ nhân ưu tú" in text
    assert f"chậm nhất ngày {reply_due}" in text
    assert f"https://nghenhan.example.vn/nominations/{nomination.id}" in text
    assert unicodedata.is_normalized("NFC", receipt["Subject"] + text)
    assert receipt.get_content_charset() == "utf-8" and receipt["Content-Language"] == "vi"
    assert _subjects(box, chain.officer.email) == [f"Hồ sơ mới: {code} — Nguyễn Văn Ánh"]
    assert f"Hạn trả lời bằng văn bản: ngày {reply_due}" in _body(box, chain.officer.email, code)
    # The officer whose language is English reads it in English, labels included.
    (english,) = box.to(english_officer.email)
    assert english["Subject"] == f"New dossier: {code} — Nguyễn Văn Ánh"
    english_text = Mailbox.body(english)
    assert "Dear Lê Thu Trang," in english_text and "Title: Meritorious Artisan" in english_text
    assert f"Written reply due: {reply_due}" in english_text and "Kính gửi" not in english_text
    assert english["Content-Language"] == "en"
    assert box.to(other_province.email) == []

    # Returned with reasons and the completion deadline; resubmitted; accepted.
    chain.act(nomination, "return", chain.officer,
              comment="Thiếu bản sao Quyết định tặng Bằng khen năm 2021; ảnh sản phẩm chưa rõ.")
    completion_due = (today() + timedelta(days=15)).strftime("%d/%m/%Y")
    assert _deliver(box) == 1
    returned = box.to(applicant.email)[-1]
    assert returned["Subject"] == f"Hồ sơ {code} cần bổ sung, hoàn thiện trước ngày {completion_due}"
    text = Mailbox.body(returned)
    assert "Thiếu bản sao Quyết định tặng Bằng khen năm 2021; ảnh sản phẩm chưa rõ." in text
    assert f"Hạn nộp lại hồ sơ đã bổ sung: ngày {completion_due} (15 ngày kể từ ngày trả lại)" in text
    chain.act(nomination, "resubmit", applicant)
    assert _deliver(box) == 3
    assert box.to(applicant.email)[-1]["Subject"] == f"Hồ sơ {code} đã được nộp lại sau khi bổ sung"
    assert box.to(chain.officer.email)[-1]["Subject"] == f"Hồ sơ đã bổ sung: {code} — Nguyễn Văn Ánh"
    assert box.to(english_officer.email)[-1]["Subject"] == f"Completed dossier: {code} — Nguyễn Văn Ánh"
    chain.act(nomination, "accept", chain.officer, comment="Hồ sơ đầy đủ.")
    assert _deliver(box) == 1
    assert box.to(applicant.email)[-1]["Subject"] == f"Hồ sơ {code} hợp lệ, chờ Hội đồng cấp tỉnh xét"

    # The provincial council: members hear of the session (date, place, agenda), then of the ballot.
    council, members, secretariat = chain.council("province", size=11)
    _english(members[3])
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": "2026-12-17", "place": "Phòng họp tầng 3, Sở Công Thương Hà Nội",
                       "nomination_ids": [nomination.id]})
    sid = r.get_json()["id"]
    assert _deliver(box) == 11
    invitation = box.to(members[0].email)[-1]
    assert invitation["Subject"] == "Lịch họp Hội đồng province thử nghiệm ngày 17/12/2026"
    text = Mailbox.body(invitation)
    assert "Địa điểm: Phòng họp tầng 3, Sở Công Thương Hà Nội" in text
    assert f"1. {code} — Nguyễn Văn Ánh — Nghệ nhân ưu tú, nghề Gốm sứ (Hà Nội)" in text
    assert box.to(members[3].email)[-1]["Subject"] == "Hội đồng province thử nghiệm meets on 17/12/2026"
    assert "Place: Phòng họp tầng 3" in Mailbox.body(box.to(members[3].email)[-1])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members[:10]]})
    assert api.post(f"/api/v1/sessions/{sid}/open", secretariat).status_code == 200
    assert _deliver(box) == 10 + 1  # the ten present members, and the applicant
    assert box.to(members[0].email)[-1]["Subject"] == "Đã mở bỏ phiếu kín: Hội đồng province thử nghiệm"
    assert len(box.to(members[10].email)) == 1  # absent: the invitation only
    assert box.to(applicant.email)[-1]["Subject"] == f"Hội đồng cấp tỉnh đang xét hồ sơ {code}"
    for member in members[:10]:
        api.post(f"/api/v1/sessions/{sid}/ballot", member, json={"votes": {str(nomination.id): "yes"}})
    assert api.post(f"/api/v1/sessions/{sid}/close", secretariat).status_code == 200
    assert _deliver(box) == 1
    result = box.to(applicant.email)[-1]
    assert result["Subject"] == f"Hồ sơ {code} được Hội đồng cấp tỉnh đề nghị xét tặng"
    assert "Kết quả: 10/11 thành viên Hội đồng đồng ý (cần ít nhất 10)." in Mailbox.body(result)

    # Up to the ministry, its council, the public consultation.
    chain.act(nomination, "forward_to_ministry", chain.officer)
    assert _deliver(box) == 2
    assert box.to(applicant.email)[-1]["Subject"] == f"Hồ sơ {code}: Hồ sơ đang ở Bộ Công Thương"
    assert box.to(chain.ministry.email)[-1]["Subject"] == (
        f"Hồ sơ từ Hà Nội gửi lên Bộ: {code} — Nguyễn Văn Ánh")
    chain.vote("ministry", [nomination], yes_votes=10)
    _deliver(box)
    assert box.to(applicant.email)[-1]["Subject"] == (
        f"Hồ sơ {code} được Hội đồng chuyên ngành cấp Bộ đề nghị xét tặng")
    chain.act(nomination, "open_consultation", chain.ministry)
    ends = (today() + timedelta(days=20)).strftime("%d/%m/%Y")
    _deliver(box)
    consultation = box.to(applicant.email)[-1]
    assert consultation["Subject"] == f"Hồ sơ {code} được đăng lấy ý kiến nhân dân đến ngày {ends}"
    assert "lần thứ nhất, trước khi trình Hội đồng cấp Nhà nước" in Mailbox.body(consultation)

    # The rest of the road, in a rehearsal round whose consultations last no days.
    chain.round.consultation_days = 0
    nomination.consultation_ends = today()
    db.session.commit()
    chain.act(nomination, "forward_to_state", chain.ministry)
    chain.vote("state", [nomination], yes_votes=11)
    chain.act(nomination, "open_consultation", chain.ministry)
    chain.act(nomination, "submit_to_pm", chain.ministry)
    chain.act(nomination, "submit_to_president", chain.government)
    chain.act(nomination, "record_award", chain.government, decision_no="1234/QĐ-CTN", decision_date="2027-08-30")
    _deliver(box)
    assert _subjects(box, applicant.email)[-6:] == [
        f"Hồ sơ {code}: Hồ sơ đang được Hội đồng cấp Nhà nước xét",
        f"Hồ sơ {code} được Hội đồng cấp Nhà nước đề nghị xét tặng",
        f"Hồ sơ {code} được đăng lấy ý kiến nhân dân đến ngày {today().strftime('%d/%m/%Y')}",
        f"Hồ sơ {code}: Đã trình Thủ tướng Chính phủ",
        f"Hồ sơ {code}: Đã trình Chủ tịch nước",
        "Chúc mừng: Nguyễn Văn Ánh được phong tặng danh hiệu Nghệ nhân ưu tú",
    ]
    award = Mailbox.body(box.to(applicant.email)[-1])
    assert "Quyết định số 1234/QĐ-CTN ngày 30/08/2027." in award
    assert "Bộ Công Thương đã trình hồ sơ" in _body(box, chain.government.email, "Thủ tướng")
    # One message per move for the applicant, none left in the outbox.
    history = api.get(f"/api/v1/nominations/{nomination.id}", applicant).get_json()["history"]
    assert len(box.to(applicant.email)) == len(history)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.sent_at.is_(None))) == 0
