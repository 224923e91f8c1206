"""Open data (issue 19 item 4, acceptance 4): the files validate against their published field dictionary
(frictionless for CSV and JSON, jsonschema for JSON), no field the dictionary marks personal and no value of a
personal field of the world's dossiers is in any file, the URLs are stable (ETag, 304), and a dossier appears
only once the law publishes it (withdrawn: left out; erased: no year of birth).  See docs/open-data.md."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import frictionless
import jsonschema
import pytest
import sqlalchemy as sa

from artisan_awards import personal_fields
from artisan_awards.demo import seed
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, PublicComment, TransitionLog
from artisan_awards.services import nominations as service
from artisan_awards.services import retention
from artisan_awards.timeutil import now_utc
from tests.apps import module_world
from workflows.states import CouncilEvent, State

# The demo world's seed closes council sessions, which on PostgreSQL VACUUMs the ballot box on a connection of
# its own: real commits, not a rolled-back test.
pytestmark = pytest.mark.realdb

DATASETS = ("results", "consultations", "certificates")
BASE = "/open-data/v1"
# Classes of the house's register whose values must never be in a file.
PERSONAL_CLASSES = set(personal_fields.MASKABLE) | {personal_fields.EVIDENCE, personal_fields.ACCOUNT}


def _plant() -> list[str]:
    """The demo world (a dossier waiting at every stage, one awarded), with planted personal data on every
    dossier: e-mail, phone, an identity number in the address, the family's contacts; and a signed comment."""
    seed()
    planted = []
    for n in db.session.scalars(sa.select(Nomination).order_by(Nomination.id)):
        values = {"email": f"ca.nhan.{n.id}@mat.example.vn", "phone": f"09{n.id:08d}",
                  "address": f"CCCD 0010850{n.id:05d}, số {n.id} ngõ Bí Mật, phường Kín",
                  "family_contact_phone": f"03{n.id:08d}", "family_contact_email": f"nguoi.than.{n.id}@example.vn"}
        for key, value in values.items():
            setattr(n, key, value)
        planted += list(values.values())
    consulted = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.PUBLIC_CONSULTATION))
    db.session.add(PublicComment(nomination_id=consulted.id, kind="complaint", full_name="Người Góp Ý Kín Tên",
                                 phone="0977000111", address="Số 9 phố Góp Ý", content="Nội dung ý kiến riêng tư",
                                 informational=False, window=consulted.state))
    db.session.commit()
    planted += ["Người Góp Ý Kín Tên", "0977000111", "Số 9 phố Góp Ý", "Nội dung ý kiến riêng tư"]
    return planted


# The planted world built once for the module (the demo seed took ~3 CPU-s per test); a test asking for
# ``world`` runs on a copy of its database, the others on an empty one.
planted_world, app_config = module_world(_plant, "open-data-world", fixture="planted_world")


@pytest.fixture
def world(app, planted_world) -> list[str]:
    """The planted personal values of this test's copy of the world."""
    return list(planted_world.value)


def fetch_all(client) -> tuple[dict, dict[str, bytes]]:
    """The data package and every file it names: all rounds and each round."""
    package = client.get(f"{BASE}/datapackage.json").get_json()
    rounds = client.get("/api/v1/open-data").get_json()["rounds"]
    files = {}
    for resource in package["resources"]:
        paths = [resource["path"]] + [resource["per_round_path"].format(round=r) for r in rounds]
        for path in paths:
            r = client.get(f"{BASE}/{path}")
            assert r.status_code == 200, path
            files[path] = r.data
    return package, files


def personal_names(package: dict) -> set[str]:
    fields = [f for res in package["resources"] for f in res["schema"]["fields"]] + package.get("withheld", [])
    return {f["name"] for f in fields if f.get("personal")}


