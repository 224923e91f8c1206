"""Electronic signatures (PAdES B-LT / B-LTA, with pyHanko), each with its issuing body's certificate.

Who signs is WHO ISSUES the document: a provincial council's papers are signed by that province's
Department of Industry and Trade (Sở Công Thương, the council's standing body), a ministry or state
council's by the Ministry of Industry and Trade (its standing body), the national list by the ministry.

Keys and certificates are configuration, never data in the database:

* ``DOCUMENTS_SIGNING_DIR``: a folder with one sub-folder per body, named by the body's key
  (``bo-cong-thuong``, ``so-cong-thuong-<province code>`` in lower case, e.g. ``so-cong-thuong-hni``),
  holding either ``signer.p12`` (PKCS#12) or ``key.pem`` + ``cert.pem`` (+ ``chain.pem``: the
  intermediate and root certificates), and optionally ``passphrase`` (the key's or the PKCS#12's);
* ``DOCUMENTS_SIGNING_PASSPHRASE``: the passphrase when a folder has no ``passphrase`` file;
* ``DOCUMENTS_TSA_URL``: the RFC 3161 time-stamp authority;
* ``DOCUMENTS_TRUST_ROOTS``: the root certificates (``:``-separated paths) signing and verification trust;
* ``DOCUMENTS_SIGNING_LEVEL``: ``B-LT`` (default) or ``B-LTA`` (adds a document time-stamp);
* ``DOCUMENTS_SIGNING_TIMEOUT``: seconds to wait for the time-stamp authority and OCSP responders.
* ``DOCUMENTS_SIGNING_CLOCK_TOLERANCE``: seconds an OCSP answer or time-stamp may postdate the moment
  the signing began (slow responders, clocks a little apart); pyHanko's own default of 1 s refused
  answers from a responder that took 3 s on a loaded machine.

A certificate belongs to a body when its subject's common name, organisation or organisational unit is
the body's name ("Sở Công Thương Hà Nội", "Bộ Công Thương"); a folder holding another body's
certificate is refused at signing, and verification reports such a file as signed by the wrong body.

Signing validates the signer's chain up to a trusted root at that moment, fetching OCSP responses (or
CRLs) from the addresses in the certificates, time-stamps the signature at the TSA, and embeds the
chain, the revocation data and the time-stamp in the file (PAdES B-LT): a verifier with nothing but
the root can check it offline years later. An expired or revoked signer is refused.

The signature is invisible (no appearance, not a pixel changes) and keeps the PDF/A metadata
consistent: pyHanko updates the Info dictionary and the XMP packet together, and the producer is
set to the same value in both.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app, has_app_context

from workflows.states import N_

from ..errors import ServiceError

SIGNED_KINDS = ("submission-letter", "list", "minutes", "tally", "consultation-list")
FIELD_NAME = "ChuKySo"
LEVELS = ("B-LT", "B-LTA")
MINISTRY_KEY = "bo-cong-thuong"
MINISTRY_NAME = "Bộ Công Thương"


class SigningUnavailable(ServiceError):
    """The document must be signed, and signing failed (no TSA, OCSP unreachable, bad certificate)."""

    status = 503
    code = "signing_unavailable"
    message = N_("Chưa ký số được văn bản (máy chủ dấu thời gian hoặc dịch vụ kiểm tra chứng thư không "
                 "phản hồi, hoặc chứng thư của cơ quan ban hành không hợp lệ). Vui lòng thử lại sau.")


@dataclass(frozen=True)
class Body:
    """An issuing body: the key of its certificate folder and its name as its certificate names it."""

    key: str
    name: str


MINISTRY = Body(MINISTRY_KEY, MINISTRY_NAME)


def province_body(province) -> Body:
    """The provincial Department of Industry and Trade (Sở Công Thương) of ``province``."""
    return Body(f"so-cong-thuong-{province.code.lower()}", f"Sở Công Thương {province.name}")


def council_body(council) -> Body:
    """A council's standing body signs for it: the province's department, else the ministry."""
    from ..models import Level

    if council.level == Level.PROVINCE and council.province is not None:
        return province_body(council.province)
    return MINISTRY


def body_by_key(key: str) -> Body | None:
    """The body of a certificate folder's name (the ministry, or a province's department)."""
    from ..extensions import db
    from ..models import Province

    key = (key or "").strip().lower()
    if key == MINISTRY_KEY:
        return MINISTRY
    prefix = "so-cong-thuong-"
    if key.startswith(prefix) and 0 < len(key) - len(prefix) <= 3:
        province = db.session.get(Province, key[len(prefix):].upper())
        if province is not None:
            return province_body(province)
    return None


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").casefold().split())


def _paths(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [p for p in value.split(os.pathsep) if p]
    return [str(p) for p in value]


def _config(name: str, default=None):
    if has_app_context() and current_app.config.get(name) not in (None, ""):
        return current_app.config[name]
    return os.environ.get(name, default)


def _folder(body: Body) -> Path | None:
    base = _config("DOCUMENTS_SIGNING_DIR")
    if not base or "/" in body.key or body.key.startswith("."):
        return None
    folder = Path(base) / body.key
    if (folder / "signer.p12").is_file() or ((folder / "key.pem").is_file() and (folder / "cert.pem").is_file()):
        return folder
    return None


def configured(body: Body | None = None) -> bool:
    """Whether documents are signed at all (a signing folder is set) or, with ``body``, by that body."""
    if body is None:
        return bool(_config("DOCUMENTS_SIGNING_DIR"))
    return _folder(body) is not None


def signer_fingerprint(body: Body | None = None) -> str | None:
    """SHA-256 of the body's certificate files (part of the cache key of signed documents)."""
    folder = _folder(body) if body is not None else None
    if folder is None:
        return None
    digest = hashlib.sha256(body.key.encode())
    for name in ("signer.p12", "cert.pem", "chain.pem"):
        if (folder / name).is_file():
            digest.update(name.encode() + (folder / name).read_bytes())
    return digest.hexdigest()


