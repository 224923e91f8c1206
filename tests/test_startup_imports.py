"""Heavy libraries load where they are used, not when the application starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("weasyprint", "pikepdf", "pyhanko", "openpyxl", "segno", "fontTools")


def loaded_after(code: str) -> set[str]:
    probe = code + f"\nimport sys\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 40, "HOME": str(ROOT)})
    return set(out.stdout.split())


def test_creating_the_app_does_not_import_heavy_libraries():
    assert loaded_after("from artisan_awards import create_app\ncreate_app({'TESTING': True})") == set()


def test_the_wsgi_module_does_not_import_weasyprint():
    assert "weasyprint" not in loaded_after("import wsgi")


@pytest.mark.parametrize("module, expected", [
    ("artisan_awards.documents.engine", "weasyprint"),
    ("artisan_awards.documents.service", None),
])
def test_the_probe_sees_a_real_import(module, expected):
    """The check above can fail: importing the engine does load WeasyPrint."""
    loaded = loaded_after(f"import {module}")
    assert (expected in loaded) if expected else "weasyprint" not in loaded
