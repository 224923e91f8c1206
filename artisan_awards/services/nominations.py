"""Operations on nominations: create and edit a draft, and one function per action of the machine.

Every action runs through one runner (``_run``): lock the row, ask the one state machine whether
the move is possible (roles and scope first), apply the action's own change, write the state and
exactly one log row, notify, commit.  Any refusal or error on the way takes ONE path: the
transaction is rolled back and nothing is written.  Pages, API, CLI, jobs, demo and benches all
call the same functions (or ``perform``, a thin dispatch table over them).

Reading (lists, filters, counts, clocks, history, status lookup) is in ``services.queries``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflows import machine as wf
from workflows.law_days import add_days
from workflows.programme import ARTISAN_ID
from workflows.registry import registry
from workflows.states import N_, Action, State

from .. import audit_chain, nomination_data, permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..integration import outbox
from ..models import CodeCounter, Nomination, Province, Round, Title, TransitionLog, User, law_calendar
from ..schemas import NominationIn
from ..text import nfc
from ..timeutil import local_date, now_utc, today
from . import awards, hard_case_checks, notifications, transaction
from .queries import key_hash

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CONFLICT = N_("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang.")


# -- writing ----------------------------------------------------------------


def create_nomination(owner: User, data: NominationIn) -> Nomination:
    round_ = db.session.get(Round, data.round_id)
    if round_ is None or round_.programme_id != ARTISAN_ID:  # another programme's round takes its own form
        raise ValidationFailed(fields={"round_id": N_("Không có đợt xét tặng này.")})
    province_code = data.nominee.province_code
    if permissions.files_only_in_own_province(owner):
        province_code = province_code or owner.province_code
    if not province_code:
        raise ValidationFailed(
            fields={"nominee.province_code": N_("Cần chọn tỉnh, thành phố nơi nộp hồ sơ.")}
        )
    # filing with a province merged away is routed to its successor (services/law.py, issue 14)
    province_code = _route_filing(province_code)
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
        # an officer types in a dossier filed on paper at the one-stop desk; partners: integration/intake.py
        channel="paper" if permissions.files_for_others(owner) else "web",
    )
    _apply(nomination, data)
    db.session.add(nomination)
    db.session.commit()
    return nomination


def _route_filing(province_code: str) -> str:
    from .law import route_filing

    return route_filing(province_code) or province_code


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
    hard_case_checks.keep_recorded_death(nomination)  # issue 14: a recorded death stands
    _commit_or_conflict()
    return nomination


def _apply(n: Nomination, data: NominationIn) -> None:
    nomination_data.apply(n, data.model_dump(by_alias=True))


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


# -- the actions ------------------------------------------------------------------------------


@dataclass
class Move:
    """One action under way: what the runner knows and what the action's step may add."""

    nomination: Nomination
    action: Action
    actor: User
    before: State
    after: State
    now: datetime
    on: date
    comment: str | None
    decision_no: str | None = None
    decision_date: date | None = None
    award_title: str | None = None
    meta: dict = field(default_factory=dict)
    access_key: str | None = None  # set by the first submission


Step = Callable[[Move], None]


def _run(nomination: Nomination, action: Action, actor: User, step: Step | None = None, *,
         comment: str | None = None, decision_no: str | None = None,
         decision_date: date | None = None, award_title: str | None = None,
         on: date | None = None) -> str | None:
    """Lock → check → change → log → notify → commit, with one error path (rollback, re-raise).

    ``on``: the day the machine's guards read (today; a paper dossier's arrival day for its resubmission)."""
    if not permissions.may_act(actor, nomination, action):
        raise Forbidden()
    with transaction.one_transaction(conflict=CONFLICT):
        # Read the row afresh under a lock (PostgreSQL), so that two officers acting at
        # once are serialised: the second sees the first one's state and gets a 409.
        db.session.refresh(nomination, with_for_update=True)
        # the law's hard cases (issue 14): Art. 2(3) and the applicant's completion period
        hard_case_checks.refuse_if_excluded(nomination, action)
        hard_case_checks.refuse_early_close(nomination, action)
        now = now_utc()
        on = on or today()
        before = nomination.state_enum
        try:
            after = wf.fire(nomination.subject(on), action)
        except wf.TransitionNotAllowed as exc:
            raise TransitionRefused(_refusal_message(exc)) from exc
        move = Move(nomination, action, actor, before, after, now, on,
                    nfc(comment).strip() if comment else None, decision_no, decision_date, award_title)
        if step is not None:
            step(move)
        record_move(nomination, action, before, after, actor.id, actor.full_name, move.comment,
                    move.meta, now)
    return move.access_key


