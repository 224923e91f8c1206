"""Other systems told what happens here: an event outbox, webhooks and status sync to partners.

``outbox``: the events, written in the transaction of the change they report, with one delivery
per subscriber that wants them.  ``delivery``: the worker (``flask integration deliver``) that POSTs
them, signed (Standard Webhooks), with retries, back-off, a log and dead letters.  ``routes``: the
administrator's pages.  See docs/integration.md.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import delivery
    from .routes import bp

    app.register_blueprint(bp)
    app.cli.add_command(delivery.integration_cli)
