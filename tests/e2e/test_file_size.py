"""Browser test: a file over its field's limit is named before the form is sent."""

from lms.records.external import MAX_EVIDENCE_BYTES
from tests.conftest import TEST_PASSWORD


def test_oversized_evidence_stops_submit(live_server, browser_page):
    page = browser_page
    blocked = []
    posts = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text
        and blocked.append(message.text),
    )
    page.on(
        "request",
        lambda request: request.method == "POST"
        and request.url.endswith("/records/external")
        and posts.append(request.url),
    )
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")

    page.goto(f"{live_server}/records/external")
    page.fill("#title", "全国高校辅导员示范培训")
    page.fill("#organiser", "教育部思想政治工作司")
    page.fill("#start_date", "2025-12-29")
    page.fill("#end_date", "2026-01-02")
    page.fill("#hours", "10")
    page.set_input_files(
        "#evidence",
        {
            "name": "证书.pdf",
            "mimeType": "application/pdf",
            "buffer": b"%PDF-" + b"0" * MAX_EVIDENCE_BYTES,
        },
    )
    message = page.locator("#evidence-size-error")
    message.wait_for(state="visible")
    page.click('main form button[type="submit"]')

    assert "证书.pdf" in message.inner_text()
    assert "10 MB" in message.inner_text()
    assert page.locator("#evidence").get_attribute("aria-invalid") == "true"
    assert page.input_value("#title") == "全国高校辅导员示范培训"
    assert page.input_value("#hours") == "10"
    assert posts == []
    assert blocked == []


def test_small_evidence_clears_message(live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")
    page.goto(f"{live_server}/records/external")
    big = {"name": "a.pdf", "mimeType": "application/pdf", "buffer": b"0" * (MAX_EVIDENCE_BYTES + 1)}
    small = {"name": "b.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\n"}

    page.set_input_files("#evidence", big)
    page.locator("#evidence-size-error").wait_for(state="visible")
    page.set_input_files("#evidence", small)

    page.locator("#evidence-size-error").wait_for(state="hidden")
    assert page.locator("#evidence").get_attribute("aria-invalid") is None
