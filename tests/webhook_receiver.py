"""A small local webhook receiver for the tests: it records every request, verifies its signature with the
secret it was given (Standard Webhooks, the library a partner would use), answers as told, and processes
each ``webhook-id`` at most once (the receiver's idempotency, as the contract asks of partners).

    with Receiver(secret) as hook:            # hook.url: http://127.0.0.1:<port>/hook
        hook.refuse(2)                        # the next two requests get 503
        hook.stall_next()                     # the next request waits until hook.release(), then 503
        hook.stall_next(accept=True)          # ... processed first, its answer held (lost if the sender dies)
        ...
        hook.accepted                         # [(webhook-id, parsed body)] processed, in order
        hook.requests                         # every request: (headers, raw body, verified?, answer)
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.requests: list[dict] = []
        self.accepted: list[tuple[str, dict]] = []
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self._refuse = 0
        self._stall = False
        self.stalled = threading.Event()  # set when a request is being held
        self._release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        # Stopped within 0.02 s, not the standard library's 0.5 s poll (tests/liveserver.py).
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def refuse(self, n: int) -> None:
        with self.lock:
            self._refuse = n

    def stall_next(self, accept: bool = False) -> None:
        with self.lock:
            self._stall = "accept" if accept else "refuse"
            self._release.clear()
            self.stalled.clear()

    def release(self) -> None:
        self._release.set()

    def _process(self, record: dict, body: bytes) -> None:
        with self.lock:
            if record["id"] not in self.seen:  # idempotent on webhook-id
                self.seen.add(record["id"])
                self.accepted.append((record["id"], json.loads(body)))

    def ids(self) -> list[str]:
        with self.lock:
            return [r["id"] for r in self.requests]

    def verify(self, secret: str, record: dict) -> bool:
        try:
            Webhook(secret).verify(record["body"], record["headers"])
        except WebhookVerificationError:
            return False
        return True

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                record = {"headers": headers, "body": body, "id": headers.get("webhook-id")}
                record["verified"] = receiver.verify(receiver.secret, record) if receiver.secret else None
                with receiver.lock:
                    receiver.requests.append(record)
                    stall, receiver._stall = receiver._stall, False
                    refuse = receiver._refuse > 0
                    if refuse:
                        receiver._refuse -= 1
                if stall:
                    if stall == "accept":
                        receiver._process(record, body)
                    receiver.stalled.set()
                    receiver._release.wait(60)
                    record["answer"] = "stalled"
                    self._answer(200 if stall == "accept" else 503)  # the sender is gone by now (killed)
                    return
                if refuse or record["verified"] is False:
                    record["answer"] = 503 if refuse else 401
                    self._answer(record["answer"])
                    return
                receiver._process(record, body)
                record["answer"] = 200
                self._answer(200)

            def _answer(self, status: int) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        return Handler
