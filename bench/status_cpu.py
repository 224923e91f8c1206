"""The public status page in process: the CPU one request costs, beside the bare read and the API lookup.

    .venv/bin/python bench/status_cpu.py [--reps 5] [--requests 200] [--profile page]

``lookup_bench.py`` measures over HTTP, where on a shared machine the other processes' load swamps
the figures; this script sends the same requests through Werkzeug's test client to exactly what
gunicorn serves there (``bench_wsgi.application``: the application, and the bare Flask endpoint at
``/bare``), in one process, and reports the CPU time that process spent per request
(``time.process_time``), which the load stretches far less.  The database is real: a throwaway
PostgreSQL cluster, the schema from the migrations, the bench's 5 000 dossiers (``lookup_bench.seed``).
No cookies are kept (wrk sends none).  The three endpoints are interleaved, ``--reps`` rounds of
``--requests`` requests each, each walking the same sampled dossiers; the figures are the medians, and
the medians of each round's ratios (page / bare, page / API, API / bare).
Every answer is checked (200, the dossier's code in it; the page's citizen label).
``--profile page`` writes a cProfile of the page's requests (CPU clock) to ``status_page.prof``.
Run it in two trees one after the other, alternately, for a side-by-side (docs/performance.md).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

import harness
import lookup_bench


def measure(reps: int, requests: int, nominations: int, profile: str | None) -> dict:
    with harness.postgres() as server_url:
        url = harness.fresh_database(server_url, "aa_bench_status_cpu")
        rows = lookup_bench.seed(url, nominations)
        picked = random.Random(8).sample(rows, min(requests, len(rows)))
        os.environ["BENCH_DATABASE_URL"] = url
        os.environ["BENCH_WORK"] = tempfile.mkdtemp(prefix="aa-status-cpu-")
        import bench_wsgi  # what gunicorn serves (ends with gc.freeze(), as production's wsgi.py)
        from werkzeug.test import Client

        client = Client(bench_wsgi.application, use_cookies=False)

        def bare(i, code, key):
            r = client.get(f"/bare/nominations/{i}")
            assert r.status_code == 200 and code in r.text, r.status_code

        def api(i, code, key):
            r = client.get(f"/api/v1/status?code={code}&key={key}")
            assert r.status_code == 200 and code in r.text, r.status_code

        def page(i, code, key):
            r = client.post("/public/status", data=urllib.parse.urlencode({"code": code, "key": key}),
                            content_type="application/x-www-form-urlencoded")
            assert r.status_code == 200 and code in r.text and lookup_bench.RESULT_MARKER in r.text, r.status_code

        endpoints = {"bare": bare, "api": api, "page": page}
        for fn in endpoints.values():  # warm up: imports, pools, template and catalogue caches
            for row in picked[:50]:
                fn(*row)
        cpu: dict[str, list[float]] = {name: [] for name in endpoints}
        profiler = cProfile.Profile(time.process_time) if profile else None
        for _rep in range(reps):
            for name, fn in endpoints.items():
                on = profiler is not None and name == profile
                if on:
                    profiler.enable()
                t0 = time.process_time()
                for row in picked:
                    fn(*row)
                cpu[name].append((time.process_time() - t0) / len(picked) * 1000)
                if on:
                    profiler.disable()
        with bench_wsgi.app.app_context():
            bench_wsgi.db.engine.dispose()
    if profiler is not None:
        profiler.dump_stats(f"status_{profile}.prof")
    # Each round's own ratios too: a slow moment of the machine falls on the three endpoints of a round alike.
    ratios = {"page/bare": statistics.median(p / b for p, b in zip(cpu["page"], cpu["bare"], strict=True)),
              "page/api": statistics.median(p / a for p, a in zip(cpu["page"], cpu["api"], strict=True)),
              "api/bare": statistics.median(a / b for a, b in zip(cpu["api"], cpu["bare"], strict=True))}
    return {name: statistics.median(values) for name, values in cpu.items()} | {"runs": cpu, "ratios": ratios}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--nominations", type=int, default=5000)
    parser.add_argument("--profile", choices=("bare", "api", "page"))
    args = parser.parse_args()
    out = measure(args.reps, args.requests, args.nominations, args.profile)
    print(f"CPU per request, ms (median of {args.reps} x {args.requests}, {Path.cwd().name}):")
    for name in ("bare", "api", "page"):
        runs = ", ".join(f"{v:.3f}" for v in out["runs"][name])
        print(f"  {name:<5} {out[name]:.3f}   ({runs})")
    print("  medians of each round's ratios: " + "   ".join(f"{k} {v:.2f}x" for k, v in out["ratios"].items()))


if __name__ == "__main__":
    main()
