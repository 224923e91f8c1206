"""Fixtures in the style of Flask's tutorial: ``app``, ``client``, ``runner``, ``auth``.

The suite runs on SQLite (default) or on PostgreSQL (``--db postgresql``): a
throwaway cluster started here, or the server named by ``DATABASE_URL``.  The
schema comes from the migrations once per run (per xdist worker) into a template
database.

Most tests run inside one transaction that is rolled back at their end (SQLAlchemy's
"join a session into an external transaction" recipe: the session's commits become
savepoints) on one database per worker.  Tests that need real commits, other
connections, threads, processes or a live server are marked ``realdb`` (by hand, or
found here: they ask for ``app_config``, ``database_factory`` or ``site`` themselves)
and get a fresh copy of the template, as before.  Tests that touch no database run
on the SQLite pass only: the PostgreSQL pass reports them as skipped.
"""

from __future__ import annotations

import copy
import gc
import itertools
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSession

from artisan_awards import create_app
from artisan_awards.extensions import db
from tests import compiled_cache
from tests.apps import SharedApp, _config, rollback_ready
from tests.factories import Factory
from tests.plugins import schedule
from tests.rollback_guard import Guard, watch_thread

# Fixtures kept in files of their own: the CPU-durations report (tests/cpu_durations.py) and the shared
# Chromium of the browser tests (tests/plugins/browser.py).
pytest_plugins = ["tests.cpu_durations", "tests.plugins.browser", "tests.plugins.timeline"]

# Templates and URL builders compiled once per process, not once per test's app.
compiled_cache.install()

# The cyclic garbage collector less often: a test worker holds hundreds of MB (the application,
# compiled templates, module worlds, parsed PDFs), and with the default thresholds (700, 10, 10)
# its full collections, each walking all of it, took a fifth of the CPU (tests/test_api.py, the same
# 158 tests: 29.3 -> 23.1 CPU-seconds). Garbage is still collected, in larger batches.
GC_THRESHOLDS = (50_000, 50, 100)
gc.set_threshold(*GC_THRESHOLDS)



