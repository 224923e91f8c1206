"""The worker's shared app of the rolled-back tests (tests/conftest.py, ``SharedApp``).

Each rolled-back test borrows one app instead of building its own; these tests check that what
one test changes does not reach the next: the configuration (nested values included), lazily
made extensions, the upload folder, Flask's first-request state, and the app's structure (a test
that adds a route or a hook leaves a new app to the next test).  They drive a SharedApp of their
own on the worker's rolled-back database, so that they do not disturb the fixture's.
"""

from __future__ import annotations

import sqlalchemy as sa

from artisan_awards.extensions import db
from tests.apps import SharedApp


def _shared(shared_database, tmp_path) -> SharedApp:
    return SharedApp(shared_database, tmp_path / "root")


def test_the_same_app_is_lent_again_with_its_configuration_as_created(shared_database, tmp_path):
    shared = _shared(shared_database, tmp_path)
    with shared.lend(tmp_path / "a") as first:
        sizes = first.config["COUNCIL_SIZES"]
        first.config["TODAY"] = "2024-01-01"
        first.config["COUNCIL_SIZES"]["default"]["min_members"] = 99  # a nested value, changed in place
        first.config["ADDED_BY_A_TEST"] = True
        first.extensions["made_by_a_test"] = object()
        assert first.config["UPLOAD_DIR"] == str(tmp_path / "a" / "uploads")
        first.test_client().get("/")
        assert first._got_first_request
    with shared.lend(tmp_path / "b") as second:
        assert second is first and shared.created == 1
        assert second.config.get("TODAY") != "2024-01-01"
        assert second.config["COUNCIL_SIZES"]["default"]["min_members"] == 3
        assert second.config["COUNCIL_SIZES"] is not sizes
        assert "ADDED_BY_A_TEST" not in second.config
        assert "made_by_a_test" not in second.extensions
        assert second.config["UPLOAD_DIR"] == str(tmp_path / "b" / "uploads")
        assert not second._got_first_request, "a new app has handled no request yet"
        second.config["COUNCIL_SIZES"]["default"]["min_members"] = 98
    with shared.lend(tmp_path / "c") as third:
        assert third is first and third.config["COUNCIL_SIZES"]["default"]["min_members"] == 3
        third.test_client().get("/")
    with shared.lend(tmp_path / "d") as fourth:
        fourth.add_url_rule("/only-before-a-request", "fresh_start", lambda: "")  # refused after a request
    shared.close()


def test_a_test_that_changes_the_app_structure_leaves_a_new_app(shared_database, tmp_path):
    shared = _shared(shared_database, tmp_path)
    with shared.lend(tmp_path / "a") as first:
        first.add_url_rule("/added-by-a-test", "added_by_a_test", lambda: "added")
    with shared.lend(tmp_path / "b") as second:
        assert second is not first and shared.created == 2
        assert "added_by_a_test" not in second.view_functions
        second.before_request(lambda: None)
    with shared.lend(tmp_path / "c") as third:
        assert third is not second and shared.created == 3
        third.jinja_env.globals["added_by_a_test"] = 1
    with shared.lend(tmp_path / "d") as fourth:
        assert fourth is not third and shared.created == 4
    with shared.lend(tmp_path / "e") as fifth:
        assert fifth is fourth, "an unchanged app is kept"
    shared.close()


def test_a_rolled_back_test_runs_on_the_shared_app(app, request):
    shared = request.getfixturevalue("shared_app")
    assert app is shared.app
    assert db.session.scalar(sa.text("SELECT 1")) == 1
