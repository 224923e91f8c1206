"""Evidence uploads: the type is decided by the file's content, not its name.

Every upload passes, in order: a size limit per file (``MAX_UPLOAD_BYTES``) and per dossier
(``MAX_DOSSIER_BYTES``, ``MAX_DOSSIER_FILES``); content sniffing (``filetype``: a renamed
executable, archive or web page is refused whatever its name); for images, a decode of the
header by Pillow with a pixel limit (``MAX_IMAGE_PIXELS``: decompression bombs) and a structural
check; for PDFs, a parse by qpdf (``pikepdf``) and a rewrite (``services/cleaning.py``): encrypted,
broken, oversized files and decompression bombs behind any filter chain are refused with the
reason; JavaScript, actions, links, embedded files, forms and annotations are stripped and the
uploader is told which. Images are re-encoded by Pillow (no EXIF or other metadata). What is stored
is the clean rewrite.

The display name is sanitised (``safe_filename``); the stored name is random
(``storage.new_key``). The bytes go to the configured storage (``artisan_awards/storage.py``:
local disk outside the web root, or the database) and are served only through the dossier's
permission check, as downloads with ``nosniff`` (``send_attachment``).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
import warnings

import filetype
import sqlalchemy as sa
from flask import Response, current_app, send_file
from PIL import Image
from werkzeug.datastructures import FileStorage

from workflows.states import N_, State

from .. import permissions
from ..errors import Forbidden, NotFound, TooLarge, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import Attachment, AttachmentKind, Nomination, User
from ..storage import StorageError, new_key, sendable, storage
from . import cleaning, transaction

# The kinds of evidence of the nominee's work of which a dossier needs at least one (Decree 43: photos or
# video of the skills, decisions and certificates of awards); the procedure page lists them from here.
EVIDENCE_KINDS = (AttachmentKind.PHOTO, AttachmentKind.VIDEO, AttachmentKind.AWARD_DECISION,
                  AttachmentKind.CERTIFICATE)
# What each kind of evidence may be, by sniffed MIME type.
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska"}
DOCUMENT_TYPES = {"application/pdf"} | IMAGE_TYPES
ALLOWED = {
    AttachmentKind.PORTRAIT: IMAGE_TYPES,
    AttachmentKind.PHOTO: IMAGE_TYPES,
    AttachmentKind.VIDEO: VIDEO_TYPES,
    AttachmentKind.AWARD_DECISION: DOCUMENT_TYPES,
    AttachmentKind.CERTIFICATE: DOCUMENT_TYPES,
    AttachmentKind.AUTHORISATION: DOCUMENT_TYPES,
    AttachmentKind.DEATH_EVIDENCE: DOCUMENT_TYPES,
    AttachmentKind.OTHER: DOCUMENT_TYPES | VIDEO_TYPES,
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
    "application/pdf": ".pdf",
}
# Extensions a display name may keep for each type; any other is replaced by the type's own.
SUFFIXES = {mime: {ext} for mime, ext in EXTENSIONS.items()}
SUFFIXES["image/jpeg"] |= {".jpeg", ".jpe"}
SUFFIXES["video/mp4"] |= {".m4v"}
PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(1, 10)}
NAME_CHARS = 200  # characters of a display name, extension included
NAME_BYTES = 240  # ... and UTF-8 bytes (file systems stop at 255)
FALLBACK_NAME = "tep-dinh-kem"

EDITABLE_STATES = (State.DRAFT, State.RETURNED, State.SUBMITTED)
BAD_FILE = N_("Định dạng tệp không được chấp nhận cho loại tài liệu này.")


def _limit(name: str) -> int:
    return int(current_app.config[name])


def safe_filename(name: str, mime: str | None = None) -> str:
    """A display name: no path, no control or bidi characters, NFC, bounded, the right extension.

    With ``mime`` (the sniffed type) the extension must be one of that type's: ``thu.exe`` that is
    really a PDF is shown as ``thu.pdf``, so the name never promises another program.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*')
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    ext = "." + ext if ext else ""
    if mime is not None:
        if ext.lower() not in SUFFIXES[mime]:
            tail = ext[1:]
            looks_like_extension = (1 <= len(tail) <= 5 and tail.isascii() and tail.isalnum()
                                    and not tail.isdigit())
            stem = stem if looks_like_extension else stem + ext
            ext = EXTENSIONS[mime]
    elif len(ext) > 16:
        stem, ext = stem + ext, ""
    stem = stem.strip(" .")
    if stem.split(".")[0].upper() in WINDOWS_RESERVED:
        stem = "_" + stem
    room_chars = NAME_CHARS - len(ext)
    room_bytes = NAME_BYTES - len(ext.encode())
    stem = stem[:room_chars]
    while len(stem.encode()) > room_bytes:
        stem = stem[:-1]
    stem = unicodedata.normalize("NFC", stem.rstrip(" ."))
    return (stem or FALLBACK_NAME) + ext


