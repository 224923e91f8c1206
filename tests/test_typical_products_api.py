"""Issue 18, acceptance 2, through the API: a product selection round.  Products filed in two provinces of
two regions (Hà Nội: North, Hồ Chí Minh City: South), selected at province, scored by three regional
scorers each, one certified at region and nation; the certificates read back from their PDFs with their
validity; the public register shows them and drops an expired one (and a revoked one)."""

import io
import unicodedata
from datetime import timedelta

import pytest
from pypdf import PdfReader

from artisan_awards.formatting import vn_date
from artisan_awards.services import programmes
from artisan_awards.timeutil import today

API = "/api/v1"
PASS = {"members": 7, "present": 7, "yes": 6}
HIGH = {"market": 17, "production": 12.75, "economy": 8.5, "technique": 8.5, "society": 4.25,
        "environment": 4.25, "culture": 12.75, "aesthetics": 8.5, "other": 8.5}  # 85
LOW = {"market": 12, "production": 9, "economy": 6, "technique": 6, "society": 3, "environment": 3,
       "culture": 10, "aesthetics": 7, "other": 6}  # 62
TOP = {"market": 18, "production": 14, "economy": 9, "technique": 9, "society": 5, "environment": 4,
       "culture": 14, "aesthetics": 9, "other": 8}  # 90


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text.replace("\u200b", "")).split())


def values(name, producer, group="Thủ công mỹ nghệ"):
    return {"product_name": name, "product_group": group, "producer_name": producer,
            "producer_kind": "Hợp tác xã", "producer_address": "Thôn Giang Cao", "commune": "Bát Tràng",
            "description": "Sản phẩm làm thủ công.", "annual_output": "5000", "annual_revenue": "1.200.000.000"}


@pytest.fixture
def world(make):
    w = {
        "producer": make.user("applicant", full_name="Lê Văn Thợ"),
        "producer2": make.user("applicant", full_name="Trần Thị Nón"),
        "hni": make.user("province_officer", "HNI"), "hcm": make.user("province_officer", "HCM"),
        "ministry": make.user("ministry_officer"),
        "north": [make.user("ministry_council_member", full_name=f"Chuyên gia Bắc {i}") for i in range(3)],
        "south": [make.user("ministry_council_member", full_name=f"Chuyên gia Nam {i}") for i in range(3)],
        "nation": [make.user("ministry_council_member", full_name=f"Chuyên gia Quốc gia {i}") for i in range(3)],
    }
    w["round"] = make.round(programme_id="typical-products", intake_opens=today() - timedelta(days=3))
    return w


def _selected_at_province(w, owner, province, officer, name, producer):
    n = programmes.create_dossier(w[owner], w["round"].id, province, values(name, producer))
    programmes.perform(n, "submit", w[owner])
    programmes.perform(n, "commune_select", w[officer])
    assert programmes.decide(n, "province", PASS, w[officer]) == "province_selected"
    assert programmes.perform(n, "send_to_region", w[officer]) == "region_scoring"
    return n


def _put_sheet(api, user, n, level, scores, comment=""):
    return api.client.put(f"{API}/programme-dossiers/{n.id}/levels/{level}/sheet", headers=api.headers(user),
                          json={"scores": scores, "comment": comment})


