"""The printed layout of every document, read back from the PDF (pdfplumber positions, pypdf destinations).

What a records clerk (văn thư) refuses to sign, checked on every document type with short, long
(250 nominees) and extreme data (very long names, every optional field empty):

* a table row torn across pages: every cell of a row carries the row's tag ("R017"); the words with
  one tag must all be on one page;
* a signature block alone on a page: the signatures table has an anchor (a PDF destination); on its
  page some body text must stand above it;
* margins outside Decree 30/2020's ranges (top 20-25, bottom 20-25, left 30-35, right 15-20 mm), on
  portrait and landscape pages alike;
* a line break inside a place's name ("HẢI / PHÒNG") or between a number and its unit ("100,00 / %");
* page numbers: none on page 1, "2", "3"... centred in the top margin after.

Control tests render the same documents with the rule that prevents each defect removed (a user
stylesheet, or a template with an orphan signature block) and check that the checks catch it.
"""

from __future__ import annotations

import io
import re
import unicodedata
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pdfplumber
import pytest
import weasyprint
from pypdf import PdfReader

from artisan_awards.documents import engine
from tests.test_councils import Chain
from tests.test_documents import _closed_session, _evidence_pdf, _png, _upload, assert_pdf, text_of

MM = 72 / 25.4  # PDF points per millimetre
TOL = 0.6  # mm: glyph side bearings, rule widths
PROVINCES = [("Hải Phòng", "Thành phố Hải Phòng"), ("Hà Nội", "Thành phố Hà Nội"),
             ("Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh"), ("Bắc Ninh", "Tỉnh Bắc Ninh"),
             ("Lào Cai", "Tỉnh Lào Cai"), ("Đắk Lắk", "Tỉnh Đắk Lắk"), ("Quảng Trị", "Tỉnh Quảng Trị")]
LONG_WORDS = ("Nguyễn Thị Hoàng Phương Thảo Nguyên Bích Ngọc Khánh Linh Diệu Hương Tuyết Mai "
              "Xuân Thu Hạ Đông Minh Khôi")


# -- sample data (the plain dicts documents/data.py builds) ------------------------------------

def tag(prefix: str, i: int) -> str:
    return f"{prefix}{i:03d}"


def _province(i: int) -> tuple[str, str]:
    return PROVINCES[i % len(PROVINCES)]


def _issuer(i: int = 0) -> dict:
    name, full = _province(i)
    return {"parent": f"ỦY BAN NHÂN DÂN {full.upper()}", "parent_place": full.upper(), "name": "SỞ CÔNG THƯƠNG",
            "place": name}


