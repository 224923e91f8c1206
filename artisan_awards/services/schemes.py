"""National khuyến công schemes (issue 18 item 4; docs/programmes.md "National khuyến công schemes").

The procedure is the definition ``workflows/programmes/khuyen-cong-schemes``; this module adds what a
flat dossier form cannot hold and what spans a whole year:

- a **year** (``SchemeYear``): a round of the programme opened by the department with its guidance and
  the year's content areas (``SCHEME_CONTENT_AREAS`` as the default list, editable per year);
- a **proposal** with its **budget lines** (each the state's share and the co-financing, integers of VND;
  the totals are computed and written into the dossier's ``state_requested`` / ``cofinancing`` fields,
  which the appraisal reads as the amount asked for);
- the **appraisal list**, ranked by the appraisal score with the **priority** a valid typical-product
  certificate gives (``services.certificates.valid_certificate``; ``SCHEME_PRIORITY_*`` settings);
- the **plan**: the ministry's approval moves every appraised scheme of the year at once; totals by
  locality, by unit and by content area;
- the **monitoring** records of an approved scheme: progress reports, inspection visits, the acceptance
  and the settlement (at most the approved amount).

Every move is the definition's, fired by its machine and logged by ``record_move`` like any other
programme's (one log row in the audit chain); a move and its record are written in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from workflows import programme as pg
from workflows.states import N_

from .. import permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Nomination, Province, Round, TransitionLog, User
from ..models.schemes import MAX_VND, SchemeBudgetLine, SchemeRecord, SchemeYear
from ..text import nfc
from ..timeutil import now_utc, today
from . import admin_events, certificates, programmes, transaction
from .nominations import CONFLICT, record_move

PROGRAMME_ID = "khuyen-cong-schemes"
APPRAISAL_LEVEL = "department"
MAX_LINES = 50
MAX_AREAS = 30
# the states of a scheme in the approved plan (approved, then accepted, then settled)
IN_PLAN = ("approved", "completed", "settled")
RECORD_MOVES = {"report": "report_progress", "inspection": "inspect", "acceptance": "accept_work",
                "settlement": "settle"}
CERTIFICATE_LEVEL_LABELS = {"province": N_("cấp tỉnh"), "region": N_("cấp khu vực"), "nation": N_("cấp quốc gia")}
RECORD_LABELS = {"report": N_("Báo cáo tiến độ"), "inspection": N_("Kiểm tra, giám sát"),
                 "acceptance": N_("Nghiệm thu"), "settlement": N_("Quyết toán")}


# -- reading values ------------------------------------------------------------------------------------


def _text(values: dict, name: str, errors: dict, required: bool = True, most: int = 300) -> str:
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = N_("Cần điền thông tin này.")
        return ""
    if not isinstance(value, str):
        errors[name] = N_("Cần nhập chữ.")
        return ""
    value = nfc(value).strip()
    if len(value) > most:
        errors[name] = N_("Nội dung quá dài.")
    return value


def _date(values: dict, name: str, errors: dict, required: bool = True) -> date | None:
    value = values.get(name)
    if value in (None, ""):
        if required:
            errors[name] = N_("Cần điền thông tin này.")
        return None
    if isinstance(value, date):
        return value
    try:
        if not isinstance(value, str) or len(value.strip()) != 10:
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        errors[name] = N_("Ngày không hợp lệ (định dạng YYYY-MM-DD).")
        return None


def money(value, errors: dict, name: str, required: bool = True) -> int | None:
    """An amount of VND: an integer, or its text with the thousands written with dots (500.000.000)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = N_("Cần điền thông tin này.")
        return None
    if isinstance(value, bool) or isinstance(value, float):
        errors[name] = N_("Số tiền là một số nguyên đồng.")
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace(".", "").replace(" ", "").replace("\u00a0", "")
        if not (text.isascii() and text.isdigit()):
            errors[name] = N_("Số tiền là một số nguyên đồng.")
            return None
        number = int(text)
    if not 0 <= number <= MAX_VND:
        errors[name] = N_("Số tiền nằm ngoài giới hạn cho phép.")
        return None
    return number


