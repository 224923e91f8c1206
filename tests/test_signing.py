"""Signatures that would hold up (issue 15 item 3, acceptance 2).

A throwaway PKI (certomancer): root, intermediate, one certificate per issuing body, an expired and a
revoked one, a time-stamp authority and OCSP responders served on 127.0.0.1. Every verification
below runs after the servers are stopped, with a validation context holding only the root and
network fetching off: what makes the signature hold is what the file carries.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pikepdf
import pytest
from pypdf import PdfReader

from artisan_awards.documents import signing
from tests import pki as test_pki
from tests.test_councils import Chain
from tests.test_documents import _closed_session, _flip, assert_pdf, text_of


@pytest.fixture
def chain(api, make, app, tmp_path):
    app.config["TODAY"] = None
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    return Chain(api, make)


@pytest.fixture
def pki():
    """The worker's throwaway PKI (tests/pki.py: built once), its TSA and OCSP served for this test alone."""
    with test_pki.serving() as pki:
        yield pki


@pytest.fixture
def bodies(app, pki, tmp_path):
    """Certificates for Hà Nội's department and the ministry (one as PKCS#12), the TSA, the root."""
    signing_dir = tmp_path / "signing"
    pki.write_body(signing_dir, "so-cong-thuong-hni", "hni")
    pki.write_body(signing_dir, "bo-cong-thuong", "ministry", pkcs12_password=b"mat-khau")
    root = pki.write_root()
    app.config.update(DOCUMENTS_SIGNING_DIR=str(signing_dir), DOCUMENTS_TSA_URL=pki.tsa_url,
                      DOCUMENTS_TRUST_ROOTS=str(root))
    return signing_dir


def _plain_pdf(title="Văn bản thử nghiệm") -> bytes:
    import weasyprint

    doc = weasyprint.HTML(string="<html lang='vi'><p>Biên bản thử nghiệm, Hà Nội</p></html>").render()
    doc.metadata.title = title
    return doc.write_pdf(pdf_variant="pdf/a-3b")


HNI = signing.Body("so-cong-thuong-hni", "Sở Công Thương Hà Nội")


