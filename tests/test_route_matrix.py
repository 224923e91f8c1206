"""The authorization matrix: every route of the application × every role × own / other province × anonymous.

``MATRIX`` below is written by hand: one line per route (``"METHOD /rule"`` exactly as in
``app.url_map``), giving the URL to call and the answer each principal must get.  The route list
itself is read from ``app.url_map``: a route with no line in ``MATRIX`` fails
``test_every_route_is_in_the_matrix`` (and ``test_an_unlisted_route_fails_the_check`` proves that
check can fail).

Every object lives in Hà Nội (HNI).  ``po_x`` and ``pcm_x`` are the same roles in Hải Phòng (HPG):
for them a Hà Nội dossier, session or account does not exist (404), exactly like a missing one.

Answers:
  200, 302, 400, 403, 404, 410 -- that status exactly;
  L  -- must log in: a redirect to /login for pages, 401 for the API;
  ok -- POST/PATCH got past authorization: not 401/403/404/405/500 and not sent to the login page
        (the empty body then fails validation, or the operation is refused by the state machine).

All the objects are built once per module; each principal logs in once.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.routing import AnyConverter

from artisan_awards import confirm, create_app, permissions
from artisan_awards.extensions import db
from artisan_awards.models import DocumentTask, Nomination, PublicComment, TaskStatus
from artisan_awards.timeutil import today
from tests.confirming import answer_fields, is_question
from tests.factories import Factory, expire_completion
from workflows import machine
from workflows.states import Action, State

PRINCIPALS = ("anon", "owner", "applicant", "po", "po_x", "pcm", "pcm_x", "mo", "mcm", "scm", "go", "admin")
ROLE_OF = {
    "owner": ("applicant", None), "applicant": ("applicant", None),
    "po": ("province_officer", "HNI"), "po_x": ("province_officer", "HPG"),
    "pcm": ("province_council_member", "HNI"), "pcm_x": ("province_council_member", "HPG"),
    "mo": ("ministry_officer", None), "mcm": ("ministry_council_member", None),
    "scm": ("state_council_member", None), "go": ("government_officer", None), "admin": ("admin", None),
}
GROUPS = {
    "users": "owner applicant po po_x pcm pcm_x mo mcm scm go admin",
    "staff": "po po_x pcm pcm_x mo mcm scm go admin",
    "national": "mo mcm scm go admin",
    # national roles that see a dossier only from their stage on (permissions.STAGE_FROM): every object
    # here is at the province (a submitted dossier, a provincial council), so for them it is not there;
    # tests/test_route_matrix.py plays every stage
    "staged": "mo mcm scm go",
    "x": "po_x pcm_x",
    "hni": "po pcm",
    "councillors": "pcm pcm_x mcm scm",
}
L = "L"
OK = "ok"


def row(anon=L, rest=403, *pairs) -> dict:
    """``row(anon, everyone_else, "po pcm", 200, "x", 404, ...)``: later pairs override earlier ones."""
    answer = {"anon": anon, **{p: rest for p in PRINCIPALS[1:]}}
    for names, value in zip(pairs[::2], pairs[1::2], strict=True):
        for name in names.split():
            for p in GROUPS.get(name, name).split():
                answer[p] = value
    return answer


PUBLIC = row(200, 200)
SESSION_BODY = lambda i: {"held_on": "2030-01-02", "nomination_ids": [i["acc"]]}  # noqa: E731
LOGGED_IN = row(L, 200)

# "METHOD /rule": (url with {placeholders}, answers)
# An optional third item gives the body (JSON for the API, form fields for pages) from the ids.
MATRIX: dict[str, tuple] = {
    "GET /": ("/", row(200, 302)),  # each signed-in person is sent to their own page
    "GET /static/<path:filename>": ("/static/app.css", PUBLIC),
    # -- auth -----------------------------------------------------------------------------
    "GET /login": ("/login", row(200, 302)),
    "POST /login": ("/login", row(OK, 302)),
    "POST /logout": ("/logout", row(L, 302)),
    "GET /register": ("/register", row(200, 302)),
    "POST /register": ("/register", row(OK, 302)),
    "GET /lang/<code>": ("/lang/en", row(302, 302)),  # the anonymous link: the preference cookie only
    "POST /lang/<code>": ("/lang/en", row(302, 302)),
    "GET /confirm": ("/confirm", PUBLIC),
    "POST /confirm": ("/confirm", row(OK, OK)),
    "GET /confirm/<token>": ("/confirm/not-a-token", row(L, L)),  # refused, back to the login page
    "GET /forgot": ("/forgot", PUBLIC),
    "POST /forgot": ("/forgot", row(OK, OK)),
    "GET /reset/<token>": ("/reset/not-a-token", row(410, 410)),
    "POST /reset/<token>": ("/reset/not-a-token", row(410, 410)),
    "GET /invitation/<token>": ("/invitation/not-a-token", row(410, 410)),
    "POST /invitation/<token>": ("/invitation/not-a-token", row(410, 410)),
    "GET /account/password": ("/account/password", LOGGED_IN),
    "POST /account/password": ("/account/password", row(L, OK)),
    "GET /account/sessions": ("/account/sessions", LOGGED_IN),
    # someone else's (or no) session id: 404 to everyone, as a missing one
    "POST /account/sessions/<kind>/<int:row_id>/end": ("/account/sessions/web/999999/end", row(L, 404)),
    "POST /account/sessions/end-others": ("/account/sessions/end-others", row(L, 302)),
    # the in-app inbox: one's own notifications only (another's id is 404, like a missing one)
    "GET /notifications": ("/notifications", LOGGED_IN),
    "POST /notifications/<int:notification_id>/open": ("/notifications/999999/open", row(L, 404)),
    "POST /notifications/<int:notification_id>/read": ("/notifications/999999/read", row(L, 404)),
    "POST /notifications/read-all": ("/notifications/read-all", row(L, 302)),  # ends own tokens too
    # -- applicant ------------------------------------------------------------------------
    "GET /my/": ("/my/", LOGGED_IN),
    "GET /my/new": ("/my/new", row(L, 403, "owner applicant po po_x", 200)),
    "POST /my/new": ("/my/new", row(L, 403, "owner applicant po po_x", OK)),
    "GET /my/<int:nomination_id>/nominee": (
        "/my/{draft}/nominee", row(L, 403, "applicant po po_x", 404, "owner", 200)),  # 403: roles that never file
    "POST /my/<int:nomination_id>/nominee": (
        "/my/{draft}/nominee", row(L, 403, "applicant po po_x", 404, "owner", OK)),
    "GET /my/<int:nomination_id>/craft": ("/my/{draft}/craft", row(L, 404, "owner", 200)),
    "POST /my/<int:nomination_id>/craft": ("/my/{draft}/craft", row(L, 404, "owner", OK)),
    "GET /my/<int:nomination_id>/achievements": ("/my/{draft}/achievements", row(L, 404, "owner", 200)),
    "POST /my/<int:nomination_id>/achievements": ("/my/{draft}/achievements", row(L, 404, "owner", OK)),
    "GET /my/<int:nomination_id>/evidence": ("/my/{draft}/evidence", row(L, 404, "owner", 200)),
    "POST /my/<int:nomination_id>/evidence": ("/my/{draft}/evidence", row(L, 404, "owner", OK)),
    "POST /my/<int:nomination_id>/evidence/<int:attachment_id>/delete": (
        "/my/{draft}/evidence/{draft_att}/delete", row(L, 404, "owner", OK)),
    "GET /my/<int:nomination_id>/review": ("/my/{draft}/review", row(L, 404, "owner", 200)),
    "POST /my/<int:nomination_id>/review": ("/my/{draft}/review", row(L, 404, "owner", OK)),  # the submission
    "GET /my/<int:nomination_id>/receipt": ("/my/{sub}/receipt", row(L, 404, "owner", 200)),
    # -- dossier --------------------------------------------------------------------------
    "GET /nominations/<int:nomination_id>": ("/nominations/{sub}", row(L, 200, "applicant x staged", 404)),
    "POST /nominations/<int:nomination_id>/death": (
        "/nominations/{sub}/death", row(L, 403, "applicant x staged", 404, "po", OK)),
    "POST /nominations/<int:nomination_id>/arrival": (
        "/nominations/{sub}/arrival", row(L, 403, "applicant x staged", 404, "po", OK)),
    "POST /nominations/<int:nomination_id>/exclusion-override": (
        "/nominations/{sub}/exclusion-override", row(L, 403, "applicant x staged", 404)),
    "POST /nominations/<int:nomination_id>/special-craft": (
        "/nominations/{sub}/special-craft", row(L, 403, "applicant x staged", 404)),
    # a masked field shown with a reason (permissions.FIELD_ACCESS): the phone is the secretariat's to reveal;
    # the owner sees it already and council members or the administrator never (403); no reason: refused (OK)
    "POST /nominations/<int:nomination_id>/reveal": (
        "/nominations/{sub}/reveal", row(L, 403, "applicant x staged", 404, "po", OK), lambda i: {"cls": "phone"}),
    "POST /nominations/<int:nomination_id>/actions/<action>": (
        "/nominations/{sub}/actions/accept", row(L, 403, "applicant x staged", 404, "po", OK),
        lambda i: {"comment": "Thử"}),
    # the President's decision: the government officer only (a dossier at the province: seen by no one else)
    "GET /nominations/<int:nomination_id>/decision": ("/nominations/{sub}/decision",
                                                      row(L, 403, "applicant x staged", 404)),
    "POST /nominations/<int:nomination_id>/decision": ("/nominations/{sub}/decision",
                                                       row(L, 403, "applicant x staged", 404)),
    "GET /nominations/<int:nomination_id>/attachments/<int:attachment_id>": (
        "/nominations/{sub}/attachments/{sub_att}", row(L, 200, "applicant x staged", 404)),
    "GET /nominations/<int:nomination_id>/<any(declaration, summary, dossier, receipt):kind>.pdf": (
        "/nominations/{sub}/declaration.pdf", row(L, 200, "applicant x staged", 404)),
    "GET /nominations/<int:nomination_id>/notices/<int:notice_id>.pdf": (
        "/nominations/{sub}/notices/{sub_notice}.pdf", row(L, 200, "applicant x staged", 404)),
    "POST /nominations/<int:nomination_id>/criteria/<criterion_id>/review": (
        "/nominations/{sub}/criteria/no_such_criterion/review", row(L, 403, "applicant x staged", 404, "po", OK)),
    # -- every other programme (issue 18; artisan_awards/programmes, api/programmes.py): no programme but the
    # artisan titles is loaded here, so ids are missing ones; tests/test_programme_web.py plays who sees a
    # dossier of the test programme at each stage --------------------------------------------------------------
    "GET /programmes/": ("/programmes/", PUBLIC),
    # opening a round of any programme: those who manage rounds
    "GET /programmes/rounds/new": ("/programmes/rounds/new", row(L, 403, "mo admin", 200)),
    "POST /programmes/rounds/new": ("/programmes/rounds/new", row(L, 403, "mo admin", OK)),
    "GET /programmes/<programme_id>/rounds/<int:round_id>/new": (
        "/programmes/no-such-programme/rounds/{round}/new", row(L, 403, "owner applicant", 404)),
    "POST /programmes/<programme_id>/rounds/<int:round_id>/new": (
        "/programmes/no-such-programme/rounds/{round}/new", row(L, 403, "owner applicant", 404)),
    "GET /programme-dossiers/<int:dossier_id>": ("/programme-dossiers/999999", row(L, 404)),
    "POST /programme-dossiers/<int:dossier_id>/actions/<action>": (
        "/programme-dossiers/999999/actions/submit", row(L, 404)),
    "POST /programme-dossiers/<int:dossier_id>/decision": ("/programme-dossiers/999999/decision", row(L, 404)),
    "POST /programme-dossiers/<int:dossier_id>/evidence": ("/programme-dossiers/999999/evidence", row(L, 404)),
    "GET /programme-dossiers/<int:dossier_id>/evidence/<int:attachment_id>": (
        "/programme-dossiers/999999/evidence/1", row(L, 404)),
    "GET /api/v1/programmes": ("/api/v1/programmes", PUBLIC),
    "GET /api/v1/programmes/<programme_id>": ("/api/v1/programmes/no-such-programme", row(404, 404)),
    "POST /api/v1/programmes/<programme_id>/dossiers": (
        "/api/v1/programmes/no-such-programme/dossiers", row(L, 403, "owner applicant", 404)),
    "GET /api/v1/programme-dossiers": ("/api/v1/programme-dossiers", LOGGED_IN),
    "GET /api/v1/programme-dossiers/<int:dossier_id>": ("/api/v1/programme-dossiers/999999", row(L, 404)),
    "POST /api/v1/programme-dossiers/<int:dossier_id>/actions/<action>": (
        "/api/v1/programme-dossiers/999999/actions/submit", row(L, 404)),
    "POST /api/v1/programme-dossiers/<int:dossier_id>/decision": (
        "/api/v1/programme-dossiers/999999/decision", row(L, 404)),
    "POST /api/v1/programme-dossiers/<int:dossier_id>/evidence": (
        "/api/v1/programme-dossiers/999999/evidence", row(L, 404)),
    # -- province, ministry -----------------------------------------------------------------
    "GET /province/inbox": ("/province/inbox", row(L, 403, "po po_x pcm pcm_x", 200)),
    "GET /province/inbox/export.<fmt>": ("/province/inbox/export.csv", row(L, 403, "po po_x pcm pcm_x", 200)),
    "GET /province/batch": ("/province/batch", row(L, 403, "po po_x", 200)),
    "POST /province/batch/accept": ("/province/batch/accept", row(L, 403, "po po_x", OK)),
    # the world's session is not closed: no tờ trình to send under, for its own province either
    "POST /province/batch/forward/<int:session_id>": ("/province/batch/forward/{session}",
                                                      row(L, 403, "staff", 404, "pcm admin", 403)),
    "GET /ministry/nominations/export.<fmt>": ("/ministry/nominations/export.xlsx", row(L, 403, "national", 200)),
    "GET /ministry/results/export.<fmt>": ("/ministry/results/export.csv", row(L, 403, "national", 200)),
    "POST /ministry/comments/reveal": ("/ministry/comments/reveal", row(L, 403, "mo", OK)),
    "GET /ministry/comments/export.<fmt>": ("/ministry/comments/export.csv", row(L, 403, "mo", 200)),
    # -- national khuyến công schemes (schemes/routes.py)
    "GET /schemes/": ("/schemes/", LOGGED_IN),
    "GET /schemes/years/new": ("/schemes/years/new", row(L, 403, "mo", 200)),
    "POST /schemes/years/new": ("/schemes/years/new", row(L, 403, "mo", OK)),
    "GET /schemes/years/<int:round_id>": ("/schemes/years/{scheme_year}", LOGGED_IN),
    "GET /schemes/years/<int:round_id>/edit": ("/schemes/years/{scheme_year}/edit", row(L, 403, "mo", 200)),
    "POST /schemes/years/<int:round_id>/edit": ("/schemes/years/{scheme_year}/edit", row(L, 403, "mo", OK)),
    "GET /schemes/years/<int:round_id>/propose": (
        "/schemes/years/{scheme_year}/propose", row(L, 403, "owner applicant", 200)),
    "POST /schemes/years/<int:round_id>/propose": (
        "/schemes/years/{scheme_year}/propose", row(L, 403, "owner applicant", OK)),
    "GET /schemes/years/<int:round_id>/plan": ("/schemes/years/{scheme_year}/plan", row(L, 404, "mo", 200)),
    "POST /schemes/years/<int:round_id>/plan/approval": (
        "/schemes/years/{scheme_year}/plan/approval", row(L, 403, "mo", OK)),
    "GET /schemes/<int:scheme_id>": ("/schemes/{scheme}", row(L, 404, "owner hni mo admin", 200)),
    "GET /schemes/<int:scheme_id>/edit": ("/schemes/{scheme}/edit", row(L, 403, "applicant", 404, "owner", 200)),
    "POST /schemes/<int:scheme_id>/edit": ("/schemes/{scheme}/edit", row(L, 403, "applicant", 404, "owner", OK)),
    "POST /schemes/<int:scheme_id>/appraisal": ("/schemes/{scheme}/appraisal", row(L, 403, "mo", OK)),
    # an inspection: the department's record (the scheme is not approved: refused by the machine)
    "POST /schemes/<int:scheme_id>/records/<kind>": (
        "/schemes/{scheme}/records/inspection", row(L, 404, "owner hni admin", 403, "mo", OK)),
    "GET /rounds/": ("/rounds/", PUBLIC),
    "GET /rounds/<int:round_id>/timeline": ("/rounds/{round}/timeline", PUBLIC),
    "GET /rounds/<int:round_id>/report": ("/rounds/{round}/report", row(L, 403, "mo go admin", 200)),
    "GET /ministry/nominations": ("/ministry/nominations", row(L, 403, "national", 200)),
    "GET /ministry/dashboard": ("/ministry/dashboard", row(L, 403, "mo go admin", 200)),
    "GET /ministry/comments": ("/ministry/comments", row(L, 403, "mo", 200)),
    "POST /ministry/comments": ("/ministry/comments", row(L, 403, "mo", OK),
                                lambda i: {"comment_id": i["comment"], "status": "unsubstantiated"}),
    "GET /ministry/rules": ("/ministry/rules", row(L, 200, "owner applicant", 403)),
    # -- the data officer's desk (issue 17): the data officer only (no principal here holds the role;
    # tests/test_data_officer.py plays the data officer) ------------------------------------------
    "GET /data-officer/": ("/data-officer/", row(L, 403)),
    "GET /data-officer/register.<fmt>": ("/data-officer/register.csv", row(L, 403)),
    "GET /data-officer/impact-assessment.pdf": ("/data-officer/impact-assessment.pdf", row(L, 403)),
    "POST /data-officer/breaches": ("/data-officer/breaches", row(L, 403)),
    "GET /data-officer/breaches/<int:breach_id>": ("/data-officer/breaches/1", row(L, 403)),
    "POST /data-officer/breaches/<int:breach_id>/notified": ("/data-officer/breaches/1/notified", row(L, 403)),
    # -- councils -----------------------------------------------------------------------------
    "GET /council/agenda": ("/council/agenda", row(L, 403, "councillors po po_x mo", 200)),
    "GET /council/councils": ("/council/councils", LOGGED_IN),
    "GET /council/councils/<int:council_id>": ("/council/councils/{council}", row(L, 404, "po pcm admin", 200)),
    "POST /council/councils/<int:council_id>": (
        "/council/councils/{council}", row(L, 404, "pcm admin", 403, "po", OK), SESSION_BODY),
    "GET /council/sessions/<int:session_id>": ("/council/sessions/{session}", row(L, 404, "po pcm admin", 200)),
    "GET /council/sessions/<int:session_id>/edit": (
        "/council/sessions/{session}/edit", row(L, 404, "pcm admin", 403, "po", 200)),
    "POST /council/sessions/<int:session_id>/edit": (
        "/council/sessions/{session}/edit", row(L, 404, "pcm admin", 403, "po", OK)),
    "POST /council/sessions/<int:session_id>/cancel": (
        "/council/sessions/{session}/cancel", row(L, 404, "pcm admin", 403, "po", OK)),
    "POST /council/councils/<int:council_id>/members": (
        "/council/councils/{council}/members", row(L, 404, "pcm admin", 403, "po", OK)),
    "POST /council/sessions/<int:session_id>/attendance": (
        "/council/sessions/{session}/attendance", row(L, 404, "pcm admin", 403, "po", OK),
        lambda i: {"present": i["member_rows"]}),
    "POST /council/sessions/<int:session_id>/<any(open, close):step>": (
        "/council/sessions/{session}/close", row(L, 404, "pcm admin", 403, "po", OK)),
    "GET /council/sessions/<int:session_id>/ballot": (
        "/council/sessions/{session}/ballot", row(L, 404, "po admin", 403, "pcm", 200)),
    "POST /council/sessions/<int:session_id>/ballot": (
        "/council/sessions/{session}/ballot", row(L, 404, "po admin", 403, "pcm", OK)),
    "POST /council/sessions/<int:session_id>/conflict/<int:nomination_id>": (
        "/council/sessions/{session}/conflict/{acc}", row(L, 404, "po admin", 403, "pcm", OK),
        lambda i: {"reason": "Người thân"}),
    "GET /council/sessions/<int:session_id>/<any('submission-letter', list, minutes, tally, ballot):kind>.pdf": (
        "/council/sessions/{session}/list.pdf", row(L, 404, "po pcm admin", 302)),  # 302: closed sessions only
    # -- public ---------------------------------------------------------------------------------
    "GET /public/status": ("/public/status", PUBLIC),
    "POST /public/status": ("/public/status", row(OK, OK)),
    "GET /public/procedure": ("/public/procedure", PUBLIC),
    "GET /public/help": ("/public/help", PUBLIC),
    "GET /public/forms/<any(people, meritorious):title>.pdf": ("/public/forms/people.pdf", PUBLIC),
    "GET /public/results": ("/public/results", PUBLIC),
    "GET /public/consultations": ("/public/consultations", PUBLIC),
    "GET /public/consultations.pdf": ("/public/consultations.pdf?round_id={round}", PUBLIC),
    "GET /public/consultations/<int:nomination_id>": ("/public/consultations/{consult}", PUBLIC),
    "POST /public/consultations/<int:nomination_id>": ("/public/consultations/{consult}", row(OK, OK)),
    # -- open data (docs/open-data.md): published by law, the same for everyone -------------------------
    "GET /open-data": ("/open-data", PUBLIC),
    "GET /open-data/v1/datapackage.json": ("/open-data/v1/datapackage.json", PUBLIC),
    "GET /open-data/v1/<dataset>.<fmt>": ("/open-data/v1/results.csv", PUBLIC),
    "GET /open-data/v1/rounds/<int:round_number>/<dataset>.<fmt>": (
        "/open-data/v1/rounds/{round_number}/consultations.json", PUBLIC),
    # -- documents --------------------------------------------------------------------------------
    "GET /documents/verify": ("/documents/verify", PUBLIC),
    "POST /documents/verify": ("/documents/verify", row(OK, OK)),
    "POST /documents/rounds/<int:round_id>/export": (
        "/documents/rounds/999999/export", row(L, 403, "mo admin", 404)),
    "GET /documents/tasks/<int:task_id>": ("/documents/tasks/{task}", row(L, 404, "mo admin", 200)),
    "GET /documents/tasks/<int:task_id>.json": ("/documents/tasks/{task}.json", row(L, 404, "mo admin", 200)),
    "GET /documents/tasks/<int:task_id>/download": (
        "/documents/tasks/{task}/download", row(L, 404)),  # not ready yet: 404 to all
    # -- administration ------------------------------------------------------------------------------
    "GET /admin/": ("/admin/", row(L, 403, "po po_x mo admin", 200)),
    "GET /admin/accounts": ("/admin/accounts", row(L, 403, "po po_x admin", 200)),
    "GET /admin/accounts/<int:user_id>": ("/admin/accounts/{member}", row(L, 403, "po admin", 200, "po_x", 404)),
    "POST /admin/accounts/<int:user_id>": ("/admin/accounts/{member}", row(L, 403, "po admin", OK, "po_x", 404)),
    "POST /admin/accounts/<int:user_id>/status": (
        "/admin/accounts/{member}/status", row(L, 403, "po admin", OK, "po_x", 404)),
    "POST /admin/accounts/<int:user_id>/sessions/end": (
        "/admin/accounts/{member}/sessions/end", row(L, 403, "po admin", OK, "po_x", 404)),
    "POST /admin/accounts/<int:user_id>/resend": (
        "/admin/accounts/{member}/resend", row(L, 403, "po admin", OK, "po_x", 404)),
    "GET /admin/accounts/invite": ("/admin/accounts/invite", row(L, 403, "po po_x admin", 200)),
    "POST /admin/accounts/invite": ("/admin/accounts/invite", row(L, 403, "po po_x admin", OK)),
    "GET /admin/accounts/import": ("/admin/accounts/import", row(L, 403, "po po_x admin", 200)),
    "POST /admin/accounts/import": ("/admin/accounts/import", row(L, 403, "po po_x admin", OK)),
    "POST /admin/accounts/import/confirm": ("/admin/accounts/import/confirm", row(L, 403, "po po_x admin", OK)),
    "GET /admin/audit": ("/admin/audit", row(L, 403, "admin", 200)),
    "GET /admin/rounds": ("/admin/rounds", row(L, 403, "mo admin", 200)),
    "GET /admin/rounds/new": ("/admin/rounds/new", row(L, 403, "mo admin", 200)),
    "POST /admin/rounds/new": ("/admin/rounds/new", row(L, 403, "mo admin", OK)),
    "GET /admin/rounds/<int:round_id>": ("/admin/rounds/{round}", row(L, 403, "mo admin", 200)),
    "POST /admin/rounds/<int:round_id>": ("/admin/rounds/{round}", row(L, 403, "mo admin", OK)),
    "GET /admin/councils/new": ("/admin/councils/new", row(L, 403, "po po_x mo admin", 200)),
    # the law's calendar, province mergers, provincial intake (issue 14)
    "GET /admin/holidays": ("/admin/holidays", row(L, 403, "admin", 200)),
    # partner systems (issue 19): the administrator only; a missing partner is 404 to the administrator
    "GET /admin/partners": ("/admin/partners", row(L, 403, "admin", 200)),
    "POST /admin/partners": ("/admin/partners", row(L, 403, "admin", 422)),  # the empty form: refused
    "GET /admin/partners/<int:partner_id>": ("/admin/partners/999999", row(L, 403, "admin", 404)),
    "POST /admin/partners/<int:partner_id>": ("/admin/partners/999999", row(L, 403, "admin", 404)),
    "POST /admin/partners/<int:partner_id>/status": ("/admin/partners/999999/status", row(L, 403, "admin", 404)),
    "POST /admin/partners/<int:partner_id>/key": ("/admin/partners/999999/key", row(L, 403, "admin", 404)),
    "POST /admin/holidays": ("/admin/holidays", row(L, 403, "admin", OK)),
    "GET /admin/transfers": ("/admin/transfers", row(L, 403, "po po_x admin", 200)),
    # a Hà Nội dossier was never merged away: no one's to transfer (404) but the administrator's, refused (303)
    "POST /admin/transfers/<int:nomination_id>": (
        "/admin/transfers/{sub}", row(L, 403, "po po_x", 404, "admin", 303), lambda i: {"reason": "Thử"}),
    "GET /admin/intake": ("/admin/intake", row(L, 403, "po po_x mo admin", 302)),
    # other systems: webhook and partner subscribers, their deliveries and dead letters (issue 19)
    "GET /admin/integration/": ("/admin/integration/", row(L, 403, "admin", 200)),
    "GET /admin/integration/new": ("/admin/integration/new", row(L, 403, "admin", 200)),
    "POST /admin/integration/new": ("/admin/integration/new", row(L, 403, "admin", OK)),
    "GET /admin/integration/<int:subscriber_id>": ("/admin/integration/{hook}", row(L, 403, "admin", 200)),
    "POST /admin/integration/<int:subscriber_id>": ("/admin/integration/{hook}", row(L, 403, "admin", OK)),
    "POST /admin/integration/<int:subscriber_id>/rotate": (
        "/admin/integration/{hook}/rotate", row(L, 403, "admin", 200)),
    "POST /admin/integration/<int:subscriber_id>/status": (
        "/admin/integration/{hook}/status", row(L, 403, "admin", 302), lambda i: {"active": "1"}),
    "GET /admin/integration/deliveries": ("/admin/integration/deliveries", row(L, 403, "admin", 200)),
    "GET /admin/integration/deliveries/<int:delivery_id>": (
        "/admin/integration/deliveries/{delivery}", row(L, 403, "admin", 200)),
    "POST /admin/integration/deliveries/<int:delivery_id>/replay": (
        "/admin/integration/deliveries/{delivery}/replay", row(L, 403, "admin", 302)),
    "POST /admin/integration/deliveries/replay": ("/admin/integration/deliveries/replay", row(L, 403, "admin", 302)),
    "GET /admin/rounds/<int:round_id>/intake": ("/admin/rounds/{round}/intake", row(L, 403, "po po_x mo admin", 200)),
    "POST /admin/rounds/<int:round_id>/intake": (
        "/admin/rounds/{round}/intake", row(L, 403, "po po_x mo admin", OK)),
    "POST /admin/councils/new": ("/admin/councils/new", row(L, 403, "po po_x mo admin", OK)),
    "GET /admin/rules": ("/admin/rules", row(L, 403, "admin", 200)),
    "GET /admin/base-salaries": ("/admin/base-salaries", row(L, 403, "admin", 200)),
    "POST /admin/base-salaries": ("/admin/base-salaries", row(L, 403, "admin", 422)),
    "POST /admin/rules/<ruleset_id>/<criterion_id>/<name>": (
        "/admin/rules/no-such-ruleset/no-criterion/no-name", row(L, 403, "admin", 404)),
    # -- personal data (issue 17): the notice is public; every signed-in person has their own data page,
    # ZIP and requests (no id: only one's own); the data officer's cases: no principal here holds that role
    # (tests/test_personal_data_rights.py plays it), a case is not there (404) for anyone else
    "GET /privacy": ("/privacy", PUBLIC),
    "GET /privacy/consent": ("/privacy/consent", LOGGED_IN),
    "POST /privacy/consent": ("/privacy/consent", row(L, OK)),
    "GET /my-data": ("/my-data", LOGGED_IN),
    "GET /my-data/export.zip": ("/my-data/export.zip", LOGGED_IN),
    "POST /my-data/requests": ("/my-data/requests", row(L, 303),
                               lambda i: {"kind": "correction", "details": "Sai tên"}),
    "POST /my-data/consents": ("/my-data/consents", row(L, 303)),
    "POST /my-data/consents/<purpose>/withdraw": ("/my-data/consents/email_reminders/withdraw", row(L, 404)),
    "GET /data-officer/requests": ("/data-officer/requests", row(L, 403)),
    "GET /data-officer/requests/<int:request_id>": ("/data-officer/requests/1", row(L, 404)),
    "POST /data-officer/requests/<int:request_id>": ("/data-officer/requests/1", row(L, 404)),
    # -- API -----------------------------------------------------------------------------------------------
    "GET /api/v1/openapi.json": ("/api/v1/openapi.json", PUBLIC),
    # partner systems sign their requests (RFC 9421): a bearer token or a login is no way in (401 to all)
    "POST /api/v1/intake/dossiers": ("/api/v1/intake/dossiers", row(L, L)),
    "GET /api/v1/intake/dossiers/<path:external_code>": ("/api/v1/intake/dossiers/G22-1", row(L, L)),
    "POST /api/v1/auth/token": ("/api/v1/auth/token", row(422, 422)),
    "GET /api/v1/me": ("/api/v1/me", LOGGED_IN),
    "POST /api/v1/auth/logout": ("/api/v1/auth/logout", row(L, 204)),  # ends the token used
    "GET /api/v1/me/sessions": ("/api/v1/me/sessions", LOGGED_IN),
    "DELETE /api/v1/me/sessions/<sid>": ("/api/v1/me/sessions/web-99999999", row(L, 404)),
    "GET /api/v1/provinces": ("/api/v1/provinces", PUBLIC),
    "GET /api/v1/rounds": ("/api/v1/rounds", PUBLIC),
    "GET /api/v1/open-data": ("/api/v1/open-data", PUBLIC),
    "POST /api/v1/rounds": ("/api/v1/rounds", row(L, 403, "mo admin", OK)),
    "GET /api/v1/status": ("/api/v1/status?code=X&key=Y", row(404, 404)),
    "POST /api/v1/eligibility/check": ("/api/v1/eligibility/check", row(OK, OK)),  # public
    "GET /api/v1/nominations": ("/api/v1/nominations", row(L, 200, "owner applicant", 403)),
    "POST /api/v1/nominations": ("/api/v1/nominations", row(L, 403, "owner applicant po po_x", OK)),
    "GET /api/v1/nominations/<int:nomination_id>": (
        "/api/v1/nominations/{sub}", row(L, 200, "applicant x staged", 404)),
    "PATCH /api/v1/nominations/<int:nomination_id>": (
        "/api/v1/nominations/{draft}", row(L, 404, "owner", OK)),
    "POST /api/v1/nominations/<int:nomination_id>/actions/<action>": (
        "/api/v1/nominations/{sub}/actions/accept", row(L, 403, "applicant x staged", 404, "po", OK),
        lambda i: {"comment": "Thử"}),
    "POST /api/v1/nominations/<int:nomination_id>/attachments": (
        "/api/v1/nominations/{draft}/attachments", row(L, 404, "owner", OK)),
    # the law's hard cases (issue 14): the officer of the desk records a death or a paper arrival; an
    # Art. 2(3) override is off by configuration (403 to all who see the dossier); only whoever presides an
    # open session of a council with the dossier on its agenda records a special-craft decision
    "POST /api/v1/nominations/<int:nomination_id>/death": (
        "/api/v1/nominations/{sub}/death", row(L, 403, "applicant x staged", 404, "po", OK)),
    "POST /api/v1/nominations/<int:nomination_id>/arrival": (
        "/api/v1/nominations/{sub}/arrival", row(L, 403, "applicant x staged", 404, "po", OK),
        lambda i: {"arrived_on": today().isoformat(), "receipt_book_no": "STN-1"}),
    "POST /api/v1/nominations/<int:nomination_id>/exclusion-override": (
        "/api/v1/nominations/{sub}/exclusion-override", row(L, 403, "applicant x staged", 404),
        lambda i: {"reason": "Lý do đủ dài để ghi lại"}),
    "POST /api/v1/nominations/<int:nomination_id>/special-craft": (
        "/api/v1/nominations/{sub}/special-craft", row(L, 403, "applicant x staged", 404),
        lambda i: {"session_id": i["session"], "is_special": True, "reasons": "Nghề ít người theo học"}),
    # the contract's path (v1.1): the council's secretariat records it (the Sở for a provincial council); the
    # session of the matrix is only planned, so the decision is refused by state (409), past authorization;
    # who may not see the council gets 404, its members and the administrator 403
    "POST /api/v1/councils/<int:council_id>/special_crafts": (
        "/api/v1/councils/{council}/special_crafts", row(L, 403, "po", OK, "x staged", 404),
        lambda i: {"nomination_id": i["acc"], "special": True, "rationale": "Nghề ít người theo học"}),
    # the holiday calendar (anyone reads, the administrator writes), provinces' intake deadlines (staff
    # read; that province's officer or the ministry set), the round's record (the ministry, the administrator)
    # -- national khuyến công schemes (api/schemes.py): a year whose plan is not approved, a submitted scheme
    # of the owner located in Hà Nội
    "GET /api/v1/scheme-years": ("/api/v1/scheme-years", LOGGED_IN),
    "POST /api/v1/scheme-years": ("/api/v1/scheme-years", row(L, 403, "mo", OK)),
    "GET /api/v1/scheme-years/<int:round_id>": ("/api/v1/scheme-years/{scheme_year}", LOGGED_IN),
    "PATCH /api/v1/scheme-years/<int:round_id>": ("/api/v1/scheme-years/{scheme_year}", row(L, 403, "mo", OK)),
    "POST /api/v1/scheme-years/<int:round_id>/schemes": (
        "/api/v1/scheme-years/{scheme_year}/schemes", row(L, 403, "owner applicant", OK)),
    "GET /api/v1/scheme-years/<int:round_id>/appraisal": (
        "/api/v1/scheme-years/{scheme_year}/appraisal", row(L, 403, "mo", 200)),
    "GET /api/v1/scheme-years/<int:round_id>/plan": (  # before its approval: the department's only
        "/api/v1/scheme-years/{scheme_year}/plan", row(L, 404, "mo", 200)),
    "POST /api/v1/scheme-years/<int:round_id>/plan/approval": (
        "/api/v1/scheme-years/{scheme_year}/plan/approval", row(L, 403, "mo", OK)),
    "GET /api/v1/schemes/<int:scheme_id>": ("/api/v1/schemes/{scheme}", row(L, 404, "owner hni mo admin", 200)),
    "PUT /api/v1/schemes/<int:scheme_id>": (
        "/api/v1/schemes/{scheme}", row(L, 404, "owner", OK, "hni mo admin", 403)),
    "POST /api/v1/schemes/<int:scheme_id>/appraisal": ("/api/v1/schemes/{scheme}/appraisal", row(L, 403, "mo", OK)),
    "POST /api/v1/schemes/<int:scheme_id>/records": (
        "/api/v1/schemes/{scheme}/records", row(L, 404, "owner hni mo admin", OK)),
    "GET /api/v1/holidays": ("/api/v1/holidays", PUBLIC),
    "POST /api/v1/holidays": ("/api/v1/holidays", row(L, 403, "admin", OK)),
    "GET /api/v1/rounds/<int:round_id>/provinces/<code>": (
        "/api/v1/rounds/{round}/provinces/HNI", row(L, 200, "owner applicant", 403)),
    "PUT /api/v1/rounds/<int:round_id>/provinces/<code>": (
        "/api/v1/rounds/{round}/provinces/HNI", row(L, 403, "po mo", OK)),
    "GET /api/v1/rounds/<int:round_id>/report": ("/api/v1/rounds/{round}/report", row(L, 403, "mo admin", 200)),
    "GET /api/v1/nominations/<int:nomination_id>/declaration.pdf": (
        "/api/v1/nominations/{sub}/declaration.pdf", row(L, 200, "applicant x staged", 404)),
    "GET /api/v1/nominations/<int:nomination_id>/summary.pdf": (
        "/api/v1/nominations/{sub}/summary.pdf", row(L, 200, "applicant x staged", 404)),
    "GET /api/v1/nominations/<int:nomination_id>/dossier.pdf": (
        "/api/v1/nominations/{sub}/dossier.pdf", row(L, 200, "applicant x staged", 404)),
    "GET /api/v1/nominations/<int:nomination_id>/receipt.pdf": (
        "/api/v1/nominations/{sub}/receipt.pdf", row(L, 200, "applicant x staged", 404)),
    "GET /api/v1/nominations/<int:nomination_id>/notices": (
        "/api/v1/nominations/{sub}/notices", row(L, 200, "applicant x staged", 404)),
    "GET /api/v1/nominations/<int:nomination_id>/notices/<int:notice_id>.pdf": (
        "/api/v1/nominations/{sub}/notices/{sub_notice}.pdf", row(L, 200, "applicant x staged", 404)),
    "POST /api/v1/councils": ("/api/v1/councils", row(L, 403, "po po_x mo admin", OK)),
    "GET /api/v1/councils/<int:council_id>": (
        "/api/v1/councils/{council}", row(L, 404, "owner applicant", 403, "po pcm admin", 200)),
    "POST /api/v1/councils/<int:council_id>/sessions": (
        "/api/v1/councils/{council}/sessions", row(L, 404, "pcm admin", 403, "po", OK), SESSION_BODY),
    "GET /api/v1/sessions/<int:session_id>": ("/api/v1/sessions/{session}", row(L, 404, "po pcm admin", 200)),
    "POST /api/v1/sessions/<int:session_id>/attendance": (
        "/api/v1/sessions/{session}/attendance", row(L, 404, "pcm admin", 403, "po", OK),
        lambda i: {"present": i["member_emails"]}),
    "POST /api/v1/sessions/<int:session_id>/open": (
        "/api/v1/sessions/{session}/open", row(L, 404, "pcm admin", 403, "po", OK)),
    "POST /api/v1/sessions/<int:session_id>/close": (
        "/api/v1/sessions/{session}/close", row(L, 404, "pcm admin", 403, "po", OK)),
    "POST /api/v1/sessions/<int:session_id>/conflicts": (
        "/api/v1/sessions/{session}/conflicts", row(L, 404, "po admin", 403, "pcm", OK),
        lambda i: {"nomination_id": i["acc"], "reason": "Người thân"}),
    "POST /api/v1/sessions/<int:session_id>/ballot": (
        "/api/v1/sessions/{session}/ballot", row(L, 404, "po admin", 403, "pcm", OK), lambda i: {"votes": {}}),
    "GET /api/v1/sessions/<int:session_id>/tally": (
        "/api/v1/sessions/{session}/tally", row(L, 404, "owner applicant", 403, "po pcm admin", 409)),
    "GET /api/v1/sessions/<int:session_id>/submission-letter.pdf": (
        "/api/v1/sessions/{session}/submission-letter.pdf",
        row(L, 404, "owner applicant", 403, "po pcm admin", 409)),  # 409: only once the session is closed
    "GET /api/v1/sessions/<int:session_id>/list.pdf": (
        "/api/v1/sessions/{session}/list.pdf",
        row(L, 404, "owner applicant", 403, "po pcm admin", 409)),  # 409: only once the session is closed
    "GET /api/v1/sessions/<int:session_id>/minutes.pdf": (
        "/api/v1/sessions/{session}/minutes.pdf", row(L, 404, "owner applicant", 403, "po pcm admin", 409)),
    "GET /api/v1/sessions/<int:session_id>/tally.pdf": (
        "/api/v1/sessions/{session}/tally.pdf", row(L, 404, "owner applicant", 403, "po pcm admin", 409)),
    "GET /api/v1/sessions/<int:session_id>/ballot.pdf": (
        "/api/v1/sessions/{session}/ballot.pdf", row(L, 404, "owner applicant", 403, "po pcm admin", 200)),
    "GET /api/v1/privacy/notice": ("/api/v1/privacy/notice", PUBLIC),
    "GET /api/v1/public/consultations": ("/api/v1/public/consultations", PUBLIC),
    "GET /api/v1/public/consultations.pdf": ("/api/v1/public/consultations.pdf?round_id={round}", PUBLIC),
    "POST /api/v1/public/consultations/<int:nomination_id>/comments": (
        "/api/v1/public/consultations/{consult}/comments", row(OK, OK)),
    "POST /api/v1/comments/<int:comment_id>/status": ("/api/v1/comments/{comment}/status", row(L, 403, "mo", OK)),
    # -- typical products (issue 18): scorers' sheets, the close, panels and ranking, certificates, register.
    # No such dossier, round or certificate in this world: 404 once past the guard (services/scoring.py and
    # services/certificates.py decide who may, on the real object: tests/test_typical_products*.py).
    "GET /scoring": ("/scoring", row(L, 403, "councillors", 200)),
    "GET /programme-dossiers/<int:dossier_id>/levels/<level>/sheet": (
        "/programme-dossiers/999999/levels/region/sheet", row(L, 403, "councillors", 404)),
    "POST /programme-dossiers/<int:dossier_id>/levels/<level>/sheet": (
        "/programme-dossiers/999999/levels/region/sheet", row(L, 403, "councillors", 404)),
    "GET /programme-dossiers/<int:dossier_id>/levels/<level>/scoring": (
        "/programme-dossiers/999999/levels/region/scoring", row(L, 403, "staff", 404)),
    "POST /programme-dossiers/<int:dossier_id>/levels/<level>/scoring/close": (
        "/programme-dossiers/999999/levels/region/scoring/close", row(L, 403, "staff", 404)),
    "GET /programme-rounds/<int:round_id>/levels/<level>": (
        "/programme-rounds/999999/levels/region", row(L, 403, "staff", 404)),
    "POST /programme-rounds/<int:round_id>/levels/<level>": (
        "/programme-rounds/999999/levels/region", row(L, 403, "staff", 404)),
    "GET /programme-dossiers/<int:dossier_id>/certificates": (
        "/programme-dossiers/999999/certificates", row(L, 404)),
    "POST /programme-dossiers/<int:dossier_id>/certificates": (
        "/programme-dossiers/999999/certificates", row(L, 404)),
    "POST /certificates/<int:certificate_id>/revoke": ("/certificates/999999/revoke", row(L, 403, "staff", 404)),
    "GET /public/certificates": ("/public/certificates", PUBLIC),
    "GET /public/certificates/<int:certificate_id>.pdf": ("/public/certificates/999999.pdf", row(404, 404)),
    "GET /api/v1/scoring": ("/api/v1/scoring", row(L, 200)),
    "GET /api/v1/programme-dossiers/<int:dossier_id>/levels/<level>/sheet": (
        "/api/v1/programme-dossiers/999999/levels/region/sheet", row(L, 404)),
    "PUT /api/v1/programme-dossiers/<int:dossier_id>/levels/<level>/sheet": (
        "/api/v1/programme-dossiers/999999/levels/region/sheet", row(L, 404)),
    "GET /api/v1/programme-dossiers/<int:dossier_id>/levels/<level>/scoring": (
        "/api/v1/programme-dossiers/999999/levels/region/scoring", row(L, 404)),
    "POST /api/v1/programme-dossiers/<int:dossier_id>/levels/<level>/scoring/close": (
        "/api/v1/programme-dossiers/999999/levels/region/scoring/close", row(L, 404)),
    "POST /api/v1/programme-rounds/<int:round_id>/levels/<level>/scorers": (
        "/api/v1/programme-rounds/999999/levels/region/scorers", row(L, OK)),  # the empty body: 400
    "GET /api/v1/programme-rounds/<int:round_id>/levels/<level>/ranking": (
        "/api/v1/programme-rounds/999999/levels/region/ranking", row(L, 404)),
    "GET /api/v1/programme-dossiers/<int:dossier_id>/certificates": (
        "/api/v1/programme-dossiers/999999/certificates", row(L, 404)),
    "POST /api/v1/programme-dossiers/<int:dossier_id>/certificates": (
        "/api/v1/programme-dossiers/999999/certificates", row(L, 404)),
    "POST /api/v1/certificates/<int:certificate_id>/revoke": (
        "/api/v1/certificates/999999/revoke", row(L, OK)),  # the empty body: 400
    "GET /api/v1/certificates": ("/api/v1/certificates", PUBLIC),
    "GET /api/v1/certificates/<int:certificate_id>.pdf": ("/api/v1/certificates/999999.pdf", row(404, 404)),
}


def route_keys(app) -> set[str]:
    return {f"{method} {rule.rule}" for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def missing_from_matrix(app) -> list[str]:
    return sorted(route_keys(app) - MATRIX.keys())


def test_every_route_is_in_the_matrix(world):
    assert missing_from_matrix(world.app) == [], "routes with no line in MATRIX"
    assert sorted(MATRIX.keys() - route_keys(world.app)) == [], "lines in MATRIX for routes that are gone"


def test_an_unlisted_route_fails_the_check(world):
    app = create_app(dict(world.app.config))
    assert missing_from_matrix(app) == []
    app.add_url_rule("/debug/everything", "debug_everything", lambda: "secret")
    app.add_url_rule("/nominations/<int:nomination_id>", "dossier_delete", lambda nomination_id: "",
                     methods=["DELETE"])
    assert missing_from_matrix(app) == ["DELETE /nominations/<int:nomination_id>", "GET /debug/everything"]


# -- the world ------------------------------------------------------------------------------------------

LEAK_HPG = "Quách Thị Hảiphòngriêng"  # a Hải Phòng nominee: never on a Hà Nội officer's page
LEAK_DRAFT = "Tôn Thất Bảnnháp"  # a draft: only its owner ever sees it


@dataclass
class World:
    app: object
    ids: dict
    users: dict
    page: dict = field(default_factory=dict)  # principal -> logged-in test client
    token: dict = field(default_factory=dict)  # principal -> bearer token
    bodies: dict = field(default_factory=dict)  # (principal, url) -> body of GET answers


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def world(database_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("matrix")
    url, drop = database_factory.new(tmp)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"),
        "MAX_UPLOAD_BYTES": 2 * 1024 * 1024, "DOCUMENTS_CACHE_DIR": str(tmp / "documents"),
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    with app.app_context():
        from artisan_awards.schemas import CouncilIn
        from artisan_awards.services import attachments, councils
        from artisan_awards.services import nominations as service

        make = Factory()
        users = {p: make.user(*ROLE_OF[p]) for p in ROLE_OF}
        draft = make.nomination(State.DRAFT, owner=users["owner"], nominee={"full_name": LEAK_DRAFT})
        draft_att = attachments.add_attachment(
            users["owner"], draft, "photo", FileStorage(stream=_png_stream(), filename="anh.png"))
        sub = make.nomination(State.DRAFT, owner=users["owner"])
        sub_att = attachments.add_attachment(
            users["owner"], sub, "photo", FileStorage(stream=_png_stream(), filename="anh.png"))
        from workflows.states import Action

        service.perform(sub, Action.SUBMIT, users["owner"])
        acc = make.nomination(State.ACCEPTED, owner=users["owner"], officer=users["po"])
        make.nomination(State.SUBMITTED, province="HPG", nominee={"full_name": LEAK_HPG})
        rnd = make.current_round()
        members = [users["pcm"], *(make.user("province_council_member", "HNI") for _ in range(6))]
        council = councils.create_council(users["po"], CouncilIn.model_validate({
            "level": "province", "province_code": "HNI", "round_id": rnd.id, "name": "Hội đồng thử quyền",
            "decision_no": "1/QĐ-UBND", "decision_date": (today() - timedelta(days=3)).isoformat(),
            "members": [{"email": u.email, "position": "chair" if i == 0 else "member"}
                        for i, u in enumerate(members)]}))
        session = councils.create_session(users["po"], council, _session_in(acc.id))
        councils.set_attendance(users["po"], session, [u.email for u in members])
        task = DocumentTask(round_id=rnd.id, requested_by_id=users["mo"].id, status=TaskStatus.QUEUED,
                            message="Đang chờ xử lý")
        db.session.add(task)
        db.session.commit()
        consult, comment = _consultation(make, users)
        from artisan_awards.documents.notices import notices_of
        from tests.outbox_helpers import dead_letter, subscribe

        hook = subscribe(users["admin"], "http://127.0.0.1:9/hook", events=["dossier.state_changed"])
        delivery = dead_letter(hook, sub)
        from artisan_awards.services import programmes as programme_service
        from artisan_awards.services import schemes

        scheme_year = schemes.open_year(users["mo"], {
            "plan_year": 2031, "guidance_number": "1/CTĐP-QLKC", "guidance_date": today().isoformat(),
            "intake_opens": today().isoformat(), "intake_closes": (today() + timedelta(days=30)).isoformat()})
        scheme = schemes.propose(users["owner"], scheme_year, {
            "province_code": "HNI", "title": "Đề án thử quyền", "content_area": scheme_year.content_areas[0],
            "proposer_kind": "Trung tâm khuyến công tỉnh", "proposer_name": "Trung tâm Khuyến công Hà Nội",
            "beneficiaries": "Cơ sở công nghiệp nông thôn"}, [{"item": "Thiết bị", "state_amount": 100}])
        programme_service.perform(scheme, "submit", users["owner"])

        ids = {"draft": draft.id, "draft_att": draft_att.id, "sub": sub.id, "sub_att": sub_att.id,
               "sub_notice": notices_of(sub)[0].id,  # its receipt and appointment slip
               "acc": acc.id, "council": council.id, "session": session.id, "round": rnd.id,
               "round_number": rnd.number,
               "task": task.id, "member": members[1].id,
               "member_emails": [u.email for u in members],
               "member_rows": [str(m.id) for m in council.members], "consult": consult, "comment": comment,
               "hook": hook.id, "delivery": delivery.id, "scheme_year": scheme_year.round_id,
               "scheme": scheme.id}
        w = World(app, ids, {p: (u.id, u.email) for p, u in users.items()})
        db.session.remove()
    # Outside the app context: each request gets its own (and its own ``g`` for Flask-Login).
    for p in ROLE_OF:
        w.page[p] = _logged_in(app, w.users[p][1])
        r = app.test_client().post("/api/v1/auth/token",
                                   json={"email": w.users[p][1], "password": Factory.PASSWORD})
        w.token[p] = r.get_json()["token"]
    yield w
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _png_stream():
    import io

    return io.BytesIO(_png())


def _session_in(nomination_id):
    from artisan_awards.schemas import SessionIn

    return SessionIn.model_validate({"held_on": (today() + timedelta(days=7)).isoformat(),
                                     "nomination_ids": [nomination_id]})


def _consultation(make, users):
    """A dossier in public consultation with one public comment, through the real operations."""
    from flask import current_app

    from tests.conftest import ApiClient
    from tests.test_council_pages import _to_consultation
    from tests.test_councils import Chain

    client = current_app.test_client()
    chain = Chain(ApiClient(client), make)
    chain.officer = users["po"]
    nomination = _to_consultation(chain)
    r = client.post(f"/api/v1/public/consultations/{nomination.id}/comments",
                    json={"full_name": "Bùi Thị Lan", "phone": "0912000111", "address": "Hà Nội",
                          "kind": "comment", "content": "Ý kiến thử quyền."})
    assert r.status_code == 201, r.get_json()
    comment = db.session.scalar(sa.select(PublicComment.id).where(PublicComment.nomination_id == nomination.id))
    return nomination.id, comment


def _logged_in(app, email):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    assert r.status_code == 302 and "/login" not in r.headers["Location"], r.data[:300]
    return client


# -- documents: the layout stood in for where only the answer's status is asserted -------------------------
#
# The matrix asks each route *who* gets an answer, not what the PDF looks like: a PDF route answers 200 to
# each principal who may see it, and the status is all ``test_route_answers`` and the stage sweeps assert
# (``_no_leak`` reads textual answers only).  WeasyPrint's layout of every document for every principal was
# most of this module's CPU, so in those tests ``engine.build_pdf`` still builds the document's data
# (``make_spec``: the dossier, its masking for the requester, its evidence) and renders every part's HTML
# from its template (a broken template or context still answers 500 and fails here), then stands in for
# the layout with a fixed one-page PDF.  The documents themselves, rendered for real, are tested in
# tests/test_documents.py (each kind, its text and masking), tests/test_document_layout.py (pages, fonts,
# margins), tests/test_document_freshness.py (the cache) and tests/test_hostile_pdfs.py; here
# ``test_sensitive_fields_per_role`` and ``test_a_masked_field_is_shown_on_demand_with_a_logged_reason``
# read real PDFs, from the apps' own document cache, which never holds a stand-in.


def _blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


STAND_IN_PDF = _blank_pdf()


@pytest.fixture(scope="module")
def _stood_in_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("stood-in-documents")


@pytest.fixture
def layout_stood_in(monkeypatch, _stood_in_cache):
    """``engine.build_pdf`` renders each part's HTML, then gives ``STAND_IN_PDF``.

    The document cache is a folder of the stand-ins' own (a document asked for again is found there, as
    in the real cache), never the apps' ``DOCUMENTS_CACHE_DIR``: the tests reading real PDFs never get a
    stand-in.  A one-stop notice is stored in the database on its first download (``notices.rendered``):
    it is rendered for real, so that no test of this module is ever given a stand-in from the world."""
    from artisan_awards.documents import engine

    real = engine.build_pdf

    def build_pdf(spec, fetcher=None):
        if any(part.template.startswith("notice_") for part in spec.parts):
            return real(spec, fetcher)
        for part in spec.parts:
            engine.render_html(part.template, part.context)
        return STAND_IN_PDF

    monkeypatch.setattr(engine, "build_pdf", build_pdf)
    monkeypatch.setattr(engine, "cache_dir", lambda: _stood_in_cache)


# -- the matrix ---------------------------------------------------------------------------------------

def _call(world, principal, method, url, data):
    api = url.startswith("/api/")
    if api or principal == "anon":
        client = world.app.test_client()
    else:
        client = world.page[principal]
    headers = {}
    if api and principal != "anon":
        headers["Authorization"] = f"Bearer {world.token[principal]}"
    kwargs = {"headers": headers}
    if method in ("POST", "PATCH"):
        kwargs["json" if api else "data"] = data
    response = client.open(url, method=method, **kwargs)
    if method == "POST" and url in ("/logout", "/login", "/register") and principal != "anon":
        world.page[principal] = _logged_in(world.app, world.users[principal][1])
    if url in ("/api/v1/auth/logout", "/account/sessions/end-others") and principal != "anon":
        r = world.app.test_client().post("/api/v1/auth/token", json={"email": world.users[principal][1],
                                                                      "password": Factory.PASSWORD})
        world.token[principal] = r.get_json()["token"]  # the call ended it: a new one for the next routes
    return response


def _verdict(response, api: bool):
    """The answer in the matrix's vocabulary."""
    status = response.status_code
    if api and status == 401:
        return L
    if not api and status == 302 and "/login" in response.headers.get("Location", ""):
        return L
    return status


