"""Award rules as versioned data, and an eligibility check that explains each criterion.

Free of Flask: the rule sets are TOML files in ``workflows/rulesets`` (one per governing
decree, each with its effective date), read with the standard library.  A plain ``Facts``
object goes in, an ``Evaluation`` comes out: for every criterion ``pass``, ``fail`` or
``needs_review`` with a one-line explanation.  Explanations are Vietnamese message ids
marked with ``N_`` and carrying ``%(name)s`` placeholders; the application translates them
and fills the values in (dates and numbers formatted for the reader).

Conventions (see docs/rules.md):

* Periods are inclusive date ranges.  Years in the craft are the union of the periods
  (overlaps counted once), cut at the date the criteria are measured on.
* "N years" means the number of days in the N calendar years that end on that date, so a
  continuous period that started exactly N years earlier (to the day after) meets it, one day
  less does not.  Thresholds are inclusive ("từ ... trở lên").
* Criteria are measured at the round's intake deadline; for a posthumous award, at the date of
  death when that is earlier (a rule-set parameter, unverified).
* The overall answer is eligible only when every criterion passes, ineligible when any fails,
  undecided (None) otherwise.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

from .states import N_

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"
GENERAL = "GEN"  # the criterion id under which a rule set's general parameters are stored
TAGS = ("V43", "VP", "V123", "U")
TITLES = ("people", "meritorious")


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NEEDS_REVIEW = "needs_review"


OUTCOME_LABELS = {
    Outcome.PASS: N_("Đạt"),
    Outcome.FAIL: N_("Chưa đạt"),
    Outcome.NEEDS_REVIEW: N_("Cần xem xét"),
}

# Short names of the criteria, by stable id (the same id means the same criterion in every rule set).
CRITERION_NAMES = {
    "X-2.3": N_("Không thuộc lĩnh vực di sản văn hóa phi vật thể"),
    "N0": N_("Đã được phong tặng Nghệ nhân ưu tú lĩnh vực nghề thủ công mỹ nghệ"),
    "N1": N_("Trung thành với Tổ quốc, chấp hành chủ trương, chính sách, pháp luật"),
    "N2": N_("Thời gian hành nghề liên tục hoặc cộng dồn"),
    "N3": N_("Đạo đức, lối sống mẫu mực; tiêu biểu trên phạm vi toàn quốc"),
    "N4": N_("Tri thức, kỹ năng đặc biệt xuất sắc"),
    "N4a": N_("Sản phẩm mới sau khi được phong tặng Nghệ nhân ưu tú, đạt giải"),
    "N5": N_("Truyền nghề"),
    "M1": N_("Trung thành với Tổ quốc, chấp hành chủ trương, chính sách, pháp luật"),
    "M2": N_("Thời gian hành nghề liên tục hoặc cộng dồn"),
    "M3": N_("Đạo đức tốt; tiêu biểu ở địa phương"),
    "M4": N_("Sản phẩm tự thiết kế, chế tác có giá trị"),
    "M5": N_("Truyền nghề"),
}

PARAMETER_LABELS = {
    "assess_posthumous_at_death": N_("Truy tặng: tính tiêu chí đến ngày mất nếu trước hạn nộp hồ sơ"),
    "min_years": N_("Số năm hành nghề tối thiểu"),
    "min_products": N_("Số sản phẩm tối thiểu"),
    "national_max_rank": N_("Giải toàn quốc được tính từ giải thứ ... trở lên (0 = không tính)"),
    "abroad_max_rank": N_("Giải khu vực, quốc tế được tính từ giải thứ ... trở lên (0 = không tính)"),
    "abroad_requires_state_delegation": N_("Giải khu vực, quốc tế chỉ tính khi do Nhà nước cử tham dự"),
    "provincial_max_rank": N_("Giải cấp tỉnh được tính từ giải thứ ... trở lên (0 = không tính)"),
    "certificates_count": N_("Tính cả giấy chứng nhận, bằng khen không xếp giải"),
    "other_options_review": N_("Chưa đủ sản phẩm đạt giải: chuyển Hội đồng xem xét các phương án khác"),
    "min_awarded_products": N_("Số sản phẩm đạt giải tối thiểu"),
    "award_max_rank": N_("Giải được tính từ giải thứ ... trở lên"),
    "min_learners": N_("Số người được truyền nghề tối thiểu"),
    "special_craft_min_learners": N_("Nghề đặc thù có lý do: số người được truyền nghề tối thiểu"),
}

TAG_LABELS = {
    "V43": N_("Đã đối chiếu với nguồn trích Nghị định 43/2024"),
    "VP": N_("Theo thực tiễn áp dụng Nghị định 43/2024"),
    "V123": N_("Theo Nghị định 123/2014 (đã thay thế)"),
    "U": N_("Chưa xác minh"),
}

NOT_VERIFIED = N_("Chưa được đối chiếu với văn bản chính thức")


# -- messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A Vietnamese message id (marked with ``N_``) and the values of its placeholders."""

    text: str
    params: Mapping[str, object] = field(default_factory=dict)


