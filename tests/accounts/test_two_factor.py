"""TOTP two-factor login: enrolment, the code step, recovery codes and enforcement."""

import re
from datetime import datetime, timedelta, timezone

import pyotp
import pytest
import sqlalchemy as sa

from lms.accounts import two_factor
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.factories import build_learning_world

UTC = timezone.utc
#: The start of the current 30-second TOTP step. Not a fixed day: a session
#: store in Redis drops records whose expiry has passed by the real clock.
T0 = datetime.fromtimestamp(int(datetime.now(UTC).timestamp()) // 30 * 30, UTC)


class Clock:
    """The time that sessions and code checks see; tests move it."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(T0)
    monkeypatch.setattr("lms.accounts.sessions.clock", fake)
    return fake


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _password_step(client, username: str, password: str = TEST_PASSWORD):
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf}
    )
    return response, csrf


def _code_step(client, csrf: str, code: str):
    return client.post("/login/verify", data={"code": code, "csrf_token": csrf})


def _code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def _logged_in(client) -> bool:
    response = client.get("/account/password")
    return response.status_code == 200


def _enrol(app, client, username: str, clock) -> tuple[str, list[str]]:
    """Log in by password, enrol through the pages and log out; return secret and codes."""
    response, csrf = _password_step(client, username)
    assert response.status_code == 302
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    csrf = csrf_from(page)
    response = client.post(
        "/account/two-factor", data={"code": _code_at(secret, clock.now), "csrf_token": csrf}
    )
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf})
    return secret, codes


def _actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.subject_id == user_id, AuditEntry.subject_type == "user")
            .order_by(AuditEntry.id)
        )
    )


def test_matching_step_at_fixed_times():
    secret = pyotp.random_base32()
    step = int(T0.timestamp()) // 30

    assert two_factor.matching_step(secret, _code_at(secret, T0), T0) == step
    earlier = T0 - timedelta(seconds=30)
    assert two_factor.matching_step(secret, _code_at(secret, earlier), T0) == step - 1
    too_old = T0 - timedelta(seconds=90)
    assert two_factor.matching_step(secret, _code_at(secret, too_old), T0) is None
    assert two_factor.matching_step(secret, "12345", T0) is None
    assert two_factor.matching_step(secret, "abcdef", T0) is None


def test_enrolment_shows_qr_as_data_uri(app, world, clock):
    client = app.test_client()
    _password_step(client, "counselor1")

    page = client.get("/account/two-factor").get_data(as_text=True)

    assert 'src="data:image/svg+xml' in page
    # The QR code needs no script: the page loads only those of every page.
    scripts = re.findall(r"<script[^>]*>", page)
    assert [re.search(r'src="([^"]+)"', tag).group(1) for tag in scripts] == [
        "/static/js/nav-menu.js",
        "/static/js/session-expiry.js",
        "/static/js/drafts.js",
        "/static/js/submit-once.js",
    ]
    assert not two_factor.is_enabled(db.session.get(User, world.counselor))


def test_enrolment_rejects_wrong_code(app, world, clock):
    client = app.test_client()
    _password_step(client, "counselor1")
    page = client.get("/account/two-factor").get_data(as_text=True)

    response = client.post(
        "/account/two-factor", data={"code": "000000", "csrf_token": csrf_from(page)}
    )

    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert not two_factor.is_enabled(db.session.get(User, world.counselor))


def test_login_with_totp(app, world, clock):
    client = app.test_client()
    secret, codes = _enrol(app, client, "counselor1", clock)
    assert len(codes) == 10

    clock.now = T0 + timedelta(minutes=5)
    response, csrf = _password_step(client, "counselor1")
    assert response.headers["Location"].endswith("/login/verify")
    assert not _logged_in(client)

    response = _code_step(client, csrf, _code_at(secret, clock.now))

    assert response.status_code == 302
    assert _logged_in(client)
    assert _actions(world.counselor)[-1] == "account.login"
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.data["method"] == "totp"


def test_wrong_code_refused_and_audited(app, world, clock):
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)
    clock.now = T0 + timedelta(minutes=5)
    _response, csrf = _password_step(client, "counselor1")

    response = _code_step(client, csrf, "123456" if _code_at(secret, clock.now) != "123456" else "654321")

    assert response.status_code == 200
    assert not _logged_in(client)
    assert _actions(world.counselor)[-1] == "account.two_factor_failed"


def test_replayed_code_refused_in_same_window(app, world, clock):
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)
    clock.now = T0 + timedelta(minutes=5)
    code = _code_at(secret, clock.now)
    _response, csrf = _password_step(client, "counselor1")
    assert _code_step(client, csrf, code).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account/password").get_data(as_text=True))})

    clock.now += timedelta(seconds=10)
    other = app.test_client()
    _response, csrf = _password_step(other, "counselor1")
    response = _code_step(other, csrf, code)

    assert response.status_code == 200
    assert not _logged_in(other)
    clock.now += timedelta(seconds=30)
    assert _code_step(other, csrf, _code_at(secret, clock.now)).status_code == 302


def test_enrolment_code_cannot_be_replayed_at_login(app, world, clock):
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)

    _response, csrf = _password_step(client, "counselor1")

    assert _code_step(client, csrf, _code_at(secret, T0)).status_code == 200


def test_recovery_code_works_once(app, world, clock):
    client = app.test_client()
    _secret, codes = _enrol(app, client, "counselor1", clock)

    _response, csrf = _password_step(client, "counselor1")
    client.post("/language/en", data={"csrf_token": csrf})
    assert _code_step(client, csrf, codes[0].upper().replace("-", " ")).status_code == 302
    page = client.get("/learning").get_data(as_text=True)
    assert "Recovery codes left: 9." in page
    entry = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.data["method"] == "recovery_code"

    other = app.test_client()
    _response, csrf = _password_step(other, "counselor1")
    assert _code_step(other, csrf, codes[0]).status_code == 200
    assert _code_step(other, csrf, codes[1]).status_code == 302
    assert two_factor.remaining_recovery_codes(db.session.get(User, world.counselor)) == 8


def test_code_step_is_rate_limited(app, world, clock):
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)
    clock.now = T0 + timedelta(minutes=5)
    _response, csrf = _password_step(client, "counselor1")
    wrong = "111111" if _code_at(secret, clock.now) != "111111" else "222222"

    statuses = [_code_step(client, csrf, wrong).status_code for _ in range(6)]

    assert statuses == [200, 200, 200, 200, 200, 429]
    assert _code_step(client, csrf, _code_at(secret, clock.now)).status_code == 429


def test_code_step_expires(app, world, clock, monkeypatch):
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)
    _response, csrf = _password_step(client, "counselor1")
    monkeypatch.setattr("lms.accounts.views.PENDING_SECONDS", -1)

    response = _code_step(client, csrf, _code_at(secret, T0 + timedelta(seconds=30)))

    assert response.headers["Location"].endswith("/login")
    assert not _logged_in(client)


def test_disable_needs_password(app, world, clock):
    client = app.test_client()
    _enrol(app, client, "counselor1", clock)
    _response, csrf = _password_step(client, "counselor1")
    user = db.session.get(User, world.counselor)
    record = two_factor.get_two_factor(user)
    code = pyotp.TOTP(record.secret).at(T0 + timedelta(seconds=30))
    clock.now = T0 + timedelta(seconds=30)
    assert _code_step(client, csrf, code).status_code == 302
    csrf = csrf_from(client.get("/account/two-factor").get_data(as_text=True))

    wrong = client.post("/account/two-factor/disable", data={"password": "nope", "csrf_token": csrf})
    assert wrong.status_code == 200
    db.session.expire_all()
    assert two_factor.is_enabled(user)

    right = client.post(
        "/account/two-factor/disable", data={"password": TEST_PASSWORD, "csrf_token": csrf}
    )
    assert right.status_code == 302
    db.session.expire_all()
    assert not two_factor.is_enabled(user)
    assert "account.two_factor_disabled" in _actions(world.counselor)
    assert "account.two_factor_enabled" in _actions(world.counselor)


def _require_two_factor(app, world) -> None:
    client = app.test_client()
    _response, _csrf = _password_step(client, "admin")
    csrf = csrf_from(client.get("/admin/security").get_data(as_text=True))
    response = client.post(
        "/admin/security", data={"require_two_factor": "y", "csrf_token": csrf}
    )
    assert response.status_code == 302


def test_required_two_factor_sends_hr_to_enrolment(app, world, clock):
    _require_two_factor(app, world)
    assert two_factor.institution_requires(world.uni_a)
    entry = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="security.two_factor_required")
    ).one()
    assert entry.actor_id == world.admin

    hr = app.test_client()
    _password_step(hr, "hr")
    response = hr.get("/people")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/two-factor")

    counselor = app.test_client()
    _password_step(counselor, "counselor1")
    assert counselor.get("/learning").status_code == 200

    hr_b = app.test_client()
    _password_step(hr_b, "hr_b")
    assert hr_b.get("/people").status_code == 200

    admin = app.test_client()
    _password_step(admin, "admin")
    response = admin.get("/admin/audit")
    assert response.headers["Location"].endswith("/account/two-factor")
    assert admin.get("/account/two-factor").status_code == 200


def test_hr_reaches_pages_after_enrolling(app, world, clock):
    _require_two_factor(app, world)
    hr = app.test_client()
    secret, _codes = _enrol(app, hr, "hr", clock)

    clock.now = T0 + timedelta(minutes=1)
    _response, csrf = _password_step(hr, "hr")
    assert _code_step(hr, csrf, _code_at(secret, clock.now)).status_code == 302
    assert hr.get("/people").status_code == 200

    csrf = csrf_from(hr.get("/account/two-factor").get_data(as_text=True))
    response = hr.post(
        "/account/two-factor/disable", data={"password": TEST_PASSWORD, "csrf_token": csrf}
    )
    assert response.status_code == 302
    assert two_factor.is_enabled(db.session.get(User, world.hr))


def test_admin_resets_lost_two_factor(app, world, clock):
    client = app.test_client()
    _enrol(app, client, "counselor1", clock)
    admin = app.test_client()
    _password_step(admin, "admin")
    csrf = csrf_from(admin.get(f"/people/{world.counselor}/account").get_data(as_text=True))

    response = admin.post(f"/people/{world.counselor}/two-factor/reset", data={"csrf_token": csrf})

    assert response.status_code == 302
    assert not two_factor.is_enabled(db.session.get(User, world.counselor))
    response, _csrf = _password_step(app.test_client(), "counselor1")
    assert not response.headers["Location"].endswith("/login/verify")


def _field_errors(response) -> list[str]:
    return re.findall(r'<p class="field-error"[^>]*>([^<]*)</p>', response.get_data(as_text=True))


def test_enrolment_letters_ask_for_six_digits(app, world, clock, english):
    client = app.test_client()
    _password_step(client, "counselor1")
    page = client.get("/account/two-factor").get_data(as_text=True)

    response = client.post("/account/two-factor", data={"code": "abc", "csrf_token": csrf_from(page)})

    assert response.status_code == 400
    errors = _field_errors(response)
    assert len(errors) == 1
    assert "6-digit code" in errors[0]
    assert "characters" not in errors[0]


def test_enrolment_letters_message_in_chinese(app, world, clock):
    client = app.test_client()
    _password_step(client, "counselor1")
    page = client.get("/account/two-factor").get_data(as_text=True)

    response = client.post("/account/two-factor", data={"code": "abc", "csrf_token": csrf_from(page)})

    errors = _field_errors(response)
    assert len(errors) == 1
    assert "6位数字" in errors[0]
    assert "个字符" not in errors[0]


def test_login_code_format_names_expected_kind(app, world, clock, english):
    client = app.test_client()
    _enrol(app, client, "counselor1", clock)
    _response, csrf = _password_step(client, "counselor1")
    failures_before = _actions(world.counselor).count("account.two_factor_failed")

    digits = _code_step(client, csrf, "1234")
    letters = _code_step(client, csrf, "abc")

    assert not _logged_in(client)
    digit_errors = _field_errors(digits)
    assert len(digit_errors) == 1
    assert "6 digits" in digit_errors[0]
    assert "4" in digit_errors[0]
    letter_errors = _field_errors(letters)
    assert len(letter_errors) == 1
    assert "recovery code has 10 letters and digits" in letter_errors[0]
    assert "abcde-23456" in letter_errors[0]
    # A malformed code is a typing error, not a wrong code, so it is not audited.
    assert _actions(world.counselor).count("account.two_factor_failed") == failures_before


def test_login_page_states_recovery_code_format(app, world, clock, english):
    client = app.test_client()
    _enrol(app, client, "counselor1", clock)
    _password_step(client, "counselor1")

    page = client.get("/login/verify").get_data(as_text=True)

    assert "6-digit code" in page
    assert "abcde-23456" in page


def _full_width(text: str) -> str:
    """Return ``text`` as a Chinese input method types it: full-width forms."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


def test_full_width_codes_accepted(app, world, clock):
    """Codes typed with full-width digits, letters and hyphen work as their ASCII forms."""
    client = app.test_client()
    _password_step(client, "counselor1")
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)
    enrolled = client.post(
        "/account/two-factor",
        data={"code": _full_width(_code_at(secret, clock.now)), "csrf_token": csrf_from(page)},
    )
    codes = re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", enrolled.get_data(as_text=True))
    client.post("/logout", data={"csrf_token": csrf_from(page)})

    clock.now = T0 + timedelta(minutes=5)
    app_client = app.test_client()
    _response, csrf = _password_step(app_client, "counselor1")
    by_app = _code_step(app_client, csrf, _full_width(_code_at(secret, clock.now)))
    recovery_client = app.test_client()
    _response, csrf = _password_step(recovery_client, "counselor1")
    by_recovery = _code_step(recovery_client, csrf, _full_width(codes[0]))

    assert enrolled.status_code == 200
    assert by_app.status_code == 302
    assert _logged_in(app_client)
    assert by_recovery.status_code == 302
    assert _logged_in(recovery_client)