@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, _record):
    """Test databases are thrown away: SQLite need not wait for the disk at each commit.

    The same choice as the PostgreSQL test cluster's ``fsync=off`` (tests/pgcluster.py). With the
    default ``synchronous=FULL`` each real commit (the ``realdb`` tests, module worlds, the demo
    world) waited for two fsyncs: 3 ms a commit on an idle disk, 20-50 ms with the eight suites
    of this machine writing at once; 0.02 ms without. Nothing else changes (rollback journal,
    locking, foreign keys as the application sets them).
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")




def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default=os.environ.get("TEST_DB", "sqlite"),
        help="database to run the suite on",
    )


def pytest_report_header(config):
    return f"database: {config.getoption('--db')}"


# Fixtures of this file that reach the database only through the rolled-back transaction.
_TRANSACTIONAL = {"app", "app_config", "client", "runner", "make", "auth", "api", "people"}
_DATABASE_FIXTURES = {"database_factory", "db_kind"}


# Tests whose code under test needs committed rows: a node id or a module.  The public status
# lookup (bench/lookup_bench.py's hot path) and `flask audit verify` read on a pooled connection
# of their own; documents are rendered in worker threads; a council session's close runs VACUUM
# outside any transaction on PostgreSQL; the list tests count the SQL statements a page sends
# (savepoints would add to them).
REAL_DATABASE = (
    "tests/test_status_lookup.py",
    "tests/test_public_lookup.py",  # the POST lookup and its timeline: the same connection of its own
    # Close council sessions: VACUUM outside any transaction on PostgreSQL (below); seen in the PostgreSQL pass.
    # (A close inside the rolled-back transaction now leaves VACUUM to its caller instead of failing: the
    # council, notification, list, award and move modules below run rolled back again.)
    "tests/test_batch_actions.py",
    "tests/test_round_report.py",
    # `audit_chain.verify` on a connection of its own
    "tests/test_move_many.py::test_each_dossier_gets_its_own_log_row_in_order_and_the_chain_verifies",
    "tests/test_move_many.py::test_log_rows_given_as_values_and_as_objects_share_one_chain_in_order",
    "tests/test_nominations.py::test_status_lookup_page",
    "tests/test_nominations.py::test_audit_chain_finds_an_altered_row",  # `flask audit verify`: its own connection
    # `flask seed-demo` closes the demo's council sessions (VACUUM on PostgreSQL, below).
    "tests/test_nominations.py::test_cli_creates_users_and_seeds_the_demo",
    "tests/test_i18n.py",
    "tests/test_documents.py",
    # Compares the time of two paths: on the database as deployed, not with savepoints in between.
    "tests/test_smaller_holes.py::test_registration_timing_is_of_the_same_order",
    "tests/test_concurrency.py",
    "tests/test_faults.py",
    "tests/test_backup.py",
    "tests/test_multi_instance.py",
    # The keyed chain is verified on a connection of its own (audit_chain.verify).
    "tests/test_audit_chain.py",
    # The public status lookup (above) reached through the API.
    "tests/test_api.py::test_submit_returns_the_access_key_once",
    "tests/test_api.py::test_status_lookup",
    "tests/test_api.py::test_status_follows_the_dossier",
    "tests/test_api.py::test_status_wrong_code_and_wrong_key_give_the_same_404",
    # Closes a council session: VACUUM outside any transaction on PostgreSQL (above).
    "tests/test_document_layout.py::test_minutes_say_what_minutes_must_say",
    # Closes council sessions (above) and signs against the throwaway PKI's servers.
    "tests/test_signing.py",
    # Builds the demo world, whose council session closes (VACUUM on PostgreSQL, above).
    "tests/test_language_switch.py::test_every_page_switches_language_for_every_role",
    # Posts a code to the public status lookup (its own connection, above).
    "tests/test_language_switch.py::test_errors_and_form_messages_follow_the_language",
    # Close council sessions (VACUUM outside any transaction on PostgreSQL, above): seen failing in
    # the PostgreSQL pass with "'Connection' object has no attribute 'connect'".
    "tests/test_document_freshness.py",
    # Ballots and the close from several threads at once.
    "tests/test_ballot_secrecy.py::test_ballots_racing_the_close_are_counted_in_the_decision_or_refused",
    "tests/test_ballot_secrecy.py::test_the_race_test_catches_a_close_that_does_not_wait",
    # The archival package's documents are rendered in worker threads.
    "tests/test_archive_package.py::test_export_page_offers_the_choice_and_refuses_an_unknown_one",
)


def _needs_real_database(item) -> bool:
    """A test that commits for real: marked so, or it builds apps/databases/servers itself."""
    if item.get_closest_marker("realdb") or {"site", "module_site"} & set(item.fixturenames):
        return True
    if any(item.nodeid == n or item.nodeid.startswith((n + "::", n + "[")) for n in REAL_DATABASE):
        return True
    if {"app_config", "database_factory"} & set(item._fixtureinfo.argnames):
        return True
    for name, defs in item._fixtureinfo.name2fixturedefs.items():
        if name in _TRANSACTIONAL or name in _DATABASE_FIXTURES:
            continue
        if any({"app_config", "database_factory"} & set(d.argnames) for d in defs):
            return True
    return False


def pytest_configure(config):
    # The order of tests/plugins/schedule.py (costliest modules first), not xdist's own by number of
    # items (it would undo it).
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    # `--dist loadscope` (scripts/test): the next module to a worker only when one item of its own is left.
    if config.getvalue("dist") == "loadscope":
        return schedule.last_item_scheduling(config, log)
    return None


def pytest_collection_modifyitems(config, items):
    schedule.costliest_first(items, config.getoption("--db"))
    on_postgresql = config.getoption("--db") == "postgresql"
    once = pytest.mark.skip(reason="touches no database: runs on the SQLite pass only")
    for item in items:
        if not (_DATABASE_FIXTURES & set(item.fixturenames)) and not item.get_closest_marker("postgresql"):
            if on_postgresql:
                item.add_marker(once)
            continue
        if _needs_real_database(item):
            item.add_marker(pytest.mark.realdb)


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


class _PgDatabases:
    """A worker's copies of databases on the PostgreSQL server, made and dropped off the tests' path.

    Each ``realdb`` item on PostgreSQL needs a fresh copy of the migrated template (``CREATE DATABASE
    ... TEMPLATE``) and drops it at its end: 0.2-0.8 s of wall time each at this machine's load, all
    of it the server's work while the test process waited. Here a background thread keeps
    ``AHEAD`` copies of the migrated template ready (the template never changes once migrated, so a
    copy made ahead is the copy the test would have made) and drops the copies the tests are done
    with, while the tests run; copies of other templates (a module's world) are made when asked.
    Both use plain psycopg connections of their own, opened once, not SQLAlchemy engines: one
    connection per worker instead of two new server backends per item, and outside the rolled-back
    tests' guard (tests/rollback_guard.py watches SQLAlchemy's connections). An error of the
    background thread fails the next copy asked for, or the run at its end.
    """

    AHEAD = 2

    def __init__(self, server_url: str, template: str):
        import queue
        import threading

        self.libpq = sa.make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.template = template
        self.counter = itertools.count()
        self._conn = None  # the tests' thread's connection (copies of other templates)
        self._ready: queue.Queue = queue.Queue()  # copies of the template made ahead (name or exception)
        self._work: queue.Queue = queue.Queue()  # ("create" | "drop" | "stop", name)
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, name="aa-test-databases", daemon=True)
        self._started = False

    def _connect(self):
        import psycopg

        return psycopg.connect(self.libpq, autocommit=True)

    def _name(self) -> str:
        return f"aa_test_{os.getpid()}_{next(self.counter)}"

    @staticmethod
    def _create(conn, name: str, template: str) -> None:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    @staticmethod
    def _drop(conn, name: str) -> None:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _serve(self) -> None:
        conn = None
        while True:
            op, name = self._work.get()
            if op == "stop":
                if conn is not None:
                    conn.close()
                return
            try:
                conn = conn or self._connect()
                if op == "create":
                    self._create(conn, name, self.template)
                    self._ready.put(name)
                else:
                    self._drop(conn, name)
            except BaseException as exc:  # reported to the tests' thread
                self._errors.append(exc)
                if op == "create":
                    self._ready.put(exc)

    def _ahead(self) -> None:
        self._work.put(("create", self._name()))

    def new(self, template: str | None) -> str:
        """The name of a fresh copy of the migrated template, or of ``template``."""
        if template is not None and template != self.template:
            self._conn = self._conn or self._connect()
            name = self._name()
            self._create(self._conn, name, template)
            return name
        if not self._started:
            self._thread.start()
            self._started = True
            for _ in range(self.AHEAD):
                self._ahead()
        name = self._ready.get()
        if isinstance(name, BaseException):
            raise name
        self._ahead()
        return name

    def drop(self, name: str) -> None:
        self._work.put(("drop", name))

    def close(self) -> None:
        """Wait for the drops, drop the copies made ahead and not used; raise what went wrong."""
        if self._started:
            self._work.put(("stop", None))
            self._thread.join()
            conn = self._connect()
            try:
                while not self._ready.empty():
                    name = self._ready.get()
                    if not isinstance(name, BaseException):
                        self._drop(conn, name)
            finally:
                conn.close()
        if self._conn is not None:
            self._conn.close()
        if self._errors:
            raise self._errors[0]


@dataclass
class DatabaseFactory:
    kind: str
    template: str  # path (sqlite) or database name (postgresql)
    server_url: str | None = None
    databases: _PgDatabases | None = None

    def shared(self, tmp_path_factory) -> tuple[str, callable]:
        """One more copy of the template: the database of the rolled-back tests (one per worker)."""
        return self.new(tmp_path_factory.mktemp("shared"))

    def new(self, tmp_path, template: str | None = None) -> tuple[str, callable]:
        """A fresh copy of the migrated template, or of ``template`` (a database URL this factory made)."""
        if template is not None:
            template = sa.make_url(template).database
        if self.kind == "sqlite":
            # A plain file copy (shutil.copyfile: sendfile(2) on Linux, no Python loop over the bytes).
            path = tmp_path / "test.sqlite"
            shutil.copyfile(template or self.template, path)
            return f"sqlite:///{path}", lambda: None
        name = self.databases.new(template)
        url = sa.make_url(self.server_url).set(database=name).render_as_string(hide_password=False)
        # Dropped in the background, after the test (WITH (FORCE): a server or thread it left behind
        # is cut off, as before); a later copy never reuses the name.
        return url, lambda: self.databases.drop(name)


@pytest.fixture(scope="module", autouse=True)
def _programme_registry_per_module():
    """The programme registry is one per process: a module that adds a folder of test programmes (as the
    PROGRAMME_DIRS setting does) gets it taken away at its end, so that the next module on the same worker
    (the language crawl, the inboxes) does not list another module's test programme."""
    from workflows.registry import registry

    before = registry().snapshot()
    yield
    registry().restore(before)


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
    databases = _PgDatabases(server_url, template)
    try:
        yield DatabaseFactory("postgresql", template, server_url, databases)
    finally:
        try:
            databases.close()
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            admin.dispose()
        if cluster:
            from tests import cpu_durations

            if (cpu := cluster.cpu_seconds()) is not None:
                cpu_durations.record("<postgresql server>", "server", cpu)
            cluster.stop()


