"""pyproject.toml declares what the application imports; the lock files agree with it."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
TEST_TOOLS = {"pytest", "playwright", "pytest-playwright", "schemathesis", "hypothesis", "aiosmtpd", "ruff",
              "bandit", "pip-tools", "frictionless"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(requirements: list[str]) -> set[str]:
    return {norm(re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0]) for r in requirements}


def locked(path: str) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / path).read_text(encoding="utf-8"), re.M)
    return {norm(name): version for name, version in pins}


def third_party_imports() -> set[str]:
    found = set()
    files = [*(ROOT / "artisan_awards").rglob("*.py"), *(ROOT / "workflows").rglob("*.py"), ROOT / "wsgi.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("artisan_awards", "workflows")}


def test_every_imported_library_is_a_declared_runtime_dependency():
    declared = requirement_names(PYPROJECT["project"]["dependencies"])
    dists = packages_distributions()
    missing = {m: dists.get(m) for m in third_party_imports()
               if not {norm(d) for d in dists.get(m, [m])} & declared}
    assert missing == {}


def test_runtime_dependencies_hold_no_test_tool_and_extras_do():
    assert not requirement_names(PYPROJECT["project"]["dependencies"]) & TEST_TOOLS
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"pytest", "playwright", "schemathesis", "hypothesis", "aiosmtpd", "frictionless",
            "jsonschema"} <= requirement_names(extras["test"])
    assert {"ruff", "bandit", "pip-tools"} <= requirement_names(extras["dev"])


def test_lock_files_cover_pyproject_with_hashes():
    runtime, full = locked("requirements.lock"), locked("requirements-test.lock")
    assert requirement_names(PYPROJECT["project"]["dependencies"]) <= runtime.keys()
    every_extra = [r for reqs in PYPROJECT["project"]["optional-dependencies"].values() for r in reqs]
    assert requirement_names(every_extra) <= full.keys()
    assert not runtime.keys() & TEST_TOOLS
    # The run-time set is the test set's subset, at the same versions.
    assert {k: full.get(k) for k in runtime} == runtime
    for path in ("requirements.lock", "requirements-test.lock"):
        blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / path).read_text(encoding="utf-8"))
        assert all("--hash=sha256:" in b for b in blocks[1:]), path
    assert (ROOT / "requirements.txt").read_text().split() == ["-r", "requirements-test.lock"]


def test_the_dropped_geodata_stack_is_not_locked():
    for path in ("requirements.lock", "requirements-test.lock"):
        assert not locked(path).keys() & {"vietnamadminunits", "geopy", "shapely", "numpy"}, path
