"""Issue 17, acceptance 1, in a real browser (Chromium through Playwright, CSRF on).

An applicant registers (the consents recorded with the notice's version), files a dossier (the filing's
consents too), downloads all their data (the ZIP opened: its JSON and the field dictionary), asks for a
correction and withdraws an optional consent; the data officer answers each request on a page, within its
deadline; everything is in the audit log.  Then axe-core and the 360 px check on these pages, in both
languages.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import Page, expect

from artisan_awards.extensions import db
from artisan_awards.models import (
    NOTICE_PURPOSE,
    AuditEvent,
    ConsentRecord,
    DataRequest,
    Nomination,
    OutboxMessage,
    PersonalDataRead,
    User,
)
from artisan_awards.services import data_rights_export as px
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site, log_in, new_context
from tests.test_a11y import axe_violations
from tests.test_browser import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

EMAIL = "to.thi.men@example.vn"
PASSWORD = "Men-Lam-Gom-2026"
OFFICER_EMAIL = "dulieu@example.vn"


@pytest.fixture
def live(app_config):
    def build(app):
        make = Factory()
        make.round(name="Xét tặng lần thứ 7")
        make.user("data_officer", email=OFFICER_EMAIL, full_name="Bùi Thị Mai")
        return make

    config = {**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False}
    with live_site(config, build) as (url, app, built):
        yield app, url, built


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (160, 90, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _log_in(page: Page, email: str, password: str) -> None:
    log_in(page, email, password)


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()


def test_applicant_rights_and_the_data_officers_answers(chromium, live, tmp_path):
    app, base, make = live
    problems: list[str] = []
    browser = chromium
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    try:
        # --- registration: the notice, the boxes unticked, two optional purposes chosen
        page.goto("/register")
        notice = page.locator("fieldset.privacy-consent")
        expect(notice).to_contain_text("không cần sự đồng ý của bạn")
        boxes = notice.locator("input[type=checkbox]")
        expect(boxes).to_have_count(2)
        for i in range(2):
            expect(boxes.nth(i)).not_to_be_checked()
        notice.locator("summary").click()
        expect(notice.get_by_role("heading", name="Quyền của bạn")).to_be_visible()
        page.get_by_label("Họ và tên").fill("Tô Thị Men")
        page.get_by_label("Thư điện tử").fill(EMAIL)
        page.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill(PASSWORD)
        page.get_by_label("Nhập lại mật khẩu").fill(PASSWORD)
        page.get_by_label("Nhận thư nhắc hạn").check()
        page.get_by_label("Được liên hệ về các chương trình").check()
        page.get_by_role("button", name="Đăng ký").click()
        expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == EMAIL))
            rows = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.user_id == user.id)).all()
            assert {(r.purpose, r.granted, r.notice_version, r.context) for r in rows} == {
                (NOTICE_PURPOSE, True, 1, "register"), ("email_reminders", True, 1, "register"),
                ("future_programmes", True, 1, "register")}
            draft = make.nomination(owner=user, nominee={"full_name": "Tô Thị Men"})
            draft_id = draft.id
            db.session.remove()

        # --- filing: evidence, then the review step with the notice and one more purpose
        page.goto(f"/my/{draft_id}/evidence")
        page.locator("select[name=kind]").select_option("photo")
        page.locator("input[type=file]").set_input_files(
            files=[{"name": "binh-gom.png", "mimeType": "image/png", "buffer": _png()}])
        page.get_by_role("button", name="Tải lên").click()
        expect(page.get_by_text("binh-gom.png")).to_be_visible()
        page.goto(f"/my/{draft_id}/review")
        filing = page.locator("fieldset.privacy-consent")
        expect(filing.locator("input[type=checkbox]")).to_have_count(1)  # only what is not decided yet
        expect(filing.get_by_label("Cho phép đăng ảnh chân dung")).not_to_be_checked()
        filing.get_by_label("Cho phép đăng ảnh chân dung").check()
        page.get_by_label("Tôi xin cam đoan những nội dung kê khai là đúng sự thật").check()  # required to submit
        page.get_by_role("button", name="Nộp hồ sơ").click()
        expect(page.get_by_text("Mã hồ sơ").first).to_be_visible()
        with app.app_context():
            assert db.session.get(Nomination, draft_id).state == "submitted"
            filed = db.session.scalars(sa.select(ConsentRecord).where(ConsentRecord.context == "filing")).all()
            assert {(r.purpose, r.granted, r.notice_version) for r in filed} == {
                (NOTICE_PURPOSE, True, 1), ("publish_photo", True, 1)}
            db.session.remove()

        # --- all my data: the ZIP, opened
        page.get_by_role("link", name="Dữ liệu cá nhân", exact=True).click()
        expect(page.get_by_role("heading", name="Dữ liệu cá nhân của tôi")).to_be_visible()
        with page.expect_download() as info:
            page.get_by_role("link", name="Tải dữ liệu (ZIP)").click()
        path = tmp_path / "data.zip"
        info.value.save_as(path)
        z = zipfile.ZipFile(path)
        fields = json.loads(z.read("fields.json"))
        for kind in px.FIELDS:
            records = json.loads(z.read(f"{kind}.json"))
            for record in records if isinstance(records, list) else [records]:
                assert set(record) <= set(fields[f"{kind}.json"]), kind
        (dossier,) = json.loads(z.read("dossiers.json"))
        assert dossier["full_name"] == "Tô Thị Men" and dossier["state"] == "submitted" and dossier["code"]
        assert fields["dossiers.json"]["birth_date"] == {"vi": "Ngày sinh", "en": "Date of birth"}
        (photo,) = json.loads(z.read("attachments.json"))
        assert z.read(photo["file"])[:8] == b"\x89PNG\r\n\x1a\n"
        consents = json.loads(z.read("consents.json"))
        assert {c["purpose"] for c in consents if c["granted"]} == {
            NOTICE_PURPOSE, "email_reminders", "future_programmes", "publish_photo"}

        # --- a correction, and an optional consent withdrawn
        page.get_by_label("Loại yêu cầu").select_option("correction")
        page.get_by_label("Nội dung (thông tin nào chưa đúng").fill("Năm sinh đúng là 1958, không phải 1962.")
        page.get_by_role("button", name="Gửi yêu cầu").click()
        expect(page.locator(".flash-success")).to_contain_text("Đã gửi yêu cầu số")
        consents_table = page.locator("section[aria-labelledby=consents-h]")
        row = consents_table.locator("tr", has_text="Nhận thư nhắc hạn")
        row.get_by_role("button", name="Rút lại sự đồng ý").click()
        expect(page.locator(".flash-success")).to_contain_text("Đã rút lại sự đồng ý")
        expect(consents_table.locator("tr", has_text="Nhận thư nhắc hạn")).to_contain_text("Không đồng ý")
        _log_out(page)

        # --- the data officer answers both on the page, overdue first, each within its deadline
        _log_in(page, OFFICER_EMAIL, Factory.PASSWORD)
        expect(page.get_by_role("heading", name="Yêu cầu về dữ liệu cá nhân")).to_be_visible()
        links = page.locator("table.list tbody a")
        expect(links).to_have_count(2)
        for _ in range(2):
            page.goto("/data-officer/requests")
            page.locator("tr", has_text="Đang xử lý").first.get_by_role("link").click()
            page.get_by_label("Đã thực hiện", exact=True).check()
            page.get_by_label("Nội dung trả lời gửi người yêu cầu").fill("Đã xử lý theo yêu cầu của bà.")
            page.get_by_role("button", name="Gửi trả lời").click()
            expect(page.locator(".flash-success")).to_contain_text("Đã trả lời yêu cầu số")
        expect(page.locator("tr", has_text="Đang xử lý")).to_have_count(0)
        with app.app_context():
            cases = db.session.scalars(sa.select(DataRequest).order_by(DataRequest.id)).all()
            assert [(c.kind, c.status, c.outcome) for c in cases] == [
                ("correction", "answered", "done"), ("withdrawal", "answered", "done")]
            assert all(c.answered_at.date() <= c.due_on and c.due_on >= today() for c in cases)
            kinds = [e.kind for e in db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))]
            for kind, count in (("consent_recorded", 2), ("personal_data_exported", 1), ("consent_withdrawn", 1),
                                ("data_request_opened", 2), ("data_request_answered", 2)):
                assert kinds.count(kind) == count, (kind, kinds)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(PersonalDataRead)
                                     .where(PersonalDataRead.action == "own_data")) == 1
            told = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == EMAIL)).all()
            assert sum("Trả lời yêu cầu về dữ liệu cá nhân" in m.subject for m in told) == 2
            db.session.remove()

        # --- the applicant sees the answers
        _log_out(page)
        _log_in(page, EMAIL, PASSWORD)
        page.goto("/my-data")
        expect(page.locator("#requests table")).to_contain_text("Đã xử lý theo yêu cầu của bà.")
    finally:
        context.close()
    assert problems == []


def test_the_personal_data_pages_pass_axe_and_fit_360px_in_both_languages(chromium, live):
    app, base, make = live
    with app.app_context():
        applicant = make.user("applicant", full_name="Lò Văn Sáo")
        from artisan_awards.services import data_rights

        case = data_rights.open_request(applicant, "correction", "Sai quê quán.")
        pages = {applicant.email: ["/privacy", "/my-data", "/register"],
                 OFFICER_EMAIL: ["/data-officer/requests", f"/data-officer/requests/{case.id}"]}
        db.session.remove()
    found, wide = {}, {}
    browser = chromium
    for email, paths in pages.items():
        for lang in ("vi", "en"):
            for viewport in (DESKTOP, PHONE):
                context = new_context(browser, base, axe=True, timeout=30_000, viewport=viewport)
                page = context.new_page()
                for path in [p for p in paths if p == "/register"]:
                    page.goto(path)  # the registration form, signed out
                    _check(page, path, lang, viewport, found, wide)
                _log_in(page, email, Factory.PASSWORD)
                for path in [p for p in paths if p != "/register"]:
                    page.goto(path)
                    _check(page, path, lang, viewport, found, wide)
                context.close()
    assert not found, found
    assert not wide, wide


def _check(page: Page, path: str, lang: str, viewport: dict, found: dict, wide: dict) -> None:
    if lang == "en" and page.locator("html").get_attribute("lang") != "en":
        page.locator("header .account :is(a, button)[lang=en]").click()  # a link signed out (perf2), a form signed in
        page.wait_for_load_state()
        page.goto(path)
    assert page.locator("html").get_attribute("lang") == lang
    key = f"{lang} {viewport['width']} {path}"
    violations = axe_violations(page)
    if violations:
        found[key] = violations
    if viewport == PHONE:
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > PHONE["width"]:
            wide[key] = width
