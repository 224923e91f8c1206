from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .payloads import CONSULTATION_OPENED, DECISION_RECORDED, SESSION_CLOSED, STATE_CHANGED

EVENT_LABELS = {
    STATE_CHANGED: _l("Hồ sơ chuyển trạng thái"),
    SESSION_CLOSED: _l("Phiên họp Hội đồng kết thúc"),
    DECISION_RECORDED: _l("Ghi nhận quyết định phong tặng"),
    CONSULTATION_OPENED: _l("Bắt đầu lấy ý kiến nhân dân"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):  # the service says which values are wrong, in Vietnamese
        pass


class LooseRadioField(RadioField):
    def pre_validate(self, form):  # an unknown kind: the service's clear message, not a generic refusal
        pass


class SubscriberForm(FlaskForm):
    """Checked by ``integration.subscribers`` (the same rules for every caller); the form only carries it."""

    name = StringField(_l("Tên bên nhận"), validators=[Optional()])
    url = StringField(_l("Địa chỉ nhận (URL)"), validators=[Optional()])
    kind = LooseRadioField(_l("Loại"), choices=[SelectChoice("webhook", _l("Webhook: các sự kiện đã chọn")),
                                           SelectChoice("partner", _l("Đối tác: đồng bộ trạng thái hồ sơ"))],
                      default="webhook", validators=[Optional()])
    events = MultiCheckboxField(_l("Sự kiện"), choices=[SelectChoice(k, v) for k, v in EVENT_LABELS.items()],
                                validators=[Optional()])
    status_map = TextAreaField(_l("Bảng mã trạng thái của đối tác (JSON)"), validators=[Optional()],
                               render_kw={"rows": 6, "spellcheck": "false"})
    partner_code = StringField(_l("Mã đối tác tiếp nhận"), validators=[Optional()])
    active = BooleanField(_l("Đang hoạt động"), default=True)


class ActionForm(FlaskForm):
    """A button's form (CSRF only)."""