def world_personal_values(planted: list[str]) -> set[str]:
    """Every value of a personal column of the world (by the house's register), and the planted ones."""
    values = set(planted)
    for table_name, columns in personal_fields.SENSITIVITY.items():
        wanted = [c for c, cls in columns.items() if cls in PERSONAL_CLASSES]
        if not wanted:
            continue
        table = db.metadata.tables[table_name]
        for row in db.session.execute(sa.select(*[table.c[c] for c in wanted])):
            for value in row:
                if isinstance(value, str) and len(value.strip()) >= 6:
                    values.add(value.strip())
    for n in db.session.scalars(sa.select(Nomination)):  # encrypted at rest: read through the model
        for value in (n.phone, n.address, n.email, n.family_contact_phone, n.family_contact_email):
            if value:
                values.add(value)
        if n.birth_date:
            values |= {n.birth_date.isoformat(), n.birth_date.strftime("%d/%m/%Y")}  # the full date, never
    return values


def leaks(package: dict, files: dict[str, bytes], values: set[str]) -> list[str]:
    """What of the personal data is in the files: a column the dictionary marks personal, a personal value."""
    found = []
    personal = personal_names(package)
    for path, data in files.items():
        text = data.decode("utf-8-sig")
        names = set(json.loads(text)[0]) if path.endswith(".json") and json.loads(text) else set(
            next(csv.reader(io.StringIO(text))))
        found += [f"{path}: column {name}" for name in sorted(names & personal)]
        found += [f"{path}: value {value!r}" for value in sorted(values) if value in text]
        digits = re.sub(r"\D", "", text)
        found += [f"{path}: phone {value}" for value in sorted(values)
                  if re.fullmatch(r"0\d{9}", value) and value in digits]
    return found


def table_schema_to_json_schema(schema: dict) -> dict:
    """A JSON Schema for the JSON files, from the published Table Schema (nothing taken from the app)."""
    types = {"integer": "integer", "string": "string", "boolean": "boolean", "date": "string", "number": "number"}
    properties, required = {}, []
    for f in schema["fields"]:
        c = f.get("constraints", {})
        prop: dict = {"type": [types[f["type"]]] + ([] if c.get("required") else ["null"])}
        if f["type"] == "date":
            prop["format"] = "date"
            prop["pattern"] = r"^\d{4}-\d{2}-\d{2}$"
        for key in ("minimum", "maximum", "minLength", "maxLength"):
            if key in c:
                prop[key] = c[key]
        if "pattern" in c:
            prop["pattern"] = f"^(?:{c['pattern']})$"
        if "enum" in c:
            prop["enum"] = c["enum"] + ([] if c.get("required") else [None])
        properties[f["name"]] = prop
        required.append(f["name"])
    return {"type": "array", "items": {"type": "object", "properties": properties, "required": required,
                                       "additionalProperties": False}}


def frictionless_errors(package: dict, files: dict[str, bytes], tmp_path) -> list[str]:
    """Validate every file (CSV and JSON, all rounds and each round) as a resource of the package."""
    for path, data in files.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    resources = []
    for resource in package["resources"]:
        for path in files:
            base = resource["path"]
            if path == base or path.endswith("/" + base):
                copy = json.loads(json.dumps(resource))
                copy["name"] = re.sub(r"[^a-z0-9-]", "-", path.lower())
                copy["path"] = path
                resources.append(copy)
    descriptor = {k: v for k, v in package.items() if k != "resources"} | {"resources": resources}
    assert len(resources) == len(files)
    report = frictionless.Package(descriptor, basepath=str(tmp_path)).validate()
    return [f"{task.name}: {error.type} {error.message}" for task in report.tasks for error in task.errors] + [
        f"package: {error.type} {error.message}" for error in report.errors]


# -- acceptance 4 --------------------------------------------------------------------------------------------


