"""Councils and their sessions: agenda, attendance, quorum, secret ballots, tally.

Operations: ``create_council``, ``create_session``, ``set_attendance``,
``open_session``, ``declare_conflict``, ``cast_ballot`` (seals the ballot),
``close_session`` (opens, counts and destroys the sealed ballots, decides).
Each checks the caller, then changes the models inside ``transaction.one_transaction``: one commit,
or on any refusal or error one rollback (nothing written, the locks let go).
"""

from __future__ import annotations

import secrets
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from workflows.states import AGENDA_STATE, N_, CouncilEvent

from .. import ballot_box, permissions
from ..errors import Forbidden, NotFound, TransitionRefused, ValidationFailed
from ..extensions import db
from ..formatting import vn_date
from ..integration import outbox
from ..models import (
    AgendaItem,
    Attendance,
    AuditKind,
    BallotParticipation,
    ConflictDeclaration,
    Council,
    CouncilMember,
    CouncilSession,
    Level,
    Nomination,
    NonVoter,
    Position,
    Province,
    Round,
    SealedBallot,
    SessionStatus,
    User,
    UserRole,
)
from ..permissions import can_create_council as _may_create_council
from ..permissions import can_see_council, is_secretariat
from ..schemas import CouncilIn, SessionIn
from ..text import nfc, vi_order
from ..timeutil import now_utc
from . import accounts, admin_events, notifications, transaction
from .nominations import move_many

SESSION_CONFLICT = N_("Phiên họp vừa được người khác cập nhật. Hãy tải lại trang.")
PASS_EVENT = {
    Level.PROVINCE: (CouncilEvent.PROVINCE_PASS, CouncilEvent.PROVINCE_REJECT),
    Level.MINISTRY: (CouncilEvent.MINISTRY_PASS, CouncilEvent.MINISTRY_REJECT),
    Level.STATE: (CouncilEvent.STATE_PASS, CouncilEvent.STATE_REJECT),
}


# -- who may do what: permissions.is_secretariat, permissions.can_see_council -------------------


def get_council(user: User, council_id: int) -> Council:
    council = db.session.get(Council, council_id)
    if council is None or not can_see_council(user, council):
        raise NotFound(N_("Không tìm thấy Hội đồng."), code="council_not_found")
    return council


def get_session(user: User, session_id: int) -> CouncilSession:
    # The agenda (with its dossiers) loads when it is used, not with every ballot; the attendance
    # rows without their members joined: those are the council's members, loaded with it (a
    # member's account and roles were read twice, once for each list).
    session = db.session.get(CouncilSession, session_id, options=[
        sa.orm.lazyload(CouncilSession.items),
        sa.orm.selectinload(CouncilSession.attendance).lazyload(Attendance.member)])
    if session is None or not can_see_council(user, session.council):
        raise NotFound(N_("Không tìm thấy phiên họp."), code="session_not_found")
    return session


def _require_secretariat(user: User, council: Council) -> None:
    if not is_secretariat(user, council):
        raise Forbidden(N_("Chỉ cơ quan thường trực của Hội đồng được thực hiện thao tác này."))


def defaults_for(level: str) -> tuple[int, int]:
    """Quorum and pass percentages for a level, from configuration (domain document: 75 %, 90 %)."""
    rules = current_app.config["COUNCIL_RULES"]
    level_rules = rules.get(level, rules["default"])
    return level_rules["quorum_percent"], level_rules["pass_percent"]


# -- councils ----------------------------------------------------------------------------------


def create_council(actor: User, data: CouncilIn) -> Council:
    """Establish a council and write its audit event, in one transaction (pages and API alike)."""
    with transaction.one_transaction():
        council = _new_council(actor, data)
        db.session.add(council)
        db.session.flush()  # the council's id, for its event
        admin_events.record(AuditKind.COUNCIL_CREATED, actor, target=council, level=council.level,
                            decision_no=council.decision_no,
                            members=[[m.user_id, m.position, m.authorised_to_preside] for m in council.members])
    return council


def candidates(actor: User) -> list[User]:
    """Accounts ``actor`` may seat on a council: active council members and secretariats, of the
    actor's own province unless the actor works nationally."""
    query = (sa.select(User).where(User.active)
             .where(User.id.in_(sa.select(UserRole.user_id).where(UserRole.role.in_(
                 permissions.council_candidate_roles())))))
    if not permissions.can_create_national_councils(actor):
        query = query.where(User.province_code == actor.province_code)
    return list(db.session.scalars(query.order_by(User.province_code, vi_order(User.full_name)).limit(500)))


