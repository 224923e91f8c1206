"""Errors raised by the service layer, shared by pages and the API.

Each carries the HTTP status it maps to, a stable machine code and a message in
Vietnamese (marked for translation); the API renders them in the contract's
error shape, the pages as a flash message or form errors.
"""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    message = "Yêu cầu không hợp lệ."

    def __init__(self, message: str | None = None, *, code: str | None = None, fields=None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    message = "Không tìm thấy."


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    message = "Bạn không có quyền thực hiện thao tác này."


class Conflict(ServiceError):
    status = 409
    code = "conflict"
    message = "Thao tác không thực hiện được ở trạng thái hiện tại."


class TransitionRefused(Conflict):
    code = "transition_not_allowed"
    message = "Thao tác này không được phép ở trạng thái hiện tại của hồ sơ."


class ValidationFailed(ServiceError):
    status = 422
    code = "validation_failed"
    message = "Dữ liệu chưa hợp lệ."


class TooLarge(ServiceError):
    status = 413
    code = "too_large"
    message = "Tệp quá lớn."
