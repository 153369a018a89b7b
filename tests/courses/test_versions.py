"""Course versions pinned per enrolment, and copies of courses and programmes."""

import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from assessments import services as quiz_services
from assessments.models import Quiz
from courses import authoring, lesson_files, sections, services, versions
from courses.authoring import AuthoringError
from courses.models import (
    Course,
    CourseCompletion,
    CourseVisit,
    Enrolment,
    EnrolmentCourse,
    Lesson,
    LessonKind,
    LessonProgress,
    Programme,
    PublicationStatus,
)
from lms import uploads
from lms.accounts.models import Post, User
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import HoursEntry
from tests.factories import make_course, finish_lesson

TEXT_LESSON = {
    "title": "新增的一课",
    "kind": "text",
    "duration_minutes": "30",
    "body_html": "<p>第二版新增的内容</p>",
}


@pytest.fixture(autouse=True)
def _english_messages(app_ctx):
    with force_locale("en"):
        yield


@pytest.fixture
def trainer(world):
    return db.session.get(User, world.trainer)


def enrolment_course(enrolment: Enrolment, index: int) -> Course:
    return services.enrolment_courses(enrolment)[index][1]


def _user(world, name: str) -> User:
    return db.session.get(User, getattr(world, name))


def _publish_v2_of_course2(world, trainer) -> Course:
    """Draft version 2 of course 2 with one more lesson and 3 hours, then publish it."""
    v1 = db.session.get(Course, world.course2)
    v2 = versions.new_version(v1, trainer)
    authoring.save_course(
        world.uni_a,
        {"code": v2.code, "title": v2.title, "credit_hours": "3"},
        trainer,
        v2,
    )
    authoring.save_lesson(v2, TEXT_LESSON, trainer)
    authoring.publish_course(v2, trainer)
    db.session.commit()
    return v2


# Versions -------------------------------------------------------------------------


def test_new_version_is_linked_draft(world, trainer):
    v1 = db.session.get(Course, world.course1)

    v2 = versions.new_version(v1, trainer)
    again = versions.new_version(v1, trainer)

    assert again.id == v2.id
    assert v2.status is PublicationStatus.DRAFT
    assert (v2.code, v2.version, v2.previous_version_id) == ("c1", 2, v1.id)
    assert [lesson.title for lesson in v2.lessons] == [
        lesson.title for lesson in v1.lessons
    ]
    assert {lesson.id for lesson in v2.lessons}.isdisjoint(
        {lesson.id for lesson in v1.lessons}
    )
    assert [item.id for item in v2.competencies] == [
        item.id for item in v1.competencies
    ]
    v2_quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=v2.id))
    assert v2_quiz is not None
    assert v2_quiz.id != world.quiz
    assert v1.status is PublicationStatus.PUBLISHED


def test_draft_gets_no_new_version(world, trainer):
    draft = versions.new_version(db.session.get(Course, world.course1), trainer)

    with pytest.raises(AuthoringError) as raised:
        versions.new_version(draft, trainer)

    assert "Edit this draft instead." in raised.value.errors["form"]


def test_version_code_cannot_change(world, trainer):
    v2 = versions.new_version(db.session.get(Course, world.course1), trainer)

    with pytest.raises(AuthoringError) as raised:
        authoring.save_course(
            world.uni_a,
            {"code": "renamed", "title": "x", "credit_hours": "2"},
            trainer,
            v2,
        )

    assert "share its code c1" in raised.value.errors["code"]


def test_publishing_version_replaces_previous(world, trainer):
    v2 = _publish_v2_of_course2(world, trainer)

    v1 = db.session.get(Course, world.course2)
    programme = db.session.get(Programme, world.programme)
    assert v1.status is PublicationStatus.ARCHIVED
    assert v2.status is PublicationStatus.PUBLISHED
    assert [link.course_id for link in programme.courses] == [world.course1, v2.id]


def test_old_version_cannot_be_republished(world, trainer):
    _publish_v2_of_course2(world, trainer)
    v1 = db.session.get(Course, world.course2)

    with pytest.raises(AuthoringError) as raised:
        authoring.publish_course(v1, trainer)

    assert "Version 2 of this course exists" in raised.value.errors["form"]


