"""Who is told what when something changes: the one place that turns events into e-mail.

The operations layer calls in here inside the transaction of the change it reports:

* ``nomination_moved`` from ``services.nominations.record_move``: every move of the state machine,
  whether a person (``perform``) or a council's tally (``move_by_event``) made it;
* ``session_scheduled`` and ``session_opened`` from ``services.councils``.

Each writes to the outbox (``services.mail.queue``), so a rolled-back change mails no one, and the
outbox sends in the background with retries.  Each message is rendered from
``templates/mail/<language>/<name>.txt`` in the RECIPIENT's language (``User.locale``), with
Flask-Babel forced to that language so the labels inside it (states, titles) follow.

Who hears about a move (``docs/notifications.md`` has the table):

* the applicant (the account that owns the dossier, when it is an applicant's account) and the
  nominee's own e-mail address when it is another one: every move;
* the body that must act next, when a dossier arrives on its desk: the province's secretariat
  (submitted, completed), the ministry (forwarded by the province; held by a signed complaint),
  the Government office (submitted to the Prime Minister); the body handling it, on a withdrawal.

The person who made the move is never mailed as staff about their own action.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale

from workflows.programme import ARTISAN_ID
from workflows.states import Action, CouncilEvent, State

from ..extensions import db
from ..models import CouncilSession, InboxNotification, Nomination, OutboxMessage, User, UserRole
from ..permissions import data_officer_role, desk_role, is_applicant, is_staff
from ..timeutil import local_date
from . import mail

LANGUAGES = ("vi", "en")
# An address worth handing to SMTP (one @, a dot in the domain, no spaces or line breaks).
ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")

# The applicant's message for each move of the machine (every trigger in workflows/machine.py).
APPLICANT_TEMPLATE: dict[str, str] = {
    Action.SUBMIT: "submitted",
    Action.RESUBMIT: "resubmitted",
    Action.RETURN: "returned",
    Action.CLOSE_INCOMPLETE: "closed_incomplete",
    Action.ACCEPT: "accepted",
    Action.WITHDRAW: "withdrawn",
    Action.FORWARD_TO_MINISTRY: "progress",
    Action.OPEN_CONSULTATION: "consultation",
    Action.HOLD: "on_hold",
    Action.RELEASE: "progress",
    Action.FORWARD_TO_STATE: "progress",
    Action.SUBMIT_TO_PM: "progress",
    Action.SUBMIT_TO_PRESIDENT: "progress",
    Action.RECORD_AWARD: "awarded",
    Action.RECORD_NOT_AWARDED: "not_awarded",
    CouncilEvent.PROVINCE_VOTE_OPENS: "council_reviewing",
    CouncilEvent.PROVINCE_PASS: "council_passed",
    CouncilEvent.PROVINCE_REJECT: "council_rejected",
    CouncilEvent.MINISTRY_PASS: "council_passed",
    CouncilEvent.MINISTRY_REJECT: "council_rejected",
    CouncilEvent.STATE_PASS: "council_passed",
    CouncilEvent.STATE_REJECT: "council_rejected",
}
COUNCIL_LEVEL = {
    CouncilEvent.PROVINCE_VOTE_OPENS: "province",
    CouncilEvent.PROVINCE_PASS: "province",
    CouncilEvent.PROVINCE_REJECT: "province",
    CouncilEvent.MINISTRY_PASS: "ministry",
    CouncilEvent.MINISTRY_REJECT: "ministry",
    CouncilEvent.STATE_PASS: "state",
    CouncilEvent.STATE_REJECT: "state",
}
# Stages and the body that handles a dossier there (who hears of a withdrawal).
PROVINCE_STAGE = frozenset({State.SUBMITTED, State.RETURNED, State.ACCEPTED, State.PROVINCE_REVIEW,
                            State.PROVINCE_PASSED})
GOVERNMENT_STAGE = frozenset({State.SUBMITTED_TO_PM, State.SUBMITTED_TO_PRESIDENT})


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    locale: str = "vi"
    user_id: int | None = None  # the account, when there is one: its in-app inbox gets the message too

    @classmethod
    def of(cls, user: User) -> Recipient:
        return cls(user.email, user.full_name, user.locale if user.locale in LANGUAGES else "vi", user.id)


# -- rendering and sending ---------------------------------------------------------------------


def render(name: str, locale: str, **context) -> tuple[str, str]:
    """(subject, body) of ``templates/mail/<locale>/<name>.txt`` with the labels in ``locale``."""
    locale = locale if locale in LANGUAGES else "vi"
    env = _mail_env()
    with force_locale(locale):
        template = env.get_template(f"mail/{locale}/{name}.txt")
        # ``m``: the language's mail macros, made once per template load (Jinja keeps a template's module)
        # instead of an ``{% import %}`` in each block, which built the module afresh for every message
        # (half of a message's rendering; a council's close renders 250 of them: issue 16).
        macros = env.get_template(f"mail/{locale}/_macros.txt").module
        ctx = template.new_context({**context, "m": macros, "locale": locale, "day": local_date})
        subject = " ".join("".join(template.blocks["subject"](ctx)).split())
        body = "".join(template.blocks["body"](ctx))
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    return subject, body


def _mail_env():
    """The app's template environment (filters, labels, gettext) with plain-text block trimming."""
    env = current_app.extensions.get("mail_jinja")
    if env is None:
        env = current_app.extensions["mail_jinja"] = current_app.jinja_env.overlay(
            trim_blocks=True, lstrip_blocks=True, autoescape=False)
    return env


