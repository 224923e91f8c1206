"""Who may see and do what: the one place where roles and province scope are checked.

Pages, the API and the templates all call these predicates, so a button shows
exactly when the action is allowed and a dossier outside one's scope is simply
not there (404), never "forbidden".  No other module of the application names a
role: the role constants are defined in ``workflows.machine`` (the state machine's
actors) and read here only; views, services and templates ask a predicate such as
``can_manage_accounts(user)``, pages and the API are guarded by one decorator,
``guard(predicate)``, and the navigation is ``nav_items(user)``.
``tests/test_authorization.py::test_no_role_name_outside_permissions`` enforces it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import abort, g, request
from flask_login import current_user

from workflows import machine as wf
from workflows.machine import COUNCIL, OWNER, PROVINCE_SCOPED_ROLES, ROLES, Stage
from workflows.programme import ARTISAN_ID
from workflows.states import N_, State

from . import personal_fields
from .models import ApiToken, Council, Level, Nomination, User

NATIONAL_ROLES = frozenset(
    {
        wf.ADMIN,
        wf.MINISTRY_OFFICER,
        wf.MINISTRY_COUNCIL_MEMBER,
        wf.STATE_COUNCIL_MEMBER,
        wf.GOVERNMENT_OFFICER,
    }
)
STAFF_ROLES = NATIONAL_ROLES | PROVINCE_SCOPED_ROLES

# The stage from which each national role sees a dossier (and keeps seeing it: a dossier that reached
# the stage and was rejected, withdrawn or awarded later stays visible).  A dossier that never reached
# it does not exist for that role (404).  The same table decides which councils, sessions, tallies and
# session documents a national role sees (``can_see_level``), and the route matrix test
# (tests/test_route_matrix.py) plays it for every route.
STAGE_FROM: dict[str, Stage] = {
    wf.ADMIN: Stage.NONE,  # administration: every dossier but the drafts, as before
    wf.MINISTRY_OFFICER: Stage.MINISTRY,  # from its arrival at the ministry (the province sent it on)
    wf.MINISTRY_COUNCIL_MEMBER: Stage.MINISTRY,  # from the ministry council's agenda
    wf.STATE_COUNCIL_MEMBER: Stage.STATE,  # from the state council's agenda
    wf.GOVERNMENT_OFFICER: Stage.GOVERNMENT,  # from the submission to the Prime Minister
}
assert set(STAGE_FROM) == NATIONAL_ROLES
# The stage of the dossiers each council level puts on its agenda.
COUNCIL_STAGE: dict[str, Stage] = {
    "province": Stage.PROVINCE,
    "ministry": Stage.MINISTRY,
    "state": Stage.STATE,
}


def national_stage(user: User) -> Stage | None:
    """The earliest stage from which ``user``'s national roles see dossiers (None: no national role)."""
    stages = [STAGE_FROM[role] for role in user.roles & NATIONAL_ROLES]
    return min(stages) if stages else None


def can_see_level(user: User, level: str) -> bool:
    """Whether a national role sees every council of ``level`` (each dossier on its agenda has reached it)."""
    stage = national_stage(user)
    return stage is not None and stage <= COUNCIL_STAGE[str(level)]


def visible_filter(user: User):
    """A WHERE clause selecting the nominations ``user`` may see."""
    own = Nomination.owner_id == user.id
    roles = user.roles
    clauses = [own]
    stage = national_stage(user)
    if stage is not None:
        clauses.append(sa.and_(Nomination.state != State.DRAFT, Nomination.stage_reached >= int(stage)))
    if roles & PROVINCE_SCOPED_ROLES and user.province_code:
        clauses.append(
            sa.and_(
                Nomination.province_code == user.province_code,
                Nomination.state != State.DRAFT,
            )
        )
    # These pages and the API serve the artisan titles; another programme's dossiers (issue 18,
    # services/programmes.py) have states of their own definition and are not listed here yet.
    return sa.and_(Nomination.programme_id == ARTISAN_ID, sa.or_(*clauses))


def can_view(user: User, nomination: Nomination) -> bool:
    if not user.is_authenticated or nomination.programme_id not in (None, ARTISAN_ID):  # see visible_filter
        return False
    if nomination.owner_id == user.id:
        return True
    if nomination.state == State.DRAFT:
        return False
    stage = national_stage(user)
    if stage is not None and (nomination.stage_reached or 0) >= stage:
        return True
    return bool(user.roles & PROVINCE_SCOPED_ROLES) and user.province_code == nomination.province_code


def may_act(user: User, nomination: Nomination, action: str) -> bool:
    """Whether ``user`` holds the role (and scope) for ``action`` on ``nomination``.

    The state machine separately decides whether the action is possible now.
    """
    if not user.is_authenticated or not can_view(user, nomination):
        return False
    try:
        actor = wf.actor_for(action)
    except KeyError:
        return False
    if actor == COUNCIL:
        return False
    if actor == OWNER:
        return nomination.owner_id == user.id
    if not user.has_role(actor):
        return False
    if actor in PROVINCE_SCOPED_ROLES:
        return user.province_code == nomination.province_code
    return True


