"""Serve an app on a real socket on 127.0.0.1 for browser tests (werkzeug in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from artisan_awards.extensions import db


@contextmanager
def serve(app) -> Iterator[str]:
    """Yield the base URL while ``app`` is served; shut down and release the database after."""
    from tests.rollback_guard import refuse_in_rolled_back_test

    refuse_in_rolled_back_test("a live server")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