# -- the year ----------------------------------------------------------------------------------------


def get_year(round_id) -> SchemeYear:
    year = db.session.get(SchemeYear, round_id) if isinstance(round_id, int) else None
    if year is None:
        raise NotFound(N_("Không có năm kế hoạch khuyến công này."), code="scheme_year_not_found")
    return year


def years() -> list[SchemeYear]:
    return list(db.session.scalars(sa.select(SchemeYear).order_by(SchemeYear.plan_year.desc())))


def default_content_areas() -> list[str]:
    return list(current_app.config["SCHEME_CONTENT_AREAS"])


def _areas(value, errors: dict) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list | tuple):
        errors["content_areas"] = N_("Danh sách nội dung khuyến công không hợp lệ.")
        return []
    areas: list[str] = []
    for item in value:
        if not isinstance(item, str):
            errors["content_areas"] = N_("Danh sách nội dung khuyến công không hợp lệ.")
            return []
        item = nfc(item).strip()
        if item and item not in areas:
            if len(item) > 300:
                errors["content_areas"] = N_("Nội dung quá dài.")
            areas.append(item)
    if not areas:
        errors["content_areas"] = N_("Cần ít nhất một nội dung khuyến công.")
    elif len(areas) > MAX_AREAS:
        errors["content_areas"] = N_("Quá nhiều nội dung khuyến công.")
    return areas


def _guidance(values: dict, errors: dict) -> dict:
    out = {"guidance_number": _text(values, "guidance_number", errors, most=60),
           "guidance_date": _date(values, "guidance_date", errors),
           "guidance_text": _text(values, "guidance_text", errors, required=False, most=20000)}
    if "content_areas" in values and values["content_areas"] not in (None, ""):
        out["content_areas"] = _areas(values["content_areas"], errors)
    return out


def open_year(actor: User, values: dict) -> SchemeYear:
    """The department opens a year of the plan: a round of the programme, its guidance and content areas."""
    if not permissions.can_manage_schemes(actor):
        raise Forbidden()
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    errors: dict[str, str] = {}
    plan_year = values.get("plan_year")
    try:
        plan_year = int(str(plan_year).strip()) if not isinstance(plan_year, bool) else None
    except (TypeError, ValueError):
        plan_year = None
    if plan_year is None or not 2000 <= plan_year <= 2100:
        errors["plan_year"] = N_("Năm kế hoạch từ 2000 đến 2100.")
    guidance = _guidance(values, errors)
    guidance.setdefault("content_areas", default_content_areas())
    opens = _date(values, "intake_opens", errors)
    closes = _date(values, "intake_closes", errors)
    if opens and closes and closes < opens:
        errors["intake_closes"] = N_("Hạn đăng ký phải sau ngày bắt đầu.")
    if plan_year is not None and "plan_year" not in errors and \
            db.session.scalar(sa.select(SchemeYear.round_id).where(SchemeYear.plan_year == plan_year)):
        errors["plan_year"] = N_("Năm kế hoạch này đã được mở.")
    if opens and not errors:
        try:
            programmes_registry_version(opens)
        except KeyError:
            errors["intake_opens"] = N_("Chưa có phiên bản quy trình áp dụng cho ngày này.")
    if errors:
        raise ValidationFailed(fields=errors)
    duplicate = ValidationFailed(fields={"plan_year": N_("Năm kế hoạch này đã được mở.")})
    with transaction.one_transaction(duplicate=duplicate):
        number = (db.session.scalar(sa.select(sa.func.max(Round.number))) or 0) + 1
        round_ = Round(number=number, name=f"Kế hoạch khuyến công quốc gia năm {plan_year}",
                       intake_opens=opens, intake_closes=closes, programme_id=PROGRAMME_ID,
                       programme_version=programmes_registry_version(opens))
        db.session.add(round_)
        db.session.flush()
        year = SchemeYear(round_id=round_.id, plan_year=plan_year, created_by_id=actor.id, **guidance)
        db.session.add(year)
        # the administration log, in the same transaction as the year (as a round's creation is)
        admin_events.record(AuditKind.SCHEME_YEAR_OPENED, actor, target=round_, plan_year=plan_year,
                            programme_id=round_.programme_id, programme_version=round_.programme_version,
                            intake_opens=opens, intake_closes=closes, **_jsonable_guidance(guidance))
    return year


