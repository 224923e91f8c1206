"""Personal data (issue 17 items 1, 2, 6; migration 0022): the notices people are shown, the consents
they give or withdraw, the requests they make about their data, and who read their dossier.

``privacy_notices``: the notice's text, one row per version, in Vietnamese and English (version 1 is the
built-in default of ``services/data_rights.py`` while the table is empty).  ``consent_records``: one row per
decision (given or refused, per purpose, with the notice's version); the latest row per person and
purpose is the consent in force, earlier rows are the history.  ``data_requests``: a person's request
(correction, deletion, withdrawal of a consent) as a case with its deadline and answer.
``personal_data_reads``: a light log (no chain, one insert) of who opened a dossier, downloaded evidence
or exported personal data, and why.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .core import User

NOTICE_PURPOSE = "notice"  # the consent row that records that a notice version was shown and read


class RequestKind(enum.StrEnum):
    CORRECTION = "correction"
    DELETION = "deletion"
    WITHDRAWAL = "withdrawal"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class RequestOutcome(enum.StrEnum):
    DONE = "done"  # done as asked
    PARTLY = "partly"  # done where the law allows (what must be kept is kept, and said)
    REFUSED = "refused"  # refused, with the reason


class ReadAction(enum.StrEnum):
    DOSSIER = "dossier"  # opened a dossier's page
    EVIDENCE = "evidence"  # downloaded a piece of evidence
    EXPORT = "export"  # exported a list with personal data (one row per export, not per row)
    OWN_DATA = "own_data"  # the person downloaded all their own data


class PrivacyNotice(db.Model):
    __tablename__ = "privacy_notices"

    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    body_vi: Mapped[str] = mapped_column(sa.Text)
    body_en: Mapped[str] = mapped_column(sa.Text)
    published_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    published_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))


class ConsentRecord(db.Model):
    __tablename__ = "consent_records"
    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR comment_id IS NOT NULL", name="has_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    comment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("public_comments.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    granted: Mapped[bool]
    notice_version: Mapped[int]
    context: Mapped[str] = mapped_column(sa.String(20))  # register, filing, comment, login, account
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class DataRequest(db.Model):
    __tablename__ = "data_requests"
    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_([k.value for k in RequestKind]), name="known_kind"),
        sa.CheckConstraint(sa.column("status").in_([s.value for s in RequestStatus]), name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str | None] = mapped_column(sa.String(40))  # the consent withdrawn
    details: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(20), default=RequestStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    due_on: Mapped[date]
    outcome: Mapped[str | None] = mapped_column(sa.String(20))
    answer: Mapped[str | None] = mapped_column(sa.Text)
    done: Mapped[list] = mapped_column(sa.JSON, default=list)  # what the system did (deletion)
    answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class PersonalDataRead(db.Model):
    __tablename__ = "personal_data_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    reader_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    reader_role: Mapped[str] = mapped_column(sa.String(40))
    subject_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    nomination_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(20))
    purpose: Mapped[str] = mapped_column(sa.String(500))
    target: Mapped[str] = mapped_column(sa.String(200), default="")  # e.g. the evidence's file name

    reader: Mapped[User] = relationship(foreign_keys=[reader_id])
