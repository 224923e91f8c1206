"""Artisan Awards: the award of Nghệ nhân nhân dân / Nghệ nhân ưu tú (Decree 43/2024/NĐ-CP)."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from babel import Locale
from flask import Flask, request, session
from flask.templating import _default_template_ctx_processor
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from workflows.registry import registry as programme_registry

from .config import Config
from .extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_BYTES = 32


class InsecureSecretKey(RuntimeError):
    """create_app refuses to run outside development and tests without a real secret key."""


def create_app(config: dict | None = None) -> Flask:
    """Application factory: defaults, then the instance config, then ``config`` (tests) last."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    if config:
        app.config.from_mapping(config)
    os.makedirs(app.instance_path, exist_ok=True)
    _secret_key(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "artisan_awards.sqlite"
        )
    if not app.config.get("UPLOAD_DIR"):
        app.config["UPLOAD_DIR"] = os.path.join(app.instance_path, "uploads")

    app.url_map.converters["int"] = BoundedInt
    for directory in app.config.get("PROGRAMME_DIRS") or ():  # programme definitions (docs/programmes.md)
        programme_registry().add_directory(directory)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Vui lòng đăng nhập để tiếp tục.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_babel_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)
    _sqlite_pragmas(app)

    from . import cli, field_view, i18n, permissions, views
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .applicant import bp as applicant_bp
    from .auth import bp as auth_bp
    from .council import bp as council_bp
    from .data_officer import bp as data_officer_bp
    from .data_rights import bp as data_rights_bp
    from .documents import bp as documents_bp
    from .dossier import bp as dossier_bp
    from .integration import delivery as integration_delivery
    from .integration.routes import bp as integration_bp
    from .ministry import bp as ministry_bp
    from .open_data import bp as open_data_bp
    from .products import bp as products_bp
    from .programmes import bp as programmes_bp
    from .province import bp as province_bp
    from .public import bp as public_bp
    from .rounds import bp as rounds_bp
    from .rules import bp as rules_bp
    from .schemes import bp as schemes_bp
    from .services import mail

    mail.init_app(app)  # its settings, delivery after each request, `flask mail`
    app.cli.add_command(integration_delivery.integration_cli)  # `flask integration deliver`, `replay`
    for blueprint in (
        auth_bp,
        applicant_bp,
        dossier_bp,
        programmes_bp,
        province_bp,
        ministry_bp,
        council_bp,
        public_bp,
        open_data_bp,
        rounds_bp,
        schemes_bp,
        rules_bp,
        documents_bp,
        admin_bp,
        data_rights_bp,
        data_officer_bp,
        products_bp,
        integration_bp,
        api_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)
    # Flask gives every blueprint its own copy of the default context processor (g, request, session),
    # which the application's already ran for the same render: a blueprint's page paid for it twice.
    for name, processors in app.template_context_processors.items():
        if name is not None:
            processors[:] = [p for p in processors if p is not _default_template_ctx_processor]
    views.init_app(app)
    i18n.init_app(app)
    permissions.init_app(app)
    field_view.init_app(app)
    cli.init_app(app)
    return app


def _secret_key(app: Flask) -> None:
    """SECRET_KEY from the settings, else from SECRET_KEY_FILE, else the built-in development key.

    The rule: with ``TESTING`` or ``FLASK_DEBUG`` (``app.debug``) any key is accepted; otherwise
    the built-in key, or a key shorter than 32 bytes, stops the application from starting.
    """
    if not app.config.get("SECRET_KEY"):
        path = app.config.get("SECRET_KEY_FILE") or os.path.join(app.instance_path, "secret_key")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                app.config["SECRET_KEY"] = handle.read().strip()
    key = app.config.get("SECRET_KEY") or DEV_SECRET_KEY
    app.config["SECRET_KEY"] = key
    if app.testing or app.debug:
        return
    if key == DEV_SECRET_KEY or len(key.encode()) < MIN_SECRET_KEY_BYTES:
        raise InsecureSecretKey(
            "SECRET_KEY is the built-in development key or shorter than 32 bytes. Set a random one, e.g. "
            "export SECRET_KEY=\"$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\" "
            "(or put it in instance/secret_key, or name a file with SECRET_KEY_FILE); "
            "FLASK_DEBUG=1 allows the built-in key for development only."
        )


class BoundedInt(IntegerConverter):
    """``<int:...>`` in URLs stops at the largest INTEGER a database column holds: beyond it, 404."""

    def __init__(self, url_map, *args, **kwargs):
        from .models import MAX_DB_INT

        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(url_map, *args, **kwargs)


def select_locale() -> str:
    """Vietnamese unless English was asked for: by the language switch (session or ``lang`` cookie), the
    account, or the API."""
    languages = ("vi", "en")
    if request.path.startswith("/api/"):
        return request.accept_languages.best_match(languages, default="vi")
    chosen = session.get("lang") or request.cookies.get("lang")  # the switch: session, else its cookie
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return "vi"


# The two languages as babel Locales, parsed once: Flask-Babel takes a Locale as it is, where it parses a
# language code again for every request (issue 16).
LOCALES = {code: Locale.parse(code) for code in ("vi", "en")}


def _babel_locale() -> Locale:
    """Flask-Babel's locale selector: ``select_locale``'s choice, as its kept Locale."""
    return LOCALES[select_locale()]


def _sqlite_pragmas(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():

        @sa.event.listens_for(db.engine, "connect")
        def _on_connect(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            # Deleted content (the sealed ballots destroyed at a close) is overwritten, not left
            # in free pages of the file.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()


@login_manager.user_loader
def _load_user(user_id: str):
    """Only through a live login session: the cookie holds "<user id>:<session key>"."""
    from .services import sessions

    return sessions.load(user_id)
