"""Partner systems that file dossiers here (the national public-service portal, a province's one-stop
system): who they are, the key their requests are signed with, how their message maps onto ours.

``Partner.key`` is the shared HMAC-SHA256 key of their RFC 9421 signatures, sealed at rest by
``field_crypto`` (column ``partners.key``); it is shown once, when made or rotated.  ``RequestNonce``
remembers every signature nonce seen inside the ``created`` window so that a captured request cannot
be played again (integration/http_signatures.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..field_crypto import EncryptedText
from ..timeutil import now_utc

# How a dossier came in (Nomination.channel).
CHANNEL_WEB = "web"  # the applicant's own form here
CHANNEL_PAPER = "paper"  # filed on paper at the one-stop desk, typed in by the province's officer
CHANNEL_PARTNER = "partner"  # sent by a partner system (POST /api/v1/intake/dossiers)
CHANNELS = (CHANNEL_WEB, CHANNEL_PAPER, CHANNEL_PARTNER)


class Partner(db.Model):
    __tablename__ = "partners"
    __table_args__ = (sa.CheckConstraint("code <> ''", name="partner_code_not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # the keyid of their signatures and the name they are known by in the API's answers
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    # the label of the channel on receipts, e-mails and pages ("Cổng Dịch vụ công quốc gia")
    channel_label: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    key: Mapped[str] = mapped_column(EncryptedText("partners.key"))
    key_created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    # {their field: our NominationIn key}, dotted paths both sides; {} = their message is ours
    field_mapping: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # a province's own system files only for that province; None: any province (the national portal)
    province_code: Mapped[str | None] = mapped_column(sa.ForeignKey("provinces.code"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, onupdate=now_utc)

    def __repr__(self) -> str:
        return f"<Partner {self.code}>"


class RequestNonce(db.Model):
    """A signature nonce already used by a partner; the primary key refuses the second use."""

    __tablename__ = "partner_request_nonces"

    partner_id: Mapped[int] = mapped_column(sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, index=True)
