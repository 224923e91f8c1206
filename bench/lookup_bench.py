"""Public status lookup under load, side by side with a bare Flask primary-key read, in one run.

    .venv/bin/python bench/lookup_bench.py [--nominations 5000] [--seconds 10] [--workers 2]

A throwaway PostgreSQL cluster, the schema from the migrations, a few thousand submitted dossiers
(each with its code and access key), one gunicorn serving both the application and the bare
endpoint (bench/bench_wsgi.py), and wrk against:

* ``/bare/nominations/<id>``         bare Flask, one primary-key read, JSON
* ``/api/v1/status?code=..&key=..``  the public status lookup of the API (JSON)
* ``POST /public/status``            the same lookup as the public page (HTML): the form's fields
                                     ``code`` and ``key`` in the body, as a browser sends them

Each walks round robin through 1 000 different dossiers.  The lookup's rate limit is switched off
by configuration (RATELIMIT_ENABLED = False in bench/harness.py).  The page is looked up only by a
POST (a GET with the key in its address is redirected to the empty form, docs/security.md), so
the page's runs are checked to be result pages: no answer of 400 or above, and as many bytes per
answer as the result pages sampled before the run (the empty form and a redirect are shorter).

Targets (issue 8): lookup throughput at 50 connections >= 0.5x the bare endpoint's; lookup p95
latency at 10 connections <= 2x the bare endpoint's.  Issue 16: the page's throughput at 50
connections >= 0.7x the bare endpoint's.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import harness

TARGET_THROUGHPUT = 0.5
TARGET_P95 = 2.0
TARGET_PAGE_THROUGHPUT = 0.7
RESULT_MARKER = 'data-testid="citizen-label"'  # only a found dossier's result shows its citizen label


def seed(url: str, nominations: int) -> list[tuple[int, str, str]]:
    import sqlalchemy as sa

    from artisan_awards import create_app
    from artisan_awards.models import Province, Round, User

    # The server's configuration: the personal fields are encrypted with its keys (issue 17).
    app = create_app(harness.app_config(url, Path(tempfile.mkdtemp(prefix="aa-bench-"))))
    engine = sa.create_engine(url)
    with app.app_context(), engine.begin() as conn:
        conn.execute(sa.insert(User.__table__), [{
            "email": "owner@bench.vn", "full_name": "Người đề nghị", "password_hash": "x", "locale": "vi",
            "active": True, "email_confirmed": True}])
        owner_id = conn.scalar(sa.select(User.id))
        conn.execute(sa.insert(Round.__table__), [{
            "number": 6, "name": "Đợt 6", "governing_decree": "43/2024", "intake_opens": "2026-01-01",
            "intake_closes": "2026-12-31", "reply_days": 10, "completion_days": 15, "consultation_days": 20,
            "consultation_windows": 2, "deadlines": {}}])
        round_id = conn.scalar(sa.select(Round.id))
        provinces = list(conn.scalars(sa.select(Province.code).where(Province.active.is_(True))))
        states = ["submitted", "returned", "accepted", "province_passed", "ministry_review", "public_consultation",
                  "awarded", "withdrawn"]
        rows = harness.bulk_nominations(conn, nominations, round_ids=[round_id], owner_id=owner_id,
                                        provinces=provinces, states=states, with_keys=True)
        conn.execute(sa.text("ANALYZE nominations"))
    engine.dispose()
    return rows


def page_target(code: str, key: str) -> str:
    """One wrk line for the page: the path, a tab, the form body (harness.wrk POSTs it)."""
    return "/public/status\t" + urllib.parse.urlencode({"code": code, "key": key})


def post_page(base: str, line: str) -> tuple[int, bytes]:
    path, body = line.split("\t", 1)
    req = urllib.request.Request(base + path, data=body.encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_page(base: str, lines: list[str]) -> dict:
    """Before anything is timed: each sampled POST answers 200 with its dossier's result.

    Returns the smallest result page's length (the body alone; wrk counts headers too, so a run of
    result pages reads at least this much per answer) and the empty form's, for the report."""
    sizes = []
    for line in lines[:20]:
        status, body = post_page(base, line)
        code = urllib.parse.parse_qs(line.split("\t", 1)[1])["code"][0]
        text = body.decode()
        assert status == 200 and RESULT_MARKER in text and code in text, (status, line, text[:300])
        sizes.append(len(body))
    status, wrong = post_page(base, lines[0].rsplit("=", 1)[0] + "=WRONGKEY")
    assert status == 404 and RESULT_MARKER not in wrong.decode(), status
    with urllib.request.urlopen(base + "/public/status", timeout=30) as r:
        form = r.read()
    assert RESULT_MARKER not in form.decode()
    return {"result_min": min(sizes), "form": len(form)}


