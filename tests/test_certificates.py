"""Typical products' certificates (issue 18, services/certificates.py): who issues them and when, their
validity to the day (issued, last valid day, expired, revoked), the reads the register and the schemes'
priority use.  The dossiers run through a small product selection defined in test data
(tests/data/certificates/sample-products: province, region, nation, each deciding by ballot)."""

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from markupsafe import escape

from artisan_awards.errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Certificate, InboxNotification, OutboxMessage
from artisan_awards.services import certificates, programmes
from artisan_awards.timeutil import today
from workflows.registry import registry

PROGRAMMES = Path(__file__).resolve().parent / "data" / "certificates"
PASS = {"members": 5, "present": 5, "yes": 5}


@pytest.fixture(autouse=True)
def _programme():
    registry().add_directory(PROGRAMMES)


@pytest.fixture
def world(make):
    applicant = make.user("applicant", full_name="Nguyễn Văn Gốm")
    hni, hpg = make.user("province_officer", "HNI"), make.user("province_officer", "HPG")
    ministry = make.user("ministry_officer")
    round_ = make.round(programme_id="sample-products", intake_opens=today() - timedelta(days=5))
    return applicant, hni, hpg, ministry, round_


def _dossier(world, name="Bình gốm men lam Bát Tràng", province="HNI", group="Thủ công mỹ nghệ"):
    applicant, *_, round_ = world
    n = programmes.create_dossier(applicant, round_.id, province, {
        "producer_name": "Hợp tác xã Gốm Bát Tràng", "product_name": name, "product_group": group})
    programmes.perform(n, "submit", applicant)
    return n


def _to_nation(world, n):
    _, hni, _, ministry, _ = world
    programmes.decide(n, "province", PASS, hni)
    programmes.perform(n, "send_to_region", hni)
    programmes.decide(n, "region", PASS, ministry)
    programmes.perform(n, "send_to_nation", ministry)
    programmes.decide(n, "nation", PASS, ministry)


def test_the_level_that_selected_a_product_issues_its_certificate(app, world):
    applicant, hni, hpg, ministry, _ = world
    n = _dossier(world)
    with pytest.raises(TransitionRefused) as refused:  # the province has not selected it yet
        certificates.issue_certificate(n, "province", hni)
    assert refused.value.code == "not_selected"
    programmes.decide(n, "province", PASS, hni)
    for someone in (hpg, ministry, applicant):  # another province's secretariat, another level, the producer
        with pytest.raises(Forbidden):
            certificates.issue_certificate(n, "province", someone)
    with pytest.raises(TransitionRefused):  # the region has not scored it
        certificates.issue_certificate(n, "region", ministry)
    with pytest.raises(NotFound):
        certificates.issue_certificate(n, "district", hni)

    cert = certificates.issue_certificate(n, "province", hni)
    assert cert.number == f"SPTB-T-{today().year}-{cert.id:06d}"
    assert (cert.level, cert.programme_id, cert.nomination_id, cert.province_code) == \
        ("province", "sample-products", n.id, "HNI")
    assert (cert.holder_name, cert.product_name, cert.product_group) == \
        ("Hợp tác xã Gốm Bát Tràng", "Bình gốm men lam Bát Tràng", "Thủ công mỹ nghệ")
    assert cert.issued_on == today()
    # 36 months by default: the day before the same date three years later
    assert cert.valid_until == certificates.add_months(today(), 36) - timedelta(days=1)
    with pytest.raises(TransitionRefused) as refused:  # one certificate per product and level
        certificates.issue_certificate(n, "province", hni)
    assert refused.value.code == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1

    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == "certificate_issued"))
    assert (event.target_type, event.target_id, event.target_label, event.actor_id, event.province_code) == \
        ("certificate", cert.id, cert.number, hni.id, "HNI")
    assert event.details["valid_until"] == cert.valid_until.isoformat()
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == applicant.email,
                                                            OutboxMessage.subject.contains(cert.number)))
    assert mail is not None and "cấp tỉnh" in mail.body and "Bình gốm men lam Bát Tràng" in mail.body
    assert f"/programme-dossiers/{n.id}" in mail.body  # the programme's dossier page, not the artisan one
    inbox = db.session.scalar(sa.select(InboxNotification).where(InboxNotification.user_id == applicant.id,
                                                                 InboxNotification.subject.contains(cert.number)))
    assert inbox.link == f"/programme-dossiers/{n.id}" and inbox.nomination_id == n.id


