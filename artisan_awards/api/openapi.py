"""The OpenAPI 3.1 description, assembled from the route table below and the pydantic schemas.

OpenAPI 3.1 uses JSON Schema 2020-12, the dialect pydantic writes (``{"type": "null"}`` in
``anyOf`` for an optional field), so the models' schemas go in as they are. The suite checks that
the document passes openapi-spec-validator, that every ``/api/v1`` route of the application (and
nothing else) is described, that the paths and error codes of shared/api-v1.md are in it, and that a
client generated from it by openapi-python-client files, submits and looks up a dossier
(tests/test_openapi_contract.py; docs/integration.md "The API contract").

A row of ``ROUTES`` is enough for a new endpoint: a path ending in ``.pdf``, ``.csv``, ``.xlsx``,
``.zip`` is described as a file download, ``None`` as body means no body, a pydantic model's name
(registered in ``_schemas``) a JSON body. ``RESPONSES`` gives the JSON answer's schema,
``FILES`` the media types of a file answer whose path has no extension, ``ERROR_CODES`` the
machine codes an endpoint gives beyond the general ones of its statuses.
"""

from __future__ import annotations

import re
from functools import cache

from workflows.machine import HUMAN_ACTIONS
from workflows.states import State

from ..models import MAX_DB_INT
from ..models.core import AttachmentKind
from ..schemas import (
    ActionIn,
    AttendanceIn,
    BallotIn,
    CloseIn,
    CommentIn,
    CommentStatusIn,
    ConflictIn,
    CouncilIn,
    NominationIn,
    RoundIn,
    SessionIn,
    TokenIn,
)

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER = [{"bearer": []}]