def _new_council(actor: User, data: CouncilIn) -> Council:
    """The council ``data`` describes, checked (Forbidden, ValidationFailed); not yet added."""
    if data.level == Level.PROVINCE and not data.province_code and _may_create_council(
        actor, data.level, actor.province_code
    ):  # the Sở sets up a council of its own province
        data.province_code = actor.province_code
    if not _may_create_council(actor, data.level, data.province_code):
        raise Forbidden()
    fields = {}
    if db.session.get(Round, data.round_id) is None:
        fields["round_id"] = N_("Không có đợt xét tặng này.")
    if data.level == Level.PROVINCE:
        province = db.session.get(Province, data.province_code) if data.province_code else None
        if province is None or not province.active:
            fields["province_code"] = N_("Hội đồng cấp tỉnh cần mã tỉnh, thành phố hợp lệ.")
    elif data.province_code:
        fields["province_code"] = N_("Chỉ Hội đồng cấp tỉnh gắn với một tỉnh, thành phố.")
    members, missing = [], []
    seen = set()
    for m in data.members:
        user = accounts.find_user(m.email)
        if user is None:
            missing.append(m.email)
            continue
        if user.id in seen:
            fields["members"] = N_("Một người chỉ có một vị trí trong Hội đồng.")
        seen.add(user.id)
        members.append(CouncilMember(user_id=user.id, position=m.position,
                                     authorised_to_preside=m.authorised_to_preside))
    if missing:
        fields["members"] = N_("Có thành viên chưa có tài khoản: %(emails)s")
    chairs = [m for m in members if m.position == Position.CHAIR]
    if len(chairs) != 1 and "members" not in fields:
        fields["members"] = N_("Hội đồng cần đúng một Chủ tịch.")
    low, high = size_limits(data.level)
    if "members" not in fields and not low <= len(data.members) <= high:
        fields["members"] = N_("Hội đồng cấp này cần từ %(low)s đến %(high)s thành viên (đang có %(n)s).")
    if fields:
        raise ValidationFailed(fields=fields, params={"emails": ", ".join(missing), "low": low, "high": high,
                                                      "n": len(data.members)})
    quorum, pass_ = defaults_for(data.level)
    council = Council(
        level=data.level,
        round_id=data.round_id,
        province_code=data.province_code if data.level == Level.PROVINCE else None,
        name=data.name,
        decision_no=data.decision_no,
        decision_date=data.decision_date,
        quorum_percent=data.quorum_percent or quorum,
        pass_percent=data.pass_percent or pass_,
        exclude_conflicted_votes=data.exclude_conflicted_votes,
        members=members,
    )
    return council


def size_limits(level: str) -> tuple[int, int]:
    """Fewest and most members of a council of ``level`` (``COUNCIL_SIZES``)."""
    sizes = current_app.config.get("COUNCIL_SIZES") or {}
    rule = {**sizes.get("default", {}), **sizes.get(level, {})}
    return int(rule.get("min_members", 1)), int(rule.get("max_members", 1000))


def invite_member(actor: User, council: Council, email: str, full_name: str, position: str = Position.MEMBER,
                  locale: str = "vi") -> CouncilMember:
    """Add an external member (an expert with no account yet) to ``council``: an account with the
    level's council role is created and sent the invitation to set a password (one-time link).

    An existing account joins directly when it already holds that role.  Refused while a vote is
    open (the count of members is fixed when the vote opens) or beyond the council's largest size.
    """
    from ..models import AuditKind
    from ..permissions import can_sit_on_council, council_member_role
    from . import account_admin, admin_events

    _require_secretariat(actor, council)
    fields: dict = {}
    if any(s.status == SessionStatus.OPEN for s in council.sessions):
        raise TransitionRefused(N_("Không thêm thành viên khi Hội đồng đang bỏ phiếu."), code="session_state")
    if position not in (Position.MEMBER, Position.SECRETARY, Position.VICE_CHAIR):
        fields["position"] = N_("Thành viên mời thêm là Ủy viên, Ủy viên thư ký hoặc Phó Chủ tịch.")
    _low, high = size_limits(council.level)
    if council.members_total + 1 > high:
        fields["email"] = N_("Hội đồng cấp này có tối đa %(high)s thành viên.")
    role = council_member_role(council.level)
    user = accounts.find_user(email)
    if user is not None:
        if council.member_for(user) is not None:
            fields["email"] = N_("Người này đã là thành viên Hội đồng.")
        elif not can_sit_on_council(user, council.level):
            fields["email"] = N_("Địa chỉ này đã có tài khoản với vai trò khác; "
                                 "hãy nhờ quản trị viên cấp vai trò thành viên Hội đồng.")
    if fields:
        raise ValidationFailed(fields=fields, params={"high": high})
    if user is None:
        province = council.province_code if council.level == Level.PROVINCE else None
        user = accounts.create_user(email, secrets.token_urlsafe(24), full_name, [role], province,
                                    locale=locale, commit=False)
        user.email_confirmed = False
        admin_events.record(AuditKind.ACCOUNT_INVITED, actor, target=user, roles=[role])
        account_admin.mail_invitation(user)
    member = CouncilMember(user_id=user.id, position=position)
    council.members.append(member)
    db.session.flush()
    admin_events.record(AuditKind.COUNCIL_MEMBER_INVITED, actor, target=council, user_id=user.id, position=position)
    db.session.commit()
    return member


