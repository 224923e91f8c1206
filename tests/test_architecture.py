"""The shape of the code: no import circle in the package, workflows/ free of the application and of
Flask, the layer diagram in docs/layers.md generated from the real imports, and the small shared
helpers that replaced copies (``timeutil.as_utc``, ``machine.can_fire``)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from artisan_awards.timeutil import as_utc
from workflows.machine import HOLDABLE, TRANSITIONS, Subject, can_fire, fire
from workflows.states import Action, State

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
ig = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ig)

def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_package_has_no_import_circle_at_module_level():
    edges = ig.graph()
    assert "artisan_awards.services.notifications" in edges and len(edges) > 50  # it read the package
    assert ig.circles(edges) == []


def test_no_circle_hides_behind_a_function_level_import():
    edges = ig.graph(in_functions=True)
    # serializers <-> services.eligibility was the last one: the view computes eligibility and passes it in.
    assert "artisan_awards.services.eligibility" not in edges["artisan_awards.serializers"]
    assert ig.circles(edges) == []


def test_mail_is_below_notifications_and_reminders():
    edges = ig.graph(in_functions=True)
    svc = "artisan_awards.services."
    assert svc + "mail" in edges[svc + "notifications"] and svc + "mail" in edges[svc + "reminders"]
    assert edges[svc + "mail"] & {svc + "notifications", svc + "reminders"} == set()
    assert svc + "reminders" not in edges[svc + "notifications"]


@pytest.mark.parametrize("files, expected", [
    # a module-level circle, through a package's __init__ and a relative import
    ({"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "from .a import thing\n"},
     [["pkg.a", "pkg.b"]]),
    # three modules, absolute imports, one of them inside try/if
    ({"pkg/__init__.py": "", "pkg/a.py": "import pkg.b\n",
      "pkg/b.py": "try:\n    from pkg import c\nexcept ImportError:\n    c = None\n",
      "pkg/c.py": "if True:\n    from pkg.a import x\n"},
     [["pkg.a", "pkg.b", "pkg.c"]]),
    # a blueprint's routes taking `bp` from their package is not a circle; a type-only import is not one
    ({"pkg/__init__.py": "bp = 1\nfrom . import routes\n", "pkg/routes.py": "from . import bp\n",
      "pkg/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import y\n",
      "pkg/y.py": "from . import x\n"},
     []),
    # a function-level import does not make a module-level circle
    ({"pkg/__init__.py": "", "pkg/a.py": "from . import b\n", "pkg/b.py": "def f():\n    from . import a\n"},
     []),
])
def test_a_seeded_circle_is_found(tmp_path, files, expected):
    root = _write(tmp_path, files)
    assert ig.circles(ig.graph(root, ("pkg",))) == expected


def test_a_seeded_function_level_circle_is_found(tmp_path):
    root = _write(tmp_path, {"pkg/__init__.py": "", "pkg/mail.py": "def init():\n    from .reminders import cli\n",
                             "pkg/reminders.py": "from . import mail\n"})
    assert ig.circles(ig.graph(root, ("pkg",))) == []
    assert ig.circles(ig.graph(root, ("pkg",), in_functions=True)) == [["pkg.mail", "pkg.reminders"]]


def test_a_seeded_circle_in_the_real_package_is_found(tmp_path):
    """The real tree plus one import of notifications from mail: the test above would fail."""
    for path in (ROOT / "artisan_awards").rglob("*.py"):
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    mail = tmp_path / "artisan_awards" / "services" / "mail.py"
    mail.write_text(mail.read_text(encoding="utf-8") + "\nfrom . import notifications  # noqa\n", encoding="utf-8")
    found = ig.circles(ig.graph(tmp_path, ("artisan_awards",)))
    assert any({"artisan_awards.services.mail", "artisan_awards.services.notifications"} <= set(c) for c in found)


APPLICATION = {"artisan_awards", "flask", "flask_babel", "flask_login", "flask_sqlalchemy", "flask_wtf",
               "sqlalchemy", "werkzeug", "jinja2", "wtforms"}


def test_workflows_imports_nothing_of_the_application_nor_flask():
    files = sorted((ROOT / "workflows").rglob("*.py"))
    assert len(files) >= 4
    for path in files:
        assert not ig.top_level_names(path) & APPLICATION, path
    edges = ig.graph()
    assert all(not t.startswith("artisan_awards") for m, ts in edges.items() if m.startswith("workflows")
               for t in ts)


def test_workflows_check_sees_a_seeded_flask_import(tmp_path):
    path = _write(tmp_path, {"w.py": "def f():\n    from flask import g\n    import sqlalchemy.orm\n"}) / "w.py"
    assert ig.top_level_names(path) & APPLICATION == {"flask", "sqlalchemy"}


def _blueprint_web_module(module: str) -> str | None:
    """The blueprint a module of pages belongs to (its package, routes, forms, account pages...)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "artisan_awards" or parts[1] not in ig.BLUEPRINTS:
        return None
    if len(parts) > 2 and parts[2] in ("service", "data", "engine", "signing", "jobs", "notices"):
        return None  # the documents package's service layer, callable from any blueprint
    return parts[1]


def test_blueprints_do_not_import_each_others_pages_or_forms():
    edges = ig.graph(in_functions=True)
    crossing = sorted(
        (a, b) for a, targets in edges.items() for b in targets
        if (pa := _blueprint_web_module(a)) and (pb := _blueprint_web_module(b)) and pa != pb)
    assert crossing == []
    assert "artisan_awards.forms" in edges  # what they share lives there


