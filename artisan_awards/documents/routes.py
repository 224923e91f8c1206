"""Page downloads of the documents (the same service as the API, so the same 404 and 409 rules)."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user, login_required

from .. import storage
from ..models import ReadAction
from ..services import data_rights, queries
from . import bp, service


def _archival() -> bool:
    return request.args.get("archival") in ("1", "true")


@bp.route("/nominations/<int:nomination_id>/<any(declaration, summary, dossier, receipt):kind>.pdf")
@login_required
def nomination_pdf(nomination_id: int, kind: str):
    """A dossier's document: declaration (Mẫu 01/02), summary (Mẫu 09/10), whole dossier, receipt."""
    key = None
    if kind == "receipt":  # the access key is in the owner's session only right after submission
        key = session.get("access_keys", {}).get(str(nomination_id))
    # a dossier's PDF carries its personal data: someone else's download is logged (docs/personal-data.md)
    data_rights.log_read(current_user, ReadAction.EXPORT, nomination=queries.get_visible(current_user, nomination_id),
                         target=f"{kind}.pdf")
    return service.nomination_document(current_user, nomination_id, kind,
                                       archival=_archival(), access_key=key).response()


@bp.route("/nominations/<int:nomination_id>/notices/<int:notice_id>.pdf")
@login_required
def notice_pdf(nomination_id: int, notice_id: int):
    """A one-stop notice of the dossier, as issued (receipt, request to complete, refusal, apology)."""
    from . import notices

    return notices.download(current_user, nomination_id, notice_id).response()


@bp.route("/council/sessions/<int:session_id>/"
          "<any('submission-letter', list, minutes, tally, ballot):kind>.pdf")
@login_required
def session_pdf(session_id: int, kind: str):
    """A council session's document: Mẫu 03, 04, 05, 06 (after the close) or the blank ballot 07/08."""
    return service.session_document(current_user, session_id, kind).response()


@bp.route("/public/consultations.pdf")
def consultation_pdf():
    """The national list of nominees open to public comment in a round (public)."""
    round_id = request.args.get("round_id", "")
    rid = int(round_id) if round_id.isascii() and round_id.isdigit() and len(round_id) < 10 else None
    return service.consultation_list(rid, request.args.get("window", "public")).response()


@bp.route("/documents/verify", methods=["GET", "POST"])
def verify():
    """Check a signed PDF: intact or altered, and who signed it."""
    from flask import flash, render_template
    from flask_babel import gettext as _

    from ..forms import ActionForm
    from . import signing

    form = ActionForm()
    result, name = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if not form.validate_on_submit():
            flash(_("Phiên làm việc đã hết hạn. Vui lòng tải lại trang và thử lại."), "error")
        elif upload is None or not upload.filename:
            flash(_("Cần chọn tệp PDF để kiểm tra."), "error")
        else:
            name = upload.filename[:200]
            result = signing.verify(upload.stream.read())
    return render_template("documents/verify.html", form=form, result=result, name=name)


# -- a round's documents in the background ------------------------------------------------------


@bp.record_once
def _document_helpers(state):
    """Template globals, not a context processor: the same functions for every page (issue 16: a
    context processor is called for every render, the public status page's too)."""
    from . import jobs, notices

    state.app.jinja_env.globals.update(round_document_tasks=jobs.recent_tasks, can_export_documents=jobs.can_export,
                                       one_stop_notices=notices.notices_of, notice_label=notices.label)


@bp.route("/documents/rounds/<int:round_id>/export", methods=["POST"])
@login_required
def export_round(round_id: int):
    """Start making every document of a round (a background job); then watch its progress."""
    from flask import abort, redirect, url_for

    from ..forms import ActionForm
    from . import jobs

    if not ActionForm().validate_on_submit():
        abort(400)
    task = jobs.start_round_export(current_user, round_id, request.form.get("scope", jobs.DEFAULT_SCOPE))
    return redirect(url_for("documents.task", task_id=task.id))


@bp.route("/documents/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    """A background job's progress; the page refreshes itself until the job is finished."""
    from flask import render_template

    from . import jobs

    return render_template("documents/task.html", task=jobs.get_task(current_user, task_id))


@bp.route("/documents/tasks/<int:task_id>.json")
@login_required
def task_json(task_id: int):
    """The same progress as JSON (for a script or a progress bar)."""
    from flask import jsonify, url_for

    from . import jobs

    t = jobs.get_task(current_user, task_id)
    return jsonify({"id": t.id, "status": t.status, "done": t.done, "total": t.total, "percent": t.percent,
                    "message": t.message,
                    "download": url_for("documents.task_download", task_id=t.id) if t.result_name else None})


@bp.route("/documents/tasks/<int:task_id>/download")
@login_required
def task_download(task_id: int):
    """The ZIP of a finished job."""
    from flask import abort, send_file

    from . import jobs

    t = jobs.get_task(current_user, task_id)
    if not t.result_name:
        abort(404)
    try:
        body = storage.sendable(t.result_name)
    except storage.StorageError:
        current_app.logger.error("export %s: %s is missing from the file storage", t.id, t.result_name)
        abort(404)
    response = send_file(body, mimetype="application/zip", as_attachment=True, download_name=t.download_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
