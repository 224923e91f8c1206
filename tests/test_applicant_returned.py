"""A returned dossier tells its applicant why and what is missing, where they act (issue 13 item 4):
at the top of the dossier page, on their list with the completion deadline, on each step of the form."""

from __future__ import annotations

import re

import pytest

from artisan_awards.extensions import db
from artisan_awards.i18n import vn_date
from artisan_awards.services import nominations as service
from workflows.states import Action, State

REASON = "Hồ sơ thiếu giấy tờ chứng minh thời gian hành nghề."
ITEMS = ["Bản sao quyết định khen thưởng năm 2019", "Ảnh chụp 03 sản phẩm tiêu biểu"]
STEPS = ("nominee", "craft", "achievements", "evidence", "review")


@pytest.fixture
def returned(make, auth):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI", full_name="Trần Cán Bộ")
    n = make.nomination(owner=owner)
    service.perform(n, Action.SUBMIT, owner)
    service.return_for_completion(n, officer, REASON, missing=ITEMS)
    db.session.refresh(n)
    assert n.state == State.RETURNED
    return n, owner, officer


def _box(html: str) -> str:
    start = html.index('data-testid="returned-box"')
    return html[start:html.index("</section>", start)]


def test_the_dossier_page_opens_with_the_reason_and_the_list(client, auth, returned):
    n, owner, _ = returned
    auth.login(owner.email)
    html = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    box = _box(html)
    assert html.index('data-testid="returned-box"') < html.index("Thông tin nghệ nhân")  # at the top
    assert f"cần bổ sung trước ngày {vn_date(n.completion_due())}" in box
    assert REASON in box
    assert re.findall(r"<li>([^<]+)</li>", box) == ITEMS
    assert "Trần Cán Bộ" not in box  # who returned it is not the applicant's business here


def test_the_applicant_sees_no_staff_comment_field(client, auth, make, returned):
    n, owner, officer = returned
    auth.login(owner.email)
    mine = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert 'id="action-form"' in mine  # the applicant has actions here (resubmit, withdraw) ...
    assert 'name="comment"' not in mine and "bắt buộc khi trả lại" not in mine  # ... but no staff note
    waiting = make.nomination(State.SUBMITTED, owner=owner, officer=officer)
    auth.logout()
    auth.login(officer.email)
    staff = client.get(f"/nominations/{waiting.id}").get_data(as_text=True)
    assert 'name="comment"' in staff  # the officers keep their note


def test_the_list_says_returned_and_the_deadline(client, auth, make, returned):
    n, owner, _ = returned
    draft = make.nomination(owner=owner, full_name="Lê Văn Nháp")
    auth.login(owner.email)
    html = client.get("/my/").get_data(as_text=True)
    lines = re.findall(r'data-testid="returned-line">(.*?)</p>', html, re.S)
    assert len(lines) == 1, "only the returned dossier, not the draft"
    assert f"Bị trả lại: cần bổ sung trước ngày {vn_date(n.completion_due())}" in lines[0]
    assert "Số mục cần bổ sung: 2" in lines[0]
    assert draft.full_name in html


@pytest.mark.parametrize("step", STEPS)
def test_each_step_of_the_form_shows_it(client, auth, returned, step):
    n, owner, _ = returned
    auth.login(owner.email)
    r = client.get(f"/my/{n.id}/{step}")
    assert r.status_code == 200
    box = _box(r.get_data(as_text=True))
    assert ITEMS[0] in box and vn_date(n.completion_due()) in box


def test_without_a_list_the_lines_of_the_reason_are_the_list(client, auth, make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    n = make.nomination(owner=owner)
    service.perform(n, Action.SUBMIT, owner)
    service.return_for_completion(n, officer, "- Thiếu ảnh chân dung\n- Thiếu bản sao CCCD")
    auth.login(owner.email)
    box = _box(client.get(f"/my/{n.id}/nominee").get_data(as_text=True))
    assert re.findall(r"<li>([^<]+)</li>", box) == ["Thiếu ảnh chân dung", "Thiếu bản sao CCCD"]
    assert "Lý do:" not in box  # the reason is not said twice


def test_the_deadline_follows_the_law_calendar(client, auth, returned):
    n, owner, _ = returned
    calendar_due = n.completion_due()
    n.round.completion_day_kind = "working"
    db.session.commit()
    working_due = n.completion_due()
    assert working_due > calendar_due or n.round.completion_days == 0
    auth.login(owner.email)
    box = _box(client.get(f"/nominations/{n.id}").get_data(as_text=True))
    assert vn_date(working_due) in box and "ngày làm việc" in box


def test_nothing_is_shown_once_completed(client, auth, returned):
    n, owner, _ = returned
    service.perform(n, Action.RESUBMIT, owner)
    auth.login(owner.email)
    assert 'data-testid="returned-box"' not in client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert 'data-testid="returned-line"' not in client.get("/my/").get_data(as_text=True)


def test_the_notice_and_the_page_read_the_same_list(app, returned):
    """One definition: the request to complete (the one-stop notice) prints the very same items."""
    from artisan_awards.documents import notices

    n, _, _ = returned
    last = service.last_return(n)
    printed = notices.request_data(n, last.comment, list(last.meta.get("missing") or []), "x")["missing"]
    assert printed == service.return_request(n).missing == ITEMS
