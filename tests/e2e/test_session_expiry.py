"""Browser tests: the warning before a login ends, drafts that outlive it, the phone header."""

import time
from datetime import timedelta

from lms.accounts import sessions
from lms.db import now_utc
from tests.conftest import TEST_PASSWORD

REPORT = "form[action*='self-report'] textarea[name='self_report']"
REPORT_BUTTON = "form[action*='self-report'] button[type='submit']"
ESSAY = "本年度我走访学生宿舍一百二十次，组织主题班会十二场。" * 20
DRAFT_KEYS = (
    "Object.keys(localStorage).filter(key => key.startsWith('shuren:draft:'))"
)


class ServerClock:
    """Move the live server's session clock forward without touching the browser's."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        monkeypatch.setattr(sessions, "clock", lambda: now_utc() + self.offset)

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


def _wait_until(page, expression: str, timeout: float = 10.0) -> None:
    """Poll ``expression`` until it is truthy.

    ``wait_for_function`` evaluates its text with eval, which the pages'
    Content-Security-Policy forbids.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(100)


def _log_in(page, live_server, username: str, *, from_login_page: bool = False) -> None:
    if not from_login_page:
        page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_load_state()


def test_warning_button_keeps_login(app, live_server, browser_page, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 50)
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    clock.advance(seconds=25)
    # Only the server's clock moved: forget the end time the first page shared.
    page.evaluate("localStorage.clear()")
    page.reload()  # 35 seconds left
    notice = page.locator("#session-expiry")
    assert notice.is_hidden()

    # About five seconds later, with 30 seconds left: the lead is at most
    # half the idle time.
    notice.wait_for(state="visible", timeout=15_000)
    assert page.inner_text("#session-expiry-text") == "您的登录将在 1 分钟后过期。"
    assert page.get_attribute("#session-expiry-text", "role") == "alert"
    button = page.get_by_role("button", name="保持登录")
    with page.expect_response("**/session/keepalive") as answer:
        button.click()

    assert answer.value.status == 200
    assert answer.value.json()["seconds_left"] in (59, 60)
    assert page.inner_text("#session-expiry-text") == "已保持登录。"
    notice.wait_for(state="hidden", timeout=10_000)


def test_rejected_keepalive_message_stays(app, live_server, browser_page, monkeypatch):
    """The message of a rejected keepalive stays until the next click."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 50)
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    clock.advance(seconds=25)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.locator("#session-expiry").wait_for(state="visible", timeout=15_000)
    page.route(
        "**/session/keepalive",
        lambda route: route.fulfill(
            status=429, content_type="application/json", body='{"error": 429, "message": ""}'
        ),
    )

    page.get_by_role("button", name="保持登录").click()
    page.wait_for_timeout(2500)  # the warning is redrawn every second

    # The hourly limit is reached, so waiting a minute would not help.
    assert page.inner_text("#session-expiry-text").startswith("一小时内保持登录的次数已达上限")
    assert page.get_by_role("button", name="保持登录").is_visible()


def test_failed_keepalive_says_try_again(app, live_server, browser_page, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 50)
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    clock.advance(seconds=25)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.locator("#session-expiry").wait_for(state="visible", timeout=15_000)
    page.route(
        "**/session/keepalive",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body='{"error": 500, "message": ""}'
        ),
    )

    page.get_by_role("button", name="保持登录").click()
    page.wait_for_timeout(1500)

    assert page.inner_text("#session-expiry-text") == "暂时无法保持登录，请等待一分钟后重试。"


def test_warning_says_login_ended(app, live_server, browser_page, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 50)
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    clock.advance(seconds=25)
    page.evaluate("localStorage.clear()")
    page.reload()
    page.locator("#session-expiry").wait_for(state="visible", timeout=15_000)

    clock.advance(minutes=2)  # the server's clock runs ahead: the login ended
    page.get_by_role("button", name="保持登录").click()

    # The warning's text is already there, so wait for the keepalive's answer.
    _wait_until(
        page,
        "document.getElementById('session-expiry-text').textContent"
        ".startsWith('您的登录已经结束')",
    )
    assert page.inner_text("#session-expiry-text").startswith("您的登录已经结束")
    assert page.locator("#session-expiry-keep").is_hidden()
    login = page.get_by_role("link", name="重新登录")
    assert login.get_attribute("href") == "/login?next=/learning"


def test_typing_keeps_login_without_asking(app, live_server, browser_page, monkeypatch):
    """Typing in a form since the last request keeps the login when the warning is due."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 50)
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    clock.advance(seconds=25)
    page.evaluate("localStorage.clear()")
    page.goto(f"{live_server}/annual-assessment/mine")

    with page.expect_response("**/session/keepalive", timeout=15_000) as answer:
        page.type(REPORT, "述职")

    assert answer.value.status == 200
    assert page.locator("#session-expiry").is_hidden()


