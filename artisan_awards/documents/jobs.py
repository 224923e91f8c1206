"""Making a whole round's documents in the background, with progress the user sees.

``start_round_export`` writes a ``DocumentTask`` row and queues the work: on RQ (Redis) when
``REDIS_URL`` is configured (run ``flask --app wsgi documents worker``), else in a thread of the
web process. ``run_task`` does the work anywhere: every submitted dossier (Mẫu 01/02 + 09/10 +
evidence), every document of the round's closed council sessions (Mẫu 03-06), the ballots
(07/08) and the national consultation lists, into one ZIP kept in the file storage (local disk
or the database, ``STORAGE_BACKEND``), so any app server can hand it out. Each document goes
through the cache, so a second export of an unchanged round is quick. The row's
``done``/``total`` is committed after each document. The ZIP also holds a signed checkpoint of
the audit chain (``CHECKPOINT_PATH``; ``flask --app wsgi audit verify --checkpoint FILE`` checks
later that the record still extends it).

The ZIP is an archival package: a folder per dossier (``ho-so/<province>/<code>/``) with its
archival copy (PDF/A-3b, every evidence file embedded once with its checksum),
and a manifest (``MANIFEST_JSON`` and ``MANIFEST_CSV``) giving every file's SHA-256 and size and
each dossier's descriptive metadata (code, name, title, province, state, dates). The requester
chooses the dossiers (``SCOPES``): those that reached a decision (the default: withdrawn, closed
and still-pending dossiers are left out) or all submitted ones. The choice is kept in the
task's ``kind``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import threading
import zipfile

import sqlalchemy as sa
from flask import Flask, current_app

from workflows.states import N_, STATE_INFO, State

from .. import audit_chain, storage
from ..errors import Forbidden, NotFound, ValidationFailed
from ..exports import csv_cell
from ..extensions import db
from ..models import (
    Council,
    CouncilSession,
    DocumentTask,
    Nomination,
    Round,
    SessionStatus,
    TaskStatus,
    User,
    get_row,
)
from ..permissions import can_export_archives, visible_filter
from ..services import councils as council_service
from ..timeutil import local_date, now_utc
from . import data, service

_threads: list[threading.Thread] = []  # the in-process fallback's workers (tests join them)


def can_export(user: User) -> bool:
    return user.is_authenticated and can_export_archives(user)


def get_task(user: User, task_id: int) -> DocumentTask:
    """A task its requester (or another national officer) may watch; 404 otherwise."""
    task = get_row(DocumentTask, task_id)
    if task is None or not (task.requested_by_id == user.id or can_export(user)):
        raise NotFound(N_("Không tìm thấy tác vụ."), code="task_not_found")
    return task


def recent_tasks(round_id: int, limit: int = 5) -> list[DocumentTask]:
    return list(db.session.scalars(
        sa.select(DocumentTask).where(DocumentTask.round_id == round_id)
        .order_by(DocumentTask.id.desc()).limit(limit)
    ))


# Which dossiers a round's package holds. "decided": those that reached a decision (a final state
# other than withdrawn or closed as incomplete); "all": every submitted dossier the requester sees.
SCOPES = ("decided", "all")
DEFAULT_SCOPE = "decided"
DECIDED_STATES = tuple(s for s, info in STATE_INFO.items()
                       if info.final and s not in (State.WITHDRAWN, State.CLOSED_INCOMPLETE))
KIND_PREFIX = "round_"  # DocumentTask.kind: "round_decided" / "round_all"


def task_scope(task: DocumentTask) -> str:
    """The scope chosen for ``task`` (a task made before the choice existed counts as "decided")."""
    scope = (task.kind or "").removeprefix(KIND_PREFIX)
    return scope if scope in SCOPES else DEFAULT_SCOPE


def start_round_export(user: User, round_id: int, scope: str = DEFAULT_SCOPE) -> DocumentTask:
    if not can_export(user):
        raise Forbidden()
    if scope not in SCOPES:
        raise ValidationFailed(fields={"scope": N_("Chọn hồ sơ đã có quyết định hoặc tất cả hồ sơ.")})
    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    task = DocumentTask(round_id=round_.id, requested_by_id=user.id, status=TaskStatus.QUEUED,
                        kind=KIND_PREFIX + scope, message=N_("Đang chờ xử lý"))
    db.session.add(task)
    db.session.commit()
    _enqueue(task)
    return task


def _enqueue(task: DocumentTask) -> None:
    redis_url = current_app.config.get("REDIS_URL") or os.environ.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from rq import Queue

        job = Queue("documents", connection=Redis.from_url(redis_url)).enqueue(
            "artisan_awards.documents.jobs.run_task_in_worker", task.id, job_timeout=3600)
        task.queue_job_id = job.id
        db.session.commit()
        return
    app = current_app._get_current_object()
    thread = threading.Thread(target=_run_in_thread, args=(app, task.id), name=f"document-task-{task.id}",
                              daemon=True)
    _threads[:] = [t for t in _threads if t.is_alive()]
    _threads.append(thread)
    thread.start()


def _run_in_thread(app: Flask, task_id: int) -> None:
    with app.app_context():
        try:
            run_task(task_id)
        finally:
            db.session.remove()


def run_task_in_worker(task_id: int) -> None:
    """The RQ entry point: the worker (``flask documents worker``) runs inside an app context."""
    run_task(task_id)


CHECKPOINT_PATH = "nhat-ky/diem-kiem-chung-nhat-ky.json"


def round_checkpoint(round_: Round) -> str:
    """The audit chain's head now, signed with the chain key, with whether the chain verified."""
    connection = db.session.connection()
    report = audit_chain.check(connection)
    return audit_chain.checkpoint_json(audit_chain.checkpoint(connection, round_id=round_.id, chain_verified=report.ok,
                                                  breaks=len(report.breaks)))


