"""The public status lookup's hot path stays lean and right (see bench/lookup_bench.py for its figures)."""

from __future__ import annotations

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.services import nominations as service
from workflows.states import STATE_INFO, Action, State


def _submitted(make):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    key = service.perform(nomination, Action.SUBMIT, owner)
    return nomination.code, key


def _statements(app, call) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_rest):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return [s for s in seen if not s.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT", "PRAGMA"))]


def test_api_lookup_is_one_query_of_the_dossier_alone(app, client, make):
    code, key = _submitted(make)
    answers = []
    statements = _statements(app, lambda: answers.append(client.get("/api/v1/status",
                                                                     query_string={"code": code, "key": key})))
    assert answers[0].status_code == 200 and answers[0].get_json()["code"] == code
    assert len(statements) == 1, statements
    assert "FROM nominations" in statements[0]
    assert "craft_periods" not in statements[0] and "products" not in statements[0]


def test_page_lookup_is_one_query(app, client, make):
    code, key = _submitted(make)
    answers = []
    statements = _statements(app, lambda: answers.append(client.post("/public/status",
                                                                      data={"code": code, "key": key})))
    assert answers[0].status_code == 200
    assert code in answers[0].get_data(as_text=True)
    assert len(statements) == 1, statements


def test_api_lookup_answers_each_request_in_its_own_language(client, make):
    """The translated texts are kept per language: asking in turn must never mix them up."""
    code, key = _submitted(make)
    info = STATE_INFO[State.SUBMITTED]
    seen = {}
    for language in ("vi", "en", "vi", "en"):
        body = client.get("/api/v1/status", query_string={"code": code, "key": key},
                          headers={"Accept-Language": language}).get_json()
        seen.setdefault(language, set()).add((body["state_label"], body["next_step"]))
    assert seen["vi"] == {(info.citizen_label, info.next_step)}
    (english,) = seen["en"]
    assert english[0] != info.citizen_label and english[1] != info.next_step
    assert english[0].isascii() and english[1].isascii()


def test_anonymous_api_lookup_sets_no_session_cookie(client, make):
    code, key = _submitted(make)
    r = client.get("/api/v1/status", query_string={"code": code, "key": key})
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers


def test_a_session_cookie_still_opens_the_session(client, make, auth):
    """The lazy session interface only skips work when there is no cookie: a login still holds."""
    auth.login_as("applicant")
    assert client.get("/my/").status_code == 200
