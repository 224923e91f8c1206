"""PDF benchmark: the 10-page dossier, the 250-row list and minutes, cached re-downloads, raw WeasyPrint.

    .venv/bin/python bench/pdf_bench.py                # everything
    .venv/bin/python bench/pdf_bench.py --cached-only  # the same data, only the cached re-downloads
    .venv/bin/python bench/pdf_bench.py --reuse DIR    # the cached re-downloads on an earlier run's data

Sample data go through the real operations into a throwaway SQLite database (bench/samples.py).
Targets (issue 5): the 10-page dossier in at most 1 s and at most 1.2x raw WeasyPrint on the same
HTML; a cached re-download in at most 20 ms.
"""

from __future__ import annotations

import gc
import io
import os
import statistics
import sys
import time
from pathlib import Path

from samples import PASSWORD, build, make_app, nomination_body, tmpdir

CACHED_ONLY = "--cached-only" in sys.argv


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def pages(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def raw_weasyprint(spec, runs: int = 5) -> float:
    """WeasyPrint alone on the very HTML of the spec's parts (rendered beforehand), same variant."""
    import weasyprint

    from artisan_awards.documents import engine

    htmls = [engine.render_html(p.template, p.context) for p in spec.parts]

    def run():
        fetcher = engine.SafeFetcher(spec.blobs)
        for html in htmls:
            # the stylesheet parsed for each render, as plain WeasyPrint does (the engine keeps it)
            weasyprint.HTML(string=html, base_url=engine.BASE_URL, url_fetcher=fetcher).write_pdf(
                stylesheets=[weasyprint.CSS(filename=str(engine.STYLESHEET))],
                **({"pdf_variant": spec.variant} if spec.variant else {}))

    return timed(run, runs)[0]


def phases(make_spec, runs: int = 3) -> dict[str, float]:
    """Where a made document's time goes (medians of ``runs``, garbage collected before each): the
    data and spec (queries, plain data), the HTML (Jinja), WeasyPrint's layout, its PDF writing, and
    what the engine does after it (joining parts, appending or embedding evidence with pikepdf)."""
    import weasyprint

    from artisan_awards.documents import engine

    spans: dict[str, list[float]] = {"data": [], "html": [], "layout": [], "write": [], "after": []}
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        spec = make_spec()
        t1 = time.perf_counter()
        htmls = [engine.render_html(p.template, p.context) for p in spec.parts]
        t2 = time.perf_counter()
        fetcher = engine.SafeFetcher(spec.blobs)
        documents = [weasyprint.HTML(string=h, base_url=engine.BASE_URL, url_fetcher=fetcher).render(
                     stylesheets=[engine.stylesheet()], font_config=engine.font_config()) for h in htmls]
        joined = documents[0].copy([page for d in documents for page in d.pages])
        t3 = time.perf_counter()
        pdf = joined.write_pdf(**({"pdf_variant": spec.variant} if spec.variant else {}))
        t4 = time.perf_counter()
        if spec.appended:
            pdf = engine.append_pdfs(pdf, spec.appended)
        t5 = time.perf_counter()
        for name, value in zip(spans, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            spans[name].append(value)
    return {name: statistics.median(values) for name, values in spans.items()}


def show_phases(label: str, spans: dict[str, float]) -> None:
    total = sum(spans.values())
    print(f"  {label} by phase (median ms): " + ", ".join(
        f"{name} {value * 1000:.0f} ({value / total:.0%})" for name, value in spans.items()))


def main() -> None:
    from artisan_awards.documents import engine, service
    from artisan_awards.extensions import db
    from artisan_awards.models import Nomination
    from artisan_awards.schemas import CouncilIn, NominationIn, SessionIn
    from artisan_awards.services import accounts, councils
    from artisan_awards.services import nominations as nominations_service

    work = tmpdir()
    app = make_app(work)
    print(f"sample database and cache in {work}")
    with app.app_context(), app.test_request_context():
        ids = build(app, long=10, photos=2, pdfs=1, products=16)
        officer = accounts.find_user(ids["officer"])
        nomination = db.session.get(Nomination, ids["nomination_id"])

        if not CACHED_ONLY:
            # 1. The 10-page dossier, made afresh each time (cache off) vs raw WeasyPrint.
            app.config["DOCUMENTS_CACHE"] = False
            service.nomination_document(officer, nomination.id, "dossier")  # warm fonts and templates
            spec = service.dossier_spec(nomination)
            # Interleave the two measurements so that drift on a shared machine hits both alike, and
            # collect garbage before each: a full collection of WeasyPrint's object graph otherwise lands
            # in every other measurement (pair ratios alternating 1.4 / 0.6 under load), which is why one
            # run reported 1.36x and others 1.01-1.07x for the same code.
            made_times, raw_times = [], []
            for _ in range(7):
                gc.collect()
                t, download = timed(lambda: service.nomination_document(officer, nomination.id, "dossier"), 1)
                made_times.append(t)
                gc.collect()
                raw_times.append(raw_weasyprint(spec, runs=1))
            made, raw = statistics.median(made_times), statistics.median(raw_times)
            pairs = sorted(m / r for m, r in zip(made_times, raw_times, strict=True))
            print(f"dossier: {pages(download.pdf)} pages ({len(spec.parts)} parts + appended evidence), "
                  f"{made * 1000:.0f} ms; raw WeasyPrint on the same HTML {raw * 1000:.0f} ms; "
                  f"ratio {made / raw:.2f} (pairs {pairs[0]:.2f}-{pairs[-1]:.2f})  [target <= 1000 ms and <= 1.2x]")
            show_phases("dossier", phases(lambda: service.dossier_spec(nomination)))

        # 2. A 250-row list (Mẫu 04): 250 nominees through a provincial session.
        applicant = accounts.find_user(ids["applicant"])
        start = time.perf_counter()
        many = []
        for i in range(250):
            body = nomination_body(ids["round_id"], f"Nghệ nhân Thử Nghiệm {i:03d}", "Gốm sứ Bát Tràng",
                                   title="people" if i % 3 == 0 else "meritorious", i=i, products=2)
            n = nominations_service.create_nomination(applicant, NominationIn.model_validate(body))
            nominations_service.submit(n, applicant)
            nominations_service.accept(n, officer)
            many.append(n)
        members = [accounts.create_user(f"hd250.{k}@example.vn", PASSWORD, f"Thành viên {k}",
                                        ("province_council_member",), "HNI") for k in range(7)]
        council = councils.create_council(officer, CouncilIn.model_validate({
            "level": "province", "province_code": "HNI", "round_id": ids["round_id"], "name": "Hội đồng 250",
            "decision_no": "250/QĐ-UBND",
            "members": [{"email": u.email, "position": "chair" if k == 0 else "member"}
                        for k, u in enumerate(members)]}))
        session = councils.create_session(officer, council, SessionIn(
            held_on=nomination.submitted_at.date(), nomination_ids=[n.id for n in many]))
        councils.set_attendance(officer, session, [u.email for u in members])
        councils.open_session(officer, session)
        for member in members:
            councils.cast_ballot(member, session, {str(n.id): "yes" for n in many})
        councils.close_session(officer, session)
        print(f"(250 nominees voted through the services in {time.perf_counter() - start:.1f} s)")
        if not CACHED_ONLY:
            db.session.expire_all()
            list_spec = service.session_spec(session, "list")
            made_times, raw_times = [], []
            for _ in range(3):  # interleaved, garbage collected before each (see the dossier above)
                gc.collect()
                db.session.expire_all()
                t, download = timed(lambda: service.session_document(officer, session.id, "list"), 1)
                made_times.append(t)
                gc.collect()
                raw_times.append(raw_weasyprint(list_spec, runs=1))
            listed, raw_list = statistics.median(made_times), statistics.median(raw_times)
            if os.environ.get("PROFILE"):
                import cProfile
                import pstats

                cProfile.runctx('service.session_document(officer, session.id, "list")', globals(), locals(),
                                "/tmp/list.prof")
                pstats.Stats("/tmp/list.prof").sort_stats("tottime").print_stats(25)
            print(f"list of 250 (Mẫu 04): {pages(download.pdf)} pages, {listed * 1000:.0f} ms; "
                  f"raw WeasyPrint {raw_list * 1000:.0f} ms; ratio {listed / raw_list:.2f} "
                  f"(pairs {min(m / r for m, r in zip(made_times, raw_times, strict=True)):.2f}-"
                  f"{max(m / r for m, r in zip(made_times, raw_times, strict=True)):.2f})  [target <= 1.2x]")
            show_phases("list", phases(lambda: service.session_spec(session, "list"), runs=1))
            made_times, raw_times = [], []
            minutes_spec = service.session_spec(session, "minutes")
            for _ in range(3):
                gc.collect()
                db.session.expire_all()
                t, download = timed(lambda: service.session_document(officer, session.id, "minutes"), 1)
                made_times.append(t)
                gc.collect()
                raw_times.append(raw_weasyprint(minutes_spec, runs=1))
            made, raw = statistics.median(made_times), statistics.median(raw_times)
            print(f"minutes of 250 (Mẫu 05): {pages(download.pdf)} pages, {made * 1000:.0f} ms; "
                  f"raw WeasyPrint {raw * 1000:.0f} ms; ratio {made / raw:.2f} "
                  f"(pairs {min(m / r for m, r in zip(made_times, raw_times, strict=True)):.2f}-"
                  f"{max(m / r for m, r in zip(made_times, raw_times, strict=True)):.2f})  [target <= 1.2x]")

        # 3. The cached re-download, as a client sees it (API, bearer token) and in the service.
        app.config["DOCUMENTS_CACHE"] = True
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"email": ids["officer"], "password": PASSWORD}
                            ).get_json()["token"]
        url = f"/api/v1/nominations/{nomination.id}/dossier.pdf"
        first = client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert first.headers["X-Document-Cache"] == "miss"
        cached, response = timed(lambda: client.get(url, headers={"Authorization": f"Bearer {token}"}), 30)
        assert response.headers["X-Document-Cache"] == "hit" and response.data == first.data
        in_service, hit = timed(lambda: service.nomination_document(officer, nomination.id, "dossier"), 30)
        assert hit.cached
        print(f"cached re-download of the dossier: {cached * 1000:.1f} ms over HTTP (API), "
              f"{in_service * 1000:.1f} ms in the service  [target <= 20 ms]")
        # Each HTTP request starts with nothing loaded, as in production: the 250-row documents'
        # data (250 dossiers with their periods and products) would have to be read again.
        for kind in ("list", "minutes"):
            url = f"/api/v1/sessions/{session.id}/{kind}.pdf"
            first = client.get(url, headers={"Authorization": f"Bearer {token}"})
            assert first.status_code == 200, first.get_json()
            cached, response = timed(lambda url=url: client.get(url, headers={"Authorization": f"Bearer {token}"}),
                                     30)
            assert response.headers["X-Document-Cache"] == "hit" and response.data == first.data
            print(f"cached re-download of the {kind} of 250: {cached * 1000:.1f} ms over HTTP (API)  "
                  f"[target <= 20 ms]")
        key = engine.cache_key(service.dossier_spec(nomination))
        print(f"cache key {key[:16]}..., {sum(1 for _ in (work / 'documents').rglob('*.pdf'))} cached file(s)")


