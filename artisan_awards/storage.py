"""Where uploaded files live: one interface, two backends.

* ``local`` (the default, one machine): files under ``UPLOAD_DIR``, outside the web root.
* ``database``: a blob table (``stored_files``) in the application's own database, so that every
  app process on every machine sees the same files, and a database backup holds them too.

An S3-compatible backend is not built: the interface below is what it would implement.

Keys are made here (``new_key``): 32 random hex digits and an extension chosen from the sniffed
type, never anything the uploader sent. The database backend writes in the caller's transaction
(``put`` and ``delete`` take effect at the caller's commit); the disk backend writes at once and
the caller tidies up with ``discard`` (after a rollback) or ``purge`` (after a committed delete).
"""

from __future__ import annotations

import io
import os
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Protocol

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import now_utc

KEY = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{2,5}$")
BACKENDS = ("local", "database")


class StoredFile(db.Model):
    """A file's bytes, for ``STORAGE_BACKEND=database``."""

    __tablename__ = "stored_files"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=now_utc)


class StorageError(Exception):
    pass


def new_key(extension: str) -> str:
    key = secrets.token_hex(16) + extension
    check_key(key)
    return key


def check_key(key: str) -> str:
    if not KEY.match(key or ""):
        raise StorageError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def path(self, key: str) -> Path | None:
        """A local path to serve the file from, when there is one."""

    def delete(self, key: str) -> None: ...

    def discard(self, key: str) -> None:
        """After a rollback: forget a ``put`` that was not committed."""

    def purge(self, key: str) -> None:
        """After a committed ``delete``: release what is left."""

    def keys(self) -> list[str]: ...


class LocalStorage:
    name = "local"

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        target = self._path(key)
        partial = target.with_name(target.name + ".part")
        with open(partial, "xb") as fh:  # never overwrite: keys are random and new
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no such file: {key}") from None

    def path(self, key: str) -> Path | None:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key)  # the file goes in ``purge``, once the row's removal is committed

    def discard(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def purge(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if KEY.match(p.name))


class DatabaseStorage:
    name = "database"

    def put(self, key: str, data: bytes) -> None:
        db.session.add(StoredFile(key=check_key(key), size=len(data), data=data))

    def get(self, key: str) -> bytes:
        data = db.session.scalar(sa.select(StoredFile.data).where(StoredFile.key == check_key(key)))
        if data is None:
            raise StorageError(f"no such file: {key}")
        return bytes(data)

    def path(self, key: str) -> Path | None:
        return None

    def delete(self, key: str) -> None:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.key == check_key(key)))

    def discard(self, key: str) -> None:
        pass  # the rollback took the row away

    def purge(self, key: str) -> None:
        pass

    def keys(self) -> list[str]:
        return list(db.session.scalars(sa.select(StoredFile.key).order_by(StoredFile.key)))


def make_storage(app: Flask) -> Storage:
    backend = (app.config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        return LocalStorage(app.config["UPLOAD_DIR"])
    if backend == "database":
        return DatabaseStorage()
    raise RuntimeError(f"STORAGE_BACKEND={backend!r}: choose one of {', '.join(BACKENDS)}")


def sendable(key: str) -> Path | io.BytesIO:
    """What ``send_file`` serves for a stored file: its path on local disk, else its bytes.

    StorageError when the file is missing (the caller answers 404 and logs it).
    """
    store = storage()
    path = store.path(key)
    if path is not None:
        if not path.is_file():
            raise StorageError(f"no such file: {key}")
        return path
    return io.BytesIO(store.get(key))


def storage() -> Storage:
    """The current application's storage (made once per app)."""
    app = current_app._get_current_object()
    found = app.extensions.get("artisan_storage")
    if found is None:
        found = app.extensions["artisan_storage"] = make_storage(app)
    return found


# -- flask --app wsgi storage check -------------------------------------------------------------


def audit_files() -> tuple[list[str], list[str]]:
    """(keys stored with no row that uses them, keys of attachment and export rows with nothing stored)."""
    from .models import Attachment, DocumentTask

    stored = set(storage().keys())
    referenced = set(db.session.scalars(sa.select(Attachment.stored_name)))
    exports = sa.select(DocumentTask.result_name).where(DocumentTask.result_name.is_not(None))
    referenced |= set(db.session.scalars(exports))
    return sorted(stored - referenced), sorted(referenced - stored)


@click.group("storage")
def storage_cli():
    """Uploaded files: where they live and whether every one is accounted for."""


@storage_cli.command("check")
@click.option("--prune", is_flag=True, help="Remove stored files that no attachment refers to.")
@click.option("--older-than", "minutes", default=60, show_default=True,
              help="Prune only files at least this old (an upload in progress has no row yet).")
@with_appcontext
def check_command(prune: bool, minutes: int):
    """Compare the stored files with the attachment rows; exit 1 if a row's file is missing."""
    import time

    store = storage()
    orphans, missing = audit_files()
    if prune:
        cutoff = time.time() - minutes * 60
        orphans = [k for k in orphans if store.path(k) is None or store.path(k).stat().st_mtime <= cutoff]
    click.echo(f"{store.name} storage: {len(store.keys())} files, {len(orphans)} without a row, "
               f"{len(missing)} rows without a file")
    for key in missing:
        click.echo(f"MISSING {key}")
    if prune and orphans:
        for key in orphans:
            store.delete(key)
        db.session.commit()
        for key in orphans:
            store.purge(key)
        click.echo(f"removed {len(orphans)} files without a row")
    if missing:
        raise SystemExit(1)
