"""The President's decision form (the government officer records it on the dossier)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from workflows.states import N_

from ..forms import VnDateField, choices
from ..i18n import TITLE_LABELS

OUTCOMES = {"record_award": N_("Phong tặng danh hiệu"), "record_not_awarded": N_("Không phong tặng")}


class DecisionForm(FlaskForm):
    outcome = RadioField(_l("Quyết định"), default="record_award", validate_choice=False)
    decision_no = StringField(_l("Số quyết định của Chủ tịch nước"), validators=[Optional(), Length(max=60)],
                              render_kw={"placeholder": "1234/QĐ-CTN", "autocomplete": "off"})
    decision_date = VnDateField(_l("Ngày quyết định"), validators=[Optional()])
    title = SelectField(_l("Danh hiệu được phong tặng"), validators=[Optional()])
    comment = TextAreaField(_l("Ghi chú"), validators=[Optional(), Length(max=20000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from flask_babel import gettext

        self.outcome.choices = choices([(k, gettext(v)) for k, v in OUTCOMES.items()])
        self.title.choices = choices([(k, gettext(v)) for k, v in TITLE_LABELS.items()])
