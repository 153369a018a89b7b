"""Trainer pages under /manage, driven through the test client with real logins."""

import logging
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from assessments import authoring as quiz_authoring
from assessments.models import Question, Quiz, ReviewTiming
from courses.models import Course, Lesson, Programme, PublicationStatus
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_competency, make_user

XSS_BODY = (
    "<p>正文第一段</p>"
    "<script>alert('xss-script')</script>"
    '<img src="x" onerror="alert(\'xss-img\')">'
    "<a href=\"javascript:alert('xss-link')\">点我</a>"
    "<p onmouseover=\"alert('xss-hover')\">第二段</p>"
)


def _english(session):
    """Switch a logged-in session to English so messages match their msgids."""
    session.post("/language/en")
    return session


@pytest.fixture
def trainer(world, login):
    return _english(login("trainer"))


def _id_from(response, pattern: str) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(pattern, response.headers["Location"]).group(1))


def _create_course(session, code="t-c1", **fields) -> int:
    data = {
        "code": code,
        "title": "危机干预实务",
        "summary": "简介",
        "credit_hours": "2",
    }
    data.update(fields)
    response = session.post("/manage/courses/new", data=data)
    return _id_from(response, r"/manage/courses/(\d+)")


def _new_version(session, course_id: int) -> int:
    """Create the draft of the next version of a published course; return its id."""
    response = session.post(f"/manage/courses/{course_id}/versions")
    return _id_from(response, r"/manage/courses/(\d+)")