def _jsonable_guidance(guidance: dict) -> dict:
    """The guidance as the log keeps it: dates as ISO days; the guidance's text (up to 20,000 characters) by
    its length, the year's page holds the text itself."""
    out = {}
    for key, value in guidance.items():
        if key == "guidance_text":
            key, value = "guidance_text_length", len(value or "")
        out[key] = value.isoformat() if isinstance(value, date) else value
    return out


def programmes_registry_version(on: date) -> str:
    from workflows.registry import registry

    return registry().effective(PROGRAMME_ID, on).version


def update_year(actor: User, year: SchemeYear, values: dict) -> SchemeYear:
    """Edit the year's guidance and content areas; an area a scheme was proposed under stays."""
    if not permissions.can_manage_schemes(actor):
        raise Forbidden()
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    errors: dict[str, str] = {}
    guidance = _guidance(values, errors)
    if "content_areas" in guidance and "content_areas" not in errors:
        used = {n.programme_data.get("content_area") for n in _schemes(year) if n.state != "withdrawn"}
        dropped = sorted(a for a in used - set(guidance["content_areas"]) if a)
        if dropped:
            errors["content_areas"] = N_("Không thể bỏ nội dung đã có đề án đề xuất.")
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.one_transaction():
        before = _jsonable_guidance({key: getattr(year, key) for key in guidance})
        after = _jsonable_guidance(guidance)
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]
                   or (key == "guidance_text_length" and year.guidance_text != guidance["guidance_text"])}
        for key, value in guidance.items():
            setattr(year, key, value)
        if changes:
            admin_events.record(AuditKind.SCHEME_YEAR_CHANGED, actor, target=year.round, plan_year=year.plan_year,
                                changes=changes)
    return year


def year_out(year: SchemeYear) -> dict:
    r = year.round
    return {"id": year.round_id, "plan_year": year.plan_year, "programme_id": r.programme_id,
            "programme_version": r.programme_version, "guidance_number": year.guidance_number,
            "guidance_date": year.guidance_date.isoformat(), "guidance_text": year.guidance_text,
            "content_areas": list(year.content_areas), "intake_opens": r.intake_opens.isoformat(),
            "intake_closes": r.intake_closes.isoformat(), "plan_approved": year.plan_approved_at is not None,
            "plan_decision_number": year.plan_decision_number,
            "plan_decision_date": year.plan_decision_date.isoformat() if year.plan_decision_date else None}


# -- proposals and their budget lines -------------------------------------------------------------------


@dataclass
class Line:
    item: str
    state_amount: int
    cofinancing: int

    @property
    def total(self) -> int:
        return self.state_amount + self.cofinancing


def clean_lines(raw, errors: dict) -> list[Line]:
    """The budget lines: each an item with the state's share and the co-financing (VND).  Rows left
    wholly empty (a form's spare rows) are skipped; errors are named ``lines.<n>.<field>``, n from 1."""
    if not isinstance(raw, list | tuple):
        errors["lines"] = N_("Cần ít nhất một dòng kinh phí.")
        return []
    lines: list[Line] = []
    for n, row in enumerate(raw, 1):
        if not isinstance(row, dict):
            errors[f"lines.{n}"] = N_("Dòng kinh phí không hợp lệ.")
            continue
        if all(row.get(k) in (None, "") for k in ("item", "state_amount", "cofinancing")):
            continue
        row_errors: dict[str, str] = {}
        item = _text(row, "item", row_errors)
        state = money(row.get("state_amount"), row_errors, "state_amount")
        co = money(row.get("cofinancing"), row_errors, "cofinancing", required=False) or 0
        if not row_errors and state + co == 0:
            row_errors["state_amount"] = N_("Dòng kinh phí phải có số tiền.")
        for key, message in row_errors.items():
            errors[f"lines.{n}.{key}"] = message
        if not row_errors:
            lines.append(Line(item, state, co))
    if not lines and not any(k.startswith("lines") for k in errors):
        errors["lines"] = N_("Cần ít nhất một dòng kinh phí.")
    if len(lines) > MAX_LINES:
        errors["lines"] = N_("Tối đa 50 dòng kinh phí.")
    if sum(x.state_amount for x in lines) == 0 and lines:
        errors["lines"] = N_("Đề án phải đề nghị kinh phí khuyến công quốc gia.")
    return lines