MANIFEST_JSON = "danh-muc.json"
MANIFEST_CSV = "danh-muc.csv"
MANIFEST_CSV_FIELDS = ("path", "sha256", "size", "code", "full_name", "title", "province", "state",
                       "submitted_at", "received_at", "state_changed_at", "decision_no", "decision_date")


def _dossiers(round_: Round, user: User, scope: str) -> list[Nomination]:
    query = (sa.select(Nomination)
             .where(Nomination.round_id == round_.id, Nomination.code.is_not(None),
                    Nomination.state != State.DRAFT, visible_filter(user))
             .order_by(Nomination.province_code, Nomination.code))
    if scope == "decided":
        query = query.where(Nomination.state.in_([s.value for s in DECIDED_STATES]))
    return list(db.session.scalars(query))


def dossier_folder(n: Nomination) -> str:
    return f"ho-so/{n.province_code}/{n.code}"


def _plan(round_: Round, user: User, scope: str = "all") -> list[tuple[str, tuple]]:
    """Every document of the round that ``user`` may see, as (path in the ZIP, what makes it).

    The same predicates as the pages: a ministry officer's archive holds the dossiers from their
    arrival at the ministry on and the ministry and state councils' sessions, not the provinces'.
    ``scope`` (``SCOPES``) chooses the dossiers.
    """
    plan: list[tuple[str, tuple]] = []
    for n in _dossiers(round_, user, scope):
        folder = dossier_folder(n)
        plan.append((f"{folder}/ho-so-{n.code}-pdfa.pdf", ("nomination", n.id, "dossier")))
    sessions = db.session.scalars(
        sa.select(CouncilSession).join(Council, Council.id == CouncilSession.council_id)
        .where(Council.round_id == round_.id).order_by(Council.level, Council.id, CouncilSession.id)
    ).all()
    for s in sessions:
        if not council_service.can_see_council(user, s.council):
            continue
        folder = f"hoi-dong/{s.council.level}-{s.council.province_code or 'tw'}-phien-{s.id}"
        kinds = ["ballot"]
        if s.status == SessionStatus.CLOSED:
            kinds = ["submission-letter", "list", "minutes", "tally", "ballot"]
        for kind in kinds:
            plan.append((f"{folder}/{service.SESSION_KINDS[kind][1]}.pdf", ("session", s.id, kind)))
    for window in service.CONSULTATION_WINDOWS:
        plan.append((f"lay-y-kien/danh-sach-{window}.pdf", ("consultation", round_.id, window)))
    return plan


def _make(what: tuple, user: User) -> bytes:
    kind, ident, which = what
    if kind == "nomination":  # the archival copy: PDF/A-3b with the evidence embedded
        return service.nomination_document(user, ident, which, archival=which == "dossier").pdf
    if kind == "session":
        return service.session_document(user, ident, which).pdf
    return service.consultation_list(ident, which).pdf


