"""Safeguards (issue 13, item 2): irreversible actions ask first; a running round's legal windows hold.

* ``artisan_awards/confirm.py``: a POST without a valid confirmation token answers a page saying what
  the action causes, and changes nothing; the token is bound to the user, the path and every field.
* ``services/rounds.check_legal_minimums``: once a round is open, no legal window drops below
  ``ROUND_LEGAL_MINIMUMS``; ``plan_effects`` shows what a change does to the dossiers in the round.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from artisan_awards import confirm
from artisan_awards.errors import ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import AuditEvent, Round, TransitionLog
from artisan_awards.schemas import RoundIn
from artisan_awards.services import rounds
from artisan_awards.timeutil import local_date, today
from tests.confirming import answer_fields, is_question
from workflows.states import State


def at(make, state, **kw):
    """A dossier in ``state``: the factory's path, or an accepted one set there (the councils' path
    is tested elsewhere)."""
    if state in (State.PROVINCE_PASSED, State.MINISTRY_REVIEW):
        n = make.nomination(State.ACCEPTED, **kw)
        n.state = state
        db.session.commit()
        return n
    return make.nomination(state, **kw)


def _log_count(nomination) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(TransitionLog)
                             .where(TransitionLog.nomination_id == nomination.id))


# -- the confirmation step -----------------------------------------------------------------------


@pytest.mark.parametrize("action,state,after", [
    ("accept", State.SUBMITTED, State.ACCEPTED),
    ("return", State.SUBMITTED, State.RETURNED),
    ("forward_to_ministry", State.PROVINCE_PASSED, State.MINISTRY_REVIEW),
])
def test_an_irreversible_action_asks_first_and_changes_nothing(client, auth, make, action, state, after):
    officer = make.user("province_officer", "HNI")
    nomination = at(make, state, officer=officer)
    rows, version = _log_count(nomination), nomination.version
    auth.login(officer.email)
    url = f"/nominations/{nomination.id}/actions/{action}"
    r = client.post(url, data={"comment": "Đủ điều kiện"})
    assert is_question(r)
    text = r.get_data(as_text=True)
    assert "Điều sẽ xảy ra" in text and "Thao tác này không thể hoàn tác." in text
    assert _(confirm.ACTION_CONSEQUENCES[action][0]) in text
    assert nomination.full_name in text and "Đủ điều kiện" in text
    db.session.refresh(nomination)
    assert (nomination.state, _log_count(nomination), nomination.version) == (state, rows, version)
    r = client.post(url, data=answer_fields(r))
    assert r.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state == after and _log_count(nomination) == rows + 1


def _(text):  # the page is Vietnamese: msgids are the text
    return text


def test_the_token_confirms_exactly_what_was_described(client, auth, make):
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(State.SUBMITTED, officer=officer)
    other = make.nomination(State.SUBMITTED, officer=officer)
    auth.login(officer.email)
    url = f"/nominations/{nomination.id}/actions/return"
    question = client.post(url, data={"comment": "Thiếu bản sao bằng khen"})
    fields = answer_fields(question)
    # another comment than the one shown: asked again, nothing done
    assert is_question(client.post(url, data={**fields, "comment": "Lý do khác"}))
    # the same token on another dossier: asked again
    assert is_question(client.post(f"/nominations/{other.id}/actions/return",
                                   data={**fields}))
    # a forged token
    assert is_question(client.post(url, data={**fields, confirm.FIELD: fields[confirm.FIELD][0] + "x"}))
    # another user (same province, same dossier, same fields) cannot reuse it
    auth.logout()
    colleague = make.user("province_officer", "HNI")
    auth.login(colleague.email)
    assert is_question(client.post(url, data=fields))
    for n in (nomination, other):
        db.session.refresh(n)
        assert n.state == State.SUBMITTED
    r = client.post(url, data=answer_fields(client.post(url, data={"comment": "Thiếu bản sao bằng khen"})))
    assert r.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state == State.RETURNED


def test_an_expired_token_asks_again(client, auth, make, monkeypatch):
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(State.SUBMITTED, officer=officer)
    auth.login(officer.email)
    url = f"/nominations/{nomination.id}/actions/accept"
    fields = answer_fields(client.post(url, data={}))
    monkeypatch.setattr(confirm, "MAX_AGE", -1)
    assert is_question(client.post(url, data=fields))
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED


def test_refused_actions_are_refused_without_a_question(client, auth, make):
    """Asking is only for what the user may do now: no question before a refusal."""
    officer = make.user("province_officer", "HNI")
    accepted = make.nomination(State.ACCEPTED, officer=officer)
    returned_ok = make.nomination(State.SUBMITTED, officer=officer)
    auth.login(officer.email)
    r = client.post(f"/nominations/{accepted.id}/actions/accept", data={})
    assert r.status_code == 302 and not is_question(r)
    r = client.post(f"/nominations/{returned_ok.id}/actions/return", data={"comment": ""})
    assert r.status_code == 302 and not is_question(r)  # a return needs reasons: said on the dossier
    db.session.refresh(returned_ok)
    assert returned_ok.state == State.SUBMITTED


def test_control_without_the_check_the_first_post_acts(client, auth, make, monkeypatch):
    """The broken variant: were ``confirmed`` always true, the first POST would change the dossier,
    which the tests above would catch."""
    monkeypatch.setattr(confirm, "confirmed", lambda: True)
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(State.SUBMITTED, officer=officer)
    auth.login(officer.email)
    r = client.post(f"/nominations/{nomination.id}/actions/accept", data={})
    assert not is_question(r)
    db.session.refresh(nomination)
    assert nomination.state == State.ACCEPTED


def test_the_api_is_not_asked(api, make):
    """The API's contract is unchanged: a call is the confirmation."""
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(State.SUBMITTED, officer=officer)
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/accept", officer, json={})
    assert r.status_code == 200
    db.session.refresh(nomination)
    assert nomination.state == State.ACCEPTED


