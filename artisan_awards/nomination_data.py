"""The one mapping between a ``Nomination`` row and the shape of ``schemas.NominationIn``.

Each table below pairs a key of the input (the API's JSON, the form steps) with a column. Three
things are read from it, so a new field is added here once:

* ``to_data(n)``: the row as NominationIn data (Python values; ``serializers.nomination_in`` makes it
  JSON), what a PATCH or a form step is merged into;
* ``apply(n, data)``: the inverse, writing validated NominationIn data onto the row;
* ``services.eligibility.facts``: the facts the award rules read, from that same data, whether it
  comes from a stored row or from an input that is only being checked.

``apply(n, d)`` then ``to_data(n)`` gives ``d`` back (``round_id`` and the province aside, which the
operations set themselves).
"""

from __future__ import annotations

from typing import Any

from .models import CraftPeriod, Nomination, Product

# input key -> column, for the top of NominationIn, its nominee, and the nested objects
TOP = {key: key for key in (
    "title", "posthumous", "craft", "special_craft", "special_craft_rationale", "workshop", "career_summary",
    "skills_summary", "honours_summary", "learners_trained", "intangible_heritage_track")}
NOMINEE = {key: key for key in (
    "full_name", "pen_name", "birth_date", "death_date", "gender", "ethnicity", "hometown", "province_code",
    "address", "phone", "email")}
MERITORIOUS = {"decision_no": "meritorious_decision_no", "decision_date": "meritorious_decision_date",
               "field": "meritorious_field"}
FILED_BY = {"full_name": "filed_by_name", "relationship": "filed_by_relationship"}
PERIOD = {"from": "from_date", "to": "to_date", "workplace": "workplace", "role": "role"}
PRODUCT = {key: key for key in ("name", "made_on", "materials", "self_designed")}
AWARD = {"rank": "award_rank", "level": "award_level", "state_delegated": "award_state_delegated",
         "organiser": "award_organiser", "awarded_on": "awarded_on"}
# Set by the operations (filing province, moving a draft to another round), not by apply.
NOT_APPLIED = frozenset({"round_id", "nominee.province_code"})


def _read(row: Any, table: dict[str, str]) -> dict:
    return {key: getattr(row, column) for key, column in table.items()}


def _given(values: dict) -> bool:
    """Whether an optional nested object was filled in at all (False and empty count as not)."""
    return any(value not in (None, "", False) for value in values.values())


def to_data(n: Nomination) -> dict:
    """The row in the shape of NominationIn, with Python values (dates as ``date``)."""
    merit = _read(n, MERITORIOUS)
    merit["field"] = merit["field"] or "handicraft"  # the input's default
    return {
        "round_id": n.round_id,
        **_read(n, TOP),
        "nominee": _read(n, NOMINEE),
        "craft_periods": [_read(p, PERIOD) for p in n.periods],
        "meritorious_title": merit if _given(_read(n, MERITORIOUS)) else None,
        "products": [
            {**_read(p, PRODUCT), "award": award if _given(award := _read(p, AWARD)) else None}
            for p in n.products
        ],
        "filed_by": _read(n, FILED_BY),
    }


def _write(row: Any, table: dict[str, str], values: dict | None, skip: frozenset[str] = frozenset()) -> None:
    for key, column in table.items():
        if key not in skip:
            setattr(row, column, values.get(key) if values else None)


def apply(n: Nomination, data: dict) -> None:
    """Write NominationIn data (``model_dump(by_alias=True)`` of a validated input) onto the row."""
    _write(n, TOP, data)
    _write(n, NOMINEE, data["nominee"], skip=frozenset({"province_code"}))
    _write(n, MERITORIOUS, data.get("meritorious_title"))
    _write(n, FILED_BY, data["filed_by"])
    n.periods = [CraftPeriod(**{column: p[key] for key, column in PERIOD.items()})
                 for p in data["craft_periods"]]
    products = []
    for p in data["products"]:
        product = Product(**{column: p[key] for key, column in PRODUCT.items()})
        _write(product, AWARD, p.get("award"))
        product.award_state_delegated = bool(product.award_state_delegated)
        products.append(product)
    n.products = products
    n.refresh_name_key()
