"""Backup and restore round trips, on the database the suite runs on (``--db sqlite|postgresql``).

Data is made through the real operations (dossiers moved through the state machine, evidence
uploaded), backed up with the CLI, then changed and damaged, restored, and compared row for row;
the audit chain must verify afterwards.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Attachment, Nomination, User
from artisan_awards.services import nominations as service
from artisan_awards.storage import storage
from tests.test_api import pdf_bytes, png_bytes, upload
from workflows.states import Action, State

ROOT = Path(__file__).resolve().parent.parent


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table (and the schema revision), in primary-key order."""
    db.session.remove()
    out = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(row) for row in conn.execute(sa.select(table).order_by(*order))]
        out["alembic_version"] = [tuple(r) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    return out


@pytest.fixture(params=["local", "database"])
def backend(request, app):
    app.config["STORAGE_BACKEND"] = request.param
    app.extensions.pop("artisan_storage", None)
    return request.param


def build_data(make, api):
    officer = make.user("province_officer", "HNI")
    owner = make.user("applicant")
    kept = [make.nomination(state, owner=owner, officer=officer)
            for state in (State.DRAFT, State.SUBMITTED, State.ACCEPTED, State.RETURNED)]
    photo = upload(api, kept[0].id, owner, png_bytes(8, 8), "Ảnh gốm.png", "photo")
    paper = upload(api, kept[1].id, owner, pdf_bytes(), "Bằng khen.pdf", "certificate")
    assert photo.status_code == 201 and paper.status_code == 201
    return owner.id, officer.id, [n.id for n in kept]


def test_round_trip_restores_every_row_and_file(app, runner, make, api, tmp_path, backend, db_kind):
    owner, officer, kept = build_data(make, api)
    before = snapshot()
    files_before = {a.stored_name: storage().get(a.stored_name) for a in db.session.scalars(sa.select(Attachment))}
    assert len(files_before) == 2 and sum(len(v) for v in before.values()) > 50

    archive = tmp_path / "backups" / "nightly.tar"
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"Backed up the {db_kind} database" in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["database"] == db_kind and manifest["storage_backend"] == backend
    if backend == "local":
        assert sorted(n for n in names if n.startswith("uploads/")) == sorted(f"uploads/{k}" for k in files_before)
    else:
        assert not any(n.startswith("uploads/") for n in names)

    # Life goes on, then something goes wrong: more transitions, a new account and upload,
    # an edited row, and a lost file.
    officer_id = officer
    owner, officer = db.session.get(User, owner), db.session.get(User, officer)
    service.perform(db.session.get(Nomination, kept[1]), Action.ACCEPT, officer, comment="Sau khi sao lưu")
    make.user("admin")
    extra = make.nomination(State.DRAFT, owner=owner)
    assert upload(api, extra.id, owner, pdf_bytes(), "them.pdf", "other").status_code == 201
    db.session.execute(sa.update(Nomination).where(Nomination.id == kept[0]).values(craft="Bị sửa"))
    db.session.commit()
    if backend == "local":
        first = sorted(files_before)[0]
        (Path(app.config["UPLOAD_DIR"]) / first).unlink()
    assert snapshot() != before

    result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Audit chain OK" in result.output

    assert snapshot() == before
    for key, content in files_before.items():
        assert storage().get(key) == content
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and verified.output.startswith("OK:"), verified.output
    # The application works on the restored database.
    n = db.session.get(Nomination, kept[1])
    assert n.state == State.SUBMITTED
    service.perform(n, Action.ACCEPT, db.session.get(User, officer_id))
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_through_the_flask_command(app_config, app, make, api, tmp_path, db_kind):
    """The real ``flask --app wsgi backup create/restore`` in a subprocess, configured by environment."""
    build_data(make, api)
    before = snapshot()
    env = {**os.environ, "DATABASE_URL": app_config["SQLALCHEMY_DATABASE_URI"],
           "UPLOAD_DIR": app_config["UPLOAD_DIR"], "SECRET_KEY": "test-secret-of-at-least-thirty-two-bytes"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    archive = tmp_path / "b.tar"
    done = subprocess.run([*flask, "backup", "create", str(archive)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 uploaded files" in done.stdout
    db.session.execute(sa.update(Nomination).values(craft="Đã bị xóa nội dung"))
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
    # Without --yes it asks, and "n" leaves everything alone.
    asked = subprocess.run([*flask, "backup", "restore", str(archive)], cwd=ROOT, env=env, input="n\n",
                           capture_output=True, text=True, timeout=120)
    assert asked.returncode != 0 and "Go on?" in asked.stdout
    assert snapshot() != before
    done = subprocess.run([*flask, "backup", "restore", str(archive), "--yes"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert snapshot() == before


def _tar(path: Path, manifest: dict | None, members: dict[str, bytes]) -> Path:
    if manifest is not None:
        members = {**members, "manifest.json": json.dumps(manifest).encode()}
    with tarfile.open(path, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_bad_backups_are_refused_and_change_nothing(app, runner, make, api, tmp_path, db_kind):
    build_data(make, api)
    before = snapshot()
    archive = tmp_path / "good.tar"
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        member = "database.sqlite" if db_kind == "sqlite" else "database.pgdump"
        dump = tar.extractfile(member).read()
    other = "postgresql" if db_kind == "sqlite" else "sqlite"
    cases = {
        "not a tar": (tmp_path / "junk.tar", "cannot read"),
        "no manifest": (_tar(tmp_path / "nomanifest.tar", None, {member: dump}), "manifest.json"),
        "other database": (_tar(tmp_path / "other.tar", {**manifest, "database": other}, {member: dump}), other),
        "damaged dump": (_tar(tmp_path / "damaged.tar", manifest, {member: dump[:-10] + b"0123456789"}), "checksum"),
        "unsafe name": (_tar(tmp_path / "unsafe.tar", {**manifest, "files": {"../../etc/cron.d/x": "0"}},
                             {member: dump}), "unsafe file name"),
    }
    (tmp_path / "junk.tar").write_bytes(b"this is not a backup")
    for label, (path, words) in cases.items():
        result = runner.invoke(args=["backup", "restore", str(path), "--yes"])
        assert result.exit_code != 0, label
        if words:
            assert words in result.output, (label, result.output)
        assert "Traceback" not in result.output
    assert snapshot() == before
