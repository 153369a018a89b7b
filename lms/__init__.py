"""Shuren (树人): training and certification for university counselors."""

import logging
import time
from pathlib import Path
from typing import Optional

from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import Pool

from lms import routing
from lms.config import load_config

#: The checkout that holds the packages, templates, static files and migrations.
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Optional[dict] = None) -> Flask:
    """Create the app: config from ``LMS_*`` variables, then ``config`` overrides."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)

    _configure_logging(app)
    _trust_proxies(app)
    _import_models()
    _init_extensions(app)
    routing.init_app(app)
    _register_blueprints(app)
    _register_listeners()

    from certificates import cli as certificate_cli
    from lms import cli, errors, form_input, i18n, labels, revisions, security, uploads
    from lms.notifications import cli as notification_cli

    errors.init_app(app)
    form_input.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    revisions.init_app(app)
    security.init_app(app)
    uploads.init_app(app)
    cli.init_app(app)
    notification_cli.register(app)
    certificate_cli.register(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Take the client address and scheme from ``PROXY_COUNT`` trusted proxies.

    Behind nginx every request comes from the proxy's address, so per-address
    login limits, audit entries and the HTTPS check (HSTS, secure cookies)
    need the X-Forwarded-For and X-Forwarded-Proto headers the proxy sets.
    Headers are trusted only from that many hops, so a client cannot forge
    its address when the app is reached directly.
    """
    count = int(app.config.get("PROXY_COUNT") or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def _configure_logging(app: Flask) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
    # Alembic announces each autogenerate plugin at INFO on every command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


#: Every module that defines tables. Importing them all gives the metadata
#: (create_all, Alembic autogenerate) the whole schema; add new ones here.
MODEL_MODULES = (
    "lms.organisations.models",
    "lms.accounts.models",
    "lms.competencies.models",
    "lms.records.models",
    "lms.compliance.models",
    "lms.promotion.models",
    "lms.audit",
    "courses.models",
    "courses.class_models",
    "assessments.models",
    "assessments.tasks_models",
    "lms.competencies.evidence",
    "certificates.models",
    "certificates.keys",
    "certificates.batches",
    "certificates.template_models",
    "lms.notifications.models",
    "lms.compliance.snapshots",
    "lms.accounts.two_factor",
    "lms.annual_assessment.models",
)


def _import_models() -> None:
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


def _init_extensions(app: Flask) -> None:
    from lms.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.session_protection = "strong"

    from lms.accounts import sessions
    from lms.accounts import views as account_views  # registers the user loader

    del account_views
    sessions.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from assessments.manage_views import bp as banks_bp
    from assessments.task_views import bp as tasks_bp
    from assessments.views import bp as assessments_bp
    from certificates.batch_views import bp as certificate_batches_bp
    from certificates.template_views import bp as certificate_templates_bp
    from certificates.views import bp as certificates_bp
    from courses.class_views import bp as classes_bp
    from courses.manage_views import bp as manage_bp
    from courses.teacher_views import bp as course_teachers_bp
    from courses.views import bp as courses_bp
    from lms.accounts.views import bp as accounts_bp
    from lms.annual_assessment.evaluation_views import bp as student_evaluation_bp
    from lms.annual_assessment.views import bp as annual_assessment_bp
    from lms.competencies.views import bp as frameworks_bp
    from lms.accounts.admin_views import bp as admin_bp
    from lms.compliance.views import bp as compliance_bp
    from lms.notifications.inbox import bp as notifications_bp
    from lms.notifications.views import bp as jobs_bp
    from lms.promotion.views import bp as promotion_bp
    from lms.records.views import bp as records_bp
    from lms.views import bp as main_bp

    for blueprint in (
        main_bp,
        accounts_bp,
        records_bp,
        compliance_bp,
        promotion_bp,
        annual_assessment_bp,
        student_evaluation_bp,
        courses_bp,
        assessments_bp,
        certificate_templates_bp,
        tasks_bp,
        certificates_bp,
        certificate_batches_bp,
        manage_bp,
        course_teachers_bp,
        banks_bp,
        frameworks_bp,
        jobs_bp,
        notifications_bp,
        admin_bp,
        classes_bp,
    ):
        app.register_blueprint(blueprint)


def _register_listeners() -> None:
    """Connect each package's signal listeners; connecting twice is a no-op."""
    import assessments.deadlines
    import assessments.services
    import certificates.evidence
    import certificates.external
    import certificates.services
    import courses.class_attendance
    import courses.deadlines
    import lms.competencies.evidence
    import lms.promotion.engine
    import lms.records.external
    import lms.records.services

    assessments.services.connect_listeners()
    certificates.services.connect_listeners()
    lms.records.services.connect_listeners()
    courses.class_attendance.connect_listeners()
    lms.records.external.register_withdrawal_hold(certificates.external.withdrawal_hold)
    courses.deadlines.register()
    assessments.deadlines.register()
    lms.competencies.evidence.connect_listeners()
    lms.promotion.engine.register_certificate_source(
        certificates.evidence.held_certificates
    )



@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Turn on foreign keys and WAL for every SQLite connection."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


#: A pooled connection unused for longer than this is pinged before it is
#: handed out again. SQLAlchemy's ``pool_pre_ping`` pings on every checkout,
#: which cost PostgreSQL requests one more round trip each, about a tenth
#: of a quiz start's database work.
PING_AFTER_IDLE_SECONDS = 5.0


@event.listens_for(Pool, "checkin")
def _note_checkin(dbapi_connection, connection_record) -> None:
    connection_record.info["checked_in_at"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _ping_idle_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """Check that a connection idle for over PING_AFTER_IDLE_SECONDS is still open.

    A connection opened for this checkout, or back in use within that time,
    is not pinged. Raising DisconnectionError makes the pool discard the
    connection and hand out another, as ``pool_pre_ping`` would. A database
    that goes away during the few seconds without a ping fails that
    request, and SQLAlchemy then invalidates the whole pool.
    """
    checked_in_at = connection_record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as exc:  # noqa: BLE001 - any driver error means a dead connection
        raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection) -> None:
    """Start SQLite transactions of writing requests with BEGIN IMMEDIATE.

    A deferred transaction that reads and then writes fails with "database
    is locked" when another worker wrote in between, because SQLite cannot
    upgrade its stale read snapshot. BEGIN IMMEDIATE takes the write lock
    first, so concurrent writers wait their turn (up to busy_timeout)
    instead. Reading requests, the CLI and jobs keep the driver's default,
    which begins a deferred transaction at the first write, so that they
    never block writers. A caller can ask for the write lock with the
    execution option ``sqlite_immediate=True``. The driver emits no BEGIN
    of its own once a transaction is open.
    """
    if connection.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    from lms.db import READ_ONLY_METHODS

    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    if not immediate and has_request_context():
        immediate = request.method not in READ_ONLY_METHODS
    if immediate:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