# (method, path, summary, auth, request schema name, success status, error statuses)
ROUTES = [
    ("post", "/auth/token", "Lấy mã truy cập (bearer token)", False, "TokenIn", 200, [400, 401, 403, 422, 429]),
    ("post", "/auth/logout", "Kết thúc mã truy cập đang dùng", True, None, 204, [401]),
    ("get", "/me", "Người dùng của mã truy cập", True, None, 200, [401]),
    ("get", "/me/sessions", "Các phiên đăng nhập và mã truy cập đang mở của mình", True, None, 200, [401]),
    ("delete", "/me/sessions/{sid}", "Kết thúc một phiên đăng nhập hoặc mã truy cập", True, None, 204,
     [401, 404]),
    ("get", "/provinces", "Danh sách tỉnh, thành phố", False, None, 200, []),
    ("get", "/rounds", "Các đợt xét tặng", False, None, 200, [422]),
    ("post", "/rounds", "Tạo đợt xét tặng", True, "RoundIn", 201, [400, 401, 403, 422]),
    ("post", "/nominations", "Lập hồ sơ (bản nháp)", True, "NominationIn", 201, [400, 401, 403, 422]),
    ("get", "/nominations", "Danh sách hồ sơ được phép xem", True, None, 200, [401, 403, 422]),
    ("get", "/nominations/{nomination_id}", "Một hồ sơ và lịch sử", True, None, 200, [401, 404]),
    ("patch", "/nominations/{nomination_id}", "Sửa hồ sơ (bản nháp hoặc đã trả lại)", True,
     "NominationIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/nominations/{nomination_id}/attachments", "Tải lên tài liệu minh chứng", True,
     "multipart", 201, [401, 403, 404, 409, 413, 422]),
    ("post", "/nominations/{nomination_id}/actions/{action}", "Thực hiện thao tác trên hồ sơ", True,
     "ActionIn", 200, [400, 401, 403, 404, 409, 422]),
    ("get", "/status", "Tra cứu trạng thái hồ sơ (công khai)", False, None, 200, [404, 429]),
    ("get", "/openapi.json", "Mô tả OpenAPI 3", False, None, 200, []),
    ("get", "/open-data", "Danh mục dữ liệu mở: bộ dữ liệu, địa chỉ tệp CSV/JSON, từ điển dữ liệu (công khai)", False,
     None, 200, []),
    ("post", "/eligibility/check", "Kiểm tra điều kiện xét tặng (chạy thử, công khai)", False,
     "EligibilityCheckIn", 200, [400, 422]),
    # Councils and votes.
    ("post", "/councils", "Thành lập Hội đồng", True, "CouncilIn", 201, [400, 401, 403, 422]),
    ("get", "/councils/{council_id}", "Hội đồng, thành viên và phiên họp", True, None, 200, [401, 403, 404]),
    ("post", "/councils/{council_id}/sessions", "Lập phiên họp và chương trình", True, "SessionIn", 201,
     [400, 401, 403, 404, 422]),
    ("get", "/sessions/{session_id}", "Phiên họp", True, None, 200, [401, 404]),
    ("post", "/sessions/{session_id}/attendance", "Điểm danh", True, "AttendanceIn", 200,
     [400, 401, 403, 404, 409, 422]),
    ("post", "/sessions/{session_id}/open", "Mở bỏ phiếu (đủ số thành viên)", True, None, 200,
     [401, 403, 404, 409]),
    ("post", "/sessions/{session_id}/conflicts", "Kê khai xung đột lợi ích", True, "ConflictIn", 201,
     [400, 401, 403, 404, 409, 422]),
    ("post", "/sessions/{session_id}/ballot", "Bỏ phiếu kín", True, "BallotIn", 201,
     [400, 401, 403, 404, 409, 422]),
    ("post", "/sessions/{session_id}/close", "Kết thúc bỏ phiếu, kiểm phiếu", True, "CloseIn", 200,
     [400, 401, 403, 404, 409, 422]),
    ("get", "/sessions/{session_id}/tally", "Kết quả kiểm phiếu", True, None, 200, [401, 403, 404, 409]),
    # Documents (PDF).
    ("get", "/nominations/{nomination_id}/dossier.pdf", "Hồ sơ PDF: bản khai, tóm tắt, minh chứng", True, None,
     200, [401, 404]),
    ("get", "/nominations/{nomination_id}/declaration.pdf", "Bản khai thành tích (Mẫu 01/02)", True, None,
     200, [401, 404]),
    ("get", "/nominations/{nomination_id}/summary.pdf", "Tóm tắt thành tích (Mẫu 09/10)", True, None,
     200, [401, 404]),
    ("get", "/nominations/{nomination_id}/receipt.pdf", "Giấy biên nhận hồ sơ", True, None, 200, [401, 404]),
    ("get", "/nominations/{nomination_id}/notices", "Các phiếu một cửa gửi người đề nghị (tiếp nhận, yêu cầu bổ sung, "
     "từ chối, xin lỗi và hẹn lại)", True, None, 200, [401, 404]),
    ("get", "/nominations/{nomination_id}/notices/{notice_id}.pdf", "Một phiếu một cửa (PDF, như đã gửi)", True, None,
     200, [401, 404]),
    ("get", "/sessions/{session_id}/minutes.pdf", "Biên bản họp (Mẫu 05)", True, None, 200, [401, 403, 404, 409]),
    ("get", "/sessions/{session_id}/tally.pdf", "Biên bản kiểm phiếu (Mẫu 06)", True, None, 200,
     [401, 403, 404, 409]),
    ("get", "/sessions/{session_id}/ballot.pdf", "Phiếu bầu để in (Mẫu 07/08)", True, None, 200, [401, 403, 404]),
    ("get", "/sessions/{session_id}/list.pdf", "Danh sách đề nghị (Mẫu 04)", True, None, 200, [401, 403, 404, 409]),
    ("get", "/sessions/{session_id}/submission-letter.pdf", "Tờ trình (Mẫu 03)", True, None, 200,
     [401, 403, 404, 409]),
    ("get", "/public/consultations.pdf", "Danh sách lấy ý kiến nhân dân của một đợt (PDF)", False, None, 200,
     [404, 422]),
    # Public consultation.
    ("get", "/privacy/notice", "Thông báo xử lý dữ liệu cá nhân đang áp dụng và các mục đích tùy chọn", False,
     None, 200, []),
    ("get", "/public/consultations", "Danh sách đang lấy ý kiến nhân dân", False, None, 200, []),
    ("post", "/public/consultations/{nomination_id}/comments", "Gửi ý kiến, khiếu nại", False,
     "CommentIn", 201, [400, 404, 422, 429]),
    ("post", "/comments/{comment_id}/status", "Kết luận xác minh ý kiến", True, "CommentStatusIn", 200,
     [400, 401, 403, 404, 422]),
    # The law's hard cases (api/hard_cases.py).
    ("post", "/nominations/{nomination_id}/death", "Ghi nhận nghệ nhân đã mất (chuyển sang truy tặng)", True,
     "multipart-death", 201, [400, 401, 403, 404, 409, 413, 422]),
    ("post", "/nominations/{nomination_id}/arrival", "Ghi ngày hồ sơ giấy đến Sở và số sổ tiếp nhận", True,
     "ArrivalIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/nominations/{nomination_id}/exclusion-override", "Cho phép ngoại lệ Điều 2 khoản 3 (có lý do)",
     True, "ExclusionOverrideIn", 201, [400, 401, 403, 404, 409, 422]),
    ("post", "/nominations/{nomination_id}/special-craft", "Quyết định của Hội đồng về nghề đặc thù (người chủ trì "
     "phiên họp đang mở ghi)", True, "SpecialCraftIn", 201, [400, 401, 403, 404, 422]),
    ("post", "/councils/{council_id}/special_crafts", "Quyết định của Hội đồng về nghề đặc thù (cơ quan thường trực "
     "của Hội đồng ghi)", True, "CouncilSpecialCraftIn", 201, [400, 401, 403, 404, 409, 422]),
    # The law's calendar, provinces' intake deadlines, the round's record (api/law.py).
    ("get", "/holidays", "Lịch ngày nghỉ lễ, nghỉ bù và ngày làm bù (tính hạn theo ngày làm việc)", False, None, 200,
     [422]),
    ("post", "/holidays", "Thêm hoặc sửa một ngày trong lịch (quản trị hệ thống)", True, "HolidayIn", 201,
     [400, 401, 403, 422]),
    ("get", "/rounds/{round_id}/provinces/{code}", "Hạn tiếp nhận hồ sơ của một tỉnh trong đợt", True, None, 200,
     [401, 403, 404]),
    ("put", "/rounds/{round_id}/provinces/{code}", "Đặt (hoặc bỏ) hạn tiếp nhận riêng của tỉnh, trong thời hạn của đợt",
     True, "IntakeIn", 200, [400, 401, 403, 404, 422]),
    ("get", "/rounds/{round_id}/report", "Báo cáo kết quả xét tặng của đợt (JSON; CSV, Excel hoặc PDF với ?format=)",
     True, None, 200, [401, 403, 404, 422]),
    # Every other programme, from its definition (api/programmes.py, docs/programmes.md "API").
    ("get", "/programmes", "Các chương trình (ngoài danh hiệu nghệ nhân): phiên bản, tên, các cấp xét", False, None,
     200, []),
    ("get", "/programmes/{programme_id}", "Một chương trình: phiên bản đang áp dụng và định nghĩa (trường, cấp xét, "
     "trạng thái, thao tác)", False, None, 200, [404, 422]),
    ("post", "/programmes/{programme_id}/dossiers", "Lập hồ sơ của chương trình (bản nháp) trong một đợt", True,
     "ProgrammeDossierIn", 201, [400, 401, 403, 404, 422]),
    ("get", "/programme-dossiers", "Các hồ sơ của các chương trình khác được phép xem (lọc, phân trang)", True, None,
     200, [401, 422]),
    ("get", "/programme-dossiers/{dossier_id}", "Một hồ sơ của chương trình: trạng thái, trường, lịch sử, thao tác "
     "được phép", True, None, 200, [401, 404]),
    ("post", "/programme-dossiers/{dossier_id}/actions/{action}", "Thực hiện một thao tác của định nghĩa", True,
     "ProgrammeActionIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/programme-dossiers/{dossier_id}/decision", "Ghi quyết định của một cấp xét (bỏ phiếu, chấm điểm, "
     "thẩm định)", True, "ProgrammeDecisionIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/programme-dossiers/{dossier_id}/evidence", "Tải lên tài liệu minh chứng của hồ sơ chương trình", True,
     "multipart-programme", 201, [401, 403, 404, 409, 413, 422]),
    # National khuyến công schemes (api/schemes.py, docs/programmes.md).
    ("get", "/scheme-years", "Các năm kế hoạch khuyến công quốc gia", True, None, 200, [401]),
    ("post", "/scheme-years", "Mở năm kế hoạch: văn bản hướng dẫn, nội dung khuyến công (Cục)", True,
     "SchemeYearIn", 201, [400, 401, 403, 422]),
    ("get", "/scheme-years/{round_id}", "Một năm kế hoạch", True, None, 200, [401, 404]),
    ("patch", "/scheme-years/{round_id}", "Sửa hướng dẫn và danh sách nội dung của năm (Cục)", True,
     "SchemeYearPatch", 200, [400, 401, 403, 404, 422]),
    ("post", "/scheme-years/{round_id}/schemes", "Đề xuất đề án với các dòng kinh phí (bản nháp)", True,
     "SchemeIn", 201, [400, 401, 403, 404, 422]),
    ("get", "/scheme-years/{round_id}/appraisal", "Danh sách thẩm định xếp hạng, có ưu tiên sản phẩm tiêu biểu",
     True, None, 200, [401, 403, 404]),
    ("get", "/scheme-years/{round_id}/plan", "Kế hoạch của năm: tổng theo địa phương, đơn vị, nội dung "
     "(JSON; CSV hoặc Excel với ?format=)", True, None, 200, [401, 404, 422]),
    ("post", "/scheme-years/{round_id}/plan/approval", "Ghi nhận Bộ phê duyệt kế hoạch của năm", True,
     "PlanApprovalIn", 200, [400, 401, 403, 404, 409, 422]),
    ("get", "/schemes/{scheme_id}", "Một đề án: kinh phí, thẩm định, ưu tiên, theo dõi", True, None, 200, [401, 404]),
    ("put", "/schemes/{scheme_id}", "Sửa đề án (bản nháp hoặc được trả lại)", True, "SchemeIn", 200,
     [400, 401, 403, 404, 409, 422]),
    ("post", "/schemes/{scheme_id}/appraisal", "Thẩm định đề án: điểm, nhận xét, kinh phí (Cục)", True,
     "AppraisalIn", 200, [400, 401, 403, 404, 409, 422]),
    ("post", "/schemes/{scheme_id}/records", "Báo cáo tiến độ, kiểm tra, nghiệm thu, quyết toán", True,
     "SchemeRecordIn", 201, [400, 401, 403, 404, 409, 422]),
    # Partner systems (api/intake.py, docs/integration.md): RFC 9421 signed requests, no bearer token.
    ("post", "/intake/dossiers", "Nhận hồ sơ từ hệ thống đối tác (yêu cầu ký RFC 9421; multipart: dossier và tệp)",
     False, None, 201, [400, 401, 403, 409, 413, 422, 429]),
    ("get", "/intake/dossiers/{external_code}", "Trạng thái một hồ sơ của hệ thống đối tác, theo mã của họ (ký "
     "RFC 9421)", False, None, 200, [401, 403, 404, 429]),
]

