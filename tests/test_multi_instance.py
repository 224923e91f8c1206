"""Two app instances (gunicorn, two workers each) on two ports, one PostgreSQL, one Redis.

Each instance has its own UPLOAD_DIR and instance folder, standing for two machines that share no
disk. With STORAGE_BACKEND=database and Redis for rate limits and jobs:

* a file uploaded through one instance downloads through the other;
* a login (session cookie) and an API token made on one are honoured by the other;
* the public status lookup limit counts the hits of both instances together;
* a document export queued through one is run by an RQ worker and seen finished through the other.
"""

from __future__ import annotations

import hashlib
import http.cookies
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pytest
import sqlalchemy as sa

from artisan_awards import create_app
from artisan_awards.extensions import db
from artisan_awards.models import DocumentTask
from artisan_awards.services import nominations as service
from tests.factories import Factory
from tests.test_uploads import make_pdf
from workflows.states import Action, State

ROOT = Path(__file__).resolve().parent.parent
LOOKUP_LIMIT = 6
SECRET = "one-secret-for-every-instance-at-least-32-bytes"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # not up yet: connection refused, reset, ...
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


# -- a small HTTP client with explicit cookies ------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Browser:
    base: str
    cookies: dict = field(default_factory=dict)

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None) -> Reply:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=30) as resp:
                reply = Reply(resp.status, dict(resp.headers), resp.read())
                raw = resp.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as err:
            reply = Reply(err.code, dict(err.headers), err.read())
            raw = err.headers.get_all("Set-Cookie") or []
        for line in raw:
            jar = http.cookies.SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return reply

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, fields: dict) -> Reply:
        return self.request("POST", path, data=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str) -> str:
        page = self.get(path).text
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def login(self, email: str) -> Reply:
        token = self.csrf("/login")
        return self.post_form("/login", {"csrf_token": token, "email": email, "password": Factory.PASSWORD})


def multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# -- the servers ----------------------------------------------------------------------------------


class Processes:
    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, args: list[str], env: dict, log: Path) -> subprocess.Popen:
        out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        proc.log = out
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            proc.log.close()


@pytest.fixture(scope="module")
def shared_db(request, database_factory, tmp_path_factory):
    """One database for the module: the servers start once (they take a while on two CPUs)."""
    if request.config.getoption("--db") != "postgresql":
        pytest.skip("two app instances need one shared database server: run with --db postgresql "
                    "(a SQLite file belongs to one machine)")
    tmp = tmp_path_factory.mktemp("multi")
    url, drop = database_factory.new(tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "UPLOAD_DIR": str(tmp / "seed"),
                      "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        yield url, tmp
        db.session.remove()
        db.engine.dispose()
    drop()


@pytest.fixture
def make(shared_db) -> Factory:
    db.session.remove()
    return Factory()


@pytest.fixture(scope="module")
def cluster(shared_db):
    url, tmp_path = shared_db
    redis_bin = shutil.which("redis-server")
    if redis_bin is None:
        pytest.fail("redis-server is not installed (scripts/setup installs it)")
    procs = Processes()
    redis_port = free_port()
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    procs.start([redis_bin, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", str(redis_dir),
                 "--save", "", "--appendonly", "no"], dict(os.environ), tmp_path / "redis.log")
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    from redis import Redis

    redis = Redis.from_url(redis_url)
    try:
        wait_for(redis.ping, "redis-server")
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET,
               "STORAGE_BACKEND": "database", "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url,
               "STATUS_LOOKUP_LIMIT": f"{LOOKUP_LIMIT} per hour", "EMAIL_CONFIRMATION_REQUIRED": "0",
               "PROXY_HOPS": "1"}  # as behind one reverse proxy
        env.pop("RATELIMIT_ENABLED", None)
        instances = {}
        for name in ("a", "b"):
            machine = tmp_path / f"machine-{name}"
            machine.mkdir()
            port = free_port()
            procs.start([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                         "--timeout", "60", "wsgi:app"],
                        {**env, "UPLOAD_DIR": str(machine / "uploads")}, tmp_path / f"gunicorn-{name}.log")
            instances[name] = (f"http://127.0.0.1:{port}", machine)
        for name, (base, _) in instances.items():
            wait_for(lambda base=base: Browser(base).get("/").status == 200, f"gunicorn {name}")
        yield {"a": instances["a"][0], "b": instances["b"][0], "machines": [m for _, m in instances.values()],
               "redis": redis, "env": env, "procs": procs, "tmp": tmp_path}
    finally:
        procs.stop()
        redis.close()