def _matches(want, got, method) -> bool:
    if want == OK:
        return got not in (L, 401, 403, 404, 405, 500) and method != "GET"
    return want == got


@pytest.mark.parametrize("key", sorted(MATRIX))
def test_route_answers(world, key, layout_stood_in):
    method, _, _rule = key.partition(" ")
    template, answers, *body = MATRIX[key]
    url = template.format(**world.ids)
    data = body[0](world.ids) if body else {}
    api = url.startswith("/api/")
    got, wrong = {}, {}
    for principal in _order(answers):
        response = _call(world, principal, method, url, data)
        got[principal] = _verdict(response, api)
        if response.status_code >= 500:
            wrong[principal] = f"{response.status_code}: {response.get_data(as_text=True)[:300]}"
        elif not _matches(answers[principal], got[principal], method):
            wrong[principal] = f"want {answers[principal]}, got {got[principal]}"
        if api and response.status_code >= 400:
            assert set(response.get_json()["error"]) >= {"code", "message", "fields"}, (principal, url)
        textual = response.mimetype.startswith(("text/", "application/json"))
        if method == "GET" and response.status_code == 200 and textual:
            _no_leak(principal, url, response.get_data(as_text=True))
    assert not wrong, f"{key} -> {url}\n" + "\n".join(f"    {p}: {m}" for p, m in wrong.items())