def nomination(size: str, i: int = 0) -> dict:
    """A dossier: ``short`` (a few rows), ``long`` (40 products, 30 periods), ``extreme`` (very long
    names and texts, every optional field empty)."""
    extreme = size == "extreme"
    name, full = _province(i)
    n_products = {"short": 3, "long": 40, "extreme": 12}[size]
    n_periods = {"short": 2, "long": 30, "extreme": 0}[size]
    full_name = (LONG_WORDS if extreme else "Nguyễn Văn Ánh")
    return {
        "id": 1, "code": "" if extreme else "HPG-2026-000123", "title": "people" if i % 2 == 0 else "meritorious",
        "title_label": "Nghệ nhân nhân dân" if i % 2 == 0 else "Nghệ nhân ưu tú",
        "form_no": "01" if i % 2 == 0 else "02", "summary_form_no": "09" if i % 2 == 0 else "10",
        "posthumous": False, "governing_decree": "43/2024",
        "round": {"number": 6, "name": "Đợt 6", "reply_days": 10},
        "full_name": full_name, "pen_name": "" if extreme else "Ánh Gốm",
        "birth_date": None if extreme else date(1958, 3, 4), "birth_year": None if extreme else 1958,
        "death_date": None, "gender": "" if extreme else "Nam", "ethnicity": "" if extreme else "Kinh",
        "hometown": "" if extreme else "Xã Bát Tràng", "address": "" if extreme else "Số 5 phố Gốm, phường Lê Chân",
        "phone": "", "email": "",
        "province": {"code": "HPG", "name": name, "full_name": full},
        "craft": ("Gốm sứ men lam cổ truyền " * 6).strip() if extreme else "Gốm sứ",
        "special_craft": False, "special_craft_rationale": "", "workshop": "",
        "started_year": None if extreme else 1975, "years_in_craft": 0 if extreme else 49,
        "periods": [{"from": date(1975 + k, 1, 1), "to": date(1976 + k, 12, 31),
                     "workplace": f"Cơ sở sản xuất gốm {tag('R', k)} tại làng nghề truyền thống, {name}",
                     "role": f"Thợ chính {tag('R', k)}"} for k in range(n_periods)],
        "career_summary": "" if extreme else "Hành nghề liên tục từ năm 1975.",
        "skills_summary": ("Kỹ thuật vuốt tay trên bàn xoay, pha men tro, nung lò củi. " * (30 if extreme else 3)),
        "honours_summary": "",
        "meritorious": None if i % 2 == 0 else {"decision_no": "123/QĐ-CTN", "decision_date": date(2019, 8, 30),
                                                "field": "nghề thủ công mỹ nghệ"},
        "products": [{"name": f"Bình gốm men lam vẽ tích {tag('P', k)} " + ("hoa sen cách điệu " * (k % 4)),
                      "year": 1990 + k % 30, "materials": "" if extreme else f"Đất sét trắng {tag('P', k)}",
                      "self_designed": k % 2 == 0, "award": "" if extreme else f"Giải Nhất cấp quốc gia {tag('P', k)}",
                      "organiser": "" if extreme else f"Hiệp hội Làng nghề Việt Nam {tag('P', k)}",
                      "awarded_on": None if extreme else date(2000, 1 + k % 12, 15)} for k in range(n_products)],
        "awards": [] if extreme else [f"Giải Nhất cấp quốc gia (Bình gốm {k})" for k in range(min(n_products, 5))],
        "learners_trained": None if extreme else 120,
        "filed_by_name": "", "filed_by_relationship": "self", "filed_by_relationship_label": "Bản thân",
        "signer": full_name,
        "attachments": [{"id": k, "file_name": f"giay-chung-nhan-{tag('R', k)}.pdf", "kind": "certificate",
                         "kind_label": "Giấy chứng nhận, bằng khen", "name": f"giay-chung-nhan-{tag('R', k)}.pdf",
                         "content_type": "application/pdf", "size_kb": 120 + k, "sha256": "ab" * 32,
                         "uploaded_on": date(2026, 1, 5)} for k in range(1, n_products + 1)],
        "submitted_on": None if extreme else date(2026, 2, 5),
        "decision_no": "", "decision_date": None, "issuer": _issuer(i),
    }


def agenda(count: int, extreme: bool = False) -> list[dict]:
    items = []
    for k in range(1, count + 1):
        name, _full = _province(k)
        t = tag("R", k)
        items.append({
            "seq": k, "nomination_id": k, "code": f"HPG-2026-{k:06d}",
            "full_name": (f"{LONG_WORDS} {t}" if extreme else f"Trần Thị Hồng {t}"),
            "pen_name": "", "birth_year": None if extreme else 1950 + k % 40, "gender": "" if extreme else "Nữ",
            "ethnicity": "", "title": "people" if k % 3 == 0 else "meritorious",
            "title_label": "Nghệ nhân nhân dân" if k % 3 == 0 else "Nghệ nhân ưu tú", "posthumous": k % 17 == 0,
            "craft": f"Thêu ren {t}" + (" truyền thống vùng đồng bằng" * (k % 3)),
            "province": name, "address": "" if extreme else ("Thôn Đông, xã An Phú " + "khu Một " * (k % 5)) + t,
            "years_in_craft": 20 + k % 30, "learners_trained": None if extreme else k % 60,
            "awards": [] if extreme else [f"Giải Nhì cấp quốc gia {t}"] * (1 + k % 3), "meritorious": None,
            "yes": 9 + k % 3, "no": 2 - k % 3, "invalid": 0, "excluded": 0, "valid": 11, "members_total": 11,
            "passed": k % 3 != 1, "window_ends": date(2026, 4, 30),
        })
    return items


