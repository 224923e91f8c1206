"""The rule sets and the eligibility check alone: no Flask, no database.

Table tests name the article each criterion comes from; property tests (hypothesis) cover the
period arithmetic and the thresholds.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows import rules
from workflows.rules import Award, Facts, Outcome, Period, ProductFacts

D43 = rules.ruleset_by_id("decree-43-2024")
D123 = rules.ruleset_by_id("decree-123-2014")
DEADLINE = date(2025, 9, 30)  # round 6: intake closes
MERIT = date(2019, 8, 30)  # the Meritorious decision


def people(**kw) -> Facts:
    """A People's Artisan nominee who meets every machine-checked criterion of Decree 43."""
    values = dict(
        title="people",
        reference_date=DEADLINE,
        filed_on=date(2025, 9, 15),
        periods=(Period(date(1985, 1, 1), date(2025, 6, 30)),),
        meritorious_decision_no="1234/QĐ-CTN",
        meritorious_decision_date=MERIT,
        meritorious_field="handicraft",
        products=(
            ProductFacts("Bình men lam", date(2020, 3, 1), True,
                         Award(1, "national", False, date(2020, 9, 1))),
            ProductFacts("Lọ hoa sen", date(2021, 3, 1), True,
                         Award(3, "international", True, date(2021, 11, 1))),
        ),
        learners_trained=180,
    )
    values.update(kw)
    return Facts(**values)


def meritorious(**kw) -> Facts:
    values = dict(
        title="meritorious",
        reference_date=DEADLINE,
        filed_on=date(2025, 9, 15),
        periods=(Period(date(2000, 1, 1), date(2025, 6, 30)),),
        products=tuple(ProductFacts(f"Sản phẩm {i}", date(2010 + i, 1, 1)) for i in range(10)),
        learners_trained=120,
    )
    values.update(kw)
    return Facts(**values)


def outcome(facts: Facts, criterion_id: str, ruleset=D43) -> Outcome:
    return rules.evaluate(ruleset, facts).result(criterion_id).outcome


# -- the data files -----------------------------------------------------------------------


def test_both_rule_sets_load_with_their_decree_and_effective_date():
    sets = {r.decree: r for r in rules.load_rulesets()}
    assert set(sets) == {"43/2024", "123/2014"}
    assert sets["43/2024"].effective_from == date(2024, 6, 6)  # the cut-over, in the data
    assert sets["43/2024"].signed_on == date(2024, 4, 19)


def test_every_criterion_has_a_stable_id_an_article_and_a_verified_flag():
    for rs in rules.load_rulesets():
        ids = [c.id for c in rs.criteria]
        assert len(ids) == len(set(ids))
        assert {"X-2.3", "N0", "N1", "N2", "N3", "N4a", "N5", "M1", "M2", "M3", "M4", "M5"} <= set(ids)
        for c in rs.criteria:
            assert c.article in (2, 6, 7)
            assert c.name != c.id  # a Vietnamese name exists
            assert c.verified is (c.tag == "V43")
            for p in c.params:
                assert p.verified is (p.tag == "V43")


def test_meritorious_criteria_of_decree_43_are_all_unverified():
    for c in D43.criteria_for("meritorious"):
        if c.id != "X-2.3":
            assert not c.fully_verified, c.id


def test_unverified_parts_of_article_6_are_flagged():
    assert D43.criterion("N2").fully_verified
    assert not D43.criterion("N5").fully_verified  # the special-craft relaxation is [U]
    assert not D43.criterion("N5").parameter("special_craft_min_learners").verified
    assert D43.criterion("N5").parameter("min_learners").verified


def test_only_a_v43_item_may_be_marked_verified():
    data = {"id": "x", "decree": "x", "name": "x", "signed_on": date(2020, 1, 1),
            "effective_from": date(2020, 1, 1), "tag": "U", "verified": True,
            "general": {"assess_posthumous_at_death": {"value": True, "tag": "U", "verified": False}},
            "criteria": []}
    with pytest.raises(rules.RuleDataError, match="V43"):
        rules.parse_ruleset(data)


