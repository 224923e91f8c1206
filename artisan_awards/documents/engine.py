"""HTML to PDF: a Jinja environment of its own, a URL fetcher that reads almost nothing, a cache.

Rules kept here, so that no document can break them:

* Templates (``templates/pdf/``) receive **plain data** only: dicts, lists, strings, numbers,
  dates. ``plain`` checks the whole context and NFC-normalises every string; an ORM object
  (or anything else) is refused with ``TypeError``.
* Autoescape is on: a value such as ``<img src=file:///etc/passwd>`` is printed as text.
* WeasyPrint fetches through ``SafeFetcher``: the application's own files under
  ``static/pdf/`` and the in-memory blobs the caller hands in (photos), nothing else:
  no ``file:``, no ``data:``, no network.
* A PDF is cached under a hash of everything that shapes it: the parts' templates and
  plain data, the blobs' and appended files' SHA-256, the PDF variant, and the name, size
  and mtime of every template and stylesheet. Change any of them and it is made again.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import posixpath
import re
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jinja2
import weasyprint
from flask import current_app, has_app_context
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .. import formatting
from . import signing

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE_DIR = ROOT / "templates" / "pdf"
STATIC_DIR = ROOT / "artisan_awards" / "static" / "pdf"
# Resources are addressed under a host that cannot exist (RFC 6761), so nothing can reach it.
BASE_URL = "https://documents.invalid/"
STATIC_URL = BASE_URL + "static/"
BLOB_URL = BASE_URL + "blob/"
ENGINE_VERSION = "1"  # bump to invalidate every cached PDF after a change to this module
DEFAULT_VARIANT = "pdf/a-3b"


class RefusedURL(ValueError):
    """WeasyPrint asked for a resource outside what a document may read."""


# -- plain data ---------------------------------------------------------------------------------

PlainScalar = (str, int, float, bool, type(None), date, datetime, Decimal)


LONG_RUN = re.compile(r"\S{60,}")
SOFT_BREAK_EVERY = 30


def variant() -> str | None:
    """The PDF variant of archival output (``DOCUMENTS_PDF_VARIANT``; default PDF/A-3b)."""
    return current_app.config.get("DOCUMENTS_PDF_VARIANT", DEFAULT_VARIANT) or None


def _soft_breaks(text: str) -> str:
    """Let a line break inside an unbroken run of 60+ characters (a hostile 10 000-letter "name").

    A zero-width space every 30 characters: nothing shows, the text reads back the same once
    U+200B is dropped, and the layout stays linear instead of searching a break for minutes.
    """
    if len(text) < 60:
        return text
    return LONG_RUN.sub(lambda m: "\u200b".join(m[0][i:i + SOFT_BREAK_EVERY]
                                                for i in range(0, len(m[0]), SOFT_BREAK_EVERY)), text)


def plain(value, path: str = "context"):
    """A deep copy of ``value`` made of plain types only, strings in NFC; TypeError otherwise."""
    if isinstance(value, str):
        return _soft_breaks(unicodedata.normalize("NFC", value))
    if isinstance(value, PlainScalar):
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{path}: keys must be strings, not {type(key).__name__}")
            out[key] = plain(item, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [plain(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"{path}: documents render from plain data, not {type(value).__name__}")


def _json_default(value):
    if isinstance(value, (date, datetime, Decimal)):
        return value.isoformat() if not isinstance(value, Decimal) else str(value)
    raise TypeError(type(value).__name__)


# -- Jinja ------------------------------------------------------------------------------------------

VN_MONTH_PAD = 3  # Decree 30/2020: days 1-9 and months 1-2 are written with a leading zero


def date_line(place: str, on: date | None) -> str:
    """The place and date line of Decree 30/2020: "Hà Nội, ngày 05 tháng 02 năm 2026"."""
    if on is None:
        return f"{place}, ngày      tháng      năm 20    "
    day = f"{on.day:02d}"
    month = f"{on.month:02d}" if on.month < VN_MONTH_PAD else str(on.month)
    return f"{place}, ngày {day} tháng {month} năm {on.year}"


def vn_date(value) -> str:
    """A date as documents write it, dd/mm/yyyy (a moment: its day in Vietnam): artisan_awards/formatting.py."""
    return formatting.vn_date(value, with_time=False)


def percent(part, whole=None) -> str:
    """"90,91 %" (decimal comma, non-breaking space); empty when there is no whole: artisan_awards/formatting.py."""
    return formatting.percent(part, whole, locale="vi")


def number(value) -> str:
    """"1.234.567", as Vietnamese documents write numbers: artisan_awards/formatting.py."""
    return formatting.number(value, locale="vi")


def dots(value, width: int = 30) -> str:
    """A value, or a dotted line to fill in by hand."""
    if value is None or value == "":
        return "…" * width
    return str(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=True,
    )
    env.filters.update(vn_date=vn_date, percent=percent, number=number, dots=dots)
    env.globals.update(date_line=date_line, static=lambda name: STATIC_URL + name,
                       blob=lambda name: BLOB_URL + name)
    return env


_env = _environment()


def render_html(template: str, context: dict) -> str:
    """The HTML of one document part (``context`` must be plain data)."""
    return _env.get_template(template).render(plain(context))


# -- fetching -----------------------------------------------------------------------------------


@dataclass
class Blob:
    """Bytes a document may show (a photo), named by their hash, loaded only on a cache miss."""

    sha256: str
    load: Callable[[], bytes]
    content_type: str = "application/octet-stream"


class SafeFetcher(URLFetcher):
    """Serve ``static/pdf/`` files and the given blobs; refuse every other URL."""

    def __init__(self, blobs: dict[str, Blob] | None = None):
        super().__init__(allowed_protocols=("https",), allow_redirects=False, fail_on_errors=False)
        self.blobs = blobs or {}
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url, headers=None):
        try:
            response = self._fetch(url)
        except RefusedURL:
            self.refused.append(url)
            raise
        self.served.append(url)
        return response

    def _fetch(self, url: str) -> URLFetcherResponse:
        if url.startswith(STATIC_URL):
            parts = urlsplit(url)
            relative = posixpath.normpath(unquote(parts.path)[len("/static/"):])
            if parts.query or relative.startswith(("..", "/")) or "\\" in relative or "\x00" in relative:
                raise RefusedURL(f"refused: {url}")
            path = (STATIC_DIR / relative).resolve()
            if STATIC_DIR.resolve() not in path.parents or not path.is_file():
                raise RefusedURL(f"refused: {url}")
            content_type = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(
                path.suffix, "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        if url.startswith(BLOB_URL):
            blob = self.blobs.get(url[len(BLOB_URL):])
            if blob is None:
                raise RefusedURL(f"refused: {url}")
            return URLFetcherResponse(url, blob.load(), {"Content-Type": blob.content_type})
        raise RefusedURL(f"refused: {url}")


# -- rendering ----------------------------------------------------------------------------------


@dataclass
class Part:
    """One document inside a PDF: its template and plain data. Each part numbers its own pages."""

    template: str
    context: dict


@dataclass
class Appended:
    """A PDF file appended after the rendered parts (uploaded evidence)."""

    sha256: str
    load: Callable[[], bytes]
    title: str = ""
    content_type: str = ""  # embedded files: the MIME type recorded in the PDF (else guessed from the name)
    modified: datetime | None = None  # embedded files: when the file was received (else the build time)


@dataclass
class Spec:
    """Everything a PDF is made from."""

    parts: list[Part]
    variant: str | None = DEFAULT_VARIANT
    blobs: dict[str, Blob] = field(default_factory=dict)
    appended: list[Appended] = field(default_factory=list)
    embedded: list[Appended] = field(default_factory=list)  # files attached inside the PDF (PDF/A-3)
    title: str = ""
    cache: bool = True  # False: never written to disk (a receipt that shows the access key)
    # (reason, location, signing.Body): signed when that issuing body has a certificate configured
    sign: tuple | None = None


_fonts = threading.local()


def font_config():
    """This thread's WeasyPrint font configuration, made once and kept.

    Without one, WeasyPrint builds a new Fontconfig configuration and Pango font map for every
    render, and shapes every glyph again: reusing it made short documents about a fifth faster.
    The documents declare no ``@font-face`` (system fonts only), so nothing accumulates in it.
    One per thread, because a Pango font map is not shared across threads (documents are also
    rendered in worker threads).
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


