"""Catalogue, enrolment, course outline and lessons through real logins."""

import re
from decimal import Decimal

import sqlalchemy as sa
from flask import url_for

from courses import learning
from courses.models import Course, CourseCompletion, Enrolment, LessonProgress, Programme
from lms.accounts.models import Post
from lms.extensions import db
from tests.conftest import count
from tests.factories import correct_answers


def _english(session):
    """Switch a logged-in session to English so translated labels are predictable."""
    session.post("/language/en")
    return session


def _enrol(session, world):
    response = session.post(f"/programmes/{world.programme}/enrol")
    assert response.status_code == 302
    return response


def _finish_lessons(session, course_id, lesson_ids):
    for lesson_id in lesson_ids:
        session.get(f"/courses/{course_id}/lessons/{lesson_id}")
        response = session.post(f"/courses/{course_id}/lessons/{lesson_id}/complete")
        assert response.status_code == 302


def _pass_quiz(session, world):
    from assessments.models import Quiz

    quiz = db.session.get(Quiz, world.quiz)
    response = session.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302
    attempt_url = response.headers["Location"]
    attempt_id = int(re.search(r"/attempts/(\d+)", attempt_url).group(1))
    response = session.post(
        f"/attempts/{attempt_id}/submit", data=correct_answers(quiz)
    )
    assert response.status_code == 302
    return attempt_id


# Catalogue and programme pages --------------------------------------------


def test_catalogue_lists_own_published_programmes(world, login):
    page = login("counselor1").get("/programmes").get_data(as_text=True)

    assert "初级辅导员岗前培训" in page
    assert "未发布项目" not in page
    assert "乙校专题培训" not in page


def test_catalogue_shows_translated_labels(world, login):
    session = _english(login("counselor1"))
    page = session.get("/programmes").get_data(as_text=True)

    assert "School level" in page
    assert "Pre-job training" in page
    assert "Junior" in page
    assert "3.5" in page  # 2 + 1.5 credit hours


def test_programme_of_other_institution_is_404(world, login):
    counselor = login("counselor1")

    assert counselor.get(f"/programmes/{world.programme_b}").status_code == 404
    assert counselor.post(f"/programmes/{world.programme_b}/enrol").status_code == 404
    assert login("trainer").get(f"/programmes/{world.programme_b}").status_code == 404


def test_draft_programme_is_404_for_learners(world, login):
    counselor = login("counselor1")

    assert counselor.get(f"/programmes/{world.draft}").status_code == 404
    assert counselor.post(f"/programmes/{world.draft}/enrol").status_code == 404
    assert count(Enrolment) == 0
    assert login("trainer").get(f"/programmes/{world.draft}").status_code == 200


def test_programme_page_offers_enrol_button(world, login):
    page = (
        login("counselor1").get(f"/programmes/{world.programme}").get_data(as_text=True)
    )

    assert f'action="/programmes/{world.programme}/enrol"' in page
    assert "心理危机识别" in page
    assert "学生资助政策" in page


def test_staff_see_no_enrol_button(world, login):
    page = login("hr").get(f"/programmes/{world.programme}").get_data(as_text=True)

    assert "/enrol" not in page


def test_programme_course_started_by_quiz(world, login):
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    response = counselor.post(f"/quizzes/{world.quiz}/start")
    assert response.status_code == 302

    page = counselor.get(f"/programmes/{world.programme}").get_data(as_text=True)

    rows = page.split("<h2>Courses</h2>")[1].split("<tr>")
    course1_row = next(row for row in rows if "心理危机识别" in row)
    course2_row = next(row for row in rows if "学生资助政策" in row)
    assert "In progress" in course1_row
    assert "Not started" in course2_row


def test_unknown_programme_is_404(world, login):
    counselor = login("counselor1")

    assert counselor.get("/programmes/999999").status_code == 404
    assert counselor.get("/programmes/99999999999999999999999").status_code == 404


# Enrolment ---------------------------------------------------------------


def test_enrol_creates_one_enrolment(world, login):
    counselor = login("counselor1")

    first = _enrol(counselor, world)
    second = _enrol(counselor, world)

    assert first.headers["Location"].endswith(f"/programmes/{world.programme}")
    assert second.headers["Location"].endswith(f"/programmes/{world.programme}")
    assert count(Enrolment) == 1
    page = counselor.get(f"/programmes/{world.programme}").get_data(as_text=True)
    assert "/enrol" not in page


def test_enrol_rejects_staff(world, login):
    response = login("hr").post(f"/programmes/{world.programme}/enrol")

    assert response.status_code == 403
    assert count(Enrolment) == 0


def test_enrol_requires_csrf_token(world, login):
    counselor = login("counselor1")

    response = counselor.client.post(f"/programmes/{world.programme}/enrol")

    assert response.status_code == 400
    assert count(Enrolment) == 0