def waiting_nominations(council: Council) -> list[Nomination]:
    """Nominations waiting at this council's level (and province), not already on a session's agenda."""
    busy = (
        sa.select(AgendaItem.nomination_id)
        .join(CouncilSession, CouncilSession.id == AgendaItem.session_id)
        .where(CouncilSession.status != SessionStatus.CLOSED)
    )
    stmt = (
        sa.select(Nomination)
        .where(Nomination.state == AGENDA_STATE[council.level])
        .where(Nomination.round_id == council.round_id)
        .where(Nomination.id.not_in(busy))
        .order_by(Nomination.province_code, vi_order(Nomination.full_name))
    )
    if council.level == Level.PROVINCE:
        stmt = stmt.where(Nomination.province_code == council.province_code)
    return list(db.session.scalars(stmt))


# -- sessions ----------------------------------------------------------------------------------


def _check_held_on(council: Council, held_on) -> None:
    """A session is held today or later, and not before the council was set up."""
    from ..timeutil import local_date, today

    # the decision setting it up, else the day it was entered (never later than "today": rehearsals
    # pin today to a past day)
    existed = council.decision_date or min(local_date(council.created_at), today())
    if held_on < today():
        raise ValidationFailed(fields={"held_on": N_("Ngày họp không được ở trong quá khứ.")})
    if existed and held_on < existed:
        raise ValidationFailed(fields={"held_on": N_("Ngày họp không được trước ngày thành lập Hội đồng (%(date)s).")},
                               params={"date": vn_date(existed)})


def create_session(actor: User, council: Council, data: SessionIn) -> CouncilSession:
    _require_secretariat(actor, council)
    _check_held_on(council, data.held_on)
    waiting = {n.id for n in waiting_nominations(council)}
    wanted = list(dict.fromkeys(data.nomination_ids))
    refused = [i for i in wanted if i not in waiting]
    if refused:
        raise ValidationFailed(
            N_("Chỉ đưa vào chương trình các hồ sơ đang chờ Hội đồng cấp này xét."),
            fields={"nomination_ids": N_("Không chờ Hội đồng này: %(ids)s")},
            params={"ids": ", ".join(map(str, refused))},
        )
    with transaction.one_transaction():
        session = CouncilSession(
            council_id=council.id, held_on=data.held_on, place=data.place,
            items=[AgendaItem(nomination_id=i) for i in wanted],
        )
        db.session.add(session)
        notifications.session_scheduled(session)
    return session


def update_session(actor: User, session: CouncilSession, data: SessionIn) -> dict:
    """Change a planned session's date, place and agenda; returns {field: [before, after]} (logged)."""
    from ..models import AuditKind
    from . import admin_events

    council = session.council
    _require_secretariat(actor, council)
    _require_status(session, SessionStatus.PLANNED, N_("Chỉ sửa được phiên họp chưa mở bỏ phiếu."))
    if data.held_on != session.held_on:
        _check_held_on(council, data.held_on)
    current = [i.nomination_id for i in session.items]
    allowed = {n.id for n in waiting_nominations(council)} | set(current)
    wanted = list(dict.fromkeys(data.nomination_ids))
    refused = [i for i in wanted if i not in allowed]
    if refused:
        raise ValidationFailed(
            N_("Chỉ đưa vào chương trình các hồ sơ đang chờ Hội đồng cấp này xét."),
            fields={"nomination_ids": N_("Không chờ Hội đồng này: %(ids)s")},
            params={"ids": ", ".join(map(str, refused))},
        )
    changes = {}
    if data.held_on != session.held_on:
        changes["held_on"] = [session.held_on.isoformat(), data.held_on.isoformat()]
        session.held_on = data.held_on
    if (data.place or None) != (session.place or None):
        changes["place"] = [session.place, data.place]
        session.place = data.place
    if set(wanted) != set(current):
        changes["nomination_ids"] = [sorted(current), sorted(wanted)]
        for item in list(session.items):
            if item.nomination_id not in wanted:
                session.items.remove(item)
        for nomination_id in wanted:
            if nomination_id not in current:
                session.items.append(AgendaItem(nomination_id=nomination_id))
    if changes:
        admin_events.record(AuditKind.SESSION_CHANGED, actor, target=council, session_id=session.id,
                            changes=changes)
        db.session.flush()
        notifications.session_scheduled(session)  # every member gets the new date, place and agenda
    db.session.commit()
    return changes


