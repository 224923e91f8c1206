"""Acceptance 3 of issue 19, in a real browser: the administrator adds a webhook subscriber, copies the
secret the page shows once; the President's decision is recorded (``record_award``); the local receiver
(tests/webhook_receiver.py) gets ``decision.recorded`` and its signature verifies with that secret; a
wrong secret fails.  On the way: the receiver refuses, the delivery becomes a dead letter, the
administrator replays it in the browser; the pages are checked with axe at 360 px.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from artisan_awards.extensions import db
from artisan_awards.integration import delivery
from artisan_awards.models import Delivery, Nomination, User
from artisan_awards.services import nominations
from artisan_awards.timeutil import today
from tests.factories import Factory
from tests.plugins.browser import live_site
from tests.test_a11y import axe_violations
from tests.test_award import Road
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, _log_in, shots  # noqa: F401
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.realdb]

ADMIN_NAME = "Hoàng Quản Trị"


@pytest.fixture
def world(app_config):
    def build(app):
        app.config["TODAY"] = None
        make = Factory()
        admin = make.user("admin", full_name=ADMIN_NAME)
        road = Road(make)
        n = road.to_president("meritorious")
        data = {"admin": admin.email, "nomination": n.id, "government": road.government.id, "code": n.code}
        return data

    config = {**app_config, "WTF_CSRF_ENABLED": True, "INTEGRATION_MAX_ATTEMPTS": 1, "INTEGRATION_TIMEOUT_SECONDS": 10}
    with live_site(config, build) as (url, app, built):
        yield {"url": url, "app": app, **built}


def _axe_at_360(page, problems: list, name: str) -> None:
    page.set_viewport_size(PHONE)
    found = axe_violations(page)
    if found:
        problems.append((name, found))
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        problems.append((name, f"{width} px wide at 360"))
    page.set_viewport_size(DESKTOP)


def test_admin_adds_a_webhook_that_receives_a_signed_decision(chromium, world, shots):  # noqa: F811
    app, problems, a11y = world["app"], [], []
    with Receiver() as hook:
        browser = chromium
        context = browser.new_context(viewport=DESKTOP, locale="vi-VN", base_url=world["url"], bypass_csp=True)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.on("response", lambda r: r.status >= 500 and problems.append(f"{r.status} {r.url}"))
        page.goto("/")
        _log_in(page, world["admin"], Factory.PASSWORD)
        page.goto("/admin/")
        page.get_by_role("link", name="Kết nối hệ thống khác (webhook)").click()
        expect(page.get_by_role("heading", name="Kết nối hệ thống khác")).to_be_visible()
        _axe_at_360(page, a11y, "list")
        page.get_by_role("link", name="Thêm bên nhận").click()
        # a bad address first: a clear message, nothing created
        page.get_by_label("Tên bên nhận").fill("Hệ thống quản lý văn bản của Bộ")
        page.get_by_label("Địa chỉ nhận (URL)").fill("ftp://khong-hop-le")
        page.get_by_label("Ghi nhận quyết định phong tặng").check()
        page.get_by_role("button", name="Thêm bên nhận").click()
        expect(page.locator("#url-error")).to_contain_text("http:// hoặc https://")
        _axe_at_360(page, a11y, "form with errors")
        page.get_by_label("Địa chỉ nhận (URL)").fill(hook.url)
        page.get_by_role("button", name="Thêm bên nhận").click()
        heading = page.get_by_role("heading", name="Đã thêm bên nhận: Hệ thống quản lý văn bản của Bộ")
        expect(heading).to_be_visible()
        secret = page.locator("#subscriber-secret").inner_text().strip()
        assert secret.startswith("whsec_")
        _axe_at_360(page, a11y, "secret")
        page.set_viewport_size(PHONE)
        shots(page, "integration-secret-360.png")
        page.set_viewport_size(DESKTOP)
        # the secret is not shown again on the subscriber's page
        page.get_by_role("link", name="Xem bên nhận").click()
        assert secret not in page.content()
        _axe_at_360(page, a11y, "edit")

        # the President's decision is recorded; the worker sends; the receiver refuses: a dead letter
        with app.app_context():
            n = db.session.get(Nomination, world["nomination"])
            officer = db.session.get(User, world["government"])
            nominations.record_award(n, officer, "2050/QĐ-CTN", today())
            hook.refuse(1)
            assert delivery.deliver_due().dead == 1
            db.session.remove()
        page.goto("/admin/integration/")
        page.get_by_role("link", name="Danh sách gửi lỗi").click()
        expect(page.locator("#deliveries")).to_contain_text("decision.recorded")
        _axe_at_360(page, a11y, "dead letters")
        page.locator("#deliveries a code").first.click()
        expect(page.locator("#attempts")).to_contain_text("503")
        _axe_at_360(page, a11y, "delivery")
        page.get_by_role("button", name="Gửi lại").click()
        expect(page.locator(".flashes")).to_contain_text("trở lại hàng đợi")
        with app.app_context():
            assert delivery.deliver_due().delivered == 1
            row = db.session.scalar(sa.select(Delivery).order_by(Delivery.id.desc()).limit(1))
            message_id = row.message_id
            db.session.remove()
        page.reload()
        expect(page.locator("main")).to_contain_text("Đã gửi")
        expect(page.locator("#attempts tbody tr")).to_have_count(2)
        _axe_at_360(page, a11y, "delivery delivered")
        page.set_viewport_size(PHONE)
        shots(page, "integration-delivery-360.png")
        assert problems == [] and a11y == []
        record = [r for r in hook.requests if r["answer"] == 200][-1]
        assert record["id"] == message_id
        body = Webhook(secret).verify(record["body"], record["headers"])  # the secret the page showed
        assert body["type"] == "decision.recorded"
        assert (body["data"]["dossier_code"], body["data"]["decision_no"]) == (world["code"], "2050/QĐ-CTN")
        assert json.loads(record["body"]) == body
        with pytest.raises(WebhookVerificationError):  # a wrong secret fails
            Webhook("whsec_" + "A" * 43 + "=").verify(record["body"], record["headers"])
        with pytest.raises(WebhookVerificationError):  # a tampered body fails
            Webhook(secret).verify(record["body"].replace(b"2050", b"2051"), record["headers"])
