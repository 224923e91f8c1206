"""The public lookup (issue 13 item 8): by POST only, forgiving of case, spaces and the dash, and the
dossier's path as a timeline of public stages with no internal detail."""

from __future__ import annotations

import logging
import re
import urllib.parse
import urllib.request

import pytest

from artisan_awards import create_app
from artisan_awards.extensions import db
from artisan_awards.services import nominations as service
from artisan_awards.services.queries import key_hash, normalise_access_key, normalise_code
from workflows.states import STATE_INFO, Action, State

KEY = "AB12-CD34"


def _submitted(make, key: str = KEY):
    """A submitted dossier whose access key is ``key`` (the key is random at submission)."""
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    service.perform(nomination, Action.SUBMIT, owner)
    nomination.access_key_hash = key_hash(key)
    db.session.commit()
    return nomination


def _lookup(client, code, key):
    return client.post("/public/status", data={"code": code, "key": key})


@pytest.mark.parametrize("typed", ["ab12 cd34", "AB12CD34", " ab12-cd34 ", "AB12-CD34", "ab12\u2013cd34"])
def test_the_key_is_forgiving_of_case_spaces_and_the_dash(client, make, typed):
    n = _submitted(make)
    r = _lookup(client, n.code, typed)
    assert r.status_code == 200, typed
    assert STATE_INFO[State.SUBMITTED].citizen_label in r.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["AB12-CD35", "AB12CD3", "AB12-CD34-X", ""])
def test_a_wrong_key_is_still_wrong(client, make, typed):
    n = _submitted(make)
    r = _lookup(client, n.code, typed)
    assert r.status_code in (400, 404)
    assert STATE_INFO[State.SUBMITTED].citizen_label not in r.get_data(as_text=True)


def test_one_function_normalises_the_key_and_the_code():
    for typed in ("ab12 cd34", "AB12CD34", " ab12-cd34 ", "\tAb12 - cD34\n"):
        assert normalise_access_key(typed) == "AB12-CD34", typed
    assert normalise_code(" nn-2026-hni-00042 ") == "NN-2026-HNI-00042"
    assert normalise_code("NN2026HNI00042") == "NN-2026-HNI-00042"
    assert normalise_code("nn 2026 hni 42") == "NN-2026-HNI-00042"
    assert normalise_code("something else") == "SOMETHINGELSE"


def test_the_code_is_forgiving_too(client, make):
    n = _submitted(make)
    loose = n.code.lower().replace("-", " ")
    r = _lookup(client, f"  {loose} ", "ab12cd34")
    assert r.status_code == 200
    assert n.code in r.get_data(as_text=True)


def test_the_api_lookup_keeps_its_path_and_fields_and_forgives_the_key(client, make):
    n = _submitted(make)
    r = client.get("/api/v1/status", query_string={"code": n.code, "key": "ab12 cd34"})
    assert r.status_code == 200
    assert set(r.get_json()) == {"code", "state", "state_label", "updated_at", "next_step"}


def test_a_get_with_the_key_in_the_url_is_not_looked_up(client, make):
    n = _submitted(make)
    first = client.get("/public/status", query_string={"code": n.code, "key": KEY})
    assert first.status_code == 303
    assert KEY not in first.headers["Location"] and "key=" not in first.headers["Location"]
    r = client.get(first.headers["Location"])
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'data-testid="key-in-url"' in html  # the form answers with a message
    assert 'data-testid="citizen-label"' not in html
    assert STATE_INFO[State.SUBMITTED].citizen_label not in html
    assert KEY not in html  # not echoed back into the page either
    assert f'value="{n.code}"' in html  # the code (not secret) is kept in the form
    assert 'method="post"' in html


def test_missing_fields_are_told_next_to_the_field(client):
    r = client.post("/public/status", data={"code": "", "key": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="code-error"' in html and 'id="key-error"' in html


def test_the_timeline_shows_the_public_path_with_dates_and_nothing_internal(client, make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI", full_name="Cán Bộ Bí Mật")
    n = make.nomination(owner=owner)
    service.perform(n, Action.SUBMIT, owner)
    service.perform(n, Action.RETURN, officer, comment="Ghi chú nội bộ XYZ: thiếu bản sao bằng khen")
    service.perform(n, Action.RESUBMIT, owner)
    service.perform(n, Action.ACCEPT, officer, comment="Nhận xét riêng QWE")
    n.access_key_hash = key_hash(KEY)
    db.session.commit()
    r = _lookup(client, n.code, KEY)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    timeline = html[html.index('data-testid="public-timeline"'):]
    timeline = timeline[:timeline.index("</ol>")]
    states = re.findall(r'data-state="([a-z_]+)"', timeline)
    assert states == ["submitted", "returned", "submitted", "accepted"]
    assert len(re.findall(r"\d{2}/\d{2}/\d{4}", timeline)) == 4  # each stage with its date
    assert timeline.count('aria-current="step"') == 1
    assert re.search(r'aria-current="step" data-state="accepted"', timeline)  # where it is now
    for label in (STATE_INFO[State.RETURNED].citizen_label, STATE_INFO[State.ACCEPTED].citizen_label):
        assert label in timeline
    for secret in ("Cán Bộ Bí Mật", "XYZ", "QWE", "thiếu bản sao", officer.email):
        assert secret not in html, secret


def test_a_dossier_of_another_key_shows_nothing_of_its_path(client, make):
    n = _submitted(make)
    r = _lookup(client, n.code, "ZZZZ-ZZZZ")
    assert r.status_code == 404
    assert 'data-testid="public-timeline"' not in r.get_data(as_text=True)


@pytest.mark.realdb
def test_the_server_log_line_holds_no_key(app_config, make):
    """A real server's access log: the lookup's line has the path, never the code's key."""
    from tests.liveserver import serve

    n = _submitted(make)
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Keep(level=logging.INFO)
    logger = logging.getLogger("werkzeug")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    live = create_app(app_config)
    try:
        with serve(live) as base:
            body = urllib.parse.urlencode({"code": n.code, "key": "ab12 cd34"}).encode()
            with urllib.request.urlopen(urllib.request.Request(base + "/public/status", data=body,
                                                               method="POST"), timeout=30) as resp:
                page = resp.read().decode()
                assert resp.status == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert STATE_INFO[State.SUBMITTED].citizen_label in page  # the lookup did happen
    logged = [line for line in lines if "/public/status" in line]
    assert logged, lines  # the request was logged ...
    for line in logged:  # ... without the key, however it was typed
        for spelling in ("AB12", "ab12", "CD34", "cd34", "key="):
            assert spelling not in line, line