def _order(answers):
    """Refusals first, so that a POST that goes through cannot change what a refused principal sees."""
    return sorted(answers, key=lambda p: (answers[p] == OK or answers[p] == 302, PRINCIPALS.index(p)))


def _no_leak(principal, url, body):
    if principal in ("po", "pcm", "owner", "applicant", "anon"):
        assert LEAK_HPG not in body, f"{principal} sees a Hải Phòng dossier at {url}"
    if principal != "owner":
        assert LEAK_DRAFT not in body, f"{principal} sees someone's draft at {url}"



# == no role name outside the policy (issue 16, acceptance 3) ============================================
#
# A role is *named* in two places only: ``workflows/machine.py`` defines the roles (the state machine's
# actors, which the transition table names) and ``artisan_awards/permissions.py`` decides with them.
# Everything else -- views, blueprints, services, the rest of ``workflows/``, templates, scripts --
# asks a predicate of ``permissions``.  The scan reads Python as syntax (so a role name in a comment
# or a docstring sentence is no violation, but any string equal to a role, a quoted role inside a
# string, a role constant taken from ``workflows.machine`` or a ``.has_role(...)`` call is) and
# templates and scripts as text (a quoted role name, or ``has_role``).

REPO = Path(__file__).resolve().parents[1]
ROLE_NAMES = frozenset(machine.ROLES)
ROLE_CONSTANTS = frozenset(
    name for name, value in vars(machine).items() if name.isupper() and isinstance(value, str) and value in ROLE_NAMES
) | {"PROVINCE_SCOPED_ROLES"}
# Where a role may be named, and why.
ROLE_HOMES = {
    "workflows/machine.py": "defines the roles: the state machine's actors",
    "artisan_awards/permissions.py": "the policy: every check of a role",
    # Seed data: gives the demo accounts their roles (names a role to grant it, never to check one).
    "artisan_awards/demo.py": "demo seed data",
}
SCANNED = ("artisan_awards", "workflows", "templates", "scripts", "wsgi.py")
TEXT_SUFFIXES = {".html", ".txt", ".xml", ".j2", ".js", ".sh"}
_QUOTED_ROLE = re.compile(r"""(['"])(%s)\1""" % "|".join(sorted(ROLE_NAMES, key=len, reverse=True)))  # noqa: UP031