def test_each_level_issues_its_own_with_its_configured_validity(app, world):
    _, hni, _, ministry, _ = world
    app.config["CERTIFICATE_VALIDITY_MONTHS"] = {"province": 24, "region": 36, "nation": 60}
    n = _dossier(world)
    _to_nation(world, n)
    province = certificates.issue_certificate(n, "province", hni, issued_on=date(2025, 3, 1))
    region = certificates.issue_certificate(n, "region", ministry, issued_on="2025-03-31")
    nation = certificates.issue_certificate(n, "nation", ministry, issued_on=date(2024, 2, 29),
                                            number=" sptb-qg-2024 / 7 ")
    assert province.valid_until == date(2027, 2, 28)
    assert region.valid_until == date(2028, 3, 30)
    assert nation.valid_until == date(2029, 2, 27)  # 29/02/2029 does not exist: 28/02, the day before
    assert nation.number == "SPTB-QG-2024/7"
    assert region.number.startswith("SPTB-KV-2025-")
    # highest level first
    on = date(2025, 6, 1)
    assert certificates.valid_for_dossier(n.id, on) == [nation, region, province]
    assert certificates.valid_for_dossier(n.id, date(2027, 3, 1)) == [nation, region]


@pytest.mark.parametrize("day, valid", [
    (date(2025, 4, 30), False),  # the day before its issue
    (date(2025, 5, 1), True),  # issued
    (date(2028, 4, 30), True),  # the last valid day (36 months)
    (date(2028, 5, 1), False),  # expired
])
def test_validity_edges(app, world, day, valid):
    _, hni, *_ = world
    n = _dossier(world)
    programmes.decide(n, "province", PASS, hni)
    cert = certificates.issue_certificate(n, "province", hni, issued_on=date(2025, 5, 1))
    assert cert.valid_until == date(2028, 4, 30)
    assert cert.is_valid_on(day) is valid
    assert (certificates.valid_certificate(cert.number, day) == cert) is valid
    assert (certificates.valid_certificate(cert.number.lower() + "  ", day) == cert) is valid
    assert (certificates.valid_for_dossier(n.id, day) == [cert]) is valid
    assert (certificates.register(day) == [cert]) is valid


def test_a_revoked_certificate_is_valid_until_the_day_before(app, world):
    _, hni, hpg, ministry, _ = world
    n = _dossier(world)
    programmes.decide(n, "province", PASS, hni)
    cert = certificates.issue_certificate(n, "province", hni, issued_on=today() - timedelta(days=100))
    with pytest.raises(Forbidden):
        certificates.revoke(cert, hpg, "Sai phạm")
    with pytest.raises(Forbidden):
        certificates.revoke(cert, ministry, "Sai phạm")
    with pytest.raises(ValidationFailed) as refused:
        certificates.revoke(cert, hni, "   ")
    assert "reason" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        certificates.revoke(cert, hni, "Sai phạm", on=today() + timedelta(days=1))
    assert "revoked_on" in refused.value.fields
    with pytest.raises(ValidationFailed):
        certificates.revoke(cert, hni, "Sai phạm", on=cert.issued_on - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        certificates.revoke(cert, hni, "Sai phạm", on="31/12/2025")
    assert cert.revoked_on is None

    revoked_on = today() - timedelta(days=10)
    certificates.revoke(cert, hni, "Sản phẩm không còn sản xuất", on=revoked_on)
    db.session.refresh(cert)
    assert (cert.revoked_on, cert.revoked_reason) == (revoked_on, "Sản phẩm không còn sản xuất")
    assert cert.is_valid_on(revoked_on - timedelta(days=1))
    assert certificates.valid_certificate(cert.number, revoked_on - timedelta(days=1)) == cert
    assert not cert.is_valid_on(revoked_on)
    assert certificates.valid_certificate(cert.number, revoked_on) is None
    assert certificates.valid_for_dossier(n.id, today()) == []
    assert certificates.register(today()) == []
    with pytest.raises(TransitionRefused):
        certificates.revoke(cert, hni, "Lần nữa")
    kinds = list(db.session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.target_type == "certificate")
                                    .order_by(AuditEvent.id)))
    assert kinds == ["certificate_issued", "certificate_revoked"]


