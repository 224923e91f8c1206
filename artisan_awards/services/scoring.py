"""Scorers' sheets for a level that decides on a rubric (issue 18): panels, one sheet per scorer, the close.

Who scores: the members of the level's panel for the round (``ScoringPanelMember``), chosen by the level's
secretariat (its ``officer`` role) among the accounts holding the level's ``council`` role; a level whose
definition says ``scope: region`` has one panel per region (artisan_awards/regions.py) and a member scores
the dossiers of his region's provinces only.

While the dossier is in the level's entry state each member enters and corrects HIS OWN sheet (criterion
id → points, within the rubric's scale); nobody else reads it, the secretariat sees only who has
handed one in.  The secretariat closes the scoring: the level's decision is computed from the stored sheets
by ``workflows.programme.decide`` (the mean of the weighted totals against the pass mark) and moves the
dossier (``services.programmes.decide``: one log row with the score); from then on the sheets are read-only
and the panel and the secretariat read them all.
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from workflows import programme as pg
from workflows.states import N_

from .. import permissions, regions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import AuditKind, Nomination, Round, ScoreSheet, ScoringPanelMember, TransitionLog, User
from ..text import nfc
from . import admin_events, transaction

CLOSED = N_("Việc chấm điểm ở cấp này đã kết thúc hoặc chưa bắt đầu.")
CONFLICT = N_("Phiếu chấm vừa được cập nhật ở nơi khác. Hãy tải lại trang.")
OUT_OF_SCALE = N_("Điểm nằm ngoài thang điểm của tiêu chí.")
MISSING = N_("Nhập điểm cho tiêu chí này.")
NOT_A_NUMBER = N_("Điểm phải là một số (ví dụ 7 hoặc 7,5).")


def _programme_of_round(round_: Round) -> pg.Programme:
    from .programmes import programme_of_round

    return programme_of_round(round_)


def _programme_of(nomination: Nomination) -> pg.Programme:
    from .programmes import programme_of

    return programme_of(nomination)


def rubric_level(programme: pg.Programme, level_id: str) -> pg.LevelDef:
    """The level of ``programme`` named ``level_id``, which must decide on a rubric."""
    try:
        level = programme.level(str(level_id))
    except KeyError:
        raise NotFound(N_("Không có cấp xét này."), code="level_not_found") from None
    if not isinstance(level.decision, pg.RubricDecision):
        raise NotFound(N_("Cấp này không chấm điểm theo thang điểm."), code="not_scored")
    return level


def region_for(level: pg.LevelDef, nomination: Nomination) -> str:
    """The panel a dossier goes to: its province's region for a level scoped by region, "" otherwise."""
    if level.scope != "region":
        return ""
    region = regions.region_of(nomination.province_code)
    if region is None:
        raise ValidationFailed(N_("Tỉnh của hồ sơ chưa được xếp vào khu vực nào."), code="no_region")
    return region


# -- panels ---------------------------------------------------------------------------------------


def assign_scorer(actor: User, round_id: int, level_id: str, user_id: int, region: str = "") -> ScoringPanelMember:
    """Put ``user_id`` on the level's panel of the round (for ``region`` when the level is scoped by region)."""
    round_ = db.session.get(Round, round_id) if isinstance(round_id, int) else None
    if round_ is None:
        raise NotFound(N_("Không tìm thấy đợt xét tặng."), code="round_not_found")
    level = rubric_level(_programme_of_round(round_), level_id)
    if not permissions.holds_role(actor, level.officer):
        raise Forbidden()
    scorer = db.session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if scorer is None or not scorer.active or not permissions.holds_role(scorer, level.council):
        raise ValidationFailed(fields={"user_id": N_("Tài khoản này không phải thành viên hội đồng của cấp này.")})
    region = region or ""
    if level.scope == "region" and region not in regions.REGIONS:
        raise ValidationFailed(fields={"region": N_("Chọn khu vực: Miền Bắc, Miền Trung hoặc Miền Nam.")})
    if level.scope != "region" and region:
        raise ValidationFailed(fields={"region": N_("Cấp này không chia theo khu vực.")})
    duplicate = TransitionRefused(N_("Người này đã có trong danh sách chấm điểm."), code="duplicate")
    if db.session.scalar(sa.select(ScoringPanelMember.id).where(
            ScoringPanelMember.round_id == round_.id, ScoringPanelMember.level == level.id,
            ScoringPanelMember.region == region, ScoringPanelMember.user_id == scorer.id)) is not None:
        raise duplicate
    with transaction.one_transaction(duplicate=duplicate):
        member = ScoringPanelMember(round_id=round_.id, level=level.id, region=region, user_id=scorer.id)
        db.session.add(member)
        db.session.flush()
        admin_events.record(AuditKind.SCORER_ASSIGNED, actor, target=scorer, target_type="user",
                            target_label=scorer.email, round_id=round_.id, level=level.id, region=region)
    return member


