"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``.

Behind a reverse proxy set ``PROXY_HOPS`` to the number of proxies in front of the app (usually 1):
the client's address (rate limits) and scheme (HSTS, secure cookies) then come from the proxy's
``X-Forwarded-For`` / ``X-Forwarded-Proto``. Leave it unset when clients reach gunicorn directly,
or they could forge those headers.
"""

import os

from werkzeug.middleware.proxy_fix import ProxyFix

from artisan_awards import create_app

app = create_app()
_hops = int(os.environ.get("PROXY_HOPS", "0") or 0)
if _hops > 0:
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=_hops, x_proto=_hops, x_host=_hops)
