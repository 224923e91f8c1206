from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..errors import ValidationFailed
from ..extensions import limiter
from ..redirects import safe_target
from ..services import account_admin, accounts, data_rights, sessions, throttle
from . import bp
from .account import form_errors
from .forms import LoginForm, RegisterForm


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"])
def login():
    """Log in with e-mail and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except throttle.LoginThrottled as exc:
            account_admin.record_login(accounts.find_user(form.email.data), form.email.data, ok=False,
                                       throttled=True)
            flash(exc.text(_), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(exc.retry_after)}
        account_admin.record_login(user or accounts.find_user(form.email.data), form.email.data,
                                   ok=user is not None and user.email_confirmed)
        if user is None:
            flash(_("Thư điện tử hoặc mật khẩu không đúng."), "error")
        elif not user.email_confirmed:
            flash(_("Bạn cần xác nhận địa chỉ thư điện tử trước khi đăng nhập: hãy mở đường liên kết "
                    "trong thư chúng tôi đã gửi."), "error")
        else:
            lang = session.get("lang")
            session.clear()  # a fresh session at login
            if lang:
                session["lang"] = lang
            sessions.login(user)
            target = safe_target(request.args.get("next")) or url_for("home")
            if data_rights.needs_notice(user):  # a new version of the notice: read it and choose again first
                return redirect(url_for("data_rights.consent", next=target))
            return redirect(target)
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Log out: the login session ends on the server, so a copy of the cookie is void too."""
    sessions.end_current(current_user)
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("home"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an applicant account."""
    if current_user.is_authenticated:
        return redirect(url_for("home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            shown = request.form.get("notice_version")  # the page shows the notice; a bare client did not
            if shown is not None:
                data_rights.check_notice_version(shown)
            user = account_admin.register_applicant(
                form.email.data, form.password.data, form.full_name.data, locale=str(get_locale())
            )
        except ValidationFailed as exc:
            form_errors(form, exc)
            if not exc.fields:  # the notice changed meanwhile
                flash(exc.text(_), "error")
        else:
            if user is not None and shown is not None:  # the notice read, each optional purpose decided
                data_rights.record_consents(context="register", user=user, version=shown,
                                        asked=request.form.getlist("asked"), granted=request.form.getlist("consent"))
            # user is None when the address already had an account: the owner was mailed, and the
            # answer below is the very one a new registration gets (nothing tells the two apart)
            if user is not None and user.email_confirmed:  # EMAIL_CONFIRMATION_REQUIRED off
                sessions.login(user)
                flash(_("Tài khoản đã được tạo. Chào mừng bạn!"), "success")
                return redirect(url_for("applicant.index"))
            flash(_("Tài khoản đã được tạo. Hãy mở thư chúng tôi vừa gửi để xác nhận địa chỉ thư điện tử, "
                    "rồi đăng nhập."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)


LANG_COOKIE = "lang"
LANG_COOKIE_AGE = 365 * 24 * 3600


def remember_language(response, code: str):
    """The visitor's language as a cookie of its own (read by ``select_locale``), not in the session:
    an anonymous visitor who never switches, or switches with the link below, never gets a session."""
    response.set_cookie(LANG_COOKIE, code, max_age=LANG_COOKIE_AGE, path="/", httponly=True, samesite="Lax",
                        secure=current_app.session_interface.get_cookie_secure(current_app))
    return response


@bp.route("/lang/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """Switch the interface language.

    GET (the link every page shows an anonymous visitor) changes nothing but the ``lang`` preference
    cookie, so it needs no CSRF token and no session (docs/security.md, "The language switch"). POST (the
    form a logged-in user gets, with its CSRF token) also keeps the choice with the account, for the
    language of its e-mail. An unknown language changes nothing."""
    target = safe_target(request.form.get("next") if request.method == "POST" else request.args.get("next"))
    response = redirect(target or url_for("home"))
    if code in current_app.config["LANGUAGES"]:
        remember_language(response, code)
        if request.method == "POST" or "lang" in session:
            session["lang"] = code
        if request.method == "POST" and current_user.is_authenticated:
            accounts.set_locale(current_user, code)
    return response
