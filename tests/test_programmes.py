"""Programmes as data (issue 18): the definition format, its loader and checks, the machine built from it,
the registry of versions, and the decisions of a level.  No Flask, no database."""

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from transitions import Machine, MachineError

from workflows import programme as pg
from workflows.machine import MACHINE, ROLES, STAGE_OF, TRANSITIONS, Subject
from workflows.states import ACTION_LABELS, AGENDA_STATE, ARTISAN, STATE_INFO, Action, CouncilEvent, State

ROOT = Path(__file__).resolve().parent.parent
TEST_PROGRAMMES = Path(__file__).resolve().parent / "data" / "programmes"
ARTISAN_FILE = ROOT / "workflows" / "programmes" / "artisan-titles" / "2024.yaml"

# The machine as workflows/machine.py declared it in Python before it became data (commit e9b646e):
# (trigger, sources, dest, actor, conditions, unless), in the table's order.
PYTHON_TABLE = [
    ('submit', ('draft',), 'submitted', 'owner', ('intake_open',), ()),
    ('accept', ('submitted',), 'accepted', 'province_officer', (), ()),
    ('return', ('submitted',), 'returned', 'province_officer', (), ()),
    ('resubmit', ('returned',), 'submitted', 'owner', ('completion_open',), ()),
    ('close_incomplete', ('returned',), 'closed_incomplete', 'province_officer', (), ('completion_open',)),
    ('province_vote_opens', ('accepted',), 'province_review', 'council', (), ()),
    ('province_pass', ('province_review',), 'province_passed', 'council', (), ()),
    ('province_reject', ('province_review',), 'province_rejected', 'council', (), ()),
    ('forward_to_ministry', ('province_passed',), 'ministry_review', 'province_officer', (), ()),
    ('ministry_pass', ('ministry_review',), 'ministry_passed', 'council', (), ()),
    ('ministry_reject', ('ministry_review',), 'ministry_rejected', 'council', (), ()),
    ('open_consultation', ('ministry_passed',),
      'public_consultation', 'ministry_officer', ('consultation_before_state',), ()),
    ('forward_to_state', ('public_consultation',), 'state_review', 'ministry_officer', ('consultation_over',), ()),
    ('forward_to_state', ('ministry_passed',), 'state_review', 'ministry_officer', (), ('consultation_before_state',)),
    ('state_pass', ('state_review',), 'state_passed', 'council', (), ()),
    ('state_reject', ('state_review',), 'state_rejected', 'council', (), ()),
    ('open_consultation', ('state_passed',),
      'final_consultation', 'ministry_officer', ('consultation_after_state',), ()),
    ('submit_to_pm', ('final_consultation',), 'submitted_to_pm', 'ministry_officer', ('consultation_over',), ()),
    ('submit_to_pm', ('state_passed',), 'submitted_to_pm', 'ministry_officer', (), ('consultation_after_state',)),
    ('submit_to_president', ('submitted_to_pm',), 'submitted_to_president', 'government_officer', (), ()),
    ('record_award', ('submitted_to_president',), 'awarded', 'government_officer', (), ()),
    ('record_not_awarded', ('submitted_to_president',), 'not_awarded', 'government_officer', (), ()),
    ('hold', ('ministry_review', 'public_consultation', 'state_review', 'final_consultation'),
      'on_hold', 'ministry_officer', (), ()),
    ('release', ('on_hold',), 'ministry_review', 'ministry_officer', ('held_from_ministry_review',), ()),
    ('release', ('on_hold',), 'public_consultation', 'ministry_officer', ('held_from_public_consultation',), ()),
    ('release', ('on_hold',), 'state_review', 'ministry_officer', ('held_from_state_review',), ()),
    ('release', ('on_hold',), 'final_consultation', 'ministry_officer', ('held_from_final_consultation',), ()),
    ('withdraw', ('draft', 'submitted', 'returned', 'accepted', 'province_review',
      'province_passed', 'ministry_review', 'ministry_passed', 'public_consultation', 'on_hold',
      'state_review', 'state_passed', 'final_consultation', 'submitted_to_pm'), 'withdrawn', 'owner', (), ()),
]
# ... and the stage of each state (workflows.machine.STAGE_OF at the same commit).
PYTHON_STAGES = {
    "draft": 0, "submitted": 1, "returned": 1, "closed_incomplete": 1, "accepted": 2, "province_review": 2,
    "province_passed": 2, "province_rejected": 2, "ministry_review": 3, "ministry_passed": 3,
    "ministry_rejected": 3, "public_consultation": 3, "on_hold": 0, "state_review": 4, "state_passed": 4,
    "state_rejected": 4, "final_consultation": 4, "submitted_to_pm": 5, "submitted_to_president": 5,
    "awarded": 5, "not_awarded": 5, "withdrawn": 0,
}


