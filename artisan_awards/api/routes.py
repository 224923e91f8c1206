from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from workflows import machine as wf
from workflows.states import N_

from .. import field_view, permissions
from ..errors import NotFound, ValidationFailed
from ..extensions import db, limiter
from ..models import MAX_DB_INT, Nomination, Province, ReadAction
from ..permissions import guard
from ..schemas import ActionIn, NominationIn, RoundIn, TokenIn
from ..serializers import _d, _dt, merge_changes, nomination_in, nomination_out, round_out
from ..services import accounts, data_rights, eligibility, hard_cases, law, programme_dossiers, queries, sessions
from ..services import attachments as attachment_service
from ..services import nominations as service
from ..services import rounds as round_service
from ..services.cleaning import removal_notice
from ..text import vi_order
from ..timeutil import today
from . import bp, error, json_body, page_args, renamed_fields
from .hard_cases import record_death_from_request
from .openapi import RECORD_DEATH, TRANSFER, build_spec

# -- identity ---------------------------------------------------------------


@bp.post("/auth/token")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"])
def token():
    """Exchange e-mail and password for a bearer token."""
    data = TokenIn.model_validate(json_body())
    user = accounts.authenticate(data.email, data.password)
    if user is None:
        return error(401, "invalid_credentials", N_("Thư điện tử hoặc mật khẩu không đúng."))
    plain, row = accounts.issue_token(user)  # 403 email_not_confirmed before the e-mail is confirmed
    return jsonify({"token": plain, "expires_at": _dt(row.expires_at)})


@bp.post("/auth/logout")
@guard()
def logout():
    """End the token used for this request (it answers 401 afterwards)."""
    accounts.end_token(g.api_token)
    return "", 204


def _session_out(kind: str, row, current: bool) -> dict:
    return {"id": f"{kind}-{row.id}", "kind": kind, "created_at": _dt(row.created_at),
            "last_seen_at": _dt(row.last_seen_at) if row.last_seen_at else None,
            "device": row.user_agent, "client_address": row.client_address, "current": current}


@bp.get("/me/sessions")
@guard()
def my_sessions():
    """The caller's live login sessions (kind "web") and API tokens (kind "api")."""
    user = g.api_user
    rows = [_session_out("web", r, False) for r in sessions.active_sessions(user)]
    rows += [_session_out("api", t, t.id == g.api_token.id) for t in sessions.active_tokens(user)]
    return jsonify(rows)


@bp.delete("/me/sessions/<sid>")
@guard()
def end_my_session(sid: str):
    """End one of the caller's sessions or tokens (its id from GET /me/sessions)."""
    kind, _, number = sid.partition("-")
    if not (number.isascii() and number.isdigit() and len(number) < 10) or \
            not sessions.end_one(g.api_user, g.api_user, kind, int(number)):
        raise NotFound()
    return "", 204


@bp.get("/me")
@guard()
def me():
    """Who the token belongs to."""
    user = g.api_user
    return jsonify(
        {
            "email": user.email,
            "full_name": user.full_name,
            "roles": sorted(user.roles),
            "province_code": user.province_code,
        }
    )


# -- reference data ---------------------------------------------------------


@bp.get("/provinces")
def provinces():
    """The 34 provincial-level units in force; ?all=1 (the contract's spelling; ?include_inactive=1 is
    kept for older clients) adds the former units, each with its successor and the day it merged."""
    stmt = sa.select(Province).order_by(vi_order(Province.name))
    if not any(request.args.get(name) in ("1", "true") for name in ("all", "include_inactive")):
        stmt = stmt.where(Province.active.is_(True))
    return jsonify(
        [
            {"code": p.code, "name": p.name, "full_name": p.full_name, "active": p.active,
             "successor_code": p.successor_code, "merged_on": _d(p.merged_on)}
            for p in db.session.scalars(stmt)
        ]
    )


@bp.get("/rounds")
def rounds():
    """Rounds with their plan: the artisan titles' (the contract's rounds), or those of the programme
    ``?programme_id=`` names (a scheme year, a product-selection round; 422 for an unknown programme)."""
    on = today()
    rows = round_service.programme_rounds(round_service.checked_programme_id(request.args.get("programme_id")))
    return jsonify([round_out(r, on) for r in rows])


@bp.post("/rounds")
@guard(permissions.can_manage_rounds)
def create_round():
    """Create a round and its plan."""
    data = RoundIn.model_validate(json_body())
    row = round_service.create_round(g.api_user, data)
    return jsonify(round_out(row, today())), 201


# -- nominations ------------------------------------------------------------


@bp.post("/nominations")
@guard(permissions.can_file)
def create_nomination():
    """Start a dossier (state ``draft``)."""
    data = NominationIn.model_validate(json_body())
    row = service.create_nomination(g.api_user, data)
    response = jsonify(_one(row))
    response.headers["Location"] = url_for("api.get_nomination", nomination_id=row.id)
    return response, 201


