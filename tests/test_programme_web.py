"""Any programme in the API and the browser, from its definition alone (issue 18, the generic dossier web):
the village-crafts programme of tests/data/programmes, which no line of the application names, is listed,
described, filed, moved, decided and given evidence through /api/v1 and through pages."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from artisan_awards.extensions import db
from artisan_awards.models import Nomination
from artisan_awards.timeutil import today
from tests.confirming import answer_fields, is_question
from tests.test_api import png_bytes
from workflows.registry import registry

TEST_PROGRAMMES = Path(__file__).resolve().parent / "data" / "programmes"
FIELDS = {"village_name": "Làng gốm Bát Tràng", "craft_group": "gốm sứ", "households": "120",
          "budget_requested": "500.000.000", "plan": "Lò nung khí hóa lỏng cho 30 hộ."}


@pytest.fixture(autouse=True)
def _test_programmes():
    registry().add_directory(TEST_PROGRAMMES)  # what the PROGRAMME_DIRS setting does at start


def _round(make, opens: date | None = None):
    return make.round(programme_id="village-crafts", intake_opens=opens or today() - timedelta(days=2),
                      intake_closes=today() + timedelta(days=30))


def _file(api, user, round_id, fields=FIELDS, province="HNI"):
    return api.post("/api/v1/programmes/village-crafts/dossiers", user,
                    json={"round_id": round_id, "province_code": province, "fields": fields})


# -- the API ------------------------------------------------------------------------------------------------


def test_the_programmes_are_listed_and_described_from_their_definitions(api):
    listed = {p["id"]: p for p in api.get("/api/v1/programmes").get_json()}
    assert "artisan-titles" not in listed  # served by /nominations
    village = listed["village-crafts"]
    assert [v["version"] for v in village["versions"]] == ["2025", "2026"]
    assert [lv["id"] for lv in village["levels"]] == ["province", "ministry"]
    assert [lv["decision"] for lv in village["levels"]] == ["ballot", "appraisal"]

    old = api.get("/api/v1/programmes/village-crafts?on=2025-03-01").get_json()
    assert old["version"] == "2025" and "screening" not in [s["id"] for s in old["states"]]
    new = api.get("/api/v1/programmes/village-crafts?on=2026-07-01").get_json()
    assert new["version"] == "2026" and "screening" in [s["id"] for s in new["states"]]
    fields = {f["id"]: f for f in new["fields"]}
    assert fields["craft_group"]["choices"] == ["gốm sứ", "mây tre đan", "dệt", "sơn mài", "khác"]
    assert fields["budget_requested"]["type"] == "money" and fields["budget_requested"]["required"] is True
    assert {a["id"]: a["by"] for a in new["actions"]}["accept"] == "province_officer"
    assert new["levels"][0]["decision"]["inputs"] == ["members", "present", "yes"]
    assert new["levels"][1]["decision"]["inputs"] == ["amount"]
    english = api.get("/api/v1/programmes/village-crafts?on=2026-07-01", headers={"Accept-Language": "en"})
    assert english.status_code == 200

    missing = api.get("/api/v1/programmes/no-such-programme")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "programme_not_found"
    assert api.get("/api/v1/programmes/artisan-titles").status_code == 404
    bad_day = api.get("/api/v1/programmes/village-crafts?on=1-2-3")
    assert bad_day.status_code == 422 and set(bad_day.get_json()["error"]["fields"]) == {"on"}


def test_a_dossier_runs_draft_to_funding_through_the_api(api, make):
    applicant, stranger = make.user("applicant"), make.user("applicant")
    officer, officer_hpg = make.user("province_officer", "HNI"), make.user("province_officer", "HPG")
    ministry = make.user("ministry_officer")
    round_ = _round(make)

    r = _file(api, applicant, round_.id)
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    did = d["id"]
    assert r.headers["Location"].endswith(f"/api/v1/programme-dossiers/{did}")
    assert (d["state"], d["name"], d["fields"]["budget_requested"]) == ("draft", "Làng gốm Bát Tràng", 500_000_000)
    assert [a["id"] for a in d["allowed_actions"]] == ["submit", "withdraw"]
    url = f"/api/v1/programme-dossiers/{did}"
    for someone in (stranger, officer, officer_hpg, ministry):  # a draft is its filer's alone
        assert api.get(url, someone).status_code == 404
    assert api.get(url).status_code == 401

    assert api.post(f"{url}/actions/accept", officer).status_code == 404  # not visible yet
    r = api.post(f"{url}/actions/submit", applicant, json={})
    assert r.status_code == 200 and r.get_json()["state"] == "submitted"
    assert api.get(url, officer_hpg).status_code == 404  # another province
    assert api.get(url, ministry).status_code == 404  # the ministry sees it from its level on
    seen = api.get(url, officer).get_json()
    assert [a["id"] for a in seen["allowed_actions"]] == ["accept", "return"]
    assert api.post(f"{url}/actions/accept", applicant).status_code == 403
    assert api.post(f"{url}/actions/fly", officer).get_json()["error"]["code"] == "unknown_action"
    assert api.post(f"{url}/actions/province_select", officer).status_code == 403  # an event, not an action
    assert api.post(f"{url}/actions/accept", officer, json={"comment": "Đủ hồ sơ"}).get_json()["state"] == \
        "screening"  # version 2026 (in effect when the round opened) screens before the vote
    assert api.post(f"{url}/actions/screen", officer).get_json()["state"] == "province_vote"

    # the province's ballot, recorded by its officer
    assert api.get(url, officer).get_json()["decisions"] == [
        {"level": "province", "name": "Hội đồng cấp tỉnh", "kind": "ballot"}]
    bad = api.post(f"{url}/decision", officer, json={"level": "province", "inputs": {"members": 5, "present": 6,
                                                                                      "yes": 1}})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["fields"]) == {"present"}
    assert api.post(f"{url}/decision", officer, json={"level": "district", "inputs": {}}).get_json()["error"][
        "code"] == "level_not_found"
    assert api.post(f"{url}/decision", ministry, json={"level": "ministry", "inputs": {"amount": 1}}).status_code \
        == 404  # not at the ministry yet: it does not see it
    assert api.post(f"{url}/decision", officer, data="{", content_type="application/json").status_code == 400
    r = api.post(f"{url}/decision", officer, json={"level": "province", "inputs": {"members": 5, "present": 4,
                                                                                    "yes": 3}})
    assert r.status_code == 200 and r.get_json()["state"] == "province_selected"
    assert api.post(f"{url}/decision", officer, json={"level": "province", "inputs": {
        "members": 5, "present": 4, "yes": 3}}).status_code == 409  # decided already
    assert api.post(f"{url}/actions/send_to_ministry", officer).get_json()["state"] == "appraisal"

    at_ministry = api.get(url, ministry).get_json()
    assert at_ministry["stage"] == 3 and at_ministry["decisions"][0]["kind"] == "appraisal"
    over = api.post(f"{url}/decision", ministry, json={"level": "ministry", "inputs": {"amount": 600_000_000}})
    assert over.status_code == 422 and over.get_json()["error"]["fields"] == {
        "amount": "Số tiền thẩm định không được vượt quá số tiền đề nghị."}
    r = api.post(f"{url}/decision", ministry, json={"level": "ministry", "inputs": {"amount": 450_000_000},
                                                    "comment": "Giảm hạng mục lò"})
    done = r.get_json()
    assert done["state"] == "funded" and done["final"] is True and done["allowed_actions"] == []
    assert [h["action"] for h in done["history"]] == ["submit", "accept", "screen", "province_select",
                                                      "send_to_ministry", "fund"]
    assert done["history"][-1]["meta"]["amount"] == 450_000_000
    assert api.get(url, applicant).get_json()["citizen_label"] == "Được hỗ trợ kinh phí"


def test_filing_refuses_bad_fields_rounds_and_callers(api, make):
    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    round_ = _round(make)
    r = _file(api, applicant, round_.id, {**FIELDS, "households": "nhiều", "craft_group": "x", "colour": "đỏ"})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {
        "households": "Cần nhập một số nguyên.", "craft_group": "Giá trị không có trong danh sách lựa chọn.",
        "colour": "Trường này không có trong mẫu hồ sơ của chương trình."}
    assert _file(api, applicant, round_.id, province="ZZZ").get_json()["error"]["fields"].keys() == {
        "province_code"}
    assert _file(api, applicant, round_.id, fields="không phải đối tượng").status_code == 422
    assert _file(api, applicant, 2_000_000_000).get_json()["error"]["code"] == "round_not_found"
    artisan_round = make.round()
    assert _file(api, applicant, artisan_round.id).get_json()["error"]["code"] == "round_not_found"
    assert api.post("/api/v1/programmes/nope/dossiers", applicant, json={}).status_code == 404
    assert _file(api, officer, round_.id).status_code == 403
    assert _file(api, None, round_.id).status_code == 401
    r = api.post("/api/v1/programmes/village-crafts/dossiers", applicant, data="[1",
                 content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "malformed_json"


def test_evidence_of_the_definitions_kinds_while_the_filer_holds_the_dossier(api, make):
    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    did = _file(api, applicant, _round(make).id).get_json()["id"]
    url = f"/api/v1/programme-dossiers/{did}/evidence"

    def upload(user, kind="photo"):
        return api.post(url, user, data={"kind": kind, "file": (io.BytesIO(png_bytes()), "ảnh làng.png")},
                        content_type="multipart/form-data")

    r = upload(applicant)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["kind"] == "photo" and r.get_json()["content_type"] == "image/png"
    assert upload(applicant, "video").get_json()["error"]["fields"] == {"kind": "Loại tài liệu không hợp lệ."}
    missing = api.post(url, applicant, data={"kind": "photo"}, content_type="multipart/form-data")
    assert missing.status_code == 422 and set(missing.get_json()["error"]["fields"]) == {"file"}
    seen = api.get(f"/api/v1/programme-dossiers/{did}", applicant).get_json()
    assert [e["kind"] for e in seen["evidence"]] == ["photo"] and seen["may_add_evidence"] is True
    api.post(f"/api/v1/programme-dossiers/{did}/actions/submit", applicant)
    refused = upload(applicant)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_editable"
    assert upload(officer).status_code == 403


# -- the pages ----------------------------------------------------------------------------------------------


def test_filing_a_dossier_through_the_generated_form(client, auth, make):
    round_ = _round(make)
    index = client.get("/programmes/")
    assert index.status_code == 200 and "Hỗ trợ kế hoạch phát triển làng nghề" in index.get_data(as_text=True)
    auth.login_as("applicant")
    page = client.get(f"/programmes/village-crafts/rounds/{round_.id}/new")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    for label in ("Tên làng nghề", "Nhóm nghề", "Số hộ tham gia", "Kinh phí đề nghị hỗ trợ (đồng)", "Tóm tắt kế hoạch"):
        assert label in text
    assert '<option value="mây tre đan">' in text

    url = f"/programmes/village-crafts/rounds/{round_.id}/new"
    bad = client.post(url, data={"province_code": "HNI", **{f"f_{k}": v for k, v in FIELDS.items()},
                                 "f_households": "nhiều", "f_village_name": ""})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert re.search(r'id="f_households-error">Cần nhập một số nguyên\.', text)
    assert re.search(r'id="f_village_name-error">Cần điền thông tin này\.', text)
    assert 'aria-invalid="true"' in text and "error-summary" in text
    assert db.session.query(Nomination).filter_by(programme_id="village-crafts").count() == 0

    ok = client.post(url, data={"province_code": "HNI", **{f"f_{k}": v for k, v in FIELDS.items()}})
    assert ok.status_code == 303
    n = db.session.query(Nomination).filter_by(programme_id="village-crafts").one()
    assert ok.headers["Location"].endswith(f"/programme-dossiers/{n.id}")
    assert n.programme_data["budget_requested"] == 500_000_000 and n.state == "draft"
    assert client.get(f"/programmes/village-crafts/rounds/{make.round().id}/new").status_code == 404


def test_the_dossier_page_moves_it_with_confirmation_and_records_a_decision(client, auth, make):
    from artisan_awards.services import programmes

    applicant = make.user("applicant")
    n = programmes.create_dossier(applicant, _round(make).id, "HNI", FIELDS)
    auth.login(applicant.email)
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    assert "Hồ sơ đang được soạn" in page  # the filer reads the citizen's label
    assert 'data-action="submit"' in page and 'data-action="withdraw"' in page
    assert "Làng gốm Bát Tràng" in page and "500.000.000" in page

    upload = client.post(f"/programme-dossiers/{n.id}/evidence",
                         data={"kind": "photo", "file": (io.BytesIO(png_bytes()), "lang.png")},
                         content_type="multipart/form-data")
    assert upload.status_code == 303
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    link = re.search(rf'href="(/programme-dossiers/{n.id}/evidence/\d+)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")

    first = client.post(f"/programme-dossiers/{n.id}/actions/submit", data={"comment": ""})
    assert is_question(first) and "Đã nộp" in first.get_data(as_text=True)
    db.session.refresh(n)
    assert n.state == "draft"  # asked, not done
    done = client.post(f"/programme-dossiers/{n.id}/actions/submit", data=answer_fields(first))
    assert done.status_code == 303
    db.session.refresh(n)
    assert n.state == "submitted"
    assert client.post(f"/programme-dossiers/{n.id}/actions/accept", data={}).status_code == 403
    auth.logout()

    officer = make.user("province_officer", "HNI")
    auth.login(officer.email)
    assert client.get(f"/programme-dossiers/{n.id}").status_code == 200
    first = client.post(f"/programme-dossiers/{n.id}/actions/accept", data={"comment": "Đủ"})
    client.post(f"/programme-dossiers/{n.id}/actions/accept", data=answer_fields(first))
    db.session.refresh(n)
    assert n.state == "screening"
    first = client.post(f"/programme-dossiers/{n.id}/actions/screen", data={})
    client.post(f"/programme-dossiers/{n.id}/actions/screen", data=answer_fields(first))
    db.session.refresh(n)
    assert n.state == "province_vote"
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    assert 'data-testid="decision-province"' in page and 'name="members"' in page
    bad = client.post(f"/programme-dossiers/{n.id}/decision", data={"level": "province", "members": "5",
                                                                     "present": "9", "yes": "1"})
    if is_question(bad):
        bad = client.post(f"/programme-dossiers/{n.id}/decision", data=answer_fields(bad))
    assert bad.status_code == 422
    first = client.post(f"/programme-dossiers/{n.id}/decision", data={"level": "province", "members": "5",
                                                                       "present": "5", "yes": "2"})
    assert is_question(first)
    client.post(f"/programme-dossiers/{n.id}/decision", data=answer_fields(first))
    db.session.refresh(n)
    assert n.state == "province_declined"
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    assert "Không được tỉnh chọn" in page and "decision-province" not in page
    auth.logout()

    other = make.user("province_officer", "HPG")
    auth.login(other.email)
    assert client.get(f"/programme-dossiers/{n.id}").status_code == 404
    assert client.post(f"/programme-dossiers/{n.id}/actions/accept", data={}).status_code == 404


def test_the_ministry_records_an_appraisal_in_vietnamese_amounts(client, auth, make):
    from artisan_awards.services import programmes

    applicant, officer, ministry = make.user("applicant"), make.user("province_officer", "HNI"), \
        make.user("ministry_officer")
    n = programmes.create_dossier(applicant, _round(make).id, "HNI", FIELDS)
    programmes.perform(n, "submit", applicant)
    programmes.perform(n, "accept", officer)
    programmes.perform(n, "screen", officer)
    programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 5}, officer)
    auth.login(ministry.email)
    assert client.get(f"/programme-dossiers/{n.id}").status_code == 404  # not at its level yet
    programmes.perform(n, "send_to_ministry", officer)
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    assert 'data-testid="decision-ministry"' in page and "Số tiền đề nghị" in page
    data = {"level": "ministry", "amount": "450.000.000", "comment": "Giảm hạng mục"}
    first = client.post(f"/programme-dossiers/{n.id}/decision", data=data)
    assert is_question(first)
    assert client.post(f"/programme-dossiers/{n.id}/decision", data=answer_fields(first)).status_code == 303
    db.session.refresh(n)
    assert n.state == "funded" and n.log.select() is not None


# -- across programmes (item 5) -------------------------------------------------------------------------------


def _to_vote(make, name="Làng gốm Bát Tràng", province="HNI", round_=None):
    from artisan_awards.services import programmes

    applicant, officer = make.user("applicant"), make.user("province_officer", province)
    n = programmes.create_dossier(applicant, (round_ or _round(make)).id, province, {**FIELDS, "village_name": name})
    programmes.perform(n, "submit", applicant)
    return n, applicant, officer


def test_the_administrator_opens_a_round_of_any_programme_in_the_browser(client, auth, make):
    auth.login_as("admin")
    assert "Mở đợt của chương trình khác" in client.get("/admin/rounds").get_data(as_text=True)
    choice = client.get("/programmes/rounds/new").get_data(as_text=True)
    assert '<option value="village-crafts">' in choice and "programme-round-form" not in choice
    assert client.get("/programmes/rounds/new?programme_id=nope").status_code == 404
    form = client.get("/programmes/rounds/new?programme_id=village-crafts").get_data(as_text=True)
    # the windows the definition uses: its reply deadline (7 working days) and the completion period
    assert 'name="reply_days"' in form and 'value="7"' in form and 'name="completion_days"' in form
    assert 'name="consultation_days"' not in form

    url = "/programmes/rounds/new"
    base = {"programme_id": "village-crafts", "number": "71", "name": "Làng nghề 2026",
            "intake_opens": "2026-07-01", "intake_closes": "2026-12-31", "reply_days": "7", "completion_days": "15"}
    bad = client.post(url, data={**base, "number": "", "intake_closes": "2026-06-01"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="number-error">Cần nhập số thứ tự của đợt.' in text
    early = client.post(url, data={**base, "intake_opens": "2024-03-01", "intake_closes": "2024-04-01"})
    assert early.status_code == 422
    assert "Chương trình chưa có phiên bản áp dụng vào ngày mở tiếp nhận." in early.get_data(as_text=True)
    order = client.post(url, data={**base, "intake_closes": "2026-06-01"})
    assert order.status_code == 422 and 'id="intake_closes-error"' in order.get_data(as_text=True)

    assert client.post(url, data=base).status_code == 303
    old = client.post(url, data={**base, "number": "72", "name": "Làng nghề 2025", "intake_opens": "2025-03-01",
                                 "intake_closes": "2025-06-30"})
    assert old.status_code == 303
    from artisan_awards.models import Round

    rows = {r.name: r for r in db.session.query(Round).filter_by(programme_id="village-crafts")}
    assert (rows["Làng nghề 2026"].programme_version, rows["Làng nghề 2026"].reply_days) == ("2026", 7)
    assert rows["Làng nghề 2026"].reply_day_kind == "working"  # as the definition counts its reply deadline
    assert rows["Làng nghề 2025"].programme_version == "2025"
    taken = client.post(url, data=base)
    assert taken.status_code == 422 and 'id="number-error"' in taken.get_data(as_text=True)
    auth.logout()
    auth.login_as("province_officer", "HNI")
    assert client.get(url).status_code == 403


def test_a_round_of_a_programme_through_the_api(api, make):
    ministry = make.user("ministry_officer")
    body = {"number": 81, "name": "Làng nghề qua API", "intake_opens": "2026-07-02", "intake_closes": "2026-09-30",
            "programme_id": "village-crafts"}
    r = api.post("/api/v1/rounds", ministry, json=body)
    assert r.status_code == 201, r.get_json()
    from artisan_awards.models import Round

    row = db.session.get(Round, r.get_json()["id"])
    assert (row.programme_id, row.programme_version) == ("village-crafts", "2026")
    unknown = api.post("/api/v1/rounds", ministry, json={**body, "number": 82, "programme_id": "nope"})
    assert unknown.status_code == 422 and set(unknown.get_json()["error"]["fields"]) == {"programme_id"}
    artisan = api.post("/api/v1/rounds", ministry, json={**body, "number": 83, "programme_id": None})
    assert db.session.get(Round, artisan.get_json()["id"]).programme_id == "artisan-titles"


def test_the_rounds_list_is_the_artisan_titles_unless_a_programme_is_named(api, make):
    artisan = make.round(number=931, name="Đợt nghệ nhân 931")
    other = make.round(number=932, name="Làng nghề 932", programme_id="village-crafts",
                       intake_opens=date(2026, 7, 2), intake_closes=date(2026, 9, 30))
    rows = api.get("/api/v1/rounds").get_json()
    ids = {r["id"] for r in rows}
    assert artisan.id in ids and other.id not in ids  # a scheme year is not an award round
    assert {(r["programme_id"], r["programme_version"]) for r in rows} == {("artisan-titles", "2024")}
    named = api.get("/api/v1/rounds?programme_id=village-crafts").get_json()
    assert [r["id"] for r in named] == [other.id]
    assert (named[0]["programme_id"], named[0]["programme_version"]) == ("village-crafts", "2026")
    explicit = api.get("/api/v1/rounds?programme_id=artisan-titles").get_json()
    assert {r["id"] for r in explicit} == ids
    for bad in ("nope", "village-crafts%27", "x" * 300):
        r = api.get(f"/api/v1/rounds?programme_id={bad}")
        assert r.status_code == 422, bad
        error = r.get_json()["error"]
        assert error["code"] == "validation_failed" and set(error["fields"]) == {"programme_id"}
    spec = api.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/v1/rounds"]["get"]["parameters"]}
    assert "programme_id" in params and "422" in spec["paths"]["/api/v1/rounds"]["get"]["responses"]
    assert {"programme_id", "programme_version"} <= set(spec["components"]["schemas"]["Round"]["properties"])


def test_the_artisan_pages_list_the_artisan_rounds_and_the_admin_names_each_rounds_programme(client, auth, make):
    make.round(number=941, name="Đợt nghệ nhân 941")
    make.round(number=942, name="Làng nghề 942", programme_id="village-crafts",
               intake_opens=today() - timedelta(days=2), intake_closes=today() + timedelta(days=30))
    public = client.get("/rounds/").get_data(as_text=True)
    assert "Đợt nghệ nhân 941" in public and "Làng nghề 942" not in public
    auth.login_as("province_officer", "HNI")
    inbox = client.get("/province/inbox").get_data(as_text=True)
    assert ">Đợt nghệ nhân 941</option>" in inbox and "Làng nghề 942" not in inbox
    auth.logout()
    auth.login_as("ministry_officer")
    for url in ("/ministry/nominations", "/ministry/comments"):
        text = client.get(url).get_data(as_text=True)
        assert ">Đợt nghệ nhân 941</option>" in text and "Làng nghề 942" not in text, url
    auth.logout()
    auth.login_as("admin")
    admin = client.get("/admin/rounds").get_data(as_text=True)
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr>.*?>(Đợt nghệ nhân 941|Làng nghề 942)</a>.*?</tr>",
                                                      admin, re.S)}
    assert "Hỗ trợ kế hoạch phát triển làng nghề (chương trình thử nghiệm) (2026)" in rows["Làng nghề 942"]
    assert "(2024)" in rows["Đợt nghệ nhân 941"] and "làng nghề" not in rows["Đợt nghệ nhân 941"]


def test_a_newer_round_of_another_programme_is_not_the_artisan_titles_current_round(make):
    """The public procedure, the intake page, the open data and the partners' intake take the artisan titles'
    newest round, never a scheme year numbered after it."""
    from artisan_awards.integration import intake
    from artisan_awards.services import law, open_data

    artisan = make.round(number=951, name="Đợt nghệ nhân 951", intake_opens=today() - timedelta(days=2),
                         intake_closes=today() + timedelta(days=30))
    other = make.round(number=952, name="Làng nghề 952", programme_id="village-crafts",
                       intake_opens=today() - timedelta(days=2), intake_closes=today() + timedelta(days=30))
    assert law.newest_round().id == artisan.id
    assert intake._open_round_id() == artisan.id
    assert 951 in open_data.rounds() and 952 not in open_data.rounds()
    assert open_data.round_exists(951) and not open_data.round_exists(952)
    assert other.intake_is_open(today())


@pytest.mark.realdb  # the status lookup reads on a connection of its own (services/queries.py)
def test_the_public_lookup_finds_a_dossier_of_any_programme_by_its_code(api, client, make):
    applicant = make.user("applicant")
    did = _file(api, applicant, _round(make).id).get_json()["id"]
    submitted = api.post(f"/api/v1/programme-dossiers/{did}/actions/submit", applicant).get_json()
    code, key = submitted["code"], submitted["access_key"]
    assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", code) and re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", key)
    again = api.get(f"/api/v1/programme-dossiers/{did}", applicant).get_json()
    assert again["code"] == code and "access_key" not in again  # given once

    status = client.get(f"/api/v1/status?code={code}&key={key}")
    assert status.status_code == 200
    assert status.get_json() | {"updated_at": None} == {
        "code": code, "state": "submitted", "state_label": "Sở Công Thương đang kiểm tra hồ sơ",
        "next_step": "Sở Công Thương kiểm tra trong 7 ngày làm việc.", "updated_at": None}
    wrong = client.get(f"/api/v1/status?code={code}&key=AAAA-AAAA")
    missing = client.get("/api/v1/status?code=NN-2026-HNI-99999&key=" + key)
    assert wrong.status_code == missing.status_code == 404 and wrong.get_json() == missing.get_json()

    page = client.post("/public/status", data={"code": code.lower().replace("-", " "), "key": key.lower()})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Sở Công Thương đang kiểm tra hồ sơ" in text
    assert "Làng gốm Bát Tràng" not in text  # the lookup shows the state, never the dossier
    assert client.post("/public/status", data={"code": code, "key": "AAAA-AAAA"}).status_code == 404


def test_the_inboxes_list_what_waits_for_each_role_across_programmes(client, auth, make):
    from artisan_awards.services import programmes

    round_ = _round(make)
    n, _applicant, officer = _to_vote(make, round_=round_)
    _to_vote(make, "Làng lụa Vạn Phúc", "HPG", round_)
    auth.login(officer.email)
    inbox = client.get("/province/inbox").get_data(as_text=True)
    section = re.search(r'data-testid="programme-inbox".*?</section>', inbox, re.S).group(0)
    assert "Làng gốm Bát Tràng" in section and "Làng lụa Vạn Phúc" not in section  # own province only
    assert "Tiếp nhận hồ sơ; Trả lại để bổ sung" in section and "Hỗ trợ kế hoạch phát triển làng nghề" in section
    filtered = client.get("/province/inbox?programme=village-crafts").get_data(as_text=True)
    assert "Làng gốm Bát Tràng" in filtered
    unknown = client.get("/province/inbox?programme=nope")
    assert unknown.status_code == 200 and "Làng gốm Bát Tràng" in unknown.get_data(as_text=True)  # ignored
    auth.logout()

    ministry = make.user("ministry_officer")
    auth.login(ministry.email)
    assert "Làng gốm Bát Tràng" not in client.get("/ministry/nominations").get_data(as_text=True)
    programmes.perform(n, "accept", officer)
    programmes.perform(n, "screen", officer)
    programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 5}, officer)
    programmes.perform(n, "send_to_ministry", officer)
    listed = client.get("/ministry/nominations").get_data(as_text=True)
    section = re.search(r'data-testid="programme-inbox".*?</section>', listed, re.S).group(0)
    assert "Làng gốm Bát Tràng" in section and "Quyết định: Thẩm định của Bộ" in section

    dash = client.get("/ministry/dashboard?programme=village-crafts").get_data(as_text=True)
    counts = re.search(r'data-testid="programme-by-state".*?</table>', dash, re.S).group(0)
    assert re.search(r'data-state="appraisal"><td>Chờ Bộ thẩm định</td><td>1</td>', counts)
    assert re.search(r'data-state="submitted"><td>Đã nộp</td><td>1</td>', counts)  # Hải Phòng's
    assert 'data-testid="programme-total">2<' in dash  # both provinces' dossiers, the drafts not counted
    assert re.search(r'data-province="HPG"><td>[^<]+</td><td>1</td>', dash)


# -- a level that scores on a rubric (the scorers' sheets: the decision's inputs) -----------------------------

RUBRIC = {"kind": "rubric", "min_scorers": 2, "pass_mark": 12, "passes": "province_select",
          "rejects": "province_decline",
          "groups": [{"id": "quality", "label": "Chất lượng", "weight": 1, "criteria": [
              {"id": "design", "label": "Thiết kế", "max_points": 10},
              {"id": "skill", "label": "Tay nghề", "max_points": 10}]}]}


@pytest.fixture(scope="module")
def rubric_programme(tmp_path_factory):
    """The test programme with its province scoring on a rubric instead of a ballot (programme id
    ``village-crafts-scored``), added as PROGRAMME_DIRS would."""
    import yaml

    raw = yaml.safe_load((TEST_PROGRAMMES / "village-crafts" / "2025.yaml").read_text("utf-8"))
    raw["id"] = "village-crafts-scored"
    raw["levels"][0]["decision"] = RUBRIC
    folder = tmp_path_factory.mktemp("rubric")
    (folder / raw["id"]).mkdir()
    (folder / raw["id"] / "2025.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    if "village-crafts-scored" not in registry().ids():
        registry().add_directory(folder)
    return raw["id"]


def test_a_rubric_level_takes_the_scorers_sheets_through_the_api_and_the_page(api, client, auth, make,
                                                                              rubric_programme):
    from artisan_awards.services import programmes

    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    round_ = make.round(programme_id=rubric_programme, intake_opens=today() - timedelta(days=2),
                        intake_closes=today() + timedelta(days=30))
    described = api.get(f"/api/v1/programmes/{rubric_programme}").get_json()
    assert described["levels"][0]["decision"]["inputs"] == ["scores"]
    assert described["levels"][0]["decision"]["max_score"] == 20

    def at_the_vote():
        n = programmes.create_dossier(applicant, round_.id, "HNI", FIELDS)
        programmes.perform(n, "submit", applicant)
        programmes.perform(n, "accept", officer)
        return n

    n = at_the_vote()
    url = f"/api/v1/programme-dossiers/{n.id}/decision"
    off_scale = api.post(url, officer, json={"level": "province", "inputs": {"scores": [
        {"design": 11, "skill": 5}, {"design": 5, "skill": 5}]}})
    assert off_scale.status_code == 422 and set(off_scale.get_json()["error"]["fields"]) == {"scores"}
    done = api.post(url, officer, json={"level": "province", "inputs": {"scores": [
        {"design": 7, "skill": 6}, {"design": 6, "skill": 6}]}}).get_json()  # mean 12.5 >= 12
    assert done["state"] == "province_selected" and done["history"][-1]["meta"]["score"] == 12.5

    n = at_the_vote()
    auth.login(officer.email)
    page = client.get(f"/programme-dossiers/{n.id}").get_data(as_text=True)
    assert 'name="s0_design"' in page and 'name="s1_skill"' in page and "Phiếu chấm của thành viên 2" in page
    sheets = {"level": "province", "s0_design": "5", "s0_skill": "6", "s1_design": "6", "s1_skill": "5,5"}
    bad = client.post(f"/programme-dossiers/{n.id}/decision", data={**sheets, "s1_skill": "mười"})
    assert bad.status_code == 422 and "Điểm của một tiêu chí nằm ngoài thang điểm." in bad.get_data(as_text=True)
    first = client.post(f"/programme-dossiers/{n.id}/decision", data=sheets)
    assert is_question(first) and "Phiếu chấm của thành viên 2 · Tay nghề" in first.get_data(as_text=True)
    client.post(f"/programme-dossiers/{n.id}/decision", data=answer_fields(first))
    db.session.refresh(n)
    assert n.state == "province_declined"  # mean 11.25 < 12


def test_who_sees_a_dossier_follows_the_roles_its_definition_names_at_each_stage(api, make):
    """The definition names the province's officer and council and the ministry's officer: the province's roles
    see their province's dossiers once filed, the ministry's officer from the ministry's level (stage 3) on, the
    administrator every filed dossier, a national role the programme does not name none (404, as missing)."""
    from artisan_awards.services import programmes

    n, _applicant, officer = _to_vote(make)  # submitted: stage 1
    _to_vote(make, "Làng lụa Vạn Phúc", "HPG")  # another province's, another round
    people = {"pcm": make.user("province_council_member", "HNI"),
              "pcm_x": make.user("province_council_member", "HPG"), "po_x": make.user("province_officer", "HPG"),
              "mo": make.user("ministry_officer"), "mcm": make.user("ministry_council_member"),
              "scm": make.user("state_council_member"), "go": make.user("government_officer"),
              "admin": make.user("admin"), "po": officer}
    url = f"/api/v1/programme-dossiers/{n.id}"

    def seen() -> set[str]:
        return {k for k, user in people.items() if api.get(url, user).status_code == 200}

    assert seen() == {"pcm", "po", "admin"}
    programmes.perform(n, "accept", officer)
    programmes.perform(n, "screen", officer)
    programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 5}, officer)
    assert seen() == {"pcm", "po", "admin"}  # selected by the province, not yet sent on
    programmes.perform(n, "send_to_ministry", officer)
    assert seen() == {"pcm", "po", "admin", "mo"}
    listed = {k for k, user in people.items()
              if n.id in [d["id"] for d in api.get("/api/v1/programme-dossiers?programme_id=village-crafts",
                                                   user).get_json()["items"]]}
    assert listed == seen()  # the list shows exactly what each may open
    mine = api.get(f"/api/v1/programme-dossiers?round_id={n.round_id}&state=appraisal", _applicant).get_json()
    assert (mine["total"], mine["items"][0]["code"]) == (1, n.code)
    assert api.get("/api/v1/programme-dossiers?state=funded", _applicant).get_json()["total"] == 0
    assert api.get("/api/v1/programme-dossiers?round_id=x", _applicant).status_code == 422
    assert api.get("/api/v1/programme-dossiers?per_page=1000", _applicant).status_code == 422
    assert api.get("/api/v1/programme-dossiers").status_code == 401
    for user in people.values():  # whoever does not see it gets the same answer as for a missing dossier
        if api.get(url, user).status_code != 200:
            assert api.get(url, user).get_json() == api.get("/api/v1/programme-dossiers/2000000000", user).get_json()


def test_the_programme_pages_switch_to_english(client, auth, make):
    """The application's own words on the programme pages are translated; what the definition says (a test
    programme's labels are not in the catalogue) and the dossier's data are the page's data."""
    from artisan_awards.models import Province, User
    from tests.test_language_switch import VIETNAMESE, _strip_data, readable

    round_ = _round(make)
    n, applicant, officer = _to_vote(make, round_=round_)
    d = registry().get("village-crafts", round_.programme_version).definition
    data = [d.title, *(s.staff_label for s in d.states), *(s.citizen_label for s in d.states),
            *(s.next_step for s in d.states), *(a.label for a in (*d.actions, *d.events)),
            *(f.label for f in d.dossier.fields), *(c for f in d.dossier.fields for c in f.choices),
            *(lv.name for lv in d.levels), *(str(v) for v in FIELDS.values()), round_.name,
            *(u.full_name for u in db.session.query(User)), *(p.name for p in db.session.query(Province))]
    data = sorted(set(data), key=len, reverse=True)
    pages = {officer: ["/programmes/", f"/programme-dossiers/{n.id}", "/province/inbox"],
             applicant: [f"/programme-dossiers/{n.id}", f"/programmes/village-crafts/rounds/{round_.id}/new"]}
    leftovers = {}
    for user, urls in pages.items():
        auth.logout()
        auth.login(user.email)
        client.post("/lang/en", data={"next": "/"})
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            parsed = readable(response.get_data(as_text=True), "en")
            assert parsed.html_lang == "en"
            for text in parsed.texts:
                if VIETNAMESE.search(_strip_data(text, data)):
                    leftovers.setdefault(text, url)
    assert leftovers == {}
    vietnamese = readable(client.get("/lang/vi", follow_redirects=True) and client.get("/programmes/").get_data(
        as_text=True), "vi")
    assert any(VIETNAMESE.search(_strip_data(t, data)) for t in vietnamese.texts)  # the check can fail