def session(size: str) -> dict:
    count = {"short": 3, "long": 250, "extreme": 40}[size]
    extreme = size == "extreme"
    members = [{"id": m, "full_name": (f"{LONG_WORDS} {tag('M', m)}" if extreme else f"Phạm Văn Đức {tag('M', m)}"),
                "position": "chair" if m == 1 else ("secretary" if m == 2 else "member"),
                "position_label": "Chủ tịch Hội đồng" if m == 1 else ("Ủy viên thư ký" if m == 2 else "Ủy viên")}
               for m in range(1, 12)]
    items = agenda(count, extreme)
    if size == "short":  # no one passed for the first title: the letter still numbers from 1.
        for i in items:
            i["passed"] = i["title"] == "meritorious"
    council = {
        "id": 1, "name": "Hội đồng xét tặng cấp tỉnh " + ("thành phố Hải Phòng " * (3 if extreme else 1)).strip(),
        "level": "province", "level_label": "cấp tỉnh", "province": "Hải Phòng", "decision_no": "12/QĐ-UBND",
        "decision_date": None if extreme else date(2026, 1, 10), "members_total": 11, "quorum": 9,
        "pass_threshold": 10, "quorum_percent": 75, "pass_percent": 90, "members": members,
        "chair": members[0]["full_name"], "secretary": "" if extreme else members[1]["full_name"],
        "recipient": "Hội đồng xét tặng danh hiệu “Nghệ nhân nhân dân”, “Nghệ nhân ưu tú” trong lĩnh vực nghề "
                     "thủ công mỹ nghệ cấp Bộ (Bộ Công Thương)",
        "round": {"number": 6, "name": "Đợt 6", "governing_decree": "43/2024"},
    }
    present = members[:10]
    absent = [m | {"absence_reason": "" if extreme else "đi công tác nước ngoài"} for m in members[10:]]
    return {
        "id": 1, "held_on": date(2026, 3, 2), "closed_on": date(2026, 3, 2), "place": "" if extreme else "Hải Phòng",
        "status": "closed", "closed": True, "opened_at": datetime(2026, 3, 2, 1, 30, tzinfo=UTC),
        "opened_time": "" if extreme else "8 giờ 30", "closed_time": "" if extreme else "11 giờ 05",
        "quorum": 9, "quorum_met": True, "minutes_recipients": ["Các thành viên Hội đồng", council["recipient"]],
        "council": council, "issuer": _issuer(0), "present": present, "absent": absent, "present_count": 10,
        "members_total": 11, "ballots_issued": 10, "ballots_returned": 10, "threshold": 10, "agenda": items,
        "titles": ["people", "meritorious"], "passed": [i for i in items if i["passed"]],
        "failed": [i for i in items if not i["passed"]],
        "conflicts": [] if size != "long" else [{"member": members[3]["full_name"], "nominee": items[0]["full_name"],
                                                 "reason": "người thân"}],
        "non_voters": [{"member": members[9]["full_name"], "reason": "rời cuộc họp vì lý do sức khỏe"}],
        "special_crafts": [] if size == "short" else [
            {"nominee": items[1]["full_name"], "is_special": True,
             "reasons": "Nghề khảm sành sứ chỉ còn ít người làm, học nghề kéo dài nhiều năm " * (4 if extreme else 1)}],
    }


def consultation(size: str) -> dict:
    items = agenda({"short": 3, "long": 250, "extreme": 40}[size], size == "extreme")
    groups = [{"title": t, "title_label": label, "nominees": [i for i in items if i["title"] == t]}
              for t, label in (("people", "Nghệ nhân nhân dân"), ("meritorious", "Nghệ nhân ưu tú"))]
    return {
        "round": {"id": 1, "number": 6, "name": "Đợt 6", "consultation_days": 15,
                  "consultation_day_kind": "working" if size == "extreme" else "calendar"}, "window": "public",
        "proposed_by": "cấp Bộ",
        "issuer": {"parent": "", "parent_place": "", "name": "BỘ CÔNG THƯƠNG", "place": "Hà Nội",
                   "unit": "Cục Công Thương địa phương"},
        "signer": {"authority": "TL. Bộ trưởng", "role": "Cục trưởng Cục Công Thương địa phương", "name": ""},
        "recipients": ["Cổng thông tin điện tử Bộ Công Thương (để đăng tải)"],
        "on": date(2026, 4, 15), "groups": [g for g in groups if g["nominees"]], "total": len(items),
    }


