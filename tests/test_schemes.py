"""National khuyến công schemes (issue 18 item 4, acceptance 3 through the API; services/schemes.py,
api/schemes.py, workflows/programmes/khuyen-cong-schemes): a year opened with its guidance, proposals from two
provinces and a ministry unit with budget lines, the appraisal ranked with a certified product's priority, the
approved plan's totals checked by hand, and one scheme reported, inspected, accepted and settled."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.models.certificates import Certificate
from artisan_awards.services import schemes
from artisan_awards.timeutil import today

API = "/api/v1"
DEMO, MACHINES, PRODUCTS, TRADE, TRAINING, CLUSTERS = range(6)


def _certificate(make, number: str, level: str, valid_until: date, revoked: date | None = None) -> Certificate:
    """A typical-product certificate as services/certificates issues it (its own tests cover issuing)."""
    holder = make.nomination()
    cert = Certificate(number=number, programme_id="typical-products", nomination_id=holder.id, level=level,
                       holder_name="HTX Gốm Bát Tràng", product_name="Bình gốm men lam", product_group="Thủ công",
                       province_code="HNI", issued_on=today() - timedelta(days=400), valid_until=valid_until,
                       revoked_on=revoked)
    db.session.add(cert)
    db.session.commit()
    return cert


def _proposal(area: str, province: str, unit: str, lines: list[tuple[str, object, object]], **fields) -> dict:
    kind = fields.pop("kind", "Trung tâm khuyến công tỉnh")
    return {"province_code": province, "title": fields.pop("title", f"Đề án của {unit}"), "content_area": area,
            "proposer_kind": kind, "proposer_name": unit, "beneficiaries": "Các cơ sở công nghiệp nông thôn",
            "beneficiary_count": 12, **fields,
            "budget_lines": [{"item": i, "state_amount": s, "cofinancing": c} for i, s, c in lines]}


@pytest.fixture
def year(api, people):
    r = api.post(f"{API}/scheme-years", people.ministry, json={
        "plan_year": 2027, "guidance_number": "400/CTĐP-QLKC", "guidance_date": "2026-05-15",
        "guidance_text": "Hướng dẫn xây dựng kế hoạch khuyến công quốc gia năm 2027.",
        "intake_opens": (today() - timedelta(days=5)).isoformat(),
        "intake_closes": (today() + timedelta(days=30)).isoformat()})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _move(api, user, scheme_id: int, action: str, comment: str | None = None):
    """A plain move through the programmes' generic action path (api/programmes.py)."""
    r = api.post(f"{API}/programme-dossiers/{scheme_id}/actions/{action}", user,
                 json={"comment": comment} if comment else {})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["state"]


def test_opening_a_year_takes_the_default_content_areas_and_refuses_bad_input(api, people, year, app):
    assert year["content_areas"] == app.config["SCHEME_CONTENT_AREAS"] and len(year["content_areas"]) == 6
    assert year["programme_id"] == "khuyen-cong-schemes" and year["programme_version"] == "2024"
    assert (year["guidance_number"], year["guidance_date"]) == ("400/CTĐP-QLKC", "2026-05-15")
    again = api.post(f"{API}/scheme-years", people.ministry, json={
        "plan_year": 2027, "guidance_number": "1/CTĐP", "guidance_date": "2026-05-32",
        "intake_opens": "2026-06-01", "intake_closes": "2026-05-01"})
    assert again.status_code == 422
    assert set(again.get_json()["error"]["fields"]) == {"plan_year", "guidance_date", "intake_closes"}
    assert api.post(f"{API}/scheme-years", people.applicant, json={}).status_code == 403
    assert api.post(f"{API}/scheme-years", json={}).status_code == 401
    # the year's own list, edited (an area no scheme uses can go)
    edited = api.patch(f"{API}/scheme-years/{year['id']}", people.ministry, json={
        "guidance_number": "400/CTĐP-QLKC", "guidance_date": "2026-05-15",
        "content_areas": [*year["content_areas"][:5], "Chuyển đổi số cho cơ sở công nghiệp nông thôn"]})
    assert edited.status_code == 200 and edited.get_json()["content_areas"][5].startswith("Chuyển đổi số")
    assert api.get(f"{API}/scheme-years/999999", people.ministry).status_code == 404


