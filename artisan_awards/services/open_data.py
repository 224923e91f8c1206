"""Open data: the results, consultation lists and titles that the law publishes, as CSV and JSON files with
a field dictionary (a Frictionless Data Package).  See docs/open-data.md.

What goes into a file is decided here, once, field by field (``DATASETS``): each published field names the
provision that publishes it (``legal_basis``) and the column it comes from (``source``, checked against the
house's register ``personal_fields.SENSITIVITY`` by tests/test_open_data.py).  What is never published is the
list ``WITHHELD``, each with the reason.  Which dossiers appear is read from the append-only transition log:
a row exists only once the event that the law publishes has happened (the provincial council's proposal, the
opening of a 20-day posting on the Government e-portal, the President's decision).

* A **withdrawn** dossier is left out of every file from the moment of its withdrawal (as from the public
  results page): the person asked to stop, and a list posted earlier is not re-published by us.
* A dossier whose personal data the retention job anonymised (``personal_data_erased_at``) keeps the rows of
  the council decisions and of the President's decision (archival public records), never its year of birth;
  one whose name was anonymised has no row at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from workflows.programme import ARTISAN_ID
from workflows.states import N_, Action, CouncilEvent, State

from .. import personal_fields
from ..extensions import db
from ..models import Nomination, Province, Round, TransitionLog
from ..text import vi_sort_key
from ..timeutil import as_utc, local_date
from .retention import ANONYMISED_NAME

VERSION = "v1"
FORMATS = ("csv", "json")

# -- the legal basis of each published field ------------------------------------------------------------
ROUND_BASIS = N_("Điều 4 Nghị định 43/2024/NĐ-CP: danh hiệu được xét tặng theo đợt, ba năm một lần; "
                 "mọi thông báo kết quả ghi đợt xét tặng.")
POSTING_BASIS = N_("Điều 16 khoản 1 điểm c và khoản 2 điểm c Nghị định 43/2024/NĐ-CP: danh sách đề nghị "
                   "được đăng trên Cổng thông tin điện tử Chính phủ 20 ngày để lấy ý kiến nhân dân.")
DECISION_BASIS = N_("Quyết định phong tặng của Chủ tịch nước (Điều 5 Nghị định 43/2024/NĐ-CP; Luật Thi đua, "
                    "khen thưởng 2022) là văn bản công bố công khai: số, ngày, danh hiệu, người được phong tặng.")
LIST_BASIS = N_("Danh sách đề nghị (Mẫu 04 Nghị định 43/2024/NĐ-CP) được công bố, đăng công khai ghi họ tên, "
                "năm sinh, nghề, tỉnh và danh hiệu đề nghị (Điều 14 điểm d, Điều 16 khoản 1 và 2 điểm c).")
LEVEL_BASIS = N_("Điều 14 điểm d (kết quả của Hội đồng cấp tỉnh) và Điều 16 khoản 1, 2 điểm c (danh sách đăng lấy ý "
                 "kiến nhân dân) Nghị định 43/2024/NĐ-CP; quyết định phong tặng của Chủ tịch nước.")
LABEL_BASIS = N_("Tên tiếng Việt của mã ở cột liền trước; không thêm thông tin nào.")

LEVELS = {
    "province": N_("Hội đồng cấp tỉnh đề nghị"),
    "ministry": N_("Danh sách Hội đồng cấp Bộ đề nghị, đăng lấy ý kiến lần thứ nhất"),
    "state": N_("Danh sách Hội đồng cấp Nhà nước đề nghị, đăng lấy ý kiến lần thứ hai"),
    "president": N_("Chủ tịch nước quyết định phong tặng"),
}
WINDOWS = {
    "national_1": N_("Lấy ý kiến nhân dân trước Hội đồng cấp Nhà nước (Điều 16 khoản 1 điểm c)"),
    "national_2": N_("Lấy ý kiến nhân dân sau Hội đồng cấp Nhà nước (Điều 16 khoản 2 điểm c)"),
}
TITLES = {"people": N_("Nghệ nhân nhân dân"), "meritorious": N_("Nghệ nhân ưu tú")}
# The window a posting belongs to, from the state its opening left.
WINDOW_OF = {State.MINISTRY_PASSED: "national_1", State.STATE_PASSED: "national_2"}
LEVEL_OF_WINDOW = {"national_1": "ministry", "national_2": "state"}
# The log rows that publish something, and those that change what is published (withdrawal, a transfer).
PUBLISHING = (CouncilEvent.PROVINCE_PASS.value, Action.OPEN_CONSULTATION.value, Action.RECORD_AWARD.value)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str  # Vietnamese (N_), English through the catalogue
    legal_basis: str
    source: str | None = None  # "table.column" of the house's register; None for a derived label
    constraints: dict = field(default_factory=dict)
    format: str | None = None
    personal: bool = False


def _round(basis=ROUND_BASIS):
    return Field("round", "integer", N_("Đợt xét tặng (lần thứ)"), basis, "rounds.number",
                 {"required": True, "minimum": 1})


def _province(basis):
    return [Field("province_code", "string", N_("Mã tỉnh, thành phố"), basis, "nominations.province_code",
                  {"required": True, "pattern": "[A-Z0-9]{2,4}"}),
            Field("province_name", "string", N_("Tỉnh, thành phố"), LABEL_BASIS, "provinces.name",
                  {"required": True})]


def _person(basis, birth_year: bool):
    fields = [Field("full_name", "string", N_("Họ và tên"), basis, "nominations.full_name",
                    {"required": True, "minLength": 1, "maxLength": 200})]
    if birth_year:
        fields.append(Field("birth_year", "integer", N_("Năm sinh"), LIST_BASIS, "nominations.birth_date",
                            {"minimum": 1880, "maximum": 2100}))
    fields.append(Field("craft", "string", N_("Nghề"), basis, "nominations.craft", {"maxLength": 200}))
    return fields


def _title(basis, source="nominations.title"):
    return [Field("title", "string", N_("Danh hiệu (mã)"), basis, source,
                  {"required": True, "enum": list(TITLES)}),
            Field("title_name", "string", N_("Danh hiệu"), LABEL_BASIS, None, {"required": True}),
            Field("posthumous", "boolean", N_("Truy tặng"), basis, "nominations.posthumous", {"required": True})]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    description: str
    update: str
    fields: tuple[Field, ...]


DATASETS: dict[str, Dataset] = {
    "results": Dataset(
        "results", N_("Kết quả xét chọn các cấp"),
        N_("Mỗi dòng là một kết quả đã được công bố của một người: Hội đồng cấp tỉnh đề nghị (Điều 14 điểm d), "
           "danh sách cấp Bộ và cấp Nhà nước khi được đăng lấy ý kiến (Điều 16), quyết định phong tặng của "
           "Chủ tịch nước. Kết quả không đề nghị và số phiếu không được công bố."),
        N_("Cập nhật ngay khi có kết quả mới được công bố."),
        (
            _round(),
            Field("level", "string", N_("Cấp công bố (mã)"), LEVEL_BASIS,
                  None, {"required": True, "enum": list(LEVELS)}),
            Field("level_name", "string", N_("Cấp công bố"), LABEL_BASIS, None, {"required": True}),
            Field("published_on", "date", N_("Ngày công bố"), LEVEL_BASIS,
                  "transition_log.at", {"required": True}),
            *_province(LIST_BASIS),
            *_person(LIST_BASIS, birth_year=True),
            *_title(LIST_BASIS),
            Field("decision_no", "string", N_("Số quyết định của Chủ tịch nước"), DECISION_BASIS,
                  "nominations.decision_no", {"maxLength": 60}),
            Field("decision_date", "date", N_("Ngày quyết định"), DECISION_BASIS, "nominations.decision_date"),
        ),
    ),
    "consultations": Dataset(
        "consultations", N_("Danh sách lấy ý kiến nhân dân"),
        N_("Mỗi dòng là một người có tên trong một lần đăng danh sách lấy ý kiến nhân dân trên Cổng thông tin "
           "điện tử Chính phủ (hai lần, mỗi lần 20 ngày, Điều 16), với ngày mở và ngày kết thúc. Hệ thống "
           "không tổ chức lấy ý kiến ở cấp tỉnh."),
        N_("Cập nhật ngay khi một danh sách được đăng."),
        (
            _round(POSTING_BASIS),
            Field("window", "string", N_("Lần lấy ý kiến (mã)"), POSTING_BASIS, None,
                  {"required": True, "enum": list(WINDOWS)}),
            Field("window_name", "string", N_("Lần lấy ý kiến"), LABEL_BASIS, None, {"required": True}),
            Field("opens_on", "date", N_("Ngày bắt đầu lấy ý kiến"), POSTING_BASIS, "transition_log.at",
                  {"required": True}),
            Field("closes_on", "date", N_("Ngày kết thúc lấy ý kiến"), POSTING_BASIS, "nominations.consultation_ends",
                  {"required": True}),
            *_province(LIST_BASIS),
            *_person(LIST_BASIS, birth_year=True),
            *_title(LIST_BASIS),
        ),
    ),
    "certificates": Dataset(
        "certificates", N_("Danh hiệu đã được phong tặng"),
        N_("Mỗi dòng là một danh hiệu Chủ tịch nước đã phong tặng: số và ngày quyết định, danh hiệu, họ tên, "
           "nghề, tỉnh, truy tặng."),
        N_("Cập nhật ngay khi quyết định phong tặng được ghi nhận."),
        (
            _round(DECISION_BASIS),
            Field("decision_no", "string", N_("Số quyết định của Chủ tịch nước"), DECISION_BASIS,
                  "nominations.decision_no", {"required": True, "maxLength": 60}),
            Field("decision_date", "date", N_("Ngày quyết định"), DECISION_BASIS, "nominations.decision_date",
                  {"required": True}),
            *_title(DECISION_BASIS, "nominations.award_title"),
            *_person(DECISION_BASIS, birth_year=False),
            *_province(DECISION_BASIS),
        ),
    ),
}

# What no file ever holds, and why (the dictionary lists them so that a reader knows they are left out).
NO_BASIS = N_("Không văn bản nào yêu cầu công bố; Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15 chỉ cho xử lý "
              "dữ liệu cần cho mục đích: không đưa vào dữ liệu mở.")
WITHHELD: tuple[Field, ...] = (
    Field("birth_date", "date", N_("Ngày sinh đầy đủ"), N_("Danh sách công bố chỉ ghi năm sinh."),
          "nominations.birth_date", personal=True),
    Field("address", "string", N_("Địa chỉ nơi cư trú"), NO_BASIS, "nominations.address", personal=True),
    Field("phone", "string", N_("Số điện thoại"), NO_BASIS, "nominations.phone", personal=True),
    Field("email", "string", N_("Thư điện tử"), NO_BASIS, "nominations.email", personal=True),
    Field("identity_number", "string", N_("Số định danh cá nhân, căn cước"), NO_BASIS, None, personal=True),
    Field("family_contact", "string", N_("Người thân đại diện và liên hệ của gia đình"), NO_BASIS,
          "nominations.family_contact_phone", personal=True),
    Field("evidence", "string", N_("Tài liệu, minh chứng của hồ sơ"), NO_BASIS, "attachments.original_name",
          personal=True),
    Field("comments", "string", N_("Ý kiến, khiếu nại của nhân dân và người góp ý"), NO_BASIS,
          "public_comments.full_name", personal=True),
    Field("votes", "integer", N_("Số phiếu của các Hội đồng"),
          N_("Số phiếu không được công bố (Hội đồng cấp Nhà nước không công bố số phiếu; phiếu bầu kín)."),
          "agenda_items.yes"),
    Field("code", "string", N_("Mã hồ sơ, mã tra cứu"),
          N_("Chỉ người nộp được tra cứu hồ sơ của mình (bằng mã hồ sơ và mã tra cứu)."), "nominations.code"),
)


def dataset(name: str) -> Dataset | None:
    return DATASETS.get(name)


def rounds() -> list[int]:
    """The artisan titles' round numbers (the datasets' filter; another programme's rounds are not award rounds)."""
    return list(db.session.scalars(sa.select(Round.number).where(Round.programme_id == ARTISAN_ID)
                                   .order_by(Round.number)))