def test_a_check_with_missing_parameters_is_refused():
    data = {"id": "x", "decree": "x", "name": "x", "signed_on": date(2020, 1, 1),
            "effective_from": date(2020, 1, 1), "tag": "U", "verified": False,
            "general": {"assess_posthumous_at_death": {"value": True, "tag": "U", "verified": False}},
            "criteria": [{"id": "N2", "titles": ["people"], "check": "years_in_craft", "article": 6,
                          "tag": "U", "verified": False}]}
    with pytest.raises(rules.RuleDataError, match="min_years"):
        rules.parse_ruleset(data)


@pytest.mark.parametrize(
    ("filed", "decree"),
    [
        (date(2022, 8, 16), "123/2014"),
        (date(2024, 6, 5), "123/2014"),  # the day before the cut-over
        (date(2024, 6, 6), "43/2024"),  # Decree 43 takes effect
        (date(2025, 9, 30), "43/2024"),
        (date(2010, 1, 1), "123/2014"),  # before every rule set: the earliest
    ],
)
def test_rule_set_is_chosen_by_the_filing_date(filed, decree):
    assert rules.choose_ruleset(filed).decree == decree


# -- table tests, one row per criterion and case, naming the article -----------------------

CASES = [
    # (case, rule set, facts, criterion, article, expected)
    ("Art. 2.3: intangible-heritage track is excluded", D43,
     people(intangible_heritage_track=True), "X-2.3", "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    ("Art. 2.3: intangible-heritage Meritorious title is excluded", D43,
     people(meritorious_field="intangible_heritage"), "X-2.3", "Điều %(article)s, khoản %(clause)s",
     Outcome.FAIL),
    ("Art. 2.3: handicraft nominee is in scope", D43, people(), "X-2.3",
     "Điều %(article)s, khoản %(clause)s", Outcome.PASS),
    ("Art. 6: holds Meritorious Artisan (handicraft)", D43, people(), "N0", "Điều %(article)s", Outcome.PASS),
    ("Art. 6: Meritorious title in intangible heritage does not count", D43,
     people(meritorious_field="intangible_heritage"), "N0", "Điều %(article)s", Outcome.FAIL),
    ("Art. 6: no Meritorious decision declared", D43,
     people(meritorious_decision_no=None, meritorious_decision_date=None), "N0", "Điều %(article)s",
     Outcome.FAIL),
    ("Art. 6: loyalty is a human judgement", D43, people(), "N1", "Điều %(article)s", Outcome.NEEDS_REVIEW),
    ("Art. 6: 40 years in the craft >= 20", D43, people(), "N2", "Điều %(article)s", Outcome.PASS),
    ("Art. 6: 10 years in the craft < 20", D43,
     people(periods=(Period(date(2015, 1, 1), date(2025, 1, 1)),)), "N2", "Điều %(article)s", Outcome.FAIL),
    ("Art. 6: no period declared", D43, people(periods=()), "N2", "Điều %(article)s", Outcome.FAIL),
    ("Art. 6: ethics and national standing are a human judgement", D43, people(), "N3",
     "Điều %(article)s", Outcome.NEEDS_REVIEW),
    ("Art. 6.4: exceptional skill is a human judgement", D43, people(), "N4",
     "Điều %(article)s, khoản %(clause)s", Outcome.NEEDS_REVIEW),
    ("Art. 6.4a: two prize-winning products after the title", D43, people(), "N4a",
     "Điều %(article)s, khoản %(clause)s, điểm %(point)s", Outcome.PASS),
    ("Art. 6.4a: one product only", D43, people(products=people().products[:1]), "N4a",
     "Điều %(article)s, khoản %(clause)s, điểm %(point)s", Outcome.FAIL),
    ("Art. 6.5: 180 learners >= 150", D43, people(), "N5", "Điều %(article)s, khoản %(clause)s",
     Outcome.PASS),
    ("Art. 6.5: 149 learners < 150", D43, people(learners_trained=149), "N5",
     "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    ("Art. 6.5: learners not declared", D43, people(learners_trained=None), "N5",
     "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    # Issue 14: the applicant's claim (even with a rationale) relaxes nothing until the council decides.
    ("Art. 6.5: special craft claimed with a rationale, no council decision: no relaxation", D43,
     people(learners_trained=40, special_craft=True, special_craft_rationale="Nghề có nguy cơ mai một"),
     "N5", "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    ("Art. 6.5: the council decided the craft is special: the relaxed rule [U] applies", D43,
     people(learners_trained=40, special_craft=True, special_craft_council=True,
            special_craft_council_by="Hội đồng cấp tỉnh", special_craft_council_reasons="Nghề sắp mai một"),
     "N5", "Điều %(article)s, khoản %(clause)s", Outcome.PASS),
    ("Art. 6.5: the council decided the craft is not special: 150 learners stand", D43,
     people(learners_trained=40, special_craft=True, special_craft_rationale="Nghề có nguy cơ mai một",
            special_craft_council=False, special_craft_council_by="Hội đồng cấp tỉnh",
            special_craft_council_reasons="Nghề phổ biến"),
     "N5", "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    ("Art. 6.5: special craft without a rationale gets no relaxation", D43,
     people(learners_trained=40, special_craft=True, special_craft_rationale="  "), "N5",
     "Điều %(article)s, khoản %(clause)s", Outcome.FAIL),
    ("Art. 7: loyalty (Meritorious) is a human judgement", D43, meritorious(), "M1", "Điều %(article)s",
     Outcome.NEEDS_REVIEW),
    ("Art. 7: 25 years >= 15", D43, meritorious(), "M2", "Điều %(article)s", Outcome.PASS),
    ("Art. 7: 14 years < 15", D43, meritorious(periods=(Period(date(2011, 1, 1), date(2024, 12, 31)),)),
     "M2", "Điều %(article)s", Outcome.FAIL),
    ("Art. 7: local standing is a human judgement", D43, meritorious(), "M3", "Điều %(article)s",
     Outcome.NEEDS_REVIEW),
    ("Art. 7: ten products", D43, meritorious(), "M4", "Điều %(article)s", Outcome.PASS),
    ("Art. 7: nine products", D43, meritorious(products=meritorious().products[:9]), "M4",
     "Điều %(article)s", Outcome.FAIL),
    ("Art. 7: 120 learners >= 100", D43, meritorious(), "M5", "Điều %(article)s", Outcome.PASS),
    ("Art. 7: 99 learners < 100", D43, meritorious(learners_trained=99), "M5", "Điều %(article)s",
     Outcome.FAIL),
    ("Decree 123 Art. 6: any award at a national event counts", D123,
     people(products=tuple(dataclasses.replace(p, award=Award(5, "national", False, date(2021, 1, 1)))
                           for p in people().products)), "N4a", "Điều %(article)s", Outcome.PASS),
    ("Decree 123 Art. 6: 20 years", D123, people(), "N2", "Điều %(article)s", Outcome.PASS),
    ("Decree 123 Art. 7: 100 learners", D123, meritorious(learners_trained=100), "M5", "Điều %(article)s",
     Outcome.PASS),
]


@pytest.mark.parametrize(("ruleset", "facts", "criterion_id", "article", "expected"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_criterion(ruleset, facts, criterion_id, article, expected):
    result = rules.evaluate(ruleset, facts).result(criterion_id)
    assert result.criterion.location().text == article
    assert result.outcome == expected
    assert result.detail.text  # every result explains itself
    assert result.detail.text % {k: "x" for k in result.detail.params}  # placeholders all filled


def test_articles_in_decree_43():
    assert D43.criterion("X-2.3").location().params == {"article": 2, "clause": 3}
    assert D43.criterion("N4a").location().params == {"article": 6, "clause": 4, "point": "a"}
    assert D43.criterion("N5").location().params == {"article": 6, "clause": 5}
    assert D43.criterion("M2").location().params == {"article": 7}


# -- prizes (acceptance 3) ----------------------------------------------------------------


def _one_more(product: ProductFacts) -> Facts:
    """The nominee's first product plus ``product``: N4a passes only if ``product`` counts."""
    return people(products=(people().products[0], product))


def test_a_prize_dated_before_the_meritorious_decision_does_not_count():
    early = ProductFacts("Tranh sơn mài", date(2019, 9, 1), True,
                         Award(1, "national", False, MERIT - timedelta(days=1)))
    result = rules.evaluate(D43, _one_more(early)).result("N4a")
    assert result.outcome == Outcome.FAIL
    assert result.values["counted"] == 1
    reasons = [n.params["reason"].text for n in result.notes]
    assert reasons == ["giải thưởng trước ngày phong tặng Nghệ nhân ưu tú"]


def test_a_product_made_before_the_decision_does_not_count():
    old = ProductFacts("Bình cổ", MERIT, True, Award(1, "national", False, date(2020, 1, 1)))
    assert outcome(_one_more(old), "N4a") == Outcome.FAIL


def test_a_private_international_third_prize_does_not_count():
    private = ProductFacts("Khay khảm trai", date(2022, 1, 1), True,
                           Award(3, "international", False, date(2022, 6, 1)))
    result = rules.evaluate(D43, _one_more(private)).result("N4a")
    assert result.outcome == Outcome.FAIL
    reason = result.notes[0].params["reason"].text
    assert reason.startswith("giải khu vực, quốc tế chỉ được tính khi do Nhà nước cử")


@pytest.mark.parametrize(
    ("award", "counts"),
    [
        (Award(3, "international", True, date(2022, 6, 1)), True),  # State-delegated 3rd prize
        (Award(3, "regional", True, date(2022, 6, 1)), True),
        (Award(4, "international", True, date(2022, 6, 1)), False),
        (Award(2, "national", False, date(2022, 6, 1)), True),
        (Award(3, "national", False, date(2022, 6, 1)), False),
        (Award(1, "provincial", False, date(2022, 6, 1)), False),
        (Award(None, "national", False, date(2022, 6, 1)), False),  # a certificate
        (Award(1, "national", False, None), False),  # undated prize
    ],
)
def test_prize_options_of_article_6_4a(award, counts):
    product = ProductFacts("Sản phẩm", date(2022, 1, 1), True, award)
    assert (outcome(_one_more(product), "N4a") == Outcome.PASS) is counts


def test_a_product_not_self_designed_does_not_count():
    product = ProductFacts("Sản phẩm", date(2022, 1, 1), False, Award(1, "national", False, date(2022, 6, 1)))
    assert outcome(_one_more(product), "N4a") == Outcome.FAIL


def test_the_unverified_other_options_can_send_n4a_to_review():
    relaxed = D43.with_overrides({("N4a", "other_options_review"): (True, False)})
    plain = ProductFacts("Đồ thờ", date(2022, 1, 1), True, None)
    assert rules.evaluate(relaxed, _one_more(plain)).result("N4a").outcome == Outcome.NEEDS_REVIEW
    assert rules.evaluate(D43, _one_more(plain)).result("N4a").outcome == Outcome.FAIL


# -- overall answer -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["pass", "pass"], True),
        (["pass", "fail", "needs_review"], False),
        (["pass", "needs_review"], None),
        ([], None),
    ],
)
def test_overall_is_tri_state(outcomes, expected):
    assert rules.overall(outcomes) is expected


def test_human_judgements_leave_the_answer_open():
    evaluation = rules.evaluate(D43, people())
    open_ = {r.criterion.id for r in evaluation.results if r.outcome == Outcome.NEEDS_REVIEW}
    assert open_ == {"N1", "N3", "N4"}
    assert evaluation.eligible is None


def test_one_failure_makes_the_nominee_ineligible():
    assert rules.evaluate(D43, people(intangible_heritage_track=True)).eligible is False


def test_every_criterion_passes_when_people_have_decided():
    evaluation = rules.evaluate(D43, people())
    assert rules.overall(
        Outcome.PASS if r.outcome == Outcome.NEEDS_REVIEW else r.outcome for r in evaluation.results
    ) is True


# -- posthumous -----------------------------------------------------------------------------


def test_posthumous_is_measured_at_the_date_of_death_and_says_so():
    death = date(2024, 12, 1)
    # 20 years would be met by the deadline, not by the date of death
    facts = people(posthumous=True, death_date=death, periods=(Period(date(2005, 6, 1), date(2025, 6, 30)),))
    evaluation = rules.evaluate(D43, facts)
    assert evaluation.as_of == death
    n2 = evaluation.result("N2")
    assert n2.outcome == Outcome.FAIL
    assert any("ngày mất" in note.text and "chưa được đối chiếu" in note.text for note in n2.notes)
    assert evaluation.notes  # the evaluation says so once more, for the whole check


def test_posthumous_assessment_at_death_is_a_parameter():
    facts = people(posthumous=True, death_date=date(2024, 12, 1),
                   periods=(Period(date(2005, 6, 1), date(2025, 6, 30)),))
    off = D43.with_overrides({(rules.GENERAL, "assess_posthumous_at_death"): (False, False)})
    assert rules.evaluate(off, facts).as_of == DEADLINE
    assert rules.evaluate(off, facts).result("N2").outcome == Outcome.PASS


def test_a_death_after_the_deadline_changes_nothing():
    facts = people(posthumous=True, death_date=DEADLINE + timedelta(days=3))
    assert rules.evaluate(D43, facts).as_of == DEADLINE
    assert not rules.evaluate(D43, facts).notes


# -- parameters -----------------------------------------------------------------------------


def test_an_override_changes_the_answer_and_is_marked():
    stricter = D43.with_overrides({("N5", "min_learners"): (200, False)})
    p = stricter.criterion("N5").parameter("min_learners")
    assert (p.value, p.default, p.overridden, p.verified) == (200, 150, True, False)
    assert outcome(people(), "N5", stricter) == Outcome.FAIL
    assert outcome(people(), "N5", D43) == Outcome.PASS


@pytest.mark.parametrize(("kind_value", "raw", "expected"),
                         [(150, "200", 200), (150, 7, 7), (True, "false", False), (True, True, True)])
def test_coerce(kind_value, raw, expected):
    p = rules.Parameter("x", kind_value, "U", False, kind_value, False)
    assert rules.coerce(p, raw) == expected


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "9999999", True, 2_000_000])
def test_coerce_refuses_bad_integers(raw):
    p = rules.Parameter("x", 150, "U", False, 150, False)
    with pytest.raises(ValueError):
        rules.coerce(p, raw)


