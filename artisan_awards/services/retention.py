"""The retention schedule (issue 17 item 4, docs/personal-data.md §4): what is due is anonymised or
deleted, what must be archived is kept, and each run reports its counts per kind.

``flask --app wsgi privacy retention --dry-run`` counts without changing anything; without
``--dry-run`` it applies the same selection in one transaction and records one audit event
(``retention_applied``, with the counts) in the keyed chain.  Nothing of the chain is ever deleted or
rewritten: ``transition_log`` and ``audit_events`` rows stay as they are (they hold the actors' names and
the moves, not the nominee's personal data), and what an anonymised dossier keeps (its code, province,
state, stage) is exactly what ``flask audit verify`` checks against the chain.

Kinds, each with its period in days (configuration ``RETENTION_*_DAYS``; 0 keeps that kind forever):

* ``draft``: a dossier never submitted (state draft, no code, no log), last changed before the cut-off:
  deleted with its periods, products and files.
* ``ended_dossier``: rejected, not awarded, withdrawn or closed as incomplete, ended (``state_changed_at``)
  before the cut-off: the nominee's contacts, birth date, family and files are erased; a dossier that
  a council voted on keeps its name, craft and title (the council's record, kept for the archive), one
  that never reached a council is anonymised entirely.  Awarded dossiers and those in progress are kept.
* ``comment``: a public comment received before the cut-off, its verification finished (or it was
  anonymous): the commenter's name, phone and address are erased; the comment and the finding stay.
* ``log``: login sessions ended or idle, login throttles, sent e-mails older than the cut-off: deleted.
* ``export``: round document ZIPs (document tasks finished before the cut-off): the file and the row.
* ``backup``: files in ``RETENTION_BACKUP_DIR`` last written before the cut-off.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from workflows.states import N_, State

from .. import storage
from ..extensions import db
from ..models import (
    AgendaItem,
    AuditKind,
    CriterionReview,
    DocumentTask,
    LoginSession,
    LoginThrottle,
    Nomination,
    OutboxAttachment,
    OutboxMessage,
    PublicComment,
    TransitionLog,
)
from ..timeutil import now_utc
from . import admin_events
from .transaction import one_transaction

ENDED_STATES = (State.PROVINCE_REJECTED, State.MINISTRY_REJECTED, State.STATE_REJECTED, State.NOT_AWARDED,
                State.WITHDRAWN, State.CLOSED_INCOMPLETE)
FINISHED_COMMENT = ("substantiated", "unsubstantiated")
ANONYMISED_NAME = "(đã ẩn danh)"

# kind -> (setting, what happens, label)
KINDS: dict[str, tuple[str, str, str]] = {
    "draft": ("RETENTION_DRAFT_DAYS", N_("xóa"), N_("Bản nháp chưa nộp")),
    "ended_dossier": ("RETENTION_ENDED_DOSSIER_DAYS", N_("ẩn danh"),
                      N_("Hồ sơ bị từ chối, rút, dừng xử lý")),
    "comment": ("RETENTION_COMMENT_DAYS", N_("xóa thông tin người góp ý"), N_("Ý kiến góp ý của nhân dân")),
    "log": ("RETENTION_LOG_DAYS", N_("xóa"), N_("Nhật ký đăng nhập, thư đã gửi")),
    "export": ("RETENTION_EXPORT_DAYS", N_("xóa"), N_("Tệp kết xuất văn bản của đợt")),
    "backup": ("RETENTION_BACKUP_DAYS", N_("xóa"), N_("Bản sao lưu")),
}
# Kept for the archive whatever their age (Law on Archives 33/2024/QH15): decisions, council records.
KEPT = (
    N_("Hồ sơ được phong tặng và quyết định của Chủ tịch nước"),
    N_("Biên bản, kết quả bỏ phiếu, kê khai xung đột lợi ích của Hội đồng"),
    N_("Nhật ký chuyển trạng thái và nhật ký quản trị (chuỗi kiểm chứng)"),
    N_("Thông báo một cửa đã phát hành"),
)


@dataclass
class Report:
    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    cutoffs: dict[str, datetime | None] = field(default_factory=dict)


def period_days(kind: str) -> int:
    return int(current_app.config.get(KINDS[kind][0]) or 0)


def cutoff(kind: str, now: datetime) -> datetime | None:
    days = period_days(kind)
    return now - timedelta(days=days) if days > 0 else None


def _due_drafts(before: datetime) -> list[int]:
    has_log = sa.exists().where(TransitionLog.nomination_id == Nomination.id)
    has_review = sa.exists().where(CriterionReview.nomination_id == Nomination.id)
    return list(db.session.scalars(sa.select(Nomination.id).where(
        Nomination.state == State.DRAFT, Nomination.code.is_(None), Nomination.updated_at < before,
        ~has_log, ~has_review).order_by(Nomination.id)))


def _due_ended(before: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(Nomination.id).where(
        Nomination.state.in_([str(s) for s in ENDED_STATES]), Nomination.state_changed_at < before,
        Nomination.personal_data_erased_at.is_(None)).order_by(Nomination.id)))


def _due_comments(before: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(PublicComment.id).where(
        PublicComment.created_at < before, PublicComment.personal_data_erased_at.is_(None),
        sa.or_(PublicComment.status.in_(FINISHED_COMMENT), PublicComment.informational.is_(True)))
        .order_by(PublicComment.id)))


def _due_logs(before: datetime) -> dict[str, list]:
    return {
        "sessions": list(db.session.scalars(sa.select(LoginSession.id).where(
            sa.func.coalesce(LoginSession.ended_at, LoginSession.last_seen_at) < before))),
        "throttles": list(db.session.scalars(sa.select(LoginThrottle.scope_hash).where(
            LoginThrottle.last_failed_at < before))),
        "mail": list(db.session.scalars(sa.select(OutboxMessage.id).where(
            OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < before))),
    }


def _due_exports(before: datetime) -> list[int]:
    return list(db.session.scalars(sa.select(DocumentTask.id).where(
        DocumentTask.finished_at.is_not(None), DocumentTask.finished_at < before)))


def _due_backups(before: datetime) -> list[Path]:
    folder = current_app.config.get("RETENTION_BACKUP_DIR")
    if not folder or not Path(folder).is_dir():
        return []
    limit = before.timestamp()
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and not p.name.endswith(".part") and p.stat().st_mtime < limit)


def _drop_files(attachments, purge: list[str]) -> None:
    """Delete the files' bytes with the rows (database storage) or after the commit (local disk)."""
    store = storage.storage()
    for a in attachments:
        store.delete(a.stored_name)
        purge.append(a.stored_name)


