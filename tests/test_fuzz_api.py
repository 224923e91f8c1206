"""schemathesis over the whole API, from the OpenAPI description the application serves.

Every operation in ``/api/v1/openapi.json`` is called with generated requests (valid and
invalid bodies, odd path and query values), as an anonymous caller and with the bearer
tokens of several roles, against a database holding real dossiers, a council and a session.
The answers must never be a server error, and every 4xx must be in the API's error shape
(``{"error": {"code", "message", "fields"}}``) and declared in the description.

``FUZZ_EXAMPLES`` (default 4) bounds the examples per operation and role, to keep this to
well under a minute per database; raise it for a longer hunt.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import status_code_conformance

from artisan_awards import create_app
from artisan_awards.api.openapi import build_spec
from artisan_awards.extensions import db
from artisan_awards.timeutil import today
from tests.apps import rollback_ready
from tests.factories import Factory
from workflows.states import State

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 4))
ROLES = [None, "applicant", "province_officer", "admin"]


@pytest.fixture(scope="module")
def fuzz_app(database_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    url, drop = database_factory.new(tmp)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"),
        "MAX_UPLOAD_BYTES": 256 * 1024, "LOGIN_THROTTLE_FREE_FAILURES": 0,
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    tokens = {}
    with app.app_context():
        from artisan_awards.schemas import CouncilIn, SessionIn
        from artisan_awards.services import councils

        make = Factory()
        users = {role: make.user(role, "HNI" if role == "province_officer" else None) for role in ROLES if role}
        make.nomination(State.DRAFT, owner=users["applicant"])
        make.nomination(State.SUBMITTED, owner=users["applicant"])
        accepted = make.nomination(State.ACCEPTED, owner=users["applicant"], officer=users["province_officer"])
        make.nomination(State.RETURNED, province="HPG")
        members = [make.user("province_council_member", "HNI") for _ in range(7)]
        council = councils.create_council(users["province_officer"], CouncilIn.model_validate({
            "level": "province", "province_code": "HNI", "round_id": make.current_round().id,
            "name": "Hội đồng thử", "decision_no": "1/QĐ", "decision_date": today().isoformat(),
            "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                        for i, u in enumerate(members)]}))
        councils.create_session(users["province_officer"], council, SessionIn.model_validate(
            {"held_on": (today() + timedelta(days=3)).isoformat(), "nomination_ids": [accepted.id]}))
        emails = {role: u.email for role, u in users.items()}
        db.session.remove()
    client = app.test_client()
    for role, email in emails.items():
        r = client.post("/api/v1/auth/token", json={"email": email, "password": Factory.PASSWORD})
        tokens[role] = r.get_json()["token"]
    app.extensions["fuzz_tokens"] = tokens
    with app.app_context():
        engine = db.engine
    rollback_ready(engine)  # SAVEPOINTs on SQLite, as for the rolled-back tests
    # One connection for the module's examples: each example begins and rolls back its own transaction on it
    # (before, each example also checked a connection out of the pool and back in).
    connection = engine.connect()
    app.extensions["fuzz_connection"] = connection
    yield app
    connection.close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


@contextmanager
def rolled_back(app):
    """One example's requests inside a transaction rolled back at its end: every example meets the world as built.

    Before, the examples' writes stayed: the examples of ``POST /auth/logout`` (the second operation)
    ended each role's token, so every later operation was only ever called as a refused caller (401),
    and what one operation's examples created or changed was the next one's world.  Now the world (its
    dossiers, council, session and live tokens) is the same for every example, and nothing is committed
    (the session's commits become SAVEPOINTs, SQLAlchemy's "join into an external transaction" recipe).
    """
    connection = app.extensions["fuzz_connection"]
    outer = connection.begin()
    factory = db.session.session_factory
    saved = dict(factory.kw)
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield  # (the request's own app context removes its session at its end)
    finally:
        factory.kw.clear()
        factory.kw.update(saved)
        outer.rollback()


# The very description the application serves (tests/test_api.py checks it covers every route).
# (schemathesis' lazy ``from_fixture`` loader relies on a pytest internal that pytest 9 dropped.)
schema = schemathesis.openapi.from_dict(build_spec())


def check_answer(response, case) -> None:
    """No server error; every 4xx in the contract's error shape; the status is one the description lists."""
    status = response.status_code
    assert status < 500, f"{case.method} {case.formatted_path}: {status} {response.text[:500]}"
    if 400 <= status < 500:
        body = response.json()
        assert isinstance(body, dict) and set(body) == {"error"}, body
        error = body["error"]
        assert isinstance(error["code"], str) and error["code"], body
        assert isinstance(error["message"], str) and error["message"], body
        assert isinstance(error.get("fields", {}), dict), body


@pytest.mark.parametrize("role", ROLES, ids=[r or "anonymous" for r in ROLES])
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_answers_in_shape(case, role, fuzz_app):
    # The token goes with the call, not into ``case.headers``: the request is the same, but an edited case is
    # validated again against the operation's schema (jsonschema) before every call.
    headers = {"Authorization": f"Bearer {fuzz_app.extensions['fuzz_tokens'][role]}"} if role else None
    with rolled_back(fuzz_app):
        response = case.call(app=fuzz_app, headers=headers)
    check_answer(response, case)
    # schemathesis' own check, called as ``case.validate_response(response, checks=[status_code_conformance])``
    # calls it (it reads only the case's operation and the status), without that call's per-response work
    # (the project configuration resolved again, every check's context built).
    status_code_conformance(None, response, case)