def notice(size: str, kind: str, i: int = 0) -> dict:
    """A one-stop notice's data (documents/notices.py): ``long`` lists 60 documents or 40 missing items,
    ``extreme`` has very long names and items and every optional field empty."""
    extreme = size == "extreme"
    name, full = _province(i)
    count = {"short": 3, "long": 40, "extreme": 12}[size]

    def item(k: int) -> str:
        return (f"Bản sao có chứng thực Quyết định tặng Bằng khen {tag('R', k)} "
                + "của Chủ tịch Ủy ban nhân dân cấp tỉnh về thành tích xuất sắc trong phong trào thi đua "
                * (3 if extreme else k % 3))

    return {
        "kind": kind, "name": {"receipt": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
                               "request": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
                               "refusal": "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
                               "apology": "Phiếu xin lỗi và hẹn lại ngày trả kết quả"}[kind],
        "form_no": "" if extreme else "02", "circular": "" if extreme else "Thông tư số 03/2025/TT-VPCP",
        "issuer": _issuer(i), "issued_on": date(2026, 2, 5), "number": "123/YCBS-SCT",
        "code": "" if extreme else "NN-2026-HPG-00123",
        "full_name": LONG_WORDS if extreme else "Nguyễn Văn Ánh",
        "filer": LONG_WORDS if extreme else "Nguyễn Văn Ánh", "address": "" if extreme else "Số 5 phố Gốm",
        "phone": "", "email": "", "title_label": "Nghệ nhân nhân dân", "posthumous": False,
        "craft": "Gốm sứ", "round": 6,
        "procedure": "Xét tặng danh hiệu “Nghệ nhân nhân dân” trong lĩnh vực nghề thủ công mỹ nghệ",
        "province": {"name": name, "full_name": full},
        "resubmitted": size == "long", "received_on": date(2026, 2, 5), "received_time": "8 giờ 30",
        "due_on": date(2026, 2, 15), "reply_days": 10, "completion_days": 15, "returned_on": date(2026, 2, 10),
        "missed_on": date(2026, 2, 15), "reason": "" if extreme else "Cần thêm thời gian xác minh tài liệu.",
        "documents": [{"name": f"giay-chung-nhan-{tag('R', k)}.pdf", "kind": f"Giấy chứng nhận {tag('R', k)}"}
                      for k in range(1, (60 if size == "long" else count) + 1)],
        "status_url": "https://nghenhan.example.gov.vn/tra-cuu",
        "reasons": ([] if extreme else ["Hồ sơ đã được yêu cầu bổ sung, hoàn thiện ngày 10/02/2026."])
        if kind == "refusal" else ("" if extreme else "Hồ sơ chưa đủ tài liệu minh chứng."),
        "missing": [item(k) for k in range(1, count + 1)],
        "officer": "" if extreme else "Trần Minh Đức",
    }


def portrait_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (400, 600), (180, 120, 90)).save(out, "PNG")
    return out.getvalue()


def documents(size: str) -> dict[str, tuple[str, dict]]:
    """Every document type: name -> (template, context)."""
    n, s = nomination(size, 0), session(size)
    n2 = nomination(size, 1)
    return {
        "declaration-01": ("declaration.html", {"n": n, "photo": "portrait"}),
        "declaration-02": ("declaration.html", {"n": n2, "photo": None}),
        "summary-09": ("summary.html", {"n": n}),
        "summary-10": ("summary.html", {"n": n2}),
        "evidence": ("evidence.html", {"n": n, "photos": [], "archival": size == "long",
                                       "placement": {str(a["id"]): "Đóng kèm sau danh mục" for a in n["attachments"]}}),
        "receipt": ("receipt.html", {"n": n, "status_url": "https://nghenhan.example.gov.vn/tra-cuu",
                                     "access_key": "" if size == "extreme" else "K7QM-3XPA",
                                     "reply_due": None if size == "extreme" else date(2026, 2, 15)}),
        "submission-letter-03": ("submission_letter.html", {"s": s}),
        "list-04": ("nominee_list.html", {"s": s}),
        "minutes-05": ("minutes.html", {"s": s}),
        "tally-06": ("vote_count.html", {"s": s}),
        "ballot-07": ("ballot.html", {"s": s, "form": "07", "label": "Nghệ nhân nhân dân",
                                      "nominees": [i for i in s["agenda"] if i["title"] == "people"]}),
        "consultation-list": ("consultation_list.html", {"d": consultation(size)}),
        "notice-receipt": ("notice_receipt.html", {"d": notice(size, "receipt")}),
        "notice-request": ("notice_request.html", {"d": notice(size, "request", 1)}),
        "notice-refusal": ("notice_refusal.html", {"d": notice(size, "refusal", 2)}),
        "notice-apology": ("notice_apology.html", {"d": notice(size, "apology", 3)}),
    }


