"""Administration in a real browser, with mail caught by a real local SMTP server.

1. An administrator invites a province officer; the officer sets a password from the
   e-mailed link and logs in with Hà Nội's scope; the used link and an expired one are refused.
2. An applicant registers, confirms the e-mail, forgets the password, resets it, logs in.
3. The main administration pages, screenshotted (``SCREENSHOTS=1`` copies them to docs/).
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from itsdangerous import TimestampSigner
from playwright.sync_api import expect

from artisan_awards.extensions import db
from artisan_awards.services import account_admin, accounts
from tests.factories import Factory
from tests.plugins.browser import live_site
from tests.smtp import smtp_server  # noqa: F401
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _log_in, _log_out, shots  # noqa: F401

pytestmark = pytest.mark.browser

ADMIN_NAME = "Hoàng Quản Trị"
OFFICER_NAME = "Vũ Thị Thanh"
OFFICER_EMAIL = "vu.thi.thanh@soct.hanoi.gov.vn"
OFFICER_PASSWORD = "Ha-Noi-Ngan-Nam-2026"
APPLICANT_NAME = "Đinh Văn Khải"
APPLICANT_EMAIL = "dinh.van.khai@example.vn"
FIRST_PASSWORD = "Lang-Nghe-Van-Phuc-1"
SECOND_PASSWORD = "Lua-Van-Phuc-Moi-22"


@pytest.fixture
def admin_server(app_config, smtp_server):  # noqa: F811
    def build(app):
        make = Factory()
        make.round(name="Xét tặng lần thứ 7")
        admin = make.user("admin", full_name=ADMIN_NAME)
        for name in ("Nguyễn Văn Chủ", "Trần Thị Phó", "Lê Văn Ủy"):
            make.user("province_council_member", "HNI", full_name=name)
        make.user("province_council_member", "HCM", full_name="Người Thành phố Hồ Chí Minh")
        data = {"admin": admin.email}
        return data

    config = {**app_config, "WTF_CSRF_ENABLED": True, "MAIL_SEND_IMMEDIATELY": True, **smtp_server.config}
    with live_site(config, build) as (url, app, built):
        yield {"url": url, "app": app, "mailbox": smtp_server, **built}


def _new_page(browser, base, problems):
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    page.goto("/")
    return page


def _expired_link(app, email: str, purpose: str, base: str) -> str:
    with app.app_context():
        user = accounts.find_user(email)
        real = TimestampSigner.get_timestamp
        TimestampSigner.get_timestamp = lambda self: int(time.time()) - 200 * 3600
        try:
            token = account_admin.make_token(user, purpose)
        finally:
            TimestampSigner.get_timestamp = real
        db.session.remove()
    path = {"invite": "invitation", "reset": "reset", "confirm": "confirm"}[purpose]
    return f"{base}/{path}/{token}"


def test_admin_invites_an_officer_who_sets_a_password(chromium, admin_server, shots):  # noqa: F811
    base, mailbox = admin_server["url"], admin_server["mailbox"]
    problems: list[str] = []
    browser = chromium
    page = _new_page(browser, base, problems)
    _log_in(page, admin_server["admin"], Factory.PASSWORD)
    page.get_by_role("link", name="Quản trị").click()
    expect(page.get_by_role("heading", name="Quản trị")).to_be_visible()
    page.get_by_role("link", name="Mời người dùng").click()
    page.get_by_label("Họ và tên").fill(OFFICER_NAME)
    page.get_by_label("Thư điện tử").fill(OFFICER_EMAIL)
    page.get_by_label("Cán bộ tỉnh (thường trực Hội đồng cấp tỉnh)").check()
    page.get_by_label("Tỉnh, thành phố").select_option(label="Hà Nội")
    shots(page, "admin-invite.png")
    page.get_by_role("button", name="Gửi lời mời").click()
    expect(page.get_by_text(f"Đã gửi lời mời tới {OFFICER_EMAIL}.")).to_be_visible()
    expect(page.get_by_role("heading", name=OFFICER_NAME)).to_be_visible()
    shots(page, "admin-account.png")
    page.get_by_role("link", name="← Tài khoản").click()
    expect(page.get_by_role("cell", name=OFFICER_NAME)).to_be_visible()
    shots(page, "admin-accounts.png")
    _log_out(page)

    # The officer follows the e-mailed link.
    message = mailbox.wait_for(OFFICER_EMAIL)
    assert message["Subject"] == "Mời tham gia Hệ thống xét tặng Nghệ nhân"
    link = mailbox.link(OFFICER_EMAIL)
    assert link.startswith(f"{base}/invitation/")
    page.goto(link)
    expect(page.get_by_role("heading", name="Nhận lời mời và đặt mật khẩu")).to_be_visible()
    page.get_by_label("Mật khẩu mới (ít nhất 10 ký tự)").fill(OFFICER_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Đặt mật khẩu").click()
    expect(page.get_by_text("Mật khẩu đã được đặt. Mời bạn đăng nhập.")).to_be_visible()
    page.get_by_label("Thư điện tử").fill(OFFICER_EMAIL)
    page.get_by_label("Mật khẩu").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    # The right scope: Hà Nội's secretariat.
    expect(page.locator(".who")).to_have_text(f"{OFFICER_NAME} · Hà Nội")
    expect(page.get_by_role("link", name="Hồ sơ của tỉnh")).to_be_visible()
    expect(page.get_by_role("link", name="Tất cả hồ sơ")).to_have_count(0)
    page.get_by_role("link", name="Quản trị").click()
    expect(page.get_by_role("link", name="Nhật ký quản trị")).to_have_count(0)
    page.get_by_role("link", name="Tài khoản", exact=True).click()
    expect(page.get_by_role("cell", name="Nguyễn Văn Chủ")).to_be_visible()
    expect(page.get_by_text("Người Thành phố Hồ Chí Minh")).to_have_count(0)
    page.get_by_role("link", name="Mời người dùng").click()
    expect(page.get_by_label("Quản trị hệ thống")).to_have_count(0)  # no role above their own
    expect(page.get_by_label("Tỉnh, thành phố").locator("option")).to_have_count(1)
    _log_out(page)

    # The used link is refused; so is an expired one.
    page.goto(link)
    expect(page.get_by_role("heading", name="Đường liên kết không dùng được")).to_be_visible()
    expect(page.get_by_text("Đường liên kết không hợp lệ hoặc đã được dùng.")).to_be_visible()
    page.goto(_expired_link(admin_server["app"], OFFICER_EMAIL, "invite", base))
    expect(page.get_by_text("Đường liên kết đã hết hạn.", exact=False)).to_be_visible()
    shots(page, "admin-link-refused.png")
    assert problems == []


def test_applicant_registers_confirms_forgets_and_resets(chromium, admin_server, shots):  # noqa: F811
    base, mailbox = admin_server["url"], admin_server["mailbox"]
    problems: list[str] = []
    browser = chromium
    page = _new_page(browser, base, problems)
    page.goto("/register")
    page.get_by_label("Họ và tên").fill(APPLICANT_NAME)
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    page.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill(FIRST_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_text("Hãy mở thư chúng tôi vừa gửi", exact=False)).to_be_visible()
    # Not confirmed yet: cannot log in.
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    page.get_by_label("Mật khẩu").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Bạn cần xác nhận địa chỉ thư điện tử", exact=False)).to_be_visible()

    confirm = mailbox.link(APPLICANT_EMAIL)
    assert mailbox.wait_for(APPLICANT_EMAIL)["Subject"] == "Xác nhận địa chỉ thư điện tử"
    page.goto(confirm)
    expect(page.get_by_text("Địa chỉ thư điện tử đã được xác nhận.", exact=False)).to_be_visible()
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    page.get_by_label("Mật khẩu").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(".who")).to_have_text(APPLICANT_NAME)
    _log_out(page)

    # Forgot the password.
    page.get_by_role("banner").get_by_role("link", name="Đăng nhập").click()
    page.get_by_role("link", name="Quên mật khẩu?").click()
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    shots(page, "admin-forgot.png")
    page.get_by_role("button", name="Gửi đường liên kết").click()
    expect(page.get_by_text("chúng tôi đã gửi thư hướng dẫn", exact=False)).to_be_visible()
    reset = mailbox.link(APPLICANT_EMAIL, count=2)
    assert "/reset/" in reset
    page.goto(reset)
    page.get_by_label("Mật khẩu mới (ít nhất 10 ký tự)").fill(SECOND_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(SECOND_PASSWORD)
    page.get_by_role("button", name="Đặt mật khẩu").click()
    expect(page.get_by_text("Mật khẩu đã được đặt.", exact=False)).to_be_visible()
    # The old password no longer works; the new one does.
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    page.get_by_label("Mật khẩu").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Thư điện tử hoặc mật khẩu không đúng.")).to_be_visible()
    page.get_by_label("Thư điện tử").fill(APPLICANT_EMAIL)
    page.get_by_label("Mật khẩu").fill(SECOND_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(".who")).to_have_text(APPLICANT_NAME)
    # The reset link worked once.
    page.goto(reset)
    expect(page.get_by_text("Đường liên kết không hợp lệ hoặc đã được dùng.")).to_be_visible()
    assert problems == []


def test_admin_pages_screenshots(chromium, admin_server, shots, tmp_path):  # noqa: F811
    base = admin_server["url"]
    problems: list[str] = []
    sheet = tmp_path / "thanh-vien.csv"
    sheet.write_text("\ufeffname,email,position,role,province\n"
                     "Bùi Thị Hạnh,hanh@example.vn,Phó Giám đốc Sở,province_council_member,HNI\n"
                     "Ngô Văn Lực,luc-at-example.vn,Chuyên viên,province_council_member,HNI\n"
                     "Mai Văn Tâm,tam@example.vn,Nghệ nhân,quan_tri,HNI\n", encoding="utf-8")
    on = date.today()
    browser = chromium
    page = _new_page(browser, base, problems)
    _log_in(page, admin_server["admin"], Factory.PASSWORD)
    page.goto("/admin/")
    shots(page, "admin-index.png")
    # Import: the preview names the bad rows; nothing written.
    page.goto("/admin/accounts/import")
    page.get_by_label("Tệp XLSX hoặc CSV").set_input_files(str(sheet))
    page.get_by_role("button", name="Xem trước").click()
    expect(page.get_by_text("2 dòng có lỗi", exact=False)).to_be_visible()
    expect(page.get_by_text("Vai trò không hợp lệ: quan_tri")).to_be_visible()
    shots(page, "admin-import-preview.png")
    # A round whose plan is out of order.
    page.goto("/admin/rounds/new")
    page.get_by_label("Lần xét tặng (số)").fill("8")
    page.get_by_label("Tên đợt").fill("Xét tặng lần thứ 8")
    page.get_by_label("Ngày mở tiếp nhận").fill((on + timedelta(days=30)).isoformat())
    page.get_by_label("Ngày đóng tiếp nhận").fill((on + timedelta(days=90)).isoformat())
    page.get_by_label("Hạn tỉnh gửi hồ sơ lên Bộ").fill((on + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Lưu kế hoạch").click()
    expect(page.get_by_text("Kế hoạch đợt xét tặng có ngày không theo thứ tự.")).to_be_visible()
    shots(page, "admin-round-refused.png")
    page.get_by_label("Hạn tỉnh gửi hồ sơ lên Bộ").fill((on + timedelta(days=150)).isoformat())
    page.get_by_role("button", name="Lưu kế hoạch").click()
    expect(page.get_by_text("Đã tạo đợt xét tặng.")).to_be_visible()
    page.get_by_label("Số ngày lấy ý kiến nhân dân").fill("25")
    page.get_by_role("button", name="Lưu kế hoạch").click()
    # a plan change shows its effect on the round's dossiers first (none yet), then is saved
    expect(page.get_by_test_id("confirm-table")).to_contain_text("Thời gian lấy ý kiến nhân dân (ngày)")
    page.get_by_test_id("confirm-button").click()
    expect(page.get_by_text("Đã lưu kế hoạch.")).to_be_visible()
    expect(page.locator("#round-history")).to_contain_text(ADMIN_NAME)
    shots(page, "admin-round.png")
    # A council, members picked from the accounts.
    page.goto("/admin/councils/new")
    page.get_by_label("Cấp Hội đồng").select_option(label="Cấp tỉnh")
    page.get_by_label("Tỉnh, thành phố (Hội đồng cấp tỉnh)").select_option(label="Hà Nội")
    page.get_by_label("Tên Hội đồng").fill("Hội đồng xét tặng cấp tỉnh thành phố Hà Nội")
    page.get_by_label("Số quyết định thành lập").fill("3307/QĐ-UBND")
    page.get_by_label("Vị trí của Nguyễn Văn Chủ").select_option(label="Chủ tịch")
    page.get_by_label("Vị trí của Trần Thị Phó").select_option(label="Phó Chủ tịch")
    page.get_by_label("Trần Thị Phó được ủy quyền điều hành").check()
    page.get_by_label("Vị trí của Lê Văn Ủy").select_option(label="Ủy viên")
    shots(page, "admin-council.png")
    page.get_by_role("button", name="Thành lập Hội đồng").click()
    expect(page.get_by_text("Đã thành lập Hội đồng.")).to_be_visible()
    page.goto("/admin/audit")
    expect(page.locator("#audit")).to_contain_text("Thành lập Hội đồng")
    expect(page.locator("#audit")).to_contain_text("Sửa kế hoạch đợt")
    shots(page, "admin-audit.png")
    assert problems == []
