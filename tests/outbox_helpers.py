"""Helpers of the outbox tests (and the route matrix): subscribers, a dead letter, a signed receiver's check."""

from __future__ import annotations

import json

from artisan_awards.extensions import db
from artisan_awards.integration import subscribers as service
from artisan_awards.models import Delivery, IntegrationEvent, Subscriber


def subscribe(admin, url: str, events=("dossier.state_changed",), kind: str = "webhook", status_map=None,
              name: str = "Hệ thống thử") -> Subscriber:
    """A subscriber made by the administrator's operation; its secret is on ``.plain_secret``."""
    row, secret = service.create(admin, service.SubscriberIn(
        name=name, url=url, kind=kind, events=list(events),
        status_map=json.dumps(status_map) if status_map is not None else None, partner_code=None))
    row.plain_secret = secret
    return row


def dead_letter(subscriber: Subscriber, nomination) -> Delivery:
    """A delivery that has used up its attempts (for pages that list and replay dead letters)."""
    event = IntegrationEvent(type="dossier.state_changed", nomination_id=nomination.id,
                             data={"dossier_code": nomination.code})
    row = Delivery(event=event, subscriber_id=subscriber.id, nomination_id=None, sequence=None,
                   message_id=f"msg_deadletter{nomination.id}", body='{"type":"dossier.state_changed"}',
                   status="dead", attempts=3, last_error="HTTP 500: lỗi")
    db.session.add_all([event, row])
    db.session.commit()
    return row
