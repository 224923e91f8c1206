"""The province list ships as a data file; it must give what the vietnamadminunits package gave."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Province
from artisan_awards.services import provinces
from artisan_awards.services.provinces import reference_provinces

# Frozen output of the former loader (vietnamadminunits 1.0.4 plus our code derivation).
PACKAGE_OUTPUT = Path(__file__).parent / "data" / "provinces_vietnamadminunits_1.0.4.json"


def test_data_file_gives_what_the_package_gave():
    expected = json.loads(PACKAGE_OUTPUT.read_text(encoding="utf-8"))
    assert reference_provinces() == expected
    assert sum(p["active"] for p in expected) == 34
    by_code = {p["code"]: p for p in expected}
    assert by_code["HNI"]["name"] == "Hà Nội" and by_code["HNI"]["active"]
    assert by_code["HCM"]["full_name"] == "Thành phố Hồ Chí Minh"
    assert by_code["DKN"]["name"] == "Đắk Nông" and not by_code["DKN"]["active"]


def test_sync_command_loads_the_file_and_is_idempotent(app, runner):
    hni = db.session.scalar(sa.select(Province).where(Province.code == "HNI"))
    hni.full_name = "sai"
    db.session.commit()
    result = runner.invoke(args=["provinces", "sync"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{len(reference_provinces())} provinces"
    db.session.expire_all()
    rows = {p.code: p for p in db.session.scalars(sa.select(Province))}
    assert rows["HNI"].full_name == "Thành phố Hà Nội"
    for ref in reference_provinces():
        row = rows[ref["code"]]
        assert (row.gso_code, row.name, row.full_name, row.active) == (
            ref["gso_code"], ref["name"], ref["full_name"], ref["active"])


@pytest.mark.parametrize("content, message", [
    ("code,name\nHNI,Hà Nội\n", "expected columns"),
    ("code,gso_code,name,full_name,active\nHNI,01,Hà Nội,Thành phố Hà Nội,yes\n", "line 2"),
    ("code,gso_code,name,full_name,active\nHNI,01,Hà Nội,A,1\nHNI,02,Khác,B,1\n", "code must be unique"),
])
def test_a_damaged_data_file_is_refused(monkeypatch, content, message):
    class FakeFile:
        def joinpath(self, name):
            return self

        def read_text(self, encoding):
            return content

    monkeypatch.setattr(provinces.resources, "files", lambda package: FakeFile())
    with pytest.raises(ValueError, match=message):
        reference_provinces()


def test_the_geodata_package_is_gone():
    code = "import artisan_awards.services.provinces, sys; print('vietnamadminunits' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
