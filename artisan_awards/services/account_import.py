"""Bulk import of council members and officers from an XLSX or CSV sheet.

Columns: name, email, position, role, province (English or Vietnamese headers; ``role`` may
hold several roles separated by ``;`` or ``,``).  ``check`` lists every row's problems
without writing anything; ``apply`` writes all rows in one transaction or none.  A row whose
e-mail already has an account is left alone, so re-importing a sheet creates no duplicate.
The position (chức vụ) is the person's job title; it is kept in the audit log and shown when
picking council members.

The confirmation step never trusts the client with the rows: the preview hands the browser the
rows it showed, signed (``preview_token``: bound to the account that previewed them, valid for
an hour), and ``confirmed_records`` accepts only an untouched token, then checks the rows again
against a schema (``ImportRowIn``: strings only, lengths, at most IMPORT_MAX_ROWS rows).  A
changed role, another province, a non-string, a nested object or 100 000 rows is refused with a
4xx: the confirmation can only create the accounts the preview showed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Annotated

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from workflows.states import N_

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Province, User
from ..permissions import PROVINCE_SCOPED_ROLES, ROLE_LABELS, ROLES, can_manage_accounts, is_administrator, may_grant
from ..text import nfc
from . import accounts, admin_events, transaction
from .account_admin import _mail

PREVIEW_SECONDS = 3600  # how long a preview may wait for its confirmation
HEADERS = {
    "name": "name", "full_name": "name", "họ và tên": "name", "họ tên": "name",
    "email": "email", "e-mail": "email", "thư điện tử": "email",
    "position": "position", "chức vụ": "position",
    "role": "role", "roles": "role", "vai trò": "role",
    "province": "province", "tỉnh": "province", "tỉnh, thành phố": "province",
}


@dataclass
class Row:
    number: int  # the sheet's row number (the header is row 1)
    name: str = ""
    email: str = ""
    position: str = ""
    roles: list[str] = field(default_factory=list)
    province: str | None = None
    problems: list[tuple[str, dict]] = field(default_factory=list)  # (msgid, params)
    exists: bool = False

    def problem(self, message: str, **params) -> None:
        self.problems.append((message, params))


def max_rows() -> int:
    return int(current_app.config["IMPORT_MAX_ROWS"])


class SheetUnreadable(ValidationFailed):
    message = N_("Không đọc được tệp. Hãy dùng tệp XLSX hoặc CSV (UTF-8) có dòng tiêu đề.")


def read_sheet(filename: str, content: bytes) -> list[dict]:
    """The sheet's rows as dicts keyed by our column names, with their row number."""
    name = (filename or "").lower()
    try:
        if name.endswith(".xlsx"):
            table = _xlsx(content)
        elif name.endswith(".csv"):
            table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        else:
            raise SheetUnreadable()
    except (UnicodeDecodeError, csv.Error, ValueError, KeyError, OSError) as exc:
        raise SheetUnreadable() from exc
    if not table:
        raise SheetUnreadable()
    header = [HEADERS.get(nfc(str(h or "")).strip().lower()) for h in table[0]]
    if "email" not in header or "name" not in header:
        raise SheetUnreadable(N_("Tệp cần có các cột name, email, position, role, province."))
    rows = []
    for index, values in enumerate(table[1:], start=2):
        if not any(str(v or "").strip() for v in values):
            continue
        record = {"number": index}
        for key, value in zip(header, values, strict=False):
            if key:
                record[key] = nfc(str(value if value is not None else "")).strip()
        rows.append(record)
        if len(rows) > max_rows():
            raise SheetUnreadable(N_("Tệp có quá nhiều dòng."))
    return rows


# -- the confirmation: only what the preview showed ------------------------------------------

Cell = Annotated[str, StringConstraints(max_length=300)]


