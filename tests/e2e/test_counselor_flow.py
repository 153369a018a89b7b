"""Browser test: a counselor finishes the programme and downloads the certificate."""

import sqlalchemy as sa

from assessments.models import Quiz
from certificates.models import Certificate
from courses.models import Programme
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, demo_row


def _answer_quiz(page, quiz: Quiz) -> None:
    for question in quiz.questions:
        for choice in question.choices:
            if choice.is_correct:
                page.check(f'input[name="q{question.id}"][value="{choice.id}"]')
    page.click('form[action$="/submit"] button[type="submit"]')


def test_counselor_finishes_course_and_downloads_certificate(
    app, live_server, browser_page, tmp_path
):
    page = browser_page
    with app.app_context():
        programme = demo_row(Programme, code="junior-prejob-2026")
        courses = [
            (link.course.id, [lesson.id for lesson in link.course.lessons])
            for link in programme.courses
        ]
        programme_id = programme.id

    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    page.goto(f"{live_server}/programmes/{programme_id}")
    page.click('form[action$="/enrol"] button[type="submit"]')

    for course_id, lesson_ids in courses:
        for lesson_id in lesson_ids:
            page.goto(f"{live_server}/courses/{course_id}/lessons/{lesson_id}")
            page.click('form[action$="/complete"] button[type="submit"]')
            page.wait_for_load_state()
        page.goto(f"{live_server}/courses/{course_id}")
        with app.app_context():
            quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=course_id))
            page.goto(f"{live_server}/quizzes/{quiz.id}")
            page.click('form[action$="/start"] button[type="submit"]')
            page.wait_for_url("**/attempts/*")
            _answer_quiz(page, quiz)
        page.wait_for_url("**/result")

    page.goto(f"{live_server}/certificates")
    with page.expect_download() as download_info:
        page.click('a[href$=".pdf"]')
    target = tmp_path / "certificate.pdf"
    download_info.value.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")

    with app.app_context():
        certificate = db.session.scalar(sa.select(Certificate))
        code = certificate.verification_code
        holder_name = certificate.holder_name
    page.goto(f"{live_server}/verify/{code}")
    assert holder_name in page.content()
