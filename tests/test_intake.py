"""Dossiers filed by partner systems (issue 19, item 1): signed requests, idempotent filing, the
dossier in the province's inbox with both codes; each guarantee next to the attack it stops.

The portal is played by tests/portal_simulator.py, which signs with the http-message-signatures
library itself (not the application's helper).
"""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.integration import partners as partner_service
from artisan_awards.models import Attachment, AuditEvent, Nomination, OutboxMessage, RequestNonce, User
from tests.factories import BASE_NOMINATION
from tests.portal_simulator import INTAKE_PATH, PortalSimulator
from tests.test_api import assert_error, pdf_bytes, png_bytes
from tests.test_uploads import elf_bytes
from workflows.states import State


def dossier(make, external_code: str = "G22.000.01.H26-261205-0001", province: str = "HNI", **overrides) -> dict:
    data = copy.deepcopy(BASE_NOMINATION)
    data["round_id"] = make.current_round().id
    data["nominee"]["province_code"] = province
    data["nominee"]["email"] = "nghenhan.anh@example.vn"
    data["external_code"] = external_code
    data.update(overrides)
    return data


PHOTO = ("photo", "xuong-gom.png", png_bytes(8, 8), "image/png")
CERT = ("certificate", "bang-khen.pdf", pdf_bytes(), "application/pdf")


@pytest.fixture
def admin(make):
    return make.user("admin")


@pytest.fixture
def portal(client, admin):
    partner, key = partner_service.create_partner(admin, "DVCQG", "Cổng Dịch vụ công quốc gia",
                                                  "Cổng Dịch vụ công quốc gia")
    return PortalSimulator(partner.code, key, target=client)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_signed_filing_lands_submitted_in_the_province_inbox_with_both_codes(portal, make, client):
    r = portal.file(dossier(make), [PHOTO, CERT])
    assert r.status == 201, r.body
    body = r.body
    assert body["external_code"] == "G22.000.01.H26-261205-0001"
    assert re.fullmatch(r"NN-\d{4}-HNI-\d{5}", body["code"])
    assert body["state"] == "submitted" and body["channel"] == "partner" and body["province_code"] == "HNI"
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", body["access_key"])  # for the public lookup, given once
    assert [a["kind"] for a in body["attachments"]] == ["photo", "certificate"]
    assert r.headers["Location"].endswith(f"{INTAKE_PATH}/G22.000.01.H26-261205-0001")
    n = db.session.scalar(sa.select(Nomination).where(Nomination.external_code == body["external_code"]))
    assert n.state == State.SUBMITTED and n.partner.code == "DVCQG" and n.province_code == "HNI"
    # the applicant had no account: one is made, unconfirmed, claimed by a one-time link (no password mailed)
    owner = db.session.get(User, n.owner_id)
    assert owner.email == "nghenhan.anh@example.vn" and not owner.email_confirmed and owner.roles == {"applicant"}
    mails = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.to == owner.email)).all()
    claim = [m for m in mails if "/invitation/" in m.body]
    assert len(claim) == 1 and "mật khẩu:" not in claim[0].body.lower()
    assert n.code in claim[0].body and n.external_code in claim[0].body
    # every notification e-mail of the dossier carries both codes
    assert all(n.code in m.body and n.external_code in m.body for m in mails), [m.body for m in mails]
    # the province officer finds it in the inbox, with its channel
    officer = make.user("province_officer", "HNI")
    client.post("/login", data={"email": officer.email, "password": make.PASSWORD})
    page = client.get("/province/inbox").get_data(as_text=True)
    assert n.code in page and n.external_code in page and "Cổng Dịch vụ công quốc gia" in page
    shown = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert 'class="badge channel"' in shown and n.external_code in shown