def test_provincial_minutes_signed_by_the_department_verify_offline_with_only_the_root(
        chain, api, app, pki, bodies, runner, tmp_path):
    sid, a, b = _closed_session(chain)
    pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer))
    pki.stop()  # no TSA, no OCSP from here on
    result = signing.verify(pdf)
    assert result.verdict == "intact" and result.ok, result.signatures
    [sig] = result.signatures
    assert sig.body == "Sở Công Thương Hà Nội" and sig.body_matches
    assert "Sở Công Thương Hà Nội" in sig.signer
    assert sig.timestamp_trusted and sig.timestamp_at is not None
    assert sig.revocation == "good"
    # B-LT: the file carries the chain and the OCSP responses (DSS), and the CMS a time-stamp token.
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        dss = doc.Root.DSS
        assert len(dss.OCSPs) >= 2 and len(dss.Certs) >= 3
    assert "TIMESTAMP_TOKEN<INTACT:TRUSTED>" in sig.summary
    # The signature does not change what the document says.
    original = pdf[: pdf.index(b"%%EOF") + len(b"%%EOF")]
    assert text_of(original) == text_of(pdf) and "Nguyễn Văn Ánh" in text_of(pdf)
    # The same file judged against another PKI's root: not trusted.
    other = test_pki.built([signing.MINISTRY])
    assert signing.verify(pdf, [str(other.write_root())]).verdict == "untrusted"
    # One changed byte in the signed part: altered (function and command).
    altered = _flip(pdf, len(original) // 2)
    assert signing.verify(altered).verdict == "altered"
    good, bad = tmp_path / "bien-ban.pdf", tmp_path / "bien-ban-sua.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(altered)
    r = runner.invoke(args=["documents", "verify", str(good)])
    assert r.exit_code == 0, r.output
    for expected in ("intact", "body: Sở Công Thương Hà Nội", "signer: Common Name: Sở Công Thương Hà Nội",
                     f"time-stamp: {sig.timestamp_at.isoformat()} (trusted)", "revocation: good"):
        assert expected in r.output, expected
    r = runner.invoke(args=["documents", "verify", str(bad)])
    assert r.exit_code == 1 and "altered" in r.output
    # Asked whether the ministry signed it: no.
    r = runner.invoke(args=["documents", "verify", str(good), "--body", "bo-cong-thuong"])
    assert r.exit_code == 1 and "wrong-body" in r.output and "expected Bộ Công Thương" in r.output


def test_a_ministry_council_is_signed_by_the_ministry_not_the_province(chain, api, pki, bodies):
    a = chain.accepted(nominee={"full_name": "Vũ Thị Hằng"}, craft="Sơn mài Hạ Thái")
    province_sid, _ = chain.vote("province", [a], yes_votes=10)
    chain.act(a, "forward_to_ministry", chain.officer)
    ministry_sid, _ = chain.vote("ministry", [a], yes_votes=10)
    province = assert_pdf(api.get(f"/api/v1/sessions/{province_sid}/minutes.pdf", chain.officer))
    ministry = assert_pdf(api.get(f"/api/v1/sessions/{ministry_sid}/minutes.pdf", chain.ministry))
    pki.stop()
    [p] = signing.verify(province).signatures
    [m] = signing.verify(ministry).signatures
    assert p.body == "Sở Công Thương Hà Nội" and "Sở Công Thương Hà Nội" in p.signer
    assert m.body == "Bộ Công Thương" and "Bộ Công Thương" in m.signer and "Hà Nội" not in m.signer
    assert signing.verify(ministry).verdict == "intact"
    assert signing.verify(ministry, expected_body="Sở Công Thương Hà Nội").verdict == "wrong-body"


def test_signed_file_keeps_consistent_pdfa_metadata(app, bodies):
    pdf = _plain_pdf("Biên bản họp - Hội đồng cấp tỉnh")
    with app.app_context():
        signed = signing.sign(pdf, "Biên bản", "Hà Nội", body=HNI)
    with pikepdf.open(io.BytesIO(signed)) as doc:
        meta = doc.open_metadata()
        info = doc.docinfo
        assert str(info["/Producer"]) == meta["pdf:Producer"]
        assert str(info["/Title"]) == meta["dc:title"] == "Biên bản họp - Hội đồng cấp tỉnh"
        assert meta["pdfaid:part"] == "3" and meta["pdfaid:conformance"] == "B"
        # PDF/A on annotations: the signature widget is printable, hidden flags off, zero-sized (no appearance)
        [widget] = [a for page in doc.pages for a in page.get("/Annots", [])]
        assert int(widget.F) & 4 and not int(widget.F) & 2 and [float(x) for x in widget.Rect] == [0, 0, 0, 0]
        for info_key, xmp_key in (("/ModDate", "xmp:ModifyDate"), ("/CreationDate", "xmp:CreateDate")):
            assert (info_key in info) == (xmp_key in meta), info_key
            if info_key in info:
                from pikepdf.models.metadata import decode_pdf_date

                assert decode_pdf_date(str(info[info_key])) == datetime.fromisoformat(meta[xmp_key])
    # A control: signing naively (pyHanko alone) leaves Info and XMP producers apart.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    naive = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), signers.PdfSignatureMetadata(field_name="X"),
                             signer=_load(app)).getvalue()
    with pikepdf.open(io.BytesIO(naive)) as doc:
        assert str(doc.docinfo["/Producer"]) != doc.open_metadata()["pdf:Producer"]


