"""Notifications: a dossier's journey told by e-mail through a real local SMTP server (aiosmtpd),
in each recipient's language; deadline reminders sent once; the round plan's timeline."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, OutboxMessage
from artisan_awards.models.mail import ReminderSent
from artisan_awards.services import mail
from artisan_awards.timeutil import today
from tests.smtp import Mailbox, smtp_server  # noqa: F401
from tests.test_browser import shots  # noqa: F401
from tests.test_councils import Chain
from workflows.states import State


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
    assert f"của Nguyễn Văn Ánh ngày {today():%d/%m/%Y}. Thư này là giấy biên nhận điện tử." in text
    assert f"chậm nhất ngày {reply_due}" in text
    assert f"https://nghenhan.example.vn/nominations/{nomination.id}" in text
    assert unicodedata.is_normalized("NFC", receipt["Subject"] + text)
    # the text part (the message also carries the receipt and appointment slip as a PDF: multipart/mixed)
    assert receipt.get_body(("plain",)).get_content_charset() == "utf-8" and receipt["Content-Language"] == "vi"
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
    day = today() + timedelta(days=12)
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": day.isoformat(), "place": "Phòng họp tầng 3, Sở Công Thương Hà Nội",
                       "nomination_ids": [nomination.id]})
    sid = r.get_json()["id"]
    assert _deliver(box) == 11
    invitation = box.to(members[0].email)[-1]
    assert invitation["Subject"] == f"Lịch họp Hội đồng province thử nghiệm ngày {day:%d/%m/%Y}"
    text = Mailbox.body(invitation)
    assert "Địa điểm: Phòng họp tầng 3, Sở Công Thương Hà Nội" in text
    assert f"1. {code} — Nguyễn Văn Ánh — Nghệ nhân ưu tú, nghề Gốm sứ (Hà Nội)" in text
    assert box.to(members[3].email)[-1]["Subject"] == f"Hội đồng province thử nghiệm meets on {day:%d/%m/%Y}"
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
    chain.act(nomination, "record_award", chain.government, decision_no="1234/QĐ-CTN",
              decision_date=today().isoformat())
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
    assert f"Quyết định số 1234/QĐ-CTN ngày {today().strftime('%d/%m/%Y')}." in award
    assert "Tiền thưởng kèm theo danh hiệu: 21.060.000 đồng." in award  # 9.0 x 2 340 000 (tests/test_award.py)
    assert "Bộ Công Thương đã trình hồ sơ" in _body(box, chain.government.email, "Thủ tướng")
    # One message per move for the applicant, none left in the outbox.
    history = api.get(f"/api/v1/nominations/{nomination.id}", applicant).get_json()["history"]
    assert len(box.to(applicant.email)) == len(history)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.sent_at.is_(None))) == 0


def test_a_signed_complaint_and_a_withdrawal_tell_the_ministry(chain, api, smtp_server):  # noqa: F811
    box = smtp_server
    applicant = chain.make.user("applicant", full_name="Vũ Thị Lụa")
    nomination = chain.accepted(owner=applicant, nominee={"full_name": "Vũ Thị Lụa"})
    chain.vote("province", [nomination], yes_votes=11, size=3)
    chain.act(nomination, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [nomination], yes_votes=3, size=3)
    chain.act(nomination, "open_consultation", chain.ministry)
    _deliver(box)
    complaint = "Sản phẩm đạt giải năm 2021 là của người khác; tôi là Phạm Văn Cường, số điện thoại 0987654321."
    r = api.post(f"/api/v1/public/consultations/{nomination.id}/comments",
                 json={"full_name": "Phạm Văn Cường", "phone": "0987654321", "address": "Bát Tràng",
                       "kind": "complaint", "content": complaint})
    assert r.status_code == 201
    assert _deliver(box) == 2
    held = box.to(applicant.email)[-1]
    assert held["Subject"] == f"Hồ sơ {nomination.code} tạm dừng để xác minh"
    assert "Phạm Văn Cường" not in Mailbox.body(held)  # the complainant is not named to the applicant
    to_ministry = box.to(chain.ministry.email)[-1]
    assert to_ministry["Subject"] == f"Hồ sơ {nomination.code} tạm dừng: có khiếu nại có ký tên"
    assert complaint in Mailbox.body(to_ministry) and "/ministry/comments" in Mailbox.body(to_ministry)
    chain.act(nomination, "withdraw", applicant, comment="Gia đình xin rút hồ sơ.")
    assert _deliver(box) == 2
    assert box.to(applicant.email)[-1]["Subject"] == f"Hồ sơ {nomination.code} đã được rút"
    withdrawn = box.to(chain.ministry.email)[-1]
    assert withdrawn["Subject"] == f"Hồ sơ {nomination.code} — Vũ Thị Lụa đã được rút"
    assert "khi hồ sơ đang ở bước: Tạm dừng để xác minh" in Mailbox.body(withdrawn)
    assert "Lý do: Gia đình xin rút hồ sơ." in Mailbox.body(withdrawn)
    assert len([m for m in box.to(chain.officer.email) if "rút" in m["Subject"]]) == 0  # not the province's


def test_the_nominee_hears_at_their_own_address_and_a_malformed_one_is_skipped(chain, smtp_server):  # noqa: F811
    relative = chain.make.user("applicant", full_name="Hoàng Văn Tú")
    nominee = chain.make.nomination(State.SUBMITTED, owner=relative,
                                    nominee={"full_name": "Hoàng Thị Nhàn", "email": "nhan.gom@example.vn"},
                                    filed_by={"full_name": "Hoàng Văn Tú", "relationship": "child"})
    typo = chain.make.nomination(State.SUBMITTED, owner=relative,
                                 nominee={"full_name": "Hoàng Văn Sáu", "email": "sau@example.vn\r\nBcc: x@y.vn"})
    _deliver(smtp_server)
    (own,) = smtp_server.to("nhan.gom@example.vn")
    assert own["Subject"] == f"Hồ sơ {nominee.code} đã được tiếp nhận"
    assert "Kính gửi Hoàng Thị Nhàn," in Mailbox.body(own)
    assert len(smtp_server.to(relative.email)) == 2 and typo.code
    assert {m["To"] for m in smtp_server.messages} == {relative.email, "nhan.gom@example.vn", chain.officer.email}


def test_with_immediate_sending_the_receipt_leaves_with_the_request(chain, api, app, smtp_server):  # noqa: F811
    app.config["MAIL_SEND_IMMEDIATELY"] = True
    applicant = chain.make.user("applicant")
    nomination = chain.make.nomination(owner=applicant)
    chain.act(nomination, "submit", applicant)  # no `mail send`: the request's end delivered it
    assert smtp_server.wait_for(applicant.email)["Subject"] == f"Hồ sơ {nomination.code} đã được tiếp nhận"


def test_long_vietnamese_subject_keeps_its_spaces_when_folded(chain, smtp_server):  # noqa: F811
    subject = "Hồ sơ đã bổ sung: NN-2026-HNI-00001 — Nguyễn Văn Ánh, nghề gốm sứ Bát Tràng, Hà Nội"
    mail.queue("gom@example.vn", subject, "Kính gửi ông Ánh,\n\nNội dung: Nghệ nhân ưu tú.\n")
    db.session.commit()
    assert _deliver(smtp_server) == 1
    (message,) = smtp_server.to("gom@example.vn")
    assert message["Subject"] == subject  # decoded from RFC 2047 words, not one space lost
    assert message["Content-Language"] == "vi"
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    assert Mailbox.body(message).replace("\r\n", "\n") == "Kính gửi ông Ánh,\n\nNội dung: Nghệ nhân ưu tú.\n"


def test_a_refused_move_mails_no_one(chain, api):
    applicant = chain.make.user("applicant")
    nomination = chain.make.nomination(owner=applicant)
    data = chain.make.nomination_data(round_id=chain.round.id)
    data["nominee"]["address"] = ""  # missing: the submission is refused, nothing is written
    api.patch(f"/api/v1/nominations/{nomination.id}", applicant, json=data)
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/submit", applicant, json={})
    assert r.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_failing_smtp_delays_notifications_but_loses_none(chain, smtp_server):  # noqa: F811
    applicant = chain.make.user("applicant")
    smtp_server.fail = True
    nomination = chain.make.nomination(State.SUBMITTED, owner=applicant)
    assert mail.send_pending() == (0, 2)  # the receipt and the secretariat's notice, both refused (451)
    assert mail.send_pending() == (0, 0)  # backing off
    smtp_server.fail = False
    assert mail.send_pending(force=True) == (2, 0)
    assert smtp_server.to(applicant.email)[0]["Subject"] == f"Hồ sơ {nomination.code} đã được tiếp nhận"
    assert smtp_server.to(chain.officer.email)[0]["Subject"].startswith("Hồ sơ mới:")


def test_every_move_of_the_machine_has_a_message_in_both_languages(app):
    from artisan_awards.services import notifications
    from workflows.machine import TRANSITIONS

    names = {notifications.APPLICANT_TEMPLATE[str(m.trigger)] for m in TRANSITIONS}
    names |= {"staff_arrived", "staff_complaint", "staff_withdrawn", "session_scheduled", "session_opened",
              "session_cancelled",
              "reminder_reply", "reminder_completion", "reminder_intake", "reminder_plan", "reminder_session"}
    for language in ("vi", "en"):
        for name in names:
            template = app.jinja_env.get_template(f"mail/{language}/{name}.txt")
            assert {"subject", "body"} <= set(template.blocks), (language, name)


# -- reminders ---------------------------------------------------------------------------------


def _run_reminders(app, runner, on, *args):
    app.config["TODAY"] = on.isoformat()
    result = runner.invoke(args=["reminders", "send", *args])
    assert result.exit_code == 0, result.output
    return result.output


def _reminders(box: Mailbox, address: str, prefix: str = "Nhắc") -> list[str]:
    return [s for s in _subjects(box, address) if s.startswith(prefix)]


def test_reply_reminders_go_once_at_the_right_days(chain, app, runner, smtp_server):  # noqa: F811
    box = smtp_server
    app.config["REMINDER_DAYS"] = "7,1"
    english_officer = _english(chain.make.user("province_officer", "HNI"))
    submitted = chain.make.nomination(State.SUBMITTED)
    chain.make.nomination(State.RETURNED, officer=chain.officer, nominee={"full_name": "Trần Văn Mộc"})
    reply_due = submitted.reply_due()
    assert (reply_due - today()).days == 10

    # Day by day before the secretariat's reply deadline: 7 days before, then the day before, never twice.
    expected = {8: 0, 7: 1, 6: 1, 2: 1, 1: 2, 0: 2, -1: 2}
    for days_before, count in expected.items():
        _run_reminders(app, runner, reply_due - timedelta(days=days_before))
        _run_reminders(app, runner, reply_due - timedelta(days=days_before))  # a second run the same day
        assert len(_reminders(box, chain.officer.email)) == count, days_before
    first, second = _reminders(box, chain.officer.email)
    assert first == f"Nhắc hạn: trả lời hồ sơ {submitted.code} trước ngày {reply_due:%d/%m/%Y} (còn 7 ngày)"
    assert second == f"Nhắc hạn: trả lời hồ sơ {submitted.code} trước ngày {reply_due:%d/%m/%Y} (hạn là ngày mai)"
    assert _reminders(box, english_officer.email, "Reminder") == [
        f"Reminder: reply on dossier {submitted.code} by {reply_due:%d/%m/%Y} (7 days left)",
        f"Reminder: reply on dossier {submitted.code} by {reply_due:%d/%m/%Y} (due tomorrow)",
    ]
    assert not any("Mộc" in s for s in _reminders(box, chain.officer.email))  # returned: nothing to reply
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderSent)
                             .where(ReminderSent.key.startswith("reply:"))) == 4  # two officers, twice


def test_completion_reminder_reaches_the_applicant_and_a_missed_day_is_caught_up(chain, app, runner,
                                                                                   smtp_server):  # noqa: F811
    box = smtp_server
    app.config["REMINDER_DAYS"] = "7,1"
    applicant = chain.make.user("applicant", full_name="Trần Thị Gấm")
    returned = chain.make.nomination(State.RETURNED, owner=applicant, officer=chain.officer)
    completion_due = returned.completion_due()
    assert (completion_due - today()).days == 15
    _run_reminders(app, runner, completion_due - timedelta(days=8))
    _run_reminders(app, runner, completion_due - timedelta(days=5))  # cron was down on the 7th day before
    _run_reminders(app, runner, completion_due - timedelta(days=3))
    _run_reminders(app, runner, completion_due)  # and on the day before
    reminders = [m for m in box.to(applicant.email) if m["Subject"].startswith("Nhắc hạn")]
    assert [m["Subject"] for m in reminders] == [
        f"Nhắc hạn: bổ sung hồ sơ {returned.code} trước ngày {completion_due:%d/%m/%Y} (còn 5 ngày)",
        f"Nhắc hạn: bổ sung hồ sơ {returned.code} trước ngày {completion_due:%d/%m/%Y} (hạn là hôm nay)",
    ]
    body = Mailbox.body(reminders[0])
    assert "Nội dung cần bổ sung:" in body and "Lý do thử nghiệm" in body
    assert f"/nominations/{returned.id}" in body
    _run_reminders(app, runner, completion_due + timedelta(days=1))  # overdue: no more reminders
    assert len([m for m in box.to(applicant.email) if m["Subject"].startswith("Nhắc hạn")]) == 2


def test_plan_session_and_intake_reminders(chain, api, app, runner, smtp_server):  # noqa: F811
    box = smtp_server
    app.config["REMINDER_DAYS"] = "7,1"
    on = today()
    chain.round.deadlines = {"province_to_ministry": (on + timedelta(days=40)).isoformat(),
                             "ministry_to_state": (on + timedelta(days=60)).isoformat()}
    chain.round.intake_closes = on + timedelta(days=30)
    db.session.commit()
    haiphong = chain.make.user("province_officer", "HPG")
    accepted = chain.accepted()
    drafter = chain.make.user("applicant", full_name="Đỗ Văn Sơn")
    chain.make.nomination(owner=drafter, nominee={"full_name": "Đỗ Văn Sơn"})
    council, members, secretariat = chain.council("province", size=3)
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": (on + timedelta(days=20)).isoformat(), "place": "Hội trường Sở",
                       "nomination_ids": [accepted.id]})
    assert r.status_code == 201
    mail.send_pending()
    box.messages.clear()

    _run_reminders(app, runner, on + timedelta(days=13))  # the session in 7 days
    assert _reminders(box, members[0].email) == [
        f"Nhắc lịch họp Hội đồng province thử nghiệm ngày {on + timedelta(days=20):%d/%m/%Y} (còn 7 ngày)"]
    assert "Địa điểm: Hội trường Sở" in Mailbox.body(box.to(members[0].email)[-1])
    _run_reminders(app, runner, on + timedelta(days=23))  # intake closes in 7 days
    assert _reminders(box, drafter.email) == [
        f"Nhắc hạn: {chain.round.name} đóng tiếp nhận hồ sơ ngày {on + timedelta(days=30):%d/%m/%Y} (còn 7 ngày)"]
    assert "- Đỗ Văn Sơn — Nghệ nhân ưu tú, nghề Gốm sứ" in Mailbox.body(box.to(drafter.email)[-1])
    _run_reminders(app, runner, on + timedelta(days=33))  # the province's deadline in 7 days
    (plan,) = _reminders(box, chain.officer.email)
    assert plan == (f"Nhắc hạn kế hoạch {chain.round.name}: Hạn tỉnh gửi hồ sơ lên Bộ ngày "
                    f"{on + timedelta(days=40):%d/%m/%Y} (còn 7 ngày)")
    assert "Còn 1 hồ sơ chưa qua bước này." in Mailbox.body(box.to(chain.officer.email)[-1])
    assert f"/rounds/{chain.round.id}/timeline" in Mailbox.body(box.to(chain.officer.email)[-1])
    assert _reminders(box, haiphong.email) == []  # nothing pending in Hải Phòng
    _run_reminders(app, runner, on + timedelta(days=53))
    assert _reminders(box, chain.ministry.email) == [
        f"Nhắc hạn kế hoạch {chain.round.name}: Hạn Bộ gửi Hội đồng cấp Nhà nước ngày "
        f"{on + timedelta(days=60):%d/%m/%Y} (còn 7 ngày)"]
    # A deadline moved is a new deadline: reminded again for its new date.
    chain.round.deadlines = {**chain.round.deadlines, "ministry_to_state": (on + timedelta(days=58)).isoformat()}
    db.session.commit()
    _run_reminders(app, runner, on + timedelta(days=53))
    assert len(_reminders(box, chain.ministry.email)) == 2
    _run_reminders(app, runner, on + timedelta(days=53))
    assert len(_reminders(box, chain.ministry.email)) == 2


def test_reminders_dry_run_records_nothing_and_bad_days_are_refused(chain, app, runner, smtp_server):  # noqa: F811
    submitted = chain.make.nomination(State.SUBMITTED)
    on = submitted.reply_due() - timedelta(days=1)
    output = _run_reminders(app, runner, on, "--dry-run")
    assert f"reply:{submitted.id}:{submitted.reply_due().isoformat()} -1d {chain.officer.email}" in output
    assert "due 1 reminders" in output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReminderSent)) == 0
    assert "queued 1 reminders" in _run_reminders(app, runner, on)
    app.config["REMINDER_DAYS"] = "7,một"
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 1 and "REMINDER_DAYS" in result.output


def test_the_database_refuses_a_reminder_recorded_twice(app):
    from datetime import date

    from sqlalchemy.exc import IntegrityError

    row = {"key": "reply:1:2026-12-10", "threshold": 7, "to": "a@example.vn", "deadline": date(2026, 12, 10),
           "sent_on": date(2026, 12, 3)}
    db.session.add(ReminderSent(**row))
    db.session.commit()
    db.session.add(ReminderSent(**row))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# -- the round's timeline ----------------------------------------------------------------------


class _Timeline(HTMLParser):
    """The milestones of ``<ol class="timeline">``: key, aria-current, class and visible text."""

    def __init__(self):
        super().__init__()
        self.items, self._depth, self._in_list = [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "ol" and "timeline" in (attrs.get("class") or ""):
            self._in_list = True
        elif self._in_list and tag == "li":
            self.items.append({"key": attrs.get("data-key"), "class": attrs.get("class", ""),
                               "current": attrs.get("aria-current"), "text": ""})
        elif self._in_list and tag == "time" and self.items:
            self.items[-1]["datetime"] = attrs.get("datetime")

    def handle_endtag(self, tag):
        if tag == "ol":
            self._in_list = False

    def handle_data(self, data):
        if self._in_list and self.items:
            self.items[-1]["text"] += data

    @classmethod
    def read(cls, html: str) -> dict[str, dict]:
        parser = cls()
        parser.feed(html)
        for item in parser.items:
            item["text"] = " ".join(item["text"].split())
        return {item["key"]: item for item in parser.items}


@pytest.fixture
def planned_round(app, make, api):
    """Round 2026: intake Jan-Mar, the province's deadline 30/06, later ones after 15/07 (the day we look)."""
    from datetime import date

    from artisan_awards.models import Round

    app.config["TODAY"] = "2026-02-01"
    round_ = Round(number=2026, name="Đợt 2026", intake_opens=date(2026, 1, 10), intake_closes=date(2026, 3, 31),
                   deadlines={"province_to_ministry": "2026-06-30", "ministry_to_state": "2026-09-30",
                              "state_to_pm": "2026-11-30", "announcement": "2027-01-15"})
    db.session.add(round_)
    db.session.commit()
    chain = Chain(api, make)
    chain.round = round_
    owner = make.user("applicant")
    accepted = make.nomination(State.ACCEPTED, owner=owner, officer=chain.officer, round_id=round_.id)
    council, _, secretariat = chain.council("province", size=3)
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": "2026-07-01", "place": "Hội trường Sở", "nomination_ids": [accepted.id]})
    assert r.status_code == 201
    app.config["TODAY"] = "2026-07-15"
    return round_, chain, accepted, owner, r.get_json()["id"]