PARAMS = {
    "/nominations": [
        {"name": n, "in": "query", "required": False, "schema": s}
        for n, s in [
            ("state", {"type": "string", "enum": [s.value for s in State]}),
            ("province_code", {"type": "string"}),
            ("round_id", {"type": "integer"}),
            ("title", {"type": "string", "enum": ["people", "meritorious"]}),
            ("q", {"type": "string", "maxLength": 100}),
            ("completion", {"type": "string", "enum": ["waiting", "expired"]}),
            ("page", {"type": "integer", "minimum": 1}),
            ("per_page", {"type": "integer", "minimum": 1, "maximum": 100}),
        ]
    ],
    "/status": [
        {"name": "code", "in": "query", "required": True, "schema": {"type": "string"},
         "description": "Mã hồ sơ in trên giấy biên nhận (hoa thường, khoảng trắng và dấu gạch không quan trọng)."},
        {"name": "key", "in": "query", "required": True, "schema": {"type": "string"},
         "description": "Mã tra cứu nhận khi nộp hồ sơ (access_key)."},
    ],
    "/provinces": [
        {"name": "all", "in": "query", "required": False, "schema": {"type": "string", "enum": ["0", "1", "true"]},
         "description": "1: also the former units (merged in 2025), each with its successor and merger date."},
        {"name": "include_inactive", "in": "query", "required": False, "deprecated": True,
         "schema": {"type": "string", "enum": ["0", "1", "true"]}, "description": "The older spelling of ?all=1."},
    ],
    "/public/consultations.pdf": [
        {"name": "round_id", "in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}},
        {"name": "window", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["public", "final"], "default": "public"}},
    ],
}
PARAMS["/scheme-years/{round_id}/plan"] = [
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["csv", "xlsx"]},
     "description": "Không có: JSON. csv hoặc xlsx: tệp tải về (như trang kế hoạch)."}]
PARAMS["/programme-dossiers"] = [
    {"name": n, "in": "query", "required": False, "schema": s}
    for n, s in [("programme_id", {"type": "string"}), ("round_id", {"type": "integer"}), ("state", {"type": "string"}),
                 ("province_code", {"type": "string"}), ("page", {"type": "integer", "minimum": 1}),
                 ("per_page", {"type": "integer", "minimum": 1, "maximum": 100})]]
PARAMS["/rounds"] = [
    {"name": "programme_id", "in": "query", "required": False,
     "schema": {"type": "string", "default": "artisan-titles"},
     "description": "Chương trình của các đợt (mặc định: xét tặng danh hiệu nghệ nhân); "
                    "mã không có trong danh mục chương trình: 422."}]
PARAMS["/holidays"] = [{"name": "year", "in": "query", "required": False,
                        "schema": {"type": "integer", "minimum": 1900, "maximum": 2200}}]
PARAMS["/rounds/{round_id}/report"] = [
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": ["csv", "xlsx", "pdf"]},
     "description": "Không có: JSON. csv, xlsx hoặc pdf: tệp tải về (như trang báo cáo của đợt)."}]
# ?archival=1: the PDF/A-3 copy for the archive (docs/documents.md).
for _kind in ("dossier", "declaration", "summary", "receipt"):
    PARAMS[f"/nominations/{{nomination_id}}/{_kind}.pdf"] = [
        {"name": "archival", "in": "query", "required": False, "schema": {"type": "string", "enum": ["1", "true"]},
         "description": "Bản lưu trữ PDF/A."}]

# The media type of a download, by the path's extension.
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".zip": "application/zip",
}
# Downloads whose path has no extension (the format chosen by a parameter): (method, path) -> media types.
# With an entry in RESPONSES too, the JSON answer (no parameter) is described beside the files.
FILES: dict[tuple[str, str], list[str]] = {
    ("get", "/rounds/{round_id}/report"): [FILE_TYPES[".csv"], FILE_TYPES[".xlsx"], FILE_TYPES[".pdf"]],
    ("get", "/scheme-years/{round_id}/plan"): [FILE_TYPES[".csv"], FILE_TYPES[".xlsx"]],
}

# The machine codes (``error.code``) every endpoint may give with a status, then those of one endpoint.
GENERAL_CODES = {
    400: ["bad_request"],
    401: ["unauthorized"],
    403: ["forbidden"],
    404: ["not_found"],
    409: ["transition_not_allowed", "conflict"],
    413: ["too_large"],
    422: ["validation_failed"],
    429: ["rate_limited"],
}
_NOMINATION_404 = {404: ["nomination_not_found"]}
_SESSION_404 = {404: ["session_not_found"]}
_DOSSIER_404 = {404: ["dossier_not_found"]}
# The contract's v1.1 action that moves no state (a merged province's dossier to its successor, api/routes.py).
TRANSFER = "transfer"
# The contract's v1.1 action recording a nominee's death (the same as POST /nominations/{id}/death).
RECORD_DEATH = "record_death"

