"""The official documents as PDFs: read back with pypdf, safe against hostile values, cached, guarded."""

from __future__ import annotations

import io
import os
import re
import time
import unicodedata
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader

from artisan_awards import storage
from artisan_awards.documents import data, engine, service
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, Round, User
from tests.apps import module_world
from tests.factories import Factory
from tests.test_councils import Chain
from workflows.states import State

MERIT = {"decision_no": "123/QĐ-CTN", "decision_date": "2019-08-30", "field": "handicraft"}


def text_of(pdf: bytes, pages: slice = slice(None)) -> str:
    """The PDF's text, NFC, whitespace collapsed (line wraps become spaces).

    Page numbers (a last line of digits: the top margin box, drawn last) and the zero-width
    spaces that let a hostile unbroken run wrap are dropped, so text flowing over pages reads
    back whole.
    """
    reader = PdfReader(io.BytesIO(pdf))
    pages_text = []
    for page in reader.pages[pages]:
        lines = (page.extract_text() or "").rstrip().splitlines()
        if lines and lines[-1].strip().isdigit():
            lines = lines[:-1]
        pages_text.append("\n".join(lines))
    raw = " ".join(pages_text).replace("\u200b", "")
    return " ".join(unicodedata.normalize("NFC", raw).split())


def squeeze(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def assert_pdf(response, status: int = 200) -> bytes:
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return response.data


class WorldApi:
    """The API as a module world's builder calls it (tests/conftest.py ``ApiClient``: a bearer token per user)."""

    def __init__(self, client):
        self.client, self.tokens = client, {}

    def post(self, path, user, **kw):
        if user.id not in self.tokens:
            r = self.client.post("/api/v1/auth/token", json={"email": user.email, "password": Factory.PASSWORD})
            assert r.status_code == 200, r.get_json()
            self.tokens[user.id] = r.get_json()["token"]
        return self.client.post(path, headers={"Authorization": f"Bearer {self.tokens[user.id]}"}, **kw)


def world_chain_ids(chain) -> dict:
    """What ``world_chain`` needs to take up a chain built in a module world."""
    return {"officer": chain.officer.id, "ministry": chain.ministry.id, "government": chain.government.id,
            "round": chain.round.id}


def world_chain(api, make, ids: dict) -> Chain:
    """The chain of a module world (its officers and round) in this test's copy of that world."""
    chain = Chain.__new__(Chain)
    chain.api, chain.make = api, make
    for role in ("officer", "ministry", "government"):
        setattr(chain, role, db.session.get(User, ids[role]))
    chain.round = db.session.get(Round, ids["round"])
    return chain


def _build_closed() -> SimpleNamespace:
    """A closed provincial session (``_closed_session``: two dossiers, ten of eleven voting yes)."""
    from flask import current_app

    chain = Chain(WorldApi(current_app.test_client()), Factory())
    sid, a, b = _closed_session(chain)
    return SimpleNamespace(chain=world_chain_ids(chain), sid=sid, a=a.id, b=b.id)


# The closed session built once for the module (real commits, through the API as before). A test that asks
# for ``closed`` gets a copy of it, any other an empty database of its own: what one test changes no other sees.
closed_world, app_config = module_world(_build_closed, "closed-world", fixture="closed_world", asked_by="closed",
                                        TODAY=None)


@pytest.fixture
def chain(request, api, make, app, tmp_path):
    app.config["TODAY"] = None
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    if "closed" in request.fixturenames:
        return world_chain(api, make, request.getfixturevalue("closed_world").value.chain)
    return Chain(api, make)


@pytest.fixture
def closed(chain, closed_world):
    """``_closed_session(chain)``'s session id and its two dossiers, in this test's copy of the world."""
    world = closed_world.value
    return world.sid, db.session.get(Nomination, world.a), db.session.get(Nomination, world.b)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (80, 60), (160, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _evidence_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string="<p>Quyết định tặng Bằng khen số 99/QĐ-UBND của Ủy ban nhân dân</p>").write_pdf()


def _upload(api, user, nomination, kind, name, content):
    r = api.post(f"/api/v1/nominations/{nomination.id}/attachments", user,
                 data={"kind": kind, "file": (io.BytesIO(content), name)},
                 content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()


# -- per nomination -----------------------------------------------------------------------------


def test_declaration_people_is_form_01_filled_from_the_dossier(chain, api):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(State.SUBMITTED, owner=owner, title="people", meritorious_title=MERIT,
                              nominee={"full_name": "Đặng Thị Ngọc Ánh", "hometown": "Xã Bát Tràng, Hà Nội"},
                              craft="Gốm sứ men rạn")
    text = text_of(assert_pdf(api.get(f"/api/v1/nominations/{n.id}/declaration.pdf", owner)))
    for expected in ("Mẫu số 01", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "BẢN KHAI THÀNH TÍCH", "“Nghệ nhân nhân dân”", "Đặng Thị Ngọc Ánh", "Gốm sứ men rạn",
                     "Thành phố Hà Nội", "Quyết định số 123/QĐ-CTN ngày 30/08/2019", "01/05/1960",
                     "Xóm 3, xã Bát Tràng, Hà Nội", "Bình gốm men lam", "Giải Nhất cấp quốc gia",
                     "Bộ Công Thương, 01/09/2021", "180", "Xưởng gốm Bát Tràng", "Tôi xin cam đoan"):
        assert squeeze(expected) in text, expected


def test_declaration_meritorious_is_form_02_and_summary_is_form_10(chain, api):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(State.SUBMITTED, owner=owner, nominee={"full_name": "Lường Văn Thắm"},
                              craft="Dệt thổ cẩm")
    text = text_of(assert_pdf(api.get(f"/api/v1/nominations/{n.id}/declaration.pdf", owner)))
    assert "Mẫu số 02" in text and "“Nghệ nhân ưu tú”" in text and "Lường Văn Thắm" in text
    assert "Mẫu số 01" not in text
    summary = text_of(assert_pdf(api.get(f"/api/v1/nominations/{n.id}/summary.pdf", owner)))
    for expected in ("Mẫu số 10", "TÓM TẮT THÀNH TÍCH", "Lường Văn Thắm", "Dệt thổ cẩm", "Hà Nội", n.code,
                     "20 năm (từ năm 1985)"):
        assert expected in summary, expected


def test_dossier_appends_pdf_evidence_and_embeds_photos(chain, api, client, auth):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner, nominee={"full_name": "Hà Văn Sơn"})
    _upload(api, owner, n, "photo", "bình gốm.png", _png())
    _upload(api, owner, n, "award_decision", "bang-khen.pdf", _evidence_pdf())
    chain.act(n, "submit", owner)
    pdf = assert_pdf(api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", owner))
    reader = PdfReader(io.BytesIO(pdf))
    text = text_of(pdf)
    for expected in ("Mẫu số 02", "Mẫu số 10", "DANH MỤC TÀI LIỆU MINH CHỨNG", "bình gốm.png", "bang-khen.pdf",
                     "Đóng kèm sau danh mục", "Ảnh in kèm", "Ảnh 1: bình gốm.png", "Hà Văn Sơn"):
        assert expected in text, expected
    # The uploaded PDF comes last, page for page.
    assert "Quyết định tặng Bằng khen số 99/QĐ-UBND" in text_of(pdf, slice(-1, None))
    # The photo is drawn on a page of the evidence part.
    images = [img for page in reader.pages for img in page.images]
    assert images, "the photo is embedded"
    # The same document from the page the owner looks at.
    auth.login(owner.email)
    page = client.get(f"/nominations/{n.id}")
    assert f"/nominations/{n.id}/dossier.pdf" in page.get_data(as_text=True)
    assert text_of(assert_pdf(client.get(f"/nominations/{n.id}/dossier.pdf"))) == text


def test_archival_dossier_is_pdf_a_3b_with_the_evidence_attached(chain, api):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner)
    _upload(api, owner, n, "certificate", "giay-chung-nhan.pdf", _evidence_pdf())
    chain.act(n, "submit", owner)
    pdf = assert_pdf(api.get(f"/api/v1/nominations/{n.id}/dossier.pdf?archival=1", owner))
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp) and re.search(r'pdfaid:conformance(="|>)B', xmp), xmp
    assert "/OutputIntents" in reader.trailer["/Root"]
    assert "giay-chung-nhan.pdf" in reader.attachments
    assert "Quyết định tặng Bằng khen" not in text_of(pdf)  # attached, not appended


