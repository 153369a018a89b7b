"""Notifications: in-app outbox with e-mail delivery, and the scheduled jobs that fill it.

Settings, each read from the environment variable of the same name unless
``app.config`` already sets the key:

``LMS_SMTP_HOST``
    SMTP server; unset means e-mail copies are marked skipped.
``LMS_SMTP_PORT``
    port, default 587.
``LMS_SMTP_USER``, ``LMS_SMTP_PASSWORD``
    login, if the server needs one.
``LMS_SMTP_STARTTLS``
    upgrade the connection with STARTTLS, default true.
``LMS_SMTP_SSL``
    connect with implicit TLS (usually port 465), default false.
``LMS_SMTP_TIMEOUT``
    socket timeout in seconds, default 30.
``LMS_MAIL_FROM``
    sender, e.g. ``树人培训平台 <noreply@example.edu.cn>``; required with a host.
``LMS_MAIL_BATCH_SIZE``
    e-mails claimed per delivery run, default 100.
``LMS_MAIL_MAX_ATTEMPTS``
    attempts before an e-mail is marked failed, default 8.
``LMS_MAIL_RETRY_BASE_SECONDS``, ``LMS_MAIL_RETRY_MAX_SECONDS``
    the wait after the n-th failure is base * 2**(n-1), capped at max
    (defaults 60 and 21600, i.e. 6 hours).
``LMS_NOTIFICATION_RETENTION_DAYS``
    read notifications older than this are deleted, default 180.
``LMS_JOB_RUN_RETENTION_DAYS``
    job history older than this is deleted, default 30.
``LMS_JOB_LEASE_SECONDS``
    lifetime of a SQLite job lease, longer than any job run, default 3600.
``LMS_DEADLINE_REMINDER_DAYS``
    days before a deadline on which reminders are sent, default ``3,1``.
``LMS_TEMP_UPLOAD_MAX_AGE_HOURS``
    files under the ``tmp``, ``imports``, ``framework_imports`` and
    ``question_imports`` folders of ``UPLOAD_DIR``, and import previews left
    unconfirmed, older than this are deleted by the cleanup job, default 24.
``LMS_SCHEDULER``
    ``off`` (default) or ``inprocess``: whether the web process starts a
    background scheduler. Production runs ``flask lms scheduler`` instead.
``LMS_JOBS``
    JSON object of per-job overrides, see ``lms.scheduler``.
"""

import os

from flask import Flask, current_app


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is invalid: expected an integer") from None


def config_defaults() -> dict:
    """Return this package's settings read from the environment, with defaults."""
    return {
        "LMS_SMTP_HOST": os.environ.get("LMS_SMTP_HOST") or None,
        "LMS_SMTP_PORT": _env_int("LMS_SMTP_PORT", 587),
        "LMS_SMTP_USER": os.environ.get("LMS_SMTP_USER") or None,
        "LMS_SMTP_PASSWORD": os.environ.get("LMS_SMTP_PASSWORD") or None,
        "LMS_SMTP_STARTTLS": _env_bool("LMS_SMTP_STARTTLS", True),
        "LMS_SMTP_SSL": _env_bool("LMS_SMTP_SSL", False),
        "LMS_SMTP_TIMEOUT": _env_int("LMS_SMTP_TIMEOUT", 30),
        "LMS_MAIL_FROM": os.environ.get("LMS_MAIL_FROM") or None,
        "LMS_MAIL_BATCH_SIZE": _env_int("LMS_MAIL_BATCH_SIZE", 100),
        "LMS_MAIL_MAX_ATTEMPTS": _env_int("LMS_MAIL_MAX_ATTEMPTS", 8),
        "LMS_MAIL_RETRY_BASE_SECONDS": _env_int("LMS_MAIL_RETRY_BASE_SECONDS", 60),
        "LMS_MAIL_RETRY_MAX_SECONDS": _env_int("LMS_MAIL_RETRY_MAX_SECONDS", 6 * 3600),
        "LMS_NOTIFICATION_RETENTION_DAYS": _env_int("LMS_NOTIFICATION_RETENTION_DAYS", 180),
        "LMS_JOB_RUN_RETENTION_DAYS": _env_int("LMS_JOB_RUN_RETENTION_DAYS", 30),
        "LMS_JOB_LEASE_SECONDS": _env_int("LMS_JOB_LEASE_SECONDS", 3600),
        "LMS_DEADLINE_REMINDER_DAYS": os.environ.get("LMS_DEADLINE_REMINDER_DAYS") or "3,1",
        "LMS_TEMP_UPLOAD_MAX_AGE_HOURS": _env_int("LMS_TEMP_UPLOAD_MAX_AGE_HOURS", 24),
        "LMS_SCHEDULER": (os.environ.get("LMS_SCHEDULER") or "off").strip().lower(),
        "LMS_JOBS": os.environ.get("LMS_JOBS") or None,
    }


def init_app(app: Flask) -> None:
    """Add this package's settings to ``app.config`` unless they are already set."""
    for key, value in config_defaults().items():
        app.config.setdefault(key, value)


def setting(key: str):
    """Return a setting from the current app's config, or its environment default."""
    if key in current_app.config:
        return current_app.config[key]
    return config_defaults()[key]
