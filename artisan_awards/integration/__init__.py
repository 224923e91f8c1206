"""Other systems told what happens here: an event outbox, webhooks and status sync to partners.

``outbox``: the events, written in the transaction of the change they report, with one delivery
per subscriber that wants them.  ``delivery``: the worker (``flask integration deliver``) that POSTs
them, signed (Standard Webhooks), with retries, back-off, a log and dead letters.  ``subscribers``: the
administrator's operations; ``routes``: their pages (registered by ``create_app``).  See
docs/integration.md.
"""
