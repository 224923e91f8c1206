"""The event outbox (issue 19, items 2 and 3): events written in the transaction of the change, delivered
by the worker with retries, back-off, a log, dead letters and replay, in order per dossier, signed.

The worker runs in-process here (``delivery.deliver_due``) against a local receiver
(tests/webhook_receiver.py); tests/test_outbox_worker.py kills a real worker process, and
tests/test_outbox_browser.py adds a subscriber in the browser.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from artisan_awards.errors import TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.integration import delivery
from artisan_awards.integration import subscribers as service
from artisan_awards.models import Delivery, DeliveryAttempt, IntegrationEvent, Nomination, Subscriber
from artisan_awards.services import nominations, notifications
from artisan_awards.timeutil import as_utc, now_utc
from tests.outbox_helpers import subscribe
from tests.webhook_receiver import Receiver
from workflows.states import Action, State


@pytest.fixture
def admin(make):
    return make.user("admin")


@pytest.fixture
def quick(app):
    app.config.update(INTEGRATION_MAX_ATTEMPTS=3, INTEGRATION_BACKOFF_SECONDS=60,
                      INTEGRATION_BACKOFF_MAX_SECONDS=3600, INTEGRATION_TIMEOUT_SECONDS=5)
    return app


def _deliveries(subscriber=None) -> list[Delivery]:
    query = sa.select(Delivery).order_by(Delivery.id)
    if subscriber is not None:
        query = query.where(Delivery.subscriber_id == subscriber.id)
    return list(db.session.scalars(query))


def _due_now() -> None:
    """Let the back-off pass (as if its time had come)."""
    db.session.execute(sa.update(Delivery).where(Delivery.status == "pending")
                       .values(next_attempt_at=now_utc() - timedelta(seconds=1)))
    db.session.commit()


def _bodies(rows) -> list[dict]:
    return [json.loads(r.body) for r in rows]


# -- 1. written with the change, or not at all ------------------------------------------------------

def test_a_state_change_writes_its_event_and_delivery_with_it(app, make, admin):
    hook = subscribe(admin, "http://127.0.0.1:9/hook", events=["dossier.state_changed", "decision.recorded"])
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.SUBMITTED)
    assert [b["data"]["to_state"] for b in _bodies(_deliveries(hook))] == ["submitted"]
    nominations.perform(n, Action.ACCEPT, officer)
    rows = _deliveries(hook)
    assert [(r.sequence, r.status, r.attempts) for r in rows] == [(1, "pending", 0), (2, "pending", 0)]
    body = json.loads(rows[1].body)
    assert body["type"] == "dossier.state_changed" and body["timestamp"].endswith("Z")
    data = body["data"]
    assert (data["dossier_code"], data["from_state"], data["to_state"], data["action"], data["sequence"]) == (
        n.code, "submitted", "accepted", "accept", 2)
    assert data["unit"] == {"kind": "province", "code": "HNI", "name": n.province.full_name}
    assert len({r.message_id for r in rows}) == 2 and all(r.message_id.startswith("msg_") for r in rows)
    # no personal data of the nominee in what leaves
    assert n.full_name not in rows[1].body and "phone" not in rows[1].body


def test_a_rolled_back_change_publishes_nothing(app, make, admin, monkeypatch):
    subscribe(admin, "http://127.0.0.1:9/hook", events=["dossier.state_changed"])
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.SUBMITTED)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Delivery))
    events = db.session.scalar(sa.select(sa.func.count()).select_from(IntegrationEvent))
    # refused by the machine: nothing
    with pytest.raises(TransitionRefused):
        nominations.perform(n, Action.FORWARD_TO_MINISTRY, officer)

    # fails after the event was written (the notification step breaks): the whole move rolls back
    def boom(*args, **kwargs):
        raise RuntimeError("notification failed")

    monkeypatch.setattr(notifications, "nomination_moved", boom)
    with pytest.raises(RuntimeError):
        nominations.perform(n, Action.ACCEPT, officer)
    db.session.rollback()
    assert db.session.get(Nomination, n.id).state == State.SUBMITTED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrationEvent)) == events


def test_an_event_no_one_wants_is_not_stored_and_inactive_subscribers_get_nothing(app, make, admin):
    hook = subscribe(admin, "http://127.0.0.1:9/hook", events=["decision.recorded"])
    idle = subscribe(admin, "http://127.0.0.1:9/idle", events=["dossier.state_changed"])
    service.set_active(admin, idle, False)
    make.nomination(State.SUBMITTED)
    assert _deliveries(hook) == [] and _deliveries(idle) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntegrationEvent)) == 0


def test_partner_status_sync_in_its_own_vocabulary(app, make, admin):
    partner = subscribe(admin, "http://127.0.0.1:9/portal", kind="partner", events=[],
                        status_map={"submitted": "1", "accepted": "2", "awarded": "10"})
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.SUBMITTED)
    nominations.perform(n, Action.ACCEPT, officer)
    rows = _deliveries(partner)
    bodies = _bodies(rows)
    assert [b["type"] for b in bodies] == ["dossier.status", "dossier.status"]
    assert [(b["data"]["status_code"], b["data"]["state"], b["data"]["sequence"]) for b in bodies] == [
        ("1", "submitted", 1), ("2", "accepted", 2)]
    last = bodies[1]["data"]
    assert last["dossier_code"] == n.code and last["external_code"] is None
    assert last["processing_unit"]["kind"] == "province" and last["processing_unit"]["code"] == "HNI"
    assert last["processed_at"].endswith("Z")


def test_unmapped_states_send_nothing_to_a_partner(app, make, admin):
    partner = subscribe(admin, "http://127.0.0.1:9/portal", kind="partner", events=[],
                        status_map={"accepted": "2"})
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.SUBMITTED)  # submitted: not mapped
    assert _deliveries(partner) == []
    nominations.perform(n, Action.ACCEPT, officer)
    assert [json.loads(r.body)["data"]["sequence"] for r in _deliveries(partner)] == [1]


# -- 2. delivery: signed, retried with back-off, dead letters, replay --------------------------------

def test_delivery_is_signed_and_a_wrong_secret_fails(quick, make, admin):
    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["dossier.state_changed"])
        hook.secret = sub.plain_secret
        make.nomination(State.SUBMITTED)
        assert delivery.deliver_due().delivered == 1
        record = hook.requests[0]
        assert record["verified"] is True and record["headers"]["content-type"].startswith("application/json")
        assert record["id"] == _deliveries(sub)[0].message_id
        assert Webhook(sub.plain_secret).verify(record["body"], record["headers"])["type"] == "dossier.state_changed"
        with pytest.raises(WebhookVerificationError):
            Webhook(service.new_secret()).verify(record["body"], record["headers"])
        tampered = record["body"].replace(b"submitted", b"accepted")
        with pytest.raises(WebhookVerificationError):
            Webhook(sub.plain_secret).verify(tampered, record["headers"])


def test_retries_back_off_then_dead_letter_then_replay(quick, make, admin):
    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["dossier.state_changed"])
        hook.secret = sub.plain_secret
        make.nomination(State.SUBMITTED)
        hook.refuse(3)
        started = now_utc()
        assert delivery.deliver_due().failed == 1
        row = _deliveries(sub)[0]
        assert row.attempts == 1 and row.status == "pending" and row.last_status_code == 503
        wait = (as_utc(row.next_attempt_at) - started).total_seconds()
        assert 59 <= wait <= 65  # base x 2^0
        assert delivery.deliver_due().claimed == 0  # not before its time
        _due_now()
        second = now_utc()
        assert delivery.deliver_due().failed == 1
        db.session.refresh(row)
        assert 119 <= (as_utc(row.next_attempt_at) - second).total_seconds() <= 125  # base x 2^1
        _due_now()
        assert delivery.deliver_due().dead == 1
        db.session.refresh(row)
        assert (row.status, row.attempts, row.next_attempt_at) == ("dead", 3, None) and row.dead_at
        _due_now()
        assert delivery.deliver_due().claimed == 0  # a dead letter is not retried by itself
        assert len(hook.requests) == 3 and hook.accepted == []
        attempts = db.session.scalars(sa.select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == row.id)
                                      .order_by(DeliveryAttempt.id)).all()
        assert [(a.number, a.status_code) for a in attempts] == [(1, 503), (2, 503), (3, 503)]
        assert all(a.error.startswith("HTTP 503") for a in attempts)
        # the administrator replays it: delivered, with the same webhook-id
        assert service.replay(admin, delivery_id=row.id) == 1
        assert delivery.deliver_due().delivered == 1
        db.session.refresh(row)
        assert row.status == "delivered" and row.attempts == 1 and row.delivered_at
        assert len({r["id"] for r in hook.requests}) == 1 and len(hook.accepted) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DeliveryAttempt)
                                 .where(DeliveryAttempt.delivery_id == row.id)) == 4


def test_a_receiver_that_is_down_counts_an_attempt(quick, make, admin):
    sub = subscribe(admin, "http://127.0.0.1:9/nobody", events=["dossier.state_changed"])
    make.nomination(State.SUBMITTED)
    assert delivery.deliver_due().failed == 1
    row = _deliveries(sub)[0]
    assert row.last_status_code is None and "ConnectionError" in row.last_error


def test_backoff_is_capped(quick):
    quick.config.update(INTEGRATION_BACKOFF_SECONDS=30, INTEGRATION_BACKOFF_MAX_SECONDS=600)
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 10)] == [30, 60, 120, 240, 480,
                                                                                      600, 600]


# -- 3. ordering per dossier per subscriber ---------------------------------------------------------

def test_a_later_message_of_a_dossier_waits_for_the_earlier_one(quick, make, admin):
    officer = make.user("province_officer", "HNI")
    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["dossier.state_changed"])
        hook.secret = sub.plain_secret
        n = make.nomination(State.SUBMITTED)
        other = make.nomination(State.SUBMITTED)
        nominations.perform(n, Action.ACCEPT, officer)
        hook.refuse(1)  # the first request (n's submission) is refused
        result = delivery.deliver_due()
        # n's "submitted" refused; n's "accepted" held back; the other dossier is not held by it
        assert (result.claimed, result.failed, result.delivered) == (2, 1, 1)
        assert [b["data"]["dossier_id"] for _i, b in hook.accepted] == [other.id]
        assert delivery.deliver_due().claimed == 0
        _due_now()
        assert delivery.deliver_due().delivered == 1  # only the head of n's queue
        assert delivery.deliver_due().delivered == 1  # then the next
        mine = [(b["data"]["sequence"], b["data"]["to_state"]) for _i, b in hook.accepted
                if b["data"]["dossier_id"] == n.id]
        assert mine == [(1, "submitted"), (2, "accepted")]


def test_behind_a_dead_letter_the_dossier_waits_until_it_is_replayed(quick, make, admin):
    officer = make.user("province_officer", "HNI")
    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["dossier.state_changed"])
        hook.secret = sub.plain_secret
        n = make.nomination(State.SUBMITTED)
        hook.refuse(3)
        for _ in range(3):
            delivery.deliver_due()
            _due_now()
        first = _deliveries(sub)[0]
        assert first.status == "dead"
        nominations.perform(n, Action.ACCEPT, officer)
        _due_now()
        assert delivery.deliver_due().claimed == 0  # "accepted" waits behind the dead "submitted"
        waiting = _deliveries(sub)[1]
        assert waiting.status == "pending" and waiting.attempts == 0
        assert service.waiting_behind(waiting).id == first.id
        assert service.replay(admin) == 1  # replay all
        delivery.deliver_due()
        delivery.deliver_due()
        assert [b["data"]["to_state"] for _i, b in hook.accepted] == ["submitted", "accepted"]


# -- 4. every kind of event ---------------------------------------------------------------------------

def test_a_death_recorded_is_a_dossier_event(app, make, admin, api):
    """record_death changes no state but the dossier (now posthumous): subscribers hear of it."""
    from tests.test_hard_cases import post_death

    hook = subscribe(admin, "http://127.0.0.1:9/hook", events=["dossier.state_changed"])
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.ACCEPTED, officer=officer)
    app.config["POSTHUMOUS_SWITCH_ALLOWED"] = True
    assert post_death(api, n, officer).status_code == 201
    last = json.loads(_deliveries(hook)[-1].body)["data"]
    assert (last["action"], last["from_state"], last["to_state"]) == ("record_death", "accepted", "accepted")
    assert last["unit"]["code"] == "HNI" and "Trần Thị Mai" not in _deliveries(hook)[-1].body


def test_mapping_and_form_validation_in_vietnamese(app, admin):
    bad = service.SubscriberIn(name="", url="ftp://x", kind="partner", events=["nope"], status_map="{not json",
                               partner_code="có dấu")
    with pytest.raises(ValidationFailed) as exc:
        service.create(admin, bad)
    assert set(exc.value.fields) == {"name", "url", "events", "status_map", "partner_code"}
    with pytest.raises(ValidationFailed) as exc:
        service.create(admin, service.SubscriberIn(name="Cổng", url="https://dvc.example.vn/hook", kind="partner",
                                                   events=[], status_map='{"flying": "9"}', partner_code=None))
    assert "status_map" in exc.value.fields and exc.value.params == {"names": "flying"}
    with pytest.raises(ValidationFailed) as exc:  # a partner code no intake partner has
        service.create(admin, service.SubscriberIn(name="Cổng", url="https://dvc.example.vn/hook", kind="partner",
                                                   events=[], status_map='{"accepted": 2}', partner_code="DVCQG"))
    assert set(exc.value.fields) == {"partner_code"}
    from artisan_awards.integration import partners as partner_service

    partner_service.create_partner(admin, "DVCQG", "Cổng Dịch vụ công quốc gia", "Cổng Dịch vụ công quốc gia")
    row, secret = service.create(admin, service.SubscriberIn(
        name="Cổng", url="https://dvc.example.vn/hook", kind="partner", events=[],
        status_map='{"accepted": 2}', partner_code="DVCQG"))
    assert row.status_map == {"accepted": "2"} and secret.startswith("whsec_")
    stored = db.session.execute(sa.text("SELECT secret FROM integration_subscribers WHERE id = :i"),
                                {"i": row.id}).scalar()
    assert stored.startswith("enc1:") and secret not in stored  # sealed at rest
    assert db.session.get(Subscriber, row.id).secret == secret


# -- 5. two workers never send one delivery twice -------------------------------------------------------

@pytest.mark.realdb
def test_two_workers_never_send_one_delivery_twice(app, admin):
    """Two workers (threads, each its own connection) drain 40 deliveries: each is sent exactly once.

    PostgreSQL: the claim reads ``FOR UPDATE SKIP LOCKED``; SQLite: the claim takes the write lock first."""
    import threading
    import time

    from artisan_awards.integration import outbox

    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["council_session.closed"])
        hook.secret = sub.plain_secret
        for i in range(40):
            outbox.publish("council_session.closed", {
                "session_id": i, "council_id": 1, "council_name": "Hội đồng thử", "level": "province",
                "province_code": "HNI", "closed_at": "2026-12-01T03:00:00Z", "received": 1, "passed": 1,
                "rejected": 0, "results": [{"dossier_code": f"NN-2026-HNI-{i:05d}", "passed": True}]})
        db.session.commit()
        original = hook._process

        def slow(record, body):  # a receiver that takes a moment: the workers' passes overlap
            time.sleep(0.01)
            original(record, body)

        hook._process = slow
        start, errors = threading.Barrier(2), []

        def work(name):
            try:
                with app.app_context():
                    start.wait(10)
                    while delivery.deliver_due(limit=4, worker=name).claimed:
                        pass
                    db.session.remove()
            except Exception as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"w{k}",)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        ids = hook.ids()
        assert len(ids) == 40 and len(set(ids)) == 40  # every one sent, none twice
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)
                                 .where(Delivery.status == "delivered")) == 40
        workers = set(db.session.scalars(sa.select(DeliveryAttempt.worker)))
        assert workers <= {"w0", "w1"}


# -- 6. the contract: the OpenAPI document's webhooks describe what is sent --------------------------------

def test_the_openapi_webhooks_describe_every_body_sent(app, make, admin):
    from pydantic import ValidationError as PydanticError

    from artisan_awards.api.openapi import build_spec
    from artisan_awards.integration import payloads

    spec = build_spec()
    assert set(spec["webhooks"]) == {"dossier.state_changed", "council_session.closed", "decision.recorded",
                                     "consultation.opened", "dossier.status"}
    schemas = spec["components"]["schemas"]
    for type_, item in spec["webhooks"].items():
        post = item["post"]
        assert {p["name"] for p in post["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        name = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert schemas[name]["properties"]["type"]["const"] == type_
        data = schemas[name]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        assert set(schemas[data]["required"]) <= set(schemas[data]["properties"])
    hook = subscribe(admin, "http://127.0.0.1:9/hook", events=["dossier.state_changed"])
    partner = subscribe(admin, "http://127.0.0.1:9/portal", kind="partner", events=[],
                        status_map={"submitted": "1"})
    make.nomination(State.SUBMITTED)
    checked = 0
    for row in _deliveries(hook) + _deliveries(partner):
        body = json.loads(row.body)
        model = payloads.envelope(body["type"])
        data = schemas[model.__name__]["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        assert set(body["data"]) == set(schemas[data]["properties"])  # every field described, none extra
        model.model_validate(body)
        with pytest.raises(PydanticError):
            model.model_validate({**body, "data": {**body["data"], "sequence": "one"}})
        checked += 1
    assert checked == 2


# -- 7. the administrator's pages: bad input is a clear 4xx --------------------------------------------

def test_subscriber_pages_refuse_bad_input_clearly(app, client, auth, make):
    admin = make.user("admin")
    auth.login(admin.email)
    for form, field in (({"name": "A", "url": "javascript:alert(1)", "kind": "webhook",
                          "events": "decision.recorded"}, "http:// hoặc https://"),
                        ({"name": "A", "url": "https://x.vn/h", "kind": "bogus"}, "Cần chọn loại bên nhận"),
                        ({"name": "A", "url": "https://x.vn/h", "kind": "webhook", "events": "x.y"},
                         "Có sự kiện không được hỗ trợ"),
                        ({"name": "A", "url": "https://x.vn/h", "kind": "partner",
                          "status_map": "[" * 50_000}, "đối tượng JSON"),
                        ({"name": "A" * 201, "url": "https://x.vn/h", "kind": "webhook",
                          "events": "decision.recorded"}, "tối đa 200 ký tự")):
        r = client.post("/admin/integration/new", data=form)
        assert r.status_code == 422, form
        assert field in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0
    assert client.get("/admin/integration/deliveries?status=nonsense&subscriber=abc").status_code == 200
    assert client.get("/admin/integration/999999").status_code == 404
    assert client.get("/admin/integration/deliveries/999999").status_code == 404
    r = client.post("/admin/integration/new", data={"name": "Cổng DVC", "url": "https://dvc.example.vn/hook",
                                                     "kind": "partner", "status_map": '{"accepted": "2"}',
                                                     "active": "y"})
    assert r.status_code == 200 and "whsec_" in r.get_data(as_text=True)
    row = db.session.scalar(sa.select(Subscriber))
    secret = row.secret
    page = client.get(f"/admin/integration/{row.id}").get_data(as_text=True)
    assert secret not in page and "Cổng DVC" in page
    rotated = client.post(f"/admin/integration/{row.id}/rotate").get_data(as_text=True)
    db.session.refresh(row)
    assert row.secret != secret and row.secret in rotated
    assert client.post(f"/admin/integration/{row.id}/status", data={"active": "0"}).status_code == 302
    db.session.refresh(row)
    assert row.active is False
