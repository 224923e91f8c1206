"""The law's hard cases that are data (issue 14): the holiday calendar of working-day deadlines,
provinces' own intake deadlines, province mergers (the 2025 reorganisation) and dossier transfers,
and the round's record (what each council received, passed and rejected, per level and province).

Every operation checks, changes, logs and commits once, like the other services.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from importlib import resources

import sqlalchemy as sa

from workflows.law_days import DayKind
from workflows.machine import STAGE_OF, Stage
from workflows.programme import ARTISAN_ID
from workflows.states import N_, Action, State

from .. import audit_chain, permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..integration import outbox
from ..models import (
    AgendaItem,
    AuditKind,
    Council,
    CouncilSession,
    Nomination,
    Province,
    ProvinceIntake,
    PublicHoliday,
    Round,
    SessionStatus,
    Title,
    TransitionLog,
    User,
    forget_law_calendar,
    get_row,
)
from ..text import nfc, vi_order, vi_sort_key
from ..timeutil import now_utc, today
from . import admin_events, transaction

# The log action of a transfer (a move of province, not of state: from_state == to_state).
TRANSFER_ACTION = audit_chain.TRANSFER_ACTION
SYSTEM_NAME = "Hệ thống (chuyển tỉnh hợp nhất)"
# A concurrent writer changed the dossier first (the same words as services.nominations.CONFLICT).
CONFLICT = N_("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang.")


# -- the holiday calendar ----------------------------------------------------------------------

HOLIDAY_KINDS = {"off": N_("Ngày nghỉ"), "work": N_("Ngày làm bù")}
CONFIDENCE = {"H": N_("Cao (văn bản gốc)"), "M": N_("Trung bình"), "L": N_("Thấp (dự kiến)")}


def reference_holidays() -> list[dict]:
    """``artisan_awards/data/holidays.csv``: the seed of the calendar, with source and confidence."""
    text = resources.files("artisan_awards.data").joinpath("holidays.csv").read_text(encoding="utf-8")
    rows = []
    for line, raw in enumerate(csv.DictReader(text.splitlines()), start=2):
        if raw["kind"] not in HOLIDAY_KINDS or raw["confidence"] not in CONFIDENCE or not raw["name"]:
            raise ValueError(f"holidays.csv, line {line}: {raw}")
        rows.append({**raw, "day": date.fromisoformat(raw["day"]),
                     "statutory": statutory_default(raw["kind"], raw["name"])})
    return rows


# The API's three kinds (shared/api-v1.md v1.1) -> (kind, statutory); a working day is never statutory.
API_KINDS = {"holiday": ("off", True), "day_off": ("off", False), "make_up_workday": ("work", False)}
_COMPENSATORY = ("Nghỉ bù", "Nghỉ hoán đổi")


def statutory_default(kind: str, name: str) -> bool:
    """A new day off is a public holiday unless its name says it is compensatory or swapped."""
    return kind == "off" and not nfc(name or "").strip().startswith(_COMPENSATORY)


def api_kind(row: PublicHoliday) -> str:
    if row.kind == "work":
        return "make_up_workday"
    return "holiday" if row.statutory else "day_off"


def holiday_out(row: PublicHoliday) -> dict:
    return {"date": row.day.isoformat(), "name": row.name, "kind": api_kind(row), "source": row.source,
            "confidence": row.confidence}


def holidays(year: int | None = None) -> list[PublicHoliday]:
    stmt = sa.select(PublicHoliday).order_by(PublicHoliday.day)
    if year is not None:
        stmt = stmt.where(PublicHoliday.day.between(date(year, 1, 1), date(year, 12, 31)))
    return list(db.session.scalars(stmt))


def save_holiday(actor: User, day: date | None, kind: str, name: str, source: str = "",
                 confidence: str = "M", statutory: bool | None = None) -> PublicHoliday:
    """Add or change a day; ``statutory`` None keeps a day off's flag (a new one: ``statutory_default``)."""
    if not permissions.can_edit_holidays(actor):
        raise Forbidden()
    name = nfc(name or "").strip()
    fields = {}
    if day is None:
        fields["day"] = N_("Cần ngày.")
    if kind not in HOLIDAY_KINDS:
        fields["kind"] = N_("Loại ngày không hợp lệ.")
    if not name:
        fields["name"] = N_("Cần tên ngày nghỉ hoặc lý do làm bù.")
    if confidence not in CONFIDENCE:
        fields["confidence"] = N_("Độ tin cậy không hợp lệ.")
    if not fields and kind == "work" and day.weekday() < 5:
        fields["day"] = N_("Ngày làm bù phải là thứ Bảy hoặc Chủ nhật.")
    if fields:
        raise ValidationFailed(fields=fields)
    with transaction.one_transaction():
        row = db.session.get(PublicHoliday, day)
        before = None if row is None else {"kind": row.kind, "name": row.name}
        if row is None:
            row = PublicHoliday(day=day)
            db.session.add(row)
        if statutory is None:
            statutory = row.statutory if before is not None and row.kind == kind == "off" \
                else statutory_default(kind, name)
        row.kind, row.name, row.statutory = kind, name[:200], bool(statutory) and kind == "off"
        row.source, row.confidence = nfc(source or "").strip()[:300], confidence
        row.updated_by, row.updated_at = actor.full_name, now_utc()
        admin_events.record(AuditKind.HOLIDAY_CHANGED, actor, target_type="holiday", target_label=day.isoformat(),
                            before=before, after={"kind": kind, "name": row.name})
    forget_law_calendar()
    return row