def _proposal(year: SchemeYear, values: dict, lines_raw) -> tuple[dict, list[Line], dict]:
    """Check a proposal: the programme's own fields (the definition), the content area (the year's list),
    the province and the budget lines; the two totals go into the fields."""
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    errors: dict[str, str] = {}
    lines = clean_lines(lines_raw, errors)
    fields = {k: (nfc(v) if isinstance(v, str) else v) for k, v in values.items()
              if k not in ("province_code", "state_requested", "cofinancing")}
    fields["state_requested"] = sum(x.state_amount for x in lines) or None
    fields["cofinancing"] = sum(x.cofinancing for x in lines)
    definition = programmes.programme_of_round(year.round).definition
    clean, field_errors = pg.clean_form(definition.dossier, fields)
    for key, message in field_errors.items():
        if key not in ("state_requested", "cofinancing"):  # the lines' errors say it
            errors.setdefault(key, message)
    area = clean.get("content_area")
    if area and area not in year.content_areas:
        errors["content_area"] = N_("Nội dung khuyến công không có trong danh sách của năm kế hoạch.")
    province = values.get("province_code")
    if not isinstance(province, str) or db.session.get(Province, province.strip().upper()[:10]) is None:
        errors["province_code"] = N_("Tỉnh, thành phố không hợp lệ.")
    else:
        province = province.strip().upper()
    return {**clean, "province_code": province}, lines, errors


def _write_lines(nomination: Nomination, lines: list[Line]) -> None:
    db.session.execute(sa.delete(SchemeBudgetLine).where(SchemeBudgetLine.nomination_id == nomination.id))
    for n, line in enumerate(lines, 1):
        db.session.add(SchemeBudgetLine(nomination_id=nomination.id, position=n, item=line.item,
                                        state_amount=line.state_amount, cofinancing=line.cofinancing))


def propose(actor: User, year: SchemeYear, values: dict, lines_raw) -> Nomination:
    """A proposing unit files a scheme (a draft) in the year, with its budget lines."""
    if not permissions.can_propose_scheme(actor):
        raise Forbidden()
    clean, lines, errors = _proposal(year, values, lines_raw)
    if errors:
        raise ValidationFailed(fields=errors)
    province = clean.pop("province_code")
    programme = programmes.programme_of_round(year.round)
    with transaction.one_transaction():
        nomination = Nomination(
            round_id=year.round_id, province_code=province, owner_id=actor.id, title="",
            full_name=clean["title"][:200], state=programme.definition.initial, programme_id=programme.id,
            programme_version=programme.version, programme_data=clean,
        )
        nomination.refresh_name_key()
        db.session.add(nomination)
        db.session.flush()
        _write_lines(nomination, lines)
    return nomination


def update_proposal(actor: User, nomination: Nomination, values: dict, lines_raw) -> Nomination:
    """The owner edits the proposal while it is a draft or returned for completion."""
    if nomination.owner_id != actor.id:
        raise Forbidden()
    if nomination.state not in ("draft", "returned"):
        raise TransitionRefused(N_("Chỉ sửa được đề án khi còn là bản nháp hoặc được trả lại để bổ sung."))
    clean, lines, errors = _proposal(year_of(nomination), values, lines_raw)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.one_transaction(conflict=CONFLICT):
        nomination.province_code = clean.pop("province_code")
        nomination.programme_data = clean
        nomination.full_name = clean["title"][:200]
        nomination.refresh_name_key()
        _write_lines(nomination, lines)
    return nomination


def year_of(nomination: Nomination) -> SchemeYear:
    return get_year(nomination.round_id)


