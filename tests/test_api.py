"""Contract tests for the integration API v1 (shared/api-v1.md).

They talk to the application only through HTTP (the ``api`` bearer-token client),
except where a test needs to build a starting state (``make``) or to count rows
that the API must not have written.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import unicodedata
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import ApiToken, Attachment, TransitionLog
from artisan_awards.timeutil import today
from tests.factories import expire_completion
from workflows.states import STATE_INFO, State

API = "/api/v1"
EN_CATALOGUE = Path(__file__).resolve().parent.parent / "artisan_awards" / "translations"
VI_LETTERS = set(
    "ăâđêôơư"
    "àáảãạằắẳẵặầấẩẫậ"
    "èéẻẽẹềếểễệ"
    "ìíỉĩị"
    "òóỏõọồốổỗộờớởỡợ"
    "ùúủũụừứửữự"
    "ỳýỷỹỵ"
)
MiB = 1024 * 1024


# -- helpers ------------------------------------------------------------------


def is_vietnamese(text: str) -> bool:
    return any(ch in VI_LETTERS for ch in text.lower())


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The contract's error shape; returns the inner ``error`` object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.content_type
    body = response.get_json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert {"code", "message", "fields"} <= set(err), err
    assert isinstance(err["code"], str) and err["code"]
    assert isinstance(err["message"], str) and err["message"].strip()
    assert isinstance(err["fields"], dict)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in err["fields"].items())
    if code is not None:
        assert err["code"] == code, err
    return err


def assert_iso_with_offset(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.tzinfo is not None, f"{value!r} has no UTC offset"
    return moment


def log_count(nomination_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(TransitionLog).where(
            TransitionLog.nomination_id == nomination_id
        )
    )


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A real, decodable PNG (RGB, 8 bits)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + b"\xc0\x40\x20" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    """A minimal valid one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def upload(api, nomination_id, user, content: bytes, filename: str, kind: str = "photo"):
    return api.post(
        f"{API}/nominations/{nomination_id}/attachments",
        user,
        data={"kind": kind, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def act(api, nomination_id, action, user, comment=None, **extra):
    body = {**extra}
    if comment is not None:
        body["comment"] = comment
    return api.post(f"{API}/nominations/{nomination_id}/actions/{action}", user,
                    json=body if body else None)


# -- fixtures -----------------------------------------------------------------


def actor(people, nomination, who: str):
    return {
        "owner": lambda: nomination.owner,
        "officer": lambda: people.officer,
        "officer_hpg": lambda: people.officer_hpg,
        "ministry": lambda: people.ministry,
        "applicant": lambda: people.other_applicant,
        "admin": lambda: people.admin,
    }[who]()


# == identity =================================================================


def test_token_for_good_credentials(api, make):
    user = make.user("applicant")
    r = api.post(f"{API}/auth/token", json={"email": user.email, "password": make.PASSWORD})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 20
    assert assert_iso_with_offset(body["expires_at"]) > datetime.now().astimezone()
    # The token works, and the e-mail is matched case-insensitively.
    me = api.get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    r2 = api.post(f"{API}/auth/token", json={"email": user.email.upper(), "password": make.PASSWORD})
    assert r2.status_code == 200


def test_token_same_401_for_unknown_email_and_wrong_password(api, make):
    user = make.user("applicant")
    wrong_password = api.post(f"{API}/auth/token", json={"email": user.email, "password": "sai-mat-khau-1"})
    unknown_email = api.post(f"{API}/auth/token",
                             json={"email": "khong-ton-tai@example.vn", "password": make.PASSWORD})
    err = assert_error(wrong_password, 401)
    assert_error(unknown_email, 401)
    assert wrong_password.get_json() == unknown_email.get_json()
    assert is_vietnamese(err["message"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a@example.vn"}, "password"),
        ({"password": "x" * 12}, "email"),
        ({"email": "a@example.vn", "password": ""}, "password"),
        ({"email": 5, "password": "x" * 12}, "email"),
    ],
)
def test_token_validation(api, body, field):
    err = assert_error(api.post(f"{API}/auth/token", json=body), 422, "validation_failed")
    assert field in err["fields"]


@pytest.mark.parametrize("raw", ["{not json", '{"email": "a@b.vn",', "", "   "])
def test_token_malformed_json_is_400(api, raw):
    r = api.post(f"{API}/auth/token", data=raw, content_type="application/json")
    err = assert_error(r, 400, "malformed_json")
    assert is_vietnamese(err["message"])


@pytest.mark.parametrize("raw", ["[1, 2]", '"chuỗi"', "42", "null"])
def test_json_that_is_not_an_object_is_422(api, raw):
    r = api.post(f"{API}/auth/token", data=raw, content_type="application/json")
    assert_error(r, 422, "validation_failed")


@pytest.mark.parametrize(
    "role, province, roles_out, province_out",
    [
        ("applicant", None, ["applicant"], None),
        ("province_officer", "HNI", ["province_officer"], "HNI"),
        (("ministry_officer", "admin"), None, ["admin", "ministry_officer"], None),
    ],
)
def test_me(api, make, role, province, roles_out, province_out):
    user = make.user(role, province, full_name="Phạm Thị Hằng")
    r = api.get(f"{API}/me", user)
    assert r.status_code == 200
    body = r.get_json()
    assert body["email"] == user.email
    assert body["full_name"] == "Phạm Thị Hằng"
    assert sorted(body["roles"]) == roles_out
    assert body["province_code"] == province_out


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer khong-phai-ma-that", "Basic dXNlcjpwYXNz", "Token abc"],
)
def test_me_without_a_valid_token_is_401(api, header):
    headers = {} if header is None else {"Authorization": header}
    err = assert_error(api.get(f"{API}/me", headers=headers), 401, "unauthorized")
    assert is_vietnamese(err["message"])


def test_expired_token_is_401(api, make):
    user = make.user("applicant")
    token = api.token(user)
    row = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(token.encode()).hexdigest())
    )
    row.expires_at = datetime.now().astimezone() - timedelta(minutes=1)
    db.session.commit()
    assert_error(api.get(f"{API}/me", user), 401, "unauthorized")


def test_all_401_answers_are_identical(api):
    a = api.get(f"{API}/me")
    b = api.get(f"{API}/me", headers={"Authorization": "Bearer sai"})
    c = api.get(f"{API}/nominations", headers={"Authorization": "Bearer sai"})
    assert a.status_code == b.status_code == c.status_code == 401
    assert a.get_json() == b.get_json() == c.get_json()


# == provinces and rounds =====================================================


def test_provinces_34_active_units(api):
    r = api.get(f"{API}/provinces")
    assert r.status_code == 200
    rows = r.get_json()
    assert len(rows) == 34
    codes = {p["code"] for p in rows}
    assert len(codes) == 34
    assert {"HNI", "HPG", "HCM"} <= codes
    for p in rows:
        assert isinstance(p["code"], str) and p["code"]
        assert isinstance(p["name"], str) and p["name"]
        assert p.get("active", True) is True
    hanoi = next(p for p in rows if p["code"] == "HNI")
    assert hanoi["name"] == "Hà Nội"


def test_provinces_include_inactive_history(api):
    rows = api.get(f"{API}/provinces?include_inactive=1").get_json()
    assert len(rows) > 34
    inactive = [p for p in rows if p["active"] is False]
    assert inactive, "the former provinces are kept, flagged inactive"
    assert sum(1 for p in rows if p["active"]) == 34


