"""Certificates of the typical rural-industrial products (issue 18): issue, revoke, and the validity reads.

A level of the selection (province, region, nation: the ids of the programme definition's levels) issues
a certificate to a product it selected: its officer (the level's ``officer`` role, in scope) does so
once the level's decision passed the dossier.  One operation (``issue_certificate``, ``revoke``): the
change, its audit event (``admin_events``), the producer told, one commit (``transaction.one_transaction``).

Validity (``Certificate.is_valid_on`` and ``valid_on`` as SQL, the same rule): from ``issued_on`` to
``valid_until``, both days included, and before ``revoked_on``.  ``valid_until`` is the day before the
same date ``CERTIFICATE_VALIDITY_MONTHS[level]`` months after the issue (config; the length is not
verified in the circulars).  The public register and the schemes' priority read only through
``valid_certificate``, ``valid_for_dossier`` and ``register``; the register's filters, as the public page and
the API receive them in the query string, are read once by ``register_filter`` (a ``RegisterFilter``, or the
fields in error).
"""

from __future__ import annotations

import calendar
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app

from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import CERTIFICATE_LEVELS, AuditKind, Certificate, Nomination, TransitionLog, User
from ..text import nfc, vi_sort_key
from ..timeutil import today
from . import admin_events, notifications, transaction

# The number's middle part per level: tỉnh, khu vực, quốc gia (SPTB-KV-2026-000012).
LEVEL_CODE = {"province": "T", "region": "KV", "nation": "QG"}
NUMBER_PREFIX = "SPTB"
# The dossier's own fields the certificate copies (the typical products' definition has these ids).
HOLDER_FIELD, PRODUCT_FIELD, GROUP_FIELD = "producer_name", "product_name", "product_group"
DUPLICATE = N_("Sản phẩm này đã được cấp giấy chứng nhận ở cấp này.")
NUMBER_TAKEN = N_("Số giấy chứng nhận này đã được dùng.")
NUMBER_PATTERN = re.compile(r"[0-9A-Z][0-9A-Z/.\-]{0,39}")


def normalise_number(number: str | None) -> str:
    """A certificate number as stored: NFC, no spaces, upper case ("sptb-kv-2026-000012 " → "SPTB-KV-…")."""
    if not isinstance(number, str):
        return ""
    return re.sub(r"\s+", "", nfc(number)).upper()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days: 31/01 + 1 → 28 or 29/02)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def validity_months(level: str) -> int:
    months = current_app.config.get("CERTIFICATE_VALIDITY_MONTHS", {}).get(level)
    if not isinstance(months, int) or months < 1:
        raise RuntimeError(f"CERTIFICATE_VALIDITY_MONTHS has no length for the level {level!r}")
    return months


def last_valid_day(level: str, issued_on: date) -> date:
    """The last day a certificate of ``level`` issued on ``issued_on`` is valid."""
    return add_months(issued_on, validity_months(level)) - timedelta(days=1)


def valid_on(on: date):
    """The SQL condition of ``Certificate.is_valid_on(on)`` (the register, the schemes' priority)."""
    return sa.and_(Certificate.issued_on <= on, Certificate.valid_until >= on,
                   sa.or_(Certificate.revoked_on.is_(None), Certificate.revoked_on > on))


# -- reading --------------------------------------------------------------------------------------


def valid_certificate(number: str, on: date) -> Certificate | None:
    """The certificate with this number if it is valid on ``on``; None otherwise (unknown, not yet issued,
    expired, revoked)."""
    number = normalise_number(number)
    if not number:
        return None
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number, valid_on(on)))


def valid_for_dossier(nomination_id: int, on: date) -> list[Certificate]:
    """The dossier's certificates valid on ``on``, highest level first."""
    rank = sa.case({level: i for i, level in enumerate(reversed(CERTIFICATE_LEVELS))}, value=Certificate.level)
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.nomination_id == nomination_id,
                                                                valid_on(on)).order_by(rank, Certificate.id)))


