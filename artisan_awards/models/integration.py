"""Events for other systems, through an outbox (issue 19, items 2 and 3).

``IntegrationEvent``: something happened (a dossier's state changed, a council session closed, a
decision was recorded, a consultation opened), written in the same transaction as the change by
``integration.outbox``.  ``Subscriber``: a system told about it, by webhook (the events it chose) or
as a partner (status sync: each state of the machine mapped to the partner's status code).
``Delivery``: one per (event, subscriber), with the exact body sent, retried by ``flask integration
deliver`` until it is delivered or, after the last attempt, a dead letter an administrator replays.
``DeliveryAttempt``: the log, one row per attempt (status code, error, time).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..field_crypto import EncryptedText
from ..timeutil import now_utc

WEBHOOK, PARTNER = "webhook", "partner"
SUBSCRIBER_KINDS = (WEBHOOK, PARTNER)
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class Subscriber(db.Model):
    __tablename__ = "integration_subscribers"
    __table_args__ = (sa.CheckConstraint("kind IN ('webhook', 'partner')", name="ck_integration_subscribers_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.String(500))
    # "whsec_<base64 of 32 random bytes>" (Standard Webhooks), sealed at rest like the personal fields
    secret: Mapped[str] = mapped_column(EncryptedText("integration_subscribers.secret"))
    kind: Mapped[str] = mapped_column(sa.String(10), default=WEBHOOK)
    events: Mapped[list] = mapped_column(sa.JSON, default=list)  # webhook: the event types chosen
    status_map: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # partner: {state: partner status code}
    # the intake partner it stands for (models.partners.Partner.code, checked when saved): a partner
    # subscriber with a code hears only of the dossiers that partner filed; without one, of every dossier
    partner_code: Mapped[str | None] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, onupdate=now_utc)


class IntegrationEvent(db.Model):
    __tablename__ = "integration_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(40))
    nomination_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class Delivery(db.Model):
    __tablename__ = "integration_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "subscriber_id", name="uq_integration_deliveries_event_subscriber"),
        sa.UniqueConstraint("subscriber_id", "nomination_id", "sequence", name="uq_integration_deliveries_sequence"),
        sa.Index("ix_integration_deliveries_due", "status", "next_attempt_at", "id"),
        sa.Index("ix_integration_deliveries_queue", "subscriber_id", "nomination_id", "sequence"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="ck_integration_deliveries_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("integration_events.id"))
    subscriber_id: Mapped[int] = mapped_column(sa.ForeignKey("integration_subscribers.id"))
    # the dossier's queue at this subscriber: sent in ``sequence`` order, one after the other
    nomination_id: Mapped[int | None] = mapped_column(sa.ForeignKey("nominations.id"))
    sequence: Mapped[int | None]
    message_id: Mapped[str] = mapped_column(sa.String(40), unique=True)  # webhook-id: the same on every retry
    body: Mapped[str] = mapped_column(sa.Text)  # the JSON sent, byte for byte on every attempt
    status: Mapped[str] = mapped_column(sa.String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    dead_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    event: Mapped[IntegrationEvent] = relationship()
    subscriber: Mapped[Subscriber] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(order_by="DeliveryAttempt.id")


class DeliveryAttempt(db.Model):
    __tablename__ = "integration_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("integration_deliveries.id"), index=True)
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(sa.String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(sa.String(80))