def _events(kind: str) -> list:
    from artisan_awards.models import AuditEvent

    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)))


def test_opening_and_editing_a_year_are_in_the_administration_log(api, client, auth, people, year):
    opened = _events("scheme_year_opened")
    assert len(opened) == 1
    event = opened[0]
    assert (event.actor_id, event.target_type, event.target_id) == (people.ministry.id, "round", year["id"])
    assert event.target_label == "Kế hoạch khuyến công quốc gia năm 2027"
    assert event.details["plan_year"] == 2027 and event.details["programme_id"] == "khuyen-cong-schemes"
    assert event.details["guidance_number"] == "400/CTĐP-QLKC" and event.details["guidance_date"] == "2026-05-15"
    assert len(event.details["content_areas"]) == 6 and event.seq is not None  # in the keyed chain
    # a refused opening logs nothing
    refused = api.post(f"{API}/scheme-years", people.ministry, json={"plan_year": 2027})
    assert refused.status_code == 422 and len(_events("scheme_year_opened")) == 1
    edited = api.patch(f"{API}/scheme-years/{year['id']}", people.ministry, json={
        "guidance_number": "401/CTĐP-QLKC", "guidance_date": "2026-05-15",
        "guidance_text": "Hướng dẫn xây dựng kế hoạch khuyến công quốc gia năm 2027.",
        "content_areas": year["content_areas"]})
    assert edited.status_code == 200, edited.get_json()
    changed = _events("scheme_year_changed")
    assert len(changed) == 1 and changed[0].details["changes"] == {
        "guidance_number": ["400/CTĐP-QLKC", "401/CTĐP-QLKC"]}
    auth.login(people.admin.email)
    page = client.get("/admin/audit?area=round").get_data(as_text=True)
    rows = [row for row in page.split("<tr") if "Kế hoạch khuyến công quốc gia năm 2027" in row]
    assert any("Mở năm kế hoạch khuyến công" in row for row in rows)
    assert any("Sửa hướng dẫn năm kế hoạch khuyến công" in row for row in rows)


@pytest.mark.realdb  # the rollback of a failed opening, seen by a fresh query
def test_a_year_is_not_opened_when_its_log_event_cannot_be_written(api, people, monkeypatch):
    from artisan_awards.models import Round
    from artisan_awards.models.schemes import SchemeYear
    from artisan_awards.services import admin_events

    def broken(*args, **kwargs):
        raise RuntimeError("the log is unavailable")

    monkeypatch.setattr(admin_events, "record", broken)
    rounds_before = db.session.scalar(sa.select(sa.func.count()).select_from(Round))
    with pytest.raises(RuntimeError):
        schemes.open_year(people.ministry, {
            "plan_year": 2031, "guidance_number": "9/CTĐP", "guidance_date": "2030-05-15",
            "intake_opens": "2030-06-01", "intake_closes": "2030-07-01"})
    db.session.expire_all()
    assert db.session.scalar(sa.select(SchemeYear).where(SchemeYear.plan_year == 2031)) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Round)) == rounds_before