def test_every_module_has_a_layer():
    for module in ig.graph():
        ig.layer_of(module)  # KeyError names the module


def test_layers_depend_one_way():
    layers: dict[str, set[str]] = {}
    for a, b in ig.layer_edges(ig.graph(in_functions=True)):
        layers.setdefault(a, set()).add(b)
    assert ig.circles(layers) == []
    assert "workflows" not in layers  # the bottom layer imports nothing above it
    assert set(layers.get("base", ())) <= {"workflows"}


def test_layer_diagram_is_generated_from_the_imports():
    committed = (ROOT / "docs" / "layers.md").read_text(encoding="utf-8")
    assert committed == ig.document(), "run: python scripts/import_graph.py > docs/layers.md"
    assert "workflows -->" not in committed  # the bottom layer depends on nothing above it


# -- the helpers that replaced copies -------------------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    (None, None),
    (datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    (datetime(2026, 1, 2, 10, 4, 5, tzinfo=timezone(timedelta(hours=7))),
     datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
])
def test_as_utc(given, expected):
    result = as_utc(given)
    assert result == expected
    if given is not None:
        assert result.tzinfo is not None
        if given.tzinfo is not None:
            assert result is given  # an aware moment is left as it is


SUBJECTS = [
    Subject(state=s, held_from=h, intake_open=i, completion_open=c, consultation_over=o, consultation_windows=w)
    for s in State
    for h in ([None] + list(HOLDABLE) if s == State.ON_HOLD else [None])
    for i in (True, False) for c in (True, False) for o in (True, False) for w in (0, 1, 2)
]


def test_can_fire_agrees_with_fire_and_moves_nothing():
    actions = sorted({str(m.trigger) for m in TRANSITIONS})
    assert Action.RELEASE in actions
    for subject in SUBJECTS:
        before = repr(subject)
        for action in actions:
            expected = True
            trial = Subject(**{k: getattr(subject, k) for k in subject.__dataclass_fields__})
            try:
                fire(trial, action)
            except Exception:  # noqa: BLE001 - TransitionNotAllowed
                expected = False
            assert can_fire(subject, action) is expected, (subject, action)
            assert repr(subject) == before


# -- one mapping between a nomination row and its input shape -------------------------------------

FULL_INPUT = {
    "round_id": 1, "title": "meritorious", "posthumous": True,
    "nominee": {"full_name": "Nguyễn Văn A", "pen_name": "Tư", "birth_date": "1950-02-03",
                "death_date": "2024-05-06", "gender": "nam", "ethnicity": "Kinh", "hometown": "Bát Tràng",
                "province_code": None, "address": "Gia Lâm", "phone": "0912 345 678", "email": "a@example.vn"},
    "craft": "gốm", "special_craft": True, "special_craft_rationale": "hiếm", "workshop": "Lò A",
    "career_summary": "c", "skills_summary": "s", "honours_summary": "h",
    "craft_periods": [{"from": "1970-01-01", "to": "1990-12-31", "workplace": "Lò A", "role": "thợ cả"},
                      {"from": "1991-01-01", "to": "2020-12-31", "workplace": "", "role": None}],
    "meritorious_title": {"decision_no": "12/QĐ", "decision_date": "2016-04-05", "field": "handicraft"},
    "products": [
        {"name": "Bình", "made_on": "2015-01-01", "materials": "đất", "self_designed": True,
         "award": {"rank": 1, "level": "national", "state_delegated": False, "organiser": "Bộ",
                   "awarded_on": "2016-01-01"}},
        {"name": "Đĩa", "made_on": None, "materials": None, "self_designed": False, "award": None},
        {"name": "Lọ", "made_on": None, "materials": None, "self_designed": True,
         "award": {"rank": None, "level": None, "state_delegated": False, "organiser": "Hội",
                   "awarded_on": None}},
    ],
    "learners_trained": 12, "intangible_heritage_track": False,
    "filed_by": {"full_name": "Nguyễn Văn B", "relationship": "child"},
}


def _variants():
    yield FULL_INPUT
    yield {**FULL_INPUT, "title": "people", "posthumous": False, "meritorious_title": None, "products": [],
           "craft_periods": [], "nominee": {**FULL_INPUT["nominee"], "death_date": None}}
    # a title declared in the intangible-heritage field without its decision yet: the field is kept
    yield {**FULL_INPUT, "meritorious_title": {"decision_no": None, "decision_date": None,
                                               "field": "intangible_heritage"}}


@pytest.mark.parametrize("raw", list(_variants()), ids=["full", "bare", "field-only-title"])
def test_apply_then_to_data_gives_the_input_back_and_the_same_facts(raw):
    from artisan_awards import nomination_data
    from artisan_awards.models import Nomination, Round
    from artisan_awards.schemas import NominationIn
    from artisan_awards.serializers import nomination_in
    from artisan_awards.services.eligibility import facts_for, facts_from_input

    data = NominationIn.model_validate(raw)
    row = Nomination(round_id=data.round_id, state=State.DRAFT)
    nomination_data.apply(row, data.model_dump(by_alias=True))
    assert nomination_data.to_data(row) == data.model_dump(by_alias=True)
    assert NominationIn.model_validate(nomination_in(row)) == data  # the JSON form validates to the same input
    round_ = Round(intake_closes=datetime(2026, 6, 30).date())
    row.round = round_
    row.submitted_at = datetime(2026, 6, 1, 3, 0)
    filed = datetime(2026, 6, 1).date()
    assert facts_for(row) == facts_from_input(data, round_, filed)