def test_replaced_version_offers_no_publish(world, trainer, login):
    v2 = _publish_v2_of_course2(world, trainer)
    session = login("trainer")
    session.post("/language/en")

    old_page = session.get(f"/manage/courses/{world.course2}").get_data(as_text=True)
    new_page = session.get(f"/manage/courses/{v2.id}").get_data(as_text=True)
    overview = session.get("/manage/programmes").get_data(as_text=True)

    assert f"/manage/courses/{world.course2}/publish" not in old_page
    assert "Replaced by a later version" in old_page
    assert f"/manage/courses/{v2.id}/archive" in new_page
    assert f"/manage/courses/{world.course2}/publish" not in overview
    assert "Replaced by a later version" in overview


def test_enrolled_learner_keeps_started_version(world, trainer):
    early = _user(world, "counselor")
    programme = db.session.get(Programme, world.programme)
    services.enrol(early, programme)
    v1 = db.session.get(Course, world.course2)
    finish_lesson(early, v1.lessons[0])
    db.session.commit()

    v2 = _publish_v2_of_course2(world, trainer)
    late = _user(world, "counselor2")
    services.enrol(late, programme)
    db.session.commit()

    v1 = db.session.get(Course, world.course2)
    assert services.can_view_course(early, v1)
    assert not services.can_view_course(early, v2)
    assert services.can_view_course(late, v2)
    assert not services.can_view_course(late, v1)
    assert [c.id for _l, c in services.learner_courses(early, programme)] == [
        world.course1,
        v1.id,
    ]
    assert [c.id for _l, c in services.learner_courses(late, programme)] == [
        world.course1,
        v2.id,
    ]


def test_completion_keeps_hours_of_seen_version(world, trainer):
    early = _user(world, "counselor")
    programme = db.session.get(Programme, world.programme)
    services.enrol(early, programme)
    db.session.commit()
    v2 = _publish_v2_of_course2(world, trainer)

    v1 = db.session.get(Course, world.course2)
    finish_lesson(early, v1.lessons[0])
    db.session.commit()

    completion = services.find_completion(early, v1)
    assert completion is not None
    assert completion.hours == v1.credit_hours == 1.5
    assert services.find_completion(early, v2) is None
    ledger = db.session.scalars(
        sa.select(HoursEntry).filter_by(
            user_id=early.id, source_type="course_completion"
        )
    ).all()
    assert [entry.hours for entry in ledger] == [1.5]
    progress = services.programme_progress(early, programme)
    assert progress["completed_course_ids"] == {v1.id}
    assert progress["hours_done"] == 1.5


def test_new_enrolment_needs_new_content(world, trainer):
    _publish_v2_of_course2(world, trainer)
    late = _user(world, "counselor2")
    programme = db.session.get(Programme, world.programme)
    enrolment = services.enrol(late, programme)
    v2 = enrolment_course(enrolment, 1)

    finish_lesson(late, v2.lessons[0])

    assert services.find_completion(late, v2) is None
    assert services.missing_requirements(late, v2) == ["lessons:1"]
    finish_lesson(late, v2.lessons[1])
    assert services.find_completion(late, v2).hours == 3


def test_enrolment_without_pins_is_pinned_on_replace(world, trainer):
    """An enrolment written without pins (e.g. by an import) keeps its version too."""
    learner = _user(world, "counselor")
    enrolment = Enrolment(user_id=learner.id, programme_id=world.programme)
    db.session.add(enrolment)
    db.session.commit()

    _publish_v2_of_course2(world, trainer)

    pins = db.session.scalars(
        sa.select(EnrolmentCourse).filter_by(enrolment_id=enrolment.id)
    ).all()
    assert sorted(pin.course_id for pin in pins) == [world.course1, world.course2]


def test_programme_completes_on_pinned_version(world, trainer):
    learner = _user(world, "counselor")
    programme = db.session.get(Programme, world.programme)
    enrolment = services.enrol(learner, programme)
    db.session.commit()
    _publish_v2_of_course2(world, trainer)

    course1 = db.session.get(Course, world.course1)
    for lesson in course1.lessons:
        finish_lesson(learner, lesson)
    quiz = db.session.get(Quiz, world.quiz)
    attempt = quiz_services.start_attempt(learner, quiz)
    answers = {
        question.id: {c.id for c in question.choices if c.is_correct}
        for question in quiz.questions
    }
    quiz_services.submit_attempt(attempt, answers)
    finish_lesson(learner, db.session.get(Course, world.course2).lessons[0])

    db.session.refresh(enrolment)
    assert enrolment.completed_at is not None