def cancel_session(actor: User, session: CouncilSession, reason: str) -> None:
    """Cancel a session not yet opened: it is removed, its dossiers wait for another session, and
    the cancellation (date, place, agenda, reason, who) stays in the administration log."""
    from ..models import AuditKind
    from . import admin_events

    council = session.council
    _require_secretariat(actor, council)
    _require_status(session, SessionStatus.PLANNED, N_("Chỉ hủy được phiên họp chưa mở bỏ phiếu."))
    reason = nfc(reason or "").strip()
    if not reason:
        raise ValidationFailed(fields={"reason": N_("Cần ghi rõ lý do hủy phiên họp.")})
    if len(reason) > 2000:
        raise ValidationFailed(fields={"reason": N_("Lý do dài tối đa 2 000 ký tự.")})
    admin_events.record(AuditKind.SESSION_CANCELLED, actor, target=council, session_id=session.id,
                        held_on=session.held_on.isoformat(), place=session.place, reason=reason,
                        nomination_ids=[i.nomination_id for i in session.items])
    notifications.session_cancelled(session, reason)
    db.session.delete(session)
    db.session.commit()


def _require_status(session: CouncilSession, status: SessionStatus, message: str) -> None:
    if session.status != status:
        raise TransitionRefused(message, code="session_state")


def set_attendance(actor: User, session: CouncilSession, emails: list[str]) -> CouncilSession:
    _require_secretariat(actor, session.council)
    _require_status(session, SessionStatus.PLANNED,
                    N_("Chỉ ghi nhận điểm danh trước khi mở phiên bỏ phiếu."))
    by_email = {m.user.email: m for m in session.council.members}
    wanted = {accounts.normalise_email(e) for e in emails}
    unknown = sorted(wanted - set(by_email))
    if unknown:
        raise ValidationFailed(fields={"present": N_("Không phải thành viên Hội đồng: %(emails)s")},
                               params={"emails": ", ".join(unknown)})
    # Keep the rows of members still present: replacing them all would INSERT before the
    # orphans' DELETE and trip the (session, member) unique constraint when the list is corrected.
    keep = {by_email[e].id for e in wanted}
    have = {a.member_id for a in session.attendance}
    with transaction.one_transaction(conflict=SESSION_CONFLICT):
        session.attendance = [a for a in session.attendance if a.member_id in keep] + [
            Attendance(member_id=i) for i in sorted(keep - have)]
    return session


def quorum_check(session: CouncilSession) -> tuple[bool, str | None]:
    council = session.council
    present = [a.member for a in session.attendance]
    if len(present) < council.quorum:
        return False, N_("Chưa đủ số thành viên dự họp theo quy định (cần ít nhất %(q)s/%(n)s).")
    if not any(m.can_preside for m in present):
        return False, N_("Cần có Chủ tịch hoặc Phó Chủ tịch được Chủ tịch ủy quyền dự họp.")
    return True, None


def open_session(actor: User, session: CouncilSession) -> CouncilSession:
    council = session.council
    _require_secretariat(actor, council)
    _require_status(session, SessionStatus.PLANNED, N_("Phiên họp đã được mở hoặc đã kết thúc."))
    ok, reason = quorum_check(session)
    if not ok:
        raise TransitionRefused(reason, code="quorum_not_met",
                                params={"q": council.quorum, "n": council.members_total})
    waiting_state = AGENDA_STATE[council.level]
    with transaction.one_transaction(conflict=SESSION_CONFLICT):
        _lock_nominations(_agenda_items(session))
        for item in list(session.items):
            if item.nomination.state != waiting_state:  # withdrawn or held since the agenda was set
                session.items.remove(item)
        if council.level == Level.PROVINCE:  # the whole agenda in a few statements, one log row each
            move_many([(item.nomination, CouncilEvent.PROVINCE_VOTE_OPENS, {"session_id": session.id})
                       for item in session.items], actor.id, council.name)
        if not session.items:
            raise TransitionRefused(N_("Chương trình phiên họp không còn hồ sơ nào chờ xét."),
                                    code="empty_agenda")
        session.status = SessionStatus.OPEN
        session.members_total = council.members_total
        session.present_count = len(session.attendance)
        session.quorum_met = True
        session.opened_at = now_utc()
        notifications.session_opened(session)
    return session


def _member_present(user: User, session: CouncilSession) -> CouncilMember:
    member = session.council.member_for(user)
    if member is None or member.id not in {a.member_id for a in session.attendance}:
        raise Forbidden(N_("Chỉ thành viên Hội đồng có mặt tại phiên họp được bỏ phiếu."))
    return member


def has_voted(member: CouncilMember, session: CouncilSession) -> bool:
    return db.session.get(BallotParticipation, (session.id, member.id)) is not None


