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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--browser-factor", type=float, default=4.0)
    parser.add_argument("--out", default=str(ROOT / "tests" / "costs.tsv"))
    args = parser.parse_args(argv)
    browser = _browser_tests()
    seen: dict[tuple[str, str], list[float]] = defaultdict(list)
    for spec in args.files:
        for db, nodeid, seconds in _read(spec, args.browser_factor, browser):
            seen[(db, nodeid)].append(seconds)
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