def _require_complete(move: Move) -> None:
    missing = missing_for_submission(move.nomination)
    if missing:
        raise ValidationFailed(N_("Hồ sơ còn thiếu thông tin."), fields=missing)


def _require_reason(move: Move) -> None:
    if not move.comment:
        raise ValidationFailed(fields={"comment": N_("Cần ghi rõ lý do.")})


def _submit_step(move: Move) -> None:
    _require_complete(move)
    n = move.nomination
    if n.code is None:
        n.code = _next_code(n.province_code, local_date(move.now).year)
        move.access_key = _new_access_key()
        n.access_key_hash = key_hash(move.access_key)
    n.submitted_at = move.now
    n.received_at = move.now
    move.meta["code"] = n.code


def _resubmit_step(move: Move) -> None:
    _require_complete(move)
    move.nomination.received_at = move.now


def _return_step(move: Move) -> None:
    _require_reason(move)
    move.nomination.returned_at = move.now


MAX_MISSING = 50  # items in one return's list of what is missing
MAX_MISSING_ITEM = 500  # characters in one item


def missing_items(items) -> list[str]:
    """A return's list of what is missing: each item NFC, spaces collapsed, empty ones dropped, each once."""
    out: list[str] = []
    for item in items or ():
        text = " ".join(nfc(str(item)).split())
        if text and text not in out:
            out.append(text)
    return out


def missing_lines(text: str | None) -> list[str]:
    """The page's list, one item per line; a leading "-", "•" or "1." is the writer's bullet, not the item."""
    return missing_items(re.sub(r"^\s*(?:[-•*+]|\d{1,2}[.)])\s+", "", line) for line in (text or "").splitlines())


def missing_of(comment: str | None, meta: dict | None) -> list[str]:
    """What a return asked for: the items recorded with it, else each line of its reason.

    The one reading of a return's list, for the request to complete (documents/notices.py), the
    refusal that follows it and the applicant's pages (``return_request``)."""
    return missing_items((meta or {}).get("missing")) or missing_lines(comment)


def last_return(nomination: Nomination) -> TransitionLog | None:
    """The log row of the dossier's latest return for completion (its reason and list live there)."""
    return db.session.scalar(sa.select(TransitionLog).where(TransitionLog.nomination_id == nomination.id,
                                                            TransitionLog.action == Action.RETURN)
                             .order_by(TransitionLog.id.desc()).limit(1))


@dataclass(frozen=True)
class ReturnRequest:
    """What the applicant of a returned dossier must do, and by when (shown where they act).

    Only what the request to complete (Phiếu yêu cầu bổ sung) tells them: the reason and the list,
    the day of the return and the completion deadline counted in the law's calendar
    (``Nomination.completion_due``). Never who returned it or anything staff-only."""

    reason: str
    missing: list[str]
    returned_on: date | None
    due: date | None
    days: int
    working_days: bool


def return_request(nomination: Nomination | None) -> ReturnRequest | None:
    """The open request to complete of a returned dossier, or None when it is not returned."""
    if nomination is None or nomination.id is None or nomination.state != State.RETURNED:
        return None
    return _return_request(nomination, last_return(nomination))


def return_requests(nominations) -> dict[int, ReturnRequest]:
    """``return_request`` of each returned dossier of a list, by id, in one query of the log."""
    returned = {n.id: n for n in nominations if n.state == State.RETURNED}
    if not returned:
        return {}
    last: dict[int, TransitionLog] = {}
    for row in db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id.in_(returned),
                                                                 TransitionLog.action == Action.RETURN)
                                  .order_by(TransitionLog.id)):
        last[row.nomination_id] = row
    return {i: _return_request(n, last.get(i)) for i, n in returned.items()}