STYLESHEET = STATIC_DIR / "decree30.css"
_stylesheet: list = [None, None]  # (the file's (size, mtime_ns), its parsed weasyprint.CSS)
_stylesheet_lock = threading.Lock()


def stylesheet() -> weasyprint.CSS:
    """The documents' stylesheet (``static/pdf/decree30.css``), parsed once per process and kept.

    Parsing it (tinycss2, then compiling every selector with cssselect2) took about 11 ms of each
    render, a tenth of a one-page document. The parsed sheet is only read while a document is laid
    out (selector matching, its ``@page`` rules), so one object serves every render and thread. It
    is parsed again when the file's size or modification time changes (an edit in development);
    the PDF cache's key already covers them (``templates_fingerprint``).

    The sheet declares no ``@font-face``, ``@counter-style``, ``@color-profile``, ``@import``,
    ``url()`` or ``!important`` (tests/test_documents.py checks it), so it fetches nothing while a
    document renders and holds no per-render state, and as WeasyPrint's "user" sheet it cascades
    exactly as the author sheet it was: the templates have no other sheet, and their ``style``
    attributes win over both. It is read through ``SafeFetcher`` like everything a document reads.
    """
    st = STYLESHEET.stat()
    stamp = (st.st_size, st.st_mtime_ns)
    cached = _stylesheet
    if cached[0] == stamp:
        return cached[1]
    with _stylesheet_lock:
        if _stylesheet[0] != stamp:
            # read through the documents' fetcher, the one door to files (static/pdf/ only)
            css = weasyprint.CSS(url=STATIC_URL + STYLESHEET.name, url_fetcher=SafeFetcher())
            _stylesheet[:] = [stamp, css]
        return _stylesheet[1]


