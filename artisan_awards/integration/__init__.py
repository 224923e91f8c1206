"""Working with other systems (issue 19): partner systems that file dossiers here (``partners``,
``http_signatures``, ``intake``) and the status messages and webhooks sent out to subscribers."""