def test_draft_survives_ended_login(app, live_server, browser_page, monkeypatch):
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/annual-assessment/mine")
    page.fill(REPORT, ESSAY)
    _wait_until(page, f"{DRAFT_KEYS}.length === 1")

    clock.advance(minutes=31)  # the login ended while the text was typed
    page.click(REPORT_BUTTON)
    page.wait_for_url("**/login?next=*")
    assert "刚才提交的内容未能保存" in page.inner_text("main")
    _log_in(page, live_server, "counselor1", from_login_page=True)

    # The login returns to the form, which gets the text back.
    assert page.url == f"{live_server}/annual-assessment/mine"
    assert page.input_value(REPORT) == ESSAY
    notice = page.locator("form[action*='self-report'] .draft-notice")
    assert "已恢复未提交的草稿" in notice.inner_text()
    assert notice.get_by_role("button", name="放弃草稿").is_visible()

    page.click(REPORT_BUTTON)
    page.wait_for_load_state()
    assert "个人述职已保存。" in page.inner_text("main")
    assert page.evaluate(DRAFT_KEYS) == []
    page.reload()
    assert page.locator(".draft-notice").count() == 0


def test_discarded_draft_is_gone(app, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/annual-assessment/mine")
    page.fill(REPORT, ESSAY)
    _wait_until(page, f"{DRAFT_KEYS}.length === 1")
    page.reload()
    assert page.input_value(REPORT) == ESSAY

    page.get_by_role("button", name="放弃草稿").click()

    assert page.input_value(REPORT) == ""
    assert page.evaluate(DRAFT_KEYS) == []
    assert page.locator(".draft-notice").count() == 0


def test_drafts_never_reach_another_user(app, live_server, browser_page, monkeypatch):
    clock = ServerClock(monkeypatch)
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/annual-assessment/mine")
    page.fill(REPORT, ESSAY)
    _wait_until(page, f"{DRAFT_KEYS}.length === 1")

    clock.advance(minutes=31)  # counselor1 walks away; the login ends
    _log_in(page, live_server, "counselor2")
    page.goto(f"{live_server}/annual-assessment/mine")

    assert page.evaluate(DRAFT_KEYS) == []
    assert ESSAY[:20] not in page.content()


def test_logout_deletes_drafts(app, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/annual-assessment/mine")
    page.fill(REPORT, ESSAY)
    _wait_until(page, f"{DRAFT_KEYS}.length === 1")

    page.click("form[data-logout] button")
    page.wait_for_url("**/login")

    assert page.evaluate(DRAFT_KEYS) == []


def test_password_fields_are_never_kept(app, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server, "counselor1")
    page.goto(f"{live_server}/account/password")
    page.fill('input[name="current_password"]', TEST_PASSWORD)
    page.wait_for_timeout(500)

    stored = page.evaluate("JSON.stringify(localStorage)")
    assert TEST_PASSWORD not in stored


HEADER_HEIGHT = "document.querySelector('header.topbar').getBoundingClientRect().height"
FOCUSED = "document.activeElement.textContent.trim()"


def test_phone_header_compact_with_keyboard(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    _log_in(page, live_server, "hr")

    # The bar is one row: the brand and the menu button.
    assert page.evaluate(HEADER_HEIGHT) <= 64
    nav_link = page.locator("header nav a").first
    assert nav_link.is_hidden()

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#content"
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == "菜单"
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "false"
    page.keyboard.press("Enter")

    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    assert nav_link.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav') !== null")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.keyboard.press("Escape")
    assert nav_link.is_hidden()
    assert page.evaluate(FOCUSED) == "菜单"


def test_phone_menu_closes_when_focus_leaves(app, live_server, browser_page):
    """Tabbing past the last link of the open menu folds it away again."""
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 740})
    _log_in(page, live_server, "counselor1")
    page.focus(".menu-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    stops = page.evaluate(
        "document.querySelectorAll('#topbar-menu a, #topbar-menu button').length"
    )

    for _ in range(stops):
        page.keyboard.press("Tab")
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "true"
    page.keyboard.press("Tab")  # out of the menu, into the page

    assert page.evaluate("document.getElementById('topbar-menu').contains(document.activeElement)") is False
    assert page.get_attribute(".menu-toggle", "aria-expanded") == "false"
    assert page.locator("header nav a").first.is_hidden()


def test_wide_screen_shows_links_without_menu(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    _log_in(page, live_server, "counselor1")

    assert page.locator(".menu-toggle").is_hidden()
    assert page.locator("header nav a").first.is_visible()