def _add_text_lesson(session, course_id: int, title="第一课", body="<p>正文</p>"):
    response = session.post(
        f"/manage/courses/{course_id}/lessons/new",
        data={
            "title": title,
            "kind": "text",
            "duration_minutes": "30",
            "body_html": body,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _question_form(kind: str, choices: list[tuple[str, bool]]) -> dict:
    data = {
        "kind": kind,
        "text": "下列说法正确的是？",
        "points": "2",
        "explanation": "解析",
    }
    for slot, (text, correct) in enumerate(choices, start=1):
        data[f"choice_{slot}"] = text
        if correct:
            data[f"correct_{slot}"] = "1"
    return data


def _course_lessons(course_id: int) -> list[Lesson]:
    db.session.expire_all()
    return db.session.get(Course, course_id).lessons


# Main path ----------------------------------------------------------------------


def test_trainer_builds_offer_counselor_enrols(world, trainer, login):
    item = make_competency("2.3", "开展网络思想政治教育")
    db.session.commit()
    course_id = _create_course(trainer, competency_ids=[str(item.id)])
    _add_text_lesson(trainer, course_id)
    video = trainer.post(
        f"/manage/courses/{course_id}/lessons/new",
        data={
            "title": "案例视频",
            "kind": "video",
            "duration_minutes": "20",
            "video_url": "https://video.example.org/case-1",
        },
    )
    offline = trainer.post(
        f"/manage/courses/{course_id}/lessons/new",
        data={
            "title": "面授研讨",
            "kind": "offline",
            "duration_minutes": "120",
            "session_starts_at": "2026-09-01T14:00",
            "session_place": "学生活动中心201",
        },
    )
    quiz_id = _id_from(
        trainer.post(
            f"/manage/courses/{course_id}/quizzes/new",
            data={
                "title": "结业测验",
                "pass_mark": "80",
                "max_attempts": "2",
                "time_limit_minutes": "15",
            },
        ),
        r"/manage/quizzes/(\d+)",
    )
    question = trainer.post(
        f"/manage/quizzes/{quiz_id}/questions/new",
        data=_question_form("single", [("甲", False), ("乙", True), ("丙", False)]),
    )
    course_published = trainer.post(f"/manage/courses/{course_id}/publish")
    programme_id = _id_from(
        trainer.post(
            "/manage/programmes/new",
            data={
                "code": "t-p1",
                "title": "网络思政专题培训",
                "summary": "面向专职辅导员",
                "tier": "school",
                "kind": "thematic",
                "level": "intermediate",
                "audience": "专职辅导员",
                "certificate_validity_months": "36",
            },
        ),
        r"/manage/programmes/(\d+)",
    )
    added = trainer.post(
        f"/manage/programmes/{programme_id}/courses",
        data={"course_id": str(course_id), "required": "1"},
    )
    programme_published = trainer.post(f"/manage/programmes/{programme_id}/publish")

    counselor = login("counselor1")
    catalogue = counselor.get("/programmes").get_data(as_text=True)
    enrolled = counselor.post(f"/programmes/{programme_id}/enrol")
    outline = counselor.get(f"/courses/{course_id}").get_data(as_text=True)
    lessons = _course_lessons(course_id)
    offline_page = counselor.get(f"/courses/{course_id}/lessons/{lessons[2].id}")

    assert video.status_code == 302
    assert offline.status_code == 302
    assert question.status_code == 302
    assert course_published.status_code == 302
    assert added.status_code == 302
    assert programme_published.status_code == 302
    programme = db.session.get(Programme, programme_id)
    assert programme.status is PublicationStatus.PUBLISHED
    assert programme.certificate_validity_months == 36
    assert [link.required for link in programme.courses] == [True]
    course = db.session.get(Course, course_id)
    assert course.status is PublicationStatus.PUBLISHED
    assert [each.code for each in course.competencies] == ["2.3"]
    assert [lesson.position for lesson in lessons] == [1, 2, 3]
    quiz = db.session.get(Quiz, quiz_id)
    assert (quiz.pass_mark, quiz.max_attempts, quiz.time_limit_minutes) == (80, 2, 15)
    assert [choice.is_correct for choice in quiz.questions[0].choices] == [
        False,
        True,
        False,
    ]
    assert "网络思政专题培训" in catalogue
    assert enrolled.status_code == 302
    assert "案例视频" in outline
    assert "结业测验" in outline
    assert offline_page.status_code == 200
    assert "学生活动中心201" in offline_page.get_data(as_text=True)


def test_index_lists_every_status(world, trainer):
    page = trainer.get("/manage/programmes").get_data(as_text=True)

    assert "初级辅导员岗前培训" in page
    assert "未发布项目" in page
    assert "草稿课程" in page
    assert "乙校专题培训" not in page
    assert "乙校课程" not in page


def test_nav_links_manage_for_trainer_only(world, trainer, login):
    counselor_page = login("counselor1").get("/programmes").get_data(as_text=True)
    trainer_page = trainer.get("/programmes").get_data(as_text=True)

    assert 'href="/manage/programmes"' in trainer_page
    assert 'href="/manage/programmes"' not in counselor_page


# Sanitising ---------------------------------------------------------------------


def test_lesson_html_is_sanitised_on_save(world, trainer, login):
    draft_id = _new_version(trainer, world.course2)
    _add_text_lesson(trainer, draft_id, title="安全测试", body=XSS_BODY)
    assert trainer.post(f"/manage/courses/{draft_id}/publish").status_code == 302
    lesson = _course_lessons(draft_id)[-1]
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")

    response = learner.get(f"/courses/{draft_id}/lessons/{lesson.id}")
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    for stored_or_shown in (lesson.body_html, page):
        assert "<script>alert" not in stored_or_shown
        assert "xss-script" not in stored_or_shown
        assert "onerror" not in stored_or_shown
        assert "onmouseover" not in stored_or_shown
        assert "javascript:" not in stored_or_shown
    assert "正文第一段" in page
    assert "第二段" in page


def test_saving_pasted_markup_lists_what_was_removed(world, trainer, english):
    draft_id = _new_version(trainer, world.course2)
    _add_text_lesson(
        trainer, draft_id, title="粘贴",
        body='<p><b>要点</b><span style="color:red">红字</span></p><img src="data:,x">',
    )

    page = trainer.get(f"/manage/courses/{draft_id}").get_data(as_text=True)

    assert "saved without these tags, which lessons do not keep: &lt;img&gt;, &lt;span&gt;" in page
    assert "These attributes were removed from the lesson text" not in page
    assert 'class="flash flash-warning"' in page
    assert _course_lessons(draft_id)[-1].body_html == "<p><b>要点</b>红字</p>"


def test_saving_lists_removed_attributes(world, trainer, english):
    draft_id = _new_version(trainer, world.course2)
    _add_text_lesson(
        trainer, draft_id, body='<p class="MsoNormal" style="color:red" onclick="x()">要点</p>'
    )

    page = trainer.get(f"/manage/courses/{draft_id}").get_data(as_text=True)

    assert "which keeps no styles or scripts: class, onclick, style." in page
    assert "saved without these tags" not in page


def test_supported_markup_has_no_warning(world, trainer, english):
    draft_id = _new_version(trainer, world.course2)
    _add_text_lesson(trainer, draft_id, body="<p><b>要点</b></p><table><tr><td>1</td></tr></table>")

    page = trainer.get(f"/manage/courses/{draft_id}").get_data(as_text=True)

    assert "flash-warning" not in page


def test_edit_lesson_sanitises_again(world, trainer):
    draft_id = _new_version(trainer, world.course2)
    lesson_id = _course_lessons(draft_id)[0].id

    response = trainer.post(
        f"/manage/courses/{draft_id}/lessons/{lesson_id}",
        data={
            "title": "改写",
            "kind": "text",
            "duration_minutes": "10",
            "body_html": XSS_BODY,
        },
    )

    db.session.expire_all()
    body = db.session.get(Lesson, lesson_id).body_html
    assert response.status_code == 302
    assert "<script" not in body
    assert "onerror" not in body
    assert "javascript:" not in body


def test_script_only_body_is_rejected(world, trainer):
    draft_id = _new_version(trainer, world.course2)
    response = trainer.post(
        f"/manage/courses/{draft_id}/lessons/new",
        data={
            "title": "只有脚本",
            "kind": "text",
            "duration_minutes": "10",
            "body_html": "<script>alert(1)</script>",
        },
    )

    assert response.status_code == 400
    assert "A reading lesson needs some text." in response.get_data(as_text=True)


# Validation messages --------------------------------------------------------------


def test_duplicate_programme_code_message(world, trainer):
    response = trainer.post(
        "/manage/programmes/new",
        data={
            "code": "p1",
            "title": "重复",
            "tier": "school",
            "kind": "pre_job",
            "level": "junior",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A programme with the code p1 already exists." in page
    assert 'id="code-error"' in page


def test_duplicate_course_code_message(world, trainer):
    response = trainer.post(
        "/manage/courses/new", data={"code": "c1", "title": "重复", "credit_hours": "1"}
    )

    assert response.status_code == 400
    assert "A course with the code c1 already exists." in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "Credit hours must be greater than 0."),
        ("-1", "Credit hours must be greater than 0."),
        ("two", "Credit hours must be a number, e.g. 1.5."),
        ("NaN", "Credit hours must be a number, e.g. 1.5."),
        ("-inf", "Credit hours must be a number, e.g. 1.5."),
        ("", "This field is required."),
        ("0.0001", "Credit hours take at most one decimal place, e.g. 1.5; 0.0001 has more."),
        ("1.25", "Credit hours take at most one decimal place, e.g. 1.5; 1.25 has more."),
        ("10000", "Credit hours must be at most 9999.9 with one decimal place."),
    ],
)
def test_invalid_credit_hours_message(world, trainer, hours, message):
    response = trainer.post(
        "/manage/courses/new",
        data={"code": "t-hours", "title": "学时", "credit_hours": hours},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'id="credit_hours-error"' in page
    assert db.session.scalar(sa.select(Course).filter_by(code="t-hours")) is None


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        (
            "single",
            [("甲", True), ("乙", True)],
            "A single-choice question needs exactly one correct choice; 2 are marked.",
        ),
        (
            "multiple",
            [("甲", False), ("乙", False)],
            "A multiple-choice question needs at least one correct choice.",
        ),
        (
            "true_false",
            [("正确", True), ("错误", False), ("不确定", False)],
            "A true/false question needs exactly two choices.",
        ),
        (
            "true_false",
            [("正确", False), ("错误", False)],
            "A true/false question needs exactly one correct choice.",
        ),
        ("single", [("甲", True)], "Enter at least two choices."),
        (
            "single",
            [("A", True), ("a ", False)],
            "The choice A appears more than once. Make each choice different.",
        ),
        (
            "ordering",
            [("倾听", False), ("共情", False), ("倾听", False)],
            "The item 倾听 appears more than once. Make each item different.",
        ),
    ],
)
def test_question_validation_messages(world, draft_quiz, trainer, kind, choices, message):
    response = trainer.post(
        f"/manage/quizzes/{draft_quiz}/questions/new",
        data=_question_form(kind, choices),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'id="choices-error"' in page
    assert len(db.session.get(Quiz, draft_quiz).questions) == 2


def test_pass_mark_out_of_range_message(world, trainer):
    response = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={"title": "测验", "pass_mark": "150"}
    )

    assert response.status_code == 400
    assert "Enter a number from 0 to 100." in response.get_data(as_text=True)