def test_receipt_carries_the_code_and_the_qr_code_of_the_status_page(chain, api, client, auth, monkeypatch):
    served = []
    original = engine.SafeFetcher.fetch
    monkeypatch.setattr(engine.SafeFetcher, "fetch",
                        lambda self, url, headers=None: served.append(url) or original(self, url, headers))
    owner = auth.login_as("applicant")
    n = chain.make.nomination(owner=owner)
    r = client.post(f"/nominations/{n.id}/actions/submit", data={"comment": "", "commitment": "y"})
    assert r.status_code == 302
    db.session.refresh(n)
    receipt_page = client.get(f"/my/{n.id}/receipt").get_data(as_text=True)
    assert f"/nominations/{n.id}/receipt.pdf" in receipt_page
    key = client.get(f"/my/{n.id}/receipt")  # the key shown on the page is printed on the PDF too
    pdf = assert_pdf(client.get(f"/nominations/{n.id}/receipt.pdf"))
    text = text_of(pdf)
    for expected in ("GIẤY BIÊN NHẬN HỒ SƠ", n.code, "Mã tra cứu", "Nguyễn Văn Ánh", "Gốm sứ",
                     "SỞ CÔNG THƯƠNG", "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "/public/status"):
        assert expected in text, expected
    assert key.status_code == 200
    assert engine.BLOB_URL + "qr" in served  # the QR code (an SVG drawn as vector paths)
    # Later, from the API: the same receipt without the access key (it is shown once only).
    later = text_of(assert_pdf(api.get(f"/api/v1/nominations/{n.id}/receipt.pdf", owner)))
    assert n.code in later and "Mã tra cứu:" not in later


def test_qr_code_encodes_the_status_url(app):
    with app.test_request_context():
        url = service.status_url("NN-2026-HNI-00001", "ABCD-EFGH")
        assert url.endswith("/public/status?code=NN-2026-HNI-00001")
        assert "ABCD" not in url and "key=" not in url  # the key never in a URL (history, logs)
        svg = service.qr_svg(url).decode()
    assert svg.startswith("<?xml") and "<svg" in svg and "path" in svg


def test_draft_has_no_receipt(chain, api):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner)
    assert api.get(f"/api/v1/nominations/{n.id}/receipt.pdf", owner).status_code == 404


