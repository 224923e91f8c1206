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

The file on disk is that tar sealed (``SEALED_FORMAT``), so that whoever holds the backup but not
the keys can neither read it nor change it unnoticed:

* the tar is streamed through AES-256-GCM in 1 MiB chunks (BACKUP_KEY) as it is written, never
  whole in memory nor in plain on disk; each chunk's nonce is a random prefix and the chunk's
  number, and its associated data the header, its number and whether it is the last: a chunk
  moved, dropped, repeated or cut off does not decrypt;
* the whole sealed file is followed by an HMAC-SHA256 of everything before it, with a second,
  separate key (BACKUP_SIGNING_KEY): restore checks it over the whole file BEFORE it decrypts or
  extracts anything, so a modified, truncated, reordered or foreign backup is refused with the
  database untouched;
* the header names each key by a key id (an HMAC of a fixed label), so a backup made with other
  keys is told apart from a damaged one.

The keys are settings (a value or a file, see docs/configuration.md), never in the database and
refused when the key file lies in the backup's own folder; ``flask backup keygen`` makes them.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db
from .storage import LocalStorage, StorageError, check_key, storage

FORMAT = 1
DB_MEMBER = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class BackupError(click.ClickException):
    pass


# -- sealing: AES-GCM in chunks, then an HMAC over the whole file -----------------------------

SEALED_FORMAT = b"AABACKUP\x02\n"  # magic and version (10 bytes)
CHUNK = 1 << 20
_HEADER = struct.Struct(">10s8s8s8sI")  # magic, encryption key id, signing key id, nonce prefix, chunk size
_LEN = struct.Struct(">I")
MAC_SIZE = 32
KEY_SETTINGS = ("BACKUP_KEY", "BACKUP_SIGNING_KEY")


def _setting_key(name: str) -> tuple[bytes, str | None]:
    """The 32-byte key of setting ``name`` (or ``name``_FILE); and the file it came from."""
    value, path = current_app.config.get(name), current_app.config.get(f"{name}_FILE")
    if not value and path:
        try:
            value = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise BackupError(f"{name}_FILE: cannot read {path}: {exc}") from None
    if not value:
        raise BackupError(f"{name} (or {name}_FILE) is not set: backups are encrypted and signed. "
                          "Make the keys with `flask --app wsgi backup keygen DIR` and keep them away from the backups")
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise BackupError(f"{name} must be 32 random bytes in URL-safe base64 (`flask --app wsgi backup keygen`)")
    return key, path if not current_app.config.get(name) else None


def backup_keys() -> tuple[bytes, bytes, list[str]]:
    """(encryption key, signing key, the files they came from)."""
    (enc, enc_file), (sig, sig_file) = (_setting_key(n) for n in KEY_SETTINGS)
    if hmac.compare_digest(enc, sig):
        raise BackupError("BACKUP_KEY and BACKUP_SIGNING_KEY must be two different keys")
    return enc, sig, [f for f in (enc_file, sig_file) if f]


def key_id(key: bytes) -> bytes:
    return hmac.new(key, b"artisan-awards backup key id", hashlib.sha256).digest()[:8]


class SealingWriter(io.RawIOBase):
    """A write-only file: what is written comes out encrypted in chunks, the MAC at ``close``."""

    def __init__(self, out, enc_key: bytes, mac_key: bytes, chunk: int = CHUNK):
        super().__init__()
        self._out, self._aead, self._chunk = out, AESGCM(enc_key), chunk
        self._mac = hmac.new(mac_key, digestmod=hashlib.sha256)
        self._prefix = os.urandom(8)
        self._header = _HEADER.pack(SEALED_FORMAT, key_id(enc_key), key_id(mac_key), self._prefix, chunk)
        self._buffer = bytearray()
        self._number = 0
        self._emit(self._header)

    def writable(self) -> bool:
        return True

    def _emit(self, data: bytes) -> None:
        self._mac.update(data)
        self._out.write(data)

    def _seal(self, data: bytes, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._number)
        aad = self._header + struct.pack(">Q?", self._number, last)
        sealed = self._aead.encrypt(nonce, bytes(data), aad)
        self._emit(_LEN.pack(len(sealed)) + sealed)
        self._number += 1

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > self._chunk:  # keep at least one byte: the last chunk is sealed at close
            self._seal(self._buffer[: self._chunk], last=False)
            del self._buffer[: self._chunk]
        return len(data)

    def close(self) -> None:
        if not self.closed and not self._out.closed:  # (not when an error already closed the target)
            self._seal(self._buffer, last=True)
            self._out.write(self._mac.digest())
            self._out.flush()
        super().close()


class SealedBackupInvalid(BackupError):
    """A backup whose signature, chunks or keys do not hold: refused before anything is restored."""


