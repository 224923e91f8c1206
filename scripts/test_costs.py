"""Regenerate tests/costs.tsv, the per-module costs by which the test scheduler hands out modules.

    .venv/bin/python scripts/test_costs.py FILE... [--browser-factor 4] [--out tests/costs.tsv]

Each FILE is either a ``--timeline`` file (tests/plugins/timeline.py; it names its database) or a
``--cpu-durations-file`` (tests/cpu_durations.py) prefixed with its pass, ``sqlite:PATH`` or
``postgresql:PATH``. Typically, from one whole run:

    bash scripts/test --timeline='/tmp/tl-{db}-{worker}.tsv'
    .venv/bin/python scripts/test_costs.py /tmp/tl-*.tsv

A module's cost on a pass is the sum over its items of:
- from a timeline: the item's wall time less the time its thread waited for a core (``runqueue``), that is
  its own CPU plus what it waited for (Chromium, a live server's thread, the PostgreSQL server, a
  subprocess). Exact on a quiet machine; on a loaded one the waits are stretched by the load too.
- from CPU durations: the worker's CPU of the item's phases; Chromium's CPU is not in them, so the items of
  tests that drive the browser (marked ``browser`` in their module's source) are multiplied by
  ``--browser-factor`` (``tests/test_a11y.py`` on SQLite, ``-n 0``: 17.6 CPU-s in the test process,
  73 CPU-s with Chromium's; about 4). The PostgreSQL server's CPU (``<postgresql server>``) is shared out
  over the PostgreSQL pass's items in proportion to their CPU.

``--simulate`` prints, instead of writing the table, how the two passes of ``bash scripts/test`` would run
on a quiet machine from these per-item costs: ``loadscope`` as tests/plugins/schedule.py runs it (a worker
gets its next module when one of its items is left; ``--prefetch 2`` for xdist's own two), the modules
in the table's order (tests/plugins/schedule.py) or in the
order collected (``--order collected``), ``--workers`` per pass sharing ``--cores`` cores equally while more
are runnable than there are cores, each worker first paying ``--collect`` seconds. It prints the makespan, the
idle core-seconds and when each worker finishes: for choosing an order or a number of workers without
running the suite many times. It assumes each worker (with what it waits for) keeps one core busy.

``--idle`` prints, from the ``--timeline`` files of one run, where its workers were not running a test: when
each worker started, finished collecting, began its first and ended its last test; for how many seconds
0, 1, 2, ... workers (both passes together) were inside a test; and the modules whose test threads were
blocked longest (waiting for Chromium, a server, a subprocess, a timeout) rather than computing.

Several files for the same pass are averaged per item (a run's workers split the modules between them, so
each item is counted once per run). The order of the table does not matter; only the ratios between
modules do (tests/plugins/schedule.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATABASES = ("sqlite", "postgresql")
HEADER = """\
# Seconds each test module takes per pass of `bash scripts/test` (SQLite, PostgreSQL), read by
# tests/plugins/schedule.py to hand out the costliest modules first. Regenerate with scripts/test_costs.py
# (see its docstring) after a whole run; only the ratios between modules matter.
"""


def _browser_tests() -> set[str]:
    """Modules whose every test drives the browser (``pytestmark``), and ``module::test`` of single ones."""
    found = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        module, text = f"tests/{path.name}", path.read_text(encoding="utf-8")
        if re.search(r"^pytestmark\b.*mark\.browser\b", text, re.MULTILINE):
            found.add(module)
        for name in re.findall(r"^@pytest\.mark\.browser\b.*\n(?:@.*\n)*def (\w+)", text, re.MULTILINE):
            found.add(f"{module}::{name}")
    return found


def _drives_browser(nodeid: str, browser: set[str]) -> bool:
    return nodeid.split("::", 1)[0] in browser or nodeid.split("[", 1)[0] in browser


def _read(spec: str, browser_factor: float, browser: set[str]):
    """Yield (db, nodeid, seconds) of one file."""
    db, _, path = spec.partition(":") if spec.split(":", 1)[0] in DATABASES else ("", "", spec)
    lines = [line.rstrip("\n").split("\t") for line in Path(path).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    if lines and len(lines[0]) == 9:  # a timeline
        for kind, line_db, _worker, nodeid, start, end, _cpu, _run, runqueue in lines:
            if kind == "item":
                yield line_db, nodeid, float(end) - float(start) - float(runqueue)
        return
    if not db:
        sys.exit(f"{spec}: a CPU-durations file needs its pass: sqlite:{spec} or postgresql:{spec}")
    per_item: dict[str, float] = defaultdict(float)
    server = 0.0
    for nodeid, phase, seconds in lines:
        if phase == "server":
            server += float(seconds)
        elif phase in ("setup", "call", "teardown"):
            per_item[nodeid] += float(seconds)
    total = sum(per_item.values()) or 1.0
    for nodeid, seconds in per_item.items():
        share = server * seconds / total
        if _drives_browser(nodeid, browser):
            seconds *= browser_factor
        yield db, nodeid, seconds + share


def simulate(items: dict[str, dict[str, float]], order: str, workers: dict[str, int], cores: float,
             collect: float, prefetch: int = 1) -> tuple[float, float, list[tuple[str, float]]]:
    """Makespan, idle core-seconds and each worker's end, of both passes run at once (see the docstring)."""
    sys.path.insert(0, str(ROOT))
    from tests.plugins.schedule import LONG_ITEM, costliest_first

    class Item:
        def __init__(self, nodeid):
            self.nodeid = nodeid

    def take(worker, queue):
        # tests/plugins/schedule.py: a worker whose item left is long gets the cheapest module left
        if prefetch == 1 and any(cost > LONG_ITEM for _, cost in worker["pending"]):
            return queue.pop()
        return queue.pop(0)

    modules: dict[str, dict[str, float]] = {}
    for db, costs in items.items():
        for nodeid, seconds in costs.items():
            modules.setdefault(db, {}).setdefault(nodeid.split("::", 1)[0], 0.0)
            modules[db][nodeid.split("::", 1)[0]] += seconds
    running = []
    for db, costs in items.items():
        ordered = [Item(n) for n in costs]
        if order == "table":
            costliest_first(ordered, db, modules)
        queue: list[list[tuple[str, float]]] = []
        for item in ordered:
            module = item.nodeid.split("::", 1)[0]
            if not queue or queue[-1][0][0].split("::", 1)[0] != module:
                queue.append([])
            queue[-1].append((item.nodeid, costs[item.nodeid]))
        group = [{"db": db, "left": collect, "pending": [], "queue": queue} for _ in range(workers[db])]
        for worker in group:  # xdist: one module each
            if queue:
                worker["pending"].extend(queue.pop(0))
        for worker in group:  # then a second one where `prefetch` or fewer items wait
            if queue and len(worker["pending"]) <= prefetch:
                worker["pending"].extend(take(worker, queue))
        running += group
    now = idle = 0.0
    ends = []
    while running:
        for worker in running:
            if worker["left"] <= 0:
                worker["left"] = max(worker["pending"].pop(0)[1], 1e-9)
        rate = min(1.0, cores / len(running))
        step = min(w["left"] for w in running) / rate
        now += step
        idle += (cores - len(running) * rate) * step
        for worker in list(running):
            worker["left"] -= step * rate
            if worker["left"] > 1e-9:
                continue
            worker["left"] = 0.0
            if len(worker["pending"]) <= prefetch and worker["queue"]:
                worker["pending"].extend(take(worker, worker["queue"]))
            if not worker["pending"]:
                running.remove(worker)
                ends.append((worker["db"], now))
    return now, idle, ends