def test_provinces_all_gives_each_former_unit_its_successor_and_merger_date(api):
    """api-v1.md v1.1: GET /provinces?all=1, former units with ``active``, ``successor_code``, ``merged_on``."""
    rows = api.get(f"{API}/provinces?all=1").get_json()
    assert rows == api.get(f"{API}/provinces?include_inactive=1").get_json()  # the older spelling still works
    by_code = {p["code"]: p for p in rows}
    former = [p for p in rows if not p["active"]]
    assert former and all(p["successor_code"] in by_code and by_code[p["successor_code"]]["active"]
                          and p["merged_on"] for p in former), former[:3]
    assert all(p["successor_code"] is None and p["merged_on"] is None for p in rows if p["active"])
    assert len(api.get(f"{API}/provinces").get_json()) == 34


ROUND_KEYS = {"id", "number", "name", "status", "governing_decree", "deadlines"}


def test_rounds_list_is_public(api, make):
    on = today()
    make.round(number=901, name="Đợt 901", intake_opens=on - timedelta(days=1),
               intake_closes=on + timedelta(days=5), deadlines={"province_to_ministry": "2030-01-31"})
    r = api.get(f"{API}/rounds")
    assert r.status_code == 200
    rows = r.get_json()
    assert isinstance(rows, list)
    row = next(x for x in rows if x["number"] == 901)
    assert ROUND_KEYS <= set(row)
    assert row["name"] == "Đợt 901"
    assert row["status"] == "intake"
    assert row["deadlines"] == {"province_to_ministry": "2030-01-31"}


@pytest.mark.parametrize("role", ["admin", "ministry_officer"])
def test_create_round(api, make, role):
    user = make.user(role)
    body = {
        "number": 777,
        "name": "Đợt diễn tập",
        "governing_decree": "43/2024",
        "intake_opens": "2030-01-01",
        "intake_closes": "2030-03-31",
        "deadlines": {"province_to_ministry": "2030-06-30"},
    }
    r = api.post(f"{API}/rounds", user, json=body)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert ROUND_KEYS <= set(out)
    assert out["number"] == 777 and out["name"] == "Đợt diễn tập"
    assert out["consultation_days"] == 20  # contract defaults
    assert out["consultation_windows"] == 2
    assert out["deadlines"] == {"province_to_ministry": "2030-06-30"}
    assert out["status"] == "planned"
    listed = api.get(f"{API}/rounds").get_json()
    assert any(x["id"] == out["id"] for x in listed)


def test_create_round_with_short_windows(api, make):
    r = api.post(f"{API}/rounds", make.user("admin"), json={
        "number": 778, "name": "Đợt thử", "intake_opens": "2030-01-01", "intake_closes": "2030-01-02",
        "consultation_days": 1, "consultation_windows": 0,
    })
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["consultation_days"] == 1
    assert r.get_json()["consultation_windows"] == 0


@pytest.mark.parametrize("role", ["applicant", "province_officer", "province_council_member",
                                  "government_officer"])
def test_create_round_wrong_role_is_403(api, make, role):
    r = api.post(f"{API}/rounds", make.user(role), json={
        "number": 779, "name": "X", "intake_opens": "2030-01-01", "intake_closes": "2030-02-01"})
    err = assert_error(r, 403, "forbidden")
    assert is_vietnamese(err["message"])