def _m(text: str, **params) -> Message:
    return Message(text, params)


# -- rule sets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    name: str
    value: int | bool
    tag: str
    verified: bool
    default: int | bool
    default_verified: bool
    overridden: bool = False

    @property
    def kind(self) -> str:
        return "bool" if isinstance(self.default, bool) else "int"

    @property
    def label(self) -> str:
        return PARAMETER_LABELS.get(self.name, self.name)


@dataclass(frozen=True)
class Criterion:
    id: str
    titles: tuple[str, ...]
    check: str
    article: int
    clause: int | None
    point: str | None
    tag: str
    verified: bool  # the criterion itself (its existence and wording), as the data file says
    params: tuple[Parameter, ...] = ()

    @property
    def name(self) -> str:
        return CRITERION_NAMES.get(self.id, self.id)

    @property
    def human(self) -> bool:
        return self.check == "human"

    @property
    def fully_verified(self) -> bool:
        """Verified wording and every parameter verified: only then is no warning shown."""
        return self.verified and all(p.verified for p in self.params)

    def parameter(self, name: str) -> Parameter:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.id} has no parameter {name}")

    def value(self, name: str):
        return self.parameter(name).value

    def location(self) -> Message:
        """Where the criterion is in the decree: "Điều 6, khoản 4, điểm a"."""
        if self.clause is not None and self.point:
            return _m(N_("Điều %(article)s, khoản %(clause)s, điểm %(point)s"),
                      article=self.article, clause=self.clause, point=self.point)
        if self.clause is not None:
            return _m(N_("Điều %(article)s, khoản %(clause)s"), article=self.article, clause=self.clause)
        return _m(N_("Điều %(article)s"), article=self.article)


@dataclass(frozen=True)
class RuleSet:
    id: str
    decree: str
    name: str
    signed_on: date
    effective_from: date
    tag: str
    verified: bool
    general: tuple[Parameter, ...]
    criteria: tuple[Criterion, ...]

    def criteria_for(self, title: str) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if title in c.titles)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def general_value(self, name: str):
        for p in self.general:
            if p.name == name:
                return p.value
        raise KeyError(name)

    def parameter(self, criterion_id: str, name: str) -> Parameter:
        if criterion_id == GENERAL:
            for p in self.general:
                if p.name == name:
                    return p
            raise KeyError(name)
        return self.criterion(criterion_id).parameter(name)

    def with_overrides(self, overrides: Mapping[tuple[str, str], tuple[object, bool]]) -> RuleSet:
        """This rule set with parameter values replaced: {(criterion_id, name): (value, verified)}."""
        if not overrides:
            return self

        def apply(criterion_id: str, params: tuple[Parameter, ...]) -> tuple[Parameter, ...]:
            out = []
            for p in params:
                if (criterion_id, p.name) in overrides:
                    value, verified = overrides[(criterion_id, p.name)]
                    p = replace(p, value=coerce(p, value), verified=bool(verified), overridden=True)
                out.append(p)
            return tuple(out)

        return replace(
            self,
            general=apply(GENERAL, self.general),
            criteria=tuple(replace(c, params=apply(c.id, c.params)) for c in self.criteria),
        )