def test_file_uploaded_on_one_instance_downloads_on_the_other(cluster, make):
    owner = make.user("applicant")
    n = make.nomination(State.DRAFT, owner=owner)
    a, b = Browser(cluster["a"]), Browser(cluster["b"])
    token = a.request("POST", "/api/v1/auth/token", data=json.dumps(
        {"email": owner.email, "password": Factory.PASSWORD}).encode(),
        headers={"Content-Type": "application/json"}).json()["token"]
    content = make_pdf(3)
    body, ctype = multipart({"kind": "certificate"}, {"file": ("Bằng khen.pdf", content)})
    up = a.request("POST", f"/api/v1/nominations/{n.id}/attachments", data=body,
                   headers={"Content-Type": ctype, "Authorization": f"Bearer {token}"})
    assert up.status == 201, up.text
    stored = up.json()["sha256"]  # the clean rewrite of the upload (services/cleaning.py), not the bytes sent
    # Neither machine's disk holds it: it is in the shared database.
    for machine in cluster["machines"]:
        uploads = machine / "uploads"
        assert not uploads.exists() or not any(uploads.iterdir())

    # The API token made on A works on B ...
    me = b.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 200 and me.json()["email"] == owner.email
    # ... and so does a page login made on A: B serves the file to A's session.
    assert a.login(owner.email).status == 302
    assert "session" in a.cookies
    b.cookies = dict(a.cookies)
    got = b.get(f"/nominations/{n.id}/attachments/{up.json()['id']}")
    assert got.status == 200, got.status
    assert hashlib.sha256(got.body).hexdigest() == stored
    assert len(pikepdf.open(io.BytesIO(got.body)).pages) == 3  # the same document, rewritten clean
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    # A stranger's session from B gets nothing.
    stranger = Browser(cluster["b"])
    assert stranger.login(make.user("applicant").email).status == 302
    assert stranger.get(f"/nominations/{n.id}/attachments/{up.json()['id']}").status == 404


def test_login_on_one_instance_is_valid_on_the_other(cluster, make):
    officer = make.user("province_officer", "HNI")
    a = Browser(cluster["a"])
    assert a.get("/province/inbox").status == 302  # not logged in yet: to the login page
    assert a.login(officer.email).status == 302
    b = Browser(cluster["b"], cookies=dict(a.cookies))
    page = b.get("/province/inbox")
    assert page.status == 200, page.status
    assert officer.email in page.text or officer.full_name in page.text
    # A forged cookie (another secret) is refused by both.
    forged = Browser(cluster["b"], cookies={"session": a.cookies["session"][:-4] + "AAAA"})
    assert forged.get("/province/inbox").status == 302


def test_status_lookup_limit_counts_across_instances(cluster, make):
    owner = make.user("applicant")
    n = make.nomination(State.DRAFT, owner=owner)
    key = service.perform(n, Action.SUBMIT, owner)
    query = urllib.parse.urlencode({"code": n.code, "key": key})
    a, b = Browser(cluster["a"]), Browser(cluster["b"])
    answers = []
    for i in range(LOOKUP_LIMIT):  # three each, by API and by the public page
        browser = (a, b)[i % 2]
        if i < 4:
            answers.append(browser.get(f"/api/v1/status?{query}").status)
        else:  # the page looks up by POST only (the key never in a URL), with no session or token
            answers.append(browser.post_form("/public/status", {"code": n.code, "key": key}).status)
    assert answers == [200] * LOOKUP_LIMIT
    # Each instance alone has seen only three: a per-process counter would still say yes.
    assert a.get(f"/api/v1/status?{query}").status == 429
    assert b.post_form("/public/status", {"code": n.code, "key": key}).status == 429
    assert b.get(f"/api/v1/status?{query}").status == 429
    # Behind the proxy (PROXY_HOPS=1) another client, named by X-Forwarded-For, has its own allowance,
    # again counted across both instances.
    other = {"X-Forwarded-For": "203.0.113.9"}
    answers = [(a, b)[i % 2].get(f"/api/v1/status?{query}", headers=other).status for i in range(LOOKUP_LIMIT + 1)]
    assert answers == [200] * LOOKUP_LIMIT + [429]
    keys = [k.decode() for k in cluster["redis"].keys("*")]
    assert any("status-lookup" in k for k in keys), keys


def test_export_queued_on_one_instance_runs_on_a_worker_and_shows_on_the_other(cluster, make):
    ministry = make.user("ministry_officer")
    round_ = make.round(name="Đợt để thử hàng đợi")
    a = Browser(cluster["a"])
    assert a.login(ministry.email).status == 302
    started = a.post_form(f"/documents/rounds/{round_.id}/export", {"csrf_token": a.csrf("/ministry/dashboard")})
    assert started.status == 302, started.text[:500]
    task_id = int(re.search(r"/documents/tasks/(\d+)", started.headers["Location"]).group(1))
    db.session.remove()
    task = db.session.get(DocumentTask, task_id)
    assert task.status == "queued" and task.queue_job_id
    from rq import Queue

    assert Queue("documents", connection=cluster["redis"]).count == 1
    worker_machine = cluster["tmp"] / "machine-worker"
    worker_machine.mkdir()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "documents", "worker", "--burst"],
                          cwd=ROOT, env={**cluster["env"], "UPLOAD_DIR": str(worker_machine / "uploads")},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    b = Browser(cluster["b"], cookies=dict(a.cookies))
    progress = b.get(f"/documents/tasks/{task_id}.json").json()
    assert progress["status"] == "done" and progress["done"] == progress["total"] > 0, progress
    # The worker ran on a third machine; the ZIP it made downloads through instance B.
    archive = b.get(progress["download"])
    assert archive.status == 200 and archive.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.body)) as z:
        assert z.namelist() and z.testzip() is None
    db.session.remove()
    assert db.session.scalar(sa.select(DocumentTask.status).where(DocumentTask.id == task_id)) == "done"