@pytest.fixture
def db_kind(request) -> str:
    return request.config.getoption("--db")


@pytest.fixture(scope="session")
def shared_database(database_factory, tmp_path_factory):
    """The database the transactional tests share; each one's work is rolled back."""
    url, drop = database_factory.shared(tmp_path_factory)
    yield url
    drop()


@pytest.fixture
def app_config(request, database_factory, tmp_path):
    if request.node.get_closest_marker("realdb"):
        url, drop = database_factory.new(tmp_path)
    else:
        url, drop = request.getfixturevalue("shared_database"), (lambda: None)
    yield _config(url, tmp_path)
    drop()


def _get_bind(self, mapper=None, clause=None, bind=None, **kw):
    """Flask-SQLAlchemy's session picks its engine itself; in a test transaction it uses the test's connection."""
    if bind is None and self.bind is not None:
        return self.bind
    return _fsa_get_bind(self, mapper=mapper, clause=clause, bind=bind, **kw)


_fsa_get_bind = FlaskSession.get_bind
FlaskSession.get_bind = _get_bind




@contextmanager
def _rolled_back(engine):
    """Everything the session does, commits included, inside one transaction rolled back at the end.

    SQLAlchemy 2's recipe: the session joins the connection's transaction and turns its own
    begin/commit/rollback into SAVEPOINTs.
    """
    rollback_ready(engine)
    connection = engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    saved = dict(factory.kw)
    db.session.remove()
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    guard = Guard.active = Guard(connection, engine.url.render_as_string(hide_password=False))
    watch_thread(connection)
    try:
        yield
    finally:
        # Whatever the test left behind (an invalid savepoint, a failed flush), the worker's
        # database must come out of it clean: the outer transaction is rolled back (or the
        # connection thrown away) before any error of the session's own clean-up propagates.
        Guard.active = None
        try:
            db.session.remove()
        finally:
            factory.kw.clear()
            factory.kw.update(saved)
            try:
                outer.rollback()
            except Exception:
                connection.invalidate()
                raise
            finally:
                connection.close()
    if guard.seen:
        pytest.fail("\n".join(dict.fromkeys(guard.seen)), pytrace=False)