def _machine_aliases(tree: ast.AST) -> set[str]:  # (``import workflows.machine as permissions`` too)
    """Names under which a module binds ``workflows.machine`` (``from workflows import machine as wf``)."""
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "workflows":
            aliases |= {a.asname or a.name for a in node.names if a.name == "machine"}
        elif isinstance(node, ast.Import):
            aliases |= {a.asname for a in node.names if a.name == "workflows.machine" and a.asname}
    return aliases


def python_role_violations(source: str, where: str = "<string>") -> list[str]:
    tree = ast.parse(source)
    aliases = _machine_aliases(tree)
    blueprint_names = {
        id(node.args[0]) for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Blueprint"
        and node.args
    }
    found = []
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in blueprint_names:
            if node.value in ROLE_NAMES:
                found.append(f"{line}: role name {node.value!r}")
            elif match := _QUOTED_ROLE.search(node.value):
                found.append(f"{line}: role name {match.group(2)!r} quoted in a string")
        elif isinstance(node, ast.ImportFrom) and node.module in ("workflows.machine", "machine"):
            found += [f"{line}: imports the role {a.name}" for a in node.names if a.name in ROLE_CONSTANTS]
        elif isinstance(node, ast.Attribute) and node.attr in ROLE_CONSTANTS:
            # wf.ADMIN, machine.PROVINCE_OFFICER, whatever the alias; only the policy's own role sets pass
            if ast.unparse(node.value) != "permissions" or node.value.id in aliases:
                found.append(f"{line}: role constant {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "has_role":
            found.append(f"{line}: role check {ast.unparse(node.func)}(...) instead of a permissions predicate")
    return found


def text_role_violations(text: str, where: str = "<string>") -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        found += [f"{where}:{number}: role name {m.group(2)!r}" for m in _QUOTED_ROLE.finditer(line)]
        if "has_role" in line:
            found.append(f"{where}:{number}: has_role in a template; ask a permissions predicate")
    return found


def role_violations(root: Path) -> list[str]:
    """Every place under ``root`` (a checkout) that names a role outside ``ROLE_HOMES``."""
    found = []
    for top in SCANNED:
        base = root / top
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for path in paths:
            where = path.relative_to(root).as_posix()
            if where in ROLE_HOMES or not path.is_file() or "/translations/" in f"/{where}":
                continue
            if path.suffix == ".py":
                found += python_role_violations(path.read_text(encoding="utf-8"), where)
            elif path.suffix in TEXT_SUFFIXES:
                found += text_role_violations(path.read_text(encoding="utf-8", errors="replace"), where)
    return found


def test_no_role_name_outside_permissions():
    assert role_violations(REPO) == []


def test_the_role_scan_catches_a_named_role():
    """Control: the scanner fails on every way of naming a role, and passes the clean forms."""
    bad_python = {
        'if current_user.has_role(wf.ADMIN):\n    pass\n': 2,  # a role check and the constant
        'from workflows.machine import PROVINCE_OFFICER\n': 1,
        'from workflows import machine as m\nallowed = m.MINISTRY_OFFICER\n': 1,
        'import workflows.machine\nx = workflows.machine.GOVERNMENT_OFFICER\n': 1,
        'ROLES = ("state_council_member",)\n': 1,
        'sql = "SELECT * FROM user_roles WHERE role = \'admin\'"\n': 1,
        'if "applicant" in user.roles:\n    pass\n': 1,
    }
    for source, count in bad_python.items():
        assert len(python_role_violations(source)) == count, source
    clean_python = [
        'bp = Blueprint("admin", __name__, url_prefix="/admin")\n',
        'if permissions.can_manage_accounts(user):\n    pass\n',
        'url = url_for("admin.index")  # the admin may open it\n',
        'from workflows.machine import ROLES, HUMAN_ACTIONS\n',
    ]
    for source in clean_python:
        assert python_role_violations(source) == [], source
    assert len(text_role_violations("{% if current_user.has_role('province_officer') %}x{% endif %}")) == 2
    assert len(text_role_violations('{% if role == "ministry_council_member" %}')) == 1
    nav = "{% for endpoint, label in nav_items(current_user) %}{{ url_for('admin.index') }}{% endfor %}"
    assert text_role_violations(nav) == []


def test_a_seeded_violation_in_a_checkout_fails(tmp_path):
    """Control on files: a template and a module with a role name fail the scan; permissions.py may name one."""
    (tmp_path / "templates" / "council").mkdir(parents=True)
    (tmp_path / "artisan_awards" / "council").mkdir(parents=True)
    (tmp_path / "workflows").mkdir()
    assert role_violations(tmp_path) == []
    (tmp_path / "artisan_awards" / "permissions.py").write_text('ADMIN_ONLY = ("admin",)\n', encoding="utf-8")
    (tmp_path / "workflows" / "machine.py").write_text('ADMIN = "admin"\n', encoding="utf-8")
    assert role_violations(tmp_path) == []
    (tmp_path / "templates" / "council" / "x.html").write_text(
        "{% if current_user.has_role('state_council_member') %}<a>…</a>{% endif %}\n", encoding="utf-8")
    (tmp_path / "artisan_awards" / "council" / "routes.py").write_text(
        "from workflows import machine as wf\n\n\ndef f(user):\n    return user.roles & {wf.PROVINCE_OFFICER}\n",
        encoding="utf-8")
    (tmp_path / "workflows" / "rules.py").write_text('OWNER_ROLE = "applicant"\n', encoding="utf-8")
    found = role_violations(tmp_path)
    assert {f.split(":")[0] for f in found} == {
        "templates/council/x.html", "artisan_awards/council/routes.py", "workflows/rules.py"}
    assert len(found) == 4


def test_the_real_tree_would_fail_with_a_role_name(tmp_path):
    """Control on the real checkout: the scan of the real files plus one planted template fails."""
    planted = REPO / "templates" / f"_planted_{tmp_path.name}.html"
    module = REPO / "artisan_awards" / "services" / f"_planted_{tmp_path.name}.py"
    planted.write_text("{% if 'government_officer' in current_user.roles %}x{% endif %}\n", encoding="utf-8")
    module.write_text("from workflows import machine as wf\n\nDESK = wf.MINISTRY_OFFICER\n", encoding="utf-8")
    try:
        assert sorted(role_violations(REPO)) == [
            f"artisan_awards/services/{module.name}:3: role constant wf.MINISTRY_OFFICER",
            f"templates/{planted.name}:1: role name 'government_officer'",
        ]
    finally:
        planted.unlink()
        module.unlink()
    assert len(ROLE_CONSTANTS) == len(ROLE_NAMES) + 1


# == the predicates as tables (no HTTP) ====================================================================
#
# Each principal: its roles and province; each predicate: the principals for which it holds.  Written by
# hand from the guards the pages had before the policy moved into permissions.py.

PEOPLE = {
    "anon": ((), None),
    "applicant": (("applicant",), None),
    "po": (("province_officer",), "HNI"),
    "po_noprov": (("province_officer",), None),  # an officer not yet attached to a province
    "pcm": (("province_council_member",), "HNI"),
    "mo": (("ministry_officer",), None),
    "mcm": (("ministry_council_member",), None),
    "scm": (("state_council_member",), None),
    "go": (("government_officer",), None),
    "admin": (("admin",), None),
    "applicant+po": (("applicant", "province_officer"), "HNI"),
    "dpo": (("data_officer",), None),  # the data protection officer: its desk only, not the dossiers' staff
}
STAFF_PEOPLE = set(PEOPLE) - {"anon", "applicant", "dpo"}
PREDICATE_TABLE = {
    "is_staff": STAFF_PEOPLE,
    "is_administrator": {"admin"},
    "can_answer_data_requests": {"dpo"},  # the data officer only
    "can_override_exclusion": {"admin"},
    "is_applicant": {"applicant", "applicant+po"},
    "can_file": {"applicant", "po", "po_noprov", "applicant+po"},
    "files_for_others": {"po", "po_noprov", "applicant+po"},
    "files_only_in_own_province": {"po", "po_noprov"},
    "can_use_province_inbox": {"po", "po_noprov", "pcm", "applicant+po"},
    "can_act_in_batch": {"po", "applicant+po"},  # an officer without a province has no batch to act on
    "can_list_national": {"mo", "mcm", "scm", "go", "admin"},
    "can_see_dashboard": {"mo", "go", "admin"},
    "can_handle_public_comments": {"mo"},
    "can_manage_rounds": {"mo", "admin"},
    "can_export_archives": {"mo", "admin"},
    "can_create_councils": {"po", "po_noprov", "mo", "admin", "applicant+po"},
    "can_create_national_councils": {"mo", "admin"},
    "can_use_council_agenda": {"po", "po_noprov", "pcm", "mo", "mcm", "scm", "applicant+po"},
    "can_edit_rules": {"admin"},
    "can_read_rules": STAFF_PEOPLE,
    "can_read_audit_log": {"admin"},
    "can_manage_partners": {"admin"},  # partner systems that file dossiers (issue 19)
    "can_manage_base_salaries": {"admin"},
    "can_manage_integration": {"admin"},
    "can_manage_accounts": {"po", "admin", "applicant+po"},
    "can_open_administration": {"po", "po_noprov", "mo", "admin", "applicant+po"},
    "can_edit_holidays": {"admin"},
    "can_use_transfers": {"po", "po_noprov", "admin", "applicant+po"},
    "can_use_intake_page": {"po", "po_noprov", "mo", "admin", "applicant+po"},
    "can_read_round_report": {"mo", "go", "admin"},
    "can_fetch_round_report": {"mo", "admin"},  # the API's report: the contract names these two
    "can_set_intakes_by_api": {"po", "po_noprov", "mo", "applicant+po"},  # then their own province only
    "can_use_privacy_desk": {"dpo"},
    "can_score": {"pcm", "mcm", "scm"},  # the scorer's queue (typical products): a council member of any level
    "can_file_programme_dossier": {"applicant", "applicant+po"},  # another programme's own form (issue 18)
    # national khuyến công schemes: the department, the proposing units' accounts, any signed-in reader
    "can_manage_schemes": {"mo"},
    "can_propose_scheme": {"applicant", "applicant+po"},
    "can_see_scheme_years": set(PEOPLE) - {"anon"},
}


def _person(key):
    roles, province = PEOPLE[key]
    return SimpleNamespace(id=hash(key), roles=set(roles), province_code=province, is_authenticated=bool(roles),
                           has_role=lambda *wanted: bool(set(roles) & set(wanted)))


@pytest.mark.parametrize("predicate", sorted(PREDICATE_TABLE))
def test_predicate_table(predicate):
    check = getattr(permissions, predicate)
    holds = {key for key in PEOPLE if check(_person(key))}
    assert holds == PREDICATE_TABLE[predicate]


def test_every_role_predicate_is_in_the_table():
    """A new one-argument predicate of permissions.py gets its row (or is one of the object predicates)."""
    object_predicates = {"can_view", "can_edit", "can_review_criteria", "can_file_in", "can_see_level",
                         "can_manage", "is_secretariat", "can_see_council", "may_act", "may_grant",
                         "drops_own_administration", "can_create_council", "can_transfer_from",
                         "can_set_intake", "can_record_death", "may_record_death", "can_record_arrival",
                         "can_sit_on_council", "may_act_as", "can_view_programme_dossier",
                         "can_add_programme_evidence", "can_see_scheme", "can_see_scheme_plan"}
    names = {name for name, f in vars(permissions).items()
             if inspect.isfunction(f) and f.__module__ == permissions.__name__
             and (name.startswith(("can_", "is_", "files_", "may_", "drops_")))}
    assert names - object_predicates == set(PREDICATE_TABLE)


@pytest.mark.parametrize(("former", "successor", "who", "allowed"), [
    ("HDG", "HPG", "admin", True), ("HDG", "HPG", "po", False), ("HDG", "HNI", "po", True),
    ("HDG", None, "po", False), ("HDG", "HNI", "applicant+po", True), ("HDG", "HNI", "pcm", False),
    ("HDG", "HNI", "mo", False), ("HDG", "HNI", "anon", False),
])
def test_who_may_transfer_a_merged_provinces_dossier(former, successor, who, allowed):
    assert permissions.can_transfer_from(_person(who), former, successor) is allowed


@pytest.mark.parametrize(("province", "who", "allowed"), [
    ("HNI", "po", True), ("HPG", "po", False), ("HPG", "mo", True), ("HPG", "admin", True),
    ("HNI", "pcm", False), ("HNI", "po_noprov", False), ("HNI", "go", False), ("HNI", "anon", False),
])
def test_who_may_set_a_provinces_intake_deadline(province, who, allowed):
    assert permissions.can_set_intake(_person(who), province) is allowed


@pytest.mark.parametrize(("level", "province", "who", "allowed"), [
    ("province", "HNI", "po", True), ("province", "HPG", "po", False), ("province", "HNI", "admin", True),
    ("province", "HNI", "mo", False), ("ministry", None, "mo", True), ("ministry", None, "po", False),
    ("state", None, "admin", True), ("state", None, "pcm", False), ("state", None, "anon", False),
])
def test_who_may_create_a_council(level, province, who, allowed):
    assert permissions.can_create_council(_person(who), level, province) is allowed


def test_grants_and_self_demotion():
    po, admin = _person("po"), _person("admin")
    assert permissions.grantable_roles(admin) == list(machine.ROLES)
    assert set(permissions.grantable_roles(po)) == permissions.GRANTABLE_BY_PROVINCE
    assert permissions.grantable_roles(_person("mo")) == []
    assert permissions.may_grant(po, {"province_council_member"}) and not permissions.may_grant(po, {"admin"})
    assert permissions.drops_own_administration(admin, admin, {"ministry_officer"})
    assert not permissions.drops_own_administration(admin, admin, {"admin", "ministry_officer"})
    assert not permissions.drops_own_administration(admin, _person("mo"), {"applicant"})


# == the menu: an entry shows exactly when its page lets the person in ======================================


# "My dossiers" lists one's own dossiers: open to any account (a national officer owns none), in the
# menu only for those who file; the councils one can see (each filtered by can_see_council), in the menu
# only for those who work on a council agenda.
# The rounds' plan is public; in the menu for staff.
OPEN_TO_EVERY_ACCOUNT = {"applicant.index", "council.councils", "rounds.index", "schemes.index"}

# The administrator's "rule set" entry is the editable page; the read-only one stays open to them.
SHOWN_INSTEAD = {"rules.read_only": "rules.admin"}


@pytest.mark.parametrize("key", sorted(set(PEOPLE) - {"anon", "po_noprov"}))
def test_menu_matches_the_guards(client, auth, key):
    roles, province = PEOPLE[key]
    user = auth.login_as(list(roles), province)
    shown = {endpoint for endpoint, _label in permissions.nav_items(user)}
    with client.application.test_request_context():
        from flask import url_for

        urls = {endpoint: url_for(endpoint) for endpoint, _label, _allowed in permissions.NAV}
    page = client.get("/account/sessions")  # any logged-in page shows the menu
    for endpoint, url in urls.items():
        status = client.get(url).status_code
        if endpoint in shown:
            assert status == 200, (key, endpoint, status)
        elif endpoint not in OPEN_TO_EVERY_ACCOUNT and SHOWN_INSTEAD.get(endpoint) not in shown:
            assert status == 403, (key, endpoint, status)
        assert page.status_code == 200
        assert (f'href="{url}"' in page.get_data(as_text=True)) == (endpoint in shown), (key, endpoint)


# == role × own/other province × action, by API and by page ===========================================
#
# Role × own/other province × action, by API and by page, for every transition built so far.
#
# The expected answers are written out here by hand, not derived from the code under test:
# 404 when the dossier is not visible to the caller, 403 when it is visible but the role
# may not take the action, 200 (API) / 302 (page) when the action goes through.

ACTION_ROLES = [
    "applicant",  # not the owner
    "province_officer",
    "province_council_member",
    "ministry_officer",
    "ministry_council_member",
    "state_council_member",
    "government_officer",
    "admin",
]
PROVINCE_ROLES = {"province_officer", "province_council_member"}
# National roles that see a dossier only once it reached the ministry (or later): every dossier here is
# still at the province, so for them it is not there (tests/test_route_matrix.py plays every stage).
LATER_STAGE_ROLES = {"ministry_officer", "ministry_council_member", "state_council_member", "government_officer"}

# (action, state the dossier must be in, who may take it)
ACTIONS = [
    ("submit", State.DRAFT, "owner"),
    ("accept", State.SUBMITTED, "province_officer"),
    ("return", State.SUBMITTED, "province_officer"),
    ("resubmit", State.RETURNED, "owner"),
    ("close_incomplete", State.RETURNED, "province_officer"),
    ("withdraw", State.SUBMITTED, "owner"),
]


def expected(role: str, scope: str, action_state: State, allowed: str) -> int:
    """Hand-written rules of visibility and authority."""
    if role == "owner":
        return 200 if allowed == "owner" else 403
    if action_state == State.DRAFT:
        return 404  # nobody but the owner sees a draft
    visible = role not in ("applicant", *LATER_STAGE_ROLES) and (role not in PROVINCE_ROLES or scope == "own")
    if not visible:
        return 404
    return 200 if role == allowed else 403


CASES = [
    (role, scope, action, state, allowed)
    for action, state, allowed in ACTIONS
    for role in [*ACTION_ROLES, "owner"]
    for scope in (["own", "other"] if role in PROVINCE_ROLES else ["own"])
]


def _actor(make, role, scope, nomination):
    if role == "owner":
        return nomination.owner
    province = "HNI" if scope == "own" else "HPG"
    return make.user(role, province if role in PROVINCE_ROLES else None)


@pytest.mark.parametrize("role,scope,action,state,allowed", CASES,
                         ids=[f"{c[2]}-{c[0]}-{c[1]}" for c in CASES])
def test_api_action_matrix(api, make, role, scope, action, state, allowed):
    nomination = make.nomination(state, province="HNI")
    if action == "close_incomplete":  # only once the applicant's completion period is over (issue 14)
        expire_completion(nomination)
    actor = _actor(make, role, scope, nomination)
    before = nomination.state
    r = api.post(f"/api/v1/nominations/{nomination.id}/actions/{action}", actor,
                 json={"comment": "Thử quyền"})
    assert r.status_code == expected(role, scope, state, allowed), r.get_json()
    if r.status_code != 200:
        assert set(r.get_json()["error"]) >= {"code", "message"}
        from artisan_awards.extensions import db

        db.session.refresh(nomination)
        assert nomination.state == before


@pytest.mark.parametrize("role,scope,action,state,allowed", CASES,
                         ids=[f"{c[2]}-{c[0]}-{c[1]}" for c in CASES])
def test_page_action_matrix(client, auth, make, role, scope, action, state, allowed):
    nomination = make.nomination(state, province="HNI")
    if action == "close_incomplete":  # only once the applicant's completion period is over (issue 14)
        expire_completion(nomination)
    actor = _actor(make, role, scope, nomination)
    auth.login(actor.email)
    # the filer ticks the commitment (the review step's box); the other actions ignore it
    r = client.post(f"/nominations/{nomination.id}/actions/{action}", data={"comment": "Thử quyền", "commitment": "y"})
    want = expected(role, scope, state, allowed)
    if want == 200 and confirm.needs_confirmation(action):
        # allowed and irreversible: the page asks first (and only then), and nothing has changed yet
        assert is_question(r), r.status_code
        db.session.refresh(nomination)
        assert nomination.state == state
        r = client.post(f"/nominations/{nomination.id}/actions/{action}", data=answer_fields(r))
    else:
        assert not is_question(r)
    assert r.status_code == (302 if want == 200 else want)
    if want == 200:
        db.session.refresh(nomination)
        assert nomination.state != state


@pytest.mark.parametrize("role", ACTION_ROLES)
def test_other_province_dossier_is_not_there(api, client, auth, make, role):
    """An officer of province A gets 404 for province B's dossier, by page and by API.

    National roles other than the administrator do not see a dossier still at the province either.
    """
    nomination = make.nomination(State.SUBMITTED, province="HPG")
    user = make.user(role, "HNI" if role in PROVINCE_ROLES else None)
    api_status = api.get(f"/api/v1/nominations/{nomination.id}", user).status_code
    auth.login(user.email)
    page_status = client.get(f"/nominations/{nomination.id}").status_code
    if role in PROVINCE_ROLES or role in LATER_STAGE_ROLES or role == "applicant":
        assert api_status == page_status == 404
    else:
        assert api_status == page_status == 200


def test_other_province_missing_and_unknown_id_look_the_same(api, make):
    nomination = make.nomination(State.SUBMITTED, province="HPG")
    officer = make.user("province_officer", "HNI")
    other = api.get(f"/api/v1/nominations/{nomination.id}", officer)
    missing = api.get("/api/v1/nominations/999999", officer)
    assert other.status_code == missing.status_code == 404
    assert other.get_json() == missing.get_json()


@pytest.mark.parametrize("path", ["/province/inbox", "/ministry/nominations", "/council/agenda",
                                  "/my/", "/my/new"])
def test_pages_need_login(client, path):
    r = client.get(path)
    assert r.status_code == 302
    assert "/login" in r.headers["Location"]


@pytest.mark.parametrize("path,role,status", [
    ("/province/inbox", "applicant", 403),
    ("/province/inbox", "ministry_officer", 403),
    ("/province/inbox", "province_officer", 200),
    ("/ministry/nominations", "province_officer", 403),
    ("/ministry/nominations", "ministry_officer", 200),
    ("/ministry/nominations", "government_officer", 200),
    ("/council/agenda", "applicant", 403),
    ("/council/agenda", "province_council_member", 200),
    ("/council/agenda", "state_council_member", 200),
    ("/my/new", "ministry_officer", 403),
    ("/my/new", "applicant", 200),
])
def test_pages_by_role(client, auth, path, role, status):
    auth.login_as(role)
    assert client.get(path).status_code == status


def test_inbox_lists_only_own_province(client, auth, make):
    mine = make.nomination(State.SUBMITTED, province="HNI", nominee={"full_name": "Lê Thị Hà Nội"})
    theirs = make.nomination(State.SUBMITTED, province="HPG", nominee={"full_name": "Vũ Văn Hải Phòng"})
    auth.login_as("province_officer", "HNI")
    html = client.get("/province/inbox").get_data(as_text=True)
    assert mine.full_name in html
    assert theirs.full_name not in html


# == the administration pages × role ===================================================================

ADMIN_PAGES = [
    ("get", "/admin/"),
    ("get", "/admin/accounts"),
    ("get", "/admin/accounts/invite"),
    ("get", "/admin/accounts/import"),
    ("get", "/admin/rounds"),
    ("get", "/admin/rounds/new"),
    ("get", "/admin/rounds/{round}"),
    ("get", "/admin/councils/new"),
    ("get", "/admin/base-salaries"),
    ("get", "/admin/audit"),
    ("get", "/admin/audit?format=csv"),
    ("get", "/admin/accounts/{user}"),
    ("post", "/admin/accounts/{user}/status"),
    ("post", "/admin/accounts/{user}/resend"),
    ("post", "/admin/accounts/import/confirm"),
    ("get", "/admin/holidays"),
    ("get", "/admin/transfers"),
    ("get", "/admin/intake"),
    ("get", "/admin/rounds/{round}/intake"),
]
ADMIN_ALLOWED = {
    "admin": {p for _, p in ADMIN_PAGES},
    "ministry_officer": {"/admin/", "/admin/rounds", "/admin/rounds/new", "/admin/rounds/{round}",
                         "/admin/councils/new", "/admin/intake", "/admin/rounds/{round}/intake"},
    "province_officer": {"/admin/", "/admin/accounts", "/admin/accounts/invite", "/admin/accounts/import",
                         "/admin/councils/new", "/admin/accounts/{user}", "/admin/accounts/{user}/status",
                         "/admin/accounts/{user}/resend", "/admin/accounts/import/confirm",
                         "/admin/transfers", "/admin/intake", "/admin/rounds/{round}/intake"},
}


@pytest.mark.parametrize("role", ["applicant", "province_council_member", "ministry_council_member",
                                  "state_council_member", "government_officer", "ministry_officer",
                                  "province_officer", "admin"])
def test_admin_pages_by_role(client, auth, make, role):
    target = make.user("province_council_member", "HNI")  # in the Hà Nội officer's scope
    intake = make.round()
    auth.login_as(role, "HNI" if role.startswith("province") else None)
    allowed = ADMIN_ALLOWED.get(role, set())
    for method, path in ADMIN_PAGES:
        url = path.format(user=target.id, round=intake.id)
        r = getattr(client, method)(url, data={"payload": "[]", "active": "1"} if method == "post" else None)
        if path in allowed:  # (400: the import confirmation refuses a payload that is not its signed preview)
            assert r.status_code in (200, 302, 400, 422), (role, url, r.status_code)
        else:
            assert r.status_code in (403, 404), (role, url, r.status_code)


def test_admin_pages_need_login(client):
    for _method, path in ADMIN_PAGES:
        if "{" in path or _method == "post":
            continue
        r = client.get(path)
        assert r.status_code == 302 and "/login" in r.headers["Location"], path


# == scope by stage: every route × every national role × every stage ===================================
#
# Scope by stage: every route × every national role × every stage a dossier can be in.
#
# A national role sees a dossier only once it has reached the role's stage, and from then on whatever
# happens to it (rejected, withdrawn, held, awarded); before that the dossier is not there (404, exactly
# like a missing one).  Councils, sessions, tallies and session documents follow the same table: a
# council level is visible to a national role only if every dossier on such a council's agenda has
# reached that role's stage (so no national role sees a provincial council; the government officer sees
# no council at all).
#
# The expected answers below are written out by hand (``REACHED``, ``ROLE_FROM``, ``SESSION_SEEN``),
# not read from ``permissions.STAGE_FROM``, and ``test_the_old_everything_non_draft_rule_fails`` puts the
# old rule ("every non-draft dossier, every council") back in place and checks that these very checks
# then fail.
#
# The routes come from ``app.url_map``: a route with an id in its path either has a way to fill it
# here or is listed in ``NOT_STAGED`` with the reason, else ``test_every_id_route_is_covered`` fails; a
# new route cannot escape.  Every GET page without a dossier id (lists, exports, dashboards, timelines,
# search, the API lists) is scanned for the names of the dossiers and councils a role must not see.
# The world is built once per module through the real operations.

STAGE_ROLES = {
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
    "/open-data/v1/": "public by law: the open-data files, the same for everyone (docs/open-data.md)",
    "/api/v1/public/consultations/<int:nomination_id>/comments": "public by law: comments on the consultation",
    "/documents/tasks/<int:task_id>": "a document job: its requester and the exporting roles",
    "/admin/accounts/<int:user_id>": "accounts, not dossiers",
    "/admin/rules/<ruleset_id>": "award rules, not dossiers",
    "/api/v1/comments/<int:comment_id>/status": "public comments: the ministry officer's consultation work",
    "/reset/<token>": "tokens", "/confirm/<token>": "tokens", "/invitation/<token>": "tokens",
    "/lang/<code>": "the language switch", "/static/<path:filename>": "static files",
    "/account/sessions/": "one's own login sessions and tokens, not dossiers",
    "/notifications/": "one's own in-app notifications (their owner only: anyone else gets 404)",
    "/api/v1/me/sessions/": "one's own login sessions and tokens, not dossiers",
    "/admin/transfers/": "moving a merged province's dossiers: the administrator and provincial secretariats only",
    "/data-officer/requests/": "the people's personal data requests: the data officer only, not dossiers",
    "/my-data/consents/": "one's own consents, by purpose",
    "/data-officer/": "the data officer's breach record, not dossiers",
    "/admin/integration/": "webhook and partner subscribers and their deliveries: the administrator only",
    "/admin/partners/": "partner systems: the administrator only, not dossiers",
    "/api/v1/intake/dossiers/": "a partner's own dossiers by its code, signed requests only (tests/test_intake.py)",
    "/api/v1/rounds/<int:round_id>/provinces/": "a province's intake deadline in a round, not dossiers",
    # another programme: who sees a scheme is permissions.can_see_scheme (the department from its submission,
    # the province of its location, its owner), played in MATRIX and tests/test_schemes.py
    "/schemes/": "national khuyến công schemes: their own visibility, not the artisan titles' stages",
    "/api/v1/schemes/": "national khuyến công schemes: their own visibility, not the artisan titles' stages",
    "/api/v1/scheme-years/": "a scheme year, its appraisal list and plan: the department's, and the approved plan",
    # another programme's dossiers: who sees one at which stage comes from its definition
    # (permissions.can_view_programme_dossier); tests/test_programme_web.py plays it with the test programme
    "/programmes/": "another programme's dossiers (tests/test_programme_web.py plays its stages)",
    "/programme-dossiers/": "another programme's dossiers (tests/test_programme_web.py plays its stages)",
    "/api/v1/programmes/": "another programme's dossiers (tests/test_programme_web.py plays its stages)",
    "/api/v1/programme-dossiers/": "another programme's dossiers (tests/test_programme_web.py plays its stages)",
    "/programme-rounds/": "a level's panels and ranking: its secretariat only (tests/test_typical_products.py)",
    "/api/v1/programme-rounds/": "a level's panels and ranking: as /programme-rounds/",
    "/certificates/": "a typical product's certificate: revoked by its level's secretariat only",
    "/api/v1/certificates/": "typical products' certificates: public by design (the register), revoked by "
                             "the level's secretariat only",
    "/public/certificates/": "public by design: a certificate's PDF, as the register shows it",
}
ID_ARGS = {"nomination_id", "attachment_id", "session_id", "council_id", "notice_id"}
# Published by law for everyone (the provincial councils' results, the public consultations): the same
# for a national role as for an anonymous reader, so not scanned for stage leaks.
PUBLISHED = ("/public/", "/api/v1/public/")


@dataclass
class StageWorld:
    app: object
    ids: dict  # dossier key -> id
    attachments: dict  # dossier key -> attachment id
    sessions: dict  # session key -> id
    councils: dict  # session key -> council id
    agenda: dict  # session key -> a dossier id on its agenda
    round_id: int
    clients: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    notices: dict = field(default_factory=dict)  # dossier key -> the id of one of its one-stop notices


def _stage_png():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 90, 200)).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


