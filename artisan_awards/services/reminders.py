"""Deadline reminders: ``flask --app wsgi reminders send``, meant to run once a day from cron.

``REMINDER_DAYS`` (e.g. ``"7,1"``) says how many days before a deadline people are reminded.
Each run looks at every deadline still ahead (or due today) and, for the most urgent reminder
it has reached (with 7 and 1: the 7-day one from 7 days before, the 1-day one from the day
before), mails the people responsible unless ``reminders_sent`` shows they already had it.
So a run missed (server down) is caught up by the next one, and a second run the same day,
or a concurrent one, sends nothing twice (the table's unique key refuses the duplicate).

Deadlines and who is reminded:

* the secretariat's written reply (``Nomination.reply_due``): the province's officers;
* a returned dossier's completion (``Nomination.completion_due``): the applicant;
* the round's intake closing: applicants with a draft in that round;
* the plan's stage deadlines (``Round.deadlines``): the province officers of each province with
  dossiers still at the provincial stage (``province_to_ministry``), the ministry's officers for
  the others; only while some dossier is still before that stage;
* a planned council session (``CouncilSession.held_on``): the council's members.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from workflows.states import Action, State

from ..extensions import db
from ..models import Council, CouncilSession, Nomination, Round, SessionStatus, TransitionLog
from ..models.mail import ReminderSent
from ..timeutil import today
from . import mail, notifications, timeline
from .notifications import Recipient, link, staff


@dataclass
class Deadline:
    key: str  # what the deadline is about, e.g. "reply:42"
    kind: str  # the template: templates/mail/<lang>/reminder_<kind>.txt
    due: date
    recipients: list[Recipient]
    context: dict = field(default_factory=dict)


def thresholds() -> list[int]:
    """``REMINDER_DAYS`` as a list of whole days, largest first; ValueError when malformed."""
    raw = current_app.config.get("REMINDER_DAYS", "7,1")
    values = raw if isinstance(raw, (list, tuple)) else str(raw).replace(";", ",").split(",")
    days = set()
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not text.isdigit():
            raise ValueError(f"REMINDER_DAYS: {text!r} is not a whole number of days (e.g. \"7,1\")")
        days.add(int(text))
    return sorted(days, reverse=True)


def step_for(days_left: int, steps: list[int]) -> int | None:
    """The most urgent reminder reached ``days_left`` days before a deadline, if any."""
    if days_left < 0:
        return None
    reached = [s for s in steps if days_left <= s]
    return min(reached) if reached else None


# -- the deadlines -----------------------------------------------------------------------------


def deadlines(on: date, horizon: int) -> Iterator[Deadline]:
    """Every deadline from ``on`` to ``horizon`` days after it, with who is to be reminded."""
    last = date.fromordinal(on.toordinal() + horizon)
    yield from _nomination_deadlines(on, last)
    yield from _round_deadlines(on, last)
    yield from _session_deadlines(on, last)


def _nomination_deadlines(on: date, last: date) -> Iterator[Deadline]:
    rows = db.session.scalars(
        sa.select(Nomination).where(Nomination.state.in_([State.SUBMITTED, State.RETURNED]))
        .order_by(Nomination.id)
    )
    officers: dict[str, list[Recipient]] = {}  # each province's secretariat, looked up once a run
    for n in rows:
        link_ = link("dossier.show", nomination_id=n.id)
        if (due := n.reply_due()) and on <= due <= last:
            if n.province_code not in officers:
                officers[n.province_code] = staff("province", n.province_code)
            yield Deadline(f"reply:{n.id}", "reply", due, officers[n.province_code],
                           {"n": n, "dossier_link": link_})
        if (due := n.completion_due()) and on <= due <= last:
            reasons = db.session.scalar(
                sa.select(TransitionLog.comment)
                .where(TransitionLog.nomination_id == n.id, TransitionLog.action == str(Action.RETURN))
                .order_by(TransitionLog.id.desc()).limit(1)
            )
            yield Deadline(f"completion:{n.id}", "completion", due, notifications.applicants(n),
                           {"n": n, "dossier_link": link_, "comment": reasons})


def _round_deadlines(on: date, last: date) -> Iterator[Deadline]:
    for r in db.session.scalars(sa.select(Round).where(Round.intake_closes >= on).order_by(Round.id)):
        if r.intake_opens > on:
            continue
        drafts = db.session.scalars(
            sa.select(Nomination).where(Nomination.round_id == r.id, Nomination.state == State.DRAFT)
            .order_by(Nomination.id)
        ).all()
        # each draft follows its province's own intake deadline (ProvinceIntake), else the round's
        by_owner: dict[tuple[int, date], list[Nomination]] = {}
        for n in drafts:
            closes = r.intake_closes_for(n.province_code)
            if on <= closes <= last:
                by_owner.setdefault((n.owner_id, closes), []).append(n)
        for (_owner_id, closes), owner_drafts in by_owner.items():
            owner = owner_drafts[0].owner
            if owner.active:
                key = f"intake:{r.id}" if closes == r.intake_closes else f"intake:{r.id}:{closes.isoformat()}"
                yield Deadline(key, "intake", closes, [Recipient.of(owner)],
                               {"round": r, "drafts": owner_drafts, "link": link("applicant.index"),
                                "closes": closes})
    for r in db.session.scalars(sa.select(Round).order_by(Round.id)):
        plan = {k: d for k, d in timeline.plan_deadlines(r).items() if on <= d <= last}
        if not plan:
            continue
        counts = timeline.pending_counts(r)
        context = {"round": r, "timeline_link": link("rounds.timeline", round_id=r.id)}
        for key, due in plan.items():
            if key == "province_to_ministry":
                for province in sorted({p for (stage, p) in counts if stage == 0}):
                    pending = timeline.pending_before(counts, key, province)
                    yield Deadline(f"plan:{r.id}:{key}:{province}", "plan", due,
                                   staff("province", province),
                                   {**context, "label": timeline.LABELS[key], "pending": pending})
            elif (pending := timeline.pending_before(counts, key)) > 0:
                yield Deadline(f"plan:{r.id}:{key}", "plan", due, staff("ministry"),
                               {**context, "label": timeline.LABELS[key], "pending": pending})


def _session_deadlines(on: date, last: date) -> Iterator[Deadline]:
    sessions = db.session.scalars(
        sa.select(CouncilSession).join(Council, Council.id == CouncilSession.council_id)
        .where(CouncilSession.status == SessionStatus.PLANNED)
        .where(CouncilSession.held_on >= on, CouncilSession.held_on <= last)
        .order_by(CouncilSession.id)
    )
    for s in sessions:
        members = [Recipient.of(m.user) for m in s.council.members if m.user.active]
        yield Deadline(f"session:{s.id}", "session", s.held_on, members,
                       {"session": s, "council": s.council, "items": [i.nomination for i in s.items],
                        "session_link": link("council.session", session_id=s.id)})


# -- sending -----------------------------------------------------------------------------------


@dataclass
class Sent:
    key: str
    step: int
    to: str
    due: date


def send_due(dry_run: bool = False) -> list[Sent]:
    """Queue every reminder due today that was not sent before; commit each one with its record."""
    on = today()
    steps = thresholds()
    if not steps:
        return []
    done: list[Sent] = []
    for deadline in list(deadlines(on, max(steps))):
        step = step_for((deadline.due - on).days, steps)
        if step is None:
            continue
        key = f"{deadline.key}:{deadline.due.isoformat()}"
        already = set(db.session.scalars(
            sa.select(ReminderSent.to).where(ReminderSent.key == key, ReminderSent.threshold == step)
        ))
        for person in deadline.recipients:
            address = person.email.strip().lower()
            if address in already:
                continue
            already.add(address)
            record = Sent(key, step, address, deadline.due)
            if dry_run:
                done.append(record)
                continue
            db.session.add(ReminderSent(key=key, threshold=step, to=address, deadline=deadline.due, sent_on=on))
            notifications.send(f"reminder_{deadline.kind}", [person], due=deadline.due,
                               days=(deadline.due - on).days, **deadline.context)
            try:
                db.session.commit()
            except IntegrityError:  # a concurrent run sent this one a moment ago
                db.session.rollback()
                continue
            done.append(record)
    return done


reminders_cli = AppGroup("reminders", help="Deadline reminders (run daily).")


@reminders_cli.command("send")
@click.option("--dry-run", is_flag=True, help="List what is due; queue and record nothing.")
@click.option("--queue-only", is_flag=True, help="Put the reminders in the outbox; leave delivery to `mail send`.")
def send_command(dry_run: bool, queue_only: bool) -> None:
    """Queue the reminders due today (REMINDER_DAYS before each deadline), then deliver the outbox."""
    try:
        done = send_due(dry_run=dry_run)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    for item in done:
        click.echo(f"{item.key} -{item.step}d {item.to}")
    click.echo(f"{'due' if dry_run else 'queued'} {len(done)} reminders")
    if not dry_run and not queue_only:
        sent, failed = mail.send_pending()
        click.echo(f"sent {sent}, failed {failed}")
