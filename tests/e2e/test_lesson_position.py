"""Browser test: a text lesson saves the reading position and restores it."""

import sqlalchemy as sa

from courses.models import Course, CourseVisit
from lms.extensions import db
from tests.conftest import TEST_PASSWORD

#: Scroll to the middle of the scrollable range, i.e. 500 thousandths.
HALF_WAY = (
    "window.scrollTo(0,"
    " (document.documentElement.scrollHeight - window.innerHeight) / 2)"
)


def test_lesson_scroll_position_is_restored(app, live_server, browser_page):
    page = browser_page
    page.set_viewport_size({"width": 800, "height": 400})
    blocked = []
    failed = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text
        and blocked.append(message.text),
    )
    page.on(
        "response",
        lambda response: response.status >= 400
        and not response.url.endswith("/favicon.ico")
        and failed.append(response.url),
    )
    with app.app_context():
        course = db.session.scalar(
            sa.select(Course).filter_by(code="mid-theme-education")
        )
        lesson_id = course.lessons[0].id
        lesson_url = f"{live_server}/courses/{course.id}/lessons/{lesson_id}"

    page.goto(f"{live_server}/login")
    # counselor2 is enrolled in the intermediate programme through its class.
    page.fill('input[name="username"]', "counselor2")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")

    page.goto(lesson_url)
    page.evaluate(HALF_WAY)
    scrolled_to = page.evaluate("window.scrollY")
    with page.expect_response(lambda r: r.url.endswith("/position")) as saved:
        page.wait_for_timeout(2_000)
    page.goto(lesson_url)
    page.wait_for_function("window.scrollY > 0")

    with app.app_context():
        visit = db.session.scalar(sa.select(CourseVisit))
        permille = visit.position_permille
    assert saved.value.status == 200
    assert 450 <= permille <= 550
    assert abs(page.evaluate("window.scrollY") - scrolled_to) <= 20
    assert blocked == []
    assert failed == []