def send(name: str, recipients: Iterable[Recipient], attachments=(), **context) -> int:
    """Queue one message per recipient (each in their own language); return how many.

    Every recipient with an account also finds it in the in-app inbox (``InboxNotification``),
    written in the same transaction as the e-mail and the change it reports.
    ``attachments``: one-stop notices (or ``(filename, content_type, bytes)``) sent with each message.
    Inside ``batched()`` a message without attachments is kept as a row and written with the others."""
    count = 0
    seen: set[str] = set()
    inboxes: set[int] = set()
    in_app = _in_app_target(name, context)
    batch = None if attachments else db.session().info.get(_BATCH)
    for person in recipients:
        address = (person.email or "").strip().lower()
        if not ADDRESS.fullmatch(address) or address in seen:  # a typo'd nominee address is skipped
            continue
        seen.add(address)
        subject, body = render(name, person.locale, recipient=person, **context)
        if batch is None:
            mail.queue(person.email.strip(), subject, body, person.locale, attachments)
        else:
            batch.add(OutboxMessage.__table__, to=person.email.strip(), subject=subject[:300], body=body,
                      language=person.locale, attempts=0)
            mail.queued()
        if person.user_id is not None and person.user_id not in inboxes:
            inboxes.add(person.user_id)
            fields = {"user_id": person.user_id, "subject": subject[:300], "body": body,
                      "nomination_id": in_app[0], "link": in_app[1], "language": person.locale}
            if batch is None:
                db.session.add(InboxNotification(**fields))
            else:
                batch.add(InboxNotification.__table__, **fields)
        count += 1
    return count


_BATCH = "notifications.batch"


class Batch:
    """Rows to insert, per table, in the order they were added; written with one executemany per table."""

    def __init__(self) -> None:
        self.rows: dict[sa.Table, list[dict]] = {}
        self.accounts: dict[str, User | None] = {}  # a nominee's address (lower case) -> its account, if any

    def look_up_accounts(self, nominations: Iterable[Nomination]) -> None:
        """The accounts of the nominees' own addresses (``applicants``), for all the batch's dossiers in
        one query instead of one per dossier."""
        wanted = {n.email.strip().lower() for n in nominations if n.email and n.email.strip()}
        wanted -= set(self.accounts)
        if not wanted:
            return
        found: dict[str, User] = {}
        for user in db.session.scalars(sa.select(User).where(sa.func.lower(User.email).in_(sorted(wanted)))
                                       .order_by(User.id)):
            found.setdefault(user.email.lower(), user)
        # an address not found is known to have no account only where SQL's lower() and Python's agree
        # (ASCII); any other is looked up on its own by ``applicants``, as without a batch
        self.accounts.update({address: found.get(address) for address in wanted
                              if address in found or address.isascii()})

    def add(self, table: sa.Table, **row) -> None:
        self.rows.setdefault(table, []).append(row)

    def write(self) -> None:
        from ..timeutil import now_utc

        now = now_utc()
        for table, rows in self.rows.items():
            if "created_at" in table.c:
                for row in rows:
                    row.setdefault("created_at", now)
            db.session.execute(sa.insert(table), rows)
        self.rows.clear()


@contextmanager
def batched() -> Iterator[Batch]:
    """Many moves at once (a council session's opening or close: ``nominations.move_many``).

    Inside, each message (and in-app notice) without attachments is rendered as before but kept as a
    row, and at the end the outbox's and the in-app inbox's rows are written with one executemany per
    table, in the order they were queued, in the caller's transaction: 2 statements for 250 moves
    instead of 500 ORM objects flushed one by one (issue 16). Anything else that writes one row per
    move (an integration event) adds it with ``batch.add(table, **row)`` and is written with them.
    An exception inside writes nothing (the caller's transaction is rolled back anyway)."""
    session = db.session()
    if _BATCH in session.info:  # already inside one: its writer writes everything
        yield session.info[_BATCH]
        return
    batch = session.info[_BATCH] = Batch()
    try:
        yield batch
        batch.write()
    finally:
        session.info.pop(_BATCH, None)


