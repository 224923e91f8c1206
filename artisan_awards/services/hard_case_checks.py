"""The checks the common operations make for the law's hard cases (issue 14): Art. 2(3) blocks submission
and acceptance; the applicant's completion period holds off the closing.  ``services.nominations.perform``
calls them before a move; the operations of the hard cases themselves are in ``services/hard_cases.py``."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workflows.states import N_, Action

from ..errors import TransitionRefused
from ..extensions import db
from ..formatting import vn_date
from ..models import Nomination, NomineeDeath
from ..timeutil import today
from .eligibility import blocked_by_exclusion


def refuse_if_excluded(nomination: Nomination, action: str) -> None:
    """Submission and acceptance stop at Art. 2(3) (called by the action's operation before it moves)."""
    if action in (Action.SUBMIT, Action.RESUBMIT, Action.ACCEPT) and blocked_by_exclusion(nomination):
        db.session.rollback()
        raise TransitionRefused(
            N_("Hồ sơ thuộc trường hợp loại trừ tại Điều 2 khoản 3 Nghị định 43/2024/NĐ-CP (lĩnh vực di sản "
               "văn hóa phi vật thể): không nộp, không tiếp nhận được."), code="excluded_by_article_2_3")


def completion_running(nomination: Nomination, on: date | None = None) -> bool:
    due = nomination.completion_due()
    return due is not None and (on or today()) <= due


def refuse_early_close(nomination: Nomination, action: str) -> None:
    """A returned dossier is not closed as incomplete while the applicant's period runs."""
    if action == Action.CLOSE_INCOMPLETE and completion_running(nomination):
        db.session.rollback()
        raise TransitionRefused(
            N_("Chưa hết thời hạn bổ sung của người đề nghị (đến hết ngày %(d)s): chưa thể đóng hồ sơ."),
            code="completion_period_running", params={"d": vn_date(nomination.completion_due())})


def keep_recorded_death(nomination: Nomination) -> None:
    """An edit of a returned dossier cannot undo a recorded death: it stays posthumous, with that date."""
    death = db.session.scalar(sa.select(NomineeDeath).where(NomineeDeath.nomination_id == nomination.id))
    if death is not None:
        nomination.posthumous = True
        nomination.death_date = death.death_date
