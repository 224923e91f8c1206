"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

from artisan_awards import create_app

app = create_app()
