"""Eligibility: parameter overrides of the rule sets, their change log, and reviewers' findings.

The rule sets themselves are data files read by ``workflows.rules``.  What lives in the
database is what people change in the browser:

* ``RuleParameterOverride`` - the value an administrator set for one parameter of one
  criterion of one rule set (at most one row per parameter);
* ``RuleParameterChange`` - every such change, append-only (triggers in migration 0002);
* ``CriterionReview`` - a provincial officer's decision on a criterion the machine left
  ``needs_review`` (or a reviewer's finding on a human-judgement criterion), append-only:
  the latest row per nomination and criterion is the one in force.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import now_utc

REVIEW_RESULTS = ("pass", "fail", "needs_review")


class RuleParameterOverride(db.Model):
    """The administrator's value for one parameter; without a row the rule set's value holds."""

    __tablename__ = "rule_parameter_overrides"
    __table_args__ = (
        sa.UniqueConstraint(
            "ruleset_id", "criterion_id", "parameter", name="uq_rule_parameter_overrides_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset_id: Mapped[str] = mapped_column(sa.String(40))
    criterion_id: Mapped[str] = mapped_column(sa.String(20))
    parameter: Mapped[str] = mapped_column(sa.String(60))
    value: Mapped[object] = mapped_column(sa.JSON)
    verified: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class RuleParameterChange(db.Model):
    """Append-only: who changed which parameter, when, from what to what, and why."""

    __tablename__ = "rule_parameter_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    criterion_id: Mapped[str] = mapped_column(sa.String(20))
    parameter: Mapped[str] = mapped_column(sa.String(60))
    old_value: Mapped[object] = mapped_column(sa.JSON)
    new_value: Mapped[object] = mapped_column(sa.JSON)
    old_verified: Mapped[bool] = mapped_column(default=False)
    new_verified: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class CriterionReview(db.Model):
    """Append-only: a reviewer's result and reason (finding) for one criterion of one dossier."""

    __tablename__ = "criterion_reviews"
    __table_args__ = (
        sa.CheckConstraint(sa.column("result").in_(REVIEW_RESULTS), name="known_result"),
        sa.Index("ix_criterion_reviews_nomination_criterion", "nomination_id", "criterion_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"))
    ruleset_id: Mapped[str] = mapped_column(sa.String(40))
    criterion_id: Mapped[str] = mapped_column(sa.String(20))
    result: Mapped[str] = mapped_column(sa.String(12))
    reason: Mapped[str] = mapped_column(sa.Text)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