class RuleDataError(ValueError):
    """A rule-set file is malformed."""


def coerce(parameter: Parameter, value) -> int | bool:
    """``value`` as the parameter's type; ValueError when it cannot be."""
    if parameter.kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "có", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "không", "off"):
            return False
        raise ValueError("not a boolean")
    if isinstance(value, bool):
        raise ValueError("not an integer")
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 7:
            raise ValueError("not an integer")
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise ValueError("out of range")
    return value


# What each check reads, and the parameters its criteria must carry.
REQUIRED_PARAMS: dict[str, tuple[str, ...]] = {
    "not_intangible_heritage": (),
    "holds_meritorious": (),
    "human": (),
    "years_in_craft": ("min_years",),
    "new_products_after_title": (
        "min_products", "national_max_rank", "abroad_max_rank", "abroad_requires_state_delegation",
        "provincial_max_rank", "certificates_count", "other_options_review",
    ),
    "products_count": ("min_products", "min_awarded_products", "award_max_rank"),
    "learners": ("min_learners", "special_craft_min_learners"),
}
GENERAL_PARAMS = ("assess_posthumous_at_death",)


def _parameter(name: str, raw: dict, where: str) -> Parameter:
    if not isinstance(raw, dict) or "value" not in raw:
        raise RuleDataError(f"{where}: parameter {name} needs a value")
    value, tag, verified = raw["value"], raw.get("tag"), raw.get("verified")
    if not isinstance(value, (bool, int)):
        raise RuleDataError(f"{where}: parameter {name} must be an integer or a boolean")
    _check_tag(tag, verified, f"{where}.{name}")
    return Parameter(name, value, tag, verified, value, verified)


def _check_tag(tag, verified, where: str) -> None:
    if tag not in TAGS:
        raise RuleDataError(f"{where}: tag must be one of {TAGS}")
    if not isinstance(verified, bool):
        raise RuleDataError(f"{where}: verified must be true or false")
    if verified and tag != "V43":
        raise RuleDataError(f"{where}: only a [V43] item may be verified")


def parse_ruleset(data: dict, source: str = "<data>") -> RuleSet:
    try:
        _check_tag(data.get("tag"), data.get("verified"), source)
        general = tuple(
            _parameter(name, raw, f"{source}:general") for name, raw in data.get("general", {}).items()
        )
        if sorted(p.name for p in general) != sorted(GENERAL_PARAMS):
            raise RuleDataError(f"{source}: general parameters must be {GENERAL_PARAMS}")
        criteria = []
        seen = set()
        for raw in data["criteria"]:
            cid = raw["id"]
            where = f"{source}:{cid}"
            if cid in seen or cid == GENERAL:
                raise RuleDataError(f"{where}: duplicate or reserved id")
            seen.add(cid)
            check = raw["check"]
            if check not in REQUIRED_PARAMS:
                raise RuleDataError(f"{where}: unknown check {check}")
            titles = tuple(raw["titles"])
            if not titles or any(t not in TITLES for t in titles):
                raise RuleDataError(f"{where}: titles must be among {TITLES}")
            _check_tag(raw.get("tag"), raw.get("verified"), where)
            params = tuple(_parameter(n, p, where) for n, p in raw.get("params", {}).items())
            if sorted(p.name for p in params) != sorted(REQUIRED_PARAMS[check]):
                raise RuleDataError(f"{where}: check {check} needs parameters {REQUIRED_PARAMS[check]}")
            criteria.append(
                Criterion(
                    id=cid,
                    titles=titles,
                    check=check,
                    article=int(raw["article"]),
                    clause=int(raw["clause"]) if "clause" in raw else None,
                    point=raw.get("point"),
                    tag=raw["tag"],
                    verified=raw["verified"],
                    params=params,
                )
            )
        return RuleSet(
            id=data["id"],
            decree=data["decree"],
            name=data["name"],
            signed_on=data["signed_on"],
            effective_from=data["effective_from"],
            tag=data["tag"],
            verified=data["verified"],
            general=general,
            criteria=tuple(criteria),
        )
    except (KeyError, TypeError) as exc:
        raise RuleDataError(f"{source}: missing or malformed {exc}") from exc