def test_a_proposal_computes_its_totals_from_its_budget_lines(api, people, year):
    area = year["content_areas"][DEMO]
    r = api.post(f"{API}/scheme-years/{year['id']}/schemes", people.applicant, json=_proposal(
        area, "HNI", "Trung tâm Khuyến công Hà Nội",
        [("Thiết bị trình diễn", "800.000.000", 400_000_000), ("Đào tạo vận hành", 200_000_000, 0)]))
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["state"] == "draft"
    assert body["totals"] == {"state_amount": 1_000_000_000, "cofinancing": 400_000_000, "total": 1_400_000_000}
    assert [x["total"] for x in body["budget_lines"]] == [1_200_000_000, 200_000_000]
    assert body["fields"]["state_requested"] == 1_000_000_000 and body["fields"]["cofinancing"] == 400_000_000
    # bad input: a clear message per field, never a 500
    bad = api.post(f"{API}/scheme-years/{year['id']}/schemes", people.applicant, json=_proposal(
        "Nội dung không có trong hướng dẫn", "XXX", "Đơn vị",
        [("", "nhiều", -5), ("Hội chợ", 0, 0)]))
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert {"content_area", "province_code", "lines.1.item", "lines.1.state_amount", "lines.2.state_amount"} \
        <= set(fields)
    assert "Nội dung khuyến công không có trong danh sách" in fields["content_area"]
    no_lines = _proposal(area, "HNI", "Đơn vị", [])
    assert api.post(f"{API}/scheme-years/{year['id']}/schemes", people.applicant, json=no_lines).status_code == 422
    assert api.post(f"{API}/scheme-years/{year['id']}/schemes", people.ministry,
                    json=_proposal(area, "HNI", "Đơn vị", [("a", 1, 0)])).status_code == 403
    # the owner sees it; another applicant, and staff while it is a draft, do not
    sid = body["id"]
    assert api.get(f"{API}/schemes/{sid}", people.applicant).status_code == 200
    assert api.get(f"{API}/schemes/{sid}", people.other_applicant).status_code == 404
    assert api.get(f"{API}/schemes/{sid}", people.ministry).status_code == 404
    # the owner edits the draft: the totals follow the lines
    edit = api.client.put(f"{API}/schemes/{sid}", headers=api.headers(people.applicant), json=_proposal(
        area, "HNI", "Trung tâm Khuyến công Hà Nội", [("Thiết bị trình diễn", 700_000_000, 100_000_000)]))
    assert edit.status_code == 200 and edit.get_json()["totals"]["total"] == 800_000_000
    assert len(db.session.scalars(sa.select(schemes.SchemeBudgetLine)
                                  .where(schemes.SchemeBudgetLine.nomination_id == sid)).all()) == 1


