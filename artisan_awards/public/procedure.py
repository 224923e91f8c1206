"""What the public procedure page and the help page show, gathered from the app's own data.

Nothing here is a second copy: the legal basis and the criteria come from the rule set in force
(``workflows/rulesets``, with the administrator's values), the documents from the attachment kinds
the upload accepts (``services.attachments``), the form numbers from the documents the app prints
(``documents.data``), the deadlines from the newest round's plan (``services.timeline``), the
provinces from the province data and the contacts from the configuration.  The questions and
answers of the help page are data too (``FAQ``): Vietnamese here, English in the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app

from workflows import rules
from workflows.states import N_

from ..documents.data import FORM_NO, SUMMARY_FORM_NO
from ..i18n import KIND_LABELS
from ..models import AttachmentKind, Province, Round, Title
from ..services import eligibility, law, timeline
from ..services.attachments import ALLOWED, EVIDENCE_KINDS, EXTENSIONS

# Articles of Decree 43/2024/NĐ-CP the page cites: only those confirmed (shared/domain/decree-43-2024.md,
# tags V43/VP); each with what it says, as a msgid.
LEGAL_BASIS = (
    ("2", N_("Điều 2: đối tượng áp dụng (khoản 1: cá nhân là người Việt Nam hoạt động trong lĩnh vực nghề thủ "
             "công mỹ nghệ; khoản 3: không áp dụng với người đang được xét hoặc đã được phong tặng danh hiệu "
             "trong lĩnh vực di sản văn hóa phi vật thể).")),
    ("4", N_("Điều 4: danh hiệu được xét tặng ba năm một lần, công bố vào dịp Quốc khánh 2 tháng 9.")),
    ("6", N_("Điều 6: tiêu chuẩn danh hiệu Nghệ nhân nhân dân.")),
    ("7", N_("Điều 7: tiêu chuẩn danh hiệu Nghệ nhân ưu tú.")),
    ("14", N_("Điều 14: trình tự xét tặng ở cấp tỉnh; kết quả của Hội đồng cấp tỉnh được đăng trên cổng thông "
              "tin điện tử của tỉnh (điểm d).")),
    ("16", N_("Điều 16: trình tự ở cấp Nhà nước; danh sách được đăng lấy ý kiến nhân dân 20 ngày trên Cổng "
              "thông tin điện tử Chính phủ trước khi Hội đồng cấp Nhà nước bỏ phiếu (khoản 1 điểm c) và trước "
              "khi trình Thủ tướng Chính phủ (khoản 2 điểm c).")),
)
OTHER_BASIS = (
    N_("Luật Thi đua, khen thưởng ngày 15 tháng 6 năm 2022."),
    N_("Quyết định số 1200/QĐ-BCT ngày 16 tháng 5 năm 2024 của Bộ trưởng Bộ Công Thương công bố thủ tục hành "
       "chính xét tặng danh hiệu Nghệ nhân nhân dân, Nghệ nhân ưu tú trong lĩnh vực nghề thủ công mỹ nghệ."),
)
# When each kind of file is needed, beyond the evidence (at least one of EVIDENCE_KINDS).
WHEN_NEEDED = {
    AttachmentKind.PORTRAIT: N_("Ảnh chân dung in trên bản khai thành tích."),
    AttachmentKind.AUTHORISATION: N_("Khi người khác nộp hồ sơ thay nghệ nhân."),
    AttachmentKind.DEATH_EVIDENCE: N_("Khi đề nghị truy tặng hoặc nghệ nhân mất trong khi hồ sơ đang được xét."),
}
TYPE_NAMES = {".jpg": "JPEG", ".png": "PNG", ".webp": "WebP", ".pdf": "PDF", ".mp4": "MP4", ".mov": "MOV",
              ".webm": "WebM", ".mkv": "MKV"}


@dataclass(frozen=True)
class Document:
    kind: str
    label: str  # msgid
    types: str  # e.g. "JPEG, PNG, WebP"
    when: str | None = None  # msgid


def _types(kind: AttachmentKind) -> str:
    names = {TYPE_NAMES[EXTENSIONS[mime]] for mime in ALLOWED[kind]}
    return ", ".join(sorted(names))


def documents() -> tuple[list[Document], list[Document]]:
    """(the evidence kinds, of which at least one; the files needed in some cases)."""
    evidence = [Document(str(k), KIND_LABELS[k], _types(k)) for k in EVIDENCE_KINDS]
    cases = [Document(str(k), KIND_LABELS[k], _types(k), WHEN_NEEDED[k]) for k in WHEN_NEEDED]
    return evidence, cases


def ruleset(on: date) -> rules.RuleSet:
    """The rule set in force for a dossier filed on ``on`` (with the administrator's values)."""
    return rules.choose_ruleset(on, eligibility.rulesets())


def criteria(on: date) -> list[tuple[str, str, list[rules.Criterion]]]:
    """[(title, its declaration form number, its criteria)] under the rule set in force."""
    chosen = ruleset(on)
    return [(str(t), FORM_NO[str(t)], list(chosen.criteria_for(str(t)))) for t in (Title.PEOPLE, Title.MERITORIOUS)]


@dataclass(frozen=True)
class Deadlines:
    round: Round
    milestones: list[timeline.Milestone]
    province_closes: list[tuple[Province, date]]  # provinces with an intake deadline of their own


def deadlines(on: date) -> Deadlines | None:
    """The newest round's plan: its public milestones and the provinces' own intake deadlines."""
    round_ = law.newest_round()
    if round_ is None:
        return None
    rows = timeline.milestones(round_, on, staff=False)
    names = {p.code: p for p in law.active_provinces()}
    own = [(names[i.province_code], i.intake_closes) for i in round_.province_intakes if i.province_code in names]
    return Deadlines(round_, rows, own)


def contacts() -> tuple[str, list[tuple[Province, str]]]:
    """The national contact and each active province's (its configured text, else its Sở Công Thương)."""
    national = (current_app.config.get("PROCEDURE_CONTACT") or "").strip()
    configured = current_app.config.get("PROCEDURE_PROVINCE_CONTACTS") or {}
    return national, [(p, str(configured.get(p.code) or "").strip()) for p in law.active_provinces()]


def form_numbers() -> dict[str, tuple[str, str]]:
    """{title: (declaration form, summary form)} as the app prints them."""
    return {t: (FORM_NO[t], SUMMARY_FORM_NO[t]) for t in FORM_NO}


# -- help: frequently asked questions (content as data) --------------------------------------
# Each answer may use the round's numbers: %(reply_days)s, %(completion_days)s, %(consultation_days)s.

FAQ: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (N_("Trước khi nộp"), (
        (N_("Ai có thể nộp hồ sơ?"),
         N_("Nghệ nhân tự nộp, hoặc người được nghệ nhân ủy quyền bằng văn bản nộp thay (kèm giấy ủy quyền). "
            "Khi đề nghị truy tặng, người thân của nghệ nhân nộp hồ sơ.")),
        (N_("Tôi nộp hồ sơ ở đâu?"),
         N_("Tại Sở Công Thương của tỉnh, thành phố nơi đề nghị xét tặng: nộp trực tuyến trên trang này, hoặc "
            "nộp trực tiếp, qua bưu điện tại Sở. Mỗi hồ sơ nộp một bộ.")),
        (N_("Đề nghị Nghệ nhân nhân dân cần điều kiện gì trước tiên?"),
         N_("Nghệ nhân phải đã được phong tặng danh hiệu Nghệ nhân ưu tú trong lĩnh vực nghề thủ công mỹ nghệ; "
            "các sản phẩm mới tính từ sau ngày được phong tặng Nghệ nhân ưu tú.")),
        (N_("Tôi có phải điền hết bản khai trong một lần không?"),
         N_("Không. Bản khai được lưu nháp sau mỗi bước; bạn có thể quay lại sửa cho đến khi bấm nộp.")),
    )),
    (N_("Sau khi nộp"), (
        (N_("Khi nào tôi nhận được trả lời?"),
         N_("Sở Công Thương trả lời bằng văn bản trong %(reply_days)s ngày kể từ khi nhận hồ sơ: nhận hồ sơ "
            "hợp lệ, hoặc yêu cầu bổ sung, hoàn thiện.")),
        (N_("Hồ sơ bị trả lại thì làm gì?"),
         N_("Trang hồ sơ, danh sách hồ sơ và từng bước của bản khai đều ghi lý do, danh mục cần bổ sung và hạn "
            "cuối. Bổ sung trong %(completion_days)s ngày kể từ ngày trả lại rồi nộp lại; quá hạn, hồ sơ bị đóng.")),
        (N_("Làm sao theo dõi hồ sơ?"),
         N_("Đăng nhập để xem hồ sơ và các thông báo (biểu tượng chuông ở đầu trang). Người khác có thể tra cứu "
            "bằng mã hồ sơ và mã tra cứu ghi trên giấy biên nhận, tại trang Tra cứu hồ sơ.")),
        (N_("Tôi làm mất mã tra cứu thì sao?"),
         N_("Mã tra cứu chỉ hiện một lần trên giấy biên nhận. Người nộp vẫn xem được hồ sơ khi đăng nhập; "
            "hãy liên hệ Sở Công Thương nếu cần giấy biên nhận.")),
    )),
    (N_("Xét duyệt và kết quả"), (
        (N_("Hồ sơ đi qua những bước nào?"),
         N_("Sở Công Thương kiểm tra; Hội đồng cấp tỉnh, Hội đồng chuyên ngành cấp Bộ và Hội đồng cấp Nhà nước "
            "bỏ phiếu kín; danh sách được lấy ý kiến nhân dân %(consultation_days)s ngày; Thủ tướng Chính phủ "
            "trình và Chủ tịch nước quyết định phong tặng.")),
        (N_("Ai cũng góp ý được về một người được đề nghị?"),
         N_("Có, trong thời gian lấy ý kiến nhân dân, tại trang Lấy ý kiến nhân dân. Ý kiến cần ghi họ tên, số "
            "điện thoại và địa chỉ; ý kiến không ghi đủ chỉ được dùng để tham khảo.")),
        (N_("Không được đề nghị thì có nộp lại được không?"),
         N_("Có thể đề nghị lại ở đợt xét tặng sau. Danh hiệu được xét ba năm một lần.")),
    )),
)


def faq_numbers() -> dict[str, int]:
    """The numbers the answers quote, from the newest round (the model's defaults without one)."""
    round_ = law.newest_round()
    names = ("reply_days", "completion_days", "consultation_days")
    if round_ is None:  # no round yet: a new round's defaults
        return {name: Round.__table__.c[name].default.arg for name in names}
    return {name: getattr(round_, name) for name in names}
