"""Issue 18 acceptance 3 in a real browser: the department opens a scheme year; two provincial khuyến công centres
and a ministry unit propose schemes with budget lines; the department appraises them; the appraisal list puts the
scheme whose product holds a valid national certificate first among equal scores, explained; the plan's totals
by locality and content area (checked by hand) are approved; one scheme is reported, inspected, accepted and
settled."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.models.certificates import Certificate
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site, new_context
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _log_in, shots  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

VALID_UNTIL = today() + timedelta(days=200)


@pytest.fixture
def scheme_world(app_config):
    def build(app):
        make = Factory()
        people = {"mo": make.user("ministry_officer", full_name="Lê Văn Cục"),
                  "hni": make.user("applicant", full_name="Trung tâm Khuyến công Hà Nội"),
                  "hpg": make.user("applicant", full_name="Trung tâm Khuyến công Hải Phòng"),
                  "unit": make.user("applicant", full_name="Trung tâm Khuyến công và Tư vấn PTCN II")}
        holder = make.nomination()
        db.session.add(Certificate(number="SPTB-QG-2025-000007", programme_id="typical-products",
                                   nomination_id=holder.id, level="nation", holder_name="HTX Gốm Bát Tràng",
                                   product_name="Bình gốm men lam", province_code="HNI",
                                   issued_on=today() - timedelta(days=100), valid_until=VALID_UNTIL))
        db.session.commit()
        emails = {k: u.email for k, u in people.items()}
        return emails

    with live_site({**app_config, "WTF_CSRF_ENABLED": True, "TODAY": None}, build) as (url, app, built):
        yield {"url": url, "app": app, "emails": built}


def _page(browser, w, who):
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=w["url"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("response", lambda r: r.status >= 500 and w["problems"].append(f"{r.status} {r.url}"))
    page.goto("/")
    _log_in(page, w["emails"][who], Factory.PASSWORD)
    return page


def _propose(page, year_url, title, area, province, kind, unit, lines, certificate=None):
    page.goto(year_url)
    page.get_by_role("link", name="Đề xuất đề án").click()
    page.get_by_label("Tên đề án").fill(title)
    page.get_by_label("Nội dung khuyến công").select_option(label=area)
    page.get_by_label("Địa điểm thực hiện (tỉnh, thành phố)").select_option(label=province)
    page.get_by_label("Đơn vị đề xuất là").select_option(label=kind)
    page.get_by_label("Tên đơn vị đề xuất").fill(unit)
    page.get_by_label("Đối tượng thụ hưởng").fill("Các cơ sở công nghiệp nông thôn của địa phương")
    if certificate:
        page.get_by_label("Số giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu (nếu có)").fill(certificate)
    for i, (item, state, co) in enumerate(lines):
        page.locator(f"#lines-{i}-item").fill(item)
        page.locator(f"#lines-{i}-state_amount").fill(state)
        page.locator(f"#lines-{i}-cofinancing").fill(co)
    page.get_by_role("button", name="Lưu đề án").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu đề án")
    scheme_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    _move(page, scheme_id, "Gửi đề án")
    expect(page.locator("#scheme-state")).to_have_text("Đã gửi, chờ Cục kiểm tra")
    return scheme_id


def _move(page, scheme_id, button):
    """A plain move: the programmes' generic action with its confirmation, then back to the scheme's page."""
    page.get_by_role("button", name=button).click()
    page.get_by_role("button", name=button).click()  # the confirmation page says where the scheme goes
    expect(page.locator(".flash-success")).to_contain_text(f"Đã thực hiện: {button}")
    page.goto(f"/schemes/{scheme_id}")


def test_a_scheme_year_in_the_browser(chromium, scheme_world, shots):  # noqa: F811
    w = scheme_world
    w["problems"] = []
    browser = chromium
    mo = _page(browser, w, "mo")
    mo.get_by_role("link", name="Đề án khuyến công").first.click()
    mo.get_by_role("link", name="Mở năm kế hoạch").click()
    expect(mo.get_by_label("Nội dung khuyến công của năm (mỗi dòng một nội dung)")).to_contain_text(
        "Xúc tiến thương mại, hội chợ triển lãm")
    mo.get_by_label("Năm kế hoạch").fill("2027")
    mo.get_by_label("Số văn bản hướng dẫn").fill("400/CTĐP-QLKC")
    mo.get_by_label("Ngày văn bản hướng dẫn").fill((today() - timedelta(days=10)).isoformat())
    mo.get_by_label("Bắt đầu đăng ký đề án").fill((today() - timedelta(days=1)).isoformat())
    mo.get_by_label("Hạn đăng ký đề án").fill((today() + timedelta(days=30)).isoformat())
    mo.get_by_role("button", name="Mở năm kế hoạch").click()
    expect(mo.get_by_role("heading", name="Kế hoạch khuyến công quốc gia năm 2027")).to_be_visible()
    expect(mo.locator("#content-areas li")).to_have_count(6)
    year_url = mo.url
    demo, trade = "Xây dựng mô hình trình diễn kỹ thuật, chuyển giao công nghệ mới", \
        "Xúc tiến thương mại, hội chợ triển lãm"

    hpg = _propose(_page(browser, w, "hpg"), year_url, "Dây chuyền chế biến thủy sản", demo, "Hải Phòng",
                   "Trung tâm khuyến công tỉnh", "Trung tâm Khuyến công Hải Phòng",
                   [("Dây chuyền chế biến", "1.000.000.000", "500.000.000")])
    hni_page = _page(browser, w, "hni")
    hni = _propose(hni_page, year_url, "Lò nung gốm tiết kiệm năng lượng", demo, "Hà Nội",
                   "Trung tâm khuyến công tỉnh", "Trung tâm Khuyến công Hà Nội",
                   [("Lò nung tiết kiệm năng lượng", "800.000.000", "400.000.000"),
                    ("Đào tạo vận hành", "200.000.000", "")], certificate="SPTB-QG-2025-000007")
    expect(hni_page.locator("#total-state")).to_have_text("1.000.000.000")
    expect(hni_page.locator("#total-all")).to_have_text("1.400.000.000")
    shots(hni_page, "scheme-proposal.png")
    dng = _propose(_page(browser, w, "unit"), year_url, "Hội chợ hàng công nghiệp nông thôn miền Trung", trade,
                   "Đà Nẵng", "Đơn vị thuộc Bộ", "Trung tâm Khuyến công và Tư vấn PTCN II",
                   [("Hội chợ khu vực miền Trung", "600.000.000", "300.000.000")])

    # the department receives and appraises
    appraisals = ((hpg, "85", "1.000.000.000"), (hni, "85", "900.000.000"), (dng, "90", "500.000.000"))
    for sid, score, amount in appraisals:
        mo.goto(f"/schemes/{sid}")
        _move(mo, sid, "Tiếp nhận, đưa vào thẩm định")
        expect(mo.locator("#scheme-state")).to_have_text("Đang thẩm định")
        mo.get_by_label("Điểm thẩm định (0–100)").fill(score)
        mo.get_by_label("Kinh phí thẩm định đề xuất (đồng; 0 = không hỗ trợ)").fill(amount)
        mo.get_by_label("Nhận xét thẩm định").fill("Phù hợp nội dung khuyến công của năm.")
        mo.get_by_role("button", name="Ghi kết quả thẩm định").click()
        expect(mo.locator("#scheme-state")).to_have_text("Đã thẩm định, chờ phê duyệt kế hoạch")
    mo.goto(year_url)
    rows = mo.locator("#appraisal-list tbody tr")
    expect(rows).to_have_count(3)
    # 90 first; of the two at 85 the certified product's scheme (filed later) before the other
    assert [int(x) for x in rows.evaluate_all("rs => rs.map(r => r.dataset.scheme)")] == [dng, hni, hpg]
    expect(rows.nth(1).locator(".priority")).to_contain_text(
        f"cấp quốc gia số SPTB-QG-2025-000007, còn hiệu lực đến {VALID_UNTIL:%d/%m/%Y}")
    expect(rows.nth(2).locator(".priority")).to_contain_text("không nêu giấy chứng nhận")
    shots(mo, "scheme-appraisal-list.png")

    # the plan: totals by hand, then the ministry's approval
    mo.get_by_role("link", name="Kế hoạch của năm").click()
    by_locality = mo.locator("#by-locality tbody tr")
    expect(by_locality).to_have_text(["Hải Phòng 1 1.000.000.000", "Hà Nội 1 900.000.000",
                                      "Đà Nẵng 1 500.000.000"], use_inner_text=True)
    by_area = mo.locator("#by-area tbody tr")
    expect(by_area).to_have_text([f"{demo} 2 1.900.000.000", f"{trade} 1 500.000.000"], use_inner_text=True)
    expect(mo.locator("#by-locality tfoot")).to_contain_text("2.400.000.000")
    mo.get_by_label("Số quyết định phê duyệt kế hoạch").fill("2285/QĐ-BCT")
    mo.get_by_label("Ngày quyết định").fill(today().isoformat())
    mo.get_by_role("button", name="Ghi nhận phê duyệt").click()
    expect(mo.locator(".flash-success")).to_contain_text("3 đề án")
    expect(mo.locator("#plan-status")).to_contain_text("2285/QĐ-BCT")
    expect(mo.locator("#plan-summary")).to_contain_text("3 đề án, 3 địa phương, 3 đơn vị")
    shots(mo, "scheme-plan.png")
    csv = mo.request.get(f"{w['url']}/schemes/years/{year_url.rsplit('/', 1)[-1]}/plan?format=csv")
    assert csv.status == 200 and "2400000000" in csv.text() and "Tổng cộng" in csv.text()

    # monitoring of the Hà Nội scheme
    hni_page.goto(f"/schemes/{hni}")
    form = hni_page.locator("#record-report")
    form.get_by_label("Ngày").fill(today().isoformat())
    form.get_by_label("Kỳ báo cáo").fill("Quý II/2027")
    form.get_by_label("Tiến độ (%)").fill("60")
    form.get_by_label("Nội dung").fill("Đã lắp đặt lò nung.")
    form.get_by_role("button", name="Báo cáo tiến độ").click()
    expect(hni_page.locator("#records")).to_contain_text("Quý II/2027")
    mo.goto(f"/schemes/{hni}")
    for kind, extra in (("inspection", ("Đoàn kiểm tra", "Đoàn kiểm tra của Cục")),
                        ("acceptance", ("Số biên bản, quyết định", "BB-12/NT")),
                        ("settlement", ("Số biên bản, quyết định", "QĐ-QT-7"))):
        form = mo.locator(f"#record-{kind}")
        form.get_by_label("Ngày").fill(today().isoformat())
        form.get_by_label(extra[0]).fill(extra[1])
        if kind == "settlement":
            form.get_by_label("Số tiền quyết toán (đồng)").fill("950.000.000")  # above the approved amount
            form.get_by_label("Nội dung").fill("Quyết toán theo chứng từ.")
            form.get_by_role("button").click()
            expect(mo.locator(".flash-error")).to_contain_text("không được vượt quá kinh phí được phê duyệt")
            form = mo.locator("#record-settlement")
            form.get_by_label("Ngày").fill(today().isoformat())
            form.get_by_label(extra[0]).fill(extra[1])
            form.get_by_label("Số tiền quyết toán (đồng)").fill("850.000.000")
        form.get_by_label("Nội dung").fill("Đạt yêu cầu.")
        form.get_by_role("button").click()
        expect(mo.locator(".flash-success")).to_be_visible()
    expect(mo.locator("#scheme-state")).to_have_text("Đã quyết toán")
    expect(mo.locator("#records tbody tr")).to_have_count(4)
    expect(mo.locator("#records")).to_contain_text("850.000.000")
    shots(mo, "scheme-settled.png")
    assert w["problems"] == []
    with w["app"].app_context():
        n = db.session.get(Nomination, hni)
        assert n.state == "settled"
        actions = db.session.scalars(sa.select(TransitionLog.action).where(TransitionLog.nomination_id == hni)
                                     .order_by(TransitionLog.id)).all()
        assert actions == ["submit", "accept", "fund", "approve_plan", "report_progress", "inspect", "accept_work",
                           "settle"]
        db.session.remove()


# -- every scheme page checked with axe and at 360 px, in Vietnamese and English ----------------------------------


@pytest.fixture
def scheme_pages(app_config):
    """A year with a proposal from Hà Nội appraised, the plan approved and a progress report on the scheme,
    made through the services (the flow itself is the test above)."""
    from artisan_awards.services import programmes, schemes

    def build(app):
        make = Factory()
        mo = make.user("ministry_officer", full_name="Lê Văn Cục")
        centre = make.user("applicant", full_name="Trung tâm Khuyến công Hà Nội")
        year = schemes.open_year(mo, {
            "plan_year": 2028, "guidance_number": "400/CTĐP-QLKC", "guidance_date": today().isoformat(),
            "guidance_text": "Hướng dẫn xây dựng kế hoạch khuyến công quốc gia năm 2028.",
            "intake_opens": (today() - timedelta(days=5)).isoformat(),
            "intake_closes": (today() + timedelta(days=30)).isoformat()})
        scheme = schemes.propose(centre, year, {
            "province_code": "HNI", "title": "Hỗ trợ lò nung tiết kiệm năng lượng cho làng gốm",
            "content_area": year.content_areas[1], "proposer_kind": "Trung tâm khuyến công tỉnh",
            "proposer_name": "Trung tâm Khuyến công Hà Nội", "beneficiaries": "Các cơ sở gốm của làng",
            "beneficiary_count": 12},
            [{"item": "Lò nung tiết kiệm năng lượng", "state_amount": 800_000_000, "cofinancing": 400_000_000},
             {"item": "Đào tạo vận hành", "state_amount": 200_000_000, "cofinancing": 0}])
        programmes.perform(scheme, "submit", centre)
        programmes.perform(scheme, "accept", mo)
        schemes.appraise(mo, scheme, {"score": 85, "amount": 900_000_000, "comment": "Phù hợp định hướng."})
        schemes.approve_plan(mo, year, {"decision_number": "2285/QĐ-BCT", "decision_date": today().isoformat()})
        schemes.add_record(centre, scheme, "report", {"on_date": today().isoformat(), "period": "Quý 1",
                                                      "progress_percent": "40", "text": "Đã lắp đặt lò."})
        out = {"mo": mo.email, "centre": centre.email, "year": year.round_id, "scheme": scheme.id}
        return out

    with live_site({**app_config, "WTF_CSRF_ENABLED": True, "TODAY": None}, build) as (url, app, built):
        yield {"url": url, "app": app, **built}


def test_the_scheme_pages_pass_axe_and_fit_360_px_in_vietnamese_and_english(chromium, scheme_pages):
    from tests.test_a11y import axe_violations
    from tests.test_browser import PHONE

    w = scheme_pages
    year, scheme = w["year"], w["scheme"]
    pages = {"mo": ["/schemes/", "/schemes/years/new", f"/schemes/years/{year}", f"/schemes/years/{year}/edit",
                    f"/schemes/years/{year}/plan", f"/schemes/{scheme}"],
             "centre": ["/schemes/", f"/schemes/years/{year}", f"/schemes/years/{year}/propose",
                        f"/schemes/years/{year}/plan", f"/schemes/{scheme}"]}
    found, checked, problems = {}, 0, []
    browser = chromium
    for who, paths in pages.items():
        context = new_context(browser, w["url"], axe=True, viewport=DESKTOP, locale="vi-VN")
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
        page.goto("/")
        _log_in(page, w[who], Factory.PASSWORD)
        for lang in ("vi", "en"):
            if lang == "en":
                page.goto("/")
                page.locator("header .account :is(a, button)[lang=en]").click()
                page.wait_for_load_state()
            for viewport in (DESKTOP, PHONE):
                page.set_viewport_size(viewport)
                views = [(path, None) for path in paths]
                if who == "mo":  # the year form refused (errors next to its fields and summed up)
                    views.append(("/schemes/years/new", "#main-content form button[type=submit], main form "
                                                        "button[type=submit]"))
                if who == "centre":  # the proposal form refused
                    views.append((f"/schemes/years/{year}/propose", "main form button[type=submit]"))
                for path, submit in views:
                    response = page.goto(path)
                    assert response.status == 200, (who, lang, path, response.status)
                    name = f"{who} {lang} {viewport['width']}px {path}"
                    if submit:
                        page.locator(submit).last.click()
                        page.wait_for_load_state()
                        assert page.locator(".error, [aria-invalid=true], .flash-error").count() > 0, name
                        name += " refused"
                    if lang == "en":
                        assert page.locator("html").get_attribute("lang") == "en", name
                    violations = axe_violations(page)
                    checked += 1
                    if violations:
                        found[name] = violations
                    width = page.evaluate("document.documentElement.scrollWidth")
                    if viewport == PHONE and width > PHONE["width"]:
                        found[name] = f"{width} px wide at 360"
        context.close()
    assert problems == []
    assert not found, found
    assert checked == 2 * 2 * (len(pages["mo"]) + 1 + len(pages["centre"]) + 1)