def _ticking_clock(monkeypatch, ticks: int) -> list:
    """pyHanko's metadata clock (the Info and XMP writers) made to move one second at each of its first
    ``ticks`` readings, as a loaded machine's clock may between the two readings of one revision; the list
    returned counts the readings (and ``clock[0]``, changed by the test, is the number that tick)."""
    from pyhanko.pdf_utils.metadata import info as info_module
    from pyhanko.pdf_utils.metadata import xmp_xml

    start = datetime(2026, 12, 5, 10, 0, 0, tzinfo=UTC)
    readings: list = []
    clock = [ticks, readings]

    class TickingClock(datetime):
        @classmethod
        def now(cls, tz=None):
            readings.append(1)
            return (start + timedelta(seconds=min(len(readings), clock[0]))).astimezone(tz)

    monkeypatch.setattr(info_module, "datetime", TickingClock)
    monkeypatch.setattr(xmp_xml, "datetime", TickingClock)
    return clock


def test_info_and_xmp_dates_agree_when_the_clock_ticks_while_signing(app, bodies, monkeypatch):
    """The whole first signing sees a ticking clock, so its last revision's Info and XMP dates are a second
    apart: the file handed out is a later signing whose dates agree, as PDF/A requires."""
    from pikepdf.models.metadata import decode_pdf_date

    clock = _ticking_clock(monkeypatch, ticks=0)
    with app.app_context():
        signing.sign(_plain_pdf("Biên bản"), "Biên bản", "Hà Nội", body=HNI)  # a still clock: count its readings
        per_signing = len(clock[1])
        assert per_signing >= 2
        clock[1].clear()
        clock[0] = per_signing  # every reading of the next signing ticks, the ones after it do not
        signed = signing.sign(_plain_pdf("Biên bản"), "Biên bản", "Hà Nội", body=HNI)
    assert len(clock[1]) > per_signing  # it was signed again after the clock stopped ticking
    with pikepdf.open(io.BytesIO(signed)) as doc:
        assert decode_pdf_date(str(doc.docinfo["/ModDate"])) == datetime.fromisoformat(
            doc.open_metadata()["xmp:ModifyDate"])


def test_a_clock_that_never_settles_refuses_to_sign_rather_than_hand_out_disagreeing_dates(app, bodies,
                                                                                            monkeypatch):
    _ticking_clock(monkeypatch, ticks=10**6)
    with app.app_context(), pytest.raises(signing.SigningUnavailable) as refused:
        signing.sign(_plain_pdf("Biên bản"), "Biên bản", "Hà Nội", body=HNI)
    assert refused.value.code == "signing_failed"


def _load(app):
    with app.app_context():
        return signing._signer(HNI)


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_both_long_term_levels_verify_offline(app, pki, bodies, level):
    app.config["DOCUMENTS_SIGNING_LEVEL"] = level
    with app.app_context():
        signed = signing.sign(_plain_pdf(), "Biên bản", "Hà Nội", body=HNI)
    pki.stop()
    result = signing.verify(signed)
    assert result.verdict == "intact", result.signatures
    doc_timestamps = [s for s in PdfReader(io.BytesIO(signed)).get_fields().values()
                      if s.get("/V") and s["/V"].get("/Type") == "/DocTimeStamp"]
    assert len(doc_timestamps) == (1 if level == "B-LTA" else 0)


def test_slow_responders_do_not_make_a_valid_signer_look_invalid(app, pki, bodies):
    """A TSA and OCSP responders that take 1.5 s each (a loaded machine, a distant CA): the signing
    fetches several answers, so the last is dated seconds after the signing began. pyHanko's own 1 s
    tolerance then refused the valid signer (a CI run failed so); the configured tolerance does not."""
    pki.latency = 1.5
    with app.test_request_context():
        signed = signing.sign(_plain_pdf(), "Biên bản", "Hà Nội", body=HNI)
    result = signing.verify(signed)
    assert result.verdict == "intact" and result.signatures[0].revocation == "good"
    # No tolerance at all: the same slow answers are refused, and the caller gets the 503 error.
    app.config["DOCUMENTS_SIGNING_CLOCK_TOLERANCE"] = 0.001
    with app.test_request_context(), pytest.raises(signing.SigningUnavailable):
        signing.sign(_plain_pdf(), "Biên bản", "Hà Nội", body=HNI)