def _file_entry(path: str, body: bytes, what: tuple | None) -> dict:
    entry = {"path": path, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
    if what is not None and what[0] == "nomination":
        entry["nomination_id"] = what[1]
    return entry


def _iso(value) -> str:
    if value is None:
        return ""
    return value.isoformat()


def dossier_metadata(n: Nomination) -> dict:
    """What an archive records of a case (descriptive metadata), dates as ISO 8601."""
    return {
        "code": n.code,
        "full_name": n.full_name,
        "title": n.title,
        "title_label": str(data.TITLE_LABELS.get(n.title, n.title)),
        "province_code": n.province_code,
        "province": n.province.name,
        "state": str(n.state),
        "state_label": str(STATE_INFO[State(n.state)].staff_label),
        "submitted_at": _iso(n.submitted_at),
        "submitted_on": _iso(local_date(n.submitted_at)) if n.submitted_at else "",
        "received_at": _iso(n.received_at),
        "state_changed_at": _iso(n.state_changed_at),
        "decision_no": n.decision_no or "",
        "decision_date": _iso(n.decision_date),
        "evidence": [{"name": a.original_name, "content_type": a.content_type, "size": a.size,
                      "sha256": a.sha256, "uploaded_at": _iso(a.uploaded_at)}
                     for a in sorted(n.attachments, key=lambda a: a.id)],
    }


def build_manifest(round_: Round, user: User, scope: str, files: list[dict]) -> dict:
    """The package's manifest: every file with its checksum, and each dossier's metadata and files."""
    by_dossier: dict[int, list[dict]] = {}
    for entry in files:
        if "nomination_id" in entry:
            by_dossier.setdefault(entry["nomination_id"], []).append(
                {k: entry[k] for k in ("path", "sha256", "size")})
    dossiers = []
    for ident, entries in by_dossier.items():
        n = db.session.get(Nomination, ident)
        dossiers.append({**dossier_metadata(n), "folder": dossier_folder(n), "files": entries})
    return {
        "format": "artisan-awards-archival-package/1",
        "round": {"id": round_.id, "number": round_.number, "name": round_.name},
        "scope": scope,
        "created_at": now_utc().isoformat(),
        "created_by": user.email,
        "checksum_algorithm": "SHA-256",
        "dossiers": dossiers,
        "files": [{k: e[k] for k in ("path", "sha256", "size")} for e in files],
    }


def manifest_csv(manifest: dict) -> str:
    """One row per file of the package; a dossier's files carry its descriptive metadata."""
    owners = {f["path"]: d for d in manifest["dossiers"] for f in d["files"]}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=MANIFEST_CSV_FIELDS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for entry in manifest["files"]:
        d = owners.get(entry["path"], {})
        row = {**{k: d.get(k, "") for k in MANIFEST_CSV_FIELDS}, **entry}
        writer.writerow({k: csv_cell(v) for k, v in row.items()})  # a name cannot start a formula
    return "\ufeff" + out.getvalue()  # with a BOM, so that spreadsheet programs read UTF-8


def run_task(task_id: int) -> None:
    task = db.session.get(DocumentTask, task_id)
    if task is None or task.finished:
        return
    user = task.requested_by
    store, key = storage.storage(), None
    try:
        scope = task_scope(task)
        plan = _plan(task.round, user, scope)
        task.status, task.total, task.done = TaskStatus.RUNNING, len(plan), 0
        task.started_at, task.message = now_utc(), N_("Đang tạo văn bản")
        db.session.commit()
        files: list[dict] = []
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path, what in plan:
                    body = _make(what, user)
                    archive.writestr(path, body)
                    files.append(_file_entry(path, body, what))
                    task.done += 1
                    db.session.commit()
                checkpoint = round_checkpoint(task.round).encode()
                archive.writestr(CHECKPOINT_PATH, checkpoint)
                files.append(_file_entry(CHECKPOINT_PATH, checkpoint, None))
                manifest = build_manifest(task.round, user, scope, files)
                archive.writestr(MANIFEST_JSON, json.dumps(manifest, ensure_ascii=False, indent=2))
                archive.writestr(MANIFEST_CSV, manifest_csv(manifest))
            spool.seek(0)
            key = storage.new_key(".zip")
            store.put(key, spool.read())
        task.status, task.result_name, task.message = TaskStatus.DONE, key, N_("Đã xong")
        task.finished_at = now_utc()
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if key:
            store.discard(key)
        task = db.session.get(DocumentTask, task_id)
        task.status, task.finished_at = TaskStatus.FAILED, now_utc()
        task.message = f"{type(exc).__name__}: {str(exc)[:250]}"
        db.session.commit()
        current_app.logger.exception("document task %s failed", task_id)
