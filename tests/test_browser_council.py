"""A real browser runs a whole council session: agenda, attendance, ballots, close, tally."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from artisan_awards.schemas import CouncilIn
from artisan_awards.services import councils
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, _log_in, _log_out, shots  # noqa: F401
from workflows.states import State

pytestmark = pytest.mark.browser
MEMBERS = ["Nguyễn Văn Chủ", "Trần Thị Phó", "Lê Văn Ủy", "Phạm Thị Viên"]


@pytest.fixture
def council_server(app_config):
    def build(app):
        make = Factory()
        round_ = make.round(name="Xét tặng lần thứ 7")
        officer = make.user("province_officer", "HNI", full_name="Lê Minh Châu")
        members = [make.user("province_council_member", "HNI", full_name=name) for name in MEMBERS]
        nominee = make.nomination(State.ACCEPTED, officer=officer, round_id=round_.id,
                                  nominee={"full_name": "Đỗ Thị Mận"}, craft="Mây tre đan Phú Vinh")
        council = councils.create_council(officer, CouncilIn.model_validate({
            "level": "province", "province_code": "HNI", "round_id": round_.id,
            "name": "Hội đồng cấp tỉnh thành phố Hà Nội", "decision_no": "3307/QĐ-UBND",
            "members": [{"email": m.email, "position": "chair" if i == 0 else "member"}
                        for i, m in enumerate(members)],
        }))
        data = {"officer": officer.email, "members": [m.email for m in members],
                "council_id": council.id, "nomination_id": nominee.id}
        return data

    with live_site({**app_config, "WTF_CSRF_ENABLED": True}, build) as (url, app, built):
        yield {"url": url, **built}


def test_full_council_session_in_the_browser(chromium, council_server, shots):  # noqa: F811
    base = council_server["url"]
    problems: list[str] = []
    browser = chromium

    def new_page(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, locale="vi-VN", base_url=base)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
        page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
        page.goto("/")
        return page

    # The secretariat plans the session, takes attendance and opens the vote.
    officer = new_page()
    _log_in(officer, council_server["officer"], Factory.PASSWORD)
    officer.goto(f"/council/councils/{council_server['council_id']}")
    expect(officer.get_by_role("heading", name="Hội đồng cấp tỉnh thành phố Hà Nội")).to_be_visible()
    officer.get_by_label("Ngày họp").fill((today() + timedelta(days=12)).isoformat())
    officer.get_by_label("Địa điểm").fill("Trụ sở UBND thành phố Hà Nội")
    expect(officer.get_by_label("Đỗ Thị Mận", exact=False)).not_to_be_checked()  # chosen, not pre-ticked
    officer.get_by_label("Đỗ Thị Mận", exact=False).check()
    officer.get_by_role("button", name="Lập phiên họp").click()
    expect(officer.get_by_text("Đã lập phiên họp.")).to_be_visible()
    for name in MEMBERS:
        officer.get_by_label(name, exact=False).check()
    officer.get_by_role("button", name="Ghi nhận điểm danh").click()
    expect(officer.get_by_text("4 thành viên có mặt", exact=False).first).to_be_visible()
    officer.get_by_role("button", name="Mở bỏ phiếu").click()
    expect(officer.get_by_test_id("consequences")).to_be_visible()
    officer.get_by_test_id("confirm-button").click()
    expect(officer.get_by_test_id("session-status")).to_have_text("Đang bỏ phiếu")
    session_url = officer.url
    shots(officer, "council-session-open.png")

    # Each member votes on a phone-sized page.
    for i, email in enumerate(council_server["members"]):
        member = new_page(PHONE)
        _log_in(member, email, Factory.PASSWORD)
        member.goto(session_url)
        member.get_by_role("link", name="Bỏ phiếu").click()
        expect(member.get_by_role("heading", name="PHIẾU BẦU")).to_be_visible()
        if i == 0:
            shots(member, "ballot-360.png")
        member.get_by_label("Đồng ý", exact=True).check()
        member.get_by_role("button", name="Gửi phiếu bầu").click()
        expect(member.get_by_text("Phiếu bầu của bạn đã được ghi nhận.", exact=False)).to_be_visible()
        member.goto(session_url.replace(base, "") + "/ballot")
        expect(member.get_by_text("đã bỏ phiếu ở phiên họp này", exact=False)).to_be_visible()
        member.context.close()

    officer.reload()
    expect(officer.get_by_test_id("ballots-cast")).to_contain_text("4/4")
    expect(officer.get_by_test_id("tally")).to_have_count(0)  # secret until closed
    officer.get_by_role("button", name="Kết thúc bỏ phiếu và kiểm phiếu").click()
    officer.get_by_test_id("confirm-button").click()
    tally = officer.get_by_test_id("tally")
    expect(tally).to_contain_text("Đỗ Thị Mận")
    expect(tally.locator("tbody tr td").nth(1)).to_have_text("4")
    expect(tally).to_contain_text("Được đề nghị")
    shots(officer, "council-tally.png")
    officer.goto(f"/nominations/{council_server['nomination_id']}")
    expect(officer.locator(".status-box .badge").first).to_have_text("Hội đồng cấp tỉnh đề nghị")
    _log_out(officer)
    assert problems == []