def html_documents(spec: Spec, fetcher: SafeFetcher | None = None) -> list[weasyprint.Document]:
    fetcher = fetcher or SafeFetcher(spec.blobs)
    return [
        weasyprint.HTML(string=render_html(p.template, p.context), base_url=BASE_URL,
                        url_fetcher=fetcher).render(stylesheets=[stylesheet()], font_config=font_config())
        for p in spec.parts
    ]


@contextmanager
def older_objects_set_aside():
    """While WeasyPrint lays a document out, the cyclic garbage collector looks only at new objects.

    A layout creates millions of short-lived objects, so the collector runs often, and each full
    collection walks every object the process holds: the application, the ORM's loaded rows (250
    dossiers for a list), the templates. How many of those full walks land inside a render, and how
    big the heap is then, is what made the same dossier measure 1.36x raw WeasyPrint in one run and
    1.01-1.07x in others. ``gc.freeze()`` moves the objects that exist before the render to the
    permanent generation, which no collection walks, until ``gc.unfreeze()`` after it; the render's
    own garbage is collected as usual. (Threads: another render's unfreeze only ends this one's
    benefit early; nothing is lost, the objects set aside are collected after the unfreeze.)
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def build_pdf(spec: Spec, fetcher: SafeFetcher | None = None) -> bytes:
    """Render every part, join them (each keeps its own page numbers), append and embed files."""
    with older_objects_set_aside():
        return _build_pdf(spec, fetcher)


def _build_pdf(spec: Spec, fetcher: SafeFetcher | None = None) -> bytes:
    fetcher = fetcher or SafeFetcher(spec.blobs)
    documents = html_documents(spec, fetcher)
    joined = documents[0].copy([page for d in documents for page in d.pages])
    if spec.title:
        joined.metadata.title = spec.title
    options: dict = {"pdf_variant": spec.variant} if spec.variant else {}
    if spec.embedded:
        options["attachments"] = embedded_attachments(spec.embedded, fetcher)
    pdf = joined.write_pdf(**options)
    if spec.embedded and spec.variant:
        pdf = dedupe_associated_files(pdf)
    if spec.appended:
        pdf = append_pdfs(pdf, spec.appended)
    if spec.sign and signing.configured(spec.sign[2]):
        reason, location, body = spec.sign
        pdf = signing.sign(pdf, reason, location, body=body)
    return pdf


EMBEDDED_RELATIONSHIP = "Supplement"  # ISO 32000-2 7.11.3: evidence supplementing the rendered record


def embedded_attachments(files: Iterable[Appended], fetcher: SafeFetcher) -> list[weasyprint.Attachment]:
    """Each distinct file once (by SHA-256), under a name no other embedded file has.

    WeasyPrint writes the MD5 ``/CheckSum`` and ``/Size`` into the embedded file's ``/Params``
    and, for PDF/A-3, the ``/AF`` entry with its ``/AFRelationship``; the SHA-256 the upload was
    recorded with goes into the file specification's ``/Desc`` so that an archive can check it
    against the manifest without trusting MD5.
    """
    out, seen, names = [], set(), set()
    for item in files:
        if item.sha256 in seen:
            continue
        seen.add(item.sha256)
        name = unique_name(item.title or item.sha256[:12], names)
        names.add(name)
        when = item.modified or datetime.now().astimezone()
        out.append(weasyprint.Attachment(
            file_obj=io.BytesIO(item.load()), name=name, url_fetcher=fetcher,
            description=f"SHA-256: {item.sha256}", relationship=EMBEDDED_RELATIONSHIP,
            created=when, modified=when))
    return out


def ascii_name(name: str) -> str:
    """A file name in ASCII for the legacy ``/F`` entry: "Sản phẩm 1.jpg" -> "San pham 1.jpg"."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c)) or "file"


