"""Demo data: round 6, every province, one account per role, a dozen dossiers in various states.

Every dossier is moved through the real operations (``services.nominations.perform``),
so its history is what a real one would have.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from workflows.states import Action

from .extensions import db
from .models import Nomination, Round
from .schemas import CouncilIn, NominationIn
from .services import accounts, councils
from .services import nominations as service
from .services.provinces import sync_provinces
from .timeutil import now_utc, today

DEMO_PASSWORD = "NgheNhan@2026"
ACCOUNTS = [
    ("admin@demo.vn", "Quản trị hệ thống", ("admin",), None),
    ("ungvien@demo.vn", "Nguyễn Thị Hoa", ("applicant",), None),
    ("so.hanoi@demo.vn", "Trần Minh Đức (Sở Công Thương Hà Nội)", ("province_officer",), "HNI"),
    ("hoidong.hanoi@demo.vn", "Lê Văn Thành (Hội đồng cấp tỉnh Hà Nội)", ("province_council_member",), "HNI"),
    ("so.haiphong@demo.vn", "Phạm Thu Trang (Sở Công Thương Hải Phòng)", ("province_officer",), "HPG"),
    ("bo@demo.vn", "Đặng Quốc Huy (Cục Công Thương địa phương)", ("ministry_officer",), None),
    ("hoidong.bo@demo.vn", "Vũ Thị Lan (Hội đồng cấp Bộ)", ("ministry_council_member",), None),
    ("hoidong.nhanuoc@demo.vn", "Hoàng Văn Sơn (Hội đồng cấp Nhà nước)", ("state_council_member",), None),
    ("chinhphu@demo.vn", "Ngô Thanh Bình (Văn phòng Chính phủ)", ("government_officer",), None),
]
# The other members of the Hà Nội council (the first is hoidong.hanoi@demo.vn, its chair).
HANOI_COUNCIL = ["Phan Thị Thu", "Trịnh Quốc Bảo", "Mai Văn Hùng", "Lương Thị Yến", "Tạ Đình Phong",
                 "Hà Thị Kim", "Cao Văn Lâm", "Kiều Thị Nga"]

# (name, craft, province, title, workplace, started, learners, target state)
DOSSIERS = [
    ("Nguyễn Văn Ánh", "Gốm sứ Bát Tràng", "HNI", "people", "Xưởng gốm Ánh Bát Tràng", 1978, 210, "accepted"),
    ("Trần Thị Đào", "Thêu tay Quất Động", "HNI", "meritorious", "Hợp tác xã thêu Quất Động", 1995, 120, "submitted"),
    ("Lê Đình Khôi", "Sơn mài Hạ Thái", "HNI", "meritorious", "Cơ sở sơn mài Khôi", 1990, 105, "submitted_overdue"),
    ("Phạm Quang Ước", "Khảm trai Chuyên Mỹ", "HNI", "people", "Xưởng khảm trai Chuyên Mỹ", 1975, 160, "returned"),
    ("Đỗ Thị Mận", "Mây tre đan Phú Vinh", "HNI", "meritorious", "Làng nghề Phú Vinh", 1992, 130, "accepted"),
    ("Bùi Văn Tuấn", "Chạm khắc gỗ Sơn Đồng", "HNI", "meritorious", "Xưởng tượng gỗ Sơn Đồng", 1998, 101, "draft"),
    ("Vương Thị Ngọc", "Nón lá Chuông", "HNI", "meritorious", "Làng nón Chuông", 1996, 90, "withdrawn"),
    ("Hoàng Văn Đạt", "Gốm Chu Đậu", "HPG", "meritorious", "Công ty gốm Chu Đậu", 1994, 115, "submitted"),
    ("Ngô Thị Thủy", "Chạm bạc Đồng Xâm", "HPG", "meritorious", "Xưởng bạc Đồng Xâm", 1993, 100, "accepted"),
    ("Đinh Công Lý", "Đúc đồng", "HPG", "people", "Xưởng đúc đồng Lý", 1980, 40, "closed_incomplete"),
    ("Lò Thị Xuân", "Dệt thổ cẩm", "SLA", "meritorious", "Hợp tác xã dệt Chiềng Ve", 1990, 150, "submitted"),
    ("Nguyễn Hữu Sam", "Tranh dân gian Đông Hồ", "BNH", "people", "Xưởng tranh Đông Hồ", 1970, 300, "draft"),
]


def _user(email):
    return accounts.find_user(email)


def seed() -> list[str]:
    lines = [f"{sync_provinces()} provinces"]
    if _user("admin@demo.vn"):
        lines.append("Demo data already present; nothing to do.")
        return lines
    on = today()
    round6 = Round(
        number=6,
        name="Xét tặng lần thứ 6 (dữ liệu mẫu)",
        governing_decree="43/2024",
        intake_opens=on - timedelta(days=30),
        intake_closes=on + timedelta(days=45),
        deadlines={
            "province_to_ministry": (on + timedelta(days=120)).isoformat(),
            "ministry_to_state": (on + timedelta(days=240)).isoformat(),
            "state_to_pm": (on + timedelta(days=330)).isoformat(),
            "announcement": date(on.year + 1, 9, 2).isoformat(),
        },
    )
    db.session.add(round6)
    db.session.commit()
    lines.append(f"Round {round6.number}: intake {round6.intake_opens} → {round6.intake_closes}")
    for email, name, roles, province in ACCOUNTS:
        accounts.create_user(email, DEMO_PASSWORD, name, roles, province)
        lines.append(f"  {email:28} {DEMO_PASSWORD}  {', '.join(roles)} {province or ''}")

    hanoi_members = [_user("hoidong.hanoi@demo.vn")]
    for i, name in enumerate(HANOI_COUNCIL, start=2):
        hanoi_members.append(accounts.create_user(f"hoidong.hanoi{i}@demo.vn", DEMO_PASSWORD, name,
                                                  ("province_council_member",), "HNI"))
    lines.append(f"  hoidong.hanoi2..{len(hanoi_members)}@demo.vn  {DEMO_PASSWORD}  province_council_member HNI")
    councils.create_council(_user("so.hanoi@demo.vn"), CouncilIn.model_validate({
        "level": "province", "province_code": "HNI", "round_id": round6.id,
        "name": "Hội đồng xét tặng cấp tỉnh thành phố Hà Nội", "decision_no": "3307/QĐ-UBND",
        "decision_date": (on - timedelta(days=20)).isoformat(),
        "members": [{"email": u.email, "position": "chair" if i == 0 else
                     ("vice_chair" if i == 1 else "member"), "authorised_to_preside": i == 1}
                    for i, u in enumerate(hanoi_members)],
    }))
    lines.append("  Council: Hội đồng xét tặng cấp tỉnh thành phố Hà Nội (9 members)")

    applicant = _user("ungvien@demo.vn")
    officers = {"HNI": _user("so.hanoi@demo.vn"), "HPG": _user("so.haiphong@demo.vn")}
    for i, (name, craft, province, title, workplace, started, learners, target) in enumerate(DOSSIERS):
        officer = officers.get(province)
        # Hà Nội dossiers come from the demo applicant; others are filed by their Sở on paper's behalf.
        owner = applicant if province == "HNI" or officer is None else officer
        birth = date(started - 20, 1 + i % 12, 1 + (i * 3) % 27)
        data = NominationIn.model_validate(
            {
                "round_id": round6.id,
                "title": title,
                "nominee": {
                    "full_name": name, "birth_date": birth.isoformat(),
                    "gender": "Nữ" if "Thị" in name else "Nam", "ethnicity": "Kinh" if province != "SLA" else "Thái",
                    "province_code": province, "address": f"{workplace}, {province}",
                    "phone": f"09{12345670 + i}",
                },
                "craft": craft,
                "workshop": workplace,
                "career_summary": f"Theo nghề {craft.lower()} từ năm {started}, học nghề từ gia đình.",
                "craft_periods": [
                    {"from": f"{started}-01-01", "to": f"{started + 14}-12-31", "workplace": workplace},
                    {"from": f"{started + 10}-01-01", "to": f"{on.year - 1}-12-31", "workplace": workplace},
                ],
                "meritorious_title": (
                    {"decision_no": "1234/QĐ-CTN", "decision_date": "2019-11-20", "field": "handicraft"}
                    if title == "people" else None
                ),
                "products": [
                    {"name": f"Bộ sản phẩm {craft.lower()} {y}", "made_on": f"{y}-06-01",
                     "self_designed": True,
                     "award": {"rank": 2, "level": "national", "organiser": "Bộ Công Thương",
                               "awarded_on": f"{y}-09-01"}}
                    for y in (2021, 2023)
                ],
                "learners_trained": learners,
                "filed_by": {"relationship": "self", "full_name": None}
                if owner is applicant else {"relationship": "other", "full_name": owner.full_name},
            }
        )
        if owner is not applicant:
            data.filed_by.full_name = officer.full_name
        nomination = service.create_nomination(owner, data)
        _advance(nomination, target, owner, officer)
        lines.append(f"  {nomination.code or '(nháp)':22} {name:18} {nomination.state}")
    return lines


def _advance(n: Nomination, target: str, owner, officer) -> None:
    if target == "draft":
        return
    service.perform(n, Action.SUBMIT, owner)
    if target == "submitted_overdue":
        # Pretend it arrived twelve days ago, so the 10-day reply window shows as overdue.
        earlier = now_utc() - timedelta(days=12)
        db.session.execute(
            sa.update(Nomination).where(Nomination.id == n.id)
            .values(received_at=earlier, submitted_at=earlier)
            .execution_options(synchronize_session="fetch")
        )
        db.session.commit()
        return
    if target == "withdrawn":
        service.perform(n, Action.WITHDRAW, owner, comment="Nghệ nhân xin rút để bổ sung sản phẩm.")
        return
    if target == "submitted":
        return
    if target in ("returned", "closed_incomplete"):
        service.perform(n, Action.RETURN, officer,
                        comment="Bổ sung bản sao chứng thực quyết định khen thưởng và ảnh sản phẩm.")
        if target == "closed_incomplete":
            # Returned long enough ago that the applicant's completion period is over (issue 14).
            earlier = now_utc() - timedelta(days=n.round.completion_days + 5)
            db.session.execute(sa.update(Nomination).where(Nomination.id == n.id).values(returned_at=earlier)
                               .execution_options(synchronize_session="fetch"))
            db.session.commit()
            db.session.refresh(n)
            service.perform(n, Action.CLOSE_INCOMPLETE, officer,
                            comment="Quá 15 ngày, người đề nghị không bổ sung hồ sơ.")
        return
    service.perform(n, Action.ACCEPT, officer, comment="Hồ sơ đầy đủ, hợp lệ.")
