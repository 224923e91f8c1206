"""Acceptance 4 of issue 18 in a real browser: a programme defined only in test data (PROGRAMME_DIRS:
tests/data/programmes/village-crafts) runs from draft to decision through pages alone.  The administrator
opens its round, an applicant files a dossier with the form generated from the definition (a wrong figure
first), adds evidence and submits it; the public lookup finds it by code and key; the province's officer
finds it in the inbox, takes it in, screens it and records the provincial council's ballot; the ministry
records its appraisal.  Every page on the way is checked with axe and for sideways scrolling at 360 px."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site
from tests.test_a11y import axe_violations
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, _log_in, _log_out, _png, shots  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

TEST_PROGRAMMES = Path(__file__).resolve().parent / "data" / "programmes"
ROUND_NAME = "Làng nghề năm thử nghiệm"


@pytest.fixture
def world(app_config):
    def build(app):
        app.config["TODAY"] = None
        make = Factory()
        people = {"admin": make.user("admin").email, "applicant": make.user("applicant").email,
                  "officer": make.user("province_officer", "HNI").email,
                  "ministry": make.user("ministry_officer").email}
        return people

    config = {**app_config, "WTF_CSRF_ENABLED": True, "PROGRAMME_DIRS": [str(TEST_PROGRAMMES)]}
    with live_site(config, build) as (url, app, built):
        yield {"url": url, "app": app, **built}


def _check_360(page, problems: list, name: str) -> None:
    page.set_viewport_size(PHONE)
    found = axe_violations(page)
    if found:
        problems.append((name, found))
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append((name, f"{width} px wide at 360"))
    page.set_viewport_size(DESKTOP)


def _confirm(page) -> None:
    expect(page.get_by_test_id("consequences")).to_be_visible()
    page.get_by_test_id("confirm-button").click()


def test_a_programme_defined_in_test_data_runs_draft_to_decision_in_the_browser(chromium, world, shots):  # noqa: F811
    app, errors, a11y = world["app"], [], []
    opens, closes = today() - timedelta(days=1), today() + timedelta(days=30)
    browser = chromium
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=world["url"], bypass_csp=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("response", lambda r: r.status >= 500 and errors.append(f"{r.status} {r.url}"))

    # the administrator opens the programme's round
    page.goto("/")
    _log_in(page, world["admin"], Factory.PASSWORD)
    page.goto("/admin/rounds")
    page.get_by_role("link", name="Mở đợt của chương trình khác").click()
    page.get_by_label("Chương trình").select_option("village-crafts")
    page.get_by_role("button", name="Chọn chương trình").click()
    expect(page.get_by_label("Số ngày kiểm tra, trả lời hồ sơ")).to_have_value("7")
    _check_360(page, a11y, "round form")
    page.get_by_label("Số thứ tự của đợt").fill("90")
    page.get_by_label("Tên đợt").fill(ROUND_NAME)
    page.get_by_label("Ngày mở tiếp nhận").fill(opens.isoformat())
    page.get_by_label("Ngày đóng tiếp nhận").fill(closes.isoformat())
    page.get_by_role("button", name="Mở đợt", exact=True).click()
    expect(page.get_by_text(f"Đã tạo đợt {ROUND_NAME}")).to_be_visible()
    _log_out(page)

    # the applicant files a dossier with the generated form
    _log_in(page, world["applicant"], Factory.PASSWORD)
    page.goto("/programmes/")
    _check_360(page, a11y, "programmes")
    page.get_by_role("link", name=f"Lập hồ sơ trong {ROUND_NAME}").click()
    page.get_by_label("Tỉnh, thành phố").select_option("HNI")
    page.get_by_label("Tên làng nghề").fill("Làng gốm Bát Tràng")
    page.get_by_label("Nhóm nghề").select_option("gốm sứ")
    page.get_by_label("Số hộ tham gia").fill("nhiều")
    page.get_by_label("Kinh phí đề nghị hỗ trợ (đồng)").fill("500.000.000")
    page.get_by_label("Tóm tắt kế hoạch").fill("Lò nung khí hóa lỏng cho 30 hộ.")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.locator("#f_households-error")).to_have_text("Cần nhập một số nguyên.")
    _check_360(page, a11y, "filing form with an error")
    page.get_by_label("Số hộ tham gia").fill("120")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.get_by_test_id("state")).to_have_text("Hồ sơ đang được soạn")
    page.get_by_label("Loại tài liệu").select_option("photo")
    page.get_by_label("Tệp (ảnh, video, PDF)").set_input_files(
        {"name": "lo-nung.png", "mimeType": "image/png", "buffer": _png()})
    page.get_by_role("button", name="Tải lên").click()
    expect(page.get_by_role("link", name="lo-nung.png")).to_be_visible()
    _check_360(page, a11y, "draft dossier")
    page.get_by_role("button", name="Nộp hồ sơ").click()
    _check_360(page, a11y, "confirmation")
    _confirm(page)
    expect(page.get_by_test_id("state")).to_have_text("Sở Công Thương đang kiểm tra hồ sơ")
    code = page.get_by_test_id("code").inner_text()
    key = page.get_by_test_id("access-key").inner_text()
    shots(page, "programme-dossier-submitted.png")
    _log_out(page)

    # anyone looks it up by code and key
    page.goto("/public/status")
    page.get_by_label("Mã hồ sơ").fill(code)
    page.get_by_label("Mã tra cứu").fill(key)
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_test_id("citizen-label")).to_have_text("Sở Công Thương đang kiểm tra hồ sơ")

    # the province's officer: from the inbox to the provincial council's ballot
    _log_in(page, world["officer"], Factory.PASSWORD)
    page.goto("/province/inbox")
    inbox = page.get_by_test_id("programme-inbox")
    expect(inbox).to_contain_text("Tiếp nhận hồ sơ")
    _check_360(page, a11y, "inbox")
    inbox.get_by_role("link", name="Làng gốm Bát Tràng").click()
    for action in ("Tiếp nhận hồ sơ", "Thẩm tra xong, đưa ra Hội đồng cấp tỉnh"):
        page.get_by_role("button", name=action).click()
        _confirm(page)
    expect(page.get_by_test_id("state")).to_have_text("Chờ Hội đồng cấp tỉnh bỏ phiếu")
    ballot = page.get_by_test_id("decision-province")
    ballot.get_by_label("Số thành viên Hội đồng").fill("5")
    ballot.get_by_label("Số thành viên có mặt").fill("6")
    ballot.get_by_label("Số phiếu đồng ý").fill("3")
    ballot.get_by_role("button", name="Ghi quyết định").click()
    expect(page.locator("#province-present-error")).to_be_visible()
    _check_360(page, a11y, "decision form with an error")
    ballot = page.get_by_test_id("decision-province")
    ballot.get_by_label("Số thành viên có mặt").fill("4")
    ballot.get_by_role("button", name="Ghi quyết định").click()
    _confirm(page)
    expect(page.get_by_test_id("state")).to_have_text("Được tỉnh chọn")
    page.get_by_role("button", name="Gửi Bộ thẩm định").click()
    _confirm(page)
    expect(page.get_by_test_id("state")).to_have_text("Chờ Bộ thẩm định")
    _log_out(page)

    # the ministry appraises and funds
    _log_in(page, world["ministry"], Factory.PASSWORD)
    page.goto("/ministry/nominations")
    page.get_by_test_id("programme-inbox").get_by_role("link", name="Làng gốm Bát Tràng").click()
    appraisal = page.get_by_test_id("decision-ministry")
    appraisal.get_by_label("Số tiền thẩm định (đồng; 0 là không hỗ trợ)").fill("450.000.000")
    appraisal.get_by_label("Ghi chú, lý do").fill("Giảm hạng mục lò")
    appraisal.get_by_role("button", name="Ghi quyết định").click()
    _confirm(page)
    expect(page.get_by_test_id("state")).to_have_text("Được hỗ trợ kinh phí")
    _check_360(page, a11y, "decided dossier")
    shots(page, "programme-dossier-funded.png")
    page.goto("/ministry/dashboard?programme=village-crafts")
    expect(page.get_by_test_id("programme-by-state").locator('tr[data-state="funded"] td').nth(1)) \
        .to_have_text("1")
    _check_360(page, a11y, "dashboard")
    assert errors == []
    assert a11y == [], a11y
    with app.app_context():
        n = db.session.scalars(sa.select(Nomination).where(Nomination.code == code)).one()
        assert (n.programme_id, n.programme_version, n.state, n.stage_reached) == (
            "village-crafts", "2026", "funded", 3)
        assert n.round.name == ROUND_NAME
        log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id)
                                 .order_by(TransitionLog.id)).all()
        assert [r.action for r in log] == ["submit", "accept", "screen", "province_select", "send_to_ministry",
                                           "fund"]
        assert log[3].meta["yes"] == 3 and log[5].meta["amount"] == 450_000_000
        assert log[5].comment == "Giảm hạng mục lò"
        assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", code)
        db.session.remove()