def dedupe_associated_files(pdf: bytes) -> bytes:
    """The catalogue's ``/AF`` with each file specification once, and the file names readable.

    WeasyPrint (70) lists every embedded file twice in ``/AF``: once from the ``/EmbeddedFiles``
    name tree and once from its scan of the file specifications. An archive's validator counts
    the associated files, so the array is rewritten with each object once, in the same order.
    WeasyPrint also writes the UTF-8 bytes of a Vietnamese name into ``/F`` and the name tree's
    keys, which readers show as "Sáº£n pháº©m"; ``/F`` becomes its ASCII form and each key the
    Unicode name (``/UF``), as ISO 32000 asks.
    """
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        af = doc.Root.get("/AF")
        if af is None:
            return pdf
        seen, kept = set(), []
        for item in af:
            ident = item.objgen if item.is_indirect else id(item)
            if ident not in seen:
                seen.add(ident)
                kept.append(item)
                if "/UF" in item:
                    item.F = pikepdf.String(ascii_name(str(item.UF)))
        doc.Root.AF = pikepdf.Array(kept)
        tree = doc.Root.get("/Names", {}).get("/EmbeddedFiles")
        if tree is not None and "/Names" in tree:
            pairs = []
            for i in range(0, len(tree.Names) - 1, 2):
                key, spec = tree.Names[i], tree.Names[i + 1]
                pairs.append((pikepdf.String(str(spec.UF)) if "/UF" in spec else key, spec))
            pairs.sort(key=lambda pair: bytes(pair[0]))  # a name tree's keys are in byte order
            tree.Names = pikepdf.Array([item for pair in pairs for item in pair])
        out = io.BytesIO()
        doc.save(out)
    return out.getvalue()


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name (2).ext``, ``name (3).ext``... when another file already has it."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem} ({n})" + (f".{ext}" if ext else "")
        if candidate not in taken:
            return candidate
        n += 1


def append_pdfs(pdf: bytes, files: Iterable[Appended]) -> bytes:
    """``pdf`` followed by the pages of ``files``; an unreadable file is skipped, never fatal.

    qpdf (through pikepdf) copies the pages object by object without re-parsing the rendered
    document in Python, which keeps a dossier close to the cost of WeasyPrint alone.
    """
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as main:
        for item in files:
            try:
                with pikepdf.open(io.BytesIO(item.load())) as other:
                    if other.is_encrypted:
                        continue
                    main.pages.extend(other.pages)
            except (pikepdf.PdfError, OSError, ValueError, KeyError):
                continue
        out = io.BytesIO()
        main.save(out)
    return out.getvalue()