def _python_machine() -> Machine:
    """The machine built the way workflows/machine.py built it from the Python table."""
    states = [row[2] for row in PYTHON_TABLE] + [s for row in PYTHON_TABLE for s in row[1]]
    return Machine(model=None, states=list(dict.fromkeys(["draft", *states])),
                   transitions=[{"trigger": t, "source": list(src), "dest": dest, "conditions": list(cond),
                                 "unless": list(unless)} for t, src, dest, _actor, cond, unless in PYTHON_TABLE],
                   initial="draft", auto_transitions=False, ignore_invalid_triggers=False, model_attribute="state")


def _events(machine: Machine) -> dict:
    """Every transition of a machine: event → source → [(dest, ((guard, must hold), ...))], in order.

    ``transitions`` keys enum states by their names (DRAFT), string states by themselves (draft)."""
    return {
        name: {str(src).lower(): [(str(t.dest).lower(), tuple((c.func, c.target) for c in t.conditions)) for t in ts]
               for src, ts in event.transitions.items()}
        for name, event in machine.events.items()
    }


def test_artisan_definition_reproduces_the_python_table_row_by_row():
    built = [(str(m.trigger), tuple(str(s) for s in m.sources), str(m.dest), m.actor, m.conditions, m.unless)
             for m in TRANSITIONS]
    assert built == PYTHON_TABLE
    assert TRANSITIONS is ARTISAN.moves


def test_artisan_machine_equals_the_python_machine_transition_by_transition():
    reference = _python_machine()
    assert _events(MACHINE) == _events(reference)
    assert [name.lower() for name in MACHINE.states] == [s.value for s in State]
    assert {name.lower() for name in MACHINE.states} == set(reference.states)
    assert MACHINE.initial == "DRAFT" and not MACHINE.auto_transitions and MACHINE.models == []
    # the same subject moves the same way through both, guards included
    for name in {row[0] for row in PYTHON_TABLE}:
        for source in State:
            for flags in ({}, {"intake_open": False}, {"completion_open": False}, {"consultation_over": False},
                          {"consultation_windows": 0}, {"consultation_windows": 1}):
                for held in (None, State.MINISTRY_REVIEW, State.FINAL_CONSULTATION):
                    assert _try(MACHINE, name, source, held, flags) == _try(reference, name, source, held, flags)


def _try(machine: Machine, name: str, source: State, held, flags: dict) -> str:
    # the Python machine's states were the enum; the reference here names them as strings
    subject = Subject(source if machine is MACHINE else str(source), held_from=held, **flags)
    try:
        moved = machine.events[name].trigger(subject)
    except MachineError:
        return "refused"
    return str(subject.state) if moved else "guard"


def test_artisan_enums_stages_and_agenda_come_from_the_definition():
    definition = pg.load_definition(ARTISAN_FILE)
    assert [s.value for s in State] == [s.id for s in definition.states]
    assert [a.value for a in Action] == [a.id for a in definition.actions]
    assert [e.value for e in CouncilEvent] == [e.id for e in definition.events]
    assert {str(s): int(v) for s, v in STAGE_OF.items()} == PYTHON_STAGES
    assert {str(s): v for s, v in ARTISAN.stage_of.items()} == PYTHON_STAGES
    assert AGENDA_STATE == {"province": State.ACCEPTED, "ministry": State.MINISTRY_REVIEW,
                            "state": State.STATE_REVIEW}
    assert STATE_INFO[State.DRAFT].staff_label == "Bản nháp"
    assert STATE_INFO[State.AWARDED].final and not STATE_INFO[State.ACCEPTED].final
    assert ACTION_LABELS[Action.SUBMIT] == "Nộp hồ sơ"
    assert ACTION_LABELS[CouncilEvent.STATE_PASS] == "Hội đồng cấp Nhà nước đề nghị"
    assert ARTISAN.sideways == {"withdraw", "hold", "release"}


# -- the format and its checks ---------------------------------------------------------------------


def _artisan_raw() -> dict:
    return yaml.safe_load(ARTISAN_FILE.read_text("utf-8"))


def _problems(raw) -> list[str]:
    with pytest.raises(pg.ProgrammeError) as caught:
        pg.parse_definition(raw, "test.yaml", ROLES)
    assert str(caught.value).startswith("test.yaml: ")
    return caught.value.problems


