"""Councils, quorum, thresholds, secret ballots and the chain to the President's decision (API)."""

import re

import pytest
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination
from artisan_awards.timeutil import today
from tests.factories import Factory
from workflows.states import State


def SESSION_DAY() -> str:  # noqa: N802 - a session a few days ahead (a past date is refused)
    from datetime import timedelta

    from artisan_awards.timeutil import today

    return (today() + timedelta(days=12)).isoformat()


class Chain:
    """Drive nominations and councils through the API, as the people involved would."""

    def __init__(self, api, make):
        self.api, self.make = api, make
        self.officer = make.user("province_officer", "HNI")
        self.ministry = make.user("ministry_officer")
        self.government = make.user("government_officer")
        self.round = make.current_round()

    def council(self, level="province", size=11, **extra):
        members = [self.make.user({"province": "province_council_member", "ministry":
                                   "ministry_council_member", "state": "state_council_member"}[level],
                                  "HNI" if level == "province" else None) for _ in range(size)]
        body = {"level": level, "round_id": self.round.id, "name": f"Hội đồng {level} thử nghiệm",
                "decision_no": "12/QĐ-UBND",
                "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                            for i, u in enumerate(members)], **extra}
        if level == "province":
            body["province_code"] = "HNI"
        secretariat = self.officer if level == "province" else self.ministry
        r = self.api.post("/api/v1/councils", secretariat, json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json(), members, secretariat

    def session(self, council, secretariat, nomination_ids):
        r = self.api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                          json={"held_on": SESSION_DAY(), "nomination_ids": nomination_ids})
        assert r.status_code == 201, r.get_json()
        return r.get_json()["id"]

    def vote(self, level, nominations, yes_votes, present=None, size=11):
        """Run a whole session: attendance, open, ballots (first ``yes_votes`` vote yes), close."""
        council, members, secretariat = self.council(level, size)
        sid = self.session(council, secretariat, [n.id for n in nominations])
        present = members if present is None else members[:present]
        r = self.api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
                          json={"present": [m.email for m in present]})
        assert r.status_code == 200, r.get_json()
        r = self.api.post(f"/api/v1/sessions/{sid}/open", secretariat)
        assert r.status_code == 200, r.get_json()
        for i, member in enumerate(present):
            choice = "yes" if i < yes_votes else "no"
            r = self.api.post(f"/api/v1/sessions/{sid}/ballot", member,
                              json={"votes": {str(n.id): choice for n in nominations}})
            assert r.status_code == 201, r.get_json()
        r = self.api.post(f"/api/v1/sessions/{sid}/close", secretariat)
        assert r.status_code == 200, r.get_json()
        return sid, r.get_json()

    def act(self, nomination, action, user, **body):
        r = self.api.post(f"/api/v1/nominations/{nomination.id}/actions/{action}", user, json=body)
        assert r.status_code == 200, (action, r.get_json())
        db.session.refresh(nomination)
        return r.get_json()

    def accepted(self, **kw):
        return self.make.nomination(State.ACCEPTED, officer=self.officer, **kw)


@pytest.fixture
def chain(api, make, app):
    app.config["TODAY"] = None
    return Chain(api, make)


def test_create_council_and_read_it(chain, api):
    council, members, _ = chain.council("province", size=11)
    assert council["members_total"] == 11 and council["quorum"] == 9 and council["pass_threshold"] == 10
    r = api.get(f"/api/v1/councils/{council['id']}", chain.officer)
    assert r.status_code == 200 and len(r.get_json()["members"]) == 11
    other = chain.make.user("province_officer", "HPG")
    assert api.get(f"/api/v1/councils/{council['id']}", other).status_code == 404