def test_the_register_lists_the_valid_ones_and_filters(app, world):
    _, hni, hpg, ministry, _ = world
    bat_trang, do_son = _dossier(world), _dossier(world, "Nước mắm Cát Hải", "HPG")
    old = _dossier(world, "Gốm cũ")
    programmes.decide(bat_trang, "province", PASS, hni)
    programmes.decide(do_son, "province", PASS, hpg)
    programmes.decide(old, "province", PASS, hni)
    on = today()
    a = certificates.issue_certificate(bat_trang, "province", hni)
    b = certificates.issue_certificate(do_son, "province", hpg)
    certificates.issue_certificate(old, "province", hni, issued_on=on - timedelta(days=4 * 366))  # expired
    programmes.perform(bat_trang, "send_to_region", hni)
    programmes.decide(bat_trang, "region", PASS, ministry)
    c = certificates.issue_certificate(bat_trang, "region", ministry)

    assert certificates.register(on) == [c, a, b]  # region first, then by province (HNI, HPG)
    assert certificates.register(on, level="province") == [a, b]
    assert certificates.register(on, province_code="HPG") == [b]
    assert certificates.register(on, text="cát hải") == [b]
    assert certificates.register(on, text=c.number) == [c]
    assert certificates.register(on, text="100%") == []
    assert certificates.register(on, product_group="Chế biến nông lâm thủy sản") == []
    assert certificates.valid_certificate("", on) is None
    assert certificates.valid_certificate("SPTB-KHONG-CO", on) is None


def test_bad_input_is_refused_with_the_field(app, world):
    _, hni, *_ = world
    n = _dossier(world)
    programmes.decide(n, "province", PASS, hni)
    with pytest.raises(ValidationFailed) as refused:
        certificates.issue_certificate(n, "province", hni, issued_on=today() + timedelta(days=1))
    assert refused.value.fields == {"issued_on": "Ngày cấp không được sau ngày hôm nay."}
    with pytest.raises(ValidationFailed) as refused:
        certificates.issue_certificate(n, "province", hni, issued_on="hôm qua")
    assert list(refused.value.fields) == ["issued_on"]
    with pytest.raises(ValidationFailed) as refused:
        certificates.issue_certificate(n, "province", hni, number="số <1>")
    assert list(refused.value.fields) == ["number"]
    first = certificates.issue_certificate(n, "province", hni, number="12/GCN-SCT")
    other = _dossier(world, "Gốm khác")
    programmes.decide(other, "province", PASS, hni)
    with pytest.raises(ValidationFailed) as refused:
        certificates.issue_certificate(other, "province", hni, number="12/gcn-sct")
    assert refused.value.fields == {"number": "Số giấy chứng nhận này đã được dùng."}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1
    assert first.number == "12/GCN-SCT"


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert certificates.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert certificates.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert certificates.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert certificates.add_months(date(2025, 5, 1), 36) == date(2028, 5, 1)


# -- the register's filters: one reading for the public page and the API (certificates.register_filter) ----

FOOD = "Chế biến nông lâm thủy sản"


def _register_world(world):
    """Three valid certificates (two provinces, two levels, two groups) and an expired one."""
    _, hni, hpg, ministry, _ = world
    bat_trang, cat_hai = _dossier(world), _dossier(world, "Nước mắm Cát Hải", "HPG", group=FOOD)
    old = _dossier(world, "Gốm cũ")
    for n, officer in ((bat_trang, hni), (cat_hai, hpg), (old, hni)):
        programmes.decide(n, "province", PASS, officer)
    a = certificates.issue_certificate(bat_trang, "province", hni)
    b = certificates.issue_certificate(cat_hai, "province", hpg)
    expired = certificates.issue_certificate(old, "province", hni, issued_on=today() - timedelta(days=4 * 366))
    programmes.perform(bat_trang, "send_to_region", hni)
    programmes.decide(bat_trang, "region", PASS, ministry)
    c = certificates.issue_certificate(bat_trang, "region", ministry)
    return {"province_hni": a, "province_hpg": b, "region": c, "expired": expired}


def _page_numbers(client, query) -> list[str]:
    """The certificate numbers in the page's register table, in order (the first cell of each row)."""
    r = client.get("/public/certificates", query_string=query)
    assert r.status_code == 200, (query, r.status_code)
    html = r.get_data(as_text=True)
    if 'id="register"' not in html:
        return []
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row.split("</td>", 1)[0].rsplit(">", 1)[-1] for row in body.split("<tr>")[1:]]