def test_artisan_definition_loads_clean():
    definition = pg.parse_definition(_artisan_raw(), roles=ROLES)
    assert definition.id == pg.ARTISAN_ID and definition.version == "2024"
    assert definition.effective_from == date(2024, 6, 6)


@pytest.mark.parametrize("change,expected", [
    (lambda r: r.update(colour="blue"), "colour: Extra inputs are not permitted"),
    (lambda r: r.pop("initial"), "initial: Field required"),
    (lambda r: r.update(initial="nowhere"), "initial state 'nowhere' is not declared"),
    (lambda r: r["transitions"][0].update(to="nowhere"), "transition 1 (submit): state 'nowhere' is not declared"),
    (lambda r: r["transitions"][1].update(by="mayor"), "'mayor' is neither owner, council nor a declared role"),
    (lambda r: r.update(roles=[*r["roles"], "mayor"]), "role 'mayor' is not a role of the system"),
    (lambda r: r["transitions"][0].update(when=["sunny"]), "guard 'sunny' is not declared"),
    (lambda r: r["guards"].append({"id": "sunny", "description": "Trời nắng"}),
     "guard 'sunny' is not one the engine computes"),
    (lambda r: r["transitions"][13].update(by="province_officer"),
     "action 'forward_to_state' is fired by more than one actor (ministry_officer, province_officer)"),
    (lambda r: r["transitions"][5].update(by="province_officer"), "action 'province_vote_opens' is not declared"),
    (lambda r: r["transitions"][1].update(by="council"), "a council move's trigger must be a declared event"),
    (lambda r: r["states"].append(dict(r["states"][0])), "state 'draft' is declared twice"),
    (lambda r: r["states"][3].update(final=False), "state 'closed_incomplete' has no way out"),
    (lambda r: r["states"][0].update(final=True), "state 'draft' is final but a transition leaves it"),
    (lambda r: r["levels"][0].update(entry="limbo"), "level 'province': entry state 'limbo' is not declared"),
    (lambda r: r["levels"][0]["decision"].update(passes="cheer"), "decision event 'cheer' is not declared"),
    (lambda r: r["levels"][0]["decision"].update(kind="lottery"), "does not match any of the expected tags"),
    (lambda r: r["levels"][0]["decision"].update(quorum_percent=101), "less than or equal to 100"),
    (lambda r: r["transitions"][1].update(deadline="never"), "deadline 'never' is not declared"),
    (lambda r: r["transitions"][0].update(action="Submit Now"), "String should match pattern"),
    (lambda r: r.update(dossier={"evidence": ["photo"]}), "dossier: neither a form nor fields"),
    (lambda r: r["actions"].append({"id": "dance", "label": "Múa"}), "action 'dance' has no transition"),
])
def test_bad_definitions_are_refused_with_what_is_wrong(change, expected):
    raw = _artisan_raw()
    change(raw)
    assert any(expected in p for p in _problems(raw)), _problems(raw)


def test_an_unreachable_state_is_refused():
    raw = _artisan_raw()
    raw["states"].append({"id": "limbo", "staff_label": "x", "citizen_label": "x", "next_step": "x",
                          "final": True})
    assert "state 'limbo' cannot be reached from 'draft'" in _problems(raw)