def test_timeline_shows_each_milestone_with_its_flag(planned_round, client, auth):
    round_, chain, accepted, owner, session_id = planned_round
    # A ministry officer sees the round from the ministry on: no provincial session, no dossier still at
    # the province counted (tests/test_route_matrix.py); the administrator sees all of it.
    auth.login(chain.ministry.email)
    items = _Timeline.read(client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True))
    assert f"session:{session_id}" not in items and "0 hồ sơ chưa qua" in items["province_to_ministry"]["text"]
    client.post("/logout")
    auth.login(chain.make.user("admin").email)
    r = client.get(f"/rounds/{round_.id}/timeline")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    items = _Timeline.read(html)
    assert list(items) == ["intake_opens", "intake_closes", "province_to_ministry", f"session:{session_id}",
                           "ministry_to_state", "state_to_pm", "announcement"]  # in date order
    assert items["intake_opens"]["datetime"] == "2026-01-10" and "10/01/2026" in items["intake_opens"]["text"]
    assert "is-done" in items["intake_closes"]["class"] and "Đã xong" in items["intake_closes"]["text"]
    deadline = items["province_to_ministry"]
    assert "is-overdue" in deadline["class"] and deadline["current"] == "step"
    assert "30/06/2026 Hạn tỉnh gửi hồ sơ lên Bộ Quá hạn 15 ngày trước 1 hồ sơ chưa qua bước này" == deadline["text"]
    session = items[f"session:{session_id}"]
    assert "is-overdue" in session["class"] and "Hội đồng province thử nghiệm, Hội trường Sở" in session["text"]
    assert f'href="/council/sessions/{session_id}"' in html
    upcoming = items["ministry_to_state"]
    assert "is-upcoming" in upcoming["class"] and "Sắp tới còn 77 ngày" in upcoming["text"]
    assert upcoming["current"] is None
    assert "1 hồ sơ chưa qua bước này" in items["announcement"]["text"]

    # The dossier withdrawn, nothing is left before the province's deadline: it is met.
    chain.act(accepted, "withdraw", owner, comment="Xin rút.")
    items = _Timeline.read(client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True))
    assert "is-done" in items["province_to_ministry"]["class"]
    assert "15 ngày trước 0 hồ sơ chưa qua bước này" in items["province_to_ministry"]["text"]
    assert items[f"session:{session_id}"]["current"] == "step"  # the session still not held


