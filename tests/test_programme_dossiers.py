"""A programme defined only in test data (tests/data/programmes/village-crafts) runs a dossier from draft
to decision through the service layer (issue 18, acceptance 4), and a dossier stays on the programme
version it was filed under when a newer one takes effect."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from artisan_awards.errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from artisan_awards.extensions import db
from artisan_awards.models import Nomination, Round, TransitionLog
from artisan_awards.services import programmes
from artisan_awards.timeutil import today
from workflows import programme as pg
from workflows.registry import registry

TEST_PROGRAMMES = Path(__file__).resolve().parent / "data" / "programmes"
VALUES = {"village_name": "Làng gốm Bát Tràng", "craft_group": "gốm sứ", "households": "120",
          "budget_requested": "500.000.000", "plan": "Lò nung khí hóa lỏng cho 30 hộ."}


@pytest.fixture(autouse=True)
def _test_programmes():
    """What the PROGRAMME_DIRS setting does at start (test_the_setting_adds_definitions_at_start)."""
    registry().add_directory(TEST_PROGRAMMES)


def _round(make, opens: date) -> Round:
    return make.round(programme_id="village-crafts", intake_opens=opens, intake_closes=today() + timedelta(days=30))


def _log(nomination: Nomination) -> list[tuple[str, str, str, dict]]:
    rows = db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination.id)
                              .order_by(TransitionLog.id)).all()
    return [(r.action, r.from_state, r.to_state, r.meta) for r in rows]


def test_a_programme_defined_in_test_data_runs_draft_to_decision(make):
    applicant = make.user("applicant")
    officer, other_officer = make.user("province_officer", "HNI"), make.user("province_officer", "HPG")
    ministry = make.user("ministry_officer")
    round_ = _round(make, date(2026, 7, 1))
    assert (round_.programme_id, round_.programme_version) == ("village-crafts", "2026")

    n = programmes.create_dossier(applicant, round_.id, "HNI", VALUES)
    assert (n.programme_id, n.programme_version, n.state) == ("village-crafts", "2026", "draft")
    assert n.full_name == "Làng gốm Bát Tràng"
    assert n.programme_data == {"village_name": "Làng gốm Bát Tràng", "craft_group": "gốm sứ", "households": 120,
                                "budget_requested": 500_000_000, "plan": "Lò nung khí hóa lỏng cho 30 hộ."}

    assert programmes.perform(n, "submit", applicant) == "submitted"
    with pytest.raises(Forbidden):
        programmes.perform(n, "accept", other_officer)  # another province's secretariat
    with pytest.raises(Forbidden):
        programmes.perform(n, "accept", applicant)
    assert programmes.perform(n, "accept", officer) == "screening"
    assert programmes.perform(n, "screen", officer) == "province_vote"
    with pytest.raises(Forbidden):
        programmes.perform(n, "province_select", officer)  # the level's decision moves it, not a person
    with pytest.raises(Forbidden):
        programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 5}, ministry)
    # 60 % of 5 members present (3), 50 % of 5 voting yes (3)
    assert programmes.decide(n, "province", {"members": 5, "present": 4, "yes": 3}, officer) == "province_selected"
    with pytest.raises(TransitionRefused):  # decided already
        programmes.decide(n, "province", {"members": 5, "present": 4, "yes": 3}, officer)
    assert programmes.perform(n, "send_to_ministry", officer) == "appraisal"
    with pytest.raises(ValidationFailed) as refused:  # more than the dossier asked for
        programmes.decide(n, "ministry", {"amount": 600_000_000}, ministry)
    assert refused.value.fields == {"amount": "Số tiền thẩm định không được vượt quá số tiền đề nghị."}
    assert programmes.decide(n, "ministry", {"amount": 450_000_000}, ministry, comment="Giảm hạng mục lò") \
        == "funded"

    db.session.refresh(n)
    assert n.state == "funded" and n.stage_reached == 3  # intake 1, province 2, ministry 3
    assert programmes.state_label(n) == "Được hỗ trợ kinh phí"
    log = _log(n)
    assert [(a, f, t) for a, f, t, _ in log] == [
        ("submit", "draft", "submitted"), ("accept", "submitted", "screening"),
        ("screen", "screening", "province_vote"), ("province_select", "province_vote", "province_selected"),
        ("send_to_ministry", "province_selected", "appraisal"), ("fund", "appraisal", "funded")]
    assert log[3][3] == {"level": "province", "decision": "ballot", "members": 5, "present": 4, "yes": 3,
                         "quorum": 3, "threshold": 3}
    assert log[5][3] == {"level": "ministry", "decision": "appraisal", "amount": 450_000_000, "currency": "VND",
                         "requested": 500_000_000}
    with pytest.raises(TransitionRefused):
        programmes.perform(n, "withdraw", applicant)  # final


def test_a_ballot_below_the_threshold_declines_and_bad_tallies_are_refused(make):
    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    n = programmes.create_dossier(applicant, _round(make, today() - timedelta(days=3)).id, "HNI", VALUES)
    programmes.perform(n, "submit", applicant)
    programmes.perform(n, "accept", officer)
    programmes.perform(n, "screen", officer)
    for tally, field in (({"members": 5, "present": 6, "yes": 1}, "present"), ({"members": "năm"}, "members"),
                         ({"members": 5, "present": 5, "yes": 6}, "yes")):
        with pytest.raises(ValidationFailed) as refused:
            programmes.decide(n, "province", tally, officer)
        assert set(refused.value.fields) == {field}
    with pytest.raises(NotFound):
        programmes.decide(n, "district", {}, officer)
    assert programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 2}, officer) == "province_declined"
    assert programmes.state_label(n) == "Không được tỉnh chọn"


def test_bad_dossier_fields_are_refused_in_vietnamese(make):
    applicant = make.user("applicant")
    round_ = _round(make, today())
    with pytest.raises(ValidationFailed) as refused:
        programmes.create_dossier(applicant, round_.id, "HNI", {**VALUES, "households": "nhiều", "craft_group": "x",
                                                                "village_name": " ", "colour": "đỏ"})
    assert refused.value.fields == {
        "households": "Cần nhập một số nguyên.", "craft_group": "Giá trị không có trong danh sách lựa chọn.",
        "village_name": "Cần điền thông tin này.", "colour": "Trường này không có trong mẫu hồ sơ của chương trình."}
    with pytest.raises(ValidationFailed) as refused:
        programmes.create_dossier(applicant, round_.id, "ZZZ", VALUES)
    assert set(refused.value.fields) == {"province_code"}
    with pytest.raises(NotFound):
        programmes.create_dossier(applicant, 10**6, "HNI", VALUES)
    with pytest.raises(Forbidden):
        programmes.create_dossier(make.user("ministry_officer"), round_.id, "HNI", VALUES)
    with pytest.raises(ValidationFailed):  # the artisan titles' rounds take their declaration form
        programmes.create_dossier(applicant, make.round().id, "HNI", VALUES)


def test_a_dossier_stays_on_the_version_it_was_filed_under(make):
    """2025 sends an accepted dossier straight to the council; 2026 (from 1 July 2026) screens it first."""
    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    assert today() >= date(2026, 7, 1)  # the newer version is in effect today
    old_round, new_round = _round(make, date(2026, 6, 1)), _round(make, date(2026, 7, 1))
    assert (old_round.programme_version, new_round.programme_version) == ("2025", "2026")
    old = programmes.create_dossier(applicant, old_round.id, "HNI", VALUES)
    new = programmes.create_dossier(applicant, new_round.id, "HNI", VALUES)
    for n in (old, new):
        programmes.perform(n, "submit", applicant)
    assert programmes.perform(old, "accept", officer) == "province_vote"
    assert programmes.perform(new, "accept", officer) == "screening"
    with pytest.raises(NotFound):
        programmes.perform(old, "screen", officer)  # no such action in 2025
    db.session.refresh(old)
    assert (old.programme_id, old.programme_version) == ("village-crafts", "2025")
    assert programmes.programme_of(old) is registry().get("village-crafts", "2025")


def test_artisan_dossiers_record_the_artisan_definition_and_keep_their_operations(make):
    n = make.nomination()
    assert (n.programme_id, n.programme_version) == (pg.ARTISAN_ID, "2024")
    assert (n.round.programme_id, n.round.programme_version) == (pg.ARTISAN_ID, "2024")
    assert programmes.programme_of(n).State is type(n.state_enum)
    with pytest.raises(NotFound):
        programmes.perform(n, "submit", n.owner)


def test_the_setting_adds_definitions_at_start(tmp_path):
    from artisan_awards import create_app

    raw = yaml.safe_load((TEST_PROGRAMMES / "village-crafts" / "2025.yaml").read_text("utf-8"))
    raw["id"] = "pottery-fairs"
    (tmp_path / "pottery-fairs").mkdir()
    (tmp_path / "pottery-fairs" / "2025.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    config = {"TESTING": True, "SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://",
              "PROGRAMME_DIRS": [str(tmp_path)]}
    create_app(config)
    assert registry().get("pottery-fairs", "2025").definition.title == raw["title"]
    raw["states"][0]["final"] = True
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pottery-fairs").mkdir()
    (tmp_path / "bad" / "pottery-fairs" / "2026.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(pg.ProgrammeError, match="state 'draft' is final but a transition leaves it"):
        create_app({**config, "PROGRAMME_DIRS": [str(tmp_path / "bad")]})


@pytest.mark.realdb
def test_the_migration_gives_existing_rows_the_artisan_definition_and_its_downgrade_restores_the_checks(app, make):
    from flask_migrate import downgrade, upgrade

    nid = make.nomination().id
    db.session.remove()
    downgrade(revision="0024")
    with db.engine.begin() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("nominations")}
        assert not {"programme_id", "programme_version", "programme_data"} & columns
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:  # the artisan states only, again
        conn.execute(sa.text("UPDATE nominations SET state = 'screening' WHERE id = :i"), {"i": nid})
    upgrade()
    with db.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT programme_id, programme_version FROM nominations WHERE id = :i"),
                            {"i": nid}).one() == (pg.ARTISAN_ID, "2024")
        assert conn.execute(sa.text("SELECT DISTINCT programme_id FROM rounds")).scalars().all() == [pg.ARTISAN_ID]
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # an artisan dossier keeps its states
            conn.execute(sa.text("UPDATE nominations SET state = 'screening' WHERE id = :i"), {"i": nid})
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
            conn.execute(sa.text("UPDATE nominations SET title = 'village' WHERE id = :i"), {"i": nid})
    applicant, officer = make.user("applicant"), make.user("province_officer", "HNI")
    n = programmes.create_dossier(applicant, _round(make, today()).id, "HNI", VALUES)
    programmes.perform(n, "submit", applicant)
    assert programmes.perform(n, "accept", officer) == "screening"
    with pytest.raises(SystemExit):  # flask_migrate logs the migration's refusal and exits
        downgrade(revision="0024")
    db.session.expire_all()
    assert db.session.get(Nomination, n.id).state == "screening"  # nothing was changed


def _artisan_part(page: str) -> str:
    """A page without its section of the other programmes' dossiers (templates/programmes/_awaiting.html)."""
    return re.sub(r'<section[^>]*data-testid="programme-inbox".*?</section>', "", page, flags=re.S)


