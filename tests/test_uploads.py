"""Hostile uploads: disguised programs, bombs, oversized images, bad names; and who may download.

Files are made for real (Pillow, pikepdf, zipfile, hand-built ELF/PE headers) and sent through the
API and the applicant's page; the storage is checked on disk and in the database.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pikepdf
import pytest
import sqlalchemy as sa
from PIL import Image

from artisan_awards import storage as storage_mod
from artisan_awards.extensions import db
from artisan_awards.models import Attachment
from artisan_awards.services.attachments import safe_filename
from artisan_awards.storage import StoredFile
from tests.test_api import assert_error, is_vietnamese, pdf_bytes, png_bytes, upload
from workflows.states import State

KEY = re.compile(r"^[0-9a-f]{32}\.(pdf|png|jpg|webp)$")


def attachment_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attachment))


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(root.iterdir()) if root.is_dir() else []


# -- files to send ----------------------------------------------------------------------------


def elf_bytes() -> bytes:
    """The start of a 64-bit Linux executable."""
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\x00" * 8
    header += struct.pack("<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    return header + b"\x00" * 512


def pe_bytes() -> bytes:
    """A DOS stub pointing at a PE header: a Windows program."""
    dos = bytearray(b"MZ" + b"\x00" * 126)
    dos[0x3C:0x40] = struct.pack("<I", 128)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + b"\x00" * 400


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("payload.exe", elf_bytes())
    return buffer.getvalue()


def image_bytes(width: int, height: int, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 90, 40)).save(buffer, format=fmt)
    return buffer.getvalue()


def noise_image(width: int, height: int, fmt: str = "PNG", seed: int = 1) -> bytes:
    """An image that does not compress: its stored size stays large after re-encoding."""
    rng = random.Random(seed)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3)).save(buffer, format=fmt)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: the classic decompression bomb."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def make_pdf(pages: int = 1, build=None, **save) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    if build:
        build(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer, **save)
    return buffer.getvalue()


def with_bomb_stream(size: int):
    def build(pdf):
        stream = pikepdf.Stream(pdf, zlib.compress(b"\x00" * size, 9))
        stream.Filter = pikepdf.Name.FlateDecode
        pdf.pages[0].obj.Contents = pdf.make_indirect(stream)
    return build


def with_image(width: int, height: int):
    def build(pdf):
        image = pikepdf.Stream(pdf, b"\x00" * 16)
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height = width, height
        image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 1
        pdf.pages[0].obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=pdf.make_indirect(image)))
    return build


def with_javascript(pdf):
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript,
                                                               JS=pikepdf.String("app.alert(1)")))


def with_launch(pdf):
    pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.Launch,
                                                               F=pikepdf.String("cmd.exe")))


# -- content sniffing -------------------------------------------------------------------------


@pytest.mark.parametrize("content", [elf_bytes(), pe_bytes(), zip_bytes()], ids=["elf", "pe", "zip"])
@pytest.mark.parametrize("kind, filename", [("certificate", "bang-khen.pdf"), ("photo", "anh.jpg"),
                                            ("other", "video.mp4")])
def test_renamed_programs_and_archives_are_refused(api, make, people, app, content, kind, filename):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, content, filename, kind), 422, "validation_failed")
    assert is_vietnamese(err["fields"]["file"])
    assert attachment_count() == 0 and stored_files(app) == []


def test_the_applicant_page_refuses_a_renamed_program_with_a_message(client, auth, make, app):
    user = auth.login_as("applicant")
    n = make.nomination(State.DRAFT, owner=user)
    r = client.post(f"/my/{n.id}/evidence", data={"kind": "certificate", "upload": "1",
                                                          "file": (io.BytesIO(elf_bytes()), "quyet-dinh.pdf")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert r.status_code == 200
    assert "Định dạng tệp không được chấp nhận" in r.get_data(as_text=True)
    assert attachment_count() == 0 and stored_files(app) == []


def test_the_display_name_takes_the_extension_of_the_content(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, pdf_bytes(), "chay-toi.exe", "certificate")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["name"] == "chay-toi.pdf"
    r = upload(api, n.id, people.applicant, image_bytes(10, 10, "JPEG"), "anh.png", "photo")
    assert (r.get_json()["name"], r.get_json()["content_type"]) == ("anh.jpg", "image/jpeg")


# -- limits ---------------------------------------------------------------------------------------


def test_per_dossier_size_limit(api, make, people, app):
    app.config["MAX_DOSSIER_BYTES"] = 1024 * 1024
    n = make.nomination(State.DRAFT, owner=people.applicant)
    # Images are re-encoded before they are counted (trailing junk would vanish): real pixels.
    content = noise_image(450, 450)
    assert len(content) > 512 * 1024
    assert upload(api, n.id, people.applicant, content, "a.png").status_code == 201
    err = assert_error(upload(api, n.id, people.applicant, noise_image(450, 450, seed=2), "b.png"), 413,
                       "dossier_too_large")
    assert is_vietnamese(err["message"]) and "1 MB" in err["message"]
    assert attachment_count() == 1
    # Another dossier has its own allowance.
    other = make.nomination(State.DRAFT, owner=people.applicant)
    assert upload(api, other.id, people.applicant, content, "c.png").status_code == 201


def test_the_applicant_page_uploads_and_enforces_the_dossier_limit(client, auth, make, app):
    app.config["MAX_DOSSIER_BYTES"] = 1024 * 1024
    user = auth.login_as("applicant")
    n = make.nomination(State.DRAFT, owner=user)
    photos = iter([noise_image(450, 450, seed=3), noise_image(450, 450, seed=4)])  # ~600 KB each, stored

    def send(name):
        return client.post(f"/my/{n.id}/evidence", data={"kind": "photo", "upload": "1",
                                                         "file": (io.BytesIO(next(photos)), name)},
                           content_type="multipart/form-data", headers={"Referer": f"/my/{n.id}/evidence"},
                           follow_redirects=True)

    assert "Đã tải lên tài liệu" in send("san-pham.png").get_data(as_text=True)
    refused = send("san-pham-2.png")
    assert refused.status_code == 200
    assert "Tổng dung lượng tệp của hồ sơ vượt quá 1 MB" in refused.get_data(as_text=True)
    assert attachment_count() == 1 and len(stored_files(app)) == 1


def test_per_dossier_file_count_limit(api, make, people, app):
    app.config["MAX_DOSSIER_FILES"] = 2
    n = make.nomination(State.DRAFT, owner=people.applicant)
    for name in ("a.png", "b.png"):
        assert upload(api, n.id, people.applicant, png_bytes(), name).status_code == 201
    assert_error(upload(api, n.id, people.applicant, png_bytes(), "c.png"), 413, "too_many_files")


# -- images ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (60_000, 1_000), (8_000, 8_000)])
def test_decompression_bomb_images_are_refused(api, make, people, app, width, height):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    bomb = png_claiming(width, height)
    assert len(bomb) < 2000
    err = assert_error(upload(api, n.id, people.applicant, bomb, "bom.png"), 422, "validation_failed")
    assert "50 triệu điểm ảnh" in err["fields"]["file"]
    assert attachment_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("fmt, mime", [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")])
def test_pixel_limit_from_config(api, make, people, app, fmt, mime):
    app.config["MAX_IMAGE_PIXELS"] = 40_000
    n = make.nomination(State.DRAFT, owner=people.applicant)
    ok = upload(api, n.id, people.applicant, image_bytes(200, 200, fmt), "vua.img")
    assert ok.status_code == 201 and ok.get_json()["content_type"] == mime
    too_big = upload(api, n.id, people.applicant, image_bytes(201, 200, fmt), "lon.img")
    assert "điểm ảnh" in assert_error(too_big, 422)["fields"]["file"]


def test_damaged_image_is_refused(api, make, people):
    good = png_bytes(40, 40)
    damaged = good[:40] + bytes(b ^ 0xFF for b in good[40:60]) + good[60:]
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, damaged, "hong.png"), 422)
    assert "hỏng" in err["fields"]["file"]


# -- PDFs -------------------------------------------------------------------------------------


def test_a_real_pdf_of_several_pages_is_accepted(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    assert upload(api, n.id, people.applicant, make_pdf(5), "ho-so.pdf", "certificate").status_code == 201


@pytest.mark.parametrize(
    "content, words",
    [
        (make_pdf(1, with_bomb_stream(40 * 1024 * 1024)), "giải nén ra quá lớn"),
        (make_pdf(1, with_image(100_000, 100_000)), "Ảnh trong tệp PDF quá lớn"),
        (make_pdf(1, encryption=pikepdf.Encryption(owner="chu", user="khach")), "mã hóa"),
        (make_pdf(1, encryption=pikepdf.Encryption(owner="chu", user="")), "mã hóa"),
        (make_pdf(4), "từ 1 đến 3 trang"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 200, "hỏng"),
    ],
    ids=["flate-bomb", "huge-image", "encrypted", "encrypted-no-password",
         "too-many-pages", "garbage"],
)
def test_hostile_pdfs_are_refused(api, make, people, app, content, words):
    app.config.update(PDF_MAX_EXPANDED_BYTES=10 * 1024 * 1024, PDF_MAX_PAGES=3)
    assert len(content) < app.config["MAX_UPLOAD_BYTES"]
    n = make.nomination(State.DRAFT, owner=people.applicant)
    err = assert_error(upload(api, n.id, people.applicant, content, "tai-lieu.pdf", "certificate"), 422)
    assert words in err["fields"]["file"], err
    assert attachment_count() == 0 and stored_files(app) == []


@pytest.mark.parametrize("build, removed", [(with_javascript, ["actions", "javascript"]),
                                            (with_launch, ["actions", "links"])], ids=["javascript", "launch"])
def test_scripts_and_launch_actions_are_stripped_not_stored(api, make, people, build, removed):
    # Formerly refused; now the file is rewritten without them (tests/test_hostile_pdfs.py has the corpus).
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, make_pdf(1, build), "tai-lieu.pdf", "certificate")
    assert r.status_code == 201 and r.get_json()["removed"] == removed
    stored = storage_mod.storage().get(db.session.get(Attachment, r.get_json()["id"]).stored_name)
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert "/OpenAction" not in pdf.Root and len(pdf.pages) == 1


def test_a_large_but_honest_flate_stream_passes(api, make, people, app):
    app.config["PDF_MAX_EXPANDED_BYTES"] = 10 * 1024 * 1024
    n = make.nomination(State.DRAFT, owner=people.applicant)
    content = make_pdf(1, with_bomb_stream(9 * 1024 * 1024))
    assert upload(api, n.id, people.applicant, content, "dai.pdf", "certificate").status_code == 201


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given, mime, expected",
    [
        ("../../etc/passwd.pdf", "application/pdf", "passwd.pdf"),
        ("..\\..\\Windows\\win.ini", "application/pdf", "win.pdf"),
        ("C:\\Users\\x\\ảnh.jpg", "image/jpeg", "ảnh.jpg"),
        ("bao\x00cao\x1b[31m.pdf", "application/pdf", "baocao[31m.pdf"),
        ("hoa-don\u202egpj.exe", "application/pdf", "hoa-dongpj.pdf"),
        ("a\tb\nc  d.pdf", "application/pdf", "a b c d.pdf"),
        ("CON.pdf", "application/pdf", "_CON.pdf"),
        ("lpt1.tar.pdf", "application/pdf", "_lpt1.tar.pdf"),
        ("...", "application/pdf", "tep-dinh-kem.pdf"),
        ("", "image/png", "tep-dinh-kem.png"),
        ('a<b>c:"d"|e?f*.pdf', "application/pdf", "abcdef.pdf"),
        ("bien ban.hop.2024", "application/pdf", "bien ban.hop.2024.pdf"),
        ("ANH.JPEG", "image/jpeg", "ANH.JPEG"),
        (".htaccess", "application/pdf", "htaccess.pdf"),
    ],
)
def test_safe_filename(given, mime, expected):
    assert safe_filename(given, mime) == expected


def test_safe_filename_composes_nfd_and_bounds_long_names():
    nfd = unicodedata.normalize("NFD", "Bằng khen Nghệ nhân.pdf")
    assert safe_filename(nfd, "application/pdf") == unicodedata.normalize("NFC", "Bằng khen Nghệ nhân.pdf")
    long = "Nghệ nhân ưu tú " * 100 + ".pdf"
    name = safe_filename(long, "application/pdf")
    assert name.endswith(".pdf") and len(name) <= 200 and len(name.encode()) <= 240
    assert unicodedata.is_normalized("NFC", name)


def test_names_arrive_sanitised_through_the_api(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    nfd = unicodedata.normalize("NFD", "../../Quyết định\u202e.pdf")
    r = upload(api, n.id, people.applicant, pdf_bytes(), nfd, "award_decision")
    assert r.get_json()["name"] == unicodedata.normalize("NFC", "Quyết định.pdf")


# -- storage and download ---------------------------------------------------------------------------


@pytest.fixture(params=["local", "database"])
def backend(request, app):
    app.config["STORAGE_BACKEND"] = request.param
    app.extensions.pop("artisan_storage", None)
    return request.param


def test_files_are_stored_under_random_names_outside_the_web_root(api, make, people, app, backend):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    content = pdf_bytes()
    r = upload(api, n.id, people.applicant, content, "bang-khen-goc.pdf", "certificate")
    assert r.status_code == 201
    row = db.session.get(Attachment, r.get_json()["id"])
    assert KEY.match(row.stored_name) and "bang-khen" not in row.stored_name
    assert row.stored_name not in r.get_data(as_text=True)
    static = Path(app.static_folder).resolve()
    # What is stored is the clean rewrite of the upload (services/cleaning.py), described by the row.
    if backend == "local":
        [path] = stored_files(app)
        stored = path.read_bytes()
        assert path.name == row.stored_name
        assert static not in path.resolve().parents
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StoredFile)) == 0
    else:
        assert stored_files(app) == []
        blob = db.session.get(StoredFile, row.stored_name)
        stored = bytes(blob.data)
        assert blob.size == len(stored)
    assert hashlib.sha256(stored).hexdigest() == row.sha256 and row.size == len(stored)
    with pikepdf.open(io.BytesIO(stored)) as pdf, pikepdf.open(io.BytesIO(content)) as sent:
        assert len(pdf.pages) == len(sent.pages) == 1
        assert list(pdf.pages[0].mediabox) == list(sent.pages[0].mediabox)
    # Nothing under the static route serves it.
    assert api.client.get(f"/static/{row.stored_name}").status_code == 404


def download_url(nomination_id: int, attachment_id: int) -> str:
    return f"/nominations/{nomination_id}/attachments/{attachment_id}"


def test_download_headers_and_who_may_download(client, auth, api, make, people, backend):
    n = make.nomination(State.SUBMITTED, owner=people.applicant, officer=people.officer)
    content = image_bytes(30, 20, "JPEG")
    name = "Ảnh sản phẩm.jpg"
    r = upload(api, n.id, people.applicant, content, name, "photo")
    url = download_url(n.id, r.get_json()["id"])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user, status in [(people.applicant, 200), (people.officer, 200), (people.officer_hpg, 404),
                         (people.other_applicant, 404)]:
        auth.login(user.email)
        got = client.get(url)
        assert got.status_code == status, (user.email, got.status_code)
        if status == 200:
            assert got.data == content
            assert got.headers["Content-Type"] == "image/jpeg"
            assert got.headers["X-Content-Type-Options"] == "nosniff"
            disposition = got.headers["Content-Disposition"]
            assert disposition.startswith("attachment;")
            assert "filename*=UTF-8''%E1%BA%A2nh%20s%E1%BA%A3n%20ph%E1%BA%A9m.jpg" in disposition
            assert "sandbox" in got.headers["Content-Security-Policy"]
            assert "no-store" in got.headers["Cache-Control"]
        auth.logout()
    # The attachment of one dossier is not reachable through another's URL.
    auth.login(people.applicant.email)
    other = make.nomination(State.DRAFT, owner=people.applicant)
    assert client.get(download_url(other.id, r.get_json()["id"])).status_code == 404


def test_delete_removes_the_stored_file(client, auth, api, make, people, app, backend):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, pdf_bytes(), "x.pdf", "certificate")
    key = db.session.get(Attachment, r.get_json()["id"]).stored_name
    assert storage_mod.storage().keys() == [key]
    auth.login(people.applicant.email)
    gone = client.post(f"/my/{n.id}/evidence/{r.get_json()['id']}/delete")
    assert gone.status_code == 302
    assert storage_mod.storage().keys() == []
    assert attachment_count() == 0


def test_dossier_pdf_reads_evidence_from_the_database_backend(client, auth, api, make, people, app):
    app.config["STORAGE_BACKEND"] = "database"
    app.extensions.pop("artisan_storage", None)
    n = make.nomination(State.DRAFT, owner=people.applicant)
    assert upload(api, n.id, people.applicant, make_pdf(2), "bang-khen.pdf", "certificate").status_code == 201
    assert stored_files(app) == []
    from artisan_awards.documents.service import _pdf_evidence

    [appended] = _pdf_evidence(n)
    with pikepdf.open(io.BytesIO(appended.load())) as pdf:
        assert len(pdf.pages) == 2


def test_unknown_storage_backend_is_a_clear_error(app):
    app.config["STORAGE_BACKEND"] = "ftp"
    app.extensions.pop("artisan_storage", None)
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND='ftp'"):
        storage_mod.storage()


def test_storage_keys_cannot_escape_the_folder(tmp_path):
    local = storage_mod.LocalStorage(tmp_path / "up")
    for key in ("../x.pdf", "/etc/passwd", "a" * 32 + ".pdf/../../x", "A" * 32 + ".pdf"):
        with pytest.raises(storage_mod.StorageError):
            local.put(key, b"x")
    assert not (tmp_path / "x.pdf").exists()


def test_a_lost_file_is_a_404_not_a_server_error(client, auth, api, make, people, app, backend):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, pdf_bytes(), "x.pdf", "certificate")
    key = db.session.get(Attachment, r.get_json()["id"]).stored_name
    if backend == "local":
        (Path(app.config["UPLOAD_DIR"]) / key).unlink()
    else:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.key == key))
        db.session.commit()
    auth.login(people.applicant.email)
    assert client.get(download_url(n.id, r.get_json()["id"])).status_code == 404


def test_storage_check_finds_missing_and_prunes_orphans(runner, api, make, people, app, backend):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    keys = []
    for name in ("a.pdf", "b.pdf"):
        r = upload(api, n.id, people.applicant, pdf_bytes(), name, "certificate")
        keys.append(db.session.get(Attachment, r.get_json()["id"]).stored_name)
    store = storage_mod.storage()
    orphan = storage_mod.new_key(".pdf")
    store.put(orphan, b"%PDF-1.4 left behind by a crash")
    db.session.commit()
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 0 and "3 files, 1 without a row, 0 rows without a file" in result.output
    # On disk a fresh orphan may be an upload in progress: kept unless old enough. In the database
    # a file and its row commit together, so an orphan there is never in progress.
    result = runner.invoke(args=["storage", "check", "--prune", "--older-than", "60"])
    if backend == "local":
        assert orphan in store.keys()
        result = runner.invoke(args=["storage", "check", "--prune", "--older-than", "0"])
    assert "removed 1 files" in result.output and orphan not in store.keys()
    # A row whose file is gone is reported, and the command fails.
    if backend == "local":
        store.purge(keys[0])
    else:
        store.delete(keys[0])
        db.session.commit()
    result = runner.invoke(args=["storage", "check"])
    assert result.exit_code == 1 and f"MISSING {keys[0]}" in result.output


# -- images are re-encoded --------------------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    """A 40×20 JPEG carrying GPS and camera EXIF, turned by the Orientation tag (6: 90° clockwise)."""
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "Camera of the applicant"  # Make
    exif[0x8825] = {1: "N", 2: (21.0, 1.0, 28.0)}  # GPS
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def png_with_text() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>GPS 21.0 105.8</x:xmpmeta>")
    buffer = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 255, 128)).save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def stored_image(api, make, people, content, name):
    n = make.nomination(State.DRAFT, owner=people.applicant)
    r = upload(api, n.id, people.applicant, content, name, "photo")
    assert r.status_code == 201, r.get_json()
    return storage_mod.storage().get(db.session.get(Attachment, r.get_json()["id"]).stored_name)


def test_photos_are_stored_without_exif_and_turned_upright(api, make, people):
    stored = stored_image(api, make, people, jpeg_with_exif(), "anh.jpg")
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG" and image.size == (20, 40)  # the turn is in the pixels now
        assert not image.getexif() and "exif" not in image.info
    assert b"Camera of the applicant" not in stored


def test_png_text_and_xmp_chunks_are_dropped(api, make, people):
    stored = stored_image(api, make, people, png_with_text(), "anh.png")
    assert b"<script>" not in stored and b"xmpmeta" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (30, 30) and image.mode == "RGBA" and image.getpixel((5, 5)) == (0, 0, 255, 128)


def test_control_without_the_reencoding_metadata_is_stored(api, make, people, monkeypatch):
    from artisan_awards.services import cleaning

    monkeypatch.setattr(cleaning, "clean_image", lambda data, mime: data)
    assert b"Camera of the applicant" in stored_image(api, make, people, jpeg_with_exif(), "anh.jpg")
    assert b"<script>" in stored_image(api, make, people, png_with_text(), "anh.png")