def may_act_as(user: User, nomination: Nomination, actor: str) -> bool:
    """Whether ``user`` is ``actor`` (OWNER or a role, in scope) for a dossier of another programme than the
    artisan titles, ``actor`` being what its definition says (services/programmes.py, docs/programmes.md).

    COUNCIL is nobody: a level's decision moves the dossier, recorded by the level's officer."""
    if not user.is_authenticated or actor == COUNCIL:
        return False
    if actor == OWNER:
        return nomination.owner_id == user.id
    if not user.has_role(actor):
        return False
    return actor not in PROVINCE_SCOPED_ROLES or user.province_code == nomination.province_code


def holds_role(user: User, role: str | None, province_code: str | None = None) -> bool:
    """Whether ``user`` holds ``role`` (a role a programme definition names: a level's officer or council),
    in ``province_code``'s scope for a province role; round-wide work of a level (its scorers' panels, its
    ranking) and the scorers' own sheets (services/scoring.py)."""
    if not role or not user.is_authenticated or role in (OWNER, COUNCIL) or not user.has_role(role):
        return False
    return role not in PROVINCE_SCOPED_ROLES or province_code is None or user.province_code == province_code


def can_edit(user: User, nomination: Nomination) -> bool:
    return nomination.owner_id == user.id and nomination.state in (State.DRAFT, State.RETURNED)


def available_actions(user: User, nomination: Nomination, today) -> list[str]:
    """Actions ``user`` may take on ``nomination`` right now (role, scope and machine)."""
    subject = nomination.subject(today)
    return [
        action
        for action in wf.actions_from(nomination.state_enum)
        if may_act(user, nomination, action) and wf.can_fire(subject, action)
    ]


def can_review_criteria(user: User, nomination: Nomination) -> bool:
    """Decide an eligibility criterion left to people: the secretariat of the dossier's province."""
    return (
        user.is_authenticated
        and can_view(user, nomination)
        and nomination.state != State.DRAFT
        and user.has_role(wf.PROVINCE_OFFICER)
        and user.province_code == nomination.province_code
    )


# -- the law's hard cases (services/hard_cases.py) ------------------------------------------------

# A death is recorded at any stage after filing and before the President's decision.
DEATH_RECORDABLE = frozenset(State) - {State.DRAFT} - {s for s in State if wf.is_final(s)}


def can_record_death(user: User, nomination: Nomination) -> bool:
    """Record a nominee's death now: the desk's officer (``may_record_death``), before the decision."""
    return nomination.state_enum in DEATH_RECORDABLE and may_record_death(user, nomination)


def may_record_death(user: User, nomination: Nomination) -> bool:
    """The officer of the desk that holds or held the dossier (the province's secretariat; the ministry
    from its stage on; the government officers from theirs), whatever the dossier's state."""
    if not user.is_authenticated or not can_view(user, nomination):
        return False
    if user.has_role(wf.PROVINCE_OFFICER) and user.province_code == nomination.province_code:
        return True
    stage = nomination.stage_reached or 0
    return (user.has_role(wf.MINISTRY_OFFICER) and stage >= Stage.MINISTRY) or \
        (user.has_role(wf.GOVERNMENT_OFFICER) and stage >= Stage.GOVERNMENT)


def can_override_exclusion(user) -> bool:
    """Let an Art. 2(3)-excluded dossier go on (only where EXCLUSION_OVERRIDE_ALLOWED): the administrator,
    a role above the provincial secretariat that sees the dossier from its filing."""
    return _any(user, wf.ADMIN)


def can_record_arrival(user: User, nomination: Nomination) -> bool:
    """Record the day a paper dossier reached the department: that province's secretariat."""
    return (user.is_authenticated and can_view(user, nomination) and user.has_role(wf.PROVINCE_OFFICER)
            and user.province_code == nomination.province_code)


def presides(user, council: Council) -> bool:
    """Whoever presides the council's sessions (the chair, or a vice-chair authorised to preside)."""
    member = council.member_for(user) if getattr(user, "is_authenticated", False) else None
    return member is not None and member.can_preside


def can_file_in(user: User, province_code: str | None) -> bool:
    """Applicants file in any province; an officer files only in their own."""
    if user.has_role(wf.APPLICANT):
        return True
    return user.has_role(wf.PROVINCE_OFFICER) and user.province_code == province_code




# -- national khuyến công schemes (issue 18 item 4; services/schemes.py, docs/programmes.md) --------------
# The department (Cục Công Thương địa phương) is the ministry's secretariat: ministry_officer opens a
# year, appraises, records the plan's approval, inspects, accepts and settles.  A proposing unit (a
# provincial khuyến công centre, a ministry unit) files with its own applicant account and owns its
# schemes; the province's secretariat follows the schemes located in its province.