def test_unreadable_files_name_the_file(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("id: [unclosed", "utf-8")
    with pytest.raises(pg.ProgrammeError, match="x.yaml: cannot be read"):
        pg.load_definition(bad)
    bad.write_text("- a list\n", "utf-8")
    with pytest.raises(pg.ProgrammeError, match="a definition is a mapping"):
        pg.load_definition(bad)


# -- versions ----------------------------------------------------------------------------------------


def test_registry_answers_the_version_in_effect_and_keeps_the_artisan_enums():
    registry = pg.Registry([pg.PROGRAMMES_DIR, TEST_PROGRAMMES], known=[ARTISAN], roles=ROLES)
    assert registry.get(pg.ARTISAN_ID, "2024") is ARTISAN
    assert {"artisan-titles", "village-crafts"} <= set(registry.ids())
    v1, v2 = registry.versions("village-crafts")
    assert (v1.version, v2.version) == ("2025", "2026")
    assert registry.effective("village-crafts", date(2025, 12, 31)) is v1
    assert registry.effective("village-crafts", v2.definition.effective_from) is v2
    with pytest.raises(KeyError):
        registry.effective("village-crafts", date(2024, 12, 31))
    with pytest.raises(KeyError):
        registry.get("village-crafts", "1999")


def test_a_file_must_be_named_after_its_id_and_version(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "2024.yaml").write_text(ARTISAN_FILE.read_text("utf-8"), "utf-8")
    with pytest.raises(pg.ProgrammeError, match="must be artisan-titles/2024.yaml"):
        pg.Registry([tmp_path])


def test_two_versions_on_one_day_are_refused(tmp_path):
    (tmp_path / "artisan-titles").mkdir()
    raw = _artisan_raw()
    raw["version"] = "2024b"
    (tmp_path / "artisan-titles" / "2024b.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(pg.ProgrammeError, match="take effect on 2024-06-06"):
        pg.Registry([pg.PROGRAMMES_DIR, tmp_path])


# -- decisions -----------------------------------------------------------------------------------------


def test_ballot_counts_quorum_and_threshold_on_the_members():
    ballot = pg.BallotDecision(kind="ballot", quorum_percent=75, pass_percent=90, passes="p", rejects="r")
    assert pg.decide(ballot, {"members": 7, "present": 7, "yes": 7}).event == "p"
    assert pg.decide(ballot, {"members": 7, "present": 7, "yes": 6}).event == "r"  # 90 % of 7 is 7
    assert pg.decide(ballot, {"members": 10, "present": 9, "yes": 9}).meta == {
        "members": 10, "present": 9, "yes": 9, "quorum": 8, "threshold": 9}
    assert not pg.decide(ballot, {"members": 10, "present": 7, "yes": 7}).passed  # no quorum
    for bad in ({"members": 5, "present": 6, "yes": 1}, {"members": 5, "present": 4, "yes": 5},
                {"members": 0, "present": 0, "yes": 0}, {"members": "năm", "present": 1, "yes": 1},
                {"members": 5, "present": -1, "yes": 0}):
        with pytest.raises(pg.DecisionInputError):
            pg.decide(ballot, bad)


def test_rubric_means_the_scorers_weighted_totals():
    rubric = pg.RubricDecision.model_validate({
        "kind": "rubric", "min_scorers": 2, "pass_mark": 70, "passes": "p", "rejects": "r",
        "groups": [{"id": "market", "label": "Thị trường", "weight": 2,
                    "criteria": [{"id": "sales", "label": "Doanh số", "max_points": 20}]},
                   {"id": "culture", "label": "Văn hóa",
                    "criteria": [{"id": "design", "label": "Thẩm mỹ", "max_points": 60}]}]})
    assert rubric.max_score == 100
    out = pg.decide(rubric, {"scores": [{"sales": 20, "design": 40}, {"sales": 10, "design": 50}]})
    assert out.meta["score"] == 75 and out.passed  # (80 + 70) / 2
    assert not pg.decide(rubric, {"scores": [{"sales": 10, "design": 40}] * 2}).passed
    for bad in ([{"sales": 20, "design": 40}], [{"sales": 21, "design": 0}] * 2, [{"sales": 1}] * 2, "x"):
        with pytest.raises(pg.DecisionInputError):
            pg.decide(rubric, {"scores": bad})


def test_appraisal_funds_a_positive_amount_within_the_request():
    appraisal = pg.AppraisalDecision(kind="appraisal", max_amount=500_000_000, passes="p", rejects="r")
    out = pg.decide(appraisal, {"amount": 300_000_000, "requested": 350_000_000})
    assert out.passed and out.meta == {"amount": 300_000_000, "currency": "VND", "requested": 350_000_000}
    assert pg.decide(appraisal, {"amount": 0}).event == "r"
    for bad in ({"amount": 400, "requested": 300}, {"amount": 600_000_000}, {"amount": "nhiều"}, {"amount": True}):
        with pytest.raises(pg.DecisionInputError):
            pg.decide(appraisal, bad)


def test_an_appraisal_with_a_score_scale_records_the_appraisers_score():
    """``max_score``: the appraisers' score is an input (0 to the scale), recorded with the amount."""
    appraisal = pg.AppraisalDecision(kind="appraisal", max_score=100, passes="p", rejects="r")
    out = pg.decide(appraisal, {"amount": 300, "requested": 350, "score": "82,5"})
    assert out.passed and out.meta == {"amount": 300, "currency": "VND", "requested": 350, "score": 82.5,
                                       "max_score": 100}
    assert pg.decide(appraisal, {"amount": 0, "score": 0}).meta["score"] == 0  # scored, not funded
    assert pg.decide(appraisal, {"amount": 1, "score": 100}).passed
    for bad in ({"amount": 1}, {"amount": 1, "score": 100.5}, {"amount": 1, "score": -1},
                {"amount": 1, "score": "cao"}, {"amount": 1, "score": True}, {"amount": 1, "score": "nan"}):
        with pytest.raises(pg.DecisionInputError) as refused:
            pg.decide(appraisal, bad)
        assert refused.value.field == "score"
    without = pg.AppraisalDecision(kind="appraisal", passes="p", rejects="r")
    assert "score" not in pg.decide(without, {"amount": 1, "score": 5}).meta  # no scale, no score
    with pytest.raises(ValidationError):
        pg.AppraisalDecision(kind="appraisal", max_score=0, passes="p", rejects="r")


def test_clean_form_checks_the_programmes_own_fields():
    dossier = pg.DossierDef.model_validate({"fields": [
        {"id": "name", "label": "Tên", "required": True, "max_length": 10},
        {"id": "budget", "label": "Kinh phí", "type": "money", "maximum": 1000},
        {"id": "group", "label": "Nhóm", "type": "choice", "choices": ["a", "b"]},
        {"id": "since", "label": "Từ ngày", "type": "date"},
        {"id": "export", "label": "Xuất khẩu", "type": "boolean"}]})
    clean, errors = pg.clean_form(dossier, {"name": " Gốm ", "budget": "1.000", "group": "a",
                                            "since": "2020-02-29", "export": True})
    assert errors == {} and clean == {"name": "Gốm", "budget": 1000, "group": "a", "since": "2020-02-29",
                                      "export": True}
    _, errors = pg.clean_form(dossier, {"name": "", "budget": 1001, "group": "c", "since": "2021-02-29",
                                        "export": "yes", "colour": "x"})
    assert set(errors) == {"name", "budget", "group", "since", "export", "colour"}
    assert errors["name"] == "Cần điền thông tin này."


# -- documentation -------------------------------------------------------------------------------------


def test_docs_programmes_carries_each_diagram_as_generated_from_its_definition():
    from workflows.diagram import block, embedded, mermaid

    committed = (ROOT / "docs" / "programmes.md").read_text("utf-8")
    blocks = embedded(committed)
    registry = pg.Registry([pg.PROGRAMMES_DIR, TEST_PROGRAMMES], known=[ARTISAN], roles=ROLES)
    built_in = pg.Registry([pg.PROGRAMMES_DIR], known=[ARTISAN], roles=ROLES)
    newest = {(pid, built_in.versions(pid)[-1].version) for pid in built_in.ids()}  # every built-in programme
    assert ("typical-products", "2025") in newest
    assert ("khuyen-cong-schemes", "2024") in newest
    assert set(blocks) == newest | {("village-crafts", "2026")}
    for (programme_id, version), text in blocks.items():
        programme = registry.get(programme_id, version)
        assert text == block(programme), f"run: python -m workflows.diagram --programme {programme_id} " \
                                         f"--version {version} --dir tests/data/programmes"
    assert mermaid(ARTISAN) in (ROOT / "docs" / "state-machine.md").read_text("utf-8")
    # every field of the format is explained
    for model in (pg.ProgrammeDef, pg.StateDef, pg.TransitionDef, pg.LevelDef, pg.DossierDef, pg.FieldDef,
                  pg.DeadlineDef, pg.BallotDecision, pg.RubricDecision, pg.AppraisalDecision):
        for name, info in model.model_fields.items():
            assert f"`{info.alias or name}`" in committed, f"docs/programmes.md does not explain {name}"
    for guard in pg.KNOWN_GUARDS:
        assert f"`{guard}`" in committed


def test_babel_extracts_the_labels_of_the_built_in_definitions():
    from workflows.babel_yaml import extract

    with ARTISAN_FILE.open("rb") as f:
        messages = [m for _line, _f, m, _c in extract(f, (), (), {})]
    assert STATE_INFO[State.ON_HOLD].citizen_label in messages
    assert ACTION_LABELS[CouncilEvent.PROVINCE_PASS] in messages
    assert "artisan-titles" not in messages and "draft" not in messages  # ids are not translated
    from babel.messages.pofile import read_po

    with (ROOT / "artisan_awards" / "translations" / "messages.pot").open("rb") as f:
        catalogue = read_po(f)
    for info in STATE_INFO.values():
        assert any("workflows/programmes/artisan-titles/2024.yaml" in path
                   for path, _line in catalogue[info.next_step].locations)