# -- a running round's plan ----------------------------------------------------------------------


def _plan_form(row: Round, **kw) -> dict:
    data = {"number": row.number, "name": row.name, "governing_decree": row.governing_decree,
            "intake_opens": row.intake_opens.isoformat(), "intake_closes": row.intake_closes.isoformat(),
            "reply_days": row.reply_days, "completion_days": row.completion_days,
            "consultation_days": row.consultation_days, "consultation_windows": row.consultation_windows}
    for key in rounds.DEADLINE_ORDER:
        data[key] = (row.deadlines or {}).get(key, "")
    data.update(kw)
    return data


def _plan(row: Round) -> tuple:
    db.session.refresh(row)
    return (row.reply_days, row.completion_days, row.consultation_days, row.consultation_windows,
            dict(row.deadlines or {}))


def _changes() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "round_changed"))


@pytest.mark.parametrize("field,value", [("consultation_days", 0), ("consultation_days", 19),
                                         ("completion_days", 3), ("consultation_windows", 1)])
def test_a_running_round_window_cannot_drop_below_the_legal_minimum(client, auth, make, field, value):
    nomination = make.nomination(State.RETURNED)
    row = nomination.round
    assert row.intake_opens <= today()
    before, changes = _plan(row), _changes()
    auth.login_as("ministry_officer")
    r = client.post(f"/admin/rounds/{row.id}", data=_plan_form(row, **{field: value}))
    assert r.status_code == 422 and not is_question(r)
    text = r.get_data(as_text=True)
    assert "không được rút ngắn thời hạn luật định" in text
    assert "mức tối thiểu theo quy định" in text
    assert _plan(row) == before and _changes() == changes


def test_the_service_refuses_it_too(make, app):
    row = make.nomination(State.SUBMITTED).round
    data = RoundIn.model_validate({**_plan_form(row), "deadlines": {}, "consultation_days": 5})
    with pytest.raises(ValidationFailed) as caught:
        rounds.update_round(make.user("ministry_officer"), row, data)
    assert caught.value.code == "legal_minimum" and set(caught.value.fields) == {"consultation_days"}