def declare_conflict(user: User, session: CouncilSession, nomination_id: int, reason: str) -> None:
    member = _member_present(user, session)
    _require_status(session, SessionStatus.OPEN, N_("Phiên họp chưa mở hoặc đã kết thúc."))
    if nomination_id not in {i.nomination_id for i in session.items}:
        raise ValidationFailed(fields={"nomination_id": N_("Hồ sơ không có trong chương trình phiên họp.")})
    if has_voted(member, session):
        raise TransitionRefused(N_("Chỉ kê khai xung đột lợi ích trước khi bỏ phiếu."), code="already_voted")
    with transaction.one_transaction(duplicate=TransitionRefused(
            N_("Đã kê khai xung đột lợi ích cho hồ sơ này."), code="duplicate")):
        db.session.add(ConflictDeclaration(session_id=session.id, member_id=member.id,
                                           nomination_id=nomination_id, reason=nfc(reason)))


def _locked_session(session: CouncilSession, *, share: bool) -> CouncilSession:
    """The session row re-read under a lock (shared for a ballot, exclusive for a close).

    Only the row: its agenda and attendance are not reloaded here (250 nominees each time), nor its
    council's members (its row comes joined, as mapped; ``populate_existing`` would read the members
    with their accounts and roles again with every ballot: two more statements, though only the
    session row is locked and the caller checked the member against the list it loaded).
    """
    return db.session.scalar(
        sa.select(CouncilSession).where(CouncilSession.id == session.id)
        .with_for_update(read=share, of=CouncilSession)
        .options(sa.orm.lazyload(CouncilSession.items), sa.orm.lazyload(CouncilSession.attendance),
                 sa.orm.joinedload(CouncilSession.council).lazyload(Council.members))
        .execution_options(populate_existing=True)
    )


def _take_write_lock(session: CouncilSession) -> None:
    """On SQLite, take the database's write lock before the session's status is read.

    ``with_for_update`` is a no-op there, so a ballot and a close would otherwise read the status
    side by side.  A first no-op UPDATE of the session row makes pysqlite open the transaction and
    take the RESERVED lock now: the ballot and the close run one after the other, and each reads a
    status that nobody can change before it commits.  PostgreSQL serialises them with the row
    locks of ``_locked_session`` instead (share for ballots, exclusive for the close).
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return
    table = CouncilSession.__table__
    db.session.execute(sa.update(table).where(table.c.id == session.id).values(status=table.c.status))


def _agenda(session_id: int) -> list[tuple[int, int]]:
    """(nomination id, agenda item id) in agenda order: the order of a ballot's bytes."""
    return list(db.session.execute(
        sa.select(AgendaItem.nomination_id, AgendaItem.id).where(AgendaItem.session_id == session_id)
        .order_by(AgendaItem.id)))


def cast_ballot(user: User, session: CouncilSession, votes: dict[str, str | None]) -> None:
    """Seal one member's ballot.  Nothing readable is stored that ties the member to the choices.

    Stored: the participation (that this member voted: public in the minutes anyway) and one
    sealed box of fixed length holding the choices for the whole agenda (``ballot_box``), with a
    random id and neither member nor time.  No counter moves while the session is open.
    """
    member = _member_present(user, session)
    with transaction.one_transaction(duplicate=TransitionRefused(
            N_("Thành viên đã bỏ phiếu ở phiên họp này."), code="already_voted")):
        _take_write_lock(session)
        # Share-lock the session row: a close waits for ballots in flight, and a ballot after
        # a close sees it closed (a refusal lets go of the lock: the one error path rolls back).
        locked = _locked_session(session, share=True)
        if locked.status != SessionStatus.OPEN:
            raise TransitionRefused(N_("Phiên họp chưa mở hoặc đã kết thúc."), code="session_state")
        agenda = _agenda(session.id)
        unknown = sorted(set(votes) - {str(n) for n, _ in agenda})
        if unknown:
            raise ValidationFailed(fields={"votes": N_("Hồ sơ không có trong chương trình: %(ids)s")},
                                   params={"ids": ", ".join(unknown)})
        conflicted = set()
        if locked.council.exclude_conflicted_votes:
            conflicted = set(db.session.scalars(
                sa.select(ConflictDeclaration.nomination_id)
                .where(ConflictDeclaration.session_id == session.id, ConflictDeclaration.member_id == member.id)
            ))
        db.session.add(BallotParticipation(session_id=session.id, member_id=member.id))
        db.session.flush()  # a second ballot of the member: IntegrityError, answered as already_voted
        codes = []
        for nomination_id, _item_id in agenda:
            choice = votes.get(str(nomination_id))
            if nomination_id in conflicted:
                codes.append(ballot_box.EXCLUDED)
            elif choice == "yes":
                codes.append(ballot_box.YES)
            elif choice == "no":
                codes.append(ballot_box.NO)
            else:  # left blank: an invalid vote for this nominee
                codes.append(ballot_box.INVALID)
        db.session.add(SealedBallot(id=secrets.token_hex(16), session_id=session.id,
                                    box=ballot_box.seal(session.id, codes)))


