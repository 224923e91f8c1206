"""Issue 14 in a real browser: the successor province's secretariat transfers a dossier filed with a
merged province; the administrator edits the holiday calendar; a province sets its own intake date."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from artisan_awards.audit_chain import check
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, Province, ProvinceIntake, PublicHoliday, TransitionLog
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _log_in, shots  # noqa: F401
from workflows.states import State

pytestmark = [pytest.mark.browser, pytest.mark.realdb]


@pytest.fixture
def merged_world(app_config):
    def build(app):
        make = Factory()
        round_ = make.current_round()
        hdg = db.session.get(Province, "HDG")
        hdg.active, hdg.merged_on = True, today() + timedelta(days=30)  # before the merger
        db.session.commit()
        n = make.nomination(State.DRAFT, province="HDG", nominee={"full_name": "Phạm Thị Gốm"})
        service.perform(n, "submit", n.owner)
        service.perform(n, "accept", make.user("province_officer", "HDG"), comment="Hợp lệ")
        hdg = db.session.get(Province, "HDG")
        hdg.active, hdg.merged_on = False, today() - timedelta(days=1)  # the merger takes effect
        db.session.commit()
        data = {"id": n.id, "code": n.code, "round": round_.id,
                "officer": make.user("province_officer", "HPG", full_name="Đỗ Văn Hải").email,
                "admin": make.user("admin").email}
        return data

    with live_site({**app_config, "WTF_CSRF_ENABLED": True, "TODAY": None}, build) as (url, app, built):
        yield {"url": url, "app": app, **built}


def test_a_secretariat_transfers_a_merged_provinces_dossier(chromium, merged_world, shots):  # noqa: F811
    w = merged_world
    browser = chromium
    page = browser.new_page(viewport=DESKTOP, locale="vi-VN", base_url=w["url"])
    page.set_default_timeout(15_000)
    problems = []
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    page.goto("/")
    _log_in(page, w["officer"], Factory.PASSWORD)
    page.goto("/admin/")
    page.get_by_role("link", name="Chuyển hồ sơ tỉnh hợp nhất").click()
    waiting = page.locator("#waiting")
    expect(waiting).to_contain_text(w["code"])
    expect(waiting).to_contain_text("Hải Dương")
    expect(waiting).to_contain_text("Hải Phòng")
    shots(page, "law-transfers.png")
    page.get_by_label("Căn cứ, lý do").fill("Nghị quyết 202/2025/QH15; công văn bàn giao hồ sơ của Sở")
    page.get_by_role("button", name="Chuyển").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Đã chuyển hồ sơ {w['code']} sang Hải Phòng")
    expect(page.locator("#waiting")).to_contain_text("Không có hồ sơ nào chờ chuyển.")
    done = page.locator("#done")
    expect(done).to_contain_text("nộp tại Hải Dương")
    done.get_by_role("link", name=w["code"]).click()
    expect(page.get_by_text("nộp tại Hải Dương").first).to_be_visible()
    expect(page.get_by_text("Chuyển sang tỉnh, thành phố hợp nhất").first).to_be_visible()
    shots(page, "law-transferred-dossier.png")
    page.goto("/province/inbox")
    expect(page.locator("table")).to_contain_text("Phạm Thị Gốm")
    assert problems == []
    with w["app"].app_context():
        n = db.session.get(Nomination, w["id"])
        assert (n.province_code, n.filed_province_code, n.code, n.state) == ("HPG", "HDG", w["code"],
                                                                            State.ACCEPTED)
        actions = db.session.scalars(sa.select(TransitionLog.action).where(TransitionLog.nomination_id == n.id)
                                     .order_by(TransitionLog.id)).all()
        assert actions == ["submit", "accept", "transfer_province"]
        with db.engine.connect() as conn:
            assert check(conn).ok
        db.session.remove()


def test_the_administrator_keeps_the_calendar_and_a_province_its_date(chromium, merged_world, shots):  # noqa: F811
    w = merged_world
    closes = today() + timedelta(days=2)
    browser = chromium
    page = browser.new_page(viewport=DESKTOP, locale="vi-VN", base_url=w["url"])
    page.set_default_timeout(15_000)
    page.goto("/")
    _log_in(page, w["admin"], Factory.PASSWORD)
    page.goto("/admin/")
    page.get_by_role("link", name="Lịch ngày nghỉ lễ, Tết").click()
    page.goto("/admin/holidays?year=2026")
    expect(page.locator("#holidays")).to_contain_text("Tết Nguyên đán (mùng 1)")
    page.get_by_label("Ngày", exact=True).fill("2026-11-24")
    page.get_by_label("Tên", exact=True).fill("Ngày Văn hóa Việt Nam")
    page.get_by_label("Căn cứ", exact=True).fill("Thông báo thử nghiệm")
    page.get_by_role("button", name="Lưu").click()
    expect(page.locator(".flash-success")).to_contain_text("24/11/2026")
    expect(page.locator("#holidays")).to_contain_text("Ngày Văn hóa Việt Nam")
    shots(page, "law-holidays.png")
    page.goto(f"/admin/rounds/{w['round']}/intake")
    page.get_by_label("Hạn mới").nth(0).fill(closes.isoformat())
    page.get_by_role("button", name="Lưu").nth(0).click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu hạn tiếp nhận.")
    expect(page.locator("#intakes")).to_contain_text(closes.strftime("%d/%m/%Y"))
    shots(page, "law-intake.png")
    with w["app"].app_context():
        from datetime import date
        assert db.session.get(PublicHoliday, date(2026, 11, 24)).name == "Ngày Văn hóa Việt Nam"
        rows = db.session.scalars(sa.select(ProvinceIntake)).all()
        assert [r.intake_closes for r in rows] == [closes]
        db.session.remove()
