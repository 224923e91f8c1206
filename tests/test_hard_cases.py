"""Issue 14, the law's hard cases, through the API and the pages: a nominee who dies during the process
(item 1), Art. 2(3) exclusions (item 2), the applicant's completion period (item 3), the date a paper
dossier really arrived (item 5), special crafts decided by the council (item 6)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from artisan_awards.extensions import db
from artisan_awards.models import (
    AgendaItem,
    AuditEvent,
    AuditKind,
    Nomination,
    NomineeDeath,
    OutboxMessage,
    SpecialCraftDecision,
    TransitionLog,
    User,
)
from artisan_awards.schemas import CouncilIn, SessionIn
from artisan_awards.services import councils
from artisan_awards.services import nominations as service
from artisan_awards.timeutil import VN, today
from tests.factories import expire_completion
from workflows.states import Action, State

API = "/api/v1"
MERIT = {"decision_no": "123/QĐ-CTN", "decision_date": "2019-08-30", "field": "handicraft"}
MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
               b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n"
               b"%%EOF\n")


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages).split())


def log_rows(nomination_id: int) -> list[tuple]:
    db.session.expire_all()
    return [(r.id, r.action, r.from_state, r.to_state, r.actor_id, r.comment, r.hash) for r in db.session.scalars(
        sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination_id).order_by(TransitionLog.id))]


def votes(nomination_id: int) -> list[tuple]:
    return [(a.session_id, a.yes, a.no, a.invalid, a.passed) for a in db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.nomination_id == nomination_id).order_by(AgendaItem.id))]


def audit_clean(runner) -> None:
    db.session.remove()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def council_with(make, officer, nominations, members=4, open_only=False):
    """A provincial council of ``members`` (the first chairs it), a session with ``nominations`` on its agenda,
    everyone present, the vote open; closed with every member voting yes unless ``open_only``."""
    people = [make.user("province_council_member", "HNI") for _ in range(members)]
    council = councils.create_council(officer, CouncilIn.model_validate({
        "level": "province", "province_code": "HNI", "round_id": nominations[0].round_id,
        "name": "Hội đồng xét tặng tỉnh Hà Nội", "decision_no": "12/QĐ-UBND",
        "decision_date": (today() - timedelta(days=5)).isoformat(),
        "members": [{"email": u.email, "position": "chair" if i == 0 else "member"} for i, u in enumerate(people)]}))
    session = councils.create_session(officer, council, SessionIn.model_validate(
        {"held_on": today().isoformat(), "nomination_ids": [n.id for n in nominations]}))
    councils.set_attendance(officer, session, [u.email for u in people])
    councils.open_session(officer, session)
    if not open_only:
        for u in people:
            councils.cast_ballot(u, session, {str(n.id): "yes" for n in nominations})
        councils.close_session(officer, session)
    for n in nominations:
        db.session.refresh(n)
    return council, session, people


def death_form(**over):
    form = {"death_date": (today() - timedelta(days=3)).isoformat(), "family_name": "Trần Thị Mai",
            "family_relationship": "child", "family_phone": "0912 345 678", "family_email": "mai.tran@example.vn",
            "note": "Gia đình báo tin ngày hôm sau."}
    form.update(over)
    if "evidence" not in over:
        form["evidence"] = (io.BytesIO(MINIMAL_PDF), "giay-chung-tu.pdf")
    elif over["evidence"] is None:
        del form["evidence"]
    return form


def post_death(api, n, user, **over):
    return api.post(f"{API}/nominations/{n.id}/death", user, data=death_form(**over),
                    content_type="multipart/form-data")


# == item 1: a nominee who dies during the process ======================================================


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_death_after_a_council_vote_keeps_the_log_and_votes_and_the_chain(api, make, people, runner, app):
    n = make.nomination(State.ACCEPTED, owner=people.applicant, officer=people.officer,
                        nominee={"email": "nghe.nhan@example.vn"})
    council_with(make, people.officer, [n])
    assert n.state == State.PROVINCE_PASSED
    rows, tally = log_rows(n.id), votes(n.id)
    assert rows and tally and tally[0][1] == 4
    n_id, officer_id = n.id, people.officer.id

    r = post_death(api, n, people.officer)
    assert r.status_code == 201, r.get_json()
    out = r.get_json()
    assert out["posthumous"] is True and out["state"] == "province_passed"
    assert out["death_record"]["death_date"] == (today() - timedelta(days=3)).isoformat()
    assert out["death_record"]["state_at_record"] == "province_passed"
    assert out["family_contact"] == {"name": "Trần Thị Mai", "relationship": "child", "phone": "0912 345 678",
                                     "email": "mai.tran@example.vn"}
    # the criteria are measured at the date of death (the rule set's assess_posthumous_at_death, on by default)
    assert out["eligibility"]["as_of"] == (today() - timedelta(days=3)).isoformat()
    assert log_rows(n.id) == rows, "every earlier log row is kept as it was"
    assert votes(n.id) == tally, "the votes are kept"
    evidence = db.session.get(NomineeDeath, db.session.scalar(sa.select(NomineeDeath.id))).evidence
    assert evidence.kind == "death_evidence" and evidence.content_type == "application/pdf"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.NOMINEE_DEATH_RECORDED))
    assert event.target_id == n.id and event.details["state"] == "province_passed"
    audit_clean(runner)

    # the family is now the applicant side: the next move is mailed to them, not to the nominee
    n, officer = db.session.get(Nomination, n_id), db.session.get(User, officer_id)
    before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    service.perform(n, Action.FORWARD_TO_MINISTRY, officer)
    told = set(db.session.scalars(sa.select(OutboxMessage.to).where(OutboxMessage.id > before)))
    assert "mai.tran@example.vn" in told and "nghe.nhan@example.vn" not in told
    assert log_rows(n_id)[:-1] == rows and len(log_rows(n_id)) == len(rows) + 1
    audit_clean(runner)


def test_posthumous_shows_on_lists_and_documents(api, client, auth, make, people, app, tmp_path):
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    n = make.nomination(State.SUBMITTED, owner=people.applicant, title="people", meritorious_title=MERIT,
                        nominee={"full_name": "Đỗ Văn Khải"})
    assert post_death(api, n, people.officer).status_code == 201
    listed = api.get(f"{API}/nominations?state=submitted", people.officer).get_json()["items"]
    assert [i["posthumous"] for i in listed if i["id"] == n.id] == [True]
    auth.login(people.officer.email)
    inbox = client.get("/province/inbox").get_data(as_text=True)
    row = inbox[inbox.index("Đỗ Văn Khải"):][:800]
    assert "truy tặng" in row
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert "Trần Thị Mai" in page and "death-record" in page
    declaration = api.get(f"{API}/nominations/{n.id}/declaration.pdf", people.officer)
    assert declaration.status_code == 200
    assert "truy tặng" in pdf_text(declaration.data)


@pytest.mark.parametrize("over,field", [
    ({"death_date": (date.today() + timedelta(days=400)).isoformat()}, "death_date"),
    ({"death_date": "1900-01-01"}, "death_date"),  # before the nominee's birth
    ({"family_name": "   "}, "family_name"),
    ({"family_relationship": "self"}, "family_relationship"),
    ({"family_phone": "", "family_email": ""}, "family_phone"),
    ({"family_email": "không phải thư"}, "family_email"),
    ({"evidence": None}, "evidence"),
])
def test_death_bad_input_is_a_clear_422(api, make, people, over, field):
    n = make.nomination(State.SUBMITTED, owner=people.applicant)
    r = post_death(api, n, people.officer, **over)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    db.session.refresh(n)
    assert n.posthumous is False and db.session.scalar(sa.select(sa.func.count()).select_from(NomineeDeath)) == 0


def test_the_contracts_record_death_action_records_as_the_death_route_does(api, make, people):
    """api-v1.md v1.1 names the action ``record_death`` with ``{"death_date", "comment"}``. It is served at
    /actions/record_death by the same code as /death: the contract's bare JSON body lacks what issue 14 asks
    (the family's contact and the evidence file) and is refused field by field with nothing recorded; a stranger
    gets 404; the full multipart body records the death (200, as the other actions answer)."""
    n = make.nomination(State.SUBMITTED, owner=people.applicant)
    url = f"{API}/nominations/{n.id}/actions/record_death"
    bare = {"death_date": (today() - timedelta(days=2)).isoformat(), "comment": "Gia đình báo tin."}
    r = api.post(url, people.officer, json=bare)
    assert r.status_code == 422, r.get_json()
    assert {"family_name", "family_relationship", "evidence"} <= set(r.get_json()["error"]["fields"]), r.get_json()
    assert "death_date" not in r.get_json()["error"]["fields"] and "comment" not in r.get_json()["error"]["fields"]
    assert api.post(url, people.officer_hpg, json=bare).status_code == 404  # another province's dossier
    assert api.post(url, people.applicant, json=bare).status_code == 403  # the applicant: not alone
    db.session.refresh(n)
    assert n.posthumous is False and db.session.scalar(sa.select(sa.func.count()).select_from(NomineeDeath)) == 0
    r = api.post(url, people.officer, data=death_form(), content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["posthumous"] is True and r.get_json()["state"] == "submitted"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NomineeDeath)) == 1
    again = api.post(url, people.officer, data=death_form(), content_type="multipart/form-data")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_posthumous"


def test_death_evidence_goes_through_the_upload_cleaning(api, make, people):
    n = make.nomination(State.SUBMITTED, owner=people.applicant)
    r = post_death(api, n, people.officer, evidence=(io.BytesIO(b"MZ\x90\x00 not a document"), "chung-tu.pdf"))
    assert r.status_code in (415, 422), r.get_json()
    db.session.refresh(n)
    assert n.posthumous is False


def test_who_may_record_a_death_and_when(api, make, people, app):
    n = make.nomination(State.SUBMITTED, owner=people.applicant)
    assert post_death(api, n, people.applicant).status_code == 403  # the applicant: not alone
    assert post_death(api, n, people.officer_hpg).status_code == 404  # another province
    assert post_death(api, n, people.ministry).status_code == 404  # not yet at the ministry
    assert post_death(api, n, people.officer).status_code == 201
    again = post_death(api, n, people.officer)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_posthumous"
    closed = make.nomination(State.WITHDRAWN, owner=people.applicant)
    assert post_death(api, closed, people.officer).get_json()["error"]["code"] == "death_after_decision"
    app.config["POSTHUMOUS_SWITCH_ALLOWED"] = False
    other = make.nomination(State.SUBMITTED, owner=people.applicant)
    r = post_death(api, other, people.officer)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "posthumous_switch_disabled"


# == item 2: Art. 2(3) exclusions ==========================================================================


def test_intangible_heritage_track_cannot_be_submitted(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant, intangible_heritage_track=True)
    r = api.post(f"{API}/nominations/{n.id}/actions/submit", people.applicant, json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "excluded_by_article_2_3"
    assert "Điều 2 khoản 3" in r.get_json()["error"]["message"]
    db.session.refresh(n)
    assert n.state == State.DRAFT and n.code is None


def test_an_intangible_heritage_meritorious_title_blocks_a_peoples_nomination(api, make, people):
    n = make.nomination(State.DRAFT, owner=people.applicant, title="people",
                        meritorious_title={**MERIT, "field": "intangible_heritage"})
    r = api.post(f"{API}/nominations/{n.id}/actions/submit", people.applicant, json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "excluded_by_article_2_3"


def _discovered_after_filing(make, people):
    """A dossier filed in good faith, then found in the intangible-heritage register."""
    n = make.nomination(State.SUBMITTED, owner=people.applicant)
    db.session.execute(sa.update(Nomination).where(Nomination.id == n.id).values(intangible_heritage_track=True))
    db.session.commit()
    db.session.refresh(n)
    return n


def test_acceptance_is_blocked_and_no_override_by_default(api, client, auth, make, people):
    n = _discovered_after_filing(make, people)
    r = api.post(f"{API}/nominations/{n.id}/actions/accept", people.officer, json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "excluded_by_article_2_3"
    r = api.post(f"{API}/nominations/{n.id}/exclusion-override", people.admin,
                 json={"reason": "Đã đối chiếu sổ đăng ký, trùng tên khác người"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "override_disabled"
    assert api.get(f"{API}/nominations/{n.id}", people.officer).get_json()["blocked_by_exclusion"] is True
    auth.login(people.officer.email)
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert "Điều 2 khoản 3" in page and "không nộp, không tiếp nhận được" in page
    refused = client.post(f"/nominations/{n.id}/actions/accept", data={}, follow_redirects=True)
    assert "Điều 2 khoản 3" in refused.get_data(as_text=True)
    db.session.refresh(n)
    assert n.state == State.SUBMITTED


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_override_needs_configuration_a_higher_role_and_a_reason(api, make, people, app, runner):
    app.config["EXCLUSION_OVERRIDE_ALLOWED"] = True
    n = _discovered_after_filing(make, people)
    reason = "Đã đối chiếu Sổ danh hiệu của Bộ VHTTDL: trùng tên, khác người (Công văn 45/VHTTDL)"
    assert api.post(f"{API}/nominations/{n.id}/exclusion-override", people.officer,
                    json={"reason": reason}).status_code == 403
    short = api.post(f"{API}/nominations/{n.id}/exclusion-override", people.admin, json={"reason": "vì"})
    assert short.status_code == 422 and "reason" in short.get_json()["error"]["fields"]
    ok = api.post(f"{API}/nominations/{n.id}/exclusion-override", people.admin, json={"reason": reason})
    assert ok.status_code == 201 and ok.get_json()["exclusion_override"]["reason"] == reason
    assert ok.get_json()["blocked_by_exclusion"] is False
    r = api.post(f"{API}/nominations/{n.id}/actions/accept", people.officer, json={})
    assert r.status_code == 200 and r.get_json()["state"] == "accepted"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.EXCLUSION_OVERRIDDEN))
    assert event.details["reason"] == reason and event.actor_id == people.admin.id
    fine = make.nomination(State.SUBMITTED, owner=people.applicant)
    assert api.post(f"{API}/nominations/{fine.id}/exclusion-override", people.admin,
                    json={"reason": reason}).get_json()["error"]["code"] == "not_excluded"
    audit_clean(runner)


# == item 3: the applicant's completion period ============================================================


def test_early_close_is_refused_by_api_and_page(api, client, auth, make, people):
    n = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    due = n.completion_due()
    r = api.post(f"{API}/nominations/{n.id}/actions/close_incomplete", people.officer, json={"comment": "Sớm"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "completion_period_running"
    assert due.strftime("%d/%m/%Y") in r.get_json()["error"]["message"]
    auth.login(people.officer.email)
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert 'data-action="close_incomplete"' not in page and "completion-note" in page
    refused = client.post(f"/nominations/{n.id}/actions/close_incomplete", data={"comment": "Sớm"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Chưa hết thời hạn bổ sung" in refused
    db.session.refresh(n)
    assert n.state == State.RETURNED
    expire_completion(n)
    r = api.post(f"{API}/nominations/{n.id}/actions/close_incomplete", people.officer, json={"comment": "Hết hạn"})
    assert r.status_code == 200 and r.get_json()["state"] == "closed_incomplete"


def test_lists_show_who_waits_and_whose_period_ran_out(api, client, auth, make, people):
    waiting = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer,
                              nominee={"full_name": "Phan Văn Chờbổsung"})
    expired = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer,
                              nominee={"full_name": "Phan Thị Hếthạn"})
    expire_completion(expired)
    ids = lambda which: {i["id"] for i in api.get(f"{API}/nominations?completion={which}",  # noqa: E731
                                                   people.officer).get_json()["items"]}
    assert ids("waiting") == {waiting.id} and ids("expired") == {expired.id}
    assert api.get(f"{API}/nominations?completion=soon", people.officer).status_code == 422
    auth.login(people.officer.email)
    page = client.get("/province/inbox?completion=expired").get_data(as_text=True)
    assert "Phan Thị Hếthạn" in page and "Phan Văn Chờbổsung" not in page
    page = client.get("/province/inbox?completion=waiting").get_data(as_text=True)
    assert "Phan Văn Chờbổsung" in page and "Phan Thị Hếthạn" not in page


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_the_job_closes_expired_dossiers_as_the_system(make, people, runner, app):
    app.config["COMPLETION_EXPIRY"] = "close"
    waiting = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    expired = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    expire_completion(expired)
    before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    result = runner.invoke(args=["completion", "expire"])
    assert result.exit_code == 0, result.output
    assert f"closed {expired.code}" in result.output and "closed 1, proposed 0" in result.output
    db.session.expire_all()
    assert db.session.get(Nomination, expired.id).state == State.CLOSED_INCOMPLETE
    assert db.session.get(Nomination, waiting.id).state == State.RETURNED
    last = db.session.scalar(sa.select(TransitionLog).where(TransitionLog.nomination_id == expired.id)
                             .order_by(TransitionLog.id.desc()).limit(1))
    assert last.action == "close_incomplete" and last.actor_id is None and last.actor_name == "Hệ thống (tự động)"
    assert last.meta["system"] is True
    told = list(db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > before)))
    assert any(m.to == people.applicant.email and expired.code in m.subject for m in told)
    assert "closed 0, proposed 0" in runner.invoke(args=["completion", "expire"]).output
    audit_clean(runner)


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_the_job_can_propose_the_closing_instead(make, people, runner, app):
    app.config["COMPLETION_EXPIRY"] = "propose"
    expired = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    expire_completion(expired)
    before = db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0
    result = runner.invoke(args=["completion", "expire"])
    assert result.exit_code == 0 and "proposed 1" in result.output, result.output
    db.session.expire_all()
    assert db.session.get(Nomination, expired.id).state == State.RETURNED
    told = {m.to: m.subject for m in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.id > before))}
    assert people.applicant.email in told and people.officer.email in told
    assert "proposed 0" in runner.invoke(args=["completion", "expire"]).output  # told once
    service.perform(db.session.get(Nomination, expired.id), Action.CLOSE_INCOMPLETE, people.officer, comment="Hết hạn")
    app.config["COMPLETION_EXPIRY"] = "sometimes"
    assert runner.invoke(args=["completion", "expire"]).exit_code != 0


# == item 5: the date a paper dossier really arrived =====================================================


def paper_dossier(make, officer, round_=None, **over):
    """A paper dossier typed in by the secretariat (its owner), submitted today."""
    data = {"round_id": round_.id} if round_ else {}
    n = make.nomination(State.DRAFT, owner=officer, **data, **over)
    service.perform(n, Action.SUBMIT, officer)
    return n


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_the_arrival_date_drives_the_reply_deadline(api, make, people, runner):
    n = paper_dossier(make, people.officer)
    typed_due = n.reply_due()
    arrived = today() - timedelta(days=6)
    r = api.post(f"{API}/nominations/{n.id}/arrival", people.officer,
                 json={"arrived_on": arrived.isoformat(), "receipt_book_no": "STN-2026/017"})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["arrived_on"] == arrived.isoformat() and out["receipt_book_no"] == "STN-2026/017"
    assert out["reply_due"] == (arrived + timedelta(days=n.round.reply_days)).isoformat()
    assert date.fromisoformat(out["reply_due"]) == typed_due - timedelta(days=6)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.PAPER_ARRIVAL_RECORDED))
    assert event.details["receipt_book_no"] == "STN-2026/017" and event.details["first_filing"] is True
    audit_clean(runner)


def test_the_arrival_date_chooses_the_decree(api, make, people, app):
    app.config["TODAY"] = "2024-06-20"
    round5 = make.round(intake_opens=date(2024, 5, 1), intake_closes=date(2024, 7, 31), governing_decree="43/2024")
    before_cutover = paper_dossier(make, people.officer, round5)
    after_cutover = paper_dossier(make, people.officer, round5)
    r = api.post(f"{API}/nominations/{before_cutover.id}/arrival", people.officer,
                 json={"arrived_on": "2024-06-03", "receipt_book_no": "STN-112"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["governing_decree"] == "123/2014"
    assert r.get_json()["eligibility"]["ruleset"]["id"] == "decree-123-2014"
    assert r.get_json()["submitted_at"].startswith("2024-06-0")
    r = api.post(f"{API}/nominations/{after_cutover.id}/arrival", people.officer,
                 json={"arrived_on": "2024-06-06", "receipt_book_no": "STN-113"})
    assert r.get_json()["governing_decree"] == "43/2024"
    assert r.get_json()["eligibility"]["ruleset"]["id"] == "decree-43-2024"


@pytest.mark.parametrize("body,field", [
    ({"arrived_on": (date.today() + timedelta(days=2)).isoformat(), "receipt_book_no": "1"}, "arrived_on"),
    ({"arrived_on": "2001-01-01", "receipt_book_no": "1"}, "arrived_on"),  # outside the round's intake window
    ({"arrived_on": date.today().isoformat(), "receipt_book_no": "   "}, "receipt_book_no"),
    ({"arrived_on": date.today().isoformat(), "receipt_book_no": "x" * 41}, "receipt_book_no"),
])
def test_arrival_bad_input_is_a_clear_422(api, make, people, body, field):
    n = paper_dossier(make, people.officer)
    r = api.post(f"{API}/nominations/{n.id}/arrival", people.officer, json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_arrival_who_and_when(api, make, people):
    n = paper_dossier(make, people.officer)
    body = {"arrived_on": today().isoformat(), "receipt_book_no": "STN-1"}
    assert api.post(f"{API}/nominations/{n.id}/arrival", people.officer_hpg, json=body).status_code == 404
    assert api.post(f"{API}/nominations/{n.id}/arrival", people.admin, json=body).status_code == 403
    assert api.post(f"{API}/nominations/{n.id}/arrival", people.officer, json={"x": 1}).status_code == 422
    accepted = make.nomination(State.ACCEPTED, owner=people.applicant, officer=people.officer)
    r = api.post(f"{API}/nominations/{accepted.id}/arrival", people.officer, json=body)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_submitted"


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_a_completed_paper_dossier_counts_from_its_arrival_not_its_typing(api, make, people, runner):
    """The completed paper arrived within the period but is typed in after it: it is resubmitted on its
    arrival day; one that arrived after the period is refused."""
    n = paper_dossier(make, people.officer)
    service.perform(n, Action.RETURN, people.officer, comment="Thiếu ảnh sản phẩm")
    expire_completion(n)  # the period is over today
    returned_on = n.returned_at.astimezone(VN).date()
    end = returned_on + timedelta(days=n.round.completion_days)
    typed = api.post(f"{API}/nominations/{n.id}/actions/resubmit", people.officer, json={})
    assert typed.status_code == 409  # typed in today: too late by the machine's clock
    late = api.post(f"{API}/nominations/{n.id}/arrival", people.officer,
                    json={"arrived_on": (end + timedelta(days=1)).isoformat(), "receipt_book_no": "STN-9"})
    assert late.status_code == 422 and "arrived_on" in late.get_json()["error"]["fields"]
    r = api.post(f"{API}/nominations/{n.id}/arrival", people.officer,
                 json={"arrived_on": end.isoformat(), "receipt_book_no": "STN-9"})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["state"] == "submitted" and out["history"][-1]["action"] == "resubmit"
    assert out["reply_due"] == (end + timedelta(days=n.round.reply_days)).isoformat()
    assert out["receipt_book_no"] == "STN-9"
    # somebody else's returned dossier is not the secretariat's to resubmit
    other = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    r = api.post(f"{API}/nominations/{other.id}/arrival", people.officer,
                 json={"arrived_on": today().isoformat(), "receipt_book_no": "STN-10"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "not_submitted"
    audit_clean(runner)


# == item 6: special crafts are the council's decision ====================================================


def special_claim(make, people, learners=40):
    return make.nomination(State.ACCEPTED, owner=people.applicant, officer=people.officer, special_craft=True,
                           special_craft_rationale="Nghề khảm trai cổ, chỉ còn vài người làm",
                           learners_trained=learners)


def m5(api, n, user) -> dict:
    crits = api.get(f"{API}/nominations/{n.id}", user).get_json()["eligibility"]["criteria"]
    return next(c for c in crits if c["id"] == "M5")


@pytest.mark.realdb  # the CLI (audit verify, the job) reads what was committed
def test_only_the_council_relaxes_the_teaching_requirement(api, make, people, app, tmp_path, runner):
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    n = special_claim(make, people)
    assert m5(api, n, people.officer)["result"] == "fail"  # the applicant's claim relaxes nothing
    council, session, members = council_with(make, people.officer, [n], open_only=True)
    chair, member = members[0], members[1]
    body = {"session_id": session.id, "is_special": True,
            "reasons": "Nghề có nguy cơ thất truyền, thời gian đào tạo trên 5 năm"}
    assert api.post(f"{API}/nominations/{n.id}/special-craft", people.applicant, json=body).status_code == 403
    assert api.post(f"{API}/nominations/{n.id}/special-craft", people.officer, json=body).status_code == 403
    assert api.post(f"{API}/nominations/{n.id}/special-craft", member, json=body).status_code == 403
    short = api.post(f"{API}/nominations/{n.id}/special-craft", chair, json={**body, "reasons": "có"})
    assert short.status_code == 422 and "reasons" in short.get_json()["error"]["fields"]
    r = api.post(f"{API}/nominations/{n.id}/special-craft", chair, json=body)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["special_craft_decision"]["is_special"] is True
    crit = m5(api, n, people.officer)
    assert crit["result"] == "pass"
    assert "Hội đồng xét tặng tỉnh Hà Nội" in crit["detail"] and "thất truyền" in crit["detail"]
    for u in members:
        councils.cast_ballot(u, session, {str(n.id): "yes"})
    councils.close_session(people.officer, session)
    minutes = api.get(f"{API}/sessions/{session.id}/minutes.pdf", people.officer)
    assert minutes.status_code == 200
    text = pdf_text(minutes.data)
    assert "nghề đặc thù" in text and "thất truyền" in text
    # the session is closed: no more decisions in it
    late = api.post(f"{API}/nominations/{n.id}/special-craft", chair, json={**body, "is_special": False})
    assert late.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpecialCraftDecision)) == 1
    audit_clean(runner)


def test_the_council_may_also_decide_a_craft_is_not_special(api, make, people):
    n = special_claim(make, people)
    _council, session, members = council_with(make, people.officer, [n], open_only=True)
    r = api.post(f"{API}/nominations/{n.id}/special-craft", members[0],
                 json={"session_id": session.id, "is_special": False, "reasons": "Nghề phổ biến, nhiều người học"})
    assert r.status_code == 201
    crit = m5(api, n, people.officer)
    assert crit["result"] == "fail" and "không phải nghề đặc thù" in crit["detail"]


def test_special_craft_decisions_are_append_only(make, people, app):
    n = special_claim(make, people)
    _council, session, members = council_with(make, people.officer, [n], open_only=True)
    from artisan_awards.services import hard_cases

    row = hard_cases.record_special_craft(members[0], n, session.id, True, "Lý do của Hội đồng đủ dài")
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.update(SpecialCraftDecision).where(SpecialCraftDecision.id == row.id)
                           .values(is_special=False))
        db.session.commit()
    db.session.rollback()


def test_an_edit_of_a_returned_dossier_cannot_undo_the_recorded_death(api, make, people):
    n = make.nomination(State.RETURNED, owner=people.applicant, officer=people.officer)
    assert post_death(api, n, people.officer).status_code == 201
    r = api.patch(f"{API}/nominations/{n.id}", people.applicant,
                  json={"posthumous": False, "nominee": {"death_date": None}})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["posthumous"] is True
    assert r.get_json()["nominee"]["death_date"] == (today() - timedelta(days=3)).isoformat()