def can_manage_schemes(user: User) -> bool:
    return user.is_authenticated and user.has_role(wf.MINISTRY_OFFICER)


def can_propose_scheme(user: User) -> bool:
    return user.is_authenticated and user.has_role(wf.APPLICANT)


def can_see_scheme_years(user: User) -> bool:
    return user.is_authenticated


def can_see_scheme(user: User, nomination: Nomination) -> bool:
    """A scheme: the same rule as any other programme's dossier (its owner; once submitted, the department,
    the roles of its province, the administrator), read from its definition."""
    from workflows.registry import registry

    programme = registry().get(nomination.programme_id, nomination.programme_version)
    return can_view_programme_dossier(user, nomination, programme)


def can_see_scheme_plan(user: User, approved: bool) -> bool:
    """The approved plan is the ministry's published decision; before it, the department's working list."""
    return user.is_authenticated and (approved or can_manage_schemes(user))


# -- roles as data: labels, account administration ----------------------------------------------

ROLE_LABELS = {
    wf.APPLICANT: N_("Người nộp hồ sơ"),
    wf.PROVINCE_OFFICER: N_("Cán bộ tỉnh (thường trực Hội đồng cấp tỉnh)"),
    wf.PROVINCE_COUNCIL_MEMBER: N_("Thành viên Hội đồng cấp tỉnh"),
    wf.MINISTRY_OFFICER: N_("Cán bộ Bộ Công Thương"),
    wf.MINISTRY_COUNCIL_MEMBER: N_("Thành viên Hội đồng cấp Bộ"),
    wf.STATE_COUNCIL_MEMBER: N_("Thành viên Hội đồng cấp Nhà nước"),
    wf.GOVERNMENT_OFFICER: N_("Cán bộ Ban Thi đua - Khen thưởng Trung ương"),
    wf.ADMIN: N_("Quản trị hệ thống"),
    wf.DATA_OFFICER: N_("Cán bộ bảo vệ dữ liệu cá nhân"),
}
assert set(ROLE_LABELS) == set(ROLES)
# The role a self-registered account (and an account created without roles) gets.
SELF_SERVICE_ROLES = (wf.APPLICANT,)
# A province officer grants only these, only in their own province, only to accounts holding no more.
GRANTABLE_BY_PROVINCE = frozenset({wf.APPLICANT, wf.PROVINCE_OFFICER, wf.PROVINCE_COUNCIL_MEMBER})
# Who is told when a dossier arrives at (or leaves) a desk: the officers of that desk.
DESK_ROLE = {"province": wf.PROVINCE_OFFICER, "ministry": wf.MINISTRY_OFFICER, "government": wf.GOVERNMENT_OFFICER}
# Council levels and the roles that work on them (members, and the secretariat of the level).
COUNCIL_MEMBER_ROLES = (wf.PROVINCE_COUNCIL_MEMBER, wf.MINISTRY_COUNCIL_MEMBER, wf.STATE_COUNCIL_MEMBER)
SECRETARIAT_ROLES = (wf.PROVINCE_OFFICER, wf.MINISTRY_OFFICER)
LEVEL_OF_ROLE = {
    wf.PROVINCE_COUNCIL_MEMBER: "province",
    wf.PROVINCE_OFFICER: "province",
    wf.MINISTRY_COUNCIL_MEMBER: "ministry",
    wf.MINISTRY_OFFICER: "ministry",
    wf.STATE_COUNCIL_MEMBER: "state",
}


def _roles(user) -> set[str]:
    """The roles of an account (none for an anonymous visitor)."""
    return set(getattr(user, "roles", None) or ())


def _any(user, *roles: str) -> bool:
    return bool(_roles(user).intersection(roles))


def is_staff(user) -> bool:
    """Any role but the applicant's alone (a staff member of some desk or council)."""
    return bool(_roles(user) & STAFF_ROLES)


def is_administrator(user) -> bool:
    """The system administrator: every province, every account, the rule set, the audit log."""
    return _any(user, wf.ADMIN)


def is_applicant(user) -> bool:
    """Holds the applicant role (files for themself, in any province)."""
    return _any(user, wf.APPLICANT)


def can_file(user) -> bool:
    """Start a dossier: applicants, and province officers filing a paper dossier for someone."""
    return _any(user, wf.APPLICANT, wf.PROVINCE_OFFICER)


def files_for_others(user) -> bool:
    """A province officer may enter a paper dossier on someone's behalf (in their province)."""
    return _any(user, wf.PROVINCE_OFFICER)


def files_only_in_own_province(user) -> bool:
    """Filing limited to one's province: an officer who is not also an applicant."""
    return _any(user, wf.PROVINCE_OFFICER) and not _any(user, wf.APPLICANT)


