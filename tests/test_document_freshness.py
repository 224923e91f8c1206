"""The cheap cache look-up of documents (documents/freshness.py): never a stale PDF, no data built on a hit.

Each test downloads a document, changes ONE stored input that the PDF prints, and expects the next
download to be made afresh and to show the change; then the download after that is a hit again.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from artisan_awards.documents import data
from artisan_awards.extensions import db
from artisan_awards.models import Attachment, CouncilMember, Nomination, Province, Round, User
from tests.apps import module_world
from tests.factories import Factory
from tests.test_councils import Chain
from tests.test_documents import WorldApi, _png, _upload, assert_pdf, squeeze, text_of, world_chain, world_chain_ids
from workflows.states import State

# -- the world: built once for the module, each test changes a copy of its own ----------------------


def _build_world() -> SimpleNamespace:
    """The chain's people and round, a submitted dossier, a closed session (3 dossiers, all present)
    and a closed session with two members absent: what the tests below change one input of.

    Built once (real commits, through the API as before) into a database of its own; each test gets
    a fresh copy of that database (``app_config``), so a change one test makes is never seen by another.
    """
    from flask import current_app

    make = Factory()
    chain = Chain(WorldApi(current_app.test_client()), make)
    owner = make.user("applicant")
    n = make.nomination(State.SUBMITTED, owner=owner, nominee={"full_name": "Phùng Văn Khải"})
    closed = [chain.accepted(nominee={"full_name": f"Nghệ nhân Số {i}"}) for i in range(3)]
    closed_sid, _tally = chain.vote("province", closed, yes_votes=11)
    absent = [chain.accepted(nominee={"full_name": f"Nghệ nhân Vắng {i}"}) for i in range(2)]
    absent_sid, _tally = chain.vote("province", absent, yes_votes=9, present=9)
    return SimpleNamespace(
        chain=world_chain_ids(chain), owner=owner.id, dossier=n.id,
        closed=(closed_sid, [x.id for x in closed]), absent=(absent_sid, [x.id for x in absent]))


freshness_world, app_config = module_world(_build_world, "freshness-world", fixture="freshness_world",
                                           asked_by=None, TODAY=None)


@pytest.fixture
def chain(api, make, app, tmp_path, freshness_world):
    """The world's chain (its officers and round), with an empty document cache of this test's own."""
    app.config["TODAY"] = None
    app.config["DOCUMENTS_CACHE_DIR"] = str(tmp_path / "documents")
    return world_chain(api, make, freshness_world.value.chain)


def _get(api, url, user):
    response = api.get(url, user)
    assert_pdf(response)
    return response


def _changes_show(api, url, user, change, expected):
    first = _get(api, url, user)
    assert _get(api, url, user).headers["X-Document-Cache"] == "hit"
    change()
    db.session.commit()
    db.session.expire_all()
    after = _get(api, url, user)
    assert after.headers["X-Document-Cache"] == "miss", "a changed input was served from the cache"
    assert squeeze(expected) in text_of(after.data)
    assert after.data != first.data
    assert _get(api, url, user).headers["X-Document-Cache"] == "hit"


@pytest.fixture
def dossier(chain, freshness_world):
    """The world's submitted dossier and its owner."""
    world = freshness_world.value
    return db.session.get(User, world.owner), db.session.get(Nomination, world.dossier)


def test_a_product_renamed_shows_in_the_next_declaration(chain, api, dossier):
    owner, n = dossier

    def change():
        db.session.get(Nomination, n.id).products[0].name = "Lọ lục bình men ngọc"

    _changes_show(api, f"/api/v1/nominations/{n.id}/declaration.pdf", owner, change, "Lọ lục bình men ngọc")


def test_a_period_changed_shows_in_the_next_summary(chain, api, dossier):
    owner, n = dossier

    def change():
        db.session.get(Nomination, n.id).periods[0].workplace = "Hợp tác xã gốm Chu Đậu"

    _changes_show(api, f"/api/v1/nominations/{n.id}/declaration.pdf", owner, change, "Hợp tác xã gốm Chu Đậu")


