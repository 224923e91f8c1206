"""Forms of the rule pages: one parameter's value, one criterion's review."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ..forms import choices


class IntParameterForm(FlaskForm):
    value = IntegerField(_l("Giá trị"), validators=[InputRequired(), NumberRange(0, 1_000_000)])
    verified = BooleanField(_l("Đã đối chiếu với văn bản chính thức"))
    reason = StringField(_l("Căn cứ, lý do thay đổi"), validators=[DataRequired(), Length(max=5000)])
    save = SubmitField(_l("Lưu"))


class BoolParameterForm(FlaskForm):
    value = SelectField(_l("Giá trị"), choices=choices([("true", _l("Có")), ("false", _l("Không"))]))
    verified = BooleanField(_l("Đã đối chiếu với văn bản chính thức"))
    reason = StringField(_l("Căn cứ, lý do thay đổi"), validators=[DataRequired(), Length(max=5000)])
    save = SubmitField(_l("Lưu"))


class CriterionReviewForm(FlaskForm):
    result = SelectField(
        _l("Kết luận"),
        choices=choices([
            ("pass", _l("Đạt")),
            ("fail", _l("Không đạt")),
            ("needs_review", _l("Chỉ ghi nhận xét, để Hội đồng xem xét")),
        ]),
    )
    reason = TextAreaField(
        _l("Nhận xét của người thẩm định, lý do"), validators=[DataRequired(), Length(max=5000)]
    )
    save = SubmitField(_l("Ghi kết luận"))