def get_scheme(scheme_id, user: User) -> Nomination:
    """A scheme the user may see; anything else (another programme's dossier, not theirs) is not there."""
    nomination = db.session.get(Nomination, scheme_id) if isinstance(scheme_id, int) else None
    if nomination is None or nomination.programme_id != PROGRAMME_ID or \
            not permissions.can_see_scheme(user, nomination):
        raise NotFound(N_("Không tìm thấy đề án."), code="scheme_not_found")
    return nomination


def lines_of(nomination: Nomination) -> list[SchemeBudgetLine]:
    return list(db.session.scalars(sa.select(SchemeBudgetLine).where(SchemeBudgetLine.nomination_id ==
                                                                     nomination.id)
                                   .order_by(SchemeBudgetLine.position)))


def records_of(nomination: Nomination) -> list[SchemeRecord]:
    return list(db.session.scalars(sa.select(SchemeRecord).where(SchemeRecord.nomination_id == nomination.id)
                                   .order_by(SchemeRecord.on_date, SchemeRecord.id)))


# -- appraisal and priority ------------------------------------------------------------------------------


@dataclass
class Priority:
    """What a valid typical-product certificate gives a scheme, and why."""

    rank: int = 0  # SCHEME_PRIORITY_LEVELS of the certificate's level; 0 = none
    bonus: float = 0
    certificate_number: str | None = None
    level: str | None = None
    valid_until: date | None = None
    product_name: str | None = None
    reason: str = ""  # a msgid; the page and API say why (not) in the reader's language
    params: dict = field(default_factory=dict)


def priority(nomination: Nomination, on: date | None = None) -> Priority:
    """The priority of a scheme on ``on`` (today): that of the valid certificate its proposal names."""
    on = on or today()
    number = (nomination.programme_data or {}).get("product_certificate")
    if not number:
        return Priority(reason=N_("Đề án không nêu giấy chứng nhận sản phẩm tiêu biểu."))
    cert = certificates.valid_certificate(number, on)
    if cert is None:
        return Priority(certificate_number=number, reason=N_(
            "Giấy chứng nhận %(number)s không có hoặc không còn hiệu lực: không được ưu tiên."),
            params={"number": number})
    levels = current_app.config["SCHEME_PRIORITY_LEVELS"]
    rank = int(levels.get(cert.level, 0))
    found = {"certificate_number": cert.number, "level": cert.level, "valid_until": cert.valid_until,
             "product_name": cert.product_name}
    if rank <= 0:
        return Priority(**found, reason=N_("Giấy chứng nhận %(level)s không thuộc diện được ưu tiên."),
                        params={"level": cert.level})
    bonus = float(current_app.config["SCHEME_PRIORITY_BONUS"].get(cert.level, 0))
    return Priority(rank=rank, bonus=bonus, **found, params={"number": cert.number, "level": cert.level},
                    reason=PRIORITY_REASON)


PRIORITY_REASON = N_("Sản phẩm có giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu %(level)s số "
                     "%(number)s, còn hiệu lực đến %(until)s: được ưu tiên.")


def explain(prio: Priority, gettext) -> str:
    """Why a scheme has (or has not) priority, in the reader's language."""
    from ..formatting import vn_date

    params = dict(prio.params)
    if "level" in params:
        params["level"] = gettext(CERTIFICATE_LEVEL_LABELS.get(params["level"], params["level"]))
    if prio.valid_until is not None:
        params["until"] = vn_date(prio.valid_until, with_time=False)
    return gettext(prio.reason) % params if params else gettext(prio.reason)


def _decision_meta(nomination: Nomination) -> dict | None:
    """The appraisal's inputs and outcome: the meta of the scheme's latest fund/decline log row."""
    return db.session.scalar(
        sa.select(TransitionLog.meta).where(TransitionLog.nomination_id == nomination.id,
                                            TransitionLog.action.in_(("fund", "decline_funding")))
        .order_by(TransitionLog.id.desc()).limit(1))


def appraised_amount(nomination: Nomination) -> int | None:
    meta = _decision_meta(nomination)
    return meta.get("amount") if meta else None


@dataclass
class Ranked:
    nomination: Nomination
    score: float | None
    amount: int | None
    priority: Priority
    ranking_score: float | None
    place: int = 0


