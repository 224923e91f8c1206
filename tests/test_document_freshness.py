"""The cheap cache look-up of documents (documents/freshness.py): never a stale PDF, no data built on a hit.

Each test downloads a document, changes ONE stored input that the PDF prints, and expects the next
download to be made afresh and to show the change; then the download after that is a hit again.
"""

from __future__ import annotations

import pytest

from artisan_awards.documents import data
from artisan_awards.extensions import db
from artisan_awards.models import Attachment, Council, CouncilMember, Nomination, Province, Round, User
from tests.test_documents import _png, _upload, assert_pdf, squeeze, text_of
from tests.test_documents import chain as chain  # noqa: F401  (the fixture, with its own cache folder)
from workflows.states import State


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
def dossier(chain):  # noqa: F811
    owner = chain.make.user("applicant")
    n = chain.make.nomination(State.SUBMITTED, owner=owner, nominee={"full_name": "Phùng Văn Khải"})
    return owner, n


def test_a_product_renamed_shows_in_the_next_declaration(chain, api, dossier):  # noqa: F811
    owner, n = dossier

    def change():
        db.session.get(Nomination, n.id).products[0].name = "Lọ lục bình men ngọc"

    _changes_show(api, f"/api/v1/nominations/{n.id}/declaration.pdf", owner, change, "Lọ lục bình men ngọc")


def test_a_period_changed_shows_in_the_next_summary(chain, api, dossier):  # noqa: F811
    owner, n = dossier

    def change():
        db.session.get(Nomination, n.id).periods[0].workplace = "Hợp tác xã gốm Chu Đậu"

    _changes_show(api, f"/api/v1/nominations/{n.id}/declaration.pdf", owner, change, "Hợp tác xã gốm Chu Đậu")


def test_the_round_and_the_province_renamed_show_in_the_next_documents(chain, api, dossier):  # noqa: F811
    owner, n = dossier
    url = f"/api/v1/nominations/{n.id}/summary.pdf"

    def rename_province():
        db.session.get(Province, "HNI").name = "Hà Nội Mới"

    _changes_show(api, url, owner, rename_province, "Hà Nội Mới")

    def lengthen_the_reply():
        db.session.get(Round, n.round_id).reply_days = 37

    _changes_show(api, f"/api/v1/nominations/{n.id}/receipt.pdf", owner, lengthen_the_reply,
                  "Trong thời hạn 37 ngày")


def test_an_attachment_renamed_shows_in_the_next_dossier(chain, api, dossier):  # noqa: F811
    owner, n = dossier
    draft = chain.make.nomination(owner=owner, nominee={"full_name": "Lò Thị Xuân"})
    _upload(api, owner, draft, "photo", "anh.png", _png())
    attachment = db.session.scalars(db.select(Attachment).where(Attachment.nomination_id == draft.id)).one()

    def change():
        db.session.get(Attachment, attachment.id).original_name = "bang-khen-doi-ten.png"

    _changes_show(api, f"/api/v1/nominations/{draft.id}/dossier.pdf", owner, change, "bang-khen-doi-ten")


@pytest.fixture
def closed_session(chain):  # noqa: F811
    nominations = [chain.accepted(nominee={"full_name": f"Nghệ nhân Số {i}"}) for i in range(3)]
    sid, _tally = chain.vote("province", nominations, yes_votes=11)
    return sid, nominations


def test_a_nominee_changed_shows_in_the_next_list(chain, api, closed_session):  # noqa: F811
    sid, nominations = closed_session

    def change():
        db.session.get(Nomination, nominations[1].id).craft = "Sơn mài Hạ Thái"

    _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, change, "Sơn mài Hạ Thái")


def test_a_nominee_award_added_shows_in_the_next_list(chain, api, closed_session):  # noqa: F811
    sid, nominations = closed_session

    def change():
        product = db.session.get(Nomination, nominations[0].id).products[0]
        product.award_rank, product.award_level = 3, "regional"

    _changes_show(api, f"/api/v1/sessions/{sid}/list.pdf", chain.officer, change, "Giải Ba cấp khu vực")


def test_a_council_member_renamed_shows_in_the_next_minutes(chain, api, closed_session):  # noqa: F811
    sid, _nominations = closed_session
    council_id = db.session.scalar(db.select(Council.id).order_by(Council.id.desc()))
    member = db.session.scalars(db.select(CouncilMember).where(CouncilMember.council_id == council_id)).first()

    def change():
        db.session.get(User, member.user_id).full_name = "Trịnh Công Đổi Tên"

    _changes_show(api, f"/api/v1/sessions/{sid}/minutes.pdf", chain.officer, change, "Trịnh Công Đổi Tên")


def test_a_hit_builds_no_data(chain, api, closed_session, dossier, monkeypatch):  # noqa: F811
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


def test_a_hit_still_checks_who_may_see_it(chain, api, dossier):  # noqa: F811
    owner, n = dossier
    url = f"/api/v1/nominations/{n.id}/declaration.pdf"
    assert _get(api, url, owner).headers["X-Document-Cache"] == "miss"
    stranger = chain.make.user("applicant")
    assert api.get(url, stranger).status_code == 404
