"""Certificates of the typical rural-industrial products (issue 18): one per product and level.

A level of the selection (the province, the region, the nation: the programme definition's level ids)
issues a certificate to a product it selected.  A certificate is valid from ``issued_on`` to
``valid_until`` (both days included) unless it was revoked: from ``revoked_on`` on it is not.  The
public register and the schemes' priority read validity through ``services.certificates``.

What the certificate says of the product and its holder is copied from the dossier when it is issued
(the paper does not change when the dossier is corrected later).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc

# The levels that issue a certificate, lowest first (the typical products' definition has these ids).
CERTIFICATE_LEVELS = ("province", "region", "nation")


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        sa.CheckConstraint(sa.column("level").in_(CERTIFICATE_LEVELS), name="known_level"),
        sa.CheckConstraint("valid_until >= issued_on", name="valid_after_issue"),
        sa.CheckConstraint("revoked_on IS NULL OR revoked_on >= issued_on", name="revoked_after_issue"),
        sa.CheckConstraint("number <> ''", name="number_not_empty"),
        # one certificate per dossier and level
        sa.UniqueConstraint("nomination_id", "level", name="uq_certificates_nomination_level"),
        sa.Index("ix_certificates_register", "valid_until", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    programme_id: Mapped[str] = mapped_column(sa.String(40))
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    level: Mapped[str] = mapped_column(sa.String(20))
    holder_name: Mapped[str] = mapped_column(sa.String(300))
    product_name: Mapped[str] = mapped_column(sa.String(300))
    product_group: Mapped[str] = mapped_column(sa.String(200), default="")
    province_code: Mapped[str | None] = mapped_column(sa.ForeignKey("provinces.code"))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date)
    revoked_on: Mapped[date | None] = mapped_column(sa.Date)
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    nomination = relationship("Nomination")
    province = relationship("Province")

    def is_valid_on(self, on: date) -> bool:
        """Issued on or before ``on``, ``on`` not after its last valid day, not revoked by then."""
        return self.issued_on <= on <= self.valid_until and (self.revoked_on is None or on < self.revoked_on)

    def __repr__(self) -> str:
        return f"<Certificate {self.number} {self.level}>"
