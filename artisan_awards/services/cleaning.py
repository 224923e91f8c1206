"""Uploaded files rewritten clean before they are stored (and so before anything merges them).

PDFs are REFUSED when they cannot be rewritten safely, and STRIPPED of what acts:

* refused (a Vietnamese reason, nothing stored): a file qpdf cannot read; encryption; too many
  pages, objects or streams; a filter chain longer than ``PDF_MAX_FILTERS``, a stream that expands
  more than ``PDF_MAX_EXPANSION`` times, or streams that decode to more than
  ``PDF_MAX_EXPANDED_BYTES`` together (every chain is decoded stage by stage, in bounded chunks,
  before qpdf decodes anything: a bomb is never held in memory); an unknown or encryption filter;
  an image over ``MAX_IMAGE_PIXELS``; a page whose content cannot be parsed.
* stripped (the uploader is told what, and it is logged): JavaScript, actions of every kind
  (open actions, ``/AA`` on the catalog, pages, fields and annotations, links, launch, GoToR/GoToE,
  submit/reset/import form actions), embedded files, forms (AcroForm, XFA, widgets), annotations,
  bookmarks, XMP and document metadata.

The rewrite builds a NEW document from the pages' content only: each page keeps its boxes, its
rotation, its content streams and its resources; nothing else of the source is copied (no catalog,
no names tree, no outlines, no forms, no structure tree, no incremental updates, no encryption).
Annotations are first flattened into the page (qpdf draws their printable appearance as page
content), then all of them are dropped: an annotation is what carries links, file attachments,
sounds, movies and form fields, and the reviewers see what would print anyway. What the copied
resources reach is walked object by object (XObjects, fonts, patterns, nested form resources) and
every key that can act or carry a payload is deleted. The result is read back and walked once more
(``active_features``); anything left is a refusal, never a stored file.

Images (JPEG, PNG, WebP) are decoded by Pillow within the pixel limit and re-encoded: EXIF, XMP
and text chunks go, the orientation is applied to the pixels, an ICC profile is kept.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from flask import current_app
from PIL import Image, ImageOps

from workflows.states import N_

from ..errors import ValidationFailed

if TYPE_CHECKING:  # pikepdf is loaded when a PDF is cleaned, not at start-up
    import pikepdf

CHUNK = 1 << 20  # bytes handed from one decoding stage to the next
RATIO_FLOOR = 1 << 20  # a stream's expansion ratio is judged only past this many decoded bytes

# What was stripped, by code: the success message names each in the uploader's language
# ("metadata", also reported by ``clean_pdf`` and ``clean_content``, is not named to the uploader).
REMOVED_LABELS = {
    "javascript": N_("mã JavaScript"),
    "actions": N_("lệnh tự động chạy"),
    "links": N_("liên kết"),
    "embedded_files": N_("tệp đính kèm bên trong"),
    "forms": N_("biểu mẫu điền được"),
    "annotations": N_("chú thích"),
    "bookmarks": N_("mục lục (bookmark)"),
}
REMOVED_ORDER = list(REMOVED_LABELS)

LINK_ACTIONS = {"/URI", "/Launch", "/GoToR", "/GoToE", "/GoTo3DView", "/Thread"}
FORM_ACTIONS = {"/SubmitForm", "/ResetForm", "/ImportData"}
SCRIPT_ACTIONS = {"/JavaScript", "/Rendition", "/RichMediaExecute"}
OTHER_ACTIONS = {"/GoTo", "/Named", "/SetOCGState", "/Hide", "/Sound", "/Movie", "/Trans"}
ACTIONS = LINK_ACTIONS | FORM_ACTIONS | SCRIPT_ACTIONS | OTHER_ACTIONS
# Keys deleted wherever they appear in what a page reaches.
DROP_KEYS = {"/A", "/AA", "/JS", "/JavaScript", "/OpenAction", "/URI", "/Launch", "/EmbeddedFile",
             "/EmbeddedFiles", "/AcroForm", "/XFA", "/Names", "/Annots", "/Metadata", "/PieceInfo",
             "/Next", "/F", "/FS", "/EF", "/RichMediaContent", "/Outlines", "/Dests", "/Win", "/Mac",
             "/Unix", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE"}
# Names whose presence anywhere in the rewritten file is a failure (the final check).
FORBIDDEN_NAMES = {"/JS", "/JavaScript", "/URI", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/AcroForm",
                   "/XFA", "/OpenAction", "/AA", "/SubmitForm", "/ImportData", "/ResetForm", "/GoToR",
                   "/GoToE", "/RichMedia", "/FileAttachment"}

GENERALIZED = {"/FlateDecode", "/Fl", "/LZWDecode", "/LZW", "/ASCIIHexDecode", "/AHx", "/ASCII85Decode",
               "/A85", "/RunLengthDecode", "/RL"}
IMAGE_FILTERS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
PAGE_KEYS = ("/MediaBox", "/CropBox", "/BleedBox", "/TrimBox", "/ArtBox", "/Rotate", "/UserUnit")
INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _limit(name: str) -> int:
    return int(current_app.config[name])


def _refuse(message: str, **params):
    raise ValidationFailed(fields={"file": message}, params=params)


BROKEN = N_("Tệp PDF bị hỏng hoặc không đọc được.")
ENCRYPTED = N_("Tệp PDF có mật khẩu hoặc bị mã hóa; hãy tải lên bản không mã hóa.")
TOO_BIG = N_("Tệp PDF nén quá mức cho phép: giải nén ra quá lớn (quá %(mb)s MB).")
TOO_DENSE = N_("Tệp PDF nén quá mức cho phép: một luồng dữ liệu giải nén ra gấp hơn %(n)s lần.")
TOO_DEEP = N_("Tệp PDF nén quá mức cho phép: một luồng dữ liệu có hơn %(n)s lớp nén chồng nhau.")
BAD_STREAM = N_("Tệp PDF có dữ liệu nén bị hỏng.")
UNKNOWN_FILTER = N_("Tệp PDF dùng kiểu nén không được hỗ trợ (%(name)s).")
BIG_IMAGE = N_("Ảnh trong tệp PDF quá lớn: tối đa %(mp)s triệu điểm ảnh.")
BAD_PAGE = N_("Trang %(n)s của tệp PDF bị hỏng, không hiển thị an toàn được.")
TOO_MANY_OBJECTS = N_("Tệp PDF có quá nhiều đối tượng (tối đa %(n)s).")
TOO_MANY_STREAMS = N_("Tệp PDF có quá nhiều luồng dữ liệu (tối đa %(n)s).")
NOT_CLEAN = N_("Tệp PDF chứa thành phần không gỡ bỏ được an toàn; không được chấp nhận.")


# -- decoding filter chains on a budget ---------------------------------------------------------


class _Over(Exception):
    """A stage produced more than it may."""


def _flate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    for chunk in chunks:
        data = chunk
        while True:
            out = inflater.decompress(data, CHUNK)
            data = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof:
                return
            if not data and len(out) < CHUNK:
                break
    tail = inflater.flush(CHUNK)
    if tail:
        yield tail


def _ascii_hex(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        data = carry + chunk.translate(None, b" \t\r\n\f\x00")
        end = data.find(b">")
        if end >= 0:
            data = data[:end]
            yield binascii.unhexlify(data + b"0" if len(data) % 2 else data)
            return
        even = len(data) - len(data) % 2
        carry = data[even:]
        yield binascii.unhexlify(data[:even])
    if carry:
        yield binascii.unhexlify(carry + b"0")


_A85_GROUPS = re.compile(rb"(?:z|[!-u]{5})*")


def _ascii85(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        data = carry + chunk.translate(None, b" \t\r\n\f\x00")
        if data.startswith(b"<~"):
            data = data[2:]
        end = data.find(b"~>")
        if end >= 0:
            data = data[:end]
        cut = _A85_GROUPS.match(data).end()
        carry = data[cut:]
        yield base64.a85decode(data[:cut])
        if end >= 0:
            break
    if carry:
        yield base64.a85decode(carry)


def _run_length(chunks: Iterable[bytes]) -> Iterator[bytes]:
    carry = b""
    for chunk in chunks:
        data, i, out = carry + chunk, 0, bytearray()
        while i < len(data):
            n = data[i]
            if n == 128:
                yield bytes(out)
                return
            if n < 128:
                if i + 1 + n + 1 > len(data):
                    break
                out += data[i + 1:i + 2 + n]
                i += n + 2
            else:
                if i + 1 >= len(data):
                    break
                out += data[i + 1:i + 2] * (257 - n)
                i += 2
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
        carry = data[i:]
        if out:
            yield bytes(out)


def _lzw(chunks: Iterable[bytes], early: int = 1) -> Iterator[bytes]:
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    width, bits, nbits, previous, out = 9, 0, 0, None, bytearray()
    for chunk in chunks:
        for byte in chunk:
            bits, nbits = (bits << 8) | byte, nbits + 8
            while nbits >= width:
                nbits -= width
                code = (bits >> nbits) & ((1 << width) - 1)
                bits &= (1 << nbits) - 1
                if code == 256:
                    table, width, previous = table[:258], 9, None
                    continue
                if code == 257:
                    yield bytes(out)
                    return
                if previous is None:
                    entry = table[code]
                elif code < len(table):
                    entry = table[code]
                    if len(table) < 4096:
                        table.append(previous + entry[:1])
                elif code == len(table) and len(table) < 4096:
                    entry = previous + previous[:1]
                    table.append(entry)
                else:
                    raise ValueError("bad LZW code")
                out += entry
                previous = entry
                if len(table) + early >= (1 << width) and width < 12:
                    width += 1
                if len(out) >= CHUNK:
                    yield bytes(out)
                    out.clear()
    if out:
        yield bytes(out)


STAGES = {"/FlateDecode": _flate, "/Fl": _flate, "/ASCIIHexDecode": _ascii_hex, "/AHx": _ascii_hex,
          "/ASCII85Decode": _ascii85, "/A85": _ascii85, "/RunLengthDecode": _run_length, "/RL": _run_length,
          "/LZWDecode": _lzw, "/LZW": _lzw}


def _capped(chunks: Iterable[bytes], cap: int) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > cap:
            raise _Over
        yield chunk


def filters_of(stream: pikepdf.Stream) -> tuple[list[str], list]:
    import pikepdf
    value, parms = stream.get("/Filter"), stream.get("/DecodeParms")
    if value is None:
        return [], []
    names = [str(v) for v in value] if isinstance(value, pikepdf.Array) else [str(value)]
    if isinstance(parms, pikepdf.Array):
        parms = list(parms)
    else:
        parms = [parms] * len(names) if len(names) == 1 else [None] * len(names)
    return names, parms + [None] * (len(names) - len(parms))


def decoded_size(stream: pikepdf.Stream, remaining: int) -> int:
    """The bytes a stream's filter chain decodes to, decoded stage by stage in bounded chunks.

    Refuses a chain that is too long, an unknown filter, broken data, a stream that expands past
    ``PDF_MAX_EXPANSION`` times its raw size, or more than ``remaining`` bytes. Image codecs (DCT,
    JPX, JBIG2, CCITT) end a chain; they are bounded by the pixel limit instead. Predictors are
    not applied: they never enlarge the data.
    """
    import pikepdf
    names, parms = filters_of(stream)
    if len(names) > _limit("PDF_MAX_FILTERS"):
        _refuse(TOO_DEEP, n=_limit("PDF_MAX_FILTERS"))
    raw = stream.read_raw_bytes()
    ratio = _limit("PDF_MAX_EXPANSION")
    dense_cap = max(RATIO_FLOOR, ratio * len(raw))
    cap = min(remaining, dense_cap)
    chunks: Iterable[bytes] = [raw]
    for position, name in enumerate(names):
        if name == "/Crypt":
            _refuse(ENCRYPTED)
        if name in IMAGE_FILTERS and position == len(names) - 1:
            break
        if name not in STAGES:
            _refuse(UNKNOWN_FILTER, name=name.lstrip("/"))
        if name in ("/LZWDecode", "/LZW"):
            early = 1
            if isinstance(parms[position], pikepdf.Dictionary):
                early = int(parms[position].get("/EarlyChange", 1))
            chunks = _capped(_lzw(chunks, early), cap)
        else:
            chunks = _capped(STAGES[name](chunks), cap)
    total = 0
    try:
        for chunk in chunks:
            total += len(chunk)
    except _Over:
        if remaining <= dense_cap:
            _refuse(TOO_BIG, mb=_limit("PDF_MAX_EXPANDED_BYTES") // (1024 * 1024))
        _refuse(TOO_DENSE, n=ratio)
    except (zlib.error, binascii.Error, ValueError, IndexError, TypeError):
        _refuse(BAD_STREAM)
    return total


# -- the PDF rewrite ----------------------------------------------------------------------------


def _name(value) -> str | None:
    import pikepdf
    return str(value) if isinstance(value, pikepdf.Name) else None


def features_of(obj, found: set[str]) -> None:
    """What one dictionary (or stream dictionary) carries, as REMOVED codes."""
    keys = set(obj.keys())
    kind, subtype = _name(obj.get("/S")), _name(obj.get("/Subtype"))
    typ = _name(obj.get("/Type"))
    if "/JS" in keys or kind == "/JavaScript" or "/JavaScript" in keys:
        found.add("javascript")
    if kind in LINK_ACTIONS or subtype == "/Link" or "/URI" in keys:
        found.add("links")
    if kind in FORM_ACTIONS or "/AcroForm" in keys or "/XFA" in keys or subtype == "/Widget":
        found.add("forms")
    if "/EmbeddedFiles" in keys or "/EF" in keys or typ in ("/EmbeddedFile", "/Filespec") \
            or subtype in ("/FileAttachment", "/RichMedia", "/Movie", "/Sound", "/Screen", "/3D"):
        found.add("embedded_files")
    if "/OpenAction" in keys or "/AA" in keys or kind in SCRIPT_ACTIONS | OTHER_ACTIONS:
        found.add("actions")
    if typ == "/Annot" or (subtype and "/Rect" in keys and typ != "/XObject"):
        if subtype not in ("/Link", "/Widget", "/FileAttachment"):
            found.add("annotations")
    if "/Outlines" in keys and typ == "/Catalog":
        found.add("bookmarks")
    if "/Metadata" in keys or "/PieceInfo" in keys:
        found.add("metadata")


def _inherited(page: pikepdf.Dictionary, key: str):
    node, depth = page, 0
    while node is not None and depth < 64:
        if key in node:
            return node[key]
        node, depth = node.get("/Parent"), depth + 1
    return None


RESOURCE_MAPS = {"/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading", "/Properties"}


def _scrub(obj, seen: set) -> None:
    """Delete every acting or payload-carrying key in what ``obj`` reaches, however deep.

    The dictionaries inside ``/Resources`` (``/Font``, ``/XObject``, ...) map names chosen by the
    producer to objects: a font may well be called ``/F`` or ``/A``, so their keys are kept (their
    values are still walked). A key such as ``/JS`` left there is caught by the final check.
    """
    import pikepdf

    containers = pikepdf.Array | pikepdf.Dictionary | pikepdf.Stream
    stack: list[tuple[object, bool]] = [(obj, False)]
    while stack:
        item, name_map = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend((v, False) for v in item if isinstance(v, containers))
            continue
        if not isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            continue
        if not _first_visit(item, seen):
            continue
        if name_map:
            stack.extend((v, False) for v in item.values() if isinstance(v, containers))
            continue
        for key in list(item.keys()):
            if key in DROP_KEYS:
                del item[key]
        # A dictionary that is itself an action is emptied (it may be reached from a kept key).
        if _name(item.get("/S")) in ACTIONS or _name(item.get("/Type")) in ("/Action", "/EmbeddedFile",
                                                                                "/Filespec"):
            for key in list(item.keys()):
                if not (isinstance(item, pikepdf.Stream) and key in ("/Length", "/Filter", "/DecodeParms")):
                    del item[key]
            if isinstance(item, pikepdf.Stream):
                item.write(b"")
            continue
        for key, value in item.items():
            if not isinstance(value, containers):
                continue
            if key == "/Resources" and isinstance(value, pikepdf.Dictionary):
                if not _first_visit(value, seen):
                    continue
                for sub_key in list(value.keys()):
                    if sub_key in DROP_KEYS:
                        del value[sub_key]
                stack.extend((sub, sub_key in RESOURCE_MAPS) for sub_key, sub in value.items()
                             if isinstance(sub, containers))
            else:
                stack.append((value, False))


def _first_visit(item, seen: set) -> bool:
    """False for an indirect object already walked (shared objects and reference cycles are walked once)."""
    if item.is_indirect:
        if item.objgen in seen:
            return False
        seen.add(item.objgen)
    return True


def active_features(pdf: pikepdf.Pdf) -> set[str]:
    """Every forbidden name used as a key or a value anywhere in ``pdf`` (the final check)."""
    import pikepdf
    hits: set[str] = set()
    stack = [pdf.trailer] + list(pdf.objects)
    seen: set = set()
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Name):
            if str(item) in FORBIDDEN_NAMES:
                hits.add(str(item))
            continue
        if isinstance(item, pikepdf.Array):
            stack.extend(item)
            continue
        if not isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
            continue
        if not _first_visit(item, seen):
            continue
        for key, value in item.items():
            if key in FORBIDDEN_NAMES:
                hits.add(key)
            stack.append(value)
    return hits


def _survey(pdf: pikepdf.Pdf) -> set[str]:
    """Bounds every object before anything decodes it; returns what the file carries."""
    import pikepdf
    max_objects, max_streams = _limit("PDF_MAX_OBJECTS"), _limit("PDF_MAX_STREAMS")
    budget, max_pixels = _limit("PDF_MAX_EXPANDED_BYTES"), _limit("MAX_IMAGE_PIXELS")
    xref = pdf.get_xref_table()
    if len(xref) > max_objects:
        _refuse(TOO_MANY_OBJECTS, n=max_objects)
    # Objects stored directly first: object streams are among them, and each is decoded on the
    # budget here before qpdf ever decodes it to reach the objects inside.
    direct = [og for og, entry in xref.items() if entry.type == 1]
    packed = [og for og, entry in xref.items() if entry.type == 2]
    found: set[str] = set()
    expanded = streams = 0
    for objgen in direct + packed:
        obj = pdf.get_object(objgen)
        if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            continue
        features_of(obj, found)
        if not isinstance(obj, pikepdf.Stream):
            continue
        streams += 1
        if streams > max_streams:
            _refuse(TOO_MANY_STREAMS, n=max_streams)
        if obj.get("/Subtype") == pikepdf.Name.Image:
            try:
                pixels = int(obj.get("/Width", 0)) * int(obj.get("/Height", 0))
            except (TypeError, ValueError):
                pixels = 0
            if pixels > max_pixels:
                _refuse(BIG_IMAGE, mp=max_pixels // 1_000_000)
        expanded += decoded_size(obj, budget - expanded)
    return found


def _check_page(page: pikepdf.Page, number: int) -> None:
    import pikepdf
    max_pixels = _limit("MAX_IMAGE_PIXELS")
    try:
        for instruction in pikepdf.parse_content_stream(page):
            if isinstance(instruction, pikepdf.ContentStreamInlineImage):
                image = instruction.iimage
                if int(image.width) * int(image.height) > max_pixels:
                    _refuse(BIG_IMAGE, mp=max_pixels // 1_000_000)
    except ValidationFailed:
        raise
    except Exception:
        _refuse(BAD_PAGE, n=number)


# pikepdf.save() options; object_stream_mode=pikepdf.ObjectStreamMode.disable is added where pikepdf is loaded.
SAVE = {"compress_streams": True, "linearize": False, "deterministic_id": True}


def _copy(target: pikepdf.Pdf, source: pikepdf.Pdf, value):
    """``value`` (and all it reaches) copied from ``source`` into ``target``."""
    import pikepdf
    if not isinstance(value, pikepdf.Array | pikepdf.Dictionary | pikepdf.Stream):
        return value
    if not value.is_indirect:
        value = source.make_indirect(value)
    return target.copy_foreign(value)


def clean_pdf(data: bytes) -> tuple[bytes, set[str]]:
    """A new PDF made of the pages' content only, and the codes of what was removed."""
    import pikepdf
    max_pages = _limit("PDF_MAX_PAGES")
    try:
        source = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        _refuse(ENCRYPTED)
    except Exception:
        _refuse(BROKEN)
    with source:
        if source.is_encrypted:
            _refuse(ENCRYPTED)
        try:
            found = _survey(source)
            root = source.Root
            for key in ("/OpenAction", "/AA"):
                if key in root:
                    found.add("actions")
            if "/Outlines" in root:
                found.add("bookmarks")
            if any(key != "/Producer" for key in source.docinfo.keys()):
                found.add("metadata")  # author, title, dates...: not reported to the uploader
            pages = list(source.pages)
        except ValidationFailed:
            raise
        except Exception:
            _refuse(BROKEN)
        if not 1 <= len(pages) <= max_pages:
            _refuse(N_("Tệp PDF cần từ 1 đến %(n)s trang."), n=max_pages)
        for number, page in enumerate(pages, 1):
            _check_page(page, number)
        try:
            source.flatten_annotations(mode="print")
        except Exception:  # qpdf could not draw them: they are dropped unseen
            current_app.logger.info("upload: annotations could not be flattened; dropped")
        target = pikepdf.new()
        try:
            for page in source.pages:
                fresh = pikepdf.Dictionary(Type=pikepdf.Name.Page)
                for key in PAGE_KEYS:
                    value = _inherited(page.obj, key) if key in INHERITED else page.obj.get(key)
                    if value is not None:
                        fresh[key] = _copy(target, source, value)
                if "/MediaBox" not in fresh:
                    fresh.MediaBox = pikepdf.Array([0, 0, 595, 842])
                resources = _inherited(page.obj, "/Resources")
                fresh.Resources = (_copy(target, source, resources) if resources is not None
                                   else pikepdf.Dictionary())
                if "/Contents" in page.obj:
                    fresh.Contents = _copy(target, source, page.obj.Contents)
                if "/Group" in page.obj:
                    fresh.Group = _copy(target, source, page.obj.Group)
                target.pages.append(pikepdf.Page(target.make_indirect(fresh)))
        except ValidationFailed:
            raise
        except Exception:
            _refuse(BROKEN)
        # Saved while the source is open: copied streams are read from it as they are written.
        try:
            with target:
                # Only what the trailer reaches is written, so that is what is walked.
                _scrub(target.trailer, set())
                for key in list(target.docinfo.keys()):
                    del target.docinfo[key]
                out = io.BytesIO()
                target.save(out, object_stream_mode=pikepdf.ObjectStreamMode.disable, **SAVE)
            cleaned = out.getvalue()
            with pikepdf.open(io.BytesIO(cleaned)) as check:  # the final check runs on what qpdf wrote
                left = active_features(check)
        except ValidationFailed:
            raise
        except Exception:
            _refuse(BROKEN)
    if left:
        current_app.logger.warning("upload: rewritten PDF still carries %s; refused", sorted(left))
        _refuse(NOT_CLEAN)
    return cleaned, found