def test_video_link_must_be_https(world, trainer):
    draft_id = _new_version(trainer, world.course2)
    response = trainer.post(
        f"/manage/courses/{draft_id}/lessons/new",
        data={
            "title": "视频",
            "kind": "video",
            "duration_minutes": "20",
            "video_url": "http://video.example.org/1",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "starts with https://" in page
    assert 'id="video_url-error"' in page


# Access ---------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_non_authors_get_403(world, login, username):
    session = login(username)

    assert session.get("/manage/programmes").status_code == 403
    assert session.get(f"/manage/courses/{world.course1}").status_code == 403
    assert session.post(f"/manage/courses/{world.course1}/archive").status_code == 403
    assert session.post("/manage/courses/new", data={"code": "x"}).status_code == 403


def test_admin_may_author(world, login):
    admin = login("admin")

    assert admin.get("/manage/programmes").status_code == 200
    assert admin.get(f"/manage/quizzes/{world.quiz}").status_code == 200


def test_trainer_of_other_institution_gets_404(world, login):
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()
    other = login("trainer_b")
    lesson_id = world.lessons1[0]
    question_id = db.session.get(Quiz, world.quiz).questions[0].id

    urls = [
        f"/manage/programmes/{world.programme}",
        f"/manage/courses/{world.course1}",
        f"/manage/courses/{world.course1}/lessons/{lesson_id}",
        f"/manage/quizzes/{world.quiz}",
        f"/manage/quizzes/{world.quiz}/questions/{question_id}",
    ]
    for url in urls:
        assert other.get(url).status_code == 404, url
    assert (
        other.post(f"/manage/programmes/{world.programme}/archive").status_code == 404
    )
    assert (
        other.post(
            f"/manage/courses/{world.course1}/copy", data={"code": "x"}
        ).status_code
        == 404
    )
    assert (
        other.post(
            f"/manage/courses/{world.course1}/lessons/{lesson_id}/delete"
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert (
        db.session.get(Programme, world.programme).status is PublicationStatus.PUBLISHED
    )
    assert db.session.get(Lesson, lesson_id) is not None


def test_foreign_course_cannot_be_added(world, trainer):
    response = trainer.post(
        f"/manage/programmes/{world.draft}/courses",
        data={"course_id": str(world.course_b)},
    )

    db.session.expire_all()
    assert response.status_code == 302
    assert [
        link.course_id for link in db.session.get(Programme, world.draft).courses
    ] == [world.draft_course]


# Publication rules ------------------------------------------------------------------


def test_publish_empty_programme_is_rejected(world, trainer):
    programme_id = _id_from(
        trainer.post(
            "/manage/programmes/new",
            data={
                "code": "t-empty",
                "title": "空项目",
                "tier": "school",
                "kind": "online",
                "level": "junior",
            },
        ),
        r"/manage/programmes/(\d+)",
    )

    response = trainer.post(
        f"/manage/programmes/{programme_id}/publish", follow_redirects=True
    )

    db.session.expire_all()
    assert (
        "Add at least one published course before publishing the programme."
        in response.get_data(as_text=True)
    )
    assert db.session.get(Programme, programme_id).status is PublicationStatus.DRAFT


def test_publish_programme_with_draft_course_is_rejected(world, trainer):
    course_id = _create_course(trainer, code="t-draft")
    trainer.post(
        f"/manage/programmes/{world.draft}/courses", data={"course_id": str(course_id)}
    )

    response = trainer.post(
        f"/manage/programmes/{world.draft}/publish", follow_redirects=True
    )

    db.session.expire_all()
    assert "Publish these courses first: t-draft." in response.get_data(as_text=True)
    assert db.session.get(Programme, world.draft).status is PublicationStatus.DRAFT


def test_publish_course_without_lessons_is_rejected(world, trainer):
    course_id = _create_course(trainer, code="t-nolessons")

    response = trainer.post(
        f"/manage/courses/{course_id}/publish", follow_redirects=True
    )

    db.session.expire_all()
    assert "Add at least one lesson before publishing the course." in response.get_data(
        as_text=True
    )
    assert db.session.get(Course, course_id).status is PublicationStatus.DRAFT


def test_archive_and_republish_programme_audited(world, trainer, caplog):
    caplog.set_level(logging.INFO, logger="lms.courses")

    archived = trainer.post(f"/manage/programmes/{world.programme}/archive")
    republished = trainer.post(f"/manage/programmes/{world.programme}/publish")
    again = trainer.post(
        f"/manage/programmes/{world.programme}/publish", follow_redirects=True
    )

    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .filter_by(subject_type="programme", subject_id=world.programme)
        .order_by(AuditEntry.id)
    ).all()
    assert archived.status_code == 302
    assert republished.status_code == 302
    assert "This programme is already published." in again.get_data(as_text=True)
    assert actions == ["programme.archived", "programme.published"]
    assert "Programme <Programme" in caplog.text
    assert "archived by <User" in caplog.text


def test_archived_programme_leaves_catalogue(world, trainer, login):
    trainer.post(f"/manage/programmes/{world.programme}/archive")

    page = login("counselor1").get("/programmes").get_data(as_text=True)

    assert "初级辅导员岗前培训" not in page


# Editing safety ---------------------------------------------------------------------


def test_published_lesson_cannot_be_deleted(world, trainer, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    lesson_id = world.lessons1[0]
    learner.get(f"/courses/{world.course1}/lessons/{lesson_id}")
    learner.post(f"/courses/{world.course1}/lessons/{lesson_id}/complete")

    response = trainer.post(
        f"/manage/courses/{world.course1}/lessons/{lesson_id}/delete",
        follow_redirects=True,
    )

    db.session.expire_all()
    assert "Create a new version" in response.get_data(as_text=True)
    assert db.session.get(Lesson, lesson_id) is not None


def test_lessons_reorder_and_delete(world, trainer):
    draft_id = _new_version(trainer, world.course1)
    first, second = (lesson.id for lesson in _course_lessons(draft_id))

    moved = trainer.post(
        f"/manage/courses/{draft_id}/lessons/{second}/move",
        data={"direction": "up"},
    )
    order = [lesson.id for lesson in _course_lessons(draft_id)]
    deleted = trainer.post(f"/manage/courses/{draft_id}/lessons/{second}/delete")
    remaining = [(lesson.id, lesson.position) for lesson in _course_lessons(draft_id)]

    assert moved.status_code == 302
    assert order == [second, first]
    assert deleted.status_code == 302
    assert remaining == [(first, 1)]



def test_lesson_delete_goes_through_confirmation(world, trainer):
    draft_id = _new_version(trainer, world.course1)
    lesson = _course_lessons(draft_id)[0]
    delete_url = f"/manage/courses/{draft_id}/lessons/{lesson.id}/delete"

    editor = trainer.get(f"/manage/courses/{draft_id}").get_data(as_text=True)
    confirm = trainer.get(delete_url)

    page = confirm.get_data(as_text=True)
    assert f'href="{delete_url}"' in editor
    assert f'action="{delete_url}"' not in editor
    assert confirm.status_code == 200
    assert lesson.title in page
    assert "This cannot be undone." in page
    assert f'action="{delete_url}"' in page
    assert db.session.get(Lesson, lesson.id) is not None


def test_lesson_confirmation_of_published_course_explains(world, trainer):
    lesson_id = world.lessons1[0]

    delete_url = f"/manage/courses/{world.course1}/lessons/{lesson_id}/delete"

    response = trainer.get(delete_url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Create a new version" in page
    assert f'action="{delete_url}"' not in page

def test_answered_question_is_locked(world, trainer, login):
    learner = login("counselor1")
    learner.post(f"/programmes/{world.programme}/enrol")
    start = learner.post(f"/quizzes/{world.quiz}/start")
    attempt_id = _id_from(start, r"/attempts/(\d+)")
    learner.post(f"/attempts/{attempt_id}/submit", data={})
    question_id = db.session.get(Quiz, world.quiz).questions[0].id

    edit = trainer.post(
        f"/manage/quizzes/{world.quiz}/questions/{question_id}",
        data=_question_form("single", [("甲", True), ("乙", False)]),
    )
    delete = trainer.post(
        f"/manage/quizzes/{world.quiz}/questions/{question_id}/delete",
        follow_redirects=True,
    )

    db.session.expire_all()
    assert edit.status_code == 400
    assert "The course of this quiz is not a draft" in edit.get_data(as_text=True)
    assert "The course of this quiz is not a draft" in delete.get_data(as_text=True)
    assert db.session.get(Question, question_id).text == "第1题"


def test_published_quiz_settings_locked_except_schedule(world, trainer):
    page = trainer.get(f"/manage/quizzes/{world.quiz}").get_data(as_text=True)
    assert "only the opening and closing times can change" in page
    assert f"/manage/quizzes/{world.quiz}/questions/new" not in page

    values = _quiz_values(world)
    changed = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, "pass_mark": "80"}
    )
    rescheduled = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, "closes_at": f"{datetime.now(UTC).year + 1}-12-31T18:00"}
    )

    db.session.expire_all()
    quiz = db.session.get(Quiz, world.quiz)
    assert changed.status_code == 400
    assert "only the opening and closing times can change" in changed.get_data(as_text=True)
    assert quiz.pass_mark == 60
    assert rescheduled.status_code == 302
    assert quiz.closes_at is not None


def test_published_quiz_rejects_new_question_and_draw(world, trainer):
    new = trainer.post(
        f"/manage/quizzes/{world.quiz}/questions/new",
        data=_question_form("single", [("甲", True), ("乙", False)]),
    )

    db.session.expire_all()
    assert new.status_code == 400
    assert "The course of this quiz is not a draft" in new.get_data(as_text=True)
    assert len(db.session.get(Quiz, world.quiz).questions) == 2


def test_unanswered_question_edit_and_delete(world, draft_quiz, trainer):
    quiz = db.session.get(Quiz, draft_quiz)
    first_id, second_id = (question.id for question in quiz.questions)

    edit = trainer.post(
        f"/manage/quizzes/{draft_quiz}/questions/{second_id}",
        data=_question_form("true_false", [("正确", True), ("错误", False)]),
    )
    delete = trainer.post(f"/manage/quizzes/{draft_quiz}/questions/{first_id}/delete")

    db.session.expire_all()
    questions = db.session.get(Quiz, draft_quiz).questions
    assert edit.status_code == 302
    assert delete.status_code == 302
    assert [(question.id, question.position) for question in questions] == [
        (second_id, 1)
    ]
    # True/false is stored as data and labelled in the reader's language.
    assert [choice.text for choice in questions[0].choices] == ["true", "false"]


def test_enrolled_programme_course_removal_rejected(world, trainer, login):
    login("counselor1").post(f"/programmes/{world.programme}/enrol")
    link_id = db.session.get(Programme, world.programme).courses[0].id

    response = trainer.post(
        f"/manage/programmes/{world.programme}/courses/{link_id}/remove",
        follow_redirects=True,
    )

    db.session.expire_all()
    assert "Learners are enrolled in this programme" in response.get_data(as_text=True)
    assert len(db.session.get(Programme, world.programme).courses) == 2


# Copies -------------------------------------------------------------------------------


def test_copy_course_creates_independent_draft(world, trainer):
    response = trainer.post(
        f"/manage/courses/{world.course1}/copy", data={"code": "c1-2027"}
    )
    copy_id = _id_from(response, r"/manage/courses/(\d+)")
    copy_lesson = _course_lessons(copy_id)[0]
    trainer.post(
        f"/manage/courses/{copy_id}/lessons/{copy_lesson.id}",
        data={
            "title": "新版第一课",
            "kind": "text",
            "duration_minutes": "30",
            "body_html": "<p>新</p>",
        },
    )

    db.session.expire_all()
    copy = db.session.get(Course, copy_id)
    original = db.session.get(Course, world.course1)
    copy_quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=copy_id))
    assert copy.status is PublicationStatus.DRAFT
    assert copy.code == "c1-2027"
    assert copy.lessons[0].title == "新版第一课"
    assert original.lessons[0].title == "c1 第1课"
    assert copy_quiz is not None
    assert copy_quiz.id != world.quiz
    assert len(copy_quiz.questions) == 2