def _in_app_target(name: str, context: dict) -> tuple[int | None, str | None]:
    """(dossier id, path inside the app) a message is about: its dossier, ballot, session or round."""
    nomination, session = context.get("n"), context.get("session")
    council, round_ = context.get("council"), context.get("round")
    nomination_id = getattr(nomination, "id", None) if isinstance(nomination, Nomination) else None
    if name == "session_opened" and session is not None:
        target = ("council.ballot", {"session_id": session.id})
    elif session is not None:
        target = ("council.session", {"session_id": session.id})
    elif nomination_id is not None and (nomination.programme_id or ARTISAN_ID) != ARTISAN_ID:
        target = ("programmes.show", {"dossier_id": nomination_id})  # another programme's dossier page
    elif nomination_id is not None:
        target = ("dossier.show", {"nomination_id": nomination_id})
    elif council is not None:
        target = ("council.council", {"council_id": council.id})
    elif round_ is not None:
        target = ("rounds.timeline", {"round_id": round_.id})
    else:
        return nomination_id, None
    path = current_app.url_map.bind("localhost", script_name="/").build(*target)
    return nomination_id, path


def link(endpoint: str, **values) -> str:
    """An absolute link for a message: ``PUBLIC_BASE_URL``, else the current request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or "http://localhost:5000")
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


# -- who ---------------------------------------------------------------------------------------


def people_with_role(role: str, province_code: str | None = None) -> list[User]:
    """Active accounts holding ``role`` (in ``province_code`` when given), in a stable order."""
    stmt = (
        sa.select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == role, User.active.is_(True))
        .order_by(User.id)
    )
    if province_code is not None:
        stmt = stmt.where(User.province_code == province_code)
    return list(db.session.scalars(stmt))


def staff(desk: str, province_code: str | None = None, except_id: int | None = None) -> list[Recipient]:
    """The officers of ``desk`` ("province", "ministry", "government"; ``permissions.DESK_ROLE``)."""
    return [Recipient.of(u) for u in people_with_role(desk_role(desk), province_code) if u.id != except_id]


def applicants(nomination: Nomination) -> list[Recipient]:
    """Who the dossier belongs to: its applicant's account, and the nominee's own address."""
    people = []
    owner = nomination.owner
    owner_is_applicant = owner.active and (is_applicant(owner) or not is_staff(owner))
    if owner_is_applicant:
        people.append(Recipient.of(owner))
    if nomination.posthumous and nomination.family_contact_email:
        # After the nominee's death the family is the applicant side (services/hard_cases.py).
        locale = owner.locale if owner_is_applicant and owner.locale in LANGUAGES else "vi"
        people.append(Recipient(nomination.family_contact_email.strip(), nomination.filed_by_name or "", locale))
        return people
    if nomination.email and nomination.email.strip().lower() != owner.email.lower():
        address = nomination.email.strip().lower()
        batch = db.session().info.get(_BATCH)
        if batch is not None and address in batch.accounts:  # looked up with the batch's other dossiers
            account = batch.accounts[address]
        else:
            account = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == address))
        if account is not None:
            people.append(Recipient.of(account))
        else:
            locale = owner.locale if owner_is_applicant and owner.locale in LANGUAGES else "vi"
            people.append(Recipient(nomination.email.strip(), nomination.full_name, locale))
    return people


# -- events ------------------------------------------------------------------------------------


def nomination_moved(nomination: Nomination, action: str, before: State, after: State,
                     actor_id: int | None, comment: str | None, meta: dict | None,
                     actor_name: str | None = None) -> None:
    """Tell the people concerned that ``nomination`` moved from ``before`` to ``after``.

    A move that issues a one-stop notice (received, returned, closed: ``documents/notices.py``, reached
    through the hook ``app.extensions["one_stop_notice"]``) sends it with the applicant's message."""
    action = str(action)
    meta = meta or {}
    make_notice = current_app.extensions.get("one_stop_notice")
    notice = make_notice(nomination, action, comment, meta, actor_name) if make_notice else None
    context = {
        "n": nomination,
        "action": action,
        "before": str(before),
        "after": str(after),
        "comment": comment,
        "meta": meta,
        "level": COUNCIL_LEVEL.get(action),
        "dossier_link": link("dossier.show", nomination_id=nomination.id),
        "lookup_link": link("public.status", code=nomination.code) if nomination.code else None,
        "consultations_link": link("public.consultations"),
        "comments_link": link("ministry.comments"),
        "notice": notice,
    }
    name = APPLICANT_TEMPLATE.get(action)
    if name is not None:
        send(name, applicants(nomination), attachments=[notice] if notice else (), **context)
    for template, recipients in _staff_to_tell(nomination, action, before, after, actor_id):
        send(template, recipients, **context)