ERROR_CODES: dict[tuple[str, str], dict[int, list[str]]] = {
    ("get", "/programmes/{programme_id}"): {404: ["programme_not_found"]},
    ("post", "/programmes/{programme_id}/dossiers"): {404: ["programme_not_found", "round_not_found"],
                                                      422: ["wrong_form"]},
    ("get", "/programme-dossiers/{dossier_id}"): _DOSSIER_404,
    ("post", "/programme-dossiers/{dossier_id}/actions/{action}"): {404: ["dossier_not_found", "unknown_action"]},
    ("post", "/programme-dossiers/{dossier_id}/decision"): {404: ["dossier_not_found", "level_not_found"],
                                                            422: ["no_decision"]},
    ("post", "/programme-dossiers/{dossier_id}/evidence"): {
        **_DOSSIER_404, 409: ["not_editable"], 413: ["too_many_files", "dossier_too_large"]},
    ("post", "/auth/token"): {401: ["invalid_credentials"], 403: ["email_not_confirmed"], 429: ["login_throttled"]},
    ("post", "/rounds"): {422: ["legal_minimum"]},
    ("get", "/nominations/{nomination_id}"): _NOMINATION_404,
    ("patch", "/nominations/{nomination_id}"): {**_NOMINATION_404, 409: ["not_editable"]},
    ("post", "/nominations/{nomination_id}/attachments"): {
        **_NOMINATION_404, 409: ["not_editable"], 413: ["too_many_files", "dossier_too_large"]},
    ("post", "/nominations/{nomination_id}/actions/{action}"): {
        404: ["nomination_not_found", "unknown_action"],
        409: ["excluded_by_article_2_3", "completion_period_running", "session_open", "complaints_open",
              "not_merged", "on_open_agenda"]},
    ("get", "/councils/{council_id}"): {404: ["council_not_found"]},
    ("post", "/councils/{council_id}/sessions"): {404: ["council_not_found"]},
    ("get", "/sessions/{session_id}"): _SESSION_404,
    ("post", "/sessions/{session_id}/attendance"): {**_SESSION_404, 409: ["session_state"]},
    ("post", "/sessions/{session_id}/open"): {**_SESSION_404, 409: ["session_state", "quorum_not_met", "empty_agenda"]},
    ("post", "/sessions/{session_id}/conflicts"): {**_SESSION_404, 409: ["already_voted", "duplicate"]},
    ("post", "/sessions/{session_id}/ballot"): {**_SESSION_404, 409: ["already_voted", "session_state"]},
    ("post", "/sessions/{session_id}/close"): {
        **_SESSION_404, 409: ["session_state", "ballots_missing", "ballot_box_mismatch", "ballot_box_unreadable"]},
    ("get", "/sessions/{session_id}/tally"): {**_SESSION_404, 409: ["session_not_closed"]},
    ("get", "/public/consultations.pdf"): {404: ["round_not_found"]},
    ("post", "/public/consultations/{nomination_id}/comments"): {404: ["not_in_consultation"]},
    ("post", "/nominations/{nomination_id}/death"): {
        **_NOMINATION_404, 409: ["posthumous_switch_disabled", "death_after_decision", "already_posthumous"]},
    ("post", "/nominations/{nomination_id}/arrival"): {**_NOMINATION_404, 409: ["not_submitted"]},
    ("post", "/nominations/{nomination_id}/exclusion-override"): {
        **_NOMINATION_404, 403: ["override_disabled"], 409: ["not_excluded"]},
    ("post", "/nominations/{nomination_id}/special-craft"): {**_NOMINATION_404, 403: ["not_presiding"]},
    ("post", "/councils/{council_id}/special_crafts"): {
        403: ["not_secretariat"], 404: ["council_not_found"], 409: ["not_on_agenda"]},
    ("get", "/rounds/{round_id}/provinces/{code}"): {404: ["round_not_found", "province_not_found"]},
    ("put", "/rounds/{round_id}/provinces/{code}"): {404: ["round_not_found", "province_not_found"]},
    ("get", "/rounds/{round_id}/report"): {404: ["round_not_found"]},
    ("get", "/scheme-years/{round_id}"): {404: ["scheme_year_not_found"]},
    ("patch", "/scheme-years/{round_id}"): {404: ["scheme_year_not_found"]},
    ("post", "/scheme-years/{round_id}/schemes"): {404: ["scheme_year_not_found"]},
    ("get", "/scheme-years/{round_id}/appraisal"): {404: ["scheme_year_not_found"]},
    ("get", "/scheme-years/{round_id}/plan"): {404: ["scheme_year_not_found", "plan_not_approved"]},
    ("post", "/scheme-years/{round_id}/plan/approval"): {
        404: ["scheme_year_not_found"], 409: ["plan_approved", "nothing_to_approve", "appraisal_pending"]},
    ("get", "/schemes/{scheme_id}"): {404: ["scheme_not_found"]},
    ("put", "/schemes/{scheme_id}"): {404: ["scheme_not_found"]},
    ("post", "/schemes/{scheme_id}/appraisal"): {404: ["scheme_not_found", "level_not_found"]},
    ("post", "/schemes/{scheme_id}/records"): {404: ["scheme_not_found", "unknown_record"]},
}
for _kind in ("minutes", "tally", "list", "submission-letter"):
    ERROR_CODES[("get", f"/sessions/{{session_id}}/{_kind}.pdf")] = {**_SESSION_404, 409: ["session_not_closed"]}