# -- period arithmetic (acceptance 2) and properties -----------------------------------------


def test_overlapping_periods_are_counted_once():
    periods = [Period(date(2000, 1, 1), date(2009, 12, 31)), Period(date(2005, 1, 1), date(2014, 12, 31))]
    assert rules.days_in_craft(periods, date(2030, 1, 1)) == (date(2014, 12, 31) - date(2000, 1, 1)).days + 1
    assert rules.merge_periods(periods) == [Period(date(2000, 1, 1), date(2014, 12, 31))]


def test_days_after_the_reference_date_do_not_count():
    assert rules.days_in_craft([Period(date(2020, 1, 1), date(2030, 1, 1))], date(2020, 1, 10)) == 10


def test_threshold_met_exactly_passes_and_one_day_short_fails():
    start = date(2005, 10, 1)  # 20 years up to and including 30/09/2025
    exact = people(periods=(Period(start, DEADLINE),))
    short = people(periods=(Period(start + timedelta(days=1), DEADLINE),))
    assert outcome(exact, "N2") == Outcome.PASS
    assert outcome(short, "N2") == Outcome.FAIL
    detail = rules.evaluate(D43, short).result("N2").detail
    assert detail.params["short"] == 1


def test_years_are_shown_as_whole_years_and_days():
    assert rules.whole_years(rules.days_for_years(20, DEADLINE), DEADLINE) == (20, 0)
    assert rules.whole_years(rules.days_for_years(20, DEADLINE) - 1, DEADLINE)[0] == 19