def test_nomination_documents_follow_the_visibility_rules(chain, api, client, auth):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(State.SUBMITTED, owner=owner)
    hanoi = chain.officer
    other_province = chain.make.user("province_officer", "HPG")
    stranger = chain.make.user("applicant")
    admin = chain.make.user("admin")
    assert api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", hanoi).status_code == 200
    assert api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", admin).status_code == 200
    # a ministry officer sees a dossier from its arrival at the ministry on (tests/test_route_matrix.py)
    for user in (other_province, stranger, chain.ministry):
        r = api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", user)
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "nomination_not_found"
    assert api.get(f"/api/v1/nominations/{n.id}/dossier.pdf").status_code == 401
    assert api.get("/api/v1/nominations/999999/dossier.pdf", hanoi).status_code == 404
    auth.login(other_province.email)
    for kind in ("declaration", "summary", "dossier", "receipt"):
        assert client.get(f"/nominations/{n.id}/{kind}.pdf").status_code == 404
    draft = chain.make.nomination(owner=owner)
    assert api.get(f"/api/v1/nominations/{draft.id}/dossier.pdf", hanoi).status_code == 404
    assert api.get(f"/api/v1/nominations/{draft.id}/dossier.pdf", owner).status_code == 200


# -- hostile values ---------------------------------------------------------------------------------

HOSTILE = '<img src=file:///etc/passwd> <script>alert(1)</script> <link rel=stylesheet href="http://evil.example/x.css">'