def has_panel(round_id: int, level_id: str) -> bool:
    """Whether the level of the round scores through its panel's sheets (then only the close decides)."""
    return db.session.scalar(sa.select(ScoringPanelMember.id).where(
        ScoringPanelMember.round_id == round_id, ScoringPanelMember.level == level_id).limit(1)) is not None


def panel(round_id: int, level_id: str, region: str = "") -> list[ScoringPanelMember]:
    return list(db.session.scalars(sa.select(ScoringPanelMember).where(
        ScoringPanelMember.round_id == round_id, ScoringPanelMember.level == level_id,
        ScoringPanelMember.region == region).order_by(ScoringPanelMember.id)))


def on_panel(user: User, nomination: Nomination, level: pg.LevelDef) -> bool:
    if not permissions.holds_role(user, level.council, nomination.province_code):
        return False
    region = region_for(level, nomination)
    return db.session.scalar(sa.select(ScoringPanelMember.id).where(
        ScoringPanelMember.round_id == nomination.round_id, ScoringPanelMember.level == level.id,
        ScoringPanelMember.region == region, ScoringPanelMember.user_id == user.id)) is not None


# -- sheets ---------------------------------------------------------------------------------------


def parse_scores(decision: pg.RubricDecision, raw) -> tuple[dict[str, float], dict[str, str]]:
    """(criterion id → points, criterion id → Vietnamese message): every criterion, within its scale;
    "7,5" and "7.5" are both seven and a half."""
    if not isinstance(raw, dict):
        raw = {}
    scores: dict[str, float] = {}
    errors: dict[str, str] = {}
    known = {c.id: c for g in decision.groups for c in g.criteria}
    for name in raw:
        if name not in known:
            errors[str(name)[:40]] = N_("Không có tiêu chí này trong thang điểm.")
    for cid, criterion in known.items():
        value = raw.get(cid)
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        if value is None or value == "":
            errors[cid] = MISSING
            continue
        if isinstance(value, bool):
            errors[cid] = NOT_A_NUMBER
            continue
        try:
            points = float(value)
        except (TypeError, ValueError):
            errors[cid] = NOT_A_NUMBER
            continue
        if math.isnan(points) or not 0 <= points <= criterion.max_points:
            errors[cid] = OUT_OF_SCALE
            continue
        scores[cid] = int(points) if points.is_integer() else round(points, 2)
    return scores, errors


def weighted_total(decision: pg.RubricDecision, scores: dict[str, float]) -> float:
    return round(sum(g.weight * scores.get(c.id, 0) for g in decision.groups for c in g.criteria), 2)


def _scorer_level(user: User, nomination: Nomination, level_id: str) -> pg.LevelDef:
    level = rubric_level(_programme_of(nomination), level_id)
    if not on_panel(user, nomination, level):
        raise Forbidden(N_("Ông/bà không có tên trong danh sách chấm điểm hồ sơ này."))
    return level


def own_sheet(user: User, nomination: Nomination, level_id: str) -> tuple[pg.LevelDef, ScoreSheet | None]:
    """The scorer's own sheet for the dossier at the level (None before he has handed one in)."""
    level = _scorer_level(user, nomination, level_id)
    sheet = db.session.scalar(sa.select(ScoreSheet).where(
        ScoreSheet.nomination_id == nomination.id, ScoreSheet.level == level.id, ScoreSheet.scorer_id == user.id))
    return level, sheet


