"""Serve an app on a real socket on 127.0.0.1 for browser tests (werkzeug in a thread)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from artisan_awards.extensions import db

# How often a test server's loop looks whether it was asked to stop (``serve_forever(poll_interval=)``).
# ``shutdown()`` waits for that look: with the standard library's 0.5 s, every stopped server held its
# test 0.25 s on average (0-0.5 s, measured), its core idle for nothing. Between two looks the loop sleeps
# in ``select``: no CPU to speak of. Also used by tests/portal_simulator.py and tests/webhook_receiver.py.
POLL_INTERVAL = 0.02


@contextmanager
def serve(app) -> Iterator[str]:
    """Yield the base URL while ``app`` is served; shut down and release the database after."""
    from tests.rollback_guard import refuse_in_rolled_back_test

    refuse_in_rolled_back_test("a live server")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                              name="live-server", daemon=True)
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
