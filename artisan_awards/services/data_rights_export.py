"""Everything held about one person, as a ZIP (issue 17 item 2: the right of access and portability).

``export_zip(user)`` writes one JSON file per kind of record (``account.json``, ``dossiers.json``,
``craft_periods.json``, ``products.json``, ``attachments.json``, ``history.json``, ``consents.json``,
``requests.json``, ``reads.json``, ``login_sessions.json``), ``fields.json`` — every field of every file
with its meaning in Vietnamese and English — and the person's uploaded files under ``files/``.

A dossier's columns are exported from the model itself: each column is either in ``FIELDS`` (exported,
with its meaning) or in ``NOT_EXPORTED`` (a secret or an internal counter, with the reason), and
``tests/test_personal_data_rights.py`` fails when a new column is in neither.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    Attachment,
    ConsentRecord,
    CraftPeriod,
    DataRequest,
    LoginSession,
    Nomination,
    PersonalDataRead,
    Product,
    TransitionLog,
    User,
)
from ..storage import StorageError, storage

# field -> (Vietnamese meaning, English meaning); the dictionary is written into every ZIP.
FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "account": {
        "id": ("Số hiệu tài khoản", "Account number"),
        "email": ("Thư điện tử đăng nhập", "Login e-mail address"),
        "full_name": ("Họ và tên", "Full name"),
        "province_code": ("Mã tỉnh, thành phố (cán bộ)", "Province code (staff)"),
        "locale": ("Ngôn ngữ nhận thư", "Language of e-mails"),
        "active": ("Tài khoản đang hoạt động", "Account active"),
        "email_confirmed": ("Đã xác nhận thư điện tử", "E-mail address confirmed"),
        "created_at": ("Thời điểm tạo tài khoản (UTC)", "Account created (UTC)"),
        "roles": ("Vai trò", "Roles"),
    },
    "dossiers": {
        "id": ("Số hiệu hồ sơ trong hệ thống", "Dossier number in the system"),
        "code": ("Mã hồ sơ", "Dossier code"),
        "round_id": ("Số hiệu đợt xét tặng", "Award round number"),
        "province_code": ("Tỉnh, thành phố nơi nộp", "Province filed in"),
        "filed_province_code": ("Tỉnh nơi nộp ban đầu (trước hợp nhất)", "Province first filed in (before a merger)"),
        "owner_id": ("Tài khoản người nộp", "Filer's account"),
        "title": ("Danh hiệu đề nghị", "Title proposed"),
        "posthumous": ("Truy tặng", "Posthumous"),
        "governing_decree": ("Nghị định áp dụng", "Governing decree"),
        "full_name": ("Họ và tên người được đề nghị", "Nominee's full name"),
        "pen_name": ("Bút danh, tên gọi khác", "Pen name or other name"),
        "birth_date": ("Ngày sinh", "Date of birth"),
        "death_date": ("Ngày mất", "Date of death"),
        "gender": ("Giới tính", "Gender"),
        "ethnicity": ("Dân tộc", "Ethnic group"),
        "hometown": ("Quê quán", "Home town"),
        "address": ("Địa chỉ", "Address"),
        "phone": ("Điện thoại", "Telephone"),
        "email": ("Thư điện tử của người được đề nghị", "Nominee's e-mail address"),
        "craft": ("Nghề", "Craft"),
        "special_craft": ("Nghề đặc biệt", "Special craft"),
        "special_craft_rationale": ("Lý do là nghề đặc biệt", "Why the craft is special"),
        "workshop": ("Cơ sở sản xuất, nơi làm nghề", "Workshop"),
        "career_summary": ("Quá trình hành nghề", "Career"),
        "skills_summary": ("Kỹ năng, kỹ xảo nghề", "Skills"),
        "honours_summary": ("Khen thưởng đã nhận", "Honours received"),
        "meritorious_decision_no": ("Số quyết định phong Nghệ nhân ưu tú", "Decision number of the Meritorious title"),
        "meritorious_decision_date": ("Ngày quyết định phong Nghệ nhân ưu tú", "Date of the Meritorious title"),
        "meritorious_field": ("Lĩnh vực của danh hiệu Nghệ nhân ưu tú", "Field of the Meritorious title"),
        "learners_trained": ("Số người đã truyền nghề", "Number of people trained"),
        "intangible_heritage_track": ("Theo diện di sản văn hóa phi vật thể", "Intangible heritage track"),
        "filed_by_name": ("Người nộp thay (họ tên)", "Filed on behalf by (name)"),
        "filed_by_relationship": ("Quan hệ của người nộp", "Filer's relationship"),
        "state": ("Trạng thái hồ sơ", "Dossier state"),
        "held_from": ("Trạng thái trước khi tạm dừng", "State before the hold"),
        "stage_reached": ("Cấp xét cao nhất hồ sơ đã đến", "Highest stage reached"),
        "state_changed_at": ("Thời điểm đổi trạng thái gần nhất (UTC)", "Last state change (UTC)"),
        "submitted_at": ("Thời điểm nộp (UTC)", "Submitted (UTC)"),
        "received_at": ("Thời điểm tiếp nhận (UTC)", "Received (UTC)"),
        "returned_at": ("Thời điểm trả lại để bổ sung (UTC)", "Returned for completion (UTC)"),
        "arrived_on": ("Ngày hồ sơ giấy đến Sở", "Day the paper dossier arrived"),
        "receipt_book_no": ("Số sổ tiếp nhận", "Receipt book number"),
        "family_contact_phone": ("Điện thoại người thân liên hệ", "Family contact's telephone"),
        "family_contact_email": ("Thư điện tử người thân liên hệ", "Family contact's e-mail"),
        "consultation_ends": ("Ngày kết thúc lấy ý kiến nhân dân", "End of the public consultation"),
        "decision_no": ("Số quyết định của Chủ tịch nước", "President's decision number"),
        "decision_date": ("Ngày quyết định của Chủ tịch nước", "President's decision date"),
        "award_title": ("Danh hiệu được phong tặng", "Title awarded"),
        "award_coefficient": ("Hệ số tiền thưởng", "Bonus coefficient"),
        "award_base_salary_vnd": ("Mức lương cơ sở áp dụng (đồng)", "Base salary applied (VND)"),
        "award_bonus_vnd": ("Tiền thưởng (đồng)", "Bonus (VND)"),
        "created_at": ("Thời điểm tạo hồ sơ (UTC)", "Dossier created (UTC)"),
        "updated_at": ("Thời điểm sửa gần nhất (UTC)", "Last changed (UTC)"),
        "channel": ("Kênh nộp hồ sơ (trực tuyến, giấy, hệ thống đối tác)",
                    "How the dossier came in (web, paper, partner)"),
        "partner_id": ("Hệ thống đối tác đã gửi hồ sơ", "Partner system that sent the dossier"),
        "external_code": ("Mã hồ sơ trên hệ thống đối tác", "The dossier's code on the partner system"),
        "programme_id": ("Chương trình", "Programme"),
        "programme_version": ("Phiên bản quy định của chương trình", "Version of the programme's rules"),
        "programme_data": ("Thông tin riêng của chương trình", "The programme's own fields"),
        "personal_data_erased_at": ("Thời điểm dữ liệu cá nhân được ẩn danh theo thời hạn lưu trữ (UTC)",
                                    "When the personal data was anonymised under the retention schedule (UTC)"),
    },
    "craft_periods": {
        "dossier_id": ("Số hiệu hồ sơ", "Dossier number"),
        "from_date": ("Từ ngày", "From"),
        "to_date": ("Đến ngày", "To"),
        "workplace": ("Nơi làm nghề", "Workplace"),
        "role": ("Vai trò, chức danh", "Role or position"),
    },
    "products": {
        "dossier_id": ("Số hiệu hồ sơ", "Dossier number"),
        "name": ("Tên sản phẩm", "Product name"),
        "made_on": ("Ngày làm ra", "Made on"),
        "materials": ("Chất liệu", "Materials"),
        "self_designed": ("Tự thiết kế", "Own design"),
        "award_rank": ("Giải đạt được", "Prize rank"),
        "award_level": ("Cấp giải", "Prize level"),
        "award_state_delegated": ("Giải do cơ quan nhà nước ủy quyền", "Prize delegated by the state"),
        "award_organiser": ("Đơn vị tổ chức giải", "Prize organiser"),
        "awarded_on": ("Ngày đạt giải", "Prize date"),
    },
    "attachments": {
        "dossier_id": ("Số hiệu hồ sơ", "Dossier number"),
        "kind": ("Loại tài liệu", "Kind of document"),
        "original_name": ("Tên tệp", "File name"),
        "content_type": ("Kiểu tệp", "File type"),
        "size": ("Dung lượng (byte)", "Size (bytes)"),
        "sha256": ("Mã băm SHA-256 của tệp", "SHA-256 of the file"),
        "uploaded_at": ("Thời điểm tải lên (UTC)", "Uploaded (UTC)"),
        "file": ("Đường dẫn tệp trong gói ZIP", "Path of the file in this ZIP"),
    },
    "history": {
        "dossier_id": ("Số hiệu hồ sơ", "Dossier number"),
        "at": ("Thời điểm (UTC)", "When (UTC)"),
        "action": ("Thao tác", "Action"),
        "from_state": ("Trạng thái trước", "State before"),
        "to_state": ("Trạng thái sau", "State after"),
        "comment": ("Ghi chú, lý do", "Note or reason"),
    },
    "consents": {
        "purpose": ("Mục đích xử lý (notice: đã đọc thông báo)", "Purpose (notice: the notice was read)"),
        "granted": ("Đồng ý (true) hay không (false)", "Given (true) or refused (false)"),
        "notice_version": ("Phiên bản thông báo", "Notice version"),
        "context": ("Nơi ghi nhận: đăng ký, nộp hồ sơ, góp ý, đăng nhập, tài khoản",
                    "Where: registration, filing, comment, login, account"),
        "recorded_at": ("Thời điểm ghi nhận (UTC)", "Recorded (UTC)"),
    },
    "requests": {
        "id": ("Số hiệu yêu cầu", "Request number"),
        "kind": ("Loại yêu cầu: chỉnh sửa, xóa, rút lại sự đồng ý",
                 "Kind: correction, deletion, withdrawal of a consent"),
        "purpose": ("Mục đích rút lại sự đồng ý", "Purpose whose consent is withdrawn"),
        "details": ("Nội dung yêu cầu", "What was asked"),
        "status": ("Tình trạng: đang xử lý, đã trả lời", "Status: open, answered"),
        "opened_at": ("Thời điểm gửi (UTC)", "Sent (UTC)"),
        "due_on": ("Hạn trả lời", "Answer due by"),
        "outcome": ("Kết quả: đã thực hiện, thực hiện một phần, từ chối", "Outcome: done, partly done, refused"),
        "answer": ("Nội dung trả lời", "Answer"),
        "done": ("Những việc hệ thống đã thực hiện", "What the system did"),
        "answered_at": ("Thời điểm trả lời (UTC)", "Answered (UTC)"),
    },
    "reads": {
        "at": ("Thời điểm (UTC)", "When (UTC)"),
        "reader": ("Người đọc (vai trò, hoặc họ tên nếu được cấu hình)", "Reader (role, or name if configured)"),
        "action": ("Việc đã làm: mở hồ sơ, tải minh chứng, kết xuất", "What was done: opened, downloaded, exported"),
        "dossier_id": ("Số hiệu hồ sơ", "Dossier number"),
        "purpose": ("Mục đích", "Purpose"),
        "target": ("Tài liệu được tải", "Document downloaded"),
    },
    "login_sessions": {
        "created_at": ("Thời điểm đăng nhập (UTC)", "Logged in (UTC)"),
        "last_seen_at": ("Lần dùng gần nhất (UTC)", "Last used (UTC)"),
        "user_agent": ("Trình duyệt", "Browser"),
        "client_address": ("Địa chỉ IP", "IP address"),
        "ended_at": ("Thời điểm kết thúc (UTC)", "Ended (UTC)"),
        "ended_reason": ("Lý do kết thúc", "Why it ended"),
    },
}
# Columns of a dossier that are not the person's data, with the reason (never exported).
NOT_EXPORTED = {
    "access_key_hash": "a keyed hash of the access key, a secret of the system",
    "name_key": "the name folded for search, a copy of full_name",
    "version": "a counter that detects concurrent writes",
    "phone_index": "a keyed index of the phone for duplicate search, a copy of the phone (exported in clear)",
    "intake_digest": "a hash of the partner's message, to answer a repeat with the same dossier",
}


def _value(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj, fields, **extra) -> dict:
    out = {name: _value(getattr(obj, name)) for name in fields if hasattr(obj, name) and name not in extra}
    out.update({k: _value(v) for k, v in extra.items()})
    return out


def dossier_columns() -> list[str]:
    """The dossier's columns exported: every mapped column but the ``NOT_EXPORTED`` ones."""
    return [c.key for c in Nomination.__mapper__.column_attrs if c.key not in NOT_EXPORTED]


