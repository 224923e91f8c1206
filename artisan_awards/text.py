"""Vietnamese text helpers: NFC normalisation and accent-free search keys."""

import unicodedata


def nfc(value):
    """Normalise text to NFC; anything else is returned as it is."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def nfc_deep(value):
    """NFC-normalise every string inside nested dicts and lists (JSON bodies, form data)."""
    if isinstance(value, dict):
        return {nfc(k): nfc_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc_deep(v) for v in value]
    return nfc(value)


def strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def search_key(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced: 'Nguyễn Văn Ánh' -> 'nguyen van anh'."""
    if not text:
        return ""
    return " ".join(strip_accents(nfc(text)).lower().split())