def test_a_folder_holding_another_body_s_certificate_is_refused(app, pki, bodies):
    # Hải Phòng's certificate put into Hà Nội's folder: signing refuses, nothing is handed out.
    pki.write_body(bodies, "so-cong-thuong-hni", "hpg")
    with app.app_context(), pytest.raises(signing.SigningUnavailable) as refused:
        signing.sign(_plain_pdf(), "Biên bản", "Hà Nội", body=HNI)
    assert refused.value.code == "signing_certificate_wrong_body" and refused.value.status == 503


def test_a_file_claiming_one_body_signed_with_another_s_certificate_is_reported(app, client, pki, bodies):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator import ValidationContext

    from artisan_awards.documents.signing import _trust_roots

    with app.app_context():
        hpg = signers.SimpleSigner.load(*_key_cert(pki, bodies, "hpg"))
        meta = signers.PdfSignatureMetadata(
            field_name="ChuKySo", name="Sở Công Thương Hà Nội", subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=True, validation_context=ValidationContext(
                trust_roots=_trust_roots(), allow_fetching=True, other_certs=list(hpg.cert_registry),
                time_tolerance=timedelta(minutes=2)))  # as the application's own signing (a loaded machine)
        forged = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(_plain_pdf())), meta, signer=hpg,
                                  timestamper=HTTPTimeStamper(pki.tsa_url)).getvalue()
    pki.stop()
    result = signing.verify(forged)
    [sig] = result.signatures
    assert sig.trusted and not sig.body_matches and result.verdict == "wrong-body" and not result.ok
    # The verification page says so in Vietnamese, with the body, time-stamp and revocation status.
    page = client.post("/documents/verify", data={"file": (io.BytesIO(forged), "bien-ban.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-verdict="wrong-body"' in page and "một cơ quan khác" in page
    assert "Sở Công Thương Hà Nội" in page and "không khớp với chứng thư" in page
    assert "Dấu thời gian" in page and "Chưa bị thu hồi" in page


def _key_cert(pki, signing_dir, label):
    folder = pki.write_body(signing_dir.parent / "loose", label, label)
    return str(folder / "key.pem"), str(folder / "cert.pem"), [str(folder / "chain.pem")]


@pytest.mark.parametrize("label, verdict, code", [("hni-expired", "expired", "signing_failed"),
                                                  ("hni-revoked", "revoked", "signing_failed")])
def test_an_expired_or_revoked_signer_is_refused_and_reported(app, pki, bodies, label, verdict, code):
    pki.write_body(bodies, "so-cong-thuong-hni", label)
    with app.app_context(), pytest.raises(signing.SigningUnavailable) as refused:
        signing.sign(_plain_pdf(), "Biên bản", "Hà Nội", body=HNI)
    assert refused.value.code == code
    # Someone signs with it anyway (pyHanko alone, time-stamped), and adds the OCSP answers it can get.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    signer = signers.SimpleSigner.load(*_key_cert(pki, bodies, label))
    meta = signers.PdfSignatureMetadata(field_name="ChuKySo", name="Sở Công Thương Hà Nội",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(_plain_pdf())), meta, signer=signer,
                              timestamper=HTTPTimeStamper(pki.tsa_url)).getvalue()
    answer = _ocsp_answer(pki, "interm", label)
    root_answer = _ocsp_answer(pki, "root", "interm")
    reader_sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    out = io.BytesIO(signed)
    certs = [pki.arch.get_cert(x) for x in ("interm", "root-ocsp", "interm-ocsp")]
    DocumentSecurityStore.add_dss(out, reader_sig.pkcs7_content, certs=certs, ocsps=[answer, root_answer])
    pki.stop()
    result = signing.verify(out.getvalue())
    [sig] = result.signatures
    assert result.verdict == verdict and not result.ok, (sig.summary, sig.problems)
    assert sig.intact and sig.valid and not sig.trusted
    if verdict == "revoked":
        assert sig.revocation == "revoked"
    else:
        assert sig.expired


def test_a_signature_without_embedded_revocation_data_is_not_long_term(app, pki, bodies, runner, tmp_path):
    """PAdES B-T (time-stamped, no DSS): valid, but a machine with only the root cannot tell it was
    not revoked: reported as no-ltv, never as intact."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper

    signer = signers.SimpleSigner.load(*_key_cert(pki, bodies, "hni"))
    meta = signers.PdfSignatureMetadata(field_name="ChuKySo", name="Sở Công Thương Hà Nội",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(_plain_pdf())), meta, signer=signer,
                              timestamper=HTTPTimeStamper(pki.tsa_url)).getvalue()
    pki.stop()
    result = signing.verify(signed)
    [sig] = result.signatures
    assert result.verdict == "no-ltv" and not result.ok
    assert sig.intact and sig.valid and sig.chain_trusted and sig.revocation == "missing"
    path = tmp_path / "b-t.pdf"
    path.write_bytes(signed)
    r = runner.invoke(args=["documents", "verify", str(path)])
    assert r.exit_code == 1 and "no-ltv" in r.output and "revocation: missing" in r.output


def _ocsp_answer(pki, issuer: str, label: str):
    """The responder's answer about ``label`` now (what a signer would have fetched)."""
    from asn1crypto import ocsp

    issuer_cert = pki.arch.get_cert(issuer)
    request = ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": "sha256"}, "issuer_name_hash": issuer_cert.subject.sha256,
        "issuer_key_hash": issuer_cert.public_key.sha256,
        "serial_number": pki.arch.get_cert(label).serial_number}}]}})
    responder = pki.arch.service_registry.summon_responder(issuer, at_time=datetime.now(UTC))
    return responder.build_ocsp_response(request)


