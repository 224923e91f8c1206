"""The catalogue of documents: what each PDF is made of and who may download it.

Pages, the API and the background jobs call ``nomination_document``, ``session_document`` and
``consultation_list``; each checks visibility with the same service functions as the rest of the
application (a dossier or session one may not see is a 404), builds plain data, and hands an
``engine.Spec`` to ``engine.produce`` (cached by the hash of its inputs).
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from datetime import date

from flask import Response

from workflows.states import N_

from .. import permissions, regions
from ..errors import NotFound, ValidationFailed
from ..models import Certificate, CouncilSession, Nomination, Round, User, get_row
from ..models.core import MAX_DB_INT
from ..services import councils as council_service
from ..services.attachments import attachment_bytes
from ..timeutil import today
from . import data, freshness, signing


class _Engine:
    """``documents.engine``, imported on first use: it imports WeasyPrint, which start-up and the CLI
    do not need (tests/test_startup_imports.py)."""

    def __getattr__(self, name: str):
        from . import engine as module

        return getattr(module, name)


engine = _Engine()

NOMINATION_KINDS = ("declaration", "summary", "dossier", "receipt")
# Session documents; every one but the ballot needs the closed session's tally (else 409).
SESSION_KINDS = {
    "submission-letter": ("submission_letter.html", "mau-03-to-trinh"),
    "list": ("nominee_list.html", "mau-04-danh-sach"),
    "minutes": ("minutes.html", "mau-05-bien-ban-hop"),
    "tally": ("vote_count.html", "mau-06-bien-ban-kiem-phieu"),
    "ballot": ("ballot.html", "mau-07-08-phieu-bau"),
}
CONSULTATION_WINDOWS = tuple(data.CONSULTATION_WINDOWS)
SIGN_REASONS = {"submission-letter": "Tờ trình (Mẫu số 03)", "list": "Danh sách (Mẫu số 04)",
                "minutes": "Biên bản họp (Mẫu số 05)", "tally": "Biên bản kiểm phiếu (Mẫu số 06)"}


@dataclass
class Download:
    pdf: bytes
    filename: str
    cached: bool

    def response(self) -> Response:
        """The download as an attachment (pages and API alike), never cached by the browser."""
        response = Response(self.pdf, mimetype="application/pdf")
        response.headers["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        response.headers["Cache-Control"] = "private, no-store"
        response.headers["X-Document-Cache"] = "hit" if self.cached else "miss"
        return response


def variant() -> str | None:
    """The PDF variant of archival output (``DOCUMENTS_PDF_VARIANT``; default PDF/A-3b)."""
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    return engine.variant()


def _produce(inputs_key, make_spec) -> engine.Result:
    """``engine.produce`` with a cheap look-up first (``freshness``): the key of the document's stored
    inputs names the full key of a PDF made from them before; only when there is none is the data
    built, hashed and the PDF found or made (and the look-up recorded)."""
    directory = engine.cache_dir()
    if directory is None:
        return engine.produce(make_spec())
    fast = inputs_key()
    ref = directory / "inputs" / fast[:2] / f"{fast}.ref"
    try:
        full = ref.read_text(encoding="ascii").strip()
        if len(full) == 64 and all(ch in "0123456789abcdef" for ch in full):
            path = directory / full[:2] / f"{full}.pdf"
            pdf = path.read_bytes()
            os.utime(path)  # recently used (prune_cache)
            return engine.Result(pdf, full, True)
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    spec = make_spec()
    result = engine.produce(spec)
    if spec.cache:
        ref.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=ref.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(result.key)
        os.replace(tmp, ref)
    return result


# -- per nomination ---------------------------------------------------------------------------


def _images(n: Nomination) -> tuple[dict[str, engine.Blob], list[dict]]:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    blobs, photos = {}, []
    names = data.unique_file_names(n.attachments)
    portrait = data.portrait_attachment(n)
    for seq, a in enumerate(n.attachments, start=1):
        # The portrait is printed once, in the declaration's box, not again among the photos.
        if a.content_type.startswith("image/") and a is not portrait:
            name = f"attachment-{a.id}"
            blobs[name] = engine.Blob(a.sha256, _loader(a), a.content_type)
            photos.append({"blob": name, "name": names[a.id], "id": a.id, "seq": seq})
    return blobs, photos


def _portrait(n: Nomination) -> tuple[dict[str, engine.Blob], str | None]:
    """The applicant's 4x6 portrait for the declaration's box: the first photo uploaded as one."""
    a = data.portrait_attachment(n)
    if a is None:
        return {}, None
    return {"portrait": engine.Blob(a.sha256, _loader(a), a.content_type)}, "portrait"


def _loader(attachment):
    return lambda: attachment_bytes(attachment)


def _pdf_evidence(n: Nomination) -> list[engine.Appended]:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    return [engine.Appended(a.sha256, _loader(a), a.original_name)
            for a in n.attachments if a.content_type == "application/pdf"]


def _all_evidence(n: Nomination) -> list[engine.Appended]:
    """Every uploaded file, for embedding in the archival copy (the engine keeps each content once)."""
    return [engine.Appended(a.sha256, _loader(a), a.original_name, a.content_type, a.uploaded_at)
            for a in sorted(n.attachments, key=lambda a: a.id)]


def declaration_spec(n: Nomination, masked: tuple[str, ...] = ()) -> engine.Spec:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.nomination_data(n, masked=masked)
    blobs, photo = _portrait(n)
    return engine.Spec([engine.Part("declaration.html", {"n": d, "photo": photo})], variant=variant(), blobs=blobs,
                       title=f"Mẫu số {d['form_no']} - Bản khai thành tích - {d['full_name']}")


def declaration_html(n: Nomination, static_url: str, photo_url: str | None = None,
                     screen_css: str | None = None) -> str:
    """The declaration's HTML exactly as its PDF is built from it (same template, same data), for the
    applicant's review step to show in a frame: the PDF's resources are addressed for a browser instead."""
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.nomination_data(n)
    _, photo = _portrait(n)
    html = engine.render_html("declaration.html", {"n": d, "photo": photo})
    html = html.replace(engine.STATIC_URL, static_url)
    if photo:
        html = html.replace(engine.BLOB_URL + photo, photo_url or "")
    if screen_css:  # a screen's margins; the PDF's own layout is not touched
        html = html.replace("</head>", f'<link rel="stylesheet" href="{screen_css}">\n</head>', 1)
    return html


def portrait_id(n: Nomination) -> int | None:
    """The attachment printed in the declaration's photo box, if any."""
    a = data.portrait_attachment(n)
    return a.id if a is not None else None


