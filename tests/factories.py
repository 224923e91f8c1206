"""Test data built through the application's own operations, so it obeys the same rules."""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, Round, User
from artisan_awards.schemas import NominationIn
from artisan_awards.services import accounts
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import today
from workflows.states import Action, State

_seq = itertools.count(1)

BASE_NOMINATION = {
    "title": "meritorious",
    "posthumous": False,
    "nominee": {
        "full_name": "Nguyễn Văn Ánh",
        "birth_date": "1960-05-01",
        "gender": "Nam",
        "ethnicity": "Kinh",
        "address": "Xóm 3, xã Bát Tràng, Hà Nội",
        "phone": "0912345678",
    },
    "craft": "Gốm sứ",
    "craft_periods": [{"from": "1985-01-01", "to": "2005-12-31", "workplace": "Xưởng gốm Bát Tràng"}],
    "products": [
        {"name": "Bình gốm men lam", "made_on": "2021-03-01", "self_designed": True,
         "award": {"rank": 1, "level": "national", "state_delegated": False,
                   "organiser": "Bộ Công Thương", "awarded_on": "2021-09-01"}}
    ],
    "learners_trained": 180,
    "filed_by": {"full_name": None, "relationship": "self"},
}

# How to reach each state with the actions built so far: (action, actor) steps.
PATHS = {
    State.DRAFT: [],
    State.SUBMITTED: [(Action.SUBMIT, "owner")],
    State.ACCEPTED: [(Action.SUBMIT, "owner"), (Action.ACCEPT, "officer")],
    State.RETURNED: [(Action.SUBMIT, "owner"), (Action.RETURN, "officer")],
    State.CLOSED_INCOMPLETE: [(Action.SUBMIT, "owner"), (Action.RETURN, "officer"),
                              (Action.CLOSE_INCOMPLETE, "officer")],
    State.WITHDRAWN: [(Action.SUBMIT, "owner"), (Action.WITHDRAW, "owner")],
}


def expire_completion(nomination: Nomination) -> None:
    """Move a returned dossier's return back in time so that its completion period is over."""
    db.session.refresh(nomination)
    earlier = nomination.returned_at - timedelta(days=nomination.round.completion_days + 1)
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id).values(returned_at=earlier))
    db.session.commit()
    db.session.refresh(nomination)


class Factory:
    PASSWORD = "mat-khau-thu-nghiem"

    def user(self, role: str = "applicant", province: str | None = None, **kw) -> User:
        roles = role if isinstance(role, (list, tuple)) else (role,)
        n = next(_seq)
        if province is None and any(r in ("province_officer", "province_council_member") for r in roles):
            province = "HNI"
        return accounts.create_user(
            kw.get("email", f"{roles[0]}.{n}@example.vn"),
            self.PASSWORD,
            kw.get("full_name", f"Người dùng {n} Đặng"),
            roles,
            province,
        )

    def round(self, **kw) -> Round:
        on = today()
        values = dict(
            # within the contract's 1..1000 (a full run makes thousands); 900-1000 left to tests that pick one
            number=100 + next(_seq) % 800,
            name="Đợt thử nghiệm",
            governing_decree="43/2024",
            intake_opens=on - timedelta(days=10),
            intake_closes=on + timedelta(days=30),
        )
        values.update(kw)
        row = Round(**values)
        db.session.add(row)
        db.session.commit()
        return row

    def current_round(self) -> Round:
        on = today()
        row = db.session.scalar(
            # an artisan titles' round (another programme's round takes its own dossiers)
            sa.select(Round).where(Round.intake_opens <= on, Round.intake_closes >= on,
                                   Round.programme_id == "artisan-titles").limit(1)
        )
        return row or self.round()

    def nomination_data(self, round_id: int | None = None, province: str = "HNI", **overrides) -> dict:
        data = copy.deepcopy(BASE_NOMINATION)
        data["round_id"] = round_id or self.current_round().id
        data["nominee"]["province_code"] = province
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(data.get(key), dict):
                data[key].update(value)
            else:
                data[key] = value
        return data

    def nomination(self, state: State = State.DRAFT, owner: User | None = None,
                   province: str = "HNI", officer: User | None = None, **overrides) -> Nomination:
        owner = owner or self.user("applicant")
        data = NominationIn.model_validate(self.nomination_data(province=province, **overrides))
        nomination = service.create_nomination(owner, data)
        steps = PATHS[State(state)]
        if any(actor == "officer" for _, actor in steps) and officer is None:
            officer = self.user("province_officer", province)
        for action, actor in steps:
            if action == Action.CLOSE_INCOMPLETE:  # the applicant's completion period must have run out
                expire_completion(nomination)
            service.perform(nomination, action, owner if actor == "owner" else officer,
                            comment="Lý do thử nghiệm",  # the filer ticks the commitment, as on the page
                            commitment=service.COMMITMENT if action in (Action.SUBMIT, Action.RESUBMIT) else None)
        assert nomination.state == state
        return nomination
