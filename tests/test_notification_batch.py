"""``notifications.batched()``: a bulk move's messages are the same rows, written in one statement per table.

Used by ``nominations.move_many`` (a council's opening and close, 250 moves: issue 16). What a batch
writes must be exactly what one-by-one sending writes (outbox and in-app inbox, same order, same
texts), in the caller's transaction, with one INSERT per table; a message with attachments still
goes through the ORM with them."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import InboxNotification, OutboxMessage
from artisan_awards.services import notifications


def _rows():
    outbox = [(m.to, m.subject, m.body, m.language, m.attempts, m.sent_at)
              for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))]
    inbox = [(n.user_id, n.subject, n.body, n.language, n.link, n.nomination_id, n.read_at)
             for n in db.session.scalars(sa.select(InboxNotification).order_by(InboxNotification.id))]
    return outbox, inbox


def _send_all(people):
    for person in people:
        notifications.send("data_request_opened", [person, notifications.Recipient("khach@example.vn", "Khách", "en")],
                           r=_Request(), request_link="http://x/y")


class _Request:
    id = 7
    kind = "correction"
    subject_name = "Nguyễn Văn A"
    details = "Sửa ngày sinh"


def test_a_batch_writes_what_sending_one_by_one_writes_in_one_insert_per_table(app, make):
    with app.test_request_context():
        people = [notifications.Recipient.of(make.user("applicant")) for _ in range(3)]
        people[1] = notifications.Recipient(people[1].email, people[1].name, "en", people[1].user_id)
        _send_all(people)
        db.session.commit()
        one_by_one = _rows()
        db.session.execute(sa.delete(OutboxMessage))
        db.session.execute(sa.delete(InboxNotification))
        db.session.commit()

        inserts = []
        engine = db.session.get_bind()

        def count(_conn, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("INSERT"):
                inserts.append(statement.split("(")[0])

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            with notifications.batched():
                _send_all(people)
                assert _rows() == ([], [])  # kept until the batch ends
            db.session.commit()
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert _rows() == one_by_one
        assert len(one_by_one[0]) == 6 and len(one_by_one[1]) == 3  # 3 x (account + guest); 3 inboxes
        assert sorted(inserts) == sorted(["INSERT INTO outbox_messages ", "INSERT INTO inbox_notifications "])


def test_a_batch_interrupted_by_an_error_writes_nothing(app, make):
    with app.test_request_context():
        person = notifications.Recipient.of(make.user("applicant"))
        try:
            with notifications.batched():
                _send_all([person])
                raise RuntimeError("refused")
        except RuntimeError:
            db.session.rollback()
        assert _rows() == ([], [])
        with notifications.batched() as outer, notifications.batched() as inner:  # nested: one writer
            assert inner is outer
            _send_all([person])
        db.session.commit()
        assert len(_rows()[0]) == 2