def _delete_draft(nomination_id: int, purge: list[str]) -> None:
    n = db.session.get(Nomination, nomination_id)
    _drop_files(list(n.attachments), purge)
    db.session.delete(n)  # periods, products, attachments follow (delete-orphan)


def _anonymise(nomination_id: int, when: datetime, purge: list[str]) -> None:
    n = db.session.get(Nomination, nomination_id)
    council_record = db.session.scalar(sa.select(sa.exists().where(AgendaItem.nomination_id == n.id)))
    n.birth_date = None
    n.address = n.phone = n.email = None
    n.family_contact_phone = n.family_contact_email = None
    if n.filed_by_name:
        n.filed_by_name = ANONYMISED_NAME
    if not council_record:  # no council ever judged it: nothing of it is an archival record
        n.full_name = ANONYMISED_NAME
        n.pen_name = n.hometown = n.workshop = None
        n.career_summary = n.skills_summary = n.honours_summary = n.special_craft_rationale = None
        n.refresh_name_key()
        for period in n.periods:
            period.workplace, period.role = "", None
        files = list(n.attachments)
        _drop_files(files, purge)
        for a in files:
            db.session.delete(a)
    n.personal_data_erased_at = when


def _erase_comment(comment_id: int, when: datetime) -> None:
    c = db.session.get(PublicComment, comment_id)
    c.full_name = c.phone = c.address = None
    c.personal_data_erased_at = when


