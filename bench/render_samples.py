"""Render every document from sample data; save page 1 of each as docs/screenshots/pdf-*.png.

    .venv/bin/python bench/render_samples.py [OUT_DIR]

The PDFs stay in OUT_DIR (default: a new temporary folder); pdftoppm (poppler-utils) makes the PNGs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from samples import ROOT, build, make_app, nomination_body, tmpdir

SHOTS = ROOT / "docs" / "screenshots"


def notice_samples(app, ids: dict) -> dict:
    """The one-stop notices, issued through the real moves: a dossier received, returned with the list of
    what is missing, then closed; another received whose reply deadline is missed (the apology)."""
    from datetime import timedelta

    from artisan_awards.documents import notices
    from artisan_awards.extensions import db
    from artisan_awards.models import OneStopNotice
    from artisan_awards.schemas import NominationIn
    from artisan_awards.services import accounts
    from artisan_awards.services import nominations as service
    from artisan_awards.timeutil import local_date

    applicant, officer = accounts.find_user(ids["applicant"]), accounts.find_user(ids["officer"])

    def dossier(name, craft, i):
        body = nomination_body(ids["round_id"], name, craft, i=i)
        n = service.create_nomination(applicant, NominationIn.model_validate(body))
        service.perform(n, "submit", applicant)
        return n

    returned = dossier("Hoàng Thị Thêu", "Thêu ren Văn Lâm", 7)
    service.perform(returned, "return", officer, comment="Hồ sơ chưa đủ tài liệu minh chứng theo quy định.",
                    missing=["Bản sao Quyết định tặng Bằng khen của Chủ tịch Ủy ban nhân dân Thành phố Hà Nội năm 2020",
                             "Ảnh chụp rõ nét 03 sản phẩm tiêu biểu đã đạt giải",
                             "Xác nhận của Ủy ban nhân dân xã về số người đã được truyền nghề"])
    service.perform(returned, "close_incomplete", officer, comment="Quá hạn bổ sung, hoàn thiện hồ sơ.")
    late = dossier("Trịnh Văn Mộc", "Mộc mỹ nghệ Chàng Sơn", 8)
    notices.send_apologies(local_date(late.received_at) + timedelta(days=late.round.reply_days + 1))

    def pdf(n, kind):
        return db.session.scalars(db.select(OneStopNotice).where(OneStopNotice.nomination_id == n.id,
                                                                 OneStopNotice.kind == kind)).first().pdf

    class Issued:  # what ``documents`` holds: a download's bytes
        def __init__(self, data):
            self.pdf = data

    return {"notice-receipt": Issued(pdf(returned, "receipt")), "notice-request": Issued(pdf(returned, "request")),
            "notice-refusal": Issued(pdf(returned, "refusal")), "notice-apology": Issued(pdf(late, "apology"))}


def main() -> None:
    work = tmpdir()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else work / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    app = make_app(work)
    from artisan_awards.documents import service
    from artisan_awards.services import accounts

    with app.app_context():
        ids = build(app)
        officer = accounts.find_user(ids["officer"])
        with app.test_request_context():
            documents = {
                "declaration-01": service.nomination_document(officer, ids["nominations"][0], "declaration"),
                "declaration-02": service.nomination_document(officer, ids["nominations"][1], "declaration"),
                "summary-09": service.nomination_document(officer, ids["nominations"][0], "summary"),
                "summary-10": service.nomination_document(officer, ids["nominations"][1], "summary"),
                "dossier": service.nomination_document(officer, ids["nominations"][0], "dossier"),
                "dossier-archival": service.nomination_document(officer, ids["nominations"][0], "dossier",
                                                                archival=True),
                "receipt": service.nomination_document(officer, ids["nominations"][0], "receipt",
                                                       access_key="K7QM-3XPA"),
                "submission-letter-03": service.session_document(officer, ids["session_id"], "submission-letter"),
                "list-04": service.session_document(officer, ids["session_id"], "list"),
                "minutes-05": service.session_document(officer, ids["session_id"], "minutes"),
                "tally-06": service.session_document(officer, ids["session_id"], "tally"),
                "ballot-07-08": service.session_document(officer, ids["session_id"], "ballot"),
                "consultation-list": service.consultation_list(ids["round_id"], "public"),
            }
            documents.update(notice_samples(app, ids))
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The layout checks of tests/test_document_layout.py, run on the real documents too.
    sys.path.insert(0, str(ROOT))
    from tests.test_document_layout import NAMES, broken_names, margin_faults, orphan_signatures, page_number_faults

    faults = 0
    for name, download in documents.items():
        pdf = out / f"{name}.pdf"
        pdf.write_bytes(download.pdf)
        if not name.startswith(("dossier", "ballot")):  # joined parts number their own pages
            found = (orphan_signatures(download.pdf) + margin_faults(download.pdf)
                     + page_number_faults(download.pdf) + broken_names(download.pdf, NAMES))
            for fault in found:
                print(f"{name}: LAYOUT FAULT {fault}")
            faults += len(found)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                        str(SHOTS / f"pdf-{name}")], check=True)
        print(f"{name:22} {len(download.pdf) / 1024:7.1f} KB  {pdf}")
    # The evidence part of the dossier (the list of evidence), for the docs.
    import io

    from pypdf import PdfReader

    for name in ("dossier", "dossier-archival"):
        reader = PdfReader(io.BytesIO(documents[name].pdf))
        page = next(i for i, p in enumerate(reader.pages, start=1)
                    if "DANH MỤC TÀI LIỆU" in (p.extract_text() or ""))
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page), "-singlefile",
                        str(out / f"{name}.pdf"), str(SHOTS / f"pdf-{name}-evidence")], check=True)
    # Page 2 of the minutes: the closing lines kept with the signatures and "Nơi nhận".
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile",
                    str(out / "minutes-05.pdf"), str(SHOTS / "pdf-minutes-05-page2")], check=False)
    print(f"layout faults: {faults}")
    if faults:
        sys.exit(1)


if __name__ == "__main__":
    main()
