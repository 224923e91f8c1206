"""Backup and restore round trips, on the database the suite runs on (``--db sqlite|postgresql``).

Data is made through the real operations (dossiers moved through the state machine, evidence
uploaded), backed up with the CLI, then changed and damaged, restored, and compared row for row;
the audit chain must verify afterwards.

Backups are sealed (encrypted, then signed with a second key: artisan_awards/backup.py); the
attacks on the sealed file (read it without the key, modify, truncate, reorder, extend, swap in a
plain tar, restore with other keys, forge with the encryption key alone) are played at the end,
each with a control run against the broken variant.
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

from artisan_awards import backup
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


KEYS = {"BACKUP_KEY": "q1m0Jm8n9Yw3E4lT0QpX6mKcV2sR7uH5aB1dF8gJ3kE=",
        "BACKUP_SIGNING_KEY": "Zx9vB4nM2qW7eR1tY6uI3oP8aS5dF0gH2jK4lL9cV1Q="}
OTHER_KEYS = {"BACKUP_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
              "BACKUP_SIGNING_KEY": "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="}


@pytest.fixture(autouse=True)
def backup_keys(app):
    app.config.update(KEYS)
    return KEYS


def read_backup(archive: Path, tmp_path: Path) -> tuple[list[str], dict, dict[str, bytes]]:
    """What the sealed backup holds (names, manifest, members): read with the keys."""
    work = tmp_path / f"read-{archive.name}"
    work.mkdir(exist_ok=True)
    with backup.open_sealed(archive, work) as tar:
        names = tar.getnames()
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return names, json.loads(members["manifest.json"]), members


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
    names, manifest, _members = read_backup(archive, tmp_path)
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
           "UPLOAD_DIR": app_config["UPLOAD_DIR"], "SECRET_KEY": "test-secret-of-at-least-thirty-two-bytes", **KEYS}
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


def _tar(path: Path, manifest: dict | None, members: dict[str, bytes], seal: bool = True) -> Path:
    """A tar of ``members``, sealed with the configured keys (someone who holds them made it)."""
    if manifest is not None:
        members = {**members, "manifest.json": json.dumps(manifest).encode()}
    plain = path.with_name(path.name + ".plain")
    with tarfile.open(plain, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if not seal:
        plain.replace(path)
        return path
    backup.seal_file(plain, path)
    plain.unlink()
    return path


def test_bad_backups_are_refused_and_change_nothing(app, runner, make, api, tmp_path, db_kind):
    build_data(make, api)
    before = snapshot()
    archive = tmp_path / "good.tar"
    assert runner.invoke(args=["backup", "create", str(archive)]).exit_code == 0
    _names, manifest, members = read_backup(archive, tmp_path)
    member = "database.sqlite" if db_kind == "sqlite" else "database.pgdump"
    dump = members[member]
    other = "postgresql" if db_kind == "sqlite" else "sqlite"
    cases = {
        "not a tar": (tmp_path / "junk.tar", "not a sealed backup"),
        "sealed, but not a tar": (_sealed_junk(tmp_path / "sealedjunk.tar"), "cannot read"),
        "no manifest": (_tar(tmp_path / "nomanifest.tar", None, {member: dump}), "manifest.json"),
        "other database": (_tar(tmp_path / "other.tar", {**manifest, "database": other}, {member: dump}), other),
        "damaged dump": (_tar(tmp_path / "damaged.tar", manifest, {member: dump[:-10] + b"0123456789"}), "checksum"),
        "unsafe name": (_tar(tmp_path / "unsafe.tar", {**manifest, "files": {"../../etc/cron.d/x": "0"}},
                             {member: dump}), "unsafe file name"),
    }
    (tmp_path / "junk.tar").write_bytes(b"this is not a backup" * 10)
    for label, (path, words) in cases.items():
        result = runner.invoke(args=["backup", "restore", str(path), "--yes"])
        assert result.exit_code != 0, label
        if words:
            assert words in result.output, (label, result.output)
        assert "Traceback" not in result.output
    assert snapshot() == before


def _sealed_junk(path: Path) -> Path:
    plain = path.with_name("junk.plain")
    plain.write_bytes(b"sealed with the right keys, but no tar inside" * 50)
    backup.seal_file(plain, path)
    return path


# -- the sealed file against an attacker ---------------------------------------------------------

NAME = "Nguyễn Thị Bí Mật Sao Lưu"


def _secret_backup(app, runner, make, api, tmp_path) -> Path:
    owner = make.user("applicant", full_name=NAME)
    make.nomination(State.SUBMITTED, owner=owner, nominee={"full_name": NAME}, craft="Khảm trai bí mật")
    build_data(make, api)
    archive = tmp_path / "sealed.tar"
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    return archive


def _leaks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    # the photo as stored: its PNG header survives the re-encoding that strips metadata
    needles = [NAME.encode(), "Khảm trai bí mật".encode(), b"SQLite format 3", b"manifest.json", b"PGDMP",
               png_bytes(8, 8)[:33]]
    return [n for n in needles if n in data]


def test_a_backup_cannot_be_read_without_the_key(app, runner, make, api, tmp_path, monkeypatch, db_kind):
    archive = _secret_backup(app, runner, make, api, tmp_path)
    assert _leaks(archive) == []
    names, _manifest, members = read_backup(archive, tmp_path)  # with the key it is all there
    if db_kind == "sqlite":  # (pg_dump's custom format compresses: the name is not in it as such)
        assert NAME.encode() in members["database.sqlite"]
    else:
        assert members["database.pgdump"].startswith(b"PGDMP")
    # control: the broken variant (a plain tar) shows the dump, the files and the names to anyone
    monkeypatch.setattr(backup, "SealingWriter", _PlainWriter)
    plain = tmp_path / "plain.tar"
    assert runner.invoke(args=["backup", "create", str(plain)]).exit_code == 0
    leaks = _leaks(plain)
    assert b"manifest.json" in leaks and png_bytes(8, 8)[:33] in leaks
    assert (NAME.encode() if db_kind == "sqlite" else b"PGDMP") in leaks


class _PlainWriter(io.RawIOBase):
    def __init__(self, out, *_keys, **_kw):
        super().__init__()
        self._out = out

    def writable(self):
        return True

    def write(self, data):
        return self._out.write(data)


def _chunks(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    header, rest, mac = data[:backup._HEADER.size], data[backup._HEADER.size:-backup.MAC_SIZE], data[-32:]
    chunks = []
    while rest:
        (length,) = backup._LEN.unpack(rest[:4])
        chunks.append(rest[:4 + length])
        rest = rest[4 + length:]
    return header, chunks, mac


def _mac(data: bytes) -> bytes:
    import hashlib
    import hmac

    key = backup._setting_key("BACKUP_SIGNING_KEY")[0]
    return hmac.new(key, data, hashlib.sha256).digest()


def _attacks(archive: Path, tmp_path: Path, monkeypatch) -> dict[str, tuple[Path, str]]:
    """Damaged, truncated, reordered, extended, foreign and forged versions of ``archive``."""
    data = archive.read_bytes()
    header, chunks, mac = _chunks(data)
    assert len(chunks) >= 2  # (the chunk size is made small for the reorder cases)
    out = {}

    def write(name: str, content: bytes, words: str):
        path = tmp_path / f"attack-{name}.tar"
        path.write_bytes(content)
        out[name] = (path, words)

    middle = len(data) // 2
    write("one byte flipped", data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:], "signature")
    write("truncated by a chunk", header + b"".join(chunks[:-1]) + mac, "signature")
    write("truncated by a byte", data[:-1], "signature")
    write("cut in half", data[:middle], "signature")
    write("chunks swapped", header + chunks[1] + chunks[0] + b"".join(chunks[2:]) + mac, "signature")
    write("data appended", data + b"\0" * 64, "signature")
    write("an old plain tar", _tar(tmp_path / "plain-src.tar", {"format": 1}, {"x": b"y"}, seal=False).read_bytes(),
          "not a sealed backup")
    # someone with the signing key but not the encryption key re-signs a reordered / cut file:
    # the MAC passes, the chunk numbers and the last-chunk flag do not
    body = header + chunks[1] + chunks[0] + b"".join(chunks[2:])
    write("reordered and re-signed", body + _mac(body), "cannot be decrypted")
    body = header + b"".join(chunks[:-1])
    write("cut and re-signed", body + _mac(body), "truncated")
    return out


def _forged_with_the_encryption_key_only(archive: Path, tmp_path: Path, monkeypatch) -> Path:
    """A backup whose content an attacker with BACKUP_KEY (not the signing key) replaced."""
    enc = backup._setting_key("BACKUP_KEY")[0]
    real_sig = backup._setting_key("BACKUP_SIGNING_KEY")[0]
    forger_key = bytes(range(32))
    real_id = backup.key_id(real_sig)
    original = backup.key_id
    monkeypatch.setattr(backup, "key_id", lambda key: real_id if key == forger_key else original(key))
    work = tmp_path / "forge"
    work.mkdir()
    with backup.open_sealed(archive, work) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(members.pop("manifest.json"))
    plain = _tar(tmp_path / "forged.plain", manifest, members, seal=False)
    forged = tmp_path / "forged.tar"
    with open(plain, "rb") as source, open(forged, "wb") as out:
        writer = backup.SealingWriter(out, enc, forger_key, chunk=4096)
        writer.write(source.read())
        writer.close()
    monkeypatch.setattr(backup, "key_id", original)
    return forged


def test_a_modified_backup_is_refused_before_the_database_is_touched(app, runner, make, api, tmp_path,
                                                                     monkeypatch, db_kind):
    monkeypatch.setattr(backup, "CHUNK", 4096)
    monkeypatch.setattr(backup.SealingWriter.__init__, "__defaults__", (4096,))
    archive = _secret_backup(app, runner, make, api, tmp_path)
    before = snapshot()
    cases = _attacks(archive, tmp_path, monkeypatch)
    cases["forged with the encryption key alone"] = (_forged_with_the_encryption_key_only(archive, tmp_path,
                                                                                          monkeypatch), "signature")
    for label, (path, words) in cases.items():
        result = runner.invoke(args=["backup", "restore", str(path), "--yes"])
        assert result.exit_code != 0, label
        assert words in result.output and "Traceback" not in result.output, (label, result.output)
        assert snapshot() == before, label
    # other keys configured at restore: refused as such
    app.config.update(OTHER_KEYS)
    result = runner.invoke(args=["backup", "restore", str(archive), "--yes"])
    assert result.exit_code != 0 and "other keys" in result.output
    app.config.update(KEYS)
    # no key at all: no backup is made or read
    app.config.update(BACKUP_KEY=None, BACKUP_KEY_FILE=None)
    for args in (["backup", "create", str(tmp_path / "x.tar")], ["backup", "restore", str(archive), "--yes"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and "BACKUP_KEY" in result.output
    assert not (tmp_path / "x.tar").exists()
    app.config.update(KEYS)
    assert snapshot() == before
    # and the untouched backup restores
    assert runner.invoke(args=["backup", "restore", str(archive), "--yes"]).exit_code == 0


def test_modified_backup_control_run_without_the_signature_check(app, runner, make, api, tmp_path, monkeypatch):
    """The broken variant (no MAC check) restores the forger's file: the signing key is what stops it."""
    monkeypatch.setattr(backup.SealingWriter.__init__, "__defaults__", (4096,))
    archive = _secret_backup(app, runner, make, api, tmp_path)
    forged = _forged_with_the_encryption_key_only(archive, tmp_path, monkeypatch)
    monkeypatch.setattr(backup, "_check_seal", lambda *a: None)
    result = runner.invoke(args=["backup", "restore", str(forged), "--yes"])
    assert result.exit_code == 0, result.output


