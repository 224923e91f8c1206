"""A throwaway PKI for tests and rehearsals (``flask documents test-pki``), with certomancer.

A root, an intermediate CA, one signing certificate per issuing body (plus an expired, a revoked and
a "wrong body" one), a time-stamp authority and OCSP responders. ``Pki.start()`` serves the TSA and
OCSP over HTTP on 127.0.0.1 (a free port) with certomancer's Animator; ``stop()`` takes them down
so that a test can prove the verification needs nothing but the root.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ARCH = "aa-test"
# certificate label -> the issuing body's name in the certificate's subject (CN and O); "hni" also gets
# an expired and a revoked certificate ("hni-expired", "hni-revoked") with the same subject
BODIES = {
    "ministry": "Bộ Công Thương",
    "hni": "Sở Công Thương Hà Nội",
    "hpg": "Sở Công Thương Hải Phòng",
}
RSA_SIGNERS = ("ministry", "hpg", "hni-revoked")  # RSA 2048 (the floor of the rules); the others P-256


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _ku(*usages):
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _aia(responder: str):
    return {"id": "authority_information_access",
            "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": [responder]}}}


@dataclass
class Pki:
    directory: Path
    arch: object = None
    server: object = None
    thread: threading.Thread | None = None
    port: int = 0
    latency: float = 0.0  # seconds each TSA/OCSP answer waits
    bodies: dict = field(default_factory=lambda: dict(BODIES))

    # -- building -----------------------------------------------------------------------------

    def build(self, port: int) -> None:
        from certomancer.registry import CertomancerConfig

        keys = self.directory / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        extras = ["hni-expired", "hni-revoked"] if "hni" in self.bodies else []
        labels = ["root", "interm", "tsa", "root-ocsp", "interm-ocsp", *self.bodies, *extras]
        for label in labels:
            key = (rsa.generate_private_key(65537, 2048) if label in RSA_SIGNERS
                   else ec.generate_private_key(ec.SECP256R1()))
            (keys / f"{label}.key.pem").write_bytes(key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        now = _now()
        long = {"valid-from": _iso(now - timedelta(days=400)), "valid-to": _iso(now + timedelta(days=3650))}
        year = {"valid-from": _iso(now - timedelta(days=30)), "valid-to": _iso(now + timedelta(days=365))}
        expired = {"valid-from": _iso(now - timedelta(days=400)), "valid-to": _iso(now - timedelta(days=2))}
        signer_ext = [_ku("digital_signature", "non_repudiation"), _aia("interm")]
        entities = {"root": {"common-name": "CA gốc thử nghiệm"},
                    "interm": {"common-name": "CA trung gian thử nghiệm"},
                    "tsa": {"common-name": "Máy chủ dấu thời gian thử nghiệm"},
                    "root-ocsp": {"common-name": "OCSP gốc thử nghiệm"},
                    "interm-ocsp": {"common-name": "OCSP trung gian thử nghiệm"}}
        for label, name in self.bodies.items():
            entities[label] = {"common-name": name, "organization-name": name}
        certs = {
            "root": {"subject": "root", "issuer": "root", "validity": long,
                     "extensions": [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                                    _ku("digital_signature", "key_cert_sign", "crl_sign")]},
            "interm": {"subject": "interm", "issuer": "root", "validity": long,
                       "extensions": [{"id": "basic_constraints", "critical": True,
                                       "value": {"ca": True, "path_len_constraint": 0}},
                                      _ku("digital_signature", "key_cert_sign", "crl_sign"), _aia("root")]},
            "root-ocsp": {"subject": "root-ocsp", "issuer": "root", "validity": long,
                          "extensions": [_ku("digital_signature"),
                                         {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                         {"id": "ocsp_no_check"}]},
            "interm-ocsp": {"subject": "interm-ocsp", "issuer": "interm", "validity": long,
                            "extensions": [_ku("digital_signature"),
                                           {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                           {"id": "ocsp_no_check"}]},
            "tsa": {"subject": "tsa", "issuer": "root", "validity": long,
                    "extensions": [_ku("digital_signature", "non_repudiation"), _aia("root"),
                                   {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]}]},
        }
        for label in self.bodies:
            certs[label] = {"subject": label, "issuer": "interm", "validity": year, "extensions": signer_ext}
        if extras:
            certs["hni-expired"] = {"subject": "hni", "subject-key": "hni-expired", "issuer": "interm",
                                    "validity": expired, "extensions": signer_ext}
            certs["hni-revoked"] = {"subject": "hni", "subject-key": "hni-revoked", "issuer": "interm",
                                    "validity": year, "extensions": signer_ext,
                                    "revocation": {"revoked-since": _iso(now - timedelta(days=1)),
                                                   "reason": "key_compromise"}}
        config = {
            "external-url-prefix": f"http://127.0.0.1:{port}",
            "keysets": {"k": {"path-prefix": str(keys),
                              "keys": {label: {"path": f"{label}.key.pem"} for label in labels}}},
            "pki-architectures": {ARCH: {
                "keyset": "k",
                "entity-defaults": {"country-name": "VN", "organization-name": "Artisan Awards (thử nghiệm)"},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {"root": {"for-issuer": "root", "responder-cert": "root-ocsp",
                                      "signing-key": "root-ocsp"},
                             "interm": {"for-issuer": "interm", "responder-cert": "interm-ocsp",
                                        "signing-key": "interm-ocsp"}},
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }},
        }
        (self.directory / "certomancer.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
        cfg = CertomancerConfig(config, key_search_dir=str(keys))
        self.arch = cfg.get_pki_arch(ARCH)

    # -- files the application reads --------------------------------------------------------------

    def cert_pem(self, label: str) -> bytes:
        return _pem(self.arch.get_cert(label).dump())

    def write_root(self) -> Path:
        path = self.directory / "root.pem"
        path.write_bytes(self.cert_pem("root"))
        return path

    def write_body(self, signing_dir: Path, body: str, label: str, pkcs12_password: bytes | None = None) -> Path:
        """The body's folder under ``DOCUMENTS_SIGNING_DIR`` holding ``label``'s key and certificate."""
        folder = signing_dir / body
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.iterdir():
            stale.unlink()
        key_label = self.arch.get_cert_spec(label).subject_key
        if pkcs12_password is not None:
            (folder / "signer.p12").write_bytes(self.arch.package_pkcs12(label, password=pkcs12_password))
            (folder / "passphrase").write_bytes(pkcs12_password)
            return folder
        key = self.arch.key_set.get_private_key(key_label)
        (folder / "key.pem").write_bytes(_pem(key.dump(), "PRIVATE KEY"))
        (folder / "cert.pem").write_bytes(self.cert_pem(label))
        (folder / "chain.pem").write_bytes(self.cert_pem("interm") + self.cert_pem("root"))
        return folder

    # -- serving --------------------------------------------------------------------------------

    @property
    def tsa_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}/tsa/tsa"

    def start(self) -> None:
        from certomancer.integrations.animator import Animator, AnimatorArchStore
        from werkzeug.serving import make_server

        animator = Animator(AnimatorArchStore({ARCH: self.arch}), with_web_ui=False)

        def app(environ, start_response):
            if self.latency:  # a slow responder, as a loaded machine or a distant CA is
                time.sleep(self.latency)
            return animator(environ, start_response)

        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _pem(der: bytes, kind: str = "CERTIFICATE") -> bytes:
    from asn1crypto import pem

    return pem.armor(kind, der)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_pki(directory: Path, bodies=None) -> Pki:
    """Build the PKI in ``directory``; ``bodies``: ``signing.Body`` list (default: BODIES)."""
    pki = Pki(directory) if bodies is None else Pki(directory, bodies={b.key: b.name for b in bodies})
    pki.port = free_port()
    pki.build(pki.port)
    return pki
