"""Browser test: a timed quiz autosaves, survives a reload with its time, and submits once."""

from datetime import timedelta

import sqlalchemy as sa

from assessments.models import Attempt, AttemptAnswer, Quiz
from courses.models import Programme
from lms.accounts.models import User
from lms.accounts.sessions import revoke_user_sessions
from lms.db import now_utc
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, demo_row


def _check_correct(page, question) -> None:
    for choice in question.choices:
        if choice.is_correct:
            page.check(f'input[name="q{question.id}"][value="{choice.id}"]')


def _start_timed_quiz(app, page, live_server):
    """Log counselor1 in, enrol, start the first course's quiz with 10 minutes; return its questions."""
    with app.app_context():
        programme = demo_row(Programme, code="junior-prejob-2026")
        course_id = programme.courses[0].course_id
        quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=course_id))
        quiz.time_limit_minutes = 10
        db.session.commit()
        quiz_id = quiz.id
        questions = [
            (q.id, [c.id for c in q.choices if c.is_correct]) for q in quiz.questions
        ]
        programme_id = programme.id

    page.goto(f"{live_server}/login")
    page.fill('input[name="username"]', "counselor1")
    page.fill('input[name="password"]', TEST_PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url(f"{live_server}/learning")
    page.goto(f"{live_server}/programmes/{programme_id}")
    page.click('form[action$="/enrol"] button[type="submit"]')

    page.goto(f"{live_server}/quizzes/{quiz_id}")
    page.click('form[action$="/start"] button[type="submit"]')
    page.wait_for_url("**/attempts/*")
    return quiz_id, questions


def test_timed_quiz_resumes_after_reload(app, live_server, browser_page):
    page = browser_page
    quiz_id, questions = _start_timed_quiz(app, page, live_server)
    attempt_url = page.url
    first_left = int(page.get_attribute("#countdown", "data-seconds-left"))
    assert 590 <= first_left <= 600

    first_id, first_choices = questions[0]
    for choice_id in first_choices:
        page.check(f'input[name="q{first_id}"][value="{choice_id}"]')
    page.wait_for_selector("#attempt-form[data-saved-count]", state="attached")

    page.reload()
    assert page.url == attempt_url
    for choice_id in first_choices:
        assert page.is_checked(f'input[name="q{first_id}"][value="{choice_id}"]')
    second_left = int(page.get_attribute("#countdown", "data-seconds-left"))
    assert first_left - 60 <= second_left <= first_left
    shown = page.text_content("#countdown")
    assert shown.count(":") == 1

    for question_id, choice_ids in questions[1:]:
        for choice_id in choice_ids:
            page.check(f'input[name="q{question_id}"][value="{choice_id}"]')
    page.click('form[action$="/submit"] button[type="submit"]')
    page.wait_for_url("**/result")

    with app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).filter_by(quiz_id=quiz_id))
        assert attempt.submitted_at is not None
        assert attempt.closed_at_deadline is False
        assert attempt.score == attempt.max_score
        assert attempt.passed is True
        saved = db.session.scalar(
            sa.select(AttemptAnswer).filter_by(attempt_id=attempt.id, question_id=first_id)
        )
        assert saved.saved_at is not None
        attempts = db.session.scalar(
            sa.select(sa.func.count()).select_from(Attempt).filter_by(quiz_id=quiz_id)
        )
        assert attempts == 1


def test_autosave_warns_when_an_answer_is_not_accepted(app, live_server, browser_page):
    page = browser_page
    _quiz_id, questions = _start_timed_quiz(app, page, live_server)
    (first_id, first_choices), (second_id, _second) = questions[0], questions[1]
    page.check(f'input[name="q{first_id}"][value="{first_choices[0]}"]')
    page.wait_for_selector("#attempt-form[data-saved-count]", state="attached")
    page.wait_for_function(
        "document.getElementById('autosave-status').textContent.length > 0"
    )
    saved_text = page.text_content("#autosave-status")

    # A stale page offers the first question's choice under the second question.
    page.evaluate(
        """([second, foreign]) => {
            const input = document.querySelector(`input[name="q${second}"]`);
            input.value = String(foreign);
            input.click();
        }""",
        [second_id, first_choices[0]],
    )
    page.wait_for_function(
        "text => document.getElementById('autosave-status').textContent !== text",
        arg=saved_text,
    )

    warning = page.get_attribute("#attempt-form", "data-ignored-text")
    assert page.text_content("#autosave-status") == warning
    assert page.text_content("#autosave-status") != saved_text


