"""``bench/status_cpu.py`` (the status page's CPU in process, issue 16) runs end to end on tiny sizes, so it
cannot rot unnoticed. No time is asserted: the figures belong to its own runs (docs/performance.md).

It runs as the benchmark is run, in a process of its own (it serves ``bench_wsgi``, which freezes the
garbage collector at import, as production's ``wsgi.py`` does), on a throwaway PostgreSQL of its own;
every answer it times is checked inside it (200, the dossier's code, the page's result)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_status_cpu_measures_the_three_endpoints(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "status_cpu.py"), "--reps", "2", "--requests", "5",
                          "--nominations", "30", "--profile", "page"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    figures = dict(re.findall(r"^  (bare|api|page)\s+([0-9.]+)\s+\(", run.stdout, re.M))
    assert set(figures) == {"bare", "api", "page"} and all(float(v) > 0 for v in figures.values()), run.stdout
    assert re.search(r"page/bare [0-9.]+x\s+page/api [0-9.]+x\s+api/bare [0-9.]+x", run.stdout), run.stdout
    assert (tmp_path / "status_page.prof").stat().st_size > 0