def can_use_province_inbox(user) -> bool:
    return _any(user, *PROVINCE_SCOPED_ROLES)


def can_score(user) -> bool:
    """Open one's scoring queue (typical products): a council member of any level; which dossiers he
    scores is the panels he sits on (services/scoring.py)."""
    return _any(user, *COUNCIL_MEMBER_ROLES)


def can_act_in_batch(user) -> bool:
    """The provincial secretariat's batch page (accept several, send several to the ministry)."""
    return _any(user, wf.PROVINCE_OFFICER) and bool(getattr(user, "province_code", None))


def can_list_national(user) -> bool:
    """The national list of dossiers (each role from its stage on, ``STAGE_FROM``)."""
    return _any(user, *NATIONAL_ROLES)


def can_see_dashboard(user) -> bool:
    return _any(user, wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN)


def can_handle_public_comments(user) -> bool:
    """Read and verify the public's comments: the ministry."""
    return _any(user, wf.MINISTRY_OFFICER)


def can_manage_rounds(user) -> bool:
    return _any(user, wf.ADMIN, wf.MINISTRY_OFFICER)


def can_manage_integration(user) -> bool:
    """Other systems told what happens here (webhooks, partners' status sync), their deliveries and
    dead letters: the administrator."""
    return is_administrator(user)


def can_manage_base_salaries(user) -> bool:
    """Add a base salary (lương cơ sở) in force from a date: the award bonus is computed from it."""
    return is_administrator(user)


def can_export_archives(user) -> bool:
    return _any(user, wf.ADMIN, wf.MINISTRY_OFFICER)


def can_create_councils(user) -> bool:
    return _any(user, wf.ADMIN, wf.MINISTRY_OFFICER, wf.PROVINCE_OFFICER)


def can_create_national_councils(user) -> bool:
    return _any(user, wf.ADMIN, wf.MINISTRY_OFFICER)


def can_create_council(user, level: str, province_code: str | None) -> bool:
    """A provincial council: the administrator, or the Sở of that province; above: the ministry too."""
    if str(level) == Level.PROVINCE:
        return is_administrator(user) or (_any(user, wf.PROVINCE_OFFICER) and user.province_code == province_code)
    return can_create_national_councils(user)


def council_levels(user) -> list[str]:
    """The council levels whose agenda ``user`` works on (as member or secretariat), in order."""
    levels: list[str] = []
    for role, level in LEVEL_OF_ROLE.items():
        if _any(user, role) and level not in levels:
            levels.append(level)
    return levels


def can_use_council_agenda(user) -> bool:
    return bool(council_levels(user))


def is_secretariat(user, council: Council) -> bool:
    """The standing body runs the sessions: the Sở for a province, the ministry above it."""
    if not user.is_authenticated:
        return False
    if council.level == Level.PROVINCE:
        return user.has_role(wf.PROVINCE_OFFICER) and user.province_code == council.province_code
    return user.has_role(wf.MINISTRY_OFFICER)


def can_see_council(user, council: Council) -> bool:
    if not user.is_authenticated:
        return False
    if council.member_for(user) or is_secretariat(user, council):
        return True
    if can_see_level(user, council.level):  # a national role, from its stage on (STAGE_FROM)
        return True
    return bool(user.roles & PROVINCE_SCOPED_ROLES) and user.province_code == council.province_code


def can_edit_rules(user) -> bool:
    return is_administrator(user)


def can_read_rules(user) -> bool:
    return is_staff(user)


def can_read_audit_log(user) -> bool:
    return is_administrator(user)


def can_manage_accounts(user) -> bool:
    """Administrators, and province officers for their own province."""
    return is_administrator(user) or (_any(user, wf.PROVINCE_OFFICER) and bool(user.province_code))


def grantable_roles(actor) -> list[str]:
    if is_administrator(actor):
        return list(ROLES)
    if can_manage_accounts(actor):
        return [r for r in ROLES if r in GRANTABLE_BY_PROVINCE]
    return []


def can_manage(actor, user: User) -> bool:
    """Whether ``actor`` may change ``user``'s roles, scope or status."""
    if is_administrator(actor):
        return True
    return (
        can_manage_accounts(actor)
        and user.id != actor.id
        and user.province_code == actor.province_code
        and user.roles <= GRANTABLE_BY_PROVINCE
    )


def may_grant(actor, roles) -> bool:
    """Whether ``actor`` may give these roles (scope is checked separately)."""
    return is_administrator(actor) or (can_manage_accounts(actor) and not set(roles) - GRANTABLE_BY_PROVINCE)


def drops_own_administration(actor, user: User, roles) -> bool:
    """An administrator removing their own administrator role (refused: someone must administer)."""
    return user.id == actor.id and wf.ADMIN in user.roles and wf.ADMIN not in set(roles)


