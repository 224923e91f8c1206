"""API: the documents as PDFs (Mẫu 01-10, receipts, the national consultation list).

One explicit path per document, so that the contract (and openapi.json) names each of them.
"""

from __future__ import annotations

from flask import g, request

from .. import permissions
from ..documents import service
from ..permissions import guard
from . import bp


def _archival() -> bool:
    return request.args.get("archival") in ("1", "true")


def _nomination_view(kind: str):
    def view(nomination_id: int):
        return service.nomination_document(g.api_user, nomination_id, kind, archival=_archival()).response()

    view.__doc__ = f"The dossier's {kind} as PDF."
    return guard()(view)


def _session_view(kind: str):
    def view(session_id: int):
        return service.session_document(g.api_user, session_id, kind).response()

    view.__doc__ = f"The council session's {kind} as PDF."
    return guard(permissions.is_staff)(view)


# dossier.pdf: declaration (Mẫu 01/02) + summary (09/10) + evidence list + evidence.
for _kind in ("dossier", "declaration", "summary", "receipt"):
    bp.add_url_rule(f"/nominations/<int:nomination_id>/{_kind}.pdf", f"nomination_{_kind}_pdf",
                    _nomination_view(_kind), methods=["GET"])

# minutes = Mẫu 05, tally = 06, ballot = 07/08 (blank), list = 04, submission-letter = 03.
for _kind in ("minutes", "tally", "ballot", "list", "submission-letter"):
    bp.add_url_rule(f"/sessions/<int:session_id>/{_kind}.pdf", f"session_{_kind.replace('-', '_')}_pdf",
                    _session_view(_kind), methods=["GET"])


@bp.get("/public/consultations.pdf")
def consultation_pdf():
    """The national list open to public comment in a round (``round_id``, ``window`` public|final)."""
    round_id = request.args.get("round_id", "")
    rid = int(round_id) if round_id.isascii() and round_id.isdigit() and len(round_id) < 10 else None
    return service.consultation_list(rid, request.args.get("window", "public")).response()


# The one-stop notices sent to the applicant (documents/notices.py): the list, then each PDF as issued.
@bp.get("/nominations/<int:nomination_id>/notices")
@guard()
def nomination_notices(nomination_id: int):
    """The dossier's one-stop notices: receipt, request to complete, refusal, apology."""
    from flask import jsonify, url_for

    from ..documents import notices
    from ..services import queries

    n = queries.get_visible(g.api_user, nomination_id)
    return jsonify({"items": [
        {"id": x.id, "kind": x.kind, "name": x.data.get("name"), "number": x.data.get("number"),
         "issued_at": x.issued_at.isoformat(), "due_on": x.due_on.isoformat() if x.due_on else None,
         "missing": x.data.get("missing", []), "signed": x.signed, "sha256": x.sha256,
         "pdf": url_for("api.nomination_notice_pdf", nomination_id=n.id, notice_id=x.id)}
        for x in notices.notices_of(n)]})


@bp.get("/nominations/<int:nomination_id>/notices/<int:notice_id>.pdf")
@guard()
def nomination_notice_pdf(nomination_id: int, notice_id: int):
    """One notice's PDF, as it was issued and mailed."""
    from ..documents import notices

    return notices.download(g.api_user, nomination_id, notice_id).response()