def median_run(runs: list[dict]) -> dict:
    """Each figure's median over the repeated runs (the machine is shared: runs drift)."""
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def run(server_url: str, *, nominations: int = 5000, seconds: int = 5, reps: int = 3, workers: int = 2,
        threads: int = 1, wrk_threads: int = 2, sample: int = 1000, with_page: bool = True, warm_up: bool = True,
        levels: tuple[int, int] = (50, 10)) -> dict:
    """Seed, serve, measure; the figures as a dict (see ``report``)."""
    work = Path(tempfile.mkdtemp(prefix="aa-lookup-"))
    url = harness.fresh_database(server_url, "aa_bench_lookup")
    rows = seed(url, nominations)
    picked = random.Random(8).sample(rows, min(sample, len(rows)))
    targets = {
        "bare": [f"/bare/nominations/{i}" for i, _c, _k in picked],
        "lookup": [f"/api/v1/status?code={c}&key={k}" for _i, c, k in picked],
    }
    if with_page:
        targets["page"] = [page_target(c, k) for _i, c, k in picked]
    high, low = levels  # connections for the throughput, connections for the latency
    out = {"nominations": nominations, "seconds": seconds, "reps": reps, "levels": levels}
    with harness.Gunicorn(url, work, workers=workers, threads=threads) as server:
        out["server"] = server.settings
        # Every path answers 200 with the right dossier before anything is timed.
        status, body = harness.get_json(server.base + targets["lookup"][0])
        assert status == 200 and body["code"] == picked[0][1], (status, body)
        status, body = harness.get_json(server.base + targets["bare"][0])
        assert status == 200 and body["code"] == picked[0][1], (status, body)
        if with_page:
            out["page_sizes"] = check_page(server.base, targets["page"])
        for paths in targets.values() if warm_up else ():  # warm up: imports, pools, template and catalogue caches
            harness.wrk(server.base, paths, 10, max(1, seconds // 5), wrk_threads, work)
        # Interleaved: bare, lookup, page, bare, lookup, page, ... so that a slow moment of the
        # machine falls on every endpoint alike; each figure is the median of the ``reps`` runs.
        for connections in dict.fromkeys(levels):
            runs: dict = {name: [] for name in targets}
            for _rep in range(reps):
                for name, paths in targets.items():
                    runs[name].append(harness.wrk(server.base, paths, connections, seconds, wrk_threads, work))
            for name in targets:
                out[(name, connections)] = median_run(runs[name])
    out["throughput_ratio"] = out[("lookup", high)]["rps"] / out[("bare", high)]["rps"]
    out["p95_ratio"] = out[("lookup", low)]["p95"] / out[("bare", low)]["p95"]
    if with_page:
        out["page_throughput_ratio"] = out[("page", high)]["rps"] / out[("bare", high)]["rps"]
        out["page_p95_ratio"] = out[("page", low)]["p95"] / out[("bare", low)]["p95"]
        # Every timed page answer a result page: wrk counts no status error, and reads per answer at
        # least the smallest sampled result page's body (headers come on top).
        out["page_answers_ok"] = all(
            out[("page", c)]["status_errors"] == 0
            and out[("page", c)]["bytes_per_response"] >= out["page_sizes"]["result_min"]
            for c in dict.fromkeys(levels))
    return out


def report(out: dict) -> None:
    print(f"Status lookup vs bare primary-key read - {out['nominations']} dossiers in PostgreSQL, "
          f"gunicorn {out['server']},\nwrk {out['seconds']} s per run, endpoints interleaved, "
          f"median of {out['reps']} runs each")
    print(f"{'endpoint':<10}{'conns':>6}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'bytes/ans':>10}")
    high, low = out["levels"]
    for connections in dict.fromkeys(out["levels"]):
        for name in ("bare", "lookup", "page"):
            r = out.get((name, connections))
            if r:
                print(f"{name:<10}{connections:>6}{r['rps']:>10.0f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}"
                      f"{r['socket_errors'] + r['status_errors']:>8.0f}{r['bytes_per_response']:>10.0f}")
    ok_t = out["throughput_ratio"] >= TARGET_THROUGHPUT
    ok_l = out["p95_ratio"] <= TARGET_P95
    print(f"lookup (API) throughput at {high} conns: {out['throughput_ratio']:.2f}x bare "
          f"(target >= {TARGET_THROUGHPUT}x) {harness.verdict(ok_t)}")
    print(f"lookup (API) p95 at {low} conns:        {out['p95_ratio']:.2f}x bare "
          f"(target <= {TARGET_P95}x) {harness.verdict(ok_l)}")
    if "page_throughput_ratio" in out:
        sizes = out["page_sizes"]
        print(f"page answers were result pages:        {harness.verdict(out['page_answers_ok'])} "
              f"(no status error; bytes per answer >= {sizes['result_min']}, the smallest sampled result page; "
              f"the empty form is {sizes['form']})")
        ok_p = out["page_throughput_ratio"] >= TARGET_PAGE_THROUGHPUT and out["page_answers_ok"]
        print(f"lookup (page, POST) throughput at {high} conns: {out['page_throughput_ratio']:.2f}x bare "
              f"(target >= {TARGET_PAGE_THROUGHPUT}x) {harness.verdict(ok_p)}")
        print(f"lookup (page, POST) p95 at {low} conns, for information: {out['page_p95_ratio']:.2f}x bare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nominations", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--reps", type=int, default=3, help="runs per endpoint and level (median taken)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the machine has 2 CPUs)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (1: sync workers)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--no-page", action="store_true", help="skip the HTML page")
    args = parser.parse_args()
    with harness.postgres() as server_url:
        out = run(server_url, nominations=args.nominations, seconds=args.seconds, reps=args.reps, workers=args.workers,
                  threads=args.threads, wrk_threads=args.wrk_threads, with_page=not args.no_page)
    report(out)


if __name__ == "__main__":
    main()