def _return_request(nomination: Nomination, row: TransitionLog | None) -> ReturnRequest:
    comment, meta = (row.comment, row.meta) if row is not None else (None, None)
    returned = nomination.returned_at or (row.at if row is not None else None)
    listed = bool(missing_items((meta or {}).get("missing")))
    return ReturnRequest(
        # with a list of its own, the reason is said apart; without, its lines ARE the list (as printed)
        reason=(comment or "").strip() if listed else "",
        missing=missing_of(comment, meta),
        returned_on=local_date(returned) if returned else None,
        due=nomination.completion_due(),
        days=nomination.round.completion_days,
        working_days=(nomination.round.completion_day_kind or "calendar") != "calendar",
    )


def _checked_missing(missing) -> list[str]:
    items = missing_items(missing)
    if len(items) > MAX_MISSING or any(len(item) > MAX_MISSING_ITEM for item in items):
        raise ValidationFailed(fields={"missing": N_("Danh mục cần bổ sung có tối đa 50 mục, mỗi mục tối đa "
                                                     "500 ký tự.")})
    return items


def _hold_step(move: Move) -> None:
    _require_reason(move)
    _refuse_if_voting(move.nomination)
    move.nomination.held_from = move.before


def _release_step(move: Move) -> None:
    _refuse_if_complaints_open(move.nomination)
    move.nomination.held_from = None


def _open_consultation_step(move: Move) -> None:
    n = move.nomination
    n.consultation_ends = add_days(move.on, n.round.consultation_days,
                                   n.round.consultation_day_kind or "calendar", law_calendar())
    move.meta["consultation_opens"] = move.on.isoformat()  # the posting's first day (open data)
    move.meta["consultation_ends"] = n.consultation_ends.isoformat()


def _record_award_step(move: Move) -> None:
    """The President's decision: its number, date and title, and the bonus that comes with the title
    (services/awards.py: the coefficient times the base salary in force on the decision date), kept."""
    n = move.nomination
    number, award = awards.check_decision(n, move.decision_no, move.decision_date, move.award_title)
    n.decision_no = number
    n.decision_date = move.decision_date
    n.award_title = award.title
    n.award_coefficient = award.coefficient
    n.award_base_salary_vnd = award.base_salary_vnd
    n.award_bonus_vnd = award.bonus_vnd
    move.meta.update(decision_no=number, decision_date=move.decision_date.isoformat(), title=award.title,
                     coefficient=str(award.coefficient), base_salary_vnd=award.base_salary_vnd,
                     bonus_vnd=award.bonus_vnd)


# The declaration's commitment (Mẫu 01/02, part III), ticked by the filer on submitting; its Vietnamese words
# are kept in the log row whatever the page's language.
COMMITMENT = N_("Tôi xin cam đoan những nội dung kê khai là đúng sự thật và chịu trách nhiệm trước pháp luật "
                "về nội dung kê khai.")


def _with_commitment(step: Step, commitment: str | None) -> Step:
    """``step``, then the commitment's words in the log row's meta (the row holds who and when)."""
    def run(move: Move) -> None:
        step(move)
        if commitment:
            move.meta["commitment"] = nfc(commitment).strip()[:1000]
    return run


def submit(nomination: Nomination, actor: User, comment: str | None = None,
           commitment: str | None = None) -> str | None:
    """The applicant submits: a code and an access key the first time (returned once, else None)."""
    return _run(nomination, Action.SUBMIT, actor, _with_commitment(_submit_step, commitment), comment=comment)


def resubmit(nomination: Nomination, actor: User, comment: str | None = None,
             commitment: str | None = None) -> None:
    _run(nomination, Action.RESUBMIT, actor, _with_commitment(_resubmit_step, commitment), comment=comment)


def return_for_completion(nomination: Nomination, actor: User, comment: str | None,
                          missing: list[str] | None = None) -> None:
    """Return for completion with the reason and, one item each, what the dossier lacks (recorded in
    the log row's meta and printed on the request to complete: documents/notices.py)."""
    items = _checked_missing(missing)

    def step(move: Move) -> None:
        _return_step(move)
        if items:
            move.meta["missing"] = items

    _run(nomination, Action.RETURN, actor, step, comment=comment)


def close_incomplete(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.CLOSE_INCOMPLETE, actor, comment=comment)


def accept(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.ACCEPT, actor, comment=comment)


def withdraw(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.WITHDRAW, actor, comment=comment)


def forward_to_ministry(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.FORWARD_TO_MINISTRY, actor, comment=comment)


def open_consultation(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.OPEN_CONSULTATION, actor, _open_consultation_step, comment=comment)