def test_guest_is_sent_to_login(world, client):
    for url in ["/learning", "/programmes", f"/courses/{world.course1}"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"], url


# My learning -------------------------------------------------------------


def test_my_learning_without_enrolment_points_to_catalogue(world, login):
    page = login("counselor1").get("/learning").get_data(as_text=True)

    assert 'href="/programmes"' in page
    # The programme is offered for the post, but no progress card shows it.
    assert f'action="/programmes/{world.programme}/enrol"' in page
    assert "<progress" not in page


def test_my_learning_is_for_learners_only(world, login):
    assert login("hr").get("/learning").status_code == 403
    assert login("organiser").get("/learning").status_code == 200


def _seed_rules():
    from lms.compliance.seed import seed_rules

    seed_rules()
    db.session.commit()


def _this_year() -> int:
    from lms.accounts.models import Post, User
    from lms.records.services import current_year

    return current_year(db.session.scalar(sa.select(User).filter_by(username="counselor1")))


def test_my_learning_shows_progress_and_next_lesson(world, login):
    _seed_rules()
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _finish_lessons(counselor, world.course1, world.lessons1[:1])

    page = counselor.get("/learning").get_data(as_text=True)

    assert "初级辅导员岗前培训" in page
    assert "0 of 2 completed" in page
    next_url = f"/courses/{world.course1}/lessons/{world.lessons1[1]}"
    assert f'href="{next_url}"' in page
    year = _this_year()
    assert (
        f"0 of 16 school-level hours (not counting pre-job training) in {year};"
        f" 16 missing by {year}-12-31."
    ) in page


def test_my_learning_counts_completed_course_hours(world, login):
    _seed_rules()
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _finish_lessons(counselor, world.course1, world.lessons1)
    _pass_quiz(counselor, world)

    page = counselor.get("/learning").get_data(as_text=True)

    assert "1 of 2 completed" in page
    assert "2 of 3.5 earned" in page
    year = _this_year()
    # The course is pre-job training, which the in-service rule leaves out.
    assert (
        f"0 of 16 school-level hours (not counting pre-job training) in {year};"
        f" 16 missing by {year}-12-31."
    ) in page
    next_url = f"/courses/{world.course2}/lessons/{world.lessons2[0]}"
    assert f'href="{next_url}"' in page


# Course outline ----------------------------------------------------------


def test_course_requires_enrolment(world, login):
    counselor = login("counselor1")

    assert counselor.get(f"/courses/{world.course1}").status_code == 404
    lesson_url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}"
    assert counselor.get(lesson_url).status_code == 404
    assert counselor.post(f"{lesson_url}/complete").status_code == 404
    assert count(LessonProgress) == 0


def test_course_visible_to_staff_of_same_institution(world, login):
    assert login("trainer").get(f"/courses/{world.course1}").status_code == 200
    assert login("hr").get(f"/courses/{world.course1}").status_code == 200
    assert login("hr_b").get(f"/courses/{world.course1}").status_code == 404


def test_course_outline_lists_lessons_quiz_and_competencies(world, login):
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)

    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)

    for lesson_id in world.lessons1:
        assert f'href="/courses/{world.course1}/lessons/{lesson_id}"' in page
    assert f'href="/quizzes/{world.quiz}"' in page
    assert "Not attempted" in page
    assert "心理健康教育与咨询工作" in page
    assert "<td>Junior</td>" in page
    assert "<td>初级</td>" not in page
    assert "识别并转介心理危机学生" in page
    assert "Finish 2 lessons" in page
    assert "Pass 1 quiz" in page


def test_course_competency_level_in_chinese(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)

    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)

    assert "<td>初级</td>" in page


def test_course_competency_level_without_label(world, login):
    course = db.session.get(Course, world.course1)
    level = course.competencies[0].level
    level.code = "expert"
    level.name = "专家级"
    db.session.commit()
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)

    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)

    assert "<td>专家级</td>" in page


def test_course_missing_list_shrinks_as_lessons_finish(world, login):
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _finish_lessons(counselor, world.course1, world.lessons1[:1])

    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)

    assert "Finish 1 lesson" in page
    assert "Pass 1 quiz" in page
    assert "1 of 2 finished" in page


# Lessons -----------------------------------------------------------------


def test_lesson_page_renders_body_and_navigation(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)
    first, second = world.lessons1

    page = counselor.get(f"/courses/{world.course1}/lessons/{first}").get_data(
        as_text=True
    )

    assert "<p>c1 第1课的正文</p>" in page
    assert f'href="/courses/{world.course1}/lessons/{second}"' in page
    assert f'action="/courses/{world.course1}/lessons/{first}/complete"' in page


def test_lesson_of_another_course_is_404(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)
    foreign_lesson = world.lessons2[0]

    url = f"/courses/{world.course1}/lessons/{foreign_lesson}"
    assert counselor.get(url).status_code == 404
    assert counselor.post(f"{url}/complete").status_code == 404
    assert count(LessonProgress) == 0


