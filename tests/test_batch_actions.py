"""The secretariat's batch actions (issue 13, item 6): the same checks as one by one, reported per dossier."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import TransitionLog
from artisan_awards.services import batch
from tests.confirming import answer_fields, is_question
from tests.test_councils import Chain
from workflows.states import Action, State


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


def _state(n):
    db.session.refresh(n)
    return n.state


def _logs(n):
    return db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id)
                              .order_by(TransitionLog.id)).all()


def test_accept_several_each_on_its_own_with_refusals_reported(client, auth, make):
    officer = make.user("province_officer", "HNI")
    a, b = make.nomination(State.SUBMITTED, officer=officer), make.nomination(State.SUBMITTED, officer=officer)
    already = make.nomination(State.ACCEPTED, officer=officer)
    other_province = make.nomination(State.SUBMITTED, province="HPG")
    auth.login(officer.email)
    page = client.get("/province/batch").get_data(as_text=True)
    assert f'value="{a.id}">' in page and f'value="{a.id}" checked' not in page  # nothing pre-ticked
    assert f'value="{already.id}"' not in page
    ids = [str(a.id), str(already.id), str(b.id)]
    r = client.post("/province/batch/accept", data={"nomination_ids": ids})
    assert is_question(r)
    text = r.get_data(as_text=True)
    assert "Tiếp nhận 2 hồ sơ" in text and already.code in text
    assert "Không thực hiện được với hồ sơ đang ở trạng thái: Hợp lệ, chờ Hội đồng cấp tỉnh." in text
    assert (_state(a), _state(b)) == (State.SUBMITTED, State.SUBMITTED), "nothing before the confirmation"
    r = client.post("/province/batch/accept", data=answer_fields(r))
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "Đã tiếp nhận 2/3 hồ sơ." in text
    assert (_state(a), _state(b), _state(already)) == (State.ACCEPTED, State.ACCEPTED, State.ACCEPTED)
    # exactly one log row per dossier done, by this officer, as one by one
    assert [(h.action, h.actor_id) for h in _logs(a)][-1] == (Action.ACCEPT, officer.id)
    assert len([h for h in _logs(already) if h.action == Action.ACCEPT]) == 1
    # another province's dossier is not there (the same 404 rule as the dossier page): reported, untouched
    r = client.post("/province/batch/accept", data={"nomination_ids": [str(other_province.id)]})
    assert r.status_code == 302 and _state(other_province) == State.SUBMITTED


def test_nothing_chosen_or_not_an_officer(client, auth, make):
    auth.login_as("province_officer", "HNI")
    r = client.post("/province/batch/accept", data={}, follow_redirects=True)
    assert "Hãy chọn ít nhất một hồ sơ." in r.get_data(as_text=True)
    auth.logout()
    n = make.nomination(State.SUBMITTED)
    auth.login_as("province_council_member", "HNI")
    assert client.post("/province/batch/accept", data={"nomination_ids": [str(n.id)]}).status_code == 403
    assert _state(n) == State.SUBMITTED


def _passed(chain, count):
    nominations = [chain.accepted() for _ in range(count)]
    sid, _tally = chain.vote("province", nominations, yes_votes=11)
    for n in nominations:
        assert _state(n) == State.PROVINCE_PASSED
    return sid, nominations


def test_send_several_to_the_ministry_under_one_submission_letter(chain, client, auth):
    sid, (a, b, c) = _passed(chain, 3)
    auth.login(chain.officer.email)
    page = client.get("/province/batch").get_data(as_text=True)
    assert f"/council/sessions/{sid}/submission-letter.pdf" in page
    url = f"/province/batch/forward/{sid}"
    r = client.post(url, data={"nomination_ids": [str(a.id), str(b.id)]})
    assert is_question(r)
    text = r.get_data(as_text=True)
    assert "Gửi 2 hồ sơ lên Bộ Công Thương" in text and "Tờ trình của" in text
    assert _state(a) == State.PROVINCE_PASSED
    r = client.post(url, data=answer_fields(r))
    assert r.status_code == 200
    assert "Đã gửi 2 hồ sơ lên Bộ Công Thương kèm Tờ trình" in r.get_data(as_text=True)
    assert (_state(a), _state(b), _state(c)) == (State.MINISTRY_REVIEW, State.MINISTRY_REVIEW, State.PROVINCE_PASSED)
    last = _logs(a)[-1]
    assert last.action == Action.FORWARD_TO_MINISTRY and "Mẫu 03" in last.comment
    # the third one is still offered under the same letter
    assert f'value="{c.id}"' in client.get("/province/batch").get_data(as_text=True)


def test_send_is_all_or_nothing(chain, client, auth, make):
    sid, (a, b) = _passed(chain, 2)
    auth.login(chain.officer.email)
    url = f"/province/batch/forward/{sid}"
    question = client.post(url, data={"nomination_ids": [str(a.id), str(b.id)]})
    # b is withdrawn by its owner between the question and the answer: no longer on the letter
    chain.act(b, "withdraw", b.owner)
    r = client.post(url, data=answer_fields(question))
    assert r.status_code == 422
    assert "Không gửi hồ sơ nào" in r.get_data(as_text=True)
    assert _state(a) == State.PROVINCE_PASSED, "all or nothing: a was not sent"
    # a dossier that is not on this letter: nothing is sent
    stray = make.nomination(State.SUBMITTED, officer=chain.officer)
    r = client.post(url, data={"nomination_ids": [str(a.id), str(stray.id)]})
    assert r.status_code == 422 and _state(a) == State.PROVINCE_PASSED


def test_the_service_reports_each_refusal(chain, make):
    officer = chain.officer
    ok = make.nomination(State.SUBMITTED, officer=officer)
    returned = make.nomination(State.RETURNED, officer=officer)
    outcomes = batch.run(officer, [ok, returned], Action.ACCEPT, None)
    assert [(o.nomination.id, o.ok) for o in outcomes] == [(ok.id, True), (returned.id, False)]
    assert outcomes[1].params == {"state_key": "returned"}
    # all-or-nothing mode: one refusal, nothing done
    fresh = make.nomination(State.SUBMITTED, officer=officer)
    outcomes = batch.run(officer, [fresh, returned], Action.ACCEPT, None, mode="all")
    assert not all(o.ok for o in outcomes) and _state(fresh) == State.SUBMITTED
    with pytest.raises(ValueError):
        batch.run(officer, [fresh], Action.RETURN, "x")