days_ = st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31))
periods_ = st.lists(
    st.tuples(days_, st.integers(min_value=0, max_value=8000)).map(
        lambda t: Period(t[0], min(t[0] + timedelta(days=t[1]), date(2035, 12, 31)))
    ),
    max_size=6,
)
until_ = st.dates(min_value=date(1990, 1, 1), max_value=date(2035, 12, 31))
years_ = st.integers(min_value=0, max_value=60)


@settings(max_examples=200, deadline=None)
@given(periods_, until_)
def test_union_is_no_more_than_the_sum_and_no_less_than_the_longest(periods, until):
    total = rules.days_in_craft(periods, until)
    single = [rules.days_in_craft([p], until) for p in periods]
    assert max(single, default=0) <= total <= sum(single)


@settings(max_examples=200, deadline=None)
@given(periods_, until_)
def test_order_and_repetition_do_not_matter(periods, until):
    assert rules.days_in_craft(periods, until) == rules.days_in_craft(list(reversed(periods)) * 2, until)


@settings(max_examples=200, deadline=None)
@given(periods_, periods_, until_, years_)
def test_more_years_never_turn_a_pass_into_a_fail(periods, more, until, years):
    if rules.meets_years(periods, years, until):
        assert rules.meets_years(periods + more, years, until)


