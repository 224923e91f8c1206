"""The e-mail outbox: written with the change, delivered through a real (local) SMTP server,
never lost when the server fails."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import OutboxMessage
from artisan_awards.services import mail
from tests.smtp import free_port, smtp_server  # noqa: F401


@pytest.fixture
def mail_app(app, smtp_server):  # noqa: F811
    app.config.update(smtp_server.config)
    return app


def _pending():
    return list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))))


def test_queued_message_is_sent_through_smtp(mail_app, smtp_server):  # noqa: F811
    mail.queue("a@example.vn", "Chào bạn", "Nội dung thư: Nghệ nhân ưu tú")
    db.session.commit()
    assert mail.send_pending() == (1, 0)
    message = smtp_server.wait_for("a@example.vn")
    assert message["Subject"] == "Chào bạn"
    assert "Nghệ nhân ưu tú" in smtp_server.body(message)
    row = db.session.scalar(sa.select(OutboxMessage))
    assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    assert mail.send_pending() == (0, 0)  # never sent twice


def test_queued_message_is_rolled_back_with_its_change(mail_app):
    mail.queue("b@example.vn", "S", "B")
    db.session.rollback()
    assert _pending() == []


def test_failing_smtp_delays_but_loses_nothing(mail_app, smtp_server):  # noqa: F811
    smtp_server.fail = True
    mail.queue("c@example.vn", "Thư 1", "Một")
    mail.queue("d@example.vn", "Thư 2", "Hai")
    db.session.commit()
    assert mail.send_pending() == (0, 2)
    rows = _pending()
    assert len(rows) == 2
    assert all(r.attempts == 1 and "451" in r.last_error and r.next_attempt_at for r in rows)
    assert mail.send_pending() == (0, 0)  # backing off: not retried at once
    smtp_server.fail = False
    assert mail.send_pending(force=True) == (2, 0)
    assert _pending() == []
    assert {m["To"] for m in smtp_server.messages} == {"c@example.vn", "d@example.vn"}
    assert [r.attempts for r in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))] == [2, 2]


def test_unreachable_server_keeps_the_message(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    mail.queue("e@example.vn", "S", "B")
    db.session.commit()
    assert mail.send_pending() == (0, 1)
    (row,) = _pending()
    assert row.attempts == 1 and row.last_error


def test_cli_sends_the_outbox(mail_app, runner, smtp_server):  # noqa: F811
    mail.queue("f@example.vn", "S", "B")
    db.session.commit()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "sent 1, failed 0" in result.output
    assert smtp_server.wait_for("f@example.vn")
