"""Personal data: notice and consent, the person's requests, reading logged (issue 17 items 1, 2, 6).

* **Notice and consent.** ``current_notice()`` is the notice in force (the newest row of
  ``privacy_notices``, else the built-in version 1). ``record_consents`` writes, for one person (an account
  or a public comment), one row saying the notice version was shown, and one row per optional purpose asked
  (given or refused); the latest row per purpose is the consent in force. ``needs_notice(user)``: the person
  acknowledged an earlier version and must be asked again (at the next login or filing).
* **Requests.** ``open_request`` (correction, deletion) and ``withdraw`` (a consent: effective at once, and a
  case for the data officer) open a case with its deadline (``PRIVACY_REQUEST_DAYS``); ``answer`` closes
  it, and for a deletion does what may be done (``erase``) in the same transaction, saying what is kept.
  Each writes its audit event; the person is told of the answer, the data officers of a new case.
* **Reading logged.** ``log_read`` adds one row to ``personal_data_reads`` in the request's transaction
  (``commit_pending_reads`` commits it after a successful page); lists never log per row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, g
from flask_babel import gettext as _

from workflows.states import N_, State

from .. import permissions
from ..errors import NotFound, TransitionRefused, ValidationFailed
from ..extensions import commit_keeping_loaded, db
from ..i18n import label
from ..models import (
    NOTICE_PURPOSE,
    AuditKind,
    ConsentRecord,
    DataRequest,
    LoginSession,
    Nomination,
    PersonalDataRead,
    PrivacyNotice,
    PublicComment,
    ReadAction,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    TransitionLog,
    User,
)
from ..storage import storage
from ..timeutil import now_utc, today
from . import accounts, admin_events, notifications, transaction

CONTEXTS = ("register", "filing", "comment", "login", "account")
# Version 1 of the notice (while ``privacy_notices`` is empty) is data: artisan_awards/data/privacy_notice.*.txt.
# Lines starting with "# " are headings, other non-empty lines paragraphs.
_NOTICE_FILES = Path(__file__).resolve().parent.parent / "data"
MAX_DETAILS = 5000


# -- the notice ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    version: int
    body_vi: str
    body_en: str
    published_at: datetime | None = None

    def body(self, locale: str) -> str:
        return self.body_en if str(locale) == "en" else self.body_vi

    def blocks(self, locale: str) -> list[tuple[str, str]]:
        """("h", heading) or ("p", paragraph), in order."""
        out = []
        for line in self.body(locale).splitlines():
            line = line.strip()
            if line:
                out.append(("h", line[2:]) if line.startswith("# ") else ("p", line))
        return out


def current_notice() -> Notice:
    row = db.session.scalar(sa.select(PrivacyNotice).order_by(PrivacyNotice.version.desc()).limit(1))
    if row is None:
        return Notice(1, (_NOTICE_FILES / "privacy_notice.vi.txt").read_text(encoding="utf-8"),
                      (_NOTICE_FILES / "privacy_notice.en.txt").read_text(encoding="utf-8"))
    return Notice(row.version, row.body_vi, row.body_en, row.published_at)


def publish_notice(body_vi: str, body_en: str, actor: User | None = None) -> Notice:
    """A new version of the notice (both languages): everyone who acknowledged an earlier one is asked again."""
    body_vi, body_en = (body_vi or "").strip(), (body_en or "").strip()
    if not body_vi or not body_en:
        raise ValidationFailed(N_("Thông báo cần có nội dung bằng tiếng Việt và tiếng Anh."))
    with transaction.one_transaction(duplicate=TransitionRefused(N_("Vừa có phiên bản khác được ban hành."))):
        version = current_notice().version + 1
        db.session.add(PrivacyNotice(version=version, body_vi=body_vi, body_en=body_en,
                                     published_by_id=getattr(actor, "id", None)))
        admin_events.record(AuditKind.PRIVACY_NOTICE_PUBLISHED, actor, target_type="notice",
                            target_label=f"v{version}", version=version)
    return current_notice()


# -- purposes and consents ----------------------------------------------------------------------------------


def purposes(context: str | None = None) -> dict[str, dict]:
    """The optional purposes (configuration), those asked in ``context`` when given."""
    configured = current_app.config["PRIVACY_OPTIONAL_PURPOSES"]
    return {k: v for k, v in configured.items() if context is None or context in v.get("contexts", ())}


def purpose_text(key: str, locale: str) -> str:
    spec = current_app.config["PRIVACY_OPTIONAL_PURPOSES"].get(key)
    if spec is None:
        return key
    return spec.get("en" if str(locale) == "en" else "vi") or spec.get("vi") or key


def _latest(where) -> dict[str, ConsentRecord]:
    rows = db.session.scalars(sa.select(ConsentRecord).where(where).order_by(ConsentRecord.id))
    latest: dict[str, ConsentRecord] = {}
    for row in rows:
        latest[row.purpose] = row
    return latest


def consents_of(user: User) -> dict[str, ConsentRecord]:
    """The consent in force per purpose (the latest decision), and the notice acknowledgement."""
    return _latest(ConsentRecord.user_id == user.id)


def granted_purposes(user: User) -> set[str]:
    return {p for p, row in consents_of(user).items() if p != NOTICE_PURPOSE and row.granted}


def needs_notice(user: User) -> bool:
    """The person acknowledged an earlier version of the notice: ask again (login, filing)."""
    seen = consents_of(user).get(NOTICE_PURPOSE)
    return seen is not None and seen.notice_version < current_notice().version


def to_ask(user: User | None, context: str) -> dict[str, dict]:
    """The purposes to ask in ``context``: those the person has not decided under the current notice."""
    wanted = purposes(context)
    if user is None or not getattr(user, "is_authenticated", False):
        return wanted
    decided = consents_of(user)
    version = current_notice().version
    return {k: v for k, v in wanted.items() if k not in decided or decided[k].notice_version < version}


def check_notice_version(raw) -> int:
    """The notice version a form showed, if it is the one in force (else the person must read it again)."""
    return _parse_version(raw)


def _parse_version(raw) -> int:
    try:
        version = int(raw)
    except (TypeError, ValueError):
        message = N_("Thông báo về xử lý dữ liệu cá nhân không hợp lệ; hãy tải lại trang.")
        raise ValidationFailed(message, code="notice_version") from None
    if version != current_notice().version:
        message = N_("Thông báo về xử lý dữ liệu cá nhân vừa được cập nhật; hãy đọc lại và chọn lại.")
        raise ValidationFailed(message, code="notice_version")
    return version


def record_consents(*, context: str, version, asked, granted, user: User | None = None,
                    comment: PublicComment | None = None, commit: bool = True) -> list[ConsentRecord]:
    """Record that the notice ``version`` was shown to the person, and their decision on each purpose asked.

    ``asked``: the purposes the form showed; ``granted``: those ticked.  A purpose not configured for
    ``context`` is not recorded, and a tick on a purpose not asked counts for nothing: nobody consents to
    what they were not shown."""
    if context not in CONTEXTS:
        raise ValidationFailed(N_("Yêu cầu không hợp lệ."))
    if user is None and comment is None:
        raise ValidationFailed(N_("Yêu cầu không hợp lệ."))
    version = _parse_version(version)
    allowed = purposes(None if context in ("login", "account") else context)
    asked = [p for p in dict.fromkeys(asked or ()) if p in allowed]
    granted = set(granted or ()) & set(asked)
    person = {"user_id": getattr(user, "id", None), "comment_id": getattr(comment, "id", None)}
    rows = [ConsentRecord(purpose=NOTICE_PURPOSE, granted=True, notice_version=version, context=context, **person)]
    rows += [ConsentRecord(purpose=p, granted=p in granted, notice_version=version, context=context,
                           **person) for p in asked]

    def write():
        db.session.add_all(rows)
        if user is not None:
            admin_events.record(AuditKind.CONSENT_RECORDED, user, target=user, context=context,
                                notice_version=version,
                                granted=sorted(r.purpose for r in rows[1:] if r.granted),
                                refused=sorted(r.purpose for r in rows[1:] if not r.granted))

    if commit:
        with transaction.one_transaction():
            write()
    else:
        write()
    return rows


# -- the person's requests ----------------------------------------------------------------------------------


def due_on(kind: str, opened: date | None = None) -> date:
    days = int(current_app.config["PRIVACY_REQUEST_DAYS"].get(str(kind), 3))
    return (opened or today()) + timedelta(days=days)


def _open(user: User, kind: RequestKind, details: str, purpose: str | None = None) -> DataRequest:
    request = DataRequest(user_id=user.id, kind=str(kind), details=details, purpose=purpose,
                          status=RequestStatus.OPEN, due_on=due_on(kind), done=[])
    db.session.add(request)
    db.session.flush()
    admin_events.record(AuditKind.DATA_REQUEST_OPENED, user, target=user, request_id=request.id, request_kind=str(kind),
                        due_on=request.due_on, purpose=purpose)
    notifications.data_request_opened(request)
    return request


def open_request(user: User, kind: str, details: str) -> DataRequest:
    """A correction (what is wrong, what it should be) or a deletion request: a case for the data officer."""
    if kind not in (RequestKind.CORRECTION, RequestKind.DELETION):
        raise ValidationFailed(N_("Loại yêu cầu không hợp lệ."), fields={"kind": N_("Loại yêu cầu không hợp lệ.")})
    details = (details or "").strip()
    if kind == RequestKind.CORRECTION and not details:
        raise ValidationFailed(N_("Hãy ghi thông tin nào chưa đúng và cần sửa thành gì."),
                               fields={"details": N_("Hãy ghi thông tin nào chưa đúng và cần sửa thành gì.")})
    if len(details) > MAX_DETAILS:
        raise ValidationFailed(N_("Nội dung yêu cầu dài tối đa 5 000 ký tự."),
                               fields={"details": N_("Nội dung yêu cầu dài tối đa 5 000 ký tự.")})
    with transaction.one_transaction():
        return _open(user, RequestKind(kind), details)


def withdraw(user: User, purpose: str) -> DataRequest:
    """Withdraw a consent: it stops at once (a refusal row), and the data officer confirms it in a case."""
    if purpose not in purposes() or purpose not in granted_purposes(user):
        raise NotFound(N_("Không có sự đồng ý này để rút lại."), code="no_such_consent")
    with transaction.one_transaction():
        db.session.add(ConsentRecord(user_id=user.id, purpose=purpose, granted=False,
                                     notice_version=current_notice().version, context="account"))
        admin_events.record(AuditKind.CONSENT_WITHDRAWN, user, target=user, purpose=purpose)
        return _open(user, RequestKind.WITHDRAWAL, "", purpose=purpose)


def requests_of(user: User) -> list[DataRequest]:
    return list(db.session.scalars(sa.select(DataRequest).where(DataRequest.user_id == user.id)
                                   .order_by(DataRequest.id.desc())))


def officer_list() -> list[DataRequest]:
    """Open cases by deadline (the overdue come first), then the answered ones, newest first."""
    open_ = sa.case((DataRequest.status == RequestStatus.OPEN, 0), else_=1)
    return list(db.session.scalars(sa.select(DataRequest).order_by(
        open_, sa.case((DataRequest.status == RequestStatus.OPEN, DataRequest.due_on), else_=None),
        DataRequest.answered_at.desc(), DataRequest.id)))


def get_request(request_id: int) -> DataRequest:
    request = db.session.get(DataRequest, request_id)
    if request is None:
        raise NotFound(N_("Không tìm thấy yêu cầu."), code="request_not_found")
    return request


def is_overdue(request: DataRequest, on: date | None = None) -> bool:
    return request.status == RequestStatus.OPEN and request.due_on < (on or today())


# -- deletion: what may be deleted is, what must be kept is said -------------------------------------------


def deletable_drafts(user: User) -> list[Nomination]:
    """Dossiers never submitted: a draft with no code and no entry in the (append-only) log."""
    logged = sa.select(TransitionLog.nomination_id).where(TransitionLog.nomination_id == Nomination.id).exists()
    return list(db.session.scalars(sa.select(Nomination).where(
        Nomination.owner_id == user.id, Nomination.state == State.DRAFT, Nomination.code.is_(None), ~logged)))


def kept_dossiers(user: User) -> list[Nomination]:
    drafts = {n.id for n in deletable_drafts(user)}
    return [n for n in db.session.scalars(sa.select(Nomination).where(Nomination.owner_id == user.id)
                                          .order_by(Nomination.id)) if n.id not in drafts]


def erase(user: User) -> tuple[list[str], list[str], list[str]]:
    """Delete what may be deleted (inside the caller's transaction): the unsubmitted drafts with their files,
    the optional consents; the account itself is anonymised and closed when nothing filed remains and the
    person holds no staff role.  Returns (done, kept, storage keys to purge after the commit)."""
    done, kept, keys = [], [], []
    store = storage()
    for draft in deletable_drafts(user):
        for attachment in draft.attachments:
            keys.append(attachment.stored_name)
            store.delete(attachment.stored_name)
        done.append(f"deleted_draft:{draft.id}:{draft.full_name}")
        db.session.execute(sa.update(PersonalDataRead).where(PersonalDataRead.nomination_id == draft.id)
                           .values(nomination_id=None))
        db.session.delete(draft)
    for purpose in sorted(granted_purposes(user)):
        db.session.add(ConsentRecord(user_id=user.id, purpose=purpose, granted=False,
                                     notice_version=current_notice().version, context="account"))
        done.append(f"consent_withdrawn:{purpose}")
    db.session.flush()
    for n in kept_dossiers(user):
        kept.append(f"kept_dossier:{n.code or n.id}:{n.state}")
    if not kept and not permissions.is_staff(user) and not permissions.can_answer_data_requests(user):
        done.append("account_anonymised")
    else:
        kept.append("account")
    kept.append("audit_log")
    return done, kept, keys


def _anonymise_account(user: User) -> None:
    """Close the account and replace what identifies the person (the audit log keeps its own copy, by law)."""
    user.full_name = f"Người dùng đã xóa #{user.id}"
    user.email = f"deleted-{user.id}-{secrets.token_hex(4)}@invalid.invalid"
    user.password_hash = accounts.hash_password(secrets.token_urlsafe(32))  # a password nobody knows
    user.active = False
    db.session.execute(sa.update(LoginSession).where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
                       .values(ended_at=now_utc(), ended_reason="account_deleted"))


def answer(officer: User, request: DataRequest, outcome: str, text: str) -> DataRequest:
    """The data officer's answer; a deletion does what may be done in the same transaction."""
    if not permissions.can_answer_data_requests(officer):
        raise NotFound(N_("Không tìm thấy yêu cầu."), code="request_not_found")
    if outcome not in [o.value for o in RequestOutcome]:
        raise ValidationFailed(N_("Chọn kết quả giải quyết."), fields={"outcome": N_("Chọn kết quả giải quyết.")})
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(N_("Hãy ghi nội dung trả lời."), fields={"answer": N_("Hãy ghi nội dung trả lời.")})
    if len(text) > MAX_DETAILS:
        raise ValidationFailed(N_("Nội dung trả lời dài tối đa 5 000 ký tự."),
                               fields={"answer": N_("Nội dung trả lời dài tối đa 5 000 ký tự.")})
    keys: list[str] = []
    with transaction.one_transaction(conflict=N_("Yêu cầu vừa được trả lời.")):
        db.session.refresh(request, with_for_update=True)
        if request.status != RequestStatus.OPEN:
            raise TransitionRefused(N_("Yêu cầu này đã được trả lời."), code="already_answered")
        person = db.session.get(User, request.user_id)
        done: list[str] = []
        kept: list[str] = []
        if request.kind == RequestKind.DELETION and outcome != RequestOutcome.REFUSED:
            done, kept, keys = erase(person)
            if outcome == RequestOutcome.DONE and any(k != "audit_log" for k in kept):
                outcome = RequestOutcome.PARTLY  # what the law keeps was kept: the answer says so
        request.status = RequestStatus.ANSWERED
        request.outcome = outcome
        request.answer = text
        request.done = done + kept
        request.answered_at = now_utc()
        request.answered_by_id = officer.id
        admin_events.record(AuditKind.DATA_REQUEST_ANSWERED, officer, target=person, request_id=request.id,
                            request_kind=request.kind, outcome=outcome, done=done, kept=kept,
                            late=is_overdue(request))
        notifications.data_request_answered(request, person, kept=kept)
        if "account_anonymised" in done:
            _anonymise_account(person)
    store = storage()
    for key in keys:
        store.purge(key)
    return request


# -- reading is logged ------------------------------------------------------------------------------------


def log_read(reader: User, action: str, *, nomination: Nomination | None = None, subject_id: int | None = None,
             purpose: str | None = None, target: str = "") -> PersonalDataRead | None:
    """One row (who, when, why) in the request's transaction; committed after the page succeeds."""
    if not getattr(reader, "is_authenticated", False):
        return None
    if nomination is not None:
        if not permissions.logs_reading(reader, nomination):
            return None  # the owner reading their own dossier
        subject_id = nomination.owner_id
    role = permissions.reader_role(reader, nomination)
    row = PersonalDataRead(reader_id=reader.id, reader_role=role, subject_id=subject_id,
                           nomination_id=getattr(nomination, "id", None), action=str(action),
                           purpose=(purpose or "")[:500], target=(target or "")[:200])
    db.session.add(row)
    g.pending_read_log = True
    return row


def commit_pending_reads(response):
    """``after_request``: commit the reading log of a page that succeeded (one commit, no extra round trip)."""
    if g.pop("pending_read_log", False):
        session = db.session()
        if response.status_code < 400:
            # the page's objects stay loaded: a streamed export goes on reading them after this commit
            try:
                commit_keeping_loaded()
            except Exception:  # a log that cannot be written must not lose the page; it is reported
                session.rollback()
                current_app.logger.exception("personal data read log not written")
        else:
            session.rollback()
    return response


def reads_of(user: User, limit: int = 200) -> list[PersonalDataRead]:
    return list(db.session.scalars(sa.select(PersonalDataRead).where(PersonalDataRead.subject_id == user.id)
                                   .order_by(PersonalDataRead.id.desc()).limit(limit)))


OWN_DATA_PURPOSE = N_("Người dùng tải dữ liệu của mình")


def read_purpose(read: PersonalDataRead) -> str:
    """Why (in the request's language): the reason given, else the role's own purpose."""
    if read.purpose:
        return read.purpose
    if read.action == ReadAction.OWN_DATA:
        return _(OWN_DATA_PURPOSE)
    return label(permissions.READ_PURPOSES, read.reader_role)


def reader_label(read: PersonalDataRead) -> str:
    """Who read, as the person sees it: the role, or (configured) the name and the role."""
    role = label(permissions.ROLE_LABELS, read.reader_role)
    if current_app.config.get("PRIVACY_READERS_SHOWN_BY") == "name" and read.reader is not None:
        return f"{read.reader.full_name} ({role})"
    return role


def export_own_data(user: User) -> bytes:
    """The person's ZIP; the export itself is logged (reading log and audit event)."""
    from .data_rights_export import export_zip

    data = export_zip(user, reader_label, read_purpose)
    log_read(user, ReadAction.OWN_DATA, subject_id=user.id)
    admin_events.record(AuditKind.PERSONAL_DATA_EXPORTED, user, target=user, size=len(data))
    return data


# -- `flask notice`: publish a new version of the notice ------------------------------------------------


@click.group("notice")
def notice_cli():
    """The personal data notice: show the version in force, publish a new one."""


@notice_cli.command("show")
def notice_show():
    """Print the notice in force (version and both texts)."""
    notice = current_notice()
    click.echo(f"version {notice.version}\n\n[vi]\n{notice.body_vi}\n[en]\n{notice.body_en}")


@notice_cli.command("publish")
@click.argument("vi_file", type=click.File(encoding="utf-8"))
@click.argument("en_file", type=click.File(encoding="utf-8"))
def notice_publish(vi_file, en_file):
    """Publish VI_FILE and EN_FILE as the next version: everyone is asked again at login or filing."""
    try:
        notice = publish_notice(vi_file.read(), en_file.read())
    except ValidationFailed as exc:
        raise click.ClickException(exc.text(lambda m, **kw: m % kw if kw else m)) from None
    click.echo(f"published version {notice.version}")
