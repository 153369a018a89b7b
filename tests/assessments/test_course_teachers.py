"""Only a course's teachers and the institution's administrators grade its work.

A trainer teaches a course when they author any version of it or train a
class, not cancelled, that offers it alone or through a programme.
"""

import pytest
import sqlalchemy as sa

from assessments import moderation, tasks
from assessments.models import AttemptAnswer
from assessments.tasks_models import PerformanceTask, ScoreSheet, TaskSubmission
from courses import teaching, versions
from courses.class_models import ClassStatus
from courses.models import Course
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.task_builders import make_task, user
from tests.assessments.test_regrade_kept_awards import _submitted_essay
from tests.classes.helpers import make_class
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def outsider(world):
    """Add ``trainer2``, a trainer of institution A who teaches none of its courses."""
    trainer2 = make_user(
        db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER
    )
    db.session.commit()
    return trainer2


def _grades_logged() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.in_(["quiz.essay_graded", "quiz.regraded"]))
    )


# Who teaches ------------------------------------------------------------------------


def test_author_teaches_every_version(world, outsider):
    course = db.session.get(Course, world.course1)
    trainer = db.session.get(User, world.trainer)
    draft = versions.new_version(course, outsider)

    assert teaching.teaches(trainer, course)
    assert teaching.teaches(trainer, draft)
    assert teaching.teaches(outsider, course)


def test_non_author_does_not_teach(world, outsider):
    course = db.session.get(Course, world.course1)

    assert not teaching.teaches(outsider, course)
    assert not teaching.may_grade(outsider, course)


def test_class_of_programme_teaches_its_courses(world, outsider):
    training_class = make_class(world)
    training_class.trainers = [outsider]
    db.session.flush()

    assert teaching.teaches(outsider, db.session.get(Course, world.course1))
    assert teaching.teaches(outsider, db.session.get(Course, world.course2))
    assert not teaching.teaches(outsider, db.session.get(Course, world.draft_course))


def test_class_of_one_course_teaches_only_it(world, outsider):
    training_class = make_class(world, course_only=True)
    training_class.trainers = [outsider]
    db.session.flush()

    assert teaching.teaches(outsider, db.session.get(Course, world.course2))
    assert not teaching.teaches(outsider, db.session.get(Course, world.course1))


def test_cancelled_class_does_not_teach(world, outsider):
    training_class = make_class(world, status=ClassStatus.CANCELLED)
    training_class.trainers = [outsider]
    db.session.flush()

    assert not teaching.teaches(outsider, db.session.get(Course, world.course1))


def test_admin_grades_without_teaching(world):
    admin = db.session.get(User, world.admin)
    hr = db.session.get(User, world.hr)
    course = db.session.get(Course, world.course1)

    assert teaching.may_grade(admin, course)
    assert not teaching.may_grade(hr, course)


def test_demo_trainer_teaches_every_demo_course(seeded, app_ctx):
    trainer = db.session.scalar(sa.select(User).filter_by(username="trainer"))
    courses = db.session.scalars(
        sa.select(Course).filter_by(institution_id=trainer.institution_id)
    ).all()

    assert courses
    assert [c.code for c in courses if not teaching.teaches(trainer, c)] == []


# Essays ------------------------------------------------------------------------------


def test_non_teacher_cannot_open_or_grade_essay(world, outsider, login):
    answer = _submitted_essay(world, login)
    other = login("trainer2")
    url = f"/manage/grading/{answer.id}"
    before = _grades_logged()

    page = other.get(url)
    graded = other.post(url, data={"point_1": "8", "comment": "好"})

    assert page.status_code == 403
    assert graded.status_code == 403
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded is None
    assert _grades_logged() == before


def test_grading_queue_lists_taught_courses_only(world, outsider, login):
    answer = _submitted_essay(world, login)
    link = f'href="/manage/grading/{answer.id}"'

    others = login("trainer2").get("/manage/grading").get_data(as_text=True)
    own = login("trainer").get("/manage/grading").get_data(as_text=True)

    assert link not in others
    assert link in own


