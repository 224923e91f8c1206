"""The order in which xdist hands out the modules: costliest first, by a checked-in cost table.

``bash scripts/test`` runs each pass with ``--dist loadscope``: a module's items stay together on one
worker (its module-scoped world is built once), and xdist hands out the modules in the order they were
collected (its own reordering, by number of items, is turned off here). A worker asks for its next module
when it is almost done with the current one, so this is list scheduling: with the longest modules first
and the short ones filling the end ("longest processing time first"), the two workers of a pass finish
within about the length of the last short module of each other, instead of one long module starting late
and running alone while the other worker idles.

xdist's ``loadscope`` gives a worker its next module as soon as two or fewer of its items are left, that is
while it still has a whole test to run besides the one running: a worker ending a module of a few long
tests (the browser crawls: minutes each) took the next module with it, and the other worker, done first,
found nothing left (the last minutes of a pass on one core). ``LastItemScheduling`` hands the next module
only when one item is left: the one an xdist worker cannot start before it knows the item after it (its
teardown depends on it), so the worker waits for one exchange with the controller (milliseconds) per module,
and a module is taken by the worker that is ready for it. A worker whose one item left is long (its module's
cost per item over ``LONG_ITEM`` seconds: a crawl, a walk through the whole procedure) must still be given
a module before it can start that item; it gets the cheapest module left (a few milliseconds of tests that
touch nothing), not the costliest, which stays for the next worker to be free.

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


LONG_ITEM = 2.0  # seconds: an item longer than this is not to be waited for by a costly module


def last_item_scheduling(config, log, costs: dict[str, dict[str, float]] | None = None):
    """xdist's ``loadscope`` scheduling, but a worker gets its next module only when one item is left.

    Relies on two methods of xdist's ``LoadScopeScheduling`` (3.x): ``_reschedule`` (when to give) and
    ``_assign_work_unit`` (what to give).
    """
    from xdist.scheduler import LoadScopeScheduling

    table = (costs if costs is not None else read_costs()).get(config.getoption("--db"), {})

    class LastItemScheduling(LoadScopeScheduling):
        def _reschedule(self, node) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) > 1:
                return
            self._assign_work_unit(node)

        _counts: dict[str, int] | None = None

        def _item_cost(self, nodeid: str) -> float:
            if self._counts is None:
                self._counts = {}
                for n in self.collection or ():
                    self._counts[module_of(n)] = self._counts.get(module_of(n), 0) + 1
            module = module_of(nodeid)
            return table.get(module, 0.0) / (self._counts.get(module) or 1)

        def _assign_work_unit(self, node) -> None:
            left = [nodeid for unit in self.assigned_work.get(node, {}).values()
                    for nodeid, done in unit.items() if not done]
            cheapest = any(self._item_cost(nodeid) > LONG_ITEM for nodeid in left)
            scope, work_unit = self.workqueue.popitem(last=cheapest)
            self.assigned_work.setdefault(node, {})[scope] = work_unit
            collection = self.registered_collections[node]
            node.send_runtest_some([collection.index(nodeid) for nodeid, done in work_unit.items() if not done])

    return LastItemScheduling(config, log)


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
