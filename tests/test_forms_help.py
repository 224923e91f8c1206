"""Forms that help (issue 13, item 7): the applicant's wizard chooses nothing for the applicant, marks what is
required, lets rows go, says what is wrong next to the field, and shows the declaration as it will be printed
with the commitment as a box the filer ticks (recorded with the submission)."""

import re

import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, TransitionLog
from artisan_awards.services import nominations as service
from workflows.states import State


def _nominee_post(round_id, **over):
    data = {"round_id": round_id, "title": "meritorious", "province_code": "HNI",
            "full_name": "Lê Thị Hoa", "birth_date": "1960-02-03", "address": "Bát Tràng",
            "filed_by_relationship": "self"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def _error_of(html: str, field_id: str) -> str:
    """The error shown next to ``field_id`` (its <p id="...-error">), or ""."""
    m = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return m.group(1).strip() if m else ""


def _mine(owner):
    return db.session.scalars(sa.select(Nomination).where(Nomination.owner_id == owner.id)).all()


def test_the_province_list_starts_empty_and_filing_without_choosing_is_refused_next_to_the_field(client, auth, make):
    round_ = make.current_round()
    owner = auth.login_as("applicant")
    page = client.get("/my/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="province_code".*?</select>', page, re.S).group(0)
    first = re.search(r"<option[^>]*>(.*?)</option>", select, re.S)
    assert 'value=""' in first.group(0) and "— Chọn Sở Công Thương —" in first.group(1)
    assert "selected" not in select  # nothing is chosen for the applicant
    assert re.search(r"<select[^>]*aria-required=\"true\"[^>]*id=\"province_code\"|"
                     r"<select[^>]*id=\"province_code\"[^>]*required", select)

    r = client.post("/my/new", data=_nominee_post(round_.id, province_code=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "province_code") == "Cần chọn Sở Công Thương nơi nộp hồ sơ."
    assert 'href="#province_code"' in html  # the summary at the top links to the field
    assert 'aria-describedby="province_code-error"' in html and 'aria-invalid="true"' in html
    assert _mine(owner) == []

    r = client.post("/my/new", data=_nominee_post(round_.id))
    assert r.status_code == 302
    assert [n.province_code for n in _mine(owner)] == ["HNI"]


def test_required_fields_carry_a_visible_mark_with_its_legend_and_aria_required(client, auth, make):
    make.current_round()
    auth.login_as("applicant")
    page = client.get("/my/new").get_data(as_text=True)
    assert "Mục bắt buộc" in page  # the legend of the mark
    label = re.search(r'<label for="full_name">(.*?)</label>', page, re.S).group(1)
    assert '<span class="req" aria-hidden="true"> *</span>' in label
    full_name = re.search(r'<input[^>]*id="full_name"[^>]*>', page).group(0)
    assert "required" in full_name and 'aria-required="true"' in full_name
    optional = re.search(r'<label for="pen_name">(.*?)</label>', page, re.S).group(1)
    assert "req" not in optional
    pen = re.search(r'<input[^>]*id="pen_name"[^>]*>', page).group(0)
    assert "required" not in pen


def test_a_death_date_needs_the_posthumous_box_and_the_box_needs_a_date(client, auth, make):
    round_ = make.current_round()
    owner = auth.login_as("applicant")
    r = client.post("/my/new", data=_nominee_post(round_.id, death_date="2020-01-01"))
    assert r.status_code == 400
    assert "Đề nghị truy tặng" in _error_of(r.get_data(as_text=True), "death_date")
    r = client.post("/my/new", data=_nominee_post(round_.id, posthumous="y", filed_by_relationship="child",
                                                  filed_by_name="Lê Văn Con"))
    assert r.status_code == 400
    assert _error_of(r.get_data(as_text=True), "death_date") == "Hồ sơ truy tặng cần ngày mất của nghệ nhân."
    r = client.post("/my/new", data=_nominee_post(round_.id, death_date="1950-01-01"))  # before the birth
    assert r.status_code == 400 and _mine(owner) == []
    r = client.post("/my/new", data=_nominee_post(round_.id, posthumous="y", death_date="2020-01-01",
                                                  filed_by_relationship="child", filed_by_name="Lê Văn Con"))
    assert r.status_code == 302
    (n,) = _mine(owner)
    assert n.posthumous and n.death_date.isoformat() == "2020-01-01"


def test_service_errors_go_next_to_their_field_in_plain_words(client, auth, make):
    round_ = make.current_round()
    auth.login_as("applicant")
    r = client.post("/my/new", data=_nominee_post(round_.id, phone="gọi tôi"))  # the schema's pattern
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "phone") == "Giá trị có ký tự không hợp lệ."
    assert "nominee" not in html.split("<main", 1)[1].split("</form>", 1)[0].replace('"nominee"', "")
    r = client.post("/my/new", data=_nominee_post(round_.id, full_name="x" * 201))
    assert _error_of(r.get_data(as_text=True), "full_name") == "Tối đa 200 ký tự."


def test_period_rows_are_removed_by_their_box_and_a_half_row_is_refused_at_its_field(client, auth, make):
    owner = auth.login_as("applicant")
    n = make.nomination(owner=owner, craft_periods=[
        {"from": "1980-01-01", "to": "1990-12-31", "workplace": "Xưởng A"},
        {"from": "1991-01-01", "to": "2010-12-31", "workplace": "Xưởng B"},
    ])
    page = client.get(f"/my/{n.id}/craft").get_data(as_text=True)
    assert 'name="periods-1-remove"' in page and "Xóa giai đoạn này" in page
    rows = {"craft": "Gốm sứ",
            "periods-0-from_date": "1980-01-01", "periods-0-to_date": "1990-12-31", "periods-0-workplace": "Xưởng A",
            "periods-1-from_date": "1991-01-01", "periods-1-to_date": "2010-12-31", "periods-1-workplace": "Xưởng B"}
    r = client.post(f"/my/{n.id}/craft", data={**rows, "periods-0-remove": "y"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/my/{n.id}/craft")  # shown again, saved
    db.session.expire_all()
    assert [p.workplace for p in n.periods] == ["Xưởng B"]

    r = client.post(f"/my/{n.id}/craft", data={"craft": "Gốm sứ", "periods-0-workplace": "Chỉ có nơi làm việc"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "periods-0-from_date") == "Cần ngày bắt đầu của giai đoạn này."
    assert "Giai đoạn 1 – Từ ngày" in html  # the summary names the row
    r = client.post(f"/my/{n.id}/craft", data={"craft": "Gốm sứ", "periods-0-from_date": "2010-01-01",
                                                "periods-0-to_date": "2000-01-01"})
    assert r.status_code == 400
    assert _error_of(r.get_data(as_text=True), "periods-0-to_date") == "Ngày bắt đầu phải trước ngày kết thúc."
    db.session.expire_all()
    assert [p.workplace for p in n.periods] == ["Xưởng B"]


def test_product_rows_are_removed_by_their_box_and_a_nameless_row_is_refused(client, auth, make):
    owner = auth.login_as("applicant")
    n = make.nomination(owner=owner, products=[{"name": "Bình"}, {"name": "Đĩa"}])
    r = client.post(f"/my/{n.id}/achievements", data={
        "products-0-name": "Bình", "products-1-name": "Đĩa", "products-1-remove": "y", "learners_trained": "12"})
    assert r.status_code == 302
    db.session.expire_all()
    assert [p.name for p in n.products] == ["Bình"]
    r = client.post(f"/my/{n.id}/achievements", data={
        "products-0-name": "Bình", "products-1-materials": "Đồng", "learners_trained": "mười"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "products-1-name").startswith("Cần ghi tên sản phẩm")
    assert _error_of(html, "learners_trained") == "Nhập một số nguyên, ví dụ 120."
    r = client.post(f"/my/{n.id}/achievements", data={"products-0-name": "Bình", "learners_trained": "1.200"})
    assert r.status_code == 302
    db.session.expire_all()
    assert n.learners_trained == 1200


def test_review_shows_the_declaration_as_printed_and_submission_needs_the_ticked_commitment(client, auth, make):
    owner = auth.login_as("applicant")
    n = make.nomination(owner=owner, nominee={"full_name": "Đỗ Văn Bình"})
    page = client.get(f"/my/{n.id}/review").get_data(as_text=True)
    frame = re.search(r'<iframe[^>]*class="declaration-frame"[^>]*srcdoc="([^"]*)"', page).group(1)
    assert "Mẫu số 02" in frame and "Đỗ Văn Bình" in frame and "BẢN KHAI THÀNH TÍCH" in frame.upper()
    assert "documents.invalid" not in frame  # the PDF's resources are addressed for the browser
    box = re.search(r'<input[^>]*id="commitment"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box and "required" in box

    r = client.post(f"/my/{n.id}/review", data={})
    assert r.status_code == 400
    assert _error_of(r.get_data(as_text=True), "commitment") == "Cần đánh dấu ô cam đoan trước khi nộp hồ sơ."
    r = client.post(f"/nominations/{n.id}/actions/submit", data={},  # around the page: refused as well
                    headers={"Referer": f"/my/{n.id}/review"}, follow_redirects=True)
    assert "Cần đánh dấu ô cam đoan trước khi nộp hồ sơ." in r.get_data(as_text=True)
    db.session.refresh(n)
    assert n.state == State.DRAFT

    r = client.post(f"/my/{n.id}/review", data={"commitment": "y"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/my/{n.id}/receipt")
    db.session.refresh(n)
    assert n.state == State.SUBMITTED
    row = db.session.scalar(sa.select(TransitionLog).where(TransitionLog.nomination_id == n.id))
    assert row.action == "submit" and row.actor_id == owner.id and row.at is not None
    assert row.meta["commitment"] == service.COMMITMENT
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert "Người nộp đã đánh dấu lời cam đoan của bản khai." in page.split("Lịch sử xử lý", 1)[1]


def test_applicants_do_not_see_the_staffs_rule_codes_or_unverified_flags(client, auth, make):
    owner = auth.login_as("applicant")
    n = make.nomination(State.SUBMITTED, owner=owner)
    draft = make.nomination(owner=owner)
    for url in (f"/nominations/{n.id}", f"/my/{draft.id}/review", f"/my/{draft.id}/craft"):
        page = client.get(url).get_data(as_text=True)
        assert "Đối chiếu tiêu chuẩn xét tặng" in page and "Điều 7" in page, url
        assert "Chưa xác minh" not in page and "[U]" not in page, url
        assert "<strong>M1</strong>" not in page and "<strong>X-2.3</strong>" not in page, url
    auth.logout()
    auth.login_as("province_officer", "HNI")
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    assert "Chưa xác minh" in page and "<strong>M1</strong>" in page  # the staff keep their working notes


def test_the_national_lists_sort_box_names_the_order_it_is_in(client, auth, make):
    auth.login_as("ministry_officer")
    page = client.get("/ministry/nominations").get_data(as_text=True)
    box = re.search(r'<select id="sort".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="updated"\s+selected', box)  # the default order: last updated first
    assert len(re.findall(r"selected", box)) == 1
    page = client.get("/ministry/nominations?sort=name").get_data(as_text=True)
    box = re.search(r'<select id="sort".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="name"\s+selected', box) and len(re.findall(r"selected", box)) == 1


def test_the_wizard_and_its_errors_are_english_in_english(client, auth, make):
    from artisan_awards.models import Province
    from tests.test_language_switch import VIETNAMESE, _strip_data, readable

    round_ = make.current_round()
    owner = auth.login_as("applicant")
    n = make.nomination(owner=owner)
    data = sorted({round_.name, owner.full_name, n.full_name, n.craft, *db.session.scalars(sa.select(Province.name)),
                   *(row.name for row in db.session.scalars(sa.select(type(round_))))}, key=len, reverse=True)
    client.post("/lang/en", data={"next": "/"})
    answers = {
        "step 1 refused": client.post("/my/new", data=_nominee_post(round_.id, province_code="", phone="gọi",
                                                                   death_date="2020-01-01")),
        "step 2 refused": client.post(f"/my/{n.id}/craft", data={"periods-0-workplace": "Xưởng"}),
        "step 3 refused": client.post(f"/my/{n.id}/achievements", data={"products-0-materials": "Đồng",
                                                                       "learners_trained": "x"}),
        "review refused": client.post(f"/my/{n.id}/review", data={}),
    }
    for what, r in answers.items():
        assert r.status_code == 400, what
        html = r.get_data(as_text=True)
        parsed = readable(html, "en")
        assert parsed.html_lang == "en"
        left = [t for t in parsed.texts if VIETNAMESE.search(_strip_data(t, [*data, "Xưởng", "Đồng", "gọi"]))]
        assert not left, (what, left)
        assert 'class="error"' in html, what


def test_the_history_does_not_say_the_same_label_twice(client, auth, make):
    owner = make.user("applicant")
    n = make.nomination(State.RETURNED, owner=owner)
    auth.login(owner.email)
    page = client.get(f"/nominations/{n.id}").get_data(as_text=True)
    history = page.split("Lịch sử xử lý", 1)[1]
    assert "<strong>Trả lại để bổ sung</strong><br>" in history  # the action's name says the state too
    assert "Trả lại để bổ sung</strong> — Trả lại để bổ sung" not in history
    assert "<strong>Nộp hồ sơ</strong> — Đã nộp, chờ kiểm tra" in history  # a different state is still said