def test_hostile_values_render_as_text_and_read_nothing(chain, api, monkeypatch):
    fetched = []
    original = engine.SafeFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(engine.SafeFetcher, "fetch", spy)
    # The kept stylesheet is read again, through the fetcher, so the spy sees every file a render reads.
    monkeypatch.setattr(engine, "_stylesheet", [None, None])
    owner = chain.make.user("applicant")
    long_text = ("Nghệ nhân Đặng " * 700)[:10_000]
    n = chain.make.nomination(State.SUBMITTED, owner=owner,
                              nominee={"full_name": "<img src=file:///etc/passwd>"},
                              craft='<b>Gốm</b> & "sứ"', career_summary=long_text,
                              skills_summary=HOSTILE, workshop="x" * 300)
    pdf = assert_pdf(api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", owner))
    text = text_of(pdf)
    assert "<img src=file:///etc/passwd>" in text
    assert '<b>Gốm</b> & "sứ"' in text
    assert squeeze(HOSTILE) in text
    assert squeeze(long_text) in text
    assert "root:" not in text and b"root:x:0:0" not in pdf
    assert fetched and all(u.startswith(engine.STATIC_URL) for u in fetched), fetched


def test_a_ten_thousand_character_name_wraps_and_reads_back(app):
    name = "Nguyễn" + "Ễ" * 9_994  # one unbreakable word of 10 000 characters
    assert len(name) == 10_000
    context = {"n": _plain_nominee(name), "photo": None}
    pdf = engine.build_pdf(engine.Spec([engine.Part("declaration.html", context)]))
    assert "".join(text_of(pdf).split()).count(name) >= 1


def test_the_fetcher_refuses_files_foreign_urls_and_escapes_from_static(app):
    fetcher = engine.SafeFetcher()
    html = """<link rel=stylesheet href="https://documents.invalid/static/decree30.css">
    <img src="file:///etc/passwd"><img src="http://127.0.0.1/secret.png"><img src="data:image/png;base64,AAAA">
    <img src="https://documents.invalid/static/../../config.py">
    <img src="https://documents.invalid/static/%2e%2e/%2e%2e/config.py">
    <img src="https://documents.invalid/blob/unknown"><p>Chữ Việt</p>"""
    import weasyprint

    pdf = weasyprint.HTML(string=html, base_url=engine.BASE_URL, url_fetcher=fetcher).write_pdf()
    assert "Chữ Việt" in text_of(pdf)
    assert fetcher.served == ["https://documents.invalid/static/decree30.css"]
    assert len(fetcher.refused) == 6, fetcher.refused
    for url in ("file:///etc/passwd", "http://127.0.0.1/secret.png", "https://documents.invalid/blob/unknown"):
        with pytest.raises(engine.RefusedURL):
            fetcher.fetch(url)


def test_the_stylesheet_is_parsed_once_and_again_after_an_edit(app, tmp_path, monkeypatch):
    """engine.stylesheet() keeps one parsed decree30.css per process; an edit (size or mtime) is
    parsed again and shows in the next render, and a PDF without the sheet differs from one with it."""
    import shutil

    sheet = tmp_path / "decree30.css"
    shutil.copy(engine.STYLESHEET, sheet)
    monkeypatch.setattr(engine, "STATIC_DIR", tmp_path)
    monkeypatch.setattr(engine, "STYLESHEET", sheet)
    monkeypatch.setattr(engine, "_stylesheet", [None, None])
    first = engine.stylesheet()
    assert engine.stylesheet() is first  # kept, not parsed again
    spec = engine.Spec([engine.Part("declaration.html", {"n": _plain_nominee("Trần Văn Bình"), "photo": None})],
                       variant=None)

    def fonts(pdf: bytes) -> set[str]:
        return {str(font.get_object()["/BaseFont"]) for page in PdfReader(io.BytesIO(pdf)).pages
                for font in (page["/Resources"].get("/Font") or {}).values()}

    assert all("Liberation-Serif" in f for f in fonts(engine.build_pdf(spec)))
    stat = sheet.stat()
    sheet.write_text(sheet.read_text(encoding="utf-8") + "\nbody, td, th, p { font-family: 'DejaVu Sans Mono' }\n",
                     encoding="utf-8")
    os.utime(sheet, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    edited = engine.stylesheet()
    assert edited is not first and engine.stylesheet() is edited
    assert any("DejaVu-Sans-Mono" in f for f in fonts(engine.build_pdf(spec)))


def test_the_kept_stylesheet_needs_no_fetcher_and_no_per_render_state():
    """What lets one parsed sheet serve every render (engine.stylesheet): no rule that fetches
    (``@import``, ``url()``, ``@font-face``) or fills a render's tables (``@counter-style``,
    ``@color-profile``, ``@layer``), and no ``!important`` (it cascades as the author sheet it was)."""
    import tinycss2

    rules = tinycss2.parse_stylesheet(engine.STYLESHEET.read_text(encoding="utf-8"), skip_whitespace=True,
                                      skip_comments=True)
    assert not [r for r in rules if r.type == "error"]
    assert {r.lower_at_keyword for r in rules if r.type == "at-rule"} <= {"page", "media"}

    def tokens(nodes):
        for node in nodes or ():
            yield node
            yield from tokens(getattr(node, "content", None) or getattr(node, "arguments", None))
            yield from tokens(getattr(node, "prelude", None) if node.type != "url" else None)

    everything = list(tokens(rules))
    assert not [t for t in everything if t.type == "url" or (t.type == "function" and t.lower_name == "url")]
    text = engine.STYLESHEET.read_text(encoding="utf-8")
    assert "!important" not in text.replace(" ", "") and "<link" not in (engine.TEMPLATE_DIR / "_base.html").read_text()


def test_templates_take_plain_data_only(chain):
    n = chain.make.nomination()
    with pytest.raises(TypeError, match="plain data"):
        engine.render_html("summary.html", {"n": n})
    with pytest.raises(TypeError):
        engine.plain({"x": {1: "non-string key"}})
    assert engine.plain({"a": ["Nghe\u0302\u0323"]}) == {"a": ["Nghệ"]}  # NFD in, NFC out


def _plain_nominee(name: str) -> dict:
    return {
        "id": 1, "code": "", "title": "people", "title_label": "Nghệ nhân nhân dân", "form_no": "01",
        "summary_form_no": "09", "posthumous": False, "governing_decree": "43/2024",
        "round": {"number": 6, "name": "Đợt 6"}, "full_name": name, "pen_name": "", "birth_date": date(1960, 5, 1),
        "birth_year": 1960, "death_date": None, "gender": "Nam", "ethnicity": "Kinh", "hometown": "",
        "address": "", "phone": "", "email": "",
        "province": {"code": "HNI", "name": "Hà Nội", "full_name": "Thành phố Hà Nội"},
        "craft": "Gốm sứ", "special_craft": False, "special_craft_rationale": "", "workshop": "",
        "started_year": None, "years_in_craft": 0, "periods": [], "career_summary": "", "skills_summary": "",
        "honours_summary": "", "meritorious": None, "products": [], "awards": [], "learners_trained": None,
        "filed_by_name": "", "filed_by_relationship": "self", "filed_by_relationship_label": "Bản thân",
        "signer": name, "attachments": [], "submitted_on": None, "decision_no": "", "decision_date": None,
        "issuer": {"parent": "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "name": "SỞ CÔNG THƯƠNG", "place": "Hà Nội"},
    }


# -- Decree 30 layout ---------------------------------------------------------------------------------


def test_layout_a4_liberation_serif_page_numbers_from_page_two(app):
    context = {"n": _plain_nominee("Trần Văn Bình") | {"career_summary": "Làm gốm. " * 900}, "photo": None}
    pdf = engine.build_pdf(engine.Spec([engine.Part("declaration.html", context)] * 2))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 4
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("Liberation" in f for f in fonts), fonts
    lines = [(p.extract_text() or "").strip().splitlines() for p in reader.pages]
    assert "1" not in (lines[0][0], lines[0][-1])  # no number on the first page
    assert any("2" == line.strip() for line in lines[1])
    # Each part numbers its own pages: the second declaration starts again without a number.
    starts = [i for i, page in enumerate(lines) if any("Mẫu số 01" in line for line in page)]
    assert len(starts) == 2 and all(not any(line.strip() == "1" for line in lines[i]) for i in starts)


def test_date_line_follows_decree_30():
    assert engine.date_line("Hà Nội", date(2026, 12, 17)) == "Hà Nội, ngày 17 tháng 12 năm 2026"
    assert engine.date_line("Hải Phòng", date(2026, 2, 5)) == "Hải Phòng, ngày 05 tháng 02 năm 2026"
    assert engine.date_line("Huế", date(2026, 3, 9)) == "Huế, ngày 09 tháng 3 năm 2026"


# -- per council session ------------------------------------------------------------------------------


def _closed_session(chain, yes_votes=10):
    a = chain.accepted(nominee={"full_name": "Nguyễn Văn Ánh"}, title="people", meritorious_title=MERIT,
                       craft="Gốm sứ Bát Tràng")
    b = chain.accepted(nominee={"full_name": "Lê Thị Bình"}, craft="Thêu tay Quất Động")
    sid, tally = chain.vote("province", [a, b], yes_votes=yes_votes)
    return sid, a, b


def test_session_documents_from_the_stored_tally(chain, closed, api, client, auth):
    sid, a, b = closed
    officer = chain.officer
    minutes = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/minutes.pdf", officer)))
    for expected in ("Mẫu số 05", "BIÊN BẢN HỌP", "Hội đồng province thử nghiệm", "Quyết định số 12/QĐ-UBND",
                     "11/11", "Nguyễn Văn Ánh", "Lê Thị Bình", "Gốm sứ Bát Tràng", "Hà Nội",
                     "10 đồng ý, 1 không đồng ý, 0 không hợp lệ", "bỏ phiếu kín", "Hà Nội, ngày"):
        assert expected in minutes, expected
    tally = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/tally.pdf", officer)))
    for expected in ("Mẫu số 06", "BIÊN BẢN KIỂM PHIẾU", "Tổng số thành viên Hội đồng: 11",
                     "số phiếu phát ra: 11; số phiếu thu về: 11", "90,91 %", "Nguyễn Văn Ánh",
                     "Thêu tay Quất Động, Hà Nội", "Đạt", "tức 10 phiếu", "1 Nguyễn Văn Ánh", "2 Lê Thị Bình",
                     "10 1 0 90,91 %"):
        assert expected in tally, expected
    listing = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/list.pdf", officer)))
    for expected in ("Mẫu số 04", "I. Danh hiệu “Nghệ nhân nhân dân”", "II. Danh hiệu “Nghệ nhân ưu tú”",
                     "Nguyễn Văn Ánh", "10/11 (90,91 %)", "1960"):
        assert expected in listing, expected
    letter = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/submission-letter.pdf", officer)))
    for expected in ("Mẫu số 03", "TỜ TRÌNH", "Kính gửi:", "cấp Bộ (Bộ Công Thương)", "Quyết định số 12/QĐ-UBND",
                     "Nghị định số 43/2024/NĐ-CP", "Lê Thị Bình, Thêu tay Quất Động, Hà Nội: 10/11 phiếu đồng ý",
                     "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "TM. HỘI ĐỒNG"):
        assert expected in letter, expected
    # The same from the session page, which links to each of them.
    auth.login(officer.email)
    page = client.get(f"/council/sessions/{sid}").get_data(as_text=True)
    for kind in ("submission-letter", "list", "minutes", "tally", "ballot"):
        assert f"/council/sessions/{sid}/{kind}.pdf" in page
        assert_pdf(client.get(f"/council/sessions/{sid}/{kind}.pdf"))


def test_failed_nominees_are_not_proposed(chain, api):
    sid, a, b = _closed_session(chain, yes_votes=9)
    letter = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/submission-letter.pdf", chain.officer)))
    assert "Không có cá nhân nào đạt số phiếu đồng ý" in letter
    tally = text_of(assert_pdf(api.get(f"/api/v1/sessions/{sid}/tally.pdf", chain.officer)))
    assert "Không đạt" in tally and "9 " in tally


def test_tally_documents_wait_for_the_close_and_ballots_carry_no_voter(chain, api, client, auth):
    a = chain.accepted(nominee={"full_name": "Trịnh Văn Cường"}, title="people", meritorious_title=MERIT)
    b = chain.accepted(nominee={"full_name": "Mai Thị Dung"})
    council, members, secretariat = chain.council("province", size=5)
    sid = chain.session(council, secretariat, [a.id, b.id])
    for kind in ("minutes", "tally", "list", "submission-letter"):
        r = api.get(f"/api/v1/sessions/{sid}/{kind}.pdf", secretariat)
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "session_not_closed", kind
    pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/ballot.pdf", secretariat))
    reader = PdfReader(io.BytesIO(pdf))
    text = text_of(pdf)
    assert "Mẫu số 07" in text_of(pdf, slice(0, 1)) and "Trịnh Văn Cường" in text_of(pdf, slice(0, 1))
    assert "Mẫu số 08" in text and "Mai Thị Dung" in text and len(reader.pages) == 2
    assert "PHIẾU BẦU" in text and "Đồng ý" in text and "Không đồng ý" in text
    for member in members:  # secret ballot: no voter's name anywhere
        assert member.full_name not in text
    auth.login(secretariat.email)
    r = client.get(f"/council/sessions/{sid}/tally.pdf", headers={"Referer": f"/council/sessions/{sid}"})
    assert r.status_code == 302  # the page says why, as for any refused action


def test_session_documents_follow_the_visibility_rules(chain, closed, api):
    sid, a, b = closed
    other = chain.make.user("province_officer", "HPG")
    applicant = chain.make.user("applicant")
    assert api.get(f"/api/v1/sessions/{sid}/tally.pdf", other).status_code == 404
    assert api.get(f"/api/v1/sessions/{sid}/minutes.pdf", applicant).status_code == 403
    assert api.get(f"/api/v1/sessions/{sid}/ballot.pdf").status_code == 401
    # a provincial session is not the ministry's (scope by stage); the administrator sees it
    assert api.get(f"/api/v1/sessions/{sid}/tally.pdf", chain.ministry).status_code == 404
    assert api.get(f"/api/v1/sessions/{sid}/tally.pdf", chain.make.user("admin")).status_code == 200


# -- per round ----------------------------------------------------------------------------------------


def test_national_list_for_public_consultation(chain, api, client):
    a = chain.accepted(nominee={"full_name": "Vũ Thị Hằng"}, craft="Sơn mài Hạ Thái")
    chain.vote("province", [a], yes_votes=10)
    chain.act(a, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [a], yes_votes=10)
    chain.act(a, "open_consultation", chain.ministry)
    r = client.get(f"/api/v1/public/consultations.pdf?round_id={chain.round.id}")
    text = text_of(assert_pdf(r))
    for expected in ("DANH SÁCH", "Hội đồng cấp Bộ", "lấy ý kiến nhân dân", "Vũ Thị Hằng", "Sơn mài Hạ Thái",
                     "Hà Nội", "BỘ CÔNG THƯƠNG", f"Đợt {chain.round.number}", "Tổng số: 1 cá nhân",
                     f"Góp ý đến {a.consultation_ends:%d/%m/%Y}"):
        assert expected in text, expected
    page = client.get(f"/public/consultations.pdf?round_id={chain.round.id}")
    assert text_of(assert_pdf(page)) == text
    assert "/public/consultations.pdf" in client.get("/public/consultations").get_data(as_text=True)
    final = text_of(assert_pdf(client.get(f"/api/v1/public/consultations.pdf?round_id={chain.round.id}&window=final")))
    assert "Vũ Thị Hằng" not in final and "Hiện không có cá nhân nào" in final
    assert client.get("/api/v1/public/consultations.pdf?round_id=999999").status_code == 404
    assert client.get("/api/v1/public/consultations.pdf?round_id=x").status_code == 404
    assert client.get(f"/api/v1/public/consultations.pdf?round_id={chain.round.id}&window=x").status_code == 422


# -- cache --------------------------------------------------------------------------------------------


def test_cache_hits_until_an_input_changes(chain, api, tmp_path, monkeypatch):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner)
    url = f"/api/v1/nominations/{n.id}/declaration.pdf"
    first = api.get(url, owner)
    assert first.headers["X-Document-Cache"] == "miss"
    second = api.get(url, owner)
    assert second.headers["X-Document-Cache"] == "hit" and second.data == first.data
    assert list((tmp_path / "documents").rglob("*.pdf"))
    r = api.patch(f"/api/v1/nominations/{n.id}", owner, json={"craft": "Gốm sứ Chu Đậu"})
    assert r.status_code == 200
    changed = api.get(url, owner)
    assert changed.headers["X-Document-Cache"] == "miss" and "Gốm sứ Chu Đậu" in text_of(changed.data)
    assert api.get(url, owner).headers["X-Document-Cache"] == "hit"
    # A template edited: on a copy of the templates, so that the other database's pass, running at the
    # same time on the same tree (scripts/test), never sees a changed template and misses its cache.
    import shutil

    import jinja2

    copy = tmp_path / "pdf-templates"
    shutil.copytree(engine.TEMPLATE_DIR, copy)
    monkeypatch.setattr(engine, "TEMPLATE_DIR", copy)
    monkeypatch.setattr(engine._env, "loader", jinja2.FileSystemLoader(str(copy)))
    monkeypatch.setattr(engine, "ROOT", Path("/"))  # the copy and static/pdf/ both lie under it
    assert api.get(url, owner).headers["X-Document-Cache"] == "miss"  # another directory: another key
    assert api.get(url, owner).headers["X-Document-Cache"] == "hit"
    template = copy / "declaration.html"
    stat = template.stat()
    os.utime(template, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert api.get(url, owner).headers["X-Document-Cache"] == "miss"


def test_cache_key_covers_data_template_variant_and_files():
    part = engine.Part("summary.html", {"n": {"full_name": "A"}})
    base = engine.cache_key(engine.Spec([part]))
    assert base == engine.cache_key(engine.Spec([engine.Part("summary.html", {"n": {"full_name": "A"}})]))
    assert base != engine.cache_key(engine.Spec([engine.Part("summary.html", {"n": {"full_name": "B"}})]))
    assert base != engine.cache_key(engine.Spec([part], variant=None))
    assert base != engine.cache_key(engine.Spec([part], appended=[engine.Appended("ab" * 32, bytes)]))


def test_prune_cache_removes_unused_then_least_recently_used(chain, api, runner, tmp_path):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner)
    url = f"/api/v1/nominations/{n.id}/declaration.pdf"
    assert api.get(url, owner).headers["X-Document-Cache"] == "miss"
    (used,) = (tmp_path / "documents").rglob("*.pdf")
    stale = used.parent / ("0" * 64 + ".pdf")
    stale.write_bytes(b"%PDF-old" * 1000)
    week_ago = time.time() - 7 * 86400
    os.utime(stale, (week_ago, week_ago))
    os.utime(used, (week_ago, week_ago))
    assert api.get(url, owner).headers["X-Document-Cache"] == "hit"  # a hit marks it used today

    result = runner.invoke(args=["documents", "prune-cache", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "removed 1 PDF(s)" in result.output
    assert used.exists() and not stale.exists()

    pruned = engine.prune_cache(tmp_path / "documents", max_bytes=0)
    assert (pruned.removed, pruned.kept, pruned.kept_bytes) == (1, 0, 0) and not used.exists()
    again = api.get(url, owner)  # nothing lost: the PDF is rendered again
    assert again.status_code == 200 and again.headers["X-Document-Cache"] == "miss"
    assert engine.prune_cache(tmp_path / "missing").removed == 0


def test_plain_data_of_a_nomination_has_no_orm_objects(chain):
    n = chain.make.nomination(title="people", meritorious_title=MERIT)
    d = data.nomination_data(db.session.get(Nomination, n.id))
    assert engine.plain(d) == d


# -- signatures ---------------------------------------------------------------------------------------


@pytest.fixture
def test_ca(app, tmp_path):
    """A throwaway PKI (tests/test_signing.py has the rest), Hà Nội's department's certificate configured."""
    from tests import pki as test_pki

    with test_pki.serving() as pki:  # built once per worker, served for this test alone
        pki.write_body(tmp_path / "signing", "so-cong-thuong-hni", "hni")
        app.config.update(DOCUMENTS_SIGNING_DIR=str(tmp_path / "signing"), DOCUMENTS_TSA_URL=pki.tsa_url,
                          DOCUMENTS_TRUST_ROOTS=str(pki.write_root()))
        yield pki


def _flip(pdf: bytes, where: int) -> bytes:
    changed = bytearray(pdf)
    changed[where] ^= 0x01
    return bytes(changed)


def test_signed_vote_count_minutes_verify_and_one_changed_byte_is_altered(chain, closed, api, client, runner, test_ca,
                                                                           tmp_path):
    from artisan_awards.documents import signing

    sid, a, b = closed
    pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/tally.pdf", chain.officer))
    result = signing.verify(pdf)
    assert result.verdict == "intact" and result.ok
    [sig] = result.signatures
    assert "Sở Công Thương Hà Nội" in sig.signer and "Biên bản kiểm phiếu" in sig.reason
    # Signing never alters the visible document: the signature is an incremental update after the
    # untouched original, and adds no page, no text, no appearance.
    original = pdf[: pdf.index(b"%%EOF") + len(b"%%EOF")]
    assert text_of(original) == text_of(pdf) and "Nguyễn Văn Ánh" in text_of(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(original)).pages)
    assert all("/Annots" not in page or all(
        not a.get_object().get("/AP") for a in page["/Annots"]) for page in reader.pages)
    # One byte changed inside the signed original: reported as altered.
    altered = _flip(pdf, len(original) // 2)
    assert signing.verify(altered).verdict == "altered"
    # The command says the same, with its exit status.
    good, bad = tmp_path / "kiem-phieu.pdf", tmp_path / "kiem-phieu-sua.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(altered)
    r = runner.invoke(args=["documents", "verify", str(good)])
    assert r.exit_code == 0 and "intact" in r.output and "Sở Công Thương Hà Nội" in r.output
    r = runner.invoke(args=["documents", "verify", str(bad)])
    assert r.exit_code == 1 and "altered" in r.output
    # And the verification page.
    page = client.post("/documents/verify", data={"file": (io.BytesIO(pdf), "kiem-phieu.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-verdict="intact"' in page and "Sở Công Thương Hà Nội" in page
    page = client.post("/documents/verify", data={"file": (io.BytesIO(altered), "kiem-phieu.pdf")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'data-verdict="altered"' in page


def test_signatures_cover_minutes_lists_and_letters_not_ballots(chain, closed, api, test_ca, tmp_path):
    from artisan_awards.documents import signing

    sid, a, b = closed
    for kind in ("minutes", "list", "submission-letter"):
        pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/{kind}.pdf", chain.officer))
        assert signing.verify(pdf).verdict == "intact", kind
    ballot = assert_pdf(api.get(f"/api/v1/sessions/{sid}/ballot.pdf", chain.officer))
    assert signing.verify(ballot).verdict == "unsigned"
    # A certificate from another authority is not trusted.
    from tests import pki as test_pki

    other = test_pki.built([signing.MINISTRY]).write_root()  # another authority's root
    tally = assert_pdf(api.get(f"/api/v1/sessions/{sid}/tally.pdf", chain.officer))
    assert signing.verify(tally, [str(other)]).verdict == "untrusted"
    assert signing.verify(b"not a pdf").verdict == "unreadable"


# -- a round's documents in the background --------------------------------------------------------------


def test_round_documents_are_made_in_the_background_with_progress(chain, closed, client, auth, app, tmp_path):
    import zipfile

    from artisan_awards.documents import jobs
    from artisan_awards.models import DocumentTask

    sid, a, b = closed
    # the administrator's archive holds the provincial stage too (a ministry officer's starts at the ministry)
    auth.login(chain.make.user("admin").email)
    dashboard = client.get(f"/ministry/dashboard?round_id={chain.round.id}").get_data(as_text=True)
    assert f"/documents/rounds/{chain.round.id}/export" in dashboard
    # the two dossiers are still under review: only "all" puts them in the package (test_archive_package)
    r = client.post(f"/documents/rounds/{chain.round.id}/export", data={"scope": "all"})
    assert r.status_code == 302 and "/documents/tasks/" in r.headers["Location"]
    task_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    for thread in list(jobs._threads):
        thread.join(timeout=120)
    progress = client.get(f"/documents/tasks/{task_id}.json").get_json()
    assert progress["status"] == "done" and progress["done"] == progress["total"] == 2 + 5 + 2
    assert progress["percent"] == 100
    page = client.get(f"/documents/tasks/{task_id}").get_data(as_text=True)
    assert 'data-status="done"' in page and "9/9" in page
    archive = client.get(progress["download"])
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.data)) as z:
        names = set(z.namelist())
        assert f"ho-so/HNI/{a.code}/ho-so-{a.code}-pdfa.pdf" in names
        assert f"ho-so/HNI/{b.code}/ho-so-{b.code}-pdfa.pdf" in names
        tally = next(n for n in names if n.endswith("mau-06-bien-ban-kiem-phieu.pdf"))
        assert "Nguyễn Văn Ánh" in text_of(z.read(tally))
    task = db.session.get(DocumentTask, task_id)
    assert archive.headers["Content-Disposition"] == f"attachment; filename={task.download_name}"
    # The ZIP lives in the file storage, counted as used (never pruned as an orphan).
    assert task.result_name in storage.storage().keys() and storage.audit_files() == ([], [])
    # Only national officers start one; a task is not shown to others.
    auth.logout()
    auth.login(chain.officer.email)
    assert client.post(f"/documents/rounds/{chain.round.id}/export").status_code == 403
    assert client.get(f"/documents/tasks/{task_id}").status_code == 404
