"""Browser test: a double click on a form's button sends the form once."""

import sqlalchemy as sa

from courses.models import Course, CourseModule
from lms.extensions import db
from tests.conftest import TEST_PASSWORD


def _log_in(page, live_server) -> None:
    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "trainer")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/programmes")


def _new_draft_course(page, live_server) -> str:
    page.goto(f"{live_server}/manage/courses/new")
    page.fill("#code", "double-click")
    page.fill("#title", "双击测试课程")
    page.fill("#credit_hours", "2")
    page.select_option("#competency_ids", index=0)
    page.click('main form[action$="/manage/courses/new"] button[type="submit"]')
    page.wait_for_url(f"{live_server}/manage/courses/*")
    return page.url


def _modules_titled(title: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CourseModule)
        .join(Course, Course.id == CourseModule.course_id)
        .where(Course.code == "double-click", CourseModule.title == title)
    )


# Runs after the page's own submit listeners, which sit on the document, and
# records whether each press would be sent. It stops every submission itself,
# so the page stays as it is between the two presses, as it does for a person
# whose first request is still on its way.
RECORD_PRESSES = """() => {
  window.sentPresses = [];
  window.addEventListener("submit", (event) => {
    window.sentPresses.push(!event.defaultPrevented);
    event.preventDefault();
  });
}"""


def test_second_press_is_not_sent(app_ctx, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server)
    _new_draft_course(page, live_server)
    page.evaluate(RECORD_PRESSES)
    form = page.locator('main form[action$="/modules"]')
    form.locator('input[name="title"]').fill("第一单元")
    button = form.locator('button[type="submit"]')

    button.click()
    page.wait_for_timeout(200)
    button.click()

    assert page.evaluate("window.sentPresses") == [True, False]


def test_preview_in_new_window_is_not_held(app_ctx, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server)
    _new_draft_course(page, live_server)
    page.evaluate(RECORD_PRESSES)
    form = page.locator('main form[action$="/modules"]')
    form.locator('input[name="title"]').fill("第一单元")
    page.evaluate(
        "document.querySelector('main form[action$=\"/modules\"]').target = '_blank'"
    )
    button = form.locator('button[type="submit"]')

    button.click()
    button.click()

    assert page.evaluate("window.sentPresses") == [True, True]


def test_form_sends_again_after_going_back(app_ctx, live_server, browser_page):
    page = browser_page
    _log_in(page, live_server)
    _new_draft_course(page, live_server)
    form = page.locator('main form[action$="/modules"]')
    form.locator('input[name="title"]').fill("第二单元")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()

    page.go_back()
    page.wait_for_load_state("load")
    form = page.locator('main form[action$="/modules"]')
    form.locator('input[name="title"]').fill("第三单元")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()

    assert _modules_titled("第三单元") == 1
