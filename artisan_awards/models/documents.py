"""Background document jobs: one row per request to produce a round's documents, with its progress."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .core import Nomination, Round, User


class TaskStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DocumentTask(db.Model):
    """A job that makes a round's documents into one ZIP file; the user watches ``done``/``total``."""

    __tablename__ = "document_tasks"
    __table_args__ = (
        sa.CheckConstraint(sa.column("status").in_([s.value for s in TaskStatus]), name="known_status"),
        sa.CheckConstraint("done >= 0 AND total >= 0 AND done <= total", name="progress_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), default="round_documents")
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default=TaskStatus.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str | None] = mapped_column(sa.String(300))
    result_name: Mapped[str | None] = mapped_column(sa.String(120))  # the ZIP's key in the file storage
    queue_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    round: Mapped[Round] = relationship()
    requested_by: Mapped[User] = relationship()

    @property
    def download_name(self) -> str:
        return f"dot-{self.round.number}-van-ban-{self.id}.zip"

    @property
    def percent(self) -> int:
        if self.status == TaskStatus.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (TaskStatus.DONE, TaskStatus.FAILED)


class NoticeKind(enum.StrEnum):
    """The one-stop notices sent to an applicant (Circular 03/2025/TT-VPCP, Annex I; see docs/documents.md)."""

    RECEIPT = "receipt"  # Giấy tiếp nhận hồ sơ và hẹn trả kết quả: received (submit, resubmit)
    REQUEST = "request"  # Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ: returned, listing what is missing
    REFUSAL = "refusal"  # Phiếu từ chối tiếp nhận giải quyết hồ sơ: closed, with the reasons
    APOLOGY = "apology"  # Phiếu xin lỗi và hẹn lại ngày trả kết quả: the reply deadline was missed


class OneStopNotice(db.Model):
    """One notice as issued: the data printed on it and the PDF (signed when the body has a certificate).

    ``deadline_key`` names the missed deadline an apology is for; with the unique constraint it makes
    ``flask documents overdue-notices`` issue one apology per dossier and deadline, even run twice at once.
    """

    __tablename__ = "one_stop_notices"
    __table_args__ = (
        sa.CheckConstraint(sa.column("kind").in_([k.value for k in NoticeKind]), name="known_kind"),
        sa.UniqueConstraint("nomination_id", "kind", "deadline_key", name="uq_one_stop_notices_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    issued_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    due_on: Mapped[date | None]
    deadline_key: Mapped[str | None] = mapped_column(sa.String(120))
    data: Mapped[dict] = mapped_column(sa.JSON)
    filename: Mapped[str] = mapped_column(sa.String(120))
    pdf: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    signed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    nomination: Mapped[Nomination] = relationship()
