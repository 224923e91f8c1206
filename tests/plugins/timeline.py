"""``--timeline=PATH``: when each test ran, on which worker, and how long its worker ran, waited or slept.

For finding where a run's cores sit idle (issue 16, acceptance 1: ``bash scripts/test`` in 7 minutes of wall
time on two cores). ``--cpu-durations`` says what each phase costs in CPU; this says *when* it ran and
whether the test's thread was running, waiting for a core, or blocked (on Chromium, a live server, the
PostgreSQL server, a subprocess, the disk). On a quiet machine a blocked worker leaves its core to the
other workers, or idle if there is no other runnable one.

One tab-separated line per event is appended to PATH as it ends;
``{db}`` and ``{worker}`` in PATH are replaced by the database and the xdist worker (``main`` without xdist),
so that workers running at the same time write files of their own:

    kind  db  worker  nodeid  start  end  cpu  run  runqueue

- ``kind``: ``item`` (setup + call + teardown of one test), ``collect`` (from the worker's start, as
  ``time.time()`` at the plugin's import, to the end of its collection) or ``session`` (the worker's
  whole session, import to the end);
- ``start``/``end``: wall clock, seconds since the epoch;
- ``cpu``: the process's user + system CPU in that span (all its threads, not its children);
- ``run``/``runqueue``: the test's thread's time on a CPU and waiting for one (``/proc/thread-self/
  schedstat``), so that ``end - start - run - runqueue`` is the time that thread was blocked.

``scripts/test-costs`` turns such a file into the cost table the scheduler reads (tests/plugins/schedule.py).
"""

from __future__ import annotations

import os
import time

import pytest

_IMPORTED = time.time()
_IMPORTED_CPU = time.process_time()


def _schedstat() -> tuple[float, float]:
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as f:
            run, wait, _ = f.read().split()
        return int(run) / 1e9, int(wait) / 1e9
    except (OSError, ValueError):
        return 0.0, 0.0


_IMPORTED_SCHED = _schedstat()


def pytest_addoption(parser):
    parser.getgroup("cpu durations").addoption(
        "--timeline", default=None, metavar="PATH",
        help="append when each test ran, its CPU and its thread's run/wait time to PATH (tab-separated)")


class _Timeline:
    def __init__(self, config, path: str):
        self.path = path
        self.db = config.getoption("--db", default="?")
        self.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")

    def add(self, kind, nodeid, start, cpu0, sched0):
        run, wait = _schedstat()
        line = "\t".join((
            kind, self.db, self.worker, nodeid, f"{start:.3f}", f"{time.time():.3f}",
            f"{time.process_time() - cpu0:.4f}", f"{run - sched0[0]:.4f}", f"{wait - sched0[1]:.4f}",
        )) + "\n"
        # Appended at once (one short write in append mode), so that a run stopped half-way leaves its lines.
        with open(self.path.format(db=self.db, worker=self.worker), "a", encoding="utf-8") as out:
            out.write(line)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session):
        self.add("collect", "<collection>", _IMPORTED, _IMPORTED_CPU, _IMPORTED_SCHED)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        start, cpu0, sched0 = time.time(), time.process_time(), _schedstat()
        yield
        self.add("item", item.nodeid, start, cpu0, sched0)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        self.add("session", "<session>", _IMPORTED, _IMPORTED_CPU, _IMPORTED_SCHED)


def pytest_configure(config):
    path = config.getoption("--timeline")
    # On the workers only when xdist runs them (the controller runs no test).
    if path and (hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None)):
        config.pluginmanager.register(_Timeline(config, path), "aa-timeline")
