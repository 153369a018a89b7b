"""The trainer's list of a programme's learners with their progress, and its CSV."""

import csv
import io

import pytest

from courses import programme_report
from courses import services as course_services
from courses.models import Course, Programme
from lms.accounts.models import User
from lms.extensions import db
from tests.factories import finish_lesson
from tests.test_query_budgets import queries_for

pytestmark = pytest.mark.usefixtures("english")


def _enrol(world, user_id: int, finish_course2: bool) -> None:
    learner = db.session.get(User, user_id)
    programme = db.session.get(Programme, world.programme)
    course_services.enrol(learner, programme)
    if finish_course2:
        for lesson in db.session.get(Course, world.course2).lessons:
            finish_lesson(learner, lesson)
    db.session.commit()


def test_rows_count_completed_courses_and_hours(world):
    _enrol(world, world.counselor, finish_course2=True)
    _enrol(world, world.counselor2, finish_course2=False)
    course2 = db.session.get(Course, world.course2)

    rows = {
        row.user.username: row
        for row in programme_report.learner_rows(db.session.get(Programme, world.programme))
    }

    assert rows["counselor1"].courses_done == 1
    assert rows["counselor1"].courses_total == 2
    assert rows["counselor1"].hours_done == course2.credit_hours
    assert rows["counselor1"].completed_at is None
    assert rows["counselor2"].courses_done == 0


def test_learners_page_and_csv(world, login):
    _enrol(world, world.counselor, finish_course2=True)
    trainer = login("trainer")
    trainer.post("/language/en")

    page = trainer.get(f"/manage/programmes/{world.programme}/learners")
    edit = trainer.get(f"/manage/programmes/{world.programme}").get_data(as_text=True)
    export = trainer.get(f"/manage/programmes/{world.programme}/learners.csv")

    assert page.status_code == 200
    assert "张老师" in page.get_data(as_text=True)
    assert f"/manage/programmes/{world.programme}/learners" in edit
    body = export.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "Person"
    assert rows[1][:4] == ["张老师", "counselor1", "", "教育学院"]
    assert rows[1][7] == "1"


def test_learners_page_queries_do_not_grow(app, world, login):
    trainer = login("trainer")
    url = f"/manage/programmes/{world.programme}/learners"

    _enrol(world, world.counselor, finish_course2=True)
    few = queries_for(app, trainer.client, url)
    _enrol(world, world.counselor2, finish_course2=True)
    _enrol(world, world.organiser, finish_course2=False)
    many = queries_for(app, trainer.client, url)

    assert many <= few, (few, many)


def test_learners_need_institution_trainer(world, login):
    url = f"/manage/programmes/{world.programme}/learners"

    assert login("counselor1").get(url).status_code == 403
    assert login("hr_b").get(url + ".csv").status_code == 403
    assert login("trainer").get(f"/manage/programmes/{world.programme_b}/learners").status_code == 404


def _other_trainer(world):
    from lms.organisations.models import Institution
    from lms.accounts.models import Role
    from tests.factories import make_user

    other = make_user(db.session.get(Institution, world.uni_a), "trainer_other", Role.TRAINER)
    db.session.commit()
    return other


def test_learners_hidden_from_trainer_outside_programme(world, login):
    _enrol(world, world.counselor, finish_course2=False)
    _other_trainer(world)
    other = login("trainer_other")
    url = f"/manage/programmes/{world.programme}/learners"

    assert other.get(url).status_code == 403
    assert other.get(url + ".csv").status_code == 403
    assert url not in other.get(f"/manage/programmes/{world.programme}").get_data(as_text=True)


def test_learners_shown_to_co_teacher_of_a_course(world, login):
    from courses.models import CourseTeacher

    _enrol(world, world.counselor, finish_course2=False)
    other = _other_trainer(world)
    db.session.add(CourseTeacher(course_id=world.course1, user_id=other.id, added_by_id=world.trainer))
    db.session.commit()

    response = login("trainer_other").get(f"/manage/programmes/{world.programme}/learners")

    assert response.status_code == 200