def test_the_round_and_the_province_renamed_show_in_the_next_documents(chain, api, dossier):
    owner, n = dossier
    url = f"/api/v1/nominations/{n.id}/summary.pdf"

    def rename_province():
        db.session.get(Province, "HNI").name = "Hà Nội Mới"

    _changes_show(api, url, owner, rename_province, "Hà Nội Mới")

    def lengthen_the_reply():
        db.session.get(Round, n.round_id).reply_days = 37

    _changes_show(api, f"/api/v1/nominations/{n.id}/receipt.pdf", owner, lengthen_the_reply,
                  "Trong thời hạn 37 ngày")


def test_an_attachment_renamed_shows_in_the_next_dossier(chain, api, dossier):
    owner, n = dossier
    draft = chain.make.nomination(owner=owner, nominee={"full_name": "Lò Thị Xuân"})
    _upload(api, owner, draft, "photo", "anh.png", _png())
    attachment = db.session.scalars(db.select(Attachment).where(Attachment.nomination_id == draft.id)).one()

    def change():
        db.session.get(Attachment, attachment.id).original_name = "bang-khen-doi-ten.png"

    _changes_show(api, f"/api/v1/nominations/{draft.id}/dossier.pdf", owner, change, "bang-khen-doi-ten")


def _session_of(ids):
    sid, nominations = ids
    return sid, [db.session.get(Nomination, i) for i in nominations]


@pytest.fixture
def closed_session(chain, freshness_world):
    """The world's closed session of three dossiers, all eleven members present and voting yes."""
    return _session_of(freshness_world.value.closed)


def test_a_nominee_changed_shows_in_the_next_list(chain, api, closed_session):
    sid, nominations = closed_session

    def change():
        db.session.get(Nomination, nominations[1].id).craft = "Sơn mài Hạ Thái"

    _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, change, "Sơn mài Hạ Thái")


def test_a_nominee_award_added_shows_in_the_next_list(chain, api, closed_session):
    sid, nominations = closed_session

    def change():
        product = db.session.get(Nomination, nominations[0].id).products[0]
        product.award_rank, product.award_level = 3, "regional"

    _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, change, "Giải Ba cấp khu vực")


def test_a_council_member_renamed_shows_in_the_next_minutes(chain, api, closed_session):
    sid, _nominations = closed_session
    council_id = _session_row(sid).council_id  # this session's council (the world has two)
    member = db.session.scalars(db.select(CouncilMember).where(CouncilMember.council_id == council_id)).first()

    def change():
        db.session.get(User, member.user_id).full_name = "Trịnh Công Đổi Tên"

    _changes_show(api, f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer, change, "Trịnh Công Đổi Tên")


def test_a_hit_builds_no_data(chain, api, closed_session, dossier, monkeypatch):
    sid, _nominations = closed_session
    owner, n = dossier
    urls = [(f"/api/v1/sessions/{sid}/list.pdf", chain.officer), (f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer),
            (f"/api/v1/nominations/{n.id}/dossier.pdf", owner)]
    for url, user in urls:
        assert _get(api, url, user).headers["X-Document-Cache"] == "miss"

    def refuse(*args, **kwargs):
        raise AssertionError("the document's data was built for a cached download")

    monkeypatch.setattr(data, "session_data", refuse)
    monkeypatch.setattr(data, "nomination_data", refuse)
    for url, user in urls:
        assert _get(api, url, user).headers["X-Document-Cache"] == "hit"


def test_a_hit_still_checks_who_may_see_it(chain, api, dossier):
    owner, n = dossier
    url = f"/api/v1/nominations/{n.id}/declaration.pdf"
    assert _get(api, url, owner).headers["X-Document-Cache"] == "miss"
    stranger = chain.make.user("applicant")
    assert api.get(url, stranger).status_code == 404