def test_every_file_validates_against_the_published_dictionary_and_holds_no_personal_data(
        app, client, world, tmp_path):
    package, files = fetch_all(client)
    assert {r["name"] for r in package["resources"]} == {*DATASETS, *(f"{d}-json" for d in DATASETS)}
    assert len(files) == 12  # 3 datasets × 2 formats × (all rounds + round 6)
    # the world has rows in each dataset
    for name in DATASETS:
        assert len(json.loads(files[f"{name}.json"])) > 0, name
    errors = frictionless_errors(package, files, tmp_path)
    assert errors == [], "\n".join(errors)
    for resource in package["resources"]:
        if resource["format"] != "json":
            continue
        schema = table_schema_to_json_schema(resource["schema"])
        for path, data in files.items():
            if path.endswith(resource["path"]):
                jsonschema.validate(json.loads(data), schema, format_checker=jsonschema.FormatChecker())
        for path, data in files.items():  # and the CSV's first line is the schema's fields, in order
            if path.endswith(resource["path"].replace(".json", ".csv")):
                assert data.startswith(b"\xef\xbb\xbf")
                assert data.decode("utf-8-sig").split("\r\n")[0] == ",".join(
                    f["name"] for f in resource["schema"]["fields"])
    with app.app_context():
        values = world_personal_values(world)
    assert len(values) > 50
    assert leaks(package, files, values) == []


def test_the_dictionary_says_personal_and_legal_basis_for_every_field_and_agrees_with_the_register(client):
    package = client.get(f"{BASE}/datapackage.json").get_json()
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    for resource in package["resources"]:
        assert resource["title"] and resource["title_en"] and resource["update_frequency"]
        for f in resource["schema"]["fields"]:
            assert f["personal"] is False, f  # a published field is never one the law keeps private
            assert f["legal_basis"] and f["title"] and f["title_en"], f
            if "source" in f:  # read from a column: the house's register agrees it may be published
                allowed = {personal_fields.PUBLIC, personal_fields.ORDINARY}
                if f["name"] == "birth_year":  # the year only: what the published lists (Mẫu 04) show
                    allowed.add(personal_fields.BIRTH_DATE)
                assert f["sensitivity"] in allowed, f
    withheld = {f["name"]: f for f in package["withheld"]}
    assert {"address", "phone", "email", "identity_number", "birth_date", "votes", "evidence", "comments"} <= set(
        withheld)
    for f in withheld.values():
        if f.get("sensitivity") in PERSONAL_CLASSES | {personal_fields.BIRTH_DATE}:
            assert f["personal"] is True, f


def test_the_broken_variants_fail(app, client, world, tmp_path):
    """A personal column added: marked in the dictionary, the scan finds it; not in the dictionary,
    frictionless refuses the file; a phone slipped into a published column, the value scan finds it."""
    package, files = fetch_all(client)
    with app.app_context():
        values = world_personal_values(world)
        phones = {n.full_name: n.phone for n in db.session.scalars(sa.select(Nomination))}
    text = files["results.csv"].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(rows[0] + ["phone"])
    for row in rows[1:]:
        writer.writerow(row + [phones[row[rows[0].index("full_name")]]])
    broken = dict(files) | {"results.csv": b"\xef\xbb\xbf" + out.getvalue().encode()}
    # 1. the dictionary marks it personal: the scan catches the column and the values
    marked = json.loads(json.dumps(package))
    marked["resources"][0]["schema"]["fields"].append(
        {"name": "phone", "type": "string", "personal": True, "legal_basis": "-"})
    found = leaks(marked, broken, values)
    assert "results.csv: column phone" in found
    assert any(f.startswith("results.csv: value") for f in found)
    # 2. the dictionary as published: frictionless refuses the extra column
    errors = frictionless_errors(package, broken, tmp_path / "broken")
    assert any("extra-label" in e for e in errors), errors
    # 3. a personal value inside a published column (the address as the craft) is caught by the value scan
    data = json.loads(files["certificates.json"])
    with app.app_context():
        n = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.AWARDED))
        data[0]["craft"] = n.address
    sneaky = dict(files) | {"certificates.json": json.dumps(data, ensure_ascii=False).encode()}
    assert any(f.startswith("certificates.json: value") for f in leaks(package, sneaky, values))
    assert leaks(package, files, values) == []