@cache
def load_rulesets(directory: Path = RULESETS_DIR) -> tuple[RuleSet, ...]:
    """Every rule set in ``directory``, oldest first."""
    rulesets = []
    for path in sorted(directory.glob("*.toml")):
        with path.open("rb") as fh:
            rulesets.append(parse_ruleset(tomllib.load(fh), path.name))
    if not rulesets:
        raise RuleDataError(f"no rule sets in {directory}")
    ids = [r.id for r in rulesets]
    if len(set(ids)) != len(ids):
        raise RuleDataError("duplicate rule-set ids")
    return tuple(sorted(rulesets, key=lambda r: r.effective_from))


def ruleset_by_id(ruleset_id: str, rulesets: Iterable[RuleSet] | None = None) -> RuleSet:
    for r in rulesets if rulesets is not None else load_rulesets():
        if r.id == ruleset_id:
            return r
    raise KeyError(ruleset_id)


def choose_ruleset(filed_on: date, rulesets: Iterable[RuleSet] | None = None) -> RuleSet:
    """The rule set in force on the day the dossier was filed (the earliest one before them all)."""
    ordered = sorted(rulesets if rulesets is not None else load_rulesets(), key=lambda r: r.effective_from)
    chosen = ordered[0]
    for r in ordered:
        if r.effective_from <= filed_on:
            chosen = r
    return chosen


# -- facts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date


@dataclass(frozen=True)
class Award:
    rank: int | None = None
    level: str | None = None  # national | regional | international | provincial
    state_delegated: bool = False
    awarded_on: date | None = None


@dataclass(frozen=True)
class ProductFacts:
    name: str
    made_on: date | None = None
    self_designed: bool = True
    award: Award | None = None


@dataclass(frozen=True)
class Facts:
    """What the check reads about a dossier: plain values, no database."""

    title: str
    reference_date: date  # the round's intake deadline
    filed_on: date  # the day the dossier was filed (a draft: today); chooses the rule set
    posthumous: bool = False
    death_date: date | None = None
    periods: tuple[Period, ...] = ()
    meritorious_decision_no: str | None = None
    meritorious_decision_date: date | None = None
    meritorious_field: str | None = None  # handicraft | intangible_heritage
    products: tuple[ProductFacts, ...] = ()
    learners_trained: int | None = None
    special_craft: bool = False
    special_craft_rationale: str | None = None
    intangible_heritage_track: bool = False
    # The council's decision on the craft (None: not decided).  Only a council's "special" decision
    # relaxes the learners' requirement; the applicant's claim alone does not.
    special_craft_council: bool | None = None
    special_craft_council_by: str | None = None  # which council and when, for the explanation
    special_craft_council_reasons: str | None = None


# -- period arithmetic --------------------------------------------------------------------


def merge_periods(periods: Iterable[Period]) -> list[Period]:
    """The union of inclusive periods as disjoint, ordered periods (touching ones joined)."""
    merged: list[Period] = []
    for p in sorted(periods, key=lambda p: (p.start, p.end)):
        if p.start > p.end:
            continue
        if merged and p.start <= merged[-1].end + timedelta(days=1):
            if p.end > merged[-1].end:
                merged[-1] = Period(merged[-1].start, p.end)
        else:
            merged.append(p)
    return merged