ERROR_TEXT = {
    400: "Yêu cầu không hợp lệ (JSON sai cú pháp, thiếu nội dung).",
    401: "Thiếu hoặc sai mã truy cập.",
    403: "Vai trò hoặc tỉnh không được phép.",
    404: "Không có, hoặc không được phép xem.",
    409: "Không thực hiện được ở trạng thái hiện tại.",
    413: "Tệp hoặc hồ sơ quá lớn.",
    422: "Dữ liệu chưa hợp lệ (chi tiết theo trường trong error.fields).",
    429: "Quá nhiều yêu cầu; thử lại sau số giây ở Retry-After.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
_MOMENT = {"type": "string", "format": "date-time"}
_OBJECT = {"type": "object"}
_DAY_KIND = {"type": "string", "enum": ["calendar", "working"]}

# Answers (JSON Schema 2020-12). Objects allow more properties: the contract adds fields, never removes.
ANSWER_SCHEMAS: dict[str, dict] = {
    # api/programmes.py (services/programme_dossiers.programme_out, dossier_out)
    "Programme": {"type": "object", "required": ["id", "version", "effective_from", "title", "versions", "levels"],
                  "description": "A programme version; GET /programmes/{programme_id} adds its definition: initial, "
                                 "fields, name_field, evidence, states, actions, events, transitions.",
                  "properties": {"id": {"type": "string"}, "version": {"type": "string"},
                                 "effective_from": {"type": "string", "format": "date"}, "title": {"type": "string"},
                                 "versions": {"type": "array", "items": {"type": "object"}},
                                 "levels": {"type": "array", "items": {"type": "object"}},
                                 "fields": {"type": "array", "items": {"type": "object"}},
                                 "states": {"type": "array", "items": {"type": "object"}},
                                 "actions": {"type": "array", "items": {"type": "object"}}}},
    "ProgrammeDossier": {"type": "object", "required": [
        "id", "programme_id", "programme_version", "state", "state_label", "stage", "fields", "allowed_actions",
        "decisions", "evidence", "history"], "properties": {
        "id": {"type": "integer"}, "code": {"type": ["string", "null"]}, "programme_id": {"type": "string"},
        "programme_version": {"type": "string"}, "round_id": {"type": "integer"},
        "province_code": {"type": "string"}, "name": {"type": "string"}, "state": {"type": "string"},
        "state_label": {"type": "string"}, "citizen_label": {"type": "string"}, "next_step": {"type": "string"},
        "final": {"type": "boolean"}, "stage": {"type": "integer"}, "fields": {"type": "object"},
        "owner": {"type": "boolean"}, "may_add_evidence": {"type": "boolean"},
        "allowed_actions": {"type": "array", "items": {"type": "object", "required": ["id", "label"]}},
        "decisions": {"type": "array", "items": {"type": "object", "required": ["level", "name", "kind"]}},
        "evidence": {"type": "array", "items": {"type": "object"}},
        "history": {"type": "array", "items": {"type": "object"}}}},
    "Token": {"type": "object", "required": ["token", "expires_at"], "properties": {
        "token": _STR, "expires_at": _MOMENT}},
    "Me": {"type": "object", "required": ["email", "full_name", "roles", "province_code"], "properties": {
        "email": _STR, "full_name": _STR, "roles": {"type": "array", "items": _STR},
        "province_code": _nullable(_STR)}},
    "LoginSession": {"type": "object", "required": ["id", "kind", "created_at", "current"], "properties": {
        "id": {"type": "string", "pattern": "^(web|api)-[0-9]+$"}, "kind": {"type": "string", "enum": ["web", "api"]},
        "created_at": _nullable(_MOMENT), "last_seen_at": _nullable(_MOMENT), "device": _nullable(_STR),
        "client_address": _nullable(_STR), "current": {"type": "boolean"}}},
    "Province": {"type": "object", "required": ["code", "name", "active"], "properties": {
        "code": _STR, "name": _STR, "full_name": _nullable(_STR), "active": {"type": "boolean"},
        "successor_code": _nullable(_STR), "merged_on": _nullable(_DATE)}},
    "Round": {"type": "object", "required": ["id", "number", "name", "status"], "properties": {
        "id": {"type": "integer"}, "number": {"type": "integer"}, "name": _STR, "status": _STR,
        "programme_id": _STR, "programme_version": _STR,
        "governing_decree": _STR, "intake_opens": _nullable(_DATE), "intake_closes": _nullable(_DATE),
        "reply_days": _nullable({"type": "integer"}), "completion_days": _nullable({"type": "integer"}),
        "consultation_days": _nullable({"type": "integer"}), "consultation_windows": _nullable({"type": "integer"}),
        "deadlines": {"type": "object", "additionalProperties": _nullable(_STR)},
        "day_kinds": {"type": "object", "required": ["reply", "completion", "consultation"], "properties": {
            w: _DAY_KIND for w in ("reply", "completion", "consultation")}},
        **{f"{w}_day_kind": _DAY_KIND for w in ("reply", "completion", "consultation")}}},
    "HistoryEntry": {"type": "object", "required": ["from", "to", "action", "at"], "properties": {
        "from": _nullable(_STR), "to": _STR, "action": _STR, "actor": _nullable(_STR), "at": _nullable(_MOMENT),
        "comment": _nullable(_STR), "missing": {"type": "array", "items": _STR}}},
    "NominationOut": {
        "type": "object",
        "description": "NominationIn as stored, plus the fields below (shared/api-v1.md). ``access_key`` only in "
                       "the answer to the applicant's ``submit``: keep it, with ``code``, for GET /status.",
        "required": ["id", "code", "state", "state_label", "province_code"],
        "properties": {
            "id": {"type": "integer"}, "state": {"type": "string", "enum": [s.value for s in State]},
            "code": {**_nullable(_STR), "description": "Mã hồ sơ, cấp khi nộp (null khi còn là bản nháp)."},
            "state_label": _STR, "province_code": _nullable(_STR), "round_id": {"type": "integer"},
            "title": {"type": "string", "enum": ["people", "meritorious"]}, "posthumous": {"type": "boolean"},
            "nominee": _OBJECT, "governing_decree": _nullable(_STR),
            "created_at": _nullable(_MOMENT), "updated_at": _nullable(_MOMENT), "submitted_at": _nullable(_MOMENT),
            "reply_due": _nullable(_DATE), "completion_due": _nullable(_DATE), "consultation_ends": _nullable(_DATE),
            "decision_no": _nullable(_STR), "decision_date": _nullable(_DATE), "award": _nullable(_ref("Award")),
            "attachments": {"type": "array", "items": _OBJECT},
            "history": {"type": "array", "items": _ref("HistoryEntry")},
            "eligibility": _OBJECT, "access_key": _STR,
        },
    },
    "Award": {"type": "object", "description": "The President's decision and the bonus that comes with it.",
              "required": ["decision_no", "decision_date", "coefficient", "base_salary_vnd", "bonus_vnd"],
              "properties": {"decision_no": _nullable(_STR), "decision_date": _nullable(_DATE),
                             "title": _nullable({"type": "string", "enum": ["people", "meritorious"]}),
                             "coefficient": {"type": "number"}, "base_salary_vnd": {"type": "integer"},
                             "bonus_vnd": {"type": "integer"}}},
    "NominationPage": {"type": "object", "required": ["items", "total", "page"], "properties": {
        "items": {"type": "array", "items": _ref("NominationOut")}, "total": {"type": "integer"},
        "page": {"type": "integer"}}},
    "Attachment": {"type": "object", "required": ["id", "kind", "name", "size", "sha256"], "properties": {
        "id": {"type": "integer"}, "kind": _STR, "name": _STR, "content_type": _nullable(_STR),
        "size": {"type": "integer"}, "sha256": _STR, "removed": {}, "notice": _nullable(_STR)}},
    "Status": {"type": "object", "required": ["code", "state", "state_label", "updated_at", "next_step"],
               "properties": {"code": _STR, "state": {"type": "string", "enum": [s.value for s in State]},
                              "state_label": _STR, "updated_at": _nullable(_MOMENT), "next_step": _nullable(_STR)}},
    "EligibilityOut": {"type": "object", "required": ["eligible", "criteria"], "properties": {
        "eligible": _nullable({"type": "boolean"}),
        "criteria": {"type": "array", "items": {
            "type": "object", "required": ["id", "result", "detail"], "properties": {
                "id": _STR, "result": {"type": "string", "enum": ["pass", "fail", "needs_review"]}, "detail": _STR}}}}},
    "Council": {"type": "object", "required": ["id", "level", "name", "members", "sessions"], "properties": {
        "id": {"type": "integer"}, "level": {"type": "string", "enum": ["province", "ministry", "state"]},
        "round_id": {"type": "integer"}, "province_code": _nullable(_STR), "name": _STR,
        "members": {"type": "array", "items": _OBJECT}, "sessions": {"type": "array", "items": _ref("Session")}}},
    "Session": {"type": "object", "required": ["id", "council_id", "status"], "properties": {
        "id": {"type": "integer"}, "council_id": {"type": "integer"}, "held_on": _nullable(_DATE),
        "place": _nullable(_STR), "status": _STR, "present": {"type": "array", "items": _STR},
        "ballots_cast": {"type": "integer"}, "opened_at": _nullable(_MOMENT), "closed_at": _nullable(_MOMENT),
        "nomination_ids": {"type": "array", "items": {"type": "integer"}}}},
    "TallyRow": {"type": "object", "required": ["nomination_id", "yes", "no", "invalid", "passed"], "properties": {
        "nomination_id": {"type": "integer"}, "yes": {"type": "integer"}, "no": {"type": "integer"},
        "invalid": {"type": "integer"}, "members_total": {"type": "integer"}, "present": {"type": "integer"},
        "quorum_met": {"type": "boolean"}, "passed": {"type": "boolean"}}},
    "Consultation": {"type": "object", "required": ["nomination_id", "code", "full_name", "window_ends"],
                     "properties": {"nomination_id": {"type": "integer"}, "code": _STR, "full_name": _STR,
                                    "craft": _nullable(_STR), "province_code": _nullable(_STR),
                                    "province": _nullable(_STR), "title": _STR, "window": _STR,
                                    "window_ends": _nullable(_DATE)}},
    "SpecialCraft": {"type": "object", "required": ["nomination_id", "council_id", "session_id", "special",
                                                    "rationale"], "properties": {
        "id": {"type": "integer"}, "nomination_id": {"type": "integer"}, "council_id": {"type": "integer"},
        "session_id": {"type": "integer"}, "special": {"type": "boolean"}, "rationale": _STR,
        "decided_at": _nullable(_MOMENT), "eligibility": _OBJECT}},
    "Holiday": {"type": "object", "required": ["date", "name", "kind"], "properties": {
        "date": _DATE, "name": _STR, "kind": {"type": "string", "enum": ["holiday", "day_off", "make_up_workday"]},
        "source": _nullable(_STR), "confidence": _nullable({"type": "string", "enum": ["H", "M", "L"]})}},
    "ProvinceIntake": {"type": "object", "required": ["round_id", "province_code", "intake_closes"], "properties": {
        "round_id": {"type": "integer"}, "province_code": _STR, "province": _STR, "intake_opens": _DATE,
        "intake_closes": {**_DATE, "description": "Hạn của tỉnh: hạn riêng nếu đã đặt, không thì hạn của đợt."},
        "own_deadline": {"type": "boolean"}, "round_intake_closes": _DATE}},
    "CouncilCounts": {"type": "object", "required": ["received", "passed", "rejected"], "properties": {
        m: {"type": "integer"} for m in ("received", "passed", "rejected")}},
    "ReportFigures": {"type": "object", "required": ["levels", "awarded", "not_awarded", "withdrawn", "on_hold",
                                                      "posthumous"], "properties": {
        "levels": {"type": "object", "required": ["province", "ministry", "state"],
                   "properties": {lv: _ref("CouncilCounts") for lv in ("province", "ministry", "state")}},
        **{m: {"type": "integer"} for m in ("awarded", "not_awarded", "withdrawn", "on_hold", "posthumous")}}},
    "RoundReport": {"allOf": [_ref("ReportFigures"), {
        "type": "object", "required": ["by_title", "by_province"],
        "description": "``levels``: the counts each council session stored when it closed. ``by_title`` and "
                       "``by_province``: the same figures per title and per province.",
        "properties": {
            "round_id": {"type": "integer"}, "round": _STR,
            "by_title": {"type": "object", "additionalProperties": _ref("ReportFigures")},
            "by_province": {"type": "array", "items": {"allOf": [_ref("ReportFigures"), {
                "type": "object", "required": ["province_code"], "properties": {
                    "province_code": _STR, "name": _STR, "filed_in": {"type": "array", "items": _STR}}}]}},
            "mismatch": {"type": "array", "items": _STR}}}]},
    "Notice": {"type": "object", "required": ["id", "kind", "issued_at", "pdf"], "properties": {
        "id": {"type": "integer"}, "kind": _STR, "name": _nullable(_STR), "number": _nullable(_STR),
        "issued_at": _MOMENT, "due_on": _nullable(_DATE), "missing": {"type": "array", "items": _STR},
        "signed": {"type": "boolean"}, "sha256": _nullable(_STR), "pdf": _STR}},
}

_LIST = {"type": "array"}
# The JSON answer of a route that is not a download: (method, path) -> schema. Unlisted: any JSON object.
RESPONSES: dict[tuple[str, str], dict] = {
    ("get", "/programmes"): {**_LIST, "items": _ref("Programme")},
    ("get", "/programmes/{programme_id}"): _ref("Programme"),
    ("post", "/programmes/{programme_id}/dossiers"): _ref("ProgrammeDossier"),
    ("get", "/programme-dossiers/{dossier_id}"): _ref("ProgrammeDossier"),
    ("get", "/programme-dossiers"): {"type": "object", "required": ["items", "total", "page"], "properties": {
        "items": {"type": "array", "items": _ref("ProgrammeDossier")}, "total": {"type": "integer"},
        "page": {"type": "integer"}}},
    ("post", "/programme-dossiers/{dossier_id}/actions/{action}"): _ref("ProgrammeDossier"),
    ("post", "/programme-dossiers/{dossier_id}/decision"): _ref("ProgrammeDossier"),
    ("post", "/auth/token"): _ref("Token"),
    ("get", "/me"): _ref("Me"),
    ("get", "/me/sessions"): {**_LIST, "items": _ref("LoginSession")},
    ("get", "/provinces"): {**_LIST, "items": _ref("Province")},
    ("get", "/rounds"): {**_LIST, "items": _ref("Round")},
    ("post", "/rounds"): _ref("Round"),
    ("post", "/nominations"): _ref("NominationOut"),
    ("get", "/nominations"): _ref("NominationPage"),
    ("get", "/nominations/{nomination_id}"): _ref("NominationOut"),
    ("patch", "/nominations/{nomination_id}"): _ref("NominationOut"),
    ("post", "/nominations/{nomination_id}/attachments"): _ref("Attachment"),
    ("post", "/nominations/{nomination_id}/actions/{action}"): _ref("NominationOut"),
    ("get", "/status"): _ref("Status"),
    ("post", "/eligibility/check"): _ref("EligibilityOut"),
    ("post", "/councils"): _ref("Council"),
    ("get", "/councils/{council_id}"): _ref("Council"),
    ("post", "/councils/{council_id}/sessions"): _ref("Session"),
    ("get", "/sessions/{session_id}"): _ref("Session"),
    ("post", "/sessions/{session_id}/attendance"): _ref("Session"),
    ("post", "/sessions/{session_id}/open"): _ref("Session"),
    ("post", "/sessions/{session_id}/close"): {**_LIST, "items": _ref("TallyRow")},
    ("get", "/sessions/{session_id}/tally"): {**_LIST, "items": _ref("TallyRow")},
    ("get", "/public/consultations"): {**_LIST, "items": _ref("Consultation")},
    ("get", "/nominations/{nomination_id}/notices"): {
        "type": "object", "required": ["items"], "properties": {"items": {**_LIST, "items": _ref("Notice")}}},
    ("post", "/nominations/{nomination_id}/death"): _ref("NominationOut"),
    ("post", "/nominations/{nomination_id}/arrival"): _ref("NominationOut"),
    ("post", "/nominations/{nomination_id}/exclusion-override"): _ref("NominationOut"),
    ("post", "/nominations/{nomination_id}/special-craft"): _ref("NominationOut"),
    ("post", "/councils/{council_id}/special_crafts"): _ref("SpecialCraft"),
    ("get", "/holidays"): {**_LIST, "items": _ref("Holiday")},
    ("post", "/holidays"): _ref("Holiday"),
    ("get", "/rounds/{round_id}/provinces/{code}"): _ref("ProvinceIntake"),
    ("put", "/rounds/{round_id}/provinces/{code}"): _ref("ProvinceIntake"),
    ("get", "/rounds/{round_id}/report"): _ref("RoundReport"),
}

# Bodies a JSON endpoint parses when there is one, and accepts empty.
OPTIONAL_BODIES = {"ActionIn", "CloseIn"}
# Path parameters: ``*_id`` and those named here are ``<int:...>`` in Flask's rule, the others strings
# (tests/test_openapi_contract.py compares them with the URL map).
INTEGER_PARAMS: set[str] = set()
STRING_PARAMS = {"sid": {"type": "string", "pattern": "^(web|api)-[0-9]+$"},
                 "external_code": {"type": "string", "maxLength": 100}}  # a partner's own dossier code
STRING_PARAMS["programme_id"] = {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"}  # a programme definition's id
# The first segment of a path -> its tag, the group of operations in a generated client (api/<tag>/).
TAGS = {
    "auth": "identity", "me": "identity", "provinces": "reference", "rounds": "reference", "holidays": "reference",
    "nominations": "nominations", "eligibility": "nominations", "status": "public", "public": "public",
    "openapi.json": "public", "councils": "councils", "sessions": "councils", "comments": "councils",
    "programmes": "programmes", "programme-dossiers": "programmes",
}
TAG_TEXT = {
    "identity": "Mã truy cập, người dùng và phiên đăng nhập",
    "reference": "Danh mục tỉnh, thành phố và đợt xét tặng",
    "nominations": "Hồ sơ đề nghị xét tặng, tài liệu, thao tác và văn bản",
    "public": "Tra cứu và lấy ý kiến nhân dân (không cần đăng nhập)",
    "councils": "Hội đồng, phiên họp, bỏ phiếu kín",
    "programmes": "Các chương trình khác (sản phẩm công nghiệp nông thôn tiêu biểu, đề án khuyến công, ...): định "
                  "nghĩa, hồ sơ, thao tác và quyết định của từng cấp",
}


def _path_params(path: str) -> list[dict]:
    """Each ``{name}`` of the path: an integer when Flask's rule says ``<int:...>`` (the ids), else a string."""
    params = []
    for name in re.findall(r"{([^}]+)}", path):
        if name == "action" and path.startswith("/programme-dossiers/"):  # the programme definition's actions
            schema = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,29}$"}
        elif name == "action":
            schema = {"type": "string", "enum": [*(str(a) for a in HUMAN_ACTIONS), TRANSFER, RECORD_DEATH]}
        elif name in STRING_PARAMS:
            schema = STRING_PARAMS[name]
        elif name.endswith("_id") or name in INTEGER_PARAMS:
            schema = {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}  # BoundedInt: beyond, 404
        else:
            schema = {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return params


def _tag(path: str) -> str:
    """The group of the path's first segment (TAGS), else that segment itself (``/intake/...``: ``intake``)."""
    first = path.strip("/").split("/")[0]
    return TAGS.get(first) or re.sub(r"[^a-z0-9]+", "_", first.lower()).strip("_")


def operation_id(method: str, path: str) -> str:
    """``get_nominations_nomination_id_dossier_pdf``: stable (from the method and path alone) and unique."""
    return re.sub(r"[^a-z0-9]+", "_", f"{method} {path}".lower()).strip("_")


def _error_codes(method: str, path: str, status: int, json_body: bool) -> list[str]:
    codes = list(GENERAL_CODES.get(status, []))
    if status == 400 and json_body:
        codes.insert(0, "malformed_json")
    for code in ERROR_CODES.get((method, path), {}).get(status, []):
        if code not in codes:
            codes.append(code)
    return codes


def _error_response(status: int, codes: list[str]) -> dict:
    listed = ", ".join(f"`{c}`" for c in codes)
    response: dict = {
        "description": f"{ERROR_TEXT.get(status, 'Lỗi')} Mã lỗi (error.code): {listed}.",
        "content": {"application/json": {"schema": ERROR, "example": {
            "error": {"code": codes[0], "message": "…", "fields": {}}}}},
        "x-error-codes": codes,
    }
    if status == 429:
        response["headers"] = {"Retry-After": {
            "description": "Số giây chờ trước khi thử lại.", "schema": {"type": "integer"}}}
    return response


def _file_types(method: str, path: str) -> list[str]:
    if (method, path) in FILES:
        return FILES[(method, path)]
    for extension, media_type in FILE_TYPES.items():
        if path.endswith(extension):
            return [media_type]
    return []


def _ok_response(method: str, path: str, status: int) -> dict:
    if status == 204:
        return {"description": "Xong (không có nội dung)."}
    media_types = _file_types(method, path)
    if media_types:
        content = {t: {"schema": {"type": "string", "format": "binary", "contentMediaType": t}}
                   for t in media_types}
        if (method, path) in RESPONSES:  # JSON without the format parameter, a file with it
            content = {"application/json": {"schema": RESPONSES[(method, path)]}, **content}
        return {"description": "Tệp tải về." if len(content) == len(media_types) else
                "Thành công: JSON, hoặc tệp tải về theo tham số format.", "headers": {"Content-Disposition": {
                    "description": "attachment; filename=... (chỉ với tệp)", "schema": {"type": "string"}}},
                "content": content}
    schema = RESPONSES.get((method, path), {"type": "object"})
    return {"description": "Thành công.", "content": {"application/json": {"schema": schema}}}


def _multipart(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": required, "properties": properties},
        "encoding": {name: {"contentType": "application/octet-stream"}
                     for name, p in properties.items() if p.get("format") == "binary"},
    }}}


