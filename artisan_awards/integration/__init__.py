"""Working with other systems (issue 19).

Inbound: partner systems that file dossiers here (``partners``, ``http_signatures``, ``intake``).
Outbound: an event outbox (``outbox``: the events, written in the transaction of the change they
report, with one delivery per subscriber that wants them), the worker (``delivery``: ``flask
integration deliver`` POSTs them, signed with Standard Webhooks, with retries, back-off, a log and
dead letters), the administrator's operations (``subscribers``) and pages (``routes``).
See docs/integration.md.
"""
