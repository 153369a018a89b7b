"""Only a course's managers (its authors and administrators) change its content.

A trainer of the institution with no link to the course, a co-teacher and a
class trainer read the authoring pages but get 403 on every change, so none
of them edits or publishes a draft version.
"""

import pytest
import sqlalchemy as sa

from assessments.models import Question, Quiz, QuizGrant
from courses import versions
from courses.models import Course, CourseModule, CourseTeacher, PublicationStatus
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def draft(world) -> dict:
    """Draft version 2 of course 1 (authored by ``trainer``) with a module.

    Adds ``trainer2``, who has no link to the course, and ``coteacher``, a
    co-teacher of it.
    """
    institution = db.session.get(Institution, world.uni_a)
    make_user(institution, "trainer2", Role.TRAINER, full_name="王培训师")
    coteacher = make_user(institution, "coteacher", Role.TRAINER, full_name="陈培训师")
    course = db.session.get(Course, world.course1)
    draft = versions.new_version(course, db.session.get(User, world.trainer))
    db.session.add(CourseTeacher(course_id=course.id, user_id=coteacher.id))
    module = CourseModule(course_id=draft.id, position=1, title="第一单元")
    db.session.add(module)
    db.session.commit()
    quiz = db.session.scalar(sa.select(Quiz).where(Quiz.course_id == draft.id))
    return {
        "course": draft.id,
        "title": draft.title,
        "lesson": draft.lessons[0].id,
        "module": module.id,
        "quiz": quiz.id,
        "question": quiz.questions[0].id,
    }


def _writes(ids: dict) -> list[tuple[str, dict]]:
    """Every change to a draft course's content, with a form that would succeed."""
    course = f"/manage/courses/{ids['course']}"
    lesson = f"{course}/lessons/{ids['lesson']}"
    module = f"{course}/modules/{ids['module']}"
    quiz = f"/manage/quizzes/{ids['quiz']}"
    question = f"{quiz}/questions/{ids['question']}"
    return [
        (course, {"code": "c1", "title": "改名", "credit_hours": "2"}),
        (f"{course}/lessons/new", {"title": "新课", "kind": "text", "duration_minutes": "10"}),
        (lesson, {"title": "改名", "kind": "text", "duration_minutes": "10"}),
        (f"{lesson}/move", {"direction": "down"}),
        (f"{course}/modules", {"title": "新单元"}),
        (module, {"title": "改名"}),
        (f"{module}/move", {"direction": "down"}),
        (f"{course}/quizzes/new", {"title": "新测验", "pass_mark": "60"}),
        (quiz, {"title": "改名", "pass_mark": "60"}),
        (f"{quiz}/questions/new", {"kind": "single", "points": "1"}),
        (question, {"kind": "single", "points": "1"}),
        (f"{question}/move", {"direction": "down"}),
        (f"{quiz}/draws", {"count": "1"}),
        (f"{quiz}/bank-questions", {}),
        (f"{question}/delete", {}),
        (f"{quiz}/delete", {}),
        (f"{module}/delete", {}),
        (f"{lesson}/delete", {}),
        (f"{course}/publish", {}),
        (f"{course}/archive", {}),
    ]


@pytest.mark.parametrize("username", ["trainer2", "coteacher"])
def test_non_manager_cannot_change_content(draft, login, username):
    session = login(username)

    statuses = {url: session.post(url, data=data).status_code for url, data in _writes(draft)}

    assert statuses == {url: 403 for url, _data in _writes(draft)}
    db.session.expire_all()
    course = db.session.get(Course, draft["course"])
    assert course.status is PublicationStatus.DRAFT
    assert course.title == draft["title"]
    assert db.session.get(CourseModule, draft["module"]) is not None
    assert db.session.get(Question, draft["question"]) is not None


@pytest.mark.parametrize(
    "path",
    [
        "lessons/new",
        "quizzes/new",
    ],
)
def test_non_manager_gets_no_new_forms(draft, login, path):
    response = login("trainer2").get(f"/manage/courses/{draft['course']}/{path}")

    assert response.status_code == 403


def test_non_manager_cannot_publish_draft(draft, world, login):
    outsider = login("trainer2")

    saved = outsider.post(
        f"/manage/courses/{draft['course']}",
        data={"code": "c1", "title": "改名", "credit_hours": "2"},
    )
    published = outsider.post(f"/manage/courses/{draft['course']}/publish")

    assert saved.status_code == 403
    assert published.status_code == 403
    db.session.expire_all()
    assert db.session.get(Course, world.course1).status is PublicationStatus.PUBLISHED
    assert db.session.get(Course, draft["course"]).status is PublicationStatus.DRAFT


