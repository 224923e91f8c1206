"""The administrator adds a partner system in a real browser (issue 19 item 1): the key is shown once,
works for a signed filing at once, and the partner's dossier shows its channel badge."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from artisan_awards import create_app
from artisan_awards.extensions import db
from tests.factories import Factory
from tests.liveserver import serve
from tests.portal_simulator import PortalSimulator
from tests.test_browser import DESKTOP, _log_in
from tests.test_intake import PHOTO, dossier

pytestmark = pytest.mark.browser


@pytest.mark.realdb
def test_the_administrator_adds_a_partner_whose_key_then_files_a_dossier(chromium, app_config, tmp_path):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        make = Factory()
        admin = make.user("admin", full_name="Hoàng Quản Trị")
        make.round(name="Xét tặng lần thứ 7")
        email = admin.email
        db.session.remove()
    problems: list[str] = []
    with serve(app) as base:
        browser = chromium
        page = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=base).new_page()
        page.set_default_timeout(20_000)
        page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
        page.goto("/")
        _log_in(page, email, Factory.PASSWORD)
        page.goto("/admin/")
        page.get_by_role("link", name="Hệ thống đối tác (liên thông hồ sơ)").click()
        expect(page.get_by_role("heading", name="Hệ thống đối tác (liên thông hồ sơ)")).to_be_visible()
        page.get_by_label("Mã đối tác (keyid của chữ ký)").fill("DVCQG")
        page.get_by_label("Tên hệ thống").fill("Cổng Dịch vụ công quốc gia")
        page.get_by_label("Tên kênh in trên giấy biên nhận, thư và trang hồ sơ").fill("Cổng DVC quốc gia")
        page.get_by_role("button", name="Thêm và tạo khóa").click()
        key = page.locator("#partner-key-value").inner_text().strip()
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", key)
        expect(page.locator("#partners")).to_contain_text("DVCQG")
        page.screenshot(path=str(tmp_path / "partners.png"), full_page=True)
        # the key works at once for a signed filing, and is not shown again
        with app.app_context():
            portal = PortalSimulator("DVCQG", key, target=base)
            answer = portal.file(dossier(Factory()), [PHOTO])
            db.session.remove()
        assert answer.status == 201, answer.body
        page.reload()
        expect(page.locator("#partner-key-value")).to_have_count(0)
        # a mistake in the mapping is explained on the form
        page.get_by_role("link", name="DVCQG").click()
        page.get_by_label(re.compile("Ánh xạ trường")).fill('{"maHoSo": "nominee.khong_co"}')
        page.get_by_role("button", name="Lưu").click()
        expect(page.locator("#field_mapping-error")).to_contain_text("nominee.khong_co")
    assert problems == []
