"""Rounds (đợt xét tặng) and their plans."""

from __future__ import annotations

import sqlalchemy as sa

from workflows.states import N_

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Round, User
from ..schemas import RoundIn


def create_round(actor: User, data: RoundIn) -> Round:
    if db.session.scalar(sa.select(Round.id).where(Round.number == data.number)):
        raise ValidationFailed(fields={"number": N_("Đã có đợt xét tặng với số thứ tự này.")})
    row = Round(
        number=data.number,
        name=data.name,
        governing_decree=data.governing_decree,
        intake_opens=data.intake_opens,
        intake_closes=data.intake_closes,
        reply_days=data.reply_days,
        completion_days=data.completion_days,
        consultation_days=data.consultation_days,
        consultation_windows=data.consultation_windows,
        deadlines={k: v.isoformat() for k, v in data.deadlines.items()},
    )
    db.session.add(row)
    db.session.commit()
    return row
