"""Fixtures for the outbox and scheduler tests: people, and a local SMTP server."""

import socket
from dataclasses import dataclass, field
from typing import Optional

import pytest
from aiosmtpd.controller import Controller

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.conftest import TEST_PASSWORD


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_person(
    institution: Institution,
    username: str,
    *,
    full_name: str = "张三",
    email: Optional[str] = "zhangsan@example.edu.cn",
    locale: Optional[str] = None,
) -> User:
    user = User(
        username=username,
        full_name=full_name,
        email=email,
        role=Role.COUNSELOR,
        institution_id=institution.id,
        locale=locale,
    )
    user.set_password(TEST_PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def institution(app_ctx) -> Institution:
    institution = Institution(code="sched-uni", name="示范大学", timezone="Asia/Shanghai")
    db.session.add(institution)
    db.session.flush()
    return institution


@dataclass
class RecordingHandler:
    """aiosmtpd handler that stores each accepted message and can refuse on request."""

    messages: list[bytes] = field(default_factory=list)
    #: Number of DATA commands still to reject with 451 (try again later).
    transient_failures: int = 0
    #: Recipient addresses rejected with 550 (no such user).
    unknown_recipients: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown_recipients:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.transient_failures:
            self.transient_failures -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(envelope.original_content or envelope.content)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    """Run an SMTP server on 127.0.0.1 and a free port; yield (handler, port)."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(app, monkeypatch):
    """Point e-mail delivery at 127.0.0.1 without TLS; return a setter for the port."""

    def configure(port: int, **overrides) -> None:
        values = {
            "LMS_SMTP_HOST": "127.0.0.1",
            "LMS_SMTP_PORT": port,
            "LMS_SMTP_USER": None,
            "LMS_SMTP_PASSWORD": None,
            "LMS_SMTP_STARTTLS": False,
            "LMS_SMTP_SSL": False,
            "LMS_SMTP_TIMEOUT": 5,
            "LMS_MAIL_FROM": "树人培训平台 <noreply@shuren.example.edu.cn>",
            "LMS_MAIL_BATCH_SIZE": 100,
            "LMS_MAIL_MAX_ATTEMPTS": 8,
            "LMS_MAIL_RETRY_BASE_SECONDS": 60,
            "LMS_MAIL_RETRY_MAX_SECONDS": 6 * 3600,
        }
        values.update(overrides)
        for key, value in values.items():
            monkeypatch.setitem(app.config, key, value)

    return configure