def council_candidate_roles() -> tuple[str, ...]:
    """Accounts that may sit on a council: council members and the secretariats."""
    return COUNCIL_MEMBER_ROLES + SECRETARIAT_ROLES


def can_sit_on_council(user, level: str) -> bool:
    """``user`` holds the role of a member of a council of ``level`` (an invitation adds no other role)."""
    return user.has_role(council_member_role(level))


def council_member_role(level: str) -> str:
    """The role an external member invited to a council of ``level`` receives."""
    return next(role for role in COUNCIL_MEMBER_ROLES if LEVEL_OF_ROLE[role] == level)


def desk_role(desk: str) -> str:
    return DESK_ROLE[desk]


def home_endpoint(user) -> str:
    """Where each person's work is (the home page sends them there)."""
    if _any(user, wf.DATA_OFFICER) and not _any(user, *STAFF_ROLES):
        return "data_rights.requests"
    if _any(user, wf.PROVINCE_OFFICER):
        return "province.inbox"
    if _any(user, wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN):
        return "ministry.nominations"
    if _any(user, *COUNCIL_MEMBER_ROLES):
        return "council.agenda"
    if _any(user, wf.DATA_OFFICER):
        return "data_officer.index"
    return "applicant.index"


# -- navigation -----------------------------------------------------------------------------------

# (endpoint, label, predicate): the main menu, in order.  Each entry is shown exactly when the
# guard of its page lets the person in (tests/test_authorization.py plays it for every role).
NAV: tuple[tuple[str, str, Callable], ...] = (
    ("applicant.index", N_("Hồ sơ của tôi"), can_file),
    ("province.inbox", N_("Hồ sơ của tỉnh"), can_use_province_inbox),
    ("ministry.nominations", N_("Tất cả hồ sơ"), can_list_national),
    ("council.agenda", N_("Chương trình Hội đồng"), can_use_council_agenda),
    ("council.councils", N_("Hội đồng"), can_use_council_agenda),
    ("products.queue", N_("Phiếu chấm điểm"), can_score),
    ("ministry.dashboard", N_("Tổng hợp đợt"), can_see_dashboard),
    ("rounds.index", N_("Kế hoạch đợt"), is_staff),
    ("schemes.index", N_("Đề án khuyến công"), lambda u: can_manage_schemes(u) or can_propose_scheme(u)),
    ("rules.admin", N_("Bộ tiêu chí"), can_edit_rules),
    ("rules.read_only", N_("Bộ tiêu chí"), lambda u: can_read_rules(u) and not can_edit_rules(u)),
    ("admin.index", N_("Quản trị"), lambda u: can_open_administration(u)),
    ("data_rights.requests", N_("Yêu cầu về dữ liệu cá nhân"), lambda u: can_answer_data_requests(u)),
    ("data_officer.index", N_("Bảo vệ dữ liệu cá nhân"), lambda u: can_use_privacy_desk(u)),
)


def nav_items(user) -> list[tuple[str, str]]:
    """The menu entries (endpoint, untranslated label) ``user`` may open."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [(endpoint, label) for endpoint, label, allowed in NAV if allowed(user)]


# -- the law's calendar, mergers, intake deadlines, the round's record (issue 14) -------------------

def can_edit_holidays(user) -> bool:
    """Edit the holiday calendar the working-day deadlines count with: the administrator."""
    return _any(user, wf.ADMIN)


def can_transfer_from(user, province_code: str | None, successor_code: str | None) -> bool:
    """Move dossiers of a merged province to its successor: the administrator, or the successor's
    own secretariat (the department that now answers for the former province)."""
    if _any(user, wf.ADMIN):
        return True
    return (_any(user, wf.PROVINCE_OFFICER) and successor_code is not None
            and getattr(user, "province_code", None) == successor_code)


def can_use_transfers(user) -> bool:
    """The transfers page: the administrator and provincial secretariats."""
    return _any(user, wf.ADMIN, wf.PROVINCE_OFFICER)


def can_set_intake(user, province_code: str | None) -> bool:
    """Set a province's own intake deadline: the administrator, the ministry, that province's secretariat."""
    if _any(user, wf.ADMIN, wf.MINISTRY_OFFICER):
        return True
    return _any(user, wf.PROVINCE_OFFICER) and province_code is not None \
        and getattr(user, "province_code", None) == province_code


def can_use_intake_page(user) -> bool:
    return _any(user, wf.ADMIN, wf.MINISTRY_OFFICER, wf.PROVINCE_OFFICER)


def can_set_intakes_by_api(user) -> bool:
    """``PUT /api/v1/rounds/{id}/provinces/{code}`` (shared/api-v1.md v1.1): a province's officer (for their
    own province: ``can_set_intake``) or the ministry; the administrator uses the page."""
    return _any(user, wf.PROVINCE_OFFICER, wf.MINISTRY_OFFICER)


def can_fetch_round_report(user) -> bool:
    """``GET /api/v1/rounds/{id}/report`` (shared/api-v1.md v1.1): the ministry and the administrator."""
    return _any(user, wf.MINISTRY_OFFICER, wf.ADMIN)


def can_read_round_report(user) -> bool:
    """The round's record (per level and province): the ministry, the government, the administrator."""
    return _any(user, wf.MINISTRY_OFFICER, wf.GOVERNMENT_OFFICER, wf.ADMIN)