def test_council_needs_existing_members_and_one_chair(chain, api):
    body = {"level": "province", "province_code": "HNI", "round_id": chain.round.id, "name": "HĐ",
            "decision_no": "1/QĐ", "members": [{"email": "khong-co@vn.vn", "position": "chair"}]}
    r = api.post("/api/v1/councils", chain.officer, json=body)
    assert r.status_code == 422 and "khong-co@vn.vn" in r.get_json()["error"]["fields"]["members"]
    other = chain.make.user("province_officer", "HPG")
    assert api.post("/api/v1/councils", other, json=body).status_code in (403, 422)
    body["province_code"] = "HPG"
    assert api.post("/api/v1/councils", chain.officer, json=body).status_code == 403


def test_agenda_takes_only_nominations_waiting_at_that_level(chain, api):
    council, _, secretariat = chain.council("province")
    waiting = chain.accepted()
    submitted = chain.make.nomination(State.SUBMITTED)
    other_province = chain.make.nomination(State.ACCEPTED, province="HPG")
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": SESSION_DAY(), "nomination_ids": [waiting.id, submitted.id, other_province.id]})
    assert r.status_code == 422
    assert str(submitted.id) in r.get_json()["error"]["fields"]["nomination_ids"]
    assert chain.session(council, secretariat, [waiting.id])


@pytest.mark.parametrize("size,present,yes,opens,passes", [
    (11, 8, 8, False, None),   # below the quorum of 9: cannot open
    (11, 9, 9, True, False),   # quorum met, but 9 yes < 10
    (11, 10, 10, True, True),  # 10 present, 10 yes: passes
    (11, 11, 9, True, False),  # 11 present, 9 yes: fails
    (9, 8, 8, True, False),    # 9 members: pass needs ceil(8.1) = 9
    (9, 9, 9, True, True),
    (12, 11, 11, True, True),  # 12 members: quorum 9, pass 11
])
def test_quorum_and_threshold_on_total_membership(chain, api, size, present, yes, opens, passes):
    nomination = chain.accepted()
    council, members, secretariat = chain.council("province", size=size)
    sid = chain.session(council, secretariat, [nomination.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
             json={"present": [m.email for m in members[:present]]})
    r = api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    if not opens:
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "quorum_not_met"
        db.session.refresh(nomination)
        assert nomination.state == State.ACCEPTED
        return
    assert r.status_code == 200
    for i, member in enumerate(members[:present]):
        api.post(f"/api/v1/sessions/{sid}/ballot", member,
                 json={"votes": {str(nomination.id): "yes" if i < yes else "no"}})
    tally = api.post(f"/api/v1/sessions/{sid}/close", secretariat).get_json()
    row = tally[0]
    assert (row["yes"], row["no"], row["members_total"], row["present"]) == (yes, present - yes, size, present)
    assert row["passed"] is passes and row["quorum_met"] is True
    db.session.refresh(nomination)
    assert nomination.state == (State.PROVINCE_PASSED if passes else State.PROVINCE_REJECTED)


def test_chair_or_authorised_vice_chair_must_attend(chain, api):
    nomination = chain.accepted()
    council, members, secretariat = chain.council("province", size=4)
    sid = chain.session(council, secretariat, [nomination.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat,
             json={"present": [m.email for m in members[1:]]})  # 3 of 4 = quorum, but no chair
    r = api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    assert r.status_code == 409 and "Chủ tịch" in r.get_json()["error"]["message"]


def test_ballot_rules(chain, api):
    a, b = chain.accepted(), chain.accepted(nominee={"full_name": "Lê Thị Bình"})
    council, members, secretariat = chain.council("province", size=4)
    sid = chain.session(council, secretariat, [a.id, b.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members[:3]]})
    early = api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(a.id): "yes"}})
    assert early.status_code == 409  # not open yet
    api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    assert api.get(f"/api/v1/sessions/{sid}/tally", secretariat).status_code == 409  # secret until closed
    absent = api.post(f"/api/v1/sessions/{sid}/ballot", members[3], json={"votes": {str(a.id): "yes"}})
    assert absent.status_code == 403
    outsider = api.post(f"/api/v1/sessions/{sid}/ballot", chain.officer, json={"votes": {}})
    assert outsider.status_code == 403
    bad = api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(a.id): "maybe"}})
    assert bad.status_code == 422
    stranger = api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {"999999": "yes"}})
    assert stranger.status_code == 422
    ok = api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(a.id): "yes", str(b.id): ""}})
    assert ok.status_code == 201
    again = api.post(f"/api/v1/sessions/{sid}/ballot", members[0], json={"votes": {str(a.id): "no"}})
    assert again.status_code == 409
    api.post(f"/api/v1/sessions/{sid}/ballot", members[1], json={"votes": {str(a.id): "no"}})
    # members[2] is present and has not voted: the close waits, or records why in the minutes.
    refused = api.post(f"/api/v1/sessions/{sid}/close", secretariat)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "ballots_missing"
    assert "1" in refused.get_json()["error"]["message"]
    voted = api.post(f"/api/v1/sessions/{sid}/close", secretariat,
                     json={"non_voters": [{"email": members[0].email, "reason": "Đã bỏ phiếu"}]})
    assert voted.status_code == 409  # a reason for a member who voted explains no one missing
    absent = api.post(f"/api/v1/sessions/{sid}/close", secretariat,
                      json={"non_voters": [{"email": members[3].email, "reason": "Vắng"}]})
    assert absent.status_code == 422 and "non_voters" in absent.get_json()["error"]["fields"]
    closed = api.post(f"/api/v1/sessions/{sid}/close", secretariat,
                      json={"non_voters": [{"email": members[2].email, "reason": "Rời phiên họp vì lý do sức khỏe"}]})
    assert closed.status_code == 200, closed.get_json()
    rows = {r["nomination_id"]: r for r in closed.get_json()}
    assert (rows[a.id]["yes"], rows[a.id]["no"], rows[a.id]["invalid"]) == (1, 1, 0)
    assert (rows[b.id]["yes"], rows[b.id]["no"], rows[b.id]["invalid"]) == (0, 0, 2)  # blank and missing
    late = api.post(f"/api/v1/sessions/{sid}/ballot", members[2], json={"votes": {str(a.id): "yes"}})
    assert late.status_code == 409


