"""The whole chain in the browser (issue 13 items 1 and 3, issue 14 item 8), pages only, at desktop width.

One browser, one seeded demo (``artisan_awards.demo.seed``, as ``bash scripts/demo`` loads it) served on a
real socket with CSRF on:

* ``test_readme_walk_through_reaches_the_presidents_decision`` follows README.md's walk-through step by step
  (each step on the dossier the demo left waiting there, as the role that does it), records the President's
  decision with its bonus (a wrong one first: refused next to the field), sees the award on the public
  results, and checks that ``flask audit verify`` is clean afterwards;
* ``test_one_dossier_from_registration_to_the_presidents_decision`` walks ONE new dossier: an applicant
  registers and files it, the province accepts it, three councils plan a session, take attendance, open the
  vote, every member votes on the ballot page and the secretariat closes it, the ministry opens both public
  consultations (the calendar is moved on past each 20-day window with the ``TODAY`` setting), the
  government submits it to the President and records the decision; the award appears on the public results.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from artisan_awards.demo import DEMO_PASSWORD, seed
from artisan_awards.extensions import db
from artisan_awards.timeutil import today
from tests.plugins.browser import live_site, log_in
from tests.test_browser import DESKTOP, _png

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

PROVINCE_COUNCIL = "Hội đồng xét tặng cấp tỉnh thành phố Hà Nội"
MINISTRY_COUNCIL = "Hội đồng chuyên ngành cấp Bộ (lĩnh vực thủ công mỹ nghệ)"
STATE_COUNCIL = "Hội đồng cấp Nhà nước xét tặng danh hiệu Nghệ nhân"
MEMBERS = {
    "province": ["hoidong.hanoi@demo.vn", *[f"hoidong.hanoi{i}@demo.vn" for i in range(2, 10)]],
    "ministry": ["hoidong.bo@demo.vn", *[f"hoidong.bo{i}@demo.vn" for i in range(2, 10)]],
    "state": ["hoidong.nhanuoc@demo.vn", *[f"hoidong.nhanuoc{i}@demo.vn" for i in range(2, 10)]],
}


@pytest.fixture(scope="module")
def demo(database_factory, tmp_path_factory):
    """The demo seeded into a fresh database and served; yields (app, base URL)."""
    tmp = tmp_path_factory.mktemp("walk")
    url, drop = database_factory.new(tmp)
    config = {
        "TESTING": True, "SECRET_KEY": "test-secret-of-at-least-thirty-two-bytes", "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"),
        "EMAIL_CONFIRMATION_REQUIRED": False, "TODAY": None, "SERVER_NAME": None,
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    }
    try:
        with live_site(config, lambda app: seed()) as (base, app, _):
            yield app, base
    finally:
        drop()


@pytest.fixture
def tab(demo, chromium):
    _app, base = demo
    context = chromium.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("dialog", lambda dialog: dialog.accept())  # a confirmation asked by the page: the person agrees
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    yield page
    context.close()
    assert problems == []


def as_(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log out whoever is logged in, and log ``email`` in through the login form."""
    log_in(page, email, password, clear=True)


def confirm_if_asked(page: Page) -> None:
    """An irreversible action first shows what it causes (artisan_awards/confirm.py): the person agrees."""
    page.wait_for_load_state()
    button = page.get_by_test_id("confirm-button")
    if button.count():
        button.click()
        page.wait_for_load_state()


def act(page: Page, label: str, expect_state: str) -> None:
    """Press an action button of the dossier page and see its new state."""
    page.get_by_role("button", name=label, exact=True).click()
    confirm_if_asked(page)
    expect(page.locator(".flash-success")).to_contain_text(label)
    expect(page.locator(".status-box")).to_contain_text(expect_state)


def open_dossier(page: Page, name: str, query: str | None = None) -> None:
    """Find a dossier in the staff's list by the nominee's name (or ``query``: its code) and open it."""
    nav = page.get_by_role("navigation").get_by_role("link", name=re.compile("^(Tất cả hồ sơ|Hồ sơ của tỉnh)$"))
    nav.first.click()
    page.get_by_label("Tìm theo tên hoặc mã hồ sơ").fill(query or name)
    page.get_by_role("button", name="Lọc").click()
    page.locator("table.list tbody tr", has_text=query or name).get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def open_voting_session(page: Page, council: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="Hội đồng", exact=True).click()
    page.get_by_role("link", name=council).click()
    page.locator("li", has_text="Đang bỏ phiếu").get_by_role("link").first.click()