# -- every other input a session's or a round's document prints ------------------------------------


@pytest.fixture
def closed_with_absent(chain, freshness_world):
    """The world's closed session where two of the eleven members were absent."""
    return _session_of(freshness_world.value.absent)


def _session_row(sid):
    from artisan_awards.models import CouncilSession

    return db.session.get(CouncilSession, sid)


def test_the_place_and_the_council_renamed_show_in_the_next_minutes(chain, api, closed_session):
    sid, _nominations = closed_session
    url = f"/api/v1/sessions/{sid}/minutes.pdf"

    def move():
        _session_row(sid).place = "Nhà văn hóa phường Tràng Tiền"

    _changes_show(api, url, chain.officer, move, "Nhà văn hóa phường Tràng Tiền")

    def rename():
        _session_row(sid).council.name = "Hội đồng xét tặng đổi tên"

    _changes_show(api, url, chain.officer, rename, "Hội đồng xét tặng đổi tên")


def test_an_absence_reason_shows_in_the_next_minutes(chain, api, closed_with_absent):
    from artisan_awards.models import Attendance, NonVoter

    sid, _nominations = closed_with_absent
    session = _session_row(sid)
    present = set(db.session.scalars(db.select(Attendance.member_id).where(Attendance.session_id == sid)))
    absent = next(m for m in session.council.members if m.id not in present)

    def excuse():
        db.session.add(NonVoter(session_id=sid, member_id=absent.id, reason="Đi công tác nước ngoài"))

    _changes_show(api, f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer, excuse, "Đi công tác nước ngoài")


def test_a_conflict_and_a_special_craft_decision_show_in_the_next_minutes(chain, api, closed_session):
    from artisan_awards.models import ConflictDeclaration, SpecialCraftDecision

    sid, nominations = closed_session
    url = f"/api/v1/sessions/{sid}/minutes.pdf"
    member = _session_row(sid).council.members[1]

    def declare():
        db.session.add(ConflictDeclaration(session_id=sid, member_id=member.id, nomination_id=nominations[0].id,
                                           reason="Là anh ruột của người được đề nghị"))

    _changes_show(api, url, chain.officer, declare, "Là anh ruột của người được đề nghị")

    def decide():
        db.session.add(SpecialCraftDecision(nomination_id=nominations[2].id, session_id=sid, is_special=True,
                                            reasons="Nghề chỉ còn ba hộ giữ được", decided_by_id=chain.officer.id))

    _changes_show(api, url, chain.officer, decide, "Nghề chỉ còn ba hộ giữ được")


def test_a_core_update_that_skips_the_version_shows_in_the_next_list(chain, api, closed_session):
    """The key follows the stored content, not the version counter: an UPDATE written past the ORM
    (as a bulk statement or a data repair would) is seen all the same."""
    import sqlalchemy as sa

    sid, nominations = closed_session
    table = Nomination.__table__

    def repair():
        db.session.execute(sa.update(table).where(table.c.id == nominations[2].id)
                           .values(craft="Đúc đồng Ý Yên"))

    before = db.session.scalar(sa.select(table.c.version).where(table.c.id == nominations[2].id))
    _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, repair, "Đúc đồng Ý Yên")
    assert db.session.scalar(sa.select(table.c.version).where(table.c.id == nominations[2].id)) == before


def test_a_nominee_renamed_shows_in_the_next_consultation_list(chain, api, client):
    a = chain.accepted(nominee={"full_name": "Vũ Thị Hằng"}, craft="Sơn mài Hạ Thái")
    chain.vote("province", [a], yes_votes=10)
    chain.act(a, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [a], yes_votes=10)
    chain.act(a, "open_consultation", chain.ministry)
    url = f"/api/v1/public/consultations.pdf?round_id={chain.round.id}"

    class Public:
        @staticmethod
        def get(path, _user):
            return client.get(path)

    def rename():
        db.session.get(Nomination, a.id).full_name = "Vũ Thị Hằng Nga"

    _changes_show(Public, url, None, rename, "Vũ Thị Hằng Nga")