def test_copy_programme_creates_draft(world, trainer):
    response = trainer.post(
        f"/manage/programmes/{world.programme}/copy", data={"code": "p1-2027"}
    )
    copy_id = _id_from(response, r"/manage/programmes/(\d+)")

    db.session.expire_all()
    copy = db.session.get(Programme, copy_id)
    assert copy.status is PublicationStatus.DRAFT
    assert [link.course_id for link in copy.courses] == [world.course1, world.course2]


def test_copy_with_taken_code_is_rejected(world, trainer):
    response = trainer.post(
        f"/manage/programmes/{world.programme}/copy",
        data={"code": "p-draft"},
        follow_redirects=True,
    )

    assert "The code p-draft is already in use." in response.get_data(as_text=True)


def test_draw_categories_name_bank_once(world, draft_quiz, trainer):
    from assessments import banks
    from lms.accounts.models import User

    author = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "规定题库"}, author)
    top = bank.categories[0]
    banks.create_category(bank, {"name": "第一章", "parent_id": str(top.id)}, author)
    renamed = banks.create_bank(world.uni_a, {"name": "旧题库"}, author)
    renamed.name = "新题库"
    db.session.commit()

    page = trainer.get(f"/manage/quizzes/{draft_quiz}").get_data(as_text=True)

    assert "规定题库: 规定题库" not in page
    assert ">规定题库 (0)</option>" in page
    assert ">规定题库 / 第一章 (0)</option>" in page
    assert ">新题库: 旧题库 (0)</option>" in page


