"""Scope by stage: every route × every national role × every stage a dossier can be in.

A national role sees a dossier only once it has reached the role's stage, and from then on whatever
happens to it (rejected, withdrawn, held, awarded); before that the dossier is not there (404, exactly
like a missing one).  Councils, sessions, tallies and session documents follow the same table: a
council level is visible to a national role only if every dossier on such a council's agenda has
reached that role's stage (so no national role sees a provincial council; the government officer sees
no council at all).

The expected answers below are written out by hand (``REACHED``, ``ROLE_FROM``, ``SESSION_SEEN``),
not read from ``permissions.STAGE_FROM``, and ``test_the_old_everything_non_draft_rule_fails`` puts the
old rule ("every non-draft dossier, every council") back in place and checks that these very checks
then fail.

The routes come from ``app.url_map``: a route with an id in its path either has a way to fill it
here or is listed in ``NOT_STAGED`` with the reason, else ``test_every_id_route_is_covered`` fails; a
new route cannot escape.  Every GET page without a dossier id (lists, exports, dashboards, timelines,
search, the API lists) is scanned for the names of the dossiers and councils a role must not see.
The world is built once per module through the real operations.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.routing import AnyConverter

from artisan_awards import create_app, permissions
from artisan_awards.extensions import db
from artisan_awards.models import Nomination
from artisan_awards.timeutil import today
from tests.factories import Factory
from workflows.states import Action, State

ROLES = {
    "mo": "ministry_officer",
    "mcm": "ministry_council_member",
    "scm": "state_council_member",
    "go": "government_officer",
    "admin": "admin",
}
# Stages, by hand: 1 submitted to the province, 2 on the provincial council's agenda, 3 at the ministry,
# 4 on the state council's agenda, 5 submitted to the Prime Minister.
INTAKE, PROVINCE, MINISTRY, STATE_COUNCIL, GOVERNMENT = 1, 2, 3, 4, 5
ROLE_FROM = {"mo": MINISTRY, "mcm": MINISTRY, "scm": STATE_COUNCIL, "go": GOVERNMENT, "admin": INTAKE}

# key: (nominee's name, the state it ends in, the furthest stage it reached)
DOSSIERS = {
    "submitted": ("Lã Thị Nộpmới", State.SUBMITTED, INTAKE),
    "returned": ("Lã Văn Trảlại", State.RETURNED, INTAKE),
    "closed": ("Lã Thị Đóngsổ", State.CLOSED_INCOMPLETE, INTAKE),
    "accepted": ("Lã Văn Hợplệ", State.ACCEPTED, PROVINCE),
    "province_review": ("Lã Thị Đangxét", State.PROVINCE_REVIEW, PROVINCE),
    "province_rejected": ("Lã Văn Trượttỉnh", State.PROVINCE_REJECTED, PROVINCE),
    "withdrawn_province": ("Lã Thị Rúttỉnh", State.WITHDRAWN, PROVINCE),
    "ministry": ("Lã Văn Lênbộ", State.MINISTRY_REVIEW, MINISTRY),
    "ministry_rejected": ("Lã Thị Trượtbộ", State.MINISTRY_REJECTED, MINISTRY),
    "on_hold": ("Lã Văn Tạmdừng", State.ON_HOLD, MINISTRY),
    "withdrawn_ministry": ("Lã Thị Rútbộ", State.WITHDRAWN, MINISTRY),
    "state": ("Lã Văn Nhànước", State.STATE_REVIEW, STATE_COUNCIL),
    "state_rejected": ("Lã Thị Trượtnhànước", State.STATE_REJECTED, STATE_COUNCIL),
    "pm": ("Lã Văn Thủtướng", State.SUBMITTED_TO_PM, GOVERNMENT),
    "awarded": ("Lã Thị Phongtặng", State.AWARDED, GOVERNMENT),
}
REACHED = {key: reached for key, (_name, _state, reached) in DOSSIERS.items()}
# Sessions: key -> (council name, level).  Who sees a council of each level, by hand.
COUNCILS = {
    "province_closed": ("Hội đồng tỉnh Kínđáo", "province"),
    "province_open": ("Hội đồng tỉnh Đangbỏphiếu", "province"),
    "ministry": ("Hội đồng Bộ Chuyênngành", "ministry"),
    "state": ("Hội đồng Nhànước Xétchọn", "state"),
}
SESSION_SEEN = {
    "province": {"admin"},
    "ministry": {"admin", "mo", "mcm"},
    "state": {"admin", "mo", "mcm", "scm"},
}

# Routes with an id this test does not fill, each with the reason it is not a matter of stage.
NOT_STAGED = {
    "/my/<int:nomination_id>/": "the applicant's own form: its owner only (checked: never 200 to a national role)",
    "/public/consultations/<int:nomination_id>": "public by law: the dossiers in public consultation",
    "/api/v1/public/consultations/<int:nomination_id>/comments": "public by law: comments on the consultation",
    "/documents/tasks/<int:task_id>": "a document job: its requester and the exporting roles",
    "/admin/accounts/<int:user_id>": "accounts, not dossiers",
    "/account/sessions/": "one's own login sessions and tokens, not dossiers",
    "/api/v1/me/sessions/": "one's own login sessions and tokens, not dossiers",
    "/admin/rules/<ruleset_id>": "award rules, not dossiers",
    "/api/v1/comments/<int:comment_id>/status": "public comments: the ministry officer's consultation work",
    "/reset/<token>": "tokens", "/confirm/<token>": "tokens", "/invitation/<token>": "tokens",
    "/lang/<code>": "the language switch", "/static/<path:filename>": "static files",
}
ID_ARGS = {"nomination_id", "attachment_id", "session_id", "council_id"}
# Published by law for everyone (the provincial councils' results, the public consultations): the same
# for a national role as for an anonymous reader, so not scanned for stage leaks.
PUBLISHED = ("/public/", "/api/v1/public/")


@dataclass
class World:
    app: object
    ids: dict  # dossier key -> id
    attachments: dict  # dossier key -> attachment id
    sessions: dict  # session key -> id
    councils: dict  # session key -> council id
    agenda: dict  # session key -> a dossier id on its agenda
    round_id: int
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)


def _png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 200)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


@pytest.fixture(scope="module")
def world(database_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stage")
    url, drop = database_factory.new(tmp)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"),
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    with app.app_context():
        w = _build(app)
        db.session.remove()
    for p in ROLES:
        w.clients[p] = _logged_in(app, f"stage.{p}@example.vn")
        r = app.test_client().post("/api/v1/auth/token",
                                   json={"email": f"stage.{p}@example.vn", "password": Factory.PASSWORD})
        w.tokens[p] = r.get_json()["token"]
    yield w
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _build(app) -> World:
    from artisan_awards.schemas import CouncilIn, SessionIn
    from artisan_awards.services import accounts, attachments, councils
    from artisan_awards.services import nominations as service

    make = Factory()
    users = {p: accounts.create_user(f"stage.{p}@example.vn", Factory.PASSWORD, f"Người {p} Đặng", (role,), None)
             for p, role in ROLES.items()}
    officer = make.user("province_officer", "HNI")
    owner = make.user("applicant")
    rnd = make.current_round()
    rnd.consultation_days = 0  # a rehearsal round: each consultation may close at once
    db.session.commit()
    ids, atts, n = {}, {}, {}
    for key, (name, _state, _reached) in DOSSIERS.items():
        row = make.nomination(State.DRAFT, owner=owner, nominee={"full_name": name})
        atts[key] = attachments.add_attachment(owner, row, "photo", FileStorage(stream=_png(), filename="a.png")).id
        service.perform(row, Action.SUBMIT, owner)
        n[key], ids[key] = row, row.id

    def act(keys, action, who):
        for k in keys:
            service.perform(n[k], action, who, comment="Thử")

    def session(name, level, keys, choices=None, close=True):
        members = [make.user({"province": "province_council_member", "ministry": "ministry_council_member",
                              "state": "state_council_member"}[level], "HNI" if level == "province" else None)
                   for _ in range(7)]
        secretariat = officer if level == "province" else users["mo"]
        council = councils.create_council(secretariat, CouncilIn.model_validate({
            "level": level, "province_code": "HNI" if level == "province" else None, "round_id": rnd.id,
            "name": name, "decision_no": "1/QĐ", "decision_date": (today() - timedelta(days=3)).isoformat(),
            "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                        for i, u in enumerate(members)]}))
        s = councils.create_session(secretariat, council, SessionIn.model_validate(
            {"held_on": today().isoformat(), "nomination_ids": [ids[k] for k in keys]}))
        councils.set_attendance(secretariat, s, [u.email for u in members])
        councils.open_session(secretariat, s)
        if close:
            for u in members:
                councils.cast_ballot(u, s, {str(ids[k]): (choices or {}).get(k, "yes") for k in keys})
            councils.close_session(secretariat, s)
        for k in keys:
            db.session.refresh(n[k])
        return council.id, s.id

    act(["returned", "closed"], Action.RETURN, officer)
    act(["closed"], Action.CLOSE_INCOMPLETE, officer)
    up = ["province_rejected", "ministry", "ministry_rejected", "on_hold", "withdrawn_ministry", "state",
          "state_rejected", "pm", "awarded"]
    act(["accepted", "province_review", "withdrawn_province", *up], Action.ACCEPT, officer)
    act(["withdrawn_province"], Action.WITHDRAW, owner)
    sessions, council_ids, agenda = {}, {}, {}
    council_ids["province_closed"], sessions["province_closed"] = session(
        COUNCILS["province_closed"][0], "province", up, {"province_rejected": "no"})
    agenda["province_closed"] = ids["ministry"]
    council_ids["province_open"], sessions["province_open"] = session(
        COUNCILS["province_open"][0], "province", ["province_review"], close=False)
    agenda["province_open"] = ids["province_review"]
    up.remove("province_rejected")
    act(up, Action.FORWARD_TO_MINISTRY, officer)
    act(["withdrawn_ministry"], Action.WITHDRAW, owner)
    act(["on_hold"], Action.HOLD, users["mo"])
    higher = ["ministry_rejected", "state", "state_rejected", "pm", "awarded"]
    council_ids["ministry"], sessions["ministry"] = session(
        COUNCILS["ministry"][0], "ministry", higher, {"ministry_rejected": "no"})
    agenda["ministry"] = ids["state"]
    higher.remove("ministry_rejected")
    act(higher, Action.OPEN_CONSULTATION, users["mo"])
    act(higher, Action.FORWARD_TO_STATE, users["mo"])
    top = ["state_rejected", "pm", "awarded"]
    council_ids["state"], sessions["state"] = session(COUNCILS["state"][0], "state", top, {"state_rejected": "no"})
    agenda["state"] = ids["pm"]
    act(["pm", "awarded"], Action.OPEN_CONSULTATION, users["mo"])
    act(["pm", "awarded"], Action.SUBMIT_TO_PM, users["mo"])
    act(["awarded"], Action.SUBMIT_TO_PRESIDENT, users["go"])
    service.perform(n["awarded"], Action.RECORD_AWARD, users["go"], decision_no="9/QĐ-CTN", decision_date=today())
    for key, (_name, state, _reached) in DOSSIERS.items():
        assert n[key].state == state, (key, n[key].state)
    return World(app, ids, atts, sessions, council_ids, agenda, rnd.id)


def _logged_in(app, email):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    assert r.status_code == 302 and "/login" not in r.headers["Location"], r.data[:300]
    return client


def _call(world, principal, method, url, data=None):
    api = url.startswith("/api/")
    client = world.app.test_client() if api else world.clients[principal]
    kwargs = {"headers": {"Authorization": f"Bearer {world.tokens[principal]}"} if api else {}}
    if method in ("POST", "PATCH"):
        kwargs["json" if api else "data"] = data or {}
    return client.open(url, method=method, **kwargs)


# -- the routes, from the URL map ------------------------------------------------------------------------

def _rules(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule


def _not_staged(rule) -> str | None:
    return next((why for prefix, why in NOT_STAGED.items() if rule.rule.startswith(prefix)), None)


def _choices(rule, name):
    converter = rule._converters.get(name)
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)
    return {"fmt": ["csv", "xlsx"], "action": ["accept"], "criterion_id": ["no_such_criterion"]}.get(name)


def _expand(rule, fixed: dict) -> list[str]:
    """The URLs of ``rule`` with ``fixed`` arguments and every choice of the others."""
    urls = [rule.rule]
    for name in rule.arguments:
        values = [fixed[name]] if name in fixed else _choices(rule, name)
        if values is None:
            return []
        urls = [re.sub(r"<[^>]*\b" + name + ">", str(v), u) for u in urls for v in values]
    return urls


def dossier_urls(world, method, rule, key) -> list[str]:
    args = set(rule.arguments)
    if "nomination_id" not in args or args & {"session_id", "council_id"} or _not_staged(rule):
        return []
    return _expand(rule, {"nomination_id": world.ids[key], "attachment_id": world.attachments[key]})


def session_urls(world, method, rule, key) -> list[str]:
    args = set(rule.arguments)
    if not args & {"session_id", "council_id"}:
        return []
    return _expand(rule, {"session_id": world.sessions[key], "council_id": world.councils[key],
                          "nomination_id": world.agenda[key]})


def test_every_id_route_is_covered(world):
    """A route with an id is played here for every stage, or listed in NOT_STAGED with its reason."""
    uncovered = []
    for method, rule in _rules(world.app):
        if not rule.arguments or _not_staged(rule):
            continue
        if rule.arguments & ID_ARGS:
            if not (dossier_urls(world, method, rule, "ministry") or session_urls(world, method, rule, "ministry")):
                uncovered.append(f"{method} {rule.rule}")
        elif not _expand(rule, {"round_id": world.round_id}):
            uncovered.append(f"{method} {rule.rule}")
    assert uncovered == []
    used = {prefix for prefix in NOT_STAGED if any(r.rule.startswith(prefix) for _m, r in _rules(world.app))}
    assert used == set(NOT_STAGED), "NOT_STAGED lines for routes that are gone"


def test_a_new_id_route_cannot_escape(world):
    app = create_app(dict(world.app.config))
    app.add_url_rule("/secret/<int:widget_id>", "secret_widget", lambda widget_id: "")
    with app.app_context():
        fake = World(app, world.ids, world.attachments, world.sessions, world.councils, world.agenda,
                     world.round_id)
        with pytest.raises(AssertionError):
            test_every_id_route_is_covered(fake)


# -- every dossier route × role × stage --------------------------------------------------------------------

def _seen(principal, key) -> bool:
    return REACHED[key] >= ROLE_FROM[principal]


def _dossier_answers(world):
    """(what went wrong) for every route × role × dossier: 404 before the stage, an answer from it on."""
    wrong = []
    for method, rule in _rules(world.app):
        for key in DOSSIERS:
            for url in dossier_urls(world, method, rule, key):
                for principal in ROLES:
                    r = _call(world, principal, method, url, {"comment": "Thử"})
                    if r.status_code >= 500:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}")
                    elif _seen(principal, key) and r.status_code in (401, 404):
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should see it")
                    elif not _seen(principal, key) and r.status_code != 404:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should be 404")
    return wrong


def test_dossier_routes_by_stage(world):
    assert _dossier_answers(world) == []


def test_owner_only_routes_never_open_to_national_roles(world):
    for method, rule in _rules(world.app):
        if not rule.rule.startswith("/my/<int:nomination_id>/"):
            continue
        for key in ("submitted", "awarded"):
            for url in _expand(rule, {"nomination_id": world.ids[key], "attachment_id": world.attachments[key]}):
                for principal in ROLES:
                    assert _call(world, principal, method, url).status_code in (403, 404), (principal, url)


# -- councils, sessions, tallies, session documents ---------------------------------------------------------

def _session_answers(world):
    wrong = []
    for method, rule in _rules(world.app):
        for key, (_name, level) in COUNCILS.items():
            for url in session_urls(world, method, rule, key):
                for principal in ROLES:
                    r = _call(world, principal, method, url, {})
                    seen = principal in SESSION_SEEN[level]
                    if r.status_code >= 500:
                        wrong.append(f"{principal} {method} {url}: {r.status_code}")
                    elif seen and r.status_code in (401, 404):
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should see it")
                    elif not seen and r.status_code != 404:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should be 404")
    return wrong


def test_session_and_council_routes_by_level(world):
    assert _session_answers(world) == []


# -- lists, exports, dashboards, timelines, search, API lists: no name of a dossier not yet seen -----------------

def _text(response) -> str:
    body = response.get_data()
    if body[:2] == b"PK":  # an XLSX or a ZIP: every member's text
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return "".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return body.decode("utf-8", "replace")


def _list_urls(world):
    for method, rule in _rules(world.app):
        if method != "GET" or rule.arguments & ID_ARGS or _not_staged(rule) or rule.rule.startswith(PUBLISHED):
            continue
        yield from _expand(rule, {"round_id": world.round_id})
    yield f"/ministry/dashboard?round_id={world.round_id}"
    for name, _state, _reached in DOSSIERS.values():  # search, by page and by API
        yield f"/ministry/nominations?q={name.split()[-1]}"
        yield f"/api/v1/nominations?q={name.split()[-1]}"
    yield "/api/v1/nominations?per_page=100"


def _leaks(world):
    leaks, shown = [], {p: set() for p in ROLES}
    for url in _list_urls(world):
        for principal in ROLES:
            r = _call(world, principal, "GET", url)
            assert r.status_code < 500, (principal, url, r.status_code)
            if r.status_code != 200:
                continue
            text = _text(r)
            for key, (name, _state, _reached) in DOSSIERS.items():
                if name in text:
                    shown[principal].add(key)
                    if not _seen(principal, key):
                        leaks.append(f"{principal} sees {key} ({name}) at {url}")
            for name, level in COUNCILS.values():
                if name in text and principal not in SESSION_SEEN[level]:
                    leaks.append(f"{principal} sees the council {name} at {url}")
    return leaks, shown


def test_lists_exports_dashboards_and_search_show_nothing_before_the_stage(world):
    leaks, shown = _leaks(world)
    assert leaks == []
    # and the lists are not simply empty: each role finds every dossier from its stage on
    for principal in ROLES:
        assert shown[principal] == {k for k in DOSSIERS if _seen(principal, k)}, principal


def test_round_export_holds_only_what_the_requester_sees(world):
    from artisan_awards.documents import jobs
    from artisan_awards.models import Round, User

    with world.app.app_context():
        rnd = db.session.get(Round, world.round_id)
        for principal in ("mo", "admin"):
            user = db.session.scalar(sa.select(User).where(User.email == f"stage.{principal}@example.vn"))
            plan = jobs._plan(rnd, user)
            dossiers = {ident for _path, (kind, ident, _w) in plan if kind == "nomination"}
            sessions = {ident for _path, (kind, ident, _w) in plan if kind == "session"}
            assert dossiers == {world.ids[k] for k in DOSSIERS if _seen(principal, k)}, principal
            assert sessions == {world.sessions[k] for k, (_n, level) in COUNCILS.items()
                                if principal in SESSION_SEEN[level]}, principal


def _dashboard_totals(world) -> dict[str, int]:
    from artisan_awards.ministry import dashboard
    from artisan_awards.models import Round, User

    totals = {}
    with world.app.app_context():
        rnd = db.session.get(Round, world.round_id)
        for principal in ROLES:
            user = db.session.scalar(sa.select(User).where(User.email == f"stage.{principal}@example.vn"))
            totals[principal] = sum(dashboard.build(rnd, user)["totals"].values())
    return totals


def test_dashboard_counts_only_what_the_role_sees(world):
    """The figures by stage and province add up to the dossiers the role may open, not one more."""
    assert _dashboard_totals(world) == {p: sum(_seen(p, k) for k in DOSSIERS) for p in ROLES}


def test_stage_reached_is_kept_by_the_moves(world):
    with world.app.app_context():
        got = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
    assert {k: got[world.ids[k]] for k in DOSSIERS} == REACHED


# -- the control: the old rule must fail these checks ---------------------------------------------------------

def test_the_old_everything_non_draft_rule_fails(world, monkeypatch):
    """With the stage table set back to "every national role sees every non-draft dossier and every
    council", the same checks find dossiers and sessions shown before their stage."""
    from workflows.machine import Stage

    monkeypatch.setattr(permissions, "STAGE_FROM", dict.fromkeys(permissions.STAGE_FROM, Stage.NONE))
    wrong = _dossier_answers(world)
    assert any(w.startswith("go ") and "(submitted)" in w and "should be 404" in w for w in wrong), wrong[:5]
    assert any(w.startswith("mo ") and "(withdrawn_province)" in w for w in wrong)
    assert any("should be 404" in w for w in _session_answers(world))
    leaks, _shown = _leaks(world)
    assert any(leak.startswith("scm sees province_rejected") for leak in leaks), leaks[:5]
    assert _dashboard_totals(world)["go"] == len(DOSSIERS)  # every dossier counted, not the 2 it may see


def test_migration_0015_fills_stage_reached_from_the_log(world):
    """Down to the revision before 0015 and up again: the column comes back filled from each dossier's
    log and state, the counters' triggers survive (SQLite), and the answers above still hold.
    Runs last in this module."""
    from flask_migrate import downgrade, upgrade

    with world.app.app_context():
        before = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
        triggers = _triggers()
        db.session.remove()
        downgrade(revision="0015-1")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("nominations")}
        assert "stage_reached" not in columns
        upgrade(revision="0015")
        after = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
        assert _triggers() == triggers
        upgrade()
        db.session.remove()
    assert after == before and {k: after[world.ids[k]] for k in DOSSIERS} == REACHED


def _triggers() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(db.session.scalars(sa.text(sql)))