def _check_seal(path: Path, mac_key: bytes, enc_key: bytes) -> None:
    """The whole file's MAC, checked before anything is decrypted."""
    size = path.stat().st_size
    if size < _HEADER.size + MAC_SIZE:
        raise SealedBackupInvalid(f"{path} is not a sealed backup (too short, or truncated)")
    with open(path, "rb") as fh:
        header = fh.read(_HEADER.size)
        magic, enc_id, mac_id, _prefix, _chunk = _HEADER.unpack(header)
        if magic != SEALED_FORMAT:
            raise SealedBackupInvalid(f"{path} is not a sealed backup of this version (an old plain tar "
                                      "or another file): refusing it")
        if not hmac.compare_digest(mac_id, key_id(mac_key)) or not hmac.compare_digest(enc_id, key_id(enc_key)):
            raise SealedBackupInvalid("this backup was made with other keys (BACKUP_KEY / BACKUP_SIGNING_KEY): "
                                      "refusing it")
        mac = hmac.new(mac_key, header, hashlib.sha256)
        left = size - MAC_SIZE - _HEADER.size
        while left:
            block = fh.read(min(left, 1 << 20))
            if not block:
                break
            mac.update(block)
            left -= len(block)
        if not hmac.compare_digest(mac.digest(), fh.read(MAC_SIZE)):
            raise SealedBackupInvalid("the backup's signature does not match: it was modified, truncated or "
                                      "damaged; refusing it (nothing was changed)")


def _unseal(path: Path, enc_key: bytes, to: Path) -> None:
    """Decrypt a sealed backup (its MAC already checked) into ``to``, chunk by chunk."""
    aead = AESGCM(enc_key)
    end = path.stat().st_size - MAC_SIZE
    with open(path, "rb") as fh, open(to, "wb") as out:
        header = fh.read(_HEADER.size)
        _magic, _e, _m, prefix, chunk = _HEADER.unpack(header)
        number, last = 0, False
        while fh.tell() < end:
            if last:
                raise SealedBackupInvalid("the backup has data after its last chunk: refusing it")
            try:
                (length,) = _LEN.unpack(fh.read(_LEN.size))
            except struct.error:
                raise SealedBackupInvalid("the backup's chunks are damaged: refusing it") from None
            if length > chunk + 16 or fh.tell() + length > end:
                raise SealedBackupInvalid("the backup's chunks are damaged: refusing it")
            sealed = fh.read(length)
            nonce = prefix + struct.pack(">I", number)
            for last in (False, True):
                try:
                    out.write(aead.decrypt(nonce, sealed, header + struct.pack(">Q?", number, last)))
                    break
                except InvalidTag:
                    continue
            else:
                raise SealedBackupInvalid("the backup cannot be decrypted (modified, reordered or another key): "
                                          "refusing it")
            number += 1
        if not last:
            raise SealedBackupInvalid("the backup is truncated (its last chunk is missing): refusing it")


def seal_file(plain: str | os.PathLike, target: str | os.PathLike) -> None:
    """Seal an existing plain tar (the keys from the settings); used by tests and by migrations of old backups."""
    enc, sig, _files = backup_keys()
    with open(plain, "rb") as source, open(target, "wb") as out:
        writer = SealingWriter(out, enc, sig)
        for block in iter(lambda: source.read(CHUNK), b""):
            writer.write(block)
        writer.close()


def open_sealed(source: str | os.PathLike, work: str | os.PathLike) -> tarfile.TarFile:
    """Check the seal of ``source``, decrypt it into ``work`` and open the tar inside (read only)."""
    enc, sig, _files = backup_keys()
    source = Path(source)
    try:
        _check_seal(source, sig, enc)
    except OSError as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None
    plain = Path(work) / "backup.tar"
    _unseal(source, enc, plain)
    try:
        return tarfile.open(plain, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {source}: {exc}") from None


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
    enc, sig, key_files = backup_keys()  # no key, no backup: checked before any work
    for key_file in key_files:
        if Path(key_file).resolve().parent == target.resolve().parent:
            raise BackupError(f"the key file {key_file} is in the backup's own folder: keep the keys apart")
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
        try:
            _write_sealed(partial, enc, sig, kind, dump, local, keys, manifest)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        os.replace(partial, target)
    return manifest


def _write_sealed(partial: Path, enc: bytes, sig: bytes, kind: str, dump: Path, local, keys, manifest: dict) -> None:
    """The tar (dump, files, manifest) streamed through the seal into ``partial``."""
    with open(partial, "wb") as out:
        sealer = SealingWriter(out, enc, sig)
        with tarfile.open(fileobj=sealer, mode="w|") as tar:
            tar.add(dump, arcname=DB_MEMBER[kind])
            for key in keys:
                path = local.path(key)
                try:
                    manifest["files"][key] = _sha256(path)
                    tar.add(path, arcname=f"uploads/{key}")
                except FileNotFoundError:  # removed since the listing: its row is gone too
                    manifest["files"].pop(key, None)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
        sealer.close()


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
    with tempfile.TemporaryDirectory(prefix="aa-restore-") as work, open_sealed(source, work) as tar:
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


@backup_cli.command("keygen")
@click.argument("folder", type=click.Path(file_okay=False))
def keygen_command(folder):
    """Write two new random keys (encryption, signing) into FOLDER, readable by the owner only."""
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for name, filename in (("BACKUP_KEY", "backup.key"), ("BACKUP_SIGNING_KEY", "backup-signing.key")):
        path = Path(folder) / filename
        if path.exists():
            raise BackupError(f"{path} exists: not overwriting a key (its backups would become unreadable)")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
        click.echo(f"{name}_FILE={path.resolve()}")
    click.echo("Keep these files away from the backups (and keep a copy in a safe): without them no backup "
               "can be read or restored.")


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
    from .audit_chain import verify

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

