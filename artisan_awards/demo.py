"""Demo data that tells the whole story: a rehearsal round, councils at every level, dossiers at every stage.

Round 6 (its plan made by ``services.rounds.create_round``, so it obeys the app's own date rules), every
province, accounts for every role, the Hà Nội provincial council, the ministry's specialised council and
the state council (9 members each: enough for the quorum), the dozen dossiers of the province's intake and
a second group (Hà Nội, filed by the Sở on paper's behalf) that went further: one dossier waits at every
stage up to the President's decision, and one was awarded.  On each council one session has its vote open
with every member but the chair having voted, so a visitor casts the last ballot and closes the vote.
The public consultations of the rehearsal were opened 25 days before the seed (``TODAY`` pinned for that
moment only), so their 20-day windows are over and nobody waits.

Every dossier, council, session and ballot goes through the real operations (``services.nominations.perform``,
``services.councils``), so histories, notifications and the audit chain are what a real round would have
(``flask audit verify`` is clean after the seed).
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from workflows.states import Action

from .extensions import db
from .models import Council, CouncilSession, Nomination, Round
from .schemas import CouncilIn, NominationIn, RoundIn, SessionIn
from .services import accounts, councils, rounds
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
    ("dulieu@demo.vn", "Bùi Thị Mai (Cán bộ bảo vệ dữ liệu cá nhân)", ("data_officer",), None),
    ("baovedulieu@demo.vn", "Đỗ Minh Châu (Cán bộ bảo vệ dữ liệu cá nhân)", ("data_officer",), None),
]
# The other members of the Hà Nội council (the first is hoidong.hanoi@demo.vn, its chair).
HANOI_COUNCIL = ["Phan Thị Thu", "Trịnh Quốc Bảo", "Mai Văn Hùng", "Lương Thị Yến", "Tạ Đình Phong",
                 "Hà Thị Kim", "Cao Văn Lâm", "Kiều Thị Nga"]
# The other members of the ministry's specialised council and of the state council (the first of each is
# hoidong.bo@demo.vn / hoidong.nhanuoc@demo.vn, its chair); e-mails hoidong.bo2@demo.vn ... 9.
MINISTRY_COUNCIL = ["Nguyễn Thị Minh Hằng", "Trương Văn Phúc", "Đoàn Thị Hạnh", "Lý Văn Tài", "Âu Thị Bích",
                    "Quách Văn Dũng", "Phùng Thị Oanh", "Hồ Văn Khải"]
STATE_COUNCIL = ["Tôn Nữ Thanh Tâm", "Lâm Văn Hiếu", "Bạch Thị Liên", "Mạc Văn Toàn", "Giáp Thị Huyền",
                 "Khổng Văn Nghĩa", "Nông Thị Sáu", "Triệu Văn Kiên"]
DEMO_COUNCILS = (  # level, chair's e-mail prefix, members, name, establishing decision
    ("ministry", "hoidong.bo", MINISTRY_COUNCIL, "Hội đồng chuyên ngành cấp Bộ (lĩnh vực thủ công mỹ nghệ)",
     "1520/QĐ-BCT", ("ministry_council_member",)),
    ("state", "hoidong.nhanuoc", STATE_COUNCIL, "Hội đồng cấp Nhà nước xét tặng danh hiệu Nghệ nhân",
     "88/QĐ-TTg", ("state_council_member",)),
)
# Consultations of the rehearsal were opened this many days before the seed: the 20-day windows are over.
CONSULTATION_OPENED_DAYS_AGO = 25

# The second group: Hà Nội dossiers filed on paper's behalf by the Sở, each left waiting at one stage.
# (name, craft, title, workplace, started, learners, where it stops)
NATIONAL_DOSSIERS = [
    ("Nguyễn Thị Lụa", "Dệt lụa Vạn Phúc", "meritorious", "Hợp tác xã lụa Vạn Phúc", 1988, 140, "province_review"),
    ("Trần Văn Bách", "Đúc đồng Ngũ Xã", "people", "Xưởng đúc đồng Ngũ Xã", 1972, 190, "province_passed"),
    ("Lê Thị Gấm", "Thêu ren Văn Lâm", "meritorious", "Cơ sở thêu Văn Lâm", 1994, 35, "province_rejected"),
    ("Phạm Văn Chạm", "Chạm khắc đá Ninh Vân", "meritorious", "Xưởng đá Ninh Vân", 1990, 110, "ministry_review"),
    ("Hoàng Thị Men", "Gốm Phù Lãng", "meritorious", "Lò gốm Phù Lãng", 1991, 125, "ministry_review_open"),
    ("Vũ Đình Sơn", "Sơn mài Tương Bình Hiệp", "people", "Xưởng sơn mài Sơn", 1976, 170, "ministry_passed"),
    ("Đặng Thị Cói", "Dệt chiếu cói Kim Sơn", "meritorious", "Hợp tác xã cói Kim Sơn", 1993, 100, "ministry_rejected"),
    ("Bùi Thị Nhung", "Làm hoa lụa Tân Ấp", "meritorious", "Cơ sở hoa lụa Tân Ấp", 1995, 104, "public_consultation"),
    ("Ngô Văn Khảm", "Khảm trai Chuyên Mỹ", "people", "Xưởng khảm Khảm", 1974, 180, "public_consultation_over"),
    ("Đỗ Văn Tiện", "Tiện gỗ Nhị Khê", "meritorious", "Xưởng tiện Nhị Khê", 1992, 108, "on_hold"),
    ("Lương Thị Quạt", "Làm quạt Chàng Sơn", "meritorious", "Làng quạt Chàng Sơn", 1990, 112, "state_review"),
    ("Mai Văn Tượng", "Tạc tượng Sơn Đồng", "people", "Xưởng tượng Mai Văn", 1973, 200, "state_review_open"),
    ("Kiều Thị Hương", "Làm hương Quảng Phú Cầu", "meritorious", "Làng hương Quảng Phú Cầu", 1989, 115,
     "state_passed"),
    ("Tạ Văn Nón", "Làm nón Chuông", "people", "Làng nón Tạ Văn", 1975, 175, "final_consultation_over"),
    ("Chu Thị Lược", "Làm lược sừng Thụy Ứng", "meritorious", "Làng lược Thụy Ứng", 1991, 106, "submitted_to_pm"),
    ("Phan Văn Kim", "Kim hoàn Định Công", "people", "Xưởng kim hoàn Định Công", 1970, 220,
     "submitted_to_president"),
    ("Trịnh Thị Mây", "Mây tre đan Phú Vinh", "meritorious", "Hợp tác xã mây Phú Vinh", 1987, 150, "awarded"),
]
# The stage each stop is past: a dossier goes through every step before its stop.
STOPS = ["province_review", "province_rejected", "province_passed", "ministry_review", "ministry_review_open",
         "ministry_rejected", "on_hold", "ministry_passed", "public_consultation", "public_consultation_over",
         "state_review", "state_review_open", "state_passed", "final_consultation_over", "submitted_to_pm",
         "submitted_to_president", "awarded"]

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
    for email, name, roles, province in ACCOUNTS:
        accounts.create_user(email, DEMO_PASSWORD, name, roles, province)
        lines.append(f"  {email:28} {DEMO_PASSWORD}  {', '.join(roles)} {province or ''}")

    # A rehearsal of round 6: intake open around today, the stage deadlines after it in the order the
    # app requires (services.rounds.validate_plan), the legal windows (10, 15, 20 days) unchanged.
    round6 = rounds.create_round(_user("admin@demo.vn"), RoundIn.model_validate({
        "number": 6,
        "name": "Xét tặng lần thứ 6 (diễn tập, dữ liệu mẫu)",
        "governing_decree": "43/2024",
        "intake_opens": (on - timedelta(days=30)).isoformat(),
        "intake_closes": (on + timedelta(days=45)).isoformat(),
        "deadlines": {
            "province_to_ministry": (on + timedelta(days=75)).isoformat(),
            "ministry_to_state": (on + timedelta(days=150)).isoformat(),
            "state_to_pm": (on + timedelta(days=210)).isoformat(),
            "announcement": (on + timedelta(days=270)).isoformat(),
        },
    }))
    lines.append(f"Round {round6.number}: intake {round6.intake_opens} → {round6.intake_closes}")

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
        data = _dossier_data(round6, i, name, craft, province, title, workplace, started, learners,
                             filed_by=None if owner is applicant else officer.full_name)
        nomination = service.create_nomination(owner, data)
        _advance(nomination, target, owner, officer)
        lines.append(f"  {nomination.code or '(nháp)':22} {name:18} {nomination.state}")
    lines += _national(round6)
    return lines


def _dossier_data(round6: Round, i: int, name, craft, province, title, workplace, started, learners,
                  filed_by: str | None, product_years=(2021, 2023)) -> NominationIn:
    """A complete declaration (Mẫu 01/02) for the demo; ``filed_by``: the Sở officer filing on paper's behalf."""
    birth = date(started - 20, 1 + i % 12, 1 + (i * 3) % 27)
    on = today()
    return NominationIn.model_validate(
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
                for y in product_years
            ],
            "learners_trained": learners,
            "filed_by": {"relationship": "self", "full_name": None}
            if filed_by is None else {"relationship": "other", "full_name": filed_by},
        }
    )


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
        service.return_for_completion(
            n, officer,
            comment="Bổ sung bản sao chứng thực quyết định khen thưởng và ảnh sản phẩm.",
            missing=["Bản sao chứng thực quyết định khen thưởng đã kê khai",
                     "Ảnh chụp rõ nét các sản phẩm tiêu biểu"])
        if target == "closed_incomplete":
            # Returned long enough ago that the applicant's completion period is over (issue 14).
            earlier = now_utc() - timedelta(days=n.round.completion_days + 5)
            db.session.execute(sa.update(Nomination).where(Nomination.id == n.id).values(returned_at=earlier)
                               .execution_options(synchronize_session="fetch"))
            db.session.commit()
            db.session.refresh(n)
            service.close_incomplete(n, officer, comment="Quá 15 ngày, người đề nghị không bổ sung hồ sơ.")
        return
    service.perform(n, Action.ACCEPT, officer, comment="Hồ sơ đầy đủ, hợp lệ.")