def test_a_scheme_year_from_proposals_to_settlement(api, people, make, year, app):
    """Acceptance 3 through the API: two provinces and one ministry unit propose; the department appraises;
    the certified product's scheme ranks first among equal scores; the ministry's approval makes the plan,
    whose totals are checked by hand; one scheme is reported, inspected, accepted and settled."""
    areas = year["content_areas"]
    centre_hni, centre_hpg, unit = people.applicant, people.other_applicant, make.user("applicant")
    _certificate(make, "SPTB-QG-2025-000007", "nation", today() + timedelta(days=300))
    _certificate(make, "SPTB-KV-2024-000003", "region", today() - timedelta(days=1))  # expired yesterday
    url = f"{API}/scheme-years/{year['id']}/schemes"

    def propose(user, body):
        r = api.post(url, user, json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    hpg = propose(centre_hpg, _proposal(areas[DEMO], "HPG", "Trung tâm Khuyến công Hải Phòng",
                                        [("Dây chuyền chế biến", "1.000.000.000", "500.000.000")],
                                        product_certificate="SPTB-KV-2024-000003"))
    hni = propose(centre_hni, _proposal(areas[DEMO], "HNI", "Trung tâm Khuyến công Hà Nội",
                                        [("Lò nung tiết kiệm năng lượng", 800_000_000, 400_000_000),
                                         ("Đào tạo vận hành", 200_000_000, 0)],
                                        product_certificate="sptb-qg-2025-000007"))
    dng = propose(unit, _proposal(areas[TRADE], "DNG", "Trung tâm Khuyến công và Tư vấn phát triển công nghiệp II",
                                  [("Hội chợ hàng công nghiệp nông thôn tiêu biểu khu vực miền Trung",
                                    600_000_000, 300_000_000)], kind="Đơn vị thuộc Bộ"))
    weak = propose(centre_hni, _proposal(areas[PRODUCTS], "HNI", "Trung tâm Khuyến công Hà Nội",
                                         [("Thiết kế mẫu", 300_000_000, 100_000_000)]))
    for sid, owner in ((hpg, centre_hpg), (hni, centre_hni), (dng, unit), (weak, centre_hni)):
        assert _move(api, owner, sid, "submit") == "submitted"
        assert _move(api, people.ministry, sid, "accept") == "appraisal"

    def appraise(sid, score, amount, status=200):
        r = api.post(f"{API}/schemes/{sid}/appraisal", people.ministry,
                     json={"score": score, "amount": amount, "comment": "Phù hợp định hướng của năm."})
        assert r.status_code == status, r.get_json()
        return r.get_json()

    refused = appraise(hni, 85, 1_000_000_001, status=422)  # above the state share asked for
    assert refused["error"]["fields"] == {"amount": "Số tiền thẩm định không được vượt quá số tiền đề nghị."}
    assert appraise(hni, 101, 1, status=422)["error"]["fields"] == {"score": "Điểm thẩm định nằm ngoài thang điểm."}
    assert api.post(f"{API}/schemes/{hni}/appraisal", centre_hni,
                    json={"score": 1, "amount": 1, "comment": "x"}).status_code == 403
    assert appraise(hpg, 85, "1.000.000.000")["state"] == "appraised"
    # the plan cannot be approved while schemes await their appraisal
    early = api.post(f"{API}/scheme-years/{year['id']}/plan/approval", people.ministry,
                     json={"decision_number": "1/QĐ-BCT", "decision_date": today().isoformat()})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "appraisal_pending"
    assert appraise(hni, 85, 900_000_000)["appraisal"] == {"score": 85.0, "amount": 900_000_000}
    assert appraise(dng, 90, 500_000_000)["state"] == "appraised"
    assert appraise(weak, 40, 0)["state"] == "not_funded"

    ranked = api.get(f"{API}/scheme-years/{year['id']}/appraisal", people.ministry).get_json()
    assert [(r["place"], r["id"], r["score"], r["priority"]) for r in ranked] == [
        (1, dng, 90.0, 0), (2, hni, 85.0, 2), (3, hpg, 85.0, 0), (4, weak, 40.0, 0)]
    assert hni > hpg  # filed later: without its certificate it would come after the Hải Phòng scheme
    first = ranked[1]
    assert (first["certificate_number"], first["certificate_level"]) == ("SPTB-QG-2025-000007", "nation")
    assert first["valid_until"] == (today() + timedelta(days=300)).isoformat()
    assert "cấp quốc gia số SPTB-QG-2025-000007" in first["explanation"] and "được ưu tiên" in first["explanation"]
    assert "không còn hiệu lực" in ranked[2]["explanation"]  # the expired regional certificate gives none
    assert api.get(f"{API}/scheme-years/{year['id']}/appraisal", centre_hni).status_code == 403
    # before the approval the plan is the department's working list
    assert api.get(f"{API}/scheme-years/{year['id']}/plan", centre_hni).status_code == 404

    approved = api.post(f"{API}/scheme-years/{year['id']}/plan/approval", people.ministry,
                        json={"decision_number": "2285/QĐ-BCT", "decision_date": today().isoformat()})
    assert approved.status_code == 200, approved.get_json()
    plan = api.get(f"{API}/scheme-years/{year['id']}/plan", centre_hni).get_json()
    # by hand: 900 000 000 (Hà Nội) + 1 000 000 000 (Hải Phòng) + 500 000 000 (Đà Nẵng); the weak one not funded
    assert plan["approved"] and plan["total_approved"] == 2_400_000_000 and plan["schemes"] == 3
    assert plan["total_cofinancing"] == 400_000_000 + 500_000_000 + 300_000_000
    assert (plan["localities"], plan["units"]) == (3, 3)
    assert plan["by_locality"] == [{"name": "Hải Phòng", "schemes": 1, "approved": 1_000_000_000},
                                   {"name": "Hà Nội", "schemes": 1, "approved": 900_000_000},
                                   {"name": "Đà Nẵng", "schemes": 1, "approved": 500_000_000}]
    assert plan["by_content_area"] == [{"name": areas[DEMO], "schemes": 2, "approved": 1_900_000_000},
                                       {"name": areas[TRADE], "schemes": 1, "approved": 500_000_000}]
    assert {u["name"]: u["approved"] for u in plan["by_unit"]} == {
        "Trung tâm Khuyến công Hải Phòng": 1_000_000_000, "Trung tâm Khuyến công Hà Nội": 900_000_000,
        "Trung tâm Khuyến công và Tư vấn phát triển công nghiệp II": 500_000_000}
    assert {r["id"]: r["state"] for r in plan["rows"]} == {hpg: "approved", hni: "approved", dng: "approved"}
    again = api.post(f"{API}/scheme-years/{year['id']}/plan/approval", people.ministry,
                     json={"decision_number": "2285/QĐ-BCT", "decision_date": today().isoformat()})
    assert again.status_code == 409
    csv = api.get(f"{API}/scheme-years/{year['id']}/plan?format=csv", people.ministry)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert "Trung tâm Khuyến công Hà Nội" in text and "2400000000" in text.replace(".", "")
    assert api.get(f"{API}/scheme-years/{year['id']}/plan?format=doc", people.ministry).status_code == 422

    # monitoring of the Hà Nội scheme
    def record(user, body, status=201):
        r = api.post(f"{API}/schemes/{hni}/records", user, json=body)
        assert r.status_code == status, r.get_json()
        return r.get_json()

    assert record(people.ministry, {"kind": "report", "on_date": today().isoformat(), "text": "x"}, 403)
    record(centre_hni, {"kind": "report", "on_date": today().isoformat(), "period": "Quý II/2027",
                        "progress_percent": 60, "text": "Đã lắp đặt lò nung, đang đào tạo."})
    assert record(centre_hni, {"kind": "report", "on_date": today().isoformat(), "period": "Quý III",
                               "progress_percent": 160, "text": "x"}, 422)["error"]["fields"] == {
        "progress_percent": "Tiến độ từ 0 đến 100 %."}
    record(people.ministry, {"kind": "inspection", "on_date": today().isoformat(),
                             "team": "Đoàn kiểm tra của Cục Công Thương địa phương",
                             "text": "Thiết bị đúng chủng loại; hồ sơ chứng từ đầy đủ."})
    assert record(people.ministry, {"kind": "settlement", "on_date": today().isoformat(), "reference": "QT-1",
                                    "amount": 800_000_000, "text": "x"}, 409)  # not accepted yet
    record(people.ministry, {"kind": "acceptance", "on_date": today().isoformat(), "reference": "BB-12/NT",
                             "text": "Đề án đạt mục tiêu."})
    over = record(people.ministry, {"kind": "settlement", "on_date": today().isoformat(), "reference": "QT-1",
                                    "amount": "900.000.001", "text": "Quyết toán."}, 422)
    assert over["error"]["fields"] == {"amount": "Số tiền quyết toán không được vượt quá kinh phí được phê duyệt."}
    assert record(people.ministry, {"kind": "settlement", "on_date": (today() + timedelta(days=1)).isoformat(),
                                    "reference": "QT-1", "amount": 1, "text": "x"}, 422)
    record(people.ministry, {"kind": "settlement", "on_date": today().isoformat(), "reference": "QĐ-QT-7",
                             "amount": "850.000.000", "text": "Quyết toán theo chứng từ."})
    done = api.get(f"{API}/schemes/{hni}", centre_hni).get_json()
    assert done["state"] == "settled" and done["state_label"] == "Đã quyết toán"
    assert [r["kind"] for r in done["records"]] == ["report", "inspection", "acceptance", "settlement"]
    assert done["records"][-1]["amount"] == 850_000_000
    log = db.session.execute(sa.select(TransitionLog.action, TransitionLog.to_state)
                             .where(TransitionLog.nomination_id == hni).order_by(TransitionLog.id)).all()
    assert [tuple(x) for x in log] == [
        ("submit", "submitted"), ("accept", "appraisal"), ("fund", "appraised"), ("approve_plan", "approved"),
        ("report_progress", "approved"), ("inspect", "approved"), ("accept_work", "completed"),
        ("settle", "settled")]
    plan = api.get(f"{API}/scheme-years/{year['id']}/plan", people.ministry).get_json()
    assert {r["id"]: r["settled"] for r in plan["rows"]} == {hpg: None, hni: 850_000_000, dng: None}
    # the province's secretariat follows the schemes located in its province, not another's
    assert api.get(f"{API}/schemes/{hni}", people.officer).status_code == 200
    assert api.get(f"{API}/schemes/{hpg}", people.officer).status_code == 404


@pytest.mark.parametrize("mode, order", [
    ("tiebreak", ["plain_high", "certified_mid", "plain_mid"]),
    ("first", ["certified_mid", "plain_high", "plain_mid"]),
    ("bonus", ["certified_mid", "plain_high", "plain_mid"]),  # 80 + 10 > 85
])
def test_the_priority_setting_decides_how_a_certificate_ranks(app, api, people, make, year, mode, order):
    app.config["SCHEME_PRIORITY_RANKING"] = mode
    _certificate(make, "SPTB-QG-2025-000099", "nation", today() + timedelta(days=30))
    area = year["content_areas"][MACHINES]
    ids = {}
    for name, score, cert in (("plain_high", 85, None), ("certified_mid", 80, "SPTB-QG-2025-000099"),
                              ("plain_mid", 80, None)):
        body = _proposal(area, "HNI", "Trung tâm Khuyến công Hà Nội", [("Máy", 100, 0)], title=name,
                         **({"product_certificate": cert} if cert else {}))
        sid = api.post(f"{API}/scheme-years/{year['id']}/schemes", people.applicant, json=body).get_json()["id"]
        _move(api, people.applicant, sid, "submit")
        _move(api, people.ministry, sid, "accept")
        assert api.post(f"{API}/schemes/{sid}/appraisal", people.ministry,
                        json={"score": score, "amount": 100, "comment": "Đạt."}).status_code == 200
        ids[sid] = name
    ranked = api.get(f"{API}/scheme-years/{year['id']}/appraisal", people.ministry).get_json()
    assert [ids[r["id"]] for r in ranked] == order


def test_a_certificate_counts_only_while_valid_and_at_a_level_the_policy_names(app, make, people, year):
    from artisan_awards.services import certificates

    _certificate(make, "SPTB-T-2025-000001", "province", today() + timedelta(days=30))
    _certificate(make, "SPTB-KV-2025-000002", "region", today(), revoked=None)
    _certificate(make, "SPTB-KV-2025-000004", "region", today() + timedelta(days=30), revoked=today())
    n = Nomination(programme_data={"product_certificate": "SPTB-T-2025-000001"})
    assert schemes.priority(n).rank == 0 and schemes.priority(n).level == "province"
    n.programme_data = {"product_certificate": "SPTB-KV-2025-000002"}
    assert schemes.priority(n).rank == 1  # its last valid day
    assert schemes.priority(n, today() + timedelta(days=1)).rank == 0
    n.programme_data = {"product_certificate": "SPTB-KV-2025-000004"}
    assert schemes.priority(n).rank == 0  # revoked
    n.programme_data = {}
    assert schemes.priority(n).rank == 0
    assert certificates.valid_certificate("SPTB-KV-2025-000002", today()) is not None


def test_the_generic_filing_refuses_a_scheme_without_its_budget_lines(api, people, year):
    """The definition names the application's proposal form: a flat field list cannot hold the budget lines."""
    r = api.post(f"{API}/programmes/khuyen-cong-schemes/dossiers", people.applicant, json={
        "round_id": year["id"], "province_code": "HNI", "fields": {
            "title": "Đề án", "content_area": year["content_areas"][0], "proposer_kind": "Đơn vị thuộc Bộ",
            "proposer_name": "Viện", "beneficiaries": "Cơ sở", "state_requested": 5_000_000_000}})
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "wrong_form"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Nomination)
                             .where(Nomination.programme_id == "khuyen-cong-schemes")) == 0