def register_query(on: date, level: str | None = None, province_code: str | None = None,
                   product_group: str | None = None, text: str | None = None):
    """The public register: the certificates valid on ``on``, highest level first, then by province and
    product; filtered by level, province, product group and a piece of the product's or holder's name
    or the number."""
    rank = sa.case({lv: i for i, lv in enumerate(reversed(CERTIFICATE_LEVELS))}, value=Certificate.level)
    query = sa.select(Certificate).where(valid_on(on))
    if level:
        query = query.where(Certificate.level == level)
    if province_code:
        query = query.where(Certificate.province_code == province_code)
    if product_group:
        query = query.where(Certificate.product_group == product_group)
    words = nfc(text or "").strip()
    if words:
        like = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(sa.or_(Certificate.product_name.ilike(like, escape="\\"),
                                   Certificate.holder_name.ilike(like, escape="\\"),
                                   Certificate.number.ilike(like, escape="\\")))
    return query.order_by(rank, Certificate.province_code, Certificate.product_name, Certificate.id)


def register(on: date, level: str | None = None, province_code: str | None = None,
             product_group: str | None = None, text: str | None = None) -> list[Certificate]:
    """``register_query``'s rows."""
    return list(db.session.scalars(register_query(on, level, province_code, product_group, text)))


BAD_DAY = N_("Ngày không hợp lệ (định dạng YYYY-MM-DD).")
BAD_LEVEL = N_("Cấp không hợp lệ: chọn cấp tỉnh, cấp khu vực hoặc cấp quốc gia.")
TEXT_MAX = 100  # the search box's length (the page's maxlength, the API's maxLength)


@dataclass(frozen=True)
class RegisterFilter:
    """The register's filters as the query string gives them (the page's form and ``GET /api/v1/certificates``
    alike: ``on``, ``level``, ``province``, ``group``, ``q``); ``None`` is "any"."""

    on: date
    level: str | None = None
    province_code: str | None = None
    product_group: str | None = None
    text: str | None = None

    def rows(self) -> list[Certificate]:
        """The certificates the filter lists."""
        return register(self.on, self.level, self.province_code, self.product_group, self.text)


def register_groups() -> list[str]:
    """The product groups the certificates name, in Vietnamese order (the register page's group choice)."""
    groups = db.session.scalars(sa.select(Certificate.product_group).where(Certificate.product_group != "")
                                .distinct())
    return sorted(groups, key=vi_sort_key)


def register_filter(args: Mapping[str, str]) -> RegisterFilter:
    """Read the register's filters from a query string (``request.args``): the day (ISO, today when empty),
    the level (one of ``CERTIFICATE_LEVELS``), the province's code, the product group and the search text
    (NFC, trimmed, at most ``TEXT_MAX`` characters).  A bad day or an unknown level raises
    ``ValidationFailed`` naming every such field (the API answers 422, the page shows it by the form)."""
    errors: dict[str, str] = {}
    on = today()
    if (args.get("on") or "").strip():
        try:
            on = _day(args["on"], "on")
        except ValidationFailed as exc:
            errors.update(exc.fields)
    level = (args.get("level") or "").strip() or None
    if level is not None and level not in CERTIFICATE_LEVELS:
        errors["level"] = BAD_LEVEL
    if errors:
        raise ValidationFailed(fields=errors)
    text = nfc(args.get("q") or "").strip()[:TEXT_MAX].strip()
    return RegisterFilter(on=on, level=level, province_code=(args.get("province") or "").strip() or None,
                          product_group=nfc(args.get("group") or "").strip() or None, text=text or None)


def for_dossier(nomination_id: int) -> list[Certificate]:
    """Every certificate of the dossier, valid or not, lowest level first (the dossier's page)."""
    rank = sa.case({level: i for i, level in enumerate(CERTIFICATE_LEVELS)}, value=Certificate.level)
    return list(db.session.scalars(sa.select(Certificate).where(Certificate.nomination_id == nomination_id)
                                   .order_by(rank)))


# -- writing --------------------------------------------------------------------------------------


