"""The journey from draft to the provincial council's agenda, through pages and operations."""

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from artisan_awards.errors import TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.services import nominations as service
from artisan_awards.services import queries
from artisan_awards.timeutil import now_utc
from tests.confirming import answer_fields, is_question, post_confirmed
from workflows.states import Action, State

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
       b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99="
       b"\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


def log_rows(nomination):
    return queries.history(nomination)


# -- the applicant's pages -------------------------------------------------------------------


def test_applicant_fills_the_declaration_in_steps_and_submits(client, auth, make, app):
    round_ = make.current_round()
    applicant = auth.login_as("applicant")
    r = client.post("/my/new", data={
        "round_id": round_.id, "title": "people", "province_code": "HNI",
        "full_name": "Nguyễn Văn Ánh", "birth_date": "1958-02-03", "gender": "Nam",
        "address": "Bát Tràng, Gia Lâm, Hà Nội", "filed_by_relationship": "self",
    })
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    nomination = db.session.scalar(sa.select(Nomination).where(Nomination.owner_id == applicant.id))
    assert nomination.state == State.DRAFT and nomination.full_name == "Nguyễn Văn Ánh"

    r = client.post(f"/my/{nomination.id}/craft", data={
        "craft": "Gốm sứ Bát Tràng",
        "periods-0-from_date": "1978-01-01", "periods-0-to_date": "2000-12-31",
        "periods-0-workplace": "Xưởng gốm gia đình",
        "meritorious_decision_no": "1234/QĐ-CTN", "meritorious_decision_date": "2019-11-20",
        "meritorious_field": "handicraft",
    })
    assert r.status_code == 302
    r = client.post(f"/my/{nomination.id}/achievements", data={
        "products-0-name": "Bình men lam vẽ rồng", "products-0-made_on": "2021-05-01",
        "products-0-self_designed": "y", "products-0-award_level": "national", "products-0-award_rank": "1",
        "learners_trained": "200",
    })
    assert r.status_code == 302
    r = client.post(f"/my/{nomination.id}/evidence",
                    data={"kind": "photo", "file": (io.BytesIO(PNG), "ảnh sản phẩm.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.expire_all()
    assert [p.workplace for p in nomination.periods] == ["Xưởng gốm gia đình"]
    assert nomination.products[0].award_rank == 1 and nomination.learners_trained == 200
    assert nomination.attachments[0].original_name == "ảnh sản phẩm.png"

    review = client.get(f"/my/{nomination.id}/review").get_data(as_text=True)
    assert "Hồ sơ còn thiếu" not in review and "Nộp hồ sơ" in review

    r = client.post(f"/nominations/{nomination.id}/actions/submit", data={"commitment": "y"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/my/{nomination.id}/receipt")
    receipt = client.get(f"/my/{nomination.id}/receipt").get_data(as_text=True)
    db.session.expire_all()
    assert nomination.state == State.SUBMITTED
    assert nomination.code.startswith("NN-") and "-HNI-" in nomination.code
    assert nomination.code in receipt and "Mã tra cứu" in receipt and "GIẤY BIÊN NHẬN HỒ SƠ" in receipt


def test_review_lists_what_is_missing_in_plain_words(client, auth, make):
    owner = auth.login_as("applicant")
    nomination = make.nomination(owner=owner, title="people", craft="", learners_trained=None,
                                 meritorious_title=None)
    html = client.get(f"/my/{nomination.id}/review").get_data(as_text=True)
    assert "Cần ghi tên nghề thủ công mỹ nghệ." in html
    assert "Nghệ nhân ưu tú" in html and "Cần ghi số người đã được truyền nghề." in html
    r = client.post(f"/nominations/{nomination.id}/actions/submit", data={"commitment": "y"})
    assert r.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state == State.DRAFT


def test_submit_outside_intake_window_is_refused(make, app):
    closed = make.round(intake_opens=now_utc().date() - timedelta(days=60),
                        intake_closes=now_utc().date() - timedelta(days=30))
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner, round_id=closed.id)
    with pytest.raises(TransitionRefused) as exc:
        service.perform(nomination, Action.SUBMIT, owner)
    assert "thời hạn tiếp nhận" in exc.value.message
    assert nomination.state == State.DRAFT and log_rows(nomination) == []


def test_a_submitted_dossier_cannot_be_edited(client, auth, make):
    owner = auth.login_as("applicant")
    nomination = make.nomination(State.SUBMITTED, owner=owner)
    r = client.get(f"/my/{nomination.id}/craft")
    assert r.status_code == 302 and f"/nominations/{nomination.id}" in r.headers["Location"]


def test_evidence_type_is_decided_by_content(client, auth, make, app):
    owner = auth.login_as("applicant")
    nomination = make.nomination(owner=owner)
    r = client.post(f"/my/{nomination.id}/evidence",
                    data={"kind": "photo", "file": (io.BytesIO(b"MZ\x90\x00 not an image"), "anh.png")},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "Định dạng tệp không được chấp nhận" in r.get_data(as_text=True)
    assert nomination.attachments == []


def test_evidence_is_stored_outside_the_web_root_under_a_random_name(client, auth, make, app):
    from pathlib import Path

    owner = auth.login_as("applicant")
    nomination = make.nomination(owner=owner)
    client.post(f"/my/{nomination.id}/evidence",
                data={"kind": "photo", "file": (io.BytesIO(PNG), "../../etc/passwd.png")},
                content_type="multipart/form-data")
    db.session.expire_all()
    attachment = nomination.attachments[0]
    stored = Path(app.config["UPLOAD_DIR"]) / attachment.stored_name
    assert stored.read_bytes() == PNG
    assert attachment.original_name == "passwd.png"
    assert "passwd" not in attachment.stored_name
    assert not str(stored).startswith(str(Path(app.static_folder)))
    r = client.get(f"/nominations/{nomination.id}/attachments/{attachment.id}")
    assert r.status_code == 200 and r.data == PNG
    assert r.headers["Content-Disposition"].startswith("attachment")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    auth.logout()
    auth.login_as("applicant")
    assert client.get(f"/nominations/{nomination.id}/attachments/{attachment.id}").status_code == 404


# -- the secretariat --------------------------------------------------------------------------


def test_officer_returns_with_reasons_applicant_resubmits_officer_accepts(client, auth, make):
    owner = make.user("applicant")
    nomination = make.nomination(State.SUBMITTED, owner=owner)
    officer = auth.login_as("province_officer", "HNI")

    r = client.post(f"/nominations/{nomination.id}/actions/return", data={"comment": ""})
    assert r.status_code == 302
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED, "a return needs reasons"

    url = f"/nominations/{nomination.id}/actions/return"
    question = client.post(url, data={"comment": "Bổ sung bản sao quyết định khen thưởng."})
    assert is_question(question), "a return asks first, saying what it causes"
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED, "nothing changes before the confirmation"
    client.post(url, data=answer_fields(question))
    db.session.refresh(nomination)
    assert nomination.state == State.RETURNED
    from artisan_awards.timeutil import local_date

    assert nomination.completion_due() == local_date(nomination.returned_at) + timedelta(days=15)

    auth.logout()
    auth.login(owner.email)
    html = client.get(f"/nominations/{nomination.id}").get_data(as_text=True)
    assert "Bổ sung bản sao quyết định khen thưởng." in html
    client.post(f"/nominations/{nomination.id}/actions/resubmit", data={"commitment": "y"})
    db.session.refresh(nomination)
    assert nomination.state == State.SUBMITTED

    auth.logout()
    auth.login(officer.email)
    post_confirmed(client, f"/nominations/{nomination.id}/actions/accept", data={"comment": "Hồ sơ hợp lệ."})
    db.session.refresh(nomination)
    assert nomination.state == State.ACCEPTED
    assert [(h.action, h.actor_name) for h in log_rows(nomination)] == [
        ("submit", owner.full_name), ("return", officer.full_name),
        ("resubmit", owner.full_name), ("accept", officer.full_name),
    ]
    agenda = client.get("/council/agenda").get_data(as_text=True)
    assert nomination.full_name in agenda


def test_reply_and_completion_windows_are_flagged_when_overdue(client, auth, make, app):
    nomination = make.nomination(State.SUBMITTED)
    eleven_days_ago = now_utc() - timedelta(days=11)
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id)
                       .values(received_at=eleven_days_ago))
    db.session.commit()
    db.session.refresh(nomination)
    from artisan_awards.timeutil import today

    assert nomination.reply_due() == today() - timedelta(days=1)
    assert nomination.is_overdue(today())
    auth.login_as("province_officer", "HNI")
    html = client.get("/province/inbox").get_data(as_text=True)
    assert "Quá hạn 1 ngày" in html
    html = client.get("/province/inbox?overdue=1").get_data(as_text=True)
    assert nomination.full_name in html


def test_resubmission_after_fifteen_days_is_refused_and_the_file_can_be_closed(make, app):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(State.RETURNED, owner=owner, officer=officer)
    db.session.execute(sa.update(Nomination).where(Nomination.id == nomination.id)
                       .values(returned_at=now_utc() - timedelta(days=16)))
    db.session.commit()
    db.session.refresh(nomination)
    with pytest.raises(TransitionRefused):
        service.perform(nomination, Action.RESUBMIT, owner)
    service.perform(nomination, Action.CLOSE_INCOMPLETE, officer, comment="Quá hạn bổ sung.")
    assert nomination.state == State.CLOSED_INCOMPLETE


def test_inbox_search_ignores_accents(client, auth, make):
    make.nomination(State.SUBMITTED, nominee={"full_name": "Nguyễn Văn Ánh"})
    make.nomination(State.SUBMITTED, nominee={"full_name": "Trần Thị Bích"})
    auth.login_as("province_officer", "HNI")
    html = client.get("/province/inbox?q=nguyen+van+anh").get_data(as_text=True)
    assert "Nguyễn Văn Ánh" in html and "Trần Thị Bích" not in html


# -- the log and refused transitions ------------------------------------------------------------


def test_each_transition_writes_exactly_one_log_row(make, app):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(owner=owner)
    steps = [(Action.SUBMIT, owner, None), (Action.RETURN, officer, "Thiếu ảnh."),
             (Action.RESUBMIT, owner, "Đã bổ sung."), (Action.ACCEPT, officer, "Hợp lệ.")]
    for i, (action, actor, comment) in enumerate(steps, start=1):
        before = nomination.state
        service.perform(nomination, action, actor, comment=comment)
        rows = log_rows(nomination)
        assert len(rows) == i
        last = rows[-1]
        assert (last.action, last.from_state, last.to_state) == (action, before, nomination.state)
        assert last.actor_id == actor.id and last.comment == comment


@pytest.mark.parametrize("state,action", [
    (State.ACCEPTED, Action.ACCEPT), (State.ACCEPTED, Action.RETURN),
    (State.SUBMITTED, Action.RESUBMIT), (State.CLOSED_INCOMPLETE, Action.RESUBMIT),
    (State.WITHDRAWN, Action.SUBMIT),
])
def test_refused_transition_changes_nothing(make, app, state, action):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    nomination = make.nomination(state, owner=owner, officer=officer)
    actor = owner if action in (Action.SUBMIT, Action.RESUBMIT) else officer
    rows, version = len(log_rows(nomination)), nomination.version
    with pytest.raises(TransitionRefused):
        service.perform(nomination, action, actor, comment="x")
    db.session.refresh(nomination)
    assert nomination.state == state
    assert len(log_rows(nomination)) == rows and nomination.version == version


def test_refused_transition_on_the_page_is_409(client, auth, make):
    officer = auth.login_as("province_officer", "HNI")
    nomination = make.nomination(State.ACCEPTED, officer=officer)
    r = client.post(f"/nominations/{nomination.id}/actions/accept", data={})
    assert r.status_code == 302  # pages flash the refusal and go back
    r = client.post(f"/nominations/{nomination.id}/actions/accept", data={}, follow_redirects=True)
    assert "không được phép ở trạng thái hiện tại" in r.get_data(as_text=True)


def test_the_transition_log_is_append_only_in_the_database(make, app):
    nomination = make.nomination(State.SUBMITTED)
    row_id = log_rows(nomination)[0].id
    for statement in (
        sa.update(TransitionLog).where(TransitionLog.id == row_id).values(comment="sửa"),
        sa.delete(TransitionLog).where(TransitionLog.id == row_id),
    ):
        with pytest.raises((DBAPIError, IntegrityError)):
            db.session.execute(statement)
            db.session.commit()
        db.session.rollback()
    assert log_rows(nomination)[0].comment == "Lý do thử nghiệm"  # as written, unchanged


def test_posthumous_dossier_needs_a_date_of_death(make, app):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="ngày mất"):
        make.nomination(posthumous=True)
    nomination = make.nomination(posthumous=True, nominee={"death_date": "2024-01-05"},
                                 filed_by={"full_name": "Nguyễn Thị Lan", "relationship": "child"})
    assert nomination.posthumous and nomination.filed_by_relationship == "child"


def test_submission_requires_the_filers_name_when_someone_files_for_the_nominee(make, app):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner, filed_by={"relationship": "child", "full_name": None})
    with pytest.raises(ValidationFailed) as exc:
        service.perform(nomination, Action.SUBMIT, owner)
    assert "filed_by.full_name" in exc.value.fields


# -- public status lookup -----------------------------------------------------------------------


def test_status_lookup_page(client, make, app):
    owner = make.user("applicant")
    nomination = make.nomination(owner=owner)
    key = service.perform(nomination, Action.SUBMIT, owner)
    r = client.post("/public/status", data={"code": nomination.code, "key": key.lower()})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Sở Công Thương đã nhận hồ sơ và đang kiểm tra" in html
    assert "trả lời bằng văn bản trong 10 ngày" in html
    wrong_key = client.post("/public/status", data={"code": nomination.code, "key": "AAAA-AAAA"})
    wrong_code = client.post("/public/status", data={"code": "NN-2026-HNI-99999", "key": key})
    assert wrong_key.status_code == wrong_code.status_code == 404
    assert "Không tìm thấy hồ sơ" in wrong_key.get_data(as_text=True)


def test_status_lookup_is_rate_limited(app_config, make):
    from artisan_awards import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "STATUS_LOOKUP_LIMIT": "3 per minute"})
    client = limited.test_client()
    codes = [client.get("/api/v1/status?code=NN-2026-HNI-00001&key=X").status_code for _ in range(5)]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]
    body = client.get("/api/v1/status?code=A&key=B").get_json()
    assert body["error"]["code"] == "rate_limited"
    page = client.post("/public/status", data={"code": "A", "key": "B"})
    assert page.status_code == 429, "the page and the API share one counter"
    form = client.get("/public/status")
    assert form.status_code == 200, "showing the form is not a lookup and is never refused"


