"""Notifications inside the app as well as by e-mail (issue 13 item 4): every message ``send`` queues
for a person with an account lands in their inbox, in the same transaction; only they read it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from artisan_awards.errors import NotFound, ServiceError
from artisan_awards.extensions import db
from artisan_awards.models import InboxNotification, OutboxMessage
from artisan_awards.services import inbox, notifications
from artisan_awards.services import nominations as service
from artisan_awards.services.transaction import one_transaction
from workflows.states import Action


def _rows(user) -> list[InboxNotification]:
    return list(db.session.scalars(sa.select(InboxNotification).where(InboxNotification.user_id == user.id)
                                   .order_by(InboxNotification.id)))


def _bell(html: str) -> str:
    return re.search(r'data-testid="bell">(.*?)</a>', html, re.S).group(1)


@pytest.fixture
def submitted(make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    n = make.nomination(owner=owner)
    service.perform(n, Action.SUBMIT, owner)
    return n, owner, officer


def test_every_mail_to_an_account_lands_in_its_inbox(submitted):
    n, owner, officer = submitted
    mine, theirs = _rows(owner), _rows(officer)
    assert len(mine) == 1 and len(theirs) == 1
    mails = {m.to: m for m in db.session.scalars(sa.select(OutboxMessage))}
    assert mine[0].subject == mails[owner.email].subject and mine[0].body == mails[owner.email].body
    assert theirs[0].subject == mails[officer.email].subject
    assert mine[0].nomination_id == n.id and mine[0].link == f"/nominations/{n.id}"
    assert mine[0].read_at is None


def test_it_is_written_in_the_same_transaction_as_the_change(submitted):
    n, owner, _ = submitted
    inboxed = len(_rows(owner))
    mailed = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    with pytest.raises(RuntimeError), one_transaction():
        notifications.send("submitted", [notifications.Recipient.of(owner)], n=n, dossier_link="x",
                           lookup_link=None, notice=None, action="submit", meta={}, comment=None)
        assert len(_rows(owner)) == inboxed + 1
        raise RuntimeError("the change fails after the notification was written")
    assert len(_rows(owner)) == inboxed  # rolled back with the change, like the e-mail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == mailed


def test_a_refused_move_leaves_no_notification(make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    n = make.nomination(owner=owner)
    service.perform(n, Action.SUBMIT, owner)
    before = len(_rows(owner))
    with pytest.raises(ServiceError):  # a return needs its reason: refused, nothing written
        service.return_for_completion(n, officer, None)
    assert len(_rows(owner)) == before


def test_a_plain_address_with_no_account_gets_mail_only(make):
    owner = make.user("applicant")
    n = make.nomination(owner=owner, nominee={"email": "nghenhan.khong.tai.khoan@example.vn"})
    service.perform(n, Action.SUBMIT, owner)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.to == "nghenhan.khong.tai.khoan@example.vn")) == 1
    assert len(_rows(owner)) == 1  # the owner's own, and no row for an address without an account


def test_the_bell_counts_unread_and_the_list_puts_them_first(client, auth, submitted):
    n, owner, officer = submitted
    service.return_for_completion(n, officer, "Thiếu ảnh chân dung")
    first, second = _rows(owner)
    auth.login(owner.email)
    html = client.get("/my/").get_data(as_text=True)
    assert ">2</span>" in _bell(html) and "2 chưa đọc" in _bell(html)
    assert client.post(f"/notifications/{first.id}/read").status_code == 302
    html = client.get("/notifications").get_data(as_text=True)
    assert ">1</span>" in _bell(html)
    ids = [int(i) for i in re.findall(r'class="inbox-item[^"]*" data-id="(\d+)"', html)]
    assert ids == [second.id, first.id]  # unread first
    assert f'class="inbox-item unread" data-id="{second.id}"' in html
    assert client.post("/notifications/read-all").status_code == 302
    assert inbox.unread_count(owner) == 0
    assert "bell-count" not in _bell(client.get("/my/").get_data(as_text=True))


def test_opening_one_marks_it_read_and_goes_to_the_dossier(client, auth, submitted):
    n, owner, _ = submitted
    (row,) = _rows(owner)
    auth.login(owner.email)
    r = client.post(f"/notifications/{row.id}/open")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/nominations/{n.id}")
    db.session.refresh(row)
    assert row.read_at is not None
    assert client.get(r.headers["Location"]).status_code == 200


def test_another_user_can_neither_read_nor_mark_them(client, auth, make, submitted):
    n, owner, _ = submitted
    (row,) = _rows(owner)
    stranger = make.user("applicant")
    auth.login(stranger.email)
    page = client.get("/notifications").get_data(as_text=True)
    assert row.subject not in page and f'data-id="{row.id}"' not in page
    assert client.post(f"/notifications/{row.id}/read").status_code == 404
    assert client.post(f"/notifications/{row.id}/open").status_code == 404
    client.post("/notifications/read-all")
    db.session.refresh(row)
    assert row.read_at is None  # untouched by anyone else
    with pytest.raises(NotFound):
        inbox.mark_read(stranger, row.id)


def test_anonymous_visitors_are_sent_to_log_in(client):
    r = client.get("/notifications")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "/login" in client.post("/notifications/read-all").headers["Location"]