def test_a_product_selection_round_through_the_api(api, world):
    w = world
    rid = w["round"].id
    bat_trang = _selected_at_province(w, "producer", "HNI", "hni", "Gốm men lam Bát Tràng", "Hợp tác xã Gốm Bát Tràng")
    van_phuc = _selected_at_province(w, "producer", "HNI", "hni", "Lụa Vạn Phúc", "Hộ kinh doanh Lụa Hà Đông")
    non_la = _selected_at_province(w, "producer2", "HCM", "hcm", "Nón lá Gò Vấp", "Cơ sở Nón lá Bà Ba")

    # the ministry's secretariat makes the regional panels: three scorers for the North, three for the South
    scorers = f"{API}/programme-rounds/{rid}/levels/region/scorers"
    assert api.post(scorers, w["hni"], json={"user_id": w["north"][0].id, "region": "north"}).status_code == 403
    r = api.post(scorers, w["ministry"], json={"user_id": w["hni"].id, "region": "north"})
    assert r.status_code == 422 and "user_id" in r.get_json()["error"]["fields"]
    r = api.post(scorers, w["ministry"], json={"user_id": w["north"][0].id, "region": "west"})
    assert r.status_code == 422 and "region" in r.get_json()["error"]["fields"]
    for region in ("north", "south"):
        for person in w[region]:
            r = api.post(scorers, w["ministry"], json={"user_id": person.id, "region": region})
            assert r.status_code == 201, r.get_json()
    assert api.post(scorers, w["ministry"], json={"user_id": w["north"][0].id, "region": "north"}).status_code == 409

    # each scorer's queue holds his region's products only
    queue = api.get(f"{API}/scoring", w["north"][0]).get_json()["items"]
    assert sorted(i["nomination_id"] for i in queue) == sorted([bat_trang.id, van_phuc.id])
    assert [i["nomination_id"] for i in api.get(f"{API}/scoring", w["south"][0]).get_json()["items"]] == [non_la.id]

    # sheets: bad points are refused per criterion; a southern scorer cannot score a northern product
    r = _put_sheet(api, w["north"][0], bat_trang, "region", {**HIGH, "market": 25})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"market": "Điểm nằm ngoài thang điểm của tiêu chí."}
    assert _put_sheet(api, w["south"][0], bat_trang, "region", HIGH).status_code == 403
    assert api.get(f"{API}/programme-dossiers/{bat_trang.id}/levels/region/sheet", w["south"][0]).status_code == 403
    for person, sheet in zip(w["north"], (HIGH, LOW, TOP), strict=True):
        assert _put_sheet(api, person, bat_trang, "region", sheet).status_code == 200
        assert _put_sheet(api, person, van_phuc, "region", LOW).status_code == 200
    for person in w["south"]:
        assert _put_sheet(api, person, non_la, "region", TOP).status_code == 200
    own = api.get(f"{API}/programme-dossiers/{bat_trang.id}/levels/region/sheet", w["north"][1]).get_json()
    assert own["total"] == 62 and own["scores"]["market"] == 12 and own["open"] is True
    assert len(own["criteria"]) == 9
    # before the close a scorer sees only his own; the secretariat who handed in, not the points
    assert api.get(f"{API}/programme-dossiers/{bat_trang.id}/levels/region/scoring", w["north"][1]).status_code == 403
    seen = api.get(f"{API}/programme-dossiers/{bat_trang.id}/levels/region/scoring", w["ministry"]).get_json()
    assert seen["handed_in"] == 3 and "sheets" not in seen and seen["region"] == "north"

    close = f"{API}/programme-dossiers/{{}}/levels/region/scoring/close"
    assert api.post(close.format(bat_trang.id), w["hni"]).status_code == 403
    r = api.post(close.format(bat_trang.id), w["ministry"], json={"comment": "Bình chọn khu vực phía Bắc"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["state"] == "region_selected" and body["outcome"]["score"] == 79.0  # (85 + 62 + 90) / 3
    assert sorted(s["total"] for s in body["sheets"]) == [62, 85, 90]
    assert api.post(close.format(van_phuc.id), w["ministry"]).get_json()["state"] == "region_declined"  # 62 < 70
    assert api.post(close.format(non_la.id), w["ministry"]).get_json()["state"] == "region_selected"
    assert _put_sheet(api, w["north"][0], bat_trang, "region", TOP).status_code == 409  # closed: read-only
    ranked = api.get(f"{API}/programme-rounds/{rid}/levels/region/ranking", w["ministry"]).get_json()["items"]
    assert [(i["nomination_id"], i["score"], i["passed"]) for i in ranked] == [
        (non_la.id, 90.0, True), (bat_trang.id, 79.0, True), (van_phuc.id, 62.0, False)]

    # the best northern product goes to the nation, scored again by the national panel
    assert programmes.perform(bat_trang, "send_to_nation", w["ministry"]) == "nation_scoring"
    assert programmes.perform(non_la, "stop_at_region", w["ministry"]) == "region_final"
    for person in w["nation"]:
        api.post(f"{API}/programme-rounds/{rid}/levels/nation/scorers", w["ministry"], json={"user_id": person.id})
        assert _put_sheet(api, person, bat_trang, "nation", TOP).status_code == 200
    r = api.post(f"{API}/programme-dossiers/{bat_trang.id}/levels/nation/scoring/close", w["ministry"])
    assert r.get_json()["state"] == "nation_selected"

    # certificates: each level's secretariat issues its own
    issue = f"{API}/programme-dossiers/{{}}/certificates"
    assert api.post(issue.format(bat_trang.id), w["hcm"], json={"level": "province"}).status_code == 403
    r = api.post(issue.format(van_phuc.id), w["ministry"], json={"level": "region"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_selected"
    r = api.post(issue.format(bat_trang.id), w["hni"], json={"level": "province", "issued_on": "2030-01-01"})
    assert r.status_code == 422 and "issued_on" in r.get_json()["error"]["fields"]
    province = api.post(issue.format(bat_trang.id), w["hni"], json={"level": "province"}).get_json()
    region = api.post(issue.format(bat_trang.id), w["ministry"], json={"level": "region"}).get_json()
    nation = api.post(issue.format(bat_trang.id), w["ministry"], json={"level": "nation", "number": "05/GCN-BCT"})
    assert nation.status_code == 201
    nation = nation.get_json()
    assert nation["number"] == "05/GCN-BCT" and nation["valid"] is True
    south_region = api.post(issue.format(non_la.id), w["ministry"], json={"level": "region"}).get_json()
    # an old provincial certificate of the southern product: expired
    expired = api.post(issue.format(non_la.id), w["hcm"], json={
        "level": "province", "issued_on": (today() - timedelta(days=4 * 366)).isoformat()}).get_json()
    assert expired["valid"] is False
    mine = api.get(issue.format(bat_trang.id), w["producer"]).get_json()["items"]
    assert [c["level"] for c in mine] == ["province", "region", "nation"]
    assert api.get(issue.format(bat_trang.id), w["producer2"]).status_code == 404

    # the PDFs say what the register says: number, product, holder, level, validity
    for cert, level_words in ((region, "cấp khu vực"), (nation, "cấp quốc gia")):
        r = api.get(f"{API}/certificates/{cert['id']}.pdf")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        text = pdf_text(r.data)
        assert cert["number"] in text and "Gốm men lam Bát Tràng" in text and "Hợp tác xã Gốm Bát Tràng" in text
        assert f"Sản phẩm công nghiệp nông thôn tiêu biểu {level_words}" in text
        valid_until = vn_date(today().replace(year=today().year + 3) - timedelta(days=1))
        assert f"Có giá trị đến hết ngày: {valid_until}" in text, text
        assert f"Ngày cấp: {vn_date(today())}" in text
    assert "khu vực miền Bắc" in pdf_text(api.get(f"{API}/certificates/{region['id']}.pdf").data)
    assert api.get(f"{API}/certificates/999999.pdf").status_code == 404

    # the public register: the valid ones, highest level first (then by province code: HCM, HNI); the
    # expired one is not there
    listed = api.get(f"{API}/certificates").get_json()["items"]
    assert [c["number"] for c in listed] == [nation["number"], south_region["number"], region["number"],
                                             province["number"]]
    assert expired["number"] not in {c["number"] for c in listed}
    past = (today() - timedelta(days=4 * 366 - 10)).isoformat()
    assert [c["number"] for c in api.get(f"{API}/certificates?on={past}").get_json()["items"]] == [expired["number"]]
    assert [c["number"] for c in api.get(f"{API}/certificates?q=nón lá").get_json()["items"]] == \
        [south_region["number"]]
    assert api.get(f"{API}/certificates?on=hôm-nay").status_code == 422
    assert api.get(f"{API}/certificates?level=district").status_code == 422

    # a revoked certificate leaves the register the day it is revoked
    r = api.post(f"{API}/certificates/{south_region['id']}/revoke", w["ministry"], json={"reason": ""})
    assert r.status_code == 422
    r = api.post(f"{API}/certificates/{south_region['id']}/revoke", w["ministry"],
                 json={"reason": "Cơ sở ngừng sản xuất"})
    assert r.status_code == 200 and r.get_json()["valid"] is False
    assert south_region["number"] not in {c["number"] for c in api.get(f"{API}/certificates").get_json()["items"]}
    assert "Đã bị thu hồi từ ngày" in pdf_text(api.get(f"{API}/certificates/{south_region['id']}.pdf").data)