def blank_declaration(title: str) -> Download:
    """The declaration form (Mẫu 01 or 02) left blank, for the procedure page (PDF/A like a filled one)."""
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.blank_declaration_data(title)
    spec = engine.Spec([engine.Part("declaration.html", {"n": d, "photo": None})], variant=variant(),
                       title=f"Mẫu số {d['form_no']} - Bản khai thành tích (để trống)")
    result = engine.produce(spec)
    return Download(result.pdf, f"mau-{d['form_no']}-ban-khai-thanh-tich.pdf", result.cached)



def summary_spec(n: Nomination, masked: tuple[str, ...] = ()) -> engine.Spec:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.nomination_data(n, masked=masked)
    return engine.Spec([engine.Part("summary.html", {"n": d})], variant=variant(),
                       title=f"Mẫu số {d['summary_form_no']} - Tóm tắt thành tích - {d['full_name']}")


def dossier_spec(n: Nomination, archival: bool = False, masked: tuple[str, ...] = ()) -> engine.Spec:
    """Declaration + summary + list of evidence with the photos, then the PDF evidence.

    For print the PDF evidence is appended page for page (the result is a plain PDF: pages made
    elsewhere cannot be vouched for as PDF/A). ``archival`` makes a PDF/A-3b file instead, the PDF
    evidence embedded in it as associated files, as PDF/A-3 allows.
    """
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.nomination_data(n, masked=masked)
    blobs, photos = _images(n)
    portrait_blobs, portrait = _portrait(n)
    blobs.update(portrait_blobs)
    pdfs = _pdf_evidence(n)
    portrait_id = portrait and data.portrait_attachment(n).id
    if archival:  # every file is embedded in the PDF/A-3 copy; photos are also printed
        placement = {str(a["id"]): ("In tại ô ảnh của bản khai; tệp gốc đính kèm trong PDF" if a["id"] == portrait_id
                                    else "Ảnh in kèm; tệp gốc đính kèm trong PDF"
                                    if a["content_type"].startswith("image/") else "Tệp đính kèm trong PDF")
                     for a in d["attachments"]}
    else:
        placement = {str(a["id"]): ("In tại ô ảnh của bản khai" if a["id"] == portrait_id else
                                    "Ảnh in kèm" if a["content_type"].startswith("image/") else
                                    ("Đóng kèm sau danh mục" if a["content_type"] == "application/pdf"
                                     else "Lưu trong hệ thống"))
                     for a in d["attachments"]}
    parts = [
        engine.Part("declaration.html", {"n": d, "photo": portrait}),
        engine.Part("summary.html", {"n": d}),
        engine.Part("evidence.html", {"n": d, "photos": photos, "placement": placement, "archival": archival}),
    ]
    title = f"Hồ sơ đề nghị xét tặng - {d['full_name']}" + (f" - {d['code']}" if d["code"] else "")
    if archival:
        return engine.Spec(parts, variant=variant() or engine.DEFAULT_VARIANT, blobs=blobs,
                           embedded=_all_evidence(n), title=title)
    return engine.Spec(parts, variant=None if pdfs else variant(), blobs=blobs, appended=pdfs, title=title)


