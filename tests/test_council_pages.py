"""The pages around the councils: public results and consultations, dashboard, comments."""

from artisan_awards.extensions import db
from tests.test_councils import Chain
from workflows.states import State


def _to_consultation(chain):
    nomination = chain.accepted(nominee={"full_name": "Vũ Thị Huyền"}, craft="Thêu tay Quất Động")
    chain.vote("province", [nomination], yes_votes=10)
    chain.act(nomination, "forward_to_ministry", chain.officer)
    chain.vote("ministry", [nomination], yes_votes=10)
    chain.act(nomination, "open_consultation", chain.ministry)
    return nomination


def test_public_results_list_what_the_provincial_council_proposed(client, api, make):
    chain = Chain(api, make)
    passed, rejected = chain.accepted(nominee={"full_name": "Đào Văn Được"}), chain.accepted(
        nominee={"full_name": "Đinh Thị Trượt"})
    chain.vote("province", [passed], yes_votes=11)
    chain.vote("province", [rejected], yes_votes=3)
    html = client.get("/public/results").get_data(as_text=True)
    assert "Thành phố Hà Nội" in html and "Đào Văn Được" in html and "Đinh Thị Trượt" not in html


def test_public_comment_form_signed_and_anonymous(client, api, make):
    chain = Chain(api, make)
    nomination = _to_consultation(chain)
    listing = client.get("/public/consultations").get_data(as_text=True)
    assert "Vũ Thị Huyền" in listing and "Thêu tay Quất Động" in listing
    r = client.post(f"/public/consultations/{nomination.id}", data={"content": ""})
    assert "Trường này không được để trống." in r.get_data(as_text=True)
    r = client.post(f"/public/consultations/{nomination.id}", data={"content": "Ý kiến không ký tên."},
                    follow_redirects=True)
    assert "chỉ được dùng để tham khảo" in r.get_data(as_text=True)
    r = client.post(f"/public/consultations/{nomination.id}", follow_redirects=True, data={
        "full_name": "Bùi Thị Lan", "phone": "0912000111", "address": "Quất Động, Thường Tín",
        "kind": "complaint", "content": "Số học trò chưa đúng."})
    assert "Bộ Công Thương sẽ xem xét" in r.get_data(as_text=True)
    db.session.refresh(nomination)
    assert nomination.state == State.ON_HOLD
    assert client.get("/public/consultations/999999").status_code == 404


def test_ministry_resolves_comments_in_the_browser_page(client, auth, api, make):
    chain = Chain(api, make)
    nomination = _to_consultation(chain)
    client.post(f"/public/consultations/{nomination.id}", data={
        "full_name": "Bùi Thị Lan", "phone": "0912000111", "address": "Hà Nội", "kind": "complaint",
        "content": "Phản ánh cần xác minh."})
    auth.login(chain.ministry.email)
    page = client.get("/ministry/comments").get_data(as_text=True)
    assert "Phản ánh cần xác minh." in page and "Bùi Thị Lan" not in page  # the commenter's contacts are masked
    # until the ministry reveals them, giving its reason (privacy2)
    client.post("/ministry/comments/reveal", data={"reason": "Xác minh khiếu nại với người gửi"})
    page = client.get("/ministry/comments").get_data(as_text=True)
    assert "Phản ánh cần xác minh." in page and "Bùi Thị Lan" in page
    import sqlalchemy as sa

    from artisan_awards.models import PublicComment

    comment = db.session.scalar(sa.select(PublicComment))
    client.post("/ministry/comments", data={"comment_id": comment.id, "status": "unsubstantiated",
                                            "resolution": "Không có cơ sở."})
    client.post(f"/nominations/{nomination.id}/actions/release", data={"comment": "Đã xác minh."})
    db.session.refresh(nomination)
    assert nomination.state == State.PUBLIC_CONSULTATION


def test_dashboard_counts_agree_with_the_lists(client, auth, api, make):
    chain = Chain(api, make)
    make.nomination(State.SUBMITTED)
    make.nomination(State.SUBMITTED, province="HPG")
    chain.accepted()
    auth.login(make.user("admin").email)  # these dossiers are still at the province: not yet the ministry's
    html = client.get("/ministry/dashboard").get_data(as_text=True)
    assert "Thành phố Hà Nội" in html or "Hà Nội" in html
    assert "Hải Phòng" in html
    # one intake dossier in HPG, one intake and one provincial-stage dossier in HNI
    import re

    totals = re.search(r'<tr class="total">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<strong>(\d+)</strong>", totals)
    assert cells[:2] == ["2", "1"]


def test_council_pages_are_scoped(client, auth, api, make):
    chain = Chain(api, make)
    council, members, _ = chain.council("province", size=3)
    auth.login(members[0].email)
    assert client.get(f"/council/councils/{council['id']}").status_code == 200
    auth.logout()
    auth.login_as("province_officer", "HPG")
    assert client.get(f"/council/councils/{council['id']}").status_code == 404
    assert client.get("/council/councils").status_code == 200