def test_without_a_time_stamp_authority_signing_refuses_and_the_download_is_a_503(chain, api, app, pki, bodies):
    app.config["DOCUMENTS_TSA_URL"] = None
    sid, a, b = _closed_session(chain)
    r = api.get(f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer)
    assert r.status_code == 503 and "ký số" in r.get_json()["error"]["message"]
    # A body with no certificate folder: its documents come out unsigned (not signed by another body).
    app.config["DOCUMENTS_TSA_URL"] = pki.tsa_url
    (bodies / "so-cong-thuong-hni" / "key.pem").unlink()
    pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer))
    assert signing.verify(pdf).verdict == "unsigned"


def test_council_bodies(chain, app):
    from artisan_awards.extensions import db
    from artisan_awards.models import Province

    with app.app_context():
        hni = db.session.get(Province, "HNI")
        assert signing.province_body(hni) == HNI == signing.body_by_key("so-cong-thuong-hni")
        assert signing.body_by_key("bo-cong-thuong") == signing.MINISTRY
        assert signing.body_by_key("so-cong-thuong-zzz") is None and signing.body_by_key("../etc") is None


def test_test_pki_command_writes_a_folder_per_body_and_the_settings(runner, tmp_path, app, make):
    r = runner.invoke(args=["documents", "test-pki", str(tmp_path / "pki"), "--province", "HNI", "--no-serve"])
    assert r.exit_code == 0, r.output
    assert f"DOCUMENTS_SIGNING_DIR={tmp_path / 'pki' / 'signing'}" in r.output
    assert "DOCUMENTS_TSA_URL=http://127.0.0.1:" in r.output
    for key, name in (("bo-cong-thuong", "Bộ Công Thương"), ("so-cong-thuong-hni", "Sở Công Thương Hà Nội")):
        from pyhanko.keys import load_cert_from_pemder

        cert = load_cert_from_pemder(str(tmp_path / "pki" / "signing" / key / "cert.pem"))
        assert signing.belongs_to(cert, name)
    r = runner.invoke(args=["documents", "test-pki", str(tmp_path / "x"), "--province", "ZZZ", "--no-serve"])
    assert r.exit_code != 0 and "unknown body" in r.output