def test_create_round_without_token_is_401(api):
    assert_error(api.post(f"{API}/rounds", json={"number": 1}), 401)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"number": 0}, "number"),
        ({"number": "mười"}, "number"),
        ({"intake_opens": "2030-02-30"}, "intake_opens"),
        ({"intake_closes": "31/03/2030"}, "intake_closes"),
        ({"governing_decree": "99/2099"}, "governing_decree"),
        ({"consultation_windows": 3}, "consultation_windows"),
        ({"consultation_days": -1}, "consultation_days"),
        ({"deadlines": {"x": "not-a-date"}}, "deadlines.x"),
    ],
)
def test_create_round_validation(api, make, change, field):
    body = {"number": 780, "name": "Đợt", "intake_opens": "2030-01-01", "intake_closes": "2030-02-01"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    err = assert_error(api.post(f"{API}/rounds", make.user("admin"), json=body), 422, "validation_failed")
    assert field in err["fields"], err
    assert is_vietnamese(err["message"])


def test_create_round_closing_before_opening_is_422(api, make):
    r = api.post(f"{API}/rounds", make.user("admin"), json={
        "number": 781, "name": "Đợt", "intake_opens": "2030-03-01", "intake_closes": "2030-02-01"})
    err = assert_error(r, 422, "validation_failed")
    assert err["fields"]


def test_create_round_duplicate_number_is_422(api, make):
    admin = make.user("admin")
    body = {"number": 782, "name": "Đợt", "intake_opens": "2030-01-01", "intake_closes": "2030-02-01"}
    assert api.post(f"{API}/rounds", admin, json=body).status_code == 201
    err = assert_error(api.post(f"{API}/rounds", admin, json=body), 422)
    assert "number" in err["fields"]


def test_create_round_malformed_json_is_400(api, make):
    r = api.post(f"{API}/rounds", make.user("admin"), data="{", content_type="application/json")
    assert_error(r, 400, "malformed_json")


# == creating nominations =====================================================

NOMINATION_OUT_KEYS = {"id", "code", "state", "state_label", "province_code", "created_at",
                       "updated_at", "title", "posthumous", "nominee", "craft", "craft_periods",
                       "products", "learners_trained", "filed_by"}


def test_applicant_creates_a_draft(api, make, people):
    data = make.nomination_data()
    r = api.post(f"{API}/nominations", people.applicant, json=data)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert NOMINATION_OUT_KEYS <= set(out)
    assert out["state"] == "draft"
    assert out["state_label"] == STATE_INFO[State.DRAFT].staff_label
    assert is_vietnamese(out["state_label"])
    assert out["code"] is None
    assert out["province_code"] == "HNI"
    assert out["history"] == []
    assert "access_key" not in out
    assert out["nominee"]["full_name"] == "Nguyễn Văn Ánh"
    assert out["nominee"]["birth_date"] == "1960-05-01"
    assert out["craft_periods"] == [{"from": "1985-01-01", "to": "2005-12-31",
                                     "workplace": "Xưởng gốm Bát Tràng", "role": None}]
    assert out["products"][0]["award"]["level"] == "national"
    assert_iso_with_offset(out["created_at"])
    assert_iso_with_offset(out["updated_at"])
    assert r.headers["Location"].endswith(f"/api/v1/nominations/{out['id']}")
    # and it can be read back
    again = api.get(f"{API}/nominations/{out['id']}", people.applicant)
    assert again.status_code == 200
    assert again.get_json()["nominee"] == out["nominee"]


def test_text_is_normalised_to_nfc(api, make, people):
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")
    data = make.nomination_data(nominee={"full_name": nfd}, craft=unicodedata.normalize("NFD", "Gốm sứ"))
    out = api.post(f"{API}/nominations", people.applicant, json=data).get_json()
    assert out["nominee"]["full_name"] == unicodedata.normalize("NFC", "Nguyễn Văn Ánh")
    assert out["nominee"]["full_name"] != nfd
    assert out["craft"] == "Gốm sứ"


def test_province_officer_files_in_own_province(api, make, people):
    data = make.nomination_data()
    del data["nominee"]["province_code"]
    r = api.post(f"{API}/nominations", people.officer, json=data)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["province_code"] == "HNI"


def test_province_officer_cannot_file_in_another_province(api, make, people):
    r = api.post(f"{API}/nominations", people.officer, json=make.nomination_data(province="HPG"))
    assert_error(r, 403, "forbidden")


@pytest.mark.parametrize("role", ["ministry_officer", "admin", "province_council_member",
                                  "state_council_member", "government_officer"])
def test_create_nomination_wrong_role_is_403(api, make, role):
    r = api.post(f"{API}/nominations", make.user(role), json=make.nomination_data())
    err = assert_error(r, 403, "forbidden")
    assert is_vietnamese(err["message"])


def test_create_nomination_without_token_is_401(api, make):
    assert_error(api.post(f"{API}/nominations", json=make.nomination_data()), 401, "unauthorized")


def test_create_nomination_malformed_json_is_400(api, people):
    r = api.post(f"{API}/nominations", people.applicant, data='{"title": "people"',
                 content_type="application/json")
    err = assert_error(r, 400, "malformed_json")
    assert is_vietnamese(err["message"])


def _without_full_name(data):
    del data["nominee"]["full_name"]


def _set(path, value):
    def change(data):
        target = data
        *parents, last = path.split(".")
        for key in parents:
            target = target[key]
        target[last] = value

    return change


@pytest.mark.parametrize(
    "change, field",
    [
        pytest.param(_without_full_name, "nominee.full_name", id="missing-full-name"),
        pytest.param(_set("nominee.full_name", "   "), "nominee.full_name", id="blank-full-name"),
        pytest.param(_set("nominee.birth_date", "1960-13-45"), "nominee.birth_date", id="bad-date"),
        pytest.param(_set("nominee.birth_date", "01/05/1960"), "nominee.birth_date", id="dmy-date"),
        pytest.param(_set("nominee.birth_date", (date.today() + timedelta(days=3)).isoformat()),
                     "nominee", id="birth-in-future"),
        pytest.param(_set("nominee.phone", "gọi tôi"), "nominee.phone", id="bad-phone"),
        pytest.param(_set("title", "hero"), "title", id="unknown-title"),
        pytest.param(_set("round_id", "một"), "round_id", id="round-not-int"),
        pytest.param(_set("round_id", 987654), "round_id", id="unknown-round"),
        pytest.param(_set("nominee.province_code", "XYZ"), "nominee.province_code", id="unknown-province"),
        pytest.param(_set("learners_trained", -1), "learners_trained", id="negative-learners"),
        pytest.param(_set("craft_periods", [{"from": "2005-01-01", "to": "1985-01-01"}]),
                     "craft_periods.0", id="period-reversed"),
        pytest.param(_set("products", [{"name": "Bình", "award": {"level": "galactic"}}]),
                     "products.0.award.level", id="bad-award-level"),
        pytest.param(_set("nominee", "Nguyễn Văn Ánh"), "nominee", id="nominee-not-object"),
    ],
)
def test_create_nomination_validation(api, make, people, change, field):
    data = make.nomination_data()
    change(data)
    err = assert_error(api.post(f"{API}/nominations", people.applicant, json=data), 422, "validation_failed")
    assert field in err["fields"], err
    assert is_vietnamese(err["message"])
    assert all(is_vietnamese(v) for v in err["fields"].values()), err


def test_missing_full_name_message(api, make, people):
    data = make.nomination_data()
    _without_full_name(data)
    err = assert_error(api.post(f"{API}/nominations", people.applicant, json=data), 422)
    assert err["fields"]["nominee.full_name"] == "Trường này là bắt buộc."


def test_bad_date_message(api, make, people):
    data = make.nomination_data(nominee={"birth_date": "1960-02-30"})
    err = assert_error(api.post(f"{API}/nominations", people.applicant, json=data), 422)
    assert "YYYY-MM-DD" in err["fields"]["nominee.birth_date"]


@pytest.mark.parametrize(
    "posthumous, death_date, words",
    [
        (True, None, "ngày mất"),  # posthumous without a death date
        (False, "2020-01-01", "truy tặng"),  # a death date but not posthumous
    ],
)
def test_posthumous_needs_death_date(api, make, people, posthumous, death_date, words):
    data = make.nomination_data(posthumous=posthumous, nominee={"death_date": death_date},
                                filed_by={"full_name": "Nguyễn Văn Bình", "relationship": "child"})
    err = assert_error(api.post(f"{API}/nominations", people.applicant, json=data), 422, "validation_failed")
    assert err["fields"], err
    assert any(words in v.lower() for v in err["fields"].values()), err


def test_posthumous_with_death_date_is_accepted(api, make, people):
    data = make.nomination_data(posthumous=True, nominee={"death_date": "2020-01-01"},
                                filed_by={"full_name": "Nguyễn Văn Bình", "relationship": "child"})
    r = api.post(f"{API}/nominations", people.applicant, json=data)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["posthumous"] is True
    assert r.get_json()["nominee"]["death_date"] == "2020-01-01"


def test_death_before_birth_is_422(api, make, people):
    data = make.nomination_data(posthumous=True, nominee={"death_date": "1950-01-01"})
    err = assert_error(api.post(f"{API}/nominations", people.applicant, json=data), 422)
    assert err["fields"]


# == listing ==================================================================


def _build_listing(make, people):
    """Dossiers in two provinces and two rounds, in several states."""
    round1 = make.current_round()
    round2 = make.round(name="Đợt hai")
    merit = {"decision_no": "123/QĐ-CTN", "decision_date": "2019-08-30", "field": "handicraft"}
    n = SimpleNamespace(round1=round1, round2=round2)
    n.anh = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    n.dao = make.nomination(State.ACCEPTED, owner=people.applicant, officer=people.officer,
                            title="people", meritorious_title=merit,
                            nominee={"full_name": "Trần Thị Đào"})
    n.hoa = make.nomination(State.RETURNED, owner=people.other_applicant, officer=people.officer,
                            nominee={"full_name": "Nguyễn Thị Hoa"}, round_id=round2.id)
    n.khoi = make.nomination(State.SUBMITTED, province="HPG", owner=people.other_applicant,
                             officer=people.officer_hpg, nominee={"full_name": "Lê Đình Khôi"})
    n.percent = make.nomination(State.SUBMITTED, owner=people.other_applicant, officer=people.officer,
                                nominee={"full_name": "Đặng Văn Đức"})
    # A draft is the applicant's alone: staff never list it.
    n.draft = make.nomination(State.DRAFT, owner=people.other_applicant,
                              nominee={"full_name": "Nguyễn Văn Ánh"})
    return n


def _listing_fingerprint():
    """Everything a list answer is made of: the dossiers (who, where, when, in which state), the accounts."""
    from artisan_awards.models import Nomination, User

    dossiers = db.session.execute(sa.select(
        Nomination.id, Nomination.state, Nomination.province_code, Nomination.round_id, Nomination.title,
        Nomination.code, Nomination.full_name, Nomination.name_key, Nomination.owner_id,
        Nomination.updated_at).order_by(Nomination.id)).all()
    accounts = db.session.execute(sa.select(User.id, User.active, User.province_code).order_by(User.id)).all()
    roles = db.session.execute(sa.text("SELECT user_id, role FROM user_roles ORDER BY user_id, role")).all()
    rounds = db.session.execute(sa.text("SELECT id FROM rounds ORDER BY id")).all()
    return [[tuple(r) for r in rows] for rows in (dossiers, accounts, roles, rounds)]


@pytest.fixture(scope="module")
def _listing_world(database_factory, tmp_path_factory):
    """The list tests' dossiers (``_build_listing``, with the people of ``conftest.people``) built once for
    the module with real commits, in a database of their own, and the tokens of those people made once.

    The list tests only read (GET): ``listed`` checks after each of them that nothing a list is made of
    changed, so no test can pass or fail because of what another one left."""
    from artisan_awards import create_app
    from tests.apps import _config
    from tests.conftest import ApiClient
    from tests.factories import Factory

    root = tmp_path_factory.mktemp("api-listing")
    url, drop = database_factory.new(root)
    app = create_app(_config(url, root))
    with app.app_context():
        make = Factory()
        people = SimpleNamespace(
            applicant=make.user("applicant"), other_applicant=make.user("applicant"),
            officer=make.user("province_officer", "HNI"), officer_hpg=make.user("province_officer", "HPG"),
            ministry=make.user("ministry_officer"), admin=make.user("admin"))
        n = _build_listing(make, people)
        db.session.commit()
        plain = lambda row: SimpleNamespace(id=row.id, email=getattr(row, "email", None),  # noqa: E731
                                            code=getattr(row, "code", None))
        people = SimpleNamespace(**{k: plain(v) for k, v in vars(people).items()})
        listing = SimpleNamespace(**{k: plain(v) for k, v in vars(n).items()})
        fingerprint = _listing_fingerprint()
        db.session.remove()
    world = SimpleNamespace(app=app, api=ApiClient(app.test_client()), people=people, listing=listing,
                            fingerprint=fingerprint)
    yield world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def listed(_listing_world):
    """(api, people, listing) on the module's listing world; fails the test that changed it."""
    w = _listing_world
    yield w.api, w.people, w.listing
    with w.app.app_context():
        assert _listing_fingerprint() == w.fingerprint, "a list test changed the shared listing world"
        db.session.remove()


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


def test_list_shape_and_visibility_for_ministry(listed):
    api, people, listing = listed
    # Every dossier here is still at a province: the ministry officer sees them only once they reach
    # the ministry (scope by stage); the administrator sees every dossier but the drafts.
    assert _ids(api.get(f"{API}/nominations", people.ministry)) == set()
    r = api.get(f"{API}/nominations", people.admin)
    assert r.status_code == 200
    body = r.get_json()
    assert set(body) >= {"items", "total", "page"}
    assert body["page"] == 1
    expected = {listing.anh.id, listing.dao.id, listing.hoa.id, listing.khoi.id, listing.percent.id}
    assert {i["id"] for i in body["items"]} == expected
    assert body["total"] == 5
    assert listing.draft.id not in {i["id"] for i in body["items"]}
    for item in body["items"]:
        assert {"id", "code", "state", "state_label", "province_code"} <= set(item)


def test_province_officer_lists_own_province_only(listed):
    api, people, listing = listed
    assert _ids(api.get(f"{API}/nominations", people.officer)) == {
        listing.anh.id, listing.dao.id, listing.hoa.id, listing.percent.id}
    assert _ids(api.get(f"{API}/nominations", people.officer_hpg)) == {listing.khoi.id}
    # Asking for another province does not reveal it.
    r = api.get(f"{API}/nominations?province_code=HPG", people.officer)
    assert r.get_json()["items"] == [] and r.get_json()["total"] == 0


@pytest.mark.parametrize(
    "query, names",
    [
        ("state=submitted", {"anh", "khoi", "percent"}),
        ("state=accepted", {"dao"}),
        ("state=awarded", set()),
        ("state=khong-co", set()),
        ("province_code=HPG", {"khoi"}),
        ("province_code=HNI&state=returned", {"hoa"}),
        ("title=people", {"dao"}),
        ("title=meritorious&province_code=HNI", {"anh", "hoa", "percent"}),
        ("round_id={round2}", {"hoa"}),
        ("round_id={round1}&state=submitted", {"anh", "khoi", "percent"}),
        ("q=nguyen van anh", {"anh"}),
        ("q=NGUYEN VAN ANH", {"anh"}),
        ("q=Nguyễn Văn Ánh", {"anh"}),
        ("q=  nguyen   van   anh  ", {"anh"}),
        ("q=nguyen", {"anh", "hoa"}),
        ("q=dao", {"dao"}),
        ("q=đặng văn đức", {"percent"}),
        ("q=dang van duc", {"percent"}),
        ("q=khoi&province_code=HNI", set()),
        ("q=%", set()),
        ("q=_", set()),
        ("q=nguyen&state=returned", {"hoa"}),
    ],
)
def test_list_filters(listed, query, names):
    api, people, listing = listed
    query = query.format(round1=listing.round1.id, round2=listing.round2.id)
    r = api.get(f"{API}/nominations?{query}", people.admin)  # sees every province's dossiers at every stage
    expected = {getattr(listing, name).id for name in names}
    assert _ids(r) == expected
    assert r.get_json()["total"] == len(expected)


def test_list_q_accepts_decomposed_unicode(listed):
    api, people, listing = listed
    q = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")
    assert _ids(api.get(f"{API}/nominations", people.admin, query_string={"q": q})) == {listing.anh.id}


def test_list_q_finds_dossier_code(listed):
    api, people, listing = listed
    code = listing.khoi.code  # read after its submission was committed
    assert code
    assert _ids(api.get(f"{API}/nominations", people.admin,
                        query_string={"q": code.lower()})) == {listing.khoi.id}


def test_list_pagination(listed):
    api, people, listing = listed
    seen = []
    for page in (1, 2, 3):
        r = api.get(f"{API}/nominations?per_page=2&page={page}", people.admin)
        body = r.get_json()
        assert r.status_code == 200
        assert body["page"] == page
        assert body["total"] == 5
        assert len(body["items"]) == (2 if page < 3 else 1)
        seen += [i["id"] for i in body["items"]]
    assert len(seen) == len(set(seen)) == 5
    beyond = api.get(f"{API}/nominations?per_page=2&page=9", people.admin).get_json()
    assert beyond["items"] == [] and beyond["total"] == 5 and beyond["page"] == 9
    assert len(api.get(f"{API}/nominations?per_page=100", people.admin).get_json()["items"]) == 5


@pytest.mark.parametrize(
    "query, field",
    [
        ("per_page=101", "per_page"),
        ("per_page=1000", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=-5", "per_page"),
        ("page=0", "per_page"),
        ("page=abc", "page"),
        ("per_page=1.5", "page"),
        ("round_id=abc", "round_id"),
        ("round_id=-1", "round_id"),
    ],
)
def test_list_bad_query_is_422(api, people, query, field):
    err = assert_error(api.get(f"{API}/nominations?{query}", people.ministry), 422, "validation_failed")
    assert err["fields"], err
    assert is_vietnamese(err["message"])


@pytest.mark.parametrize("role", ["applicant"])
def test_list_is_staff_only(api, make, role):
    err = assert_error(api.get(f"{API}/nominations", make.user(role)), 403, "forbidden")
    assert is_vietnamese(err["message"])


def test_list_without_token_is_401(api):
    assert_error(api.get(f"{API}/nominations"), 401, "unauthorized")


# == one nomination ===========================================================


def test_get_nomination_with_history(api, make, people):
    n = make.nomination(State.ACCEPTED, owner=people.applicant, officer=people.officer)
    r = api.get(f"{API}/nominations/{n.id}", people.applicant)
    assert r.status_code == 200
    out = r.get_json()
    assert out["id"] == n.id and out["state"] == "accepted"
    assert out["state_label"] == STATE_INFO[State.ACCEPTED].staff_label
    assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", out["code"])
    assert "access_key" not in out
    history = out["history"]
    assert [(h["from"], h["to"], h["action"]) for h in history] == [
        ("draft", "submitted", "submit"), ("submitted", "accepted", "accept")]
    assert history[0]["actor"] == people.applicant.full_name
    assert history[1]["actor"] == people.officer.full_name
    assert history[1]["comment"] == "Lý do thử nghiệm"
    for h in history:
        assert set(h) >= {"from", "to", "action", "actor", "at", "comment"}
        assert_iso_with_offset(h["at"])


@pytest.mark.parametrize("who", ["officer", "admin"])
def test_staff_who_may_see_get_the_dossier(api, make, people, who):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    r = api.get(f"{API}/nominations/{n.id}", actor(people, n, who))
    assert r.status_code == 200
    assert len(r.get_json()["history"]) == 1


def test_ministry_officer_does_not_see_a_dossier_still_at_the_province(api, make, people):
    """Scope by stage (tests/test_route_matrix.py plays every stage): 404, like a missing dossier."""
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    assert_error(api.get(f"{API}/nominations/{n.id}", people.ministry), 404, "nomination_not_found")


@pytest.mark.parametrize(
    "state, province, who",
    [
        (State.SUBMITTED, "HPG", "officer"),  # another province's dossier: 404, never 403
        (State.ACCEPTED, "HPG", "officer"),
        (State.SUBMITTED, "HNI", "officer_hpg"),
        (State.SUBMITTED, "HNI", "applicant"),  # someone else's dossier
        (State.DRAFT, "HNI", "officer"),  # drafts are the owner's alone
        (State.DRAFT, "HNI", "ministry"),
        (State.DRAFT, "HNI", "applicant"),
    ],
)
def test_invisible_dossier_is_404_like_an_unknown_one(api, make, people, state, province, who):
    owner = make.user("applicant")
    officer = people.officer_hpg if province == "HPG" else people.officer
    n = make.nomination(state, owner=owner, province=province, officer=officer)
    user = actor(people, n, who)
    hidden = api.get(f"{API}/nominations/{n.id}", user)
    unknown = api.get(f"{API}/nominations/{n.id + 100000}", user)
    err = assert_error(hidden, 404)
    assert_error(unknown, 404)
    assert hidden.get_json() == unknown.get_json()
    assert is_vietnamese(err["message"])
    # Nor can one act on it, patch it or attach to it: still 404.
    assert act(api, n.id, "accept", user).get_json() == unknown.get_json()
    assert api.patch(f"{API}/nominations/{n.id}", user, json={"craft": "X"}).get_json() == unknown.get_json()
    assert upload(api, n.id, user, png_bytes(), "a.png").get_json() == unknown.get_json()
    assert_error(act(api, n.id, "accept", user), 404)


def test_get_nomination_without_token_is_401(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    assert_error(api.get(f"{API}/nominations/{n.id}"), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/nominations/0", "/nominations/abc", "/khong-co",
                                  "/nominations/1/khong-co"])
def test_unknown_paths_are_404_in_the_error_shape(api, people, path):
    assert_error(api.get(API + path, people.ministry), 404)


def test_wrong_method_is_405_in_the_error_shape(api, people):
    r = api.client.delete(f"{API}/nominations", headers=api.headers(people.ministry))
    assert_error(r, 405)


# == PATCH ====================================================================


@pytest.mark.parametrize("state", [State.DRAFT, State.RETURNED])
def test_owner_patches_draft_or_returned(api, make, people, state):
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    before = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    r = api.patch(f"{API}/nominations/{n.id}", people.applicant,
                  json={"craft": "Sơn mài", "nominee": {"address": "Số 5 phố Hàng Gai, Hà Nội"}})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["craft"] == "Sơn mài"
    assert out["nominee"]["address"] == "Số 5 phố Hàng Gai, Hà Nội"
    # Fields not sent are kept.
    assert out["nominee"]["full_name"] == before["nominee"]["full_name"]
    assert out["nominee"]["birth_date"] == before["nominee"]["birth_date"]
    assert out["craft_periods"] == before["craft_periods"]
    assert out["products"] == before["products"]
    assert out["state"] == state
    assert len(out["history"]) == len(before["history"])  # editing is not a transition
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["craft"] == "Sơn mài"


@pytest.mark.parametrize("state", [State.SUBMITTED, State.ACCEPTED, State.WITHDRAWN,
                                   State.CLOSED_INCOMPLETE])
def test_patch_outside_draft_or_returned_is_409(api, make, people, state):
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    r = api.patch(f"{API}/nominations/{n.id}", people.applicant, json={"craft": "Sơn mài"})
    err = assert_error(r, 409)
    assert is_vietnamese(err["message"])
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["craft"] == "Gốm sứ"


def test_patch_by_staff_who_can_see_it_is_403(api, make, people):
    n = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    for user in (people.officer, people.admin):  # (a ministry officer does not see a dossier at the province)
        assert_error(api.patch(f"{API}/nominations/{n.id}", user, json={"craft": "X"}), 403, "forbidden")
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["craft"] == "Gốm sứ"


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"nominee": {"full_name": ""}}, "nominee.full_name"),
        ({"nominee": {"birth_date": "1960-02-31"}}, "nominee.birth_date"),
        ({"title": "vip"}, "title"),
        ({"learners_trained": "nhiều"}, "learners_trained"),
        ({"nominee": {"province_code": "HPG"}}, "nominee.province_code"),
    ],
)
def test_patch_validation_is_422_and_changes_nothing(api, make, people, patch, field):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    before = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    err = assert_error(api.patch(f"{API}/nominations/{n.id}", people.applicant, json=patch),
                       422, "validation_failed")
    assert field in err["fields"], err
    after = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}