def delete_holiday(actor: User, day: date) -> None:
    if not permissions.can_edit_holidays(actor):
        raise Forbidden()
    with transaction.one_transaction():
        row = db.session.get(PublicHoliday, day)
        if row is None:
            raise NotFound(N_("Không có ngày này trong lịch."), code="holiday_not_found")
        admin_events.record(AuditKind.HOLIDAY_CHANGED, actor, target_type="holiday", target_label=day.isoformat(),
                            before={"kind": row.kind, "name": row.name}, after=None)
        db.session.delete(row)
    forget_law_calendar()


def sync_holidays() -> int:
    """Add the reference days missing from the table (an administrator's edits are kept); the count added."""
    have = set(db.session.scalars(sa.select(PublicHoliday.day)))
    added = 0
    for ref in reference_holidays():
        if ref["day"] not in have:
            db.session.add(PublicHoliday(**ref))
            added += 1
    db.session.commit()
    forget_law_calendar()
    return added


# -- provinces' own intake deadlines ---------------------------------------------------------

def set_intake(actor: User, round_: Round, province_code: str, closes: date | None,
               note: str | None = None) -> ProvinceIntake | None:
    """Set (or, with ``closes`` None, remove) a province's own intake deadline in a round."""
    province = db.session.get(Province, province_code or "")
    if province is None or not province.active:
        raise ValidationFailed(fields={"province_code": N_("Tỉnh, thành phố không hợp lệ.")})
    if not permissions.can_set_intake(actor, province_code):
        raise Forbidden()
    with transaction.one_transaction():
        row = db.session.get(ProvinceIntake, (round_.id, province_code))
        before = row.intake_closes.isoformat() if row else None
        if closes is None:
            if row is not None:
                db.session.delete(row)
        else:
            if not round_.intake_opens <= closes <= round_.intake_closes:
                raise ValidationFailed(fields={"intake_closes": N_(
                    "Hạn của tỉnh phải nằm trong thời hạn tiếp nhận của đợt (%(opens)s – %(closes)s).")},
                    params={"opens": vn_date(round_.intake_opens),
                            "closes": vn_date(round_.intake_closes)})
            if row is None:
                row = ProvinceIntake(round_id=round_.id, province_code=province_code, intake_closes=closes)
                db.session.add(row)
            row.intake_closes, row.note = closes, (nfc(note).strip()[:300] if note else None)
            row.set_by_id, row.set_at = actor.id, now_utc()
        admin_events.record(AuditKind.INTAKE_CHANGED, actor, target=round_, province_code=province_code,
                            target_label=f"{round_.name} · {province.name}", before=before,
                            after=closes.isoformat() if closes else None)
    db.session.expire(round_, ["province_intakes"])
    return row if closes is not None else None


# -- province mergers ------------------------------------------------------------------------

def reference_mergers() -> list[dict]:
    """``artisan_awards/data/province_mergers.csv``: former code, successor code, effective date, source."""
    text = resources.files("artisan_awards.data").joinpath("province_mergers.csv").read_text(encoding="utf-8")
    rows = []
    for line, raw in enumerate(csv.DictReader(text.splitlines()), start=2):
        if not all(raw.get(k) for k in ("former_code", "successor_code", "effective", "source")):
            raise ValueError(f"province_mergers.csv, line {line}: incomplete row {raw}")
        rows.append({**raw, "effective": date.fromisoformat(raw["effective"])})
    return rows