def test_the_public_sees_the_public_dates_and_english_on_request(planned_round, client):
    round_ = planned_round[0]
    html = client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True)
    items = _Timeline.read(html)
    assert list(items) == ["intake_opens", "intake_closes", "announcement"]
    assert "hồ sơ chưa qua" not in html and "Hội trường" not in html
    assert items["announcement"]["current"] == "step" and "còn 184 ngày" in items["announcement"]["text"]
    index = client.get("/rounds/").get_data(as_text=True)
    assert f'href="/rounds/{round_.id}/timeline"' in index and "10/01/2026 – 31/03/2026" in index
    client.post("/lang/en", data={"next": "/"})
    items = _Timeline.read(client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True))
    assert "184 day(s) left" in items["announcement"]["text"] and "Upcoming" in items["announcement"]["text"]
    assert client.get("/rounds/999999/timeline").status_code == 404
    assert client.get("/rounds/99999999999/timeline").status_code == 404


def test_officers_reach_the_timeline_from_the_menu_and_the_dashboard(planned_round, client, auth):
    round_, chain = planned_round[0], planned_round[1]
    auth.login(chain.ministry.email)
    assert 'href="/rounds/"' in client.get("/rounds/").get_data(as_text=True)
    dashboard = client.get(f"/ministry/dashboard?round_id={round_.id}").get_data(as_text=True)
    assert f'href="/rounds/{round_.id}/timeline"' in dashboard