# -- the national stages ------------------------------------------------------------------------------


def _council(level, chair_prefix, names, title, decision_no, roles, round_id, on) -> Council:
    members = [_user(f"{chair_prefix}@demo.vn")]
    for i, name in enumerate(names, start=2):
        members.append(accounts.create_user(f"{chair_prefix}{i}@demo.vn", DEMO_PASSWORD, name, roles, None))
    return councils.create_council(_user("bo@demo.vn"), CouncilIn.model_validate({
        "level": level, "round_id": round_id, "name": title, "decision_no": decision_no,
        "decision_date": (on - timedelta(days=20)).isoformat(),
        "members": [{"email": u.email, "position": "chair" if i == 0 else
                     ("vice_chair" if i == 1 else "member"), "authorised_to_preside": i == 1}
                    for i, u in enumerate(members)],
    }))


def run_session(secretariat, council: Council, yes: list[Nomination], no: list[Nomination] = (),
                place: str = "", close: bool = True, abstain: set[str] = frozenset()) -> CouncilSession:
    """A council session through the real operations: agenda, every member present, the vote, the tally.

    Every member votes yes on ``yes`` and no on ``no``; members whose e-mail is in ``abstain`` do not vote,
    and with ``close=False`` the vote stays open (a visitor casts the last ballot and closes it).
    """
    agenda = [*yes, *no]
    session = councils.create_session(secretariat, council, SessionIn.model_validate(
        {"held_on": today().isoformat(), "place": place or None, "nomination_ids": [n.id for n in agenda]}))
    members = [m.user for m in council.members]
    councils.set_attendance(secretariat, session, [u.email for u in members])
    councils.open_session(secretariat, session)
    choices = {**{str(n.id): "yes" for n in yes}, **{str(n.id): "no" for n in no}}
    for user in members:
        if user.email not in abstain:
            councils.cast_ballot(user, session, choices)
    if close:
        councils.close_session(secretariat, session)
    return session