# -- the pages: each form's answers (schemes/routes.py, _form_page and _post_back) ------------------------

def _flashed(client, response) -> str:
    """The page a 303 leads to, with the messages flashed on the way."""
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_scheme_pages_place_refusals_by_their_fields_and_confirm_what_they_saved(client, api, auth, people, year):
    rid = year["id"]
    auth.login(people.ministry.email)
    opens, closes = today() - timedelta(days=1), today() + timedelta(days=20)
    good_year = {"plan_year": "2028", "guidance_number": "12/CTĐP", "guidance_date": "2027-05-15",
                 "content_areas": "Đào tạo nghề\nTrình diễn kỹ thuật", "intake_opens": opens.isoformat(),
                 "intake_closes": closes.isoformat()}
    # the service refuses (closes before opens): 422, the sentence by the field, the summary at the top
    r = client.post("/schemes/years/new", data={**good_year, "intake_closes": (opens - timedelta(days=2)).isoformat()})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="error-summary"' in html and 'id="intake_closes-error"' in html
    # the form's own check (a required field left empty): 422 too
    r = client.post("/schemes/years/new", data={**good_year, "guidance_number": ""})
    assert r.status_code == 422 and 'id="guidance_number-error"' in r.get_data(as_text=True)
    assert client.get("/schemes/years/new").status_code == 200
    page = _flashed(client, client.post("/schemes/years/new", data=good_year))
    assert "Đã mở năm kế hoạch 2028." in page
    r = client.post(f"/schemes/years/{rid}/edit", data={"guidance_number": "", "guidance_date": "2026-05-15",
                                                        "content_areas": "Đào tạo nghề"})
    assert r.status_code == 422 and 'id="guidance_number-error"' in r.get_data(as_text=True)
    page = _flashed(client, client.post(f"/schemes/years/{rid}/edit", data={
        "guidance_number": "400/CTĐP-QLKC", "guidance_date": "2026-05-15",
        "content_areas": "\n".join(year["content_areas"])}))
    assert "Đã lưu hướng dẫn của năm kế hoạch." in page
    # nothing appraised: the plan's approval is refused with the reason, back on the plan's page
    page = _flashed(client, client.post(f"/schemes/years/{rid}/plan/approval",
                                        data={"decision_number": "1/QĐ", "decision_date": today().isoformat()}))
    assert "Chưa có đề án nào đã thẩm định để phê duyệt." in page
    page = _flashed(client, client.post(f"/schemes/years/{rid}/plan/approval", data={"decision_number": ""}))
    assert "Số quyết định phê duyệt kế hoạch: Cần điền thông tin này." in page
    auth.logout()

    auth.login(people.applicant.email)
    proposal = {"title": "Trình diễn lò nung gốm tiết kiệm năng lượng", "content_area": year["content_areas"][1],
                "province_code": "HNI", "proposer_kind": "Trung tâm khuyến công tỉnh",
                "proposer_name": "Trung tâm Khuyến công Hà Nội", "beneficiaries": "Các cơ sở gốm",
                "lines-0-item": "Lò nung", "lines-0-state_amount": "500.000.000", "lines-0-cofinancing": "0"}
    r = client.post(f"/schemes/years/{rid}/propose", data={**proposal, "lines-0-state_amount": "năm trăm"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="error-summary"' in html and 'id="lines-0-state_amount-error"' in html
    r = client.post(f"/schemes/years/{rid}/propose", data=proposal)
    assert r.status_code == 303
    scheme_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert "Đã lưu đề án (bản nháp)." in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"/schemes/{scheme_id}/edit", data={**proposal, "title": ""})
    assert r.status_code == 422 and 'id="title-error"' in r.get_data(as_text=True)
    page = _flashed(client, client.post(f"/schemes/{scheme_id}/edit", data={**proposal, "title": "Lò nung mới"}))
    assert "Đã lưu đề án." in page and "Lò nung mới" in page
    # the unit's own schemes, on the list of years and on the year's page alike
    for url in ("/schemes/", f"/schemes/years/{rid}"):
        html = client.get(url).get_data(as_text=True)
        own = html.split('id="own-schemes"', 1)[1].split("</table>", 1)[0]
        assert f'href="/schemes/{scheme_id}"' in own and "Lò nung mới" in own
    auth.logout()

    # the appraisal's refusals come back to the scheme's page, named; a good one is confirmed there
    _move(api, people.applicant, scheme_id, "submit")
    _move(api, people.ministry, scheme_id, "accept")
    auth.login(people.ministry.email)
    page = _flashed(client, client.post(f"/schemes/{scheme_id}/appraisal", data={
        "appraisal-score": "80", "appraisal-amount": "nhiều", "appraisal-comment": "Tốt."}))
    assert '<p class="flash flash-error">Số tiền là một số nguyên đồng.</p>' in page
    assert "Đã ghi kết quả thẩm định." not in page
    page = _flashed(client, client.post(f"/schemes/{scheme_id}/appraisal", data={"appraisal-score": "80"}))
    assert "Nhận xét thẩm định: Cần điền thông tin này." in page
    page = _flashed(client, client.post(f"/schemes/{scheme_id}/appraisal", data={
        "appraisal-score": "80", "appraisal-amount": "400.000.000", "appraisal-comment": "Phù hợp."}))
    assert "Đã ghi kết quả thẩm định." in page
    assert db.session.get(Nomination, scheme_id).state == "appraised"