def test_before_opening_and_upwards_the_windows_are_free(client, auth, make, app):
    future = make.round(intake_opens=today() + timedelta(days=5), intake_closes=today() + timedelta(days=40))
    auth.login_as("ministry_officer")
    r = client.post(f"/admin/rounds/{future.id}", data=_plan_form(future, consultation_days=5))
    assert is_question(r)  # a change is previewed ...
    r = client.post(f"/admin/rounds/{future.id}", data=answer_fields(r))
    assert r.status_code == 302  # ... and, the round not open, allowed
    assert _plan(future)[2] == 5
    # a rehearsal round already below the minimum, now open: it may grow, never shrink
    rehearsal = make.round(consultation_days=3, completion_days=2)
    r = client.post(f"/admin/rounds/{rehearsal.id}", data=_plan_form(rehearsal, consultation_days=2))
    assert r.status_code == 422
    r = client.post(f"/admin/rounds/{rehearsal.id}", data=_plan_form(rehearsal, consultation_days=4))
    r = client.post(f"/admin/rounds/{rehearsal.id}", data=answer_fields(r))
    assert r.status_code == 302 and _plan(rehearsal)[2] == 4
    # the minimum comes from the configuration
    app.config["ROUND_LEGAL_MINIMUMS"] = {"consultation_days": 1}
    r = client.post(f"/admin/rounds/{rehearsal.id}", data=_plan_form(rehearsal, consultation_days=2))
    assert is_question(r)


def test_moving_the_opening_day_does_not_reopen_a_running_round(make):
    row = make.nomination(State.SUBMITTED).round
    row.intake_opens = today() + timedelta(days=3)
    row.intake_closes = today() + timedelta(days=30)
    db.session.commit()
    assert rounds.has_opened(row), "a submitted dossier means the round has run"


def test_a_plan_change_is_previewed_with_its_effect_on_the_dossiers(client, auth, make):
    returned = make.nomination(State.RETURNED)
    submitted = make.nomination(State.SUBMITTED)
    row = returned.round
    assert submitted.round_id == row.id
    due_before = returned.completion_due()
    auth.login_as("ministry_officer")
    form = _plan_form(row, completion_days=row.completion_days + 5, reply_days=row.reply_days + 2)
    before, changes = _plan(row), _changes()
    r = client.post(f"/admin/rounds/{row.id}", data=form)
    assert is_question(r)
    text = r.get_data(as_text=True)
    assert _plan(row) == before and _changes() == changes, "nothing is saved by the preview"
    new_due = local_date(returned.returned_at) + timedelta(days=row.completion_days + 5)
    assert f"{returned.code}: {due_before:%d/%m/%Y} → {new_due:%d/%m/%Y}" in text
    assert "Thời hạn bổ sung hồ sơ (ngày)" in text and "Thời hạn Sở trả lời (ngày)" in text
    effects = {e["label"]: e for e in rounds.plan_effects(row, RoundIn.model_validate({**form, "deadlines": {}}))}
    assert effects["Thời hạn bổ sung hồ sơ (ngày)"]["count"] == 1
    assert effects["Thời hạn Sở trả lời (ngày)"]["count"] == 1
    r = client.post(f"/admin/rounds/{row.id}", data=answer_fields(r))
    assert r.status_code == 302
    db.session.refresh(returned)
    assert returned.completion_due() == new_due and _changes() == changes + 1


def test_the_preview_counts_only_this_round_and_the_stage_concerned(make):
    here = at(make, State.PROVINCE_PASSED)
    row = here.round
    other_round = make.round(number=999)
    stranger = at(make, State.PROVINCE_PASSED)
    stranger.round_id = other_round.id
    db.session.commit()
    later = today() + timedelta(days=200)
    data = RoundIn.model_validate({**_plan_form(row), "deadlines": {"province_to_ministry": later}})
    [effect] = rounds.plan_effects(row, data)
    assert effect["count"] == 1 and effect["examples"] == [here.code]
    # nothing changes: nothing to preview
    assert rounds.plan_effects(row, RoundIn.model_validate({**_plan_form(row), "deadlines": {}})) == []