def own_province_only(user) -> str | None:
    """The one province a user's pages are limited to (a provincial secretariat), else None."""
    if _any(user, wf.ADMIN, wf.MINISTRY_OFFICER):
        return None
    return getattr(user, "province_code", None)


def admin_sections(user) -> list[tuple[str, str]]:
    """The administration pages ``user`` may open (endpoint, untranslated label)."""
    links = []
    if can_manage_accounts(user):
        links += [("admin.accounts", N_("Tài khoản")), ("admin.invite", N_("Mời người dùng")),
                  ("admin.import_accounts", N_("Nhập danh sách từ tệp"))]
    if can_manage_rounds(user):
        links.append(("admin.rounds", N_("Đợt xét tặng")))
    if can_create_councils(user):
        links.append(("admin.new_council", N_("Thành lập Hội đồng")))
    if can_use_intake_page(user):
        links.append(("admin.intake", N_("Hạn tiếp nhận của tỉnh")))
    if can_use_transfers(user):
        links.append(("admin.transfers", N_("Chuyển hồ sơ tỉnh hợp nhất")))
    if can_edit_holidays(user):
        links.append(("admin.holidays", N_("Lịch ngày nghỉ lễ, Tết")))
    if can_manage_base_salaries(user):
        links.append(("admin.base_salaries", N_("Lương cơ sở")))
    if can_manage_partners(user):
        links.append(("admin.partners", N_("Hệ thống đối tác (liên thông hồ sơ)")))
    if can_read_audit_log(user):
        links.append(("admin.audit_log", N_("Nhật ký quản trị")))
    if can_manage_integration(user):
        links.append(("integration.index", N_("Kết nối hệ thống khác (webhook)")))
    return links


def can_manage_partners(user) -> bool:
    """Partner systems that file dossiers here (their keys, their mapping): the administrator only."""
    return is_administrator(user)


def can_open_administration(user) -> bool:
    return bool(admin_sections(user))


# -- personal data: the person's requests, who read a dossier and why (issue 17 items 2 and 6) -----------

def can_answer_data_requests(user) -> bool:
    """The data officer's list of the people's requests (correction, deletion, withdrawal) and the answers."""
    return _any(user, wf.DATA_OFFICER)


def data_officer_role() -> str:
    """The role told of a new request (services/notifications.py)."""
    return wf.DATA_OFFICER


# Why each role opens a dossier, downloads evidence or exports a list: the purpose logged by default
# (PRIVACY_READ_REASON_REQUIRED asks staff for their own reason instead).
READ_PURPOSES = {
    wf.APPLICANT: N_("Người nộp xem hồ sơ của mình"),
    wf.PROVINCE_OFFICER: N_("Tiếp nhận, thẩm định hồ sơ và làm thường trực Hội đồng cấp tỉnh"),
    wf.PROVINCE_COUNCIL_MEMBER: N_("Xét hồ sơ tại Hội đồng cấp tỉnh"),
    wf.MINISTRY_OFFICER: N_("Thẩm định hồ sơ tại Bộ Công Thương và lấy ý kiến nhân dân"),
    wf.MINISTRY_COUNCIL_MEMBER: N_("Xét hồ sơ tại Hội đồng cấp Bộ"),
    wf.STATE_COUNCIL_MEMBER: N_("Xét hồ sơ tại Hội đồng cấp Nhà nước"),
    wf.GOVERNMENT_OFFICER: N_("Trình Thủ tướng Chính phủ, Chủ tịch nước"),
    wf.ADMIN: N_("Quản trị hệ thống"),
    wf.DATA_OFFICER: N_("Giải quyết yêu cầu của chủ thể dữ liệu"),
}
assert set(READ_PURPOSES) == set(ROLES)


def reader_role(user, nomination: Nomination | None = None) -> str:
    """The role under which ``user`` reads: the desk of the dossier's province first, then the others."""
    roles = _roles(user)
    if nomination is not None and user.province_code == nomination.province_code:
        for role in (wf.PROVINCE_OFFICER, wf.PROVINCE_COUNCIL_MEMBER):
            if role in roles:
                return role
    for role in ROLES:
        if role in roles and role != wf.APPLICANT:
            return role
    return wf.APPLICANT


def logs_reading(user, nomination: Nomination) -> bool:
    """A reading to log: a dossier opened by anyone but its owner."""
    return getattr(user, "id", None) != nomination.owner_id


