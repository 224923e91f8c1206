from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import VnDateField, choices


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InviteForm(FlaskForm):
    full_name = StringField(_l("Họ và tên"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Thư điện tử"), validators=[DataRequired(), Email(), Length(max=254)])
    roles = MultiCheckboxField(_l("Vai trò"), validators=[DataRequired(message=_l("Cần chọn ít nhất một vai trò."))])
    province_code = SelectField(_l("Tỉnh, thành phố"), validators=[Optional()])
    # Each language is named in itself, marked with its language for screen readers.
    locale = SelectField(_l("Ngôn ngữ thư"), choices=[SelectChoice("vi", "Tiếng Việt", render_kw={"lang": "vi"}),
                                                       SelectChoice("en", "English", render_kw={"lang": "en"})])
    submit = SubmitField(_l("Gửi lời mời"))


class AccessForm(FlaskForm):
    roles = MultiCheckboxField(_l("Vai trò"), validators=[DataRequired(message=_l("Cần chọn ít nhất một vai trò."))])
    province_code = SelectField(_l("Tỉnh, thành phố"), validators=[Optional()])
    submit = SubmitField(_l("Lưu vai trò và phạm vi"))


class ImportForm(FlaskForm):
    sheet = FileField(_l("Tệp XLSX hoặc CSV"), validators=[FileRequired()])
    submit = SubmitField(_l("Xem trước"))


DAY_KIND_CHOICES = choices([("calendar", _l("ngày (lịch)")), ("working", _l("ngày làm việc"))])


class RoundForm(FlaskForm):
    number = IntegerField(_l("Lần xét tặng (số)"), validators=[DataRequired(), NumberRange(1, 1000)])
    name = StringField(_l("Tên đợt"), validators=[DataRequired(), Length(max=200)])
    governing_decree = SelectField(_l("Nghị định áp dụng"),
                                   choices=choices([("43/2024", "43/2024/NĐ-CP"), ("123/2014", "123/2014/NĐ-CP")]))
    intake_opens = DateField(_l("Ngày mở tiếp nhận"), validators=[DataRequired()])
    intake_closes = DateField(_l("Ngày đóng tiếp nhận"), validators=[DataRequired()])
    province_to_ministry = DateField(_l("Hạn tỉnh gửi hồ sơ lên Bộ"), validators=[Optional()])
    ministry_to_state = DateField(_l("Hạn Bộ gửi Hội đồng cấp Nhà nước"), validators=[Optional()])
    state_to_pm = DateField(_l("Hạn trình Thủ tướng"), validators=[Optional()])
    announcement = DateField(_l("Ngày công bố"), validators=[Optional()])
    reply_days = IntegerField(_l("Số ngày trả lời bằng văn bản"), default=10, validators=[NumberRange(0, 365)])
    completion_days = IntegerField(_l("Số ngày bổ sung hồ sơ"), default=15, validators=[NumberRange(0, 365)])
    consultation_days = IntegerField(_l("Số ngày lấy ý kiến nhân dân"), default=20,
                                     validators=[NumberRange(0, 365)])
    consultation_windows = IntegerField(_l("Số đợt lấy ý kiến (0–2)"), default=2, validators=[NumberRange(0, 2)])
    reply_day_kind = SelectField(_l("Thời hạn trả lời tính theo"), choices=DAY_KIND_CHOICES, default="calendar")
    completion_day_kind = SelectField(_l("Thời hạn bổ sung tính theo"), choices=DAY_KIND_CHOICES, default="calendar")
    consultation_day_kind = SelectField(_l("Thời hạn lấy ý kiến tính theo"), choices=DAY_KIND_CHOICES,
                                        default="calendar")
    submit = SubmitField(_l("Lưu kế hoạch"))


class CouncilForm(FlaskForm):
    level = SelectField(_l("Cấp Hội đồng"), choices=choices([("province", _l("Cấp tỉnh")), ("ministry", _l("Cấp Bộ")),
                                                              ("state", _l("Cấp Nhà nước"))]))
    round_id = SelectField(_l("Đợt xét tặng"), coerce=int)
    province_code = SelectField(_l("Tỉnh, thành phố (Hội đồng cấp tỉnh)"), validators=[Optional()])
    name = StringField(_l("Tên Hội đồng"), validators=[DataRequired(), Length(max=300)])
    decision_no = StringField(_l("Số quyết định thành lập"), validators=[DataRequired(), Length(max=60)])
    decision_date = DateField(_l("Ngày quyết định"), validators=[Optional()])
    exclude_conflicted_votes = BooleanField(_l("Thành viên có xung đột lợi ích không bỏ phiếu"), default=True)
    submit = SubmitField(_l("Thành lập Hội đồng"))


class BaseSalaryForm(FlaskForm):
    effective_from = VnDateField(_l("Áp dụng từ ngày"), validators=[Optional()])
    amount_vnd = StringField(_l("Mức lương cơ sở (đồng)"), validators=[Optional(), Length(max=30)],
                              render_kw={"inputmode": "numeric", "placeholder": "2340000"})
    legal_basis = StringField(_l("Căn cứ pháp lý"), validators=[Optional(), Length(max=200)],
                              render_kw={"placeholder": "73/2024/NĐ-CP"})
    verified = BooleanField(_l("Đã đối chiếu với văn bản chính thức"))