def is_open(nomination: Nomination, level: pg.LevelDef) -> bool:
    return nomination.state == level.entry


def save_sheet(user: User, nomination: Nomination, level_id: str, scores, comment: str | None = "") -> ScoreSheet:
    """Enter or correct the scorer's own sheet while the scoring is open."""
    level, _ = own_sheet(user, nomination, level_id)
    decision = level.decision
    clean, errors = parse_scores(decision, scores)
    if errors:
        raise ValidationFailed(fields=errors)
    comment = nfc(comment).strip()[:5000] if isinstance(comment, str) else ""
    with transaction.one_transaction(conflict=CONFLICT,
                                     duplicate=TransitionRefused(CONFLICT, code="conflict")):
        db.session.refresh(nomination, with_for_update=True)  # against the close, which takes the same lock
        if not is_open(nomination, level):
            raise TransitionRefused(CLOSED, code="scoring_closed")
        sheet = db.session.scalar(sa.select(ScoreSheet).where(
            ScoreSheet.nomination_id == nomination.id, ScoreSheet.level == level.id,
            ScoreSheet.scorer_id == user.id))
        if sheet is None:
            sheet = ScoreSheet(nomination_id=nomination.id, level=level.id, scorer_id=user.id)
            db.session.add(sheet)
        sheet.scores, sheet.total, sheet.comment = clean, weighted_total(decision, clean), comment
    return sheet


def sheets(nomination: Nomination, level: pg.LevelDef) -> list[ScoreSheet]:
    """The sheets of the dossier's panel at the level (a sheet of someone taken off the panel is not counted)."""
    members = sa.select(ScoringPanelMember.user_id).where(
        ScoringPanelMember.round_id == nomination.round_id, ScoringPanelMember.level == level.id,
        ScoringPanelMember.region == region_for(level, nomination))
    return list(db.session.scalars(sa.select(ScoreSheet).where(
        ScoreSheet.nomination_id == nomination.id, ScoreSheet.level == level.id,
        ScoreSheet.scorer_id.in_(members)).order_by(ScoreSheet.id)))


def may_read_all(user: User, nomination: Nomination, level: pg.LevelDef) -> bool:
    """The secretariat, or a member of the panel, once the scoring is closed."""
    return permissions.may_act_as(user, nomination, level.officer) or on_panel(user, nomination, level)


def status(user: User, nomination: Nomination, level_id: str) -> dict:
    """What the level's secretariat (or, after the close, a panel member) sees of the scoring.

    Open: the panel and who has handed in a sheet (not the points).  Closed: every sheet and the outcome."""
    level = rubric_level(_programme_of(nomination), level_id)
    officer = permissions.may_act_as(user, nomination, level.officer)
    open_ = is_open(nomination, level)
    if not officer and (open_ or not on_panel(user, nomination, level)):
        raise Forbidden()
    region = region_for(level, nomination)
    handed_in = {s.scorer_id: s for s in sheets(nomination, level)}
    members = panel(nomination.round_id, level.id, region)
    answer = {
        "level": level.id, "region": region, "open": open_, "min_scorers": level.decision.min_scorers,
        "pass_mark": level.decision.pass_mark, "max_score": level.decision.max_score,
        "panel": [{"user_id": m.user_id, "name": m.user.full_name, "handed_in": m.user_id in handed_in}
                  for m in members],
        "handed_in": len(handed_in),
    }
    if not open_:
        answer["sheets"] = [{"scorer_id": s.scorer_id, "name": s.scorer.full_name, "scores": s.scores,
                             "total": s.total, "comment": s.comment} for s in handed_in.values()]
        answer["outcome"] = outcome(nomination, level)
    return answer


def outcome(nomination: Nomination, level: pg.LevelDef) -> dict | None:
    """The level's decision as logged: {"passed", "score", "scorers", "pass_mark"} (None before it)."""
    row = db.session.scalar(sa.select(TransitionLog).where(
        TransitionLog.nomination_id == nomination.id,
        TransitionLog.action.in_([level.decision.passes, level.decision.rejects])).order_by(TransitionLog.id.desc())
        .limit(1))
    if row is None:
        return None
    meta = row.meta or {}
    return {"passed": row.action == level.decision.passes, "score": meta.get("score"),
            "scorers": meta.get("scorers"), "pass_mark": meta.get("pass_mark")}


