"""RFC 9421 HTTP Message Signatures of partner systems, with the ``http-message-signatures`` library.

A partner signs every request with its shared key (HMAC-SHA256, ``alg="hmac-sha256"``), ``keyid`` =
its partner code, covering ``@method``, ``@target-uri`` (or ``@path``, for a partner behind a proxy that
rewrites the host) and ``content-digest`` (RFC 9530, the SHA-256 or SHA-512 of the body, verified here
against the body received), with the parameters ``created`` and ``nonce``.  The answer to a refused
request is a 401 (403 for a deactivated partner) in the API's error shape with one of the codes below.

* ``created`` must fall in the window ``INTAKE_SIGNATURE_MAX_AGE`` seconds back,
  ``INTAKE_SIGNATURE_CLOCK_SKEW`` seconds forward: an old signature is refused even when it is right.
* ``nonce`` is remembered (``partner_request_nonces``, its primary key) for as long as the window
  lasts: the same signed request sent twice is refused the second time, whoever sends it.
* The signature is checked before anything of the request is believed: which partner is asking comes
  from the verified ``keyid`` alone.

``sign`` is the same recipe on the sending side (the simulator in the tests, the docs' example).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from sqlalchemy.exc import IntegrityError

from workflows.states import N_

from ..errors import ServiceError
from ..extensions import db
from ..models import Partner, RequestNonce
from ..timeutil import now_utc

ALGORITHM = algorithms.HMAC_SHA256
COVERED = ("@method", "@target-uri", "content-digest")  # what ``sign`` covers
REQUIRED = ("@method", "content-digest")  # and one of TARGETS
TARGETS = ('"@target-uri"', '"@path"')
NONCE_CHARS = 128  # partner_request_nonces.nonce
LABEL = "sig1"


class SignatureRefused(ServiceError):
    """A request whose signature does not prove who sent it (401 in the API's error shape)."""

    status = 401
    code = "signature_invalid"
    message = N_("Chữ ký của yêu cầu không hợp lệ.")


class PartnerInactive(ServiceError):
    status = 403
    code = "partner_inactive"
    message = N_("Hệ thống đối tác này đã bị tạm ngừng kết nối.")


MISSING = N_("Yêu cầu thiếu chữ ký (Signature-Input, Signature).")
UNKNOWN = N_("Không có hệ thống đối tác với mã khóa (keyid) này.")
STALE = N_("Chữ ký đã quá thời hạn hoặc có thời điểm tạo (created) không hợp lệ.")
REPLAYED = N_("Yêu cầu này đã được gửi trước đó (nonce đã dùng).")
NO_NONCE = N_("Chữ ký cần tham số nonce.")
COVERAGE = N_("Chữ ký phải bao gồm @method, @target-uri (hoặc @path) và content-digest.")
DIGEST = N_("Nội dung yêu cầu không khớp với Content-Digest đã ký.")


class _PartnerKeys(HTTPSignatureKeyResolver):
    """The verification key of the partner named by ``keyid``; remembers which partner it was."""

    def __init__(self) -> None:
        self.partner: Partner | None = None
        self.asked: str | None = None

    def resolve_public_key(self, key_id: str):
        self.asked = key_id
        if not isinstance(key_id, str) or not 0 < len(key_id) <= 40:
            return None
        self.partner = db.session.scalar(sa.select(Partner).where(Partner.code == key_id))
        return self.partner.key.encode() if self.partner is not None else None

    def resolve_private_key(self, key_id: str):  # pragma: no cover - verification only
        raise KeyError(key_id)


@dataclass
class _Message:
    """The library's message interface over a Flask/werkzeug request."""

    method: str
    url: str
    headers: dict


class _Verifier(HTTPMessageVerifier):
    # ``created`` is checked below against the configured window, with codes of its own
    max_clock_skew = timedelta(days=36500)


def verify(request) -> Partner:
    """The partner that signed ``request``, or SignatureRefused / PartnerInactive.

    The nonce is recorded in its own committed transaction, so a replay is refused even when the
    first request failed later on (its answer was a 4xx: the partner signs its corrected request anew)."""
    headers = {k: v for k, v in request.headers.items()}
    if "Signature-Input" not in request.headers or "Signature" not in request.headers:
        raise SignatureRefused(MISSING, code="signature_missing")
    body = request.get_data(cache=True)
    keys = _PartnerKeys()
    verifier = _Verifier(signature_algorithm=ALGORITHM, key_resolver=keys)
    message = _Message(request.method, request.url, headers)
    try:
        results = verifier.verify(message, max_age=None, require_components=REQUIRED)
    except InvalidSignature as exc:
        current_app.logger.info("partner request refused: %s", exc)
        if keys.asked is not None and keys.partner is None:
            raise SignatureRefused(UNKNOWN, code="partner_unknown") from exc
        if "not covered" in str(exc):
            raise SignatureRefused(COVERAGE, code="signature_coverage") from exc
        raise SignatureRefused() from exc
    except (HTTPMessageSignaturesException, ValueError, TypeError) as exc:  # a malformed field
        raise SignatureRefused() from exc
    try:  # the signature holds: now the body must be the one its Content-Digest names
        results = verifier.verify_body(message, results, body)
    except (HTTPMessageSignaturesException, ValueError, TypeError) as exc:
        raise SignatureRefused(DIGEST, code="content_digest_mismatch") from exc
    if len(results) != 1 or keys.partner is None:
        raise SignatureRefused()
    result = results[0]
    if not any(t in result.covered_components for t in TARGETS):
        raise SignatureRefused(COVERAGE, code="signature_coverage")
    _check_created(result.parameters.get("created"))
    nonce = result.parameters.get("nonce")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= NONCE_CHARS:
        raise SignatureRefused(NO_NONCE, code="signature_nonce_missing")
    partner = keys.partner
    if not partner.active:
        raise PartnerInactive()
    _remember(partner, nonce)
    return partner


def _check_created(created) -> None:
    config = current_app.config
    if type(created) is not int:
        raise SignatureRefused(STALE, code="signature_expired")
    now = now_utc().timestamp()
    if created < now - int(config["INTAKE_SIGNATURE_MAX_AGE"]) or created > now + int(
            config["INTAKE_SIGNATURE_CLOCK_SKEW"]):
        raise SignatureRefused(STALE, code="signature_expired")


def _remember(partner: Partner, nonce: str) -> None:
    """Record the nonce (its second use fails on the primary key); forget those past the window."""
    config = current_app.config
    seconds = int(config["INTAKE_SIGNATURE_MAX_AGE"]) + int(config["INTAKE_SIGNATURE_CLOCK_SKEW"])
    window = timedelta(seconds=2 * seconds)
    try:
        db.session.execute(sa.delete(RequestNonce).where(RequestNonce.seen_at < now_utc() - window))
        db.session.add(RequestNonce(partner_id=partner.id, nonce=nonce))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise SignatureRefused(REPLAYED, code="signature_replayed") from None


# -- the sending side ----------------------------------------------------------------------------


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, key: bytes) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str):
        return self.key

    def resolve_public_key(self, key_id: str):  # pragma: no cover - signing only
        return self.key


def new_key() -> str:
    """A fresh shared key (32 random bytes, URL-safe base64): what a partner is given once."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def sign(method: str, url: str, body: bytes, key_id: str, key: str | bytes, headers: dict | None = None, *,
         created: datetime | None = None, nonce: str | None = None,
         covered: tuple[str, ...] = COVERED) -> dict:
    """The headers of a signed request (``headers`` given, plus Content-Digest, Signature-Input,
    Signature): the partner's recipe, as docs/integration.md shows it."""
    message = _Message(method.upper(), url, dict(headers or {}))
    signer = HTTPMessageSigner(signature_algorithm=ALGORITHM,
                               key_resolver=_OneKey(key.encode() if isinstance(key, str) else key))
    signer.sign(message, key_id=key_id, created=created or datetime.now(UTC),
                nonce=nonce or secrets.token_urlsafe(24), label=LABEL,
                covered_component_ids=tuple(c for c in covered if c != "content-digest"), body=body)
    return message.headers