# -- images -------------------------------------------------------------------------------------


PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


IMAGE_METADATA = {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "photoshop", "iptc", "adobe"}


def image_metadata(data: bytes, mime: str) -> bool:
    """Whether Pillow finds EXIF, XMP, comments or text chunks in the picture."""
    with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[mime]]) as image:
        return bool(IMAGE_METADATA & set(image.info) or getattr(image, "text", None))


def clean_image(data: bytes, mime: str) -> bytes:
    """The picture re-encoded by Pillow: no EXIF, XMP or text chunks; orientation applied; ICC kept.

    The caller (``attachments.check_image``) has checked the header against the pixel limit.
    """
    with Image.open(io.BytesIO(data), formats=[PIL_FORMATS[mime]]) as original:
        original.load()
        original.info.pop("exif", None)
        icc = original.info.get("icc_profile")
        transparency = original.info.get("transparency")
        turned = original.getexif().get(0x0112, 1) not in (0, 1)
        image = ImageOps.exif_transpose(original) if turned else original
        options: dict = {}
        if icc:
            options["icc_profile"] = icc
        if mime == "image/jpeg":
            if image is original:
                options["quality"] = "keep"
                options["subsampling"] = "keep"
            else:
                options["quality"] = 95
            if image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
        elif mime == "image/png":
            if transparency is not None and image.mode in ("P", "L", "RGB"):
                options["transparency"] = transparency
        else:
            options["quality"] = 90
        out = io.BytesIO()
        image.save(out, format=PIL_FORMATS[mime], **options)
    return out.getvalue()


def removal_notice(removed: Iterable[str], gettext) -> str | None:
    """'Đã gỡ bỏ liên kết và mã JavaScript khỏi tệp.' in the reader's language, or None."""
    items = [gettext(REMOVED_LABELS[c]) for c in REMOVED_ORDER if c in set(removed)]
    if not items:
        return None
    what = items[0] if len(items) == 1 else gettext("%(a)s và %(b)s", a=", ".join(items[:-1]), b=items[-1])
    return gettext("Đã gỡ bỏ %(what)s khỏi tệp.", what=what)
