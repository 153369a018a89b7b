"""The trainer's quiz results page, its CSV export and the item analysis."""

import csv
import io
import re

import pytest

from assessments import quiz_report
from assessments.models import Quiz
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import correct_answers, make_user, wrong_answers


def _enrolled(login, world, username):
    session = login(username)
    assert session.post(f"/programmes/{world.programme}/enrol").status_code == 302
    return session


def _answer(session, quiz_id, data):
    response = session.post(f"/quizzes/{quiz_id}/start")
    attempt_id = re.search(r"/attempts/(\d+)$", response.headers["Location"]).group(1)
    assert session.post(f"/attempts/{attempt_id}/submit", data=data).status_code == 302


def _mixed(quiz, right):
    """Answer the first ``right`` questions correctly and the others wrongly."""
    good, bad = correct_answers(quiz), wrong_answers(quiz)
    return {
        key: (good if index < right else bad)[key]
        for index, key in enumerate(f"q{q.id}" for q in quiz.questions)
    }


@pytest.fixture
def answered(world, login):
    """counselor1 makes three attempts (0, 1 and 2 right); counselor2 one wrong one."""
    quiz = db.session.get(Quiz, world.quiz)
    assert len(quiz.questions) == 2
    first = _enrolled(login, world, "counselor1")
    for right in (0, 1, 2):
        _answer(first, world.quiz, _mixed(quiz, right))
    second = _enrolled(login, world, "counselor2")
    _answer(second, world.quiz, _mixed(quiz, 0))
    db.session.expire_all()
    return world


def test_item_analysis_facility_and_discrimination(answered):
    quiz = db.session.get(Quiz, answered.quiz)

    items = quiz_report.item_analysis(quiz)

    # Four attempts: the first question was right in two, the second in one.
    assert [item.answers for item in items] == [4, 4]
    assert [str(item.facility) for item in items] == ["50.0", "25.0"]
    for item in items:
        assert item.discrimination is not None
        assert item.discrimination > 0


def test_item_analysis_no_spread(world, login):
    quiz = db.session.get(Quiz, world.quiz)
    _answer(_enrolled(login, world, "counselor1"), world.quiz, correct_answers(quiz))
    db.session.expire_all()

    items = quiz_report.item_analysis(db.session.get(Quiz, world.quiz))

    assert [str(item.facility) for item in items] == ["100.0", "100.0"]
    assert [item.discrimination for item in items] == [None, None]


def test_learner_rows_use_grading_method(answered):
    quiz = db.session.get(Quiz, answered.quiz)

    rows = {row.user.username: row for row in quiz_report.learner_rows(quiz)}

    assert rows["counselor1"].attempts == 3
    assert rows["counselor1"].grade == 100
    assert rows["counselor1"].passed
    assert rows["counselor2"].grade == 0
    assert not rows["counselor2"].passed


def test_trainer_sees_results_page(answered, login):
    trainer = login("trainer")
    trainer.post("/language/en")

    page = trainer.get(f"/manage/quizzes/{answered.quiz}/results")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "张老师" in html
    assert "李老师" in html
    assert "Item analysis" in html
    assert f"/manage/quizzes/{answered.quiz}/results.csv" in html
    edit = trainer.get(f"/manage/quizzes/{answered.quiz}").get_data(as_text=True)
    assert f"/manage/quizzes/{answered.quiz}/results" in edit


def test_grade_export_csv_chinese_names(answered, login):
    trainer = login("trainer")
    trainer.post("/language/en")

    response = trainer.get(f"/manage/quizzes/{answered.quiz}/results.csv")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Person", "Username"]
    by_user = {row[1]: row for row in rows[1:]}
    assert by_user["counselor1"][0] == "张老师"
    assert by_user["counselor1"][3] == "教育学院"
    assert by_user["counselor1"][4:7] == ["3", "100", "Yes"]
    assert by_user["counselor2"][4:7] == ["1", "0", "No"]


def test_results_need_institution_trainer(answered, login):
    make_user(db.session.get(Institution, answered.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()
    url = f"/manage/quizzes/{answered.quiz}/results"
    assert login("counselor1").get(url).status_code == 403
    assert login("counselor1").get(url + ".csv").status_code == 403
    assert login("trainer_b").get(url).status_code == 404
    assert login("trainer_b").get(url + ".csv").status_code == 404


def test_results_need_course_teacher(answered, login):
    """A trainer of the institution who does not teach the course gets 403, like the grading pages."""
    make_user(db.session.get(Institution, answered.uni_a), "trainer2", Role.TRAINER)
    db.session.commit()
    url = f"/manage/quizzes/{answered.quiz}/results"
    other = login("trainer2")

    assert other.get(url).status_code == 403
    assert other.get(url + ".csv").status_code == 403


def test_quiz_page_links_results_for_teachers_only(answered, login):
    make_user(db.session.get(Institution, answered.uni_a), "trainer2", Role.TRAINER)
    db.session.commit()
    link = f"/manage/quizzes/{answered.quiz}/results"

    assert link in login("trainer").get(f"/manage/quizzes/{answered.quiz}").get_data(as_text=True)
    page = login("trainer2").get(f"/manage/quizzes/{answered.quiz}")
    assert page.status_code == 200
    assert link not in page.get_data(as_text=True)
