"""The one-stop notices a provincial department sends an applicant, issued at their moment.

Circular 03/2025/TT-VPCP (Annex I) gives the one-stop mechanism's forms (confidence M in
shared/domain/egov-rules.md: the form numbers and the circular's name are settings, ``NOTICE_FORM_NUMBERS``
and ``NOTICE_CIRCULAR``, not constants):

=========  ============================================  ===========================================
kind       form                                          moment
=========  ============================================  ===========================================
receipt    Giấy tiếp nhận hồ sơ và hẹn trả kết quả       the department receives it (submit, resubmit)
request    Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ       it is returned: the list of what is missing
refusal    Phiếu từ chối tiếp nhận giải quyết hồ sơ      it is closed as incomplete: the reasons
apology    Phiếu xin lỗi và hẹn lại ngày trả kết quả     the reply deadline passed (``overdue``, daily)
=========  ============================================  ===========================================

Each notice is a ``OneStopNotice`` row with the data printed on it and its PDF as issued (signed with the
department's certificate when one is configured), attached to the applicant's message in the same
transaction as the move, and listed with the dossier's documents. The move keeps the data (number, dates,
missing list, officer: that moment's); the PDF is made from it later, outside the move's request, when the
outbox delivers the mail or on the first download (``rendered``), and kept: a move never waits for
WeasyPrint (issue 16: 250 receipts would be 250 renders in one request).

``services.notifications`` reaches ``for_move`` through the hook the blueprint registers
(``app.extensions["one_stop_notice"]``): the services layer stays below the documents.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from workflows.states import N_, Action, State

from ..extensions import db
from ..i18n import KIND_LABELS
from ..models import Nomination, NoticeKind, OneStopNotice
from ..services import nominations as nomination_service
from ..services import queries
from ..timeutil import local_date, now_utc, today
from . import data, signing

# What each notice is called on paper, and the short sign of its number (Số: 12/TN-SCT).
NAMES = {
    NoticeKind.RECEIPT: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    NoticeKind.REQUEST: "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    NoticeKind.REFUSAL: "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    NoticeKind.APOLOGY: "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
}
SIGNS = {NoticeKind.RECEIPT: "TNHS", NoticeKind.REQUEST: "YCBS", NoticeKind.REFUSAL: "TCHS",
         NoticeKind.APOLOGY: "XLHL"}
FILE_NAMES = {NoticeKind.RECEIPT: "giay-tiep-nhan-hen-tra", NoticeKind.REQUEST: "phieu-yeu-cau-bo-sung",
              NoticeKind.REFUSAL: "phieu-tu-choi", NoticeKind.APOLOGY: "phieu-xin-loi-hen-lai"}
# The notice a move of the machine issues (the apology comes from the daily check, not from a move).
FOR_ACTION = {Action.SUBMIT: NoticeKind.RECEIPT, Action.RESUBMIT: NoticeKind.RECEIPT,
              Action.RETURN: NoticeKind.REQUEST, Action.CLOSE_INCOMPLETE: NoticeKind.REFUSAL}


def settings() -> dict:
    """The circular and its form numbers as configured (unverified: see docs/configuration.md)."""
    cfg = current_app.config
    numbers = {}
    for pair in (cfg.get("NOTICE_FORM_NUMBERS") or "").split(","):
        kind, _eq, number = pair.partition("=")
        if kind.strip() in NAMES and number.strip():
            numbers[kind.strip()] = number.strip()
    return {"circular": (cfg.get("NOTICE_CIRCULAR") or "").strip(), "form_numbers": numbers}


# -- the data printed on each notice ----------------------------------------------------------------


def _base(n: Nomination, kind: str, on: date) -> dict:
    cfg = settings()
    return {
        "kind": kind,
        "name": NAMES[kind],
        "form_no": cfg["form_numbers"].get(kind, ""),
        "circular": cfg["circular"],
        "issuer": data.province_issuer(n.province),
        "issued_on": on,
        "code": n.code or "",
        # from a partner system (issue 19): its own code for the dossier, printed beside ours
        "external_code": n.external_code or "",
        "channel_label": n.partner.channel_label if n.partner else "",
        "full_name": n.full_name,
        "filer": (n.filed_by_name or n.full_name) if (n.posthumous or n.filed_by_relationship != "self")
        else n.full_name,
        "address": n.address or "",
        "phone": n.phone or "",
        "email": n.email or "",
        "title_label": data.TITLE_LABELS.get(n.title, n.title),
        "posthumous": n.posthumous,
        "craft": n.craft or "",
        "round": n.round.number,
        "procedure": "Xét tặng danh hiệu “" + data.TITLE_LABELS.get(n.title, n.title) + "”"
                     + (" (truy tặng)" if n.posthumous else "") + " trong lĩnh vực nghề thủ công mỹ nghệ",
        "province": {"name": n.province.name, "full_name": n.province.full_name},
    }


def receipt_data(n: Nomination, resubmitted: bool) -> dict:
    received = n.received_at or now_utc()
    names = data.unique_file_names(n.attachments)
    d = _base(n, NoticeKind.RECEIPT, local_date(received))
    d.update(
        resubmitted=resubmitted,
        received_on=local_date(received),
        received_time=data.clock(received),
        due_on=local_date(received) + timedelta(days=n.round.reply_days),
        reply_days=n.round.reply_days,
        documents=[{"name": f"Bản khai thành tích (Mẫu số {data.FORM_NO.get(n.title, '01')}) và tóm tắt thành tích "
                            f"(Mẫu số {data.SUMMARY_FORM_NO.get(n.title, '09')})", "kind": "Bản khai"}]
        + [{"name": names[a.id], "kind": KIND_LABELS.get(a.kind, a.kind)}
           for a in sorted(n.attachments, key=lambda a: a.id)],
        status_url=_status_url(),
    )
    return d


def request_data(n: Nomination, reasons: str | None, missing: list[str], officer: str) -> dict:
    returned = n.returned_at or now_utc()
    d = _base(n, NoticeKind.REQUEST, local_date(returned))
    d.update(
        received_on=local_date(n.received_at) if n.received_at else None,
        returned_on=local_date(returned),
        due_on=local_date(returned) + timedelta(days=n.round.completion_days),
        completion_days=n.round.completion_days,
        reasons=reasons or "",
        missing=nomination_service.missing_of(reasons, {"missing": missing}),
        officer=officer,
    )
    return d


def refusal_data(n: Nomination, comment: str | None, officer: str, on: date) -> dict:
    last = nomination_service.last_return(n)
    still_missing = []
    if last is not None:
        still_missing = nomination_service.missing_of(last.comment, last.meta)
    returned_on = local_date(last.at) if last is not None else None
    reasons = []
    if returned_on is not None:
        due = returned_on + timedelta(days=n.round.completion_days)
        reasons.append(f"Hồ sơ đã được yêu cầu bổ sung, hoàn thiện ngày {returned_on:%d/%m/%Y}; đến hạn "
                       f"{due:%d/%m/%Y} ({n.round.completion_days} ngày) chưa được bổ sung, hoàn thiện theo yêu cầu.")
    if comment:
        reasons.append(comment)
    d = _base(n, NoticeKind.REFUSAL, on)
    d.update(
        received_on=local_date(n.received_at) if n.received_at else None,
        returned_on=returned_on,
        reasons=reasons or ["Hồ sơ không được bổ sung, hoàn thiện theo yêu cầu."],
        missing=still_missing,
        officer=officer,
    )
    return d


def apology_data(n: Nomination, missed: date, new_due: date, on: date) -> dict:
    d = _base(n, NoticeKind.APOLOGY, on)
    d.update(
        received_on=local_date(n.received_at) if n.received_at else None,
        missed_on=missed,
        due_on=new_due,
        reason=(current_app.config.get("NOTICE_APOLOGY_REASON") or "").strip(),
    )
    return d


def _status_url() -> str:
    from ..services.notifications import link

    return link("public.status")


# -- issuing ---------------------------------------------------------------------------------------


def _pdf(n: Nomination, notice: OneStopNotice, d: dict) -> tuple[bytes, bool]:
    """The notice's PDF, signed by the province's department when its certificate is configured.

    A signing failure (time-stamp server down) must not block the mail it goes with: the notice is
    issued unsigned, the failure logged, and ``signed`` says so."""
    from . import engine  # WeasyPrint loads on the first document, not at start-up

    body = signing.province_body(n.province)
    title = f"{d['name']} - {d['code']}"
    spec = engine.Spec([engine.Part(f"notice_{notice.kind}.html", {"d": d})], title=title,
                       variant=current_app.config.get("DOCUMENTS_PDF_VARIANT", engine.DEFAULT_VARIANT) or None,
                       cache=False)
    if signing.configured(body):
        spec.sign = (d["name"], d["issuer"]["place"], body)
        try:
            return engine.build_pdf(spec), True
        except signing.SigningUnavailable as exc:
            current_app.logger.error("notice %s of dossier %s issued unsigned: %s", notice.kind, n.id, exc)
            spec.sign = None
    return engine.build_pdf(spec), False


def issue(n: Nomination, kind: str, d: dict, deadline_key: str | None = None) -> OneStopNotice:
    """Issue the notice in the current transaction (the caller commits): its number and the data printed
    on it, as they are at this moment (dates, missing list, officer). The PDF is not made here: a move
    must not wait for WeasyPrint. ``render`` makes it from this data when the mail is delivered (the
    outbox) or on the first download, whichever comes first, once."""
    notice = OneStopNotice(nomination_id=n.id, kind=kind, issued_at=now_utc(), due_on=d.get("due_on"),
                           deadline_key=deadline_key, data={}, filename="", pdf=b"", sha256="")
    db.session.add(notice)
    db.session.flush()  # its number is its id
    d["number"] = f"{notice.id}/{SIGNS[kind]}-SCT"
    notice.data = _jsonable(d)
    notice.filename = f"{FILE_NAMES[kind]}-{n.code or n.id}-{notice.id}.pdf"
    return notice


def rendered(notice: OneStopNotice) -> OneStopNotice:
    """``notice`` with its PDF, made now from the data kept at its issue if it has none yet.

    The first maker wins: the PDF is stored with an ``UPDATE ... WHERE sha256 = ''``, so two deliveries
    or downloads racing for a new notice keep one PDF, the one mailed and downloaded ever after (a
    loser reloads the winner's). The caller commits."""
    if notice.sha256:
        return notice
    n = notice.nomination
    pdf, signed = _pdf(n, notice, _restored(notice.data))
    digest = hashlib.sha256(pdf).hexdigest()
    db.session.execute(sa.update(OneStopNotice)
                       .where(OneStopNotice.id == notice.id, OneStopNotice.sha256 == "")
                       .values(pdf=pdf, signed=signed, sha256=digest)
                       .execution_options(synchronize_session=False))
    db.session.expire(notice, ["pdf", "signed", "sha256"])  # ours, or the faster maker's
    return notice


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


# The dates of the data (ISO strings once kept as JSON), given back to the templates as dates.
DATE_KEYS = ("issued_on", "received_on", "due_on", "returned_on", "missed_on")


def _restored(kept: dict) -> dict:
    d = dict(kept)
    for key in DATE_KEYS:
        if isinstance(d.get(key), str) and d[key]:
            d[key] = date.fromisoformat(d[key])
    return d


def for_move(n: Nomination, action: str, comment: str | None, meta: dict, actor_name: str | None):
    """The notice a move issues, or None (``services.notifications`` attaches it to the applicant's mail)."""
    kind = FOR_ACTION.get(action)
    if kind is None or not n.code:
        return None
    officer = actor_name or ""
    if kind == NoticeKind.RECEIPT:
        d = receipt_data(n, resubmitted=action == Action.RESUBMIT)
    elif kind == NoticeKind.REQUEST:
        d = request_data(n, comment, list(meta.get("missing") or []), officer)
    else:
        d = refusal_data(n, comment, officer, today())
    return issue(n, kind, d)


# -- the daily check: apologies for missed reply deadlines --------------------------------------------


@dataclass
class Overdue:
    nomination_id: int
    code: str
    missed: date
    new_due: date
    key: str


def _apology_days() -> int:
    return int(current_app.config.get("NOTICE_APOLOGY_DAYS") or 5)


def overdue(on: date | None = None) -> list[Overdue]:
    """Dossiers waiting for the department's reply past their appointment, each with the new appointment.

    The appointment is the receipt's (``reply_days`` after receipt), or the last apology's for the same
    receipt; each missed appointment has its own key, so each is apologised for once."""
    from ..models import Round

    on = on or today()
    # Only dossiers past the receipt's appointment (the lists' own overdue rule, in SQL); a later
    # appointment set by an apology is read per dossier below.
    late = queries.Deadlines(list(db.session.scalars(sa.select(Round))), on).overdue_clause()
    rows = db.session.scalars(sa.select(Nomination).where(Nomination.state == State.SUBMITTED,
                                                          Nomination.received_at.is_not(None), late)
                              .order_by(Nomination.id)).all()
    found = []
    for n in rows:
        received = local_date(n.received_at)
        receipt_key = f"reply:{received.isoformat()}"
        due = received + timedelta(days=n.round.reply_days)
        last = db.session.scalar(
            sa.select(OneStopNotice).where(OneStopNotice.nomination_id == n.id,
                                           OneStopNotice.kind == NoticeKind.APOLOGY,
                                           OneStopNotice.deadline_key.like(receipt_key + ":%"))
            .order_by(OneStopNotice.id.desc()).limit(1))
        if last is not None and last.due_on is not None:
            due = last.due_on
        if on <= due:
            continue
        found.append(Overdue(n.id, n.code or "", due, on + timedelta(days=_apology_days()),
                             f"{receipt_key}:{due.isoformat()}"))
    return found


def send_apologies(on: date | None = None) -> list[OneStopNotice]:
    """Issue and mail one apology per overdue dossier and missed appointment (each committed alone)."""
    from ..services import notifications

    on = on or today()
    issued = []
    for item in overdue(on):
        n = db.session.get(Nomination, item.nomination_id)
        try:
            notice = issue(n, NoticeKind.APOLOGY, apology_data(n, item.missed, item.new_due, on), item.key)
            notifications.notice_issued(n, notice)
            db.session.commit()
        except IntegrityError:  # another run issued it first
            db.session.rollback()
            continue
        issued.append(notice)
    return issued


# The notices' names on the pages (msgids: the page's language; the PDF itself stays Vietnamese).
LABELS = {
    NoticeKind.RECEIPT: N_("Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
    NoticeKind.REQUEST: N_("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
    NoticeKind.REFUSAL: N_("Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
    NoticeKind.APOLOGY: N_("Phiếu xin lỗi và hẹn lại ngày trả kết quả"),
}


def label(kind: str) -> str:
    from flask_babel import gettext

    return gettext(LABELS[kind]) if kind in LABELS else kind


def notices_of(n: Nomination) -> list[OneStopNotice]:
    return list(db.session.scalars(sa.select(OneStopNotice).where(OneStopNotice.nomination_id == n.id)
                                   .order_by(OneStopNotice.id)))


def register(app) -> None:
    """Let ``services.notifications`` issue a move's notice without importing the documents layer."""
    app.extensions["one_stop_notice"] = for_move
    app.extensions["one_stop_notice_pdf"] = rendered


def download(user, nomination_id: int, notice_id: int):
    """A notice of a dossier ``user`` may see (``permissions.can_view``, through ``get_visible``): the PDF
    as issued; another dossier's notice, or one that does not exist, is the same 404."""
    from ..errors import NotFound
    from .service import Download

    n = queries.get_visible(user, nomination_id)
    notice = db.session.get(OneStopNotice, notice_id)
    if notice is None or notice.nomination_id != n.id:
        raise NotFound(N_("Không tìm thấy phiếu này."), code="notice_not_found")
    if not notice.sha256:  # not mailed yet: made now, once, and kept
        rendered(notice)
        db.session.commit()
    return Download(notice.pdf, notice.filename, False)
