"""The law's hard cases (issue 14): operations the common path does not meet.

* ``record_death``: the nominee died during the process; the dossier goes on as a posthumous
  proposal (truy tặng), its votes and log untouched, the family becoming the applicant side.
* ``exclusions`` / ``refuse_if_excluded`` / ``override_exclusion``: Art. 2(3) keeps the
  intangible-heritage track out of Decree 43; submission and acceptance are refused unless
  configuration allows an override and a higher role recorded one, with its reason.
* ``refuse_early_close`` / ``expire_completions``: the applicant's completion period is theirs; a
  returned dossier is closed only after it ends, by the scheduled job or by the secretariat.
* ``record_arrival``: the day a paper dossier really reached the department, and its receipt-book
  number, start the reply clock and choose the governing decree.
* ``record_special_craft``: the council, in an open session, decides that a craft is special.

Each operation checks, changes, records one audit event and commits once (``transaction.one_transaction``,
or ``nominations._run`` for a move: a paper dossier's resubmission).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from werkzeug.datastructures import FileStorage

from workflows import rules
from workflows.states import N_, Action, State

from .. import permissions
from ..errors import Conflict, Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..integration import outbox
from ..models import (
    AgendaItem,
    Attachment,
    AttachmentKind,
    AuditEvent,
    AuditKind,
    Council,
    CouncilSession,
    ExclusionOverride,
    Nomination,
    NomineeDeath,
    Round,
    SessionStatus,
    SpecialCraftDecision,
    User,
    get_row,
)
from ..storage import new_key, storage
from ..text import nfc
from ..timeutil import VN, iso_moment, local_date, today
from . import admin_events, notifications, queries, transaction
from . import attachments as attachment_service
from . import nominations as nomination_service
from .eligibility import blocked_by_exclusion, exclusions, override_of, special_craft_decision, special_craft_decisions  # noqa: F401
from .hard_case_checks import completion_running, refuse_early_close, refuse_if_excluded  # noqa: F401

SYSTEM_ACTOR = N_("Hệ thống (tự động)")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FAMILY_RELATIONSHIPS = ("child", "spouse", "other")
REASON_MAX = 5000


def _text(value, limit: int) -> str:
    return nfc(value or "").strip()[:limit + 1]


def _vn_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=VN).astimezone(UTC)


# -- 1. a nominee who dies during the process ----------------------------------------------------


def death_of(nomination: Nomination) -> NomineeDeath | None:
    return db.session.scalar(sa.select(NomineeDeath).where(NomineeDeath.nomination_id == nomination.id))


def _store_evidence(user: User, nomination: Nomination, upload: FileStorage | None) -> Attachment:
    """The evidence file, cleaned like every upload (services/attachments.py), added to the session."""
    if upload is None or not upload.filename:
        raise ValidationFailed(fields={"evidence": N_("Cần tải lên giấy chứng tử hoặc giấy báo tử.")})
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    data = upload.stream.read(limit + 1)
    if len(data) > limit or not data:
        raise ValidationFailed(fields={"evidence": N_("Tệp rỗng hoặc vượt quá dung lượng cho phép.")})
    kind = AttachmentKind.DEATH_EVIDENCE
    sniffed, data, _removed = attachment_service.clean_content(data, attachment_service.ALLOWED[kind])
    attachment_service._check_dossier_room(nomination, len(data))
    key = new_key(attachment_service.EXTENSIONS[sniffed])
    storage().put(key, data)
    row = Attachment(nomination_id=nomination.id, kind=kind,
                     original_name=attachment_service.safe_filename(upload.filename, sniffed),
                     stored_name=key, content_type=sniffed, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), uploaded_by_id=user.id)
    db.session.add(row)
    return row


def check_may_record_death(user: User, nomination: Nomination) -> None:
    """Who (the desk's officer), whether configuration allows it, and whether it is still possible."""
    if not permissions.can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    if not permissions.may_record_death(user, nomination):
        raise Forbidden()
    if not current_app.config["POSTHUMOUS_SWITCH_ALLOWED"]:
        raise TransitionRefused(N_("Cấu hình không cho phép chuyển hồ sơ sang đề nghị truy tặng."),
                                code="posthumous_switch_disabled")
    if nomination.state_enum not in permissions.DEATH_RECORDABLE:
        raise TransitionRefused(N_("Chỉ ghi nhận được khi hồ sơ đã nộp và trước khi có quyết định phong tặng."),
                                code="death_after_decision")
    if nomination.posthumous or death_of(nomination) is not None:
        raise TransitionRefused(N_("Hồ sơ đã là đề nghị truy tặng."), code="already_posthumous")


def record_death(user: User, nomination: Nomination, *, death_date: date | None, family_name: str | None,
                 family_relationship: str | None, family_phone: str | None = None,
                 family_email: str | None = None, note: str | None = None,
                 evidence: FileStorage | None = None) -> NomineeDeath:
    """Record the nominee's death with its evidence: the dossier goes on as a posthumous proposal."""
    check_may_record_death(user, nomination)
    fields: dict[str, str] = {}
    if death_date is None:
        fields["death_date"] = N_("Cần ngày mất.")
    elif death_date > today():
        fields["death_date"] = N_("Ngày mất không thể sau hôm nay.")
    elif nomination.birth_date and death_date < nomination.birth_date:
        fields["death_date"] = N_("Ngày mất không thể trước ngày sinh.")
    family_name = _text(family_name, 200)
    if not family_name or len(family_name) > 200:
        fields["family_name"] = N_("Cần họ tên người đại diện gia đình (tối đa 200 ký tự).")
    if family_relationship not in FAMILY_RELATIONSHIPS:
        fields["family_relationship"] = N_("Cần chọn quan hệ với nghệ nhân.")
    family_phone = _text(family_phone, 30) or None
    family_email = _text(family_email, 254) or None
    if family_phone and (len(family_phone) > 30 or not re.fullmatch(r"[0-9 +().-]{6,30}", family_phone)):
        fields["family_phone"] = N_("Số điện thoại không hợp lệ.")
    if family_email and (len(family_email) > 254 or not EMAIL.fullmatch(family_email)):
        fields["family_email"] = N_("Địa chỉ thư điện tử không hợp lệ.")
    if not (family_phone or family_email) and "family_phone" not in fields:
        fields["family_phone"] = N_("Cần số điện thoại hoặc thư điện tử của gia đình.")
    note = _text(note, REASON_MAX) or None
    if note and len(note) > REASON_MAX:
        fields["note"] = N_("Ghi chú dài tối đa 5 000 ký tự.")
    if fields:
        raise ValidationFailed(fields=fields)
    state_before = nomination.state
    attachment = None
    try:
        with transaction.one_transaction(conflict=nomination_service.CONFLICT):
            attachment = _store_evidence(user, nomination, evidence)
            db.session.flush()
            death = NomineeDeath(nomination_id=nomination.id, death_date=death_date, evidence_id=attachment.id,
                                 state_at_record=state_before, note=note, recorded_by_id=user.id)
            db.session.add(death)
            nomination.posthumous = True
            nomination.death_date = death_date
            nomination.filed_by_name = family_name
            nomination.filed_by_relationship = family_relationship
            nomination.family_contact_phone = family_phone
            nomination.family_contact_email = family_email
            admin_events.record(AuditKind.NOMINEE_DEATH_RECORDED, user, target_type="nomination",
                                target=nomination, target_label=nomination.code or "",
                                death_date=death_date.isoformat(), state=state_before,
                                evidence_sha256=attachment.sha256, family=family_name,
                                relationship=family_relationship)
            outbox.dossier_moved(nomination, "record_death", state_before, state_before, user.id, user.full_name,
                                 {"posthumous": True})
    except Exception:  # rolled back by one_transaction; the stored file is referred to by nothing now
        if attachment is not None:
            storage().discard(attachment.stored_name)
        raise
    return death


# -- 2. Art. 2(3): outside Decree 43 --------------------------------------------------------------


def override_exclusion(user: User, nomination: Nomination, reason: str | None) -> ExclusionOverride:
    if not permissions.can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    if not current_app.config["EXCLUSION_OVERRIDE_ALLOWED"]:
        raise Forbidden(N_("Cấu hình không cho phép ngoại lệ đối với Điều 2 khoản 3."), code="override_disabled")
    if not permissions.can_override_exclusion(user):
        raise Forbidden()
    if not exclusions(nomination):
        raise TransitionRefused(N_("Hồ sơ không thuộc trường hợp loại trừ."), code="not_excluded")
    reason = _text(reason, REASON_MAX)
    if len(reason) < 10 or len(reason) > REASON_MAX:
        raise ValidationFailed(fields={"reason": N_("Cần ghi rõ lý do (từ 10 đến 5 000 ký tự).")})
    with transaction.one_transaction():
        row = ExclusionOverride(nomination_id=nomination.id, reason=reason, by_id=user.id)
        db.session.add(row)
        admin_events.record(AuditKind.EXCLUSION_OVERRIDDEN, user, target_type="nomination", target=nomination,
                            target_label=nomination.code or "", reason=reason)
    return row


# -- 3. the applicant's completion period ---------------------------------------------------------


def expired_completions(on: date) -> list[Nomination]:
    """Returned dossiers whose completion period ended before ``on``."""
    deadlines = queries.Deadlines(list(db.session.scalars(sa.select(Round))), on)
    stmt = sa.select(Nomination).where(Nomination.state == State.RETURNED, deadlines.overdue_clause())
    return list(db.session.scalars(stmt.order_by(Nomination.id)))


def _already_proposed(nomination: Nomination) -> bool:
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.kind == AuditKind.COMPLETION_EXPIRED, AuditEvent.target_type == "nomination",
        AuditEvent.target_id == nomination.id))
    returned = local_date(nomination.returned_at).isoformat() if nomination.returned_at else ""
    return any((e.details or {}).get("returned_on") == returned for e in events)