def _partial(schema: dict, schemas: dict, suffix: str = "Patch") -> dict:
    """``schema`` with nothing required and its object-valued properties partial too: PATCH merges the body
    over the stored dossier (serializers.merge_changes: nested objects merge key by key)."""
    out = {k: v for k, v in schema.items() if k != "required"}
    properties = {}
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf", [prop])
        refs = [o["$ref"] for o in options if "$ref" in o]
        if refs:
            target = refs[0].rsplit("/", 1)[1]
            patch_name = target + suffix
            if patch_name not in schemas:
                schemas[patch_name] = _partial(schemas[target], schemas, suffix)
            options = [_ref(patch_name) if "$ref" in o else o for o in options]
            prop = {k: v for k, v in prop.items() if k not in ("$ref", "anyOf")}
            prop.update(options[0] if len(options) == 1 else {"anyOf": options})
        # a default would say what an absent field becomes: here it stays as stored
        properties[name] = {k: v for k, v in prop.items() if k != "default"}
    out["properties"] = properties
    out["title"] = schema.get("title", "") + suffix
    return out


def _model_schemas(models, schemas: dict) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas[model.__name__] = schema


def _schemas() -> dict:
    schemas: dict = {
        "Error": {
            "type": "object",
            "description": "The contract's error shape (shared/api-v1.md): a stable machine code, a message in "
                           "Vietnamese (English with Accept-Language: en), and per-field messages on 422.",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "description": "Mã lỗi ổn định (xem x-error-codes của từng câu "
                                                                  "trả lời)."},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            },
        }
    }
    from .eligibility import EligibilityCheckIn  # the API package imports this module first
    from .hard_cases import ArrivalIn, CouncilSpecialCraftIn, ExclusionOverrideIn, SpecialCraftIn
    from .law import HolidayIn, IntakeIn
    from .programmes import ProgrammeActionIn, ProgrammeDecisionIn, ProgrammeDossierIn
    from .schemes import AppraisalIn, PlanApprovalIn, SchemeIn, SchemeRecordIn, SchemeYearIn, SchemeYearPatch

    _model_schemas((NominationIn, RoundIn, TokenIn, ActionIn, CouncilIn, SessionIn, AttendanceIn, BallotIn,
                    CloseIn, ConflictIn, CommentIn, CommentStatusIn, EligibilityCheckIn, ArrivalIn, ExclusionOverrideIn,
                    SpecialCraftIn, CouncilSpecialCraftIn, HolidayIn, IntakeIn, ProgrammeDossierIn, ProgrammeActionIn,
                    ProgrammeDecisionIn, SchemeYearIn, SchemeYearPatch, SchemeIn, AppraisalIn, PlanApprovalIn,
                    SchemeRecordIn), schemas)
    schemas["NominationPatch"] = _partial(schemas["NominationIn"], schemas)
    schemas["NominationPatch"]["description"] = (
        "Only the fields to change; nested objects (nominee, filed_by, meritorious_title) merge key by key, "
        "lists replace. The merged dossier must be a valid NominationIn.")
    schemas.update(ANSWER_SCHEMAS)
    return schemas


