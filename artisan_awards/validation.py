"""Turn pydantic's validation errors into short Vietnamese messages keyed by field path."""

from __future__ import annotations

from pydantic import ValidationError

# Marked for translation with N_ so the English catalogue carries them.
from workflows.states import N_

MESSAGES = {
    "missing": N_("Trường này là bắt buộc."),
    "date_parsing": N_("Ngày không hợp lệ (định dạng YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Ngày không hợp lệ (định dạng YYYY-MM-DD)."),
    "date_type": N_("Ngày không hợp lệ (định dạng YYYY-MM-DD)."),
    "string_too_long": N_("Nội dung quá dài."),
    "string_too_short": N_("Trường này không được để trống."),
    "string_type": N_("Cần một chuỗi ký tự."),
    "string_pattern_mismatch": N_("Giá trị có ký tự không hợp lệ."),
    "literal_error": N_("Giá trị không nằm trong danh sách cho phép."),
    "int_parsing": N_("Cần một số nguyên."),
    "int_type": N_("Cần một số nguyên."),
    "int_from_float": N_("Cần một số nguyên."),
    "greater_than_equal": N_("Giá trị quá nhỏ."),
    "less_than_equal": N_("Giá trị quá lớn."),
    "bool_parsing": N_("Cần giá trị đúng/sai."),
    "bool_type": N_("Cần giá trị đúng/sai."),
    "too_long": N_("Danh sách quá dài."),
    "list_type": N_("Cần một danh sách."),
    "model_type": N_("Cần một đối tượng JSON."),
    "dict_type": N_("Cần một đối tượng JSON."),
}


def field_errors(exc: ValidationError, translate=lambda s: s) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "_"
        if err["type"] == "value_error":
            message = str(err.get("msg", "")).removeprefix("Value error, ")
        else:
            message = MESSAGES.get(err["type"], N_("Giá trị không hợp lệ."))
        out.setdefault(loc, translate(message))
    return out