def _level(nomination: Nomination, level_id: str):
    from .programmes import programme_of  # programmes imports nominations; keep this module light

    programme = programme_of(nomination)
    if level_id not in CERTIFICATE_LEVELS:
        raise NotFound(N_("Không có cấp xét này."), code="level_not_found")
    try:
        return programme, programme.level(level_id)
    except KeyError:
        raise NotFound(N_("Không có cấp xét này."), code="level_not_found") from None


def _passed(nomination: Nomination, level) -> bool:
    """Whether the level's decision passed the dossier (its ``passes`` move is in the dossier's log)."""
    passes = getattr(level.decision, "passes", None)
    if not passes:
        return False
    return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog).where(
        TransitionLog.nomination_id == nomination.id, TransitionLog.action == passes)) > 0


def _day(value, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationFailed(fields={field: BAD_DAY})


def issue_certificate(nomination: Nomination, level: str, actor: User, *, issued_on: date | str | None = None,
                      number: str | None = None) -> Certificate:
    """Issue the level's certificate to the product of ``nomination``: its officer, once the level passed it.

    ``issued_on``: the date on the paper (today by default, not in the future); ``number``: an official
    number given by the issuing body (by default the next ``SPTB-<level>-<year>-<n>``).  Refused: another
    role or province, a dossier the level did not pass, a second certificate of the same level."""
    programme, level_def = _level(nomination, level)
    if not permissions.may_act_as(actor, nomination, level_def.officer):
        raise Forbidden()
    issued = _day(issued_on, "issued_on") or today()
    if issued > today():
        raise ValidationFailed(fields={"issued_on": N_("Ngày cấp không được sau ngày hôm nay.")})
    wanted = normalise_number(number) if number not in (None, "") else ""
    if number not in (None, "") and not NUMBER_PATTERN.fullmatch(wanted):
        raise ValidationFailed(fields={"number": N_("Số giấy chứng nhận chỉ gồm chữ, số và các dấu - / . "
                                                    "(tối đa 40 ký tự).")})
    if not _passed(nomination, level_def):
        raise TransitionRefused(N_("Sản phẩm chưa được cấp này bình chọn: chưa thể cấp giấy chứng nhận."),
                                code="not_selected")
    data = nomination.programme_data or {}
    exists = db.session.scalar(sa.select(Certificate.id).where(Certificate.nomination_id == nomination.id,
                                                               Certificate.level == level))
    if exists is not None:
        raise TransitionRefused(DUPLICATE, code="duplicate")
    if wanted and db.session.scalar(sa.select(Certificate.id).where(Certificate.number == wanted)) is not None:
        raise ValidationFailed(fields={"number": NUMBER_TAKEN})
    with transaction.one_transaction(duplicate=TransitionRefused(DUPLICATE, code="duplicate")):
        certificate = Certificate(
            number=wanted or f"~{secrets.token_hex(8)}",  # replaced by the numbered one once the row has its id
            programme_id=programme.id, nomination_id=nomination.id, level=level,
            holder_name=str(data.get(HOLDER_FIELD) or nomination.full_name or "")[:300],
            product_name=str(data.get(PRODUCT_FIELD) or nomination.full_name or "")[:300],
            product_group=str(data.get(GROUP_FIELD) or "")[:200],
            province_code=nomination.province_code, issued_on=issued,
            valid_until=last_valid_day(level, issued),
        )
        db.session.add(certificate)
        db.session.flush()
        if not wanted:
            certificate.number = f"{NUMBER_PREFIX}-{LEVEL_CODE[level]}-{issued.year}-{certificate.id:06d}"
        admin_events.record(AuditKind.CERTIFICATE_ISSUED, actor, target=certificate, target_type="certificate",
                            target_label=certificate.number, province_code=nomination.province_code,
                            nomination_id=nomination.id, level=level, issued_on=issued.isoformat(),
                            valid_until=certificate.valid_until.isoformat())
        notifications.certificate_issued(certificate)
    return certificate


def revoke(certificate: Certificate, actor: User, reason: str, on: date | str | None = None) -> Certificate:
    """Revoke a certificate from ``on`` (today by default): the issuing level's officer, with the reason.

    It is not valid from that day on; the register drops it.  A second revocation is refused."""
    _, level_def = _level(certificate.nomination, certificate.level)
    if not permissions.may_act_as(actor, certificate.nomination, level_def.officer):
        raise Forbidden()
    reason = nfc(reason).strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Hãy nêu lý do thu hồi.")})
    revoked_on = _day(on, "revoked_on") or today()
    if revoked_on < certificate.issued_on:
        raise ValidationFailed(fields={"revoked_on": N_("Ngày thu hồi không được trước ngày cấp.")})
    if revoked_on > today():
        raise ValidationFailed(fields={"revoked_on": N_("Ngày thu hồi không được sau ngày hôm nay.")})
    with transaction.one_transaction():
        db.session.refresh(certificate, with_for_update=True)
        if certificate.revoked_on is not None:
            raise TransitionRefused(N_("Giấy chứng nhận này đã bị thu hồi."), code="revoked")
        certificate.revoked_on, certificate.revoked_reason = revoked_on, reason[:2000]
        admin_events.record(AuditKind.CERTIFICATE_REVOKED, actor, target=certificate, target_type="certificate",
                            target_label=certificate.number, province_code=certificate.province_code,
                            nomination_id=certificate.nomination_id, level=certificate.level,
                            revoked_on=revoked_on.isoformat(), reason=reason[:300])
        notifications.certificate_revoked(certificate)
    return certificate


def get(certificate_id: int) -> Certificate:
    certificate = db.session.get(Certificate, certificate_id) if isinstance(certificate_id, int) else None
    if certificate is None:
        raise NotFound(N_("Không tìm thấy giấy chứng nhận."), code="certificate_not_found")
    return certificate


def as_dict(c: Certificate, on: date | None = None) -> dict:
    """A certificate as the API and the register give it: public data only, with its validity on ``on``."""
    on = on or today()
    return {
        "id": c.id, "number": c.number, "level": c.level, "programme_id": c.programme_id,
        "holder_name": c.holder_name, "product_name": c.product_name, "product_group": c.product_group,
        "province_code": c.province_code, "issued_on": c.issued_on.isoformat(),
        "valid_until": c.valid_until.isoformat(), "revoked_on": c.revoked_on.isoformat() if c.revoked_on else None,
        "valid": c.is_valid_on(on),
    }


def programme_dossier(nomination_id: int) -> Nomination:
    """A dossier of a programme other than the artisan titles, by id (404 otherwise); who may act on it is
    checked by each operation."""
    from workflows.programme import ARTISAN_ID

    nomination = db.session.get(Nomination, nomination_id) if isinstance(nomination_id, int) else None
    if nomination is None or (nomination.programme_id or ARTISAN_ID) == ARTISAN_ID:
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return nomination


def may_read_dossier(user: User, nomination: Nomination) -> bool:
    """The dossier's owner, or the secretariat of one of its programme's levels (in scope)."""
    from .programmes import programme_of

    if not user.is_authenticated:
        return False
    if nomination.owner_id == user.id:
        return True
    levels = programme_of(nomination).definition.levels
    return any(permissions.may_act_as(user, nomination, lv.officer) for lv in levels)


def lookup(number: str, on: date) -> dict | None:
    """A certificate by its number, whatever its validity: {"certificate", "why"} with why one of
    "valid", "not_yet", "expired", "revoked" (the register says why a number is not listed)."""
    c = db.session.scalar(sa.select(Certificate).where(Certificate.number == normalise_number(number)))
    if c is None:
        return None
    if c.revoked_on is not None and on >= c.revoked_on:
        why = "revoked"
    elif on < c.issued_on:
        why = "not_yet"
    elif on > c.valid_until:
        why = "expired"
    else:
        why = "valid"
    return {"certificate": c, "why": why}
