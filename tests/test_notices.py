"""The one-stop notices (documents/notices.py): each issued at its moment in a dossier's life, sent as a
PDF attached to the applicant's e-mail through a real SMTP server (aiosmtpd), kept with the dossier, and
read back with pypdf: the dossier code, the dates and the list of what is missing.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, OneStopNotice, OutboxAttachment, OutboxMessage, TransitionLog
from artisan_awards.services import mail
from artisan_awards.timeutil import now_utc, today
from tests.confirming import post_confirmed
from tests.factories import Factory
from tests.smtp import Mailbox, smtp_server  # noqa: F401
from tests.test_councils import Chain
from tests.test_documents import text_of
from tests.test_signing import bodies, pki  # noqa: F401
from workflows.states import State

MISSING = ["Bản sao Quyết định tặng Bằng khen năm 2021 của Ủy ban nhân dân Thành phố Hà Nội",
           "Ảnh chụp rõ nét 03 sản phẩm tiêu biểu (tối thiểu 1 000 × 1 500 điểm ảnh)",
           "Xác nhận của Ủy ban nhân dân xã về số người đã truyền nghề"]


@pytest.fixture
def chain(api, make, app, smtp_server):  # noqa: F811
    app.config["TODAY"] = None
    app.config.update(smtp_server.config)
    app.config["PUBLIC_BASE_URL"] = "https://nghenhan.example.vn"
    return Chain(api, make)


def _deliver() -> None:
    sent, failed = mail.send_pending(force=True)
    assert failed == 0


def _attached(message) -> list[tuple[str, bytes]]:
    """The files of a received message (name, bytes), as a mail client would save them."""
    return [(part.get_filename(), part.get_content()) for part in message.iter_attachments()]


def _one_pdf(message) -> bytes:
    files = _attached(message)
    assert len(files) == 1, [name for name, _ in files]
    name, pdf = files[0]
    assert name.endswith(".pdf") and pdf.startswith(b"%PDF-")
    return pdf


def _d(day) -> str:
    return day.strftime("%d/%m/%Y")


def _draft(chain, applicant) -> Nomination:
    r = chain.api.post("/api/v1/nominations", applicant, json=chain.make.nomination_data(round_id=chain.round.id))
    assert r.status_code == 201, r.get_json()
    return db.session.get(Nomination, r.get_json()["id"])


def test_each_notice_at_its_moment_attached_and_kept_with_the_dossier(chain, api, client, smtp_server):  # noqa: F811
    box = smtp_server
    applicant = chain.make.user("applicant", full_name="Nguyễn Văn Ánh")
    nomination = _draft(chain, applicant)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OneStopNotice)) == 0

    # Received: the receipt and appointment slip, with the time received and the appointment (10 days).
    chain.act(nomination, "submit", applicant)
    code = nomination.code
    _deliver()
    message = box.to(applicant.email)[-1]
    assert message["Subject"] == f"Hồ sơ {code} đã được tiếp nhận"
    assert message.get_body(("plain",)).get_content_charset() == "utf-8"
    assert "Kèm theo thư này: Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in Mailbox.body(message)
    receipt = text_of(_one_pdf(message))
    assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in receipt.upper()
    assert code in receipt and "Nguyễn Văn Ánh" in receipt
    assert f"ngày {_d(today())}" in receipt  # received
    assert f"Thời gian hẹn trả kết quả: ngày {_d(today() + timedelta(days=10))}" in receipt
    # The officers' "a dossier arrived" message carries nothing.
    assert _attached(box.to(chain.officer.email)[-1]) == []

    # Returned with the list of what is missing: the request to complete lists each item, and the deadline.
    chain.act(nomination, "return", chain.officer, comment="Hồ sơ chưa đủ tài liệu minh chứng.", missing=MISSING)
    _deliver()
    message = box.to(applicant.email)[-1]
    body = Mailbox.body(message)
    assert all(f"{i}. {item}" in body for i, item in enumerate(MISSING, start=1))
    request = text_of(_one_pdf(message))
    assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in request.upper() and code in request
    for i, item in enumerate(MISSING, start=1):
        assert f"{i} {item}" in request, item
    assert "Hồ sơ chưa đủ tài liệu minh chứng." in request
    assert f"trước ngày {_d(today() + timedelta(days=15))}" in request
    assert f"tiếp nhận hồ sơ ngày {_d(today())}" in request
    log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination.id,
                                                            TransitionLog.action == "return")).one()
    assert log.meta["missing"] == MISSING
    # The API's history shows what the return asked for.
    r = api.get(f"/api/v1/nominations/{nomination.id}", applicant)
    assert [h for h in r.get_json()["history"] if h["action"] == "return"][0]["missing"] == MISSING

    # Closed without completion once the applicant's period has run out (issue 14): the refusal gives
    # the reasons and what was still missing.
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id).values(
        returned_at=now_utc() - timedelta(days=nomination.round.completion_days + 2)))
    db.session.commit()
    db.session.refresh(nomination)
    chain.act(nomination, "close_incomplete", chain.officer, comment="Người đề nghị không liên lạc được.")
    _deliver()
    message = box.to(applicant.email)[-1]
    refusal = text_of(_one_pdf(message))
    assert "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ" in refusal.upper() and code in refusal
    assert "Người đề nghị không liên lạc được." in refusal
    assert f"yêu cầu bổ sung, hoàn thiện ngày {_d(today())}" in refusal
    assert all(item in refusal for item in MISSING)

    # Kept with the dossier: listed on its page, downloadable by the applicant and the province's officers,
    # byte for byte what was mailed; another province's officer and another applicant get 404.
    notices = db.session.scalars(sa.select(OneStopNotice).where(OneStopNotice.nomination_id == nomination.id)
                                 .order_by(OneStopNotice.id)).all()
    assert [n.kind for n in notices] == ["receipt", "request", "refusal"]
    mailed = [_one_pdf(m) for m in box.to(applicant.email) if list(m.iter_attachments())]
    assert [hashlib.sha256(p).hexdigest() for p in mailed] == [n.sha256 for n in notices]
    client.post("/login", data={"email": applicant.email, "password": Factory.PASSWORD})
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    for n in notices:
        assert f"/nominations/{nomination.id}/notices/{n.id}.pdf" in page
    for user in (applicant, chain.officer):
        r = api.get(f"/api/v1/nominations/{nomination.id}/notices/{notices[1].id}.pdf", user)
        assert r.status_code == 200 and r.data == mailed[1], user.email
    for user in (chain.make.user("province_officer", "HPG"), chain.make.user("applicant")):
        r = api.get(f"/api/v1/nominations/{nomination.id}/notices/{notices[1].id}.pdf", user)
        assert r.status_code == 404
    other = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    r = api.get(f"/api/v1/nominations/{other.id}/notices/{notices[1].id}.pdf", chain.officer)
    assert r.status_code == 404  # a notice is reached only through its own dossier


def test_the_return_list_comes_from_the_page_one_item_per_line(chain, client):
    nomination = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    client.post("/login", data={"email": chain.officer.email, "password": Factory.PASSWORD})
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert 'name="missing"' in page
    r = post_confirmed(client, f"/nominations/{nomination.id}/actions/return",
                    data={"comment": "Thiếu giấy tờ.", "missing": "- Bản sao CCCD\n\n2. Giấy khen năm 2020\n  \n"})
    assert r.status_code in (302, 303)
    db.session.refresh(nomination)
    assert nomination.state == State.RETURNED
    notice = db.session.scalars(sa.select(OneStopNotice).where(OneStopNotice.kind == "request",
                                                               OneStopNotice.nomination_id == nomination.id)).one()
    assert notice.data["missing"] == ["Bản sao CCCD", "Giấy khen năm 2020"]
    assert "1 Bản sao CCCD 2 Giấy khen năm 2020" in text_of(notice.pdf)
    page = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Giấy khen năm 2020" in page and f"notices/{notice.id}.pdf" in page


def test_without_a_list_each_line_of_the_reasons_is_an_item(chain):
    nomination = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    chain.act(nomination, "return", chain.officer, comment="Thiếu ảnh chân dung\nThiếu bản sao bằng khen")
    notice = db.session.scalars(sa.select(OneStopNotice).where(OneStopNotice.kind == "request")).one()
    assert notice.data["missing"] == ["Thiếu ảnh chân dung", "Thiếu bản sao bằng khen"]


@pytest.mark.parametrize("action, body, field", [
    ("return", {"comment": "Thiếu", "missing": ["x"] * 51}, "missing"),
    ("return", {"comment": "Thiếu", "missing": ["x" * 501]}, "missing"),
    ("return", {"comment": "Thiếu", "missing": "một chuỗi, không phải danh sách"}, "missing"),
    ("accept", {"comment": "Đủ", "missing": ["Bản sao CCCD"]}, "missing"),
])
def test_a_bad_list_is_a_clear_4xx_and_changes_nothing(chain, api, action, body, field):
    nomination = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(OneStopNotice))
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/{action}", chain.officer, json=body)
    assert r.status_code in (400, 422), r.get_json()
    error = r.get_json()["error"]
    assert field in str(error.get("fields", error))
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OneStopNotice)) == before


def test_apology_once_per_dossier_and_missed_deadline(chain, app, runner, smtp_server):  # noqa: F811
    box = smtp_server
    app.config["NOTICE_APOLOGY_DAYS"] = 5
    late = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    on_time = chain.make.nomination(State.SUBMITTED, officer=chain.officer, nominee={"full_name": "Trần Văn Mộc"})
    answered = chain.make.nomination(State.ACCEPTED, officer=chain.officer, nominee={"full_name": "Lê Thị Gốm"})
    _deliver()
    owner = late.owner.email
    due = late.reply_due()

    def run(on, *args):
        app.config["TODAY"] = on.isoformat()
        result = runner.invoke(args=["documents", "overdue-notices", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "0 overdue" in run(due, "--dry-run")  # the due day itself is not late
    assert run(due + timedelta(days=1), "--dry-run").count(late.code) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OneStopNotice)
                             .where(OneStopNotice.kind == "apology")) == 0  # a dry run issues nothing
    # on_time was received 20 days later: within its own time through every run below.
    db.session.execute(sa.update(Nomination).where(Nomination.id == on_time.id)
                       .values(received_at=late.received_at + timedelta(days=20)))
    db.session.commit()

    output = run(due + timedelta(days=1))
    assert "issued 1 apologies" in output
    (apology,) = [m for m in box.to(owner) if m["Subject"].startswith("Xin lỗi")]
    new_due = due + timedelta(days=1 + 5)
    assert apology["Subject"] == f"Xin lỗi: hồ sơ {late.code} chậm trả kết quả, hẹn lại ngày {_d(new_due)}"
    text = text_of(_one_pdf(apology))
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in text.upper() and late.code in text
    assert f"Thời hạn trả kết quả đã hẹn: ngày {_d(due)}" in text
    assert f"hẹn trả kết quả giải quyết hồ sơ vào ngày {_d(new_due)}" in text
    assert any(m["Subject"].startswith(f"Quá hạn trả lời hồ sơ {late.code}") for m in box.to(chain.officer.email))

    # The same missed deadline is apologised for once, however often the check runs ...
    for day in (1, 2, 6):
        run(due + timedelta(days=day))
    assert len([m for m in box.to(owner) if m["Subject"].startswith("Xin lỗi")]) == 1
    # ... the new appointment missed in its turn is a new deadline: one more apology, with a later date.
    run(new_due + timedelta(days=1))
    subjects = [m["Subject"] for m in box.to(owner) if m["Subject"].startswith("Xin lỗi")]
    assert len(subjects) == 2 and subjects[1].endswith(_d(new_due + timedelta(days=1 + 5)))
    # Nobody else: the dossier already answered, and the one received later, still within its time.
    for other in (answered, on_time):
        assert not [m for m in box.to(other.owner.email) if m["Subject"].startswith("Xin lỗi")]
    kinds = db.session.execute(sa.select(OneStopNotice.nomination_id, sa.func.count())
                               .where(OneStopNotice.kind == "apology").group_by(OneStopNotice.nomination_id)).all()
    assert kinds == [(late.id, 2)]


def test_the_database_refuses_a_second_apology_for_one_deadline(chain):
    nomination = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    for _ in range(2):
        db.session.add(OneStopNotice(nomination_id=nomination.id, kind="apology", deadline_key="reply:x:y",
                                     data={}, filename="a.pdf", pdf=b"%PDF-", sha256="0" * 64))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_an_attachment_with_bytes_of_its_own_goes_out_too(app, smtp_server):  # noqa: F811
    app.config.update(smtp_server.config)
    mail.queue("nguoi.nhan@example.vn", "Tệp đính kèm", "Xem tệp.", "vi",
               attachments=[("bang-ke.csv", "text/csv; charset=utf-8", "mã,tên\n1,Ánh\n".encode())])
    db.session.commit()
    _deliver()
    (message,) = smtp_server.to("nguoi.nhan@example.vn")
    ((name, content),) = _attached(message)
    assert name == "bang-ke.csv" and "Ánh" in (content if isinstance(content, str) else content.decode())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxAttachment)) == 1
    assert db.session.scalar(sa.select(OutboxMessage.sent_at)) is not None


def test_a_notice_is_signed_by_the_province_when_it_has_a_certificate(chain, app, bodies):  # noqa: F811
    from artisan_awards.documents import signing

    nomination = chain.make.nomination(State.SUBMITTED, officer=chain.officer)
    notice = db.session.scalars(sa.select(OneStopNotice).where(OneStopNotice.nomination_id == nomination.id)).one()
    assert notice.signed
    result = signing.verify(notice.pdf, expected_body="Sở Công Thương Hà Nội")
    assert result.ok, result
    assert PdfReader(io.BytesIO(notice.pdf)).pages  # still a readable PDF