def run(dry_run: bool = True, now: datetime | None = None, actor=None) -> Report:
    """Count (``dry_run``) or apply what the schedule makes due at ``now``; one transaction, one event."""
    now = now or now_utc()
    report = Report(dry_run)
    due: dict[str, object] = {}
    for kind in KINDS:
        report.cutoffs[kind] = before = cutoff(kind, now)
        if before is None:
            continue
        if kind == "draft":
            due[kind] = _due_drafts(before)
        elif kind == "ended_dossier":
            due[kind] = _due_ended(before)
        elif kind == "comment":
            due[kind] = _due_comments(before)
        elif kind == "log":
            due[kind] = _due_logs(before)
        elif kind == "export":
            due[kind] = _due_exports(before)
        else:
            due[kind] = _due_backups(before)
        found = due[kind]
        report.counts[kind] = sum(len(v) for v in found.values()) if isinstance(found, dict) else len(found)
    if dry_run or not any(report.counts.values()):
        return report
    purge: list[str] = []
    with one_transaction():
        for nid in due.get("draft", ()):
            _delete_draft(nid, purge)
        for nid in due.get("ended_dossier", ()):
            _anonymise(nid, now, purge)
        for cid in due.get("comment", ()):
            _erase_comment(cid, now)
        logs = due.get("log") or {}
        if logs.get("sessions"):
            db.session.execute(sa.delete(LoginSession).where(LoginSession.id.in_(logs["sessions"])))
        if logs.get("throttles"):
            db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.scope_hash.in_(logs["throttles"])))
        if logs.get("mail"):
            db.session.execute(sa.delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(logs["mail"])))
            db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id.in_(logs["mail"])))
        for tid in due.get("export", ()):
            task = db.session.get(DocumentTask, tid)
            if task.result_name:
                storage.storage().delete(task.result_name)
                purge.append(task.result_name)
            db.session.delete(task)
        db.session.flush()
        admin_events.record(AuditKind.RETENTION_APPLIED, actor, target_type="retention",
                            target_label=now.astimezone(UTC).isoformat(timespec="seconds"),
                            counts=report.counts)
    for key in purge:  # files on disk go once their rows' removal is committed
        storage.storage().purge(key)
    for path in due.get("backup", ()):  # files outside the database: after the commit
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
    return report



# -- flask privacy ... ------------------------------------------------------------------------------

import click  # noqa: E402


@click.group("privacy")
def privacy_cli():
    """Personal data: the retention job, the field encryption keys."""


@privacy_cli.command("retention")
@click.option("--dry-run", is_flag=True, help="Count what is due, change nothing.")
def retention_command(dry_run: bool):
    """Anonymise or delete what the retention schedule makes due; report the counts per kind."""
    report = run(dry_run=dry_run)
    click.echo(("DRY RUN: " if dry_run else "") + "kind\tdays\tdue" + ("" if dry_run else "\tdone"))
    for kind in KINDS:
        n = report.counts[kind]
        click.echo(f"{kind}\t{period_days(kind) or '-'}\t{n}" + ("" if dry_run else f"\t{n}"))


@privacy_cli.command("keygen")
def keygen_command():
    """Print a new field encryption key (FIELD_ENCRYPTION_KEYS takes "id=key,...")."""
    from ..field_crypto import new_key

    click.echo(new_key())


@privacy_cli.command("rekey")
def rekey_command():
    """Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS and recompute the
    keyed indexes (after a rotation of either key)."""
    from ..field_crypto import ENCRYPTED_COLUMNS, SEALED_SECRETS, current_key_id, encrypt, key_id_of, phone_index

    kid = current_key_id()
    changed = 0
    tables: dict[str, list[str]] = {}
    for label in [*ENCRYPTED_COLUMNS, *SEALED_SECRETS]:
        table, column = label.split(".")
        tables.setdefault(table, []).append(column)
    with one_transaction():
        conn = db.session.connection()
        for table, columns in tables.items():
            from ..field_crypto import decrypt

            # the names come from the registry, never from input; core constructs quote them anyway
            extra = ["phone_index"] if table == "nominations" else []
            t = sa.table(table, sa.column("id"), *(sa.column(c) for c in [*columns, *extra]))
            rows = conn.execute(sa.select(t.c.id, *(t.c[c] for c in columns))).mappings().all()
            for row in rows:
                values = {}
                for c in columns:
                    raw = row[c]
                    if raw in (None, "") or key_id_of(raw) == kid:
                        continue
                    values[c] = encrypt(decrypt(raw, f"{table}.{c}"), f"{table}.{c}")
                if table == "nominations":
                    phone = decrypt(row["phone"], "nominations.phone") if row["phone"] else None
                    values["phone_index"] = phone_index(phone)
                if values:
                    conn.execute(sa.update(t).where(t.c.id == row["id"]).values(**values))
                    changed += 1
    click.echo(f"{changed} rows re-encrypted under key {kid}")