def test_a_repeat_answers_the_same_dossier_and_another_body_under_the_code_is_refused(portal, make):
    first = portal.file(dossier(make), [PHOTO])
    assert first.status == 201
    again = portal.file(dossier(make), [PHOTO])  # signed anew (another nonce), same message
    assert again.status == 200 and again.body["code"] == first.body["code"] and "access_key" not in again.body
    assert count(Nomination) == 1
    changed = dossier(make, craft="Sơn mài")
    assert_error(portal.file(changed, [PHOTO]), 409, "external_code_conflict")
    other_file = portal.file(dossier(make), [CERT])
    assert_error(other_file, 409, "external_code_conflict")
    assert count(Nomination) == 1
    assert portal.file(dossier(make, external_code="G22-0002"), [PHOTO]).status == 201
    assert count(Nomination) == 2


def test_a_replayed_request_is_refused(portal, make):
    body, content_type = portal.dossier_body(dossier(make), [PHOTO])
    headers = portal.signed_headers("POST", portal.base_url + INTAKE_PATH, body, {"Content-Type": content_type})
    assert portal.send("POST", INTAKE_PATH, body, headers).status == 201
    assert_error(portal.send("POST", INTAKE_PATH, body, headers), 401, "signature_replayed")
    # control: the same message signed anew is the idempotent repeat, not a replay
    assert portal.file(dossier(make), [PHOTO]).status == 200


def test_an_altered_body_under_the_old_signature_is_refused(portal, make):
    body, content_type = portal.dossier_body(dossier(make), [PHOTO])
    headers = portal.signed_headers("POST", portal.base_url + INTAKE_PATH, body, {"Content-Type": content_type})
    tampered = body.replace("Gốm sứ".encode(), "Gốm sư".encode())
    assert tampered != body
    assert_error(portal.send("POST", INTAKE_PATH, tampered, headers), 401, "content_digest_mismatch")
    # the digest recomputed to match, the signature (over the old digest) no longer verifies
    from http_message_signatures import ContentDigest

    forged = dict(headers, **{"Content-Digest": ContentDigest.create(tampered)})
    assert_error(portal.send("POST", INTAKE_PATH, tampered, forged), 401, "signature_invalid")
    assert count(Nomination) == 0


def test_a_signature_by_another_partners_key_is_refused(portal, make, admin):
    other, other_key = partner_service.create_partner(admin, "MOTCUA-HNI", "Một cửa Hà Nội", "Một cửa Hà Nội",
                                                      province_code="HNI")
    # signed with the other partner's key but claiming to be DVCQG
    assert_error(portal.file(dossier(make), [PHOTO], key=other_key), 401, "signature_invalid")
    assert_error(portal.file(dossier(make), [PHOTO], key_id="NOBODY"), 401, "partner_unknown")
    body, content_type = portal.dossier_body(dossier(make))
    assert_error(portal.send("POST", INTAKE_PATH, body, {"Content-Type": content_type}), 401, "signature_missing")
    # a signature that leaves the body out is refused (nothing would bind the message to it)
    from http_message_signatures import HTTPMessageSigner, algorithms

    from tests.portal_simulator import _Key, _Message

    msg = _Message("POST", portal.base_url + INTAKE_PATH, {"Content-Type": content_type})
    HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=_Key(portal.key.encode())).sign(
        msg, key_id="DVCQG", nonce="n" * 20, covered_component_ids=("@method", "@target-uri"))
    assert_error(portal.send("POST", INTAKE_PATH, body, msg.headers), 401)
    assert count(Nomination) == 0


def test_an_old_or_future_created_is_refused(portal, make, app):
    now = datetime.now(UTC)
    max_age = app.config["INTAKE_SIGNATURE_MAX_AGE"]
    old = portal.file(dossier(make), [PHOTO], created=now - timedelta(seconds=max_age + 60))
    assert_error(old, 401, "signature_expired")
    future = portal.file(dossier(make), [PHOTO], created=now + timedelta(seconds=app.config[
        "INTAKE_SIGNATURE_CLOCK_SKEW"] + 120))
    assert_error(future, 401, "signature_expired")
    # control: inside the window
    assert portal.file(dossier(make), [PHOTO], created=now - timedelta(seconds=max_age - 60)).status == 201