def apply_mergers(codes: set[str]) -> None:
    """Write successor and date on the provinces (called by ``provinces sync``; the caller commits)."""
    for ref in reference_mergers():
        if ref["former_code"] not in codes or ref["successor_code"] not in codes:
            raise ValueError(f"province_mergers.csv names an unknown province: {ref}")
        row = db.session.get(Province, ref["former_code"])
        row.successor_code, row.merged_on = ref["successor_code"], ref["effective"]


def final_successor(province: Province, on: date) -> Province:
    """The province a former one's dossiers belong to on ``on`` (successors followed to the end)."""
    seen = set()
    while province.merged_by(on) and province.code not in seen:
        seen.add(province.code)
        province = db.session.get(Province, province.successor_code)
    return province


def route_filing(province_code: str | None, on: date | None = None) -> str | None:
    """Filing with a province merged away on ``on``: the successor's code (else the code unchanged)."""
    province = db.session.get(Province, province_code) if province_code else None
    if province is None:
        return province_code
    return final_successor(province, on or today()).code


def province_names() -> dict[str, str]:
    from flask import g, has_app_context

    if has_app_context() and "province_names" in g:
        return g.province_names
    names = dict(db.session.execute(sa.select(Province.code, Province.name)).all())
    if has_app_context():
        g.province_names = names
    return names


@dataclass
class TransferResult:
    moved: list[Nomination]
    skipped: list[tuple[Nomination, str]]


def _open_agenda(nomination: Nomination) -> bool:
    return bool(db.session.scalar(
        sa.select(sa.func.count()).select_from(AgendaItem)
        .join(CouncilSession, CouncilSession.id == AgendaItem.session_id)
        .where(AgendaItem.nomination_id == nomination.id, CouncilSession.status != SessionStatus.CLOSED)))


def _move(nomination: Nomination, successor: Province, actor_id: int | None, actor_name: str,
          reason: str) -> None:
    """Change the dossier's province and add its log row (state unchanged); the caller commits."""
    former = nomination.province
    meta = {"from_province": former.code, "to_province": successor.code, "from_name": former.name,
            "to_name": successor.name, "merged_on": former.merged_on.isoformat() if former.merged_on else None,
            "basis": "province_merger"}
    if nomination.filed_province_code is None:
        nomination.filed_province_code = former.code
    nomination.province_code = successor.code
    state = nomination.state
    db.session.flush()
    audit_chain.append(TransitionLog(nomination_id=nomination.id, action=TRANSFER_ACTION, from_state=state,
                                     to_state=state, actor_id=actor_id, actor_name=actor_name,
                                     comment=reason, at=now_utc(), meta=meta))
    outbox.dossier_moved(nomination, TRANSFER_ACTION, state, state, actor_id, actor_name, meta)


def _check_transferable(nomination: Nomination, on: date) -> Province:
    former = nomination.province
    if not former.merged_by(on):
        raise TransitionRefused(N_("Tỉnh, thành phố của hồ sơ không thuộc diện hợp nhất (hoặc chưa đến ngày "
                                   "hợp nhất có hiệu lực)."), code="not_merged")
    if _open_agenda(nomination):
        raise TransitionRefused(N_("Hồ sơ đang có trong chương trình một phiên họp chưa kết thúc; hãy đưa ra khỏi "
                                   "chương trình hoặc chờ phiên họp kết thúc."), code="on_open_agenda")
    return final_successor(former, on)