def test_class_trainer_grades_essay(world, outsider, login):
    answer = _submitted_essay(world, login)
    training_class = make_class(world)
    training_class.trainers.append(outsider)
    db.session.commit()

    graded = login("trainer2").post(
        f"/manage/grading/{answer.id}", data={"point_1": "8"}
    )

    assert graded.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded == 8


def test_admin_grades_essay(world, login):
    answer = _submitted_essay(world, login)

    graded = login("admin").post(f"/manage/grading/{answer.id}", data={"point_1": "6"})

    assert graded.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded == 6


# Performance tasks -------------------------------------------------------------------


def _task_form(world, moderator: User) -> dict:
    task = make_task(world, assessors=(), moderator="admin")
    return {
        "course_id": str(world.course1),
        "kind": task.kind.value,
        "title": "另一个任务",
        "rubric_id": str(task.rubric_id),
        "aggregation": task.aggregation.value,
        "divergence_margin": "1",
        "pass_mark": "60",
        "moderator_id": str(moderator.id),
        "published": "y",
    }


def test_non_teacher_cannot_set_task_on_course(world, outsider, login):
    data = _task_form(world, outsider)
    db.session.commit()

    response = login("trainer2").post("/manage/tasks/new", data=data)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Course: you do not teach 心理危机识别" in page
    assert "Moderator: " in page
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(PerformanceTask)
    ) == 1


def test_non_teacher_cannot_moderate(world, outsider, login):
    data = _task_form(world, outsider)
    db.session.commit()

    response = login("trainer").post("/manage/tasks/new", data=data)

    assert response.status_code == 400
    assert "Moderator: " in response.get_data(as_text=True)


def test_non_teacher_cannot_join_panel(world, outsider):
    task = make_task(world, assessors=(), moderator="trainer")

    with pytest.raises(tasks.TaskError, match="Assessor: "):
        tasks.add_assessor(task, outsider, user("trainer"))


def test_trainer_who_stops_teaching_cannot_score(world, outsider, login):
    """A trainer whose class is cancelled loses the sheet, its page and the queue entry."""
    training_class = make_class(world)
    training_class.trainers.append(outsider)
    task = make_task(world, assessors=("trainer2", "hr"), moderator="admin")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()
    sheet = db.session.scalar(sa.select(ScoreSheet).filter_by(assessor_id=outsider.id))
    training_class.status = ClassStatus.CANCELLED
    db.session.commit()
    criteria = [c for rubric in task.rubrics for c in rubric.criteria]
    levels = {f"criterion-{c.id}": str(c.levels[0].id) for c in criteria}
    assessor = login("trainer2")

    page = assessor.get(f"/assess/{sheet.id}")
    scored = assessor.post(f"/assess/{sheet.id}", data=levels)
    queue = assessor.get("/assess").get_data(as_text=True)

    assert page.status_code == 403
    assert scored.status_code == 403
    assert f"/assess/{sheet.id}" not in queue
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).scored_at is None
    assert db.session.get(TaskSubmission, submission.id).final_score is None
    with pytest.raises(tasks.TaskError, match="do not teach"):
        moderation.save_sheet(sheet, {}, "", outsider)


def test_moderator_who_stops_teaching_loses_task(world, outsider, login):
    training_class = make_class(world)
    training_class.trainers.append(outsider)
    task = make_task(world, assessors=("hr",), moderator="trainer2")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()
    moderator = login("trainer2")
    assert moderator.get(f"/manage/tasks/{task.id}/submissions").status_code == 200
    training_class.trainers.remove(outsider)
    db.session.commit()

    listing = moderator.get(f"/manage/tasks/{task.id}/submissions")
    override = moderator.post(
        f"/manage/submissions/{submission.id}",
        data={"final_score": "4", "reason": "复核"},
    )
    results = moderator.get(f"/tasks/{task.id}/results.csv")

    assert listing.status_code == 403
    assert override.status_code == 403
    assert results.status_code == 403
    db.session.expire_all()
    assert db.session.get(TaskSubmission, submission.id).final_score is None
