"""Evidence uploads: the type is decided by the file's content, not its name.

Files are stored outside the web root under random names (``UPLOAD_DIR``) and
are served only to people who may see the dossier, as downloads.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from pathlib import Path

import filetype
from flask import current_app
from werkzeug.datastructures import FileStorage

from workflows.states import N_, State

from .. import permissions
from ..errors import Forbidden, TooLarge, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import Attachment, AttachmentKind, Nomination, User

# What each kind of evidence may be, by sniffed MIME type.
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}
VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm", "video/x-matroska"}
DOCUMENT_TYPES = {"application/pdf"} | IMAGE_TYPES
ALLOWED = {
    AttachmentKind.PHOTO: IMAGE_TYPES,
    AttachmentKind.VIDEO: VIDEO_TYPES,
    AttachmentKind.AWARD_DECISION: DOCUMENT_TYPES,
    AttachmentKind.CERTIFICATE: DOCUMENT_TYPES,
    AttachmentKind.AUTHORISATION: DOCUMENT_TYPES,
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
EDITABLE_STATES = (State.DRAFT, State.RETURNED, State.SUBMITTED)


def upload_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def safe_filename(name: str) -> str:
    """A display name with no path, no control characters, at most 200 characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip(" .")
    return name[:200] or "tep-dinh-kem"


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
    if upload is None or not upload.filename:
        raise ValidationFailed(fields={"file": N_("Cần chọn tệp để tải lên.")})
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(N_("Tệp vượt quá %(mb)s MB."), params={"mb": limit // (1024 * 1024)})
    if not data:
        raise ValidationFailed(fields={"file": N_("Tệp rỗng.")})
    sniffed = filetype.guess_mime(data[:8192])
    if sniffed not in ALLOWED[kind]:
        raise ValidationFailed(
            fields={"file": N_("Định dạng tệp không được chấp nhận cho loại tài liệu này.")}
        )
    stored = secrets.token_hex(16) + EXTENSIONS[sniffed]
    path = upload_dir() / stored
    with open(path, "xb") as fh:
        fh.write(data)
    attachment = Attachment(
        nomination_id=nomination.id,
        kind=kind,
        original_name=safe_filename(upload.filename),
        stored_name=stored,
        content_type=sniffed,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id,
    )
    db.session.add(attachment)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        os.unlink(path)
        raise
    return attachment


def remove_attachment(user: User, nomination: Nomination, attachment: Attachment) -> None:
    if nomination.owner_id != user.id or not permissions.can_edit(user, nomination):
        raise Forbidden()
    path = upload_dir() / attachment.stored_name
    db.session.delete(attachment)
    db.session.commit()
    path.unlink(missing_ok=True)


def attachment_path(attachment: Attachment) -> Path:
    return upload_dir() / attachment.stored_name