def idle_report(paths: list[str]) -> None:
    """Print where the workers of one run were not inside a test (see the docstring)."""
    rows = [line.rstrip("\n").split("\t") for path in paths
            for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        sys.exit("no timeline lines")
    origin = min(float(r[4]) for r in rows)
    workers: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    spans = []
    blocked: dict[str, float] = defaultdict(float)
    for kind, db, worker, nodeid, start, end, _cpu, run, runqueue in rows:
        w = workers[(db, worker)]
        start, end = float(start) - origin, float(end) - origin
        if kind == "collect":
            w["import"], w["collected"] = start, end
        elif kind == "item":
            w["first"] = min(w.get("first", start), start)
            w["last"] = max(w.get("last", end), end)
            spans.append((start, end))
            blocked[f"{db} {nodeid.split('::', 1)[0]}"] += end - start - float(run) - float(runqueue)
    print("worker            import  collected  first test  last test   (seconds from the first import)")
    for (db, worker), w in sorted(workers.items()):
        print(f"{db:10} {worker:5} " + "  ".join(f"{w.get(k, float('nan')):9.1f}"
                                                 for k in ("import", "collected", "first", "last")))
    events = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    inside: dict[int, float] = defaultdict(float)
    level, then = 0, 0.0
    for at, step in events:
        inside[level] += at - then
        level, then = level + step, at
    print("workers inside a test: " + ", ".join(f"{k}: {v:.0f} s" for k, v in sorted(inside.items())))
    print("blocked longest (wall less run and wait for a core, seconds):")
    for name, seconds in sorted(blocked.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {seconds:8.1f}  {name}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--browser-factor", type=float, default=4.0)
    parser.add_argument("--out", default=str(ROOT / "tests" / "costs.tsv"))
    parser.add_argument("--simulate", action="store_true")
    parser.add_argument("--idle", action="store_true")
    parser.add_argument("--order", choices=("table", "collected"), default="table")
    parser.add_argument("--workers", default="2", help="per pass: N, or SQLITE,POSTGRESQL")
    parser.add_argument("--cores", type=float, default=2.0)
    parser.add_argument("--collect", type=float, default=9.0)
    parser.add_argument("--prefetch", type=int, default=1,
                        help="a worker gets its next module when this many of its items are left (xdist: 2)")
    args = parser.parse_args(argv)
    if args.idle:
        idle_report(args.files)
        return
    browser = _browser_tests()
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    for spec in args.files:
        for db, nodeid, seconds in _read(spec, args.browser_factor, browser):
            seen[(db, nodeid)].append(seconds)
    if args.simulate:
        counts = [int(n) for n in args.workers.split(",")]
        workers = dict(zip(DATABASES, counts * 2 if len(counts) == 1 else counts, strict=True))
        items: dict[str, dict[str, float]] = defaultdict(dict)
        for (db, nodeid), values in seen.items():
            items[db][nodeid] = sum(values) / len(values)
        now, idle, ends = simulate(items, args.order, workers, args.cores, args.collect, args.prefetch)
        total = sum(sum(v.values()) for v in items.values()) + args.collect * sum(workers.values())
        print(f"work {total:.0f} s, makespan {now:.0f} s, idle {idle:.0f} core-s; workers end at "
              + ", ".join(f"{db} {end:.0f}" for db, end in ends))
        return
    modules: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(DATABASES, 0.0))
    for (db, nodeid), values in seen.items():
        modules[nodeid.split("::", 1)[0]][db] += sum(values) / len(values)
    with open(args.out, "w", encoding="utf-8") as out:
        out.write(HEADER)
        out.write("module\t" + "\t".join(DATABASES) + "\n")
        for module in sorted(modules, key=lambda m: -sum(modules[m].values())):
            out.write(module + "".join(f"\t{modules[module][db]:.2f}" for db in DATABASES) + "\n")
    print(f"{args.out}: {len(modules)} modules", file=sys.stderr)


if __name__ == "__main__":
    main()