def cert_names(cert) -> set[str]:
    """The subject's common name, organisation and organisational unit, normalised."""
    names = set()
    for key in ("common_name", "organization_name", "organizational_unit_name"):
        value = cert.subject.native.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item:
                names.add(_norm(item))
    return names


def belongs_to(cert, body_name: str) -> bool:
    return _norm(body_name) in cert_names(cert)


def _passphrase(folder: Path) -> bytes | None:
    if (folder / "passphrase").is_file():
        return (folder / "passphrase").read_bytes().strip() or None
    value = _config("DOCUMENTS_SIGNING_PASSPHRASE")
    return value.encode() if value else None


def _signer(body: Body):
    from pyhanko.sign import signers

    folder = _folder(body)
    if folder is None:
        raise SigningUnavailable(code="signing_certificate_missing")
    try:
        if (folder / "signer.p12").is_file():
            signer = signers.SimpleSigner.load_pkcs12(str(folder / "signer.p12"), passphrase=_passphrase(folder))
        else:
            chain = [str(folder / "chain.pem")] if (folder / "chain.pem").is_file() else None
            signer = signers.SimpleSigner.load(str(folder / "key.pem"), str(folder / "cert.pem"),
                                               ca_chain_files=chain, key_passphrase=_passphrase(folder))
    except (OSError, ValueError, TypeError) as exc:
        current_app.logger.error("signing: the certificate of %s cannot be loaded: %s", body.key, exc)
        raise SigningUnavailable(code="signing_certificate_unreadable") from exc
    if signer is None:
        raise SigningUnavailable(code="signing_certificate_unreadable")
    if not belongs_to(signer.signing_cert, body.name):
        current_app.logger.error("signing: the certificate in %s is %s's, not %s's", folder,
                                 signer.signing_cert.subject.human_friendly, body.name)
        raise SigningUnavailable(code="signing_certificate_wrong_body")
    return signer


def _trust_roots(extra: list[str] | None = None):
    from pyhanko.keys import load_cert_from_pemder

    return [load_cert_from_pemder(p) for p in (_paths(extra) or _paths(_config("DOCUMENTS_TRUST_ROOTS")))]


def level() -> str:
    value = str(_config("DOCUMENTS_SIGNING_LEVEL", "B-LT") or "B-LT").upper()
    return value if value in LEVELS else "B-LT"


SIGNING_ATTEMPTS = 3  # signings whose Info and XMP dates differ before ``sign`` refuses (see below)