def _request_body(body: str, schemas: dict) -> dict:
    if body == "multipart":
        return _multipart({
            "file": {"type": "string", "format": "binary"},
            "kind": {"type": "string", "enum": [str(k) for k in AttachmentKind]},
        }, ["file", "kind"])
    if body == "multipart-programme":  # api/programmes.py: the kinds a definition may declare
        return _multipart({
            "file": {"type": "string", "format": "binary"},
            "kind": {"type": "string", "enum": [str(k) for k in AttachmentKind],
                     "description": "Một loại tài liệu của định nghĩa chương trình (evidence)."},
        }, ["file", "kind"])
    if body == "multipart-death":  # api/hard_cases.py: DeathIn from the form, then services/hard_cases.py
        return _multipart({
            "death_date": {"type": "string", "format": "date"},
            "family_name": {"type": "string", "maxLength": 200},
            "family_relationship": {"type": "string", "enum": ["child", "spouse", "other"]},
            "family_phone": {"type": "string", "maxLength": 30},
            "family_email": {"type": "string", "maxLength": 254},
            "note": {"type": "string", "maxLength": 5000},
            "evidence": {"type": "string", "format": "binary"},
        }, ["death_date", "family_name", "family_relationship", "evidence"])
    return {
        "required": body not in OPTIONAL_BODIES,
        "content": {"application/json": {"schema": _ref(body)}},
    }


