"""Self-service: confirm the e-mail, forgotten password, invitation links, change password."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..errors import ValidationFailed
from ..extensions import limiter
from ..services import account_admin, sessions
from . import bp
from .account_forms import ChangePasswordForm, ForgotForm, NewPasswordForm


def form_errors(form, exc: ValidationFailed) -> None:
    """Put a service's field messages on the form's fields (flash the ones with no field)."""
    for name, message in exc.field_texts(_).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(message, "error")


@bp.route("/confirm/<token>")
def confirm_email(token: str):
    """Confirm the e-mail address of a self-registered account."""
    try:
        account_admin.confirm_email(token)
    except account_admin.LinkExpired as exc:
        flash(exc.text(_), "error")
        return redirect(url_for("auth.resend_confirmation"))
    except ValidationFailed as exc:
        flash(exc.text(_), "error")
        return redirect(url_for("auth.login"))
    flash(_("Địa chỉ thư điện tử đã được xác nhận. Bạn có thể đăng nhập."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"])
def resend_confirmation():
    """Send the confirmation link again."""
    form = ForgotForm()
    if form.validate_on_submit():
        account_admin.resend_confirmation(form.email.data)
        flash(_("Nếu địa chỉ này đang chờ xác nhận, chúng tôi đã gửi lại thư."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form, title=_("Gửi lại thư xác nhận"))


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a password-reset link by e-mail."""
    form = ForgotForm()
    if form.validate_on_submit():
        account_admin.request_reset(form.email.data)
        flash(_("Nếu địa chỉ này có tài khoản, chúng tôi đã gửi thư hướng dẫn đặt lại mật khẩu."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form, title=_("Quên mật khẩu"))


def _set_password(token: str, purpose: str, title: str):
    try:
        user = account_admin.user_for_token(token, purpose)
    except ValidationFailed as exc:
        return render_template("auth/link_refused.html", message=exc.text(_)), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            account_admin.set_password_with_token(token, purpose, form.password.data)
        except ValidationFailed as exc:
            form_errors(form, exc)
        else:
            flash(_("Mật khẩu đã được đặt. Mời bạn đăng nhập."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, title=title, account=user)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password from a reset link (expires, works once)."""
    return _set_password(token, "reset", _("Đặt lại mật khẩu"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Set the first password from an invitation link (expires, works once)."""
    return _set_password(token, "invite", _("Nhận lời mời và đặt mật khẩu"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            account_admin.change_password(current_user, form.current.data, form.password.data,
                                          keep_session=current_user.login_session_id)
        except ValidationFailed as exc:
            form_errors(form, exc)
        else:
            sessions.rotate(current_user._get_current_object(), "password_change")
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/sessions")
@login_required
def my_sessions():
    """Phiên đăng nhập: one's live login sessions and API tokens."""
    return render_template("auth/sessions.html", login_sessions=sessions.active_sessions(current_user),
                           tokens=sessions.active_tokens(current_user))


@bp.route("/account/sessions/<kind>/<int:row_id>/end", methods=["POST"])
@login_required
def end_session(kind: str, row_id: int):
    """End one of one's own sessions or tokens."""
    if not sessions.end_one(current_user, current_user, kind, row_id):
        abort(404)
    flash(_("Đã kết thúc phiên đăng nhập."), "success")
    return redirect(url_for("auth.my_sessions"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    """End every other session and every API token of one's account (this session stays)."""
    sessions.end_others(current_user)
    flash(_("Đã kết thúc mọi phiên đăng nhập khác."), "success")
    return redirect(url_for("auth.my_sessions"))
