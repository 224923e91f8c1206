"""What gunicorn serves in the benchmarks: the application, and beside it at ``/bare`` a bare Flask app.

The bare app answers ``/bare/nominations/<id>`` with one primary-key read on the same database
through the application's own engine (so the same connection pool and pool settings), and returns
a few columns as JSON.  It is the floor the status lookup is compared with: same server, same
process, same worker settings, same database, one query, nothing else.

    BENCH_DATABASE_URL=postgresql+psycopg://... gunicorn --chdir <repo> bench_wsgi:application
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, abort, jsonify
from harness import app_config
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from artisan_awards import create_app
from artisan_awards.extensions import db

app = create_app(app_config(os.environ["BENCH_DATABASE_URL"], Path(os.environ.get("BENCH_WORK", "/tmp"))))

with app.app_context():
    engine = db.engine  # the application's engine: one pool per worker for both apps

NOMINATIONS = sa.table("nominations", sa.column("id"), sa.column("code"), sa.column("state"),
                       sa.column("state_changed_at"))
BY_ID = sa.select(NOMINATIONS.c.code, NOMINATIONS.c.state, NOMINATIONS.c.state_changed_at).where(
    NOMINATIONS.c.id == sa.bindparam("id"))

bare = Flask("bare")


@bare.get("/health")
def health():
    return "ok"


@bare.get("/nominations/<int:nomination_id>")
def by_id(nomination_id: int):
    with engine.connect() as conn:
        row = conn.execute(BY_ID, {"id": nomination_id}).first()
    if row is None:
        abort(404)
    return jsonify({"code": row.code, "state": row.state, "updated_at": row.state_changed_at.isoformat()})


application = DispatcherMiddleware(app, {"/bare": bare})

# As wsgi.py does in production: the start-up's long-lived objects out of the collector's reach.
gc.freeze()
