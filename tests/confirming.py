"""Pages that ask before an irreversible action (artisan_awards/confirm.py): read and answer the question."""

from __future__ import annotations

import html
import re

_FORM = re.compile(r'<form[^>]*data-testid="confirm-form"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def is_question(response) -> bool:
    """The answer is the confirmation page (nothing was done yet)."""
    return response.status_code == 200 and 'data-testid="confirm-form"' in response.get_data(as_text=True)


def answer_fields(response) -> dict[str, list[str]]:
    """The hidden fields the confirmation page posts back (the first POST's fields and the token)."""
    match = _FORM.search(response.get_data(as_text=True))
    assert match, "no confirmation form on the page"
    fields: dict[str, list[str]] = {}
    for name, value in _HIDDEN.findall(match.group(1)):
        fields.setdefault(html.unescape(name), []).append(html.unescape(value))
    return fields


def post_confirmed(client, url: str, data: dict | None = None, **kwargs):
    """POST, and when the page asks for a confirmation, confirm it: the answer to the confirmed POST."""
    first = client.post(url, data=data or {}, **kwargs)
    if not is_question(first):
        return first
    return client.post(url, data=answer_fields(first), **kwargs)