@settings(max_examples=200, deadline=None)
@given(periods_, until_, years_, years_)
def test_a_lower_threshold_never_fails_where_a_higher_one_passes(periods, until, low, high):
    low, high = sorted((low, high))
    if rules.meets_years(periods, high, until):
        assert rules.meets_years(periods, low, until)


@settings(max_examples=200, deadline=None)
@given(until_, st.integers(min_value=1, max_value=50))
def test_a_continuous_period_exactly_at_the_threshold_passes_and_a_day_less_fails(until, years):
    start = rules.years_before(until, years) + timedelta(days=1)
    assert rules.meets_years([Period(start, until)], years, until)
    assert not rules.meets_years([Period(start + timedelta(days=1), until)], years, until)


@settings(max_examples=100, deadline=None)
@given(until_, st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=3000))
def test_splitting_a_period_with_an_overlap_changes_nothing(until, years, overlap):
    start = rules.years_before(until, years) + timedelta(days=1)
    middle = start + (until - start) / 2
    parts = [Period(start, middle + timedelta(days=overlap)), Period(middle - timedelta(days=overlap), until)]
    parts = [Period(max(p.start, start), min(p.end, until)) for p in parts]
    assert rules.days_in_craft(parts, until) == rules.days_in_craft([Period(start, until)], until)
    assert rules.meets_years(parts, years, until)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=400))
def test_learners_threshold_is_inclusive_and_monotonic(learners):
    facts = people(learners_trained=learners)
    result = outcome(facts, "N5")
    assert (result == Outcome.PASS) is (learners >= 150)
    if result == Outcome.PASS:
        assert outcome(people(learners_trained=learners + 1), "N5") == Outcome.PASS


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=5))
def test_more_qualifying_products_never_turn_a_pass_into_a_fail(n, extra):
    product = ProductFacts("P", date(2022, 1, 1), True, Award(1, "national", False, date(2022, 6, 1)))
    base = outcome(people(products=(product,) * n), "N4a")
    more = outcome(people(products=(product,) * (n + extra)), "N4a")
    assert (base == Outcome.PASS) is (n >= 2)
    if base == Outcome.PASS:
        assert more == Outcome.PASS