def ranking_key(row: Ranked, mode: str) -> tuple:
    score = row.score if row.score is not None else -1.0
    if mode == "first":
        return (-row.priority.rank, -score, row.nomination.id)
    if mode == "bonus":
        return (-(row.ranking_score if row.ranking_score is not None else -1.0), -row.priority.rank,
                row.nomination.id)
    return (-score, -row.priority.rank, row.nomination.id)  # tiebreak


def appraisal_list(year: SchemeYear, on: date | None = None) -> list[Ranked]:
    """The year's schemes from the appraisal on, ranked: appraised ones by score with their priority (the
    ``SCHEME_PRIORITY_RANKING`` setting), then those awaiting appraisal, then those not funded."""
    mode = current_app.config["SCHEME_PRIORITY_RANKING"]
    rows: list[Ranked] = []
    for n in _schemes(year):
        if n.state in ("draft", "submitted", "returned", "withdrawn"):
            continue
        meta = _decision_meta(n) or {}
        score = meta.get("score")
        prio = priority(n, on)
        ranking = None if score is None else score + (prio.bonus if mode == "bonus" else 0)
        rows.append(Ranked(n, score, meta.get("amount"), prio, ranking))
    group = {"appraisal": 1, "not_funded": 2}
    rows.sort(key=lambda r: (group.get(r.nomination.state, 0), *ranking_key(r, mode)))
    for place, row in enumerate(rows, 1):
        row.place = place
    return rows


def appraise(actor: User, nomination: Nomination, values: dict) -> str:
    """The department's appraisal: a score, comments and an appraised amount (at most the state share
    asked for; 0 = not funded).  The engine's ``appraisal`` decision of the level ``department``."""
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    errors: dict[str, str] = {}
    amount = money(values.get("amount"), errors, "amount")
    comment = _text(values, "comment", errors, required=True, most=5000)
    if errors:
        raise ValidationFailed(fields=errors)
    return programmes.decide(nomination, APPRAISAL_LEVEL, {"amount": amount, "score": values.get("score")},
                             actor, comment=comment)


# -- the plan --------------------------------------------------------------------------------------------


def _schemes(year: SchemeYear) -> list[Nomination]:
    return list(db.session.scalars(sa.select(Nomination).where(Nomination.round_id == year.round_id,
                                                               Nomination.programme_id == PROGRAMME_ID)
                                   .order_by(Nomination.id)))


def _fire(nomination: Nomination, trigger: str, actor: User, comment: str | None, meta: dict,
          on: date | None = None) -> str:
    """Move a scheme inside the caller's transaction (the definition's machine, one log row)."""
    programme = programmes.programme_of(nomination)
    db.session.refresh(nomination, with_for_update=True)
    before = programme.State(nomination.state)
    try:
        after = programme.fire(programmes.subject(nomination, programme, on or today()), trigger)
    except pg.TransitionNotAllowed as exc:
        raise TransitionRefused(N_("Không thể thực hiện thao tác này ở trạng thái hiện tại của đề án."),
                                code="transition_not_allowed") from exc
    record_move(nomination, trigger, before, after, actor.id, actor.full_name, comment, meta)
    return str(after)


def approve_plan(actor: User, year: SchemeYear, values: dict) -> list[Nomination]:
    """The ministry's approval of the year's plan (its decision's number and date), recorded by the
    department: every appraised scheme enters the plan with its appraised amount, in one transaction."""
    if not permissions.can_manage_schemes(actor):
        raise Forbidden()
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    if year.plan_approved_at is not None:
        raise TransitionRefused(N_("Kế hoạch của năm này đã được phê duyệt."), code="plan_approved")
    errors: dict[str, str] = {}
    number = _text(values, "decision_number", errors, most=60)
    when = _date(values, "decision_date", errors)
    if errors:
        raise ValidationFailed(fields=errors)
    schemes = [n for n in _schemes(year) if n.state == "appraised"]
    if not schemes:
        raise TransitionRefused(N_("Chưa có đề án nào đã thẩm định để phê duyệt."), code="nothing_to_approve")
    waiting = [n for n in _schemes(year) if n.state in ("submitted", "appraisal")]
    if waiting:
        raise TransitionRefused(N_("Còn %(count)s đề án chưa thẩm định xong."), code="appraisal_pending",
                                params={"count": len(waiting)})
    with transaction.one_transaction(conflict=CONFLICT):
        for n in schemes:
            _fire(n, "approve_plan", actor, None, {"decision_number": number, "decision_date": when.isoformat(),
                                                   "amount": appraised_amount(n)})
        year.plan_decision_number = number
        year.plan_decision_date = when
        year.plan_approved_at = now_utc()
        year.plan_approved_by_id = actor.id
    return schemes


