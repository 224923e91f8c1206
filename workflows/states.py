"""States and actions of a nomination, with the labels people read.

Labels are plain Vietnamese strings marked with ``N_`` so that Babel extracts
them; the application translates them at display time.  Each state has a staff
label (what the secretariat and councils see), a citizen label (what the public
status lookup shows) and the next step a citizen should expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


def N_(text: str) -> str:  # noqa: N802 - gettext "no-op" marker, translated later
    return text


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    CLOSED_INCOMPLETE = "closed_incomplete"
    ACCEPTED = "accepted"
    PROVINCE_REVIEW = "province_review"
    PROVINCE_PASSED = "province_passed"
    PROVINCE_REJECTED = "province_rejected"
    MINISTRY_REVIEW = "ministry_review"
    MINISTRY_PASSED = "ministry_passed"
    MINISTRY_REJECTED = "ministry_rejected"
    PUBLIC_CONSULTATION = "public_consultation"
    ON_HOLD = "on_hold"
    STATE_REVIEW = "state_review"
    STATE_PASSED = "state_passed"
    STATE_REJECTED = "state_rejected"
    FINAL_CONSULTATION = "final_consultation"
    SUBMITTED_TO_PM = "submitted_to_pm"
    SUBMITTED_TO_PRESIDENT = "submitted_to_president"
    AWARDED = "awarded"
    NOT_AWARDED = "not_awarded"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    """Actions people take (the API's ``/actions/{action}``)."""

    SUBMIT = "submit"
    RETURN = "return"
    RESUBMIT = "resubmit"
    CLOSE_INCOMPLETE = "close_incomplete"
    ACCEPT = "accept"
    WITHDRAW = "withdraw"
    FORWARD_TO_MINISTRY = "forward_to_ministry"
    OPEN_CONSULTATION = "open_consultation"
    HOLD = "hold"
    RELEASE = "release"
    FORWARD_TO_STATE = "forward_to_state"
    SUBMIT_TO_PM = "submit_to_pm"
    SUBMIT_TO_PRESIDENT = "submit_to_president"
    RECORD_AWARD = "record_award"
    RECORD_NOT_AWARDED = "record_not_awarded"


class CouncilEvent(StrEnum):
    """Events fired by a council session, never by a person directly."""

    PROVINCE_VOTE_OPENS = "province_vote_opens"
    PROVINCE_PASS = "province_pass"
    PROVINCE_REJECT = "province_reject"
    MINISTRY_PASS = "ministry_pass"
    MINISTRY_REJECT = "ministry_reject"
    STATE_PASS = "state_pass"
    STATE_REJECT = "state_reject"


@dataclass(frozen=True)
class StateInfo:
    staff_label: str
    citizen_label: str
    next_step: str
    final: bool = False


STATE_INFO: dict[State, StateInfo] = {
    State.DRAFT: StateInfo(
        N_("Bản nháp"),
        N_("Hồ sơ đang được soạn, chưa nộp"),
        N_("Người đề nghị hoàn thiện bản khai và nộp hồ sơ trong thời hạn tiếp nhận."),
    ),
    State.SUBMITTED: StateInfo(
        N_("Đã nộp, chờ kiểm tra"),
        N_("Sở Công Thương đã nhận hồ sơ và đang kiểm tra"),
        N_("Sở Công Thương trả lời bằng văn bản trong 10 ngày kể từ khi nhận hồ sơ."),
    ),
    State.RETURNED: StateInfo(
        N_("Trả lại để bổ sung"),
        N_("Hồ sơ cần bổ sung, hoàn thiện"),
        N_("Người đề nghị bổ sung hồ sơ theo hướng dẫn và nộp lại trong 15 ngày."),
    ),
    State.CLOSED_INCOMPLETE: StateInfo(
        N_("Đóng do không bổ sung"),
        N_("Hồ sơ đã đóng vì không được bổ sung đúng hạn"),
        N_("Có thể nộp hồ sơ mới ở đợt xét tặng sau."),
        final=True,
    ),
    State.ACCEPTED: StateInfo(
        N_("Hợp lệ, chờ Hội đồng cấp tỉnh"),
        N_("Hồ sơ hợp lệ, chờ Hội đồng cấp tỉnh xét"),
        N_("Hội đồng cấp tỉnh họp và bỏ phiếu kín."),
    ),
    State.PROVINCE_REVIEW: StateInfo(
        N_("Hội đồng cấp tỉnh đang xét"),
        N_("Hội đồng cấp tỉnh đang xét hồ sơ"),
        N_("Kết quả được công bố trên cổng thông tin điện tử của tỉnh."),
    ),
    State.PROVINCE_PASSED: StateInfo(
        N_("Hội đồng cấp tỉnh đề nghị"),
        N_("Được Hội đồng cấp tỉnh đề nghị xét tặng"),
        N_("Sở Công Thương gửi hồ sơ lên Bộ Công Thương."),
    ),
    State.PROVINCE_REJECTED: StateInfo(
        N_("Không được Hội đồng cấp tỉnh đề nghị"),
        N_("Không đạt ở Hội đồng cấp tỉnh"),
        N_("Có thể đề nghị lại ở đợt xét tặng sau."),
        final=True,
    ),
    State.MINISTRY_REVIEW: StateInfo(
        N_("Chờ Hội đồng chuyên ngành cấp Bộ"),
        N_("Hồ sơ đang ở Bộ Công Thương"),
        N_("Hội đồng chuyên ngành cấp Bộ xét và bỏ phiếu kín."),
    ),
    State.MINISTRY_PASSED: StateInfo(
        N_("Hội đồng cấp Bộ đề nghị"),
        N_("Được Hội đồng chuyên ngành cấp Bộ đề nghị"),
        N_("Danh sách được đăng lấy ý kiến nhân dân trên Cổng thông tin điện tử Chính phủ."),
    ),
    State.MINISTRY_REJECTED: StateInfo(
        N_("Không được Hội đồng cấp Bộ đề nghị"),
        N_("Không đạt ở Hội đồng chuyên ngành cấp Bộ"),
        N_("Có thể đề nghị lại ở đợt xét tặng sau."),
        final=True,
    ),
    State.PUBLIC_CONSULTATION: StateInfo(
        N_("Đang lấy ý kiến nhân dân (trước Hội đồng cấp Nhà nước)"),
        N_("Đang lấy ý kiến nhân dân"),
        N_("Sau thời hạn lấy ý kiến, hồ sơ được trình Hội đồng cấp Nhà nước."),
    ),
    State.ON_HOLD: StateInfo(
        N_("Tạm dừng để xác minh"),
        N_("Tạm dừng để xác minh ý kiến, khiếu nại"),
        N_("Bộ Công Thương xác minh và tiếp tục xử lý hồ sơ."),
    ),
    State.STATE_REVIEW: StateInfo(
        N_("Chờ Hội đồng cấp Nhà nước"),
        N_("Hồ sơ đang được Hội đồng cấp Nhà nước xét"),
        N_("Hội đồng cấp Nhà nước họp và bỏ phiếu kín."),
    ),
    State.STATE_PASSED: StateInfo(
        N_("Hội đồng cấp Nhà nước đề nghị"),
        N_("Được Hội đồng cấp Nhà nước đề nghị"),
        N_("Danh sách được đăng lấy ý kiến nhân dân lần thứ hai."),
    ),
    State.STATE_REJECTED: StateInfo(
        N_("Không được Hội đồng cấp Nhà nước đề nghị"),
        N_("Không đạt ở Hội đồng cấp Nhà nước"),
        N_("Có thể đề nghị lại ở đợt xét tặng sau."),
        final=True,
    ),
    State.FINAL_CONSULTATION: StateInfo(
        N_("Đang lấy ý kiến nhân dân (sau Hội đồng cấp Nhà nước)"),
        N_("Đang lấy ý kiến nhân dân lần thứ hai"),
        N_("Sau thời hạn lấy ý kiến, hồ sơ được trình Thủ tướng Chính phủ."),
    ),
    State.SUBMITTED_TO_PM: StateInfo(
        N_("Đã trình Thủ tướng Chính phủ"),
        N_("Đã trình Thủ tướng Chính phủ"),
        N_("Thủ tướng Chính phủ xem xét, đề nghị Chủ tịch nước."),
    ),
    State.SUBMITTED_TO_PRESIDENT: StateInfo(
        N_("Đã trình Chủ tịch nước"),
        N_("Đã trình Chủ tịch nước"),
        N_("Chủ tịch nước quyết định phong tặng."),
    ),
    State.AWARDED: StateInfo(
        N_("Đã được phong tặng"),
        N_("Đã được Chủ tịch nước phong tặng danh hiệu"),
        N_("Lễ trao tặng do Bộ Công Thương hoặc địa phương tổ chức."),
        final=True,
    ),
    State.NOT_AWARDED: StateInfo(
        N_("Không được phong tặng"),
        N_("Không được phong tặng ở đợt này"),
        N_("Có thể đề nghị lại ở đợt xét tặng sau."),
        final=True,
    ),
    State.WITHDRAWN: StateInfo(
        N_("Đã rút hồ sơ"),
        N_("Hồ sơ đã được rút theo đề nghị của người nộp"),
        N_("Có thể nộp hồ sơ mới ở đợt xét tặng sau."),
        final=True,
    ),
}

# A log row that moves a dossier to a merged province's successor (not a move of the state machine:
# from_state == to_state; artisan_awards/services/law.py, checked by the audit chain).
TRANSFER_PROVINCE = "transfer_province"

ACTION_LABELS: dict[str, str] = {
    Action.SUBMIT: N_("Nộp hồ sơ"),
    Action.RETURN: N_("Trả lại để bổ sung"),
    Action.RESUBMIT: N_("Nộp lại hồ sơ đã bổ sung"),
    Action.CLOSE_INCOMPLETE: N_("Đóng hồ sơ không bổ sung"),
    Action.ACCEPT: N_("Tiếp nhận hồ sơ hợp lệ"),
    Action.WITHDRAW: N_("Rút hồ sơ"),
    Action.FORWARD_TO_MINISTRY: N_("Gửi lên Bộ Công Thương"),
    Action.OPEN_CONSULTATION: N_("Mở lấy ý kiến nhân dân"),
    Action.HOLD: N_("Tạm dừng để xác minh"),
    Action.RELEASE: N_("Tiếp tục xử lý"),
    Action.FORWARD_TO_STATE: N_("Trình Hội đồng cấp Nhà nước"),
    Action.SUBMIT_TO_PM: N_("Trình Thủ tướng Chính phủ"),
    Action.SUBMIT_TO_PRESIDENT: N_("Trình Chủ tịch nước"),
    Action.RECORD_AWARD: N_("Ghi nhận quyết định phong tặng"),
    Action.RECORD_NOT_AWARDED: N_("Ghi nhận không phong tặng"),
    CouncilEvent.PROVINCE_VOTE_OPENS: N_("Hội đồng cấp tỉnh bắt đầu bỏ phiếu"),
    CouncilEvent.PROVINCE_PASS: N_("Hội đồng cấp tỉnh đề nghị"),
    CouncilEvent.PROVINCE_REJECT: N_("Hội đồng cấp tỉnh không đề nghị"),
    CouncilEvent.MINISTRY_PASS: N_("Hội đồng cấp Bộ đề nghị"),
    CouncilEvent.MINISTRY_REJECT: N_("Hội đồng cấp Bộ không đề nghị"),
    CouncilEvent.STATE_PASS: N_("Hội đồng cấp Nhà nước đề nghị"),
    CouncilEvent.STATE_REJECT: N_("Hội đồng cấp Nhà nước không đề nghị"),
    TRANSFER_PROVINCE: N_("Chuyển sang tỉnh, thành phố hợp nhất"),
}

# States in which a council session may put a nomination on its agenda.
AGENDA_STATE = {
    "province": State.ACCEPTED,
    "ministry": State.MINISTRY_REVIEW,
    "state": State.STATE_REVIEW,
}

# States a dossier reaches only after its provincial council proposed it.
PAST_PROVINCE = tuple(s for s in State if s not in (
    State.DRAFT, State.SUBMITTED, State.RETURNED, State.CLOSED_INCOMPLETE, State.ACCEPTED,
    State.PROVINCE_REVIEW, State.PROVINCE_REJECTED, State.WITHDRAWN))