def test_conflict_of_interest_is_recorded_and_its_vote_set_aside(chain, api):
    nomination = chain.accepted()
    council, members, secretariat = chain.council("province", size=4)
    sid = chain.session(council, secretariat, [nomination.id])
    api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
    api.post(f"/api/v1/sessions/{sid}/open", secretariat)
    r = api.post(f"/api/v1/sessions/{sid}/conflicts", members[1],
                 json={"nomination_id": nomination.id, "reason": "Là học trò của nghệ nhân."})
    assert r.status_code == 201
    for m in members:
        api.post(f"/api/v1/sessions/{sid}/ballot", m, json={"votes": {str(nomination.id): "yes"}})
    row = api.post(f"/api/v1/sessions/{sid}/close", secretariat).get_json()[0]
    assert (row["yes"], row["excluded"]) == (3, 1)
    assert row["passed"] is False  # 3 < ceil(0.9 x 4) = 4


def _comparable(body: str) -> str:
    """An answer with what differs run to run for other reasons blanked out: times, tokens."""
    body = re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"', "csrf", body)
    body = re.sub(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:[+-]\d{2}:?\d{2}|Z)?", "time", body)
    body = re.sub(r"\b\d{1,2} giờ \d{1,2}(?: phút)?", "time", body)  # the minutes' "hồi 8 giờ 31"
    return re.sub(r"\b\d{1,2}:\d{2}(?::\d{2})?\b", "time", body)