def test_course_standing_agrees_with_full_checks(world, trainer):
    """Access and prerequisites read from ``course_standing`` match the full checks.

    Course 2 needs course 1. The early learner is pinned to version 1 of
    course 2 when version 2 is published, so only the pin leads to it.
    """
    programme = db.session.get(Programme, world.programme)
    first, second = programme.courses
    second.prerequisites.append(first)
    early = _user(world, "counselor")
    services.enrol(early, programme)
    db.session.commit()
    v2 = _publish_v2_of_course2(world, trainer)
    late = _user(world, "counselor2")
    services.enrol(late, programme)
    db.session.commit()
    v1 = db.session.get(Course, world.course2)
    course1 = db.session.get(Course, world.course1)

    for learner in (early, late):
        for course in (course1, v1, v2):
            standing = services.course_standing(learner, course)
            assert standing.enrolled == bool(services.enrolments_for_course(learner, course))
            assert services.can_view_course(learner, course, standing) == (
                services.can_view_course(learner, course)
            )
            assert services.missing_prerequisites(learner, course, standing) == (
                services.missing_prerequisites(learner, course)
            )
    pinned = services.course_standing(early, v1)
    assert pinned.may_need_prerequisites
    quiz = Quiz(course_id=v1.id, title="第一版测验")
    db.session.add(quiz)
    db.session.flush()
    for learner in (early, late):
        context = quiz_services.load_start_context(learner, quiz.id)
        assert context.standing == services.course_standing(learner, v1)
    assert services.missing_prerequisites(early, v1, pinned) == [course1]
    assert not services.course_standing(early, course1).may_need_prerequisites


def test_manage_published_course_edit_is_refused(world, login):
    trainer = login("trainer")
    trainer.post("/language/en")

    response = trainer.post(
        f"/manage/courses/{world.course2}",
        data={"code": "c2", "title": "改名", "credit_hours": "9"},
    )

    db.session.expire_all()
    assert response.status_code == 400
    assert "Create a new version" in response.get_data(as_text=True)
    assert db.session.get(Course, world.course2).credit_hours == 1.5


def test_manage_new_version_route(world, login):
    trainer = login("trainer")

    response = trainer.post(f"/manage/courses/{world.course2}/versions")

    draft = db.session.scalar(sa.select(Course).filter_by(code="c2", version=2))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/courses/{draft.id}")
    page = trainer.get(f"/manage/courses/{draft.id}").get_data(as_text=True)
    assert f'href="/manage/courses/{world.course2}"' in page


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_new_version_refused_to_non_authors(world, login, username):
    response = login(username).post(f"/manage/courses/{world.course2}/versions")

    assert response.status_code == 403
    assert db.session.scalar(sa.select(Course).filter_by(version=2)) is None


def test_learner_of_old_version_sees_old_content(world, login, trainer):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    v2 = _publish_v2_of_course2(world, trainer)

    programme_page = learner.get(f"/programmes/{world.programme}").get_data(
        as_text=True
    )
    old = learner.get(f"/courses/{world.course2}")
    new = learner.get(f"/courses/{v2.id}")

    assert f'href="/courses/{world.course2}"' in programme_page
    assert f'href="/courses/{v2.id}"' not in programme_page
    assert old.status_code == 200
    assert "新增的一课" not in old.get_data(as_text=True)
    assert new.status_code == 404


# Copies ---------------------------------------------------------------------------


def test_copy_course_copies_structure_not_learners(world, trainer):
    learner = _user(world, "counselor")
    draft = versions.new_version(db.session.get(Course, world.course2), trainer)
    module = sections.save_module(draft, {"title": "第一单元"}, trainer)
    file_lesson = authoring.save_lesson(
        draft,
        {
            "title": "讲义",
            "kind": "file",
            "duration_minutes": "10",
            "module_id": str(module.id),
        },
        trainer,
        upload=_upload("讲义.pdf", b"%PDF-1.7\n%%EOF\n"),
    )
    authoring.publish_course(draft, trainer)
    services.enrol(learner, db.session.get(Programme, world.programme))
    finish_lesson(learner, draft.lessons[0])
    services.record_visit(learner, draft.lessons[0], 400)
    db.session.commit()

    copy = versions.copy_course(draft, {"code": "c2-copy"}, trainer)

    assert (copy.code, copy.version, copy.previous_version_id) == ("c2-copy", 1, None)
    assert copy.status is PublicationStatus.DRAFT
    assert [m.title for m in copy.modules] == ["第一单元"]
    copied_file = next(
        lesson for lesson in copy.lessons if lesson.kind is LessonKind.FILE
    )
    assert copied_file.file_name == file_lesson.file_name
    assert copied_file.module.id == copy.modules[0].id
    assert copied_file.module.id != module.id
    lesson_ids = [lesson.id for lesson in copy.lessons]
    assert not db.session.scalars(
        sa.select(LessonProgress).where(LessonProgress.lesson_id.in_(lesson_ids))
    ).all()
    for model in (CourseCompletion, CourseVisit):
        assert db.session.scalar(sa.select(model).filter_by(course_id=copy.id)) is None
    assert not services.can_view_course(learner, copy)