def render(template: str, context: dict, css: str = "") -> bytes:
    blobs = {"portrait": engine.Blob("0" * 64, portrait_png, "image/png"),
             "qr": engine.Blob("1" * 64, lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="10" '
                                                  b'height="10"><rect width="10" height="10"/></svg>',
                               "image/svg+xml")}
    html = engine.render_html(template, context)
    return weasyprint.HTML(string=html, base_url=engine.BASE_URL, url_fetcher=engine.SafeFetcher(blobs)).write_pdf(
        stylesheets=[engine.stylesheet()] + ([weasyprint.CSS(string=css)] if css else []),
        font_config=engine.font_config())


# -- the checks --------------------------------------------------------------------------------

TAG = re.compile(r"([RPM]\d{3})")


_opened: list = [None, None]  # the last PDF read back: (its bytes, its pdfplumber document)


@contextmanager
def _pages(pdf: bytes):
    """The PDF read back by pdfplumber, parsed once for all the checks run on the same bytes.

    Each check only reads (words, chars, tables, crops); parsing the pages again for each of the
    five checks was most of this module's time (a 250-row list is dozens of pages).
    """
    if _opened[0] is not pdf:
        if _opened[1] is not None:
            _opened[1].close()
        _opened[:] = [pdf, pdfplumber.open(io.BytesIO(pdf))]
    yield _opened[1]


