"""Opening and closing a council session in process: the process's CPU per step, its statements and SQL time.

    .venv/bin/python bench/ballot_cpu.py [--reps 3] [--nominees 250] [--members 15] [--profile close]

``ballot_bench.py`` times the steps over HTTP, where on a shared machine the other processes' load
swamps the figure; this script times the same steps through Flask's test client in one process and
reports the CPU time that process spent on each (``time.process_time``), which the load stretches far
less, beside the wall time, the number of statements sent and their summed time (the driver's call,
so it includes the wait for the server), and the garbage collector's share.  Run it in two trees one
after the other, alternately, for a side-by-side (docs/performance.md).  A fresh database per
repetition (a copy of a migrated template), the same data as ``ballot_bench.py``: 250 accepted
dossiers, 15 members who all vote, the same choices, checked: 63 nominees pass.
``--profile STEP`` writes a cProfile of that step (CPU clock) to ``ballot_<step>.<rep>.prof``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import statistics
import tempfile
import time
from pathlib import Path

import ballot_bench
import harness


class Meter:
    """Statements (count, summed driver time) and garbage-collection CPU while a step runs."""

    def __init__(self, engine) -> None:
        import sqlalchemy as sa

        self.sa, self.engine = sa, engine
        self.statements: list[float] = []
        self.gc_cpu, self._gc_start = 0.0, 0.0

    def _before(self, conn, cursor, statement, params, context, executemany) -> None:
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, params, context, executemany) -> None:
        self.statements.append(time.perf_counter() - conn.info.pop("bench_t0", time.perf_counter()))

    def _gc(self, phase, info) -> None:
        if phase == "start":
            self._gc_start = time.process_time()
        else:
            self.gc_cpu += time.process_time() - self._gc_start

    def __enter__(self) -> Meter:
        self.sa.event.listen(self.engine, "before_cursor_execute", self._before)
        self.sa.event.listen(self.engine, "after_cursor_execute", self._after)
        gc.callbacks.append(self._gc)
        return self

    def __exit__(self, *exc) -> None:
        self.sa.event.remove(self.engine, "before_cursor_execute", self._before)
        self.sa.event.remove(self.engine, "after_cursor_execute", self._after)
        gc.callbacks.remove(self._gc)


def one(server_url: str, rep: int, members: int, nominees: int, profile: str | None) -> dict:
    from artisan_awards import create_app
    from artisan_awards.extensions import db

    url = harness.fresh_database(server_url, f"aa_bench_ballot_cpu_{rep}")
    app = create_app(harness.app_config(url, Path(tempfile.mkdtemp(prefix="aa-ballot-cpu-"))))
    data = ballot_bench.setup(app, members, nominees)
    ids = data["nomination_ids"]
    client = app.test_client()
    officer = {"Authorization": f"Bearer {data['officer'][1]}"}
    r = client.post("/api/v1/councils", headers=officer, json={
        "level": "province", "province_code": "HNI", "round_id": data["round_id"],
        "name": "Hội đồng cấp tỉnh Hà Nội", "decision_no": "12/QĐ-UBND",
        "members": [{"email": e, "position": "chair" if i == 0 else "member"}
                    for i, (e, _t) in enumerate(data["members"])]})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/councils/{r.get_json()['id']}/sessions", headers=officer,
                    json={"held_on": "2026-12-17", "nomination_ids": ids})
    assert r.status_code == 201, r.get_json()
    sid = r.get_json()["id"]
    r = client.post(f"/api/v1/sessions/{sid}/attendance", headers=officer,
                    json={"present": [e for e, _t in data["members"]]})
    assert r.status_code == 200, r.get_json()
    with app.app_context():
        engine = db.engine
    out = {}

    def step(name: str, path: str):
        prof = cProfile.Profile(time.process_time) if profile == name else None
        with Meter(engine) as meter:
            wall, cpu = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            answer = client.post(path, headers=officer)
            if prof:
                prof.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
        if prof:
            prof.dump_stats(f"ballot_{name}.{rep}.prof")
        out[name] = {"wall_ms": wall * 1000, "cpu_ms": cpu * 1000, "statements": len(meter.statements),
                     "sql_ms": sum(meter.statements) * 1000, "gc_ms": meter.gc_cpu * 1000}
        return answer

    step("open", f"/api/v1/sessions/{sid}/open")
    for m, (_email, token) in enumerate(data["members"]):
        votes = {str(n): c for j, n in enumerate(ids) if (c := ballot_bench.choice(m, j)) is not None}
        r = client.post(f"/api/v1/sessions/{sid}/ballot", json={"votes": votes},
                        headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 201, r.get_json()
    tally = step("close", f"/api/v1/sessions/{sid}/close").get_json()
    out["passed"] = sum(1 for row in tally if row["passed"])
    out["votes"] = sum(row["yes"] + row["no"] + row["invalid"] for row in tally)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--members", type=int, default=15)
    parser.add_argument("--nominees", type=int, default=250)
    parser.add_argument("--profile", choices=("open", "close"))
    args = parser.parse_args()
    runs = []
    with harness.postgres() as server_url:
        for rep in range(args.reps):
            out = one(server_url, rep, args.members, args.nominees, args.profile)
            runs.append(out)
            print(f"rep {rep}: " + "  ".join(
                f"{name}: cpu {o['cpu_ms']:.0f} ms, wall {o['wall_ms']:.0f} ms, {o['statements']} statements "
                f"({o['sql_ms']:.0f} ms), gc {o['gc_ms']:.1f} ms" for name, o in out.items() if isinstance(o, dict))
                + f"  votes {out['votes']}, passed {out['passed']}", flush=True)
    for name in ("open", "close"):
        print(f"{name}: median cpu {statistics.median(r[name]['cpu_ms'] for r in runs):.0f} ms, median wall "
              f"{statistics.median(r[name]['wall_ms'] for r in runs):.0f} ms, statements "
              f"{sorted({r[name]['statements'] for r in runs})}")
    ok = all(r["votes"] == args.members * args.nominees for r in runs)
    print(f"every vote counted: {harness.verdict(ok)}")


if __name__ == "__main__":
    main()