def _session_answers(app, api, sid: int, nomination_ids: list[int], people) -> dict:
    """What every page and API answer about the session and its dossiers says to each member and to
    the secretariat, PDFs read back as text: the routes must not tell a member's choice either."""
    from tests.test_documents import text_of

    answers = {}
    for person in people:
        pages = app.test_client()
        pages.post("/login", data={"email": person.email, "password": Factory.PASSWORD})
        urls = [f"/council/sessions/{sid}", f"/council/sessions/{sid}/ballot", "/council/agenda",
                *(f"/nominations/{i}" for i in nomination_ids)]
        for url in urls:
            r = pages.get(url)
            answers[person.email, url] = (r.status_code, _comparable(r.get_data(as_text=True)))
        api_urls = [f"/api/v1/sessions/{sid}", f"/api/v1/sessions/{sid}/tally",
                    *(f"/api/v1/nominations/{i}" for i in nomination_ids),
                    *(f"/api/v1/sessions/{sid}/{kind}.pdf" for kind in ("minutes", "tally"))]
        for url in api_urls:
            r = api.get(url, person)
            body = text_of(r.data) if r.mimetype == "application/pdf" else r.get_data(as_text=True)
            answers[person.email, url] = (r.status_code, _comparable(body))
    return answers


def _without_clock(value):
    """A stored document's clock times (a notice's "received_time", HH:MM) differ between two runs
    that straddle a minute: they are the time of the run, not of any vote."""
    if isinstance(value, dict):
        return {k: ("<time>" if k.endswith("_time") else _without_clock(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def _session_dump(app_config, choices):
    """Run one session with these choices (member i votes choices[i]); dump every table after it."""
    import itertools
    from datetime import date, datetime

    from artisan_awards import create_app
    from tests import factories
    from tests.conftest import ApiClient
    from tests.factories import Factory

    factories._seq = itertools.count(1)  # the same names and e-mails in both runs
    app = create_app(app_config)
    with app.app_context():
        api, make = ApiClient(app.test_client()), Factory()
        chain = Chain(api, make)
        nominations = [chain.accepted(nominee={"full_name": f"Nghệ nhân {i}"}) for i in range(2)]
        council, members, secretariat = chain.council("province", size=len(choices))
        sid = chain.session(council, secretariat, [n.id for n in nominations])
        api.post(f"/api/v1/sessions/{sid}/attendance", secretariat, json={"present": [m.email for m in members]})
        api.post(f"/api/v1/sessions/{sid}/open", secretariat)
        for member, choice in zip(members, choices, strict=True):
            r = api.post(f"/api/v1/sessions/{sid}/ballot", member,
                         json={"votes": {str(n.id): choice for n in nominations}})
            assert r.status_code == 201
        tally = api.post(f"/api/v1/sessions/{sid}/close", secretariat).get_json()
        dump = {"answers": _session_answers(app, api, sid, [n.id for n in nominations], [*members, secretariat])}
        # Random salts and tokens, and hashes over timestamps (the audit chain), differ run to run.
        random_columns = {"password_hash", "access_key_hash", "token_hash", "key_hash", "hash", "prev_hash"}
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).mappings()
            dump[table.name] = [
                {k: _without_clock(v) for k, v in row.items()
                 if k not in random_columns and not isinstance(v, (datetime,))
                 and not (isinstance(v, date) and k in ("created_at",))}
                for row in rows
            ]
        db.session.remove()
        db.engine.dispose()
    return tally, dump


def test_no_table_links_a_member_to_a_choice(database_factory, app_config, tmp_path):
    """The whole database after a session, and every page and API answer about it, are the same
    whichever member voted which way.

    Two sessions run identically except that the members' choices are permuted (same totals).
    If any row, id, ordering or answer tied a member to a choice, the two would differ.  This is
    the end state only: tests/test_ballot_secrecy.py copies the database after every ballot
    (with rowids, system columns and dead row versions) and plays the same attack.
    """
    first = ["yes", "no", "yes", "yes", "no"]
    second = ["no", "yes", "yes", "no", "yes"]
    tally_a, dump_a = _session_dump(app_config, first)
    (tmp_path / "b").mkdir()
    url_b, drop_b = database_factory.new(tmp_path / "b")
    try:
        tally_b, dump_b = _session_dump({**app_config, "SQLALCHEMY_DATABASE_URI": url_b}, second)
    finally:
        drop_b()
    assert tally_a == tally_b and tally_a[0]["yes"] == 3
    assert dump_a["ballot_participation"] and dump_a["agenda_items"]
    assert dump_a["sealed_ballots"] == dump_b["sealed_ballots"] == []  # opened, counted, destroyed
    answers_a, answers_b = dump_a.pop("answers"), dump_b.pop("answers")
    assert any(status == 200 for status, _body in answers_a.values())
    for key, answer in answers_a.items():
        assert answer == answers_b[key], f"{key[1]} tells {key[0]} something that depends on the votes"
    for table in dump_a:
        assert dump_a[table] == dump_b[table], f"table {table} reveals how members voted"


def test_one_nomination_from_draft_to_awarded(chain, api, app):
    applicant = chain.make.user("applicant")
    r = api.post("/api/v1/nominations", applicant, json=chain.make.nomination_data(round_id=chain.round.id))
    nomination = db.session.get(Nomination, r.get_json()["id"])
    chain.act(nomination, "submit", applicant)
    chain.act(nomination, "accept", chain.officer, comment="Hợp lệ")
    chain.vote("province", [nomination], yes_votes=11)
    assert nomination.state == State.PROVINCE_PASSED
    chain.act(nomination, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [nomination], yes_votes=10)
    assert nomination.state == State.MINISTRY_PASSED
    # Rehearsal round: the consultation runs 0 days, so it may be closed at once.
    chain.round.consultation_days = 0
    db.session.commit()
    out = chain.act(nomination, "open_consultation", chain.ministry)
    assert out["consultation_ends"] and nomination.state == State.PUBLIC_CONSULTATION
    listed = api.get("/api/v1/public/consultations").get_json()
    assert [n["nomination_id"] for n in listed] == [nomination.id]
    chain.act(nomination, "forward_to_state", chain.ministry)
    chain.vote("state", [nomination], yes_votes=11)
    assert nomination.state == State.STATE_PASSED
    chain.act(nomination, "open_consultation", chain.ministry)
    assert nomination.state == State.FINAL_CONSULTATION
    chain.act(nomination, "submit_to_pm", chain.ministry)
    chain.act(nomination, "submit_to_president", chain.government)
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/record_award", chain.government, json={})
    assert r.status_code == 422 and {"decision_no", "decision_date"} <= set(r.get_json()["error"]["fields"])
    out = chain.act(nomination, "record_award", chain.government, decision_no="1234/QĐ-CTN",
                    decision_date=today().isoformat())
    assert nomination.state == State.AWARDED and out["decision_no"] == "1234/QĐ-CTN"
    assert out["award"]["bonus_vnd"] == 21_060_000  # Nghệ nhân ưu tú: 9.0 x 2 340 000 (tests/test_award.py)
    assert [h["to"] for h in out["history"]] == [
        "submitted", "accepted", "province_review", "province_passed", "ministry_review", "ministry_passed",
        "public_consultation", "state_review", "state_passed", "final_consultation", "submitted_to_pm",
        "submitted_to_president", "awarded"]


def test_another_nomination_rejected_at_the_ministry(chain, api):
    nomination = chain.accepted()
    chain.vote("province", [nomination], yes_votes=10)
    chain.act(nomination, "forward_to_ministry", chain.officer)
    sid, tally = chain.vote("ministry", [nomination], yes_votes=6)
    assert tally[0]["passed"] is False and nomination.state == State.MINISTRY_REJECTED
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/open_consultation", chain.ministry, json={})
    assert r.status_code == 409
    history = api.get(f"/api/v1/nominations/{nomination.id}", chain.ministry).get_json()["history"]
    assert history[-1]["to"] == "ministry_rejected" and history[-1]["action"] == "ministry_reject"


def test_consultation_comments_and_holds(chain, api):
    nomination = chain.accepted()
    chain.vote("province", [nomination], yes_votes=10)
    chain.act(nomination, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [nomination], yes_votes=10)
    chain.act(nomination, "open_consultation", chain.ministry)
    url = f"/api/v1/public/consultations/{nomination.id}/comments"
    anon = api.post(url, json={"content": "Nghe nói sản phẩm không tự làm."})
    assert anon.status_code == 201 and anon.get_json()["informational"] is True
    db.session.refresh(nomination)
    assert nomination.state == State.PUBLIC_CONSULTATION  # anonymous: informational only
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/forward_to_state", chain.ministry, json={})
    assert r.status_code == 409  # the 20-day window is still running
    signed = api.post(url, json={"full_name": "Phạm Văn Cường", "phone": "0987654321",
                                 "address": "Thôn Đông, xã Bát Tràng", "kind": "complaint",
                                 "content": "Sản phẩm đạt giải năm 2021 là của người khác."})
    assert signed.status_code == 201 and signed.get_json()["informational"] is False
    db.session.refresh(nomination)
    assert nomination.state == State.ON_HOLD and nomination.held_from == State.PUBLIC_CONSULTATION
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/release", chain.ministry, json={})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "complaints_open"
    r = api.post(f"/api/v1/comments/{signed.get_json()['id']}/status", chain.ministry,
                 json={"status": "unsubstantiated", "resolution": "Đã xác minh: sản phẩm do nghệ nhân làm."})
    assert r.status_code == 200
    chain.act(nomination, "release", chain.ministry)
    assert nomination.state == State.PUBLIC_CONSULTATION
    # A substantiated comment holds it again.
    r = api.post(url, json={"full_name": "Ngô Thị Hằng", "phone": "0911222333", "address": "Hà Nội",
                            "content": "Số học trò kê khai chưa đúng."})
    r = api.post(f"/api/v1/comments/{r.get_json()['id']}/status", chain.ministry,
                 json={"status": "substantiated", "resolution": "Cần xác minh thêm."})
    assert r.get_json()["nomination_state"] == "on_hold"
    # Nothing on hold goes on an agenda.
    council, _, secretariat = chain.council("state")
    r = api.post(f"/api/v1/councils/{council['id']}/sessions", secretariat,
                 json={"held_on": SESSION_DAY(), "nomination_ids": [nomination.id]})
    assert r.status_code == 422


def test_withdrawal_before_the_decision(chain, api):
    applicant = chain.make.user("applicant")
    nomination = chain.make.nomination(State.ACCEPTED, owner=applicant, officer=chain.officer)
    chain.vote("province", [nomination], yes_votes=10)
    chain.act(nomination, "withdraw", applicant, comment="Xin rút hồ sơ.")
    assert nomination.state == State.WITHDRAWN


def test_a_close_inside_its_callers_transaction_decides_and_leaves_the_vacuum_to_the_caller(chain, api, db_kind,
                                                                                           caplog):
    """Run rolled back, this test's session is joined into an outer transaction (as a batch or a
    script may do): the close commits its decision into it and, on PostgreSQL, leaves VACUUM to the
    caller (its deletion is not committed yet) instead of failing after the commit (AttributeError:
    the bound Connection has no ``connect``). The boxes are gone from what the caller sees."""
    from artisan_awards.models import SealedBallot

    nomination = chain.accepted()
    with caplog.at_level("INFO"):
        sid, tally = chain.vote("province", [nomination], yes_votes=11)
    assert tally[0]["yes"] == 11 and tally[0]["passed"] is True
    db.session.refresh(nomination)
    assert nomination.state == State.PROVINCE_PASSED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SealedBallot)
                             .where(SealedBallot.session_id == sid)) == 0
    left = "VACUUM sealed_ballots left to the caller's transaction" in caplog.text
    assert left == (db_kind == "postgresql" and isinstance(db.session.get_bind(), sa.engine.Connection))
