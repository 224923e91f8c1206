"""The killed worker of tests/test_faults.py: one operation in a process of its own.

Each worker is a new OS process with its own database connection, stopped at a chosen point inside
the operation's transaction and SIGKILLed by the test, as before.  What changed is how it starts: a
fresh ``python -c`` paid the import of the whole application (about 2 CPU-s) for every kill; now a
``multiprocessing`` fork server imports this module (and with it the application) once per test
process and forks each worker from there.  The child builds its own app and engine after the fork
(nothing is connected in the fork server), so no connection or state of the test process is shared.
"""

from __future__ import annotations

import io
import os
import re
import time
import traceback

import sqlalchemy as sa

from artisan_awards import create_app
from artisan_awards.extensions import db
from artisan_awards.models import CouncilSession, Nomination, User
from artisan_awards.services.councils import close_session
from artisan_awards.services.nominations import perform


class _Lines(io.TextIOBase):
    """The child's standard output, sent to the test through a pipe."""

    def __init__(self, conn):
        self.conn = conn

    def write(self, text: str) -> int:
        self.conn.send_bytes(text.encode())
        return len(text)


def main(env: dict, op: str, ident: int, actor: int, conn) -> None:
    """The entry point in the forked child: ``env`` plays the environment of the old subprocess."""
    out = _Lines(conn)
    try:
        os.environ.update(env)
        _work(op, ident, actor, out)
    except BaseException:
        out.write("ERROR " + traceback.format_exc().replace("\n", " | ") + "\n")
        raise


def _work(op: str, ident: int, actor: int, out) -> None:
    # The test's own secret key: the audit chain's key is derived from it, and both must agree.
    app = create_app({"SQLALCHEMY_DATABASE_URI": os.environ["FAULT_DB"], "SECRET_KEY": os.environ["FAULT_SECRET"],
                      "UPLOAD_DIR": os.environ["FAULT_UPLOADS"], "TODAY": os.environ.get("FAULT_TODAY") or None})
    pattern, nth = re.compile(os.environ["FAULT_AT"]), int(os.environ.get("FAULT_NTH", "1"))
    seen = 0

    def stop(where):
        out.write("STOPPED " + where + "\n")
        time.sleep(600)

    with app.app_context():
        @sa.event.listens_for(db.engine, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, executemany):
            nonlocal seen
            if pattern.match(statement):
                seen += 1
                if seen == nth:
                    stop(statement.split("(")[0][:60])

        @sa.event.listens_for(db.engine, "commit")
        def _before_commit(conn):
            if os.environ["FAULT_AT"] == "COMMIT":
                stop("before COMMIT")

        @sa.event.listens_for(db.session, "after_commit")
        def _after_commit(session):
            if os.environ["FAULT_AT"] == "AFTER COMMIT":
                stop("after COMMIT")

        user = db.session.get(User, actor)
        if op == "close":
            close_session(user, db.session.get(CouncilSession, ident))
        elif op == "split":  # the control: one change in two transactions, as it must never be done
            n = db.session.get(Nomination, ident)
            n.craft = "Đổi ở giao dịch thứ nhất"
            db.session.commit()
            n.career_summary = "Đổi ở giao dịch thứ hai"
            db.session.commit()
        else:
            perform(db.session.get(Nomination, ident), op, user, comment="Thao tác bị ngắt")
        out.write("FINISHED\n")
