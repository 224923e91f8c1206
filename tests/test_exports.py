"""Exports: every filtered list as CSV (UTF-8 with BOM) and XLSX, read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import sqlalchemy as sa

from artisan_awards.extensions import db
from artisan_awards.models import Nomination, PublicComment
from artisan_awards.timeutil import today
from workflows.states import State


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode()), "the BOM tells Excel the file is UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _dossiers(make):
    owner = make.user("applicant")
    officer = make.user("province_officer", "HNI")
    anh = make.nomination(State.SUBMITTED, owner=owner, officer=officer,
                          nominee={"full_name": "Nguyễn Văn Ánh", "birth_date": "1958-02-03"}, craft="Gốm sứ Bát Tràng")
    make.nomination(State.RETURNED, owner=owner, officer=officer, nominee={"full_name": "Trần Thị Đào"},
                    craft="Thêu tay Quất Động")
    make.nomination(State.SUBMITTED, province="HPG", nominee={"full_name": "Lê Hữu Hải Phòng"})
    db.session.execute(sa.update(Nomination).where(Nomination.id == anh.id)
                       .values(received_at=datetime.now(UTC) - timedelta(days=12)))
    db.session.commit()
    return officer, anh


def test_province_inbox_csv_has_diacritics_expected_columns_and_the_pages_filters(client, auth, make):
    officer, anh = _dossiers(make)
    auth.login(officer.email)
    response = client.get("/province/inbox/export.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="ho-so-tinh-')
    rows = read_csv(response)
    header = rows[0]
    assert header[:8] == ["Mã hồ sơ", "Họ và tên", "Năm sinh", "Giới tính", "Dân tộc", "Nghề", "Tỉnh, thành phố",
                          "Danh hiệu"]
    assert {"Trạng thái", "Ngày nộp", "Hạn", "Quá hạn"} <= set(header)
    by_name = {r[header.index("Họ và tên")]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert set(by_name) == {"Nguyễn Văn Ánh", "Trần Thị Đào"}  # the other province's dossier is not there
    row = by_name["Nguyễn Văn Ánh"]
    assert row["Mã hồ sơ"] == anh.code and row["Năm sinh"] == "1958" and row["Nghề"] == "Gốm sứ Bát Tràng"
    assert row["Tỉnh, thành phố"] == "Hà Nội" and row["Danh hiệu"] == "Nghệ nhân ưu tú"
    assert row["Trạng thái"] == "Đã nộp, chờ kiểm tra" and row["Quá hạn"] == "Quá hạn"
    assert row["Hạn"] == (today() - timedelta(days=2)).strftime("%d/%m/%Y")
    assert by_name["Trần Thị Đào"]["Trạng thái"] == "Trả lại để bổ sung" and by_name["Trần Thị Đào"]["Quá hạn"] == ""
    # the same filters as the page: accent-free search, overdue only
    rows = read_csv(client.get("/province/inbox/export.csv?q=tran+thi+dao"))
    assert [r[1] for r in rows[1:]] == ["Trần Thị Đào"]
    rows = read_csv(client.get("/province/inbox/export.csv?overdue=1"))
    assert [r[1] for r in rows[1:]] == ["Nguyễn Văn Ánh"]


def test_ministry_list_xlsx_reads_back_with_diacritics_dates_and_filters(client, auth, make):
    _dossiers(make)
    auth.login_as("admin")  # sees dossiers still at the province
    response = client.get("/ministry/nominations/export.xlsx?sort=name")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = read_xlsx(response)
    header = rows[0]
    names = [r[header.index("Họ và tên")] for r in rows[1:]]
    assert names == ["Lê Hữu Hải Phòng", "Nguyễn Văn Ánh", "Trần Thị Đào"]  # Vietnamese order
    anh = dict(zip(header, rows[1 + names.index("Nguyễn Văn Ánh")], strict=True))
    assert anh["Năm sinh"] == 1958 and anh["Nghề"] == "Gốm sứ Bát Tràng" and anh["Quá hạn"] == "Quá hạn"
    assert isinstance(anh["Hạn"], datetime) and anh["Hạn"].date() == today() - timedelta(days=2)
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert workbook.worksheets[0]["N2"].number_format == "DD/MM/YYYY"
    rows = read_xlsx(client.get("/ministry/nominations/export.xlsx?province_code=HPG"))
    assert [r[1] for r in rows[1:]] == ["Lê Hữu Hải Phòng"]
    rows = read_xlsx(client.get("/ministry/nominations/export.xlsx?state=returned"))
    assert [r[1] for r in rows[1:]] == ["Trần Thị Đào"]


def test_headers_follow_the_users_language(client, auth, make):
    _dossiers(make)
    auth.login_as("admin")
    with client.session_transaction() as session:
        session["lang"] = "en"
    header = read_csv(client.get("/ministry/nominations/export.csv"))[0]
    assert header[:3] == ["Dossier code", "Full name", "Year of birth"] and "Overdue" in header
    header = read_xlsx(client.get("/ministry/nominations/export.xlsx"))[0]
    assert "Province or city" in header and "Họ và tên" not in header


def test_comments_export_keeps_hostile_text_as_text(client, auth, make):
    nomination = make.nomination(State.SUBMITTED)
    db.session.add_all([
        PublicComment(nomination_id=nomination.id, kind="complaint", full_name="Bùi Thị Lan", phone="0912000111",
                      address="Quất Động", content="=HYPERLINK(\"http://x\",\"bấm\")", window="public_consultation"),
        PublicComment(nomination_id=nomination.id, kind="comment", content="Góp ý: nghệ nhân rất tận tâm.",
                      informational=True, full_name="Ẩn danh", window="public_consultation", status="substantiated"),
    ])
    db.session.commit()
    auth.login_as("ministry_officer")
    masked = read_csv(client.get("/ministry/comments/export.csv"))  # commenters' contacts masked until revealed
    assert {r[masked[0].index("Người gửi")] for r in masked[1:]} == {"•••", "Không ký tên"}
    client.post("/ministry/comments/reveal", data={"reason": "Xác minh khiếu nại với người gửi"})
    rows = read_csv(client.get("/ministry/comments/export.csv"))
    header = rows[0]
    content = [r[header.index("Nội dung")] for r in rows[1:]]
    assert "'=HYPERLINK(\"http://x\",\"bấm\")" in content and "Góp ý: nghệ nhân rất tận tâm." in content
    senders = {r[header.index("Người gửi")] for r in rows[1:]}
    assert senders == {"Bùi Thị Lan", "Không ký tên"}  # an anonymous comment's details are not exported
    xlsx = read_xlsx(client.get("/ministry/comments/export.xlsx?kind=complaint"))
    assert len(xlsx) == 2
    assert xlsx[1][xlsx[0].index("Nội dung")] == "=HYPERLINK(\"http://x\",\"bấm\")"  # a string, not a formula
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/ministry/comments/export.xlsx?kind=complaint")
                                                 .get_data()))
    assert workbook.worksheets[0]["G2"].data_type == "s"
    rows = read_csv(client.get("/ministry/comments/export.csv?status=substantiated"))
    assert len(rows) == 2 and rows[1][header.index("Trạng thái")] == "Có cơ sở"


def test_exports_are_scoped_and_refuse_unknown_formats(client, auth, make):
    _dossiers(make)
    auth.login_as("applicant")
    assert client.get("/province/inbox/export.csv").status_code == 403
    assert client.get("/ministry/nominations/export.csv").status_code == 403
    auth.logout()
    auth.login_as("province_officer", "HPG")
    rows = read_csv(client.get("/province/inbox/export.csv"))
    assert [r[1] for r in rows[1:]] == ["Lê Hữu Hải Phòng"]
    response = client.get("/province/inbox/export.pdf")
    assert response.status_code == 404
    auth.logout()
    assert client.get("/ministry/nominations/export.csv").status_code in (302, 401)


def test_list_pages_offer_the_export_of_what_they_show(client, auth, make):
    _dossiers(make)
    auth.login_as("admin")  # sees dossiers still at the province
    html = client.get("/ministry/nominations?q=nguyen&overdue=1").get_data(as_text=True)
    assert "/ministry/nominations/export.xlsx?" in html and "/ministry/nominations/export.csv?" in html
    link = html[html.index("/ministry/nominations/export.csv?"):].split('"')[0].replace("&amp;", "&")
    rows = read_csv(client.get(link))
    assert [r[1] for r in rows[1:]] == ["Nguyễn Văn Ánh"]
