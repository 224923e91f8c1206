"""The declaration as a form in four steps; each step saves the draft."""


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import VnDateField, WholeNumberField, choices
from ..services.nominations import COMMITMENT
from ..timeutil import today

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




def MaxLen(limit: int) -> Length:  # noqa: N802 - reads as the validator it returns
    """A length limit whose message is a plain sentence (WTForms has no Vietnamese catalogue)."""
    return Length(max=limit, message=_l("Tối đa %(max)d ký tự."))


class ChoiceField(SelectField):
    """A select whose refusal of a value not offered is a plain sentence."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Hãy chọn một giá trị trong danh sách.")) from None

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except (ValidationError, ValueError):
            raise ValidationError(_l("Hãy chọn một giá trị trong danh sách.")) from None


class Between(NumberRange):
    """A number range that leaves an unreadable number to the field's own message (said once)."""

    def __call__(self, form, field):
        if field.data is None:
            return
        super().__call__(form, field)


class Required(DataRequired):
    """Required, with the sentence a user reads next to the field (WTForms' own is English)."""

    def __init__(self, message=None):
        super().__init__(message or _l("Trường này là bắt buộc."))


class NeededToSubmit(Optional):
    """Optional while drafting, but needed before the dossier can be submitted: marked as required
    (the mark, ``required`` and ``aria-required``) so the applicant knows before the review step."""

    def __init__(self):
        super().__init__(strip_whitespace=True)
        self.field_flags = {"required": True}


# the province list starts with this empty choice: nothing is chosen for the applicant
PROVINCE_PLACEHOLDER = ("", _l("— Chọn Sở Công Thương —"))


class NomineeForm(FlaskForm):
    round_id = ChoiceField(_l("Đợt xét tặng"), coerce=int,
                           validators=[InputRequired(_l("Cần chọn đợt xét tặng."))])
    title = ChoiceField(_l("Danh hiệu đề nghị"), choices=TITLE_CHOICES,
                        validators=[InputRequired(_l("Cần chọn danh hiệu đề nghị."))])
    posthumous = BooleanField(_l("Đề nghị truy tặng (nghệ nhân đã mất)"))
    province_code = ChoiceField(_l("Tỉnh, thành phố nơi nộp hồ sơ"),
                                validators=[Required(_l("Cần chọn Sở Công Thương nơi nộp hồ sơ."))])
    full_name = StringField(_l("Họ và tên nghệ nhân"),
                            validators=[Required(_l("Cần ghi họ và tên nghệ nhân.")), MaxLen(200)])
    pen_name = StringField(_l("Tên thường gọi, bút danh"), validators=[Optional(), MaxLen(200)])
    birth_date = VnDateField(_l("Ngày sinh"), validators=[NeededToSubmit()])
    death_date = VnDateField(_l("Ngày mất (nếu truy tặng)"), validators=[Optional()])
    gender = ChoiceField(_l("Giới tính"), choices=GENDER_CHOICES, validators=[Optional()])
    ethnicity = StringField(_l("Dân tộc"), validators=[Optional(), MaxLen(50)])
    hometown = StringField(_l("Quê quán"), validators=[Optional(), MaxLen(300)])
    address = StringField(_l("Nơi cư trú"), validators=[NeededToSubmit(), MaxLen(300)])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), MaxLen(30)])
    email = StringField(_l("Thư điện tử"), validators=[Optional(), MaxLen(254)])
    filed_by_relationship = ChoiceField(_l("Người nộp hồ sơ"), choices=RELATIONSHIP_CHOICES)
    filed_by_name = StringField(
        _l("Họ tên người nộp thay (nếu không phải nghệ nhân)"), validators=[Optional(), MaxLen(200)]
    )
    save = SubmitField(_l("Lưu và tiếp tục"))

    def validate_death_date(self, field):
        """A death date and the posthumous box go together (Decree 43: posthumous awards only)."""
        if field.data and not self.posthumous.data:
            raise ValidationError(_l("Đã ghi ngày mất: hãy đánh dấu “Đề nghị truy tặng”, hoặc xóa ngày mất."))
        if self.posthumous.data and not field.data:
            raise ValidationError(_l("Hồ sơ truy tặng cần ngày mất của nghệ nhân."))
        if field.data and self.birth_date.data and field.data < self.birth_date.data:
            raise ValidationError(_l("Ngày mất phải sau ngày sinh."))
        if field.data and field.data > today():
            raise ValidationError(_l("Ngày mất không thể ở tương lai."))

    def validate_birth_date(self, field):
        if field.data and field.data > today():
            raise ValidationError(_l("Ngày sinh không thể ở tương lai."))


class PeriodForm(Form):
    from_date = VnDateField(_l("Từ ngày"), validators=[Optional()])
    to_date = VnDateField(_l("Đến ngày"), validators=[Optional()])
    workplace = StringField(_l("Nơi làm việc, cơ sở sản xuất"), validators=[Optional(), MaxLen(300)])
    role = StringField(_l("Công việc, vai trò"), validators=[Optional(), MaxLen(200)])
    remove = BooleanField(_l("Xóa giai đoạn này"))


