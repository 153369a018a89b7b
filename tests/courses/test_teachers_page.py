"""The Teachers page of a course: co-teachers grade, and who may change them.

The author of any version and the institution's administrators add and
remove co-teachers; only administrators change the author.
"""

import pytest
import sqlalchemy as sa

from assessments.models import AttemptAnswer
from courses import teachers, teaching, versions
from courses.models import Course, CourseTeacher
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.test_regrade_kept_awards import _submitted_essay
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def trainer2(world) -> User:
    """Add ``trainer2``, a trainer of institution A who teaches none of its courses."""
    user = make_user(db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER,
                     full_name="王培训师")
    db.session.commit()
    return user


def _teachers_url(world) -> str:
    return f"/manage/courses/{world.course1}/teachers"


def _actions(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


def _grade(login, username: str, answer: AttemptAnswer, points: str):
    return login(username).post(f"/manage/grading/{answer.id}", data={"point_1": points})


def test_author_adds_co_teacher_who_then_grades(world, trainer2, login):
    answer = _submitted_essay(world, login)
    author = login("trainer")
    assert _grade(login, "trainer2", answer, "7").status_code == 403

    page = author.get(_teachers_url(world))
    added = author.post(_teachers_url(world), data={"username": "trainer2"})
    graded = _grade(login, "trainer2", answer, "8")

    assert page.status_code == 200
    assert "Add co-teacher" in page.get_data(as_text=True)
    assert added.status_code == 302
    listed = author.get(_teachers_url(world)).get_data(as_text=True)
    assert "王培训师" in listed
    assert graded.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded == 8
    [entry] = _actions("course.teacher_added")
    assert entry.data == {"user_id": trainer2.id}
    assert entry.actor_id == world.trainer


def test_removed_co_teacher_cannot_grade(world, trainer2, login):
    answer = _submitted_essay(world, login)
    admin = login("admin")
    assert admin.post(_teachers_url(world), data={"username": "trainer2"}).status_code == 302
    queue = login("trainer2").get("/manage/grading").get_data(as_text=True)
    assert f'href="/manage/grading/{answer.id}"' in queue

    removed = admin.post(f"{_teachers_url(world)}/{trainer2.id}/remove")
    graded = _grade(login, "trainer2", answer, "8")

    assert removed.status_code == 302
    assert graded.status_code == 403
    queue = login("trainer2").get("/manage/grading").get_data(as_text=True)
    assert f'href="/manage/grading/{answer.id}"' not in queue
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 0
    [entry] = _actions("course.teacher_removed")
    assert entry.data == {"user_id": trainer2.id}


def test_other_institution_trainer_rejected(world, login):
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()

    response = login("trainer").post(_teachers_url(world), data={"username": "trainer_b"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "No one of your institution has the username trainer_b." in page
    assert 'id="username-error"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 0
    assert _actions("course.teacher_added") == []


def test_non_trainer_rejected(world, login):
    response = login("trainer").post(_teachers_url(world), data={"username": "hr"})

    assert response.status_code == 400
    assert "is not a trainer, and only trainers are added as co-teachers" in (
        response.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 0


def test_bad_usernames_get_field_messages(world, trainer2, login):
    author = login("trainer")

    empty = author.post(_teachers_url(world), data={"username": " "})
    author.post(_teachers_url(world), data={"username": "trainer2"})
    again = author.post(_teachers_url(world), data={"username": "trainer2"})
    self_added = author.post(_teachers_url(world), data={"username": "trainer"})

    assert empty.status_code == 400
    assert "Enter the username of a trainer of your institution." in empty.get_data(as_text=True)
    assert again.status_code == 400
    assert "王培训师 is already a co-teacher of this course." in again.get_data(as_text=True)
    assert self_added.status_code == 400
    assert "already teaches this course as an author" in self_added.get_data(as_text=True)


def test_counselor_gets_403(world, trainer2, login):
    counselor = login("counselor1")

    assert counselor.get(_teachers_url(world)).status_code == 403
    assert counselor.post(_teachers_url(world), data={"username": "trainer2"}).status_code == 403
    assert counselor.post(
        f"/manage/courses/{world.course1}/author", data={"author_username": "trainer2"}
    ).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 0


def test_other_trainer_sees_but_cannot_change(world, trainer2, login):
    other = login("trainer2")

    page = other.get(_teachers_url(world))
    added = other.post(_teachers_url(world), data={"username": "trainer2"})
    author = other.post(
        f"/manage/courses/{world.course1}/author", data={"author_username": "trainer2"}
    )

    assert page.status_code == 200
    assert "Add co-teacher" not in page.get_data(as_text=True)
    assert added.status_code == 403
    assert author.status_code == 403
    db.session.expire_all()
    assert db.session.get(Course, world.course1).author_id == world.trainer


def test_course_of_another_institution_gives_404(world, login):
    response = login("trainer").get(f"/manage/courses/{world.course_b}/teachers")

    assert response.status_code == 404


def test_author_cannot_transfer_authorship(world, trainer2, login):
    response = login("trainer").post(
        f"/manage/courses/{world.course1}/author", data={"author_username": "trainer2"}
    )

    assert response.status_code == 403


def test_admin_sets_author_of_course_without_one(world, trainer2, login):
    course = db.session.get(Course, world.course1)
    course.author_id = None
    db.session.commit()
    admin = login("admin")
    assert "No author is recorded" in admin.get(_teachers_url(world)).get_data(as_text=True)

    changed = admin.post(
        f"/manage/courses/{world.course1}/author", data={"author_username": "trainer2"}
    )

    assert changed.status_code == 302
    db.session.expire_all()
    course = db.session.get(Course, world.course1)
    assert course.author_id == trainer2.id
    assert teaching.may_grade(trainer2, course)
    [entry] = _actions("course.author_changed")
    assert entry.data == {"previous_author_id": None, "author_id": trainer2.id}
    log = admin.get("/admin/audit").get_data(as_text=True)
    assert "Course author changed" in log
    assert "Author: — → 王培训师" in log


def test_author_change_rejects_learner_and_stale(world, trainer2, login):
    admin = login("admin")
    page = admin.get(_teachers_url(world)).get_data(as_text=True)
    version = page.split('name="lock_version" value="')[1].split('"')[0]
    url = f"/manage/courses/{world.course1}/author"

    learner = admin.post(url, data={"author_username": "counselor1", "lock_version": version})
    first = admin.post(url, data={"author_username": "trainer2", "lock_version": version})
    stale = admin.post(url, data={"author_username": "admin", "lock_version": version})

    assert learner.status_code == 400
    assert "is not a trainer or administrator" in learner.get_data(as_text=True)
    assert first.status_code == 302
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(Course, world.course1).author_id == trainer2.id


def test_co_teacher_of_one_version_teaches_the_next(world, trainer2, login):
    assert login("trainer").post(
        _teachers_url(world), data={"username": "trainer2"}
    ).status_code == 302
    course = db.session.get(Course, world.course1)
    draft = versions.new_version(course, db.session.get(User, world.trainer))
    db.session.commit()

    assert teaching.teaches(trainer2, draft)
    page = login("trainer").get(f"/manage/courses/{draft.id}/teachers")
    assert "王培训师" in page.get_data(as_text=True)


def test_course_page_links_to_teachers(world, login):
    page = login("trainer").get(f"/manage/courses/{world.course1}").get_data(as_text=True)

    assert f'href="{_teachers_url(world)}"' in page


def test_course_creation_is_audited(world, login):
    response = login("trainer").post(
        "/manage/courses/new",
        data={"code": "c9", "title": "新课程", "credit_hours": "1"},
    )

    assert response.status_code == 302
    [entry] = _actions("course.created")
    course = db.session.scalar(sa.select(Course).filter_by(code="c9"))
    assert (entry.subject_id, entry.actor_id) == (course.id, world.trainer)


def test_forms_without_csrf_token_rejected(world, trainer2, login):
    author = login("trainer")

    added = author.post(_teachers_url(world), data={"username": "trainer2", "csrf_token": ""})

    assert added.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 0


def _versions_of_course1(world) -> int:
    code = db.session.get(Course, world.course1).code
    return db.session.scalar(sa.select(sa.func.count()).select_from(Course).filter_by(code=code))


def test_only_authors_draft_new_version(world, trainer2, login):
    course_url = f"/manage/courses/{world.course1}"
    before = _versions_of_course1(world)
    outsider = login("trainer2")
    page = outsider.get(course_url).get_data(as_text=True)

    rejected = outsider.post(f"{course_url}/versions", follow_redirects=True)

    assert f'action="{course_url}/versions"' not in page
    assert "Only the authors of this course and administrators" in page
    assert rejected.status_code == 200
    assert "Ask its author or an administrator" in rejected.get_data(as_text=True)
    assert _versions_of_course1(world) == before
    assert not teaching.teaches(trainer2, db.session.get(Course, world.course1))


def test_co_teacher_cannot_draft_version(world, trainer2, login):
    """A co-teacher grades, but drafting a version would make them an author."""
    course_url = f"/manage/courses/{world.course1}"
    login("trainer").post(_teachers_url(world), data={"username": "trainer2"})
    co_teacher = login("trainer2")
    page = co_teacher.get(course_url).get_data(as_text=True)

    rejected = co_teacher.post(f"{course_url}/versions", follow_redirects=True)

    assert f'action="{course_url}/versions"' not in page
    assert rejected.status_code == 200
    assert "Ask its author or an administrator" in rejected.get_data(as_text=True)
    assert _versions_of_course1(world) == 1
    assert teaching.may_grade(trainer2, db.session.get(Course, world.course1))
    assert not teachers.may_manage(trainer2, db.session.get(Course, world.course1))


def test_author_and_admin_draft_new_version(world, trainer2, login):
    course_url = f"/manage/courses/{world.course1}"
    author = login("trainer")
    page = author.get(course_url).get_data(as_text=True)

    drafted = author.post(f"{course_url}/versions")

    assert f'action="{course_url}/versions"' in page
    assert drafted.status_code == 302
    assert drafted.headers["Location"] != course_url
    assert _versions_of_course1(world) == 2
    admin_page = login("admin").get(course_url).get_data(as_text=True)
    assert f'action="{course_url}/versions"' in admin_page