def round_exists(number: int) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Round.number == number,
                                                         Round.programme_id == ARTISAN_ID)))


# -- the rows ---------------------------------------------------------------------------------------------


def _events(round_number: int | None):
    stmt = (
        sa.select(TransitionLog, Nomination, Round.number, Province.name)
        .join(Nomination, Nomination.id == TransitionLog.nomination_id)
        .join(Round, Round.id == Nomination.round_id)
        .join(Province, Province.code == Nomination.province_code)
        .where(TransitionLog.action.in_(PUBLISHING))
        .where(Nomination.state != State.WITHDRAWN.value)
        .where(Nomination.full_name != ANONYMISED_NAME)
        .order_by(TransitionLog.id)
    )
    if round_number is not None:
        stmt = stmt.where(Round.number == round_number)
    return db.session.execute(stmt).all()


def _birth_year(n: Nomination) -> int | None:
    if n.personal_data_erased_at is not None or n.birth_date is None:
        return None
    return n.birth_date.year


def _person_values(n: Nomination, number: int, province: str, birth_year: bool = True) -> dict:
    values = {"round": number, "province_code": n.province_code, "province_name": province,
              "full_name": n.full_name, "craft": n.craft or None,
              "title": n.title, "title_name": TITLES.get(n.title, n.title), "posthumous": bool(n.posthumous)}
    if birth_year:
        values["birth_year"] = _birth_year(n)
    return values


