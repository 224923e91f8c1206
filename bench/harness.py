"""Shared plumbing for the load benchmarks: a throwaway PostgreSQL, the schema, bulk data, gunicorn, wrk.

Nothing here is a stand-in: the database is a real PostgreSQL cluster (``tests/pgcluster.py``), the
schema comes from the migrations, the server is gunicorn and the load generator is wrk.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET_KEY = "bench-secret-of-at-least-thirty-two-bytes"  # create_app refuses shorter ones
PASSWORD = "mat-khau-bench-2026"
CHEAP_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def app_config(url: str, work: Path, **extra) -> dict:
    """The configuration the benchmarks run the application with (the rate limit off: load is the point)."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET_KEY,
        "UPLOAD_DIR": str(work / "uploads"),
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASH_PARAMS": CHEAP_HASH,
        # the benches size their councils by their own arguments (--members), not by the legal sizes
        "COUNCIL_SIZES": {"default": {"min_members": 1, "max_members": 100}},
        **extra,
    }


@contextmanager
def postgres():
    """A throwaway cluster; yields its server URL (database ``postgres``)."""
    from tests.pgcluster import Cluster

    cluster = Cluster()
    url = cluster.start()
    try:
        yield url
    finally:
        cluster.stop()


_TEMPLATES: set[str] = set()