def test_a_deactivated_partner_is_refused_and_a_rotated_key_replaces_the_old(portal, make, admin):
    partner = partner_service.by_code("DVCQG")
    partner_service.set_active(admin, partner, False)
    assert_error(portal.file(dossier(make), [PHOTO]), 403, "partner_inactive")
    assert_error(portal.status("G22.000.01.H26-261205-0001"), 403, "partner_inactive")
    partner_service.set_active(admin, partner, True)
    old_key = portal.key
    portal.key = partner_service.rotate_key(admin, partner)
    assert portal.key != old_key
    assert_error(portal.file(dossier(make), [PHOTO], key=old_key), 401, "signature_invalid")
    assert portal.file(dossier(make), [PHOTO]).status == 201
    kinds = set(db.session.scalars(sa.select(AuditEvent.kind).where(AuditEvent.target_type == "partner")))
    assert {"partner_created", "partner_deactivated", "partner_reactivated", "partner_key_rotated"} <= kinds


def test_the_key_is_sealed_at_rest(portal):
    stored = db.session.execute(sa.text("SELECT key FROM partners WHERE code = 'DVCQG'")).scalar()
    assert stored.startswith("enc1:") and portal.key not in stored


def test_a_hostile_file_is_refused_and_leaves_nothing_behind(portal, make, app):
    program = ("photo", "anh.jpg", elf_bytes(), "image/jpeg")
    r = portal.file(dossier(make), [PHOTO, program])
    err = assert_error(r, 422)
    assert "files.photo" in err["fields"] or err["code"] == "validation_failed"
    assert count(Nomination) == 0 and count(Attachment) == 0
    assert db.session.scalar(sa.select(User).where(User.email == "nghenhan.anh@example.vn")) is None
    uploads = Path(app.config["UPLOAD_DIR"])
    assert not uploads.is_dir() or not any(uploads.iterdir())
    unknown_kind = ("selfie", "a.png", png_bytes(), "image/png")
    assert "files.selfie" in assert_error(portal.file(dossier(make), [unknown_kind]), 422)["fields"]


def test_a_wrong_province_code_is_refused(portal, make, admin):
    err = assert_error(portal.file(dossier(make, province="XXX"), [PHOTO]), 422, "validation_failed")
    assert "nominee.province_code" in err["fields"]
    # a province's own one-stop system files only for that province
    _, key = partner_service.create_partner(admin, "MOTCUA-HPG", "Một cửa Hải Phòng", "Một cửa Hải Phòng",
                                            province_code="HPG")
    hpg = PortalSimulator("MOTCUA-HPG", key, target=portal.target)
    err = assert_error(hpg.file(dossier(make, province="HNI"), [PHOTO]), 422)
    assert "nominee.province_code" in err["fields"]
    assert hpg.file(dossier(make, province="HPG"), [PHOTO]).status == 201


def test_validation_errors_come_back_in_the_api_error_shape(portal, make):
    no_code = dossier(make)
    del no_code["external_code"]
    assert "external_code" in assert_error(portal.file(no_code), 422)["fields"]
    bad = dossier(make)
    bad["nominee"]["full_name"] = ""
    assert any(k.startswith("nominee") for k in assert_error(portal.file(bad), 422)["fields"])
    incomplete = dossier(make, craft="")
    assert "craft" in assert_error(portal.file(incomplete), 422)["fields"]
    no_mail = dossier(make)
    del no_mail["nominee"]["email"]
    assert "filer.email" in assert_error(portal.file(no_mail), 422)["fields"]
    body, content_type = portal.dossier_body(dossier(make))
    broken = body.replace(b'"external_code"', b'"external_code',)  # not JSON any more
    assert "dossier" in assert_error(portal.request("POST", INTAKE_PATH, broken, {"Content-Type": content_type}),
                                     422)["fields"]
    assert count(Nomination) == 0


