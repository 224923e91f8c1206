"""List and dashboard pages at 1 000 and at 100 000 nominations: time ratio and SQL queries per page.

    .venv/bin/python bench/pages_bench.py [--small 1000] [--large 100000] [--runs 7] [--rounds 1]

A throwaway PostgreSQL cluster, the schema from the migrations, then nominations inserted in bulk
(one executemany through SQLAlchemy core, PostgreSQL's insertmanyvalues): first ``--small``, the
pages are measured, then more up to ``--large`` and they are measured again.  States are spread
evenly over every state past the draft, provinces over the 34 in force, receipt dates over the
last 400 days; all in one round by default (the dashboard shows one round: the worst case).

Each page is measured twice at each size:

* over HTTP, through gunicorn (2 sync workers) with wrk (2 connections, ``--seconds`` each), logged in
  through the real login form: p50 and p95 latency; **the verdict uses the p50 ratio**;
* through Flask's test client in this process, median of ``--runs`` requests after one warm-up, with
  SQL statements counted by a ``before_cursor_execute`` listener on the engine (the query count, and
  where the time goes).

Hà Nội, the province whose inbox is measured, holds a fixed quarter of the dossiers at both sizes,
so that its inbox shows a full page (50 rows) at 1 000 as at 100 000: the ratio then measures the
growth of the table, not a page of 6 rows against a page of 50.

Pages:

* ``/province/inbox``      the provincial secretariat's inbox (province officer, Hà Nội)
* ``/ministry/nominations`` the ministry's list of every dossier (ministry officer)
* ``/ministry/dashboard``   the round at a glance (ministry officer)

Target (issue 8): time at the large size <= 1.5x the time at the small one, and the same number
of queries at both sizes.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import harness

TARGET_INBOX_RATIO = 1.25  # issue 16, acceptance 5: the province inbox
TARGET_RATIO = 1.5
PAGES = {
    "province inbox": ("/province/inbox", "officer.hni@bench.vn"),
    "ministry list": ("/ministry/nominations", "officer@bo.bench.vn"),
    "ministry dashboard": ("/ministry/dashboard", "officer@bo.bench.vn"),
}


def setup(app, rounds: int) -> dict:
    import sqlalchemy as sa

    from artisan_awards.extensions import db
    from artisan_awards.models import Province, Round
    from artisan_awards.services import accounts
    from workflows.states import State

    with app.app_context():
        owner = accounts.create_user("owner@bench.vn", harness.PASSWORD, "Người đề nghị", ("applicant",))
        accounts.create_user("officer.hni@bench.vn", harness.PASSWORD, "Cán bộ Sở", ("province_officer",), "HNI")
        accounts.create_user("officer@bo.bench.vn", harness.PASSWORD, "Cán bộ Bộ", ("ministry_officer",))
        for i in range(rounds):
            db.session.add(Round(number=7 - rounds + i, name=f"Đợt {7 - rounds + i}", intake_opens="2026-01-01",
                                 intake_closes="2026-12-31", deadlines={"province_to_ministry": "2026-09-30"}))
        db.session.commit()
        return {
            "owner_id": owner.id,
            "round_ids": list(db.session.scalars(sa.select(Round.id).order_by(Round.number))),
            # Hà Nội: 11 of every 44 dossiers (a quarter), so its inbox page is full at both sizes.
            "provinces": ["HNI"] * 11 + [*db.session.scalars(
                sa.select(Province.code).where(Province.active.is_(True), Province.code != "HNI")
                .order_by(Province.code))],
            "states": [s.value for s in State if s != State.DRAFT],
        }


def grow(app, seed: dict, have: int, want: int, rng: random.Random) -> None:
    import sqlalchemy as sa

    from artisan_awards.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        for start in range(have, want, 20000):
            harness.bulk_nominations(conn, min(20000, want - start), start=start, rng=rng, **seed)
    # A bulk load leaves what years of intake would not: the counters of nomination_counts (0011's
    # triggers, once per INSERT statement of ~1 000 rows) rewritten some hundred times in a minute,
    # so their table holds hundreds of dead pages that autovacuum has not yet reclaimed, and the
    # inbox's counters then read 700 pages for 21 rows. Vacuumed and analysed, as autovacuum would
    # leave them, at both sizes alike.
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE nominations"))
        conn.execute(sa.text("VACUUM ANALYZE nomination_counts"))


def measure(app, runs: int) -> dict:
    import sqlalchemy as sa

    from artisan_awards.extensions import db

    counter = {"n": 0, "log": []}

    def count(_conn, _cursor, statement, _params, context, _many):
        counter["n"] += 1
        context._bench_start = time.perf_counter()

    def done(_conn, _cursor, statement, _params, context, _many):
        counter["log"].append(((time.perf_counter() - context._bench_start) * 1000, " ".join(statement.split())))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    sa.event.listen(engine, "after_cursor_execute", done)
    out = {}
    try:
        for name, (path, email) in PAGES.items():
            client = app.test_client()
            r = client.post("/login", data={"email": email, "password": harness.PASSWORD})
            assert r.status_code == 302, (email, r.status_code)
            samples, queries = [], set()
            for i in range(runs + 1):
                counter["n"], counter["log"] = 0, []
                start = time.perf_counter()
                r = client.get(path)
                elapsed = time.perf_counter() - start
                assert r.status_code == 200, (path, r.status_code)
                queries.add(counter["n"])
                if i:  # the first one warms caches
                    samples.append((elapsed * 1000, sum(ms for ms, _s in counter["log"]), counter["log"]))
            ms, sql_ms, log = sorted(samples, key=lambda sample: sample[0])[len(samples) // 2]  # the median run
            out[name] = {"ms": ms, "queries": max(queries), "bytes": len(r.data), "sql_ms": sql_ms,
                         "slowest": sorted(log, reverse=True)[:3]}
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        sa.event.remove(engine, "after_cursor_execute", done)
    return out


def measure_http(url: str, work: Path, seconds: int) -> dict:
    """Each page over HTTP through gunicorn, driven by wrk with the session of a real login."""
    out = {}
    with harness.Gunicorn(url, work, workers=2) as server:
        for name, (path, email) in PAGES.items():
            headers = harness.http_login(server.base, email)
            harness.wrk(server.base, [path], 2, 1, 2, work, headers)  # warm-up
            result = harness.wrk(server.base, [path], 2, seconds, 2, work, headers)
            if result["status_errors"] or result["socket_errors"]:
                raise RuntimeError(f"{path}: {result['status_errors']} non-2xx answers, "
                                   f"{result['socket_errors']} socket errors")
            out[name] = result
    return out


def run(server_url: str, *, small: int = 1000, large: int = 100_000, runs: int = 7, rounds: int = 1,
        seconds: int = 5) -> dict:
    from artisan_awards import create_app

    work = Path(tempfile.mkdtemp(prefix="aa-pages-"))
    url = harness.fresh_database(server_url, "aa_bench_pages")
    app = create_app(harness.app_config(url, work, WTF_CSRF_ENABLED=False))
    seed = setup(app, rounds)
    rng = random.Random(100)
    out = {"small": small, "large": large, "runs": runs, "rounds": rounds}
    start = time.perf_counter()
    grow(app, seed, 0, small, rng)
    out["seed_small_s"] = time.perf_counter() - start
    out[small] = measure(app, runs)
    out["http", small] = measure_http(url, work, seconds)
    start = time.perf_counter()
    grow(app, seed, small, large, rng)
    out["seed_large_s"] = time.perf_counter() - start
    out[large] = measure(app, runs)
    out["http", large] = measure_http(url, work, seconds)
    with app.app_context():
        from artisan_awards.extensions import db

        db.engine.dispose()
    return out


def report(out: dict) -> None:
    small, large = out["small"], out["large"]
    print(f"List and dashboard pages - PostgreSQL, {out['rounds']} round(s)")
    print(f"bulk insert: {small} nominations in {out['seed_small_s']:.1f} s, "
          f"{large - small} more in {out['seed_large_s']:.1f} s")
    print("over HTTP: gunicorn (2 sync workers) + wrk (2 connections), logged in through the login form")
    print(f"{'page':<20}{'p50 ' + str(small):>12}{'p50 ' + str(large):>13}{'ratio':>8}"
          f"{'p95 ' + str(small):>12}{'p95 ' + str(large):>13}{'req/s ' + str(large):>14}")
    for name in PAGES:
        a, b = out["http", small][name], out["http", large][name]
        print(f"{name:<20}{a['p50']:>9.1f} ms{b['p50']:>10.1f} ms{b['p50'] / a['p50']:>7.2f}x"
              f"{a['p95']:>9.1f} ms{b['p95']:>10.1f} ms{b['rps']:>14.0f}")
    print(f"in process (Flask test client, median of {out['runs']} requests), with the SQL statements per page:")
    print(f"{'page':<20}{small:>9} ms{large:>9} ms{'ratio':>8}{'queries':>10}{'':>3}"
          f"{'KiB at ' + str(large):>14}  verdict (HTTP p50 ratio, queries)")
    for name in PAGES:
        a, b = out[small][name], out[large][name]
        ratio = b["ms"] / a["ms"]
        http_ratio = out["http", large][name]["p50"] / out["http", small][name]["p50"]
        same = a["queries"] == b["queries"]
        ok = http_ratio <= TARGET_RATIO and same
        print(f"{name:<20}{a['ms']:>12.1f}{b['ms']:>12.1f}{ratio:>7.1f}x{a['queries']:>6} -> {b['queries']:<4}"
              f"{b['bytes'] / 1024:>14.0f}  {harness.verdict(ok)}"
              f"{'' if http_ratio <= TARGET_RATIO else ' (time)'}{'' if same else ' (queries grow)'}")
    print(f"where the time goes at {large} (the median request: SQL, the rest, the slowest statements):")
    for name in PAGES:
        b = out[large][name]
        print(f"  {name}: {b['sql_ms']:.1f} ms in {b['queries']} SQL statements, "
              f"{b['ms'] - b['sql_ms']:.1f} ms in Python (ORM loading, template)")
        for ms, statement in b["slowest"]:
            print(f"    {ms:8.1f} ms  {statement[:150]}")
    print(f"target: HTTP p50 ratio <= {TARGET_RATIO}x and the same query count at both sizes")
    inbox = out["http", large]["province inbox"]["p50"] / out["http", small]["province inbox"]["p50"]
    print(f"province inbox at {large} at most {TARGET_INBOX_RATIO}x its p50 at {small} (issue 16): "
          f"{inbox:.2f}x {harness.verdict(inbox <= TARGET_INBOX_RATIO)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1, help="spread the nominations over this many rounds")
    parser.add_argument("--seconds", type=int, default=5, help="wrk's run per page and size")
    args = parser.parse_args()
    with harness.postgres() as server_url:
        out = run(server_url, small=args.small, large=args.large, runs=args.runs, rounds=args.rounds,
                  seconds=args.seconds)
    report(out)


if __name__ == "__main__":
    main()