@bp.get("/nominations")
@guard(permissions.is_staff)
def list_nominations():
    """Dossiers visible to the caller, filtered and paginated."""
    page, per_page = page_args()
    round_id = request.args.get("round_id")
    if round_id is not None and not (round_id.isascii() and round_id.isdigit()
                                     and len(round_id) <= 10 and int(round_id) <= MAX_DB_INT):
        raise ValidationFailed(fields={"round_id": N_("Cần một số nguyên.")})
    filters = queries.Filters(
        state=request.args.get("state") or None,
        province_code=request.args.get("province_code") or None,
        round_id=int(round_id) if round_id else None,
        title=request.args.get("title") or None,
        q=(request.args.get("q") or "")[:100] or None,
    )
    completion = request.args.get("completion")
    if completion is not None and completion not in ("waiting", "expired"):
        raise ValidationFailed(fields={"completion": N_("Chỉ nhận waiting hoặc expired.")})
    filters.completion = completion
    stmt = queries.visible_query(g.api_user, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(
        stmt.order_by(Nomination.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = [field_view.mask_nomination_out(nomination_out(r), g.api_user, r) for r in rows]
    return jsonify({"items": items, "total": total, "page": page})


def _one(row: Nomination) -> dict:
    """NominationOut of one dossier: with its history and its eligibility, computed here once."""
    data = nomination_out(row, queries.history(row), eligibility.api_of(row), hard_cases.api_view(row))
    return field_view.mask_nomination_out(data, g.api_user, row)  # sensitive fields as the caller may see them


def _visible(nomination_id: int) -> Nomination:
    return queries.get_visible(g.api_user, nomination_id)


@bp.get("/nominations/<int:nomination_id>")
@guard()
def get_nomination(nomination_id: int):
    """One dossier with its history (someone else's reading is logged, docs/personal-data.md)."""
    row = _visible(nomination_id)
    data_rights.log_read(g.api_user, ReadAction.DOSSIER, nomination=row)
    return jsonify(_one(row))


@bp.patch("/nominations/<int:nomination_id>")
@guard()
def patch_nomination(nomination_id: int):
    """Change a dossier in ``draft`` or ``returned`` (owner only)."""
    row = _visible(nomination_id)
    changes = json_body()
    merged = merge_changes(nomination_in(row), changes)
    data = NominationIn.model_validate(merged)
    service.update_nomination(g.api_user, row, data)
    return jsonify(_one(row))


@bp.post("/nominations/<int:nomination_id>/attachments")
@guard()
def upload_attachment(nomination_id: int):
    """Attach evidence (multipart: ``file`` and ``kind``)."""
    row = _visible(nomination_id)
    attachment = attachment_service.add_attachment(
        g.api_user, row, request.form.get("kind", ""), request.files.get("file")
    )
    return (
        jsonify(
            {
                "id": attachment.id,
                "kind": attachment.kind,
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "sha256": attachment.sha256,
                # What the rewrite took out of the file (services/cleaning.py), and saying so.
                "removed": attachment.removed,
                "notice": removal_notice(attachment.removed, _),
            }
        ),
        201,
    )


@bp.post("/nominations/<int:nomination_id>/actions/<action>")
@guard()
def nomination_action(nomination_id: int, action: str):
    """Take an action: submit, accept, return, resubmit, withdraw, ..."""
    if action == TRANSFER:
        return _transfer(nomination_id)
    if action == RECORD_DEATH:  # the contract's name for POST /nominations/{id}/death
        return record_death_from_request(nomination_id)
    row = _visible(nomination_id)
    if action not in set(wf.HUMAN_ACTIONS):
        raise NotFound(N_("Không có thao tác này."), code="unknown_action")
    body = ActionIn.model_validate(json_body(required=False))
    key = service.perform(
        row, action, g.api_user, comment=body.comment, decision_no=body.decision_no,
        decision_date=body.decision_date, missing=body.missing, award_title=body.title,
    )
    out = _one(row)
    if key:
        out["access_key"] = key
    return jsonify(out)


def _transfer(nomination_id: int):
    """The contract's ``transfer`` action (v1.1): a merged province's dossier to its successor, by whoever the
    transfers page lets do it (services/law.transfer: the administrator or the successor's secretariat; others
    and dossiers they may not move: 404). Body ``{"province_code", "comment"}``, both required."""
    row = law.get_transferable(g.api_user, nomination_id)
    body = ActionIn.model_validate(json_body(required=False))
    missing = {name: N_("Trường này là bắt buộc.") for name, value in
               (("province_code", body.province_code), ("comment", body.comment)) if not value}
    if missing:
        raise ValidationFailed(fields=missing)
    try:
        law.transfer(row, g.api_user, body.comment, to=body.province_code)
    except ValidationFailed as exc:
        raise renamed_fields(exc, {"reason": "comment"}) from None
    return jsonify(_one(row))


# -- public -----------------------------------------------------------------


# (language, state) -> (citizen's label, next step), translated once per language and state.
_STATUS_TEXT: dict[tuple[str, str], tuple[str, str]] = {}


def _status_text(state: str) -> tuple[str, str]:
    """The lookup's two texts without a catalogue lookup per request (the public's hot path)."""
    from .. import select_locale
    from ..i18n import next_step, state_label

    key = (select_locale(), state)  # the very choice Flask-Babel makes for this request
    text = _STATUS_TEXT.get(key)
    if text is None:
        text = _STATUS_TEXT[key] = (state_label(state, "citizen"), next_step(state))
    return text


@bp.get("/status")
@limiter.shared_limit(lambda: current_app.config["STATUS_LOOKUP_LIMIT"], scope="status-lookup")
def status():
    """A dossier's public status, by code and access key (the same 404 for either wrong)."""
    row = queries.lookup_status(request.args.get("code", ""), request.args.get("key", ""))
    texts = programme_dossiers.public_texts(row.programme_id, row.programme_version, _)
    label, next_step = _status_text(row.state) if texts is None else (texts[0](row.state), texts[1](row.state))
    return jsonify(
        {
            "code": row.code,
            "state": row.state,
            "state_label": label,
            "updated_at": _dt(row.state_changed_at),
            "next_step": next_step,
        }
    )


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (docs/integration.md)."""
    return jsonify(build_spec())
