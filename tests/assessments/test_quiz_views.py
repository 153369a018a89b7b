"""Quiz pages, attempts and server-side grading through real logins."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from assessments.models import Attempt, AttemptAnswer, Quiz
from courses.models import CourseCompletion
from lms.audit import AuditEntry
from lms.db import now_utc
from lms.extensions import db
from tests.conftest import count
from tests.factories import correct_answers, wrong_answers


def _enrolled(login, world, username="counselor1"):
    session = login(username)
    session.post("/language/en")
    assert session.post(f"/programmes/{world.programme}/enrol").status_code == 302
    return session


def _start(session, quiz_id) -> int:
    response = session.post(f"/quizzes/{quiz_id}/start")
    assert response.status_code == 302
    match = re.search(r"/attempts/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _quiz(world) -> Quiz:
    return db.session.get(Quiz, world.quiz)


def _attempt(attempt_id) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


# Quiz overview -------------------------------------------------------------


def test_quiz_page_shows_rules_and_start_button(world, login):
    counselor = _enrolled(login, world)

    page = counselor.get(f"/quizzes/{world.quiz}").get_data(as_text=True)

    assert "60%" in page
    assert "0 of 3" in page
    assert "No time limit" in page
    assert f'action="/quizzes/{world.quiz}/start"' in page
    assert "Start attempt" in page


def test_quiz_requires_enrolment(world, login):
    counselor = login("counselor1")

    assert counselor.get(f"/quizzes/{world.quiz}").status_code == 404
    assert counselor.post(f"/quizzes/{world.quiz}/start").status_code == 404
    assert count(Attempt) == 0


def test_quiz_of_other_institution_is_404_for_staff(world, login):
    assert login("trainer").get(f"/quizzes/{world.quiz}").status_code == 200
    assert login("hr_b").get(f"/quizzes/{world.quiz}").status_code == 404


def test_start_rejects_staff(world, login):
    assert login("trainer").post(f"/quizzes/{world.quiz}/start").status_code == 403
    assert count(Attempt) == 0


def test_start_twice_resumes_open_attempt(world, login):
    counselor = _enrolled(login, world)

    first = _start(counselor, world.quiz)
    second = _start(counselor, world.quiz)

    assert first == second
    assert count(Attempt) == 1
    page = counselor.get(f"/quizzes/{world.quiz}").get_data(as_text=True)
    assert "Resume attempt" in page


# Attempt page ------------------------------------------------------------


def test_attempt_page_hides_correct_choices(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)

    page = counselor.get(f"/attempts/{attempt_id}").get_data(as_text=True)

    assert "is_correct" not in page
    assert "correct" not in page.lower()
    for question in quiz.questions:
        assert question.explanation not in page
        expected_type = "checkbox" if question.kind.value == "multiple" else "radio"
        tags = re.findall(rf'<input[^>]*name="q{question.id}"[^>]*>', page)
        assert len(tags) == len(question.choices)
        # Right and wrong choices must render identically apart from their id.
        shapes = {re.sub(r'value="\d+"', 'value=""', tag) for tag in tags}
        assert shapes == {
            f'<input type="{expected_type}" name="q{question.id}" value="">'
        }


def test_attempt_page_of_another_user_is_404(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    _enrolled(login, world, "counselor2")

    for username in ["counselor2", "hr", "admin"]:
        other = login(username)
        assert other.get(f"/attempts/{attempt_id}").status_code == 404, username
        assert other.get(f"/attempts/{attempt_id}/result").status_code == 404, username
        response = other.post(
            f"/attempts/{attempt_id}/submit", data=correct_answers(_quiz(world))
        )
        assert response.status_code == 404, username
    assert _attempt(attempt_id).submitted_at is None


def test_unknown_attempt_is_404(world, login):
    counselor = _enrolled(login, world)

    assert counselor.get("/attempts/424242").status_code == 404
    assert counselor.post("/attempts/424242/submit").status_code == 404


def test_timed_attempt_shows_server_remaining_time(app, world, login):
    quiz = _quiz(world)
    quiz.time_limit_minutes = 10
    db.session.commit()
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)

    page = counselor.get(f"/attempts/{attempt_id}").get_data(as_text=True)

    match = re.search(r'id="countdown" data-seconds-left="(\d+)"[^>]*>(\d+):(\d\d)<', page)
    assert match, "attempt page shows no countdown"
    assert 590 <= int(match.group(1)) <= 600
    assert match.group(2) in ("9", "10")
    assert 'src="/static/js/countdown.js"' in page
    assert "<script>" not in page
    script = counselor.get("/static/js/countdown.js")
    assert script.status_code == 200
    script.close()


# Submission and grading ----------------------------------------------------


def test_wrong_answers_fail(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)

    response = counselor.post(
        f"/attempts/{attempt_id}/submit", data=wrong_answers(_quiz(world))
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
    attempt = _attempt(attempt_id)
    assert attempt.submitted_at is not None
    assert attempt.score == 0
    assert attempt.passed is False
    page = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Not passed" in page
    assert "Try again" in page


def test_correct_answers_pass(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)

    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))

    attempt = _attempt(attempt_id)
    assert attempt.score == quiz.max_score
    assert attempt.passed is True
    page = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "100%" in page
    assert "Passed" in page


def test_partial_multiple_choice_scores_zero(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)
    answers = correct_answers(quiz)
    multiple = quiz.questions[0]
    answers[f"q{multiple.id}"] = answers[f"q{multiple.id}"][:1]

    counselor.post(f"/attempts/{attempt_id}/submit", data=answers)

    attempt = _attempt(attempt_id)
    assert attempt.score == quiz.max_score - multiple.points


def test_result_hides_key_while_attempts_remain(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)

    before = counselor.get(f"/attempts/{attempt_id}/result")
    assert before.status_code == 302
    assert before.headers["Location"].endswith(f"/attempts/{attempt_id}")

    counselor.post(f"/attempts/{attempt_id}/submit", data=wrong_answers(quiz))
    page = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)

    for question in quiz.questions:
        assert question.explanation not in page
    # Each review table has a choice and a "your answer" column, no key column.
    assert page.count('<th scope="col">') == 2 * len(quiz.questions)
    assert f'href="/courses/{world.course1}"' in page


def test_result_shows_key_after_pass(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)

    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))
    page = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)

    for question in quiz.questions:
        assert question.explanation in page
    assert page.count('<th scope="col">') == 3 * len(quiz.questions)


def test_submitted_attempt_page_redirects_to_result(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    counselor.post(f"/attempts/{attempt_id}/submit", data=wrong_answers(_quiz(world)))

    response = counselor.get(f"/attempts/{attempt_id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")


def test_double_submit_records_one_submission(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)

    first = counselor.post(f"/attempts/{attempt_id}/submit", data=wrong_answers(quiz))
    submitted_at = _attempt(attempt_id).submitted_at
    second = counselor.post(
        f"/attempts/{attempt_id}/submit", data=correct_answers(quiz)
    )

    assert first.headers["Location"] == second.headers["Location"]
    attempt = _attempt(attempt_id)
    assert attempt.submitted_at == submitted_at
    assert attempt.passed is False
    assert count(Attempt) == 1
    assert count(AttemptAnswer) == len(quiz.questions)
    graded = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .filter_by(action="quiz.graded")
    )
    assert graded == 1


def test_malformed_field_names_are_ignored(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)
    data = correct_answers(quiz)
    first, second = quiz.questions
    data[f"q{first.id}"] = data[f"q{first.id}"] + [""]
    data["qxyz"] = "1"
    data["q"] = "2"
    data["q99999999999999999999999"] = "3"
    del data[f"q{second.id}"]

    response = counselor.post(f"/attempts/{attempt_id}/submit", data=data)

    assert response.status_code == 302
    attempt = _attempt(attempt_id)
    assert attempt.submitted_at is not None
    assert attempt.score == first.points


@pytest.mark.parametrize("junk", ["abc", "1.5", "-7", "99999999999999999999999"])
def test_malformed_choice_values_hold_submission(world, login, junk):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    quiz = _quiz(world)
    data = correct_answers(quiz)
    first, second = quiz.questions
    data[f"q{second.id}"] = data[f"q{second.id}"] + [junk]

    response = counselor.post(f"/attempts/{attempt_id}/submit", data=data)

    assert response.headers["Location"] == f"/attempts/{attempt_id}"
    attempt = _attempt(attempt_id)
    assert attempt.submitted_at is None
    assert [answer.question_id for answer in attempt.answers] == [first.id]


def test_late_submission_counts_no_answers(world, login):
    quiz = _quiz(world)
    quiz.time_limit_minutes = 5
    db.session.commit()
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    attempt = _attempt(attempt_id)
    attempt.started_at = now_utc() - timedelta(minutes=30)
    db.session.commit()

    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(_quiz(world)))

    attempt = _attempt(attempt_id)
    assert attempt.submitted_at == attempt.started_at + timedelta(minutes=5)
    assert attempt.closed_at_deadline is True
    assert attempt.score == 0
    assert attempt.passed is False
    result = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "the attempt was closed at the deadline" in result


def test_expired_attempt_page_closes_it(world, login):
    quiz = _quiz(world)
    quiz.time_limit_minutes = 5
    db.session.commit()
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    attempt = _attempt(attempt_id)
    attempt.started_at = now_utc() - timedelta(minutes=30)
    db.session.commit()

    response = counselor.get(f"/attempts/{attempt_id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/attempts/{attempt_id}/result")
    assert _attempt(attempt_id).closed_at_deadline is True


def test_attempt_limit_blocks_further_starts(world, login):
    quiz = _quiz(world)
    quiz.max_attempts = 2
    db.session.commit()
    counselor = _enrolled(login, world)
    for _ in range(2):
        attempt_id = _start(counselor, world.quiz)
        counselor.post(
            f"/attempts/{attempt_id}/submit", data=wrong_answers(_quiz(world))
        )

    response = counselor.post(f"/quizzes/{world.quiz}/start")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/quizzes/{world.quiz}")
    assert count(Attempt) == 2
    page = counselor.get(f"/quizzes/{world.quiz}").get_data(as_text=True)
    assert "You have used all 2 attempts at this quiz." in page
    assert "2 of 2" in page
    assert f'action="/quizzes/{world.quiz}/start"' not in page


def test_start_after_pass_is_rejected(world, login):
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(_quiz(world)))

    response = counselor.post(f"/quizzes/{world.quiz}/start")

    assert response.headers["Location"].endswith(f"/quizzes/{world.quiz}")
    assert count(Attempt) == 1
    page = counselor.get(f"/quizzes/{world.quiz}").get_data(as_text=True)
    assert "You have already passed this quiz." in page


def test_passing_quiz_after_lessons_completes_course(world, login):
    counselor = _enrolled(login, world)
    for lesson_id in world.lessons1:
        counselor.get(f"/courses/{world.course1}/lessons/{lesson_id}")
        counselor.post(f"/courses/{world.course1}/lessons/{lesson_id}/complete")
    assert count(CourseCompletion) == 0
    attempt_id = _start(counselor, world.quiz)

    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(_quiz(world)))

    assert count(CourseCompletion) == 1
    page = counselor.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "You completed the course 心理危机识别." in page


def test_single_attempt_limit_uses_singular(world, login):
    quiz = _quiz(world)
    quiz.max_attempts = 1
    db.session.commit()
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, world.quiz)
    counselor.post(f"/attempts/{attempt_id}/submit", data=wrong_answers(_quiz(world)))

    counselor.post(f"/quizzes/{world.quiz}/start")

    page = counselor.get(f"/quizzes/{world.quiz}").get_data(as_text=True)
    assert "You have used your only attempt at this quiz." in page
    assert "all 1 attempts" not in page
