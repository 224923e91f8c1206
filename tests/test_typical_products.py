"""The typical rural-industrial products (issue 18 item 3) through the service layer: the definition, the
regions, the scorers' panels and their own sheets, the close computed from the stored sheets, the ranking,
the certificates of each level."""

import csv
from datetime import timedelta

import pytest
import sqlalchemy as sa
import yaml

from artisan_awards import regions
from artisan_awards.errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Province, ScoreSheet, TransitionLog
from artisan_awards.services import certificates, programmes, scoring
from artisan_awards.timeutil import today
from workflows import programme as pg
from workflows.registry import registry

DEFINITION = pg.PROGRAMMES_DIR / "typical-products" / "2025.yaml"
PASS = {"members": 7, "present": 7, "yes": 6}
# one sheet: 85 points of 100 (every criterion at 85 %), another 62, one 90
HIGH = {"market": 17, "production": 12.75, "economy": 8.5, "technique": 8.5, "society": 4.25,
        "environment": 4.25, "culture": 12.75, "aesthetics": 8.5, "other": 8.5}
LOW = {"market": 12, "production": 9, "economy": 6, "technique": 6, "society": 3, "environment": 3,
       "culture": 10, "aesthetics": 7, "other": 6}
TOP = {"market": 18, "production": 14, "economy": 9, "technique": 9, "society": 5, "environment": 4,
       "culture": 14, "aesthetics": 9, "other": 8}


def values(name="Gốm men lam Bát Tràng", producer="Hợp tác xã Gốm Bát Tràng"):
    return {"product_name": name, "product_group": "Thủ công mỹ nghệ", "producer_name": producer,
            "producer_kind": "Hợp tác xã", "producer_address": "Thôn 3, xã Bát Tràng", "commune": "Bát Tràng",
            "description": "Gốm men lam vẽ tay, nung lò ga.", "annual_output": "12000",
            "annual_revenue": "3.500.000.000"}


@pytest.fixture
def world(make):
    people = {
        "producer": make.user("applicant", full_name="Lê Văn Thợ"),
        "hni": make.user("province_officer", "HNI"), "hcm": make.user("province_officer", "HCM"),
        "ministry": make.user("ministry_officer"),
        "north": [make.user("ministry_council_member", full_name=f"Người chấm Bắc {i}") for i in range(3)],
        "south": [make.user("ministry_council_member", full_name=f"Người chấm Nam {i}") for i in range(3)],
    }
    people["round"] = make.round(programme_id="typical-products", intake_opens=today() - timedelta(days=3))
    return people


def _to_region(w, province="HNI", name="Gốm men lam Bát Tràng"):
    officer = w["hni"] if province == "HNI" else w["hcm"]
    n = programmes.create_dossier(w["producer"], w["round"].id, province, values(name))
    programmes.perform(n, "submit", w["producer"])
    programmes.perform(n, "commune_select", officer)
    programmes.decide(n, "province", PASS, officer)
    programmes.perform(n, "send_to_region", officer)
    return n


def _panel(w, level="region"):
    for region, people in (("north", w["north"]), ("south", w["south"])):
        for person in people:
            scoring.assign_scorer(w["ministry"], w["round"].id, level, person.id, region if level == "region" else "")


def test_the_definition_loads_with_its_rubric_and_regions():
    prog = registry().get("typical-products", "2025")
    assert [lv.id for lv in prog.definition.levels] == ["province", "region", "nation"]
    region = prog.level("region")
    assert region.scope == "region" and isinstance(region.decision, pg.RubricDecision)
    assert [g.id for g in region.decision.groups] == ["market_production", "economy_technique",
                                                      "culture_aesthetics", "other"]
    assert region.decision.max_score == 100 and region.decision.pass_mark == 70
    assert region.decision.min_scorers == 3
    fields = {f.id for f in prog.definition.dossier.fields}
    assert {certificates.HOLDER_FIELD, certificates.PRODUCT_FIELD, certificates.GROUP_FIELD} <= fields


def test_a_level_scoped_by_region_needs_its_scorers_role():
    raw = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    assert pg.parse_definition(raw).levels[1].scope == "region"
    raw["levels"][1].pop("council")
    with pytest.raises(pg.ProgrammeError) as refused:
        pg.parse_definition(raw)
    assert "a level scoped by region needs the council role whose members score" in str(refused.value)
    raw["levels"][1]["scope"] = "district"
    with pytest.raises(pg.ProgrammeError):
        pg.parse_definition(raw)


