"""Scorers' panels and their sheets, for a level of a programme that decides on a rubric (issue 18).

``ScoringPanelMember``: who scores at a level of a round (the level's council role), for one region when
the level is scoped by region (``region`` = "" otherwise).  ``ScoreSheet``: one scorer's points for one
dossier at one level, criterion id → points; he sees and changes only his own until the level's
secretariat closes the scoring, which computes the decision from the stored sheets
(``workflows.programme.decide``) and moves the dossier (services/scoring.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc


class ScoringPanelMember(db.Model):
    __tablename__ = "scoring_panel_members"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "level", "region", "user_id", name="uq_scoring_panel_members_seat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id"), index=True)
    level: Mapped[str] = mapped_column(sa.String(30))
    region: Mapped[str] = mapped_column(sa.String(20), default="")
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    user = relationship("User")


class ScoreSheet(db.Model):
    __tablename__ = "score_sheets"
    __table_args__ = (
        sa.UniqueConstraint("nomination_id", "level", "scorer_id", name="uq_score_sheets_own"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(sa.ForeignKey("nominations.id"), index=True)
    level: Mapped[str] = mapped_column(sa.String(30))
    scorer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    scores: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # criterion id → points
    total: Mapped[float] = mapped_column(sa.Float, default=0)  # weighted, as the rubric counts it
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc, onupdate=now_utc)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    scorer = relationship("User")