def status_url(code: str, access_key: str | None = None) -> str:
    """The public status page; with a code (right after submission) the form opens with it filled in.

    The access key is never put in the link: a URL lands in browser history and server logs, and
    the page looks a dossier up only from its form, sent by POST (``public.status``).
    At the department's configured address (``PUBLIC_BASE_URL``), never the host that happened to
    serve the request: the paper outlives the request."""
    from ..services.notifications import link

    if access_key:
        return link("public.status", code=code)
    return link("public.status")


def qr_svg(text: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=True)
    return out.getvalue()


def receipt_spec(n: Nomination, access_key: str | None = None, masked: tuple[str, ...] = ()) -> engine.Spec:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    if not n.code:
        raise NotFound(N_("Hồ sơ chưa được nộp nên chưa có giấy biên nhận."), code="no_receipt")
    d = data.nomination_data(n, masked=masked)
    url = status_url(n.code, access_key)
    svg = qr_svg(url)
    import hashlib

    blobs = {"qr": engine.Blob(hashlib.sha256(svg).hexdigest(), lambda: svg, "image/svg+xml")}
    context = {"n": d, "status_url": status_url(n.code), "access_key": access_key or "",
               "reply_due": data.reply_due(n)}
    return engine.Spec([engine.Part("receipt.html", context)], variant=variant(), blobs=blobs,
                       title=f"Giấy biên nhận hồ sơ {n.code}",
                       cache=not access_key)  # an access key is never written to disk


def _visible_nomination(user: User, nomination_id: int) -> Nomination:
    """``queries.get_visible`` (the same rule and 404) without loading the periods and products the
    check does not read: a cached download needs neither; a PDF being made loads them on first use."""
    import sqlalchemy as sa

    from ..extensions import db
    from ..permissions import can_view

    nomination = None
    if 0 < nomination_id <= MAX_DB_INT:  # an id past the column's range is no row (not a database error)
        nomination = db.session.get(Nomination, nomination_id, options=[
            sa.orm.lazyload(Nomination.periods), sa.orm.lazyload(Nomination.products)])
    if nomination is None or not can_view(user, nomination):
        raise NotFound(N_("Không tìm thấy hồ sơ."), code="nomination_not_found")
    return nomination


def masked_for(user: User, n: Nomination) -> tuple[str, ...]:
    """The personal classes a dossier's PDF prints masked for ``user`` (permissions.FIELD_ACCESS; a class
    revealed with a reason in this session is printed in clear)."""
    from .. import field_view, personal_fields

    shown = field_view.revealed(field_view.target_of(n))
    return tuple(c for c in (personal_fields.BIRTH_DATE, personal_fields.ADDRESS, personal_fields.PHONE,
                             personal_fields.FAMILY)
                 if permissions.field_access(user, c, n) == permissions.MASK
                 or (permissions.field_access(user, c, n) == permissions.REVEAL and c not in shown))