def _closes_on(log: TransitionLog, n: Nomination, latest_opening: dict[int, int]) -> date | None:
    if latest_opening.get(n.id) == log.id and n.consultation_ends is not None:
        return n.consultation_ends  # the current window: its end as it stands now
    ends = (log.meta or {}).get("consultation_ends")
    return date.fromisoformat(ends) if ends else n.consultation_ends


def rows(name: str, round_number: int | None = None) -> list[dict]:
    """The rows of a dataset, in a stable order, each with every field of its schema (None when empty)."""
    ds = DATASETS[name]
    events = _events(round_number)
    latest_opening: dict[int, int] = {}
    for log, n, _number, _province_name in events:
        if log.action == Action.OPEN_CONSULTATION:
            latest_opening[n.id] = log.id
    found: dict[tuple, dict] = {}
    for log, n, number, province in events:
        on = local_date(log.at)
        if log.action == Action.OPEN_CONSULTATION and (log.meta or {}).get("consultation_opens"):
            on = date.fromisoformat(log.meta["consultation_opens"])  # the posting's first day, as recorded
        if name == "results":
            if log.action == CouncilEvent.PROVINCE_PASS:
                level, extra = "province", {}
            elif log.action == Action.OPEN_CONSULTATION and log.from_state in WINDOW_OF:
                level, extra = LEVEL_OF_WINDOW[WINDOW_OF[log.from_state]], {}
            elif log.action == Action.RECORD_AWARD and n.state == State.AWARDED:
                level, extra = "president", {"decision_no": n.decision_no, "decision_date": n.decision_date,
                                             "title": n.award_title or n.title,
                                             "title_name": TITLES.get(n.award_title or n.title)}
            else:
                continue
            row = _person_values(n, number, province) | {"level": level, "level_name": LEVELS[level],
                                                         "published_on": on} | extra
            key = (n.id, level)
        elif name == "consultations":
            if log.action != Action.OPEN_CONSULTATION or log.from_state not in WINDOW_OF:
                continue
            window = WINDOW_OF[log.from_state]
            row = _person_values(n, number, province) | {
                "window": window, "window_name": WINDOWS[window], "opens_on": on,
                "closes_on": _closes_on(log, n, latest_opening)}
            key = (n.id, window)
        else:
            if log.action != Action.RECORD_AWARD or n.state != State.AWARDED or not n.decision_no:
                continue
            title = n.award_title or n.title
            row = _person_values(n, number, province, birth_year=False) | {
                "decision_no": n.decision_no, "decision_date": n.decision_date,
                "title": title, "title_name": TITLES.get(title, title)}
            key = (n.id,)
        found.setdefault(key, row)  # the first publication of a fact stands
    names = [f.name for f in ds.fields]
    ordered = sorted(found.values(), key=lambda r: _order(name, r))
    return [{k: r.get(k) for k in names} for r in ordered]