def test_bank_question_kind_punctuation_in_chinese(world, draft_quiz, login):
    from assessments import banks
    from lms.accounts.models import User

    author = db.session.get(User, world.trainer)
    bank = banks.create_bank(world.uni_a, {"name": "规定题库"}, author)
    question = banks.save_bank_question(
        bank.categories[0], {"kind": "essay", "text": "谈谈谈心谈话的要点。", "points": "5"}, author
    )
    db.session.commit()
    path = question.category.path

    page = login("trainer").get(f"/manage/quizzes/{draft_quiz}/bank-questions")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"（论述题，{path}）" in text
    assert f", {path})" not in text


def _quiz_values(world) -> dict:
    """Return the quiz form of the world's quiz as the edit page fills it in."""
    return {
        name: str(value)
        for name, value in quiz_authoring.quiz_form_values(
            db.session.get(Quiz, world.quiz)
        ).items()
    }


@pytest.mark.parametrize(("field", "label"), [("opens_at", "Opens at"), ("closes_at", "Closes at")])
def test_quiz_schedule_out_of_range_message(world, trainer, field, label):
    values = _quiz_values(world)

    response = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, field: "0001-01-01T00:00"}
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="{field}-error">{label}: 0001-01-01 00:00'
        " is not a plausible date. Enter a date and time from 2000-01-01 00:00 to "
    ) in page
    assert "1900-01-01" not in page
    assert f'id="{field}" name="{field}" value="0001-01-01T00:00"' in page
    assert f'value="{values["title"]}"' in page
    db.session.expire_all()
    assert getattr(db.session.get(Quiz, world.quiz), field) is None


