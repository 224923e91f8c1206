"""Eligibility: the rule sets with the administrator's values, the check of a dossier, reviews.

* ``rulesets()``: the rule sets of ``workflows/rulesets`` with the parameter values an
  administrator set (``RuleParameterOverride``).
* ``assess(nomination)``: the facts of a dossier, the rule set in force on the day it was
  filed (a draft: today), the check, and the reviewers' decisions on ``needs_review`` criteria.
* ``check_input(data)``: the same check for a NominationIn that is not stored (the API's dry run).
* ``set_parameter`` and ``record_review``: the two writes, each checked, logged and committed once.
* ``present(assessment)``: plain, translated data for pages, the API and the council pack.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date

import sqlalchemy as sa
from flask import current_app, g
from flask_babel import gettext

from workflows import rules
from workflows.rules import Evaluation, Facts, Message, Outcome
from workflows.states import N_

from .. import nomination_data, permissions
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    CriterionReview,
    ExclusionOverride,
    Nomination,
    Round,
    RuleParameterChange,
    RuleParameterOverride,
    SpecialCraftDecision,
    User,
)
from ..schemas import NominationIn
from ..text import nfc
from ..timeutil import iso_moment, local_date, now_utc, today
from . import transaction

REASON_MAX = 5000


# -- rule sets --------------------------------------------------------------------------


def _overrides() -> dict[str, dict[tuple[str, str], tuple[object, bool]]]:
    by_set: dict[str, dict] = defaultdict(dict)
    for row in db.session.scalars(sa.select(RuleParameterOverride)):
        by_set[row.ruleset_id][(row.criterion_id, row.parameter)] = (row.value, row.verified)
    return by_set


def rulesets() -> tuple[rules.RuleSet, ...]:
    """The rule sets, oldest first, with the administrator's parameter values applied.

    Read once per application context (a list of a hundred dossiers asks once); ``set_parameter``
    forgets the copy.  A stored value that no longer fits its parameter (the data file changed)
    is ignored.
    """
    if _CACHE not in g:
        setattr(g, _CACHE, _load_rulesets())
    return getattr(g, _CACHE)


_CACHE = "_eligibility_rulesets"


def _load_rulesets() -> tuple[rules.RuleSet, ...]:
    stored = _overrides()
    out = []
    for base in rules.load_rulesets():
        usable = {}
        for (criterion_id, name), (value, verified) in stored.get(base.id, {}).items():
            try:
                rules.coerce(base.parameter(criterion_id, name), value)
            except (KeyError, ValueError):
                continue
            usable[(criterion_id, name)] = (value, verified)
        out.append(base.with_overrides(usable))
    return tuple(out)


def ruleset(ruleset_id: str) -> rules.RuleSet:
    for r in rulesets():
        if r.id == ruleset_id:
            return r
    raise NotFound(N_("Không có bộ tiêu chí này."), code="ruleset_not_found")


def parameter_log(ruleset_id: str | None = None, limit: int = 200) -> list[RuleParameterChange]:
    stmt = sa.select(RuleParameterChange).order_by(RuleParameterChange.id.desc()).limit(limit)
    if ruleset_id:
        stmt = stmt.where(RuleParameterChange.ruleset_id == ruleset_id)
    return list(db.session.scalars(stmt))


# -- facts ------------------------------------------------------------------------------


def filed_on(nomination: Nomination) -> date:
    """The day the dossier was filed (first submission); a draft is judged as if filed today."""
    return local_date(nomination.submitted_at) if nomination.submitted_at else today()


def facts(data: dict, reference_date: date, filed: date) -> Facts:
    """The facts the award rules read, from NominationIn data (``nomination_data``: a stored row's
    ``to_data`` or an input's ``model_dump(by_alias=True)``): one builder for both."""
    merit = data["meritorious_title"] or {}
    return Facts(
        title=data["title"],
        reference_date=reference_date,
        filed_on=filed,
        posthumous=data["posthumous"],
        death_date=data["nominee"]["death_date"],
        periods=tuple(rules.Period(p["from"], p["to"]) for p in data["craft_periods"]),
        meritorious_decision_no=merit.get("decision_no"),
        meritorious_decision_date=merit.get("decision_date"),
        meritorious_field=merit.get("field"),
        products=tuple(
            rules.ProductFacts(
                name=p["name"],
                made_on=p["made_on"],
                self_designed=p["self_designed"],
                award=(
                    rules.Award(award["rank"], award["level"], award["state_delegated"], award["awarded_on"])
                    if (award := p["award"]) and (award["rank"] or award["level"])
                    else None
                ),
            )
            for p in data["products"]
        ),
        learners_trained=data["learners_trained"],
        special_craft=data["special_craft"],
        special_craft_rationale=data["special_craft_rationale"],
        intangible_heritage_track=data["intangible_heritage_track"],
    )


def facts_for(nomination: Nomination) -> Facts:
    result = facts(nomination_data.to_data(nomination), nomination.round.intake_closes, filed_on(nomination))
    decision = special_craft_decision(nomination.id) if nomination.id else None
    if decision is None:
        return result
    session = decision.session
    by = f"{session.council.name} (phiên ngày {session.held_on.strftime('%d/%m/%Y')})"
    return replace(result, special_craft_council=decision.is_special,
                   special_craft_council_reasons=decision.reasons, special_craft_council_by=by)


def facts_from_input(data: NominationIn, round_: Round, filed: date) -> Facts:
    return facts(data.model_dump(by_alias=True), round_.intake_closes, filed)


# -- the check --------------------------------------------------------------------------


@dataclass
class Assessment:
    """The machine's evaluation and the reviewers' decisions on its ``needs_review`` criteria."""

    evaluation: Evaluation
    reviews: dict[str, CriterionReview] = field(default_factory=dict)
    nomination_id: int | None = None
    filed: bool = True  # False: a draft or a dry run judged as if filed on evaluation.filed_on

    def outcome(self, criterion_id: str) -> Outcome:
        computed = self.evaluation.result(criterion_id).outcome
        review = self.review_in_force(criterion_id)
        return Outcome(review.result) if review else computed

    def review_in_force(self, criterion_id: str) -> CriterionReview | None:
        """A review counts only while the machine still leaves the criterion to people."""
        if self.evaluation.result(criterion_id).outcome != Outcome.NEEDS_REVIEW:
            return None
        return self.reviews.get(criterion_id)

    @property
    def eligible(self) -> bool | None:
        return rules.overall(self.outcome(r.criterion.id) for r in self.evaluation.results)


def latest_reviews(nomination_id: int) -> dict[str, CriterionReview]:
    rows = db.session.scalars(
        sa.select(CriterionReview)
        .where(CriterionReview.nomination_id == nomination_id)
        .order_by(CriterionReview.id)
    )
    return {row.criterion_id: row for row in rows}


def review_history(nomination_id: int) -> list[CriterionReview]:
    return list(db.session.scalars(
        sa.select(CriterionReview)
        .where(CriterionReview.nomination_id == nomination_id)
        .order_by(CriterionReview.id.desc())
    ))


def assess(nomination: Nomination) -> Assessment:
    evaluation = rules.check(facts_for(nomination), rulesets())
    return Assessment(evaluation, latest_reviews(nomination.id), nomination.id,
                      filed=nomination.submitted_at is not None)


def check_input(data: NominationIn, filed: date | None = None) -> Assessment:
    """The dry run: ``data`` as if filed on ``filed`` (default today) in its round."""
    round_ = db.session.get(Round, data.round_id)
    if round_ is None:
        raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng này.")})
    facts = facts_from_input(data, round_, filed or today())
    return Assessment(rules.check(facts, rulesets()), filed=filed is not None)


# -- writes -----------------------------------------------------------------------------


def set_parameter(
    actor: User,
    ruleset_id: str,
    criterion_id: str,
    name: str,
    raw_value,
    verified: bool,
    reason: str | None,
) -> RuleParameterChange:
    """An administrator sets a parameter; the change is logged.  The file's value clears the row."""
    if not permissions.can_edit_rules(actor):
        raise Forbidden()
    try:
        base = rules.ruleset_by_id(ruleset_id)
        default = base.parameter(criterion_id, name)
    except KeyError:
        raise NotFound(N_("Không có tham số này."), code="parameter_not_found") from None
    try:
        value = rules.coerce(default, raw_value)
    except ValueError:
        message = (N_("Cần chọn đúng hoặc sai.") if default.kind == "bool"
                   else N_("Cần một số nguyên từ 0 đến 1000000."))
        raise ValidationFailed(fields={"value": message}) from None
    reason = nfc(reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Cần ghi căn cứ, lý do thay đổi.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(fields={"reason": N_("Nội dung quá dài.")})
    verified = bool(verified)
    with transaction.one_transaction():  # the override and its change row, or neither
        row = db.session.scalar(
            sa.select(RuleParameterOverride)
            .where(
                RuleParameterOverride.ruleset_id == ruleset_id,
                RuleParameterOverride.criterion_id == criterion_id,
                RuleParameterOverride.parameter == name,
            )
            .with_for_update()
        )
        g.pop(_CACHE, None)  # read the values afresh, under the lock
        current = ruleset(ruleset_id).parameter(criterion_id, name)
        if current.value == value and current.verified == verified:
            raise ValidationFailed(fields={"value": N_("Giá trị không thay đổi.")})
        now = now_utc()
        if value == default.default and verified == default.default_verified:
            if row is not None:
                db.session.delete(row)
        else:
            if row is None:
                row = RuleParameterOverride(ruleset_id=ruleset_id, criterion_id=criterion_id, parameter=name)
                db.session.add(row)
            row.value, row.verified, row.updated_by_id, row.updated_at = value, verified, actor.id, now
        change = RuleParameterChange(
            ruleset_id=ruleset_id,
            criterion_id=criterion_id,
            parameter=name,
            old_value=current.value,
            new_value=value,
            old_verified=current.verified,
            new_verified=verified,
            reason=reason,
            actor_id=actor.id,
            actor_name=actor.full_name,
            at=now,
        )
        db.session.add(change)
    g.pop(_CACHE, None)
    return change


def record_review(
    actor: User, nomination: Nomination, criterion_id: str, result: str, reason: str | None
) -> CriterionReview:
    """A provincial officer decides (or records a finding on) a criterion left to people."""
    if not permissions.can_review_criteria(actor, nomination):
        raise Forbidden(N_("Chỉ cán bộ Sở Công Thương của tỉnh nhận hồ sơ được ghi kết luận."))
    assessment = assess(nomination)
    try:
        computed = assessment.evaluation.result(criterion_id)
    except KeyError:
        raise NotFound(N_("Không có tiêu chí này."), code="criterion_not_found") from None
    if computed.outcome != Outcome.NEEDS_REVIEW:
        raise Conflict(N_("Chỉ ghi kết luận cho tiêu chí đang cần xem xét."), code="not_reviewable")
    if result not in ("pass", "fail", "needs_review"):
        raise ValidationFailed(fields={"result": N_("Giá trị không nằm trong danh sách cho phép.")})
    reason = nfc(reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Cần ghi nhận xét, lý do.")})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(fields={"reason": N_("Nội dung quá dài.")})
    with transaction.one_transaction():
        row = CriterionReview(
            nomination_id=nomination.id,
            ruleset_id=assessment.evaluation.ruleset.id,
            criterion_id=criterion_id,
            result=result,
            reason=reason,
            actor_id=actor.id,
            actor_name=actor.full_name,
            at=now_utc(),
        )
        db.session.add(row)
    return row


# -- presentation -----------------------------------------------------------------------


def text(message: Message, translate=gettext) -> str:
    """A rule message in the reader's language, its dates as dd/mm/yyyy."""
    from ..i18n import vn_date

    params = {}
    for key, value in message.params.items():
        if isinstance(value, Message):
            value = text(value, translate)
        elif isinstance(value, date):
            value = vn_date(value)
        params[key] = value
    return translate(message.text, **params) if params else translate(message.text)


def ruleset_title(rs: rules.RuleSet) -> str:
    """"Nghị định 43/2024/NĐ-CP" in the reader's language."""
    return gettext(N_("Nghị định %(decree)s/NĐ-CP"), decree=rs.decree)


ELIGIBLE_LABELS = {
    True: N_("Đủ điều kiện"),
    False: N_("Chưa đủ điều kiện"),
    None: N_("Chưa kết luận: còn tiêu chí cần xem xét"),
}


def parameter_view(p: rules.Parameter) -> dict:
    return {
        "name": p.name,
        "label": gettext(p.label),
        "value": p.value,
        "default": p.default,
        "kind": p.kind,
        "tag": p.tag,
        "verified": p.verified,
        "overridden": p.overridden,
    }


def criterion_view(c: rules.Criterion) -> dict:
    """A criterion as the rule-set pages and the check show it."""
    unverified_tags = sorted({p.tag for p in c.params if not p.verified})
    return {
        "id": c.id,
        "name": gettext(c.name),
        "article": text(c.location()),
        "tag": c.tag,
        "tag_label": gettext(rules.TAG_LABELS[c.tag]),
        "verified": c.fully_verified,
        # the tags of what is not verified: the criterion's own, or those of its parameters
        "unverified_tag": c.tag if not c.verified else ", ".join(unverified_tags),
        "human": c.human,
        "titles": list(c.titles),
        "parameters": [parameter_view(p) for p in c.params],
    }


def present(assessment: Assessment) -> dict:
    """Plain, translated data: what pages, the API and the council pack show."""
    ev = assessment.evaluation
    criteria = []
    counts = {o.value: 0 for o in Outcome}
    for r in ev.results:
        c = r.criterion
        result = assessment.outcome(c.id)
        counts[result.value] += 1
        review = assessment.review_in_force(c.id)
        item = criterion_view(c)
        item.update(
            result=result.value,
            result_label=gettext(rules.OUTCOME_LABELS[result]),
            computed_result=r.outcome.value,
            explanation=text(r.detail),
            notes=[text(n) for n in r.notes],
            reviewable=r.outcome == Outcome.NEEDS_REVIEW,
            review=(
                {
                    "result": review.result,
                    "result_label": gettext(rules.OUTCOME_LABELS[Outcome(review.result)]),
                    "reason": review.reason,
                    "by": review.actor_name,
                    "at": review.at,
                }
                if review
                else None
            ),
        )
        item["detail"] = " ".join([item["explanation"], *item["notes"]])
        criteria.append(item)
    eligible = assessment.eligible
    rs = ev.ruleset
    return {
        "eligible": eligible,
        "eligible_label": gettext(ELIGIBLE_LABELS[eligible]),
        "title": ev.title,
        "ruleset": {
            "id": rs.id,
            "decree": rs.decree,
            "name": ruleset_title(rs),
            "effective_from": rs.effective_from,
            "verified": rs.verified,
        },
        "filed_on": ev.filed_on,
        "filed": assessment.filed,
        "reference_date": ev.reference_date,
        "as_of": ev.as_of,
        "notes": [text(n) for n in ev.notes],
        "counts": counts,
        "criteria": criteria,
    }


def of(nomination: Nomination) -> dict:
    """The dossier's check, overrides applied, as pages show it: what a view computes once and passes
    to its template (no template or serializer computes it)."""
    return present(assess(nomination))


def api_of(nomination: Nomination) -> dict:
    """As ``POST /api/v1/eligibility/check`` answers, with the secretariat's overrides applied."""
    return api_view(of(nomination))


def api_view(view: dict) -> dict:
    """The contract's shape (eligible, criteria[id, result, detail]) plus more fields, JSON-ready."""

    def iso(value):
        return value.isoformat() if isinstance(value, date) else value

    return {
        "eligible": view["eligible"],
        "ruleset": {**view["ruleset"], "effective_from": iso(view["ruleset"]["effective_from"])},
        "filed_on": iso(view["filed_on"]),
        "reference_date": iso(view["reference_date"]),
        "as_of": iso(view["as_of"]),
        "notes": view["notes"],
        "criteria": [
            {
                "id": c["id"],
                "result": c["result"],
                "detail": c["detail"],
                "name": c["name"],
                "article": c["article"],
                "verified": c["verified"],
                "tag": c["tag"],
                "computed_result": c["computed_result"],
                "override": (
                    {
                        "result": c["review"]["result"],
                        "reason": c["review"]["reason"],
                        "by": c["review"]["by"],
                        "at": iso_moment(c["review"]["at"]),
                    }
                    if c["review"]
                    else None
                ),
            }
            for c in view["criteria"]
        ],
    }


# -- issue 14: Art. 2(3) exclusions and the council's special-craft decisions --------------------------


def exclusions(nomination: Nomination) -> list[rules.CriterionResult]:
    """The Art. 2(3) criteria the dossier fails (the rule set's ``not_intangible_heritage`` checks)."""
    evaluation = rules.check(facts_for(nomination), rulesets())
    return [r for r in evaluation.results
            if r.criterion.check == "not_intangible_heritage" and r.outcome == rules.Outcome.FAIL]


def override_of(nomination: Nomination) -> ExclusionOverride | None:
    return db.session.scalar(sa.select(ExclusionOverride).where(ExclusionOverride.nomination_id == nomination.id)
                             .order_by(ExclusionOverride.id.desc()).limit(1))


def blocked_by_exclusion(nomination: Nomination) -> bool:
    """Art. 2(3) excludes the dossier and no override (where allowed) lets it go on."""
    if not exclusions(nomination):
        return False
    return not (current_app.config["EXCLUSION_OVERRIDE_ALLOWED"] and override_of(nomination) is not None)


def special_craft_decision(nomination_id: int) -> SpecialCraftDecision | None:
    """The council's decision in force (the latest), or None."""
    return db.session.scalar(sa.select(SpecialCraftDecision).where(SpecialCraftDecision.nomination_id == nomination_id)
                             .order_by(SpecialCraftDecision.id.desc()).limit(1))


def special_craft_decisions(session_id: int) -> list[SpecialCraftDecision]:
    return list(db.session.scalars(sa.select(SpecialCraftDecision)
                                   .where(SpecialCraftDecision.session_id == session_id)
                                   .order_by(SpecialCraftDecision.id)))