def days_in_craft(periods: Iterable[Period], until: date) -> int:
    """Days covered by the union of ``periods``, counting only days up to ``until`` (inclusive)."""
    total = 0
    for p in merge_periods(periods):
        end = min(p.end, until)
        if end >= p.start:
            total += (end - p.start).days + 1
    return total


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def days_for_years(years: int, until: date) -> int:
    """How many days ``years`` years are, counted as the calendar years that end on ``until``."""
    if years <= 0:
        return 0
    return (until - years_before(until, years)).days


def whole_years(days: int, until: date) -> tuple[int, int]:
    """``days`` as (whole years, remaining days) on the calendar that ends on ``until``."""
    years = 0
    while days_for_years(years + 1, until) <= days and years < 200:
        years += 1
    return years, days - days_for_years(years, until)


def meets_years(periods: Iterable[Period], min_years: int, until: date) -> bool:
    return days_in_craft(periods, until) >= days_for_years(min_years, until)


# -- evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    outcome: Outcome
    detail: Message
    notes: tuple[Message, ...] = ()
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    ruleset: RuleSet
    title: str
    filed_on: date
    reference_date: date
    as_of: date  # the date the criteria were measured on
    results: tuple[CriterionResult, ...]
    notes: tuple[Message, ...] = ()

    @property
    def eligible(self) -> bool | None:
        return overall(r.outcome for r in self.results)

    def result(self, criterion_id: str) -> CriterionResult:
        for r in self.results:
            if r.criterion.id == criterion_id:
                return r
        raise KeyError(criterion_id)


def overall(outcomes: Iterable[Outcome | str]) -> bool | None:
    """True only when every criterion passes, False when any fails, None otherwise."""
    outcomes = [Outcome(o) for o in outcomes]
    if any(o == Outcome.FAIL for o in outcomes):
        return False
    if outcomes and all(o == Outcome.PASS for o in outcomes):
        return True
    return None


Check = Callable[[Criterion, Facts, date], CriterionResult]
CHECKS: dict[str, Check] = {}
DATED_CHECKS = {"years_in_craft", "new_products_after_title", "products_count", "holds_meritorious"}


def _check(name: str):
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


def measurement_date(ruleset: RuleSet, facts: Facts) -> date:
    """The intake deadline, or the date of death when earlier (posthumous; a parameter)."""
    if (
        facts.posthumous
        and facts.death_date
        and facts.death_date < facts.reference_date
        and ruleset.general_value("assess_posthumous_at_death")
    ):
        return facts.death_date
    return facts.reference_date


def evaluate(ruleset: RuleSet, facts: Facts) -> Evaluation:
    """Every criterion of ``ruleset`` for the title in ``facts``, each with its explanation."""
    as_of = measurement_date(ruleset, facts)
    posthumous_note = None
    notes: list[Message] = []
    if as_of != facts.reference_date:
        posthumous_note = _m(
            N_("Truy tặng: tính đến ngày mất %(death)s thay cho hạn nộp hồ sơ %(deadline)s "
               "(cách tính chưa được đối chiếu với văn bản chính thức)."),
            death=as_of, deadline=facts.reference_date,
        )
        notes.append(posthumous_note)
    results = []
    for criterion in ruleset.criteria_for(facts.title):
        result = CHECKS[criterion.check](criterion, facts, as_of)
        if posthumous_note and criterion.check in DATED_CHECKS:
            result = replace(result, notes=result.notes + (posthumous_note,))
        results.append(result)
    return Evaluation(
        ruleset=ruleset,
        title=facts.title,
        filed_on=facts.filed_on,
        reference_date=facts.reference_date,
        as_of=as_of,
        results=tuple(results),
        notes=tuple(notes),
    )