def test_every_active_province_has_one_region(app):
    active = set(db.session.scalars(sa.select(Province.code).where(Province.active)))
    with regions.FILE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["province_code"] for r in rows) == sorted(active)
    assert {r["region"] for r in rows} == set(regions.REGIONS)
    assert regions.region_of("HNI") == "north" and regions.region_of("HCM") == "south"
    assert regions.region_of("DNG") == "central" and regions.region_of("XXX") is None
    app.config["PROVINCE_REGIONS"] = {"LDG": "south", "HNI": "nowhere"}
    assert regions.region_of("LDG") == "south" and regions.region_of("HNI") == "north"
    assert "LDG" in regions.provinces_of("south")


def test_panels_are_chosen_by_the_secretariat_among_council_members(world, make):
    w = world
    rid = w["round"].id
    with pytest.raises(Forbidden):
        scoring.assign_scorer(w["hni"], rid, "region", w["north"][0].id, "north")
    with pytest.raises(ValidationFailed) as refused:
        scoring.assign_scorer(w["ministry"], rid, "region", w["hni"].id, "north")
    assert list(refused.value.fields) == ["user_id"]
    with pytest.raises(ValidationFailed) as refused:
        scoring.assign_scorer(w["ministry"], rid, "region", w["north"][0].id, "")
    assert list(refused.value.fields) == ["region"]
    with pytest.raises(ValidationFailed):
        scoring.assign_scorer(w["ministry"], rid, "nation", w["north"][0].id, "north")
    with pytest.raises(NotFound):
        scoring.assign_scorer(w["ministry"], rid, "province", w["north"][0].id)  # a ballot, not scored
    scoring.assign_scorer(w["ministry"], rid, "region", w["north"][0].id, "north")
    with pytest.raises(TransitionRefused):
        scoring.assign_scorer(w["ministry"], rid, "region", w["north"][0].id, "north")
    assert [m.user_id for m in scoring.panel(rid, "region", "north")] == [w["north"][0].id]
    assert db.session.scalar(sa.select(AuditEvent.kind).where(AuditEvent.kind == "scorer_assigned"))


def test_a_scorer_sees_and_edits_only_his_own_sheet_until_the_close(world):
    w = world
    _panel(w)
    bat_trang, south = _to_region(w), _to_region(w, "HCM", "Nước mắm Phú Quốc")
    a, b, c = w["north"]
    # the southern panel does not score a northern product, nor the other way round
    with pytest.raises(Forbidden):
        scoring.save_sheet(w["south"][0], bat_trang, "region", HIGH)
    with pytest.raises(Forbidden):
        scoring.own_sheet(a, south, "region")
    with pytest.raises(Forbidden):  # the producer, an officer
        scoring.save_sheet(w["producer"], bat_trang, "region", HIGH)
    assert [q["nomination"].id for q in scoring.queue(a)] == [bat_trang.id]
    assert [q["nomination"].id for q in scoring.queue(w["south"][1])] == [south.id]

    with pytest.raises(ValidationFailed) as refused:
        scoring.save_sheet(a, bat_trang, "region", {**HIGH, "market": 21, "culture": "", "other": "mười",
                                                    "bogus": 1})
    assert refused.value.fields == {"market": scoring.OUT_OF_SCALE, "culture": scoring.MISSING,
                                    "other": scoring.NOT_A_NUMBER, "bogus": "Không có tiêu chí này trong thang điểm."}
    scoring.save_sheet(a, bat_trang, "region", LOW)
    sheet = scoring.save_sheet(a, bat_trang, "region", {**HIGH, "market": "17,0"}, "Sản phẩm đẹp")  # corrected
    assert sheet.total == 85 and sheet.scores["market"] == 17
    scoring.save_sheet(b, bat_trang, "region", LOW)
    assert scoring.own_sheet(b, bat_trang, "region")[1].total == 62
    assert scoring.own_sheet(c, bat_trang, "region")[1] is None  # not the others' sheets
    with pytest.raises(Forbidden):  # a panel member does not read the scoring before the close
        scoring.status(b, bat_trang, "region")
    seen = scoring.status(w["ministry"], bat_trang, "region")
    assert seen["open"] and seen["handed_in"] == 2 and "sheets" not in seen
    assert [p["handed_in"] for p in seen["panel"]] == [True, True, False]
    with pytest.raises(ValidationFailed) as refused:  # two sheets of three
        scoring.close(w["ministry"], bat_trang, "region")
    assert refused.value.code == "too_few_sheets"
    with pytest.raises(Forbidden):
        scoring.close(w["hni"], bat_trang, "region")
    scoring.save_sheet(c, bat_trang, "region", TOP)
    with pytest.raises(ValidationFailed) as refused:  # the sheets decide, not scores typed in by the secretariat
        programmes.decide(bat_trang, "region", {"scores": [TOP, TOP, TOP]}, w["ministry"])
    assert refused.value.code == "scored_by_sheets"

    # (85 + 62 + 90) / 3 = 79 >= 70
    assert scoring.close(w["ministry"], bat_trang, "region", "Kỳ bình chọn khu vực phía Bắc") == "region_selected"
    log = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == bat_trang.id)
                             .order_by(TransitionLog.id.desc())).first()
    assert log.action == "region_select"
    assert (log.meta["score"], log.meta["scorers"], log.meta["pass_mark"]) == (79.0, 3, 70)
    assert sorted(s["total"] for s in log.meta["sheets"]) == [62, 85, 90]
    with pytest.raises(TransitionRefused):  # read-only after the close
        scoring.save_sheet(a, bat_trang, "region", TOP)
    with pytest.raises(TransitionRefused):
        scoring.close(w["ministry"], bat_trang, "region")
    after = scoring.status(b, bat_trang, "region")  # the panel reads every sheet now
    assert sorted(s["total"] for s in after["sheets"]) == [62, 85, 90]
    assert after["outcome"] == {"passed": True, "score": 79.0, "scorers": 3, "pass_mark": 70}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 3