# -- cache --------------------------------------------------------------------------------------


def templates_fingerprint() -> list:
    """Name, size and mtime of every template and stylesheet a document can use."""
    entries = []
    for base in (TEMPLATE_DIR, STATIC_DIR):
        for path in sorted(base.rglob("*")):
            if path.is_file():
                st = path.stat()
                entries.append([str(path.relative_to(ROOT)), st.st_size, st.st_mtime_ns])
    return entries


def cache_key(spec: Spec) -> str:
    payload = {
        "engine": ENGINE_VERSION,
        "weasyprint": weasyprint.__version__,
        "templates": templates_fingerprint(),
        "variant": spec.variant,
        "title": spec.title,
        "parts": [[p.template, plain(p.context)] for p in spec.parts],
        "blobs": {name: b.sha256 for name, b in sorted(spec.blobs.items())},
        "appended": [[a.sha256, a.title] for a in spec.appended],
        "embedded": [[a.sha256, a.title] for a in spec.embedded],
        "signer": signing.signer_fingerprint(spec.sign[2]) if spec.sign else None,
    }
    raw = json.dumps(payload, sort_keys=True, default=_json_default, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def cache_dir() -> Path | None:
    """Where PDFs are cached (``DOCUMENTS_CACHE_DIR``, default ``<instance>/documents``); None: off."""
    if not has_app_context():
        return None
    config = current_app.config
    if config.get("DOCUMENTS_CACHE", True) is False:
        return None
    return Path(config.get("DOCUMENTS_CACHE_DIR") or os.path.join(current_app.instance_path, "documents"))


@dataclass
class Result:
    pdf: bytes
    key: str
    cached: bool


def produce(spec: Spec) -> Result:
    """The PDF for ``spec``: from the cache when its inputs are unchanged, else rendered and stored."""
    key = cache_key(spec)
    directory = cache_dir() if spec.cache else None
    path = directory / key[:2] / f"{key}.pdf" if directory else None
    if path is not None:
        try:
            pdf = path.read_bytes()
            os.utime(path)  # recently used: ``prune_cache`` removes the least recently used first
            return Result(pdf, key, True)
        except FileNotFoundError:
            pass
    pdf = build_pdf(spec)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        os.replace(tmp, path)
    return Result(pdf, key, False)


@dataclass
class Pruned:
    removed: int
    freed: int
    kept: int
    kept_bytes: int


def prune_cache(directory: Path, *, older_than: float | None = None, max_bytes: int | None = None,
                now: float | None = None) -> Pruned:
    """Remove cached PDFs unused for ``older_than`` seconds, then the least recently used until the
    cache holds at most ``max_bytes``. Every entry can be rendered again, so removing one is safe."""
    now = time.time() if now is None else now
    entries = []
    for path in directory.glob("*/*.pdf") if directory.is_dir() else ():
        try:
            st = path.stat()
        except FileNotFoundError:  # removed by a concurrent prune
            continue
        entries.append((st.st_mtime, st.st_size, path))
    entries.sort()  # least recently used first
    total = sum(size for _m, size, _p in entries)
    removed = freed = 0
    for mtime, size, path in entries:
        too_old = older_than is not None and now - mtime > older_than
        too_big = max_bytes is not None and total > max_bytes
        if not (too_old or too_big):
            continue
        path.unlink(missing_ok=True)
        total -= size
        removed += 1
        freed += size
    if older_than is not None:  # look-ups by inputs (documents/freshness.py): tiny, re-made on a miss
        for ref in directory.glob("inputs/*/*.ref") if directory.is_dir() else ():
            try:
                if now - ref.stat().st_mtime > older_than:
                    ref.unlink(missing_ok=True)
            except FileNotFoundError:
                continue
    return Pruned(removed, freed, len(entries) - removed, total)