def must_give_read_reason(user, nomination: Nomination, required: bool) -> bool:
    """When configured, staff state a reason before opening someone else's dossier."""
    return required and logs_reading(user, nomination) and reader_role(user, nomination) != wf.APPLICANT


# -- dossiers of the other programmes (issue 18: pages and API of any programme) ----------------------------
# A programme's definition names who acts (its levels' officers and councils, the ``by`` of its moves); the
# rules below read it, so a new programme needs no line here.  docs/programmes.md "Who sees what".


def programme_role_stages(programme) -> dict[str, int]:
    """For each role a programme names (officer or council of a level, actor of a move), the earliest stage
    from which it acts: a level's roles from the stage of its entry state, a move's actor from the stage of
    the states it leaves.  A national role sees the programme's dossiers from that stage on."""
    stage_of = programme.stage_of
    stages: dict[str, int] = {}

    def note(role: str | None, stage: int) -> None:
        if role and role not in (OWNER, COUNCIL):
            stages[role] = min(stages.get(role, stage), stage)

    for level in programme.definition.levels:
        entry = stage_of.get(level.entry, 1) or 1
        note(level.officer, entry)
        note(level.council, entry)
    for move in programme.moves:
        note(move.actor, min((stage_of.get(str(s), 1) or 1) for s in move.sources))
    return stages


def can_view_programme_dossier(user: User, nomination: Nomination, programme) -> bool:
    """A dossier of another programme: its filer always; no one else while it is a draft; the province's
    roles in its province; a national role the programme names from the stage it acts at; the
    administrator every dossier but the drafts."""
    if not user.is_authenticated:
        return False
    if nomination.owner_id == user.id:
        return True
    if nomination.state == programme.definition.initial:
        return False
    roles = user.roles
    if wf.ADMIN in roles:
        return True
    if roles & PROVINCE_SCOPED_ROLES and user.province_code == nomination.province_code:
        return True
    reached = nomination.stage_reached or 0
    stages = programme_role_stages(programme)
    return any(role in stages and reached >= stages[role] for role in roles - PROVINCE_SCOPED_ROLES)


def programme_actions(user: User, nomination: Nomination, programme, subject) -> list[str]:
    """The definition's actions ``user`` may take on the dossier now (actor, scope and machine)."""
    return [action for action in programme.actions_from(nomination.state)
            if action in programme.Action._value2member_map_
            and may_act_as(user, nomination, programme.actor_for(action)) and programme.can_fire(subject, action)]


def programme_decisions(user: User, nomination: Nomination, programme) -> list:
    """The levels whose decision ``user`` may record on the dossier now: the dossier is at the level (a
    move of its decision's events leaves the dossier's state) and ``user`` is the level's officer."""
    levels = []
    for level in programme.definition.levels:
        decision = level.decision
        if decision is None or not may_act_as(user, nomination, level.officer):
            continue
        events = {decision.passes, decision.rejects}
        if any(str(m.trigger) in events and nomination.state in m.sources for m in programme.moves):
            levels.append(level)
    return levels


def sees_every_province(user) -> bool:
    """A role that is not a province's: lists of every province (the cross-programme inbox narrows the others
    to their own province)."""
    return bool(_roles(user) - PROVINCE_SCOPED_ROLES - {wf.APPLICANT})


def can_file_programme_dossier(user) -> bool:
    """File a dossier of another programme (its own fields): an applicant's account files it."""
    return _any(user, wf.APPLICANT)


def can_add_programme_evidence(user: User, nomination: Nomination, programme) -> bool:
    """Add evidence to a dossier of another programme: its filer, while the dossier is in a state from which
    the filer takes it forward (the draft, a dossier returned for completion)."""
    if not user.is_authenticated or nomination.owner_id != user.id:
        return False
    return any(m.actor == OWNER and nomination.state in m.sources and str(m.trigger) not in programme.sideways
               for m in programme.moves)



# Exposed to every template (registered in create_app): the predicates, by name.
TEMPLATE_PREDICATES = {
    f.__name__: f
    for f in (
        nav_items, is_staff, is_administrator, can_file, files_for_others, can_manage_accounts, can_manage,
        can_view, can_edit, can_review_criteria, can_handle_public_comments, can_export_archives,
        can_act_in_batch, can_manage_rounds, can_read_round_report, can_use_intake_page, can_create_councils,
        is_secretariat, can_see_council,
        can_edit_rules, can_answer_data_requests, can_file_programme_dossier,
        can_manage_schemes, can_propose_scheme,
    )
}


# -- the one guard: pages and API -----------------------------------------------------------------


def _is_api_request() -> bool:
    return (request.blueprint or "").split(".")[0] == "api"


