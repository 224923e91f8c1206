"""National khuyến công schemes (issue 18 item 4, migration 0031): what a scheme year and a scheme hold
beyond the programme's own dossier fields (``nominations.programme_data``).

A **year** is a round of the ``khuyen-cong-schemes`` programme; ``SchemeYear`` adds the department's
guidance (its official letter, the text), the year's content areas, and the ministry's approval of the
plan.  A scheme's **budget lines** each carry the state's share and the co-financing (integers of VND; the
totals are computed, never stored apart from the dossier's requested amount they make up).  A scheme's
**records** are its monitoring after approval: periodic progress reports, inspection visits, the
acceptance (nghiệm thu) and the settlement (quyết toán) with the settled amount.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .core import Round, User

MAX_VND = 10**15  # a bound far above any scheme's budget (BigInteger holds it)


class SchemeYear(db.Model):
    """A year of the national khuyến công plan: the round, its guidance, content areas and approval."""

    __tablename__ = "scheme_years"

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    plan_year: Mapped[int] = mapped_column(unique=True)
    guidance_number: Mapped[str] = mapped_column(sa.String(60))  # e.g. 400/CTĐP-QLKC
    guidance_date: Mapped[date]
    guidance_text: Mapped[str] = mapped_column(sa.Text, default="")
    content_areas: Mapped[list] = mapped_column(sa.JSON, default=list)  # the year's list, in order
    plan_decision_number: Mapped[str | None] = mapped_column(sa.String(60))
    plan_decision_date: Mapped[date | None]
    plan_approved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    plan_approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    round: Mapped[Round] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])


class SchemeBudgetLine(db.Model):
    """One line of a scheme's budget: the state's share (national khuyến công funds) and co-financing."""

    __tablename__ = "scheme_budget_lines"
    __table_args__ = (
        sa.CheckConstraint("state_amount >= 0 AND cofinancing >= 0", name="amounts_not_negative"),
        sa.UniqueConstraint("nomination_id", "position", name="uq_scheme_budget_line_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    item: Mapped[str] = mapped_column(sa.String(300))
    state_amount: Mapped[int] = mapped_column(sa.BigInteger)
    cofinancing: Mapped[int] = mapped_column(sa.BigInteger)


class SchemeRecord(db.Model):
    """A monitoring record of an approved scheme: a progress report, an inspection visit, the acceptance or
    the settlement (with the settled amount)."""

    __tablename__ = "scheme_records"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('report', 'inspection', 'acceptance', 'settlement')", name="known_kind"),
        sa.CheckConstraint("amount IS NULL OR amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    on_date: Mapped[date]  # the report's date, the visit's, the acceptance's, the settlement decision's
    period: Mapped[str | None] = mapped_column(sa.String(100))  # a report's period (e.g. "Quý II/2024")
    progress_percent: Mapped[int | None]
    team: Mapped[str | None] = mapped_column(sa.String(500))  # an inspection's team
    reference: Mapped[str | None] = mapped_column(sa.String(100))  # the minutes' or decision's number
    text: Mapped[str] = mapped_column(sa.Text, default="")  # the report, the findings, the conclusion
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # settled amount (VND)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    created_by: Mapped[User] = relationship()
