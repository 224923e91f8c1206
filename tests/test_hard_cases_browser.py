"""Issue 14 in a real browser (Debian's Chromium through Playwright, CSRF on): what a person does on the
dossier page in the law's hard cases — the province officer records a nominee's death with the death
certificate, records the day a paper dossier arrived with its receipt-book number, is refused an early
close of a returned dossier; the council's chair records that a craft is special."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image
from playwright.sync_api import Page, expect

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, SpecialCraftDecision
from artisan_awards.schemas import CouncilIn, SessionIn
from artisan_awards.services import councils
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site, log_in
from workflows.states import Action, State

pytestmark = [pytest.mark.browser, pytest.mark.realdb]


@pytest.fixture
def world(app_config):
    config = {**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False}
    def build(app):
        make = Factory()
        officer = make.user("province_officer", "HNI", full_name="Lê Minh Châu")
        applicant = make.user("applicant")
        submitted = make.nomination(State.SUBMITTED, owner=applicant, nominee={"full_name": "Vũ Văn Tiện"})
        returned = make.nomination(State.RETURNED, owner=applicant, officer=officer,
                                   nominee={"full_name": "Hà Thị Bổsung"})
        paper = make.nomination(State.DRAFT, owner=officer, nominee={"full_name": "Ngô Văn Hồsơgiấy"})
        service.perform(paper, Action.SUBMIT, officer)
        special = make.nomination(State.ACCEPTED, owner=applicant, officer=officer, special_craft=True,
                                  special_craft_rationale="Nghề khảm trai cổ", learners_trained=40,
                                  nominee={"full_name": "Đinh Thị Khảmtrai"})
        members = [make.user("province_council_member", "HNI", full_name=f"Thành viên {i}") for i in range(4)]
        council = councils.create_council(officer, CouncilIn.model_validate({
            "level": "province", "province_code": "HNI", "round_id": special.round_id,
            "name": "Hội đồng xét tặng tỉnh Hà Nội", "decision_no": "12/QĐ-UBND",
            "decision_date": (today() - timedelta(days=5)).isoformat(),
            "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                        for i, u in enumerate(members)]}))
        session = councils.create_session(officer, council, SessionIn.model_validate(
            {"held_on": today().isoformat(), "nomination_ids": [special.id]}))
        councils.set_attendance(officer, session, [u.email for u in members])
        councils.open_session(officer, session)
        data = {"officer": officer.email, "chair": members[0].email, "submitted": submitted.id,
                "returned": returned.id, "paper": paper.id, "special": special.id,
                "due": returned.completion_due()}
        return data

    with live_site(config, build) as (url, app, built):
        yield app, url, built


def _page(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", base_url=url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    return page, problems


def _log_in(page: Page, email: str) -> None:
    log_in(page, email, Factory.PASSWORD)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 200, 190)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_officer_records_a_death_and_the_dossier_goes_on_posthumously(chromium, world, tmp_path):
    app, url, data = world
    page, problems = _page(chromium, url)
    _log_in(page, data["officer"])
    page.goto(f"/nominations/{data['submitted']}")
    page.get_by_text("Ghi nhận nghệ nhân đã mất").click()
    page.get_by_label("Ngày mất").fill((today() - timedelta(days=2)).isoformat())
    page.get_by_label("Giấy chứng tử hoặc giấy báo tử").set_input_files(
        files=[{"name": "giay-chung-tu.jpg", "mimeType": "image/jpeg", "buffer": _jpeg()}])
    page.get_by_label("Họ tên người đại diện gia đình").fill("Vũ Thị Hạnh")
    page.get_by_label("Quan hệ với nghệ nhân").select_option("child")
    page.get_by_label("Điện thoại của gia đình").fill("0987 654 321")
    page.get_by_role("button", name="Ghi nhận và chuyển sang truy tặng").click()
    expect(page.locator(".flash-success")).to_contain_text("đề nghị truy tặng")
    expect(page.locator("#death-record")).to_contain_text("Nghệ nhân mất ngày")
    expect(page.locator(".page-head")).to_contain_text("truy tặng")
    expect(page.locator("#hard-cases")).to_contain_text("Vũ Thị Hạnh (Con) · 0987 654 321")
    page.screenshot(path=str(tmp_path / "death.png"), full_page=True)
    page.goto("/province/inbox")
    expect(page.get_by_role("row", name="Vũ Văn Tiện")).to_contain_text("truy tặng")
    assert problems == []
    with app.app_context():
        n = db.session.get(Nomination, data["submitted"])
        assert n.posthumous and n.filed_by_name == "Vũ Thị Hạnh" and n.family_contact_phone == "0987 654 321"


def test_officer_records_the_paper_arrival_date(chromium, world):
    app, url, data = world
    arrived = today() - timedelta(days=4)
    page, problems = _page(chromium, url)
    _log_in(page, data["officer"])
    page.goto(f"/nominations/{data['paper']}")
    page.get_by_label("Ngày hồ sơ đến Sở").fill(arrived.isoformat())
    page.get_by_label("Số vào sổ tiếp nhận").fill("STN-2026/041")
    page.get_by_role("button", name="Ghi ngày đến").click()
    expect(page.locator(".flash-success")).to_have_text("Đã ghi ngày hồ sơ đến Sở.")
    expect(page.locator("#arrival-record")).to_contain_text("STN-2026/041")
    expect(page.locator("#arrival-record")).to_contain_text(arrived.strftime("%d/%m/%Y"))
    # a date after the day it was typed in is refused with a clear message
    page.get_by_text("Ghi ngày hồ sơ giấy đến Sở").click()
    page.get_by_label("Ngày hồ sơ đến Sở").fill((today() + timedelta(days=3)).isoformat())
    page.get_by_label("Số vào sổ tiếp nhận").fill("STN-2026/042")
    page.get_by_role("button", name="Ghi ngày đến").click()
    expect(page.locator(".flash-error", has_text="không thể sau ngày nhập vào hệ thống")).to_be_visible()
    assert problems == []
    with app.app_context():
        n = db.session.get(Nomination, data["paper"])
        assert n.arrived_on == arrived and n.receipt_book_no == "STN-2026/041"
        assert n.reply_due() == arrived + timedelta(days=n.round.reply_days)


def test_early_close_is_refused_on_the_page(chromium, world):
    app, url, data = world
    page, problems = _page(chromium, url)
    _log_in(page, data["officer"])
    page.goto(f"/nominations/{data['returned']}")
    expect(page.locator("#completion-note")).to_contain_text(data["due"].strftime("%d/%m/%Y"))
    expect(page.locator('button[data-action="close_incomplete"]')).to_have_count(0)
    # a page opened before (or a crafted form) still posts the close: the server refuses it
    page.evaluate("""() => {
        const form = document.getElementById('action-form') || document.querySelector('form[method=post]');
        const button = document.createElement('button');
        button.type = 'submit';
        button.formAction = location.pathname + '/actions/close_incomplete';
        button.id = 'stale-close';
        form.appendChild(button);
    }""")
    page.locator("#stale-close").click()
    expect(page.locator(".flash-error", has_text="Chưa hết thời hạn bổ sung")).to_be_visible()
    page.goto("/province/inbox?completion=waiting")
    expect(page.get_by_role("row", name="Hà Thị Bổsung")).to_be_visible()
    assert problems == []
    with app.app_context():
        assert db.session.get(Nomination, data["returned"]).state == State.RETURNED


def test_the_chair_records_that_the_craft_is_special(chromium, world, tmp_path):
    app, url, data = world
    page, problems = _page(chromium, url)
    _log_in(page, data["officer"])  # the secretariat alone cannot decide it
    page.goto(f"/nominations/{data['special']}")
    expect(page.locator("#special-craft-panel")).to_have_count(0)
    page.get_by_role("button", name="Đăng xuất").click()
    _log_in(page, data["chair"])
    page.goto(f"/nominations/{data['special']}")
    panel = page.locator("#special-craft-panel")
    panel.screenshot(path=str(tmp_path / "special-form.png"))
    panel.get_by_label("Là nghề đặc thù").check()
    panel.get_by_label("Lý do của Hội đồng").fill("Nghề có nguy cơ thất truyền, đào tạo trên 5 năm")
    panel.get_by_role("button", name="Ghi quyết định").click()
    expect(page.locator(".flash-success")).to_contain_text("nghề đặc thù")
    expect(page.locator("#special-craft-decision")).to_contain_text("thất truyền")
    expect(page.locator(".eligibility")).to_contain_text("đã quyết định đây là nghề đặc thù")
    page.screenshot(path=str(tmp_path / "special.png"), full_page=True)
    assert problems == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SpecialCraftDecision)) == 1
