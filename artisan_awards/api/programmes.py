"""The API of every programme other than the artisan titles, from its definition alone (issue 18).

Paths (docs/programmes.md "API"; stable: the typical-products and schemes programmes build on them):

- ``GET  /programmes``                                    the programmes, their versions, titles and levels
- ``GET  /programmes/{programme_id}``                     the version in effect (``?on=YYYY-MM-DD``) and its definition
- ``POST /programmes/{programme_id}/dossiers``            file a draft in a round of it (``ProgrammeDossierIn``)
- ``GET  /programme-dossiers``                            the dossiers the caller may see (filters, pages)
- ``GET  /programme-dossiers/{dossier_id}``               one dossier: state, fields, stage, history, what the
  caller may do
- ``POST /programme-dossiers/{dossier_id}/actions/{action}``   one of the definition's actions (``ProgrammeActionIn``)
- ``POST /programme-dossiers/{dossier_id}/decision``      a level's decision by its officer (``ProgrammeDecisionIn``)
- ``POST /programme-dossiers/{dossier_id}/evidence``      evidence of one of the definition's kinds (multipart)

Same bearer tokens, error envelope and codes as the rest of /api/v1; a dossier the caller may not see is 404.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from flask import g, jsonify, request, url_for
from flask_babel import gettext
from pydantic import Field, StringConstraints

from workflows.states import N_

from .. import permissions
from ..errors import NotFound, ValidationFailed
from ..models import ReadAction
from ..permissions import guard
from ..schemas import DbId, LongText, _In
from ..services import data_rights
from ..services import programme_dossiers as dossiers
from ..services import programmes as service
from ..services.cleaning import removal_notice
from . import bp, json_body, page_args

Ident = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class ProgrammeDossierIn(_In):
    """A new dossier of a programme with its own fields (the definition's ``dossier.fields``)."""

    round_id: DbId
    province_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)]
    fields: dict[str, Any] = Field(default_factory=dict, description="field id → value, as the definition types it")


class ProgrammeActionIn(_In):
    comment: LongText | None = None


class ProgrammeDecisionIn(_In):
    """A level's decision: ``inputs`` are the level's (ballot: members, present, yes; rubric: scores, one sheet
    per scorer, criterion id → points; appraisal: amount)."""

    level: Ident
    inputs: dict[str, Any] = Field(default_factory=dict)
    comment: LongText | None = None


def _on() -> date | None:
    raw = request.args.get("on")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(fields={"on": N_("Ngày không hợp lệ (định dạng YYYY-MM-DD).")}) from None


@bp.get("/programmes")
def programmes_index():
    """The programmes other than the artisan titles (which /nominations serves): each with the version in
    effect today, its versions, title and levels."""
    return jsonify([dossiers.programme_out(dossiers.programme_or_404(pid), gettext)
                    for pid in dossiers.programme_ids()])


@bp.get("/programmes/<programme_id>")
def programme_detail(programme_id: str):
    """One programme: the version in effect (today, or ``?on=``) and its definition: fields, levels, states,
    actions, events and moves."""
    programme = dossiers.programme_or_404(programme_id, _on())
    return jsonify(dossiers.programme_out(programme, gettext, full=True))


def _one(nomination, programme) -> dict:
    return dossiers.dossier_out(g.api_user, nomination, programme, gettext)


@bp.post("/programmes/<programme_id>/dossiers")
@guard(permissions.can_file_programme_dossier)
def programme_file(programme_id: str):
    """File a draft in a round of the programme; its fields are checked against the round's version (422 with
    the field errors)."""
    dossiers.programme_or_404(programme_id)
    data = ProgrammeDossierIn.model_validate(json_body())
    from ..extensions import db
    from ..models import Round

    round_ = db.session.get(Round, data.round_id)
    if round_ is None or round_.programme_id != programme_id:
        raise NotFound(N_("Không tìm thấy đợt xét tặng."), code="round_not_found")
    nomination = service.create_dossier(g.api_user, round_.id, data.province_code, data.fields)
    programme = service.programme_of(nomination)
    response = jsonify(_one(nomination, programme))
    response.headers["Location"] = url_for("api.programme_dossier", dossier_id=nomination.id)
    return response, 201


@bp.get("/programme-dossiers")
@guard()
def programme_dossiers_list():
    """The other programmes' dossiers the caller may see (their own drafts included), filtered by
    ``programme_id``, ``round_id``, ``state`` and ``province_code``; paginated like /nominations."""

    page, per_page = page_args()
    round_id = request.args.get("round_id")
    if round_id is not None and not (round_id.isascii() and round_id.isdigit() and len(round_id) <= 10):
        raise ValidationFailed(fields={"round_id": N_("Cần một số nguyên.")})
    rows = dossiers.visible(g.api_user, programme_id=request.args.get("programme_id") or None,
                            round_id=int(round_id) if round_id else None, state=request.args.get("state") or None,
                            province_code=request.args.get("province_code") or None)
    items = rows[(page - 1) * per_page: page * per_page]
    return jsonify({"items": [_one(n, p) for n, p in items], "total": len(rows), "page": page})


@bp.get("/programme-dossiers/<int:dossier_id>")
@guard()
def programme_dossier(dossier_id: int):
    """One dossier of another programme, as the caller may see it (someone else's reading is logged)."""
    nomination, programme = dossiers.get_visible(g.api_user, dossier_id)
    data_rights.log_read(g.api_user, ReadAction.DOSSIER, nomination=nomination)
    return jsonify(_one(nomination, programme))


@bp.post("/programme-dossiers/<int:dossier_id>/actions/<action>")
@guard()
def programme_action(dossier_id: int, action: str):
    """Take one of the definition's actions (its actor only: the filer, or the role in scope)."""
    nomination, programme = dossiers.get_visible(g.api_user, dossier_id)
    body = ProgrammeActionIn.model_validate(json_body(required=False))
    service.perform(nomination, action, g.api_user, comment=body.comment)
    out = _one(nomination, programme)
    key = nomination.__dict__.pop("new_access_key", None)
    if key:  # the first submission: the access key of the public status lookup, given once
        out["access_key"] = key
    return jsonify(out)


@bp.post("/programme-dossiers/<int:dossier_id>/decision")
@guard()
def programme_decision(dossier_id: int):
    """Record a level's decision (by the level's officer): the inputs are checked, the outcome moves the dossier
    and both are kept in its history."""
    nomination, programme = dossiers.get_visible(g.api_user, dossier_id)
    body = ProgrammeDecisionIn.model_validate(json_body())
    service.decide(nomination, body.level, body.inputs, g.api_user, comment=body.comment)
    return jsonify(_one(nomination, programme))


@bp.post("/programme-dossiers/<int:dossier_id>/evidence")
@guard()
def programme_evidence(dossier_id: int):
    """Attach evidence (multipart: ``file`` and ``kind``, one of the definition's evidence kinds)."""
    nomination, programme = dossiers.get_visible(g.api_user, dossier_id)
    row = dossiers.add_evidence(g.api_user, nomination, programme, request.form.get("kind", ""),
                                request.files.get("file"))
    return jsonify({"id": row.id, "kind": str(row.kind), "name": row.original_name,
                    "content_type": row.content_type, "size": row.size, "sha256": row.sha256,
                    "removed": row.removed, "notice": removal_notice(row.removed, gettext)}), 201