def _agenda_items(session: CouncilSession) -> list[AgendaItem]:
    """The session's agenda rows, loaded without their dossiers when not loaded yet.

    ``_lock_nominations`` reads the dossiers next, locked, without their craft periods and products;
    loading ``session.items`` as it is mapped would first read the 250 dossiers joined, and with them
    (their ``selectin`` relationships) every period and product, only to read them again (issue 16)."""
    if "items" not in sa.inspect(session).unloaded:
        return session.items
    items = db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.session_id == session.id).order_by(AgendaItem.id)
        .options(sa.orm.lazyload(AgendaItem.nomination))
    ).all()
    set_committed_value(session, "items", items)
    return session.items


def agenda_ids(session: CouncilSession) -> list[int]:
    """The agenda's dossier ids in agenda order, read alone when the agenda is not loaded (an answer
    after the commit that expired it needs nothing else of it)."""
    if "items" not in sa.inspect(session).unloaded:
        return [i.nomination_id for i in session.items]
    return list(db.session.scalars(
        sa.select(AgendaItem.nomination_id).where(AgendaItem.session_id == session.id).order_by(AgendaItem.id)))


def _lock_nominations(items: list[AgendaItem]) -> None:
    """Lock the agenda's dossiers in one statement, in id order, and read them afresh, with
    their owners (each move mails its applicant: one query for all, not one per dossier)."""
    ids = [i.nomination_id for i in items]
    if ids:
        locked = {n.id: n for n in db.session.scalars(
            sa.select(Nomination).where(Nomination.id.in_(ids)).order_by(Nomination.id)
            .with_for_update(of=Nomination)
            .options(sa.orm.selectinload(Nomination.owner), sa.orm.lazyload(Nomination.periods),
                     sa.orm.lazyload(Nomination.products))
            .execution_options(populate_existing=True)
        )}
        for item in items:  # each agenda row holds its dossier as read here (the identity map keeps none)
            if item.nomination_id in locked:
                set_committed_value(item, "nomination", locked[item.nomination_id])


def required_voters(session: CouncilSession) -> set[int]:
    """Present members expected to vote: all but those with a conflict covering the whole agenda."""
    agenda = set(agenda_ids(session))
    conflicts: dict[int, set[int]] = {}
    for member_id, nomination_id in db.session.execute(
            sa.select(ConflictDeclaration.member_id, ConflictDeclaration.nomination_id)
            .where(ConflictDeclaration.session_id == session.id)):
        conflicts.setdefault(member_id, set()).add(nomination_id)
    return {a.member_id for a in session.attendance if not (agenda and agenda <= conflicts.get(a.member_id, set()))}


def voters(session: CouncilSession) -> set[int]:
    return set(db.session.scalars(
        sa.select(BallotParticipation.member_id).where(BallotParticipation.session_id == session.id)))


def missing_voters(session: CouncilSession, voted: set[int] | None = None) -> list[CouncilMember]:
    """Present members expected to vote who have not (participation is public: the minutes say it).
    ``voted``: ``voters(session)`` when the caller has just read it."""
    missing = required_voters(session) - (voters(session) if voted is None else voted)
    return [a.member for a in session.attendance if a.member_id in missing]


def non_voters(session: CouncilSession) -> list[NonVoter]:
    """The reasons recorded at the close for present members who did not vote."""
    return list(db.session.scalars(
        sa.select(NonVoter).where(NonVoter.session_id == session.id).order_by(NonVoter.member_id)))


def _non_voter_reasons(session: CouncilSession, non_voters: list | None, voted: set[int]) -> dict[int, str]:
    """``[{member_id | email, reason}]`` checked against the attendance: member id -> reason."""
    present = {a.member_id: a.member for a in session.attendance}
    by_email = {m.user.email: i for i, m in present.items()}
    reasons: dict[int, str] = {}
    for entry in non_voters or []:
        member_id = entry.member_id
        if member_id is None and entry.email:
            member_id = by_email.get(accounts.normalise_email(entry.email))
        if member_id not in present:
            raise ValidationFailed(fields={"non_voters": N_("Chỉ ghi lý do cho thành viên có mặt tại phiên họp.")})
        if member_id in voted:  # voted since the list was drawn up: nothing to explain
            continue
        reason = nfc(entry.reason or "").strip()
        if not reason:
            raise ValidationFailed(fields={"non_voters": N_("Cần ghi lý do thành viên không bỏ phiếu.")})
        reasons[member_id] = reason
    return reasons