def test_the_language_switch_sets_the_language_of_ones_mail(client, auth, app, make, smtp_server):  # noqa: F811
    app.config.update(smtp_server.config)
    officer = auth.login_as("province_officer", "HNI")
    client.post("/lang/en", data={"next": "/"})
    db.session.refresh(officer)
    assert officer.locale == "en"
    client.post("/logout")
    make.nomination(State.SUBMITTED)
    mail.send_pending()
    (message,) = smtp_server.to(officer.email)
    assert message["Subject"].startswith("New dossier:")


def test_a_province_officer_sees_the_counts_and_sessions_of_their_province(planned_round, client, auth, make):
    round_, chain, accepted, owner, session_id = planned_round
    auth.login(make.user("province_officer", "HPG").email)
    items = _Timeline.read(client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True))
    assert f"session:{session_id}" not in items  # Hà Nội's council: not Hải Phòng's business
    assert "is-done" in items["province_to_ministry"]["class"]  # nothing pending in Hải Phòng
    assert "0 hồ sơ chưa qua bước này" in items["province_to_ministry"]["text"]
    client.post("/logout")
    auth.login(chain.officer.email)
    items = _Timeline.read(client.get(f"/rounds/{round_.id}/timeline").get_data(as_text=True))
    assert f"session:{session_id}" in items and "is-overdue" in items["province_to_ministry"]["class"]


