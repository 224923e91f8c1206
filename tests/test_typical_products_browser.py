"""Issue 18, acceptance 2, in a real browser (Debian's Chromium through Playwright, CSRF on): a product
selection round.  A Hà Nội producer files a product on the engine's form; the province records the commune's
selection and its council's ballot and sends it to the North; the ministry makes the northern panel; three
northern scorers each enter their own sheet; the ministry closes the scoring, sends the product to the nation,
closes the national scoring and issues the regional and national certificates.  A Hồ Chí Minh City product
(the South) was filed, selected at province and scored by the southern panel beforehand through the services,
and holds an expired provincial certificate.  The public register shows the valid certificates and not the
expired one; the PDFs downloaded from it say their number and validity."""

from __future__ import annotations

import io
import unicodedata
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from artisan_awards.extensions import db
from artisan_awards.formatting import vn_date
from artisan_awards.models import Certificate, Nomination
from artisan_awards.services import certificates, programmes, scoring
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site, log_in
from tests.test_a11y import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

PASS = {"members": 7, "present": 7, "yes": 6}
SHEETS = [  # 85, 62 and 90 points: the mean 79 passes the regional mark (70)
    {"market": "17", "production": "12,75", "economy": "8,5", "technique": "8,5", "society": "4,25",
     "environment": "4,25", "culture": "12,75", "aesthetics": "8,5", "other": "8,5"},
    {"market": "12", "production": "9", "economy": "6", "technique": "6", "society": "3", "environment": "3",
     "culture": "10", "aesthetics": "7", "other": "6"},
    {"market": "18", "production": "14", "economy": "9", "technique": "9", "society": "5", "environment": "4",
     "culture": "14", "aesthetics": "9", "other": "8"},
]
TOP = {k: float(v.replace(",", ".")) for k, v in SHEETS[2].items()}


@pytest.fixture
def world(app_config):
    config = {**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False}
    def build(app):
        make = Factory()
        people = {
            "producer": make.user("applicant", full_name="Lê Văn Thợ"),
            "hni": make.user("province_officer", "HNI", full_name="Nguyễn Thu Hà"),
            "hcm": make.user("province_officer", "HCM", full_name="Trần Minh Sơn"),
            "ministry": make.user("ministry_officer", full_name="Phạm Quốc Bộ"),
        }
        north = [make.user("ministry_council_member", full_name=f"Chuyên gia Bắc {n}") for n in "ABC"]
        south = [make.user("ministry_council_member", full_name=f"Chuyên gia Nam {n}") for n in "ABC"]
        nation = [make.user("ministry_council_member", full_name=f"Chuyên gia Quốc gia {n}") for n in "ABC"]
        round_ = make.round(programme_id="typical-products", name="Bình chọn sản phẩm tiêu biểu 2026",
                            intake_opens=today() - timedelta(days=3))
        # the South, beforehand: filed, selected at province, scored by the southern panel
        producer2 = make.user("applicant", full_name="Võ Thị Nón")
        non_la = programmes.create_dossier(producer2, round_.id, "HCM", {
            "product_name": "Nón lá Gò Vấp", "product_group": "Thủ công mỹ nghệ", "producer_name": "Cơ sở Nón lá Bà Ba",
            "producer_kind": "Hộ gia đình, cá nhân", "producer_address": "Phường Gò Vấp", "commune": "Gò Vấp",
            "description": "Nón lá chằm tay."})
        programmes.perform(non_la, "submit", producer2)
        programmes.perform(non_la, "commune_select", people["hcm"])
        programmes.decide(non_la, "province", PASS, people["hcm"])
        expired = certificates.issue_certificate(non_la, "province", people["hcm"],
                                                 issued_on=today() - timedelta(days=4 * 366))
        programmes.perform(non_la, "send_to_region", people["hcm"])
        for person in south:
            scoring.assign_scorer(people["ministry"], round_.id, "region", person.id, "south")
            scoring.save_sheet(person, non_la, "region", TOP)
        scoring.close(people["ministry"], non_la, "region")
        south_region = certificates.issue_certificate(non_la, "region", people["ministry"])
        for person in nation:
            scoring.assign_scorer(people["ministry"], round_.id, "nation", person.id)
        data = {k: u.email for k, u in people.items()}
        data.update(north=[(u.id, u.email) for u in north], nation=[u.id for u in nation], round=round_.id,
                    expired=expired.number, south_region=south_region.number, non_la=non_la.id)
        return data

    with live_site(config, build) as (url, app, built):
        yield app, url, built


def _browser(browser, url):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", base_url=url,
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
    return browser, page, problems


def _log_in(page: Page, email: str) -> None:
    log_in(page, email, Factory.PASSWORD, clear=True)


def _act(page: Page, label: str) -> None:
    """Press a dossier action's button and confirm."""
    page.get_by_role("button", name=label, exact=True).click()
    page.get_by_test_id("confirm-button").click()


