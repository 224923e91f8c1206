from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class ForgotForm(FlaskForm):
    email = EmailField(_l("Thư điện tử"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Gửi đường liên kết"))


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Mật khẩu mới (ít nhất 10 ký tự)"), validators=[DataRequired(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[DataRequired(), EqualTo("password", message=_l("Hai mật khẩu không khớp."))],
    )
    submit = SubmitField(_l("Đặt mật khẩu"))


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired(), Length(max=200)])
