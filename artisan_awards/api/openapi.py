"""The OpenAPI 3 description, assembled from the route table below and the pydantic schemas.

A test checks that every ``/api/v1`` route of the application appears here, so the
description cannot drift from the code.
"""

from __future__ import annotations

from functools import cache

from workflows.machine import HUMAN_ACTIONS
from workflows.states import State

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
    ("get", "/rounds", "Các đợt xét tặng", False, None, 200, []),
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
    ("post", "/nominations/{nomination_id}/special-craft", "Quyết định của Hội đồng về nghề đặc thù", True,
     "SpecialCraftIn", 201, [400, 401, 403, 404, 422]),
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
        {"name": "code", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}},
    ],
    "/provinces": [
        {"name": "include_inactive", "in": "query", "required": False,
         "schema": {"type": "string", "enum": ["0", "1", "true"]}},
    ],
}


def _path_params(path: str) -> list[dict]:
    params = []
    if "{nomination_id}" in path:
        params.append({"name": "nomination_id", "in": "path", "required": True,
                       "schema": {"type": "integer"}})
    for name in ("council_id", "session_id", "comment_id", "notice_id"):
        if "{" + name + "}" in path:
            params.append({"name": name, "in": "path", "required": True, "schema": {"type": "integer"}})
    if "{sid}" in path:
        params.append({"name": "sid", "in": "path", "required": True,
                       "schema": {"type": "string", "pattern": "^(web|api)-[0-9]+$"}})
    if "{action}" in path:
        params.append({"name": "action", "in": "path", "required": True,
                       "schema": {"type": "string", "enum": [str(a) for a in HUMAN_ACTIONS]}})
    return params


@cache
def build_spec() -> dict:
    schemas: dict = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            },
        }
    }
    for model in (NominationIn, RoundIn, TokenIn, ActionIn, CouncilIn, SessionIn, AttendanceIn,
                  BallotIn, CloseIn, ConflictIn, CommentIn, CommentStatusIn):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[model.__name__] = schema
    from .eligibility import EligibilityCheckIn  # the API package imports this module first

    schema = EligibilityCheckIn.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas["EligibilityCheckIn"] = schema
    from .hard_cases import ArrivalIn, ExclusionOverrideIn, SpecialCraftIn

    for model in (ArrivalIn, ExclusionOverrideIn, SpecialCraftIn):
        schemas[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")

    paths: dict = {}
    for method, path, summary, auth, body, ok, errors in ROUTES:
        op: dict = {
            "summary": summary,
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "parameters": _path_params(path) + (PARAMS.get(path, []) if method == "get" else []),
            "responses": {
                str(ok): {"description": "OK", "content": (
                    {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
                    if path.endswith(".pdf") else {"application/json": {"schema": {}}})},
                **{
                    str(code): {"description": "Lỗi", "content": {"application/json": {"schema": ERROR}}}
                    for code in errors
                },
            },
        }
        if auth:
            op["security"] = BEARER
        if body == "multipart":
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file", "kind"],
                            "properties": {
                                "file": {"type": "string", "format": "binary"},
                                "kind": {"type": "string", "enum": ["portrait", "photo", "video", "award_decision",
                                                                    "certificate", "authorisation", "other"]},
                            },
                        }
                    }
                },
            }
        elif body == "multipart-death":
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["death_date", "family_name", "family_relationship", "evidence"],
                            "properties": {
                                "death_date": {"type": "string", "format": "date"},
                                "family_name": {"type": "string", "maxLength": 200},
                                "family_relationship": {"type": "string", "enum": ["child", "spouse", "other"]},
                                "family_phone": {"type": "string", "maxLength": 30},
                                "family_email": {"type": "string", "maxLength": 254},
                                "note": {"type": "string", "maxLength": 5000},
                                "evidence": {"type": "string", "format": "binary"},
                            },
                        }
                    }
                },
            }
        elif body:
            op["requestBody"] = {
                "required": body not in ("ActionIn", "CloseIn"),
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
            }
        paths.setdefault("/api/v1" + path, {})[method] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Artisan Awards API",
            "version": "1",
            "description": "Xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú "
            "(Nghị định 43/2024/NĐ-CP). Contract: shared/api-v1.md.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