def sign(pdf: bytes, reason: str, location: str = "", *, body: Body) -> bytes:
    """``pdf`` with an invisible PAdES B-LT (or B-LTA) signature of ``body``'s certificate appended.

    Raises ``SigningUnavailable`` (503) when the body has no usable certificate, no TSA is set, or the
    time-stamp or the revocation data cannot be had: a document that must be signed is never handed
    out half-signed.
    """
    from pyhanko_certvalidator import ValidationContext

    tsa = _config("DOCUMENTS_TSA_URL")
    roots = _trust_roots()
    if not tsa or not roots:
        current_app.logger.error("signing: DOCUMENTS_TSA_URL and DOCUMENTS_TRUST_ROOTS are required")
        raise SigningUnavailable(code="signing_not_configured")
    signer = _signer(body)
    timeout = float(_config("DOCUMENTS_SIGNING_TIMEOUT", 10) or 10)
    tolerance = float(_config("DOCUMENTS_SIGNING_CLOCK_TOLERANCE", 120) or 0)
    context = ValidationContext(trust_roots=roots, allow_fetching=True, revocation_mode="hard-fail",
                                other_certs=list(signer.cert_registry),
                                time_tolerance=timedelta(seconds=tolerance))
    # pyHanko reads the clock twice when it writes a revision, once for the Info /ModDate and once for the
    # XMP packet's ModifyDate (pyhanko.pdf_utils.writer._update_meta forces "now"); PDF/A requires the two
    # equal, and a second that ticks between the readings (a loaded machine) sets them apart. The signed
    # bytes cannot be touched afterwards, so a file whose dates differ is signed again, from the start.
    for _attempt in range(SIGNING_ATTEMPTS):
        signed = _sign_once(pdf, reason, location, body, signer, context, tsa, timeout)
        if _dates_agree(signed):
            return signed
        current_app.logger.warning("signing as %s: Info and XMP modification dates differ (the clock ticked "
                                   "while they were written): signing again", body.key)
    current_app.logger.error("signing as %s failed: Info and XMP dates differed %d times", body.key,
                             SIGNING_ATTEMPTS)
    raise SigningUnavailable(code="signing_failed")


def _sign_once(pdf: bytes, reason: str, location: str, body: Body, signer, context, tsa: str,
               timeout: float) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps import HTTPTimeStamper

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    _keep_producer(writer)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=reason, location=location or None, name=body.name,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
        embed_validation_info=True, validation_context=context, use_pades_lta=level() == "B-LTA",
    )
    try:
        out = signers.sign_pdf(writer, meta, signer=signer, timestamper=HTTPTimeStamper(tsa, timeout=timeout),
                               new_field_spec=fields.SigFieldSpec(FIELD_NAME, box=None))
    except (SigningError, OSError, ValueError) as exc:
        current_app.logger.error("signing as %s failed: %s: %s", body.key, type(exc).__name__, exc)
        raise SigningUnavailable(code="signing_failed") from exc
    except Exception as exc:  # pyHanko's validation and TSA errors have no common base
        current_app.logger.error("signing as %s failed: %s: %s", body.key, type(exc).__name__, exc)
        raise SigningUnavailable(code="signing_failed") from exc
    return out.getvalue()


def _dates_agree(pdf: bytes) -> bool:
    """The last revision's Info /ModDate and XMP xmp:ModifyDate do not say different moments (a file
    without an XMP packet, or without one of the two dates, has nothing to disagree on)."""
    import pikepdf
    from pikepdf.models.metadata import decode_pdf_date

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        info = doc.docinfo.get("/ModDate")
        xmp = doc.open_metadata().get("xmp:ModifyDate")
    if info is None or xmp is None:
        return True
    try:
        return decode_pdf_date(str(info)) == datetime.fromisoformat(str(xmp))
    except ValueError:
        return False