class ImportRowIn(BaseModel):
    """One previewed row as the confirmation carries it: strings only, bounded, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True)
    number: Annotated[int, Field(ge=2, le=1_100_000)]
    name: Cell = ""
    email: Cell = ""
    position: Cell = ""
    role: Cell = ""
    province: Annotated[str, StringConstraints(max_length=10)] = ""


_ROWS = TypeAdapter(list[ImportRowIn])


class PreviewInvalid(ServiceError):
    status = 400
    code = "import_preview_invalid"
    message = N_("Bản xem trước không hợp lệ hoặc đã hết hạn. Hãy tải tệp lên lại; chưa có tài khoản nào được tạo.")


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="account-import-preview")


def preview_token(actor: User, records: list[dict]) -> str:
    """The previewed rows, signed for ``actor``: what the confirmation form sends back."""
    return _serializer().dumps({"u": actor.id, "rows": records})


def confirmed_records(actor: User, token: str | None) -> list[dict]:
    """The rows of an untouched preview made by ``actor``; anything else raises ``PreviewInvalid``."""
    if not isinstance(token, str) or not token or len(token) > 4 * 1024 * 1024:
        raise PreviewInvalid()
    try:
        data = _serializer().loads(token, max_age=PREVIEW_SECONDS)
    except SignatureExpired as exc:
        raise PreviewInvalid() from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise PreviewInvalid() from exc
    if not isinstance(data, dict) or data.get("u") != actor.id:
        raise PreviewInvalid()
    return validate_records(data.get("rows"))


def validate_records(rows) -> list[dict]:
    """Rows checked against ``ImportRowIn`` and the row cap (also for rows from our own preview)."""
    if not isinstance(rows, list) or not rows or len(rows) > max_rows():
        raise PreviewInvalid()
    try:
        return [r.model_dump() for r in _ROWS.validate_python(rows)]
    except ValidationError as exc:
        raise PreviewInvalid() from exc


def _xlsx(content: bytes) -> list[list]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        raise ValueError("not an xlsx file") from exc
    try:
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _role_lookup() -> dict[str, str]:
    lookup = {r: r for r in ROLES}
    for role, label in ROLE_LABELS.items():
        lookup[nfc(label).lower()] = role
    return lookup


def check(actor: User, records: list[dict]) -> list[Row]:
    """Every row with its problems; nothing is written."""
    lookup = _role_lookup()
    admin = is_administrator(actor)
    seen: dict[str, int] = {}
    rows = []
    for rec in records:
        row = Row(number=int(rec.get("number", 0)), name=rec.get("name", "")[:200],
                  email=accounts.normalise_email(rec.get("email", "")), position=rec.get("position", "")[:200],
                  province=(rec.get("province") or "").upper() or None)
        raw_roles = [p.strip() for p in rec.get("role", "").replace(",", ";").split(";") if p.strip()]
        for raw in raw_roles:
            role = lookup.get(nfc(raw).lower())
            if role is None:
                row.problem(N_("Vai trò không hợp lệ: %(role)s"), role=raw)
            elif role not in row.roles:
                row.roles.append(role)
        if not row.name:
            row.problem(N_("Thiếu họ và tên."))
        if "@" not in row.email or len(row.email) > 254 or " " in row.email:
            row.problem(N_("Địa chỉ thư điện tử không hợp lệ."))
        elif row.email in seen:
            row.problem(N_("Trùng địa chỉ thư điện tử với dòng %(row)s."), row=seen[row.email])
        else:
            seen[row.email] = row.number
        if not raw_roles:
            row.problem(N_("Thiếu vai trò."))
        if row.province and db.session.get(Province, row.province) is None:
            row.problem(N_("Không có tỉnh, thành phố với mã này."))
        if set(row.roles) & PROVINCE_SCOPED_ROLES and not row.province:
            row.problem(N_("Vai trò cấp tỉnh cần chọn tỉnh, thành phố."))
        if not admin:
            if not may_grant(actor, row.roles):
                row.problem(N_("Bạn không thể cấp vai trò cao hơn vai trò của mình."))
            if row.province != actor.province_code:
                row.problem(N_("Bạn chỉ quản lý tài khoản của tỉnh, thành phố mình."))
        existing = accounts.find_user(row.email) if "@" in row.email else None
        row.exists = existing is not None
        rows.append(row)
    return rows


def apply(actor: User, records: list[dict]) -> tuple[int, int]:
    """Create every new account (and mail its invitation) in one transaction; (created, skipped)."""
    if not can_manage_accounts(actor):
        from ..errors import Forbidden

        raise Forbidden()
    rows = check(actor, records)
    if not rows or any(r.problems for r in rows):
        raise ValidationFailed(N_("Tệp còn dòng có lỗi: không có tài khoản nào được tạo."))
    created = skipped = 0
    import secrets

    with transaction.one_transaction():  # every new account with its event and mail, or none
        for row in rows:
            if row.exists:
                skipped += 1
                continue
            user = accounts.create_user(row.email, secrets.token_urlsafe(24), row.name, row.roles, row.province,
                                        commit=False)
            user.email_confirmed = False
            admin_events.record(AuditKind.ACCOUNT_INVITED, actor, target=user, roles=sorted(row.roles),
                                position=row.position, via="import")
            _mail(user, "invite")
            created += 1
        admin_events.record(AuditKind.ACCOUNTS_IMPORTED, actor, target_type="import",
                            target_label=f"{created}/{len(rows)}", province_code=actor.province_code,
                            created=created, skipped=skipped)
    return created, skipped
