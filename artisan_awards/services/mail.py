"""E-mail through an outbox.

``queue`` adds a message to the session of the change it reports, so both are committed
together (or neither).  ``send_pending`` delivers what is due through SMTP; a failure
counts an attempt, keeps the error and waits longer before the next try (never drops it).
With ``MAIL_SEND_IMMEDIATELY`` (tests, small installs) the page that queued mail sends it
right after its request; otherwise ``flask mail send`` (cron) does.
"""

from __future__ import annotations

import os
import smtplib
from datetime import timedelta
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import formatdate, make_msgid

import click
import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context
from flask.cli import AppGroup

from ..extensions import db
from ..models import OneStopNotice, OutboxAttachment, OutboxMessage
from ..timeutil import now_utc

MAX_BACKOFF_MINUTES = 6 * 60


def queue(to: str, subject: str, body: str, language: str = "vi", attachments=()) -> OutboxMessage:
    """Add a message to the outbox in the current transaction (the caller commits).

    ``attachments``: one-stop notices (``OneStopNotice`` rows, sent as their PDF) or
    ``(filename, content_type, bytes)`` tuples."""
    message = OutboxMessage(to=to, subject=subject[:300], body=body, language=language, attempts=0)
    for item in attachments:
        if isinstance(item, tuple):
            filename, content_type, data = item
            message.attachments.append(OutboxAttachment(filename=filename[:120], content_type=content_type,
                                                        data=data))
        else:
            message.attachments.append(OutboxAttachment(filename=item.filename, content_type="application/pdf",
                                                        notice=item))
    db.session.add(message)
    queued()
    return message


def queued() -> None:
    """Note that this request queued mail (``MAIL_SEND_IMMEDIATELY`` sends it after the request)."""
    if has_request_context():
        g.mail_queued = True


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), MAX_BACKOFF_MINUTES))


def _smtp():
    cfg = current_app.config
    server = smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg["MAIL_PORT"]), timeout=cfg.get("MAIL_TIMEOUT", 10))
    if cfg.get("MAIL_USE_TLS"):
        server.starttls()
    if cfg.get("MAIL_USERNAME"):
        server.login(cfg["MAIL_USERNAME"], cfg.get("MAIL_PASSWORD") or "")
    return server


def _email(row: OutboxMessage) -> Message:
    """The MIME message: UTF-8 text in quoted-printable, the subject as RFC 2047 encoded words.

    Built with the classic ``email.header.Header`` on purpose: the newer policy-based folder
    (``EmailMessage``) drops the space between two encoded words when it folds a long Vietnamese
    subject ("00001 — Nguyễn" arrives as "00001— Nguyễn"); ``Header`` splits inside encoded words
    and loses nothing.
    """
    utf8 = Charset("utf-8")
    utf8.body_encoding = QP
    text = MIMENonMultipart("text", "plain")
    text.set_payload(row.body, utf8)
    if row.attachments:  # the text, then each file (base64, its name in the Content-Disposition)
        msg = MIMEMultipart("mixed")
        msg.attach(text)
        for item in row.attachments:
            kind = Message()
            kind["Content-Type"] = item.content_type  # "text/csv; charset=utf-8": type and parameters
            part = MIMEBase(kind.get_content_maintype(), kind.get_content_subtype(),
                            **dict(kind.get_params()[1:]))
            part.set_payload(item.content())
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=item.filename)
            msg.attach(part)
    else:
        msg = text
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = row.to
    msg["Subject"] = Header(row.subject, "utf-8")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="artisan-awards")
    msg["Content-Language"] = row.language
    return msg


