"""The order in which the test scheduler hands out modules (tests/plugins/schedule.py) and the script that
regenerates its cost table (scripts/test_costs.py)."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.plugins import schedule

ROOT = Path(__file__).resolve().parent.parent


def _items(*spec):
    """Fake items: ("tests/test_a.py", 3) gives tests/test_a.py::t0 .. ::t2."""
    return [SimpleNamespace(nodeid=f"{module}::t{i}") for module, n in spec for i in range(n)]


def _modules(items):
    order = []
    for item in items:
        module = item.nodeid.split("::")[0]
        if not order or order[-1] != module:
            order.append(module)
    return order


COSTS = {
    "sqlite": {"tests/test_a.py": 1.0, "tests/test_b.py": 50.0, "tests/test_c.py": 10.0},
    "postgresql": {"tests/test_a.py": 80.0, "tests/test_b.py": 0.5, "tests/test_c.py": 10.0},
}


@pytest.mark.parametrize(("db", "expected"), [
    ("sqlite", ["tests/test_b.py", "tests/test_c.py", "tests/test_a.py"]),
    ("postgresql", ["tests/test_a.py", "tests/test_c.py", "tests/test_b.py"]),
])
def test_costliest_module_first_on_each_database(db, expected):
    items = _items(("tests/test_a.py", 3), ("tests/test_b.py", 2), ("tests/test_c.py", 4))
    before = list(items)
    schedule.costliest_first(items, db, COSTS)
    assert _modules(items) == expected  # each module once: its items stay together
    assert sorted(map(id, items)) == sorted(map(id, before))  # every item, once
    for module in expected:  # and in their collected order within the module
        mine = [i.nodeid for i in items if i.nodeid.startswith(module)]
        assert mine == [i.nodeid for i in before if i.nodeid.startswith(module)]


def test_a_module_the_table_does_not_know_is_estimated_from_its_items():
    # Known modules cost 1 s per item (median); the unknown one has 20 items: about 20 s, between b and c.
    costs = {"sqlite": {"tests/test_a.py": 2.0, "tests/test_b.py": 40.0, "tests/test_c.py": 5.0}}
    items = _items(("tests/test_a.py", 2), ("tests/test_new.py", 20), ("tests/test_b.py", 40),
                   ("tests/test_c.py", 5))
    schedule.costliest_first(items, "sqlite", costs)
    assert _modules(items) == ["tests/test_b.py", "tests/test_new.py", "tests/test_c.py", "tests/test_a.py"]


def test_equal_costs_keep_the_collected_order_and_no_table_changes_nothing():
    items = _items(("tests/test_z.py", 2), ("tests/test_a.py", 2), ("tests/test_m.py", 1))
    before = [i.nodeid for i in items]
    schedule.costliest_first(items, "sqlite", {"sqlite": {}})
    assert [i.nodeid for i in items] == before
    schedule.costliest_first(items, "postgresql", {"sqlite": {"tests/test_m.py": 9.0}})
    assert [i.nodeid for i in items] == before


def test_the_order_does_not_depend_on_the_order_collected():
    """Every xdist worker must hand the scheduler the same list: the order is a function of the costs."""
    costs = {"sqlite": {f"tests/test_{n}.py": float(n % 7) for n in range(30)}}
    items = _items(*((f"tests/test_{n}.py", 1 + n % 3) for n in range(30)))
    schedule.costliest_first(items, "sqlite", costs)
    cost = [costs["sqlite"][m] for m in _modules(items)]
    assert cost == sorted(cost, reverse=True)


def test_the_checked_in_table_is_read_for_both_passes():
    table = schedule.read_costs()
    assert set(table) == {"sqlite", "postgresql"}
    for db in table:
        assert len(table[db]) > 50, "tests/costs.tsv lost its modules"
        assert all(v >= 0 for v in table[db].values())
        gone = [m for m in table[db] if not (ROOT / m).exists()]
        assert not gone, f"tests/costs.tsv names modules that are gone: {gone} (scripts/test_costs.py)"
    # The PostgreSQL pass skips what touches no database: some modules cost far less there.
    assert any(table["postgresql"][m] < table["sqlite"][m] / 5 for m in table["sqlite"])


def test_this_session_collected_in_the_tables_order(request):
    """The hook really runs: the modules of this session come costliest first for its database."""
    table = schedule.read_costs()[request.config.getoption("--db")]
    modules = _modules(request.session.items)
    known = [table[m] for m in modules if m in table]
    assert known == sorted(known, reverse=True)


def _script():
    spec = importlib.util.spec_from_file_location("test_costs_script", ROOT / "scripts" / "test_costs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_table_is_regenerated_from_timelines_and_cpu_durations(tmp_path):
    script = _script()
    timeline = tmp_path / "tl-sqlite-gw0.tsv"
    # kind db worker nodeid start end cpu run runqueue: a module's cost is wall less the wait for a core
    timeline.write_text(
        "collect\tsqlite\tgw0\t<collection>\t0\t5\t4\t4\t1\n"
        "item\tsqlite\tgw0\ttests/test_x.py::a\t10\t20\t3\t3\t4\n"
        "item\tsqlite\tgw0\ttests/test_x.py::b\t20\t21\t1\t1\t0\n"
        "item\tpostgresql\tgw1\ttests/test_x.py::a\t10\t12\t1\t1\t0\n"
        "session\tsqlite\tgw0\t<session>\t0\t30\t9\t9\t1\n", encoding="utf-8")
    cpu = tmp_path / "cpu.tsv"
    # A CPU-durations file: phases added up, the server's CPU shared out in proportion, the browser
    # module (test_a11y: pytestmark browser) multiplied by the factor before its share is added.
    cpu.write_text(
        "tests/test_y.py::a\tsetup\t1.0\ntests/test_y.py::a\tcall\t2.0\ntests/test_y.py::a\tteardown\t1.0\n"
        "tests/test_a11y.py::p\tcall\t4.0\n<postgresql server>\tserver\t4.0\n", encoding="utf-8")
    out = tmp_path / "costs.tsv"
    script.main([str(timeline), f"postgresql:{cpu}", "--browser-factor", "3", "--out", str(out)])
    table = schedule.read_costs(out)
    assert table["sqlite"] == {"tests/test_x.py": 7.0, "tests/test_y.py": 0.0, "tests/test_a11y.py": 0.0}
    assert table["postgresql"] == {"tests/test_x.py": 2.0, "tests/test_y.py": 6.0, "tests/test_a11y.py": 14.0}
    with pytest.raises(SystemExit, match="needs its pass"):
        script.main([str(cpu), "--out", str(out)])


def test_shuffled_items_come_out_the_same():
    items = _items(("tests/test_a.py", 3), ("tests/test_b.py", 2), ("tests/test_c.py", 4))
    expected = list(items)
    schedule.costliest_first(expected, "sqlite", COSTS)
    shuffled = list(items)
    random.Random(16).shuffle(shuffled)
    # Shuffled across modules, the modules still come out costliest first, each module's items together.
    schedule.costliest_first(shuffled, "sqlite", COSTS)
    assert _modules(shuffled) == _modules(expected)


def test_the_idle_report_counts_the_seconds_with_each_number_of_workers_in_a_test(tmp_path, capsys):
    timeline = tmp_path / "tl.tsv"
    # gw0 in a test 10-20 s, gw1 15-30 s: 0 workers for 10 s (collection), 1 for 5 + 10, 2 for 5.
    timeline.write_text(
        "collect\tsqlite\tgw0\t<collection>\t0\t10\t9\t9\t0\n"
        "collect\tsqlite\tgw1\t<collection>\t0\t10\t9\t9\t0\n"
        "item\tsqlite\tgw0\ttests/test_x.py::a\t10\t20\t2\t2\t1\n"
        "item\tsqlite\tgw1\ttests/test_y.py::a\t15\t30\t15\t15\t0\n", encoding="utf-8")
    _script().main(["--idle", str(timeline)])
    out = capsys.readouterr().out
    assert "workers inside a test: 0: 10 s, 1: 15 s, 2: 5 s" in out
    # test_x's thread ran 2 s and waited 1 s for a core in 10 s: blocked 7 s; test_y not at all
    assert "7.0  sqlite tests/test_x.py" in out


def test_the_simulation_keeps_both_cores_busy_when_the_costliest_module_comes_first(tmp_path, capsys):
    # One pass, two workers: a 10 s module, ten 1 s modules and three of a millisecond. Collected last, the
    # long module runs alone at the end; from the table's order it runs beside the short ones, and the worker
    # that must be given a module before it starts the long item gets a millisecond one.
    lines = "".join(f"item\tsqlite\tgw0\ttests/test_s{i}.py::a\t0\t1\t1\t1\t0\n" for i in range(10))
    lines += "".join(f"item\tsqlite\tgw0\ttests/test_t{i}.py::a\t0\t0.001\t0\t0\t0\n" for i in range(3))
    lines += "item\tsqlite\tgw0\ttests/test_long.py::a\t0\t10\t10\t10\t0\n"
    timeline = tmp_path / "tl.tsv"
    timeline.write_text(lines, encoding="utf-8")
    runs = {}
    for order in ("collected", "table"):
        _script().main(["--simulate", str(timeline), "--order", order, "--workers", "2,0", "--collect", "0",
                        "--cores", "2"])
        runs[order] = capsys.readouterr().out
    assert "makespan 15 s" in runs["collected"], runs["collected"]
    # xdist's own prefetch (two items left) commits a second module to the worker of the long item too
    _script().main(["--simulate", str(timeline), "--workers", "2,0", "--collect", "0", "--prefetch", "2"])
    assert "makespan 10 s" not in capsys.readouterr().out
    assert "makespan 10 s" in runs["table"], runs["table"]


class _Node:
    """What xdist's scheduler uses of a worker: the items sent to it, and its shutdown."""

    def __init__(self, name):
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def test_a_worker_gets_its_next_module_at_its_last_item_and_a_cheap_one_before_a_long_item():
    costs = {"tests/test_long.py": 10.0, "tests/test_big.py": 8.0, "tests/test_t.py": 0.001,
             **{f"tests/test_s{i}.py": 1.0 for i in range(4)}}
    items = _items(("tests/test_s0.py", 1), ("tests/test_t.py", 1), ("tests/test_big.py", 2),
                   ("tests/test_s1.py", 1), ("tests/test_long.py", 1), ("tests/test_s2.py", 1),
                   ("tests/test_s3.py", 1))
    table = {"sqlite": costs, "postgresql": costs}
    schedule.costliest_first(items, "sqlite", table)
    collection = [item.nodeid for item in items]
    config = SimpleNamespace(getvalue={"tx": ["2*popen"]}.get, getoption={"--db": "sqlite"}.get,
                             option=SimpleNamespace(loadscopereorder=False))
    sched = schedule.last_item_scheduling(config, None, table)
    nodes = [_Node("gw0"), _Node("gw1")]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    sent = [[collection[i] for i in node.sent] for node in nodes]
    # gw0 must know a next item before it starts the long one: it gets the millisecond module, not test_big;
    # gw1 has test_big's two items and gets nothing more (xdist's own rule would add a module to each).
    assert sent == [["tests/test_long.py::t0", "tests/test_t.py::t0"],
                    ["tests/test_big.py::t0", "tests/test_big.py::t1"]]
    # gw1 finishes its first item: one left, short (4 s a item is long: the cheapest again)
    sched.mark_test_complete(nodes[1], collection.index("tests/test_big.py::t0"))
    assert [collection[i] for i in nodes[1].sent][2:] == ["tests/test_s3.py::t0"]
    # gw0 ends the long item: one (a millisecond) left: the costliest module left
    sched.mark_test_complete(nodes[0], collection.index("tests/test_long.py::t0"))
    assert [collection[i] for i in nodes[0].sent][2:] == ["tests/test_s0.py::t0"]
