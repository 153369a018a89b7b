"""Browser test: on a phone, wide tables scroll inside the page instead of squeezing."""

import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from tests.conftest import TEST_PASSWORD

#: Width in CSS pixels of the narrowest header cell of each table on the page.
NARROWEST_HEADERS = """
Array.from(document.querySelectorAll('main table')).map(table =>
  Math.min(...Array.from(table.querySelectorAll('th')).map(
    cell => cell.getBoundingClientRect().width)))
"""


def test_record_tables_fit_a_phone(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    with app.app_context():
        person_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor2"))

    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor2")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")
    page.goto(f"{live_server}/people/{person_id}/record")

    # The hours ledger has six columns; each keeps room for four characters.
    narrowest = page.evaluate(NARROWEST_HEADERS)
    assert narrowest
    assert min(narrowest) >= 64
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_record_facts_fit_a_phone_in_english(app, live_server, browser_page):
    """Long English labels such as "Became a probationary Party member on" wrap.

    A label column as wide as its longest label pushed the values past the
    right edge of a 375-pixel screen, so the whole page scrolled sideways.
    """
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    with app.app_context():
        person_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))

    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")
    # On a phone the language switch is behind the menu button.
    page.click(".menu-toggle")
    page.click('form[action$="/language/en"] button')
    page.wait_for_url(f"{live_server}/learning")
    page.goto(f"{live_server}/people/{person_id}/record")

    assert page.locator("#profile-dates").is_visible()
    assert "Became a probationary Party member on" in page.inner_text("#profile-dates")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
