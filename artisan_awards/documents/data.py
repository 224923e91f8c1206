"""Plain data for the documents, built from the models (the templates never see an ORM object).

The words here are the forms' own Vietnamese: the documents are official forms and stay in
Vietnamese whatever the reader's language, so nothing here goes through gettext.
"""

from __future__ import annotations

import posixpath
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..i18n import KIND_LABELS, RELATIONSHIP_LABELS, TITLE_LABELS
from ..models import (
    ConflictDeclaration,
    Council,
    CouncilSession,
    Level,
    Nomination,
    Province,
    Round,
    SessionStatus,
)
from ..text import vi_order
from ..timeutil import VN, local_date

FORM_NO = {"people": "01", "meritorious": "02"}  # declaration (Bản khai thành tích)
SUMMARY_FORM_NO = {"people": "09", "meritorious": "10"}  # summary (Tóm tắt thành tích)
BALLOT_FORM_NO = {"people": "07", "meritorious": "08"}  # ballot (Phiếu bầu)
RANK_NAMES = {1: "Giải Nhất", 2: "Giải Nhì", 3: "Giải Ba"}
AWARD_LEVELS = {"national": "cấp quốc gia", "regional": "cấp khu vực", "international": "quốc tế",
                "provincial": "cấp tỉnh"}
MERIT_FIELDS = {"handicraft": "nghề thủ công mỹ nghệ", "intangible_heritage": "di sản văn hóa phi vật thể"}
POSITIONS = {"chair": "Chủ tịch Hội đồng", "vice_chair": "Phó Chủ tịch Hội đồng", "member": "Ủy viên",
             "secretary": "Ủy viên thư ký"}
LEVELS = {"province": "cấp tỉnh", "ministry": "cấp Bộ", "state": "cấp Nhà nước"}
# Who a council's submission letter (Tờ trình) goes to: the next level up.
RECIPIENTS = {
    "province": "Hội đồng xét tặng danh hiệu “Nghệ nhân nhân dân”, “Nghệ nhân ưu tú” "
                "trong lĩnh vực nghề thủ công mỹ nghệ cấp Bộ (Bộ Công Thương)",
    "ministry": "Hội đồng xét tặng danh hiệu “Nghệ nhân nhân dân”, “Nghệ nhân ưu tú” "
                "trong lĩnh vực nghề thủ công mỹ nghệ cấp Nhà nước",
    "state": "Thủ tướng Chính phủ",
}
MINISTRY = {"parent": "", "parent_place": "", "name": "BỘ CÔNG THƯƠNG", "place": "Hà Nội",
            "unit": "Cục Công Thương địa phương"}
# Who signs the national list for the ministry (Decree 30: "TL." for a unit signing on the minister's behalf).
MINISTRY_LIST_SIGNER = {"authority": "TL. Bộ trưởng", "role": "Cục trưởng Cục Công Thương địa phương",
                        "name": ""}
CONSULTATION_RECIPIENTS = ["Cổng thông tin điện tử Bộ Công Thương (để đăng tải)",
                           "Sở Công Thương các tỉnh, thành phố (để niêm yết)"]


def _title_label(title: str) -> str:
    return TITLE_LABELS.get(title, title)


def province_issuer(province: Province) -> dict:
    """The provincial secretariat (Sở Công Thương) as the left block of Decree 30 prints it."""
    return {"parent": f"ỦY BAN NHÂN DÂN {province.full_name.upper()}", "name": "SỞ CÔNG THƯƠNG",
            "place": province.name, "parent_place": province.full_name.upper()}


def council_issuer(council: Council) -> dict:
    """A council signs its own documents; its parent body heads the block."""
    parent_place = ""
    if council.level == Level.PROVINCE and council.province is not None:
        parent, place = f"ỦY BAN NHÂN DÂN {council.province.full_name.upper()}", council.province.name
        parent_place = council.province.full_name.upper()
    elif council.level == Level.MINISTRY:
        parent, place = "BỘ CÔNG THƯƠNG", "Hà Nội"
    else:
        parent, place = "", "Hà Nội"
    return {"parent": parent, "name": council.name.upper(), "place": place, "parent_place": parent_place}


