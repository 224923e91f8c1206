"""Backup and restore: ``flask --app wsgi backup create PATH`` / ``backup restore PATH``.

One file (an uncompressed tar) holds everything that is not regenerable:

* ``manifest.json``: format, database kind, schema revision, storage backend, counts, checksums;
* ``database.sqlite`` (SQLite, copied with the online backup API: consistent while the app runs)
  or ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``: one consistent snapshot);
* ``uploads/<key>``: the stored files (evidence, a round's export ZIPs), when they live on local
  disk (``STORAGE_BACKEND=local``). With ``STORAGE_BACKEND=database`` they are rows of the dump.

The database is copied first, then the files: a file is written before its row is committed and
removed only after its row's removal is committed, so every row in the copy has its file.
Generated PDFs (the document cache) are not included: they are made again.

Restore puts the database back as it was (SQLite: the backup API copies every page over the live
file; PostgreSQL: ``pg_restore --clean --if-exists --single-transaction``), writes the files back,
then checks the audit chain. Stop the app processes and workers first.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db
from .storage import LocalStorage, StorageError, check_key, storage

FORMAT = 1
DB_MEMBER = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class BackupError(click.ClickException):
    pass


# -- PostgreSQL tools -------------------------------------------------------------------------


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: PG_BINDIR, else the newest under /usr/lib/postgresql, else PATH."""
    configured = current_app.config.get("PG_BINDIR")
    candidates = [os.path.join(configured, name)] if configured else []
    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                         key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0, reverse=True)
    found = shutil.which(name)
    if found:
        candidates.append(found)
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BackupError(f"{name} not found: install postgresql-client or set PG_BINDIR")


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    """Copy one SQLite database onto another with SQLite's online backup API (page by page, each
    step under the source's lock: the live file may be in use)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, timeout=30)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def _libpq(url: sa.URL) -> tuple[str, dict]:
    """A libpq connection string without the password, and the environment that carries it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{os.path.basename(args[0])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


# -- helpers ----------------------------------------------------------------------------------


def _kind() -> str:
    name = db.engine.dialect.name
    if name not in DB_MEMBER:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _revision() -> str | None:
    with db.engine.connect() as conn:
        try:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DatabaseError:
            return None


def _local_storage() -> LocalStorage | None:
    store = storage()
    return store if isinstance(store, LocalStorage) else None


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    tar.addfile(info, io.BytesIO(data))


# -- create -----------------------------------------------------------------------------------


def create_backup(target: str | os.PathLike) -> dict:
    """Write the backup file; return its manifest."""
    kind = _kind()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aa-backup-") as work:
        dump = Path(work) / DB_MEMBER[kind]
        if kind == "sqlite":
            _sqlite_copy(db.engine.url.database, dump)
        else:
            conninfo, env = _libpq(db.engine.url)
            _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={dump}", f"--dbname={conninfo}"], env)
        local = _local_storage()
        keys = local.keys() if local else []
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": kind,
            "revision": _revision(),
            "storage_backend": storage().name,
            "database_sha256": _sha256(dump),
            "files": {},
        }
        partial = target.with_name(target.name + ".part")
        with tarfile.open(partial, "w") as tar:
            tar.add(dump, arcname=DB_MEMBER[kind])
            for key in keys:
                path = local.path(key)
                try:
                    manifest["files"][key] = _sha256(path)
                    tar.add(path, arcname=f"uploads/{key}")
                except FileNotFoundError:  # removed since the listing: its row is gone too
                    manifest["files"].pop(key, None)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
        os.replace(partial, target)
    return manifest


# -- restore ----------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        member = tar.getmember("manifest.json")
        manifest = json.loads(tar.extractfile(member).read())
    except (KeyError, ValueError, AttributeError):
        raise BackupError("not a backup made by `backup create` (no readable manifest.json)") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported")
    return manifest


def _extract(tar: tarfile.TarFile, name: str, to: Path, sha256: str | None = None) -> None:
    member = tar.getmember(name)
    if not member.isfile():
        raise BackupError(f"{name}: not a regular file in the backup")
    digest = hashlib.sha256()
    with tar.extractfile(member) as source, open(to, "wb") as out:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            out.write(block)
    if sha256 and digest.hexdigest() != sha256:
        raise BackupError(f"{name}: checksum does not match the manifest (damaged backup)")


def restore_backup(source: str | os.PathLike) -> dict:
    """Put the database and the files back as they were in the backup; return its manifest."""
    kind = _kind()
    try:
        tar = tarfile.open(source, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    with tar, tempfile.TemporaryDirectory(prefix="aa-restore-") as work:
        manifest = _read_manifest(tar)
        if manifest["database"] != kind:
            raise BackupError(f"this backup is of a {manifest['database']} database; "
                              f"the configured database is {kind}")
        file_keys = list(manifest.get("files", {}))
        for key in file_keys:  # names come from the archive: nothing may point outside the folder
            try:
                check_key(key)
            except StorageError:
                raise BackupError(f"refusing unsafe file name in backup: {key!r}") from None
        if file_keys and _local_storage() is None:
            raise BackupError("the backup holds uploaded files but STORAGE_BACKEND is not 'local'")
        dump = Path(work) / DB_MEMBER[kind]
        _extract(tar, DB_MEMBER[kind], dump, manifest.get("database_sha256"))
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            _sqlite_copy(dump, db.engine.url.database)
        else:
            conninfo, env = _libpq(db.engine.url)
            _run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(dump)], env)
        local = _local_storage()
        for key in file_keys:
            target = local.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".restore")
            _extract(tar, f"uploads/{key}", partial, manifest["files"][key])
            os.replace(partial, target)
    return manifest


# -- commands ---------------------------------------------------------------------------------


@click.group("backup")
def backup_cli():
    """Back up and restore the database and the uploaded files."""


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def create_command(path):
    """Write a backup of the database and the uploaded files to PATH (a tar file)."""
    manifest = create_backup(path)
    click.echo(f"Backed up the {manifest['database']} database (revision {manifest['revision']}) "
               f"and {len(manifest['files'])} uploaded files to {path}")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Replace the database (and write back the uploaded files) from a backup; then verify the audit chain."""
    if not yes:
        click.confirm(f"This replaces everything in {db.engine.url.render_as_string()} with the backup. Go on?",
                      abort=True)
    manifest = restore_backup(path)
    from .audit import verify

    with db.engine.connect() as connection:
        count, broken = verify(connection)
    click.echo(f"Restored the backup of {manifest['created_at']} (revision {manifest['revision']}, "
               f"{len(manifest['files'])} uploaded files)")
    if broken:
        click.echo(f"Audit chain BROKEN at {broken.where()}: {broken.reason} (flask audit verify lists every break)")
        raise SystemExit(1)
    click.echo(f"Audit chain OK: {count} log rows")


def init_app(app) -> None:
    app.cli.add_command(backup_cli)

