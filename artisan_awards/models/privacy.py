"""The data officer's breach record (issue 17 item 5): what happened, when it was discovered, whom and
which kinds of data it touched; the notice deadline is counted from the discovery
(``BREACH_NOTICE_HOURS``, services/breaches.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import now_utc
from .core import User


class PersonalDataBreach(db.Model):
    __tablename__ = "personal_data_breaches"
    __table_args__ = (sa.CheckConstraint("affected_count >= 0", name="affected_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    description: Mapped[str] = mapped_column(sa.Text)  # what happened
    discovered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    occurred_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    affected_count: Mapped[int] = mapped_column(default=0)
    classes: Mapped[list] = mapped_column(sa.JSON, default=list)  # personal_fields classes touched
    measures: Mapped[str] = mapped_column(sa.Text, default="")  # what was done to contain it
    authority_notified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    recorded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)

    recorded_by: Mapped[User] = relationship()