def check(facts: Facts, rulesets: Iterable[RuleSet] | None = None) -> Evaluation:
    """Choose the rule set by the filing date and evaluate."""
    return evaluate(choose_ruleset(facts.filed_on, rulesets), facts)


# -- the checks ---------------------------------------------------------------------------


@_check("not_intangible_heritage")
def _not_intangible_heritage(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    if f.intangible_heritage_track:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Đang được xét hoặc đã có danh hiệu nghệ nhân trong lĩnh vực di sản văn hóa phi vật thể: "
            "không thuộc phạm vi xét tặng.")))
    if f.meritorious_field == "intangible_heritage":
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Danh hiệu Nghệ nhân ưu tú đã khai thuộc lĩnh vực di sản văn hóa phi vật thể: "
            "không thuộc phạm vi xét tặng.")))
    return CriterionResult(c, Outcome.PASS, _m(N_(
        "Theo kê khai, không được xét hoặc phong tặng trong lĩnh vực di sản văn hóa phi vật thể.")))


@_check("holds_meritorious")
def _holds_meritorious(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    if not (f.meritorious_decision_no and f.meritorious_decision_date):
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Còn thiếu số và ngày quyết định phong tặng Nghệ nhân ưu tú.")))
    if f.meritorious_field == "intangible_heritage":
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Danh hiệu Nghệ nhân ưu tú trong lĩnh vực di sản văn hóa phi vật thể không được tính; "
            "cần danh hiệu trong lĩnh vực nghề thủ công mỹ nghệ.")))
    if f.meritorious_decision_date > as_of:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Quyết định phong tặng Nghệ nhân ưu tú ngày %(date)s, sau ngày tính tiêu chí %(as_of)s."),
            date=f.meritorious_decision_date, as_of=as_of))
    return CriterionResult(c, Outcome.PASS, _m(N_(
        "Đã được phong tặng Nghệ nhân ưu tú lĩnh vực nghề thủ công mỹ nghệ "
        "(quyết định số %(no)s ngày %(date)s)."),
        no=f.meritorious_decision_no, date=f.meritorious_decision_date))


@_check("human")
def _human(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    return CriterionResult(c, Outcome.NEEDS_REVIEW, _m(N_(
        "Do Sở Công Thương và Hội đồng đánh giá theo hồ sơ và xác nhận của địa phương; "
        "người thẩm định ghi kết luận.")))


@_check("years_in_craft")
def _years_in_craft(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    min_years = c.value("min_years")
    need = days_for_years(min_years, as_of)
    days = days_in_craft(f.periods, as_of)
    years, rest = whole_years(days, as_of)
    values = {"days": days, "required_days": need}
    if not f.periods:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Chưa khai giai đoạn hành nghề nào; cần từ %(min)s năm hành nghề liên tục hoặc cộng dồn."),
            min=min_years), values=values)
    if days >= need:
        return CriterionResult(c, Outcome.PASS, _m(N_(
            "Hành nghề %(years)s năm %(rest)s ngày (các giai đoạn trùng nhau tính một lần) đến ngày "
            "%(as_of)s; cần từ %(min)s năm."),
            years=years, rest=rest, as_of=as_of, min=min_years), values=values)
    return CriterionResult(c, Outcome.FAIL, _m(N_(
        "Hành nghề %(years)s năm %(rest)s ngày (các giai đoạn trùng nhau tính một lần) đến ngày "
        "%(as_of)s; cần từ %(min)s năm, còn thiếu %(short)s ngày."),
        years=years, rest=rest, as_of=as_of, min=min_years, short=need - days), values=values)


