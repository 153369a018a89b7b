"""Security headers, cookie flags, inline-script-free templates and safe redirects."""

import logging
import re
from pathlib import Path

import pytest

from lms.config import load_config
from tests.conftest import TEST_PASSWORD, csrf_from

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";"))
    return {name: value for name, value in pairs}


@pytest.mark.parametrize("who", [None, "counselor1", "admin"])
def test_pages_send_security_headers(seeded, login, client, who):
    browser = login(who) if who else client
    response = browser.get("/account/password" if who else "/login")
    directives = _directives(response)

    assert response.status_code == 200
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_error_pages_send_security_headers(seeded, client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_templates_have_no_inline_script():
    """Check that no template contains inline code, which the CSP would block."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        if path.name.endswith("_pdf.html"):
            continue  # Rendered to PDF by WeasyPrint, never served as a page.
        text = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path.name}: event-handler attribute")
        if re.search(r"<style|\sstyle\s*=", text):
            offenders.append(f"{path.name}: inline style")
        if "javascript:" in text:
            offenders.append(f"{path.name}: javascript: URL")
    assert offenders == []


def _login(client, next_url: str):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={
            "username": "counselor1",
            "password": TEST_PASSWORD,
            "next": next_url,
            "csrf_token": token,
        },
    )


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "evil.example",
        # Browsers drop tabs and line breaks from an address, so these would
        # become "//evil.example/", an address on another site.
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r/evil.example/",
        " //evil.example/",
    ],
)
def test_login_never_redirects_off_site(seeded, app, next_url):
    response = _login(app.test_client(), next_url)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/"


def test_login_follows_local_next(seeded, app):
    response = _login(app.test_client(), "/learning")

    assert response.headers["Location"] == "/learning"


def test_session_cookie_flags(seeded, app, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_NAME", "__Host-session")
    response = _login(app.test_client(), "")
    cookies = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith("__Host-session=")
    ]

    assert cookies, "login sets no session cookie"
    flags = cookies[-1].lower()
    assert "httponly" in flags
    assert "secure" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags
    assert "domain=" not in flags


def test_secure_cookies_use_host_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_SECURE_COOKIES", "1")
    config = load_config(str(tmp_path))

    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert "SESSION_COOKIE_DOMAIN" not in config


def test_plain_http_keeps_unprefixed_cookie(monkeypatch, tmp_path):
    monkeypatch.delenv("LMS_SECURE_COOKIES", raising=False)
    config = load_config(str(tmp_path))

    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_NAME"] == "session"


def test_forbidden_request_is_logged(seeded, login, caplog):
    counselor = login("counselor1")

    with caplog.at_level(logging.WARNING, logger="lms.errors"):
        response = counselor.get("/admin/audit")

    assert response.status_code == 403
    [record] = [r for r in caplog.records if r.name == "lms.errors"]
    assert "Forbidden GET /admin/audit" in record.getMessage()
    assert "127.0.0.1" in record.getMessage()


def test_trace_method_is_rejected(seeded, client):
    response = client.open("/login", method="TRACE")

    assert response.status_code == 405


def test_health_check_reveals_nothing(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_behind_login_are_not_stored(seeded, login, client):
    counselor = login("counselor1")

    page = counselor.get("/account/password")
    public = client.get("/login")
    static = counselor.get("/static/css/app.css")

    assert page.headers["Cache-Control"] == "private, no-store"
    assert "no-store" not in public.headers.get("Cache-Control", "")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_logout_clears_site_data(seeded, login):
    counselor = login("counselor1")

    response = counselor.post("/logout")

    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_password_fields_are_masked(seeded, login, client):
    pages = [client.get("/login"), login("counselor1").get("/account/password")]

    for page in pages:
        html = page.get_data(as_text=True)
        fields = re.findall(r'<input[^>]*name="[a-z_]*password"[^>]*>', html)
        assert fields, "page has no password field"
        for field in fields:
            assert 'type="password"' in field
            assert 'autocomplete="off"' not in field


def test_logout_on_every_page_behind_login(seeded, login):
    counselor = login("counselor1")

    for url in ("/learning", "/certificates", "/account/password", "/notifications"):
        html = counselor.get(url).get_data(as_text=True)
        assert 'action="/logout"' in html, url