def transfer(nomination: Nomination, actor: User, reason: str | None, to: str | None = None) -> Province:
    """Transfer one dossier of a merged province to its successor's secretariat and council.

    Its code, history, votes and documents stay; one log row records the move (in the keyed chain).
    ``to`` (the API's ``province_code``), when given, must name that successor: nothing moves otherwise.
    """
    on = today()
    reason = nfc(reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Cần ghi căn cứ, lý do chuyển.")})
    successor_code = nomination.province.successor_code
    if not permissions.can_transfer_from(actor, nomination.province_code, successor_code):
        raise Forbidden()
    with transaction.one_transaction(conflict=CONFLICT):
        db.session.refresh(nomination, with_for_update=True)
        successor = _check_transferable(nomination, on)
        if to is not None and to != successor.code:
            raise ValidationFailed(fields={"province_code": N_(
                "Hồ sơ chỉ được chuyển sang tỉnh, thành phố kế thừa: %(name)s (%(code)s).")},
                params={"name": successor.name, "code": successor.code})
        _move(nomination, successor, actor.id, actor.full_name, reason[:2000])
        admin_events.record(AuditKind.PROVINCE_TRANSFER, actor, target=nomination, target_type="nomination",
                            target_label=nomination.code or str(nomination.id), province_code=successor.code,
                            from_province=nomination.filed_province_code, to_province=successor.code)
    return successor


def transfer_province(former_code: str, reason: str, actor: User | None = None,
                      dry_run: bool = False) -> TransferResult:
    """Transfer every dossier of a merged province (the CLI; ``actor`` None: logged as the system)."""
    on = today()
    former = db.session.get(Province, former_code)
    if former is None:
        raise NotFound(N_("Không có tỉnh, thành phố này."), code="province_not_found")
    if not former.merged_by(on):
        raise TransitionRefused(N_("Tỉnh, thành phố này không thuộc diện hợp nhất (hoặc chưa đến ngày hợp nhất "
                                   "có hiệu lực)."), code="not_merged")
    if actor is not None and not permissions.can_transfer_from(actor, former_code, former.successor_code):
        raise Forbidden()
    rows = list(db.session.scalars(sa.select(Nomination).where(Nomination.province_code == former_code)
                                   .order_by(Nomination.id)))
    result = TransferResult([], [])
    for n in rows:
        try:
            successor = _check_transferable(n, on)
        except TransitionRefused as exc:
            result.skipped.append((n, str(exc.message)))
            continue
        result.moved.append(n)
        if not dry_run:
            _move(n, successor, actor.id if actor else None, actor.full_name if actor else SYSTEM_NAME, reason)
    if dry_run or not result.moved:
        db.session.rollback()
        return result
    admin_events.record(AuditKind.PROVINCE_TRANSFER, actor, target_type="province", target_label=former.name,
                        province_code=former.successor_code, from_province=former_code,
                        to_province=former.successor_code, dossiers=len(result.moved))
    db.session.commit()
    return result


def waiting_transfer(user: User) -> list[Nomination]:
    """Dossiers still with a province merged away, that ``user`` may transfer."""
    on = today()
    merged = [p for p in db.session.scalars(sa.select(Province).where(Province.successor_code.is_not(None)))
              if p.merged_by(on) and permissions.can_transfer_from(user, p.code, final_successor(p, on).code)]
    if not merged:
        return []
    return list(db.session.scalars(sa.select(Nomination).where(
        Nomination.province_code.in_([p.code for p in merged])).order_by(Nomination.province_code, Nomination.id)))


def transferred(user: User, limit: int = 200) -> list[Nomination]:
    """Dossiers already transferred that ``user`` may see on the transfers page."""
    stmt = sa.select(Nomination).where(Nomination.filed_province_code.is_not(None))
    scope = permissions.own_province_only(user)
    if scope is not None:
        stmt = stmt.where(Nomination.province_code == scope)
    return list(db.session.scalars(stmt.order_by(Nomination.id.desc()).limit(limit)))


def get_transferable(user: User, nomination_id: int) -> Nomination:
    n = get_row(Nomination, nomination_id)
    if n is None or not permissions.can_transfer_from(user, n.province_code, n.province.successor_code):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return n


# -- the round's record ----------------------------------------------------------------------

LEVELS = (("province", N_("Cấp tỉnh")), ("ministry", N_("Cấp Bộ")), ("state", N_("Cấp Nhà nước")))
MEASURES = ("proposed", "passed", "rejected", "withdrawn", "on_hold", "awarded")
MEASURE_LABELS = {"proposed": N_("Đề nghị"), "passed": N_("Đạt"), "rejected": N_("Không đạt"),
                  "withdrawn": N_("Rút hồ sơ"), "on_hold": N_("Tạm dừng"), "awarded": N_("Được phong tặng")}
_LEVEL_OF_STAGE = {Stage.INTAKE: "province", Stage.PROVINCE: "province", Stage.MINISTRY: "ministry",
                   Stage.STATE: "state", Stage.GOVERNMENT: "state"}


@dataclass(frozen=True)
class ReportKey:
    level: str
    province_code: str
    title: str
    posthumous: bool


def round_report(round_: Round, province_code: str | None = None) -> dict:
    """The round's record: per level, province, title and posthumous flag, how many dossiers were
    proposed to a council, passed, rejected, withdrawn, put on hold and finally awarded.

    Council figures come from the agenda items of closed sessions (decided and stored at the close)
    and are checked against each session's stored totals (``stored``); withdrawals and holds from the
    log (the stage the dossier was at); awards from the President's decision (state ``awarded``).
    """
    counts: dict[ReportKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    n_cols = (Nomination.province_code, Nomination.title, Nomination.posthumous)
    scope = [Nomination.round_id == round_.id]
    if province_code:
        scope.append(Nomination.province_code == province_code)
    items = db.session.execute(
        sa.select(Council.level, *n_cols, AgendaItem.passed)
        .join(CouncilSession, CouncilSession.council_id == Council.id)
        .join(AgendaItem, AgendaItem.session_id == CouncilSession.id)
        .join(Nomination, Nomination.id == AgendaItem.nomination_id)
        .where(Council.round_id == round_.id, CouncilSession.status == SessionStatus.CLOSED, *scope))
    for level, code, title, posthumous, passed in items:
        c = counts[ReportKey(level, code, title, bool(posthumous))]
        c["proposed"] += 1
        c["passed" if passed else "rejected"] += 1
    moves = db.session.execute(
        sa.select(TransitionLog.nomination_id, TransitionLog.action, TransitionLog.from_state, *n_cols)
        .join(Nomination, Nomination.id == TransitionLog.nomination_id)
        .where(TransitionLog.action.in_([Action.WITHDRAW, Action.HOLD]), *scope).distinct())
    seen = set()
    for nid, action, from_state, code, title, posthumous in moves:
        level = _LEVEL_OF_STAGE.get(STAGE_OF.get(State(from_state), Stage.NONE))
        if level is None or (nid, action, level) in seen:
            continue
        seen.add((nid, action, level))
        counts[ReportKey(level, code, title, bool(posthumous))]["withdrawn" if action == Action.WITHDRAW
                                                                 else "on_hold"] += 1
    for code, title, posthumous, n in db.session.execute(
            sa.select(*n_cols, sa.func.count()).where(Nomination.state == State.AWARDED, *scope)
            .group_by(*n_cols)):
        counts[ReportKey("state", code, title, bool(posthumous))]["awarded"] += n
    stored = {level: dict(received=0, passed=0, rejected=0, sessions=0) for level, _ in LEVELS}
    stmt = (sa.select(Council.level, CouncilSession.received_count, CouncilSession.passed_count,
                      CouncilSession.rejected_count)
            .join(CouncilSession, CouncilSession.council_id == Council.id)
            .where(Council.round_id == round_.id, CouncilSession.status == SessionStatus.CLOSED))
    if province_code:
        stmt = stmt.where(sa.or_(Council.province_code == province_code, Council.level != "province"))
    for level, received, passed, rejected in db.session.execute(stmt):
        s = stored[level]
        s["sessions"] += 1
        s["received"] += received or 0
        s["passed"] += passed or 0
        s["rejected"] += rejected or 0
    rows = [dict(level=k.level, province_code=k.province_code, title=k.title, posthumous=k.posthumous, **v)
            for k, v in counts.items()]
    order = {lv: i for i, (lv, _) in enumerate(LEVELS)}
    names = province_names()
    rows.sort(key=lambda r: (order[r["level"]], names.get(r["province_code"], ""), r["title"], r["posthumous"]))
    totals = _sum(rows, ("level",))
    # levels whose agenda items no longer add up to what the sessions stored at their close
    mismatch = [] if province_code else [
        level for level, _ in LEVELS
        if (totals.get((level,), {}).get("proposed", 0), totals.get((level,), {}).get("passed", 0),
            totals.get((level,), {}).get("rejected", 0))
        != (stored[level]["received"], stored[level]["passed"], stored[level]["rejected"])]
    return {"rows": rows, "stored": stored, "by_level": _sum(rows, ("level", "title", "posthumous")),
            "by_province": _sum(rows, ("province_code", "level")), "totals": totals, "mismatch": mismatch,
            "filed_in": _filed_in(round_)}


def _sum(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict[str, int]]:
    out: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for r in rows:
        target = out[tuple(r[k] for k in keys)]
        for m in MEASURES:
            target[m] += r[m]
    return dict(out)


def _filed_in(round_: Round) -> dict[str, list[str]]:
    """Per province: the former provinces its transferred dossiers were filed with (names)."""
    names = province_names()
    out: dict[str, set[str]] = defaultdict(set)
    for code, filed in db.session.execute(
            sa.select(Nomination.province_code, Nomination.filed_province_code).distinct()
            .where(Nomination.round_id == round_.id, Nomination.filed_province_code.is_not(None))):
        out[code].add(names.get(filed, filed))
    return {k: sorted(v) for k, v in out.items()}


TITLE_ORDER = (Title.PEOPLE.value, Title.MERITORIOUS.value)
DAY_KINDS = {DayKind.CALENDAR.value: N_("ngày"), DayKind.WORKING.value: N_("ngày làm việc")}


def newest_round() -> Round | None:
    """The artisan titles' round with the highest number (the intake page and the public procedure open on
    it; a scheme year or a product-selection round is another programme's)."""
    return db.session.scalar(sa.select(Round).where(Round.programme_id == ARTISAN_ID)
                             .order_by(Round.number.desc()).limit(1))


def active_provinces() -> list[Province]:
    """Provinces that take dossiers now, in Vietnamese order."""
    return list(db.session.scalars(sa.select(Province).where(Province.active.is_(True))
                                   .order_by(vi_order(Province.name))))


# -- the round's record through the API (shared/api-v1.md v1.1) ------------------------------------

_COUNCIL_MEASURES = ("received", "passed", "rejected")
_OUTCOMES = ("awarded", "not_awarded", "withdrawn", "on_hold", "posthumous")


def _empty_figures() -> dict:
    return {"levels": {lv: dict.fromkeys(_COUNCIL_MEASURES, 0) for lv, _ in LEVELS},
            **dict.fromkeys(_OUTCOMES, 0)}


def report_figures(round_: Round) -> dict:
    """``GET /api/v1/rounds/{id}/report``: the round's record as the contract shapes it.

    ``levels`` are the counts each council session stored when it closed; ``awarded`` and ``not_awarded``
    the President's decisions (final states); ``withdrawn`` and ``on_hold`` the withdrawals and holds, one
    per level a dossier was at (as on the page); ``posthumous`` the round's filed dossiers proposed
    posthumously. ``by_title`` and ``by_province`` give the same figures per title and province, their
    council counts from the agenda items of the closed sessions (the stored totals are per session)."""
    data = round_report(round_)
    out = _empty_figures()
    for level, stored in data["stored"].items():
        out["levels"][level] = {m: stored[m] for m in _COUNCIL_MEASURES}
    titles = {t: _empty_figures() for t in TITLE_ORDER}
    provinces: dict[str, dict] = {}

    def add(figures: dict, row: dict) -> None:
        level = figures["levels"][row["level"]]
        level["received"] += row["proposed"]
        level["passed"] += row["passed"]
        level["rejected"] += row["rejected"]
        for m in ("awarded", "withdrawn", "on_hold"):
            figures[m] += row[m]

    for row in data["rows"]:
        for m in ("awarded", "withdrawn", "on_hold"):
            out[m] += row[m]
        add(titles.setdefault(row["title"], _empty_figures()), row)
        add(provinces.setdefault(row["province_code"], _empty_figures()), row)
    n_cols = (Nomination.province_code, Nomination.title)
    filed = [Nomination.round_id == round_.id, Nomination.code.is_not(None)]
    for code, title, n in db.session.execute(
            sa.select(*n_cols, sa.func.count()).where(Nomination.state == State.NOT_AWARDED, *filed)
            .group_by(*n_cols)):
        for figures in (out, titles.setdefault(title, _empty_figures()), provinces.setdefault(code, _empty_figures())):
            figures["not_awarded"] += n
    for code, title, n in db.session.execute(
            sa.select(*n_cols, sa.func.count()).where(Nomination.posthumous.is_(True), *filed).group_by(*n_cols)):
        for figures in (out, titles.setdefault(title, _empty_figures()), provinces.setdefault(code, _empty_figures())):
            figures["posthumous"] += n
    names = province_names()
    out["by_title"] = titles
    out["by_province"] = [
        {"province_code": code, "name": names.get(code, code), "filed_in": data["filed_in"].get(code, []),
         **figures}
        for code, figures in sorted(provinces.items(), key=lambda kv: vi_sort_key(names.get(kv[0], kv[0])))]
    out["mismatch"] = data["mismatch"]
    return out
