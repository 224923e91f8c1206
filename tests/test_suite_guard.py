"""The rolled-back test transaction refuses every other way to the database (tests/conftest.py).

A test that should be ``realdb`` must fail loudly, not pass having seen nothing.  These tests run
rolled back themselves and check that each escape is refused; they then clear what the guard saw,
so that only the refusal under test, not the test, is reported.
"""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from tests.rollback_guard import Guard


@pytest.fixture
def guard(app):
    guard = Guard.active
    assert guard is not None, "the app fixture of an unmarked test runs rolled back"
    yield guard
    guard.seen.clear()


def test_the_session_works_inside_the_rolled_back_transaction(guard, make):
    user = make.user("applicant")
    assert db.session.scalar(sa.text("SELECT count(*) FROM users WHERE id = :i"), {"i": user.id}) == 1
    assert guard.seen == []


def test_a_connection_of_its_own_is_refused(guard):
    with pytest.raises(pytest.fail.Exception, match="realdb"):
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))


def test_a_second_engine_on_the_test_database_is_refused(guard, app):
    other = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.pool.NullPool)
    try:
        with pytest.raises(pytest.fail.Exception, match="a connection of its own"):
            other.connect()
    finally:
        other.dispose()


def test_sql_from_another_thread_is_refused_and_remembered(guard, app):
    outcome = []

    def work():
        with app.app_context():
            try:
                db.session.execute(sa.text("SELECT 1"))
                outcome.append("ran")
            except BaseException as exc:  # noqa: BLE001 - a thread that swallows the refusal
                outcome.append(type(exc).__name__)

    thread = threading.Thread(target=work, name="racer")
    thread.start()
    thread.join()
    assert outcome == ["Failed"]
    assert len(guard.seen) == 1 and "thread 'racer'" in guard.seen[0]


def test_a_subprocess_given_the_test_database_is_refused(guard, app):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with pytest.raises(pytest.fail.Exception, match="subprocess"):
        subprocess.run([sys.executable, "-c", "pass"], env={"DATABASE_URL": url}, check=True)
    # A subprocess that is not given the database runs as usual.
    done = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "42"


def test_a_live_server_is_refused(guard, app):
    from tests.liveserver import serve

    with pytest.raises(pytest.fail.Exception, match="live server"):
        with serve(app):
            pass


@pytest.mark.realdb
def test_a_realdb_test_has_no_guard(app):
    assert Guard.active is None
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
