"""Councils, their sessions, attendance and secret ballots; public comments.

Secrecy by construction: who took part (``BallotParticipation``) is stored apart
from what was chosen.  What was chosen is sealed while the session is open
(``SealedBallot``: one fixed-length box per ballot, AES-GCM under a key that is
not in the database, a random id, no member, no time) and opened only at the
close, which adds the boxes up, writes each agenda item's counters once and
destroys the boxes.  See ``artisan_awards/ballot_box.py`` and docs/councils.md.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..field_crypto import EncryptedText
from ..timeutil import now_utc
from .core import Nomination, Province, Round, User


class Level(enum.StrEnum):
    PROVINCE = "province"
    MINISTRY = "ministry"
    STATE = "state"


class Position(enum.StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    MEMBER = "member"
    SECRETARY = "secretary"


def ceil_percent(percent: int, total: int) -> int:
    """ceil(percent % of total) in integers: 75 % of 11 -> 9, 90 % of 11 -> 10."""
    return (percent * total + 99) // 100


class Council(db.Model):
    __tablename__ = "councils"
    __table_args__ = (
        sa.CheckConstraint(sa.column("level").in_([lv.value for lv in Level]), name="known_level"),
        sa.CheckConstraint("(level = 'province') = (province_code IS NOT NULL)", name="province_scope"),
        sa.CheckConstraint("quorum_percent BETWEEN 1 AND 100 AND pass_percent BETWEEN 1 AND 100",
                           name="percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(sa.String(10))
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    province_code: Mapped[str | None] = mapped_column(sa.ForeignKey("provinces.code"))
    name: Mapped[str] = mapped_column(sa.String(300))
    decision_no: Mapped[str] = mapped_column(sa.String(60))
    decision_date: Mapped[date | None]
    # Quorum: share of all members present (with the chair or an authorised vice-chair);
    # pass: share of ALL members (not of those present) voting yes.  Rounded up.
    quorum_percent: Mapped[int] = mapped_column(default=75)
    pass_percent: Mapped[int] = mapped_column(default=90)
    exclude_conflicted_votes: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    round: Mapped[Round] = relationship()
    province: Mapped[Province | None] = relationship()
    members: Mapped[list[CouncilMember]] = relationship(
        back_populates="council", cascade="all, delete-orphan", order_by="CouncilMember.id",
        lazy="selectin",
    )
    sessions: Mapped[list[CouncilSession]] = relationship(
        back_populates="council", order_by="CouncilSession.id"
    )

    @property
    def members_total(self) -> int:
        return len(self.members)

    @property
    def quorum(self) -> int:
        return ceil_percent(self.quorum_percent, self.members_total)

    @property
    def pass_threshold(self) -> int:
        return ceil_percent(self.pass_percent, self.members_total)

    def member_for(self, user: User) -> CouncilMember | None:
        return next((m for m in self.members if m.user_id == user.id), None)


class CouncilMember(db.Model):
    __tablename__ = "council_members"
    __table_args__ = (
        sa.UniqueConstraint("council_id", "user_id", name="uq_council_members_council_user"),
        sa.CheckConstraint(sa.column("position").in_([p.value for p in Position]), name="known_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(sa.ForeignKey("councils.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    position: Mapped[str] = mapped_column(sa.String(12), default=Position.MEMBER)
    # A vice-chair the chair has authorised to preside (counts for the quorum's chair rule).
    authorised_to_preside: Mapped[bool] = mapped_column(default=False)

    council: Mapped[Council] = relationship(back_populates="members")
    user: Mapped[User] = relationship(lazy="joined")

    @property
    def can_preside(self) -> bool:
        return self.position == Position.CHAIR or (
            self.position == Position.VICE_CHAIR and self.authorised_to_preside
        )


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class CouncilSession(db.Model):
    __tablename__ = "council_sessions"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_([s.value for s in SessionStatus]), name="known_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(sa.ForeignKey("councils.id"), index=True)
    held_on: Mapped[date]
    place: Mapped[str | None] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(10), default=SessionStatus.PLANNED)
    members_total: Mapped[int | None]  # frozen when the session opens
    present_count: Mapped[int | None]
    quorum_met: Mapped[bool | None]
    opened_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The session's record, stored at its close (migration 0020): dossiers it received (on its
    # agenda), passed and rejected.  Never recomputed from where the dossiers are now.
    received_count: Mapped[int | None]
    passed_count: Mapped[int | None]
    rejected_count: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    council: Mapped[Council] = relationship(back_populates="sessions", lazy="joined")
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="AgendaItem.id", lazy="selectin"
    )
    attendance: Mapped[list[Attendance]] = relationship(
        cascade="all, delete-orphan", order_by="Attendance.id", lazy="selectin"
    )


class AgendaItem(db.Model):
    """One nominee on a session's agenda, with the running secret tally."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "nomination_id", name="uq_agenda_items_session_nomination"),
        sa.CheckConstraint("yes >= 0 AND no >= 0 AND invalid >= 0 AND excluded >= 0", name="counts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"),
                                            index=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    yes: Mapped[int] = mapped_column(default=0)
    no: Mapped[int] = mapped_column(default=0)
    invalid: Mapped[int] = mapped_column(default=0)
    excluded: Mapped[int] = mapped_column(default=0)  # votes set aside for a declared conflict
    passed: Mapped[bool | None]

    session: Mapped[CouncilSession] = relationship(back_populates="items")
    nomination: Mapped[Nomination] = relationship(lazy="joined")