# -- CSRF and the command line ------------------------------------------------------------------


def test_forms_need_the_csrf_token(app_config, make):
    from artisan_awards import create_app

    strict = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    client = strict.test_client()
    with strict.app_context():
        email = make.user("province_officer", "HNI").email
        nomination_id = make.nomination(State.SUBMITTED).id
    r = client.post("/login", data={"email": email, "password": make.PASSWORD})
    assert r.status_code == 400
    assert "Phiên làm việc đã hết hạn" in r.get_data(as_text=True)
    r = client.post(f"/nominations/{nomination_id}/actions/accept", data={})
    assert r.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_cli_creates_users_and_seeds_the_demo(runner, app):
    result = runner.invoke(args=["users", "create", "--email", "Can.Bo@So.vn", "--password",
                                 "mat-khau-dai-du", "--role", "province_officer", "--province", "HPG"])
    assert result.exit_code == 0, result.output
    from artisan_awards.services.accounts import find_user

    user = find_user("can.bo@so.vn")
    assert user.roles == {"province_officer"} and user.province_code == "HPG"
    bad = runner.invoke(args=["users", "create", "--email", "x@y.vn", "--password", "mat-khau-dai-du",
                              "--role", "province_officer"])
    assert bad.exit_code == 1 and "province_code" in bad.output

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    states = set(db.session.scalars(sa.select(Nomination.state)))
    assert {"draft", "submitted", "returned", "accepted", "closed_incomplete", "withdrawn"} <= states
    # the provincial intake (12) and a dossier waiting at every later stage, one awarded (17): issue 13 item 3
    assert states >= {"province_review", "province_passed", "province_rejected", "ministry_review",
                      "ministry_passed", "ministry_rejected", "public_consultation", "on_hold", "state_review",
                      "state_passed", "final_consultation", "submitted_to_pm", "submitted_to_president", "awarded"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Nomination)) == 12 + 17
    from artisan_awards.models import Council

    demo_councils = db.session.scalars(sa.select(Council)).all()
    assert sorted(c.level for c in demo_councils) == ["ministry", "province", "state"]
    assert all(c.members_total == 9 and c.quorum <= 9 for c in demo_councils)
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and "intact" in verify.output, verify.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "already" in again.output