def _staff_to_tell(nomination: Nomination, action: str, before: State, after: State,
                   actor_id: int | None) -> list[tuple[str, list[Recipient]]]:
    if action in (Action.SUBMIT, Action.RESUBMIT):
        return [("staff_arrived", staff("province", nomination.province_code, actor_id))]
    if action == Action.FORWARD_TO_MINISTRY:
        return [("staff_arrived", staff("ministry", except_id=actor_id))]
    if action == Action.SUBMIT_TO_PM:
        return [("staff_arrived", staff("government", except_id=actor_id))]
    if action == Action.HOLD and actor_id is None:  # a signed complaint held it
        return [("staff_complaint", staff("ministry"))]
    if action == Action.WITHDRAW and before != State.DRAFT:
        if before in PROVINCE_STAGE:
            people = staff("province", nomination.province_code, actor_id)
        elif before in GOVERNMENT_STAGE:
            people = staff("government", except_id=actor_id)
        else:
            people = staff("ministry", except_id=actor_id)
        return [("staff_withdrawn", people)]
    return []


def notice_issued(nomination: Nomination, notice) -> None:
    """A notice issued outside a move (the apology for a missed reply deadline): the applicant gets it,
    attached; the province's officers are told their reply is late and the new appointment."""
    context = {"n": nomination, "notice": notice, "data": notice.data,
               "dossier_link": link("dossier.show", nomination_id=nomination.id)}
    send(f"notice_{notice.kind}", applicants(nomination), attachments=[notice], **context)
    send(f"staff_notice_{notice.kind}", staff("province", nomination.province_code), **context)


def _members(session: CouncilSession, present_only: bool = False) -> list[Recipient]:
    present = {a.member_id for a in session.attendance}
    return [Recipient.of(m.user) for m in session.council.members
            if m.user.active and (not present_only or m.id in present)]


def session_scheduled(session: CouncilSession) -> None:
    """Every member of the council: the date, the place and the agenda of a new session."""
    db.session.flush()  # the session's id and its agenda's nominations
    send("session_scheduled", _members(session), session=session, council=session.council,
         items=[i.nomination for i in session.items],
         session_link=link("council.session", session_id=session.id))


def session_opened(session: CouncilSession) -> None:
    """The members present: the secret ballot is open."""
    send("session_opened", _members(session, present_only=True), session=session,
         council=session.council, items=[i.nomination for i in session.items],
         ballot_link=link("council.ballot", session_id=session.id))


def session_cancelled(session: CouncilSession, reason: str) -> None:
    """Every member of the council: the session they were told of will not take place, and why."""
    send("session_cancelled", _members(session), session=session, council=session.council, reason=reason,
         items=[i.nomination for i in session.items],
         council_link=link("council.council", council_id=session.council_id))


# -- personal data requests (issue 17; services/data_rights.py) ----------------------------------------


def data_request_opened(request) -> None:
    """A person asked for a correction, a deletion or withdrew a consent: the data officers are told."""
    officers = [Recipient.of(u) for u in people_with_role(data_officer_role())]
    send("data_request_opened", officers, r=request,
         request_link=link("data_rights.request", request_id=request.id))


def data_request_answered(request, person: User, kept=()) -> None:
    """The person is told the answer (before an anonymised account loses its address)."""
    send("data_request_answered", [Recipient.of(person)], r=request, kept=list(kept),
         my_data_link=link("data_rights.my_data"))


# -- typical products' certificates (issue 18; services/certificates.py) ------------------------------


def certificate_issued(certificate) -> None:
    """The producer (the dossier's owner): the certificate's number, level and validity."""
    nomination = certificate.nomination
    send("certificate_issued", applicants(nomination), c=certificate, n=nomination,
         dossier_link=link("programmes.show", dossier_id=nomination.id))


def certificate_revoked(certificate) -> None:
    """The producer: the certificate is revoked from a day, and why."""
    nomination = certificate.nomination
    send("certificate_revoked", applicants(nomination), c=certificate, n=nomination,
         dossier_link=link("programmes.show", dossier_id=nomination.id))
