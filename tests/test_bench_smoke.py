"""The load benchmarks (bench/) run end to end on tiny sizes, so they cannot rot unnoticed.

Nothing here asserts a time: the figures belong to the benchmarks' own runs (bench/README.md).
What is checked is that each benchmark still builds its data, drives the real server and
returns complete, consistent figures.  The benchmarks need PostgreSQL, gunicorn and (the lookup)
wrk, so these tests start their own throwaway PostgreSQL whatever ``--db`` says.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import ballot_bench  # noqa: E402
import ballot_cpu  # noqa: E402
import harness  # noqa: E402
import lookup_bench  # noqa: E402
import pages_bench  # noqa: E402


@pytest.fixture(scope="module")
def server_url(request):
    """The suite's PostgreSQL server under ``--db postgresql``; otherwise a throwaway one of our own."""
    if request.config.getoption("--db") == "postgresql":
        yield request.getfixturevalue("database_factory").server_url
        return
    with harness.postgres() as url:
        yield url


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk (the load generator) is not installed")
def test_lookup_bench_measures_both_endpoints(server_url, capsys):
    out = lookup_bench.run(server_url, nominations=40, seconds=1, reps=1, workers=1, wrk_threads=1, sample=20,
                           with_page=True, warm_up=False, levels=(10, 10))
    for name in ("bare", "lookup", "page"):
        for connections in (10,):
            figures = out[(name, connections)]
            assert figures["requests"] > 0
            assert figures["status_errors"] == 0, (name, connections, figures)
            assert 0 < figures["p50"] <= figures["p95"]
    assert out["throughput_ratio"] > 0 and out["p95_ratio"] > 0
    # The page is looked up by POST: every timed answer a result page, never the empty form or a redirect.
    assert out["page_answers_ok"], out[("page", 10)]
    assert out[("page", 10)]["bytes_per_response"] >= out["page_sizes"]["result_min"] > out["page_sizes"]["form"]
    lookup_bench.report(out)
    printed = capsys.readouterr().out
    assert "throughput at 10 conns" in printed and "p95 at 10 conns" in printed
    assert "page answers were result pages:        MET" in printed
    assert "lookup (page, POST) throughput at 10 conns" in printed


def test_lookup_bench_page_lines_post_the_form():
    """The wrk line of the page carries the form, URL-encoded, in its body (harness.wrk POSTs it)."""
    line = lookup_bench.page_target("NN-2026-HNI-000001", "AB12-CD34")
    path, body = line.split("\t")
    assert path == "/public/status" and body == "code=NN-2026-HNI-000001&key=AB12-CD34"
    assert "?" not in path  # the key never travels in the address (a GET with it is redirected to the form)


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk (the load generator) is not installed")
def test_pages_bench_counts_queries_at_two_sizes(server_url, capsys):
    out = pages_bench.run(server_url, small=20, large=60, runs=1, seconds=1)
    for size in (20, 60):
        for name in pages_bench.PAGES:
            figures = out[size][name]
            assert figures["ms"] > 0 and figures["queries"] > 0 and figures["bytes"] > 0
            over_http = out["http", size][name]
            assert over_http["requests"] > 0 and over_http["status_errors"] == 0
            assert 0 < over_http["p50"] <= over_http["p95"]
    pages_bench.report(out)
    printed = capsys.readouterr().out
    assert all(name in printed for name in pages_bench.PAGES)
    assert "province inbox at 60 at most 1.25x its p50 at 20 (issue 16):" in printed


def test_ballot_bench_counts_every_ballot(server_url, capsys):
    out = ballot_bench.run(server_url, members=3, nominees=8, workers=2)
    assert out["ballot_statuses"] == [201, 201, 201]
    assert out["ballots_cast"] == 3
    assert out["votes_counted"] == out["votes_expected"] == 24
    assert out["mismatches"] == [] and out["all_counted"]
    assert 0 < out["passed"] < 8  # the unanimous nominees pass, the others fall short
    ballot_bench.report(out)
    printed = capsys.readouterr().out
    assert "every ballot counted: MET" in printed
    assert "open at most 300 ms:" in printed and "close at most 300 ms:" in printed


def test_ballot_cpu_measures_open_and_close_in_process(server_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a profile would be written
    out = ballot_cpu.one(server_url, 0, members=3, nominees=8, profile="close")
    assert out["votes"] == 24 and 0 < out["passed"] < 8
    for step in ("open", "close"):
        assert out[step]["statements"] > 0 and out[step]["cpu_ms"] > 0 and out[step]["sql_ms"] > 0
    assert (tmp_path / "ballot_close.0.prof").exists()