def test_lesson_start_out_of_range_message(world, trainer):
    course_id = _create_course(trainer)

    response = trainer.post(
        f"/manage/courses/{course_id}/lessons/new",
        data={
            "title": "面授研讨",
            "kind": "offline",
            "duration_minutes": "120",
            "session_starts_at": "9999-12-31T23:59",
            "session_place": "学生活动中心201",
        },
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        'id="session_starts_at-error">Date and time: 9999-12-31 23:59 is not a'
        " plausible date. Enter a date and time from 2000-01-01 00:00 to "
    ) in page
    assert "9999-12-30" not in page
    assert _course_lessons(course_id) == []


@pytest.mark.parametrize(("field", "label"), [("opens_at", "Opens at"), ("closes_at", "Closes at")])
def test_quiz_schedule_far_ahead_rejected(world, trainer, field, label):
    values = _quiz_values(world)

    response = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, field: "2999-01-01T09:00"}
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        f'id="{field}-error">{label}: 2999-01-01 09:00 is not a plausible date. '
        "Enter a date and time from 2000-01-01 00:00 to "
    ) in page
    db.session.expire_all()
    assert getattr(db.session.get(Quiz, world.quiz), field) is None


def test_lesson_start_far_ahead_rejected(world, trainer):
    course_id = _create_course(trainer)

    response = trainer.post(
        f"/manage/courses/{course_id}/lessons/new",
        data={
            "title": "面授研讨",
            "kind": "offline",
            "duration_minutes": "120",
            "session_starts_at": "2999-01-01T09:00",
            "session_place": "学生活动中心201",
        },
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        'id="session_starts_at-error">Date and time: 2999-01-01 09:00 is not a '
        "plausible date."
    ) in page
    assert "(five years after today)" in page
    assert 'value="2999-01-01T09:00"' in page
    assert _course_lessons(course_id) == []


