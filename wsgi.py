"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``.

Behind a reverse proxy set ``PROXY_HOPS`` to the number of proxies in front of the app (usually 1):
the client's address (rate limits) and scheme (HSTS, secure cookies) then come from the proxy's
``X-Forwarded-For`` / ``X-Forwarded-Proto``. Leave it unset when clients reach gunicorn directly,
or they could forge those headers. ``create_app`` applies it (``views.init_app``), so the tests'
apps and every server get the same behaviour.

The objects made at start-up (the app, its routes, templates, SQLAlchemy's mappers, the programme
definitions) live as long as the process: ``gc.freeze()`` moves them out of the collector's reach, so
a full collection during a request (the close of a council session allocates enough to start one)
walks only what requests made (docs/performance.md).
"""

import gc

from artisan_awards import create_app

app = create_app()
gc.freeze()