def test_the_register_filter_reads_every_field_once():
    from werkzeug.datastructures import MultiDict

    assert certificates.register_filter(MultiDict({"on": " 2026-03-01 ", "level": "region", "province": "HNI",
                                                   "group": "Thủ công mỹ nghệ", "q": "  gốm  "})) == \
        certificates.RegisterFilter(date(2026, 3, 1), "region", "HNI", "Thủ công mỹ nghệ", "gốm")
    empty = MultiDict({"on": "", "level": "", "province": "", "group": "", "q": " "})
    assert certificates.register_filter(empty) == certificates.RegisterFilter(today())
    assert certificates.register_filter({"q": "go\u0302\u0301m"}).text == "gốm"  # typed decomposed: composed
    assert len(certificates.register_filter({"q": "x" * 500}).text) == certificates.TEXT_MAX
    with pytest.raises(ValidationFailed) as refused:  # every bad field named at once
        certificates.register_filter({"on": "31/02/2026", "level": "district", "q": "gốm"})
    assert refused.value.fields == {"on": certificates.BAD_DAY, "level": certificates.BAD_LEVEL}
    for level in ("Province", "tinh", "provinces"):  # the ids, to the letter
        with pytest.raises(ValidationFailed) as refused:
            certificates.register_filter({"level": level})
        assert list(refused.value.fields) == ["level"]


GOOD = {
    "none": ({}, ["region", "province_hni", "province_hpg"]),
    "province": ({"level": "province"}, ["province_hni", "province_hpg"]),
    "region": ({"level": "region"}, ["region"]),
    "nation": ({"level": "nation"}, []),
    "hpg": ({"province": "HPG"}, ["province_hpg"]),
    "group": ({"group": FOOD}, ["province_hpg"]),
    "text": ({"q": "cát hải"}, ["province_hpg"]),
    "text-spaces": ({"q": "  Nước mắm "}, ["province_hpg"]),
    "holder": ({"q": "hợp tác xã gốm"}, ["region", "province_hni", "province_hpg"]),
    "level-and-text": ({"level": "province", "q": "men lam"}, ["province_hni"]),
    "past": ({"on": "past"}, ["expired"]),
}


@pytest.mark.parametrize("query,names", GOOD.values(), ids=GOOD.keys())
def test_good_filters_give_the_same_rows_on_the_page_and_the_api(client, api, world, query, names):
    certs = _register_world(world)
    if query.get("on") == "past":
        query = {"on": (today() - timedelta(days=4 * 366 - 10)).isoformat()}
    expected = [certs[name].number for name in names]
    answer = api.get("/api/v1/certificates", query_string=query)
    assert answer.status_code == 200
    assert [x["number"] for x in answer.get_json()["items"]] == expected
    assert _page_numbers(client, query) == expected


BAD = {
    "level": ({"level": "district"}, ["level"]),
    "level-hostile": ({"level": "<script>alert(1)</script>"}, ["level"]),
    "day": ({"on": "hôm-nay"}, ["on"]),
    "day-and-level": ({"on": "2026-02-30", "level": "tinh"}, ["on", "level"]),
}


@pytest.mark.parametrize("query,fields", BAD.values(), ids=BAD.keys())
def test_a_bad_filter_gets_the_same_field_error_on_the_page_and_the_api(client, api, world, query, fields):
    _register_world(world)
    kept = {"province": "HPG", "group": FOOD, "q": "Cát Hải"}
    answer = api.get("/api/v1/certificates", query_string={**kept, **query})
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed" and sorted(error["fields"]) == sorted(fields)

    page = client.get("/public/certificates", query_string={**kept, **query})
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'role="alert"' in html and "Điều kiện lọc chưa hợp lệ" in html
    for name in fields:  # the API's sentence, by its field, the field marked
        assert f'<p class="error" id="{name}-error">{escape(error["fields"][name])}</p>' in html
        assert f'aria-invalid="true" aria-describedby="{name}-error"' in html
    assert html.count('<p class="error"') == len(fields)
    # the other filters are kept in the form; no list for a filter the register could not read
    assert 'value="Cát Hải"' in html
    assert '<option value="HPG" selected' in html and f'<option value="{FOOD}" selected' in html
    assert 'id="register"' not in html and "<script>alert(1)" not in html

    # in English too, the same sentence on both
    english = api.get("/api/v1/certificates", query_string=query, headers={"Accept-Language": "en"})
    client.get("/lang/en")
    page_en = client.get("/public/certificates", query_string=query)
    assert english.status_code == 422 and page_en.status_code == 400
    for name in fields:
        sentence = english.get_json()["error"]["fields"][name]
        assert sentence != error["fields"][name]
        assert f'<p class="error" id="{name}-error">{escape(sentence)}</p>' in page_en.get_data(as_text=True)
