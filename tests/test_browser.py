"""A real browser walks one dossier from registration to the public status page.

Debian's Chromium (``/usr/bin/chromium``) is driven through Playwright's sync API
against the app served by werkzeug on 127.0.0.1, with CSRF protection switched on,
so the forms, cookies, redirects and uploads are the ones a person would meet:

1. an applicant registers and fills the five steps of the declaration, uploads a
   photo and submits; the receipt shows the dossier code and the access key;
2. the Hà Nội province officer finds the dossier with an accent-free search and
   accepts it;
3. anyone can look the dossier up with its code and key (and a wrong key finds
   nothing).

Screenshots go to pytest's ``tmp_path``; with ``SCREENSHOTS=1`` they are also
copied to ``docs/screenshots/``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.factories import Factory
from tests.plugins.browser import CHROMIUM, CHROMIUM_ARGS, live_site, log_in  # noqa: F401  (imported from here elsewhere)

# No warning filter: "filterwarnings = error" also reaches the server thread, so a warning
# raised while rendering a page turns into a 500 that the test reports.
pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
DOCS_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

APPLICANT_NAME = "Nguyễn Thị Hoa"
APPLICANT_EMAIL = "nguyen.thi.hoa@example.vn"
APPLICANT_PASSWORD = "Gom-Bat-Trang-2026"
NOMINEE = "Trần Văn Đức"
ACCEPTED_STAFF = "Hợp lệ, chờ Hội đồng cấp tỉnh"
ACCEPTED_CITIZEN = "Hồ sơ hợp lệ, chờ Hội đồng cấp tỉnh xét"
NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này."


@pytest.fixture
def live_server(app_config):
    """The app on a real socket, CSRF on, with an open round and a Hà Nội officer."""
    # E-mail confirmation has its own browser test (test_admin_browser.py).
    config = {**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False}
    def build(app):
        make = Factory()
        intake = make.round(name="Xét tặng lần thứ 7")
        officer = make.user("province_officer", "HNI", full_name="Lê Minh Châu")
        data = {"round": intake.name, "officer_email": officer.email}
        return data

    with live_site(config, build) as (url, app, built):
        yield {"url": url, **built}


@pytest.fixture
def shots(tmp_path):
    """``shots(page, name)`` saves a full-page screenshot to docs with SCREENSHOTS=1 (as test_forms_browser's).

    Without it nothing looks at the picture (no assertion reads it), so none is taken: a full-page PNG is
    one of the costliest things Chromium does here.  What the guides show is checked by
    tests/test_docs_screenshots.py, which takes and inspects its screenshots on every run."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    publish = os.environ.get("SCREENSHOTS") == "1"
    if publish:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path | None:
        if not publish:
            return None
        path = folder / name
        page.screenshot(path=str(path), full_page=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / name)
        return path

    return take


def _png() -> bytes:
    """A small, real PNG image (a blue block on white), made with Pillow."""
    image = Image.new("RGB", (64, 48), "white")
    for x in range(16, 48):
        for y in range(12, 40):
            image.putpixel((x, y), (30, 70, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _log_in(page: Page, email: str, password: str) -> None:
    """Log in with the header's link to the form (tests/plugins/browser.py ``log_in``)."""
    log_in(page, email, password, from_header=True)


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
    expect(page.get_by_role("banner").get_by_role("link", name="Đăng nhập")).to_be_visible()


def _expect_saved(page: Page) -> None:
    expect(page.locator(".flash-success")).to_have_text("Đã lưu bản nháp.")
    expect(page.locator(".flash-error")).to_have_count(0)


def test_dossier_from_registration_to_public_status(chromium, live_server, shots):
    base = live_server["url"]
    problems: list[str] = []

    browser = chromium
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("console", lambda msg: msg.type == "error" and problems.append(
        f"console: {msg.text} ({msg.location.get('url')})"))
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    try:
        # --- Home page, in Vietnamese.
        page.goto("/")
        expect(page).to_have_title(re.compile("Xét tặng Nghệ nhân"))
        expect(page.locator("html")).to_have_attribute("lang", "vi")
        expect(page.get_by_role("heading", name="Xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú")) \
            .to_be_visible()
        shots(page, "home.png")

        # --- 1. The applicant registers and lands on "Hồ sơ của tôi".
        page.goto("/register")
        expect(page.get_by_role("heading", name="Đăng ký tài khoản")).to_be_visible()
        page.get_by_label("Họ và tên").fill(APPLICANT_NAME)
        page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
        page.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill(APPLICANT_PASSWORD)
        page.get_by_label("Nhập lại mật khẩu").fill(APPLICANT_PASSWORD)
        page.get_by_role("button", name="Đăng ký").click()
        expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()
        expect(page.get_by_text("Tài khoản đã được tạo. Chào mừng bạn!")).to_be_visible()
        expect(page.locator(".who")).to_have_text(APPLICANT_NAME)

        # --- 2. Step 1: the nominee.
        page.get_by_role("link", name="Lập hồ sơ mới").click()
        expect(page.get_by_role("heading", name="Bản khai thành tích")).to_be_visible()
        expect(page.locator('.steps [aria-current="step"]')).to_have_text("1. Thông tin nghệ nhân")
        page.get_by_label("Đợt xét tặng").select_option(label=live_server["round"])
        page.get_by_label("Danh hiệu đề nghị").select_option(label="Nghệ nhân ưu tú")
        page.get_by_label("Tỉnh, thành phố nơi nộp hồ sơ").select_option(label="Hà Nội")
        page.get_by_label("Họ và tên nghệ nhân").fill(NOMINEE)
        page.get_by_label("Ngày sinh").fill("1962-08-15")
        page.get_by_label("Giới tính").select_option(label="Nam")
        page.get_by_label("Dân tộc").fill("Kinh")
        page.get_by_label("Quê quán").fill("Xã Bát Tràng, huyện Gia Lâm, Hà Nội")
        page.get_by_label("Nơi cư trú").fill("Thôn Giang Cao, xã Bát Tràng, Hà Nội")
        page.get_by_label("Điện thoại").fill("0912 345 678")
        page.get_by_label("Người nộp hồ sơ").select_option(label="Bản thân nghệ nhân")
        shots(page, "applicant-step1.png")
        page.set_viewport_size(PHONE)
        shots(page, "applicant-step1-360.png")
        page.set_viewport_size(DESKTOP)
        page.get_by_role("button", name="Lưu và tiếp tục").click()

        # --- Step 2: the craft and one period of practice.
        _expect_saved(page)
        expect(page.get_by_role("heading", name=f"Bản khai thành tích — {NOMINEE}")).to_be_visible()
        expect(page.locator('.steps [aria-current="step"]')) \
            .to_have_text("2. Nghề và quá trình hành nghề")
        page.get_by_role("textbox", name="Nghề thủ công mỹ nghệ", exact=True).fill("Gốm sứ Bát Tràng")
        page.get_by_label("Cơ sở, xưởng sản xuất").fill("Xưởng gốm Đức Bát Tràng")
        page.get_by_label("Từ ngày").fill("1982-03-01")
        page.get_by_label("Đến ngày").fill("2024-12-31")
        page.get_by_label("Nơi làm việc, cơ sở sản xuất").fill("Hợp tác xã gốm sứ Bát Tràng")
        page.get_by_label("Công việc, vai trò").fill("Thợ cả, chủ xưởng")
        page.get_by_role("button", name="Lưu và tiếp tục").click()

        # --- Step 3: one product and the learners trained.
        _expect_saved(page)
        expect(page.locator('.steps [aria-current="step"]')).to_have_text("3. Sản phẩm và truyền nghề")
        page.get_by_label("Tên sản phẩm, tác phẩm").fill("Bình men rạn cổ “Hồn quê”")
        page.get_by_label("Ngày hoàn thành").fill("2019-06-20")
        page.get_by_label("Chất liệu").fill("Đất sét trắng, men rạn")
        page.get_by_label("Số người đã được truyền nghề").fill("120")
        page.get_by_role("button", name="Lưu và tiếp tục").click()

        # --- Step 4: upload a photo and see it listed.
        _expect_saved(page)
        expect(page.locator('.steps [aria-current="step"]')).to_have_text("4. Tài liệu minh chứng")
        expect(page.get_by_text("Chưa có tài liệu nào.")).to_be_visible()
        page.get_by_label("Loại tài liệu").select_option(label="Ảnh")
        page.get_by_label("Tệp (ảnh, video, PDF)").set_input_files(
            {"name": "bình-gốm.png", "mimeType": "image/png", "buffer": _png()}
        )
        page.get_by_role("button", name="Tải lên", exact=True).click()
        expect(page.locator(".flash-success")).to_have_text("Đã tải lên tài liệu.")
        listed = page.locator("ul.files li")
        expect(listed).to_have_count(1)
        expect(listed).to_contain_text("bình-gốm.png")
        expect(listed).to_contain_text("— Ảnh")
        page.get_by_role("link", name="Tiếp tục: kiểm tra và nộp").click()

        # --- Step 5: review and submit.
        expect(page.locator('.steps [aria-current="step"]')).to_have_text("5. Kiểm tra và nộp")
        summary = page.locator("dl.facts")
        expect(summary).to_contain_text("Nghệ nhân ưu tú — Mẫu 02")
        expect(summary).to_contain_text("Sở Công Thương Hà Nội")
        expect(summary).to_contain_text("Gốm sứ Bát Tràng")
        expect(summary).to_contain_text("120")
        expect(page.get_by_role("heading", name="Hồ sơ còn thiếu")).to_have_count(0)
        # the declaration as it will be printed, and the commitment as a box the applicant ticks
        expect(page.frame_locator("iframe.declaration-frame").locator("body")).to_contain_text(NOMINEE)
        commitment = page.get_by_label("Tôi xin cam đoan những nội dung kê khai là đúng sự thật")
        expect(commitment).not_to_be_checked()
        shots(page, "applicant-review.png")
        page.get_by_role("button", name="Nộp hồ sơ").click()  # not ticked: refused next to the box
        expect(page.locator("#commitment-error")).to_have_text("Cần đánh dấu ô cam đoan trước khi nộp hồ sơ.")
        page.get_by_label("Tôi xin cam đoan những nội dung kê khai là đúng sự thật").check()
        page.get_by_role("button", name="Nộp hồ sơ").click()

        # --- 3. The receipt: dossier code and access key.
        expect(page.get_by_role("heading", name="GIẤY BIÊN NHẬN HỒ SƠ")).to_be_visible()
        expect(page.get_by_text("Đã thực hiện: Nộp hồ sơ.")).to_be_visible()
        expect(page.locator(".receipt")).to_contain_text("SỞ CÔNG THƯƠNG HÀ NỘI")
        expect(page.locator(".receipt")).to_contain_text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        expect(page.locator(".receipt")).to_contain_text(NOMINEE)
        code = page.get_by_test_id("dossier-code").inner_text().strip()
        key = page.get_by_test_id("access-key").inner_text().strip()
        assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", code), code
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", key), key
        shots(page, "receipt.png")
        _log_out(page)

        # --- 4. The province officer finds the dossier without accents and accepts it.
        _log_in(page, live_server["officer_email"], Factory.PASSWORD)
        expect(page.locator(".who")).to_contain_text("Lê Minh Châu · Hà Nội")
        page.get_by_role("link", name="Hồ sơ của tỉnh").click()
        expect(page.get_by_role("heading", name="Hồ sơ đề nghị xét tặng — Hà Nội")).to_be_visible()
        page.get_by_label("Tìm theo tên hoặc mã hồ sơ").fill("tran van duc")
        page.get_by_role("button", name="Lọc").click()
        expect(page).to_have_url(re.compile(r"q=tran\+van\+duc"))
        rows = page.locator("table.list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text(NOMINEE)
        expect(rows).to_contain_text("Gốm sứ Bát Tràng")
        expect(rows).to_contain_text("Đã nộp, chờ kiểm tra")
        shots(page, "province-inbox.png")
        rows.get_by_role("link", name=code).click()
        expect(page.get_by_role("heading", name=NOMINEE, exact=True)).to_be_visible()
        page.get_by_role("button", name="Tiếp nhận hồ sơ hợp lệ").click()
        # an irreversible action says what it causes and waits for a confirmation
        expect(page.get_by_test_id("consequences")).to_contain_text("không thể trả lại hồ sơ")
        page.get_by_test_id("confirm-button").click()
        expect(page.get_by_text("Đã thực hiện: Tiếp nhận hồ sơ hợp lệ.")).to_be_visible()
        expect(page.locator(".status-box .badge").first).to_have_text(ACCEPTED_STAFF)
        expect(page.locator("ol.timeline")).to_contain_text(f"Tiếp nhận hồ sơ hợp lệ — {ACCEPTED_STAFF}")
        shots(page, "dossier-accepted.png")
        _log_out(page)

        # --- 5. Anyone looks the dossier up with the code and the key.
        page.get_by_role("link", name="Tra cứu hồ sơ").click()
        expect(page.get_by_role("heading", name="Tra cứu tình trạng hồ sơ")).to_be_visible()
        page.get_by_label("Mã hồ sơ").fill(code)
        page.get_by_label("Mã tra cứu").fill(key)
        page.get_by_role("button", name="Tra cứu").click()
        expect(page.get_by_test_id("citizen-label")).to_have_text(ACCEPTED_CITIZEN)
        expect(page.get_by_role("heading", name=code)).to_be_visible()
        expect(page.get_by_text("Bước tiếp theo:")).to_be_visible()
        shots(page, "status-lookup.png")
        page.set_viewport_size(PHONE)
        shots(page, "status-lookup-360.png")
        page.set_viewport_size(DESKTOP)

        # A wrong key finds nothing and says so.
        wrong = "ZZZZ-ZZZZ" if key != "ZZZZ-ZZZZ" else "YYYY-YYYY"
        page.get_by_label("Mã tra cứu").fill(wrong)
        with page.expect_response(lambda r: "/public/status" in r.url) as response:
            page.get_by_role("button", name="Tra cứu").click()
        assert response.value.status == 404
        expect(page.get_by_role("alert")).to_contain_text(NOT_FOUND)
        expect(page.get_by_test_id("citizen-label")).to_have_count(0)
    finally:
        context.close()

    # Chromium reports 4xx answers on the console: the missing favicon and the deliberate wrong-key
    # lookup (404), and the deliberate submission without the commitment ticked (400, refused next to
    # the box).  Nothing else may go wrong.
    problems = [p for p in problems
                if not ("status of 404" in p and ("/favicon.ico" in p or "/public/status" in p))
                and not ("status of 400" in p and re.search(r"/my/\d+/review\)", p))]
    assert problems == []
