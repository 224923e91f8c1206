"""``--cpu-durations=N``: what each test's setup, call and teardown cost in CPU seconds of the worker.

pytest's ``--durations`` reports wall time, which on a shared machine says more about the other
processes than about the test.  This plugin (loaded by tests/conftest.py) reads the process's CPU
time (user + system, ``time.process_time``) around each phase and prints, at the end of the session,
the totals per phase, the N costliest phases and the totals per module. With xdist each worker
reports its own lines (``-n 0`` gives one table); ``--cpu-durations-file=PATH`` also appends one
tab-separated line per phase (nodeid, phase, seconds) to PATH, so several workers' figures can be
added up.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import pytest

_costs: list[tuple[str, str, float]] = []


def pytest_addoption(parser):
    group = parser.getgroup("cpu durations")
    group.addoption("--cpu-durations", type=int, default=None, metavar="N",
                    help="show the N costliest test phases in CPU seconds (0: all)")
    group.addoption("--cpu-durations-file", default=None, metavar="PATH",
                    help="append each phase's CPU seconds to PATH (tab-separated)")


def _enabled(config) -> bool:
    return config.getoption("--cpu-durations") is not None or bool(config.getoption("--cpu-durations-file"))


def _timed(phase):
    @pytest.hookimpl(hookwrapper=True)
    def hook(item, *args, **kwargs):
        if not _enabled(item.config):
            yield
            return
        start = time.process_time()
        yield
        _costs.append((item.nodeid, phase, time.process_time() - start))
    return hook


pytest_runtest_setup = _timed("setup")
pytest_runtest_call = _timed("call")
pytest_runtest_teardown = _timed("teardown")


def record(nodeid: str, phase: str, seconds: float) -> None:
    """Add a cost measured elsewhere (the test PostgreSQL server's CPU, read by tests/conftest.py)."""
    _costs.append((nodeid, phase, seconds))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    config = session.config
    if not _enabled(config) or not _costs:
        return
    path = config.getoption("--cpu-durations-file")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f"{nodeid}\t{phase}\t{seconds:.4f}\n" for nodeid, phase, seconds in _costs)


def pytest_terminal_summary(terminalreporter, config):
    if config.getoption("--cpu-durations") is None or not _costs:
        return
    n = config.getoption("--cpu-durations")
    write = terminalreporter.write_line
    per_phase: dict[str, float] = defaultdict(float)
    per_module: dict[str, float] = defaultdict(float)
    for nodeid, phase, seconds in _costs:
        per_phase[phase] += seconds
        per_module[nodeid.split("::")[0]] += seconds
    total = sum(per_phase.values())
    items = len({nodeid for nodeid, phase, _ in _costs if phase in ("setup", "call", "teardown")})
    terminalreporter.section(f"CPU seconds (pid {os.getpid()}, {items} items)")
    write(f"total {total:.2f}  " + "  ".join(f"{p} {s:.2f}" for p, s in per_phase.items())
          + f"  process {sum(os.times()[:4]):.2f}")
    write("per module:")
    for module, seconds in sorted(per_module.items(), key=lambda kv: -kv[1]):
        write(f"  {seconds:8.2f}  {module}")
    ranked = sorted(_costs, key=lambda c: -c[2])
    for nodeid, phase, seconds in ranked if n == 0 else ranked[:n]:
        write(f"  {seconds:8.3f}  {phase:8}  {nodeid}")
