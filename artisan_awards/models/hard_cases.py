"""The law's hard cases (issue 14, migration 0019): a nominee's death, Art. 2(3) overrides and the
council's special-craft decisions.  The two decision logs are append-only (database triggers)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .core import Attachment, User


class NomineeDeath(db.Model):
    """The recorded death of a nominee during the process, with its evidence: one per dossier."""

    __tablename__ = "nominee_deaths"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), unique=True)
    death_date: Mapped[date]
    evidence_id: Mapped[int] = mapped_column(sa.ForeignKey("attachments.id"))
    state_at_record: Mapped[str] = mapped_column(sa.String(30))
    note: Mapped[str | None] = mapped_column(sa.Text)
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    evidence: Mapped[Attachment] = relationship()
    recorded_by: Mapped[User] = relationship()


class ExclusionOverride(db.Model):
    """A higher role's recorded reason for letting an Art. 2(3)-excluded dossier go on (append-only)."""

    __tablename__ = "exclusion_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    by: Mapped[User] = relationship()


class SpecialCraftDecision(db.Model):
    """A council's decision, in one of its sessions, that a dossier's craft is (not) special (append-only;
    the latest row is in force)."""

    __tablename__ = "special_craft_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id"), index=True)
    is_special: Mapped[bool]
    reasons: Mapped[str] = mapped_column(sa.Text)
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    decided_by: Mapped[User] = relationship()
    session = relationship("CouncilSession")