def test_keys_come_from_files_kept_apart(app, runner, make, api, tmp_path):
    keys = tmp_path / "keys"
    result = runner.invoke(args=["backup", "keygen", str(keys)])
    assert result.exit_code == 0, result.output
    assert oct((keys / "backup.key").stat().st_mode & 0o777) == "0o600"
    assert runner.invoke(args=["backup", "keygen", str(keys)]).exit_code != 0  # never overwrites a key
    app.config.update(BACKUP_KEY=None, BACKUP_SIGNING_KEY=None, BACKUP_KEY_FILE=str(keys / "backup.key"),
                      BACKUP_SIGNING_KEY_FILE=str(keys / "backup-signing.key"))
    build_data(make, api)
    assert runner.invoke(args=["backup", "create", str(tmp_path / "b" / "x.tar")]).exit_code == 0
    # a key file in the backups' own folder is refused
    result = runner.invoke(args=["backup", "create", str(keys / "x.tar")])
    assert result.exit_code != 0 and "keep the keys apart" in result.output
    # the same key twice is refused
    app.config.update(BACKUP_SIGNING_KEY_FILE=str(keys / "backup.key"))
    result = runner.invoke(args=["backup", "create", str(tmp_path / "b" / "y.tar")])
    assert result.exit_code != 0 and "two different keys" in result.output


def test_a_failed_backup_leaves_no_file(app, runner, make, api, tmp_path, monkeypatch):
    build_data(make, api)

    def boom(*_a):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "_add_bytes", boom)
    result = runner.invoke(args=["backup", "create", str(tmp_path / "b" / "x.tar")])
    assert result.exit_code != 0
    assert list((tmp_path / "b").iterdir()) == []