@pytest.mark.parametrize("path", ["/nominations/99999999999", "/nominations/2147483648/attachments/1",
                                  "/my/99999999999999999999/craft"])
def test_huge_ids_in_urls_are_404_not_500(client, auth, path):
    auth.login_as("province_officer", "HNI")
    assert client.get(path).status_code == 404


def test_nul_characters_in_a_form_are_refused_not_500(client, auth, make):
    owner = auth.login_as("applicant")
    nomination = make.nomination(owner=owner)
    r = client.post(f"/my/{nomination.id}/craft", data={"craft": "Gốm\x00sứ"}, follow_redirects=True)
    assert r.status_code == 200
    assert "Có ký tự không hợp lệ." in r.get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.craft == "Gốm sứ"


def test_audit_chain_finds_an_altered_row(make, app, runner, db_kind):
    """Each log row is chained to the previous one; editing a row behind the app's back is caught."""
    officer = make.user("province_officer", "HNI")
    first = make.nomination(State.ACCEPTED, officer=officer)
    make.nomination(State.RETURNED, officer=officer)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "OK: 4 log rows" in ok.output
    target = log_rows(first)[1]
    # Go round the append-only trigger, as someone with direct database access could.
    with db.engine.begin() as conn:
        if db_kind == "postgresql":
            conn.execute(sa.text("ALTER TABLE transition_log DISABLE TRIGGER USER"))
        else:
            conn.execute(sa.text("DROP TRIGGER transition_log_no_update"))
        conn.execute(sa.text("UPDATE transition_log SET comment = 'Đã sửa' WHERE id = :id"), {"id": target.id})
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at log row {target.id} (nomination {first.id})" in broken.output


def test_the_demo_round_plan_is_saved_unchanged_on_its_page(runner, app, client):
    """The demo's rehearsal round obeys the app's own date rules: its plan saves as it is (issue 13 item 3)."""
    from artisan_awards.demo import DEMO_PASSWORD
    from artisan_awards.models import Round

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    row = db.session.scalar(sa.select(Round).where(Round.number == 6))
    client.post("/login", data={"email": "admin@demo.vn", "password": DEMO_PASSWORD})
    form = {"number": row.number, "name": row.name, "governing_decree": row.governing_decree,
            "intake_opens": row.intake_opens.isoformat(), "intake_closes": row.intake_closes.isoformat(),
            "reply_days": row.reply_days, "completion_days": row.completion_days,
            "consultation_days": row.consultation_days, "consultation_windows": row.consultation_windows,
            **row.deadlines}
    r = client.post(f"/admin/rounds/{row.id}", data=form, follow_redirects=True)
    assert r.status_code == 200 and "Không có gì thay đổi.".encode() in r.data
    assert list(row.deadlines) == ["province_to_ministry", "ministry_to_state", "state_to_pm", "announcement"]
