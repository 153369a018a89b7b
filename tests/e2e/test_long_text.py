"""Browser test: an unbroken title of the maximum length wraps instead of widening the page."""

import io

from pypdf import PdfWriter

from tests.conftest import TEST_PASSWORD

#: A title of 200 characters without a space, such as a pasted address.
LONG_TITLE = "https://training.example.invalid/" + "x" * 167
LONG_ORGANISER = "O" * 200

PAGE_WIDTH = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def _blank_pdf(path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())


def _log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_load_state()


def test_long_training_title_wraps(app, live_server, browser_page, tmp_path):
    page = browser_page
    evidence = tmp_path / "evidence.pdf"
    _blank_pdf(evidence)

    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/records/external")
    page.fill('input[name="title"]', LONG_TITLE)
    page.fill('input[name="organiser"]', LONG_ORGANISER)
    page.fill('input[name="start_date"]', "2026-01-12")
    page.fill('input[name="end_date"]', "2026-01-12")
    page.fill('input[name="hours"]', "4")
    page.set_input_files('input[name="evidence"]', str(evidence))
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/records/external")

    assert LONG_TITLE in page.inner_text("main")
    scroll_width, client_width = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= client_width

    page.click('form[action$="/logout"] button')
    _log_in(page, live_server, "hr")
    page.goto(f"{live_server}/records/external/pending")
    scroll_width, client_width = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= client_width

    page.click("main a[href$='/review']")
    page.wait_for_url("**/review")
    assert LONG_TITLE in page.inner_text("h1")
    scroll_width, client_width = page.evaluate(PAGE_WIDTH)
    assert scroll_width <= client_width
