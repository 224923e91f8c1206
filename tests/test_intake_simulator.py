"""The portal simulator's receiving side (tests/portal_simulator.py), on its own: the outbox (issue 19
items 2-3) delivers status messages to it after the merge, so what it checks must already hold:
signatures verified with standardwebhooks, order kept, refused attempts, each message once.
Also: two racing repeats of one filing make ONE dossier (PostgreSQL, real threads, a live server)."""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from artisan_awards.extensions import db
from artisan_awards.integration import partners as partner_service
from artisan_awards.models import Nomination, User
from tests.liveserver import serve
from tests.portal_simulator import PortalSimulator
from tests.test_intake import PHOTO, dossier

SECRET = "whsec_" + base64.b64encode(b"portal-status-secret-0123456789ab").decode()
WRONG = "whsec_" + base64.b64encode(b"another-secret-entirely-987654321").decode()


def deliver(url: str, payload: dict, secret: str = SECRET, webhook_id: str | None = None) -> int:
    """What a Standard Webhooks sender does: id, timestamp, v1 HMAC over "id.timestamp.body"."""
    body = json.dumps(payload).encode()
    webhook_id = webhook_id or "msg_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign(webhook_id, now, body), "Content-Type": "application/json"}
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310 - 127.0.0.1
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_the_simulator_records_verified_messages_once_in_order():
    with PortalSimulator("DVCQG", "unused", webhook_secret=SECRET) as portal:
        statuses = ["submitted", "accepted", "province_review", "province_passed"]
        ids = []
        for status in statuses:
            ids.append("msg_" + uuid.uuid4().hex)
            assert deliver(portal.webhook_url, {"external_code": "G22-1", "status": status}, webhook_id=ids[-1]) == 204
        # a retry of a message already taken: answered 2xx, not recorded twice
        assert deliver(portal.webhook_url, {"external_code": "G22-1", "status": "accepted"}, webhook_id=ids[1]) == 204
        assert [p["status"] for p in portal.payloads()] == statuses
        assert [r.webhook_id for r in portal.received] == ids and portal.duplicates == 1


def test_a_wrong_secret_fails_verification_and_is_not_recorded():
    with PortalSimulator("DVCQG", "unused", webhook_secret=SECRET) as portal:
        assert deliver(portal.webhook_url, {"status": "accepted"}, secret=WRONG) == 401
        body = json.dumps({"status": "x"}).encode()
        req = urllib.request.Request(portal.webhook_url, data=body, method="POST")  # unsigned
        with pytest.raises(urllib.error.HTTPError) as unsigned:
            urllib.request.urlopen(req, timeout=10)  # noqa: S310
        assert unsigned.value.code == 401
        assert portal.received == [] and len(portal.rejected) == 2
        assert deliver(portal.webhook_url, {"status": "accepted"}) == 204  # control: the right secret passes
        assert len(portal.received) == 1


def test_the_simulator_refuses_the_first_attempts_then_takes_the_message_once():
    with PortalSimulator("DVCQG", "unused", webhook_secret=SECRET, refuse_first=2) as portal:
        webhook_id = "msg_retry"
        answers = [deliver(portal.webhook_url, {"status": "submitted"}, webhook_id=webhook_id) for _ in range(4)]
        assert answers == [500, 500, 204, 204]
        assert portal.attempts == 4 and len(portal.received) == 1 and portal.duplicates == 1


@pytest.mark.realdb
@pytest.mark.postgresql
def test_racing_repeats_make_one_dossier(app, make, db_kind):
    """Eight threads file the same message at once against a live server: one 201, the rest 200, one row."""
    if db_kind != "postgresql":
        pytest.skip("the race is decided by PostgreSQL's unique index under concurrent transactions")
    admin = make.user("admin")
    _, key = partner_service.create_partner(admin, "DVCQG", "Cổng DVC quốc gia", "Cổng DVC quốc gia")
    message = dossier(make, external_code="RACE-1")
    code, email = "RACE-1", message["nominee"]["email"]
    db.session.commit()
    with serve(app) as base:
        portal = PortalSimulator("DVCQG", key, target=base)
        start = threading.Barrier(8)
        answers: list[int] = []
        lock = threading.Lock()

        def one():
            body, content_type = portal.dossier_body(message, [PHOTO])
            headers = portal.signed_headers("POST", base + "/api/v1/intake/dossiers", body,
                                            {"Content-Type": content_type})
            start.wait()
            status = portal.send("POST", "/api/v1/intake/dossiers", body, headers).status
            with lock:
                answers.append(status)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    assert sorted(answers) == [200] * 7 + [201], answers
    db.session.remove()
    rows = db.session.scalars(sa.select(Nomination).where(Nomination.external_code == code)).all()
    assert len(rows) == 1 and rows[0].state == "submitted"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == email)) == 1