def collect(user: User, reader_label, read_purpose) -> tuple[dict[str, list | dict], list[tuple[str, Attachment]]]:
    """The person's records per kind, and their files (path in the ZIP, attachment)."""
    dossiers = list(db.session.scalars(
        sa.select(Nomination).where(Nomination.owner_id == user.id).order_by(Nomination.id)))
    ids = [n.id for n in dossiers]
    data: dict[str, list | dict] = {
        "account": _row(user, FIELDS["account"], roles=sorted(user.roles)),
        "dossiers": [{k: _value(getattr(n, k)) for k in dossier_columns()} for n in dossiers],
        "craft_periods": [], "products": [], "attachments": [], "history": [],
    }
    files: list[tuple[str, Attachment]] = []
    if ids:
        for p in db.session.scalars(sa.select(CraftPeriod).where(CraftPeriod.nomination_id.in_(ids))
                                    .order_by(CraftPeriod.id)):
            data["craft_periods"].append(_row(p, FIELDS["craft_periods"], dossier_id=p.nomination_id))
        for p in db.session.scalars(sa.select(Product).where(Product.nomination_id.in_(ids)).order_by(Product.id)):
            data["products"].append(_row(p, FIELDS["products"], dossier_id=p.nomination_id))
        for a in db.session.scalars(sa.select(Attachment).where(Attachment.nomination_id.in_(ids))
                                    .order_by(Attachment.id)):
            path = f"files/{a.nomination_id}/{a.id}-{a.original_name}"
            files.append((path, a))
            data["attachments"].append(_row(a, FIELDS["attachments"], dossier_id=a.nomination_id, file=path))
        for t in db.session.scalars(sa.select(TransitionLog).where(TransitionLog.nomination_id.in_(ids))
                                    .order_by(TransitionLog.id)):
            data["history"].append(_row(t, FIELDS["history"], dossier_id=t.nomination_id))
    data["consents"] = [_row(c, FIELDS["consents"]) for c in db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.user_id == user.id).order_by(ConsentRecord.id))]
    data["requests"] = [_row(r, FIELDS["requests"]) for r in db.session.scalars(
        sa.select(DataRequest).where(DataRequest.user_id == user.id).order_by(DataRequest.id))]
    data["reads"] = [
        _row(r, FIELDS["reads"], reader=reader_label(r), dossier_id=r.nomination_id, purpose=read_purpose(r))
        for r in db.session.scalars(sa.select(PersonalDataRead).where(PersonalDataRead.subject_id == user.id)
                                    .order_by(PersonalDataRead.id))]
    data["login_sessions"] = [_row(s, FIELDS["login_sessions"]) for s in db.session.scalars(
        sa.select(LoginSession).where(LoginSession.user_id == user.id).order_by(LoginSession.id))]
    return data, files


def dictionary() -> dict:
    """``fields.json``: file -> field -> {"vi": ..., "en": ...}."""
    return {f"{kind}.json": {name: {"vi": vi, "en": en} for name, (vi, en) in fields.items()}
            for kind, fields in FIELDS.items()}


def export_zip(user: User, reader_label, read_purpose) -> bytes:
    data, files = collect(user, reader_label, read_purpose)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for kind, records in data.items():
            z.writestr(f"{kind}.json", json.dumps(records, ensure_ascii=False, indent=2))
        z.writestr("fields.json", json.dumps(dictionary(), ensure_ascii=False, indent=2))
        missing = []
        for path, attachment in files:
            try:
                z.writestr(path, storage().get(attachment.stored_name))
            except (StorageError, OSError, KeyError):
                missing.append(path)
        readme = ("Dữ liệu cá nhân của bạn trong hệ thống xét tặng Nghệ nhân. Ý nghĩa từng trường: fields.json.\n"
                  "Your personal data held by the Artisan Awards system. The meaning of each field: fields.json.\n")
        if missing:
            readme += "\nKhông đọc được / could not be read: " + ", ".join(missing) + "\n"
        z.writestr("README.txt", readme)
    return buffer.getvalue()
