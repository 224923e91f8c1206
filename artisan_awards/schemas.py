"""Shapes of the data that crosses the API (and that the forms hand to the services).

A draft may be incomplete; ``services.nominations.missing_for_submission``
decides what a dossier needs before it can be submitted.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from workflows.states import N_

from .models import MAX_DB_INT

Str = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
ShortStr = Annotated[str, StringConstraints(strip_whitespace=True, max_length=60)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Str200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]  # fits a String(200) column
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]  # an id an INTEGER column can hold


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class NomineeIn(_In):
    full_name: Name
    pen_name: Str200 | None = None
    birth_date: date | None = None
    death_date: date | None = None
    gender: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    ethnicity: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    hometown: Str | None = None
    province_code: Annotated[str, StringConstraints(max_length=3)] | None = None
    address: Str | None = None
    phone: Annotated[str, StringConstraints(max_length=30, pattern=r"^[0-9+(). -]*$")] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.birth_date and self.birth_date > date.today():
            raise ValueError(N_("Ngày sinh không thể ở tương lai."))
        if self.birth_date and self.death_date and self.death_date < self.birth_date:
            raise ValueError(N_("Ngày mất phải sau ngày sinh."))
        return self


class PeriodIn(_In):
    from_: date = Field(alias="from")
    to: date
    workplace: Str = ""
    role: Str200 | None = None

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    @model_validator(mode="after")
    def _in_order(self):
        if self.from_ > self.to:
            raise ValueError(N_("Ngày bắt đầu phải trước ngày kết thúc."))
        return self


class MeritoriousTitleIn(_In):
    decision_no: ShortStr | None = None
    decision_date: date | None = None
    field: Literal["handicraft", "intangible_heritage"] = "handicraft"


class AwardIn(_In):
    rank: Annotated[int, Field(ge=1, le=10)] | None = None
    level: Literal["national", "regional", "international", "provincial"] | None = None
    state_delegated: bool = False
    organiser: Str | None = None
    awarded_on: date | None = None


class ProductIn(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    made_on: date | None = None
    materials: Str | None = None
    self_designed: bool = True
    award: AwardIn | None = None


class FiledByIn(_In):
    full_name: Str200 | None = None
    relationship: Literal["self", "child", "spouse", "other"] = "self"


class NominationIn(_In):
    round_id: DbId
    title: Literal["people", "meritorious"]
    posthumous: bool = False
    nominee: NomineeIn
    craft: Str200 = ""
    special_craft: bool = False
    special_craft_rationale: LongText | None = None
    workshop: Str | None = None
    career_summary: LongText | None = None
    skills_summary: LongText | None = None
    honours_summary: LongText | None = None
    craft_periods: Annotated[list[PeriodIn], Field(max_length=50)] = []
    meritorious_title: MeritoriousTitleIn | None = None
    products: Annotated[list[ProductIn], Field(max_length=100)] = []
    learners_trained: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    intangible_heritage_track: bool = False
    filed_by: FiledByIn = FiledByIn()

    @model_validator(mode="after")
    def _posthumous_needs_death_date(self):
        if self.posthumous and not self.nominee.death_date:
            raise ValueError(N_("Hồ sơ truy tặng cần ngày mất của nghệ nhân."))
        if not self.posthumous and self.nominee.death_date:
            raise ValueError(N_("Đã có ngày mất: hãy chọn hình thức truy tặng."))
        return self


MissingItem = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class ActionIn(_In):
    comment: LongText | None = None
    # ``return`` only: what is missing, one item each (printed on the request to complete).
    missing: Annotated[list[MissingItem], Field(max_length=50)] | None = None
    decision_no: ShortStr | None = None
    decision_date: date | None = None
    title: Literal["people", "meritorious"] | None = None  # record_award: the title the decision awards
    # ``transfer`` only (the contract's v1.1 action): the successor province the dossier moves to.
    province_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=10)] | None = None


class TokenIn(_In):
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


DayKind = Literal["calendar", "working"]


class DayKindsIn(_In):
    """The contract's ``day_kinds`` (shared/api-v1.md v1.1): per window, calendar or working days."""

    reply: DayKind | None = None
    completion: DayKind | None = None
    consultation: DayKind | None = None


