"""Sample data for the PDF benchmark and the documentation's screenshots.

Builds a throwaway SQLite database from the migrations and fills it through the real operations
(services), so every document is made exactly as in production: nominations with evidence, a
provincial council session voted and closed, a ministry session, a public consultation.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "mat-khau-mau-2026"
CAREER = ("Sinh ra trong gia đình có truyền thống làm gốm ở làng Bát Tràng, từ năm mười hai tuổi ông đã theo "
          "cha học vuốt gốm, pha men, đắp nổi. Năm 1985 ông mở xưởng riêng, phục dựng các dòng men cổ thời "
          "Lý, Trần, Lê: men ngọc, men lam, men rạn. Ông trực tiếp truyền nghề cho hàng trăm học trò trong và "
          "ngoài làng, nhiều người đã trở thành nghệ nhân, thợ giỏi. ")


def make_app(tmp: Path):
    from flask_migrate import upgrade

    from artisan_awards import create_app
    from artisan_awards.services.provinces import sync_provinces

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'samples.sqlite'}",
        "UPLOAD_DIR": str(tmp / "uploads"),
        "DOCUMENTS_CACHE_DIR": str(tmp / "documents"),
        "SECRET_KEY": "samples",
        "TESTING": True,
        "SERVER_NAME": "nghenhan.example.vn",
        "PREFERRED_URL_SCHEME": "https",
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    with app.app_context():
        upgrade()
        sync_provinces()
    return app


def _png(color, size=(900, 600), label=""):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(img)
    for i in range(0, size[0], 60):
        draw.ellipse((i, size[1] // 3, i + 50, size[1] // 3 + 50), outline=(250, 240, 220), width=4)
    draw.text((20, 20), label, fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _evidence_pdf(title: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=f"<h2>{title}</h2><p>Bản sao chứng thực.</p>").write_pdf()


def nomination_body(round_id, name, craft, province="HNI", title="meritorious", i=0, products=4, long=1):
    return {
        "round_id": round_id,
        "title": title,
        "nominee": {"full_name": name, "birth_date": f"{1950 + i % 20}-0{1 + i % 9}-1{i % 9}", "gender":
                    "Nữ" if " Thị " in name else "Nam", "ethnicity": "Kinh", "hometown": "Xã Bát Tràng, Hà Nội",
                    "province_code": province, "address": f"Số {10 + i}, thôn Giang Cao, xã Bát Tràng, {province}",
                    "phone": "0912345678", "email": f"nghenhan{i}@example.vn"},
        "craft": craft,
        "workshop": f"Xưởng {craft.lower()} {name.split()[-1]}",
        "career_summary": CAREER * long,
        "skills_summary": "Nắm giữ bí quyết pha men rạn cổ, kỹ thuật vuốt tay trên bàn xoay và đắp nổi hoa văn "
                          "rồng, phượng theo lối cổ. " * long,
        "honours_summary": "Bằng khen của Bộ trưởng Bộ Công Thương (2018); Bằng khen của Chủ tịch Ủy ban nhân dân "
                           "thành phố Hà Nội (2020).",
        "craft_periods": [{"from": "1980-01-01", "to": "1995-12-31", "workplace": "Hợp tác xã gốm Bát Tràng",
                           "role": "Thợ chính"},
                          {"from": "1996-01-01", "to": "2025-12-31", "workplace": "Xưởng gốm gia đình",
                           "role": "Chủ cơ sở"}],
        "meritorious_title": ({"decision_no": "1234/QĐ-CTN", "decision_date": "2019-11-20", "field": "handicraft"}
                              if title == "people" else None),
        "products": [{"name": f"Bình gốm men rạn “Rồng ẩn mây” số {k + 1}", "made_on": f"{2015 + k}-06-01",
                      "materials": "Đất sét trắng, men rạn", "self_designed": True,
                      "award": {"rank": 1 + k % 3, "level": "national", "organiser": "Bộ Công Thương",
                                "awarded_on": f"{2015 + k}-09-01"}} for k in range(products)],
        "learners_trained": 120 + i,
        "filed_by": {"full_name": None, "relationship": "self"},
    }


def build(app, *, long: int = 1, photos: int = 2, pdfs: int = 1, products: int = 4) -> dict:
    """Fill the database; return the ids of what the documents are made from."""
    from werkzeug.datastructures import FileStorage

    from artisan_awards.extensions import db
    from artisan_awards.models import Round
    from artisan_awards.schemas import CouncilIn, NominationIn, SessionIn
    from artisan_awards.services import accounts, councils
    from artisan_awards.services import nominations as service
    from artisan_awards.services.attachments import add_attachment
    from artisan_awards.timeutil import today

    on = today()
    round_ = Round(number=6, name="Xét tặng lần thứ 6", governing_decree="43/2024",
                   intake_opens=on - timedelta(days=30), intake_closes=on + timedelta(days=30),
                   consultation_days=20)
    db.session.add(round_)
    db.session.commit()
    user = lambda email, name, role, prov=None: accounts.create_user(email, PASSWORD, name, (role,), prov)  # noqa: E731
    applicant = user("ungvien@example.vn", "Nguyễn Thị Hoa", "applicant")
    officer = user("so.hanoi@example.vn", "Trần Minh Đức", "province_officer", "HNI")
    ministry = user("bo@example.vn", "Đặng Quốc Huy", "ministry_officer")
    names = ["Nguyễn Văn Ánh", "Lê Thị Bình", "Phạm Quang Ước", "Đỗ Thị Mận", "Vương Đình Khôi"]
    crafts = ["Gốm sứ Bát Tràng", "Thêu tay Quất Động", "Khảm trai Chuyên Mỹ", "Mây tre đan Phú Vinh",
              "Sơn mài Hạ Thái"]
    nominations = []
    for i, (name, craft) in enumerate(zip(names, crafts, strict=True)):
        body = nomination_body(round_.id, name, craft, title="people" if i % 2 == 0 else "meritorious", i=i,
                               long=long if i == 0 else 1, products=products if i == 0 else 4)
        n = service.create_nomination(applicant, NominationIn.model_validate(body))
        if i == 0:
            add_attachment(applicant, n, "portrait", FileStorage(io.BytesIO(
                _png((90, 110, 140), size=(400, 600), label="Chan dung 4x6")), "chan-dung.jpg"))
            for k in range(photos):
                add_attachment(applicant, n, "photo", FileStorage(io.BytesIO(
                    _png((120 + 20 * k, 60, 40), label=f"San pham {k + 1}")), f"Sản phẩm {k + 1}.jpg"))
            for k in range(pdfs):
                add_attachment(applicant, n, "award_decision", FileStorage(io.BytesIO(
                    _evidence_pdf(f"Quyết định khen thưởng số {100 + k}/QĐ-BCT")), f"quyet-dinh-{k + 1}.pdf"))
        service.submit(n, applicant)
        service.accept(n, officer, comment="Hồ sơ đầy đủ, hợp lệ.")
        nominations.append(n)

    members = [user(f"hoidong{k}@example.vn", f"{m}", "province_council_member", "HNI")
               for k, m in enumerate(["Lê Văn Thành", "Phan Thị Thu", "Trịnh Quốc Bảo", "Mai Văn Hùng",
                                      "Lương Thị Yến", "Tạ Đình Phong", "Hà Thị Kim", "Cao Văn Lâm",
                                      "Kiều Thị Nga", "Đào Minh Tâm", "Vi Thị Hạnh"])]
    positions = ["chair", "vice_chair"] + ["member"] * 8 + ["secretary"]
    council = councils.create_council(officer, CouncilIn.model_validate({
        "level": "province", "province_code": "HNI", "round_id": round_.id,
        "name": "Hội đồng xét tặng cấp tỉnh thành phố Hà Nội", "decision_no": "3307/QĐ-UBND",
        "decision_date": (on - timedelta(days=20)).isoformat(),
        "members": [{"email": u.email, "position": p} for u, p in zip(members, positions, strict=True)]}))
    session = councils.create_session(officer, council, SessionIn(
        held_on=on, place="Trụ sở Sở Công Thương Hà Nội, 331 Lê Duẩn", nomination_ids=[n.id for n in nominations]))
    councils.set_attendance(officer, session, [u.email for u in members[:10]])
    councils.open_session(officer, session)
    for k, member in enumerate(members[:10]):
        votes = {str(n.id): ("no" if (k == 9 and j == 3) or (j == 4 and k > 6) else "yes")
                 for j, n in enumerate(nominations)}
        councils.cast_ballot(member, session, votes)
    councils.close_session(officer, session)

    # The ones the province passed go to the ministry council, then to public consultation.
    passed = [n for n in nominations if n.state == "province_passed"]
    for n in passed:
        service.forward_to_ministry(n, officer)
    ministry_members = [user(f"bo{k}@example.vn", m, "ministry_council_member")
                        for k, m in enumerate(["Vũ Thị Lan", "Hoàng Văn Sơn", "Ngô Thanh Bình", "Đinh Thị Hòa",
                                               "Bùi Đức Long"])]
    ministry_council = councils.create_council(ministry, CouncilIn.model_validate({
        "level": "ministry", "round_id": round_.id, "decision_no": "1520/QĐ-BCT",
        "name": "Hội đồng chuyên ngành cấp Bộ Công Thương",
        "members": [{"email": u.email, "position": "chair" if k == 0 else "member"}
                    for k, u in enumerate(ministry_members)]}))
    msession = councils.create_session(ministry, ministry_council, SessionIn(
        held_on=on, place="Bộ Công Thương, 54 Hai Bà Trưng", nomination_ids=[n.id for n in passed]))
    councils.set_attendance(ministry, msession, [u.email for u in ministry_members])
    councils.open_session(ministry, msession)
    for member in ministry_members:
        councils.cast_ballot(member, msession, {str(n.id): "yes" for n in passed})
    councils.close_session(ministry, msession)
    for n in passed:
        service.open_consultation(n, ministry)
    return {"round_id": round_.id, "nomination_id": nominations[0].id, "session_id": session.id,
            "council_id": council.id, "officer": officer.email, "ministry": ministry.email,
            "applicant": applicant.email, "nominations": [n.id for n in nominations]}


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="aa-samples-"))


if __name__ == "__main__":  # pragma: no cover
    path = tmpdir()
    application = make_app(path)
    with application.app_context():
        print(build(application))
    print(os.fspath(path))
