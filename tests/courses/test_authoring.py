"""Authoring services: validation, publication rules, ordering, copies and locks."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from assessments import authoring as quiz_authoring
from assessments.models import Question, QuestionKind, Quiz
from courses import authoring, services, versions
from courses.authoring import AuthoringError
from courses.models import Course, Lesson, LessonProgress, Programme, PublicationStatus
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db


@pytest.fixture(autouse=True)
def _english_messages(app_ctx):
    """Produce the English msgids, since outside a request the default is zh_CN."""
    with force_locale("en"):
        yield


@pytest.fixture
def trainer(world):
    return db.session.get(User, world.trainer)


@pytest.fixture
def draft_course(world, trainer):
    """Return a new draft course of institution A with one text lesson."""
    course = authoring.save_course(world.uni_a, _course_data(code="draft-c"), trainer)
    authoring.save_lesson(
        course,
        {"title": "第1课", "kind": "text", "duration_minutes": "45",
         "body_html": "<p>正文</p>"},
        trainer,
    )
    return course


def _programme_data(**overrides) -> dict:
    data = {
        "code": "new-prog",
        "title": "新项目",
        "tier": "school",
        "kind": "thematic",
        "level": "junior",
        "certificate_validity_months": "",
    }
    data.update(overrides)
    return data


def _course_data(**overrides) -> dict:
    data = {"code": "new-course", "title": "新课程", "credit_hours": "1.5"}
    data.update(overrides)
    return data


def _question_data(kind: str, choices: list[tuple[str, bool]], **overrides) -> dict:
    data = {"kind": kind, "text": "题干", "points": "1"}
    for slot, (text, correct) in enumerate(choices, start=1):
        data[f"choice_{slot}"] = text
        if correct:
            data[f"correct_{slot}"] = "1"
    data.update(overrides)
    return data


# HTML cleaning ----------------------------------------------------------------


def test_clean_html_removes_script_and_handlers():
    dirty = (
        '<p onclick="steal()">正文</p><script>alert(1)</script>'
        '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">链接</a>'
        '<a href="https://example.org/a">安全链接</a>'
    )

    cleaned = authoring.clean_html(dirty)

    assert "<script" not in cleaned
    assert "alert(1)" not in cleaned
    assert "onerror" not in cleaned
    assert "onclick" not in cleaned
    assert "javascript:" not in cleaned
    assert "<img" not in cleaned
    assert "<p>正文</p>" in cleaned
    assert 'href="https://example.org/a"' in cleaned


def test_clean_html_keeps_word_formatting_and_tables():
    pasted = (
        '<p><b>重点</b>、<i>提示</i>、<u>下划线</u>、H<sub>2</sub>O</p>'
        '<table style="width:100%"><tr><th colspan="2" class="x">学时</th></tr>'
        '<tr><td rowspan="1" onclick="x()">校级</td><td>16</td></tr></table>'
        '<p><span style="color:red"><font face="宋体">正文</font></span></p>'
    )

    cleaned = authoring.clean_html(pasted)

    assert "<b>重点</b>" in cleaned
    assert "<i>提示</i>" in cleaned
    assert "<u>下划线</u>" in cleaned
    assert "<sub>2</sub>" in cleaned
    assert '<th colspan="2">学时</th>' in cleaned
    assert '<td rowspan="1">校级</td>' in cleaned
    assert "style" not in cleaned
    assert "onclick" not in cleaned
    assert "<font" not in cleaned
    assert "<p>正文</p>" in cleaned
    assert authoring.removed_tags(pasted) == ["font", "span"]


def test_removed_tags_ignores_document_wrappers():
    html = "<html><body><p>正文<o:p></o:p></p><img src=x></body></html>"

    assert authoring.removed_tags(html) == ["img"]
    assert authoring.removed_tags("<p><b>已支持</b></p>") == []


# Programmes -------------------------------------------------------------------


def test_save_programme_rejects_taken_code(world, trainer):
    with pytest.raises(AuthoringError) as raised:
        authoring.save_programme(world.uni_a, _programme_data(code="p1"), trainer)

    assert "p1" in raised.value.errors["code"]


def test_concurrent_code_clash_is_a_field_error(world, trainer, monkeypatch):
    # Another request takes the code after the check: the unique constraint decides.
    monkeypatch.setattr(authoring, "_programme_code_taken", lambda *args: False)

    with pytest.raises(AuthoringError) as raised:
        authoring.save_programme(world.uni_a, _programme_data(code="p1"), trainer)

    assert raised.value.errors["code"] == "The code p1 is already in use."


def test_save_programme_allows_code_of_other_institution(world, trainer):
    programme = authoring.save_programme(
        world.uni_a, _programme_data(code="pb"), trainer
    )

    assert programme.status is PublicationStatus.DRAFT
    assert programme.code == "pb"


def test_save_programme_names_each_invalid_field(world, trainer):
    data = _programme_data(
        code="", title="", tier="galactic", certificate_validity_months="-3"
    )

    with pytest.raises(AuthoringError) as raised:
        authoring.save_programme(world.uni_a, data, trainer)

    assert set(raised.value.errors) == {
        "code",
        "title",
        "tier",
        "certificate_validity_months",
    }


def test_publish_programme_needs_published_courses(world, trainer):
    programme = authoring.save_programme(world.uni_a, _programme_data(), trainer)
    with pytest.raises(AuthoringError) as empty:
        authoring.publish_programme(programme, trainer)
    draft_course = authoring.save_course(world.uni_a, _course_data(), trainer)
    authoring.add_course(programme, draft_course, True, trainer)

    with pytest.raises(AuthoringError) as unpublished:
        authoring.publish_programme(programme, trainer)

    assert "at least one published course" in empty.value.errors["form"]
    assert "new-course" in unpublished.value.errors["form"]
    assert programme.status is PublicationStatus.DRAFT


def test_publish_programme_records_audit_entry(world, trainer):
    programme = authoring.save_programme(world.uni_a, _programme_data(), trainer)
    authoring.add_course(
        programme, db.session.get(Course, world.course2), True, trainer
    )

    authoring.publish_programme(programme, trainer)

    entry = db.session.scalar(
        sa.select(AuditEntry).filter_by(
            action="programme.published", subject_id=programme.id
        )
    )
    assert programme.status is PublicationStatus.PUBLISHED
    assert entry is not None
    assert entry.actor_id == trainer.id
    assert entry.data == {"from": "draft", "to": "published"}


def test_published_programme_rejects_draft_course(world, trainer):
    programme = db.session.get(Programme, world.programme)
    draft_course = authoring.save_course(world.uni_a, _course_data(), trainer)

    with pytest.raises(AuthoringError) as raised:
        authoring.add_course(programme, draft_course, False, trainer)

    assert "new-course" in raised.value.errors["course_id"]
    assert len(programme.courses) == 2


def test_archive_rejects_draft_programme(world, trainer):
    draft = db.session.get(Programme, world.draft)

    with pytest.raises(AuthoringError):
        authoring.archive_programme(draft, trainer)

    assert draft.status is PublicationStatus.DRAFT


def test_enrolled_programme_keeps_its_courses(world, trainer):
    programme = db.session.get(Programme, world.programme)
    services.enrol(db.session.get(User, world.counselor), programme)
    link = programme.courses[0]

    with pytest.raises(AuthoringError) as removal:
        authoring.remove_course(programme, link, trainer)
    with pytest.raises(AuthoringError):
        authoring.set_required(programme, link, False, trainer)

    assert "enrolled" in removal.value.errors["form"]
    assert len(programme.courses) == 2
    assert link.required is True


def test_remove_course_renumbers_the_rest(world, trainer):
    programme = db.session.get(Programme, world.programme)
    first = programme.courses[0]

    authoring.remove_course(programme, first, trainer)

    assert [(link.course_id, link.position) for link in programme.courses] == [
        (world.course2, 1)
    ]


def test_move_swaps_neighbours(world, trainer):
    programme = db.session.get(Programme, world.programme)
    second = programme.courses[1]

    moved = authoring.move(list(programme.courses), second, "up", trainer)
    db.session.expire_all()

    programme = db.session.get(Programme, world.programme)
    assert moved is True
    assert [link.course_id for link in programme.courses] == [
        world.course2,
        world.course1,
    ]


def test_move_rejects_unknown_direction(world, trainer):
    programme = db.session.get(Programme, world.programme)

    with pytest.raises(AuthoringError) as raised:
        authoring.move(
            list(programme.courses), programme.courses[0], "sideways", trainer
        )

    assert "direction" in raised.value.errors


# Courses and lessons ---------------------------------------------------------


@pytest.mark.parametrize("hours", ["0", "-2", "abc", "12345", "1.25", "NaN"])
def test_save_course_rejects_bad_credit_hours(world, trainer, hours):
    with pytest.raises(AuthoringError) as raised:
        authoring.save_course(world.uni_a, _course_data(credit_hours=hours), trainer)

    assert "credit_hours" in raised.value.errors


def test_save_course_rejects_unknown_competency(world, trainer):
    data = _course_data(competency_ids=["999999"])

    with pytest.raises(AuthoringError) as raised:
        authoring.save_course(world.uni_a, data, trainer)

    assert "competency_ids" in raised.value.errors


def test_publish_course_needs_lessons_and_questions(world, trainer):
    course = authoring.save_course(world.uni_a, _course_data(), trainer)
    with pytest.raises(AuthoringError) as no_lessons:
        authoring.publish_course(course, trainer)
    lesson = {
        "title": "第一课",
        "kind": "text",
        "duration_minutes": "30",
        "body_html": "<p>正文</p>",
    }
    authoring.save_lesson(course, lesson, trainer)
    quiz_authoring.save_quiz(course, {"title": "空测验", "pass_mark": "60"}, trainer)

    with pytest.raises(AuthoringError) as empty_quiz:
        authoring.publish_course(course, trainer)

    assert "lesson" in no_lessons.value.errors["form"]
    assert "空测验" in empty_quiz.value.errors["form"]
    assert course.status is PublicationStatus.DRAFT


def test_archive_course_rejected_while_programme_published(world, trainer):
    course = db.session.get(Course, world.course1)

    with pytest.raises(AuthoringError) as raised:
        authoring.archive_course(course, trainer)

    assert "p1" in raised.value.errors["form"]
    assert course.status is PublicationStatus.PUBLISHED


def test_video_lesson_needs_https(world, trainer, draft_course):
    course = draft_course
    data = {"title": "视频", "kind": "video", "duration_minutes": "20"}

    for url in ("http://example.org/v", "javascript:alert(1)", "https://"):
        with pytest.raises(AuthoringError) as raised:
            authoring.save_lesson(course, {**data, "video_url": url}, trainer)
        assert "video_url" in raised.value.errors


def test_offline_lesson_stores_time_in_utc(world, trainer, draft_course):
    course = draft_course
    data = {
        "title": "面授",
        "kind": "offline",
        "duration_minutes": "90",
        "session_starts_at": "2026-09-01T14:00",
        "session_place": "行政楼301",
    }

    lesson = authoring.save_lesson(course, data, trainer)

    assert lesson.session_starts_at.isoformat() == "2026-09-01T06:00:00+00:00"
    assert authoring.session_start_input(lesson) == "2026-09-01T14:00"
    assert lesson.position == 2


def test_offline_lesson_needs_time_and_place(world, trainer, draft_course):
    course = draft_course
    data = {"title": "面授", "kind": "offline", "duration_minutes": "90"}

    with pytest.raises(AuthoringError) as raised:
        authoring.save_lesson(
            course, {**data, "session_starts_at": "tomorrow"}, trainer
        )

    assert set(raised.value.errors) == {"session_starts_at", "session_place"}


def test_file_lesson_needs_an_upload(world, trainer, draft_course):
    course = draft_course
    data = {"title": "文件", "kind": "file", "duration_minutes": "10"}

    with pytest.raises(AuthoringError) as raised:
        authoring.save_lesson(course, data, trainer)

    assert "pdf, docx, pptx, xlsx" in raised.value.errors["upload"]


def test_published_course_content_is_frozen(world, trainer):
    course = db.session.get(Course, world.course1)
    data = {"title": "新课", "kind": "text", "duration_minutes": "10",
            "body_html": "<p>正文</p>"}

    with pytest.raises(AuthoringError) as lesson_raised:
        authoring.save_lesson(course, data, trainer)
    with pytest.raises(AuthoringError) as delete_raised:
        authoring.delete_lesson(course, course.lessons[0], trainer)
    with pytest.raises(AuthoringError) as course_raised:
        authoring.save_course(world.uni_a, _course_data(code="c1"), trainer, course)

    for raised in (lesson_raised, delete_raised, course_raised):
        assert "Create a new version" in raised.value.errors["form"]
    assert len(course.lessons) == 2


def test_delete_lesson_rejected_after_completion(world, trainer, draft_course):
    course = draft_course
    lesson = course.lessons[0]
    db.session.add(LessonProgress(user_id=world.counselor, lesson_id=lesson.id))
    db.session.flush()

    with pytest.raises(AuthoringError) as raised:
        authoring.delete_lesson(course, lesson, trainer)

    assert "1 learner has completed this lesson" in raised.value.errors["form"]
    assert db.session.get(Lesson, lesson.id) is not None


def test_delete_lesson_renumbers_the_rest(world, trainer):
    course = versions.new_version(db.session.get(Course, world.course1), trainer)
    first, second = course.lessons

    authoring.delete_lesson(course, first, trainer)

    assert db.session.get(Lesson, first.id) is None
    assert [(lesson.id, lesson.position) for lesson in course.lessons] == [
        (second.id, 1)
    ]


# Copies -----------------------------------------------------------------------


def test_copy_course_is_independent_draft(world, trainer):
    original = db.session.get(Course, world.course1)

    copy = versions.copy_course(original, {"code": "c1-copy"}, trainer)
    copy.lessons[0].title = "改过的标题"
    copy_quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=copy.id))
    copy_quiz.questions[0].choices[0].text = "改过的选项"
    db.session.flush()
    db.session.expire_all()

    original = db.session.get(Course, world.course1)
    original_quiz = db.session.get(Quiz, world.quiz)
    copy = db.session.get(Course, copy.id)
    assert copy.status is PublicationStatus.DRAFT
    assert copy.credit_hours == Decimal(2)
    assert len(copy.lessons) == len(original.lessons)
    assert [item.id for item in copy.competencies] == [
        item.id for item in original.competencies
    ]
    assert {lesson.id for lesson in copy.lessons}.isdisjoint(
        {lesson.id for lesson in original.lessons}
    )
    assert original.lessons[0].title == "c1 第1课"
    assert original_quiz.questions[0].choices[0].text == "选项A"
    assert len(copy_quiz.questions) == len(original_quiz.questions)


def test_copy_rejects_taken_code(world, trainer):
    original = db.session.get(Course, world.course1)

    with pytest.raises(AuthoringError) as raised:
        versions.copy_course(original, {"code": "c2"}, trainer)

    assert "c2" in raised.value.errors["code"]


def test_copy_programme_keeps_course_list(world, trainer):
    original = db.session.get(Programme, world.programme)

    copy = versions.copy_programme(original, {"code": "p1-2027"}, trainer)
    authoring.remove_course(copy, copy.courses[0], trainer)

    assert copy.status is PublicationStatus.DRAFT
    assert [link.course_id for link in copy.courses] == [world.course2]
    assert [link.course_id for link in original.courses] == [
        world.course1,
        world.course2,
    ]


# Questions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "choices"),
    [
        ("single", [("甲", True), ("乙", True)]),
        ("single", [("甲", False), ("乙", False)]),
        ("multiple", [("甲", False), ("乙", False), ("丙", False)]),
        ("true_false", [("正确", True), ("错误", False), ("不确定", False)]),
        ("true_false", [("正确", True), ("错误", True)]),
        ("single", [("甲", True)]),
    ],
)
def test_save_question_checks_correct_choices(world, draft_quiz, trainer, kind, choices):
    quiz = db.session.get(Quiz, draft_quiz)

    with pytest.raises(AuthoringError) as raised:
        quiz_authoring.save_question(quiz, _question_data(kind, choices), trainer)

    assert "choices" in raised.value.errors


def test_save_question_accepts_valid_kinds(world, draft_quiz, trainer):
    quiz = db.session.get(Quiz, draft_quiz)
    cases = [
        ("single", [("甲", False), ("乙", True)]),
        ("multiple", [("甲", True), ("乙", False), ("丙", True)]),
        ("true_false", [("正确", False), ("错误", True)]),
    ]

    for kind, choices in cases:
        quiz_authoring.save_question(quiz, _question_data(kind, choices), trainer)

    kinds = [question.kind for question in quiz.questions[-3:]]
    assert kinds == [
        QuestionKind.SINGLE,
        QuestionKind.MULTIPLE,
        QuestionKind.TRUE_FALSE,
    ]
    assert [question.position for question in quiz.questions] == [1, 2, 3, 4, 5]


def test_save_quiz_checks_pass_mark_range(world, trainer):
    course = db.session.get(Course, world.course2)

    with pytest.raises(AuthoringError) as raised:
        quiz_authoring.save_quiz(
            course, {"title": "测验", "pass_mark": "101", "max_attempts": "0"}, trainer
        )

    assert set(raised.value.errors) == {"pass_mark", "max_attempts"}


def test_answered_question_is_locked(world, trainer):
    from assessments import services as quiz_services

    quiz = db.session.get(Quiz, world.quiz)
    learner = db.session.get(User, world.counselor)
    services.enrol(learner, db.session.get(Programme, world.programme))
    attempt = quiz_services.start_attempt(learner, quiz)
    quiz_services.submit_attempt(attempt, {})
    question = quiz.questions[0]
    data = _question_data("single", [("甲", True), ("乙", False)])

    with force_locale("en"), pytest.raises(AuthoringError) as change:
        quiz_authoring.save_question(quiz, data, trainer, question)
    with force_locale("en"), pytest.raises(AuthoringError) as deletion:
        quiz_authoring.delete_question(quiz, question, trainer)

    assert "course of this quiz is not a draft" in change.value.errors["form"]
    assert "course of this quiz is not a draft" in deletion.value.errors["form"]
    assert db.session.get(Question, question.id).kind is QuestionKind.MULTIPLE

    # The attempt lock also holds where the course is a draft again.
    quiz.course.status = PublicationStatus.DRAFT
    with force_locale("en"), pytest.raises(AuthoringError) as answered:
        quiz_authoring.save_question(quiz, data, trainer, question)
    assert "1 attempt asked this question" in answered.value.errors["form"]
    assert db.session.get(Question, question.id).kind is QuestionKind.MULTIPLE
