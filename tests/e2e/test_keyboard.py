"""Browser test: a keyboard user skips the navigation bar to the page's content."""

from tests.conftest import TEST_PASSWORD

ACTIVE = "document.activeElement.closest('header') ? 'header' : document.activeElement.tagName"


def test_first_tab_skips_to_content(app, live_server, browser_page):
    """The first Tab offers a link past the dozen links of the bar, and Enter follows it.

    The next Tab then reaches the first link or button of the page's content.
    """
    page = browser_page
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")

    page.keyboard.press("Tab")
    skip = page.evaluate("document.activeElement.getAttribute('href')")
    assert skip == "#content"
    assert page.locator("a[href='#content']").is_visible()

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE) != "header"
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_skip_link_hidden_until_focused(app, live_server, browser_page):
    page = browser_page
    page.goto(f"{live_server}/login")

    box = page.locator("a[href='#content']").bounding_box()
    assert box is not None
    assert box["width"] <= 1
    assert box["height"] <= 1