def test_patch_posthumous_without_death_date_is_422(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(api.patch(f"{API}/nominations/{n.id}", people.applicant, json={"posthumous": True}),
                       422, "validation_failed")
    assert err["fields"]


def test_patch_malformed_json_is_400(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = api.patch(f"{API}/nominations/{n.id}", people.applicant, data="{craft: 1}",
                  content_type="application/json")
    assert_error(r, 400, "malformed_json")


# == attachments ==============================================================


@pytest.mark.parametrize(
    "kind, content, filename, mime",
    [
        ("photo", png_bytes(), "san-pham.png", "image/png"),
        ("certificate", pdf_bytes(), "bang-khen.pdf", "application/pdf"),
        ("award_decision", pdf_bytes(), "quyet-dinh.PDF", "application/pdf"),
        ("award_decision", png_bytes(), "quyet-dinh-scan.png", "image/png"),
        ("other", pdf_bytes(), "tài liệu khác.pdf", "application/pdf"),
    ],
)
def test_upload_real_files(api, make, people, kind, content, filename, mime):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, content, filename, kind)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["kind"] == kind
    assert out["content_type"] == mime
    # Size and digest describe the stored file: the clean rewrite of what was sent
    # (services/cleaning.py), with the same pages or pixels.
    from artisan_awards.models import Attachment
    from artisan_awards.storage import storage

    stored = storage().get(db.session.get(Attachment, out["id"]).stored_name)
    assert out["size"] == len(stored)
    assert out["sha256"] == hashlib.sha256(stored).hexdigest()
    if mime == "image/png":
        from PIL import Image

        with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(content)) as sent:
            assert (kept.mode, kept.size, kept.tobytes()) == (sent.mode, sent.size, sent.tobytes())
    else:
        import pikepdf

        with pikepdf.open(io.BytesIO(stored)) as kept, pikepdf.open(io.BytesIO(content)) as sent:
            assert len(kept.pages) == len(sent.pages)
    assert out["name"] == unicodedata.normalize("NFC", filename)
    listed = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["attachments"]
    assert [a["id"] for a in listed] == [out["id"]]


