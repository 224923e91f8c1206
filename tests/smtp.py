"""A real local SMTP server for the tests (aiosmtpd), capturing what the app sends.

``smtp_server`` yields a ``Mailbox``; point the app at it with ``mailbox.config``.
``mailbox.fail = True`` makes the server refuse every message with 451 (try later).
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import time
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list = field(default_factory=list)
    fail: bool = False

    @property
    def config(self) -> dict:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, "MAIL_USE_TLS": False,
                "MAIL_FROM": "xet-tang@example.vn"}

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.fail:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no message #{count} to {address}; got {[m['To'] for m in self.messages]}")

    @staticmethod
    def body(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    def link(self, address: str, count: int = 1) -> str:
        text = self.body(self.wait_for(address, count))
        match = re.search(r"https?://\S+", text)
        assert match, text
        return match.group(0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname=box.host, port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