def test_copy_programme_keeps_rules_and_prerequisites(world, trainer):
    original = db.session.get(Programme, world.programme)
    first, second = original.courses
    authoring.set_prerequisites(original, second, [str(first.id)], trainer)
    original.audience_posts = [Post.PART_TIME_COUNSELOR.value]
    services.enrol(_user(world, "counselor"), original)
    db.session.flush()

    copy = versions.copy_programme(original, {"code": "p1-copy"}, trainer)

    assert copy.status is PublicationStatus.DRAFT
    assert copy.audience_posts == ["part_time_counselor"]
    assert copy.min_elective_hours == original.min_elective_hours
    copy_first, copy_second = copy.courses
    assert copy_second.prerequisites == [copy_first]
    assert copy_first.id != first.id
    assert db.session.scalar(
        sa.select(Enrolment).filter_by(programme_id=copy.id)
    ) is None


def test_copy_programme_route(world, login):
    response = login("trainer").post(
        f"/manage/programmes/{world.programme}/copy", data={"code": "p1-2027"}
    )

    copy = db.session.scalar(sa.select(Programme).filter_by(code="p1-2027"))
    assert response.status_code == 302
    assert copy is not None
    assert copy.status is PublicationStatus.DRAFT


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_copy_refused_to_non_authors(world, login, username):
    session = login(username)

    programme = session.post(
        f"/manage/programmes/{world.programme}/copy", data={"code": "stolen"}
    )
    course = session.post(f"/manage/courses/{world.course1}/copy", data={"code": "x"})

    assert programme.status_code == 403
    assert course.status_code == 403
    assert db.session.scalar(sa.select(Programme).filter_by(code="stolen")) is None


def _upload(filename: str, content: bytes):
    from werkzeug.datastructures import FileStorage

    return FileStorage(stream=io.BytesIO(content), filename=filename)


def test_lesson_file_reused_not_removed(world, trainer):
    """A copy names the same stored file, which therefore stays on disk."""
    draft = versions.new_version(db.session.get(Course, world.course2), trainer)
    lesson = authoring.save_lesson(
        draft,
        {"title": "讲义", "kind": "file", "duration_minutes": "10"},
        trainer,
        upload=_upload("讲义.pdf", b"%PDF-1.7\n%%EOF\n"),
    )
    copy = versions.copy_course(draft, {"code": "c2-copy"}, trainer)
    authoring.save_lesson(
        copy,
        {"title": "改为正文", "kind": "text", "duration_minutes": "10",
         "body_html": "<p>正文</p>"},
        trainer,
        copy.lessons[-1],
    )

    assert copy.lessons[-1].file_name is None
    assert uploads.path_of(lesson_files.AREA, lesson.file_name) is not None
    assert db.session.get(Lesson, lesson.id).file_name == lesson.file_name


def test_copy_programme_with_course_copies(world, trainer):
    original = db.session.get(Programme, world.programme)
    first, second = original.courses
    authoring.set_prerequisites(original, second, [str(first.id)], trainer)

    copy = versions.copy_programme(
        original, {"code": "p1-2027", "course_suffix": "-2027"}, trainer
    )

    courses = [link.course for link in copy.courses]
    assert [course.code for course in courses] == ["c1-2027", "c2-2027"]
    assert all(course.status is PublicationStatus.DRAFT for course in courses)
    assert [len(course.lessons) for course in courses] == [2, 1]
    assert copy.courses[1].prerequisites == [copy.courses[0]]
    assert [link.course_id for link in original.courses] == [
        world.course1,
        world.course2,
    ]


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        ("-a b", "cannot contain spaces"),
        ("2", "already in use: c2"),
        ("-" + "x" * 70, "longer than 64 characters"),
    ],
)
def test_copy_programme_suffix_checked(world, trainer, suffix, message):
    make_course(db.session.get(Institution, world.uni_a), "c22")
    original = db.session.get(Programme, world.programme)

    with pytest.raises(AuthoringError) as raised:
        versions.copy_programme(
            original, {"code": "p1-2027", "course_suffix": suffix}, trainer
        )

    assert message in raised.value.errors["course_suffix"]
    assert db.session.scalar(sa.select(Programme).filter_by(code="p1-2027")) is None