@pytest.fixture(scope="module")
def staged(database_factory, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stage")
    url, drop = database_factory.new(tmp)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "UPLOAD_DIR": str(tmp / "uploads"),
        "DOCUMENTS_CACHE_DIR": str(tmp / "documents"),  # not the checkout's instance folder
        "PASSWORD_HASH_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
    })
    with app.app_context():
        w = _build(app)
        db.session.remove()
    for p in STAGE_ROLES:
        w.clients[p] = _stage_logged_in(app, f"stage.{p}@example.vn")
        r = app.test_client().post("/api/v1/auth/token",
                                   json={"email": f"stage.{p}@example.vn", "password": Factory.PASSWORD})
        w.tokens[p] = r.get_json()["token"]
    yield w
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop()


def _build(app) -> StageWorld:
    from artisan_awards.schemas import CouncilIn, SessionIn
    from artisan_awards.services import accounts, attachments, councils
    from artisan_awards.services import nominations as service

    make = Factory()
    users = {p: accounts.create_user(f"stage.{p}@example.vn", Factory.PASSWORD, f"Người {p} Đặng", (role,), None)
             for p, role in STAGE_ROLES.items()}
    officer = make.user("province_officer", "HNI")
    owner = make.user("applicant")
    rnd = make.current_round()
    rnd.consultation_days = 0  # a rehearsal round: each consultation may close at once
    db.session.commit()
    ids, atts, n = {}, {}, {}
    for key, (name, _state, _reached) in DOSSIERS.items():
        row = make.nomination(State.DRAFT, owner=owner, nominee={"full_name": name})
        atts[key] = attachments.add_attachment(owner, row, "photo",
                                               FileStorage(stream=_stage_png(), filename="a.png")).id
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
    for k in ["closed"]:
        expire_completion(n[k])  # the applicant's completion period is over (issue 14)
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
    from artisan_awards.documents.notices import notices_of

    world = StageWorld(app, ids, atts, sessions, council_ids, agenda, rnd.id)
    world.notices = {key: notices_of(n[key])[-1].id for key in DOSSIERS}  # each was received: a receipt at least
    return world