def _pinned_today(day: date):
    """Run an operation as if on ``day`` (the ``TODAY`` setting), then go back to the real calendar."""
    from contextlib import contextmanager

    from flask import current_app

    @contextmanager
    def pinned():
        before = current_app.config.get("TODAY")
        current_app.config["TODAY"] = day.isoformat()
        try:
            yield
        finally:
            current_app.config["TODAY"] = before

    return pinned()


def _national(round6: Round) -> list[str]:
    """The second group: dossiers past the province, one waiting at every stage, and the councils."""
    on = today()
    lines = []
    for level, prefix, names, title, decision_no, roles in DEMO_COUNCILS:
        _council(level, prefix, names, title, decision_no, roles, round6.id, on)
        lines.append(f"  Council: {title} ({len(names) + 1} members: {prefix}@demo.vn chairs, "
                     f"{prefix}2..{len(names) + 1}@demo.vn)")
    officer, ministry, government = _user("so.hanoi@demo.vn"), _user("bo@demo.vn"), _user("chinhphu@demo.vn")
    by_stop: dict[str, Nomination] = {}
    for i, (name, craft, title, workplace, started, learners, stop) in enumerate(NATIONAL_DOSSIERS):
        # ten works of their own making (Art. 7): these went up the whole chain
        data = _dossier_data(round6, i + 40, name, craft, "HNI", title, workplace, started, learners,
                             filed_by=officer.full_name, product_years=range(2014, 2025))
        n = service.create_nomination(officer, data)
        service.perform(n, Action.SUBMIT, officer)
        service.perform(n, Action.ACCEPT, officer, comment="Hồ sơ đầy đủ, hợp lệ.")
        by_stop[stop] = n

    def past(stop):  # the dossiers that go on beyond ``stop``
        return [by_stop[s] for s in STOPS[STOPS.index(stop) + 1:]]

    council_of = {c.level: c for c in db.session.scalars(sa.select(Council).where(Council.round_id == round6.id))}
    place = {"province": "Trụ sở Sở Công Thương Hà Nội, 331 Cầu Giấy", "ministry": "Bộ Công Thương, 54 Hai Bà Trưng",
             "state": "Văn phòng Chính phủ, 1 Hoàng Hoa Thám"}
    # Province: one session closed (one dossier not proposed), one still voting (every member but the chair).
    province = [by_stop[s] for s in STOPS if s not in ("province_review",)]
    rejected = by_stop["province_rejected"]
    run_session(officer, council_of["province"], [n for n in province if n is not rejected], [rejected],
                place["province"])
    run_session(officer, council_of["province"], [by_stop["province_review"]], place=place["province"],
                close=False, abstain={"hoidong.hanoi@demo.vn"})
    for n in past("province_passed"):
        service.perform(n, Action.FORWARD_TO_MINISTRY, officer, comment="Tờ trình số 45/TTr-SCT.")
    # Ministry: one dossier waits for a session, one is on a session still voting, one is held.
    service.perform(by_stop["on_hold"], Action.HOLD, ministry, comment="Xác minh giải thưởng năm 2021.")
    voted = [by_stop[s] for s in STOPS[STOPS.index("ministry_rejected"):] if s != "on_hold"]
    rejected = by_stop["ministry_rejected"]
    run_session(ministry, council_of["ministry"], [n for n in voted if n is not rejected], [rejected],
                place["ministry"])
    run_session(ministry, council_of["ministry"], [by_stop["ministry_review_open"]], place=place["ministry"],
                close=False, abstain={"hoidong.bo@demo.vn"})
    # The first public consultation: one running now, the others opened 25 days ago (windows over).
    service.perform(by_stop["public_consultation"], Action.OPEN_CONSULTATION, ministry)
    with _pinned_today(on - timedelta(days=CONSULTATION_OPENED_DAYS_AGO)):
        for n in past("public_consultation"):
            service.perform(n, Action.OPEN_CONSULTATION, ministry)
    for n in past("public_consultation_over"):
        service.perform(n, Action.FORWARD_TO_STATE, ministry, comment="Tờ trình số 210/TTr-BCT.")
    # State council: one dossier waits for a session, one is on a session still voting.
    run_session(ministry, council_of["state"], past("state_review_open"), place=place["state"])
    run_session(ministry, council_of["state"], [by_stop["state_review_open"]], place=place["state"],
                close=False, abstain={"hoidong.nhanuoc@demo.vn"})
    # The second consultation, opened 25 days ago too; then the Prime Minister and the President.
    with _pinned_today(on - timedelta(days=CONSULTATION_OPENED_DAYS_AGO)):
        for n in past("state_passed"):
            service.perform(n, Action.OPEN_CONSULTATION, ministry)
    for n in past("final_consultation_over"):
        service.perform(n, Action.SUBMIT_TO_PM, ministry, comment="Tờ trình số 15/TTr-BCT.")
    for n in past("submitted_to_pm"):
        service.perform(n, Action.SUBMIT_TO_PRESIDENT, government, comment="Tờ trình số 302/TTr-CP.")
    service.perform(by_stop["awarded"], Action.RECORD_AWARD, government, decision_no="1985/QĐ-CTN",
                    decision_date=on, comment="Quyết định phong tặng đợt 6.")
    for stop, n in by_stop.items():
        lines.append(f"  {n.code:22} {n.full_name:18} {n.state} ({stop})")
    return lines