class Attendance(db.Model):
    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "member_id", name="uq_attendance_session_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("council_members.id"))

    member: Mapped[CouncilMember] = relationship(lazy="joined")


class BallotParticipation(db.Model):
    """That a member has cast their ballot in a session: no time, no content.

    WITHOUT ROWID on SQLite: the rows live in primary-key order, not in the order they came.
    """

    __tablename__ = "ballot_participation"
    __table_args__ = (
        sa.PrimaryKeyConstraint("session_id", "member_id", name="pk_ballot_participation"),
        {"sqlite_with_rowid": False},
    )

    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("council_members.id"))


class SealedBallot(db.Model):
    """One ballot's choices for the whole agenda, sealed (``ballot_box.seal``) until the close.

    No member, no time, a random id (WITHOUT ROWID on SQLite, so the file keeps the rows in
    id order, not in arrival order); the box has the same length for every ballot of a session.
    The close opens, counts and deletes every box of the session.
    """

    __tablename__ = "sealed_ballots"
    __table_args__ = ({"sqlite_with_rowid": False},)

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"),
                                            index=True)
    box: Mapped[bytes] = mapped_column(sa.LargeBinary)


class NonVoter(db.Model):
    """A present member who did not vote, with the reason the secretariat recorded at the close."""

    __tablename__ = "session_non_voters"
    __table_args__ = (sa.UniqueConstraint("session_id", "member_id", name="uq_session_non_voters_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"),
                                            index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("council_members.id"))
    reason: Mapped[str] = mapped_column(sa.Text)

    member: Mapped[CouncilMember] = relationship(lazy="joined")


class ConflictDeclaration(db.Model):
    """A member declares a conflict of interest for a nominee before voting (public record)."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "member_id", "nomination_id", name="uq_conflict_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("council_sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("council_members.id"))
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"))
    reason: Mapped[str] = mapped_column(EncryptedText("conflict_declarations.reason"))
    declared_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    member: Mapped[CouncilMember] = relationship(lazy="joined")


class CommentStatus(enum.StrEnum):
    RECEIVED = "received"
    UNDER_VERIFICATION = "under_verification"
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"


class PublicComment(db.Model):
    """A comment or complaint from the public during a consultation window."""

    __tablename__ = "public_comments"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_([s.value for s in CommentStatus]), name="known_status"),
        sa.CheckConstraint(sa.column("kind").in_(["comment", "complaint"]), name="known_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), default="comment")
    full_name: Mapped[str | None] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(EncryptedText("public_comments.phone"))
    address: Mapped[str | None] = mapped_column(EncryptedText("public_comments.address"))
    content: Mapped[str] = mapped_column(sa.Text)
    informational: Mapped[bool] = mapped_column(default=False)  # anonymous: kept, but only informational
    window: Mapped[str] = mapped_column(sa.String(30))  # the consultation state it came in
    status: Mapped[str] = mapped_column(sa.String(20), default=CommentStatus.RECEIVED)
    resolution: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    # when the retention job erased the commenter's name and contacts (services/retention.py)
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    nomination: Mapped[Nomination] = relationship()

    @property
    def blocks(self) -> bool:
        """A signed complaint not yet found unsubstantiated, or a substantiated comment, holds the file."""
        if self.informational or self.status == CommentStatus.UNSUBSTANTIATED:
            return False
        return self.kind == "complaint" or self.status == CommentStatus.SUBSTANTIATED
