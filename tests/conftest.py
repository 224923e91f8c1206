"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner``, ``auth``.

The suite runs on SQLite (default) or on PostgreSQL (``--db postgresql``): a
throwaway cluster started here, or the server named by ``DATABASE_URL``.  The
schema comes from the migrations once per run into a template database; each
test gets a fresh copy of it.
"""

from __future__ import annotations

import itertools
import os
import shutil
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from artisan_awards import create_app
from artisan_awards.extensions import db
from tests.factories import Factory


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("TEST_DB", "sqlite"),
        help="database to run the suite on",
    )


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}"


def _migrate(url: str, tmp_root) -> None:
    """Build a database from the migrations, then load the provinces."""
    from flask_migrate import upgrade

    from artisan_awards.services.provinces import sync_provinces

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                      "UPLOAD_DIR": str(tmp_root / "uploads")})
    with app.app_context():
        upgrade()
        sync_provinces()
        db.session.remove()
        db.engine.dispose()


@dataclass
class DatabaseFactory:
    kind: str
    template: str  # path (sqlite) or database name (postgresql)
    server_url: str | None = None
    counter = itertools.count()

    def new(self, tmp_path) -> tuple[str, callable]:
        if self.kind == "sqlite":
            path = tmp_path / "test.sqlite"
            shutil.copyfile(self.template, path)
            return f"sqlite:///{path}", lambda: None
        name = f"aa_test_{os.getpid()}_{next(self.counter)}"
        admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        url = sa.make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        return url, drop


@pytest.fixture(scope="session")
def database_factory(request, tmp_path_factory):
    kind = request.config.getoption("--db")
    root = tmp_path_factory.mktemp("db")
    if kind == "sqlite":
        template = root / "template.sqlite"
        _migrate(f"sqlite:///{template}", root)
        yield DatabaseFactory("sqlite", str(template))
        return
    cluster = None
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        from tests.pgcluster import Cluster

        cluster = Cluster()
        server_url = cluster.start()
    template = f"aa_template_{os.getpid()}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
    _migrate(sa.make_url(server_url).set(database=template).render_as_string(hide_password=False), root)
    try:
        yield DatabaseFactory("postgresql", template, server_url)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
        admin.dispose()
        if cluster:
            cluster.stop()


@pytest.fixture
def db_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture
def app_config(database_factory, tmp_path):
    url, drop = database_factory.new(tmp_path)
    config = {
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
    yield config
    drop()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(app) -> Factory:
    """Factories for users, rounds and nominations (driven through the real operations)."""
    return Factory()


class AuthActions:
    def __init__(self, client, make):
        self._client = client
        self._make = make

    def login(self, email: str, password: str = Factory.PASSWORD):
        return self._client.post("/login", data={"email": email, "password": password})

    def login_as(self, role: str = "applicant", province: str | None = None):
        user = self._make.user(role, province)
        response = self.login(user.email)
        assert response.status_code == 302, response.data[:500]
        return user

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client, make) -> AuthActions:
    return AuthActions(client, make)


class ApiClient:
    """The test client with a bearer token per user."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[int, str] = {}

    def token(self, user) -> str:
        if user.id not in self._tokens:
            r = self.client.post("/api/v1/auth/token",
                                 json={"email": user.email, "password": Factory.PASSWORD})
            assert r.status_code == 200, r.get_json()
            self._tokens[user.id] = r.get_json()["token"]
        return self._tokens[user.id]

    def headers(self, user=None, **extra) -> dict:
        headers = dict(extra)
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return headers

    def get(self, path, user=None, **kw):
        return self.client.get(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def post(self, path, user=None, **kw):
        return self.client.post(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)

    def patch(self, path, user=None, **kw):
        return self.client.patch(path, headers=self.headers(user, **kw.pop("headers", {})), **kw)


@pytest.fixture
def api(client) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def days():
    return lambda n: timedelta(days=n)


@pytest.fixture
def people(make):
    """One person of each kind the API and upload tests act as (Hà Nội, and Hải Phòng as "another province")."""
    return SimpleNamespace(
        applicant=make.user("applicant"),
        other_applicant=make.user("applicant"),
        officer=make.user("province_officer", "HNI"),
        officer_hpg=make.user("province_officer", "HPG"),
        ministry=make.user("ministry_officer"),
        admin=make.user("admin"),
    )


@pytest.fixture
def site(app_config):
    """The demo world (tests/demo_world.py) served on a real socket for the browser, CSRF on."""
    from tests import demo_world
    from tests.liveserver import serve

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False,
                      "TODAY": None})
    with app.app_context():
        world = demo_world.build()
        db.session.remove()
    with serve(app) as url:
        yield url, world
