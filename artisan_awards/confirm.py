"""A confirmation step before an irreversible action, shared by every such form (no JavaScript needed).

A form posts as it always did.  The view asks ``confirmed()``: without a valid confirmation token
it answers ``ask(...)``, a page that says what the action will cause and re-posts the very same
fields with a token (``templates/_confirm.html``, macro ``confirm_form``).  Only that second POST
carries out the action.  The token is signed with the application's secret key and bound to the
user, the path and every posted field, so it confirms exactly what was described: a changed field,
another dossier or another user needs a new confirmation.  It lapses after ``MAX_AGE`` seconds.

The API is not concerned: a client of the API confirms by calling it.
"""

from __future__ import annotations

import hashlib
import json

from flask import current_app, redirect, render_template, request
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from workflows.states import N_, Action

from . import redirects

FIELD = "confirm_token"
NEXT = "confirm_next"  # where the first POST came from (its Referer on this site): where to go after
MAX_AGE = 30 * 60
_SALT = "confirm-irreversible-action"

# Dossier actions that cannot be undone, with what they cause (shown on the confirmation page).
# Submitting is confirmed on the review step (the declaration as it will be printed), holding is
# undone by releasing: neither asks again.
ACTION_CONSEQUENCES: dict[str, tuple[str, ...]] = {
    Action.ACCEPT: (
        N_("Hồ sơ được tiếp nhận và chuyển sang chờ Hội đồng cấp tỉnh xét."),
        N_("Sau bước này không thể trả lại hồ sơ để bổ sung."),
    ),
    Action.RETURN: (
        N_("Hồ sơ được trả lại cho người đề nghị để bổ sung; thời hạn bổ sung bắt đầu tính từ hôm nay."),
        N_("Người đề nghị nhận thông báo kèm lý do bạn ghi."),
    ),
    Action.CLOSE_INCOMPLETE: (
        N_("Hồ sơ bị đóng vì không được bổ sung; không mở lại được."),
        N_("Người đề nghị chỉ có thể nộp hồ sơ mới ở đợt xét tặng sau."),
    ),
    Action.WITHDRAW: (
        N_("Hồ sơ được rút khỏi đợt xét tặng và không khôi phục được."),
    ),
    Action.FORWARD_TO_MINISTRY: (
        N_("Hồ sơ được gửi lên Bộ Công Thương; Sở Công Thương không còn sửa hay trả lại được."),
    ),
    Action.OPEN_CONSULTATION: (
        N_("Tên người được đề nghị được đăng công khai để lấy ý kiến nhân dân; không rút lại được."),
    ),
    Action.FORWARD_TO_STATE: (
        N_("Hồ sơ được chuyển Hội đồng cấp Nhà nước xét."),
    ),
    Action.SUBMIT_TO_PM: (
        N_("Hồ sơ được trình Thủ tướng Chính phủ."),
    ),
    Action.SUBMIT_TO_PRESIDENT: (
        N_("Hồ sơ được trình Chủ tịch nước."),
    ),
    Action.RECORD_AWARD: (
        N_("Danh hiệu được ghi nhận là đã phong tặng và công bố trên trang kết quả."),
    ),
    Action.RECORD_NOT_AWARDED: (
        N_("Kết quả không phong tặng được ghi nhận và công bố; hồ sơ kết thúc."),
    ),
}
ALWAYS = N_("Thao tác này không thể hoàn tác.")


def needs_confirmation(action: str) -> bool:
    return action in ACTION_CONSEQUENCES


def _fields() -> list[tuple[str, str]]:
    """Every posted field but the token and the CSRF token, in a stable order."""
    return [(k, v) for k in sorted(request.form) if k not in (FIELD, NEXT, "csrf_token")
            for v in request.form.getlist(k)]


def _digest() -> str:
    user = current_user.get_id() if current_user.is_authenticated else None
    blob = json.dumps([user, request.path, _fields()], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def token() -> str:
    """A token confirming this request (user, path and fields)."""
    return _serializer().dumps(_digest())


def confirmed() -> bool:
    """True when the POST carries a valid, fresh token for exactly these fields."""
    raw = request.form.get(FIELD)
    if not raw or len(raw) > 500:
        return False
    try:
        return _serializer().loads(raw, max_age=MAX_AGE) == _digest()
    except BadSignature:  # forged, for other fields, or expired (SignatureExpired is a BadSignature)
        return False


def ask(title: str, consequences, *, cancel_url: str, button: str, danger: bool = True,
        table: tuple[list[str], list[list]] | None = None, notes=(), reversible: bool = False,
        params: dict | None = None):
    """The confirmation page: what the action causes, then the same form again with a token.

    ``title``, ``consequences``, ``button`` and ``notes`` are msgids (translated with ``params``);
    ``table`` is (headers, rows) of already readable values (dossiers concerned, deadlines moved).
    """
    return render_template(
        "confirm.html", title=title, consequences=list(consequences), notes=list(notes),
        always=None if reversible else ALWAYS, cancel_url=cancel_url, button=button, danger=danger,
        table=table, params=params or {}, fields=_fields(), token=token(), field_name=FIELD,
        next_name=NEXT, next=redirects.referrer_path(),
    )


def back(default: str):
    """After the action: the page the first POST came from when it was confirmed, else ``redirects.back``."""
    target = redirects.safe_target(request.form.get(NEXT))
    return redirect(target) if target else redirects.back(default)