def test_province_officer_may_upload_to_a_submitted_dossier(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    assert upload(api, n.id, people.officer, pdf_bytes(), "bien-ban.pdf", "other").status_code == 201
    # ...but not the administrator, who sees it, nor a ministry officer, for whom it is not there yet
    assert_error(upload(api, n.id, people.admin, pdf_bytes(), "x.pdf", "other"), 403)
    assert_error(upload(api, n.id, people.ministry, pdf_bytes(), "x.pdf", "other"), 404)


@pytest.mark.parametrize(
    "kind, content, filename",
    [
        ("photo", "Đây là văn bản, không phải ảnh.\n".encode() * 20, "anh.png"),
        ("certificate", b"plain text pretending\n" * 20, "giay.pdf"),
        ("photo", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "anh.png"),
        ("certificate", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200, "giay.pdf"),
        ("photo", pdf_bytes(), "anh.png"),  # a real PDF, but a photo must be an image
        ("photo", b"<html><script>alert(1)</script></html>", "anh.jpg"),
    ],
    ids=["text-as-png", "text-as-pdf", "exe-as-png", "exe-as-pdf", "pdf-as-photo", "html-as-jpg"],
)
def test_upload_refuses_disguised_files(api, make, people, kind, content, filename):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, content, filename, kind), 422, "validation_failed")
    assert "file" in err["fields"]
    assert is_vietnamese(err["fields"]["file"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 0


def test_upload_at_the_limit_is_accepted(api, make, people, app):
    limit = app.config["MAX_UPLOAD_BYTES"]
    assert limit == 2 * MiB
    content = png_bytes()
    content += b"\x00" * (limit - len(content))
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, content, "lon.png")
    assert r.status_code == 201, r.get_json()
    # What is stored is the re-encoded picture: the padding after the PNG's end is not kept.
    assert r.get_json()["size"] < 1024


@pytest.mark.parametrize("size", [2 * MiB + 1, 3 * MiB])
def test_upload_too_large_is_413(api, make, people, size):
    content = png_bytes()
    content += b"\x00" * (size - len(content))
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, content, "qua-lon.png"), 413, "too_large")
    assert is_vietnamese(err["message"])
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["attachments"] == []