def _bearer_token():
    """The request's bearer token, or None: unknown, expired, ended, or its account inactive or unconfirmed."""
    header = request.headers.get("Authorization", "")
    scheme, _, plain = header.partition(" ")
    return ApiToken.live(plain.strip()) if scheme.lower() == "bearer" and plain else None


def guard(predicate: Callable | None = None) -> Callable:
    """The one access guard of pages and API: a known caller, then ``predicate(user)``.

    Who the caller is and how a refusal looks is decided by the request's blueprint, not by a
    second decorator: the API (blueprint ``api``) reads the bearer token and answers 401/403 in
    the API's JSON error shape; a page uses the login session, sends an anonymous visitor to
    the login page and answers 403 otherwise.  ``guard()`` only asks for a known caller.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from .errors import Forbidden

            if _is_api_request():
                from .errors import Unauthorized

                token = _bearer_token()
                if token is None:
                    raise Unauthorized()
                if predicate is not None and not predicate(token.user):
                    raise Forbidden()
                token.touch(request.remote_addr or "")
                g.api_user = token.user
                g.api_token = token
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            if predicate is not None and not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.guard_predicate = predicate
        return wrapped

    return decorator


def init_app(app) -> None:
    """The templates ask the policy through these: the role labels and every predicate."""
    from .i18n import label

    app.jinja_env.globals.update(role_label=lambda r: label(ROLE_LABELS, r), **TEMPLATE_PREDICATES)



# -- personal data: which sensitive classes each role sees (issue 17, docs/personal-data.md §3) --------
# SHOW: in clear on pages, API answers, exports and PDFs; REVEAL: masked, shown on demand with a logged
# reason (the "Hiện" form, one audit event each); MASK: masked, never shown.  A class a role does not
# list is masked.  The dossier's owner sees their own dossier's fields in clear.  The route matrix
# (tests/test_route_matrix.py::test_sensitive_fields_per_role) plays this table on the pages, the API,
# the exports and the PDFs.
SHOW, REVEAL, MASK = "show", "reveal", "mask"
_F = personal_fields
FIELD_ACCESS: dict[str, dict[str, str]] = {
    wf.APPLICANT: {},  # only their own dossiers, as the owner
    # the secretariat checks the dossier against the papers: birth date in clear, the nominee's contacts on
    # demand; the family of a posthumous proposal is who it corresponds with (it records them), so in clear
    wf.PROVINCE_OFFICER: {_F.BIRTH_DATE: SHOW, _F.ADDRESS: REVEAL, _F.PHONE: REVEAL, _F.FAMILY: SHOW,
                          _F.CONFLICT_DECLARATION: SHOW},
    # council members judge the work and the age (the year): no contact, no residence
    wf.PROVINCE_COUNCIL_MEMBER: {_F.CONFLICT_DECLARATION: SHOW},
    wf.MINISTRY_OFFICER: {_F.BIRTH_DATE: SHOW, _F.ADDRESS: REVEAL, _F.PHONE: REVEAL, _F.FAMILY: REVEAL,
                          _F.COMMENTER_CONTACT: REVEAL, _F.CONFLICT_DECLARATION: SHOW},
    wf.MINISTRY_COUNCIL_MEMBER: {_F.CONFLICT_DECLARATION: SHOW},
    wf.STATE_COUNCIL_MEMBER: {_F.CONFLICT_DECLARATION: SHOW},
    # the decision names the person: birth date and residence, on demand
    wf.GOVERNMENT_OFFICER: {_F.BIRTH_DATE: REVEAL, _F.ADDRESS: REVEAL},
    wf.ADMIN: {},  # runs the system, has no need of the content
    wf.DATA_OFFICER: {cls: REVEAL for cls in _F.MASKABLE},  # answers requests and breaches, on demand
}
assert set(FIELD_ACCESS) == set(ROLES)
_RANK = {MASK: 0, REVEAL: 1, SHOW: 2}


def field_access(user, cls: str, nomination: Nomination | None = None) -> str:
    """SHOW, REVEAL or MASK: how ``user`` sees a field of class ``cls`` (of ``nomination``, if any)."""
    if cls not in _F.MASKABLE:
        return SHOW
    if nomination is not None and getattr(user, "id", None) is not None and nomination.owner_id == user.id:
        return SHOW
    best = MASK
    for role in _roles(user):
        level = FIELD_ACCESS.get(role, {}).get(cls, MASK)
        if _RANK[level] > _RANK[best]:
            best = level
    return best


def shown_value(user, cls: str, value, nomination: Nomination | None = None, revealed=()):
    """The value as ``user`` may see it: in clear, or masked (``revealed``: classes revealed with a reason)."""
    access = field_access(user, cls, nomination)
    if access == SHOW or (access == REVEAL and cls in revealed):
        return value
    return _F.mask(cls, value)


def can_use_privacy_desk(user) -> bool:
    """The data officer's desk: the register of processing, the impact assessment, breaches."""
    return _any(user, wf.DATA_OFFICER)

