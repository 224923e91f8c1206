"""Dossiers filed by partner systems (``POST /api/v1/intake/dossiers``), and reading them back.

A partner's message (the JSON part ``dossier`` of a multipart request, mapped by the partner's
``field_mapping``) is our ``NominationIn`` plus:

* ``external_code`` (required): the dossier's code on the partner's system, unique per partner
  (``uq_nominations_partner_external_code``).  A repeat of the same message (same JSON, same files)
  is answered with the dossier already made (200), whatever the timing: two racing repeats make one
  dossier (the unique index decides, the loser reads the winner's).  The same code with another
  message is refused (409 ``external_code_conflict``).
* ``filer`` (``email``, ``full_name``): who filed on the portal; by default the nominee.  The
  applicant has no account here, so one is made for them as the registration would make it (role
  applicant, e-mail not yet confirmed, an unusable random password) and they are mailed a one-time
  link to set their own password (the invitation link: it confirms the address too); with it they
  follow the dossier in their space like any applicant.  An existing applicant account with that
  address is the owner instead (nothing is mailed about the account).  No password is ever mailed.
* ``round_id`` may be left out: the round whose intake is open today is taken.
* ``files`` (optional): ``{part name: kind}`` for file parts not named after their kind; a file part
  named ``photo``, ``certificate`` ... (``AttachmentKind``) needs no entry.

Every file goes through the house's upload checks (services/attachments.py: content sniffing per kind,
size and count limits, image decode and re-encode, PDF rewrite).  The dossier is made, its files
stored and it is submitted (code, access key, receipt, the province's inbox, the notifications) in ONE
transaction: any refusal leaves nothing behind, stored bytes included.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from workflows import machine as wf
from workflows.programme import ARTISAN_ID
from workflows.states import N_, Action

from .. import nomination_data
from ..errors import Conflict, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import Attachment, AttachmentKind, AuditKind, Nomination, Partner, Province, Round, User
from ..models.partners import CHANNEL_PARTNER
from ..schemas import NominationIn
from ..services import accounts, admin_events, mail
from ..services import attachments as uploads
from ..services import nominations as operations
from ..services.law import route_filing
from ..services.transaction import one_transaction
from ..storage import new_key, storage
from ..text import nfc
from ..timeutil import now_utc, today
from .partners import apply_mapping

EXTERNAL_CODE_CHARS = 100
MESSAGE_PART = "dossier"


class ExternalCodeConflict(Conflict):
    code = "external_code_conflict"
    message = N_("Mã hồ sơ này đã được gửi trước đó với nội dung khác.")


@dataclass
class Upload:
    """One file part of the request, read once (the digest and the checks see the same bytes)."""

    part: str
    filename: str
    data: bytes


@dataclass
class Filed:
    nomination: Nomination
    created: bool
    access_key: str | None = None


def digest(message: dict, files: list[Upload]) -> str:
    """What makes two filings "the same": the message (keys sorted) and each file's part, name and bytes."""
    h = hashlib.sha256(json.dumps(message, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    for f in sorted(files, key=lambda f: (f.part, f.filename, hashlib.sha256(f.data).hexdigest())):
        h.update(b"\x00" + f.part.encode() + b"\x00" + f.filename.encode() + b"\x00")
        h.update(hashlib.sha256(f.data).digest())
    return h.hexdigest()


def find(partner: Partner, external_code: str) -> Nomination | None:
    return db.session.scalar(sa.select(Nomination).where(Nomination.partner_id == partner.id,
                                                         Nomination.external_code == external_code))


def _external_code(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(fields={"external_code": N_("Cần mã hồ sơ trên hệ thống gửi (external_code).")})
    value = value.strip()
    if len(value) > EXTERNAL_CODE_CHARS or not value.isprintable():
        raise ValidationFailed(fields={"external_code": N_("Mã hồ sơ tối đa 100 ký tự in được.")})
    return value


def _repeat(partner: Partner, external_code: str, fingerprint: str) -> Filed | None:
    existing = find(partner, external_code)
    if existing is None:
        return None
    if existing.intake_digest != fingerprint:
        raise ExternalCodeConflict()
    return Filed(existing, created=False)


def file_dossier(partner: Partner, message: dict, files: list[Upload]) -> Filed:
    """Make, fill and submit the dossier a partner sent, or answer the one it already sent."""
    mapped = apply_mapping(partner.field_mapping or {}, message)
    external_code = _external_code(mapped.pop("external_code", None))
    fingerprint = digest(message, files)
    repeat = _repeat(partner, external_code, fingerprint)
    if repeat is not None:
        return repeat
    commitment = mapped.pop("commitment", None)  # the words the applicant ticked on the portal, if sent
    applicant = mapped.pop("filer", None) or {}
    kinds = mapped.pop("files", None) or {}
    if not isinstance(applicant, dict) or not isinstance(kinds, dict):
        raise ValidationFailed(fields={"filer" if not isinstance(applicant, dict) else "files":
                                       N_("Cần một đối tượng JSON.")})
    if mapped.get("round_id") in (None, ""):
        mapped["round_id"] = _open_round_id()
    data = NominationIn.model_validate(mapped)  # 422 with the fields (the API's handler)
    province_code = _province(partner, data)
    email, full_name = _applicant(applicant, data)
    checked = [_checked(f, kinds) for f in files]
    try:
        return _file(partner, data, province_code, email, full_name, checked, external_code, fingerprint,
                     commitment)
    except IntegrityError:
        # a concurrent repeat made it first (the unique index), or made the applicant's account
        repeat = _repeat(partner, external_code, fingerprint)
        if repeat is not None:
            return repeat
        return _file(partner, data, province_code, email, full_name, checked, external_code, fingerprint,
                     commitment)


def _open_round_id() -> int:
    on = today()
    # the artisan titles' rounds only: a partner files an artisan's dossier, never into a scheme year
    for row in db.session.scalars(sa.select(Round).where(Round.programme_id == ARTISAN_ID)
                                  .order_by(Round.number.desc())):
        if row.intake_is_open(on):
            return row.id
    raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng nào đang nhận hồ sơ.")})


def _province(partner: Partner, data: NominationIn) -> str:
    code = (data.nominee.province_code or "").strip().upper()
    if not code:
        raise ValidationFailed(fields={"nominee.province_code": N_("Cần chọn tỉnh, thành phố nơi nộp hồ sơ.")})
    code = route_filing(code) or code  # a province merged away: its successor (issue 14)
    province = db.session.get(Province, code)
    if province is None or not province.active:
        raise ValidationFailed(fields={"nominee.province_code": N_("Tỉnh, thành phố không hợp lệ.")})
    if partner.province_code and partner.province_code != code:
        raise ValidationFailed(fields={"nominee.province_code": N_(
            "Hệ thống đối tác này chỉ gửi hồ sơ của tỉnh, thành phố của mình.")})
    return code


def _applicant(applicant: dict, data: NominationIn) -> tuple[str, str]:
    raw = applicant.get("email") or data.nominee.email
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed(fields={"filer.email": N_(
            "Cần địa chỉ thư điện tử của người nộp để gửi giấy biên nhận và theo dõi hồ sơ.")})
    try:
        email = validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationFailed(fields={"filer.email": N_("Địa chỉ thư điện tử không hợp lệ.")}) from None
    name = applicant.get("full_name") or data.nominee.full_name
    if not isinstance(name, str) or not nfc(name).strip() or len(name) > 200:
        raise ValidationFailed(fields={"filer.full_name": N_("Cần họ và tên người nộp.")})
    return accounts.normalise_email(email), nfc(name).strip()


def _checked(upload: Upload, kinds: dict) -> tuple[AttachmentKind, str, bytes, str]:
    """The house's checks on one file: its kind, its size, its real type; the clean rewrite back."""
    field = f"files.{upload.part}"[:80]
    try:
        kind = AttachmentKind(kinds.get(upload.part, upload.part))
    except ValueError:
        raise ValidationFailed(fields={field: N_("Loại tài liệu không hợp lệ.")}) from None
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    if not upload.data:
        raise ValidationFailed(fields={field: N_("Tệp rỗng.")})
    if len(upload.data) > limit:
        from ..errors import TooLarge

        raise TooLarge(N_("Tệp vượt quá %(mb)s MB."), params={"mb": limit // (1024 * 1024)})
    try:
        sniffed, data, _removed = uploads.clean_content(upload.data, uploads.ALLOWED[kind])
    except ValidationFailed as exc:
        reason = next(iter(exc.fields.values()), exc.message)
        raise ValidationFailed(reason, fields={field: reason}, params=exc.params) from None
    return kind, sniffed, data, uploads.safe_filename(upload.filename or "tep", sniffed)


def _room(checked: list) -> None:
    from ..errors import TooLarge

    if len(checked) > int(current_app.config["MAX_DOSSIER_FILES"]):
        raise TooLarge(N_("Hồ sơ đã đủ %(n)s tệp, không thêm được nữa."), code="too_many_files",
                       params={"n": int(current_app.config["MAX_DOSSIER_FILES"])})
    limit = int(current_app.config["MAX_DOSSIER_BYTES"])
    if sum(len(c[2]) for c in checked) > limit:
        raise TooLarge(N_("Tổng dung lượng tệp của hồ sơ vượt quá %(mb)s MB."), code="dossier_too_large",
                       params={"mb": limit // (1024 * 1024)})


def _owner(email: str, full_name: str) -> tuple[User, bool]:
    """The applicant's account: theirs if they have one, else a new one they claim by the mailed link."""
    from .. import permissions

    user = accounts.find_user(email)
    if user is not None:
        if not permissions.is_applicant(user) or permissions.is_staff(user):
            raise ValidationFailed(fields={"filer.email": N_(
                "Địa chỉ thư điện tử này thuộc một tài khoản cán bộ, không dùng làm người nộp hồ sơ.")})
        if not user.active:
            raise ValidationFailed(fields={"filer.email": N_("Tài khoản của người nộp đã bị khóa.")})
        return user, False
    user = User(email=email, full_name=full_name, locale="vi", email_confirmed=False,
                password_hash=accounts.hash_password(secrets.token_urlsafe(32)))  # unusable: never told
    user.set_roles(permissions.SELF_SERVICE_ROLES)
    db.session.add(user)
    db.session.flush()  # a concurrent filing with the same new address fails here (users.email unique)
    return user, True


def _claim_mail(user: User, partner: Partner, nomination: Nomination) -> None:
    from ..services.account_admin import make_token, token_hours

    link = url_for("auth.accept_invitation", token=make_token(user, "invite"), _external=True)
    with force_locale(user.locale or "vi"):
        subject = _("Hồ sơ %(code)s: tài khoản để theo dõi hồ sơ", code=nomination.code)
        body = _("Kính gửi %(name)s,\n\nHồ sơ bạn nộp qua %(channel)s (mã %(external)s) đã được chuyển tới "
                 "Hệ thống xét tặng danh hiệu Nghệ nhân với mã hồ sơ %(code)s. Một tài khoản đã được tạo cho "
                 "địa chỉ thư điện tử này để bạn theo dõi và bổ sung hồ sơ. Để đặt mật khẩu, vui lòng mở "
                 "đường liên kết sau (hiệu lực %(hours)s giờ, chỉ dùng một lần):\n\n%(link)s\n\nNếu đã "
                 "hết hạn, hãy dùng chức năng \"Quên mật khẩu\" với địa chỉ này.\n",
                 name=user.full_name, channel=partner.channel_label, external=nomination.external_code,
                 code=nomination.code, hours=token_hours("invite"), link=link)
    mail.queue(user.email, subject, body, user.locale or "vi")


def _file(partner: Partner, data: NominationIn, province_code: str, email: str, full_name: str,
          checked: list, external_code: str, fingerprint: str, commitment=None) -> Filed:
    _room(checked)
    store = storage()
    keys: list[str] = []
    try:
        with one_transaction(conflict=operations.CONFLICT):
            owner, new_account = _owner(email, full_name)
            round_ = db.session.get(Round, data.round_id)
            if round_ is None:
                raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng này.")})
            n = Nomination(owner_id=owner.id, round_id=round_.id, province_code=province_code,
                           governing_decree=round_.governing_decree, channel=CHANNEL_PARTNER,
                           partner_id=partner.id, external_code=external_code, intake_digest=fingerprint)
            nomination_data.apply(n, data.model_dump(by_alias=True))
            db.session.add(n)
            db.session.flush()  # a racing repeat waits here, then fails on the unique index
            for kind, sniffed, content, name in checked:
                key = new_key(uploads.EXTENSIONS[sniffed])
                store.put(key, content)
                keys.append(key)
                db.session.add(Attachment(nomination_id=n.id, kind=kind, original_name=name, stored_name=key,
                                          content_type=sniffed, size=len(content),
                                          sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=owner.id))
            db.session.flush()
            db.session.refresh(n)
            access_key = _submit(n, owner, partner, commitment)
            if new_account:
                admin_events.record(AuditKind.ACCOUNT_REGISTERED, None, target=owner, via="partner",
                                    partner=partner.code)
                _claim_mail(owner, partner, n)
    except BaseException:
        for key in keys:
            store.discard(key)
        raise
    return Filed(n, created=True, access_key=access_key)


def _submit(n: Nomination, owner: User, partner: Partner, commitment=None) -> str | None:
    """The applicant's submission, made through the partner: the machine decides (the round's intake
    must be open), the dossier gets its code and access key, its log row and its notifications."""
    before = n.state_enum
    now = now_utc()
    try:
        after = wf.fire(n.subject(today()), Action.SUBMIT)
    except wf.TransitionNotAllowed as exc:
        raise TransitionRefused(operations._refusal_message(exc)) from exc
    move = operations.Move(n, Action.SUBMIT, owner, before, after, now, today(), None)
    move.meta.update(channel=CHANNEL_PARTNER, partner=partner.code, external_code=n.external_code)
    if isinstance(commitment, str) and commitment.strip():  # kept with who and when, as on the page
        move.meta["commitment"] = nfc(commitment).strip()[:1000]
    operations._submit_step(move)  # complete? code, access key, received_at (422 with what is missing)
    operations.record_move(n, Action.SUBMIT, before, after, owner.id,
                           f"{owner.full_name} ({partner.channel_label})", None, move.meta, now)
    return move.access_key


def status_of(n: Nomination) -> dict:
    """What a partner reads of its dossier: codes, state (and the citizen's words for it), dates."""
    from ..i18n import next_step, state_label
    from ..serializers import _dt
    from ..services import queries

    return {
        "external_code": n.external_code,
        "code": n.code,
        "channel": n.channel,
        "province_code": n.province_code,
        "state": n.state,
        "state_label": state_label(n.state, "citizen"),
        "next_step": next_step(n.state),
        "submitted_at": _dt(n.submitted_at),
        "updated_at": _dt(n.state_changed_at),
        "reply_due": n.reply_due().isoformat() if n.reply_due() else None,
        "attachments": [{"kind": a.kind, "name": a.original_name, "content_type": a.content_type,
                         "size": a.size, "sha256": a.sha256} for a in sorted(n.attachments, key=lambda a: a.id)],
        "history": [{"state": row.to_state, "at": _dt(row.at)} for row in queries.history(n)],
    }


def read_uploads(request) -> list[Upload]:
    """Every file part of the request, each read up to one byte past the limit (the check says so)."""
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    found = []
    for part, storage_ in request.files.items(multi=True):
        found.append(Upload(part=part, filename=storage_.filename or "", data=storage_.stream.read(limit + 1)))
    return found
