"""The administration audit log: accounts, roles, logins, rounds and councils.

Append-only (triggers in migration 0005 refuse UPDATE and DELETE) and keyed-chained with the
transition log (``artisan_awards/audit_chain.py``, migration 0013).  It never records a ballot's content:
ballot secrecy holds here too.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import now_utc


class AuditKind(enum.StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    ACCOUNT_INVITED = "account_invited"
    ACCOUNT_REGISTERED = "account_registered"
    EMAIL_CONFIRMED = "email_confirmed"
    ROLES_CHANGED = "roles_changed"
    PROVINCE_CHANGED = "province_changed"
    ACCOUNT_DEACTIVATED = "account_deactivated"
    ACCOUNT_REACTIVATED = "account_reactivated"
    ACCOUNTS_IMPORTED = "accounts_imported"
    SESSIONS_ENDED = "sessions_ended"
    ROUND_CREATED = "round_created"
    ROUND_CHANGED = "round_changed"
    COUNCIL_CREATED = "council_created"
    # The law's hard cases (services/hard_cases.py), target: the dossier.
    NOMINEE_DEATH_RECORDED = "nominee_death_recorded"
    EXCLUSION_OVERRIDDEN = "exclusion_overridden"
    PAPER_ARRIVAL_RECORDED = "paper_arrival_recorded"
    SPECIAL_CRAFT_DECIDED = "special_craft_decided"
    COMPLETION_EXPIRED = "completion_expired"
    HOLIDAY_CHANGED = "holiday_changed"  # the law's calendar (migration 0020)
    INTAKE_CHANGED = "intake_changed"  # a province's own intake deadline
    PROVINCE_TRANSFER = "province_transfer"  # dossiers moved to a merged province's successor
    COUNCIL_MEMBER_INVITED = "council_member_invited"
    SESSION_CHANGED = "session_changed"
    SESSION_CANCELLED = "session_cancelled"
    BASE_SALARY_ADDED = "base_salary_added"
    # personal data (issue 17): consents, the person's requests and their answers, exports of one's data
    CONSENT_RECORDED = "consent_recorded"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    DATA_REQUEST_OPENED = "data_request_opened"
    DATA_REQUEST_ANSWERED = "data_request_answered"
    PERSONAL_DATA_EXPORTED = "personal_data_exported"
    PRIVACY_NOTICE_PUBLISHED = "privacy_notice_published"
    # Personal data (issue 17): a masked field shown on demand with its reason, a retention run, a breach.
    PERSONAL_DATA_REVEALED = "personal_data_revealed"
    RETENTION_APPLIED = "retention_applied"
    BREACH_RECORDED = "breach_recorded"
    # Other systems (issue 19): a webhook or partner subscriber added, changed, its secret rotated; a replay.
    SUBSCRIBER_CHANGED = "subscriber_changed"
    DELIVERY_REPLAYED = "delivery_replayed"
    # partner systems that file dossiers (issue 19, integration/partners.py), target: the partner
    PARTNER_CREATED = "partner_created"
    PARTNER_CHANGED = "partner_changed"
    PARTNER_DEACTIVATED = "partner_deactivated"
    PARTNER_REACTIVATED = "partner_reactivated"
    PARTNER_KEY_ROTATED = "partner_key_rotated"
    # typical products' certificates (issue 18, services/certificates.py), target: the certificate
    CERTIFICATE_ISSUED = "certificate_issued"
    CERTIFICATE_REVOKED = "certificate_revoked"
    SCORER_ASSIGNED = "scorer_assigned"  # a level's panel of scorers (services/scoring.py), target: the scorer
    # a year of the national khuyến công plan opened, its guidance edited (services/schemes.py), target: its round
    SCHEME_YEAR_OPENED = "scheme_year_opened"
    SCHEME_YEAR_CHANGED = "scheme_year_changed"


AREAS = {
    "account": {AuditKind.LOGIN, AuditKind.LOGIN_FAILED, AuditKind.PASSWORD_CHANGED,
                AuditKind.PASSWORD_RESET_REQUESTED, AuditKind.ACCOUNT_INVITED,
                AuditKind.ACCOUNT_REGISTERED, AuditKind.EMAIL_CONFIRMED,
                AuditKind.ACCOUNT_DEACTIVATED, AuditKind.ACCOUNT_REACTIVATED,
                AuditKind.ACCOUNTS_IMPORTED, AuditKind.SESSIONS_ENDED},
    "role": {AuditKind.ROLES_CHANGED, AuditKind.PROVINCE_CHANGED},
    "round": {AuditKind.ROUND_CREATED, AuditKind.ROUND_CHANGED, AuditKind.HOLIDAY_CHANGED,
              AuditKind.INTAKE_CHANGED, AuditKind.PROVINCE_TRANSFER, AuditKind.SCHEME_YEAR_OPENED,
              AuditKind.SCHEME_YEAR_CHANGED},
    "dossier": {AuditKind.NOMINEE_DEATH_RECORDED, AuditKind.EXCLUSION_OVERRIDDEN, AuditKind.PAPER_ARRIVAL_RECORDED,
                AuditKind.SPECIAL_CRAFT_DECIDED, AuditKind.COMPLETION_EXPIRED},
    "council": {AuditKind.COUNCIL_CREATED, AuditKind.COUNCIL_MEMBER_INVITED, AuditKind.SESSION_CHANGED,
                AuditKind.SESSION_CANCELLED},
    "award": {AuditKind.BASE_SALARY_ADDED},
    "personal_data": {AuditKind.CONSENT_RECORDED, AuditKind.CONSENT_WITHDRAWN, AuditKind.DATA_REQUEST_OPENED,
                      AuditKind.DATA_REQUEST_ANSWERED, AuditKind.PERSONAL_DATA_EXPORTED,
                      AuditKind.PRIVACY_NOTICE_PUBLISHED},
    "privacy": {AuditKind.PERSONAL_DATA_REVEALED, AuditKind.RETENTION_APPLIED, AuditKind.BREACH_RECORDED},
    "integration": {AuditKind.SUBSCRIBER_CHANGED, AuditKind.DELIVERY_REPLAYED},
    "partner": {AuditKind.PARTNER_CREATED, AuditKind.PARTNER_CHANGED, AuditKind.PARTNER_DEACTIVATED,
                AuditKind.PARTNER_REACTIVATED, AuditKind.PARTNER_KEY_ROTATED},
    "certificate": {AuditKind.CERTIFICATE_ISSUED, AuditKind.CERTIFICATE_REVOKED, AuditKind.SCORER_ASSIGNED},
}


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, index=True)
    kind: Mapped[str] = mapped_column(sa.String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(200), default="")
    target_type: Mapped[str] = mapped_column(sa.String(20), default="")  # user, round, council
    target_id: Mapped[int | None]
    target_label: Mapped[str] = mapped_column(sa.String(300), default="")
    province_code: Mapped[str | None] = mapped_column(sa.String(3))
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # The keyed chain (artisan_awards/audit_chain.py): a global sequence shared with transition_log.
    # Written only by audit_chain.append() at commit; do not add AuditEvent rows to the session directly.
    seq: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    hash: Mapped[str] = mapped_column(sa.String(64), default="")


class AuditChainHead(db.Model):
    """One row: the last sequence number and MAC of the keyed chain over both logs.

    Every transaction that appends to either log updates this row just before it commits, so the
    row lock hands out sequence numbers one transaction at a time, without gaps.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    hash: Mapped[str] = mapped_column(sa.String(64), default="")
    at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
