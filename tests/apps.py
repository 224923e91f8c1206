"""The applications of the tests (used by tests/conftest.py and by modules that keep a world).

A module of its own, not conftest.py: pytest imports conftest.py under another name than
``tests.conftest``, and what is shared must be one object for every importer.

- ``_config``: the settings every test app starts from;
- ``SharedApp``: the one app of a worker's rolled-back tests;
- ``world_snapshot`` / ``config_from_snapshot``: a world built once per module (real commits) into a
  database that each test then gets a copy of, with its uploads: a world of its own, built once.
"""

from __future__ import annotations

import copy
import shutil
import weakref
from contextlib import contextmanager
from types import SimpleNamespace

import sqlalchemy as sa

from artisan_awards import create_app
from artisan_awards.extensions import db


def _config(url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-of-at-least-thirty-two-bytes",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAX_UPLOAD_BYTES": 2 * 1024 * 1024,
        "SERVER_NAME": None,
        # Cheap Argon2 parameters: the suite creates hundreds of accounts.
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        # Small councils keep the suite quick; tests/test_council_side.py checks the real sizes.
        "COUNCIL_SIZES": {"default": {"min_members": 3, "max_members": 20}},
    }



@contextmanager
def world_snapshot(database_factory, root, build, **config):
    """Run ``build()`` once in an app on a fresh database (real commits), keep that database and its uploads.

    Yields a namespace: ``url`` (the template of the copies), ``uploads``, and ``value`` (what ``build``
    returned: keep it to plain values, ids and strings, since its ORM objects belong to a closed session).
    """
    url, drop = database_factory.new(root)
    try:
        app = create_app({**_config(url, root), **config})
        with app.app_context():
            value = build()
            db.session.remove()
            db.engine.dispose()
        yield SimpleNamespace(url=url, uploads=root / "uploads", value=value)
    finally:
        drop()


def config_from_snapshot(database_factory, snapshot, tmp_path) -> tuple[dict, callable]:
    """The settings of a test app on a copy of ``snapshot``'s database and uploads, and how to drop the copy."""
    url, drop = database_factory.new(tmp_path, template=snapshot.url)
    if snapshot.uploads.exists():
        shutil.copytree(snapshot.uploads, tmp_path / "uploads")
    return _config(url, tmp_path), drop


def _shape(app) -> tuple:
    """What a test could add to an app that the shared app must not carry into the next test."""
    return (
        len(app.url_map._rules), tuple(app.view_functions), tuple(app.blueprints),
        tuple((k, tuple(v)) for k, v in app.before_request_funcs.items()),
        tuple((k, tuple(v)) for k, v in app.after_request_funcs.items()),
        tuple((k, tuple(v)) for k, v in app.teardown_request_funcs.items()),
        tuple((k, tuple(v)) for k, v in app.template_context_processors.items()),
        tuple((k, tuple(v)) for k, v in app.url_value_preprocessors.items()),
        tuple((k, tuple(v)) for k, v in app.url_default_functions.items()),
        repr(app.error_handler_spec), tuple(app.teardown_appcontext_funcs),
        tuple(app.jinja_env.globals), tuple(app.jinja_env.filters), tuple(app.jinja_env.tests),
        id(app.session_interface), id(app.__dict__.get("wsgi_app")), id(app.json), app.secret_key,
    )


class SharedApp:
    """The worker's one application for the rolled-back tests (``create_app`` once, not once per test).

    Each test gets it as a new app would come: the configuration as created (deep-copied back after
    each test, so a test's ``app.config[...] = ...`` ends with it), its own upload folder, the
    extensions as created (what a test made lazily, e.g. the upload storage of its folder, is
    dropped), and Flask's "no request handled yet" state.  A test that changes the app's structure
    (a route, a hook, a template global, the session interface) leaves it to that test alone: the
    next test gets a new app.
    """

    def __init__(self, url: str, root):
        self.url = url
        self.root = root
        self.app = None
        self.created = 0

    def _create(self):
        app = create_app(_config(self.url, self.root))
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = dict(app.extensions)
        self.shape = _shape(app)
        self.created += 1
        return app

    @contextmanager
    def lend(self, tmp_path):
        app = self.app = self.app or self._create()
        app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
        app._got_first_request = False
        try:
            yield app
        finally:
            app.config.clear()
            app.config.update(copy.deepcopy(self.config))
            app.extensions.clear()
            app.extensions.update(self.extensions)
            if _shape(app) != self.shape:
                with app.app_context():
                    db.engine.dispose()
                self.app = None

    def close(self):
        if self.app is not None:
            with self.app.app_context():
                db.engine.dispose()




def module_world(build, folder: str, *, fixture: str = "built_world", asked_by: str | None = "world", **config):
    """The two fixtures of a module whose tests share one world built once (``build()``, real commits; see
    ``world_snapshot``): returns them, to be bound in the module under their names,
    ``built_world, app_config = module_world(_build_world, "audit-world")``.

    ``fixture`` (module scope) is the world's database and uploads, built under the temporary folder
    ``folder``; ``app_config`` gives a test that asks for ``asked_by`` a copy of that database (its own:
    nothing another test wrote is there) and any other test of the module an empty database of its own
    (``asked_by=None``: every test gets a copy of the world). ``config`` goes to the world's app."""
    import pytest

    @pytest.fixture(scope="module", name=fixture)
    def snapshot(database_factory, tmp_path_factory):
        with world_snapshot(database_factory, tmp_path_factory.mktemp(folder), build, **config) as built:
            yield built

    @pytest.fixture(name="app_config")
    def app_config(request, database_factory, tmp_path):
        if asked_by is None or asked_by in request.fixturenames:
            config, drop = config_from_snapshot(database_factory, request.getfixturevalue(fixture), tmp_path)
        else:
            url, drop = database_factory.new(tmp_path)
            config = _config(url, tmp_path)
        yield config
        drop()

    return snapshot, app_config


def rollback_ready(engine) -> None:
    """Once per engine: pysqlite's own transaction handling off, so that SAVEPOINTs work.

    (SQLAlchemy's pysqlite notes.)
    """
    if engine.dialect.name != "sqlite" or engine in _ROLLBACK_READY:
        return
    engine.dispose()

    @sa.event.listens_for(engine, "connect")
    def _autocommit_driver(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    _ROLLBACK_READY.add(engine)


_ROLLBACK_READY: weakref.WeakSet = weakref.WeakSet()