def cached_only(work: Path, rounds: int = 3, runs: int = 30) -> None:
    """``--reuse DIR``: the cached re-downloads on the sample data an earlier run left in ``DIR``
    (the dossier, the list and minutes of 250), ``rounds`` times over, medians of ``runs`` requests
    each. Run it in two trees one after the other, alternately, for a side-by-side on the same data."""
    import sqlite3
    from contextlib import closing

    app = make_app(work)
    with closing(sqlite3.connect(work / "samples.sqlite")) as con:
        nomination_id = con.execute("SELECT min(id) FROM nominations").fetchone()[0]
        session_id = con.execute("SELECT max(session_id) FROM agenda_items").fetchone()[0]
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": "so.hanoi@example.vn", "password": PASSWORD}
                        ).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    urls = {"dossier": f"/api/v1/nominations/{nomination_id}/dossier.pdf",
            "list of 250": f"/api/v1/sessions/{session_id}/list.pdf",
            "minutes of 250": f"/api/v1/sessions/{session_id}/minutes.pdf"}
    for url in urls.values():  # warm: this tree's look-up recorded (the PDFs are found by their full key)
        assert client.get(url, headers=headers).status_code == 200
    for r in range(rounds):
        figures = []
        for name, url in urls.items():
            gc.collect()
            walls, cpus = [], []
            for _ in range(runs):
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(url, headers=headers)
                cpus.append(time.process_time() - cpu)
                walls.append(time.perf_counter() - wall)
            assert response.headers["X-Document-Cache"] == "hit"
            figures.append(f"{name} {statistics.median(walls) * 1000:.1f} ms "
                           f"(CPU {statistics.median(cpus) * 1000:.1f} ms)")
        print(f"cached re-downloads over HTTP (API), round {r + 1}, medians of {runs} (wall, and this process's "
              f"CPU time, which the other sessions' load does not stretch): " + ", ".join(figures)
              + "  [target <= 20 ms]")


if __name__ == "__main__":
    if "--reuse" in sys.argv:
        cached_only(Path(sys.argv[sys.argv.index("--reuse") + 1]))
    else:
        main()