def test_quiz_closing_time_in_past_rejected(world, trainer):
    quiz = db.session.get(Quiz, world.quiz)
    values = {
        name: str(value)
        for name, value in quiz_authoring.quiz_form_values(quiz).items()
    }

    moved = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, "closes_at": "2020-01-01T10:00"}
    )

    page = moved.get_data(as_text=True)
    assert moved.status_code == 400
    assert "The closing time 2020-01-01 10:00 has already passed." in page
    assert "or leave it empty so the quiz stays open" in page
    db.session.expire_all()
    assert db.session.get(Quiz, world.quiz).closes_at is None


def test_quiz_closing_time_in_past_named_as_its_field_in_chinese(world, login):
    quiz = db.session.get(Quiz, world.quiz)
    values = {
        name: str(value)
        for name, value in quiz_authoring.quiz_form_values(quiz).items()
    }

    moved = login("trainer").post(
        f"/manage/quizzes/{world.quiz}", data={**values, "closes_at": "2020-01-01T10:00"}
    )

    page = moved.get_data(as_text=True)
    assert "截止时间 2020/1/1 10:00 已经过去。" in page
    assert "关闭时间" not in page
    assert "2020-01-01T10:00 已经过去" not in page


def test_closed_quiz_saves_unchanged_closing(world, trainer):
    quiz = db.session.get(Quiz, world.quiz)
    quiz.closes_at = datetime(2020, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    db.session.commit()
    values = {
        name: str(value)
        for name, value in quiz_authoring.quiz_form_values(quiz).items()
    }

    saved = trainer.post(f"/manage/quizzes/{world.quiz}", data={**values})

    assert values["closes_at"] == "2020-01-01T10:00"
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Quiz, world.quiz).closes_at == datetime(2020, 1, 1, 2, 0, tzinfo=UTC)


def _elective_only_programme(trainer, world) -> int:
    """Create a draft programme whose one course is elective; return its id."""
    programme_id = _id_from(
        trainer.post(
            "/manage/programmes/new",
            data={
                "code": "t-nothing",
                "title": "无要求项目",
                "tier": "school",
                "kind": "online",
                "level": "junior",
            },
        ),
        r"/manage/programmes/(\d+)",
    )
    added = trainer.post(
        f"/manage/programmes/{programme_id}/courses",
        data={"course_id": str(world.course1)},
    )
    assert added.status_code == 302
    return programme_id


PROGRAMME_FIELDS = {
    "code": "t-nothing",
    "title": "无要求项目",
    "tier": "school",
    "kind": "online",
    "level": "junior",
}


