"""Operations on nominations: create, edit, take an action, look up.

Every state change goes through ``perform``: it checks the actor's role and
scope, asks the one state machine whether the move is possible, applies the
move's side effects, writes exactly one log row and commits once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from workflows import machine as wf
from workflows.states import N_, Action, State

from .. import audit, permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..models import (
    CodeCounter,
    CraftPeriod,
    Nomination,
    Product,
    Province,
    Round,
    Title,
    TransitionLog,
    User,
    get_row,
)
from ..schemas import NominationIn
from ..text import nfc, search_key
from ..timeutil import local_date, now_utc, today

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


# -- reading ----------------------------------------------------------------


def get_visible(user: User, nomination_id: int) -> Nomination:
    """The nomination if ``user`` may see it; otherwise NotFound (never Forbidden)."""
    nomination = get_row(Nomination, nomination_id)
    if nomination is None or not permissions.can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return nomination


@dataclass
class Filters:
    state: str | None = None
    province_code: str | None = None
    round_id: int | None = None
    title: str | None = None
    q: str | None = None
    overdue_only: bool = False


def visible_query(user: User, filters: Filters) -> sa.Select:
    stmt = sa.select(Nomination).where(permissions.visible_filter(user))
    if filters.state:
        stmt = stmt.where(Nomination.state == filters.state)
    if filters.province_code:
        stmt = stmt.where(Nomination.province_code == filters.province_code)
    if filters.round_id:
        stmt = stmt.where(Nomination.round_id == filters.round_id)
    if filters.title:
        stmt = stmt.where(Nomination.title == filters.title)
    if filters.q:
        key = search_key(filters.q)
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                Nomination.name_key.like(pattern, escape="\\"),
                sa.func.lower(Nomination.code).like(pattern, escape="\\"),
            )
        )
    return stmt


def history(nomination: Nomination) -> list[TransitionLog]:
    return list(db.session.scalars(nomination.log.select().order_by(TransitionLog.id)))


_STATUS_COLUMNS = Nomination.__table__.c
_STATUS_QUERY = sa.select(
    _STATUS_COLUMNS.code, _STATUS_COLUMNS.state, _STATUS_COLUMNS.state_changed_at,
    _STATUS_COLUMNS.access_key_hash,
).where(_STATUS_COLUMNS.code == sa.bindparam("code"))


def lookup_status(code: str, key: str) -> sa.Row:
    """Public lookup by dossier code and access key; the same NotFound for either being wrong.

    The public's hot path (bench/lookup_bench.py): one indexed read of four columns on a pooled
    connection of its own, with no ORM session, object or related rows.  The answer has ``code``,
    ``state`` and ``state_changed_at``.
    """
    code = nfc(code or "").strip().upper()
    row = None
    if code and len(code) <= 32:
        with db.engine.connect() as conn:
            row = conn.execute(_STATUS_QUERY, {"code": code}).first()
    expected = row.access_key_hash if row is not None and row.access_key_hash else ""
    given = _key_hash(key or "")
    if row is None or not hmac.compare_digest(expected, given):
        raise NotFound(N_("Không tìm thấy hồ sơ với mã và mã tra cứu này."), code="not_found")
    return row


# -- writing ----------------------------------------------------------------


def create_nomination(owner: User, data: NominationIn) -> Nomination:
    round_ = db.session.get(Round, data.round_id)
    if round_ is None:
        raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng này.")})
    province_code = data.nominee.province_code
    if owner.has_role(wf.PROVINCE_OFFICER) and not owner.has_role(wf.APPLICANT):
        province_code = province_code or owner.province_code
    if not province_code:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Cần chọn tỉnh, thành phố nơi nộp hồ sơ.")}
        )
    province = db.session.get(Province, province_code)
    if province is None or not province.active:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Tỉnh, thành phố không hợp lệ.")}
        )
    if not permissions.can_file_in(owner, province_code):
        raise Forbidden(N_("Bạn chỉ có thể lập hồ sơ cho tỉnh, thành phố của mình."))
    nomination = Nomination(
        owner_id=owner.id,
        round_id=round_.id,
        province_code=province_code,
        governing_decree=round_.governing_decree,
        state=State.DRAFT,
    )
    _apply(nomination, data)
    db.session.add(nomination)
    db.session.commit()
    return nomination


def update_nomination(user: User, nomination: Nomination, data: NominationIn) -> Nomination:
    if nomination.owner_id != user.id:
        raise Forbidden()
    if not permissions.can_edit(user, nomination):
        raise TransitionRefused(
            N_("Chỉ sửa được hồ sơ ở trạng thái bản nháp hoặc đã trả lại để bổ sung."),
            code="not_editable",
        )
    if data.round_id != nomination.round_id:
        if nomination.state != State.DRAFT or db.session.get(Round, data.round_id) is None:
            raise ValidationFailed(fields={"round_id": N_("Không đổi được đợt xét tặng.")})
        nomination.round_id = data.round_id
    if data.nominee.province_code and data.nominee.province_code != nomination.province_code:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Không đổi được tỉnh, thành phố nơi nộp hồ sơ.")}
        )
    _apply(nomination, data)
    _commit_or_conflict()
    return nomination


def _apply(n: Nomination, data: NominationIn) -> None:
    nominee = data.nominee
    n.title = data.title
    n.posthumous = data.posthumous
    n.full_name = nominee.full_name
    n.pen_name = nominee.pen_name
    n.birth_date = nominee.birth_date
    n.death_date = nominee.death_date
    n.gender = nominee.gender
    n.ethnicity = nominee.ethnicity
    n.hometown = nominee.hometown
    n.address = nominee.address
    n.phone = nominee.phone
    n.email = nominee.email
    n.craft = data.craft
    n.special_craft = data.special_craft
    n.special_craft_rationale = data.special_craft_rationale
    n.workshop = data.workshop
    n.career_summary = data.career_summary
    n.skills_summary = data.skills_summary
    n.honours_summary = data.honours_summary
    merit = data.meritorious_title
    n.meritorious_decision_no = merit.decision_no if merit else None
    n.meritorious_decision_date = merit.decision_date if merit else None
    n.meritorious_field = merit.field if merit else None
    n.learners_trained = data.learners_trained
    n.intangible_heritage_track = data.intangible_heritage_track
    n.filed_by_name = data.filed_by.full_name
    n.filed_by_relationship = data.filed_by.relationship
    n.periods = [
        CraftPeriod(from_date=p.from_, to_date=p.to, workplace=p.workplace, role=p.role)
        for p in data.craft_periods
    ]
    n.products = [
        Product(
            name=p.name,
            made_on=p.made_on,
            materials=p.materials,
            self_designed=p.self_designed,
            award_rank=p.award.rank if p.award else None,
            award_level=p.award.level if p.award else None,
            award_state_delegated=p.award.state_delegated if p.award else False,
            award_organiser=p.award.organiser if p.award else None,
            awarded_on=p.award.awarded_on if p.award else None,
        )
        for p in data.products
    ]
    n.refresh_name_key()


def missing_for_submission(n: Nomination) -> dict[str, str]:
    """What a dossier still lacks before it can be submitted, in plain words."""
    missing: dict[str, str] = {}
    if not n.birth_date:
        missing["nominee.birth_date"] = N_("Cần ngày sinh của nghệ nhân.")
    if not n.address:
        missing["nominee.address"] = N_("Cần địa chỉ nơi cư trú.")
    if not n.craft:
        missing["craft"] = N_("Cần ghi tên nghề thủ công mỹ nghệ.")
    if not n.periods:
        missing["craft_periods"] = N_("Cần khai ít nhất một giai đoạn hành nghề.")
    if n.title == Title.PEOPLE and not (n.meritorious_decision_no and n.meritorious_decision_date):
        missing["meritorious_title"] = (
            N_("Hồ sơ Nghệ nhân nhân dân cần số và ngày quyết định phong tặng Nghệ nhân ưu tú.")
        )
    if n.learners_trained is None:
        missing["learners_trained"] = N_("Cần ghi số người đã được truyền nghề.")
    if n.posthumous or n.filed_by_relationship != "self":
        if not n.filed_by_name:
            missing["filed_by.full_name"] = N_("Cần họ tên người nộp thay.")
    if n.special_craft and not (n.special_craft_rationale or "").strip():
        missing["special_craft_rationale"] = N_("Nghề đặc thù cần nêu lý do.")
    return missing


def perform(
    nomination: Nomination,
    action: str,
    actor: User,
    comment: str | None = None,
    decision_no: str | None = None,
    decision_date: date | None = None,
) -> str | None:
    """Take ``action`` on ``nomination`` as ``actor``.

    Returns the new access key when the action issued one (first submission),
    else None.  Raises Forbidden, TransitionRefused or ValidationFailed; on any
    error nothing is written.
    """
    if action not in set(wf.HUMAN_ACTIONS):
        raise NotFound(N_("Không có thao tác này."), code="unknown_action")
    if not permissions.may_act(actor, nomination, action):
        raise Forbidden()
    # Read the row afresh under a lock (PostgreSQL), so that two officers acting at
    # once are serialised: the second sees the first one's state and gets a 409.
    db.session.refresh(nomination, with_for_update=True)
    now = now_utc()
    on = today()
    before = nomination.state_enum
    subject = nomination.subject(on)
    try:
        after = wf.fire(subject, action)
    except wf.TransitionNotAllowed as exc:
        db.session.rollback()
        raise TransitionRefused(_refusal_message(exc)) from exc

    comment = nfc(comment).strip() if comment else None
    meta: dict = {}
    access_key = None
    if action == Action.SUBMIT:
        missing = missing_for_submission(nomination)
        if missing:
            db.session.rollback()
            raise ValidationFailed(N_("Hồ sơ còn thiếu thông tin."), fields=missing)
        if nomination.code is None:
            nomination.code = _next_code(nomination.province_code, local_date(now).year)
            access_key = _new_access_key()
            nomination.access_key_hash = _key_hash(access_key)
        nomination.submitted_at = now
        nomination.received_at = now
        meta["code"] = nomination.code
    elif action == Action.RESUBMIT:
        missing = missing_for_submission(nomination)
        if missing:
            db.session.rollback()
            raise ValidationFailed(N_("Hồ sơ còn thiếu thông tin."), fields=missing)
        nomination.received_at = now
    elif action in (Action.RETURN, Action.HOLD):
        if not comment:
            db.session.rollback()
            raise ValidationFailed(fields={"comment": N_("Cần ghi rõ lý do.")})
        if action == Action.RETURN:
            nomination.returned_at = now
        else:
            _refuse_if_voting(nomination)
            nomination.held_from = before
    elif action == Action.RELEASE:
        _refuse_if_complaints_open(nomination)
        nomination.held_from = None
    elif action == Action.OPEN_CONSULTATION:
        nomination.consultation_ends = on + timedelta(days=nomination.round.consultation_days)
        meta["consultation_ends"] = nomination.consultation_ends.isoformat()
    elif action == Action.RECORD_AWARD:
        fields = {}
        if not decision_no:
            fields["decision_no"] = N_("Cần số quyết định của Chủ tịch nước.")
        if not decision_date:
            fields["decision_date"] = N_("Cần ngày quyết định.")
        if fields:
            db.session.rollback()
            raise ValidationFailed(fields=fields)
        nomination.decision_no = nfc(decision_no).strip()
        nomination.decision_date = decision_date
        meta.update(decision_no=nomination.decision_no, decision_date=decision_date.isoformat())

    record_move(nomination, action, before, after, actor.id, actor.full_name, comment, meta, now)
    _commit_or_conflict()
    return access_key


def record_move(nomination: Nomination, action: str, before: State, after: State,
                actor_id: int | None, actor_name: str, comment: str | None, meta: dict,
                now=None) -> None:
    """Set the new state and add its one log row (the caller commits)."""
    now = now or now_utc()
    nomination.state = after
    nomination.state_changed_at = now
    values = {
        "nomination_id": nomination.id,
        "action": str(action),
        "from_state": str(before),
        "to_state": str(after),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "comment": comment,
        "at": now,
        "meta": meta,
    }
    _flush_or_conflict()  # writes the state change now, so a concurrent writer surfaces as a 409 here
    prev_hash = db.session.scalar(
        sa.select(TransitionLog.hash).where(TransitionLog.nomination_id == nomination.id)
        .order_by(TransitionLog.id.desc()).limit(1)
    ) or ""
    db.session.add(TransitionLog(**values, prev_hash=prev_hash, hash=audit.link_hash(prev_hash, values)))


def move_by_event(nomination: Nomination, event: str, actor_id: int | None, actor_name: str,
                  comment: str | None = None, meta: dict | None = None) -> None:
    """A move made by the system on people's behalf (a council's tally, a signed complaint).

    The machine still decides; roles are not checked here because no person fires it.
    The caller holds the row lock and commits.
    """
    before = nomination.state_enum
    subject = nomination.subject(today())
    try:
        after = wf.fire(subject, event)
    except wf.TransitionNotAllowed as exc:
        raise TransitionRefused(_refusal_message(exc)) from exc
    if event == Action.HOLD:
        nomination.held_from = before
    record_move(nomination, event, before, after, actor_id, actor_name, comment, meta or {})


def _refuse_if_voting(nomination: Nomination) -> None:
    from ..models import AgendaItem, CouncilSession, SessionStatus

    voting = db.session.scalar(
        sa.select(sa.func.count()).select_from(AgendaItem)
        .join(CouncilSession, CouncilSession.id == AgendaItem.session_id)
        .where(AgendaItem.nomination_id == nomination.id, CouncilSession.status == SessionStatus.OPEN)
    )
    if voting:
        db.session.rollback()
        raise TransitionRefused(N_("Hồ sơ đang được Hội đồng bỏ phiếu, không thể tạm dừng."),
                                code="session_open")


def _refuse_if_complaints_open(nomination: Nomination) -> None:
    from ..models import PublicComment

    comments = db.session.scalars(
        sa.select(PublicComment).where(PublicComment.nomination_id == nomination.id)
    ).all()
    if any(c.blocks for c in comments):
        db.session.rollback()
        raise TransitionRefused(
            N_("Còn ý kiến, khiếu nại chưa được kết luận; hãy kết luận trước khi tiếp tục xử lý."),
            code="complaints_open",
        )


def _refusal_message(exc: wf.TransitionNotAllowed) -> str:
    if exc.action in (Action.SUBMIT,) and exc.reason == "guard":
        return N_("Đợt xét tặng không trong thời hạn tiếp nhận hồ sơ.")
    if exc.action == Action.RESUBMIT and exc.reason == "guard":
        return N_("Đã quá thời hạn bổ sung hồ sơ.")
    if exc.reason == "guard":
        return N_("Chưa đủ điều kiện để thực hiện thao tác này (thời hạn lấy ý kiến chưa kết thúc).")
    return N_("Thao tác này không được phép ở trạng thái hiện tại của hồ sơ.")


def _flush_or_conflict() -> None:
    _write_or_conflict(db.session.flush)


def _commit_or_conflict() -> None:
    _write_or_conflict(db.session.commit)


def _write_or_conflict(write) -> None:
    """Flush or commit; a concurrent writer's newer version becomes a 409, with nothing written."""
    try:
        write()
    except StaleDataError as exc:
        db.session.rollback()
        raise TransitionRefused(
            N_("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang."), code="conflict"
        ) from exc


def _next_code(province_code: str, year: int) -> str:
    counter = db.session.get(CodeCounter, (province_code, year), with_for_update=True)
    if counter is None:
        counter = CodeCounter(province_code=province_code, year=year, last=0)
        db.session.add(counter)
    counter.last += 1
    return f"NN-{year}-{province_code}-{counter.last:05d}"


def _new_access_key() -> str:
    raw = "".join(secrets.choice(KEY_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _key_hash(key: str) -> str:
    normalised = key.strip().upper().replace(" ", "")
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, normalised.encode(), hashlib.sha256).hexdigest()