def test_other_script_digits_refused_without_error(app, world, clock):
    client = app.test_client()
    _enrol(app, client, "counselor1", clock)
    clock.now = T0 + timedelta(minutes=5)
    _response, csrf = _password_step(client, "counselor1")

    response = _code_step(client, csrf, "١٢٣٤٥٦")

    assert response.status_code == 200
    assert not _logged_in(client)


def test_cli_reset_two_factor(app, world, clock):
    """An admin who lost the device and the recovery codes, with no other
    admin to reset them, is let in again by the platform operator's command."""
    secret, _codes = _enrol(app, app.test_client(), "admin", clock)
    clock.now = T0 + timedelta(minutes=1)
    client = app.test_client()
    _response, csrf = _password_step(client, "admin")
    _code_step(client, csrf, _code_at(secret, clock.now))
    assert _logged_in(client)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["lms", "reset-two-factor", "admin"])

    assert result.exit_code == 0, result.output
    assert "admin" in result.output
    assert not two_factor.is_enabled(db.session.get(User, world.admin))
    assert not _logged_in(client)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "account.two_factor_reset")
    ).one()
    assert entry.subject_id == world.admin
    response, _csrf = _password_step(app.test_client(), "admin")
    assert not response.headers["Location"].endswith("/login/verify")