def close_session(actor: User, session: CouncilSession, non_voters: list | None = None) -> list[dict]:
    """Close the vote: open and count every sealed box, decide, log and destroy the boxes, at once.

    Under the serialising lock (exclusive row lock on PostgreSQL, the write lock on SQLite) so no
    ballot can be accepted meanwhile; in ONE transaction: the counters are written once, each
    nominee moves with its log row, the boxes are deleted.  Refused (409 ``ballots_missing``) while
    a present member expected to vote has not, unless ``non_voters`` gives each one's reason.
    """
    council = session.council
    _require_secretariat(actor, council)
    with transaction.one_transaction(conflict=SESSION_CONFLICT):
        locked, result = _close(actor, session, non_voters)
    _vacuum_boxes()
    # the tally as written in the transaction just committed: the same rows ``tally`` reads back (the
    # close's answer no longer reloads the session, its council and members, and the agenda: issue 16)
    return result


def _close(actor: User, session: CouncilSession, non_voters: list | None) -> tuple[CouncilSession, list[dict]]:
    """The close's writes, inside ``close_session``'s one transaction: any refusal here (already
    closed, a reason missing, a box unreadable) rolls back everything and lets go of the locks."""
    council = session.council
    _take_write_lock(session)
    locked = _locked_session(session, share=False)
    if locked.status != SessionStatus.OPEN:
        raise TransitionRefused(N_("Phiên họp chưa mở hoặc đã kết thúc."), code="session_state")
    # the agenda rows first: the voter check below takes their ids from them instead of reading them apart
    items = db.session.scalars(
        sa.select(AgendaItem).where(AgendaItem.session_id == locked.id).order_by(AgendaItem.id)
        .options(sa.orm.lazyload(AgendaItem.nomination))  # read under the lock next (_lock_nominations)
        .execution_options(populate_existing=True)
    ).all()
    set_committed_value(locked, "items", items)
    voted = voters(locked)
    reasons = _non_voter_reasons(locked, non_voters, voted)
    unexplained = [m for m in missing_voters(locked, voted) if m.id not in reasons]
    if unexplained:
        raise TransitionRefused(
            N_("Còn %(n)s thành viên có mặt chưa bỏ phiếu. Chờ họ bỏ phiếu, hoặc ghi lý do từng người "
               "không bỏ phiếu vào biên bản rồi kết thúc."),
            code="ballots_missing", params={"n": len(unexplained)})
    threshold = council.pass_threshold
    pass_event, reject_event = PASS_EVENT[Level(council.level)]
    boxes = db.session.scalars(sa.select(SealedBallot.box).where(SealedBallot.session_id == locked.id)).all()
    if len(boxes) != len(voted):
        raise TransitionRefused(N_("Số phiếu trong hòm phiếu không khớp số thành viên đã bỏ phiếu."),
                                code="ballot_box_mismatch")
    totals = [dict.fromkeys(ballot_box.COLUMNS.values(), 0) for _ in items]
    try:
        for box in boxes:
            for position, code in enumerate(ballot_box.open_box(locked.id, box, len(items))):
                totals[position][ballot_box.COLUMNS[code]] += 1
    except ballot_box.BoxUnreadable:
        raise TransitionRefused(N_("Không mở được hòm phiếu bằng khóa hiện tại."),
                                code="ballot_box_unreadable") from None
    db.session.execute(sa.delete(SealedBallot).where(SealedBallot.session_id == locked.id))
    for member_id, reason in sorted(reasons.items()):
        db.session.add(NonVoter(session_id=locked.id, member_id=member_id, reason=reason))
    _lock_nominations(items)
    moves, rows = [], []
    for item, counts in zip(items, totals, strict=True):
        passed = bool(locked.quorum_met) and counts["yes"] >= threshold
        rows.append({"item_id": item.id, "passed_": passed, **{f"{k}_": v for k, v in counts.items()}})
        meta = {"session_id": locked.id, "yes": counts["yes"], "no": counts["no"], "invalid": counts["invalid"],
                "members_total": locked.members_total, "present": locked.present_count,
                "threshold": threshold}
        moves.append((item.nomination, pass_event if passed else reject_event, meta))
    _write_counts(items, rows)
    with outbox.batched():  # the dossiers' events and the session's, written together (issue 16)
        move_many(moves, actor.id, council.name)  # a few statements, one log row per dossier
        locked.status = SessionStatus.CLOSED
        locked.closed_at = now_utc()
        # the round's record (issue 14): what this session received, passed and rejected, kept as decided
        locked.received_count = len(items)
        locked.passed_count = sum(1 for item in items if item.passed)
        locked.rejected_count = locked.received_count - locked.passed_count
        outbox.session_closed(locked, items)  # told to other systems when this transaction commits
    result = _tally_rows(locked, threshold, [
        TallyRow(item.nomination_id, item.nomination.code, item.nomination.full_name, item.yes, item.no,
                 item.invalid, item.excluded, item.passed) for item in items])
    return locked, result


