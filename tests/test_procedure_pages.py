"""The public procedure page and the help page (issue 13 item 4): everything from the app's own data."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from artisan_awards.extensions import db
from artisan_awards.i18n import vn_date
from artisan_awards.models import ProvinceIntake
from artisan_awards.services.attachments import EVIDENCE_KINDS
from artisan_awards.timeutil import today
from workflows.rules import CRITERION_NAMES


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_anyone_opens_the_procedure_without_an_account(client):
    r = client.get("/public/procedure")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for anchor in ("basis", "who", "documents", "forms", "deadlines", "contact"):
        assert f'id="{anchor}"' in html


def test_the_legal_basis_is_the_rule_set_in_force(client):
    html = client.get("/public/procedure").get_data(as_text=True)
    text = _text(html)
    assert "Nghị định 43/2024/NĐ-CP" in text and "19/04/2024" in text and "06/06/2024" in text
    assert set(re.findall(r'data-article="(\d+)"', html)) == {"2", "4", "6", "7", "14", "16"}
    assert "1200/QĐ-BCT" in text


def test_the_criteria_come_from_the_rules_with_their_verification(client):
    html = client.get("/public/procedure").get_data(as_text=True)
    people = html[html.index('data-title="people"'):html.index('data-title="meritorious"')]
    assert 'data-criterion="N0"' in people and 'data-criterion="N2"' in people
    assert CRITERION_NAMES["N0"] in people
    assert "20" in _text(people)  # the 20 years of Art. 6, the rule set's value
    merit = html[html.index('data-title="meritorious"'):]
    assert "chưa đối chiếu văn bản chính thức" in merit  # Art. 7's numbers are unverified: said so


def test_the_administrators_value_shows_on_the_page(client, make):
    from artisan_awards.services import eligibility

    admin = make.user("admin")
    eligibility.set_parameter(admin, "decree-43-2024", "N2", "min_years", 21, False, "Thử nghiệm")
    html = client.get("/public/procedure").get_data(as_text=True)
    people = html[html.index('data-title="people"'):html.index('data-title="meritorious"')]
    assert "<strong>21</strong>" in people


def test_the_documents_are_the_upload_kinds(client):
    html = client.get("/public/procedure").get_data(as_text=True)
    listed = re.findall(r'data-kind="([a-z_]+)"', html[html.index('data-testid="evidence-kinds"'):])
    assert listed[:len(EVIDENCE_KINDS)] == [str(k) for k in EVIDENCE_KINDS]
    assert "authorisation" in listed and "portrait" in listed


def test_the_blank_forms_are_real_pdfs(client):
    html = client.get("/public/procedure").get_data(as_text=True)
    for title, form in (("people", "01"), ("meritorious", "02")):
        assert f"/public/forms/{title}.pdf" in html
        r = client.get(f"/public/forms/{title}.pdf")
        assert r.status_code == 200 and r.mimetype == "application/pdf"
        assert f"mau-{form}" in r.headers["Content-Disposition"]
        text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages).split())
        assert f"Mẫu số {form}" in text and "BẢN KHAI THÀNH TÍCH" in text.upper()
    assert client.get("/public/forms/other.pdf").status_code == 404


def test_the_deadlines_are_the_newest_rounds_plan(client, make):
    on = today()
    round_ = make.round(number=990, name="Đợt thử 990", intake_opens=on - timedelta(days=3),
                        intake_closes=on + timedelta(days=40), reply_days=12, completion_days=9,
                        completion_day_kind="working")
    db.session.add(ProvinceIntake(round_id=round_.id, province_code="HNI", intake_closes=on + timedelta(days=20)))
    db.session.commit()
    text = _text(client.get("/public/procedure").get_data(as_text=True))
    assert "Đợt thử 990" in text
    assert vn_date(on - timedelta(days=3)) in text and vn_date(on + timedelta(days=40)) in text
    assert "trong 12 ngày kể từ khi nhận" in text and "trong 9 ngày làm việc" in text
    assert f"Hà Nội ({vn_date(on + timedelta(days=20))})" in text


def test_the_contacts_come_from_the_provinces_and_the_configuration(app, client):
    app.config["PROCEDURE_PROVINCE_CONTACTS"] = {"HNI": "Số 331 Cầu Giấy, 024 0000 0000"}
    html = client.get("/public/procedure").get_data(as_text=True)
    contacts = html[html.index('data-testid="province-contacts"'):]
    assert len(re.findall(r"data-province=", contacts)) == 34  # the provinces in force
    assert "Số 331 Cầu Giấy" in contacts and app.config["PROCEDURE_CONTACT"] in html


def test_the_contacts_setting_forgives_a_bad_value():
    from artisan_awards.config import _json_object

    assert _json_object('{"HNI": "x"}') == {"HNI": "x"}
    assert _json_object("not json") == _json_object("[1, 2]") == _json_object(None) == {}


def test_help_answers_with_the_rounds_numbers(client, make):
    make.round(number=991, reply_days=7, completion_days=11)
    r = client.get("/public/help")
    assert r.status_code == 200
    text = _text(r.get_data(as_text=True))
    assert "trong 7 ngày kể từ khi nhận hồ sơ" in text and "trong 11 ngày kể từ ngày trả lại" in text
    assert "%(" not in text


@pytest.mark.parametrize("path", ["/public/procedure", "/public/help"])
def test_the_pages_are_in_english_too(client, path):
    client.post("/lang/en", data={"next": path})
    text = _text(client.get(path).get_data(as_text=True))
    expected = {"/public/procedure": ("1. Legal basis", "Art. 6: the criteria", "Download blank Form 01"),
                "/public/help": ("Help and frequently asked questions", "Who may file a dossier?")}[path]
    for sentence in expected:
        assert sentence in text, sentence
