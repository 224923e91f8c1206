"""The administrator's operations on subscribers and dead letters (the pages only parse forms and call them).

Each writes the change and its audit event in one transaction.  A subscriber's secret is made here
(``whsec_`` + 32 random bytes, Standard Webhooks), sealed at rest, and shown to the administrator only
in the answer to its creation or rotation.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa

from workflows.states import N_, State

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Delivery, Subscriber, User
from ..models.integration import DEAD, DELIVERED, PARTNER, PENDING, SUBSCRIBER_KINDS, WEBHOOK
from ..services import admin_events, transaction
from ..text import nfc
from . import delivery
from .payloads import EVENT_TYPES

PARTNER_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
STATUS_CODE = re.compile(r"[^\x00-\x1f]{1,40}")


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


@dataclass
class SubscriberIn:
    name: str | None
    url: str | None
    kind: str | None
    events: list[str]
    status_map: str | None  # the JSON text as typed
    partner_code: str | None
    active: bool = True


def _clean(data: SubscriberIn) -> dict:
    fields: dict[str, str] = {}
    name = nfc(data.name or "").strip()
    if not name or len(name) > 200:
        fields["name"] = N_("Cần tên bên nhận (tối đa 200 ký tự).")
    url = (data.url or "").strip()
    parts = urlsplit(url) if len(url) <= 500 else None
    if not parts or parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        fields["url"] = N_(
            "Địa chỉ nhận phải là một URL http:// hoặc https:// (tối đa 500 ký tự, không chứa mật khẩu).")
    kind = data.kind if data.kind in SUBSCRIBER_KINDS else None
    if kind is None:
        fields["kind"] = N_("Cần chọn loại bên nhận.")
    events = [e for e in EVENT_TYPES if e in (data.events or [])]
    if set(data.events or []) - set(EVENT_TYPES):
        fields["events"] = N_("Có sự kiện không được hỗ trợ.")
    elif kind == WEBHOOK and not events:
        fields["events"] = N_("Cần chọn ít nhất một sự kiện.")
    status_map: dict[str, str] = {}
    text = (data.status_map or "").strip()
    if kind == PARTNER or text:
        try:
            value = json.loads(text or "{}") if len(text) <= 20_000 else None
        except (ValueError, RecursionError):
            value = None
        known = {str(s) for s in State}
        if not isinstance(value, dict):
            fields["status_map"] = N_("Bảng mã trạng thái phải là một đối tượng JSON, ví dụ {\"accepted\": \"2\"}.")
        elif set(value) - known:
            fields["status_map"] = N_("Bảng mã có trạng thái không tồn tại: %(names)s.")
            fields["status_map_names"] = ", ".join(sorted(set(value) - known))
        elif not all(isinstance(v, (str, int)) and not isinstance(v, bool) and STATUS_CODE.fullmatch(str(v))
                     for v in value.values()):
            fields["status_map"] = N_("Mỗi mã trạng thái của đối tác là một chuỗi từ 1 đến 40 ký tự.")
        else:
            status_map = {k: str(v) for k, v in value.items()}
            if kind == PARTNER and not status_map:
                fields["status_map"] = N_("Cần ít nhất một trạng thái được ánh xạ sang mã của đối tác.")
    partner_code = (data.partner_code or "").strip() or None
    if partner_code and not PARTNER_CODE.fullmatch(partner_code):
        fields["partner_code"] = N_("Mã đối tác gồm chữ, số, dấu chấm, gạch ngang, gạch dưới (tối đa 40 ký tự).")
    if fields:
        names = fields.pop("status_map_names", None)
        raise ValidationFailed(fields=fields, params={"names": names} if names else None)
    return {"name": name, "url": url, "kind": kind, "events": events if kind == WEBHOOK else [],
            "status_map": status_map if kind == PARTNER else {}, "partner_code": partner_code,
            "active": bool(data.active)}


def get(subscriber_id: int) -> Subscriber:
    row = db.session.get(Subscriber, subscriber_id)
    if row is None:
        raise NotFound(N_("Không có bên nhận này."), code="subscriber_not_found")
    return row


def create(actor: User, data: SubscriberIn) -> tuple[Subscriber, str]:
    """A new subscriber and its secret (returned once; stored sealed)."""
    values = _clean(data)
    secret = new_secret()
    with transaction.one_transaction():
        row = Subscriber(secret=secret, **values)
        db.session.add(row)
        db.session.flush()
        admin_events.record(AuditKind.SUBSCRIBER_CHANGED, actor, target=row, target_type="subscriber",
                            target_label=row.name, change="created", subscriber_kind=row.kind, url=row.url,
                            events=row.events, status_map=row.status_map, partner_code=row.partner_code)
    return row, secret


def update(actor: User, row: Subscriber, data: SubscriberIn) -> Subscriber:
    values = _clean(data)
    with transaction.one_transaction():
        before = {k: getattr(row, k) for k in values}
        for key, value in values.items():
            setattr(row, key, value)
        changed = {("subscriber_kind" if k == "kind" else k): v for k, v in values.items() if before[k] != v}
        admin_events.record(AuditKind.SUBSCRIBER_CHANGED, actor, target=row, target_type="subscriber",
                            target_label=row.name, change="updated", **changed)
    return row


def rotate(actor: User, row: Subscriber) -> str:
    """A new secret (the old one stops verifying at once); returned once."""
    secret = new_secret()
    with transaction.one_transaction():
        row.secret = secret
        admin_events.record(AuditKind.SUBSCRIBER_CHANGED, actor, target=row, target_type="subscriber",
                            target_label=row.name, change="secret_rotated")
    return secret


def set_active(actor: User, row: Subscriber, active: bool) -> None:
    with transaction.one_transaction():
        row.active = active
        admin_events.record(AuditKind.SUBSCRIBER_CHANGED, actor, target=row, target_type="subscriber",
                            target_label=row.name, change="activated" if active else "deactivated")


def replay(actor: User, delivery_id: int | None = None, subscriber_id: int | None = None) -> int:
    """One dead letter (``delivery_id``), or all (of one subscriber), back into the queue."""
    with transaction.one_transaction():
        ids = delivery.replay([delivery_id] if delivery_id is not None else None, subscriber_id)
        if ids:
            admin_events.record(AuditKind.DELIVERY_REPLAYED, actor, target_type="delivery",
                                target_label=", ".join(str(i) for i in ids[:20]), deliveries=ids,
                                subscriber_id=subscriber_id)
    return len(ids)


def all_subscribers() -> list[Subscriber]:
    return list(db.session.scalars(sa.select(Subscriber).order_by(Subscriber.active.desc(), Subscriber.name,
                                                                  Subscriber.id)))


def counts() -> dict[int, dict[str, int]]:
    """Per subscriber: deliveries pending, delivered, dead."""
    rows = db.session.execute(sa.select(Delivery.subscriber_id, Delivery.status, sa.func.count())
                              .group_by(Delivery.subscriber_id, Delivery.status)).all()
    result: dict[int, dict[str, int]] = {}
    for subscriber_id, status, n in rows:
        result.setdefault(subscriber_id, dict.fromkeys((PENDING, DELIVERED, DEAD), 0))[status] = n
    return result


def deliveries(status: str | None = None, subscriber_id: int | None = None, limit: int = 200) -> list[Delivery]:
    query = sa.select(Delivery)
    if status in (PENDING, DELIVERED, DEAD):
        query = query.where(Delivery.status == status)
    if subscriber_id is not None:
        query = query.where(Delivery.subscriber_id == subscriber_id)
    return list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


def get_delivery(delivery_id: int) -> Delivery:
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(N_("Không có lần gửi này."), code="delivery_not_found")
    return row


def waiting_behind(row: Delivery) -> Delivery | None:
    """The earliest undelivered message of the same dossier to the same subscriber before ``row``."""
    if row.nomination_id is None or row.status == DELIVERED:
        return None
    return db.session.scalar(
        sa.select(Delivery).where(Delivery.subscriber_id == row.subscriber_id,
                                  Delivery.nomination_id == row.nomination_id,
                                  Delivery.sequence < row.sequence, Delivery.status != DELIVERED)
        .order_by(Delivery.sequence).limit(1))