def test_the_artisan_pages_and_api_leave_another_programmes_dossiers_alone(make, auth, client, api):
    """The artisan titles' lists, dossier pages and API do not serve them (they have their own,
    tests/test_programme_web.py): absent from the artisan lists, 404 by id, never an error.  The inboxes list
    them in a section of their own, to whoever they wait for."""
    applicant = auth.login_as("applicant")
    officer, ministry = make.user("province_officer", "HNI"), make.user("ministry_officer")
    n = programmes.create_dossier(applicant, _round(make, today()).id, "HNI", VALUES)
    for step in ("submit", "accept", "screen"):
        programmes.perform(n, step, applicant if step == "submit" else officer)
    programmes.decide(n, "province", {"members": 5, "present": 5, "yes": 5}, officer)
    programmes.perform(n, "send_to_ministry", officer)  # stage 3: where the ministry's lists begin
    pages = {applicant: ["/my/"], officer: ["/province/inbox", "/province/batch"],
             ministry: ["/ministry/nominations", "/ministry/dashboard"]}
    for user, paths in pages.items():
        auth.logout()
        auth.login(user.email)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Bát Tràng" not in _artisan_part(response.get_data(as_text=True)), path
            # the inbox's own section: the ministry's appraisal waits for the ministry, nothing for the others
            waiting = response.get_data(as_text=True) != _artisan_part(response.get_data(as_text=True)) \
                and "Bát Tràng" in response.get_data(as_text=True)
            assert waiting == (user is ministry and path == "/ministry/nominations"), path
        assert client.get(f"/nominations/{n.id}").status_code == 404
        for path in (f"/api/v1/nominations/{n.id}", f"/api/v1/nominations/{n.id}/history"):
            assert api.get(path, user).status_code == 404
        listed = api.get("/api/v1/nominations", user)
        assert listed.status_code in (200, 403) and "Bát Tràng" not in listed.get_data(as_text=True)
    assert api.post(f"/api/v1/nominations/{n.id}/actions/fund", ministry, json={}).status_code == 404


def test_a_round_opening_before_a_programmes_first_version_runs_the_first(make):
    old = make.round(intake_opens=date(2023, 1, 2), intake_closes=date(2023, 3, 1), governing_decree="123/2014")
    assert (old.programme_id, old.programme_version) == (pg.ARTISAN_ID, "2024")
    early = make.round(programme_id="village-crafts", intake_opens=date(2024, 12, 1),
                       intake_closes=date(2024, 12, 31))
    assert early.programme_version == "2025"