class RoundIn(_In):
    number: Annotated[int, Field(ge=1, le=1000)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    governing_decree: Literal["43/2024", "123/2014"] = "43/2024"
    intake_opens: date
    intake_closes: date
    reply_days: Annotated[int, Field(ge=0, le=365)] = 10
    completion_days: Annotated[int, Field(ge=0, le=365)] = 15
    consultation_days: Annotated[int, Field(ge=0, le=365)] = 20
    consultation_windows: Annotated[int, Field(ge=0, le=2)] = 2
    deadlines: dict[Annotated[str, StringConstraints(max_length=60)], date] = {}
    # calendar or working days, per window (workflows.law_days; docs/rules.md)
    # The contract spells them ``day_kinds: {"reply", "completion", "consultation"}``; the flat fields
    # (what the API took before v1.1, and the admin form) still work. Both given and different: 422.
    day_kinds: DayKindsIn | None = None
    reply_day_kind: DayKind = "calendar"
    completion_day_kind: DayKind = "calendar"
    consultation_day_kind: DayKind = "calendar"
    # the programme the round runs (docs/programmes.md; absent: the artisan titles); its version is the one
    # in effect on the day intake opens.  Set when the round is created only.
    programme_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None

    @model_validator(mode="after")
    def _in_order(self):
        if self.intake_opens > self.intake_closes:
            raise ValueError(N_("Ngày mở tiếp nhận phải trước ngày đóng tiếp nhận."))
        return self

    @model_validator(mode="after")
    def _one_day_kind_each(self):
        given = self.day_kinds
        for window in ("reply", "completion", "consultation"):
            flat = f"{window}_day_kind"
            kind = getattr(given, window) if given is not None else None
            if kind is None:
                continue
            if flat in self.model_fields_set and getattr(self, flat) != kind:
                raise ValueError(N_("day_kinds và các trường *_day_kind mâu thuẫn nhau: chỉ gửi một cách."))
            setattr(self, flat, kind)
        self.day_kinds = DayKindsIn(reply=self.reply_day_kind, completion=self.completion_day_kind,
                                    consultation=self.consultation_day_kind)
        return self


# -- councils and votes ------------------------------------------------------------------------

class MemberIn(_In):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    position: Literal["chair", "vice_chair", "member", "secretary"] = "member"
    authorised_to_preside: bool = False


class MemberInviteIn(_In):
    """An external member invited from the council page (an expert who may have no account yet)."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)]
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
    position: Literal["member", "vice_chair", "secretary"] = "member"


class CouncilIn(_In):
    level: Literal["province", "ministry", "state"]
    round_id: DbId
    province_code: Annotated[str, StringConstraints(max_length=3)] | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    decision_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    decision_date: date | None = None
    quorum_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    pass_percent: Annotated[int, Field(ge=1, le=100)] | None = None
    exclude_conflicted_votes: bool = True
    members: Annotated[list[MemberIn], Field(min_length=1, max_length=60)]


class SessionIn(_In):
    held_on: date
    place: Str | None = None
    nomination_ids: Annotated[list[DbId], Field(min_length=1, max_length=1000)]


class AttendanceIn(_In):
    present: Annotated[list[Annotated[str, StringConstraints(max_length=254)]], Field(max_length=100)]


class BallotIn(_In):
    votes: dict[Annotated[str, StringConstraints(max_length=12)], Literal["yes", "no", ""] | None]


class NonVoterIn(_In):
    """A present member who did not vote (by council-member id or e-mail) and why, for the minutes."""

    member_id: DbId | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CloseIn(_In):
    non_voters: Annotated[list[NonVoterIn], Field(max_length=200)] = []


class ConflictIn(_In):
    nomination_id: DbId
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class CommentIn(_In):
    full_name: Str200 | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    address: Str | None = None
    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000)]
    kind: Literal["comment", "complaint"] = "comment"
    # The personal data notice the client showed (GET /api/v1/privacy/notice: its version) and the
    # optional purposes the person ticked there; recorded with the comment, in its transaction.
    notice_version: int | None = None
    consents: list[Annotated[str, StringConstraints(max_length=60)]] = Field(default_factory=list, max_length=20)


class CommentStatusIn(_In):
    status: Literal["under_verification", "substantiated", "unsubstantiated"]
    resolution: LongText | None = None
