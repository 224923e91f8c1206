"""A throwaway PostgreSQL cluster for the test run (initdb in a temporary folder).

Used when the tests run with ``--db postgresql`` and no ``DATABASE_URL`` is given.
As root, the server binaries run as the ``postgres`` user (PostgreSQL refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    # A throwaway cluster: nothing of it must survive a crash, nothing replicates it, nobody reads its
    # statistics. (PostgreSQL 15's defaults in brackets.)
    SETTINGS = {
        "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",  # [on] never wait for the disk
        "max_connections": 200,  # [100] two workers' apps, live servers and threads at once
        # [replica, 10] no WAL kept for standbys or archives: less WAL written by the tests' bulk
        # operations (CREATE INDEX, VACUUM's rewrites)
        "wal_level": "minimal", "max_wal_senders": 0,
        "wal_init_zero": "off",  # [on] a new WAL segment is not zero-filled first (16 MB written each)
        # [5min, 1GB] checkpoints only when WAL piles up (the copies of the template write it, 10 MB each)
        "checkpoint_timeout": "1h", "max_wal_size": "4GB",
        # [on] no autovacuum workers visiting each of the hundreds of short-lived databases a run makes
        # (the application's own VACUUM at a council session's close still runs; tests that look at
        # pages turn it off per table themselves, tests/test_ballot_secrecy.py)
        "autovacuum": "off",
        "jit": "off",  # [on] the tests' small queries never pay for compiling a plan
    }

    def __init__(self) -> None:
        self.bindir = _bindir()
        self.root = Path(tempfile.mkdtemp(prefix="aa-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if self.as_postgres:
            shutil.chown(self.root, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C.UTF-8")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {name}={value}" for name, value in self.SETTINGS.items())
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "start")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def cpu_seconds(self) -> float | None:
        """CPU time the server has used so far: the postmaster's own, that of its ended backends, and
        that of its processes still running (checkpointer, WAL writer, background writer, open
        connections' backends: before, these were left out)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted after the command's ")"
        ticks = sum(int(f) for f in fields[11:15])
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                child = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if child[1] == str(pid):  # ppid: field 4
                ticks += int(child[11]) + int(child[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
