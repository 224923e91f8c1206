"""The sealed ballot box: a member's choices for a whole agenda, unreadable until the close.

A ballot is encoded at a FIXED length, one byte per agenda item in agenda order (``YES``, ``NO``,
``INVALID`` for a blank, ``EXCLUDED`` for a declared conflict), so every box of a session has
the same length whatever was chosen.  It is sealed with AES-GCM (``cryptography``) under a key
derived per session by HKDF-SHA256 from ``BALLOT_SEAL_KEY``, a secret kept outside the database;
the nonce is random and the session id is the associated data (a box copied into another session
does not open).  Stored: nonce || ciphertext || tag.

Without ``BALLOT_SEAL_KEY`` (development, tests) the key is derived from ``SECRET_KEY`` under a
label of its own; production sets its own value (docs/councils.md, "Keys").
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

YES, NO, INVALID, EXCLUDED = 1, 2, 3, 4
COLUMNS = {YES: "yes", NO: "no", INVALID: "invalid", EXCLUDED: "excluded"}
NONCE_BYTES = 12
_SALT = b"artisan-awards/ballot-seal/v1"
_FROM_SECRET_KEY = b"artisan-awards/ballot-seal-from-secret-key/v1"


class BoxUnreadable(Exception):
    """A box that does not open under this session's key (wrong key, altered or moved box)."""


def _master() -> bytes:
    key = current_app.config.get("BALLOT_SEAL_KEY")
    if key:
        return key.encode() if isinstance(key, str) else bytes(key)
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_FROM_SECRET_KEY, info=b"").derive(secret)


def _session_key(session_id: int) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT,
               info=f"session:{int(session_id)}".encode()).derive(_master())
    return AESGCM(key)


def _aad(session_id: int) -> bytes:
    return f"council_session:{int(session_id)}".encode()


def encode(codes: list[int]) -> bytes:
    """The fixed-length plaintext: one byte per agenda item."""
    if any(c not in COLUMNS for c in codes):
        raise ValueError("unknown ballot code")
    return bytes(codes)


def seal(session_id: int, codes: list[int]) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _session_key(session_id).encrypt(nonce, encode(codes), _aad(session_id))


def open_box(session_id: int, box: bytes, agenda_length: int) -> bytes:
    """The codes in a box; ``BoxUnreadable`` if it does not open or has the wrong length."""
    box = bytes(box)
    try:
        codes = _session_key(session_id).decrypt(box[:NONCE_BYTES], box[NONCE_BYTES:], _aad(session_id))
    except (InvalidTag, ValueError) as exc:
        raise BoxUnreadable() from exc
    if len(codes) != agenda_length or any(c not in COLUMNS for c in codes):
        raise BoxUnreadable()
    return codes