def _prize_counts(c: Criterion, award: Award) -> Message | None:
    """None when the award meets a prize option of ``c``; else why it does not."""
    if award.rank is None:
        if c.value("certificates_count"):
            return None
        return _m(N_("không xếp giải (chỉ giấy chứng nhận, bằng khen)"))
    if award.level == "national":
        limit = c.value("national_max_rank")
        if limit == 0:
            return _m(N_("giải toàn quốc không được tính"))
        if award.rank > limit:
            return _m(N_("giải toàn quốc phải từ giải %(max)s trở lên"), max=limit)
        return None
    if award.level in ("regional", "international"):
        limit = c.value("abroad_max_rank")
        if c.value("abroad_requires_state_delegation") and not award.state_delegated:
            return _m(N_("giải khu vực, quốc tế chỉ được tính khi do Nhà nước cử tham dự"))
        if limit == 0:
            return _m(N_("giải khu vực, quốc tế không được tính"))
        if award.rank > limit:
            return _m(N_("giải khu vực, quốc tế phải từ giải %(max)s trở lên"), max=limit)
        return None
    if award.level == "provincial":
        limit = c.value("provincial_max_rank")
        if limit == 0:
            return _m(N_("giải cấp tỉnh không được tính"))
        if award.rank > limit:
            return _m(N_("giải cấp tỉnh phải từ giải %(max)s trở lên"), max=limit)
        return None
    return _m(N_("chưa rõ cấp giải thưởng"))


def _why_not_new(c: Criterion, p: ProductFacts, decision: date, as_of: date) -> Message | None:
    """None when product ``p`` counts as a new product after the Meritorious decision."""
    if not p.self_designed:
        return _m(N_("không tự thiết kế, chế tác"))
    if p.made_on is None:
        return _m(N_("chưa có ngày hoàn thành"))
    if p.made_on <= decision:
        return _m(N_("làm trước ngày phong tặng Nghệ nhân ưu tú"))
    if p.made_on > as_of:
        return _m(N_("hoàn thành sau ngày tính tiêu chí"))
    if p.award is None:
        return _m(N_("chưa có giải thưởng"))
    if p.award.awarded_on is None:
        return _m(N_("chưa có ngày trao giải"))
    if p.award.awarded_on <= decision:
        return _m(N_("giải thưởng trước ngày phong tặng Nghệ nhân ưu tú"))
    if p.award.awarded_on > as_of:
        return _m(N_("giải thưởng sau ngày tính tiêu chí"))
    return _prize_counts(c, p.award)


@_check("new_products_after_title")
def _new_products_after_title(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    minimum = c.value("min_products")
    decision = f.meritorious_decision_date
    if decision is None:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Cần ngày quyết định phong tặng Nghệ nhân ưu tú để xác định sản phẩm mới; "
            "cần ít nhất %(min)s sản phẩm đạt giải sau ngày đó."), min=minimum))
    counted, notes, new_unawarded = 0, [], 0
    for p in f.products:
        reason = _why_not_new(c, p, decision, as_of)
        if reason is None:
            counted += 1
            continue
        if p.self_designed and p.made_on and decision < p.made_on <= as_of:
            new_unawarded += 1
        notes.append(_m(N_("Không tính “%(name)s”: %(reason)s."), name=p.name, reason=reason))
    values = {"counted": counted}
    if counted >= minimum:
        return CriterionResult(c, Outcome.PASS, _m(N_(
            "%(n)s sản phẩm mới sau ngày phong tặng Nghệ nhân ưu tú (%(date)s) đạt giải theo quy định; "
            "cần ít nhất %(min)s."), n=counted, date=decision, min=minimum), tuple(notes), values)
    if c.value("other_options_review") and counted + new_unawarded >= minimum:
        return CriterionResult(c, Outcome.NEEDS_REVIEW, _m(N_(
            "%(n)s sản phẩm mới đạt giải theo quy định, cần %(min)s; các sản phẩm mới khác do Hội đồng "
            "xem xét theo các phương án còn lại (chưa được xác minh)."), n=counted, min=minimum),
            tuple(notes), values)
    return CriterionResult(c, Outcome.FAIL, _m(N_(
        "Mới có %(n)s sản phẩm mới sau ngày phong tặng Nghệ nhân ưu tú (%(date)s) đạt giải theo quy định; "
        "cần ít nhất %(min)s, còn thiếu %(short)s."),
        n=counted, date=decision, min=minimum, short=minimum - counted), tuple(notes), values)


