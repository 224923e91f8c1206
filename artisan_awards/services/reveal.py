"""A masked personal field shown on demand, with its reason logged (issue 17 item 3; the policy is
``permissions.FIELD_ACCESS``, what a page shows ``field_view``)."""

from __future__ import annotations

from workflows.states import N_

from .. import permissions, personal_fields
from ..errors import Forbidden, ValidationFailed
from ..models import AuditKind
from . import admin_events
from .transaction import one_transaction

REASON_MIN = 10
REASON_MAX = 500


def check_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise ValidationFailed(fields={"reason": N_("Ghi rõ lý do cần xem (ít nhất 10 ký tự).")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(fields={"reason": N_("Lý do dài quá 500 ký tự.")})
    return reason


def reveal(user, cls: str, reason: str | None, nomination=None) -> None:
    """Record why ``user`` shows a masked field of class ``cls`` (of ``nomination``; None: the public
    comments).  Refused unless the policy lets the role reveal that class (shown ones need no reason)."""
    if cls in personal_fields.MASKABLE and permissions.field_access(user, cls, nomination) != permissions.REVEAL:
        raise Forbidden()  # shown already, or never to this role
    if cls not in personal_fields.MASKABLE:
        raise ValidationFailed(fields={"cls": N_("Không có loại dữ liệu này.")})
    reason = check_reason(reason)
    with one_transaction():
        admin_events.record(
            AuditKind.PERSONAL_DATA_REVEALED, user,
            target=nomination, target_type="nomination" if nomination is not None else "comments",
            target_label=(nomination.code or f"#{nomination.id}") if nomination is not None else "",
            province_code=nomination.province_code if nomination is not None else None,
            field_class=cls, reason=reason)