def test_cli_reset_two_factor_bad_username(app, world, clock):
    runner = app.test_cli_runner()

    unknown = runner.invoke(args=["lms", "reset-two-factor", "nobody"])
    not_enrolled = runner.invoke(args=["lms", "reset-two-factor", "counselor1"])

    assert unknown.exit_code == 1
    assert "No account with username 'nobody'" in unknown.output
    assert unknown.exception is None or isinstance(unknown.exception, SystemExit)
    assert not_enrolled.exit_code == 0
    assert "nothing was changed" in not_enrolled.output


def _form_html(page: str, action: str) -> str:
    match = re.search(rf'<form method="post" action="{action}".*?</form>', page, re.S)
    assert match, f"page has no form posting to {action}"
    return match.group(0)


@pytest.mark.parametrize(
    ("action", "other"),
    [
        ("/account/two-factor/disable", "/account/two-factor/recovery-codes"),
        ("/account/two-factor/recovery-codes", "/account/two-factor/disable"),
    ],
)
def test_wrong_password_shown_in_its_form(app, world, clock, english, action, other):
    """Both forms ask for the password, so the error belongs to the one that was sent."""
    client = app.test_client()
    secret, _codes = _enrol(app, client, "counselor1", clock)
    _response, csrf = _password_step(client, "counselor1")
    clock.now = T0 + timedelta(seconds=30)
    assert _code_step(client, csrf, _code_at(secret, clock.now)).status_code == 302
    csrf = csrf_from(client.get("/account/two-factor").get_data(as_text=True))

    response = client.post(action, data={"password": "nope", "csrf_token": csrf})

    page = response.get_data(as_text=True)
    sent = _form_html(page, action)
    untouched = _form_html(page, other)
    assert "Current password: " in sent
    assert 'aria-invalid="true"' in sent
    assert "Current password: " not in untouched
    assert 'aria-invalid="true"' not in untouched
    assert page.count('class="field-error"') == 1
