"""Errors raised by the service layer, shared by pages and the API.

Each carries the HTTP status it maps to, a stable machine code and a message in
Vietnamese (marked for translation); the API renders them in the contract's
error shape, the pages as a flash message or form errors.
"""

from __future__ import annotations

from workflows.states import N_


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    message = N_("Yêu cầu không hợp lệ.")

    def __init__(self, message: str | None = None, *, code: str | None = None, fields=None,
                 params: dict | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        # Values for %(name)s placeholders, filled in after translation.
        self.params = params or {}

    def text(self, gettext) -> str:
        """The message in the request's language."""
        return gettext(self.message, **self.params)

    def field_texts(self, gettext) -> dict[str, str]:
        return {name: gettext(text, **self.params) for name, text in self.fields.items()}


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"
    message = N_("Cần mã truy cập hợp lệ (Authorization: Bearer ...).")


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    message = N_("Không tìm thấy.")


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    message = N_("Bạn không có quyền thực hiện thao tác này.")


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    message = N_("Thao tác không thực hiện được ở trạng thái hiện tại.")


class TransitionRefused(Conflict):
    code = "transition_not_allowed"
    message = N_("Thao tác này không được phép ở trạng thái hiện tại của hồ sơ.")


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"
    message = N_("Dữ liệu chưa hợp lệ.")


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
    message = N_("Tệp quá lớn.")