def test_publish_programme_requiring_nothing_is_rejected(world, trainer):
    programme_id = _elective_only_programme(trainer, world)

    response = trainer.post(
        f"/manage/programmes/{programme_id}/publish", follow_redirects=True
    )

    text = response.get_data(as_text=True)
    db.session.expire_all()
    assert "would require nothing to complete" in text
    assert "required for completion" in text
    assert "minimum elective hours above 0" in text
    assert db.session.get(Programme, programme_id).status is PublicationStatus.DRAFT


def test_publish_programme_with_elective_minimum(world, trainer):
    programme_id = _elective_only_programme(trainer, world)
    saved = trainer.post(
        f"/manage/programmes/{programme_id}",
        data={**PROGRAMME_FIELDS, "min_elective_hours": "2"},
    )
    assert saved.status_code == 302

    published = trainer.post(f"/manage/programmes/{programme_id}/publish")

    db.session.expire_all()
    assert published.status_code == 302
    assert db.session.get(Programme, programme_id).status is PublicationStatus.PUBLISHED


def test_published_programme_cannot_drop_its_only_rule(world, trainer):
    programme_id = _elective_only_programme(trainer, world)
    trainer.post(
        f"/manage/programmes/{programme_id}",
        data={**PROGRAMME_FIELDS, "min_elective_hours": "2"},
    )
    trainer.post(f"/manage/programmes/{programme_id}/publish")

    response = trainer.post(
        f"/manage/programmes/{programme_id}",
        data={**PROGRAMME_FIELDS, "min_elective_hours": "0"},
    )

    db.session.expire_all()
    assert response.status_code == 400
    assert "would require nothing to complete" in response.get_data(as_text=True)
    assert db.session.get(Programme, programme_id).min_elective_hours == 2


def test_existing_programme_requiring_nothing_still_renders(world, trainer, login):
    programme = db.session.get(Programme, world.programme)
    for link in programme.courses:
        link.required = False
    programme.min_elective_hours = 0
    db.session.commit()

    manage = trainer.get(f"/manage/programmes/{world.programme}")
    catalogue = login("counselor1").get(f"/programmes/{world.programme}")

    assert manage.status_code == 200
    assert catalogue.status_code == 200


def test_review_after_close_needs_closing_time(world, trainer):
    values = _quiz_values(world)

    response = trainer.post(
        f"/manage/quizzes/{world.quiz}",
        data={**values, "closes_at": "", "review_correct": "after_close"},
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert (
        'id="review_correct-error">Correct answers: the quiz has no closing time, so '
        "“Only after the quiz closes” would never show it."
    ) in page
    db.session.expire_all()
    assert db.session.get(Quiz, world.quiz).review_correct.value == values["review_correct"]


def test_closing_time_kept_for_review_after_close(world, trainer):
    quiz = db.session.get(Quiz, world.quiz)
    quiz.review_correct = ReviewTiming.AFTER_CLOSE
    db.session.commit()
    values = _quiz_values(world)

    cleared = trainer.post(f"/manage/quizzes/{world.quiz}", data={**values, "closes_at": ""})
    closing = trainer.post(
        f"/manage/quizzes/{world.quiz}", data={**values, "closes_at": "2030-01-01T09:00"}
    )

    assert cleared.status_code == 400
    assert 'id="review_correct-error">Correct answers: the quiz has no closing time' in (
        cleared.get_data(as_text=True)
    )
    assert closing.status_code == 302
    db.session.expire_all()
    assert db.session.get(Quiz, world.quiz).closes_at is not None


def test_quiz_page_links_to_question_delete_confirmation(world, draft_quiz, trainer):
    first_id = db.session.get(Quiz, draft_quiz).questions[0].id
    delete_url = f"/manage/quizzes/{draft_quiz}/questions/{first_id}/delete"

    page = trainer.get(f"/manage/quizzes/{draft_quiz}").get_data(as_text=True)

    assert f'href="{delete_url}"' in page
    assert f'action="{delete_url}"' not in page


def test_question_delete_confirmation_deletes_nothing(world, draft_quiz, trainer):
    question = db.session.get(Quiz, draft_quiz).questions[0]
    question_id, text = question.id, question.text
    delete_url = f"/manage/quizzes/{draft_quiz}/questions/{question_id}/delete"

    response = trainer.get(delete_url)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert text in page
    assert "This cannot be undone." in page
    assert f'action="{delete_url}"' in page
    db.session.expire_all()
    assert db.session.get(Question, question_id) is not None


def test_question_delete_confirmation_explains_published_quiz(world, trainer):
    question_id = db.session.get(Quiz, world.quiz).questions[0].id

    response = trainer.get(f"/manage/quizzes/{world.quiz}/questions/{question_id}/delete")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="delete-problem"' in page
    assert "action=\"/manage/quizzes/" not in page.split('id="delete-problem"')[1]