def _stage_logged_in(app, email):
    client = app.test_client()
    r = client.post("/login", data={"email": email, "password": Factory.PASSWORD})
    assert r.status_code == 302 and "/login" not in r.headers["Location"], r.data[:300]
    return client


def _stage_call(staged, principal, method, url, data=None):
    api = url.startswith("/api/")
    client = staged.app.test_client() if api else staged.clients[principal]
    kwargs = {"headers": {"Authorization": f"Bearer {staged.tokens[principal]}"} if api else {}}
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


def _expand_rule(rule, fixed: dict) -> list[str]:
    """The URLs of ``rule`` with ``fixed`` arguments and every choice of the others."""
    urls = [rule.rule]
    for name in rule.arguments:
        values = [fixed[name]] if name in fixed else _choices(rule, name)
        if values is None:
            return []
        urls = [re.sub(r"<[^>]*\b" + name + ">", str(v), u) for u in urls for v in values]
    return urls


def dossier_urls(staged, method, rule, key) -> list[str]:
    args = set(rule.arguments)
    if "nomination_id" not in args or args & {"session_id", "council_id"} or _not_staged(rule):
        return []
    return _expand_rule(rule, {"nomination_id": staged.ids[key], "attachment_id": staged.attachments[key],
                               "notice_id": staged.notices.get(key)})