def _answer_and_wait_for_status(page, question_id, choice_id) -> str:
    """Tick an answer, wait until the autosave status line changes, return its text."""
    before = page.text_content("#autosave-status")
    page.check(f'input[name="q{question_id}"][value="{choice_id}"]')
    page.wait_for_function(
        "text => document.getElementById('autosave-status').textContent !== text",
        arg=before,
    )
    return page.text_content("#autosave-status")


def test_autosave_names_an_expired_page(app, live_server, browser_page):
    page = browser_page
    quiz_id, questions = _start_timed_quiz(app, page, live_server)
    first_id, first_choices = questions[0]
    page.evaluate(
        "document.querySelector('#attempt-form input[name=csrf_token]').value = 'expired'"
    )

    shown = _answer_and_wait_for_status(page, first_id, first_choices[0])

    assert shown == page.get_attribute("#attempt-form", "data-expired-text")
    assert page.is_checked(f'input[name="q{first_id}"][value="{first_choices[0]}"]')
    with app.app_context():
        # The demo seed has an essay answer of its own, in another quiz.
        saved = sa.select(sa.func.count(AttemptAnswer.id)).join(Attempt).where(
            Attempt.quiz_id == quiz_id
        )
        assert db.session.scalar(saved) == 0


def test_autosave_names_an_expired_login(app, live_server, browser_page):
    page = browser_page
    _quiz_id, questions = _start_timed_quiz(app, page, live_server)
    first_id, first_choices = questions[0]
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            revoke_user_sessions(user)
        db.session.commit()

    shown = _answer_and_wait_for_status(page, first_id, first_choices[0])

    assert shown == page.get_attribute("#attempt-form", "data-logged-out-text")
    assert page.is_checked(f'input[name="q{first_id}"][value="{first_choices[0]}"]')


def test_autosave_names_a_lost_connection(app, live_server, browser_page):
    page = browser_page
    _quiz_id, questions = _start_timed_quiz(app, page, live_server)
    first_id, first_choices = questions[0]
    page.route("**/answers", lambda route: route.abort("internetdisconnected"))

    shown = _answer_and_wait_for_status(page, first_id, first_choices[0])

    assert shown == page.get_attribute("#attempt-form", "data-failed-text")


def test_timed_quiz_submits_when_time_is_up(app, live_server, browser_page):
    page = browser_page
    quiz_id, questions = _start_timed_quiz(app, page, live_server)
    with app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).filter_by(quiz_id=quiz_id))
        # Four seconds of the ten minutes are left.
        attempt.started_at = now_utc() - timedelta(minutes=10) + timedelta(seconds=4)
        db.session.commit()
    page.reload()

    for question_id, choice_ids in questions:
        for choice_id in choice_ids:
            page.check(f'input[name="q{question_id}"][value="{choice_id}"]')
    page.wait_for_url("**/result", timeout=20000)

    with app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).filter_by(quiz_id=quiz_id))
        assert attempt.submitted_at is not None
        assert attempt.score == attempt.max_score


def test_time_left_stays_in_view_on_phone(app, live_server, browser_page):
    """On a phone the questions fill several screens, so the time left must follow the learner."""
    page = browser_page
    page.set_viewport_size({"width": 375, "height": 812})
    _start_timed_quiz(app, page, live_server)

    page.locator('form[action$="/submit"] button[type="submit"]').scroll_into_view_if_needed()
    box = page.locator("#countdown").bounding_box()

    assert page.evaluate("window.scrollY") > 812
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= 812