@dataclass
class PlanRow:
    nomination: Nomination
    province: str
    unit: str
    area: str
    approved: int
    cofinancing: int
    settled: int | None


@dataclass
class Plan:
    year: SchemeYear
    rows: list[PlanRow]
    by_locality: list[tuple[str, int, int]]  # (name, schemes, approved VND)
    by_unit: list[tuple[str, int, int]]
    by_area: list[tuple[str, int, int]]
    total: int
    cofinancing: int

    @property
    def approved(self) -> bool:
        return self.year.plan_approved_at is not None


def plan(year: SchemeYear) -> Plan:
    """The year's plan: the schemes in it (once approved) or appraised for it (before), each with its
    appraised amount, and the totals by locality (the scheme's province), by unit and by content area."""
    states = IN_PLAN if year.plan_approved_at is not None else ("appraised",)
    names = dict(db.session.execute(sa.select(Province.code, Province.name)).all())
    rows = []
    for n in _schemes(year):
        if n.state not in states:
            continue
        data = n.programme_data or {}
        settled = db.session.scalar(sa.select(SchemeRecord.amount).where(
            SchemeRecord.nomination_id == n.id, SchemeRecord.kind == "settlement"))
        rows.append(PlanRow(n, names.get(n.province_code, n.province_code), data.get("proposer_name", ""),
                            data.get("content_area", ""), appraised_amount(n) or 0,
                            int(data.get("cofinancing") or 0), settled))

    def totals(key) -> list[tuple[str, int, int]]:
        count: dict[str, int] = defaultdict(int)
        money_: dict[str, int] = defaultdict(int)
        for r in rows:
            count[key(r)] += 1
            money_[key(r)] += r.approved
        return sorted(((k, count[k], money_[k]) for k in count), key=lambda t: (-t[2], t[0]))

    areas = {a: i for i, a in enumerate(year.content_areas)}
    by_area = sorted(totals(lambda r: r.area), key=lambda t: (areas.get(t[0], len(areas)), t[0]))
    return Plan(year, rows, totals(lambda r: r.province), totals(lambda r: r.unit), by_area,
                sum(r.approved for r in rows), sum(r.cofinancing for r in rows))


def visible_plan(round_id, user: User) -> Plan:
    """The year's plan as ``user`` may see it (the pages and the API alike): a plan not yet approved is the
    department's only, anyone else gets the 404 ``plan_not_approved``."""
    p = plan(get_year(round_id))
    if not permissions.can_see_scheme_plan(user, p.approved):
        raise NotFound(N_("Kế hoạch của năm này chưa được phê duyệt."), code="plan_not_approved")
    return p


def plan_rows_with_total(p: Plan) -> list[PlanRow]:
    """The plan's rows and a last row of totals (no scheme) for an export."""
    total = PlanRow(None, "", "", "", p.total, p.cofinancing,
                    sum(r.settled for r in p.rows if r.settled is not None) if any(
                        r.settled is not None for r in p.rows) else None)
    return [*p.rows, total]


def plan_out(p: Plan) -> dict:
    def group(items):
        return [{"name": name, "schemes": count, "approved": amount} for name, count, amount in items]

    return {"year": year_out(p.year), "approved": p.approved, "total_approved": p.total,
            "total_cofinancing": p.cofinancing, "schemes": len(p.rows),
            "localities": len(p.by_locality), "units": len(p.by_unit),
            "by_locality": group(p.by_locality), "by_unit": group(p.by_unit), "by_content_area": group(p.by_area),
            "rows": [{"id": r.nomination.id, "title": r.nomination.full_name, "province_code":
                      r.nomination.province_code, "province": r.province, "unit": r.unit, "content_area": r.area,
                      "approved": r.approved, "cofinancing": r.cofinancing, "state": r.nomination.state,
                      "settled": r.settled} for r in p.rows]}


