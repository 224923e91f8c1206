"""A populated application for the crawling, accessibility and screenshot tests.

The demo data (``artisan_awards.demo.seed``: one account per role, round 6, a dozen dossiers in
various states, the Hà Nội provincial council) plus two council sessions on the Hà Nội council:
one closed (every member voted, so there is a tally and a public result) and one open (so a
member has a ballot to fill in); a dossier submitted now, whose code and access key are kept for
the public lookup; a queued round export.  Everything is made through the real operations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa

from artisan_awards.demo import DEMO_PASSWORD, seed
from artisan_awards.extensions import db
from artisan_awards.models import Council, DocumentTask, Nomination, Round
from artisan_awards.schemas import SessionIn
from artisan_awards.services import accounts, councils, data_rights
from artisan_awards.services import nominations as service
from artisan_awards.services.queries import key_hash
from artisan_awards.timeutil import VN, now_utc, today
from workflows.states import Action

# The account that shows each role (demo e-mail addresses).
ROLE_ACCOUNTS = {
    "applicant": "ungvien@demo.vn",
    "province_officer": "so.hanoi@demo.vn",
    "province_council_member": "hoidong.hanoi@demo.vn",
    "ministry_officer": "bo@demo.vn",
    "ministry_council_member": "hoidong.bo@demo.vn",
    "state_council_member": "hoidong.nhanuoc@demo.vn",
    "government_officer": "chinhphu@demo.vn",
    "admin": "admin@demo.vn",
    "data_officer": "baovedulieu@demo.vn",
}
PASSWORD = DEMO_PASSWORD


@dataclass
class World:
    round_id: int
    council_id: int
    open_session_id: int
    closed_session_id: int
    task_id: int
    breach_id: int = 0
    nominations: dict[str, int] = field(default_factory=dict)  # "<state>" or "<state>-<province>" -> id
    users: dict[str, int] = field(default_factory=dict)  # role -> user id
    access_key: str = ""
    code: str = ""
    # a dossier that went far (awarded), with an access key known to the tests: the public timeline
    path_code: str = ""
    path_key: str = ""
    data_request_id: int = 0  # the demo applicant's correction request (issue 17)
    partner_id: int = 0  # a partner system that files dossiers (issue 19)
    subscriber_id: int = 0  # a webhook subscriber of the event outbox (issue 19)
    delivery_id: int = 0  # one of its deliveries, dead-lettered
    scheme_id: int = 0  # a national khuyến công scheme of the demo applicant, approved and reported on

    def url_values(self) -> dict[str, list[int]]:
        """Values to put into each URL argument when crawling."""
        return {
            "nomination_id": sorted(set(self.nominations.values())),
            "session_id": [self.open_session_id, self.closed_session_id],
            "council_id": [self.council_id],
            "round_id": [self.round_id],
            "task_id": [self.task_id],
            "breach_id": [self.breach_id],
            "user_id": [self.users["applicant"], self.users["province_council_member"]],
            "request_id": [self.data_request_id],
            "partner_id": [self.partner_id],
            "subscriber_id": [self.subscriber_id],
            "delivery_id": [self.delivery_id],
            "scheme_id": [self.scheme_id],
            # another programme's dossier (the scheme) on the generic programme pages
            "programme_id": ["khuyen-cong-schemes"],
            "dossier_id": [self.scheme_id],
            "attachment_id": [],  # the scheme has no evidence file: its download page is not crawled
            # a typical product's scoring levels: the demo world has no product dossier, so the scorers' pages
            # are not crawled here (tests/test_typical_products_browser.py walks them in Vietnamese)
            "level": [],
        }


def build() -> World:
    """Seed the demo data and the two sessions; call inside an app context."""
    seed()
    user = accounts.find_user
    officer = user(ROLE_ACCOUNTS["province_officer"])
    council = db.session.scalar(sa.select(Council).where(Council.province_code == "HNI"))
    accepted = list(db.session.scalars(
        sa.select(Nomination).where(Nomination.state == "accepted", Nomination.province_code == "HNI")
        .order_by(Nomination.id)))
    members = [m.user for m in council.members]

    closed = councils.create_session(officer, council, SessionIn.model_validate(
        {"held_on": (today() + timedelta(days=5)).isoformat(), "place": "Trụ sở Sở Công Thương Hà Nội",
         "nomination_ids": [accepted[0].id]}))
    councils.set_attendance(officer, closed, [m.email for m in members])
    councils.open_session(officer, closed)
    for member in members:
        councils.cast_ballot(member, closed, {str(accepted[0].id): "yes"})
    councils.close_session(officer, closed)

    open_ = councils.create_session(officer, council, SessionIn.model_validate(
        {"held_on": (today() + timedelta(days=12)).isoformat(), "place": "Trụ sở Sở Công Thương Hà Nội",
         "nomination_ids": [accepted[1].id]}))
    councils.set_attendance(officer, open_, [m.email for m in members])
    councils.open_session(officer, open_)

    # A dossier filed now (Bắc Ninh, by the demo applicant): its code and access key are known.
    sam = db.session.scalar(sa.select(Nomination).where(Nomination.state == "draft",
                                                        Nomination.province_code == "BNH"))
    key = service.perform(sam, Action.SUBMIT, user(ROLE_ACCOUNTS["applicant"]))

    # The awarded dossier's key was shown once at its submission: give it one the tests know.
    far = db.session.scalar(sa.select(Nomination).where(Nomination.state == "awarded").order_by(Nomination.id))
    path_key = service._new_access_key()
    far.access_key_hash = key_hash(path_key)
    round_id = db.session.scalar(sa.select(Round.id).where(Round.number == 6))
    # A round export that a ministry officer asked for (queued: its page shows the progress).
    task = DocumentTask(round_id=round_id, requested_by_id=user(ROLE_ACCOUNTS["ministry_officer"]).id, total=12)
    db.session.add(task)
    db.session.commit()
    # A personal data request of the demo applicant, waiting for the data officer (issue 17).
    data_request = data_rights.open_request(user(ROLE_ACCOUNTS["applicant"]), "correction",
                                            "Năm sinh của nghệ nhân ghi sai.")
    world = World(round_id=round_id, council_id=council.id, open_session_id=open_.id,
                  closed_session_id=closed.id, task_id=task.id, code=sam.code, access_key=key,
                  path_code=far.code, path_key=path_key,
                  data_request_id=data_request.id)
    for n in db.session.scalars(sa.select(Nomination).order_by(Nomination.id)):
        world.nominations.setdefault(f"{n.state}-{n.province_code}", n.id)
        world.nominations.setdefault(str(n.state), n.id)
    for role, email in ROLE_ACCOUNTS.items():
        world.users[role] = user(email).id
    # A personal data breach on the data officer's desk (its page drafts the notices).
    from werkzeug.datastructures import MultiDict

    from artisan_awards.services import data_officer

    discovered = (now_utc() - timedelta(hours=5)).astimezone(VN).strftime("%Y-%m-%dT%H:%M")
    world.breach_id = data_officer.record_breach(user(ROLE_ACCOUNTS["data_officer"]), data_officer.parse_breach(
        MultiDict({"description": "Một bản xuất danh sách hồ sơ bị gửi nhầm địa chỉ thư điện tử",
                   "discovered_at": discovered, "affected_count": "12", "classes": "phone",
                   "measures": "Đề nghị người nhận xóa thư"}))).id
    # A partner system (the national portal), as the administrator registers it (issue 19).
    from artisan_awards.integration import partners

    world.partner_id = partners.create_partner(user(ROLE_ACCOUNTS["admin"]), "DVCQG", "Cổng Dịch vụ công quốc gia",
                                               "Cổng Dịch vụ công quốc gia")[0].id
    # A webhook subscriber and one dead letter, as the administrator sees them (issue 19).
    from tests.outbox_helpers import dead_letter, subscribe

    subscriber = subscribe(user(ROLE_ACCOUNTS["admin"]), "https://vanban.example.vn/hook",
                           events=["decision.recorded"], name="Hệ thống quản lý văn bản của Bộ")
    world.subscriber_id = subscriber.id
    world.delivery_id = dead_letter(subscriber, accepted[0]).id
    world.scheme_id = _scheme(user(ROLE_ACCOUNTS["ministry_officer"]), user(ROLE_ACCOUNTS["applicant"])).id
    return world


def _scheme(ministry, applicant):
    """A scheme year with one scheme of the demo applicant, approved in the plan and reported on (issue 18)."""
    from artisan_awards.services import programmes, schemes

    year = schemes.open_year(ministry, {
        "plan_year": today().year + 1, "guidance_number": "400/CTĐP-QLKC", "guidance_date": today().isoformat(),
        "guidance_text": "Hướng dẫn xây dựng kế hoạch khuyến công quốc gia.",
        "intake_opens": today().isoformat(), "intake_closes": (today() + timedelta(days=60)).isoformat()})
    scheme = schemes.propose(applicant, year, {
        "province_code": "HNI", "title": "Lò nung gốm tiết kiệm năng lượng", "content_area": year.content_areas[0],
        "proposer_kind": "Trung tâm khuyến công tỉnh", "proposer_name": "Trung tâm Khuyến công Hà Nội",
        "beneficiaries": "Các hộ sản xuất gốm", "beneficiary_count": 30},
        [{"item": "Lò nung", "state_amount": 800_000_000, "cofinancing": 200_000_000}])
    programmes.perform(scheme, "submit", applicant)
    programmes.perform(scheme, "accept", ministry)
    schemes.appraise(ministry, scheme, {"score": 88, "amount": 700_000_000, "comment": "Phù hợp."})
    schemes.approve_plan(ministry, year, {"decision_number": "2285/QĐ-BCT", "decision_date": today().isoformat()})
    schemes.add_record(applicant, scheme, "report", {"on_date": today().isoformat(), "period": "Quý I",
                                                     "progress_percent": 40, "text": "Đang lắp đặt lò nung."})
    return scheme


def data_strings() -> set[str]:
    """Every string stored in the database (names, crafts, provinces ...): data, not UI text."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            if len(value.strip()) > 1:
                found.add(value.strip())
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if _textual(c)]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            walk(list(row))
    return found


def _textual(column) -> bool:
    if isinstance(column.type, sa.JSON):  # JSON's python_type is ``object``: its strings are stored data too
        return True
    try:
        return column.type.python_type in (str, dict, list)
    except NotImplementedError:
        return False


def log_in(page, role: str) -> None:
    """Log ``role``'s demo account in through the login form of a Playwright page (the public: no-op)."""
    from tests.plugins.browser import log_in as log_in_as

    if role != "public":
        log_in_as(page, ROLE_ACCOUNTS[role], PASSWORD)