class CraftForm(FlaskForm):
    craft = StringField(_l("Nghề thủ công mỹ nghệ"), validators=[NeededToSubmit(), MaxLen(200)])
    workshop = StringField(_l("Cơ sở, xưởng sản xuất"), validators=[Optional(), MaxLen(300)])
    special_craft = BooleanField(_l("Nghề thủ công mỹ nghệ đặc thù (có nguy cơ mai một)"))
    special_craft_rationale = TextAreaField(
        _l("Lý do là nghề đặc thù"), validators=[Optional(), MaxLen(20000)]
    )
    career_summary = TextAreaField(
        _l("I. Tóm tắt quá trình hành nghề, đào tạo"), validators=[Optional(), MaxLen(20000)]
    )
    skills_summary = TextAreaField(
        _l("Tri thức, kỹ năng, bí quyết nghề đang nắm giữ"), validators=[Optional(), MaxLen(20000)]
    )
    periods = FieldList(FormField(PeriodForm), _l("Giai đoạn"), min_entries=1, max_entries=50)
    add_period = SubmitField(_l("Thêm giai đoạn"))
    meritorious_decision_no = StringField(
        _l("Số quyết định phong tặng Nghệ nhân ưu tú"), validators=[Optional(), MaxLen(60)]
    )
    meritorious_decision_date = VnDateField(_l("Ngày quyết định"), validators=[Optional()])
    meritorious_field = ChoiceField(_l("Lĩnh vực của danh hiệu"), choices=FIELD_CHOICES, default="handicraft")
    intangible_heritage_track = BooleanField(
        _l("Đang được xét hoặc đã có danh hiệu nghệ nhân trong lĩnh vực di sản văn hóa phi vật thể")
    )
    save = SubmitField(_l("Lưu và tiếp tục"))


class ProductForm(Form):
    name = StringField(_l("Tên sản phẩm, tác phẩm"), validators=[Optional(), MaxLen(300)])
    made_on = VnDateField(_l("Ngày hoàn thành"), validators=[Optional()])
    materials = StringField(_l("Chất liệu"), validators=[Optional(), MaxLen(300)])
    self_designed = BooleanField(_l("Tự thiết kế và chế tác"), default=True)
    award_level = ChoiceField(_l("Cấp giải thưởng"), choices=LEVEL_CHOICES, validators=[Optional()])
    award_rank = WholeNumberField(_l("Giải (1 = giải nhất)"),
                              validators=[Optional(), Between(1, 10, _l("Nhập một số từ 1 đến 10."))])
    award_state_delegated = BooleanField(_l("Do Nhà nước cử tham dự"))
    award_organiser = StringField(_l("Đơn vị tổ chức"), validators=[Optional(), MaxLen(300)])
    awarded_on = VnDateField(_l("Ngày trao giải"), validators=[Optional()])
    remove = BooleanField(_l("Xóa sản phẩm này"))


class AchievementsForm(FlaskForm):
    products = FieldList(FormField(ProductForm), _l("Sản phẩm"), min_entries=1, max_entries=100)
    add_product = SubmitField(_l("Thêm sản phẩm"))
    learners_trained = WholeNumberField(
        _l("Số người đã được truyền nghề"),
        validators=[NeededToSubmit(), Between(0, 1_000_000, _l("Nhập một số từ 0 đến 1.000.000."))]
    )
    honours_summary = TextAreaField(
        _l("Các hình thức khen thưởng đã nhận"), validators=[Optional(), MaxLen(20000)]
    )
    save = SubmitField(_l("Lưu và tiếp tục"))


class UploadForm(FlaskForm):
    kind = ChoiceField(_l("Loại tài liệu"))
    file = FileField(_l("Tệp (ảnh, video, PDF)"))
    upload = SubmitField(_l("Tải lên"))


class CommitmentForm(FlaskForm):
    """The review step's submission: the applicant ticks the declaration's commitment themselves."""

    commitment = BooleanField(
        _l(COMMITMENT),
        validators=[InputRequired(_l("Cần đánh dấu ô cam đoan trước khi nộp hồ sơ."))],
    )


def add_error(field, message) -> None:
    """Put ``message`` next to ``field`` (after WTForms' own validation, or without it)."""
    field.errors = [*(field.errors or []), str(message)]


def error_list(form) -> list[tuple[str, str, str]]:
    """Every error of ``form`` as (field id, label, message), rows named by their number, in page order."""
    out: list[tuple[str, str, str]] = []

    def walk(fields, prefix=""):
        for f in fields:
            if f.type == "FieldList":
                for number, entry in enumerate(f.entries, start=1):
                    walk(entry.form, f"{prefix}{f.label.text} {number} – ")
            elif f.type == "FormField":
                walk(f.form, prefix)
            elif f.errors and f.type not in ("CSRFTokenField", "HiddenField"):
                errors = f.errors if isinstance(f.errors, list) else []
                for message in errors:
                    out.append((f.id, f"{prefix}{f.label.text}", str(message)))

    walk(form)
    return out