def close(actor: User, nomination: Nomination, level_id: str, comment: str | None = None) -> str:
    """Close the scoring: the decision from the stored sheets moves the dossier; returns its new state."""
    from .programmes import decide

    level = rubric_level(_programme_of(nomination), level_id)
    if not permissions.may_act_as(actor, nomination, level.officer):
        raise Forbidden()
    with transaction.one_transaction(conflict=CONFLICT):
        # the dossier's row lock, held until the decision commits: no sheet is saved in between
        db.session.refresh(nomination, with_for_update=True)
        if not is_open(nomination, level):
            raise TransitionRefused(CLOSED, code="scoring_closed")
        stored = sheets(nomination, level)
        if len(stored) < level.decision.min_scorers:
            raise ValidationFailed(fields={"scores": N_("Chưa đủ số người chấm theo quy định.")},
                                   code="too_few_sheets")
        inputs = {"scores": [s.scores for s in stored]}
        new_state = decide(nomination, level.id, inputs, actor, comment,
                           meta={"sheets": [{"scorer_id": s.scorer_id, "total": s.total} for s in stored]})
    return new_state


def ranking(actor: User, round_id: int, level_id: str, region: str | None = None) -> list[dict]:
    """The dossiers the level scored in the round, best first: {"nomination", "score", "passed", "region"}
    (the secretariat chooses the best for the next level)."""
    round_ = db.session.get(Round, round_id) if isinstance(round_id, int) else None
    if round_ is None:
        raise NotFound(N_("Không tìm thấy đợt xét tặng."), code="round_not_found")
    level = rubric_level(_programme_of_round(round_), level_id)
    if not permissions.holds_role(actor, level.officer):
        raise Forbidden()
    rows = db.session.execute(
        sa.select(TransitionLog, Nomination).join(Nomination, Nomination.id == TransitionLog.nomination_id)
        .where(Nomination.round_id == round_.id,
               TransitionLog.action.in_([level.decision.passes, level.decision.rejects]))
        .order_by(TransitionLog.id)).all()
    latest: dict[int, tuple[TransitionLog, Nomination]] = {}
    for log, nomination in rows:
        if (log.meta or {}).get("level") == level.id:
            latest[nomination.id] = (log, nomination)
    result = []
    for log, nomination in latest.values():
        where = regions.region_of(nomination.province_code) or ""
        if region and where != region:
            continue
        if not permissions.holds_role(actor, level.officer, nomination.province_code):
            continue
        result.append({"nomination": nomination, "score": (log.meta or {}).get("score"),
                       "passed": log.action == level.decision.passes, "region": where})
    return sorted(result, key=lambda r: (-(r["score"] or 0), r["nomination"].id))


def queue(user: User) -> list[dict]:
    """The dossiers waiting for the scorer's sheet (every panel he sits on), with his sheet if any."""
    seats = db.session.scalars(sa.select(ScoringPanelMember).where(ScoringPanelMember.user_id == user.id)).all()
    result = []
    for seat in seats:
        round_ = db.session.get(Round, seat.round_id)
        try:
            level = rubric_level(_programme_of_round(round_), seat.level)
        except NotFound:
            continue
        query = sa.select(Nomination).where(Nomination.round_id == round_.id, Nomination.state == level.entry)
        if seat.region:
            query = query.where(Nomination.province_code.in_(regions.provinces_of(seat.region)))
        for nomination in db.session.scalars(query.order_by(Nomination.id)):
            if not permissions.holds_role(user, level.council, nomination.province_code):
                continue
            sheet = db.session.scalar(sa.select(ScoreSheet).where(
                ScoreSheet.nomination_id == nomination.id, ScoreSheet.level == level.id,
                ScoreSheet.scorer_id == user.id))
            result.append({"nomination": nomination, "level": level, "region": seat.region, "sheet": sheet})
    return result
