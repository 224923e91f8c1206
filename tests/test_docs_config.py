"""docs/configuration.md documents every setting the application reads.

The keys come from the code itself: every attribute of ``Config`` and every environment variable
read in ``artisan_awards/config.py`` (parsed with ``ast``), and every ``config["KEY"]``,
``config.get("KEY")``, ``_config("KEY")`` and ``os.environ.get("KEY")`` elsewhere in the package.
Each must appear in the reference as `` `KEY` ``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "artisan_awards"
REFERENCE = ROOT / "docs" / "configuration.md"
# Read by Flask or its extensions, never configured by this application.
FRAMEWORK = {"TESTING", "SERVER_NAME", "DEBUG"}
READS = re.compile(
    r"""(?:config\[|config\.get\(|_config\(|environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def config_py_keys(source: str) -> set[str]:
    tree = ast.parse(source)
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Config":
            for item in node.body:
                targets = item.targets if isinstance(item, ast.Assign) else (
                    [item.target] if isinstance(item, ast.AnnAssign) else [])
                keys |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
        # os.environ.get("NAME", ...) and os.getenv("NAME")
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = func.value if isinstance(func, ast.Attribute) else None
            owner_name = getattr(owner, "attr", None) or getattr(owner, "id", None)
            if (name == "get" and owner_name == "environ") or name == "getenv":
                keys.add(node.args[0].value)
    return keys


def package_reads() -> set[str]:
    keys: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        keys |= set(READS.findall(path.read_text("utf-8")))
    return keys - FRAMEWORK


def documented() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", REFERENCE.read_text("utf-8")))


def test_every_key_of_config_py_is_documented():
    keys = config_py_keys((PACKAGE / "config.py").read_text("utf-8"))
    assert {"SECRET_KEY", "DATABASE_URL", "MAIL_SERVER", "COUNCIL_RULES"} <= keys  # the parser works
    missing = sorted(keys - documented())
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_setting_read_by_the_package_is_documented():
    keys = package_reads()
    assert {"REDIS_URL", "DOCUMENTS_SIGNING_DIR", "PASSWORD_HASH_PARAMS"} <= keys
    missing = sorted(keys - documented())
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_the_parser_finds_attributes_and_environment_variables():
    source = (
        "import os\n"
        "class Config:\n"
        "    A_KEY = os.environ.get('A_VARIABLE', 1)\n"
        "    TYPED: dict = {}\n"
        "    lower = 3\n"
        "OTHER = os.getenv('B_VARIABLE')\n"
    )
    assert config_py_keys(source) == {"A_KEY", "A_VARIABLE", "TYPED", "B_VARIABLE"}
    assert READS.findall('current_app.config.get("X_ONE") or config["X_TWO"] + _config("X_THREE")') == [
        "X_ONE", "X_TWO", "X_THREE"]