def hold(nomination: Nomination, actor: User, comment: str | None) -> None:
    _run(nomination, Action.HOLD, actor, _hold_step, comment=comment)


def release(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.RELEASE, actor, _release_step, comment=comment)


def forward_to_state(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.FORWARD_TO_STATE, actor, comment=comment)


def submit_to_pm(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.SUBMIT_TO_PM, actor, comment=comment)


def submit_to_president(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.SUBMIT_TO_PRESIDENT, actor, comment=comment)


def record_award(nomination: Nomination, actor: User, decision_no: str | None, decision_date: date | None,
                 comment: str | None = None, award_title: str | None = None) -> None:
    _run(nomination, Action.RECORD_AWARD, actor, _record_award_step, comment=comment,
         decision_no=decision_no, decision_date=decision_date, award_title=award_title)


def record_not_awarded(nomination: Nomination, actor: User, comment: str | None = None) -> None:
    _run(nomination, Action.RECORD_NOT_AWARDED, actor, comment=comment)


# One operation per action of the machine (a test checks none is missing).
OPERATIONS: dict[Action, Callable[..., str | None]] = {
    Action.SUBMIT: submit,
    Action.RETURN: return_for_completion,
    Action.RESUBMIT: resubmit,
    Action.CLOSE_INCOMPLETE: close_incomplete,
    Action.ACCEPT: accept,
    Action.WITHDRAW: withdraw,
    Action.FORWARD_TO_MINISTRY: forward_to_ministry,
    Action.OPEN_CONSULTATION: open_consultation,
    Action.HOLD: hold,
    Action.RELEASE: release,
    Action.FORWARD_TO_STATE: forward_to_state,
    Action.SUBMIT_TO_PM: submit_to_pm,
    Action.SUBMIT_TO_PRESIDENT: submit_to_president,
    Action.RECORD_AWARD: record_award,
    Action.RECORD_NOT_AWARDED: record_not_awarded,
}


def perform(
    nomination: Nomination,
    action: str,
    actor: User,
    comment: str | None = None,
    decision_no: str | None = None,
    decision_date: date | None = None,
    missing: list[str] | None = None,
    award_title: str | None = None,
    commitment: str | None = None,
) -> str | None:
    """Take ``action`` (its name, as pages, API and CLI receive it) on ``nomination`` as ``actor``.

    ``missing``: with ``return``, what the dossier lacks, one item each.
    ``commitment``: with ``submit``/``resubmit``, the words of the commitment the filer ticked; kept in the
    log row's meta, with the row's actor and time (who committed, when).

    A dispatch to the action's operation.  Returns the new access key when the action issued one
    (first submission), else None.  Raises NotFound, Forbidden, TransitionRefused or
    ValidationFailed; on any error nothing is written.
    """
    try:
        operation = OPERATIONS[Action(action)]
    except ValueError:
        raise NotFound(N_("Không có thao tác này."), code="unknown_action") from None
    if missing_items(missing) and operation is not return_for_completion:
        raise ValidationFailed(fields={"missing": N_("Danh mục cần bổ sung chỉ dùng khi trả lại hồ sơ.")})
    if operation is record_award:
        return record_award(nomination, actor, decision_no, decision_date, comment, award_title)
    if operation is return_for_completion:
        return return_for_completion(nomination, actor, comment, missing)
    if commitment is not None:
        if operation not in (submit, resubmit):
            raise ValidationFailed(fields={"commitment": N_("Lời cam đoan chỉ dùng khi nộp hồ sơ.")})
        return operation(nomination, actor, comment, commitment=commitment)
    return operation(nomination, actor, comment)


def record_move(nomination: Nomination, action: str, before: State, after: State,
                actor_id: int | None, actor_name: str, comment: str | None, meta: dict,
                now=None) -> None:
    """Set the new state and add its one log row (the caller commits)."""
    now = now or now_utc()
    artisan = nomination.programme_id in (None, ARTISAN_ID)
    nomination.state = after
    nomination.stage_reached = (wf.advance(nomination.stage_reached, after) if artisan else
                                registry().get(nomination.programme_id, nomination.programme_version)
                                .advance(nomination.stage_reached, after))
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
    # Numbered and MACed into the keyed chain when the transaction commits (artisan_awards/audit_chain.py).
    audit_chain.append(TransitionLog(**values))
    outbox.dossier_moved(nomination, action, before, after, actor_id, actor_name, meta, now)  # same transaction
    if artisan:  # another programme's notices are its templates' (not yet: docs/programmes.md)
        notifications.nomination_moved(nomination, action, before, after, actor_id, comment, meta, actor_name)


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