def _write_counts(items: list[AgendaItem], rows: list[dict]) -> None:
    """Each agenda row's final counts and decision: one executemany, not one UPDATE per row."""
    if not rows:
        return
    table = AgendaItem.__table__
    columns = ("yes", "no", "invalid", "excluded", "passed")
    db.session.execute(
        sa.update(table).where(table.c.id == sa.bindparam("item_id"))
        .values({name: sa.bindparam(f"{name}_") for name in columns}), rows)
    for item, row in zip(items, rows, strict=True):  # what was written, as if the ORM had flushed it
        for name in columns:
            set_committed_value(item, name, row[f"{name}_"])


def _vacuum_boxes() -> None:
    """PostgreSQL: remove the deleted boxes' dead row versions now (best effort; docs/councils.md).

    VACUUM cannot remove a version that an older transaction still may see, nor scrub what is
    already in the write-ahead log or a backup: the boxes stay sealed there.
    """
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if isinstance(bind, sa.engine.Connection):
        # The session was joined into a transaction of its caller's (a batch, a script): the boxes'
        # deletion is not committed yet, so no VACUUM could remove them now; the caller runs it after
        # its own commit (docs/councils.md).  Before, this raised AttributeError after the close.
        current_app.logger.info("VACUUM sealed_ballots left to the caller's transaction")
        return
    engine = bind
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM sealed_ballots"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.warning("VACUUM sealed_ballots failed; run it by hand (docs/councils.md)")


def tally(session: CouncilSession) -> list[dict]:
    if session.status != SessionStatus.CLOSED:
        raise TransitionRefused(N_("Kết quả chỉ được công bố sau khi phiên họp kết thúc."),
                                code="session_not_closed")
    threshold = session.council.pass_threshold
    # The columns printed, in one query (issue 16): loading the agenda's dossiers as objects would also
    # load each one's craft periods and products (their selectin relationships), 250 of them at a close.
    item, nomination = AgendaItem.__table__.c, Nomination.__table__.c
    rows = db.session.execute(
        sa.select(item.nomination_id, nomination.code, nomination.full_name, item.yes, item.no, item.invalid,
                  item.excluded, item.passed)
        .join_from(AgendaItem.__table__, Nomination.__table__, nomination.id == item.nomination_id)
        .where(item.session_id == session.id).order_by(item.id))
    return _tally_rows(session, threshold, rows)


class TallyRow(NamedTuple):
    """One agenda row as the tally prints it (``tally`` reads them; the close has them at hand)."""

    nomination_id: int
    code: str | None
    full_name: str
    yes: int
    no: int
    invalid: int
    excluded: int
    passed: bool | None


def _tally_rows(session: CouncilSession, threshold: int, rows) -> list[dict]:
    return [
        {
            "nomination_id": r.nomination_id,
            "code": r.code,
            "full_name": r.full_name,
            "yes": r.yes,
            "no": r.no,
            "invalid": r.invalid,
            "excluded": r.excluded,
            "members_total": session.members_total,
            "present": session.present_count,
            "quorum_met": bool(session.quorum_met),
            "threshold": threshold,
            "passed": bool(r.passed),
        }
        for r in rows
    ]


def ballots_cast(session: CouncilSession) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(BallotParticipation)
        .where(BallotParticipation.session_id == session.id)
    )


def councils_for(user: User) -> list[Council]:
    rows = db.session.scalars(sa.select(Council).order_by(Council.id.desc())).all()
    return [c for c in rows if can_see_council(user, c)]




# -- a member's own work ---------------------------------------------------------------------------


def my_sessions(user: User) -> list[dict]:
    """Every session not yet closed of a council ``user`` sits on, the open ones first.

    Each entry: ``session``, ``council``, ``member``, ``present`` (on the attendance list),
    ``voted`` (has cast the ballot), ``can_vote`` (open, present, not voted yet).
    """
    rows = db.session.execute(
        sa.select(CouncilSession, CouncilMember)
        .join(CouncilMember, CouncilMember.council_id == CouncilSession.council_id)
        .where(CouncilMember.user_id == user.id, CouncilSession.status != SessionStatus.CLOSED)
        .order_by(CouncilSession.held_on, CouncilSession.id)
    ).all()
    out = []
    for session, member in rows:
        present = db.session.scalar(sa.select(Attendance.id).where(
            Attendance.session_id == session.id, Attendance.member_id == member.id)) is not None
        voted = has_voted(member, session)
        is_open = session.status == SessionStatus.OPEN
        out.append({"session": session, "council": session.council, "member": member, "present": present,
                    "voted": voted, "open": is_open, "can_vote": is_open and present and not voted})
    out.sort(key=lambda e: (not e["open"], e["session"].held_on))
    return out
