"""The declaration as a form in four steps; each step saves the draft."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..forms import choices

TITLE_CHOICES = choices([("meritorious", _l("Nghệ nhân ưu tú")), ("people", _l("Nghệ nhân nhân dân"))])
RELATIONSHIP_CHOICES = choices([
    ("self", _l("Bản thân nghệ nhân")),
    ("child", _l("Con")),
    ("spouse", _l("Vợ/chồng")),
    ("other", _l("Người được ủy quyền khác")),
])
GENDER_CHOICES = choices([("", "—"), ("Nam", _l("Nam")), ("Nữ", _l("Nữ"))])
FIELD_CHOICES = choices([
    ("handicraft", _l("Lĩnh vực nghề thủ công mỹ nghệ")),
    ("intangible_heritage", _l("Lĩnh vực di sản văn hóa phi vật thể")),
])
LEVEL_CHOICES = choices([
    ("", _l("Không có giải")),
    ("national", _l("Toàn quốc")),
    ("regional", _l("Khu vực")),
    ("international", _l("Quốc tế")),
    ("provincial", _l("Cấp tỉnh")),
])


class NomineeForm(FlaskForm):
    round_id = SelectField(_l("Đợt xét tặng"), coerce=int, validators=[DataRequired()])
    title = SelectField(_l("Danh hiệu đề nghị"), choices=TITLE_CHOICES)
    posthumous = BooleanField(_l("Đề nghị truy tặng (nghệ nhân đã mất)"))
    province_code = SelectField(_l("Tỉnh, thành phố nơi nộp hồ sơ"), validators=[DataRequired()])
    full_name = StringField(_l("Họ và tên nghệ nhân"), validators=[DataRequired(), Length(max=200)])
    pen_name = StringField(_l("Tên thường gọi, bút danh"), validators=[Optional(), Length(max=200)])
    birth_date = DateField(_l("Ngày sinh"), validators=[Optional()])
    death_date = DateField(_l("Ngày mất (nếu truy tặng)"), validators=[Optional()])
    gender = SelectField(_l("Giới tính"), choices=GENDER_CHOICES, validators=[Optional()])
    ethnicity = StringField(_l("Dân tộc"), validators=[Optional(), Length(max=50)])
    hometown = StringField(_l("Quê quán"), validators=[Optional(), Length(max=300)])
    address = StringField(_l("Nơi cư trú"), validators=[Optional(), Length(max=300)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), Length(max=30)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), Length(max=254)])
    filed_by_relationship = SelectField(_l("Người nộp hồ sơ"), choices=RELATIONSHIP_CHOICES)
    filed_by_name = StringField(
        _l("Họ tên người nộp thay (nếu không phải nghệ nhân)"), validators=[Optional(), Length(max=200)]
    )
    save = SubmitField(_l("Lưu và tiếp tục"))


class PeriodForm(Form):
    from_date = DateField(_l("Từ ngày"), validators=[Optional()])
    to_date = DateField(_l("Đến ngày"), validators=[Optional()])
    workplace = StringField(_l("Nơi làm việc, cơ sở sản xuất"), validators=[Optional(), Length(max=300)])
    role = StringField(_l("Công việc, vai trò"), validators=[Optional(), Length(max=200)])


class CraftForm(FlaskForm):
    craft = StringField(_l("Nghề thủ công mỹ nghệ"), validators=[Optional(), Length(max=200)])
    workshop = StringField(_l("Cơ sở, xưởng sản xuất"), validators=[Optional(), Length(max=300)])
    special_craft = BooleanField(_l("Nghề thủ công mỹ nghệ đặc thù (có nguy cơ mai một)"))
    special_craft_rationale = TextAreaField(
        _l("Lý do là nghề đặc thù"), validators=[Optional(), Length(max=20000)]
    )
    career_summary = TextAreaField(
        _l("I. Tóm tắt quá trình hành nghề, đào tạo"), validators=[Optional(), Length(max=20000)]
    )
    skills_summary = TextAreaField(
        _l("Tri thức, kỹ năng, bí quyết nghề đang nắm giữ"), validators=[Optional(), Length(max=20000)]
    )
    periods = FieldList(FormField(PeriodForm), min_entries=1, max_entries=50)
    add_period = SubmitField(_l("Thêm giai đoạn"))
    meritorious_decision_no = StringField(
        _l("Số quyết định phong tặng Nghệ nhân ưu tú"), validators=[Optional(), Length(max=60)]
    )
    meritorious_decision_date = DateField(_l("Ngày quyết định"), validators=[Optional()])
    meritorious_field = SelectField(_l("Lĩnh vực của danh hiệu"), choices=FIELD_CHOICES)
    intangible_heritage_track = BooleanField(
        _l("Đang được xét hoặc đã có danh hiệu nghệ nhân trong lĩnh vực di sản văn hóa phi vật thể")
    )
    save = SubmitField(_l("Lưu và tiếp tục"))


class ProductForm(Form):
    name = StringField(_l("Tên sản phẩm, tác phẩm"), validators=[Optional(), Length(max=300)])
    made_on = DateField(_l("Ngày hoàn thành"), validators=[Optional()])
    materials = StringField(_l("Chất liệu"), validators=[Optional(), Length(max=300)])
    self_designed = BooleanField(_l("Tự thiết kế và chế tác"), default=True)
    award_level = SelectField(_l("Cấp giải thưởng"), choices=LEVEL_CHOICES, validators=[Optional()])
    award_rank = IntegerField(_l("Giải (1 = giải nhất)"), validators=[Optional(), NumberRange(1, 10)])
    award_state_delegated = BooleanField(_l("Do Nhà nước cử tham dự"))
    award_organiser = StringField(_l("Đơn vị tổ chức"), validators=[Optional(), Length(max=300)])
    awarded_on = DateField(_l("Ngày trao giải"), validators=[Optional()])


class AchievementsForm(FlaskForm):
    products = FieldList(FormField(ProductForm), min_entries=1, max_entries=100)
    add_product = SubmitField(_l("Thêm sản phẩm"))
    learners_trained = IntegerField(
        _l("Số người đã được truyền nghề"), validators=[Optional(), NumberRange(0, 1_000_000)]
    )
    honours_summary = TextAreaField(
        _l("Các hình thức khen thưởng đã nhận"), validators=[Optional(), Length(max=20000)]
    )
    save = SubmitField(_l("Lưu và tiếp tục"))


class UploadForm(FlaskForm):
    kind = SelectField(_l("Loại tài liệu"))
    file = FileField(_l("Tệp (ảnh, video, PDF)"))
    upload = SubmitField(_l("Tải lên"))
