"""One render of each official document, the stylesheet parsed per render (as before) and kept.

    .venv/bin/python bench/pdf_render_bench.py [ROUNDS]     # default 5

Side by side in one process: for every document type of tests/test_document_layout.py (its short
data: one or two pages, the size users download most), the same HTML is rendered to PDF/A-3b
(layout and writing, as ``engine.build_pdf`` does) in alternation

* ``linked``: with ``<link rel=stylesheet href=.../decree30.css>`` in its head, fetched and parsed
  by WeasyPrint for each render (the application before the stylesheet was kept);
* ``kept``: with ``engine.stylesheet()``, parsed once per process.

CPU time (``time.process_time``) of each render, median of ROUNDS, garbage collected before each.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint  # noqa: E402

from artisan_awards.documents import engine  # noqa: E402
from tests import test_document_layout as samples  # noqa: E402

LINK = f'<link rel="stylesheet" href="{engine.STATIC_URL}decree30.css">'


def render(html: str, blobs: dict, linked: bool) -> bytes:
    fetcher = engine.SafeFetcher(blobs)
    document = weasyprint.HTML(string=html, base_url=engine.BASE_URL, url_fetcher=fetcher).render(
        stylesheets=None if linked else [engine.stylesheet()], font_config=engine.font_config())
    return document.write_pdf(pdf_variant=engine.DEFAULT_VARIANT)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    blobs = {"portrait": engine.Blob("0" * 64, samples.portrait_png, "image/png")}
    docs = samples.documents("short")
    render(engine.render_html(*docs["declaration-01"]), blobs, False)  # fonts, imports
    print(f"{'document':22s} {'linked ms':>10s} {'kept ms':>8s} {'saved':>6s}")
    totals = [0.0, 0.0]
    for name, (template, context) in docs.items():
        html = engine.render_html(template, context)
        assert "<link" not in html
        linked_html = html.replace("</title>", "</title>" + LINK, 1)
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for linked in (True, False):
                gc.collect()
                start = time.process_time()
                render(linked_html if linked else html, blobs, linked)
                times[linked].append(time.process_time() - start)
        a, b = statistics.median(times[True]) * 1000, statistics.median(times[False]) * 1000
        totals[0] += a
        totals[1] += b
        print(f"{name:22s} {a:10.1f} {b:8.1f} {(a - b) / a:6.0%}")
    saved = (totals[0] - totals[1]) / totals[0]
    print(f"{'all ' + str(len(docs)):22s} {totals[0]:10.1f} {totals[1]:8.1f} {saved:6.0%}")


if __name__ == "__main__":
    main()
