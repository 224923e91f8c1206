"""Electronic signatures (PAdES, with pyHanko) with the issuing body's certificate.

The operator configures the certificate:

* ``DOCUMENTS_SIGNING_KEY``: the private key (PEM or DER file),
* ``DOCUMENTS_SIGNING_CERT``: its certificate,
* ``DOCUMENTS_SIGNING_CHAIN``: the intermediate and root certificates (paths, ``:``-separated in the
  environment), embedded in the signature,
* ``DOCUMENTS_SIGNING_PASSPHRASE``: the key's passphrase, if any,
* ``DOCUMENTS_TRUST_ROOTS``: the certificates verification trusts (default: the chain's last one).

When a key and certificate are configured, the minutes (Mẫu 05), the vote-count minutes (06), the
lists (04, the national list) and the submission letter (03) are signed as they are made. The
signature is invisible: it is an incremental update that adds a signature field with no
appearance, so not a pixel of the document changes.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app, has_app_context

SIGNED_KINDS = ("submission-letter", "list", "minutes", "tally", "consultation-list")
FIELD_NAME = "ChuKySo"


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


def configured() -> bool:
    return bool(_config("DOCUMENTS_SIGNING_KEY") and _config("DOCUMENTS_SIGNING_CERT"))


def signer_fingerprint() -> str | None:
    """SHA-256 of the signing certificate (part of the cache key of signed documents)."""
    if not configured():
        return None
    return hashlib.sha256(Path(_config("DOCUMENTS_SIGNING_CERT")).read_bytes()).hexdigest()


def _signer():
    from pyhanko.sign import signers

    passphrase = _config("DOCUMENTS_SIGNING_PASSPHRASE")
    signer = signers.SimpleSigner.load(
        _config("DOCUMENTS_SIGNING_KEY"), _config("DOCUMENTS_SIGNING_CERT"),
        ca_chain_files=_paths(_config("DOCUMENTS_SIGNING_CHAIN")) or None,
        key_passphrase=passphrase.encode() if passphrase else None,
    )
    if signer is None:
        raise RuntimeError("DOCUMENTS_SIGNING_KEY / DOCUMENTS_SIGNING_CERT could not be loaded")
    return signer


def sign(pdf: bytes, reason: str, location: str = "") -> bytes:
    """``pdf`` with an invisible PAdES signature of the configured certificate appended."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=reason, location=location or None,
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
    )
    out = signers.sign_pdf(writer, meta, signer=_signer(),
                           new_field_spec=fields.SigFieldSpec(FIELD_NAME, box=None))
    return out.getvalue()


# -- verification -------------------------------------------------------------------------------


@dataclass
class SignatureReport:
    signer: str
    intact: bool  # the signed bytes are unchanged
    valid: bool  # the cryptographic signature checks out
    trusted: bool  # the certificate chains to a trusted root
    covers_whole_file: bool  # nothing was added after the signature
    signed_at: datetime | None
    reason: str
    summary: str

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.covers_whole_file


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
        """``intact``, ``altered``, ``untrusted``, ``unsigned`` or ``unreadable``."""
        if not self.readable:
            return "unreadable"
        if not self.signatures:
            return "unsigned"
        if any(not (s.intact and s.valid and s.covers_whole_file) for s in self.signatures):
            return "altered"
        if any(not s.trusted for s in self.signatures):
            return "untrusted"
        return "intact"


def _trust_roots(extra: list[str] | None = None):
    from pyhanko.keys import load_cert_from_pemder

    paths = _paths(extra) or _paths(_config("DOCUMENTS_TRUST_ROOTS"))
    if not paths:
        chain = _paths(_config("DOCUMENTS_SIGNING_CHAIN"))
        paths = chain[-1:] if chain else _paths(_config("DOCUMENTS_SIGNING_CERT"))
    return [load_cert_from_pemder(p) for p in paths]


def verify(pdf: bytes, trust_roots: list[str] | None = None) -> Verification:
    """Whether each signature in ``pdf`` is intact, valid and trusted, and who signed."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError) as exc:
        return Verification(False, [], str(exc)[:200])
    context = ValidationContext(trust_roots=_trust_roots(trust_roots), allow_fetching=False,
                                revocation_mode="soft-fail")
    reports = []
    for sig in embedded:
        try:
            status = validate_pdf_signature(sig, context)
        except Exception as exc:  # a damaged signature dictionary or CMS blob: altered
            reports.append(SignatureReport("", False, False, False, False, None, "",
                                           f"{type(exc).__name__}: {str(exc)[:200]}"))
            continue
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        reports.append(SignatureReport(
            signer=status.signing_cert.subject.human_friendly,
            intact=bool(status.intact),
            valid=bool(status.valid),
            trusted=bool(status.trusted),
            covers_whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
            signed_at=status.signer_reported_dt,
            reason=str(sig.sig_object.get("/Reason", "")),
            summary=status.summary(),
        ))
    return Verification(True, reports)


# -- a throwaway certificate authority (tests, rehearsals; never for real documents) -------------


def make_test_ca(directory: Path, signer_name: str = "Sở Công Thương Hà Nội (THỬ NGHIỆM)") -> dict[str, Path]:
    """A root CA and a signing certificate it issued, written as PEM files into ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC) - timedelta(days=1)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Artisan Awards (thử nghiệm)"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name("CA thử nghiệm")
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
               .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now).not_valid_after(now + timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False, key_agreement=False,
                                            key_cert_sign=True, crl_sign=True, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name(signer_name)).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": directory / "ca.pem", "cert": directory / "signer.pem", "key": directory / "signer-key.pem"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    os.chmod(paths["key"], 0o600)
    return paths