def vote(page: Page, council: str, name: str, choice: str = "Đồng ý") -> None:
    """As the member logged in: the council's open session, its ballot, ``choice`` for ``name``, send."""
    open_voting_session(page, council)
    page.get_by_role("link", name="Bỏ phiếu", exact=True).click()
    item = page.locator("fieldset.ballot-item", has_text=name)
    item.get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Gửi phiếu bầu").click()
    confirm_if_asked(page)
    expect(page.locator(".flash-success")).to_be_visible()


def close_vote(page: Page, council: str) -> None:
    open_voting_session(page, council)
    page.get_by_role("button", name="Kết thúc bỏ phiếu và kiểm phiếu").click()
    confirm_if_asked(page)
    expect(page.locator(".flash-error")).to_have_count(0)


def record_decision(page: Page, number: str, bonus: str, on=None) -> None:
    """On the dossier page: the decision form; a future date first (refused by the field), then the right one."""
    page.get_by_role("link", name="Ghi nhận quyết định của Chủ tịch nước").click()
    expect(page.get_by_role("heading", name="Quyết định của Chủ tịch nước")).to_be_visible()
    expect(page.locator("#award-preview")).to_contain_text(bonus)
    on = on or today()
    page.get_by_label("Số quyết định của Chủ tịch nước").fill(number)
    page.get_by_label("Ngày quyết định").fill((on + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Ghi nhận quyết định").click()
    confirm_if_asked(page)
    expect(page.locator(".field.has-error")).to_contain_text("Ngày quyết định không được sau ngày hôm nay.")
    page.get_by_label("Ngày quyết định").fill(on.isoformat())
    page.get_by_role("button", name="Ghi nhận quyết định").click()
    confirm_if_asked(page)
    expect(page.locator(".status-box")).to_contain_text("Đã được phong tặng")
    award = page.locator("#award")
    expect(award).to_contain_text(number)
    expect(award).to_contain_text(bonus)


def test_readme_walk_through_reaches_the_presidents_decision(demo, tab):
    page = tab
    app, _base = demo
    # 1. Province: the chair casts the last ballot of the open vote.
    as_(page, "hoidong.hanoi@demo.vn")
    vote(page, PROVINCE_COUNCIL, "Nguyễn Thị Lụa")
    # 2. The Sở closes the vote, and sends the proposed dossier to the ministry.
    as_(page, "so.hanoi@demo.vn")
    close_vote(page, PROVINCE_COUNCIL)
    open_dossier(page, "Nguyễn Thị Lụa")
    expect(page.locator(".status-box")).to_contain_text("Hội đồng cấp tỉnh đề nghị")
    act(page, "Gửi lên Bộ Công Thương", "Chờ Hội đồng chuyên ngành cấp Bộ")
    # 3. Ministry council: the last ballot, the close, the first public consultation.
    as_(page, "hoidong.bo@demo.vn")
    vote(page, MINISTRY_COUNCIL, "Hoàng Thị Men")
    as_(page, "bo@demo.vn")
    close_vote(page, MINISTRY_COUNCIL)
    open_dossier(page, "Hoàng Thị Men")
    act(page, "Mở lấy ý kiến nhân dân", "Đang lấy ý kiến nhân dân")
    # 4. A consultation already over: to the state council.
    open_dossier(page, "Ngô Văn Khảm")
    act(page, "Trình Hội đồng cấp Nhà nước", "Chờ Hội đồng cấp Nhà nước")
    # 5. State council.
    as_(page, "hoidong.nhanuoc@demo.vn")
    vote(page, STATE_COUNCIL, "Mai Văn Tượng")
    as_(page, "bo@demo.vn")
    close_vote(page, STATE_COUNCIL)
    open_dossier(page, "Mai Văn Tượng")
    expect(page.locator(".status-box")).to_contain_text("Hội đồng cấp Nhà nước đề nghị")
    # 6. Prime Minister.
    open_dossier(page, "Tạ Văn Nón")
    act(page, "Trình Thủ tướng Chính phủ", "Đã trình Thủ tướng Chính phủ")
    as_(page, "chinhphu@demo.vn")
    open_dossier(page, "Tạ Văn Nón")
    act(page, "Trình Chủ tịch nước", "Đã trình Chủ tịch nước")
    # 7. President: Nghệ nhân nhân dân, 12.5 x 2 340 000 đồng.
    record_decision(page, "2050/QĐ-CTN", "29.250.000")
    page.goto("/public/results")
    awarded = page.locator("#awarded")
    expect(awarded).to_contain_text("Tạ Văn Nón")
    expect(awarded).to_contain_text("2050/QĐ-CTN")
    expect(awarded).to_contain_text("Trịnh Thị Mây")  # the demo's own award
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["audit", "verify"])
        db.session.remove()
    assert result.exit_code == 0 and "intact" in result.output, result.output


def _register_and_file(page: Page, nominee: str) -> str:
    """An applicant registers, fills the declaration and submits it; returns the dossier's code."""
    page.context.clear_cookies()
    page.goto("/register")
    page.get_by_label("Họ và tên").fill("Đoàn Thị Gốm")
    page.get_by_label("Thư điện tử").fill("doan.thi.gom@example.vn")
    page.get_by_label("Mật khẩu (ít nhất 10 ký tự)").fill("Gom-Phu-Lang-2026")
    page.get_by_label("Nhập lại mật khẩu").fill("Gom-Phu-Lang-2026")
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()
    page.get_by_role("link", name="Lập hồ sơ mới").click()
    page.get_by_label("Đợt xét tặng").select_option(label="Xét tặng lần thứ 6 (diễn tập, dữ liệu mẫu)")
    page.get_by_label("Danh hiệu đề nghị").select_option(label="Nghệ nhân ưu tú")
    page.get_by_label("Tỉnh, thành phố nơi nộp hồ sơ").select_option(label="Hà Nội")
    page.get_by_label("Họ và tên nghệ nhân").fill(nominee)
    page.get_by_label("Ngày sinh").fill("1960-03-12")
    page.get_by_label("Giới tính").select_option(label="Nam")
    page.get_by_label("Dân tộc").fill("Kinh")
    page.get_by_label("Quê quán").fill("Xã Phù Lãng, Bắc Ninh")
    page.get_by_label("Nơi cư trú").fill("Thôn Phù Lãng, Hà Nội")
    page.get_by_label("Điện thoại").fill("0913 222 333")
    page.get_by_label("Người nộp hồ sơ").select_option(label="Bản thân nghệ nhân")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_role("textbox", name="Nghề thủ công mỹ nghệ", exact=True).fill("Gốm Phù Lãng")
    page.get_by_label("Cơ sở, xưởng sản xuất").fill("Lò gốm Phù Lãng")
    page.get_by_label("Từ ngày").fill("1980-01-01")
    page.get_by_label("Đến ngày").fill("2024-12-31")
    page.get_by_label("Nơi làm việc, cơ sở sản xuất").fill("Lò gốm Phù Lãng")
    page.get_by_label("Công việc, vai trò").fill("Thợ cả")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_label("Tên sản phẩm, tác phẩm").fill("Chum gốm men da lươn")
    page.get_by_label("Ngày hoàn thành").fill("2020-05-10")
    page.get_by_label("Chất liệu").fill("Đất sét đỏ")
    page.get_by_label("Số người đã được truyền nghề").fill("110")
    page.get_by_role("button", name="Lưu và tiếp tục").click()
    page.get_by_label("Loại tài liệu").select_option(label="Ảnh")
    page.get_by_label("Tệp (ảnh, video, PDF)").set_input_files(
        {"name": "chum-gom.png", "mimeType": "image/png", "buffer": _png()})
    page.get_by_role("button", name="Tải lên", exact=True).click()
    expect(page.locator(".flash-success")).to_have_text("Đã tải lên tài liệu.")
    page.get_by_role("link", name="Tiếp tục: kiểm tra và nộp").click()
    for box in page.locator("main form input[type=checkbox][required]").all():  # a commitment to tick, if asked
        box.check()
    page.get_by_role("button", name="Nộp hồ sơ").click()
    expect(page.get_by_role("heading", name="GIẤY BIÊN NHẬN HỒ SƠ")).to_be_visible()
    code = page.get_by_test_id("dossier-code").inner_text().strip()
    assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", code), code
    return code


def _council_session(page: Page, secretariat: str, council: str, level: str, nominee: str, dossier_id: str,
                     held_on=None) -> None:
    """The secretariat plans a session for one dossier, takes attendance, opens the vote; every member
    votes yes on the ballot page; the secretariat closes the vote."""
    as_(page, secretariat)
    page.get_by_role("navigation").get_by_role("link", name="Hội đồng", exact=True).click()
    page.get_by_role("link", name=council).click()
    page.get_by_label("Ngày họp").fill((held_on or today()).isoformat())  # the app's today (TODAY), not in the past
    page.get_by_label("Địa điểm").fill("Phòng họp số 1")
    for box in page.locator("input[name=nomination_ids]").all():
        box.set_checked(box.get_attribute("value") == dossier_id)
    page.get_by_role("button", name="Lập phiên họp").click()
    expect(page.locator(".flash-error")).to_have_count(0)
    assert "/council/sessions/" in page.url, page.url
    session_url = page.url
    for box in page.locator("input[name=present]").all():
        box.check()
    page.get_by_role("button", name="Ghi nhận điểm danh").click()
    page.get_by_role("button", name="Mở bỏ phiếu").click()
    confirm_if_asked(page)
    expect(page.locator(".flash-error")).to_have_count(0)
    for email in MEMBERS[level]:
        as_(page, email)
        page.goto(session_url)
        page.get_by_role("link", name="Bỏ phiếu", exact=True).click()
        page.locator("fieldset.ballot-item", has_text=nominee).get_by_label("Đồng ý", exact=True).check()
        page.get_by_role("button", name="Gửi phiếu bầu").click()
        confirm_if_asked(page)
        expect(page.locator(".flash-success")).to_be_visible()
    as_(page, secretariat)
    page.goto(session_url)
    page.get_by_role("button", name="Kết thúc bỏ phiếu và kiểm phiếu").click()
    confirm_if_asked(page)
    expect(page.locator(".flash-error")).to_have_count(0)


def test_one_dossier_from_registration_to_the_presidents_decision(demo, tab):
    page = tab
    app, _base = demo
    nominee = "Đoàn Văn Chum"
    code = _register_and_file(page, nominee)
    # The Sở accepts it.
    as_(page, "so.hanoi@demo.vn")
    open_dossier(page, nominee, query=code)  # by its code: the list finds it by code as by name
    dossier_id = re.search(r"/nominations/(\d+)", page.url).group(1)
    act(page, "Tiếp nhận hồ sơ hợp lệ", "Hợp lệ, chờ Hội đồng cấp tỉnh")
    _council_session(page, "so.hanoi@demo.vn", PROVINCE_COUNCIL, "province", nominee, dossier_id)
    page.goto(f"/nominations/{dossier_id}")
    act(page, "Gửi lên Bộ Công Thương", "Chờ Hội đồng chuyên ngành cấp Bộ")
    _council_session(page, "bo@demo.vn", MINISTRY_COUNCIL, "ministry", nominee, dossier_id)
    page.goto(f"/nominations/{dossier_id}")
    act(page, "Mở lấy ý kiến nhân dân", "Đang lấy ý kiến nhân dân")
    try:  # (the test runs outside the app: today() here is the real calendar)
        app.config["TODAY"] = (today() + timedelta(days=21)).isoformat()  # the 20-day window has run
        page.reload()
        act(page, "Trình Hội đồng cấp Nhà nước", "Chờ Hội đồng cấp Nhà nước")
        _council_session(page, "bo@demo.vn", STATE_COUNCIL, "state", nominee, dossier_id,
                         held_on=today() + timedelta(days=21))
        page.goto(f"/nominations/{dossier_id}")
        act(page, "Mở lấy ý kiến nhân dân", "Đang lấy ý kiến nhân dân")
        app.config["TODAY"] = (today() + timedelta(days=42)).isoformat()  # and the second one
        page.reload()
        act(page, "Trình Thủ tướng Chính phủ", "Đã trình Thủ tướng Chính phủ")
        as_(page, "chinhphu@demo.vn")
        page.goto(f"/nominations/{dossier_id}")
        act(page, "Trình Chủ tịch nước", "Đã trình Chủ tịch nước")
        # Nghệ nhân ưu tú: 9.0 x 2 340 000 đồng, decided on the (moved) day.
        record_decision(page, "2051/QĐ-CTN", "21.060.000", on=today() + timedelta(days=42))
    finally:
        app.config["TODAY"] = None
    page.context.clear_cookies()
    page.goto("/public/results")
    expect(page.locator("#awarded")).to_contain_text(nominee)
    expect(page.locator("#awarded")).to_contain_text("2051/QĐ-CTN")
