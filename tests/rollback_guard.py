"""The guard of the rolled-back test transaction (used by tests/conftest.py and tests/liveserver.py).

A module of its own, not conftest.py: pytest imports conftest.py under another name than
``tests.conftest``, and the guard must be one object for every importer.
"""

from __future__ import annotations

import os
import subprocess
import threading

import pytest
import sqlalchemy as sa


class Guard:
    """While a test runs inside its rolled-back transaction, any other way to the database fails loudly.

    Rows the test wrote are invisible to another connection (they are never committed) and a
    second thread would share the test's connection, so such a test could pass without testing
    anything.  Seen here: a new connection from any SQLAlchemy engine, a statement from another
    thread on the test's connection, a subprocess given the test database, a live server.  The
    offending call raises (BaseException, so the application's error pages cannot swallow it) and
    the test fails at its end even if that call ran in a thread that swallowed the error.
    """

    active: Guard | None = None

    def __init__(self, connection, url: str):
        self.connection = connection
        self.thread = threading.get_ident()
        self.url = url
        self.seen: list[str] = []

    def refuse(self, what: str):
        message = (f"{what}: this test runs inside a transaction that is rolled back, which no other "
                   "connection, thread or process sees. Mark it @pytest.mark.realdb (tests/conftest.py).")
        if threading.get_ident() != self.thread:
            self.seen.append(message)  # a thread may swallow the error: the test fails at its end
        pytest.fail(message, pytrace=False)

    def mentions_database(self, *values) -> bool:
        needles = {self.url}
        database = sa.make_url(self.url).database
        if database:
            needles.add(database)
        return any(isinstance(v, (str, bytes, os.PathLike)) and any(n in os.fsdecode(v) for n in needles)
                   for v in values)


@sa.event.listens_for(sa.engine.Engine, "engine_connect")
def _other_connection(connection):
    guard = Guard.active
    if guard is not None and connection is not guard.connection:
        guard.refuse(f"a connection of its own to {connection.engine.url.render_as_string()}")


def _other_thread(conn, cursor, statement, *args):
    guard = Guard.active
    if guard is not None and threading.get_ident() != guard.thread:
        guard.refuse(f"SQL from thread {threading.current_thread().name!r}")


_popen_init = subprocess.Popen.__init__


def _guarded_popen(self, args, *rest, **kw):
    guard = Guard.active
    if guard is not None:
        argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
        env = kw.get("env") or {}
        if guard.mentions_database(*argv, *env.values()):
            guard.refuse(f"a subprocess given the test database ({argv[:3]})")
    _popen_init(self, args, *rest, **kw)


subprocess.Popen.__init__ = _guarded_popen


def watch_thread(connection) -> None:
    sa.event.listen(connection, "before_cursor_execute", _other_thread)


def refuse_in_rolled_back_test(what: str) -> None:
    """For helpers that serve the application elsewhere (tests/liveserver.py)."""
    if Guard.active is not None:
        Guard.active.refuse(what)