# -- monitoring ----------------------------------------------------------------------------------------


def add_record(actor: User, nomination: Nomination, kind: str, values: dict) -> SchemeRecord:
    """A monitoring record and its move: a progress report (the owner), an inspection visit, the
    acceptance or the settlement (the department; the settled amount at most the approved amount)."""
    if kind not in RECORD_MOVES:
        raise NotFound(N_("Không có loại hồ sơ theo dõi này."), code="unknown_record")
    programme = programmes.programme_of(nomination)
    trigger = RECORD_MOVES[kind]
    if not permissions.may_act_as(actor, nomination, programme.actor_for(trigger)):
        raise Forbidden()
    if not isinstance(values, dict):
        raise ValidationFailed(N_("Dữ liệu chưa hợp lệ."))
    errors: dict[str, str] = {}
    row = {"kind": kind, "on_date": _date(values, "on_date", errors)}
    if row["on_date"] and row["on_date"] > today():
        errors["on_date"] = N_("Ngày không được sau hôm nay.")
    row["text"] = _text(values, "text", errors, most=20000)
    if kind == "report":
        row["period"] = _text(values, "period", errors, most=100)
        progress = values.get("progress_percent")
        try:
            progress = int(str(progress).strip()) if progress not in (None, "") and \
                not isinstance(progress, bool) else None
        except ValueError:
            progress = -1
        if progress is not None and not 0 <= progress <= 100:
            errors["progress_percent"] = N_("Tiến độ từ 0 đến 100 %.")
        row["progress_percent"] = progress
    elif kind == "inspection":
        row["team"] = _text(values, "team", errors, most=500)
    else:
        row["reference"] = _text(values, "reference", errors, most=100)
    if kind == "settlement":
        amount = money(values.get("amount"), errors, "amount")
        approved = appraised_amount(nomination)
        if amount is not None and approved is not None and amount > approved:
            errors["amount"] = N_("Số tiền quyết toán không được vượt quá kinh phí được phê duyệt.")
        row["amount"] = amount
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.one_transaction(conflict=CONFLICT):
        record = SchemeRecord(nomination_id=nomination.id, created_by_id=actor.id, **row)
        meta = {"record": kind, "on_date": row["on_date"].isoformat()}
        if kind == "settlement":
            meta["amount"] = row["amount"]
        _fire(nomination, trigger, actor, None, meta)
        db.session.add(record)
    return record


def record_out(r: SchemeRecord) -> dict:
    return {"id": r.id, "kind": r.kind, "on_date": r.on_date.isoformat(), "period": r.period,
            "progress_percent": r.progress_percent, "team": r.team, "reference": r.reference, "text": r.text,
            "amount": r.amount, "created_at": r.created_at.isoformat()}


def scheme_out(n: Nomination, on: date | None = None) -> dict:
    lines = lines_of(n)
    prio = priority(n, on)
    meta = _decision_meta(n) or {}
    return {
        "id": n.id, "year": n.round_id, "code": n.code, "state": n.state,
        "state_label": programmes.state_label(n), "province_code": n.province_code,
        "fields": dict(n.programme_data or {}),
        "budget_lines": [{"position": x.position, "item": x.item, "state_amount": x.state_amount,
                          "cofinancing": x.cofinancing, "total": x.state_amount + x.cofinancing} for x in lines],
        "totals": {"state_amount": sum(x.state_amount for x in lines),
                   "cofinancing": sum(x.cofinancing for x in lines),
                   "total": sum(x.state_amount + x.cofinancing for x in lines)},
        "appraisal": {"score": meta.get("score"), "amount": meta.get("amount")} if meta else None,
        "priority": {"rank": prio.rank, "certificate_number": prio.certificate_number, "level": prio.level,
                     "valid_until": prio.valid_until.isoformat() if prio.valid_until else None,
                     "product_name": prio.product_name},
        "records": [record_out(r) for r in records_of(n)],
    }