@pytest.mark.browser
def test_timeline_in_a_browser_at_phone_width(chromium, app_config, shots):  # noqa: F811
    """An officer finds the timeline from the menu on a 360 px phone; nothing scrolls sideways."""
    from datetime import date

    from playwright.sync_api import expect

    from artisan_awards import create_app
    from artisan_awards.models import Round
    from tests.factories import Factory
    from tests.liveserver import serve
    from tests.test_browser import DESKTOP, PHONE, _log_in

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True, "TODAY": "2026-07-15"})
    with app.app_context():
        make = Factory()
        round_ = Round(number=2026, name="Xét tặng lần thứ 7 (2026)", intake_opens=date(2026, 1, 10),
                       intake_closes=date(2026, 3, 31),
                       deadlines={"province_to_ministry": "2026-06-30", "ministry_to_state": "2026-09-30",
                                  "state_to_pm": "2026-11-30", "announcement": "2027-01-15"})
        db.session.add(round_)
        db.session.commit()
        officer = make.user("ministry_officer", full_name="Phạm Quang Huy")
        email = officer.email
        db.session.remove()
    with serve(app) as url:
        browser = chromium
        page = browser.new_context(viewport=PHONE, locale="vi-VN", base_url=url).new_page()
        page.goto("/")
        _log_in(page, email, Factory.PASSWORD)
        page.get_by_role("button", name="Menu").click()  # on a phone the navigation opens from the header's button
        page.get_by_role("navigation").get_by_role("link", name="Kế hoạch đợt").click()
        page.get_by_role("link", name="Xem tiến độ Xét tặng lần thứ 7 (2026)").click()
        expect(page.get_by_role("heading", name="Tiến độ Xét tặng lần thứ 7 (2026)")).to_be_visible()
        items = page.locator("ol.timeline > li")
        expect(items).to_have_count(6)
        current = page.locator('ol.timeline > li[aria-current="step"]')
        expect(current).to_contain_text("30/09/2026")  # the province's deadline is met: nothing pending
        expect(current).to_contain_text("còn 77 ngày")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shots(page, "timeline-360.png")
        page.set_viewport_size(DESKTOP)
        shots(page, "timeline.png")