def nomination_document(user: User, nomination_id: int, kind: str, *, archival: bool = False,
                        access_key: str | None = None) -> Download:
    """One document of a dossier ``user`` may see (404 otherwise, as everywhere)."""
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    n = _visible_nomination(user, nomination_id)
    if kind not in NOMINATION_KINDS:
        raise NotFound()
    label = n.code or f"ban-nhap-{n.id}"
    masked = masked_for(user, n)
    if kind == "declaration":
        spec, name = (lambda: declaration_spec(n, masked)), f"mau-{data.FORM_NO.get(n.title, '01')}-ban-khai-{label}"
    elif kind == "summary":
        spec, name = (lambda: summary_spec(n, masked)), f"mau-{data.SUMMARY_FORM_NO.get(n.title, '09')}-tom-tat-{label}"
    elif kind == "dossier":
        spec, name = (lambda: dossier_spec(n, archival, masked)), f"ho-so-{label}" + ("-pdfa" if archival else "")
    else:
        spec, name = (lambda: receipt_spec(n, access_key, masked)), f"bien-nhan-{label}"
    if access_key:  # a receipt showing the access key: never cached, never looked up
        result = engine.produce(spec())
    else:
        result = _produce(lambda: freshness.nomination_key(n.id, kind, archival) + "".join(f"-{c}" for c in masked),
                          spec)
    return Download(result.pdf, name + ".pdf", result.cached)


# -- per council session ----------------------------------------------------------------------


def session_spec(session: CouncilSession, kind: str) -> engine.Spec:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    template, _ = SESSION_KINDS[kind]
    tally = None if kind == "ballot" else council_service.tally(session)  # 409 before the close
    s = data.session_data(session, tally)
    if kind == "ballot":
        parts = [
            engine.Part(template, {"s": s, "form": data.BALLOT_FORM_NO[title],
                                   "label": data.TITLE_LABELS[title],
                                   "nominees": [i for i in s["agenda"] if i["title"] == title]})
            for title in s["titles"]
        ]
    else:
        parts = [engine.Part(template, {"s": s})]
    sign = None
    if kind in signing.SIGNED_KINDS:
        # signed by the council's standing body: the province's department, or the ministry
        sign = (f"{SIGN_REASONS[kind]} - {s['council']['name']}", s["issuer"]["place"],
                signing.council_body(session.council))
    return engine.Spec(parts, variant=variant(), title=f"{SESSION_KINDS[kind][1]} - {s['council']['name']}",
                       sign=sign)


def _visible_session(user: User, session_id: int) -> CouncilSession:
    """``councils.get_session`` (the same rule and 404) loading only what the check reads: the session
    and its council (the members when asked); its agenda, attendance and the rest load if a PDF is made."""
    import sqlalchemy as sa

    from ..extensions import db
    from ..permissions import can_see_council

    session = None
    if 0 < session_id <= MAX_DB_INT:  # an id past the column's range is no row (not a database error)
        session = db.session.get(CouncilSession, session_id,
                                 options=[sa.orm.lazyload("*"), sa.orm.joinedload(CouncilSession.council)])
    if session is None or not can_see_council(user, session.council):
        raise NotFound(N_("Không tìm thấy phiên họp."), code="session_not_found")
    return session


def session_document(user: User, session_id: int, kind: str) -> Download:
    session = _visible_session(user, session_id)
    if kind not in SESSION_KINDS:
        raise NotFound()
    signer = (signing.signer_fingerprint(signing.council_body(session.council))
              if kind in signing.SIGNED_KINDS else None)
    result = _produce(lambda: freshness.session_key(session.id, kind, signer), lambda: session_spec(session, kind))
    return Download(result.pdf, f"{SESSION_KINDS[kind][1]}-phien-{session.id}.pdf", result.cached)


# -- per round --------------------------------------------------------------------------------


def consultation_spec(round_: Round, window: str, on: date | None = None) -> engine.Spec:
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = data.consultation_list_data(round_, window, on or today())
    return engine.Spec([engine.Part("consultation_list.html", {"d": d})], variant=variant(),
                       title=f"Danh sách lấy ý kiến nhân dân - Đợt {round_.number}",
                       sign=(f"Danh sách lấy ý kiến nhân dân - Đợt {round_.number}", d["issuer"]["place"],
                             signing.MINISTRY))


