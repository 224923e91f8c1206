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
"""

from __future__ import annotations

import os
import tempfile
import threading
import zipfile

import sqlalchemy as sa
from flask import Flask, current_app

from workflows.states import N_, State

from .. import audit_chain, storage
from ..errors import Forbidden, NotFound
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
from ..timeutil import now_utc
from . import service

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


def start_round_export(user: User, round_id: int) -> DocumentTask:
    if not can_export(user):
        raise Forbidden()
    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    task = DocumentTask(round_id=round_.id, requested_by_id=user.id, status=TaskStatus.QUEUED,
                        message=N_("Đang chờ xử lý"))
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


def _plan(round_: Round, user: User) -> list[tuple[str, tuple]]:
    """Every document of the round that ``user`` may see, as (path in the ZIP, what makes it).

    The same predicates as the pages: a ministry officer's archive holds the dossiers from their
    arrival at the ministry on and the ministry and state councils' sessions, not the provinces'.
    """
    plan: list[tuple[str, tuple]] = []
    nominations = db.session.scalars(
        sa.select(Nomination).where(Nomination.round_id == round_.id, Nomination.code.is_not(None),
                                    Nomination.state != State.DRAFT, visible_filter(user))
        .order_by(Nomination.province_code, Nomination.code)
    ).all()
    for n in nominations:
        plan.append((f"ho-so/{n.province_code}/{n.code}.pdf", ("nomination", n.id, "dossier")))
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
    if kind == "nomination":
        return service.nomination_document(user, ident, which).pdf
    if kind == "session":
        return service.session_document(user, ident, which).pdf
    return service.consultation_list(ident, which).pdf


def run_task(task_id: int) -> None:
    task = db.session.get(DocumentTask, task_id)
    if task is None or task.finished:
        return
    user = task.requested_by
    store, key = storage.storage(), None
    try:
        plan = _plan(task.round, user)
        task.status, task.total, task.done = TaskStatus.RUNNING, len(plan), 0
        task.started_at, task.message = now_utc(), N_("Đang tạo văn bản")
        db.session.commit()
        with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as spool:
            with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path, what in plan:
                    archive.writestr(path, _make(what, user))
                    task.done += 1
                    db.session.commit()
                archive.writestr(CHECKPOINT_PATH, round_checkpoint(task.round))
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
