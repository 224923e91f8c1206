"""Configuration defaults.  The instance folder and the environment override them."""

import os
import secrets
from pathlib import Path


def ensure_secret_key_file(path: str | os.PathLike | None = None) -> Path:
    """Write a random SECRET_KEY to ``instance/secret_key`` (mode 600) unless one is there; reused after.

    scripts/setup and scripts/demo call it, so a newcomer's server starts with a key of its own.
    """
    path = Path(path or os.environ.get("SECRET_KEY_FILE") or Path(__file__).resolve().parent.parent
                / "instance" / "secret_key")
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
    return path


def _json_object(text: str | None) -> dict[str, str]:
    """A JSON object of strings from the environment ({"HNI": "…"}); nothing, or anything else: {}."""
    import json

    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


class Config:
    # Signs session cookies and one-time links.  Unset: read from SECRET_KEY_FILE (default
    # <instance>/secret_key, written by scripts/setup and scripts/demo), else the built-in
    # DEV_SECRET_KEY, which create_app accepts only with TESTING or FLASK_DEBUG (see docs/security.md).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE")  # default: <instance>/secret_key
    # Seals each ballot until its session closes (artisan_awards/ballot_box.py).  Keep it outside
    # the database and its backups; unset: derived from SECRET_KEY under a label of its own.
    BALLOT_SEAL_KEY = os.environ.get("BALLOT_SEAL_KEY")
    # Keys the audit chain (HMAC-SHA256 over transition_log and audit_events; artisan_awards/audit_chain.py).
    # Kept outside the database, at least 32 characters; unset: derived from SECRET_KEY under a label of
    # its own (development).  Changing it makes every earlier row fail `flask audit verify`.
    AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY")
    # Personal fields encrypted at rest (artisan_awards/field_crypto.py, docs/personal-data.md):
    # "k2=<32 bytes base64url>,k1=<...>", the first encrypts, all decrypt (rotation; `flask privacy keygen`).
    # Unset: one key derived from SECRET_KEY (development).  FIELD_INDEX_KEY keys the HMAC search indexes.
    FIELD_ENCRYPTION_KEYS = os.environ.get("FIELD_ENCRYPTION_KEYS")
    FIELD_INDEX_KEY = os.environ.get("FIELD_INDEX_KEY")
    # Retention (services/retention.py, `flask privacy retention`): days after which each kind of
    # record is anonymised or deleted; 0 keeps it forever.  Defaults and basis: docs/personal-data.md.
    RETENTION_DRAFT_DAYS = int(os.environ.get("RETENTION_DRAFT_DAYS", 365))
    RETENTION_ENDED_DOSSIER_DAYS = int(os.environ.get("RETENTION_ENDED_DOSSIER_DAYS", 5 * 365))
    RETENTION_COMMENT_DAYS = int(os.environ.get("RETENTION_COMMENT_DAYS", 2 * 365))
    RETENTION_LOG_DAYS = int(os.environ.get("RETENTION_LOG_DAYS", 365))
    RETENTION_EXPORT_DAYS = int(os.environ.get("RETENTION_EXPORT_DAYS", 90))
    RETENTION_BACKUP_DAYS = int(os.environ.get("RETENTION_BACKUP_DAYS", 90))
    RETENTION_BACKUP_DIR = os.environ.get("RETENTION_BACKUP_DIR")  # where `backup create` writes; unset: none pruned
    # The data officer's desk (data_officer/): who controls the data, whom to write to, the authority told
    # of a breach; the register of processing activities is built from PRIVACY_ACTIVITIES (purposes,
    # categories as personal_fields classes, recipients, the retention setting that bounds it).
    PRIVACY_CONTROLLER = os.environ.get("PRIVACY_CONTROLLER", "Bộ Công Thương (Cục Công Thương địa phương)")
    PRIVACY_CONTACT = os.environ.get("PRIVACY_CONTACT", "baovedulieu@moit.gov.vn")
    PRIVACY_AUTHORITY = os.environ.get(
        "PRIVACY_AUTHORITY",
        "Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao (A05), Bộ Công an")
    PRIVACY_ACTIVITIES = [
        {"key": "procedure", "purpose": "Giải quyết thủ tục xét tặng danh hiệu Nghệ nhân (Nghị định 43/2024/NĐ-CP)",
         "basis": "Thực hiện thủ tục hành chính theo quy định của pháp luật (không cần sự đồng ý)",
         "subjects": "Nghệ nhân được đề nghị; người nộp hồ sơ; gia đình (truy tặng)",
         "classes": ["public", "birth_date", "address", "phone", "family", "evidence"],
         "recipients": "Sở Công Thương; Hội đồng các cấp; Bộ Công Thương; Ban Thi đua - Khen thưởng Trung ương; "
                       "Văn phòng Chính phủ; Văn phòng Chủ tịch nước",
         "retention": "RETENTION_ENDED_DOSSIER_DAYS"},
        {"key": "consultation", "purpose": "Lấy ý kiến nhân dân về người được đề nghị",
         "basis": "Thực hiện thủ tục hành chính (Luật Thi đua, khen thưởng 2022)",
         "subjects": "Người góp ý, khiếu nại", "classes": ["commenter_contact"],
         "recipients": "Bộ Công Thương (xác minh)", "retention": "RETENTION_COMMENT_DAYS"},
        {"key": "councils", "purpose": "Hoạt động của Hội đồng xét tặng (bỏ phiếu, kê khai xung đột lợi ích)",
         "basis": "Thực hiện thủ tục hành chính; lưu trữ theo Luật Lưu trữ 33/2024/QH15",
         "subjects": "Thành viên Hội đồng", "classes": ["conflict_declaration", "account"],
         "recipients": "Thư ký Hội đồng; cơ quan lưu trữ", "retention": None},
        {"key": "accounts", "purpose": "Tài khoản, đăng nhập và an toàn hệ thống",
         "basis": "Bảo đảm an toàn hệ thống thông tin (Luật An ninh mạng 116/2025/QH15)",
         "subjects": "Người dùng hệ thống", "classes": ["account"],
         "recipients": "Quản trị hệ thống", "retention": "RETENTION_LOG_DAYS"},
    ]
    # The data officer's breach record: hours from discovery to the notice to the authority.
    BREACH_NOTICE_HOURS = int(os.environ.get("BREACH_NOTICE_HOURS", 72))
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # default set in create_app
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Uploads live outside the web root, under random names.
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR")  # default: <instance>/uploads
    MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
    MAX_CONTENT_LENGTH = MAX_UPLOAD_BYTES + 1024 * 1024
    MAX_DOSSIER_BYTES = int(os.environ.get("MAX_DOSSIER_BYTES", 200 * 1024 * 1024))
    MAX_DOSSIER_FILES = int(os.environ.get("MAX_DOSSIER_FILES", 60))
    MAX_IMAGE_PIXELS = int(os.environ.get("MAX_IMAGE_PIXELS", 50_000_000))  # photos and images in PDFs
    PDF_MAX_PAGES = int(os.environ.get("PDF_MAX_PAGES", 500))
    PDF_MAX_EXPANDED_BYTES = int(os.environ.get("PDF_MAX_EXPANDED_BYTES", 300 * 1024 * 1024))
    # Decompression bombs behind filter chains (services/cleaning.py): filters stacked on one
    # stream, how many times one stream may expand, objects and streams in one uploaded PDF.
    PDF_MAX_FILTERS = int(os.environ.get("PDF_MAX_FILTERS", 4))
    PDF_MAX_EXPANSION = int(os.environ.get("PDF_MAX_EXPANSION", 2000))
    PDF_MAX_OBJECTS = int(os.environ.get("PDF_MAX_OBJECTS", 200_000))
    PDF_MAX_STREAMS = int(os.environ.get("PDF_MAX_STREAMS", 50_000))
    # Where uploaded files live: "local" (UPLOAD_DIR, one machine) or "database" (a blob table,
    # shared by every app process on every machine).  See artisan_awards/storage.py.
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    # Programme definitions besides the built-in ones (workflows/programmes): folders holding
    # <programme id>/<version>.yaml, separated by the path separator (docs/programmes.md).
    PROGRAMME_DIRS = [d for d in os.environ.get("PROGRAMME_DIRS", "").split(os.pathsep) if d]
    # How long a typical product's certificate is valid, in months from its issue, per level
    # (services/certificates.py).  Not verified in the circulars: a JSON object overrides any level,
    # e.g. CERTIFICATE_VALIDITY_MONTHS='{"nation": 60}'.
    # The region (north, central, south) of a province for the typical products' regional selections, where
    # it differs from artisan_awards/data/regions.csv (whose grouping is not verified): a JSON object,
    # e.g. PROVINCE_REGIONS='{"LDG": "south"}'.
    PROVINCE_REGIONS = _json_object(os.environ.get("PROVINCE_REGIONS"))
    CERTIFICATE_VALIDITY_MONTHS = {"province": 36, "region": 36, "nation": 36,
                                   **{k: int(v) for k, v in _json_object(os.environ.get(
                                       "CERTIFICATE_VALIDITY_MONTHS")).items() if v.isdigit()}}
    # Backups (flask --app wsgi backup ...): pg_dump / pg_restore found on PATH or under
    # /usr/lib/postgresql/*/bin unless PG_BINDIR names the folder.
    PG_BINDIR = os.environ.get("PG_BINDIR")
    # Backups are encrypted (BACKUP_KEY) and signed (BACKUP_SIGNING_KEY): two different keys of
    # 32 random bytes in URL-safe base64, given as the value or as a file (…_FILE), never kept in
    # the database nor next to the backups.  `flask --app wsgi backup keygen DIR` makes them.
    BACKUP_KEY = os.environ.get("BACKUP_KEY")
    BACKUP_KEY_FILE = os.environ.get("BACKUP_KEY_FILE")
    BACKUP_SIGNING_KEY = os.environ.get("BACKUP_SIGNING_KEY")
    BACKUP_SIGNING_KEY_FILE = os.environ.get("BACKUP_SIGNING_KEY_FILE")
    # Electronic signatures of official documents (documents/signing.py, docs/documents.md): one
    # certificate per issuing body in a folder (never in the database), an RFC 3161 time-stamp
    # authority, the trusted roots; PAdES B-LT or B-LTA.
    DOCUMENTS_SIGNING_DIR = os.environ.get("DOCUMENTS_SIGNING_DIR")
    DOCUMENTS_SIGNING_PASSPHRASE = os.environ.get("DOCUMENTS_SIGNING_PASSPHRASE")
    DOCUMENTS_TSA_URL = os.environ.get("DOCUMENTS_TSA_URL")
    DOCUMENTS_TRUST_ROOTS = os.environ.get("DOCUMENTS_TRUST_ROOTS")
    DOCUMENTS_SIGNING_LEVEL = os.environ.get("DOCUMENTS_SIGNING_LEVEL", "B-LT")
    DOCUMENTS_SIGNING_TIMEOUT = float(os.environ.get("DOCUMENTS_SIGNING_TIMEOUT", 10))
    DOCUMENTS_SIGNING_CLOCK_TOLERANCE = float(os.environ.get("DOCUMENTS_SIGNING_CLOCK_TOLERANCE", 120))
    # The one-stop notices (documents/notices.py). Circular 03/2025/TT-VPCP's form numbers are not
    # verified against the official text (shared/domain/egov-rules.md, confidence M): printed only
    # when configured, as "receipt=01,request=02,refusal=03,apology=04".
    NOTICE_CIRCULAR = os.environ.get("NOTICE_CIRCULAR", "Thông tư số 03/2025/TT-VPCP")
    NOTICE_FORM_NUMBERS = os.environ.get("NOTICE_FORM_NUMBERS", "")
    # The apology for a missed reply deadline: the new appointment this many days after the check,
    # and the reason it prints (the department's words; empty: no reason printed).
    NOTICE_APOLOGY_DAYS = int(os.environ.get("NOTICE_APOLOGY_DAYS", 5))
    NOTICE_APOLOGY_REASON = os.environ.get(
        "NOTICE_APOLOGY_REASON", "Hồ sơ cần thêm thời gian kiểm tra, xác minh thông tin và tài liệu minh chứng.")
    # The public procedure page (/public/procedure): the national contact (the standing body of the
    # ministry and state councils; its address is in the ministry's published notices) and, per
    # province code, a line of contact for its Sở Công Thương as JSON ({"HNI": "…, 024 …"}); a province
    # without one is named only.
    PROCEDURE_CONTACT = os.environ.get(
        "PROCEDURE_CONTACT", "Cục Công Thương địa phương, Bộ Công Thương, 25 Ngô Quyền, Hoàn Kiếm, Hà Nội")
    PROCEDURE_PROVINCE_CONTACTS = _json_object(os.environ.get("PROCEDURE_PROVINCE_CONTACTS"))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    # Rate-limit counters: in process memory by default; redis://host:6379/1 when several app
    # processes (or machines) serve the application, so that they count together.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://"
    RATELIMIT_STORAGE_OPTIONS = {"socket_timeout": 2}
    # Redis unreachable: count in process memory meanwhile rather than refuse every request.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # Redis for the job queue (RQ); also the rate-limit default when RATELIMIT_STORAGE_URI is unset.
    REDIS_URL = os.environ.get("REDIS_URL")
    RATELIMIT_HEADERS_ENABLED = True
    STATUS_LOOKUP_LIMIT = os.environ.get("STATUS_LOOKUP_LIMIT", "30 per minute")
    LOGIN_LIMIT = os.environ.get("LOGIN_LIMIT", "20 per minute")
    API_TOKEN_HOURS = int(os.environ.get("API_TOKEN_HOURS", 12))
    # Partner systems (issue 19, docs/integration.md): a signed request's `created` may be at most this many
    # seconds old, and at most INTAKE_SIGNATURE_CLOCK_SKEW seconds ahead of this server's clock; nonces are
    # remembered for that window.  INTAKE_RATE_LIMIT: requests per partner address on the intake endpoints.
    INTAKE_SIGNATURE_MAX_AGE = int(os.environ.get("INTAKE_SIGNATURE_MAX_AGE", 300))
    INTAKE_SIGNATURE_CLOCK_SKEW = int(os.environ.get("INTAKE_SIGNATURE_CLOCK_SKEW", 30))
    INTAKE_RATE_LIMIT = os.environ.get("INTAKE_RATE_LIMIT", "120 per minute")
    # The largest partner filing (one request: the message and every file), held in memory while its digest
    # is checked; each file still has MAX_UPLOAD_BYTES and the dossier MAX_DOSSIER_BYTES / _FILES.
    INTAKE_MAX_REQUEST_BYTES = int(os.environ.get("INTAKE_MAX_REQUEST_BYTES", 80 * 1024 * 1024))
    # Login sessions (login_sessions table): ended after this long without a request, and this
    # long after the login whatever happens (the remember-me cookie too).
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 120))
    SESSION_MAX_HOURS = int(os.environ.get("SESSION_MAX_HOURS", 12))
    # Cookies: never readable by scripts, not sent on cross-site sub-requests, and Secure on
    # every HTTPS request (views.SessionInterface); SESSION_COOKIE_SECURE=1 forces it always.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Events for other systems (artisan_awards/integration/, docs/integration.md): `flask integration deliver`
    # tries a delivery INTEGRATION_MAX_ATTEMPTS times, waiting BACKOFF x 2^(attempts-1) seconds (capped at
    # BACKOFF_MAX) between tries, then keeps it as a dead letter; each POST waits TIMEOUT seconds; a claim
    # (lease) lasts CLAIM seconds (at least TIMEOUT + 5); --loop polls every POLL seconds.
    INTEGRATION_MAX_ATTEMPTS = int(os.environ.get("INTEGRATION_MAX_ATTEMPTS", 8))
    INTEGRATION_BACKOFF_SECONDS = float(os.environ.get("INTEGRATION_BACKOFF_SECONDS", 30))
    INTEGRATION_BACKOFF_MAX_SECONDS = float(os.environ.get("INTEGRATION_BACKOFF_MAX_SECONDS", 6 * 3600))
    INTEGRATION_TIMEOUT_SECONDS = float(os.environ.get("INTEGRATION_TIMEOUT_SECONDS", 10))
    INTEGRATION_CLAIM_SECONDS = float(os.environ.get("INTEGRATION_CLAIM_SECONDS", 120))
    INTEGRATION_POLL_SECONDS = float(os.environ.get("INTEGRATION_POLL_SECONDS", 5))
    # The processing unit named in status messages for a step of national staff, and for the system's own.
    INTEGRATION_NATIONAL_UNIT = os.environ.get("INTEGRATION_NATIONAL_UNIT", "Bộ Công Thương")
    INTEGRATION_SYSTEM_NAME = os.environ.get("INTEGRATION_SYSTEM_NAME", "Hệ thống xét tặng danh hiệu Nghệ nhân")
    # Number of reverse proxies in front (their X-Forwarded-For/-Proto are trusted); 0: none.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", 0))
    # Login throttling, counted in the database (services/throttle.py): after the free failures,
    # each further attempt waits 2^k seconds, capped.  Per (account, client address) pair and per
    # client address; per account (any address) with its own, short cap.  0 free failures: off.
    LOGIN_THROTTLE_FREE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_FREE_FAILURES", 3))
    LOGIN_THROTTLE_CLIENT_FREE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_CLIENT_FREE_FAILURES", 10))
    LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES = int(os.environ.get("LOGIN_THROTTLE_ACCOUNT_FREE_FAILURES", 10))
    LOGIN_THROTTLE_MAX_SECONDS = int(os.environ.get("LOGIN_THROTTLE_MAX_SECONDS", 900))
    LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS = int(os.environ.get("LOGIN_THROTTLE_ACCOUNT_MAX_SECONDS", 60))
    LOGIN_THROTTLE_FORGET_MINUTES = int(os.environ.get("LOGIN_THROTTLE_FORGET_MINUTES", 60))
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    # Most rows one account import (an uploaded sheet, and its confirmation) may hold.
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 2000))
    WTF_CSRF_TIME_LIMIT = None
    # The law's hard cases (services/hard_cases.py, docs/rules.md "Hard cases").  Whether a nominee who
    # dies during the process may go on as a posthumous proposal (domain file: default on [U]); whether an
    # Art. 2(3) exclusion may be overridden at all (by the administrator, with a reason; default off);
    # what happens when a returned dossier's completion period runs out: "close" (the scheduled job
    # `flask --app wsgi completion expire` closes it, logged as the system) or "propose" (the secretariat
    # is told to close it).  The applicant is told either way.
    POSTHUMOUS_SWITCH_ALLOWED = os.environ.get("POSTHUMOUS_SWITCH_ALLOWED", "1").lower() in ("1", "true", "yes", "on")
    EXCLUSION_OVERRIDE_ALLOWED = os.environ.get("EXCLUSION_OVERRIDE_ALLOWED", "0").lower() in ("1", "true", "yes", "on")
    COMPLETION_EXPIRY = os.environ.get("COMPLETION_EXPIRY", "close")
    # The application's notion of "today" can be pinned for rehearsals and tests (YYYY-MM-DD).
    TODAY = os.environ.get("ARTISAN_TODAY")
    # A calendar-day period whose last day is a weekend day or a holiday ends on the next working day
    # (Civil Code 2015, Art. 148 cl. 5).  Off by default: the deadlines stay a plain count, as they
    # were (docs/rules.md, "Deadlines in the law's own days").
    DEADLINE_ROLL_FORWARD = os.environ.get("DEADLINE_ROLL_FORWARD", "").lower() in ("1", "true", "yes", "on")
    # Quorum (share of all members present) and pass threshold (share of ALL members voting
    # yes), per council level.  Values from the domain document (2019 state council, [VP]);
    # unverified for Decree 43, hence configuration.  Rounded up to a whole member.
    # The bonus that comes with each title, as a multiple of the base salary (lương cơ sở) in force on the
    # President's decision date: Decree 98/2023/NĐ-CP Art. 56(3) under the Law on Emulation and
    # Commendation 2022 (12.5 for the "People's" titles, verified; 9.0 for the "Meritorious" ones, verified
    # by calculation).  The base salaries themselves are a dated table (/admin/base-salaries).
    AWARD_COEFFICIENTS = {"people": 12.5, "meritorious": 9.0}
    # National khuyến công schemes (docs/programmes.md "National khuyến công schemes").  The content areas
    # a new year starts from: the six of the 2024 guidance (official letter 400/CTĐP-QLKC of 15/05/2023);
    # each year keeps and edits its own list.
    SCHEME_CONTENT_AREAS = [
        "Xây dựng mô hình trình diễn kỹ thuật, chuyển giao công nghệ mới",
        "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến, tiến bộ khoa học kỹ thuật",
        "Phát triển sản phẩm công nghiệp nông thôn tiêu biểu",
        "Xúc tiến thương mại, hội chợ triển lãm",
        "Đào tạo, nâng cao năng lực",
        "Hỗ trợ lập quy hoạch, đầu tư hạ tầng cụm công nghiệp",
    ]
    # The priority of a scheme whose product holds a valid typical-product certificate (the policy names
    # regional and national certificates; how much they weigh is not verified, so it is set here).
    # SCHEME_PRIORITY_LEVELS: certificate level → priority (higher first; a level not named gives none).
    # SCHEME_PRIORITY_RANKING: "tiebreak" (by appraisal score, the priority first among equal scores),
    # "first" (every scheme with priority before every one without, by score within each), or "bonus"
    # (SCHEME_PRIORITY_BONUS points, per level, added to the appraisal score before ranking).
    SCHEME_PRIORITY_LEVELS = {"nation": 2, "region": 1}
    SCHEME_PRIORITY_RANKING = "tiebreak"
    SCHEME_PRIORITY_BONUS = {"nation": 10, "region": 5}
    COUNCIL_RULES = {
        "default": {"quorum_percent": 75, "pass_percent": 90},
        "province": {"quorum_percent": 75, "pass_percent": 90},
        "ministry": {"quorum_percent": 75, "pass_percent": 90},
        "state": {"quorum_percent": 75, "pass_percent": 90},
    }
    # Fewest and most members of a council, per level ("default" for any level not named).  The
    # domain document suggests 7-13 (Decree 43's own sizes are not verified [U]); a council outside
    # is refused at creation, and no member is invited beyond the largest size.
    COUNCIL_SIZES = {
        "default": {"min_members": 7, "max_members": 15},
        "province": {"min_members": 7, "max_members": 15},
        "ministry": {"min_members": 7, "max_members": 15},
        "state": {"min_members": 7, "max_members": 15},
    }
    # Once a round is open, its legal windows may not be shortened below these (days; number of
    # public consultations).  Decree 43/2024: 15 days to complete a returned dossier, two 20-day
    # consultations on the Government portal.  A window already below (a rehearsal) may not shrink.
    ROUND_LEGAL_MINIMUMS = {"completion_days": 15, "consultation_days": 20, "consultation_windows": 2}
    # E-mail goes through the outbox (services/mail.py); ``flask mail send`` delivers it.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 25))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "no-reply@artisan-awards.local")
    MAIL_SEND_IMMEDIATELY = os.environ.get("MAIL_SEND_IMMEDIATELY", "").lower() in ("1", "true", "yes")
    # Self-registered applicants confirm their e-mail before they can log in.
    EMAIL_CONFIRMATION_REQUIRED = os.environ.get("EMAIL_CONFIRMATION_REQUIRED", "1") != "0"
    # Personal data (issue 17, docs/personal-data.md).  The optional purposes a person may consent to, each
    # asked where it applies (register, filing, comment), boxes never ticked in advance; the administrative
    # procedure itself needs no consent (it is stated in the notice, not asked).  Unverified specifics of
    # Law 91/2025/QH15 and Decree 356/2025/ND-CP: configuration, with the defaults' basis in the document.
    PRIVACY_OPTIONAL_PURPOSES = {
        "email_reminders": {
            "vi": "Nhận thư nhắc hạn và tin về các đợt xét tặng sau, gửi tới hộp thư của tài khoản",
            "en": "Receive reminders of deadlines and news of later award rounds, sent to my account's mailbox",
            "contexts": ["register", "filing"],
        },
        "publish_photo": {
            "vi": "Cho phép đăng ảnh chân dung và ảnh sản phẩm khi công bố kết quả xét tặng",
            "en": "Allow the portrait and product photos to be published with the award results",
            "contexts": ["filing"],
        },
        "future_programmes": {
            "vi": "Được liên hệ về các chương trình khuyến công, bảo tồn nghề sau này",
            "en": "Be contacted about future craft promotion and preservation programmes",
            "contexts": ["register", "filing"],
        },
        "comment_follow_up": {
            "vi": "Được liên hệ lại về kết quả xác minh ý kiến của tôi",
            "en": "Be contacted about the outcome of the verification of my comment",
            "contexts": ["comment"],
        },
    }
    # Days (calendar) to answer a person's request, per kind (Decree 13/2023's 72 hours, the strictest known
    # figure; Law 91/2025 and Decree 356/2025's own periods are not verified: see docs/personal-data.md).
    PRIVACY_REQUEST_DAYS = {"correction": 3, "deletion": 3, "withdrawal": 3}
    # Who read a dossier, as its owner sees it: "role" (the reader's role only) or "name" (name and role).
    PRIVACY_READERS_SHOWN_BY = os.environ.get("PRIVACY_READERS_SHOWN_BY", "role")
    # Ask staff for a reason before they open someone's dossier (else the role's own purpose is logged).
    PRIVACY_READ_REASON_REQUIRED = os.environ.get("PRIVACY_READ_REASON_REQUIRED", "").lower() in ("1", "true", "yes")
    # Open data (/open-data, docs/open-data.md): how long a client or proxy may reuse a file before asking
    # again (seconds; the ETag makes the new question cheap), and the licence the data package declares.
    OPEN_DATA_MAX_AGE = int(os.environ.get("OPEN_DATA_MAX_AGE", 300))
    OPEN_DATA_LICENSE_NAME = os.environ.get("OPEN_DATA_LICENSE_NAME", "CC-BY-4.0")
    OPEN_DATA_LICENSE_TITLE = os.environ.get("OPEN_DATA_LICENSE_TITLE", "Creative Commons Attribution 4.0")
    OPEN_DATA_LICENSE_URL = os.environ.get("OPEN_DATA_LICENSE_URL", "https://creativecommons.org/licenses/by/4.0/")
    BASE_DIR = Path(__file__).resolve().parent.parent
