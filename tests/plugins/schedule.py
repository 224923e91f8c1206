"""The order in which xdist hands out the modules: costliest first, by a checked-in cost table.

``bash scripts/test`` runs each pass with ``--dist loadscope``: a module's items stay together on one
worker (its module-scoped world is built once), and xdist hands out the modules in the order they were
collected (its own reordering, by number of items, is turned off here). A worker asks for its next module
when it is almost done with the current one, so this is list scheduling: with the longest modules first
and the short ones filling the end ("longest processing time first"), the two workers of a pass finish
within about the length of the last short module of each other, instead of one long module starting late
and running alone while the other worker idles.

What a module costs is read from ``tests/costs.tsv`` (one line per module: seconds on the SQLite pass and
on the PostgreSQL pass, where the tests that touch no database are skipped and cost nothing). The figures
are a module's time on a quiet machine: the worker's CPU plus what it waits for (Chromium, the
PostgreSQL server), see ``scripts/test-costs``, which regenerates the table from a run's ``--timeline`` or
``--cpu-durations-file`` output. A module missing from the table (a new one) is estimated from its number
of items at the table's median cost per item, so it lands among modules of its size; regenerate the table
when modules move a lot. Only the order changes: every item is collected and runs as before, a module's
items stay together and in their order.
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

COSTS = Path(__file__).resolve().parent.parent / "costs.tsv"
DATABASES = ("sqlite", "postgresql")


def read_costs(path: Path = COSTS) -> dict[str, dict[str, float]]:
    """``{"sqlite": {module: seconds}, "postgresql": {...}}`` from the table (empty if there is none)."""
    costs: dict[str, dict[str, float]] = {db: {} for db in DATABASES}
    if not path.exists():
        return costs
    with path.open(encoding="utf-8") as f:
        rows = csv.reader((line for line in f if line.strip() and not line.startswith("#")), delimiter="\t")
        for row in rows:
            if row[0] == "module":  # the header
                continue
            module, *seconds = row
            for db, value in zip(DATABASES, seconds, strict=True):
                costs[db][module] = float(value)
    return costs


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def costliest_first(items, db: str, costs: dict[str, dict[str, float]] | None = None) -> None:
    """Reorder ``items`` in place: modules by their cost on ``db``, costliest first.

    Ties (and modules the table does not know, estimated from their item count) keep the order in which
    they were collected; within a module the items keep their order.
    """
    table = (costs if costs is not None else read_costs()).get(db, {})
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, item in enumerate(items):
        module = module_of(item.nodeid)
        counts[module] = counts.get(module, 0) + 1
        first.setdefault(module, i)
    per_item = [table[m] / counts[m] for m in counts if m in table and counts[m]]
    guess = statistics.median(per_item) if per_item else 0.0

    def cost(module: str) -> float:
        return table[module] if module in table else guess * counts[module]

    module_cost = {m: cost(m) for m in counts}

    def key(pair):
        i, item = pair
        module = module_of(item.nodeid)
        return (-module_cost[module], first[module], i)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