def expire_completions(on: date | None = None) -> dict[str, list[str]]:
    """The scheduled job: close (COMPLETION_EXPIRY = "close") or propose to the secretariat ("propose")
    each returned dossier whose completion period has run out; the applicant is told either way."""
    on = on or today()
    mode = current_app.config["COMPLETION_EXPIRY"]
    done: dict[str, list[str]] = {"closed": [], "proposed": []}
    for nomination in expired_completions(on):
        due = nomination.completion_due()
        if mode == "close":
            with transaction.one_transaction(conflict=nomination_service.CONFLICT):
                db.session.refresh(nomination, with_for_update=True)
                if nomination.state != State.RETURNED:  # moved meanwhile: nothing written, the lock let go
                    continue
                nomination_service.move_by_event(
                    nomination, Action.CLOSE_INCOMPLETE, None, SYSTEM_ACTOR,
                    comment=f"Hết thời hạn bổ sung ngày {vn_date(due)}: hồ sơ tự động đóng.",
                    meta={"system": True, "completion_due": due.isoformat()})
            done["closed"].append(nomination.code)
        else:
            if _already_proposed(nomination):
                continue
            with transaction.one_transaction():
                context = {"n": nomination, "due": due,
                           "dossier_link": notifications.link("dossier.show", nomination_id=nomination.id)}
                notifications.send("completion_expired", notifications.applicants(nomination), **context)
                notifications.send("completion_expired_staff",
                                   notifications.staff("province", nomination.province_code), **context)
                admin_events.record(AuditKind.COMPLETION_EXPIRED, None, target_type="nomination",
                                    target=nomination, target_label=nomination.code or "",
                                    completion_due=due.isoformat(),
                                    returned_on=local_date(nomination.returned_at).isoformat())
            done["proposed"].append(nomination.code)
    return done