def move_many(moves: list[tuple[Nomination, str, dict]], actor_id: int | None, actor_name: str) -> None:
    """``move_by_event`` for many dossiers at once (a council session's opening or close).

    ``moves``: (dossier, event, meta) in the order their log rows are to take in the chain.

    The machine decides each move as it would one by one, and each dossier still gets its own log
    row (in the order given, in the audit chain) and its own notification; but the state columns
    are written with one ``UPDATE`` per target state and stage instead of one flush per dossier,
    each row matched on its id AND the version read (a concurrent writer is a 409, nothing written).
    The caller has locked the rows (read afresh) and commits.
    """
    if not moves:
        return
    on, now = today(), now_utc()
    decided, groups = [], {}
    for nomination, event, meta in moves:
        before = nomination.state_enum
        try:
            after = wf.fire(nomination.subject(on), event)
        except wf.TransitionNotAllowed as exc:
            raise TransitionRefused(_refusal_message(exc)) from exc
        if event == Action.HOLD:
            nomination.held_from = before
        stage = wf.advance(nomination.stage_reached, after)
        decided.append((nomination, event, before, after, meta or {}))
        groups.setdefault((after, stage), []).append(nomination)
    _flush_or_conflict()  # anything pending on these rows first: the UPDATEs below are their last word
    table = Nomination.__table__
    for (after, stage), group in groups.items():
        keys = [(n.id, n.version) for n in group]
        written = db.session.execute(
            sa.update(table).where(sa.tuple_(table.c.id, table.c.version).in_(keys))
            .values(state=str(after), stage_reached=int(stage), state_changed_at=now, updated_at=now,
                    version=table.c.version + 1)
        ).rowcount
        if written != len(keys):
            raise TransitionRefused(N_("Hồ sơ vừa được người khác cập nhật. Hãy tải lại trang."),
                                    code="conflict")
        for n in group:  # what was written, as if the ORM had flushed it
            for name, value in (("state", str(after)), ("stage_reached", int(stage)), ("state_changed_at", now),
                                ("updated_at", now), ("version", n.version + 1)):
                set_committed_value(n, name, value)
    # Each move's own rows: its log row (numbered and MACed into the chain at the commit) and its
    # messages, kept by ``notifications.batched`` and written with one executemany per table when the
    # loop ends. The integration events (integration/outbox.py) are kept by ``outbox.batched`` likewise and
    # written in three statements whatever the number of moves, only when a subscriber wants them (none: no
    # statement).
    with notifications.batched() as messages, outbox.batched():
        messages.look_up_accounts(n for n, *_rest in decided)  # the nominees' own accounts, one query
        for nomination, event, before, after, meta in decided:
            audit_chain.append_values(  # one executemany at the commit, not 250 ORM objects flushed
                "transition_log", nomination_id=nomination.id, action=str(event), from_state=str(before),
                to_state=str(after), actor_id=actor_id, actor_name=actor_name, comment=None, at=now, meta=meta)
            outbox.dossier_moved(nomination, event, before, after, actor_id, actor_name, meta, now)
            notifications.nomination_moved(nomination, event, before, after, actor_id, None, meta)


def _refuse_if_voting(nomination: Nomination) -> None:
    from ..models import AgendaItem, CouncilSession, SessionStatus

    voting = db.session.scalar(
        sa.select(sa.func.count()).select_from(AgendaItem)
        .join(CouncilSession, CouncilSession.id == AgendaItem.session_id)
        .where(AgendaItem.nomination_id == nomination.id, CouncilSession.status == SessionStatus.OPEN)
    )
    if voting:
        raise TransitionRefused(N_("Hồ sơ đang được Hội đồng bỏ phiếu, không thể tạm dừng."),
                                code="session_open")


def _refuse_if_complaints_open(nomination: Nomination) -> None:
    from ..models import PublicComment

    comments = db.session.scalars(
        sa.select(PublicComment).where(PublicComment.nomination_id == nomination.id)
    ).all()
    if any(c.blocks for c in comments):
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
        raise TransitionRefused(CONFLICT, code="conflict") from exc


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
