"""Personal fields encrypted at rest, and keyed indexes where a search must still find them.

A column typed ``EncryptedText`` / ``EncryptedDate`` is stored as
``enc1:<key id>:<base64url(nonce | AES-GCM ciphertext)>``; the associated data is the column's
name (``nominations.phone``), so a value copied into another column or row of another kind does not
open.  The keys come from configuration, never from the database:

* ``FIELD_ENCRYPTION_KEYS``: ``"k2=<base64url 32 bytes>,k1=<...>"``, the first one encrypts, every one
  decrypts (rotation: put the new key first, run ``flask privacy rekey``, then drop the old one).
  Unset: one key ``s1`` derived from ``SECRET_KEY`` under a label of its own (development).
* ``FIELD_INDEX_KEY``: the HMAC-SHA256 key of the keyed indexes (``blind_index``), separate so the
  index key can be given to a search service without the decryption keys.  Unset: derived from
  ``SECRET_KEY`` under another label.

A value read back that is not in the ``enc1:`` form (a row written by hand before migration 0023) is
returned as it is; migration 0023 encrypts every existing row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from datetime import date

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PREFIX = "enc1:"
_FROM_SECRET = b"artisan-awards/field-encryption-from-secret-key/v1"
_INDEX_FROM_SECRET = b"artisan-awards/field-index-from-secret-key/v1"


class FieldKeyError(RuntimeError):
    """A stored value names a key that is not configured, or does not open under it."""


def _secret() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    return secret.encode() if isinstance(secret, str) else bytes(secret)


def _decode_key(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    if len(raw) != 32:
        raise ValueError("a field encryption key is 32 bytes in URL-safe base64")
    return raw


def parse_keys(value: str | None) -> dict[str, bytes]:
    """``"k2=...,k1=..."`` → ordered {key id: key}; the first encrypts."""
    keys: dict[str, bytes] = {}
    for part in (value or "").split(","):
        if not part.strip():
            continue
        kid, _, key = part.partition("=")
        kid = kid.strip()
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", kid) or not key:
            raise ValueError("FIELD_ENCRYPTION_KEYS is 'id=base64key,...' (ids of letters and digits)")
        keys[kid] = _decode_key(key)
    return keys


def keys() -> dict[str, bytes]:
    configured = parse_keys(current_app.config.get("FIELD_ENCRYPTION_KEYS"))
    if configured:
        return configured
    return {"s1": HKDF(algorithm=hashes.SHA256(), length=32, salt=_FROM_SECRET, info=b"").derive(_secret())}


def current_key_id() -> str:
    return next(iter(keys()))


def new_key() -> str:
    """A fresh key in the form FIELD_ENCRYPTION_KEYS takes (``flask privacy keygen``)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def encrypt(text: str, label: str) -> str:
    kid, key = next(iter(keys().items()))
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, text.encode("utf-8"), label.encode())
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(value: str) -> str | None:
    return value[len(PREFIX):].split(":", 1)[0] if is_encrypted(value) else None


def decrypt(value: str, label: str) -> str:
    if not is_encrypted(value):
        return value
    kid, _, body = value[len(PREFIX):].partition(":")
    key = keys().get(kid)
    if key is None:
        raise FieldKeyError(f"field key {kid!r} is not configured")
    raw = base64.urlsafe_b64decode(body)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], label.encode()).decode("utf-8")
    except InvalidTag as exc:
        raise FieldKeyError(f"a value of {label} does not open under key {kid!r}") from exc


def _index_key() -> bytes:
    key = current_app.config.get("FIELD_INDEX_KEY")
    if key:
        return key.encode() if isinstance(key, str) else bytes(key)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_INDEX_FROM_SECRET, info=b"").derive(_secret())


def normalise_phone(value: str | None) -> str:
    """Digits only, a leading +84 / 84 written as 0: "+84 912-345-678" and "0912345678" match."""
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def blind_index(kind: str, normalised: str | None) -> str | None:
    """HMAC-SHA256(FIELD_INDEX_KEY, kind | value) in hex: equal values match, the value stays unknown."""
    if not normalised:
        return None
    return hmac.new(_index_key(), f"{kind}\x00{normalised}".encode(), hashlib.sha256).hexdigest()


def phone_index(phone: str | None) -> str | None:
    return blind_index("phone", normalise_phone(phone))


class EncryptedText(sa.TypeDecorator):
    """Text encrypted with AES-GCM under the current field key; ``label`` is the column's name."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, label: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label = label

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return value
        return encrypt(str(value), self.label)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value, self.label)


class EncryptedDate(EncryptedText):
    """A date kept as its encrypted ISO form (no range query needs it in SQL)."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, date):
            value = value.isoformat()
        return super().process_bind_param(value, dialect)

    def process_result_value(self, value, dialect):
        text = super().process_result_value(value, dialect)
        return date.fromisoformat(text) if text else None


# Every encrypted column and why (docs/personal-data.md, "Encrypted at rest"): the migration 0023,
# `flask privacy rekey` and tests/test_field_encryption.py read this list.
ENCRYPTED_COLUMNS: dict[str, str] = {
    "nominations.birth_date": "with name and province it identifies the nominee; nothing sorts or filters on it in SQL",
    "nominations.address": "the residence of a living person",
    "nominations.phone": "a direct contact; found by the keyed index nominations.phone_index",
    "nominations.family_contact_phone": "a relative's contact (posthumous proposals)",
    "nominations.family_contact_email": "a relative's contact (posthumous proposals)",
    "public_comments.phone": "a commenter's contact: the comment is public, its author's contact is not",
    "public_comments.address": "a commenter's residence",
    "conflict_declarations.reason": "a council member's ties to a nominee (family, business)",
}
# Secrets sealed the same way that are no one's personal data: `flask privacy rekey` re-encrypts them too.
SEALED_SECRETS: dict[str, str] = {
    "partners.key": "the HMAC key a partner system signs its requests with (integration/http_signatures.py)",
}