# -- 5. the date a paper dossier really arrived ---------------------------------------------------


def record_arrival(user: User, nomination: Nomination, arrived_on: date | None,
                   receipt_book_no: str | None) -> Nomination:
    """The secretariat records the day a paper or postal dossier reached the department, with its
    receipt-book number: that day becomes the receipt (reply clock), and for a first filing the filing
    day (the governing decree)."""
    if not permissions.can_record_arrival(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found") \
            if not permissions.can_view(user, nomination) else Forbidden()
    # A returned paper dossier typed in by the secretariat (its owner): the completed paper's arrival is
    # its resubmission, judged against the completion period on the day it arrived, not today.
    resubmits = nomination.state == State.RETURNED and nomination.owner_id == user.id
    if nomination.state != State.SUBMITTED and not resubmits:
        raise TransitionRefused(N_("Chỉ ghi ngày đến cho hồ sơ đang chờ kiểm tra (hoặc hồ sơ giấy được bổ sung)."),
                                code="not_submitted")
    fields: dict[str, str] = {}
    number = _text(receipt_book_no, 40)
    if not number or len(number) > 40:
        fields["receipt_book_no"] = N_("Cần số vào sổ tiếp nhận (tối đa 40 ký tự).")
    typed_in = today() if resubmits or not nomination.received_at else local_date(nomination.received_at)
    first_filing = nomination.returned_at is None
    round_ = nomination.round
    if arrived_on is None:
        fields["arrived_on"] = N_("Cần ngày hồ sơ đến Sở.")
    elif arrived_on > typed_in:
        fields["arrived_on"] = N_("Ngày hồ sơ đến không thể sau ngày nhập vào hệ thống (%(d)s).")
    elif first_filing and not round_.intake_is_open(arrived_on):
        fields["arrived_on"] = N_("Ngày hồ sơ đến nằm ngoài thời hạn tiếp nhận của đợt (%(a)s – %(b)s).")
    elif not first_filing:
        returned = local_date(nomination.returned_at)
        if arrived_on < returned:
            fields["arrived_on"] = N_("Hồ sơ bổ sung không thể đến trước ngày trả lại (%(r)s).")
        elif arrived_on > returned + timedelta(days=round_.completion_days):
            fields["arrived_on"] = N_("Hồ sơ bổ sung đến sau thời hạn bổ sung (%(c)s).")
    if fields:
        returned = local_date(nomination.returned_at) if nomination.returned_at else None
        raise ValidationFailed(fields=fields, params={
            "d": vn_date(typed_in), "a": vn_date(round_.intake_opens),
            "b": vn_date(round_.intake_closes),
            "r": vn_date(returned) if returned else "",
            "c": vn_date(returned + timedelta(days=round_.completion_days)) if returned else ""})
    if resubmits:
        # The owner's resubmission, run like every move (nominations._run: lock, machine, log, notice, one
        # commit), its guard (the completion period) read on the arrival day, the arrival recorded in it.
        def step(move: nomination_service.Move) -> None:
            nomination_service._require_complete(move)
            _arrive(user, move.nomination, arrived_on, number)  # received on the arrival day, not now
            move.meta.update(arrived_on=arrived_on.isoformat(), receipt_book_no=number)

        nomination_service._run(nomination, Action.RESUBMIT, user, step, on=arrived_on)
        return nomination
    with transaction.one_transaction(conflict=nomination_service.CONFLICT):
        db.session.refresh(nomination, with_for_update=True)  # a concurrent move is seen, not overwritten
        if nomination.state != State.SUBMITTED:
            raise TransitionRefused(N_("Chỉ ghi ngày đến cho hồ sơ đang chờ kiểm tra (hoặc hồ sơ giấy được bổ sung)."),
                                    code="not_submitted")
        _arrive(user, nomination, arrived_on, number)
    return nomination


def _arrive(user: User, nomination: Nomination, arrived_on: date, number: str) -> None:
    """Write the arrival (the caller's transaction): the receipt moment, and for a first filing the
    filing day and the governing decree, with its audit event."""
    from . import eligibility

    first_filing = nomination.returned_at is None
    before = {"received_at": nomination.received_at.isoformat() if nomination.received_at else None,
              "governing_decree": nomination.governing_decree, "state": nomination.state}
    moment = _vn_midnight_utc(arrived_on)
    nomination.arrived_on = arrived_on
    nomination.receipt_book_no = number
    nomination.received_at = moment
    if first_filing:
        nomination.submitted_at = moment
        nomination.governing_decree = rules.choose_ruleset(arrived_on, eligibility.rulesets()).decree
    admin_events.record(AuditKind.PAPER_ARRIVAL_RECORDED, user, target_type="nomination", target=nomination,
                        target_label=nomination.code or "", arrived_on=arrived_on.isoformat(),
                        receipt_book_no=number, first_filing=first_filing, before=before,
                        governing_decree=nomination.governing_decree)


# -- 6. special crafts are the council's decision -------------------------------------------------


def sessions_deciding(user: User, nomination: Nomination) -> list[CouncilSession]:
    """Open sessions with ``nomination`` on their agenda where ``user`` presides: where they may record
    the council's decision on the craft."""
    stmt = (sa.select(CouncilSession).join(AgendaItem, AgendaItem.session_id == CouncilSession.id)
            .where(AgendaItem.nomination_id == nomination.id, CouncilSession.status == SessionStatus.OPEN)
            .order_by(CouncilSession.id))
    return [s for s in db.session.scalars(stmt).unique() if permissions.presides(user, s.council)]


def record_special_craft(user: User, nomination: Nomination, session_id: int | None, is_special: bool | None,
                         reasons: str | None) -> SpecialCraftDecision:
    """The council's decision, recorded by whoever presides its open session, with the reasons."""
    if not permissions.can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    session = get_row(CouncilSession, session_id)
    if session is None or session not in sessions_deciding(user, nomination):
        raise Forbidden(N_("Chỉ người chủ trì phiên họp đang mở của Hội đồng xét hồ sơ này mới ghi được "
                           "quyết định của Hội đồng về nghề đặc thù."), code="not_presiding")
    return _save_special_craft(user, nomination, session, is_special, reasons)


NOT_SECRETARIAT = N_("Chỉ cơ quan thường trực (thư ký) của Hội đồng này mới ghi được quyết định của Hội đồng về "
                     "nghề đặc thù.")


def council_session_deciding(council: Council, nomination: Nomination) -> CouncilSession | None:
    """The council's session that took ``nomination`` up: the open one, else the latest closed one (a
    session only planned has not met, so has decided nothing)."""
    stmt = (sa.select(CouncilSession).join(AgendaItem, AgendaItem.session_id == CouncilSession.id)
            .where(CouncilSession.council_id == council.id, AgendaItem.nomination_id == nomination.id,
                   CouncilSession.status.in_([SessionStatus.OPEN, SessionStatus.CLOSED]))
            .order_by(CouncilSession.id.desc()))
    found = list(db.session.scalars(stmt).unique())
    return next((s for s in found if s.status == SessionStatus.OPEN), found[0] if found else None)


def record_council_special_craft(user: User, council: Council, nomination_id: int, is_special: bool | None,
                                 reasons: str | None) -> SpecialCraftDecision:
    """The same decision recorded by the council's secretariat (``POST /councils/{id}/special_crafts``,
    shared/api-v1.md v1.1), in the session of that council which took the dossier up."""
    if not permissions.is_secretariat(user, council):
        raise Forbidden(NOT_SECRETARIAT, code="not_secretariat")
    nomination = get_row(Nomination, nomination_id)
    if nomination is None or not permissions.can_view(user, nomination):
        raise ValidationFailed(fields={"nomination_id": N_("Không tìm thấy hồ sơ.")})
    session = council_session_deciding(council, nomination)
    if session is None:
        raise Conflict(N_("Hồ sơ chưa được đưa ra phiên họp nào (đang mở hoặc đã kết thúc) của Hội đồng này: "
                          "Hội đồng chưa xét nên chưa có quyết định để ghi."), code="not_on_agenda")
    return _save_special_craft(user, nomination, session, is_special, reasons)


def _save_special_craft(user: User, nomination: Nomination, session: CouncilSession, is_special: bool | None,
                        reasons: str | None) -> SpecialCraftDecision:
    fields = {}
    if is_special is None:
        fields["is_special"] = N_("Cần chọn: là hoặc không là nghề đặc thù.")
    reasons = _text(reasons, REASON_MAX)
    if len(reasons) < 10 or len(reasons) > REASON_MAX:
        fields["reasons"] = N_("Cần ghi rõ lý do của Hội đồng (từ 10 đến 5 000 ký tự).")
    if fields:
        raise ValidationFailed(fields=fields)
    with transaction.one_transaction():
        row = SpecialCraftDecision(nomination_id=nomination.id, session_id=session.id,
                                   is_special=bool(is_special), reasons=reasons, decided_by_id=user.id)
        db.session.add(row)
        admin_events.record(AuditKind.SPECIAL_CRAFT_DECIDED, user, target_type="nomination", target=nomination,
                            target_label=nomination.code or "", session_id=session.id,
                            council=session.council.name, is_special=bool(is_special), reasons=reasons)
    return row


# -- the scheduled job ----------------------------------------------------------------------------

completion_cli = AppGroup("completion", help="The applicant's completion period (run daily).")


@completion_cli.command("expire")
@click.option("--dry-run", is_flag=True, help="List the dossiers whose period has run out; change nothing.")
def expire_command(dry_run: bool) -> None:
    """Close (COMPLETION_EXPIRY=close) or propose to the secretariat (propose) every returned dossier whose
    completion period has run out, then deliver the outbox."""
    from . import mail

    mode = current_app.config["COMPLETION_EXPIRY"]
    if mode not in ("close", "propose"):
        raise click.ClickException(f"COMPLETION_EXPIRY must be 'close' or 'propose', not {mode!r}")
    if dry_run:
        for n in expired_completions(today()):
            click.echo(f"{n.code} due {n.completion_due().isoformat()}")
        return
    done = expire_completions()
    for code in done["closed"]:
        click.echo(f"closed {code}")
    for code in done["proposed"]:
        click.echo(f"proposed {code}")
    click.echo(f"closed {len(done['closed'])}, proposed {len(done['proposed'])}")
    sent, failed = mail.send_pending()
    click.echo(f"sent {sent}, failed {failed}")


def api_view(n: Nomination) -> dict:
    """Issue 14 in the one-dossier API answer: the recorded death, the paper arrival, Art. 2(3), the
    council's special-craft decision (computed here, once, by the view that answers; never by a serializer)."""
    death = death_of(n) if n.id else None
    decision = special_craft_decision(n.id) if n.id else None
    excluded = bool(n.id) and bool(exclusions(n))
    override = override_of(n) if excluded else None
    day = lambda value: value.isoformat() if value else None  # noqa: E731
    return {
        "received_at": iso_moment(n.received_at),
        "arrived_on": day(n.arrived_on),
        "receipt_book_no": n.receipt_book_no,
        "family_contact": ({"name": n.filed_by_name, "relationship": n.filed_by_relationship,
                            "phone": n.family_contact_phone, "email": n.family_contact_email}
                           if death is not None else None),
        "death_record": ({"death_date": day(death.death_date), "state_at_record": death.state_at_record,
                          "evidence_id": death.evidence_id, "recorded_at": iso_moment(death.recorded_at)}
                         if death is not None else None),
        "excluded_art_2_3": excluded,
        "blocked_by_exclusion": excluded and blocked_by_exclusion(n),
        "exclusion_override": ({"reason": override.reason, "at": iso_moment(override.at)} if override else None),
        "special_craft_decision": ({"is_special": decision.is_special, "reasons": decision.reasons,
                                    "session_id": decision.session_id, "at": iso_moment(decision.at)}
                                   if decision is not None else None),
    }