# -- stable URLs ---------------------------------------------------------------------------------------------


def test_stable_urls_same_bytes_etag_304_no_cookie_and_a_change_changes_the_etag(app, client, world):
    for path in ("results.csv", "consultations.json", "certificates.csv", "rounds/6/results.json",
                 "datapackage.json"):
        first, second = client.get(f"{BASE}/{path}"), client.get(f"{BASE}/{path}")
        assert first.status_code == second.status_code == 200
        assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]
        assert "public" in first.headers["Cache-Control"] and "max-age=300" in first.headers["Cache-Control"]
        assert "Set-Cookie" not in first.headers
        again = client.get(f"{BASE}/{path}", headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
        if path != "datapackage.json":
            assert first.headers["Last-Modified"]
            since = client.get(f"{BASE}/{path}", headers={"If-Modified-Since": first.headers["Last-Modified"]})
            assert since.status_code == 304
    assert client.get(f"{BASE}/results.csv").headers["Content-Type"].startswith("text/csv; charset=utf-8")
    before = client.get(f"{BASE}/results.json")
    with app.app_context():  # a dossier the province proposed is withdrawn: the file changes
        n = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.PROVINCE_PASSED)
                              .order_by(Nomination.id))
        name = n.full_name
        assert name in before.get_data(as_text=True)
        service.withdraw(n, n.owner, comment="Rút")
    after = client.get(f"{BASE}/results.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert name not in after.get_data(as_text=True)


def test_unknown_dataset_round_or_format_is_a_clear_404_in_vietnamese(client, world):
    r = client.get(f"{BASE}/nominees.csv")
    assert r.status_code == 404 and r.mimetype == "text/plain"
    assert "Không có bộ dữ liệu “nominees”" in r.get_data(as_text=True)
    assert "results, consultations, certificates" in r.get_data(as_text=True)
    r = client.get(f"{BASE}/nominees.json")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert "Không có bộ dữ liệu" in r.get_json()["error"]["message"]
    r = client.get(f"{BASE}/rounds/99/results.json")
    assert r.status_code == 404 and "Không có đợt xét tặng lần thứ 99" in r.get_json()["error"]["message"]
    r = client.get(f"{BASE}/results.xml")
    assert r.status_code == 404 and "Không có định dạng" in r.get_data(as_text=True)
    r = client.get(f"{BASE}/rounds/99999999999/results.csv")
    assert r.status_code == 404


# -- who appears, and when -----------------------------------------------------------------------------------


def _published(client) -> dict[str, list[dict]]:
    return {name: client.get(f"{BASE}/{name}.json").get_json() for name in DATASETS}


def test_a_dossier_appears_only_once_the_law_publishes_it(app, client, world, make):
    with app.app_context():
        make.nomination(State.ACCEPTED, nominee={"full_name": "Lò Văn Chưacôngbố"})
        passed_province = {n.full_name for n in db.session.scalars(
            sa.select(Nomination).join(TransitionLog, TransitionLog.nomination_id == Nomination.id)
            .where(TransitionLog.action == CouncilEvent.PROVINCE_PASS, Nomination.state != State.WITHDRAWN))}
        never = {n.full_name for n in db.session.scalars(sa.select(Nomination)) if n.full_name not in passed_province}
        ministry_passed = {n.full_name for n in db.session.scalars(
            sa.select(Nomination).where(Nomination.state == State.MINISTRY_PASSED))}
        in_second = {n.full_name for n in db.session.scalars(
            sa.select(Nomination).where(Nomination.state == State.FINAL_CONSULTATION))}
        awarded = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.AWARDED))
        awarded_values = (awarded.full_name, awarded.decision_no, awarded.decision_date.isoformat(),
                          awarded.award_title, awarded.province_code)
    assert "Lò Văn Chưacôngbố" in never and len(never) >= 8 and ministry_passed and in_second
    data = _published(client)
    everything = json.dumps(data, ensure_ascii=False)
    for name in never:  # drafts, intake, the provincial agenda and vote, rejected by the province, withdrawn
        assert name not in everything, name
    assert {r["full_name"] for r in data["results"] if r["level"] == "province"} == passed_province
    for r in data["results"]:
        if r["full_name"] in ministry_passed:  # passed by the ministry council, not yet posted: province only
            assert r["level"] == "province"
    assert not ministry_passed & {r["full_name"] for r in data["consultations"]}
    second = [r for r in data["consultations"] if r["window"] == "national_2"]
    assert in_second <= {r["full_name"] for r in second}
    for r in data["consultations"]:
        assert r["opens_on"] < r["closes_on"]
    (cert,) = [r for r in data["certificates"] if r["full_name"] == awarded_values[0]]
    assert (cert["full_name"], cert["decision_no"], cert["decision_date"], cert["title"],
            cert["province_code"]) == awarded_values
    assert any(r["level"] == "president" and r["decision_no"] == awarded_values[1] for r in data["results"])
    # one round's file is that round's rows
    assert client.get(f"{BASE}/rounds/6/results.json").get_json() == data["results"]