def consultation_list(round_id: int | None, window: str = "public") -> Download:
    """The national list now open to public comment (public: it is posted for everyone)."""
    if window not in CONSULTATION_WINDOWS:
        raise ValidationFailed(fields={"window": N_("Chọn public hoặc final.")})
    round_ = get_row(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Không có đợt xét tặng này."), code="round_not_found")
    states, _level = data.CONSULTATION_WINDOWS[window]
    result = _produce(lambda: freshness.consultation_key(round_.id, window, states,
                                                         signing.signer_fingerprint(signing.MINISTRY)),
                      lambda: consultation_spec(round_, window))
    return Download(result.pdf, f"danh-sach-lay-y-kien-dot-{round_.number}-{window}.pdf", result.cached)


def round_report(round_: Round, report: dict, names: dict[str, str]) -> Download:
    """The round's record as a PDF (landscape): per level, then per province (services/law.py)."""
    from ..services import law
    from . import engine  # WeasyPrint loads on the first document, not at start-up
    d = {
        "round": {"number": round_.number, "name": round_.name},
        "issuer": data.MINISTRY, "on": today(),
        "levels": [(key, label) for key, label in law.LEVELS],
        "measures": [(m, law.MEASURE_LABELS[m]) for m in law.MEASURES],
        "titles": [(t, data.TITLE_LABELS[t]) for t in law.TITLE_ORDER],  # Vietnamese: an official paper
        "by_level": [{"level": k[0], "title": k[1], "posthumous": k[2], **v}
                     for k, v in sorted(report["by_level"].items(), key=lambda kv: (
                         [lv for lv, _ in law.LEVELS].index(kv[0][0]), kv[0][1], kv[0][2]))],
        "by_province": [{"province": names.get(k[0], k[0]), "filed_in": report["filed_in"].get(k[0], []),
                         "level": k[1], **v}
                        for k, v in sorted(report["by_province"].items(), key=lambda kv: (
                            names.get(kv[0][0], ""), [lv for lv, _ in law.LEVELS].index(kv[0][1])))],
        "stored": report["stored"],
    }
    spec = engine.Spec([engine.Part("round_report.html", {"d": d})], variant=variant(),
                       title=f"Báo cáo kết quả xét tặng - Đợt {round_.number}")
    result = engine.produce(spec)
    return Download(result.pdf, f"bao-cao-ket-qua-dot-{round_.number}.pdf", result.cached)


# -- a typical product's certificate (issue 18; services/certificates.py) -------------------------------
# Made from the stored certificate each time it is asked for (cached by its data), so a revoked one prints
# its revocation.  What it shows is what the public register shows: nothing else of the dossier.

CERTIFICATE_LEVEL_LABELS = {"province": "cấp tỉnh", "region": "cấp khu vực", "nation": "cấp quốc gia"}
CERTIFICATE_REGION_LABELS = {"north": "khu vực miền Bắc", "central": "khu vực miền Trung",
                             "south": "khu vực miền Nam"}


def certificate_register_url(number: str | None = None) -> str:
    from ..services.notifications import link

    return link("public.certificates_register", q=number) if number else link("public.certificates_register")


def certificate_data(c: Certificate) -> dict:
    """Plain data of the certificate as printed."""
    province = c.province
    if c.level == "province" and province is not None:
        issuer = data.province_issuer(province)
        title = f"Sở Công Thương {province.full_name}"
        signer = {"authority": "", "role": "Giám đốc", "name": ""}
    else:
        issuer = dict(data.MINISTRY)
        title = "Bộ Công Thương"
        signer = dict(data.MINISTRY_LIST_SIGNER)
    region = regions.region_of(c.province_code) if c.level == "region" else None
    round_ = c.nomination.round
    return {
        "number": c.number, "level": c.level, "level_label": CERTIFICATE_LEVEL_LABELS.get(c.level, c.level),
        "region_label": CERTIFICATE_REGION_LABELS.get(region or "", ""), "issuer": issuer, "issuer_title": title,
        "signer": signer, "product_name": c.product_name, "product_group": c.product_group,
        "holder_name": c.holder_name, "province_name": province.full_name if province else "",
        "round_name": f"{round_.name} ({round_.intake_opens.year})" if round_ else "",
        "issued_on": c.issued_on, "valid_until": c.valid_until, "revoked_on": c.revoked_on,
        "revoked_reason": c.revoked_reason or "", "register_url": certificate_register_url(c.number),
    }


def certificate_spec(c: Certificate):
    d = certificate_data(c)
    svg = qr_svg(d["register_url"])
    import hashlib

    blobs = {"qr": engine.Blob(hashlib.sha256(svg).hexdigest(), lambda: svg, "image/svg+xml")}
    return engine.Spec([engine.Part("certificate.html", {"c": d})], variant=variant(), blobs=blobs,
                       title=f"Giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu số {c.number}")


def certificate_pdf(c: Certificate) -> Download:
    result = engine.produce(certificate_spec(c))
    safe = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in c.number)
    return Download(result.pdf, f"giay-chung-nhan-{safe}.pdf", result.cached)