def _pdf_text(data: bytes) -> str:
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)
    return " ".join(unicodedata.normalize("NFC", text.replace("\u200b", "")).split())


def test_a_product_selection_round_in_the_browser(chromium, world, tmp_path):
    app, url, data = world
    rid = data["round"]
    browser, page, problems = _browser(chromium, url)

    # the producer files the product and submits it
    _log_in(page, data["producer"])
    page.goto(f"/programmes/typical-products/rounds/{rid}/new")
    page.get_by_label("Tỉnh, thành phố").select_option("HNI")
    page.get_by_label("Tên sản phẩm").fill("Gốm men lam Bát Tràng")
    page.get_by_label("Nhóm sản phẩm").select_option("Thủ công mỹ nghệ")
    page.get_by_label("Chủ thể sản xuất (hộ, hợp tác xã, doanh nghiệp)").fill("Hợp tác xã Gốm Bát Tràng")
    page.get_by_label("Loại chủ thể").select_option("Hợp tác xã")
    page.get_by_label("Địa chỉ cơ sở sản xuất").fill("Thôn 3, xã Bát Tràng")
    page.get_by_label("Xã, phường nơi sản xuất").fill("Bát Tràng")
    page.get_by_label("Mô tả sản phẩm, nguyên liệu, quy trình").fill("Gốm men lam vẽ tay, nung lò ga.")
    page.get_by_label("Sản lượng hằng năm (sản phẩm)").fill("12000")
    page.get_by_label("Doanh thu năm gần nhất (đồng)").fill("3.500.000.000")
    page.get_by_role("button", name="Lưu bản nháp").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gốm men lam Bát Tràng")
    dossier = int(page.url.rstrip("/").split("/")[-1])
    _act(page, "Nộp hồ sơ")
    expect(page.get_by_test_id("state")).to_have_text("Đang được bình chọn cấp xã")

    # the province: the commune's selection, the council's ballot, to the region
    _log_in(page, data["hni"])
    page.goto(f"/programme-dossiers/{dossier}")
    _act(page, "Ghi nhận: cấp xã chọn, đưa ra Hội đồng cấp tỉnh")
    expect(page.get_by_test_id("state")).to_have_text("Chờ Hội đồng cấp tỉnh bình chọn")
    decision = page.get_by_test_id("decision-province")
    decision.get_by_label("Số thành viên Hội đồng").fill("7")
    decision.get_by_label("Số thành viên có mặt").fill("7")
    decision.get_by_label("Số phiếu đồng ý").fill("6")
    decision.get_by_role("button", name="Ghi quyết định").click()
    page.get_by_test_id("confirm-button").click()
    expect(page.get_by_test_id("state")).to_have_text("Được tỉnh chọn")
    _act(page, "Gửi lên cấp khu vực")
    expect(page.get_by_test_id("state")).to_have_text("Đang chấm điểm cấp khu vực")

    # the ministry makes the northern panel
    _log_in(page, data["ministry"])
    page.goto(f"/programme-rounds/{rid}/levels/region")
    for user_id, _email in data["north"]:
        page.get_by_label("Thành viên hội đồng").select_option(str(user_id))
        page.get_by_label("Khu vực").select_option("north")
        page.get_by_role("button", name="Thêm người chấm").click()
        expect(page.locator(".flash-success")).to_contain_text("Đã thêm người chấm điểm")
    expect(page.get_by_role("heading", name="Miền Bắc")).to_be_visible()

    # three northern scorers, each his own sheet (one first types a figure off the scale)
    for i, (_user_id, email) in enumerate(data["north"]):
        _log_in(page, email)
        page.get_by_role("link", name="Phiếu chấm điểm").first.click()
        expect(page.locator("#queue")).not_to_contain_text("Nón lá Gò Vấp")  # the South is not his
        page.get_by_role("link", name="Chấm điểm Gốm men lam Bát Tràng").click()
        sheet = SHEETS[i]
        for criterion, points in sheet.items():
            page.locator(f"#{criterion}").fill("25" if (i == 0 and criterion == "market") else points)
        page.get_by_role("button", name="Lưu phiếu chấm").click()
        if i == 0:
            expect(page.locator("#market-error")).to_have_text("Điểm nằm ngoài thang điểm của tiêu chí.")
            page.locator("#market").fill(sheet["market"])
            page.get_by_role("button", name="Lưu phiếu chấm").click()
        expect(page.locator(".flash-success")).to_contain_text("Đã lưu phiếu chấm")
        expect(page.locator("#my-total")).to_contain_text(["85", "62", "90"][i])

    # the ministry closes the regional scoring: the stored sheets decide
    _log_in(page, data["ministry"])
    page.goto(f"/programme-dossiers/{dossier}")
    page.get_by_test_id("product-links").get_by_role("link", name="Chấm điểm Cấp khu vực").click()
    expect(page.locator("#handed-in")).to_contain_text("3 / 3")
    page.get_by_role("button", name="Kết thúc chấm điểm").click()
    page.get_by_test_id("confirm-button").click()
    expect(page.locator("#outcome")).to_contain_text("Điểm trung bình 79")
    expect(page.locator("#outcome")).to_contain_text("đạt")
    page.goto(f"/programme-rounds/{rid}/levels/region")
    rows = page.locator("#ranking tbody tr")
    expect(rows.nth(0)).to_contain_text("Nón lá Gò Vấp")  # 90
    expect(rows.nth(1)).to_contain_text("Gốm men lam Bát Tràng")  # 79
    page.goto(f"/programme-dossiers/{dossier}")
    _act(page, "Gửi lên cấp quốc gia")
    expect(page.get_by_test_id("state")).to_have_text("Đang chấm điểm cấp quốc gia")

    # the national panel's sheets (the sheet page is played above for the region)
    with app.app_context():
        n = db.session.get(Nomination, dossier)
        from artisan_awards.models import User

        for user_id in data["nation"]:
            scoring.save_sheet(db.session.get(User, user_id), n, "nation", TOP)
        db.session.remove()

    browser, page, problems2 = _browser(chromium, url)
    _log_in(page, data["ministry"])
    page.goto(f"/programme-dossiers/{dossier}/levels/nation/scoring")
    page.get_by_role("button", name="Kết thúc chấm điểm").click()
    page.get_by_test_id("confirm-button").click()
    expect(page.locator("#outcome")).to_contain_text("Điểm trung bình 90")

    # the certificates of the region and the nation
    page.goto(f"/programme-dossiers/{dossier}/certificates")
    for level in ("region", "nation"):
        page.get_by_label("Cấp", exact=True).select_option(level)
        page.get_by_role("button", name="Cấp giấy chứng nhận").click()
        expect(page.locator(".flash-success")).to_contain_text("Đã cấp giấy chứng nhận số")
    expect(page.locator("#certificates tbody tr")).to_have_count(2)
    page.screenshot(path=str(tmp_path / "certificates.png"), full_page=True)

    # the public register, signed out: the valid ones, highest level first, not the expired one
    page.context.clear_cookies()
    page.goto("/")
    page.get_by_role("link", name="Sản phẩm tiêu biểu").first.click()
    with app.app_context():
        numbers = {c.level: c.number for c in db.session.scalars(
            sa.select(Certificate).where(Certificate.nomination_id == dossier))}
        db.session.remove()
    assert set(numbers) == {"region", "nation"}
    rows = page.locator("#register tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(numbers["nation"])
    expect(rows.nth(0)).to_contain_text("Cấp quốc gia")
    expect(page.locator("#register")).to_contain_text(numbers["region"])
    expect(page.locator("#register")).to_contain_text(data["south_region"])
    expect(page.locator("#register")).not_to_contain_text(data["expired"])
    page.screenshot(path=str(tmp_path / "register.png"), full_page=True)
    # its number typed in: the register says why it is not listed
    page.get_by_label("Tên sản phẩm, chủ thể hoặc số giấy chứng nhận").fill(data["expired"])
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("#lookup")).to_contain_text("đã hết hiệu lực")
    # the national certificate's PDF, downloaded from the register, read back
    page.goto("/public/certificates")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Tải giấy chứng nhận {numbers['nation']}").click()
    text = _pdf_text(open(download.value.path(), "rb").read())
    assert numbers["nation"] in text and "Gốm men lam Bát Tràng" in text and "Hợp tác xã Gốm Bát Tràng" in text
    assert "Sản phẩm công nghiệp nông thôn tiêu biểu cấp quốc gia" in text
    assert f"Ngày cấp: {vn_date(today())}" in text
    last_day = vn_date(today().replace(year=today().year + 3) - timedelta(days=1))
    assert f"Có giá trị đến hết ngày: {last_day}" in text

    # the pages at a phone's width: axe-core finds no serious violation, nothing scrolls sideways
    phone = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN", base_url=url,
                                bypass_csp=True)  # axe is injected
    page = phone.new_page()
    found: dict[str, list] = {}
    views = [(None, ["/public/certificates", f"/public/certificates?q={data['expired']}"]),
             (data["ministry"], [f"/programme-dossiers/{dossier}/certificates",
                                 f"/programme-dossiers/{dossier}/levels/region/scoring",
                                 f"/programme-rounds/{rid}/levels/region"]),
             (data["north"][0][1], ["/scoring", f"/programme-dossiers/{dossier}/levels/region/sheet"])]
    for who, paths in views:
        if who:
            _log_in(page, who)
        for path in paths:
            page.goto(path)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            violations = axe_violations(page)
            if violations or width > 360:
                found[path] = [width, violations]
    phone.close()
    assert found == {}
    assert problems == [] and problems2 == []
