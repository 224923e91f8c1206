"""A local stand-in for the National Public Service Portal (issue 19, item 6).

It plays both sides of a real portal:

* **Filing.** ``PortalSimulator.file(...)`` sends a dossier the way a portal would: a multipart body
  (the JSON part ``dossier`` and the evidence files), signed per RFC 9421 with the partner's key by the
  ``http-message-signatures`` library itself (not the application's helper): ``keyid`` = the partner
  code, HMAC-SHA256, covering ``@method``, ``@target-uri`` and ``content-digest`` (RFC 9530), with
  ``created`` and a fresh ``nonce``.  ``status(...)`` reads a dossier back the same way.  The target is
  either the application's Flask test client or the base URL of a live server.
* **Receiving.** ``start()`` serves a small HTTP endpoint (werkzeug ``make_server`` in a thread, on a
  free port of 127.0.0.1) at ``webhook_url``, where the application's outbox delivers status
  messages.  Each delivery is verified with ``standardwebhooks`` and the secret the portal was given
  (a wrong signature: 401, recorded in ``rejected``); the first ``refuse_first`` attempts are answered
  500 to make the sender retry; a message is recorded once, in the order received, however many times
  it is delivered (deduplicated by its ``webhook-id``); a status message whose per-dossier ``sequence``
  is not the previous one + 1 is listed in ``out_of_order``.

Its own tests are in tests/test_intake_simulator.py.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

INTAKE_PATH = "/api/v1/intake/dossiers"


class _Key(HTTPSignatureKeyResolver):
    def __init__(self, key: bytes) -> None:
        self.key = key

    def resolve_private_key(self, key_id: str):
        return self.key

    def resolve_public_key(self, key_id: str):
        return self.key


@dataclass
class _Message:
    method: str
    url: str
    headers: dict


@dataclass
class Answer:
    """What the application answered."""

    status: int
    body: dict | None
    headers: dict

    # the few parts of a Flask test response the suite's helpers read (tests/test_api.assert_error)
    @property
    def status_code(self) -> int:
        return self.status

    @property
    def is_json(self) -> bool:
        return self.body is not None

    @property
    def content_type(self) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == "content-type"), "")

    def get_json(self) -> dict | None:
        return self.body


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes, str]] = (),
              boundary: str | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body (bytes) and its content type; files are (part, filename, bytes, type)."""
    boundary = boundary or "portal-" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n'
                  "Content-Type: application/json; charset=utf-8\r\n\r\n".encode())
        out.write(value.encode() + b"\r\n")
    for part, filename, data, content_type in files:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{part}"; filename="{filename}"\r\n'
                  f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Received:
    """One status message the portal accepted (first delivery of its webhook-id)."""

    webhook_id: str
    payload: dict
    headers: dict


@dataclass
class PortalSimulator:
    partner_code: str
    key: str  # the shared HMAC key the application gave this partner
    target: object = None  # a Flask test client, or a base URL "http://127.0.0.1:PORT"
    webhook_secret: str | None = None  # "whsec_..." given by the application for status messages
    refuse_first: int = 0  # answer 500 to this many first delivery attempts
    base_url: str = "http://localhost"  # the URL the test client's requests are signed for
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    attempts: int = 0
    duplicates: int = 0
    # messages that came out of their dossier's order (a sequence that is not the last one + 1)
    out_of_order: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._last_sequence: dict[str, int] = {}
        self._server = None
        self._thread = None

    # -- filing -------------------------------------------------------------------------------

    def signed_headers(self, method: str, url: str, body: bytes, headers: dict | None = None, *,
                       created: datetime | None = None, nonce: str | None = None, key: str | None = None,
                       key_id: str | None = None, covered=("@method", "@target-uri")) -> dict:
        message = _Message(method, url, dict(headers or {}))
        signer = HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256,
                                   key_resolver=_Key((key or self.key).encode()))
        signer.sign(message, key_id=key_id or self.partner_code, created=created or datetime.now(UTC),
                    nonce=nonce or secrets.token_urlsafe(18), label="portal", covered_component_ids=covered,
                    body=body)
        return message.headers

    def request(self, method: str, path: str, body: bytes = b"", headers: dict | None = None,
                **sign_options) -> Answer:
        url = self._base() + path
        signed = self.signed_headers(method, url, body, headers, **sign_options)
        return self.send(method, path, body, signed)

    def send(self, method: str, path: str, body: bytes, headers: dict) -> Answer:
        """Send exactly these bytes and headers (a replay, a tampered body, ...)."""
        if isinstance(self.target, str):
            req = urllib.request.Request(self.target + path, data=body if method != "GET" else None,
                                         headers=headers, method=method)
            try:
                with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310 - 127.0.0.1 only
                    return Answer(r.status, _json(r.read()), dict(r.headers))
            except urllib.error.HTTPError as e:
                return Answer(e.code, _json(e.read()), dict(e.headers))
        r = self.target.open(path, method=method, data=body, headers=headers,
                             base_url=self.base_url)
        return Answer(r.status_code, r.get_json(silent=True), dict(r.headers))

    def dossier_body(self, dossier: dict, files: list[tuple[str, str, bytes, str]] = ()) -> tuple[bytes, str]:
        return multipart({"dossier": json.dumps(dossier, ensure_ascii=False)}, files)

    def file(self, dossier: dict, files: list[tuple[str, str, bytes, str]] = (), **sign_options) -> Answer:
        """File a dossier: ``files`` are (part: the kind, filename, bytes, content type)."""
        body, content_type = self.dossier_body(dossier, files)
        return self.request("POST", INTAKE_PATH, body, {"Content-Type": content_type}, **sign_options)

    def status(self, external_code: str, **sign_options) -> Answer:
        return self.request("GET", f"{INTAKE_PATH}/{external_code}", b"", **sign_options)

    def _base(self) -> str:
        return self.target if isinstance(self.target, str) else self.base_url

    # -- receiving ----------------------------------------------------------------------------

    def start(self) -> PortalSimulator:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        # Stopped within 0.02 s, not the standard library's 0.5 s poll (tests/liveserver.py).
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="portal-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=10)
            self._server = None

    def __enter__(self) -> PortalSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/status"

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        response = self._receive(request)
        return response(environ, start_response)

    def _receive(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/status":
            return Response("not found", status=404)
        body = request.get_data()
        headers = {k: v for k, v in request.headers.items()}
        with self._lock:
            self.attempts += 1
            if self.attempts <= self.refuse_first:
                return Response("refused on purpose", status=500)
            try:
                payload = Webhook(self.webhook_secret).verify(body, headers)
            except (WebhookVerificationError, ValueError, TypeError) as exc:
                self.rejected.append(str(exc) or type(exc).__name__)
                return Response("bad signature", status=401)
            webhook_id = headers.get("Webhook-Id") or headers.get("webhook-id")
            if webhook_id in self._seen:
                self.duplicates += 1
                return Response(status=204)
            self._seen.add(webhook_id)
            self.received.append(Received(webhook_id, payload, headers))
            data = payload.get("data") or {} if isinstance(payload, dict) else {}
            if isinstance(data.get("sequence"), int):  # a status message: its dossier's next number
                dossier = str(data.get("dossier_code"))
                expected = self._last_sequence.get(dossier, 0) + 1
                if data["sequence"] != expected:
                    self.out_of_order.append(f"{dossier}: {data['sequence']} after {expected - 1}")
                self._last_sequence[dossier] = data["sequence"]
        return Response(status=204)

    def payloads(self) -> list[dict]:
        with self._lock:
            return [r.payload for r in self.received]


def _json(raw: bytes):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
