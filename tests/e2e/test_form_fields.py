"""Browser test: search, date, number and file fields are styled like text fields."""

from tests.conftest import TEST_PASSWORD

#: Type and width of each visible field of the forms in main.
FIELD_WIDTHS = """
Array.from(document.querySelectorAll('main form input, main form select')).filter(
  field => field.type !== 'hidden' && field.type !== 'checkbox').map(field => [
    field.type || field.tagName, field.getBoundingClientRect().width])
"""


def _log_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_load_state()


def test_people_search_field_as_wide_as_selects(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _log_in(page, live_server, "hr")
    page.goto(f"{live_server}/people")

    widths = dict(page.evaluate(FIELD_WIDTHS))
    assert widths["search"] == widths["select-one"], widths


def test_external_training_dates_and_file_fill_the_form(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/records/external")

    widths = page.evaluate(FIELD_WIDTHS)
    text_width = max(width for kind, width in widths if kind == "text")
    for kind, width in widths:
        if kind in ("date", "number", "file"):
            assert width == text_width, (kind, widths)