LEVEL_ORDER = {level: i for i, level in enumerate(LEVELS)}
WINDOW_ORDER = {window: i for i, window in enumerate(WINDOWS)}


def _order(name: str, r: dict) -> tuple:
    if name == "results":
        head = (r["round"], LEVEL_ORDER[r["level"]], r["province_code"])
    elif name == "consultations":
        head = (r["round"], WINDOW_ORDER[r["window"]], r["province_code"])
    else:
        head = (r["round"], r["decision_date"], r["decision_no"], r["province_code"])
    return (*head, r["title"], vi_sort_key(r["full_name"]), r["full_name"], r.get("birth_year") or 0)


def last_modified(round_number: int | None = None) -> datetime | None:
    """The last change of anything a file may show: a publishing event, a withdrawal or transfer of a
    dossier that had one, an erasure, an edit of the dossier (``updated_at``)."""
    published = sa.exists().where(TransitionLog.nomination_id == Nomination.id,
                                  TransitionLog.action.in_(PUBLISHING))
    stmt = sa.select(sa.func.max(Nomination.updated_at)).where(published)
    if round_number is not None:
        stmt = stmt.join(Round, Round.id == Nomination.round_id).where(Round.number == round_number)
    moment = db.session.scalar(stmt)
    return as_utc(moment).replace(microsecond=0) if moment else None


