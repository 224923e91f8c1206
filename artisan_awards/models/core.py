"""Typed SQLAlchemy 2 models.

Invariants the database itself guards: a role is held once per user, a dossier
code is unique, the transition log is append-only (triggers in the migration),
and a nomination row carries a version counter so that two officers acting on
the same dossier at once cannot both win.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, WriteOnlyMapped, joinedload, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from workflows.law_days import LawCalendar, add_days
from workflows.machine import ROLES, Subject
from workflows.programme import ARTISAN_ID
from workflows.registry import registry
from workflows.states import STATE_INFO, State

from ..extensions import commit_keeping_loaded, db
from ..field_crypto import EncryptedDate, EncryptedText, phone_index
from ..text import search_key
from ..timeutil import as_utc, local_date, now_utc

if TYPE_CHECKING:
    from .partners import Partner

# The largest value an INTEGER column holds (PostgreSQL): ids beyond it cannot exist.
MAX_DB_INT = 2**31 - 1


def get_row(model, ident: int | None):
    """``db.session.get`` for an id from outside; None (not a database error) when out of range."""
    if ident is None or not 0 < ident <= MAX_DB_INT:
        return None
    return db.session.get(model, ident)


class Title(enum.StrEnum):
    PEOPLE = "people"  # Nghệ nhân nhân dân
    MERITORIOUS = "meritorious"  # Nghệ nhân ưu tú


class GoverningDecree(enum.StrEnum):
    D43_2024 = "43/2024"
    D123_2014 = "123/2014"


class Province(db.Model):
    __tablename__ = "provinces"

    code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    gso_code: Mapped[str] = mapped_column(sa.String(2))
    name: Mapped[str] = mapped_column(sa.String(80))
    full_name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(default=True)
    # The 2025 reorganisation (migration 0020, data/province_mergers.csv): the unit this former
    # province was merged into, and the day that took effect.
    successor_code: Mapped[str | None] = mapped_column(sa.String(3))
    merged_on: Mapped[date | None]

    def __repr__(self) -> str:
        return f"<Province {self.code} {self.name}>"

    def merged_by(self, on: date) -> bool:
        """True once this province's merger into its successor has taken effect."""
        return self.successor_code is not None and self.merged_on is not None and on >= self.merged_on


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    province_code: Mapped[str | None] = mapped_column(sa.ForeignKey("provinces.code"))
    locale: Mapped[str] = mapped_column(sa.String(5), default="vi")
    active: Mapped[bool] = mapped_column(default=True)
    # False only between self-registration and the click on the confirmation link (migration 0005).
    email_confirmed: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    # Failed logins are counted in login_throttles (migration 0014).  The columns failed_logins
    # and locked_until of the old lockout (0007) stay in the table, unused and unmapped.

    province: Mapped[Province | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def set_roles(self, roles) -> None:
        wanted = set(roles)
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    # The live login session this object was loaded through (services/sessions.py); Flask-Login
    # keeps get_id() in the signed cookie, so the cookie carries "<user id>:<session key>".
    login_session_key = None  # not columns
    login_session_id = None

    def get_id(self) -> str:  # Flask-Login
        if self.login_session_key is None:
            raise RuntimeError("a login needs a login session: use services.sessions.login")
        return f"{self.id}:{self.login_session_key}"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", name="uq_user_roles_user_role"),
        sa.CheckConstraint(sa.column("role").in_(ROLES), name="known_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(40))

    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(db.Model):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    # Last request made with it (updated at most once a minute) and the client that asked for it
    # (migration 0014): shown on the "Phiên đăng nhập" page.
    last_seen_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    user_agent: Mapped[str] = mapped_column(sa.String(120), default="", server_default="")
    client_address: Mapped[str] = mapped_column(sa.String(45), default="", server_default="")

    TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute

    @classmethod
    def live(cls, plain: str) -> ApiToken | None:
        """The live token behind a bearer value: not expired, not ended, its account active and confirmed."""
        digest = hashlib.sha256(plain.encode()).hexdigest()
        # One statement for the token, its account and the account's roles (the guard asks for all three on
        # every API request): before, three (the token, then the account, then its roles, lazily).
        token = db.session.execute(
            sa.select(cls).where(cls.token_hash == digest)
            .options(joinedload(cls.user).joinedload(User.role_rows))
        ).unique().scalar_one_or_none()
        if token is None:
            return None
        if as_utc(token.expires_at) <= now_utc() or not token.user.active or not token.user.email_confirmed:
            return None
        return token

    def touch(self, address: str) -> None:
        """Note when the token was last used (at most once a minute) and from where; commits."""
        now = now_utc()
        seen = as_utc(self.last_seen_at)
        if seen is None or seen < now - timedelta(seconds=self.TOUCH_SECONDS):
            db.session.execute(sa.update(ApiToken).where(ApiToken.id == self.id)
                               .values(last_seen_at=now, client_address=address[:45]))
            # The commit keeps what this request has just read (the token, its account and roles, read in
            # this transaction a moment ago) instead of expiring it: the view would otherwise read the three
            # again at its first use of ``g.api_user``.  Only this token's two columns are refreshed.
            commit_keeping_loaded()
            set_committed_value(self, "last_seen_at", now)
            set_committed_value(self, "client_address", address[:45])

    user: Mapped[User] = relationship()


class LoginSession(db.Model):
    """One browser login (migration 0014).  The cookie carries a random key; only its SHA-256 is kept.

    Flask-Login's user loader accepts a cookie only while its row is live: not ended (logout, the
    sessions page, a password/role/status change), not idle too long, not older than the absolute limit.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    user_agent: Mapped[str] = mapped_column(sa.String(120), default="")
    client_address: Mapped[str] = mapped_column(sa.String(45), default="")
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(sa.String(40))

    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Failed logins counted per scope (account, client address, or both; migration 0014).

    ``scope_hash`` is the SHA-256 of e.g. ``pair:<email>|<address>``: no e-mail or address in clear.
    See services/throttle.py for the rule.
    """

    __tablename__ = "login_throttles"

    scope_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, index=True)


def _version_in_effect(context) -> str:
    """A new round's programme version: the one in effect on the day its intake opens (the first version
    for a round opening before it: an artisan round under Decree 123/2014 runs the procedure as defined)."""
    params = context.get_current_parameters()
    programme_id = params.get("programme_id") or ARTISAN_ID
    opens = params.get("intake_opens") or local_date(now_utc())
    if isinstance(opens, str):  # a core insert may give the day as ISO text (bench/, data loads)
        opens = date.fromisoformat(opens[:10])
    try:
        return registry().effective(programme_id, opens).version
    except KeyError:
        return registry().versions(programme_id)[0].version


class Round(db.Model):
    """A round (đợt xét tặng).  Its plan - windows and deadlines - is data, never code."""

    __tablename__ = "rounds"
    __table_args__ = (
        sa.CheckConstraint("intake_opens <= intake_closes", name="intake_in_order"),
        sa.CheckConstraint("consultation_days >= 0", name="consultation_days_positive"),
        sa.CheckConstraint("consultation_windows BETWEEN 0 AND 2", name="consultation_windows_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    governing_decree: Mapped[str] = mapped_column(sa.String(10), default=GoverningDecree.D43_2024)
    intake_opens: Mapped[date]
    intake_closes: Mapped[date]
    reply_days: Mapped[int] = mapped_column(default=10)  # secretariat's written reply
    completion_days: Mapped[int] = mapped_column(default=15)  # applicant completes a returned file
    consultation_days: Mapped[int] = mapped_column(default=20)
    consultation_windows: Mapped[int] = mapped_column(default=2)
    # Stage deadlines from the Minister's plan, e.g. {"province_to_ministry": "2025-12-31"}.
    deadlines: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    # Whether each window counts calendar or working days (workflows.law_days.DayKind; migration 0020).
    reply_day_kind: Mapped[str] = mapped_column(sa.String(10), default="calendar", server_default="calendar")
    # The programme and its version the round runs (workflows/programmes, docs/programmes.md; migration 0029):
    # by default the artisan titles' version in effect on the day intake opens.
    programme_id: Mapped[str] = mapped_column(sa.String(40), default=ARTISAN_ID, server_default=ARTISAN_ID)
    programme_version: Mapped[str] = mapped_column(sa.String(20), default=_version_in_effect,
                                                   server_default="2024")
    completion_day_kind: Mapped[str] = mapped_column(sa.String(10), default="calendar",
                                                     server_default="calendar")
    consultation_day_kind: Mapped[str] = mapped_column(sa.String(10), default="calendar",
                                                       server_default="calendar")
    # Provinces' own intake deadlines within the round's window (migration 0020).
    province_intakes: Mapped[list[ProvinceIntake]] = relationship(
        cascade="all, delete-orphan", order_by="ProvinceIntake.province_code", lazy="selectin",
        back_populates="round",
    )

    def intake_closes_for(self, province_code: str | None) -> date:
        """The last day of intake for a province: its own deadline if it set one, else the round's."""
        for row in self.province_intakes:
            if row.province_code == province_code:
                return row.intake_closes
        return self.intake_closes

    def status(self, today: date) -> str:
        if today < self.intake_opens:
            return "planned"
        if today <= self.intake_closes:
            return "intake"
        return "review"

    def intake_is_open(self, today: date, province_code: str | None = None) -> bool:
        """Open on ``today``; with a province, up to that province's own deadline."""
        closes = self.intake_closes if province_code is None else self.intake_closes_for(province_code)
        return self.intake_opens <= today <= closes


class ProvinceIntake(db.Model):
    """A province's own intake deadline in a round, within the round's window (migration 0020)."""

    __tablename__ = "province_intakes"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    province_code: Mapped[str] = mapped_column(sa.ForeignKey("provinces.code"), primary_key=True)
    intake_closes: Mapped[date]
    note: Mapped[str | None] = mapped_column(sa.String(300))
    set_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    round: Mapped[Round] = relationship(back_populates="province_intakes")
    province: Mapped[Province] = relationship()


class PublicHoliday(db.Model):
    """A day of the holiday calendar (migration 0020): a day off (``off``: a public holiday, Tết, a
    compensatory day) or a weekend day made a working day (``work``: a swapped Saturday)."""

    __tablename__ = "public_holidays"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('off', 'work')", name="known_kind"),
        sa.CheckConstraint("confidence IN ('H', 'M', 'L')", name="known_confidence"),
    )

    day: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(4))
    name: Mapped[str] = mapped_column(sa.String(200))
    source: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    confidence: Mapped[str] = mapped_column(sa.String(1), default="M", server_default="M")
    # A day off the Labour Code names (Art. 112: public holidays, Tết), not a compensatory or swapped one
    # (migration 0027; the API's kind ``holiday`` against ``day_off``).
    statutory: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_by: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


def law_calendar() -> LawCalendar:
    """The holiday calendar from ``public_holidays``, read once per application context (request)."""
    from flask import current_app, g, has_app_context

    if has_app_context() and "law_calendar" in g:
        return g.law_calendar
    rows = db.session.execute(sa.select(PublicHoliday.day, PublicHoliday.kind)).all()
    roll = bool(current_app.config.get("DEADLINE_ROLL_FORWARD", False)) if has_app_context() else False
    calendar = LawCalendar.of((d for d, k in rows if k == "off"), (d for d, k in rows if k == "work"), roll)
    if has_app_context():
        g.law_calendar = calendar
    return calendar


def forget_law_calendar() -> None:
    """Drop the cached calendar (after an edit of the holidays or in a long-lived CLI context)."""
    from flask import g, has_app_context

    if has_app_context():
        g.pop("law_calendar", None)


# The province inbox's states (province/routes.py INBOX_STATES): the partial index of migration 0028.
_INBOX_WHERE = "state IN ('submitted', 'returned', 'accepted', 'province_passed')"
# 0032: the other programmes' dossiers only (services/programme_dossiers.awaiting, visible), a few among the
# artisan titles' many: the query inlines the id so that a generic plan can use the index too
OTHER_PROGRAMMES_WHERE = f"programme_id <> '{ARTISAN_ID}'"


class Nomination(db.Model):
    """A dossier (hồ sơ đề nghị xét tặng) for one nominee in one round."""

    __tablename__ = "nominations"
    __table_args__ = (
        # The artisan titles' states and titles; another programme's states are its definition's (0029).
        sa.CheckConstraint(sa.or_(sa.column("programme_id") != ARTISAN_ID,
                                  sa.column("state").in_([s.value for s in State])), name="known_state"),
        sa.CheckConstraint(sa.or_(sa.column("programme_id") != ARTISAN_ID,
                                  sa.column("title").in_([t.value for t in Title])), name="known_title"),
        sa.CheckConstraint("learners_trained IS NULL OR learners_trained >= 0", name="learners_positive"),
        sa.CheckConstraint(
            "state <> 'awarded' OR (decision_no IS NOT NULL AND decision_date IS NOT NULL)",
            name="awarded_has_decision",
        ),
        sa.Index("ix_nominations_province_state", "province_code", "state"),
        # Migration 0009: the ministry's list (newest first) and the dashboard's counts, at scale.
        sa.Index("ix_nominations_updated_at", "updated_at"),
        sa.Index("ix_nominations_round_province_state", "round_id", "province_code", "state"),
        sa.Index("ix_nominations_province_received", "province_code", "received_at", "id"),  # 0018: the inbox
        # 0026: a partner's dossier code is its own once (a repeat is answered, never stored twice)
        sa.Index("uq_nominations_partner_external_code", "partner_id", "external_code", unique=True),
        # 0028: the inbox's own states only (province/routes.py INBOX_STATES), in its order
        sa.Index("ix_nominations_province_inbox", "province_code", "received_at", "id",
                 postgresql_where=sa.text(_INBOX_WHERE), sqlite_where=sa.text(_INBOX_WHERE)),
        # 0032: the other programmes' dossiers, by province in the inboxes' order
        sa.Index("ix_nominations_other_programmes", "province_code", "state_changed_at", "id",
                 postgresql_where=sa.text(OTHER_PROGRAMMES_WHERE), sqlite_where=sa.text(OTHER_PROGRAMMES_WHERE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    access_key_hash: Mapped[str | None] = mapped_column(sa.String(64))
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    province_code: Mapped[str] = mapped_column(sa.ForeignKey("provinces.code"))
    # The province a transferred dossier was first filed with (its code keeps that province's short
    # code; migration 0020); None for a dossier never transferred.
    filed_province_code: Mapped[str | None] = mapped_column(sa.String(3))
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(12))
    posthumous: Mapped[bool] = mapped_column(default=False)
    governing_decree: Mapped[str] = mapped_column(sa.String(10), default=GoverningDecree.D43_2024)

    # Nominee (Mẫu 01/02, identity part).
    full_name: Mapped[str] = mapped_column(sa.String(200))
    name_key: Mapped[str] = mapped_column(sa.String(200), index=True, default="")
    pen_name: Mapped[str | None] = mapped_column(sa.String(200))
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate("nominations.birth_date"))
    death_date: Mapped[date | None]
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    ethnicity: Mapped[str | None] = mapped_column(sa.String(50))
    hometown: Mapped[str | None] = mapped_column(sa.String(300))
    address: Mapped[str | None] = mapped_column(EncryptedText("nominations.address"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("nominations.phone"))
    # HMAC-SHA256 of the phone's digits under FIELD_INDEX_KEY (field_crypto.phone_index): the lists find
    # a dossier by its phone without the phone being readable in the database.
    phone_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    # when the retention job (services/retention.py) anonymised this ended dossier
    personal_data_erased_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    email: Mapped[str | None] = mapped_column(sa.String(254))

    # Craft.
    craft: Mapped[str] = mapped_column(sa.String(200), default="")
    special_craft: Mapped[bool] = mapped_column(default=False)
    special_craft_rationale: Mapped[str | None] = mapped_column(sa.Text)
    workshop: Mapped[str | None] = mapped_column(sa.String(300))
    career_summary: Mapped[str | None] = mapped_column(sa.Text)
    skills_summary: Mapped[str | None] = mapped_column(sa.Text)
    honours_summary: Mapped[str | None] = mapped_column(sa.Text)
    meritorious_decision_no: Mapped[str | None] = mapped_column(sa.String(60))
    meritorious_decision_date: Mapped[date | None]
    meritorious_field: Mapped[str | None] = mapped_column(sa.String(30))
    learners_trained: Mapped[int | None]
    intangible_heritage_track: Mapped[bool] = mapped_column(default=False)

    # Who files.
    filed_by_name: Mapped[str | None] = mapped_column(sa.String(200))
    filed_by_relationship: Mapped[str] = mapped_column(sa.String(20), default="self")

    # Workflow.
    state: Mapped[str] = mapped_column(sa.String(30), default=State.DRAFT, index=True)
    # The programme version the dossier was filed under, its round's (set at insert; migration 0029): the
    # dossier stays on it when a newer version takes effect.  ``programme_data``: the values of the
    # programme's own dossier fields (the artisan titles keep their columns).
    programme_id: Mapped[str | None] = mapped_column(sa.String(40), nullable=False, server_default=ARTISAN_ID)
    programme_version: Mapped[str | None] = mapped_column(sa.String(20), nullable=False, server_default="2024")
    programme_data: Mapped[dict | None] = mapped_column(sa.JSON)
    held_from: Mapped[str | None] = mapped_column(sa.String(30))
    # The highest stage (workflows.machine.Stage) the dossier has ever reached: national roles see a
    # dossier from their stage on (permissions.STAGE_FROM).  Set with every move (record_move).
    stage_reached: Mapped[int] = mapped_column(sa.SmallInteger, default=0, server_default="0")
    state_changed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    submitted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # A paper or postal dossier: the day it reached the department and its receipt-book number
    # (migration 0019).  When set, it - not the day it was typed in - starts the reply clock and
    # chooses the governing decree: recording it sets received_at (and submitted_at for a first
    # filing) to that day (services/hard_cases.py).
    arrived_on: Mapped[date | None]
    receipt_book_no: Mapped[str | None] = mapped_column(sa.String(40))
    # After the nominee's death the family is the applicant side (migration 0019; its name and
    # relationship are filed_by_name / filed_by_relationship).
    family_contact_phone: Mapped[str | None] = mapped_column(EncryptedText("nominations.family_contact_phone"))
    family_contact_email: Mapped[str | None] = mapped_column(EncryptedText("nominations.family_contact_email"))
    consultation_ends: Mapped[date | None]
    decision_no: Mapped[str | None] = mapped_column(sa.String(60))
    decision_date: Mapped[date | None]
    # The President's decision (migration 0021): the title it awards and the bonus computed on that day
    # (coefficient x base salary in force on the decision date), kept as recorded for finance.
    award_title: Mapped[str | None] = mapped_column(sa.String(20))
    award_coefficient: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    award_base_salary_vnd: Mapped[int | None] = mapped_column(sa.BigInteger)
    award_bonus_vnd: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=now_utc, onupdate=now_utc
    )
    version: Mapped[int] = mapped_column(default=1)
    # How the dossier came in (models.partners.CHANNELS: web, paper, partner) and, from a partner system,
    # its code there and a digest of the message, so a repeat is recognised (integration/intake.py).
    channel: Mapped[str] = mapped_column(sa.String(10), default="web", server_default="web")
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partners.id"))
    external_code: Mapped[str | None] = mapped_column(sa.String(100))
    intake_digest: Mapped[str | None] = mapped_column(sa.String(64))

    __mapper_args__ = {"version_id_col": version}

    round: Mapped[Round] = relationship()
    # Loaded on first use (a partner row is read once per session): a joined load would put an
    # outer join under every "SELECT ... FOR UPDATE" of a dossier, which PostgreSQL refuses.
    partner: Mapped[Partner | None] = relationship(lazy="select")
    province: Mapped[Province] = relationship()
    owner: Mapped[User] = relationship()
    periods: Mapped[list[CraftPeriod]] = relationship(
        cascade="all, delete-orphan", order_by="CraftPeriod.from_date", lazy="selectin"
    )
    products: Mapped[list[Product]] = relationship(
        cascade="all, delete-orphan", order_by="Product.id", lazy="selectin"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", order_by="Attachment.id"
    )
    log: WriteOnlyMapped[TransitionLog] = relationship(
        order_by="TransitionLog.id", passive_deletes="all"
    )

    # -- derived values -------------------------------------------------
    @property
    def state_enum(self) -> State:
        return State(self.state)

    @property
    def staff_label(self) -> str:
        return STATE_INFO[self.state_enum].staff_label

    @property
    def citizen_label(self) -> str:
        return STATE_INFO[self.state_enum].citizen_label

    @property
    def next_step(self) -> str:
        return STATE_INFO[self.state_enum].next_step

    def reply_due(self) -> date | None:
        """The secretariat's written reply is due 10 days (the round's number) after receipt."""
        return self.due_date() if self.state == State.SUBMITTED else None

    def completion_due(self) -> date | None:
        """A returned dossier must be completed within 15 days (the round's number)."""
        return self.due_date() if self.state == State.RETURNED else None

    def due_date(self) -> date | None:
        return window_due(self.state, self.received_at, self.returned_at, self.round)

    def is_overdue(self, today: date) -> bool:
        due = self.due_date()
        return due is not None and today > due

    def subject(self, today: date) -> Subject:
        """The plain object the state machine moves."""
        completion = self.completion_due()
        return Subject(
            state=self.state_enum,
            held_from=State(self.held_from) if self.held_from else None,
            intake_open=self.round.intake_is_open(today, self.province_code),
            completion_open=completion is None or today <= completion,
            consultation_over=self.consultation_ends is None or today >= self.consultation_ends,
            consultation_windows=self.round.consultation_windows,
        )

    def refresh_name_key(self) -> None:
        self.name_key = search_key(self.full_name)


@sa.event.listens_for(Nomination, "before_insert")
def _filed_under_the_rounds_programme(_mapper, connection, target: Nomination) -> None:
    """A new dossier runs the programme version of its round (unless the caller said which)."""
    if target.programme_id is None or target.programme_version is None:
        rounds = Round.__table__
        target.programme_id, target.programme_version = connection.execute(
            sa.select(rounds.c.programme_id, rounds.c.programme_version).where(rounds.c.id == target.round_id)
        ).one()


@sa.event.listens_for(Nomination, "before_insert")
@sa.event.listens_for(Nomination, "before_update")
def _index_phone(_mapper, _connection, target: Nomination) -> None:
    """Keep the keyed index of the phone (field_crypto.phone_index) with the phone, at each write."""
    target.phone_index = phone_index(target.phone)


def window_due(state: str, received_at: datetime | None, returned_at: datetime | None,
               round_: Round, calendar: LawCalendar | None = None) -> date | None:
    """The day a dossier's own clock runs out: the secretariat's reply (``reply_days`` after
    receipt) while submitted, the applicant's completion (``completion_days`` after the return)
    while returned, each in the window's own days (calendar or working: ``workflows.law_days``).
    The one rule behind ``Nomination.due_date`` and the lists' ``Deadlines``.
    A paper dossier's recorded arrival (services/hard_cases.py) sets ``received_at`` to that day."""
    if state == State.SUBMITTED and received_at is not None:
        return add_days(local_date(received_at), round_.reply_days, round_.reply_day_kind or "calendar",
                        calendar or law_calendar())
    if state == State.RETURNED and returned_at is not None:
        return add_days(local_date(returned_at), round_.completion_days,
                        round_.completion_day_kind or "calendar", calendar or law_calendar())
    return None


class CraftPeriod(db.Model):
    __tablename__ = "craft_periods"
    __table_args__ = (sa.CheckConstraint("from_date <= to_date", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    from_date: Mapped[date]
    to_date: Mapped[date]
    workplace: Mapped[str] = mapped_column(sa.String(300), default="")
    role: Mapped[str | None] = mapped_column(sa.String(200))


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        sa.CheckConstraint("award_rank IS NULL OR award_rank >= 1", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(300))
    made_on: Mapped[date | None]
    materials: Mapped[str | None] = mapped_column(sa.String(300))
    self_designed: Mapped[bool] = mapped_column(default=True)
    award_rank: Mapped[int | None]
    award_level: Mapped[str | None] = mapped_column(sa.String(20))
    award_state_delegated: Mapped[bool] = mapped_column(default=False)
    award_organiser: Mapped[str | None] = mapped_column(sa.String(300))
    awarded_on: Mapped[date | None]


class AttachmentKind(enum.StrEnum):
    PORTRAIT = "portrait"  # the 4x6 photo printed in the declaration's box
    PHOTO = "photo"
    VIDEO = "video"
    AWARD_DECISION = "award_decision"
    CERTIFICATE = "certificate"
    AUTHORISATION = "authorisation"
    DEATH_EVIDENCE = "death_evidence"  # death certificate or notice (services/hard_cases.py)
    OTHER = "other"


class Attachment(db.Model):
    """Evidence uploaded with a dossier.  The file lives outside the web root."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(
        sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class TransitionLog(db.Model):
    """Append-only: one row per transition.  Triggers in the migration refuse UPDATE and DELETE."""

    __tablename__ = "transition_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    from_state: Mapped[str] = mapped_column(sa.String(30))
    to_state: Mapped[str] = mapped_column(sa.String(30))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    meta: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Tamper evidence (artisan_awards/audit_chain.py): one keyed chain (HMAC-SHA256) over this table and
    # audit_events, numbered by ``seq``.  Written only by audit_chain.append() at commit.
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    hash: Mapped[str] = mapped_column(sa.String(64), default="")


class BaseSalary(db.Model):
    """The base salary (lương cơ sở) in force from a date: the award bonus is a multiple of it."""

    __tablename__ = "base_salaries"
    __table_args__ = (sa.CheckConstraint("amount_vnd > 0", name="ck_base_salaries_amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(unique=True)
    amount_vnd: Mapped[int] = mapped_column(sa.BigInteger)
    legal_basis: Mapped[str] = mapped_column(sa.String(200), default="")
    verified: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class CodeCounter(db.Model):
    """Next number of the dossier code per province and year (NN-2026-HNI-00042)."""

    __tablename__ = "code_counters"

    province_code: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