def fresh_database(server_url: str, name: str) -> str:
    """Database ``name`` with the schema from the migrations and the provinces loaded.

    The migrations run once per server into a template database; each benchmark gets a copy.
    """
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from artisan_awards import create_app
    from artisan_awards.extensions import db
    from artisan_awards.services.provinces import sync_provinces

    template = "aa_bench_template"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if server_url not in _TEMPLATES:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
    if server_url not in _TEMPLATES:
        url = sa.make_url(server_url).set(database=template).render_as_string(hide_password=False)
        app = create_app(app_config(url, Path(tempfile.mkdtemp(prefix="aa-bench-"))))
        with app.app_context():
            upgrade()
            sync_provinces()
            db.session.remove()
            db.engine.dispose()
        _TEMPLATES.add(server_url)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def access_key_hash(key: str) -> str:
    """The stored form of an access key (as services.nominations._key_hash, with the bench's secret)."""
    normalised = key.strip().upper().replace(" ", "")
    return hmac.new(SECRET_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc"]
LAST = ["Ánh", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khoa", "Lan", "Mai", "Nam", "Oanh", "Phúc"]
CRAFTS = ["Gốm sứ", "Sơn mài", "Mây tre đan", "Chạm khắc gỗ", "Dệt thổ cẩm", "Đúc đồng", "Thêu ren"]


def bulk_nominations(conn, n: int, *, round_ids: list[int], owner_id: int, provinces: list[str],
                     states: list[str], start: int = 0, rng: random.Random | None = None,
                     with_keys: bool = False) -> list[tuple[int, str, str]]:
    """Insert ``n`` submitted-or-later nominations with one executemany (SQLAlchemy core).

    Returns (id, code, access key) for each when ``with_keys`` (the keys are made up here and
    only their HMAC is stored, as the application does).
    """
    import sqlalchemy as sa

    from artisan_awards.models import Nomination
    from artisan_awards.text import search_key
    from workflows.machine import STAGE_OF
    from workflows.states import State

    rng = rng or random.Random(43)
    now = datetime.now(UTC)
    rows, keys = [], []
    for i in range(start, start + n):
        name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)} {i}"
        province = provinces[i % len(provinces)]
        code = f"NN-2026-{province}-{i:06d}"
        key = f"{rng.randrange(16**4):04X}-{rng.randrange(16**4):04X}"
        received = now - timedelta(days=rng.randrange(1, 400), minutes=rng.randrange(1440))
        state = rng.choice(states)
        row = {
            "code": code, "access_key_hash": access_key_hash(key), "round_id": round_ids[i % len(round_ids)],
            "province_code": province, "owner_id": owner_id,
            "title": "meritorious" if i % 5 else "people", "posthumous": False, "governing_decree": "43/2024",
            "full_name": name, "name_key": search_key(name), "birth_date": date(1950 + i % 40, 1 + i % 12, 1),
            "gender": "Nam" if i % 2 else "Nữ", "ethnicity": "Kinh", "address": f"Xóm {i % 9}, {province}",
            "craft": CRAFTS[i % len(CRAFTS)], "special_craft": False, "intangible_heritage_track": False,
            "learners_trained": 10 + i % 300, "filed_by_relationship": "self",
            "state": state, "stage_reached": int(STAGE_OF[State(state)]),  # a pipeline state: its own stage
            "state_changed_at": received, "submitted_at": received, "received_at": received,
            "returned_at": received if state == "returned" else None,
            "decision_no": "1/QĐ-CTN" if state == "awarded" else None,
            "decision_date": date(2026, 1, 1) if state == "awarded" else None,
            "created_at": received, "updated_at": received, "version": 1,
        }
        rows.append(row)
        keys.append((code, key))
    conn.execute(sa.insert(Nomination.__table__), rows)
    if not with_keys:
        return []
    ids = dict(conn.execute(sa.select(Nomination.code, Nomination.id)
                            .where(Nomination.code.in_([c for c, _ in keys]))).all())
    return [(ids[c], c, k) for c, k in keys]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving ``bench/bench_wsgi.py`` (the application, with the bare endpoint at /bare)."""

    def __init__(self, url: str, work: Path, workers: int = 2, threads: int = 1, extra_env=None):
        self.port = free_port()
        self.url, self.work = url, work
        self.workers, self.threads = workers, threads
        self.env = {**os.environ, "BENCH_DATABASE_URL": url, "BENCH_WORK": str(work),
                    "PYTHONPATH": f"{ROOT}:{ROOT / 'bench'}", **(extra_env or {})}
        self.proc = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> str:
        kind = f"gthread, {self.threads} threads each" if self.threads > 1 else "sync"
        return f"{self.workers} workers ({kind})"

    def __enter__(self):
        args = [GUNICORN, "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                "--worker-class", "gthread" if self.threads > 1 else "sync", "--threads", str(self.threads),
                "--backlog", "2048", "--log-level", "warning", "--chdir", str(ROOT), "bench_wsgi:application"]
        self.log = open(self.work / "gunicorn.log", "w")  # noqa: SIM115 (closed in __exit__)
        self.proc = subprocess.Popen(args, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited: " + (self.work / "gunicorn.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(self.base + "/bare/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the arbiter stops its own workers
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


WRK_SCRIPT = """
-- Each line of the file is one request: a path, or a path, a tab and a form body (then a POST).
local requests = {}
for line in io.lines("%(paths)s") do
  local path, body = line:match("^([^\\t]*)\\t(.*)$")
  if path then
    requests[#requests + 1] = wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  else
    requests[#requests + 1] = wrk.format("GET", line)
  end
end
local i = 0
request = function()
  i = i + 1
  return requests[(i %% #requests) + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, latency.max, latency.mean, summary.bytes))
end
"""


def wrk(base: str, paths: list[str], connections: int, seconds: int, threads: int, work: Path,
        headers: tuple[str, ...] = ()) -> dict:
    """Run wrk against ``paths`` (round robin); requests/s, latency percentiles in ms, errors, bytes.

    A path may carry a form body after a tab (``"/public/status\\tcode=..&key=.."``): it is then
    POSTed as ``application/x-www-form-urlencoded``.  ``status_errors`` counts answers of 400 and
    above (wrk's own count); ``bytes_per_response`` (headers and body, as read) tells a result page
    from a form or a redirect, which wrk would count as successes."""
    stem = f"wrk{abs(hash((paths[0], connections)))}"
    (work / f"{stem}.txt").write_text("\n".join(paths) + "\n")
    script = work / f"{stem}.lua"
    script.write_text(WRK_SCRIPT % {"paths": work / f"{stem}.txt"})
    out = subprocess.run([WRK, "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{seconds}s",
                          "--timeout", "10s", "-s", str(script),
                          *(arg for header in headers for arg in ("-H", header)), base],
                         check=True, capture_output=True, text=True).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) ([\d.]+) (\d+)", out)
    if not match:
        raise RuntimeError("wrk printed no result:\n" + out)
    requests, duration_us, p50, p95, p99, socket_errors, status_errors, lmax, mean, read = map(float, match.groups())
    return {"requests": int(requests), "rps": requests / (duration_us / 1e6), "p50": p50 / 1000,
            "p95": p95 / 1000, "p99": p99 / 1000, "mean": mean / 1000, "max": lmax / 1000,
            "socket_errors": int(socket_errors), "status_errors": int(status_errors),
            "bytes_per_response": read / requests if requests else 0.0}


def get_json(url: str, headers: dict | None = None) -> tuple[int, object]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_json(url: str, body: dict | None, headers: dict | None = None, timeout: float = 120) -> tuple[int, object]:
    data = json.dumps(body or {}).encode()
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def http_login(base: str, email: str, password: str = PASSWORD, user_agent: str = "bench") -> tuple[str, ...]:
    """Log in through the login form over HTTP (CSRF token and all); the headers that carry the session."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", user_agent)]
    with opener.open(base + "/login", timeout=30) as r:
        page = r.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    with opener.open(base + "/login", data=form, timeout=30) as r:
        if "/login" in r.url:
            raise RuntimeError(f"login as {email} failed")
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    return (f"Cookie: {cookies}", f"User-Agent: {user_agent}")


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"