def test_non_manager_reads_course_page(draft, login):
    page = login("trainer2").get(f"/manage/courses/{draft['course']}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Only the authors of this course and administrators can change" in text
    assert "Save course" not in text
    assert '<fieldset class="plain" disabled>' in text
    assert f"/manage/courses/{draft['course']}/publish" not in text


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_manager_edits_and_publishes(draft, world, login, username):
    session = login(username)
    page = session.get(f"/manage/courses/{draft['course']}").get_data(as_text=True)

    renamed = session.post(
        f"/manage/courses/{draft['course']}/modules/{draft['module']}",
        data={"title": "第一单元（修订）"},
    )
    published = session.post(f"/manage/courses/{draft['course']}/publish")

    assert "Save course" in page
    assert renamed.status_code == 302
    assert published.status_code == 302
    db.session.expire_all()
    assert db.session.get(CourseModule, draft["module"]).title == "第一单元（修订）"
    assert db.session.get(Course, draft["course"]).status is PublicationStatus.PUBLISHED
    assert db.session.get(Course, world.course1).status is PublicationStatus.ARCHIVED


def _grant(session, quiz_id: int):
    return session.post(
        f"/manage/quizzes/{quiz_id}/grants",
        data={
            "username": "counselor1",
            "extra_minutes": "30",
            "extra_attempts": "5",
            "reason": "病假",
        },
    )


def test_grants_need_course_teacher(draft, world, login):
    outsider = login("trainer2")

    page = outsider.get(f"/manage/quizzes/{world.quiz}/grants")
    saved = _grant(outsider, world.quiz)

    assert page.status_code == 403
    assert saved.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizGrant)) == 0


@pytest.mark.parametrize("username", ["trainer", "coteacher", "admin"])
def test_course_teachers_set_grants(draft, world, login, username):
    session = login(username)

    page = session.get(f"/manage/quizzes/{world.quiz}/grants")
    saved = _grant(session, world.quiz)

    assert page.status_code == 200
    assert saved.status_code == 302
    grant = db.session.scalar(sa.select(QuizGrant).filter_by(quiz_id=world.quiz))
    assert grant.extra_attempts == 5


def test_non_manager_sees_no_quiz_controls(draft, login):
    quiz = f"/manage/quizzes/{draft['quiz']}"
    session = login("trainer2")

    quiz_page = session.get(quiz).get_data(as_text=True)
    question_page = session.get(f"{quiz}/questions/{draft['question']}").get_data(
        as_text=True
    )

    message = "Only the authors of this course and administrators can change its quizzes"
    assert message in quiz_page
    assert "Save quiz" not in quiz_page
    assert '<fieldset class="plain" disabled>' in quiz_page
    assert f"{quiz}/questions/{draft['question']}/delete" not in quiz_page
    assert f"{quiz}/questions/{draft['question']}/move" not in quiz_page
    assert f"{quiz}/draws" not in quiz_page
    assert f"{quiz}/delete" not in quiz_page
    assert message in question_page
    assert "Save question" not in question_page
    assert '<fieldset class="plain" disabled>' in question_page


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_manager_sees_quiz_controls(draft, login, username):
    quiz = f"/manage/quizzes/{draft['quiz']}"
    session = login(username)

    quiz_page = session.get(quiz).get_data(as_text=True)
    question_page = session.get(f"{quiz}/questions/{draft['question']}").get_data(
        as_text=True
    )

    assert "Only the authors of this course" not in quiz_page
    assert "Save quiz" in quiz_page
    assert '<fieldset class="plain" disabled>' not in quiz_page
    assert f"{quiz}/questions/{draft['question']}/delete" in quiz_page
    assert f"{quiz}/delete" in quiz_page
    assert "Only the authors of this course" not in question_page
    assert "Save question" in question_page
    assert '<fieldset class="plain" disabled>' not in question_page


def test_index_hides_others_course_buttons(draft, login):
    other_page = login("trainer2").get("/manage/programmes").get_data(as_text=True)
    author_page = login("trainer").get("/manage/programmes").get_data(as_text=True)

    assert f"/manage/courses/{draft['course']}/publish" not in other_page
    assert f"/manage/courses/{draft['course']}/publish" in author_page
