"""The forms of the scheme pages (WTForms, CSRF).  The amounts are text (``500.000.000`` as people write
them) parsed by services/schemes.money; the checks that matter are the service's."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workflows.states import N_

from ..forms import VnDateField

# The choices of the definition's ``proposer_kind`` (workflows/programmes/khuyen-cong-schemes), marked for the
# catalogue so that the form shows them in the reader's language.
PROPOSER_KINDS = (N_("Trung tâm khuyến công tỉnh"), N_("Đơn vị thuộc Bộ"))


class YearForm(FlaskForm):
    plan_year = IntegerField(_l("Năm kế hoạch"), validators=[DataRequired(_l("Cần điền thông tin này.")),
                                                             NumberRange(2000, 2100)])
    guidance_number = StringField(_l("Số văn bản hướng dẫn"), validators=[DataRequired(_l("Cần điền thông tin này.")),
                                                                         Length(max=60)])
    guidance_date = VnDateField(_l("Ngày văn bản hướng dẫn"), validators=[DataRequired(_l("Cần điền thông tin này."))])
    guidance_text = TextAreaField(_l("Nội dung hướng dẫn"), validators=[Optional(), Length(max=20000)])
    content_areas = TextAreaField(_l("Nội dung khuyến công của năm (mỗi dòng một nội dung)"),
                                  validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=9000)])
    intake_opens = VnDateField(_l("Bắt đầu đăng ký đề án"), validators=[DataRequired(_l("Cần điền thông tin này."))])
    intake_closes = VnDateField(_l("Hạn đăng ký đề án"), validators=[DataRequired(_l("Cần điền thông tin này."))])


class YearEditForm(YearForm):
    plan_year = None
    intake_opens = None
    intake_closes = None


class LineForm(Form):
    item = StringField(_l("Hạng mục"), validators=[Optional(), Length(max=300)])
    state_amount = StringField(_l("Kinh phí khuyến công quốc gia (đồng)"), validators=[Optional(), Length(max=30)])
    cofinancing = StringField(_l("Kinh phí đối ứng (đồng)"), validators=[Optional(), Length(max=30)])


class ProposalForm(FlaskForm):
    title = StringField(_l("Tên đề án"), validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=300)])
    content_area = SelectField(_l("Nội dung khuyến công"), validators=[DataRequired(_l("Cần điền thông tin này."))])
    province_code = SelectField(_l("Địa điểm thực hiện (tỉnh, thành phố)"),
                                validators=[DataRequired(_l("Cần điền thông tin này."))])
    proposer_kind = SelectField(_l("Đơn vị đề xuất là"), validators=[DataRequired(_l("Cần điền thông tin này."))])
    proposer_name = StringField(_l("Tên đơn vị đề xuất"),
                                validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=300)])
    beneficiaries = TextAreaField(_l("Đối tượng thụ hưởng"),
                                  validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=3000)])
    beneficiary_count = IntegerField(_l("Số cơ sở, người thụ hưởng"), validators=[Optional(), NumberRange(0, 10**7)])
    product_certificate = StringField(_l("Số giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu (nếu có)"),
                                      validators=[Optional(), Length(max=40)])
    summary = TextAreaField(_l("Mục tiêu và nội dung chính"), validators=[Optional(), Length(max=5000)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=50)


class AppraisalForm(FlaskForm):
    score = StringField(_l("Điểm thẩm định (0–100)"), validators=[DataRequired(_l("Cần điền thông tin này.")),
                                                                  Length(max=10)])
    amount = StringField(_l("Kinh phí thẩm định đề xuất (đồng; 0 = không hỗ trợ)"),
                         validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=30)])
    comment = TextAreaField(_l("Nhận xét thẩm định"), validators=[DataRequired(_l("Cần điền thông tin này.")),
                                                                  Length(max=5000)])


class ApprovalForm(FlaskForm):
    decision_number = StringField(_l("Số quyết định phê duyệt kế hoạch"),
                                  validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=60)])
    decision_date = VnDateField(_l("Ngày quyết định"), validators=[DataRequired(_l("Cần điền thông tin này."))])


class RecordForm(FlaskForm):
    on_date = VnDateField(_l("Ngày"), validators=[DataRequired(_l("Cần điền thông tin này."))])
    period = StringField(_l("Kỳ báo cáo"), validators=[Optional(), Length(max=100)])
    progress_percent = IntegerField(_l("Tiến độ (%)"), validators=[Optional(), NumberRange(0, 100)])
    team = StringField(_l("Đoàn kiểm tra"), validators=[Optional(), Length(max=500)])
    reference = StringField(_l("Số biên bản, quyết định"), validators=[Optional(), Length(max=100)])
    amount = StringField(_l("Số tiền quyết toán (đồng)"), validators=[Optional(), Length(max=30)])
    text = TextAreaField(_l("Nội dung"), validators=[DataRequired(_l("Cần điền thông tin này.")), Length(max=20000)])