def _vi(text: str) -> str:
    with force_locale("vi"):
        return _(text)


# -- the dictionary ---------------------------------------------------------------------------------------


def _en(text: str) -> str:
    with force_locale("en"):
        return _(text)


def _field_descriptor(f: Field) -> dict:
    out = {"name": f.name, "title": _vi(f.title), "title_en": _en(f.title), "type": f.type}
    if f.type == "date":
        out["format"] = "default"  # ISO 8601, yyyy-mm-dd
    if f.constraints:
        out["constraints"] = dict(f.constraints)
    out["personal"] = f.personal
    out["legal_basis"] = _vi(f.legal_basis)
    out["legal_basis_en"] = _en(f.legal_basis)
    if f.source:
        out["source"] = f.source
        out["sensitivity"] = _sensitivity(f.source)
    return out


def _sensitivity(source: str) -> str:
    table, column = source.split(".")
    return personal_fields.SENSITIVITY[table][column]


def schema(name: str) -> dict:
    ds = DATASETS[name]
    return {"fields": [_field_descriptor(f) for f in ds.fields], "missingValues": [""]}


def datapackage(license_name: str, license_url: str, license_title: str) -> dict:
    """The Frictionless Data Package: one CSV and one JSON resource per dataset, each with its Table
    Schema; every field with ``personal`` and its ``legal_basis``; ``withheld`` lists what no file holds."""
    resources = []
    for ds in DATASETS.values():
        common = {"title": _vi(ds.title), "title_en": _en(ds.title), "description": _vi(ds.description),
                  "description_en": _en(ds.description), "update_frequency": _vi(ds.update),
                  "update_frequency_en": _en(ds.update), "profile": "tabular-data-resource"}
        resources.append({"name": ds.name, "path": f"{ds.name}.csv", "format": "csv", "mediatype": "text/csv",
                          "encoding": "utf-8-sig", **common,
                          "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
                          "per_round_path": f"rounds/{{round}}/{ds.name}.csv", "schema": schema(ds.name)})
        resources.append({"name": f"{ds.name}-json", "path": f"{ds.name}.json", "format": "json",
                          "mediatype": "application/json", "encoding": "utf-8", **common,
                          "per_round_path": f"rounds/{{round}}/{ds.name}.json", "schema": schema(ds.name)})
    return {
        "profile": "tabular-data-package",
        "name": "artisan-awards-open-data",
        "title": _vi(N_("Dữ liệu mở xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú")),
        "title_en": _en(N_("Dữ liệu mở xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú")),
        "version": "1.0.0",
        "licenses": [{"name": license_name, "path": license_url, "title": license_title}],
        "resources": resources,
        "withheld": [_field_descriptor(f) for f in WITHHELD],
    }


def catalogue(base_url: str, license_name: str, license_url: str, license_title: str) -> dict:
    """The API's catalogue: each dataset, its URLs (all rounds and per round), its dictionary."""
    numbers = rounds()
    root = base_url.rstrip("/")
    return {
        "version": VERSION,
        "datapackage": f"{root}/datapackage.json",
        "license": {"name": license_name, "path": license_url, "title": license_title},
        "rounds": numbers,
        "datasets": [{
            "name": ds.name, "title": _(ds.title), "description": _(ds.description), "update_frequency": _(ds.update),
            "fields": [f.name for f in ds.fields],
            "urls": {fmt: f"{root}/{ds.name}.{fmt}" for fmt in FORMATS},
            "rounds": [{"round": number, "urls": {fmt: f"{root}/rounds/{number}/{ds.name}.{fmt}" for fmt in FORMATS}}
                       for number in numbers],
        } for ds in DATASETS.values()],
    }
