"""Render every document from sample data; save page 1 of each as docs/screenshots/pdf-*.png.

    .venv/bin/python bench/render_samples.py [OUT_DIR]

The PDFs stay in OUT_DIR (default: a new temporary folder); pdftoppm (poppler-utils) makes the PNGs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from samples import ROOT, build, make_app, tmpdir

SHOTS = ROOT / "docs" / "screenshots"


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
