"""Configuration defaults.  The instance folder and the environment override them."""

import os
from pathlib import Path


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    # Keys the audit chain (HMAC-SHA256 over transition_log and audit_events; artisan_awards/audit.py).
    # Kept outside the database, at least 32 characters; unset: derived from SECRET_KEY under a label of
    # its own (development).  Changing it makes every earlier row fail `flask audit verify`.
    AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY")
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
    # Where uploaded files live: "local" (UPLOAD_DIR, one machine) or "database" (a blob table,
    # shared by every app process on every machine).  See artisan_awards/storage.py.
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "local")
    # Backups (flask --app wsgi backup ...): pg_dump / pg_restore found on PATH or under
    # /usr/lib/postgresql/*/bin unless PG_BINDIR names the folder.
    PG_BINDIR = os.environ.get("PG_BINDIR")
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
    # Cookies: never readable by scripts, not sent on cross-site sub-requests, and Secure on
    # every HTTPS request (views.SessionInterface); SESSION_COOKIE_SECURE=1 forces it always.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Number of reverse proxies in front (their X-Forwarded-For/-Proto are trusted); 0: none.
    PROXY_HOPS = int(os.environ.get("PROXY_HOPS", 0))
    # Login lockout, counted in the database: N wrong passwords in a row lock the account.
    LOGIN_LOCKOUT_ATTEMPTS = int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", 5))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15))
    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    WTF_CSRF_TIME_LIMIT = None
    # The application's notion of "today" can be pinned for rehearsals and tests (YYYY-MM-DD).
    TODAY = os.environ.get("ARTISAN_TODAY")
    # Quorum (share of all members present) and pass threshold (share of ALL members voting
    # yes), per council level.  Values from the domain document (2019 state council, [VP]);
    # unverified for Decree 43, hence configuration.  Rounded up to a whole member.
    COUNCIL_RULES = {
        "default": {"quorum_percent": 75, "pass_percent": 90},
        "province": {"quorum_percent": 75, "pass_percent": 90},
        "ministry": {"quorum_percent": 75, "pass_percent": 90},
        "state": {"quorum_percent": 75, "pass_percent": 90},
    }
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
    BASE_DIR = Path(__file__).resolve().parent.parent
