"""Sensitive fields as the current person may see them (issue 17 item 3, docs/personal-data.md §3).

``permissions.FIELD_ACCESS`` says, per role, which sensitivity classes are shown, revealable on demand
or masked; this module applies it to a page (the ``personal`` template global and the
``templates/_personal.html`` macro), an API answer (``mask_nomination_out``), an export or a PDF
(``shown``).  A reveal on demand is recorded (``services.privacy.reveal``: one audit event with the
reason) and lasts ``REVEAL_MINUTES`` for that dossier and class in the person's signed session.
"""

from __future__ import annotations

import time
from datetime import date

from flask import has_request_context, session
from flask_login import current_user

from . import permissions
from . import personal_fields as pf
from .i18n import vn_date

REVEAL_MINUTES = 15
_KEY = "revealed"


def revealed(target: str) -> set[str]:
    """The classes revealed (with a logged reason) for ``target`` ("nomination:12") in this session."""
    if not has_request_context():
        return set()
    now = time.time()
    return {cls for cls, until in (session.get(_KEY, {}).get(target) or {}).items() if until > now}


def remember(target: str, cls: str) -> None:
    now = time.time()
    kept = {t: {c: u for c, u in classes.items() if u > now} for t, classes in session.get(_KEY, {}).items()}
    kept.setdefault(target, {})[cls] = now + REVEAL_MINUTES * 60
    session[_KEY] = {t: c for t, c in kept.items() if c}


def target_of(nomination) -> str:
    return f"nomination:{nomination.id}" if nomination is not None else "comments"


def shown(cls: str, value, nomination=None, user=None):
    """``value`` as ``user`` (default: the current person) may see it here."""
    user = user if user is not None else current_user
    return permissions.shown_value(user, cls, value, nomination, revealed(target_of(nomination)))


def personal(nomination, cls: str, value) -> dict:
    """For the template macro: the text to print, and whether a "Hiện" form goes next to it."""
    access = permissions.field_access(current_user, cls, nomination)
    is_revealed = access == permissions.REVEAL and cls in revealed(target_of(nomination))
    text = value if access == permissions.SHOW or is_revealed else pf.mask(cls, value)
    masked = text != value and value not in (None, "")
    if isinstance(text, date):
        text = vn_date(text)
    return {"text": text, "masked": masked,
            "revealable": access == permissions.REVEAL and not is_revealed and value not in (None, ""),
            "cls": cls}


def revealable(nomination, items) -> list[str]:
    """The classes among ``items`` [(cls, value), ...] the person may reveal and has not yet (no duplicates)."""
    found: list[str] = []
    for cls, value in items:
        if cls not in found and personal(nomination, cls, value)["revealable"]:
            found.append(cls)
    return found


def class_label(cls: str) -> str:
    return pf.CLASSES[cls]


def mask_nomination_out(data: dict, viewer, nomination) -> dict:
    """An API answer about ``nomination`` with each sensitive value as ``viewer`` may see it (no reveal
    on the API: a value to reveal is masked; the page's "Hiện" form records the reason)."""
    def see(cls, value):
        return permissions.shown_value(viewer, cls, value, nomination)

    nominee = data.get("nominee")
    if isinstance(nominee, dict):
        for key, cls in (("address", pf.ADDRESS), ("phone", pf.PHONE), ("email", pf.PHONE)):
            if nominee.get(key) not in (None, ""):
                nominee[key] = see(cls, nominee[key])
        if nomination.birth_date is not None:
            seen = see(pf.BIRTH_DATE, nomination.birth_date)
            nominee["birth_date"] = seen.isoformat() if seen == nomination.birth_date else seen
    filed_by = data.get("filed_by")
    if isinstance(filed_by, dict) and nomination.posthumous and filed_by.get("full_name"):
        filed_by["full_name"] = see(pf.FAMILY, filed_by["full_name"])
    family = data.get("family_contact")
    if isinstance(family, dict):
        for key in ("name", "phone", "email"):
            if family.get(key):
                family[key] = see(pf.FAMILY, family[key])
    return data


def init_app(app) -> None:
    app.jinja_env.globals.update(personal=personal, shown_personal=shown, revealable=revealable,
                                 personal_class_label=class_label)