def send_pending(limit: int = 100, force: bool = False) -> tuple[int, int]:
    """Deliver due messages; return (sent, failed).  ``force`` ignores the back-off."""
    now = now_utc()
    query = sa.select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
    if not force:
        query = query.where(
            sa.or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
        )
    ids = list(db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)))
    if not ids:
        return 0, 0
    sent = failed = 0
    unready = _make_notices(ids)
    failed += len(unready)
    ids = [row_id for row_id in ids if row_id not in unready]
    if not ids:
        return 0, failed
    server = None
    try:
        server = _smtp()
    except (OSError, smtplib.SMTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
        for row_id in ids:
            _failed(row_id, error)
        db.session.commit()
        return 0, failed + len(ids)
    try:
        for row_id in ids:
            row = db.session.get(OutboxMessage, row_id)
            try:
                server.send_message(_email(row))
            except (OSError, smtplib.SMTPException) as exc:
                _failed(row_id, f"{type(exc).__name__}: {exc}")
                failed += 1
            else:
                row.attempts += 1
                row.sent_at = now_utc()
                row.last_error = None
                sent += 1
            db.session.commit()  # one message at a time: a crash never resends what went out
    finally:
        try:
            server.quit()
        except (OSError, smtplib.SMTPException):
            pass
    return sent, failed


def _make_notices(ids: list[int]) -> set[int]:
    """Make the PDF of every one-stop notice these messages carry that has none yet (issued by a move,
    which keeps only the notice's data: ``documents.notices.rendered``), before the SMTP connection
    opens. Each is committed at once; a message whose notice cannot be made is put back with the usual
    back-off (returned), the others go."""
    make = current_app.extensions.get("one_stop_notice_pdf")
    pending = db.session.execute(
        sa.select(OutboxAttachment.message_id, OutboxAttachment.notice_id)
        .join(OneStopNotice, OneStopNotice.id == OutboxAttachment.notice_id)
        .where(OutboxAttachment.message_id.in_(ids), OneStopNotice.sha256 == "")
        .order_by(OutboxAttachment.notice_id)).all()
    unready: set[int] = set()
    errors: dict[int, str | None] = {}
    for message_id, notice_id in pending:
        if notice_id not in errors:
            try:
                make(db.session.get(OneStopNotice, notice_id))
                db.session.commit()
                errors[notice_id] = None
            except Exception as exc:  # noqa: BLE001 (WeasyPrint, fonts, signing: the mail waits, the run goes on)
                db.session.rollback()
                current_app.logger.exception("one-stop notice %s could not be made", notice_id)
                errors[notice_id] = f"notice {notice_id}: {type(exc).__name__}: {exc}"
        if errors[notice_id] is not None and message_id not in unready:
            unready.add(message_id)
            _failed(message_id, errors[notice_id])
            db.session.commit()
    return unready


def _failed(row_id: int, error: str) -> None:
    row = db.session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.last_error = error[:500]
    row.next_attempt_at = now_utc() + _backoff(row.attempts)


def _send_after_request(response):
    if g.pop("mail_queued", False) and current_app.config.get("MAIL_SEND_IMMEDIATELY"):
        db.session.rollback()  # only what the view committed goes out
        send_pending(force=False)
    return response


mail_cli = AppGroup("mail", help="The e-mail outbox.")


@mail_cli.command("send")
@click.option("--limit", default=100, show_default=True)
@click.option("--force", is_flag=True, help="Ignore the back-off after failures.")
def send_command(limit: int, force: bool) -> None:
    """Deliver the messages waiting in the outbox."""
    sent, failed = send_pending(limit=limit, force=force)
    click.echo(f"sent {sent}, failed {failed}")


def init_app(app: Flask) -> None:
    for key, default in (("MAIL_SERVER", "localhost"), ("MAIL_PORT", 25), ("MAIL_USE_TLS", False),
                         ("MAIL_USERNAME", None), ("MAIL_PASSWORD", None),
                         ("MAIL_FROM", "no-reply@artisan-awards.local"),
                         ("MAIL_SEND_IMMEDIATELY", False),
                         # Links in messages (also from cron, where there is no request to take a host from).
                         ("PUBLIC_BASE_URL", os.environ.get("PUBLIC_BASE_URL")),
                         # Days before each deadline when `flask reminders send` reminds people.
                         ("REMINDER_DAYS", os.environ.get("REMINDER_DAYS", "7,1"))):
        app.config.setdefault(key, default)
    app.after_request(_send_after_request)
    app.cli.add_command(mail_cli)
