"""Application-wide page plumbing: the home page, error pages, template context."""

from __future__ import annotations

import unicodedata

from flask import Flask, current_app, flash, has_request_context, jsonify, redirect, render_template, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext
from flask_login import current_user
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from workflows.states import N_

from . import permissions
from .errors import ServiceError, ValidationFailed
from .redirects import back
from .services import inbox
from .services.nominations import return_request
from .text import nfc
from .timeutil import today

ERROR_TEXT = {
    400: N_("Yêu cầu không hợp lệ."),
    401: N_("Vui lòng đăng nhập."),
    403: N_("Bạn không có quyền truy cập trang này."),
    404: N_("Không tìm thấy trang hoặc hồ sơ."),
    405: N_("Phương thức không được hỗ trợ."),
    409: N_("Thao tác không thực hiện được ở trạng thái hiện tại."),
    413: N_("Tệp hoặc yêu cầu quá lớn."),
    422: N_("Dữ liệu chưa hợp lệ."),
    429: N_("Bạn thao tác quá nhiều lần. Vui lòng thử lại sau ít phút."),
}

# Endpoints whose raw body is kept before the form is parsed (a partner's signed request, api/intake.py).
RAW_BODY_ENDPOINTS = frozenset({"api.intake_dossiers"})


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Sent with every answer unless the view set its own (``security_headers``).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    # No inline script or style anywhere: everything comes from our own static files.
    ("Content-Security-Policy", CSP),
)
_SECURITY_HEADER_NAMES = frozenset(name.lower() for name, _value in SECURITY_HEADERS)


def home():
    """Send each person to the page where their work is."""
    if not current_user.is_authenticated:
        return render_template("home.html")
    return redirect(url_for(permissions.home_endpoint(current_user)))


def _api_error(status: int, code: str, message: str, fields=None):
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with the Secure flag on every request that came over HTTPS.

    A request without the cookie (an API client, the public's first visit) gets its empty session
    without building the signing serializer: the status lookup is measured against a bare endpoint.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)


def _refuse_nul(values: MultiDict) -> bool:
    """Refuse a name or value with a NUL character (PostgreSQL cannot store or compare it); whether any is
    not in NFC (then the caller composes them all)."""
    decomposed = False
    for name, value in values.items(multi=True):
        name, value = name or "", value or ""  # a multipart part can come without a usable name
        if "\x00" in name or "\x00" in value:
            field = name.replace("\x00", "") or "_"
            raise ValidationFailed(fields={field: N_("Có ký tự không hợp lệ.")})
        if not decomposed and not (_is_nfc(name) and _is_nfc(value)):
            decomposed = True
    return decomposed


def _is_nfc(value) -> bool:
    return not isinstance(value, str) or unicodedata.is_normalized("NFC", value)


def _nfc_multidict(values: MultiDict) -> ImmutableMultiDict:
    return ImmutableMultiDict([(nfc(k or ""), nfc(v or "")) for k, v in values.items(multi=True)])


def _allowed_elsewhere(exc: HTTPException) -> bool:
    """Whether a 405 is real: some other method would reach a view at this very URL.

    Werkzeug answers 405 when a URL's pattern fits a rule for another method even if the
    converter then refuses the value (an id beyond the INTEGER range): that is a 404.
    """
    methods = set(getattr(exc, "valid_methods", None) or ()) - {"HEAD", "OPTIONS"}
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in methods:
        try:
            adapter.match(request.path, method=method)
        except HTTPException:
            continue
        return True
    return False


def init_app(app: Flask) -> None:
    app.add_url_rule("/", "home", home)
    app.session_interface = SessionInterface()
    app.config.setdefault("SESSION_PROTECTION", "strong")  # Flask-Login: a stolen cookie from elsewhere is void
    proxies = int(app.config.get("PROXY_HOPS") or 0)
    if proxies:  # trust X-Forwarded-For / -Proto from that many proxies (rate limits, HTTPS, Secure cookies)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status == 405 and not _allowed_elsewhere(exc):
            status = 404
        message = gettext(ERROR_TEXT.get(status, exc.name))
        if request.path.startswith("/api/"):
            code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                    429: "rate_limited", 400: "bad_request"}.get(status, exc.name.lower().replace(" ", "_"))
            return _api_error(status, code, message)
        if status == 400 and getattr(exc, "description", "").startswith("The CSRF"):
            message = gettext("Phiên làm việc đã hết hạn. Vui lòng tải lại trang và thử lại.")
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        message = exc.text(gettext)
        if request.path.startswith("/api/"):
            fields = exc.field_texts(gettext)
            return _api_error(exc.status, exc.code, message, fields)
        if exc.status in (403, 404):
            return render_template("error.html", status=exc.status, message=message), exc.status
        flash(message, "error")
        for text in exc.field_texts(gettext).values():
            flash(text, "error")
        return back(url_for("home"))

    @app.before_request
    def refuse_nul_characters():
        """PostgreSQL cannot store or compare text with NUL: refuse it up front, pages and API alike."""
        if request.endpoint in RAW_BODY_ENDPOINTS:
            # a whole dossier in one request, held in memory as received: its signed Content-Digest is checked
            request.max_content_length = int(current_app.config["INTAKE_MAX_REQUEST_BYTES"])
            request.get_data(cache=True)
        # Vietnamese typed on some keyboards (macOS, some phones) arrives decomposed (NFD): every
        # form and query value is composed (NFC) before any view sees it, so it is stored, searched
        # and compared in one form.  (JSON bodies: api.json_body.)  One pass over each source finds
        # both; a source already all NFC (nearly every request) is kept as it is, not copied.
        if _refuse_nul(request.args):
            request.args = _nfc_multidict(request.args)
        if _refuse_nul(request.form):
            request.form = _nfc_multidict(request.form)

    # Functions the templates call: globals of the environment, the same for every render (a context
    # processor would build them into a dict for each page; issue 16). Only the date is per request.
    app.jinja_env.globals.update(
        can_view=permissions.can_view,
        may_act=permissions.may_act,
        can_edit=permissions.can_edit,
        available_actions=permissions.available_actions,
        return_request=return_request,
        unread_notifications=inbox.unread_count,
        province_name=province_name,
    )

    @app.context_processor
    def template_context():
        return {"today": today()}

    @app.after_request
    def security_headers(response):
        headers = response.headers
        if _SECURITY_HEADER_NAMES.isdisjoint([name.lower() for name in headers.keys()]):
            headers.extend(SECURITY_HEADERS)  # the usual case: the view set none of them (one pass, not four)
        else:
            for name, value in SECURITY_HEADERS:
                headers.setdefault(name, value)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def province_name(code: str | None) -> str:
    """A province's short name from its code (a former province's too: both names where it matters)."""
    from .extensions import db
    from .models import Province

    row = db.session.get(Province, code) if code else None
    return row.name if row is not None else (code or "")