def test_ranking_best_first_then_the_nation_and_the_certificates(world):
    w = world
    _panel(w)
    for person in w["north"]:
        scoring.assign_scorer(w["ministry"], w["round"].id, "nation", person.id)
    first, second, south = _to_region(w), _to_region(w, name="Lụa Vạn Phúc"), _to_region(w, "HCM", "Nón lá")
    for person, sheet in zip(w["north"], (HIGH, LOW, TOP), strict=True):
        scoring.save_sheet(person, first, "region", sheet)
        scoring.save_sheet(person, second, "region", LOW)
    for person in w["south"]:
        scoring.save_sheet(person, south, "region", TOP)
    assert scoring.close(w["ministry"], first, "region") == "region_selected"
    assert scoring.close(w["ministry"], second, "region") == "region_declined"  # 62 < 70
    assert scoring.close(w["ministry"], south, "region") == "region_selected"
    ranked = scoring.ranking(w["ministry"], w["round"].id, "region")
    assert [(r["nomination"].id, r["score"], r["passed"]) for r in ranked] == \
        [(south.id, 90.0, True), (first.id, 79.0, True), (second.id, 62.0, False)]
    assert [r["nomination"].id for r in scoring.ranking(w["ministry"], w["round"].id, "region", "north")] == \
        [first.id, second.id]
    with pytest.raises(Forbidden):
        scoring.ranking(w["north"][0], w["round"].id, "region")

    programmes.perform(first, "send_to_nation", w["ministry"])
    programmes.perform(south, "stop_at_region", w["ministry"])
    for person in w["north"]:
        scoring.save_sheet(person, first, "nation", TOP)
    assert scoring.close(w["ministry"], first, "nation") == "nation_selected"

    province = certificates.issue_certificate(first, "province", w["hni"])
    region = certificates.issue_certificate(first, "region", w["ministry"])
    nation = certificates.issue_certificate(first, "nation", w["ministry"])
    with pytest.raises(TransitionRefused):  # the region did not select it
        certificates.issue_certificate(second, "region", w["ministry"])
    assert [c.level for c in certificates.valid_for_dossier(first.id, today())] == ["nation", "region", "province"]
    assert nation.product_name == "Gốm men lam Bát Tràng" and nation.holder_name == "Hợp tác xã Gốm Bát Tràng"
    assert region.number.startswith("SPTB-KV-") and province.number.startswith("SPTB-T-")