def test_upload_without_file_or_with_bad_kind_is_422(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    no_file = api.post(f"{API}/nominations/{n.id}/attachments", people.applicant,
                       data={"kind": "photo"}, content_type="multipart/form-data")
    assert "file" in assert_error(no_file, 422, "validation_failed")["fields"]
    bad_kind = upload(api, n.id, people.applicant, png_bytes(), "a.png", "selfie")
    assert "kind" in assert_error(bad_kind, 422, "validation_failed")["fields"]
    empty = upload(api, n.id, people.applicant, b"", "rong.png")
    assert "file" in assert_error(empty, 422, "validation_failed")["fields"]


@pytest.mark.parametrize("state", [State.ACCEPTED, State.WITHDRAWN])
def test_upload_in_a_closed_state_is_409(api, make, people, state):
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    assert_error(upload(api, n.id, people.applicant, png_bytes(), "a.png"), 409)


def test_upload_without_token_is_401(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    assert_error(upload(api, n.id, None, png_bytes(), "a.png"), 401, "unauthorized")


# == actions ==================================================================


def test_submit_returns_the_access_key_once(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = act(api, n.id, "submit", people.applicant)
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "submitted"
    assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", out["code"])
    key = out["access_key"]
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", key)
    # Never again: not on reading, not on later actions, not on resubmission.
    assert "access_key" not in api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    returned = act(api, n.id, "return", people.officer, comment="Thiếu ảnh sản phẩm")
    assert returned.status_code == 200 and "access_key" not in returned.get_json()
    resubmitted = act(api, n.id, "resubmit", people.applicant)
    assert resubmitted.status_code == 200, resubmitted.get_json()
    assert "access_key" not in resubmitted.get_json()
    assert resubmitted.get_json()["code"] == out["code"]
    # The key still opens the public status.
    status = api.get(f"{API}/status", query_string={"code": out["code"], "key": key})
    assert status.status_code == 200
    assert status.get_json()["state"] == "submitted"


def _run_steps(api, people, n, steps):
    for action, who, comment, to in steps:
        user = actor(people, n, who)
        before = api.get(f"{API}/nominations/{n.id}", n.owner).get_json()
        rows_before = log_count(n.id)
        if action == "close_incomplete":  # only once the applicant's completion period is over (issue 14)
            expire_completion(n)
        r = act(api, n.id, action, user, comment=comment)
        assert r.status_code == 200, (action, r.get_json())
        out = r.get_json()
        assert out["state"] == to
        assert out["state_label"] == STATE_INFO[State(to)].staff_label
        assert log_count(n.id) == rows_before + 1, "exactly one history row per transition"
        assert len(out["history"]) == len(before["history"]) + 1
        assert out["history"][:-1] == before["history"]
        last = out["history"][-1]
        assert last["from"] == before["state"]
        assert last["to"] == to
        assert last["action"] == action
        assert last["actor"] == user.full_name
        assert last["comment"] == (comment.strip() if comment else None)
        assert_iso_with_offset(last["at"])
        assert api.get(f"{API}/nominations/{n.id}", n.owner).get_json()["history"] == out["history"]


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([("submit", "owner", None, "submitted"),
                      ("accept", "officer", "Hồ sơ đầy đủ, hợp lệ", "accepted")], id="accept"),
        pytest.param([("submit", "owner", "Kính gửi Sở", "submitted"),
                      ("return", "officer", "  Thiếu ảnh sản phẩm  ", "returned"),
                      ("resubmit", "owner", "Đã bổ sung ảnh", "submitted"),
                      ("accept", "officer", None, "accepted"),
                      ("withdraw", "owner", "Gia đình xin rút", "withdrawn")], id="return-resubmit"),
        pytest.param([("submit", "owner", None, "submitted"),
                      ("return", "officer", "Thiếu giấy chứng nhận", "returned"),
                      ("close_incomplete", "officer", "Quá hạn bổ sung", "closed_incomplete")],
                     id="close-incomplete"),
        pytest.param([("withdraw", "owner", None, "withdrawn")], id="withdraw-draft"),
    ],
)
def test_each_transition_writes_one_history_row(api, make, people, steps):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    _run_steps(api, people, n, steps)


def test_officer_filed_dossier_is_submitted_by_its_owner(api, make, people):
    data = make.nomination_data()
    created = api.post(f"{API}/nominations", people.officer, json=data).get_json()
    r = act(api, created["id"], "submit", people.officer)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["state"] == "submitted"
    assert "access_key" in r.get_json()


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_return_without_comment_is_422(api, make, people, comment):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    rows = log_count(n.id)
    err = assert_error(act(api, n.id, "return", people.officer, comment=comment), 422, "validation_failed")
    assert "comment" in err["fields"]
    assert is_vietnamese(err["fields"]["comment"])
    out = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    assert out["state"] == "submitted"
    assert len(out["history"]) == rows == log_count(n.id)


@pytest.mark.parametrize(
    "state, action, who, comment",
    [
        (State.SUBMITTED, "submit", "owner", None),
        (State.WITHDRAWN, "submit", "owner", None),
        (State.DRAFT, "resubmit", "owner", None),
        (State.SUBMITTED, "resubmit", "owner", None),
        (State.CLOSED_INCOMPLETE, "resubmit", "owner", None),
        (State.WITHDRAWN, "withdraw", "owner", None),
        (State.CLOSED_INCOMPLETE, "withdraw", "owner", None),
        (State.ACCEPTED, "accept", "officer", None),
        (State.RETURNED, "accept", "officer", None),
        (State.ACCEPTED, "return", "officer", "Lý do"),
        (State.ACCEPTED, "return", "officer", None),  # the state is checked before the comment
        (State.SUBMITTED, "close_incomplete", "officer", None),
        (State.ACCEPTED, "forward_to_ministry", "officer", None),
    ],
)
def test_transition_not_allowed_is_409_and_changes_nothing(api, make, people, state, action, who, comment):
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    before = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    rows = log_count(n.id)
    r = act(api, n.id, action, actor(people, n, who), comment=comment)
    err = assert_error(r, 409, "transition_not_allowed")
    assert is_vietnamese(err["message"])
    after = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    assert after["state"] == before["state"] == state
    assert after["history"] == before["history"]
    assert log_count(n.id) == rows == len(before["history"])


def test_submit_outside_the_intake_window_is_409(api, make, people):
    on = today()
    closed = make.round(intake_opens=on - timedelta(days=60), intake_closes=on - timedelta(days=1))
    n = make.nomination(State.DRAFT, owner=people.applicant, round_id=closed.id)
    err = assert_error(act(api, n.id, "submit", people.applicant), 409, "transition_not_allowed")
    assert "thời hạn" in err["message"]
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["state"] == "draft"
    assert log_count(n.id) == 0


@pytest.mark.parametrize(
    "state, action, comment",
    [
        (State.SUBMITTED, "open_consultation", None),
        (State.ACCEPTED, "hold", "Xác minh đơn thư"),
        (State.ACCEPTED, "release", None),
        (State.ACCEPTED, "forward_to_state", None),
        (State.SUBMITTED, "accept", None),
        (State.SUBMITTED, "submit_to_president", None),
    ],
)
def test_ministry_action_on_a_dossier_still_at_the_province_is_404_and_changes_nothing(
        api, make, people, state, action, comment):
    """The ministry officer sees a dossier only from its arrival at the ministry: before, it is not there."""
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    rows = log_count(n.id)
    assert_error(act(api, n.id, action, people.ministry, comment=comment), 404, "nomination_not_found")
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["state"] == state
    assert log_count(n.id) == rows


def test_submit_incomplete_dossier_is_422_with_fields(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant, title="people", craft_periods=[],
                        learners_trained=None)
    err = assert_error(act(api, n.id, "submit", people.applicant), 422, "validation_failed")
    assert {"craft_periods", "learners_trained", "meritorious_title"} <= set(err["fields"])
    out = api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()
    assert out["state"] == "draft" and out["code"] is None and out["history"] == []


@pytest.mark.parametrize(
    "state, action, who",
    [
        (State.SUBMITTED, "accept", "owner"),  # the applicant is no officer
        (State.SUBMITTED, "return", "owner"),
        (State.SUBMITTED, "accept", "admin"),  # the administrator sees it but is not the province secretariat
        (State.SUBMITTED, "withdraw", "officer"),  # only the owner withdraws
        (State.RETURNED, "resubmit", "officer"),
        (State.ACCEPTED, "open_consultation", "officer"),
        (State.SUBMITTED, "submit_to_president", "admin"),
    ],
)
def test_wrong_role_for_the_action_is_403(api, make, people, state, action, who):
    n = make.nomination(state, owner=people.applicant, officer=people.officer)
    rows = log_count(n.id)
    err = assert_error(act(api, n.id, action, actor(people, n, who), comment="Lý do"), 403, "forbidden")
    assert is_vietnamese(err["message"])
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["state"] == state
    assert log_count(n.id) == rows


def test_unknown_action_is_404(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    assert_error(act(api, n.id, "approve_everything", people.officer), 404)
    assert_error(act(api, n.id, "province_pass", people.officer), 404)  # council events are not actions
    assert api.get(f"{API}/nominations/{n.id}", people.applicant).get_json()["state"] == "submitted"


def test_action_with_malformed_json_is_400(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    r = api.post(f"{API}/nominations/{n.id}/actions/accept", people.officer, data='{"comment": ',
                 content_type="application/json")
    assert_error(r, 400, "malformed_json")
    assert log_count(n.id) == 1


def test_action_with_bad_body_is_422(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    r = act(api, n.id, "accept", people.officer, comment=["không", "phải", "chuỗi"])
    assert "comment" in assert_error(r, 422, "validation_failed")["fields"]
    assert log_count(n.id) == 1


def test_action_without_token_is_401(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    assert_error(act(api, n.id, "accept", None), 401, "unauthorized")


# == public status ============================================================


@pytest.fixture
def submitted(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    out = act(api, n.id, "submit", people.applicant).get_json()
    return SimpleNamespace(nomination=n, code=out["code"], key=out["access_key"])


@pytest.mark.parametrize("transform", [str, str.lower, lambda k: f"  {k} "],
                         ids=["as-issued", "lower-case", "padded"])
def test_status_lookup(api, submitted, transform):
    r = api.get(f"{API}/status", query_string={"code": submitted.code, "key": transform(submitted.key)})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) >= {"code", "state", "state_label", "updated_at", "next_step"}
    assert body["code"] == submitted.code
    assert body["state"] == "submitted"
    info = STATE_INFO[State.SUBMITTED]
    assert body["state_label"] == info.citizen_label  # the citizen's wording, not the staff's
    assert body["state_label"] != info.staff_label
    assert body["next_step"] == info.next_step
    assert is_vietnamese(body["next_step"])
    assert_iso_with_offset(body["updated_at"])
    assert "full_name" not in body and "nominee" not in body and "history" not in body


def test_status_follows_the_dossier(api, people, submitted):
    act(api, submitted.nomination.id, "accept", people.officer)
    body = api.get(f"{API}/status", query_string={"code": submitted.code, "key": submitted.key}).get_json()
    assert body["state"] == "accepted"
    assert body["state_label"] == STATE_INFO[State.ACCEPTED].citizen_label


def test_status_wrong_code_and_wrong_key_give_the_same_404(api, make, people, submitted):
    other = make.nomination(State.SUBMITTED, owner=people.other_applicant, officer=people.officer)
    db.session.refresh(other)
    answers = [
        api.get(f"{API}/status", query_string={"code": submitted.code, "key": "AAAA-BBBB"}),
        api.get(f"{API}/status", query_string={"code": "NN-2000-HNI-99999", "key": submitted.key}),
        api.get(f"{API}/status", query_string={"code": other.code, "key": submitted.key}),
        api.get(f"{API}/status", query_string={"code": submitted.code, "key": ""}),
        api.get(f"{API}/status", query_string={"code": "", "key": submitted.key}),
        api.get(f"{API}/status", query_string={"code": submitted.code}),
        api.get(f"{API}/status"),
        api.get(f"{API}/status", query_string={"code": "X" * 500, "key": "Y" * 500}),
    ]
    first = answers[0]
    err = assert_error(first, 404)
    assert is_vietnamese(err["message"])
    for r in answers:
        assert r.status_code == 404
        assert r.get_json() == first.get_json()


# == OpenAPI ==================================================================


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


@pytest.fixture
def spec(api):
    r = api.get(f"{API}/openapi.json")
    assert r.status_code == 200
    assert r.is_json
    return r.get_json()


def test_openapi_has_a_valid_shape(spec):
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"]
    assert isinstance(spec["paths"], dict) and spec["paths"]
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    operation_ids = []
    for path, item in spec["paths"].items():
        assert path.startswith("/")
        template_params = set(re.findall(r"{([^}]+)}", path))
        for method, op in item.items():
            if method == "parameters":
                continue
            assert method in methods, (path, method)
            assert isinstance(op["responses"], dict) and op["responses"], (path, method)
            for status, response in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d|default|[1-5]XX", status)
                assert response.get("description"), (path, method, status)
            declared = {p["name"] for p in op.get("parameters", []) + item.get("parameters", [])
                        if p["in"] == "path"}
            assert declared == template_params, (path, method)
            for p in op.get("parameters", []):
                assert p["in"] in {"query", "header", "path", "cookie"}
                assert "schema" in p or "content" in p
                if p["in"] == "path":
                    assert p["required"] is True
            if "operationId" in op:
                operation_ids.append(op["operationId"])
    assert len(operation_ids) == len(set(operation_ids)), "operationIds must be unique"

    # Every local $ref resolves.
    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref" and isinstance(v, str):
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    for ref in refs(spec):
        assert ref.startswith("#/"), ref
        target = spec
        for part in ref[2:].split("/"):
            assert part in target, f"unresolved $ref {ref}"
            target = target[part]
    schemes = spec["components"]["securitySchemes"]
    for item in spec["paths"].values():
        for op in item.values():
            for requirement in op.get("security", []) if isinstance(op, dict) else []:
                assert set(requirement) <= set(schemes)
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]


def test_openapi_lists_every_api_route(app, spec):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API + "/")]
    assert rules
    missing = []
    for rule in rules:
        path = _openapi_path(rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in spec["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, f"routes missing from openapi.json: {missing}"


def test_openapi_describes_no_route_that_does_not_exist(app, spec):
    served = {
        (_openapi_path(r.rule), m.lower())
        for r in app.url_map.iter_rules() if r.rule.startswith(API + "/")
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    described = {(p, m) for p, item in spec["paths"].items() for m in item if m != "parameters"}
    assert described - served == set()


def test_openapi_documents_the_contract_statuses(spec):
    paths = spec["paths"]
    assert "413" in paths["/api/v1/nominations/{nomination_id}/attachments"]["post"]["responses"]
    assert "409" in paths["/api/v1/nominations/{nomination_id}/actions/{action}"]["post"]["responses"]
    assert "404" in paths["/api/v1/status"]["get"]["responses"]
    assert "401" in paths["/api/v1/me"]["get"]["responses"]
    assert "security" not in paths["/api/v1/status"]["get"]
    assert paths["/api/v1/me"]["get"]["security"]


# == language =================================================================


@pytest.mark.parametrize(
    "call",
    [
        lambda api, people: api.get(f"{API}/me"),
        lambda api, people: api.get(f"{API}/nominations", people.applicant),
        lambda api, people: api.post(f"{API}/auth/token", data="{", content_type="application/json"),
        lambda api, people: api.get(f"{API}/nominations/999999", people.ministry),
    ],
    ids=["401", "403", "400", "404"],
)
def test_error_messages_are_vietnamese_by_default(api, people, call):
    response = call(api, people)
    assert response.status_code >= 400
    assert is_vietnamese(response.get_json()["error"]["message"])


@pytest.mark.skipif(
    not (EN_CATALOGUE / "en/LC_MESSAGES/messages.mo").exists(), reason="English catalogue not compiled"
)
def test_error_messages_in_english_on_request(app, api, make):
    user = make.user("applicant")
    api.token(user)
    # A fresh application context, so the locale is chosen for this request alone.
    with app.app_context():
        r = api.get(f"{API}/me", headers={"Accept-Language": "en"})
    with app.app_context():
        vi = api.get(f"{API}/me")
    with app.app_context():
        forbidden = api.get(f"{API}/nominations", user, headers={"Accept-Language": "en-GB,en;q=0.9"})
    for response, status in ((r, 401), (forbidden, 403)):
        err = assert_error(response, status)
        assert not is_vietnamese(err["message"]), err["message"]
        assert err["message"].isascii()
    assert is_vietnamese(vi.get_json()["error"]["message"])
    assert r.get_json()["error"]["code"] == vi.get_json()["error"]["code"]


# == bad input is never a 500 =================================================

HUGE = 10**30


@pytest.mark.parametrize(
    "method, path, kwargs, who, status, field",
    [
        ("get", "/nominations", {"query_string": {"round_id": str(HUGE)}}, "ministry", 422, "round_id"),
        ("get", "/nominations", {"query_string": {"page": str(HUGE)}}, "ministry", 422, "per_page"),
        ("get", "/nominations", {"query_string": {"round_id": "²"}}, "ministry", 422, "round_id"),
        ("get", "/nominations", {"query_string": {"round_id": "9" * 5000}}, "ministry", 422, "round_id"),
        ("get", "/nominations", {"query_string": {"page": "9" * 5000}}, "ministry", 422, "page"),
        ("get", "/nominations", {"query_string": {"q": "ngu\x00yen"}}, "ministry", 422, "q"),
        ("get", "/nominations", {"query_string": {"state": "sub\x00mitted"}}, "ministry", 422, "state"),
        ("get", f"/nominations/{HUGE}", {}, "ministry", 404, None),
        ("get", f"/nominations/{2**31}", {}, "ministry", 404, None),
        ("patch", f"/nominations/{HUGE}", {"json": {"craft": "X"}}, "applicant", 404, None),
        ("post", f"/nominations/{HUGE}/actions/submit", {}, "applicant", 404, None),
        ("post", f"/nominations/{HUGE}/attachments", {}, "applicant", 404, None),
        ("post", "/nominations", {"json": "HUGE_ROUND"}, "applicant", 422, "round_id"),
        ("post", "/nominations", {"json": "NUL_NAME"}, "applicant", 422, "nominee.full_name"),
        ("post", "/auth/token", {"json": {"email": "a\x00@example.vn", "password": "x" * 12}}, None,
         422, "email"),
        ("get", "/status", {"query_string": {"code": "NN-\x00", "key": "AAAA-BBBB"}}, None, 422, "code"),
        ("post", "/rounds", {"json": {"number": 5, "name": "Đợt\x00", "intake_opens": "2030-01-01",
                                      "intake_closes": "2030-02-01"}}, "admin", 422, "name"),
    ],
)
def test_bad_input_is_never_a_500(api, make, people, method, path, kwargs, who, status, field):
    if kwargs.get("json") == "HUGE_ROUND":
        kwargs = {"json": make.nomination_data(round_id=HUGE)}
    elif kwargs.get("json") == "NUL_NAME":
        kwargs = {"json": make.nomination_data(nominee={"full_name": "Nguyễn\x00Văn Ánh"})}
    user = {"ministry": people.ministry, "applicant": people.applicant, "admin": people.admin,
            None: None}[who]
    r = getattr(api, method)(API + path, user, **kwargs)
    if status == 404 and r.status_code == 405 and "100000000000000000" in path:
        # Werkzeug's router answers 405 to a PATCH whose id no INTEGER column can hold: a 4xx all the same.
        status = 405
    err = assert_error(r, status)
    if field:
        assert field in err["fields"], err
    if status == 404:
        # An id no database column can hold never matches a route: a plain 404, no dossier implied.
        assert err["code"] in ("not_found", "nomination_not_found"), err