# -- the control: a key that leaves one input out is caught ------------------------------------------


def _without(monkeypatch, name, value):
    """Break the key: ``freshness.<name>`` replaced, its compiled statements forgotten."""
    from artisan_awards.documents import freshness

    monkeypatch.setattr(freshness, name, value)
    freshness._statement.cache_clear()  # forget_statements clears it again after the test


@pytest.fixture
def forget_statements():
    from artisan_awards.documents import freshness

    yield
    freshness._statement.cache_clear()


def test_a_key_ignoring_the_awards_is_caught(chain, api, closed_session, monkeypatch, forget_statements):
    from artisan_awards.documents import freshness

    sid, nominations = closed_session
    _without(monkeypatch, "AGENDA_PRODUCT_COLUMNS",
             tuple(c for c in freshness.AGENDA_PRODUCT_COLUMNS if not c.startswith("award")))

    def change():
        product = db.session.get(Nomination, nominations[0].id).products[0]
        product.award_rank, product.award_level = 3, "regional"

    with pytest.raises(AssertionError, match="served from the cache"):
        _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, change, "Giải Ba cấp khu vực")


def test_a_key_ignoring_the_special_craft_decisions_is_caught(chain, api, closed_session, monkeypatch,
                                                              forget_statements):
    from artisan_awards.documents import freshness
    from artisan_awards.models import SpecialCraftDecision

    sid, nominations = closed_session
    whole = freshness.CONTENTS["session"]

    def without_decisions(dialect):
        table = SpecialCraftDecision.__table__
        return [c for c in whole(dialect) if table.name not in str(c)]

    _without(monkeypatch, "CONTENTS", {**freshness.CONTENTS, "session": without_decisions})

    def decide():
        db.session.add(SpecialCraftDecision(nomination_id=nominations[0].id, session_id=sid, is_special=False,
                                            reasons="Nghề phổ biến ở nhiều địa phương", decided_by_id=chain.officer.id))

    with pytest.raises(AssertionError, match="served from the cache"):
        _changes_show(api, f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer, decide,
                      "Nghề phổ biến ở nhiều địa phương")


def test_a_light_visibility_check_keeps_the_404s(chain, api, closed_session, dossier):
    """The download checks visibility loading less than the pages do, with the same answers."""
    sid, _nominations = closed_session
    owner, n = dossier
    stranger = chain.make.user("applicant")
    assert api.get(f"/api/v1/nominations/{n.id}/dossier.pdf", stranger).status_code == 404
    assert api.get(f"/api/v1/sessions/{sid}/minutes.pdf", chain.make.user("province_officer", "HCM")
                   ).status_code == 404
    for url in (f"/api/v1/nominations/{2**40}/dossier.pdf", f"/api/v1/sessions/{2**40}/list.pdf",
                "/api/v1/nominations/0/summary.pdf", f"/api/v1/sessions/{sid + 1000}/minutes.pdf"):
        response = api.get(url, chain.officer)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] in ("nomination_not_found", "session_not_found", "not_found")


def test_a_render_sets_the_older_objects_aside_and_back(app, monkeypatch):
    """``engine.build_pdf`` freezes the garbage collector's view of the objects made before the render
    (documents/engine.py: why) and always gives them back, even when the render fails."""
    import gc

    from artisan_awards.documents import engine

    seen = []

    def render(spec, fetcher=None):
        seen.append(gc.get_freeze_count())
        if spec == "fail":
            raise RuntimeError("render failed")
        return b"%PDF-"

    monkeypatch.setattr(engine, "_build_pdf", render)
    assert engine.build_pdf("ok") == b"%PDF-"
    with pytest.raises(RuntimeError):
        engine.build_pdf("fail")
    assert seen[0] > 0 and seen[1] > 0, "the objects made before the render were not set aside"
    assert gc.get_freeze_count() == 0
