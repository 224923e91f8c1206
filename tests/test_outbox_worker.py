"""Acceptance 2 of issue 19: killing the worker between a state change and its delivery loses no message.

A dossier's state change is committed; a real worker process (``flask integration deliver --loop``) takes
its delivery and POSTs it to a local receiver that holds the request; the worker is killed with SIGKILL
while it waits.  A new worker process delivers the message once the dead worker's claim runs out, with
the same ``webhook-id``: the receiver accepts it exactly once.  Two cases: the receiver refused the held
request (nothing was processed), and the receiver processed it but its answer never reached the dead
worker (it is sent again and the receiver's idempotency on ``webhook-id`` keeps it to one).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Delivery
from tests.outbox_helpers import subscribe
from tests.webhook_receiver import Receiver
from workflows.states import State

ROOT = Path(__file__).resolve().parent.parent


def _worker(app, tmp_path, name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": app.config["SECRET_KEY"],
           "INTEGRATION_CLAIM_SECONDS": "3", "INTEGRATION_TIMEOUT_SECONDS": "5", "INTEGRATION_POLL_SECONDS": "0.2",
           "UPLOAD_DIR": str(tmp_path / "uploads")}
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "integration", "deliver", "--loop"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def _row(message_id: str) -> Delivery:
    db.session.rollback()  # a fresh read of what the workers committed
    return db.session.scalar(sa.select(Delivery).where(Delivery.message_id == message_id))


def _wait(predicate, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.realdb
@pytest.mark.parametrize("receiver_processed_it", [False, True], ids=["refused-then-killed", "processed-then-killed"])
def test_a_killed_worker_loses_no_message_and_sends_it_once(app, make, tmp_path, receiver_processed_it):
    admin = make.user("admin")
    with Receiver() as hook:
        sub = subscribe(admin, hook.url, events=["dossier.state_changed"])
        hook.secret = sub.plain_secret
        n = make.nomination(State.SUBMITTED)  # the state change, committed with its delivery
        message_id = db.session.scalar(sa.select(Delivery.message_id).where(Delivery.subscriber_id == sub.id))
        hook.stall_next(accept=receiver_processed_it)
        first = _worker(app, tmp_path, "worker-1")
        second = None
        try:
            assert hook.stalled.wait(90), "the first worker never sent"
            first.send_signal(signal.SIGKILL)
            assert first.wait(30) == -signal.SIGKILL
            row = _row(message_id)
            assert (row.status, row.attempts) == ("pending", 0) and row.claimed_by  # its claim is left behind
            hook.release()
            second = _worker(app, tmp_path, "worker-2")
            _wait(lambda: _row(message_id).status == "delivered", "the second worker's delivery")
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(30)
        row = _row(message_id)
        assert row.attempts == 1 and row.claimed_by is None and row.last_status_code == 200
        assert hook.ids() == [message_id, message_id]  # the same webhook-id both times
        assert all(r["verified"] for r in hook.requests)
        assert [i for i, _body in hook.accepted] == [message_id]  # accepted exactly once
        assert hook.accepted[0][1]["data"]["dossier_id"] == n.id