def test_withdrawn_left_out_everywhere_and_erased_keeps_the_result_without_birth_year(app, client, world):
    with app.app_context():
        consulted = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.PUBLIC_CONSULTATION)
                                      .order_by(Nomination.id))
        rejected = db.session.scalar(sa.select(Nomination).where(Nomination.state == State.MINISTRY_REJECTED))
        withdrawn_name, rejected_name = consulted.full_name, rejected.full_name
    data = _published(client)
    assert withdrawn_name in json.dumps(data, ensure_ascii=False)
    (row,) = [r for r in data["results"] if r["full_name"] == rejected_name]
    assert row["birth_year"] and row["level"] == "province"
    with app.app_context():
        consulted = db.session.get(Nomination, consulted.id)
        db.session.execute(sa.delete(PublicComment).where(PublicComment.nomination_id == consulted.id))
        db.session.commit()
        service.withdraw(consulted, consulted.owner, comment="Gia đình xin rút")
        # the retention job anonymises the rejected dossier (years after its end)
        retention.run(dry_run=False, now=now_utc() + timedelta(days=20 * 365))
        assert db.session.get(Nomination, rejected.id).personal_data_erased_at is not None
    data = _published(client)
    assert withdrawn_name not in json.dumps(data, ensure_ascii=False)
    (row,) = [r for r in data["results"] if r["full_name"] == rejected_name]
    assert row["birth_year"] is None
    assert "(đã ẩn danh)" not in json.dumps(data, ensure_ascii=False)


# -- the page and the catalogue ------------------------------------------------------------------------------


def test_the_page_and_the_api_catalogue_list_every_dataset(client, world):
    page = client.get("/open-data")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for name in DATASETS:
        assert f"{BASE}/{name}.csv" in html and f"{BASE}/rounds/6/{name}.json" in html
    assert "datapackage.json" in html and "creativecommons.org/licenses/by/4.0" in html
    assert "Tần suất cập nhật" in html and "Cơ sở pháp lý" in html
    catalogue = client.get("/api/v1/open-data", headers={"Accept-Language": "en"}).get_json()
    assert [d["name"] for d in catalogue["datasets"]] == list(DATASETS)
    assert catalogue["datasets"][0]["title"] == "Results at each level"
    for ds in catalogue["datasets"]:
        for url in [*ds["urls"].values(), *[u for r in ds["rounds"] for u in r["urls"].values()]]:
            assert client.get(url.replace("http://localhost", "")).status_code == 200, url
    assert client.get(catalogue["datapackage"].replace("http://localhost", "")).status_code == 200