def session_urls(staged, method, rule, key) -> list[str]:
    args = set(rule.arguments)
    if not args & {"session_id", "council_id"}:
        return []
    return _expand_rule(rule, {"session_id": staged.sessions[key], "council_id": staged.councils[key],
                          "nomination_id": staged.agenda[key]})


def test_every_id_route_is_covered(staged):
    """A route with an id is played here for every stage, or listed in NOT_STAGED with its reason."""
    uncovered = []
    for method, rule in _rules(staged.app):
        if not rule.arguments or _not_staged(rule):
            continue
        if rule.arguments & ID_ARGS:
            if not (dossier_urls(staged, method, rule, "ministry") or session_urls(staged, method, rule, "ministry")):
                uncovered.append(f"{method} {rule.rule}")
        elif not _expand_rule(rule, {"round_id": staged.round_id}):
            uncovered.append(f"{method} {rule.rule}")
    assert uncovered == []
    used = {prefix for prefix in NOT_STAGED if any(r.rule.startswith(prefix) for _m, r in _rules(staged.app))}
    assert used == set(NOT_STAGED), "NOT_STAGED lines for routes that are gone"


def test_a_new_id_route_cannot_escape(staged):
    app = create_app(dict(staged.app.config))
    app.add_url_rule("/secret/<int:widget_id>", "secret_widget", lambda widget_id: "")
    with app.app_context():
        fake = StageWorld(app, staged.ids, staged.attachments, staged.sessions, staged.councils, staged.agenda,
                     staged.round_id)
        with pytest.raises(AssertionError):
            test_every_id_route_is_covered(fake)


# -- every dossier route × role × stage --------------------------------------------------------------------

def _seen(principal, key) -> bool:
    return REACHED[key] >= ROLE_FROM[principal]