def torn_rows(pdf: bytes) -> list[str]:
    """Rows of the ruled tables split by a page break, found three ways:

    * a row's tag (every tagged cell of a row carries it) on more than one page;
    * a numbered row (its "TT" cell) with none of its tagged text beside it: the rest went on;
    * text at the top of a table, under the repeated header and above the first number: the
      tail of a row begun on the page before.
    """
    pages_of: dict[str, set[int]] = {}
    torn: list[str] = []
    with _pages(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            words = page.extract_words()
            for table in page.find_tables():
                x0, top, x1, bottom = table.bbox
                inside = [w for w in words if x0 - 1 <= w["x0"] and w["x1"] <= x1 + 1
                          and top - 1 <= w["top"] and w["bottom"] <= bottom + 1]
                for w in inside:
                    for t in TAG.findall(w["text"]):
                        pages_of.setdefault(t, set()).add(number)
                first_col = [c for c in table.cells if abs(c[0] - x0) < 1]
                if not first_col:
                    continue
                col_right = min(c[2] for c in first_col)
                numbers = sorted((w for w in inside if w["x1"] <= col_right + 1 and w["text"].isdigit()),
                                 key=lambda w: w["top"])
                if not numbers or not any(TAG.search(w["text"]) for w in inside):
                    continue
                head = [w for w in inside if w["x1"] <= col_right + 1 and w["text"] == "TT"]
                head_bottom = top
                if head:
                    cell = next((c for c in first_col if c[1] - 1 <= head[0]["top"] <= c[3]), None)
                    head_bottom = cell[3] if cell else head[0]["bottom"]
                if any(w["top"] > head_bottom + 1 and w["bottom"] < numbers[0]["top"] - 1 for w in inside):
                    torn.append(f"page {number}: a row's tail above row {numbers[0]['text']}")
                for k, num in enumerate(numbers):
                    end = numbers[k + 1]["top"] - 1 if k + 1 < len(numbers) else bottom + 1
                    band = [w for w in inside if num["top"] - 2 <= w["top"] < end]
                    if not any(TAG.search(w["text"]) for w in band):
                        torn.append(f"page {number}: row {num['text']} without its text")
    return torn + sorted(t for t, pages in pages_of.items() if len(pages) > 1)


def orphan_signatures(pdf: bytes) -> list[int]:
    """Pages where the signature block (the ``signatures`` destination) has no body text above it."""
    reader = PdfReader(io.BytesIO(pdf))
    anchors = [d for name, d in reader.named_destinations.items() if str(name).startswith("signatures")]
    bad = []
    with _pages(pdf) as doc:
        for dest in anchors:
            index = reader.get_destination_page_number(dest)
            page = doc.pages[index]
            top = page.height - float(dest.top)  # pdfplumber measures from the top
            body = [w for w in page.extract_words()
                    if w["bottom"] <= top + 1 and w["top"] > 20 * MM - 1]  # below the page-number margin
            if not body:
                bad.append(index + 1)
    return bad


def margin_faults(pdf: bytes) -> list[str]:
    """Content outside Decree 30's margins: top 20-25, bottom 20-25, left 30-35, right 15-20 mm.

    On every page nothing crosses the lower bounds; per orientation, the text reaches the left and
    right margins somewhere (a justified line, a full-width table), so those are at most 35 and 20 mm.
    """
    faults = []
    reach: dict[str, list[float]] = {}
    with _pages(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            w, h = page.width / MM, page.height / MM
            orientation = "landscape" if w > h else "portrait"
            if sorted((round(w), round(h))) != [210, 297]:
                faults.append(f"page {number}: not A4 ({w:.0f}x{h:.0f} mm)")
            objects = [o for o in page.chars if o["text"].strip()] + page.rects + page.lines + page.images
            body = [o for o in objects if not _is_page_number(o, page, number)]
            if not body:
                continue
            left = min(o["x0"] for o in body) / MM
            right = w - max(o["x1"] for o in body) / MM
            top = min(o["top"] for o in body) / MM
            bottom = h - max(o["bottom"] for o in body) / MM
            if left < 30 - TOL:
                faults.append(f"page {number}: left margin {left:.1f} mm")
            if right < 15 - TOL:
                faults.append(f"page {number}: right margin {right:.1f} mm")
            if not 20 - TOL <= top <= 25 + 3:  # the first line's glyphs sit a little below its line box
                faults.append(f"page {number}: top margin {top:.1f} mm")
            if bottom < 20 - TOL:
                faults.append(f"page {number}: bottom margin {bottom:.1f} mm")
            closest = reach.setdefault(orientation, [99.0, 99.0])
            closest[0], closest[1] = min(closest[0], left), min(closest[1], right)
    for orientation, (left, right) in reach.items():
        if left > 35 + TOL:
            faults.append(f"{orientation}: left margin {left:.1f} mm")
        if right > 20 + TOL:
            faults.append(f"{orientation}: right margin {right:.1f} mm")
    return faults


def _is_page_number(obj, page, number) -> bool:
    return number > 1 and obj.get("text", "").isdigit() and obj["bottom"] <= 20 * MM + 1


def page_number_faults(pdf: bytes) -> list[str]:
    faults = []
    with _pages(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            head = page.crop((0, 0, page.width, 20 * MM)).extract_text() or ""
            expected = "" if number == 1 else str(number)
            if head.strip() != expected:
                faults.append(f"page {number}: top margin reads {head.strip()!r}")
            elif expected:
                word = page.crop((0, 0, page.width, 20 * MM)).extract_words()[0]
                centre = (word["x0"] + word["x1"]) / 2 / MM
                body_centre = (30 + page.width / MM - 15) / 2
                if abs(centre - body_centre) > 3:
                    faults.append(f"page {number}: number not centred ({centre:.0f} mm)")
    return faults


def broken_names(pdf: bytes, names: list[str]) -> list[str]:
    """A line ending inside one of ``names`` or between a number and its "%" sign."""
    lines: list[str] = []
    with _pages(pdf) as doc:
        for page in doc.pages:
            text = unicodedata.normalize("NFC", (page.extract_text() or "").replace("\u200b", ""))
            lines.extend(" ".join(line.split()) for line in text.splitlines())
    found = []
    for a, b in zip(lines, lines[1:], strict=False):
        if re.search(r"\d$", a) and b.startswith("%"):
            found.append(f"{a[-12:]} / {b[:12]}")
        for name in names:
            words = name.split()
            for k in range(1, len(words)):
                head, tail = " ".join(words[:k]), " ".join(words[k:])
                if a.endswith(head) and b.startswith(tail):
                    found.append(f"{a[-20:]} / {b[:20]}")
    return found


NAMES = sorted({n for pair in PROVINCES for n in pair} | {n.upper() for pair in PROVINCES for n in pair}, key=len,
               reverse=True)


# -- the tests ---------------------------------------------------------------------------------

_cache: dict[tuple[str, str], bytes] = {}


def rendered(size: str, name: str) -> bytes:
    if (size, name) not in _cache:
        template, context = documents(size)[name]
        _cache[(size, name)] = render(template, context)
    return _cache[(size, name)]


DOCS = list(documents("short"))


@pytest.mark.parametrize("size", ["short", "long", "extreme"])
@pytest.mark.parametrize("name", DOCS)
def test_layout_of_every_document(size, name):
    pdf = rendered(size, name)
    assert torn_rows(pdf) == []
    assert orphan_signatures(pdf) == []
    assert margin_faults(pdf) == []
    assert page_number_faults(pdf) == []
    assert broken_names(pdf, NAMES) == []


def test_long_documents_really_span_pages():
    """The long data makes the lists and the minutes run over many pages, so the checks see page breaks."""
    assert len(PdfReader(io.BytesIO(rendered("long", "list-04"))).pages) > 20
    assert len(PdfReader(io.BytesIO(rendered("long", "minutes-05"))).pages) > 5
    assert len(PdfReader(io.BytesIO(rendered("long", "declaration-01"))).pages) >= 3
    with _pages(rendered("long", "list-04")) as doc:
        assert all(p.width > p.height for p in doc.pages)  # landscape


def test_every_signed_document_has_its_signature_anchor():
    for name in DOCS:
        if name in ("ballot-07", "evidence"):
            continue
        reader = PdfReader(io.BytesIO(rendered("short", name)))
        assert any(str(k).startswith("signatures") for k in reader.named_destinations), name


def test_submission_letter_numbers_only_the_groups_present():
    text = " ".join((pdfplumber.open(io.BytesIO(rendered("short", "submission-letter-03"))).pages[0].extract_text()
                     or "").split())
    assert "1. Danh hiệu “Nghệ nhân ưu tú”" in text
    assert "2. Danh hiệu" not in text


# -- control tests: each check fails on the defect it guards against ---------------------------

ROWS_MAY_BREAK = "table.grid tr { break-inside: auto !important; page-break-inside: auto !important }"


def test_control_a_row_split_is_caught():
    template, context = documents("long")["list-04"]
    pdf = render(template, context, ROWS_MAY_BREAK)
    assert torn_rows(pdf)


def test_control_a_product_row_split_in_the_declaration_is_caught():
    template, context = documents("long")["declaration-01"]
    pdf = render(template, context, ROWS_MAY_BREAK)
    assert torn_rows(pdf)


def test_control_an_orphan_signature_block_is_caught(tmp_path, monkeypatch):
    """A template whose closing lines are not kept with the signatures, pushed to a new page."""
    orphan = tmp_path / "orphan.html"
    orphan.write_text(
        '{% extends "_base.html" %}{% from "_layout.html" import signature %}{% block content %}'
        "<p>Nội dung văn bản.</p>"
        '<table class="signatures" id="signatures" style="break-before: page"><tr><td></td>'
        '<td>{{ signature("Chủ tịch", "Nguyễn Văn A") }}</td></tr></table>{% endblock %}', encoding="utf-8")
    loader = engine._env.loader
    monkeypatch.setattr(engine._env, "loader", __import__("jinja2").ChoiceLoader(
        [loader, __import__("jinja2").FileSystemLoader(str(tmp_path))]))
    pdf = render("orphan.html", {})
    assert orphan_signatures(pdf) == [2]


def test_control_removing_the_closing_rule_lets_a_signature_stand_alone():
    """Without ``.closing`` kept together, some length of the minutes leaves the signatures alone."""
    css = ".closing, table.signatures { break-inside: auto !important; page-break-inside: auto !important }" \
          ".closing > p { break-after: page !important }"
    template, context = documents("short")["minutes-05"]
    assert orphan_signatures(render(template, context, css))


def test_control_a_25_mm_landscape_margin_is_caught():
    template, context = documents("short")["list-04"]
    pdf = render(template, context, "@page wide { margin-left: 25mm !important }")
    assert any("left margin" in f for f in margin_faults(pdf))


def test_control_a_name_or_percentage_break_is_caught():
    template, context = documents("long")["list-04"]
    pdf = render(template, context, ".name-nb, .nowrap { white-space: normal !important }"
                                    " table.grid td { hyphens: none }")
    assert broken_names(pdf, NAMES)


def test_control_a_page_number_on_page_one_is_caught():
    template, context = documents("long")["minutes-05"]
    pdf = render(template, context, "@page :first { @top-center { content: counter(page) !important } }")
    assert page_number_faults(pdf)


# -- the same documents made through the application (database, services, API) -----------------


@pytest.fixture
def chain(api, make, app, tmp_path):
    app.config["TODAY"] = None
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    return Chain(api, make)



def test_receipt_prints_the_reply_deadline_and_the_configured_address(chain, api, app):
    from datetime import timedelta

    from artisan_awards.extensions import db
    from artisan_awards.timeutil import local_date
    from workflows.states import State

    app.config["PUBLIC_BASE_URL"] = "https://nghenhan.soct.example.gov.vn"
    owner = chain.make.user("applicant")
    n = chain.make.nomination(State.SUBMITTED, owner=owner)
    pdf = assert_pdf(api.get(f"/api/v1/nominations/{n.id}/receipt.pdf", owner))
    text = text_of(pdf)
    db.session.refresh(n)
    due = local_date(n.received_at or n.submitted_at) + timedelta(days=n.round.reply_days)
    assert f"Hạn trả lời bằng văn bản: {due:%d/%m/%Y}" in text
    assert "https://nghenhan.soct.example.gov.vn/" in text and "localhost" not in text
    # The code is set in the body face, not a monospace one.
    fonts = {c["fontname"] for page in pdfplumber.open(io.BytesIO(pdf)).pages for c in page.chars
             if c["text"] in n.code}
    assert fonts and not any("Mono" in f for f in fonts), fonts
    assert orphan_signatures(pdf) == [] and margin_faults(pdf) == [] and page_number_faults(pdf) == []


def test_portrait_in_its_box_printed_once_and_same_names_kept_apart(chain, api):
    owner = chain.make.user("applicant")
    n = chain.make.nomination(owner=owner)
    _upload(api, owner, n, "portrait", "chan-dung.png", _png())
    _upload(api, owner, n, "photo", "san-pham.png", _png())
    _upload(api, owner, n, "award_decision", "bang-khen.pdf", _evidence_pdf())
    _upload(api, owner, n, "certificate", "bang-khen.pdf", _evidence_pdf())
    chain.act(n, "submit", owner)
    declaration = assert_pdf(api.get(f"/api/v1/nominations/{n.id}/declaration.pdf", owner))
    with pdfplumber.open(io.BytesIO(declaration)) as doc:
        images = doc.pages[0].images
        assert len(images) == 1
        box = images[0]
        # Fills the 40 x 60 mm box at the left margin (object-fit: cover crops a landscape photo's sides).
        assert abs((box["bottom"] - box["top"]) / MM - 60) < 1
        assert abs((box["x0"] + box["x1"]) / 2 / MM - (30 + 20)) < 1.5
    for archival in ("", "?archival=1"):
        text = text_of(assert_pdf(api.get(f"/api/v1/nominations/{n.id}/dossier.pdf{archival}", owner)))
        assert "In tại ô ảnh của bản khai" in text
        assert "bang-khen.pdf" in text and "bang-khen (2).pdf" in text
        assert "chan-dung.png" in text and "Ảnh 1: san-pham.png" in text and "chan-dung.png (mục" not in text
        assert ("đính kèm nguyên văn bên trong tệp PDF" in text) == bool(archival)
        assert ("đóng kèm nguyên văn sau danh mục" in text) == (not archival)


def test_minutes_say_what_minutes_must_say(chain, api):
    from artisan_awards.documents.data import clock
    from artisan_awards.extensions import db
    from artisan_awards.models import CouncilSession

    sid, a, b = _closed_session(chain)
    session = db.session.get(CouncilSession, sid)
    pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer))
    text = text_of(pdf)
    assert f"Thời gian: hồi {clock(session.opened_at)} ngày" in text
    assert f"Biên bản kết thúc hồi {clock(session.closed_at)}" in text
    assert "hồi …… giờ" not in text
    assert "Số thành viên có mặt: 11/11 thành viên, bằng 100,00 % tổng số thành viên Hội đồng" in text
    quorum = session.council.quorum
    assert f"từ {session.council.quorum_percent} % tổng số thành viên trở lên, tức ít nhất {quorum}/11" in text
    assert "số phiếu đồng ý bằng 90,91 % tổng số thành viên Hội đồng" in text
    assert "Nơi nhận:" in text and "Các thành viên Hội đồng" in text
    for kind in ("minutes", "tally", "list", "submission-letter"):
        pdf = assert_pdf(api.get(f"/api/v1/sessions/{sid}/{kind}.pdf", chain.officer))
        assert orphan_signatures(pdf) == [], kind
        assert margin_faults(pdf) == [], kind
        assert broken_names(pdf, NAMES) == [], kind


def test_the_national_list_has_its_issuing_body_signer_and_date(chain, client):
    round_ = chain.make.round()
    pdf = assert_pdf(client.get(f"/api/v1/public/consultations.pdf?round_id={round_.id}"))
    text = text_of(pdf)
    for expected in ("BỘ CÔNG THƯƠNG", "Số: ……/DS-BCT", "Hà Nội, ngày", "TL. BỘ TRƯỞNG",
                     "CỤC TRƯỞNG CỤC CÔNG THƯƠNG ĐỊA PHƯƠNG", "Nơi nhận:"):
        assert expected in text, expected
    assert orphan_signatures(pdf) == [] and margin_faults(pdf) == []
