"""What several blueprints share: the bare action form, select choices, and the list pages' filters.

A blueprint imports from here, never from another blueprint's ``forms`` or ``routes``
(``tests/test_architecture.py`` checks that).
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from workflows.states import N_

from .services import queries as lists


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices (WTForms 3.3 wants SelectChoice objects)."""
    return [SelectChoice(value, label) for value, label in pairs]


class VnDateField(DateField):
    """A date field whose parse error is a plain Vietnamese sentence (WTForms has no Vietnamese catalogue)."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        try:
            self.data = datetime.strptime(valuelist[0].strip(), "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("Ngày không hợp lệ: nhập theo dạng ngày/tháng/năm.")) from None


class ActionForm(FlaskForm):
    """A bare form for buttons that only need CSRF and an optional comment."""

    comment = TextAreaField(_l("Ghi chú, lý do"), validators=[Optional(), Length(max=20000)])
    # On returning a dossier: what is missing, one item per line (the request to complete lists them).
    missing = TextAreaField(_l("Danh mục cần bổ sung, hoàn thiện"), validators=[Optional(), Length(max=30000)])


# -- the filters of the dossier lists (province inbox, ministry lists) ----------------------------

# Sort choices offered on the lists (msgids; translated in the template).
SORT_LABELS = {
    "received": N_("Ngày nhận"),
    "updated": N_("Mới cập nhật"),
    "name": N_("Họ tên"),
    "province": N_("Tỉnh, thành phố"),
    "craft": N_("Nghề"),
    "code": N_("Mã hồ sơ"),
}


def list_filters() -> lists.Filters:
    """The list filters of the query string; anything unknown is dropped."""
    args = request.args
    return lists.Filters(
        state=args.get("state") or None,
        round_id=args.get("round_id", type=int),
        title=args.get("title") or None,
        q=(args.get("q") or "").strip()[:100] or None,
        province_code=args.get("province_code") or None,
        overdue_only=bool(args.get("overdue")),
        sort=args.get("sort") or None,
        stage=args.get("stage") if args.get("stage") in lists.STAGE_STATES else None,
        completion=args.get("completion") if args.get("completion") in ("waiting", "expired") else None,
    )


def query_args() -> dict:
    """The page's filters, to carry into pager, sort and export links."""
    return {k: v for k, v in request.args.items() if k not in ("page", "sort")}


# "1.234", as Vietnamese write a whole number with thousands
THOUSANDS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")


class WholeNumberField(IntegerField):
    """A whole number whose parse error is a plain sentence."""

    def process_formdata(self, valuelist):
        if not valuelist or not (valuelist[0] or "").strip():
            self.data = None
            return
        text = valuelist[0].strip()
        if THOUSANDS.fullmatch(text):  # "1.234", as Vietnamese write it
            text = text.replace(".", "")
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            self.data = None
            raise ValueError(_l("Nhập một số nguyên, ví dụ 120."))
        self.data = int(text)