def _dossier_answers(staged, principals=STAGE_ROLES, keys=DOSSIERS):
    """(what went wrong) for every route × role × dossier: 404 before the stage, an answer from it on.

    ``principals`` and ``keys`` narrow the sweep (the control below needs only the pairs it asserts on;
    each pair's lines are the same as in the full sweep)."""
    wrong = []
    for method, rule in _rules(staged.app):
        for key in keys:
            for url in dossier_urls(staged, method, rule, key):
                for principal in principals:
                    r = _stage_call(staged, principal, method, url, {"comment": "Thử"})
                    if r.status_code >= 500:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}")
                    elif _seen(principal, key) and r.status_code in (401, 404):
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should see it")
                    elif not _seen(principal, key) and r.status_code != 404:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should be 404")
    return wrong


def test_dossier_routes_by_stage(staged, layout_stood_in):
    assert _dossier_answers(staged) == []


def test_owner_only_routes_never_open_to_national_roles(staged, layout_stood_in):
    for method, rule in _rules(staged.app):
        if not rule.rule.startswith("/my/<int:nomination_id>/"):
            continue
        for key in ("submitted", "awarded"):
            for url in _expand_rule(rule, {"nomination_id": staged.ids[key], "attachment_id": staged.attachments[key]}):
                for principal in STAGE_ROLES:
                    assert _stage_call(staged, principal, method, url).status_code in (403, 404), (principal, url)


# -- councils, sessions, tallies, session documents ---------------------------------------------------------

def _session_answers(staged, principals=STAGE_ROLES):
    """(what went wrong) for every session route × role × council (``principals`` narrows it, as above)."""
    wrong = []
    for method, rule in _rules(staged.app):
        for key, (_name, level) in COUNCILS.items():
            for url in session_urls(staged, method, rule, key):
                for principal in principals:
                    r = _stage_call(staged, principal, method, url, {})
                    seen = principal in SESSION_SEEN[level]
                    if r.status_code >= 500:
                        wrong.append(f"{principal} {method} {url}: {r.status_code}")
                    elif seen and r.status_code in (401, 404):
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should see it")
                    elif not seen and r.status_code != 404:
                        wrong.append(f"{principal} {method} {url} ({key}): {r.status_code}, should be 404")
    return wrong


def test_session_and_council_routes_by_level(staged, layout_stood_in):
    assert _session_answers(staged) == []


# -- lists, exports, dashboards, timelines, search, API lists: no name of a dossier not yet seen -----------------

def _text(response) -> str:
    body = response.get_data()
    if body[:2] == b"PK":  # an XLSX or a ZIP: every member's text
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            return "".join(z.read(name).decode("utf-8", "replace") for name in z.namelist())
    return body.decode("utf-8", "replace")


def _list_urls(staged):
    for method, rule in _rules(staged.app):
        if method != "GET" or rule.arguments & ID_ARGS or _not_staged(rule) or rule.rule.startswith(PUBLISHED):
            continue
        yield from _expand_rule(rule, {"round_id": staged.round_id})
    yield f"/ministry/dashboard?round_id={staged.round_id}"
    for name, _state, _reached in DOSSIERS.values():  # search, by page and by API
        yield f"/ministry/nominations?q={name.split()[-1]}"
        yield f"/api/v1/nominations?q={name.split()[-1]}"
    yield "/api/v1/nominations?per_page=100"


def _leaks(staged, principals=STAGE_ROLES):
    leaks, shown = [], {p: set() for p in principals}
    for url in _list_urls(staged):
        for principal in principals:
            r = _stage_call(staged, principal, "GET", url)
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


def test_lists_exports_dashboards_and_search_show_nothing_before_the_stage(staged):
    leaks, shown = _leaks(staged)
    assert leaks == []
    # and the lists are not simply empty: each role finds every dossier from its stage on
    for principal in STAGE_ROLES:
        assert shown[principal] == {k for k in DOSSIERS if _seen(principal, k)}, principal


def test_round_export_holds_only_what_the_requester_sees(staged):
    from artisan_awards.documents import jobs
    from artisan_awards.models import Round, User

    with staged.app.app_context():
        rnd = db.session.get(Round, staged.round_id)
        for principal in ("mo", "admin"):
            user = db.session.scalar(sa.select(User).where(User.email == f"stage.{principal}@example.vn"))
            plan = jobs._plan(rnd, user)
            dossiers = {ident for _path, (kind, ident, _w) in plan if kind == "nomination"}
            sessions = {ident for _path, (kind, ident, _w) in plan if kind == "session"}
            assert dossiers == {staged.ids[k] for k in DOSSIERS if _seen(principal, k)}, principal
            assert sessions == {staged.sessions[k] for k, (_n, level) in COUNCILS.items()
                                if principal in SESSION_SEEN[level]}, principal


def _dashboard_totals(staged) -> dict[str, int]:
    from artisan_awards.ministry import dashboard
    from artisan_awards.models import Round, User

    totals = {}
    with staged.app.app_context():
        rnd = db.session.get(Round, staged.round_id)
        for principal in STAGE_ROLES:
            user = db.session.scalar(sa.select(User).where(User.email == f"stage.{principal}@example.vn"))
            totals[principal] = sum(dashboard.build(rnd, user)["totals"].values())
    return totals


def test_dashboard_counts_only_what_the_role_sees(staged):
    """The figures by stage and province add up to the dossiers the role may open, not one more."""
    assert _dashboard_totals(staged) == {p: sum(_seen(p, k) for k in DOSSIERS) for p in STAGE_ROLES}


def test_stage_reached_is_kept_by_the_moves(staged):
    with staged.app.app_context():
        got = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
    assert {k: got[staged.ids[k]] for k in DOSSIERS} == REACHED


# -- the control: the old rule must fail these checks ---------------------------------------------------------

def test_the_old_everything_non_draft_rule_fails(staged, monkeypatch, layout_stood_in):
    """With the stage table set back to "every national role sees every non-draft dossier and every
    council", the same checks find dossiers and sessions shown before their stage."""
    from workflows.machine import Stage

    monkeypatch.setattr(permissions, "STAGE_FROM", dict.fromkeys(permissions.STAGE_FROM, Stage.NONE))
    # only the pairs asserted on: the full sweep (every role × dossier × route) is the test above
    wrong = _dossier_answers(staged, principals=("go", "mo"), keys=("submitted", "withdrawn_province"))
    assert any(w.startswith("go ") and "(submitted)" in w and "should be 404" in w for w in wrong), wrong[:5]
    assert any(w.startswith("mo ") and "(withdrawn_province)" in w for w in wrong)
    # the government officer sees no council at all: under the old rule every one is shown to it
    sessions_wrong = _session_answers(staged, principals=("go",))
    for key in COUNCILS:
        assert any(w.startswith("go ") and f"({key})" in w and "should be 404" in w for w in sessions_wrong), key
    leaks, _shown = _leaks(staged, principals=("scm",))
    assert any(leak.startswith("scm sees province_rejected") for leak in leaks), leaks[:5]
    assert _dashboard_totals(staged)["go"] == len(DOSSIERS)  # every dossier counted, not the 2 it may see


def test_migration_0015_fills_stage_reached_from_the_log(staged):
    """Down to the revision before 0015 and up again: the column comes back filled from each dossier's log and
    state, the counters' triggers survive (SQLite), and the answers above still hold.  Runs last in this module."""
    from flask_migrate import downgrade, upgrade

    with staged.app.app_context():
        before = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
        triggers = _triggers()
        db.session.remove()
        downgrade(revision="0015-1")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("nominations")}
        assert "stage_reached" not in columns
        upgrade(revision="0015")
        after = dict(db.session.execute(sa.select(Nomination.id, Nomination.stage_reached)).all())
        db.session.remove()  # its read lock would hold the next ALTER TABLE waiting forever (PostgreSQL)
        upgrade()  # the later migrations' own triggers (append-only records, 0019) come back with them
        assert _triggers() == triggers
        db.session.remove()
    assert after == before and {k: after[staged.ids[k]] for k in DOSSIERS} == REACHED


def _triggers() -> set[str]:
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(db.session.scalars(sa.text(sql)))


# -- sensitive fields per role (issue 17, acceptance 2; permissions.FIELD_ACCESS) ------------------------
# Which sensitive classes each page, API answer, export and PDF reveals in clear, per principal, written
# by hand.  The dossier is ``sub`` (Hà Nội, submitted; tests.factories.BASE_NOMINATION's values); a class
# not listed is masked ("0912 *** 678", "••/••/1960", "•••").  Roles that do not see the dossier get 404
# (the matrix above).  The commenters' contacts: the ministry officer's comments page and export.
NOMINEE = {  # class -> (in clear on pages/PDFs, in clear in the API, masked)
    "phone": ("0912345678", "0912345678", "0912 *** 678"),
    "address": ("Xóm 3, xã Bát Tràng", "Xóm 3, xã Bát Tràng", "•••"),
    "birth_date": ("01/05/1960", "1960-05-01", "••/••/1960"),
}
SURFACES = {
    "page": "/nominations/{sub}",
    "api": "/api/v1/nominations/{sub}",
    "pdf": "/nominations/{sub}/declaration.pdf",
    "api pdf": "/api/v1/nominations/{sub}/declaration.pdf",
}
FIELDS_SHOWN = {  # principal -> classes in clear on every surface above
    "owner": {"phone", "address", "birth_date"},
    "po": {"birth_date"},  # phone and address on demand, with a reason
    "pcm": set(),  # the year of birth only
    "admin": set(),
}


def _shown_text(response) -> str:
    if response.mimetype == "application/pdf":
        from pypdf import PdfReader

        return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    if response.is_json:
        import json

        return json.dumps(response.get_json(), ensure_ascii=False)
    return response.get_data(as_text=True)


@pytest.mark.parametrize("principal", sorted(FIELDS_SHOWN))
def test_sensitive_fields_per_role(world, principal):
    for surface, template in SURFACES.items():
        response = _call(world, principal, "GET", template.format(**world.ids), None)
        assert response.status_code == 200, (surface, principal)
        text = _shown_text(response)
        for cls, (clear, clear_api, masked) in NOMINEE.items():
            shown = clear_api if surface == "api" else clear
            if cls in FIELDS_SHOWN[principal]:
                assert shown in text and masked not in text, (surface, principal, cls)
            else:
                assert shown not in text and masked in text, (surface, principal, cls)


LIST_SURFACES = {"list": "/province/inbox", "csv": "/province/inbox/export.csv",
                 "xlsx": "/province/inbox/export.xlsx"}


def _list_text(response) -> str:
    if response.mimetype.endswith("spreadsheetml.sheet"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.data), read_only=True)
        return " ".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                        for v in row if v is not None)
    return response.get_data(as_text=True)


def test_lists_and_exports_reveal_only_the_year_of_birth(world):
    """The lists-and-exports column of the matrix: the province's secretariat, who may reveal the nominee's phone
    and address on the dossier's page, finds in its list and its CSV and Excel exports the dossier with its year of
    birth only, neither in clear nor masked (an export is no place to reveal from)."""
    for surface, url in LIST_SURFACES.items():
        response = _call(world, "po", "GET", url, None)
        assert response.status_code == 200, surface
        text = _list_text(response)
        assert "Nguyễn Văn Ánh" in text, surface  # the dossier ``sub`` is there
        for cls, (clear, clear_api, _masked) in NOMINEE.items():
            assert clear not in text and clear_api not in text, (surface, cls)
        assert "Xóm 3" not in text, surface
        if surface != "list":
            assert "1960" in text, surface


def test_a_masked_field_is_shown_on_demand_with_a_logged_reason(world):
    from artisan_awards.models import AuditEvent

    url = "/nominations/{sub}".format(**world.ids)
    po = world.page["po"]
    po.post("/lang/vi", data={"next": url})  # the module's world is shared: another test may have left English
    assert "0912345678" not in po.get(url).get_data(as_text=True)
    r = po.post(url + "/reveal", data={"cls": "phone", "reason": "ngắn"})  # too short a reason: refused
    assert r.status_code == 302
    assert "0912345678" not in po.get(url).get_data(as_text=True)
    page = po.get(url).get_data(as_text=True)
    assert 'name="reason"' in page and "Hiện" in page  # the small form asking why
    r = po.post(url + "/reveal", data={"cls": "phone", "reason": "Gọi điện xác minh bản khai với nghệ nhân"})
    assert r.status_code == 302
    assert "0912345678" in po.get(url).get_data(as_text=True)
    assert "0912345678" in _shown_text(po.get(url + "/declaration.pdf"))
    assert "Xóm 3, xã Bát Tràng" not in po.get(url).get_data(as_text=True)  # only the class asked for
    with world.app.app_context():
        event = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind == "personal_data_revealed")
                                   .order_by(AuditEvent.id.desc())).first()
        assert event.target_id == world.ids["sub"] and event.actor_id == world.users["po"][0]
        assert event.details == {"field_class": "phone", "reason": "Gọi điện xác minh bản khai với nghệ nhân"}
    # a council member may not reveal it, with any reason
    r = world.page["pcm"].post(url + "/reveal", data={"cls": "phone", "reason": "Muốn xem số điện thoại"})
    assert r.status_code == 403


def test_commenters_contacts_are_masked_until_revealed(world):
    mo = world.page["mo"]
    page = mo.get("/ministry/comments").get_data(as_text=True)
    export = mo.get("/ministry/comments/export.csv").get_data(as_text=True)
    for text in (page, export):
        assert "0912000111" not in text and "Bùi Thị Lan" not in text and "0912 *** 111" in text
    r = mo.post("/ministry/comments/reveal", data={"reason": "Xác minh khiếu nại với người gửi"})
    assert r.status_code == 302
    for text in (mo.get("/ministry/comments").get_data(as_text=True),
                 mo.get("/ministry/comments/export.csv").get_data(as_text=True)):
        assert "0912000111" in text and "Bùi Thị Lan" in text
