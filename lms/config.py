"""Configuration read from ``LMS_*`` environment variables with safe defaults."""

import os
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(instance_path: str) -> dict:
    """Build the Flask config mapping from the environment.

    Every key has a default that works on a developer machine: SQLite in the
    instance folder, in-memory rate limits, the zh_CN locale and the
    Asia/Shanghai zone. Production sets ``LMS_DATABASE_URL``,
    ``LMS_SECRET_KEY``, ``LMS_REDIS_URL`` and ``LMS_PUBLIC_URL``.
    """
    instance = Path(instance_path)
    database_url = os.environ.get(
        "LMS_DATABASE_URL", f"sqlite:///{instance / 'shuren.sqlite3'}"
    )
    redis_url = os.environ.get("LMS_REDIS_URL")
    secure_cookies = _env_bool("LMS_SECURE_COOKIES", False)

    return {
        "SECRET_KEY": os.environ.get("LMS_SECRET_KEY") or _instance_secret(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Connections idle for a few seconds are pinged before use; see
        # PING_AFTER_IDLE_SECONDS in lms/__init__.py.
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "PUBLIC_URL": os.environ.get("LMS_PUBLIC_URL", "http://127.0.0.1:5000"),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": os.environ.get("LMS_TIMEZONE", "Asia/Shanghai"),
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": ["zh_CN", "en"],
        # werkzeug's hash spec; tests set a cheap pbkdf2 to keep the suite fast.
        "PASSWORD_HASH_METHOD": os.environ.get("LMS_PASSWORD_HASH_METHOD", "scrypt"),
        "RATELIMIT_STORAGE_URI": os.environ.get(
            "LMS_RATELIMIT_STORAGE_URI", redis_url or "memory://"
        ),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Limit counters carry the same prefix as session keys, so deployments
        # sharing one Redis database keep separate counts.
        "RATELIMIT_KEY_PREFIX": os.environ.get("LMS_SESSION_REDIS_PREFIX", "shuren:"),
        # Reverse proxies in front of the app whose X-Forwarded-* headers are
        # trusted; 0 means the app is reached directly.
        "PROXY_COUNT": int(os.environ.get("LMS_PROXY_COUNT", 0)),
        # Days a first password issued by a roster import stays valid.
        "FIRST_PASSWORD_DAYS": int(os.environ.get("LMS_FIRST_PASSWORD_DAYS", 14)),
        "VERIFY_RATE_LIMIT": os.environ.get("LMS_VERIFY_RATE_LIMIT", "60 per minute"),
        "LOGIN_RATE_LIMIT": os.environ.get("LMS_LOGIN_RATE_LIMIT", "10 per minute"),
        # Rejected access codes per address on the public student evaluation page.
        "EVALUATION_RATE_LIMIT": os.environ.get("LMS_EVALUATION_RATE_LIMIT", "20 per minute"),
        # Failed logins per account from all addresses together.
        "LOGIN_ACCOUNT_RATE_LIMIT": os.environ.get(
            "LMS_LOGIN_ACCOUNT_RATE_LIMIT", "20 per hour"
        ),
        # Server-side sessions: Redis when set, else the user_session table.
        "SESSION_STORE_URL": redis_url,
        "SESSION_REDIS_PREFIX": os.environ.get("LMS_SESSION_REDIS_PREFIX", "shuren:"),
        # Minutes without a request after which a login ends. A decimal such
        # as 0.5 is allowed, so the expiry warning can be tried quickly.
        "SESSION_IDLE_MINUTES": _env_positive("LMS_SESSION_IDLE_MINUTES", "30"),
        # Seconds before the end of an idle login at which its pages warn and
        # offer to keep it (static/js/session-expiry.js).
        "SESSION_WARNING_SECONDS": _env_positive("LMS_SESSION_WARNING_SECONDS", "300"),
        "SESSION_MAX_HOURS": int(os.environ.get("LMS_SESSION_MAX_HOURS", 12)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        # Browsers keep a "__Host-" cookie only if it is Secure, has Path=/ and
        # no Domain, so it cannot be set or read by another subdomain.
        "SESSION_COOKIE_NAME": "__Host-session" if secure_cookies else "session",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("LMS_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)),
        # Worker processes that render a certificate batch; both cores by default.
        "CERTIFICATE_BATCH_PROCESSES": int(
            os.environ.get("LMS_CERTIFICATE_BATCH_PROCESSES", min(2, os.cpu_count() or 1))
        ),
        "CERTIFICATE_DIR": os.environ.get(
            "LMS_CERTIFICATE_DIR", str(instance / "certificates")
        ),
        # Evidence files of trainings taken outside the platform; never under static/.
        "EVIDENCE_DIR": os.environ.get("LMS_EVIDENCE_DIR", str(instance / "evidence")),
        "UPLOAD_DIR": os.environ.get("LMS_UPLOAD_DIR", str(instance / "uploads")),
        "BACKUP_MAX_BYTES": int(os.environ.get("LMS_BACKUP_MAX_BYTES", 20 * 1024**3)),
        # 学时 credited for an attended offline session of a training class,
        # unless the class sets its own conversion.
        "CLASS_FULL_DAY_HOURS": os.environ.get("LMS_CLASS_FULL_DAY_HOURS", "8"),
        "CLASS_HALF_DAY_HOURS": os.environ.get("LMS_CLASS_HALF_DAY_HOURS", "4"),
        "CERTIFICATE_FONT_FAMILY": certificate_font_family(),
        # Share of a lesson's stated duration (0 to 1) that must pass between
        # a learner first opening the lesson and marking it complete.
        "LESSON_MIN_TIME_SHARE": _env_share("LMS_LESSON_MIN_TIME_SHARE", "0.5"),
    }


def _env_share(name: str, default: str) -> Decimal:
    """Read a share from 0 to 1, e.g. "0.5", and raise ValueError naming the variable."""
    raw = os.environ.get(name, default).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number from 0 to 1, such as 0.5, not {raw!r}")
    return value


def _env_positive(name: str, default: str) -> float | int:
    """Read a number above 0, e.g. "30" or "0.5", and raise ValueError naming the variable."""
    raw = os.environ.get(name, default).strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise ValueError(f"{name} must be a number above 0, such as 30, not {raw!r}")
    return int(value) if value == value.to_integral_value() else float(value)


def certificate_font_family() -> str:
    """Return the CSS font-family list of certificate PDFs.

    ``LMS_CERTIFICATE_FONT_FAMILY`` overrides the default.
    """
    return os.environ.get(
        "LMS_CERTIFICATE_FONT_FAMILY",
        '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Micro Hei", sans-serif',
    )


def _instance_secret(instance: Path) -> str:
    """Return a random secret kept in the instance folder across restarts.

    Used only when ``LMS_SECRET_KEY`` is unset, so a local install never runs
    with a known key and sessions survive a restart.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