@_check("products_count")
def _products_count(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    minimum = c.value("min_products")
    min_awarded = c.value("min_awarded_products")
    max_rank = c.value("award_max_rank")
    made = [p for p in f.products if p.self_designed and (p.made_on is None or p.made_on <= as_of)]
    awarded = [
        p for p in made
        if p.award and p.award.rank is not None and p.award.rank <= max_rank
        and (p.award.awarded_on is None or p.award.awarded_on <= as_of)
    ]
    values = {"counted": len(made), "awarded": len(awarded)}
    if len(made) < minimum:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Mới có %(n)s sản phẩm tự thiết kế, chế tác; cần ít nhất %(min)s, còn thiếu %(short)s."),
            n=len(made), min=minimum, short=minimum - len(made)), values=values)
    if len(awarded) < min_awarded:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Có %(n)s sản phẩm đạt giải từ giải %(rank)s trở lên; cần ít nhất %(min)s."),
            n=len(awarded), rank=max_rank, min=min_awarded), values=values)
    return CriterionResult(c, Outcome.PASS, _m(N_(
        "Có %(n)s sản phẩm tự thiết kế, chế tác; cần ít nhất %(min)s."), n=len(made), min=minimum),
        values=values)


@_check("learners")
def _learners(c: Criterion, f: Facts, as_of: date) -> CriterionResult:
    minimum = c.value("min_learners")
    relaxed = c.value("special_craft_min_learners")
    n = f.learners_trained
    if n is None:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Còn thiếu số người đã được truyền nghề; cần từ %(min)s người trở lên."), min=minimum))
    if n >= minimum:
        return CriterionResult(c, Outcome.PASS, _m(N_(
            "Đã truyền nghề cho %(n)s người; cần từ %(min)s người trở lên."), n=n, min=minimum))
    if f.special_craft_council:
        if n >= relaxed:
            return CriterionResult(c, Outcome.PASS, _m(N_(
                "Đã truyền nghề cho %(n)s người, dưới mức %(min)s; %(by)s đã quyết định đây là nghề đặc thù "
                "(lý do: %(reasons)s), được giảm yêu cầu (mức tối thiểu cho nghề đặc thù: %(relaxed)s người)."),
                n=n, min=minimum, by=f.special_craft_council_by or "", reasons=f.special_craft_council_reasons or "",
                relaxed=relaxed))
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Đã truyền nghề cho %(n)s người, dưới cả mức %(relaxed)s người áp dụng cho nghề đặc thù "
            "(%(by)s đã quyết định đây là nghề đặc thù)."),
            n=n, relaxed=relaxed, by=f.special_craft_council_by or ""))
    if f.special_craft_council is False:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Đã truyền nghề cho %(n)s người; cần từ %(min)s người. %(by)s đã quyết định đây không phải nghề "
            "đặc thù (lý do: %(reasons)s)."),
            n=n, min=minimum, by=f.special_craft_council_by or "", reasons=f.special_craft_council_reasons or ""))
    if f.special_craft:
        return CriterionResult(c, Outcome.FAIL, _m(N_(
            "Đã truyền nghề cho %(n)s người; cần từ %(min)s người. Nghề đặc thù chỉ được giảm yêu cầu khi "
            "Hội đồng quyết định đây là nghề đặc thù, có nêu lý do (chưa có quyết định)."), n=n, min=minimum))
    return CriterionResult(c, Outcome.FAIL, _m(N_(
        "Đã truyền nghề cho %(n)s người; cần từ %(min)s người trở lên, còn thiếu %(short)s người."),
        n=n, min=minimum, short=minimum - n))