def _keep_producer(writer) -> None:
    """Make the Info /Producer the value pyHanko writes into the XMP packet, before it signs.

    pyHanko appends its name to the Info /Producer ("WeasyPrint 66; pyHanko 0.x") but writes its name
    alone into the XMP pdf:Producer, and PDF/A requires the two to be equal. When the Info entry is
    already exactly pyHanko's name, pyHanko leaves it alone and both say the same. Title, dates and
    the PDF/A identification are left as WeasyPrint wrote them (pyHanko updates ModDate in both).
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    info_ref = writer.trailer.raw_get("/Info") if "/Info" in writer.trailer else None
    if info_ref is None:
        return
    info = info_ref.get_object()
    changed = False
    if str(info.get("/Producer", "")) != VENDOR:
        info["/Producer"] = generic.TextStringObject(VENDOR)
        changed = True
    if "/ModDate" not in info:
        # pyHanko writes xmp:ModifyDate in every update but only refreshes an Info /ModDate that exists:
        # a placeholder here (overwritten with the same moment as the XMP) keeps the two in step
        info["/ModDate"] = generic.pdf_date(datetime.now(UTC))
        changed = True
    if changed:
        writer.mark_update(info_ref)


# -- verification -------------------------------------------------------------------------------


@dataclass
class SignatureReport:
    signer: str
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the certificate chains to a trusted root, valid and not revoked at the time checked
    covers_whole_file: bool  # nothing but validation data (DSS, document time-stamps) was added after it
    signed_at: datetime | None  # the signing time the signer's computer claimed (timestamp_at is the proof)
    reason: str
    summary: str
    body: str = ""  # the issuing body the signature names (/Name)
    body_matches: bool = True  # the certificate is that body's (and the expected body's, when given)
    chain_trusted: bool = False  # the chain reaches a trusted root (revocation data aside)
    timestamp_at: datetime | None = None
    timestamp_trusted: bool = False
    revocation: str = "missing"  # good | revoked | missing
    expired: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.intact and self.valid and self.trusted and self.covers_whole_file and self.body_matches
                and self.timestamp_trusted and self.revocation == "good")


@dataclass
class Verification:
    readable: bool
    signatures: list[SignatureReport]
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.readable and bool(self.signatures) and all(s.ok for s in self.signatures)

    @property
    def verdict(self) -> str:
        """``intact``, ``altered``, ``wrong-body``, ``revoked``, ``expired``, ``no-ltv``, ``untrusted``,
        ``unsigned`` or ``unreadable``."""
        if not self.readable:
            return "unreadable"
        if not self.signatures:
            return "unsigned"
        sigs = self.signatures
        if any(not (s.intact and s.valid and s.covers_whole_file) for s in sigs):
            return "altered"
        if any(not s.body_matches for s in sigs):
            return "wrong-body"
        if any(s.revocation == "revoked" for s in sigs):
            return "revoked"
        if any(s.expired for s in sigs):
            return "expired"
        if any(not s.chain_trusted for s in sigs):
            return "untrusted"
        if any(not s.timestamp_trusted or s.revocation != "good" for s in sigs):
            return "no-ltv"
        return "intact"


def _validation_context(reader, roots, moment=None, mode="hard-fail"):
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko_certvalidator import ValidationContext

    # empty lists, not None: a file without a DSS is judged (no revocation data), not an error
    kwargs = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": mode, "ocsps": [], "crls": []}
    if moment is not None:
        kwargs.update(moment=moment, retroactive_revinfo=True)
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS in the file
        return ValidationContext(**kwargs)
    return dss.as_validation_context(kwargs)


def _report(sig, reader, roots, expected_body: str | None) -> SignatureReport:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    def check(moment=None, mode="hard-fail"):
        context = _validation_context(reader, roots, moment, mode)
        return validate_pdf_signature(sig, context, _validation_context(reader, roots, moment, mode))

    status = check()
    problems = []
    ts = status.timestamp_validity
    indic = str(getattr(status.trust_problem_indic, "name", "") or "")
    expired = indic in ("EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED")
    # Long-term validation: a certificate that expired AFTER a trusted time-stamp was still good when
    # it signed; the embedded revocation data is judged at the time-stamp's time.
    if expired and ts is not None and ts.trusted and status.intact and status.valid:
        later = check(ts.timestamp)
        if later.trusted:
            status, expired = later, False
            problems.append("certificate expired after signing")
    # hard-fail with fetching off: a trusted path means the file carried good revocation data for it
    revocation = "revoked" if status.revoked else "good" if status.trusted else "missing"
    chain_trusted = status.trusted
    if revocation == "missing" and not expired and status.intact and status.valid:
        # is the chain itself good, only the revocation data absent? (then: no-ltv, not untrusted)
        chain_trusted = check(mode="soft-fail").trusted
    cert = status.signing_cert
    body = str(sig.sig_object.get("/Name", "") or "")
    body_matches = bool(body) and belongs_to(cert, body)
    if expected_body is not None and not belongs_to(cert, expected_body):
        body_matches = False
    if indic:
        problems.append(indic)
    return SignatureReport(
        signer=cert.subject.human_friendly,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        or (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION and status.modification_level is not None
            and status.modification_level.name == "LTA_UPDATES"),
        signed_at=status.signer_reported_dt,
        reason=str(sig.sig_object.get("/Reason", "")),
        summary=status.summary(),
        body=body,
        body_matches=body_matches,
        chain_trusted=chain_trusted,
        timestamp_at=ts.timestamp if ts is not None else None,
        timestamp_trusted=bool(ts is not None and ts.trusted),
        revocation=revocation,
        expired=expired,
        problems=problems,
    )


def verify(pdf: bytes, trust_roots: list[str] | None = None, expected_body: str | None = None) -> Verification:
    """Whether each signature in ``pdf`` is intact, valid, trusted, time-stamped and revocation-checked.

    Only what is in the file and the trusted roots count: nothing is fetched from the network, so a
    signature verifies years later on a machine that has nothing but the root. ``expected_body``: the
    name of the body that should have signed (else the body the signature names is checked).
    """
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = [s for s in reader.embedded_signatures]
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        return Verification(False, [], str(exc)[:200])
    roots = _trust_roots(trust_roots)
    reports = []
    for sig in embedded:
        if str(sig.sig_object.get("/Type", "")) == "/DocTimeStamp":
            continue  # B-LTA's document time-stamp: checked as part of the signature before it
        try:
            reports.append(_report(sig, reader, roots, expected_body))
        except Exception as exc:  # a damaged signature dictionary or CMS blob: altered
            reports.append(SignatureReport("", False, False, False, False, None, "",
                                           f"{type(exc).__name__}: {str(exc)[:200]}"))
    return Verification(True, reports)