@pytest.fixture(scope="session")
def shared_app(shared_database, tmp_path_factory):
    """The application of the rolled-back tests, one per worker (see SharedApp)."""
    shared = SharedApp(shared_database, tmp_path_factory.mktemp("shared-app"))
    yield shared
    shared.close()


@pytest.fixture
def app(request, database_factory, tmp_path):
    """A new app on a fresh database (``realdb``), or the worker's shared app inside a rolled-back transaction."""
    if request.node.get_closest_marker("realdb"):
        app = create_app(request.getfixturevalue("app_config"))
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
        return
    with request.getfixturevalue("shared_app").lend(tmp_path) as app, app.app_context():
        with _rolled_back(db.engine):
            yield app
        db.session.remove()


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


# The settings the demo world is served with (tests/demo_world.py), CSRF on.
_SITE = {"WTF_CSRF_ENABLED": True, "EMAIL_CONFIRMATION_REQUIRED": False, "TODAY": None}


@pytest.fixture(scope="session")
def demo_snapshot(database_factory, tmp_path_factory):
    """The demo world built once per worker (through the real operations, as before), kept unused.

    Building it (a seed, dozens of submissions with their notices, two council sessions) took
    most of each browser test's time; each ``site`` now starts from a copy of this database and
    of its uploads, so every test still gets a world of its own that no other test has touched.
    """
    from tests import demo_world

    root = tmp_path_factory.mktemp("demo")
    url, drop = database_factory.new(root)
    app = create_app({**_config(url, root), **_SITE})
    with app.app_context():
        world = demo_world.build()
        db.session.remove()
        db.engine.dispose()
    yield SimpleNamespace(url=url, uploads=root / "uploads", world=world)
    drop()


@pytest.fixture
def site(request, database_factory, demo_snapshot, tmp_path):
    """The demo world (tests/demo_world.py) served on a real socket for the browser, CSRF on."""
    yield from _demo_site(database_factory, demo_snapshot, tmp_path)


@pytest.fixture(scope="module")
def module_site(database_factory, demo_snapshot, tmp_path_factory):
    """``site`` once for a module whose tests only read it (tests/test_a11y.py): its own copy of the demo
    world, served while the module runs. A module that changes the world asks for ``site``."""
    yield from _demo_site(database_factory, demo_snapshot, tmp_path_factory.mktemp("module-site"))


def _demo_site(database_factory, demo_snapshot, tmp_path):
    from tests.liveserver import serve

    url, drop = database_factory.new(tmp_path, template=demo_snapshot.url)
    if demo_snapshot.uploads.exists():
        shutil.copytree(demo_snapshot.uploads, tmp_path / "uploads")
    app = create_app({**_config(url, tmp_path), **_SITE})
    try:
        with serve(app) as base:
            yield base, copy.deepcopy(demo_snapshot.world)
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()