def _refuse(message: str = BAD_FILE, **params):
    raise ValidationFailed(fields={"file": message}, params=params)


def check_image(data: bytes, mime: str) -> None:
    """Pixel limit from the header (before any decoding), then a structural check of the file."""
    limit = _limit("MAX_IMAGE_PIXELS")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[mime]]) as image:
                width, height = image.size
                if width * height > limit:
                    _refuse(N_("Ảnh quá lớn: tối đa %(mp)s triệu điểm ảnh."), mp=limit // 1_000_000)
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse(N_("Ảnh quá lớn: tối đa %(mp)s triệu điểm ảnh."), mp=limit // 1_000_000)
    except ValidationFailed:
        raise
    except Exception:  # Pillow raises many kinds for a damaged file
        _refuse(N_("Tệp ảnh bị hỏng hoặc không đọc được."))


def clean_content(data: bytes, allowed: set[str]) -> tuple[str, bytes, set[str]]:
    """The sniffed MIME type, the bytes to store and what was removed from them.

    PDFs and images are rewritten (``services/cleaning.py``): what is stored, downloaded and
    merged into dossiers is the clean rewrite, never the bytes that were sent.
    """
    sniffed = filetype.guess_mime(data[:8192])
    if sniffed not in allowed:
        _refuse()
    removed: set[str] = set()
    if sniffed in IMAGE_TYPES:
        check_image(data, sniffed)
        try:
            if cleaning.image_metadata(data, sniffed):
                removed.add("metadata")
            data = cleaning.clean_image(data, sniffed)
        except Exception:  # Pillow raises many kinds for a damaged file
            _refuse(N_("Tệp ảnh bị hỏng hoặc không đọc được."))
    elif sniffed == "application/pdf":
        data, removed = cleaning.clean_pdf(data)
    return sniffed, data, removed


def _check_dossier_room(nomination: Nomination, size: int) -> None:
    count, used = db.session.execute(
        sa.select(sa.func.count(Attachment.id), sa.func.coalesce(sa.func.sum(Attachment.size), 0))
        .where(Attachment.nomination_id == nomination.id)
    ).one()
    if count + 1 > _limit("MAX_DOSSIER_FILES"):
        raise TooLarge(N_("Hồ sơ đã đủ %(n)s tệp, không thêm được nữa."), code="too_many_files",
                       params={"n": _limit("MAX_DOSSIER_FILES")})
    limit = _limit("MAX_DOSSIER_BYTES")
    if used + size > limit:
        raise TooLarge(N_("Tổng dung lượng tệp của hồ sơ vượt quá %(mb)s MB."), code="dossier_too_large",
                       params={"mb": limit // (1024 * 1024)})


def add_attachment(user: User, nomination: Nomination, kind: str, upload: FileStorage | None) -> Attachment:
    if not (nomination.owner_id == user.id or permissions.may_act(user, nomination, "accept")):
        raise Forbidden()
    if nomination.state not in EDITABLE_STATES:
        raise TransitionRefused(
            N_("Không bổ sung được tài liệu ở trạng thái hiện tại của hồ sơ."), code="not_editable"
        )
    try:
        kind = AttachmentKind(kind)
    except ValueError:
        raise ValidationFailed(fields={"kind": N_("Loại tài liệu không hợp lệ.")}) from None
    return store_attachment(user, nomination, kind, upload)


def store_attachment(user: User, nomination: Nomination, kind: AttachmentKind,
                     upload: FileStorage | None) -> Attachment:
    """Check, clean and store one upload as the dossier's evidence of ``kind`` (the caller checked who may add
    it and when: ``add_attachment`` for the artisan titles, services/programme_dossiers.py for the others)."""
    if upload is None or not upload.filename:
        raise ValidationFailed(fields={"file": N_("Cần chọn tệp để tải lên.")})
    limit = _limit("MAX_UPLOAD_BYTES")
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(N_("Tệp vượt quá %(mb)s MB."), params={"mb": limit // (1024 * 1024)})
    if not data:
        raise ValidationFailed(fields={"file": N_("Tệp rỗng.")})
    sniffed, data, removed = clean_content(data, ALLOWED[kind])
    if len(data) > limit:
        raise TooLarge(N_("Tệp vượt quá %(mb)s MB."), params={"mb": limit // (1024 * 1024)})
    _check_dossier_room(nomination, len(data))
    store = storage()
    key = new_key(EXTENSIONS[sniffed])
    attachment = Attachment(
        nomination_id=nomination.id,
        kind=kind,
        original_name=safe_filename(upload.filename, sniffed),
        stored_name=key,
        content_type=sniffed,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id,
    )
    try:
        with transaction.one_transaction():
            store.put(key, data)
            db.session.add(attachment)
    except Exception:
        store.discard(key)  # the row was rolled back: no file without its row either
        raise
    attachment.removed = sorted(removed)  # not a column: what the upload's answer reports
    if removed:
        current_app.logger.info("attachment %s of dossier %s: removed %s from the uploaded file",
                                attachment.id, nomination.id, ", ".join(sorted(removed)))
    return attachment


def remove_attachment(user: User, nomination: Nomination, attachment: Attachment) -> None:
    if nomination.owner_id != user.id or not permissions.can_edit(user, nomination):
        raise Forbidden()
    store, key = storage(), attachment.stored_name
    with transaction.one_transaction():
        db.session.delete(attachment)
        store.delete(key)
    store.purge(key)


def attachment_bytes(attachment: Attachment) -> bytes:
    """The file's content, from whichever storage holds it."""
    return storage().get(attachment.stored_name)


def send_attachment(attachment: Attachment) -> Response:
    """A download that no browser renders or sniffs: ``attachment`` disposition, ``nosniff``."""
    try:
        source = sendable(attachment.stored_name)
    except StorageError:
        current_app.logger.error("attachment %s: its file %s is missing from %s storage", attachment.id,
                                 attachment.stored_name, storage().name)
        raise NotFound() from None
    response = send_file(source, mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.original_name, max_age=0, etag=attachment.sha256)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def clean_stored(dry_run: bool = False) -> dict[str, list]:
    """Rewrite earlier uploads as new ones are (``flask --app wsgi attachments clean``).

    Each PDF or image is read from storage and passed through ``clean_content``; a changed file is
    stored under a new key, its row takes the new name, size and digest, and the old file is
    removed once that is committed. A file the checks refuse is left as it is and reported.
    """
    store = storage()
    report: dict[str, list] = {"rewritten": [], "unchanged": [], "refused": []}
    rows = db.session.scalars(sa.select(Attachment).where(Attachment.content_type.in_(DOCUMENT_TYPES))
                              .order_by(Attachment.id)).all()
    for row in rows:
        try:
            data = store.get(row.stored_name)
        except StorageError:
            report["refused"].append((row.id, "missing"))
            continue
        try:
            _, cleaned, removed = clean_content(data, {row.content_type})
        except ValidationFailed as exc:
            reason = "; ".join(exc.field_texts(lambda text, **params: text % params if params else text).values())
            report["refused"].append((row.id, reason))
            continue
        if not removed or cleaned == data:  # a rewrite would take nothing out: keep the file as it is
            report["unchanged"].append(row.id)
            continue
        report["rewritten"].append((row.id, sorted(removed)))
        if dry_run:
            continue
        old, key = row.stored_name, new_key(EXTENSIONS[row.content_type])
        try:
            with transaction.one_transaction():
                store.put(key, cleaned)
                row.stored_name, row.size = key, len(cleaned)
                row.sha256 = hashlib.sha256(cleaned).hexdigest()
                store.delete(old)
        except Exception:
            store.discard(key)  # the row still names the old file, which stays
            raise
        store.purge(old)
        current_app.logger.info("attachment %s: rewritten clean (removed %s)", row.id,
                                ", ".join(sorted(removed)) or "nothing")
    return report