def test_the_partners_mapping_reads_its_own_field_names(portal, make, admin):
    partner = partner_service.by_code("DVCQG")
    mapping = {"maHoSo": "external_code", "ngheNhan.hoTen": "nominee.full_name",
               "nguoiNop.thuDienTu": "filer.email", "nguoiNop.hoTen": "filer.full_name"}
    partner_service.update_partner(admin, partner, partner.name, partner.channel_label, None, json.dumps(mapping))
    message = dossier(make)
    message.pop("external_code")
    message["nominee"].pop("full_name")
    message.update(maHoSo="HS-77", ngheNhan={"hoTen": "Lê Thị Bình"},
                   nguoiNop={"thuDienTu": "con.gai@example.vn", "hoTen": "Lê Thị Con"})
    r = portal.file(message, [PHOTO])
    assert r.status == 201, r.body
    n = db.session.scalar(sa.select(Nomination).where(Nomination.external_code == "HS-77"))
    assert n.full_name == "Lê Thị Bình" and n.owner.email == "con.gai@example.vn"
    with pytest.raises(Exception, match="."):
        partner_service.update_partner(admin, partner, partner.name, partner.channel_label, None,
                                       '{"x": "nominee.no_such_field"}')


def test_a_partner_reads_its_own_dossiers_status_only(portal, make, admin):
    portal.file(dossier(make), [PHOTO])
    r = portal.status("G22.000.01.H26-261205-0001")
    assert r.status == 200 and r.body["state"] == "submitted" and r.body["history"][-1]["state"] == "submitted"
    assert "access_key" not in r.body
    _, key = partner_service.create_partner(admin, "KHAC", "Hệ thống khác", "Hệ thống khác")
    other = PortalSimulator("KHAC", key, target=portal.target)
    assert_error(other.status("G22.000.01.H26-261205-0001"), 404, "dossier_not_found")


def test_the_dossier_api_and_receipt_carry_the_channel_and_both_codes(portal, make, api):
    portal.file(dossier(make), [PHOTO])
    n = db.session.scalar(sa.select(Nomination))
    officer = make.user("province_officer", "HNI")
    out = api.get(f"/api/v1/nominations/{n.id}", officer).get_json()
    assert out["channel"] == "partner" and out["external_code"] == n.external_code
    assert out["partner"] == {"code": "DVCQG", "channel_label": "Cổng Dịch vụ công quốc gia"}
    web = make.nomination(State.DRAFT)
    assert api.get(f"/api/v1/nominations/{web.id}", web.owner).get_json()["channel"] == "web"
    from pypdf import PdfReader

    pdf = api.get(f"/api/v1/nominations/{n.id}/receipt.pdf", officer)
    assert pdf.status_code == 200
    text = " ".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
    assert n.code in text and n.external_code in text


def test_an_officer_typed_dossier_is_a_paper_channel(make):
    officer = make.user("province_officer", "HNI")
    n = make.nomination(State.DRAFT, owner=officer)
    assert n.channel == "paper"
    assert make.nomination(State.DRAFT).channel == "web"


def test_the_portals_commitment_is_kept_in_the_submissions_log(portal, make):
    from artisan_awards.services import queries

    words = "Tôi xin cam đoan những nội dung kê khai là đúng sự thật."
    assert portal.file(dossier(make, commitment=words), [PHOTO]).status == 201
    n = db.session.scalar(sa.select(Nomination))
    submit = queries.history(n)[-1]
    assert submit.meta["commitment"] == words and submit.meta["external_code"] == n.external_code
    assert submit.actor_id == n.owner_id and "Cổng Dịch vụ công quốc gia" in submit.actor_name


def test_nonces_are_kept_once(portal, make):
    portal.file(dossier(make), [PHOTO], nonce="nonce-once-0001")
    assert count(RequestNonce) == 1
    assert_error(portal.file(dossier(make), [PHOTO], nonce="nonce-once-0001"), 401, "signature_replayed")


def test_an_oversized_filing_is_refused_in_the_api_shape(portal, make, app):
    app.config["INTAKE_MAX_REQUEST_BYTES"] = 20_000
    big = ("photo", "big.png", png_bytes(8, 8) + b"\x00" * 30_000, "image/png")
    err = assert_error(portal.file(dossier(make), [big]), 413)
    assert err["code"]
    assert count(Nomination) == 0
    app.config["INTAKE_MAX_REQUEST_BYTES"] = 80 * 1024 * 1024
    assert portal.file(dossier(make), [PHOTO]).status == 201