def test_complete_lesson_is_idempotent(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)
    first, second = world.lessons1
    url = f"/courses/{world.course1}/lessons/{first}/complete"
    counselor.get(f"/courses/{world.course1}/lessons/{first}")

    responses = [counselor.post(url) for _ in range(3)]

    assert count(LessonProgress) == 1
    for response in responses:
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/lessons/{second}")


def test_complete_last_lesson_returns_to_course(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)
    last = world.lessons1[-1]
    counselor.get(f"/courses/{world.course1}/lessons/{last}")

    response = counselor.post(f"/courses/{world.course1}/lessons/{last}/complete")

    assert response.headers["Location"].endswith(f"/courses/{world.course1}")


def test_complete_lesson_rejects_staff(world, login):
    url = f"/courses/{world.course1}/lessons/{world.lessons1[0]}/complete"

    assert login("trainer").post(url).status_code == 403
    assert count(LessonProgress) == 0


# Completion --------------------------------------------------------------


def test_lessons_alone_do_not_complete_course(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)

    _finish_lessons(counselor, world.course1, world.lessons1)

    assert count(CourseCompletion) == 0


def test_one_hour_course_completion_singular(world, login):
    db.session.get(Course, world.course1).credit_hours = Decimal(1)
    db.session.commit()
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _pass_quiz(counselor, world)

    _finish_lessons(counselor, world.course1, world.lessons1)

    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)
    assert "You completed this course and earned 1 hour." in page


def test_quiz_alone_does_not_complete_course(world, login):
    counselor = login("counselor1")
    _enrol(counselor, world)

    _pass_quiz(counselor, world)

    assert count(CourseCompletion) == 0


def test_lessons_and_quiz_complete_course(world, login):
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _pass_quiz(counselor, world)

    _finish_lessons(counselor, world.course1, world.lessons1)

    assert count(CourseCompletion) == 1
    page = counselor.get(f"/courses/{world.course1}").get_data(as_text=True)
    assert "You completed this course and earned 2 hours." in page
    assert "to finish" not in page


def test_programme_completion_sets_completed_at(app, world, login):
    counselor = _english(login("counselor1"))
    _enrol(counselor, world)
    _finish_lessons(counselor, world.course1, world.lessons1)
    _pass_quiz(counselor, world)

    db.session.expire_all()
    enrolment = db.session.scalar(sa.select(Enrolment))
    assert enrolment.completed_at is None

    _finish_lessons(counselor, world.course2, world.lessons2)

    db.session.expire_all()
    enrolment = db.session.scalar(sa.select(Enrolment))
    assert enrolment.completed_at is not None
    with app.test_request_context():
        certificates_url = url_for("certificates.mine")
    page = counselor.get(f"/courses/{world.course2}").get_data(as_text=True)
    assert "You completed the programme 初级辅导员岗前培训." in page
    assert f'href="{certificates_url}"' in page
    learning = counselor.get("/learning").get_data(as_text=True)
    assert "Programme completed" in learning


def test_page_language_follows_choice(world, login):
    counselor = login("counselor1")

    default_page = counselor.get("/programmes").get_data(as_text=True)
    _english(counselor)
    english_page = counselor.get("/programmes").get_data(as_text=True)

    assert '<html lang="zh-CN">' in default_page
    assert 'action="/language/en"' in default_page
    assert '<html lang="en">' in english_page
    assert 'action="/language/zh_CN"' in english_page


# Programmes for the learner's post ----------------------------------------------


def _programme(world) -> Programme:
    return db.session.get(Programme, world.programme)


def test_audience_posts_decide_over_free_text(world):
    programme = _programme(world)
    programme.audience = "专职辅导员"
    programme.audience_posts = [Post.PARTY_ORGANISER.value]

    assert learning.audience_includes(programme, Post.PARTY_ORGANISER)
    assert not learning.audience_includes(programme, Post.FULL_TIME_COUNSELOR)
    assert not learning.audience_includes(programme, None)


def test_free_text_audience_when_no_posts(world):
    programme = _programme(world)
    programme.audience = "入职三年以上的专职辅导员"
    programme.audience_posts = []

    assert learning.audience_includes(programme, Post.FULL_TIME_COUNSELOR)
    assert not learning.audience_includes(programme, Post.PART_TIME_COUNSELOR)


def test_my_learning_lists_programme_by_posts(world, login):
    programme = _programme(world)
    programme.audience = ""
    programme.audience_posts = [Post.FULL_TIME_COUNSELOR.value]
    db.session.commit()

    counselor = login("counselor1").get("/learning").get_data(as_text=True)
    organiser = login("organiser").get("/learning").get_data(as_text=True)

    assert f"/programmes/{world.programme}/enrol" in counselor
    assert f"/programmes/{world.programme}/enrol" not in organiser