@cache
def build_spec() -> dict:
    schemas = _schemas()
    paths: dict = {}
    for method, path, summary, auth, body, ok, errors in ROUTES:
        if method == "get" and PARAMS.get(path) and 422 not in errors:
            # Every query string passes the server's check for characters that cannot be stored (a NUL in
            # a name or value: 422 validation_failed, views.init_app), so an operation with query parameters
            # documents that answer too (found by tests/test_fuzz_api.py on GET /status).
            errors = sorted([*errors, 422])
        if method == "patch" and body == "NominationIn":
            body = "NominationPatch"
        json_body = bool(body) and not body.startswith("multipart")
        op: dict = {
            "summary": summary,
            "operationId": operation_id(method, path),
            "tags": [_tag(path)],
            "parameters": _path_params(path) + (PARAMS.get(path, []) if method == "get" else []),
            "responses": {
                str(ok): _ok_response(method, path, ok),
                **{str(code): _error_response(code, _error_codes(method, path, code, json_body))
                   for code in errors},
            },
        }
        if auth:
            op["security"] = BEARER
        if body:
            op["requestBody"] = _request_body(body, schemas)
        paths.setdefault("/api/v1" + path, {})[method] = op
    tags = sorted({t for item in paths.values() for op in item.values() for t in op["tags"]})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Artisan Awards API",
            "version": "1",
            "summary": "Xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú (Nghị định 43/2024/NĐ-CP).",
            "description": "The integration API v1 (contract: shared/api-v1.md; how to connect: docs/integration.md). "
            "JSON in and out; a bearer token from POST /api/v1/auth/token; every error in the Error shape.",
        },
        "servers": [{"url": "/", "description": "This server (the paths carry /api/v1)."}],
        "tags": [{"name": t, "description": TAG_TEXT.get(t, t)} for t in tags],
        "paths": paths,
        "webhooks": _webhooks(schemas),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "opaque",
                "description": "Mã truy cập từ POST /api/v1/auth/token; gửi trong Authorization: Bearer <token>.",
            }},
        },
    }


def _webhooks(schemas: dict) -> dict:
    """The ``webhooks`` section (OpenAPI 3.1): what a subscriber receives, one entry per event type, each
    body's schema built from its pydantic model (``integration/payloads.py``, the very models the sender
    validates each body with) and added to ``schemas``.  Signed per Standard Webhooks: docs/integration.md."""
    from ..integration import payloads

    about = {
        payloads.STATE_CHANGED: "Hồ sơ chuyển trạng thái (mọi thao tác, phiên họp Hội đồng, chuyển tỉnh hợp nhất, "
                                "ghi nhận nghệ nhân qua đời)",
        payloads.SESSION_CLOSED: "Phiên họp Hội đồng kết thúc: số phiếu và kết quả từng hồ sơ",
        payloads.DECISION_RECORDED: "Ghi nhận quyết định phong tặng của Chủ tịch nước",
        payloads.CONSULTATION_OPENED: "Bắt đầu lấy ý kiến nhân dân về hồ sơ",
        payloads.PARTNER_STATUS: "Đồng bộ trạng thái tới đối tác (Cổng dịch vụ công): mã trạng thái theo bảng mã "
                                 "của đối tác",
    }
    headers = [
        {"name": "webhook-id", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "The message's id: the same on every retry (the receiver's idempotency key)"},
        {"name": "webhook-timestamp", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "Seconds since the epoch when this attempt was signed"},
        {"name": "webhook-signature", "in": "header", "required": True, "schema": {"type": "string"},
         "description": "v1,<base64 HMAC-SHA256 of 'id.timestamp.body' under the subscriber's secret>"},
    ]
    hooks: dict = {}
    for type_ in (*payloads.EVENT_TYPES, payloads.PARTNER_STATUS):
        model = payloads.envelope(type_)
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas[model.__name__] = schema
        hooks[type_] = {"post": {
            "summary": about[type_],
            "operationId": "webhook_" + type_.replace(".", "_"),
            "parameters": headers,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}},
            "responses": {
                "200": {"description": "Received (any 2xx). Anything else, or no answer, is retried with back-off"},
            },
        }}
    return hooks