def years_in_craft(periods) -> int:
    """Whole years over all declared periods (overlaps counted once)."""
    spans = sorted((p.from_date, p.to_date) for p in periods if p.from_date and p.to_date)
    days, end = 0, None
    for start, stop in spans:
        if end is not None and start <= end:
            if stop > end:
                days += (stop - end).days
                end = stop
            continue
        days += (stop - start).days + 1
        end = stop
    return int(days // 365.25)


def award_text(product) -> str:
    if not (product.award_rank or product.award_level):
        return ""
    rank = RANK_NAMES.get(product.award_rank, f"Giải hạng {product.award_rank}") if product.award_rank else "Giải"
    text = rank
    if product.award_level:
        text += " " + AWARD_LEVELS.get(product.award_level, product.award_level)
    if product.award_state_delegated:
        text += " (do Nhà nước cử tham dự)"
    return text


def unique_file_names(attachments) -> dict[int, str]:
    """Each attachment's name in a dossier, made unique: two uploads called "giay-khen.pdf" are listed
    (and embedded) as "giay-khen.pdf" and "giay-khen (2).pdf", never one over the other."""
    seen: dict[str, int] = {}
    names: dict[int, str] = {}
    for a in sorted(attachments, key=lambda x: x.id or 0):
        name = a.original_name or f"tep-{a.id}"
        key = name.casefold()
        if key in seen:
            stem, ext = posixpath.splitext(name)
            number = seen[key]
            while True:
                number += 1
                candidate = f"{stem} ({number}){ext}"
                if candidate.casefold() not in seen:
                    break
            seen[key] = number
            name, key = candidate, candidate.casefold()
        seen.setdefault(key, 1)
        names[a.id] = name
    return names


def portrait_attachment(n: Nomination):
    """The photo printed in the declaration's 4x6 box: the latest image uploaded as the portrait."""
    return next((a for a in sorted(n.attachments, key=lambda x: x.id or 0, reverse=True)
                 if a.kind == "portrait" and a.content_type.startswith("image/")), None)


def reply_due(n: Nomination) -> date | None:
    """The day the secretariat's written reply is due: ``reply_days`` after receipt (or submission)."""
    moment = n.received_at or n.submitted_at
    if moment is None:
        return None
    return local_date(moment) + timedelta(days=n.round.reply_days)


def clock(moment: datetime | None) -> str:
    """"8 giờ 30" in Vietnam's time, as minutes write it; empty when unknown."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(VN)
    return f"{local.hour} giờ {local.minute:02d}"


def attachment_data(a, file_name: str | None = None) -> dict:
    return {
        "id": a.id,
        "file_name": file_name or a.original_name,
        "kind": a.kind,
        "kind_label": KIND_LABELS.get(a.kind, a.kind),
        "name": a.original_name,
        "content_type": a.content_type,
        "size_kb": max(1, round(a.size / 1024)),
        "sha256": a.sha256,
        "uploaded_on": local_date(a.uploaded_at) if a.uploaded_at else None,
    }


def nomination_data(n: Nomination, with_attachments: bool = True, masked: tuple[str, ...] = ()) -> dict:
    """Everything the declaration, the summary and the receipt print about one dossier; the classes in
    ``masked`` (personal_fields: birth_date, address, phone, family) printed masked, as the reader may see
    them (documents.service.masked_for)."""
    d = _nomination_data(n, with_attachments)
    if masked:
        from ..personal_fields import ADDRESS, BIRTH_DATE, FAMILY, PHONE, mask

        if BIRTH_DATE in masked:
            d["birth_date"] = mask(BIRTH_DATE, n.birth_date)
        if ADDRESS in masked:
            d["address"] = mask(ADDRESS, d["address"])
        if PHONE in masked:
            d["phone"], d["email"] = mask(PHONE, d["phone"]), mask(PHONE, d["email"])
        if FAMILY in masked and n.posthumous and n.filed_by_name:
            d["filed_by_name"] = d["signer"] = mask(FAMILY, d["filed_by_name"])
    return d


def _nomination_data(n: Nomination, with_attachments: bool) -> dict:
    periods = list(n.periods)
    started = min((p.from_date for p in periods), default=None)
    merit = None
    if n.meritorious_decision_no or n.meritorious_decision_date:
        merit = {"decision_no": n.meritorious_decision_no or "", "decision_date": n.meritorious_decision_date,
                 "field": MERIT_FIELDS.get(n.meritorious_field or "", n.meritorious_field or "")}
    return {
        "id": n.id,
        "code": n.code or "",
        "title": n.title,
        "title_label": _title_label(n.title),
        "form_no": FORM_NO.get(n.title, "01"),
        "summary_form_no": SUMMARY_FORM_NO.get(n.title, "09"),
        "posthumous": n.posthumous,
        "governing_decree": n.governing_decree,
        "round": {"number": n.round.number, "name": n.round.name, "reply_days": n.round.reply_days},
        "full_name": n.full_name,
        "pen_name": n.pen_name or "",
        "birth_date": n.birth_date,
        "birth_year": n.birth_date.year if n.birth_date else None,
        "death_date": n.death_date,
        "gender": n.gender or "",
        "ethnicity": n.ethnicity or "",
        "hometown": n.hometown or "",
        "address": n.address or "",
        "phone": n.phone or "",
        "email": n.email or "",
        "province": {"code": n.province.code, "name": n.province.name, "full_name": n.province.full_name},
        "craft": n.craft,
        "special_craft": n.special_craft,
        "special_craft_rationale": n.special_craft_rationale or "",
        "workshop": n.workshop or "",
        "started_year": started.year if started else None,
        "years_in_craft": years_in_craft(periods),
        "periods": [{"from": p.from_date, "to": p.to_date, "workplace": p.workplace or "", "role": p.role or ""}
                    for p in periods],
        "career_summary": n.career_summary or "",
        "skills_summary": n.skills_summary or "",
        "honours_summary": n.honours_summary or "",
        "meritorious": merit,
        "products": [
            {"name": p.name, "year": p.made_on.year if p.made_on else None, "materials": p.materials or "",
             "self_designed": p.self_designed, "award": award_text(p), "organiser": p.award_organiser or "",
             "awarded_on": p.awarded_on}
            for p in n.products
        ],
        "awards": [award_text(p) + (f" ({p.name})" if p.name else "") for p in n.products if award_text(p)],
        "learners_trained": n.learners_trained,
        "filed_by_name": n.filed_by_name or "",
        "filed_by_relationship": n.filed_by_relationship,
        "filed_by_relationship_label": RELATIONSHIP_LABELS.get(n.filed_by_relationship, ""),
        "signer": (n.filed_by_name or n.full_name) if (n.posthumous or n.filed_by_relationship != "self")
        else n.full_name,
        "attachments": _attachments(n) if with_attachments else [],
        "submitted_on": local_date(n.submitted_at) if n.submitted_at else None,
        "decision_no": n.decision_no or "",
        "decision_date": n.decision_date,
        "issuer": province_issuer(n.province),
        # a dossier sent by a partner system keeps its code there (issue 19): on every document that names it
        "external_code": n.external_code or "",
        "channel_label": n.partner.channel_label if n.partner else "",
    }


BLANK = "……………………………………"
BLANK_ROWS = 6


def blank_declaration_data(title: str) -> dict:
    """The declaration (Mẫu 01/02) with nothing filled in, for people who write it by hand: the same
    keys as ``nomination_data``, dotted lines for the text, empty rows for the periods and products."""
    blank_row = {"from": None, "to": None, "workplace": " ", "role": " "}
    product = {"name": " ", "year": " ", "materials": " ", "self_designed": False, "award": " ",
               "organiser": " ", "awarded_on": None}
    return {
        "id": None, "code": "", "title": title, "title_label": _title_label(title),
        "form_no": FORM_NO.get(title, "01"), "summary_form_no": SUMMARY_FORM_NO.get(title, "09"),
        "posthumous": False, "governing_decree": "", "round": None,
        "full_name": BLANK, "pen_name": BLANK, "birth_date": None, "birth_year": None, "death_date": None,
        "gender": BLANK, "ethnicity": BLANK, "hometown": BLANK, "address": BLANK, "phone": BLANK, "email": "",
        "province": {"code": "", "name": "………………", "full_name": BLANK},
        "craft": BLANK, "special_craft": False, "special_craft_rationale": "", "workshop": BLANK,
        "started_year": BLANK, "years_in_craft": "……", "periods": [dict(blank_row) for _ in range(BLANK_ROWS)],
        "career_summary": BLANK * 3, "skills_summary": BLANK * 3, "honours_summary": BLANK * 3,
        "meritorious": ({"decision_no": "……………", "decision_date": None, "field": ""}
                        if title == "people" else None),
        "products": [dict(product) for _ in range(BLANK_ROWS)], "awards": [],
        "learners_trained": None, "filed_by_name": "", "filed_by_relationship": "self",
        "filed_by_relationship_label": "", "signer": "", "attachments": [], "submitted_on": None,
        "decision_no": "", "decision_date": None, "issuer": None, "external_code": "", "channel_label": "",
    }


def _attachments(n: Nomination) -> list[dict]:
    names = unique_file_names(n.attachments)
    return [attachment_data(a, names[a.id]) for a in n.attachments]


def council_data(council: Council) -> dict:
    members = [{"id": m.id, "full_name": m.user.full_name, "position": m.position,
                "position_label": POSITIONS.get(m.position, m.position)} for m in council.members]
    chair = next((m["full_name"] for m in members if m["position"] == "chair"), "")
    secretary = next((m["full_name"] for m in members if m["position"] == "secretary"), "")
    return {
        "id": council.id,
        "name": council.name,
        "level": council.level,
        "level_label": LEVELS.get(council.level, council.level),
        "province": council.province.name if council.province else "",
        "decision_no": council.decision_no,
        "decision_date": council.decision_date,
        "members_total": council.members_total,
        "quorum": council.quorum,
        "pass_threshold": council.pass_threshold,
        "quorum_percent": council.quorum_percent,
        "pass_percent": council.pass_percent,
        "members": members,
        "chair": chair,
        "secretary": secretary,
        "recipient": RECIPIENTS.get(council.level, ""),
        "round": {"number": council.round.number, "name": council.round.name,
                  "governing_decree": council.round.governing_decree},
    }


def agenda_item(seq: int, n: Nomination) -> dict:
    d = nomination_data(n, with_attachments=False)
    return {
        "seq": seq,
        "nomination_id": n.id,
        "code": d["code"],
        "full_name": d["full_name"],
        "pen_name": d["pen_name"],
        "birth_year": d["birth_year"],
        "gender": d["gender"],
        "ethnicity": d["ethnicity"],
        "title": d["title"],
        "title_label": d["title_label"],
        "posthumous": d["posthumous"],
        "craft": d["craft"],
        "province": d["province"]["name"],
        "address": d["address"],
        "years_in_craft": d["years_in_craft"],
        "learners_trained": d["learners_trained"],
        "awards": d["awards"],
        "meritorious": d["meritorious"],
    }


def session_data(session: CouncilSession, tally: list[dict] | None) -> dict:
    """A session: its council, attendance, agenda and, once closed, the stored tally."""
    from ..services.councils import ballots_cast, non_voters

    council = council_data(session.council)
    present_ids = {a.member_id for a in session.attendance}
    counts = {row["nomination_id"]: row for row in (tally or [])}
    items = []
    for seq, item in enumerate(session.items, start=1):
        row = agenda_item(seq, item.nomination)
        result = counts.get(item.nomination_id)
        if result:
            total = result["members_total"] or council["members_total"]
            row.update(yes=result["yes"], no=result["no"], invalid=result["invalid"],
                       excluded=result["excluded"], valid=result["yes"] + result["no"],
                       members_total=total, passed=result["passed"])
        items.append(row)
    conflicts = db.session.scalars(
        sa.select(ConflictDeclaration).where(ConflictDeclaration.session_id == session.id)
        .order_by(ConflictDeclaration.id)
    ).all()
    names = {i.nomination_id: i.nomination.full_name for i in session.items}
    present = [m for m in council["members"] if m["id"] in present_ids]
    # Reasons stored with the session (session_non_voters): for a present member who did not vote,
    # and for an absent member, why they were absent; the minutes print both.
    reasons = non_voters(session)
    absence = {nv.member_id: nv.reason for nv in reasons if nv.member_id not in present_ids}
    absent = [m | {"absence_reason": absence.get(m["id"], "")}
              for m in council["members"] if m["id"] not in present_ids]
    closed_on = local_date(session.closed_at) if session.closed_at else None
    return {
        "id": session.id,
        "held_on": session.held_on,
        "closed_on": closed_on,
        "place": session.place or "",
        "status": session.status,
        "closed": session.status == SessionStatus.CLOSED,
        "opened_at": session.opened_at,
        "council": council,
        "issuer": council_issuer(session.council),
        "present": present,
        "absent": absent,
        "opened_time": clock(session.opened_at),
        "closed_time": clock(session.closed_at),
        "quorum": council["quorum"],
        "quorum_met": (session.quorum_met if session.quorum_met is not None
                       else len(present) >= council["quorum"]),
        "minutes_recipients": ["Các thành viên Hội đồng", council["recipient"]],
        "present_count": session.present_count if session.present_count is not None else len(present),
        "members_total": session.members_total or council["members_total"],
        "ballots_issued": session.present_count if session.present_count is not None else len(present),
        "ballots_returned": ballots_cast(session),
        "threshold": council["pass_threshold"],
        "agenda": items,
        "titles": sorted({i["title"] for i in items}, key=["people", "meritorious"].index),
        "passed": [i for i in items if i.get("passed")],
        "failed": [i for i in items if result_known(i) and not i.get("passed")],
        "conflicts": [{"member": c.member.user.full_name, "nominee": names.get(c.nomination_id, ""),
                       "reason": c.reason} for c in conflicts],
        "non_voters": [{"member": nv.member.user.full_name, "reason": nv.reason}
                       for nv in reasons if nv.member_id in present_ids],
        # the council's decisions on special crafts taken in this session (issue 14), the latest per dossier
        "special_crafts": _special_crafts(session, names),
    }


def _special_crafts(session: CouncilSession, names: dict) -> list[dict]:
    from ..services.eligibility import special_craft_decisions

    latest = {d.nomination_id: d for d in special_craft_decisions(session.id)}
    return [{"nominee": names.get(d.nomination_id, ""), "is_special": d.is_special, "reasons": d.reasons}
            for d in sorted(latest.values(), key=lambda d: d.id)]


def result_known(item: dict) -> bool:
    return "passed" in item


CONSULTATION_WINDOWS = {
    # window: (states listed, which council proposed them)
    "public": (("public_consultation",), "ministry"),
    "final": (("final_consultation",), "state"),
}


def consultation_list_data(round_: Round, window: str, on: date) -> dict:
    """The national list posted for public comment in a round's window, by title then province."""
    states, level = CONSULTATION_WINDOWS[window]
    rows = db.session.scalars(
        sa.select(Nomination).join(Province, Province.code == Nomination.province_code)
        .where(Nomination.round_id == round_.id, Nomination.state.in_(states))
        .order_by(Nomination.title.desc(), vi_order(Province.name), vi_order(Nomination.full_name), Nomination.id)
    ).all()
    items = [agenda_item(i, n) | {"window_ends": n.consultation_ends} for i, n in enumerate(rows, start=1)]
    groups = []
    for title in ("people", "meritorious"):
        members = [i for i in items if i["title"] == title]
        if members:
            groups.append({"title": title, "title_label": _title_label(title), "nominees": members})
    return {
        "round": {"id": round_.id, "number": round_.number, "name": round_.name,
                  "consultation_days": round_.consultation_days,
                  "consultation_day_kind": round_.consultation_day_kind or "calendar"},
        "window": window,
        "proposed_by": LEVELS[level],
        "issuer": MINISTRY,
        "signer": MINISTRY_LIST_SIGNER,
        "recipients": CONSULTATION_RECIPIENTS,
        "on": on,
        "groups": groups,
        "total": len(items),
    }
