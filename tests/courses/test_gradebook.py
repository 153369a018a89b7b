"""The course gradebook: the learners each viewer gets, cells, filters, paging, downloads."""

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from assessments import services as quiz_services
from assessments.models import Attempt, GradingMethod, Question, QuestionKind, Quiz
from assessments.tasks_models import TaskSubmission
from courses import classes, gradebook
from courses import services as course_services
from courses.class_models import ClassStatus, EnrolmentMode, TrainingClass
from courses.models import CourseCompletion
from lms.accounts.models import Role, User
from lms.organisations.models import Institution
from lms.extensions import db
from tests.factories import (
    finish_lesson,
    make_course,
    make_department,
    make_institution,
    make_programme,
    make_quiz,
    make_rubric,
    make_task,
    make_user,
)


def make_essay_quiz(course) -> Quiz:
    quiz = Quiz(course_id=course.id, title="论述题测验", pass_mark=60, max_attempts=None)
    quiz.questions.append(
        Question(position=1, kind=QuestionKind.ESSAY, text="谈谈谈心谈话。", points=Decimal(5))
    )
    db.session.add(quiz)
    db.session.flush()
    return quiz


def submit(user, quiz, answers) -> int:
    attempt = quiz_services.start_attempt(user, quiz)
    quiz_services.submit_attempt(attempt, answers)
    return attempt.id


def right(quiz) -> dict:
    return {q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions}


def wrong(quiz) -> dict:
    return {q.id: {next(c.id for c in q.choices if not c.is_correct)} for q in quiz.questions}


def build_world():
    """Add a course with two quizzes, a task, three learners and the staff around them.

    - 张三 (教育学院, E001) is a member of a class that offers the course
      alone and that ``trainer2`` trains; he passed the choice quiz and
      completed the course.
    - 李四 (物理学院, E002) is enrolled through a programme; he failed the
      choice quiz, his essay waits for a grade and his task for a score.
    - 王五 (教育学院, E003) is enrolled through the programme and has done nothing.
    """
    uni = make_institution("uni-a", "甲大学")
    other_uni = make_institution("uni-b", "乙大学")
    edu = make_department(uni, "edu", "教育学院")
    phy = make_department(uni, "phy", "物理学院")
    author = make_user(uni, "author", Role.TRAINER, full_name="赵作者")
    trainer2 = make_user(uni, "trainer2", Role.TRAINER, full_name="钱班主任")
    make_user(uni, "stranger", Role.TRAINER, full_name="孙旁人")
    make_user(uni, "admin", Role.ADMIN, full_name="周管理员")
    make_user(uni, "hr", Role.HR, full_name="吴人事")
    make_user(other_uni, "admin_b", Role.ADMIN, full_name="郑管理员")

    course = make_course(uni, "gb", title="谈心谈话实务", hours="2", lessons=2, author=author)
    quiz = make_quiz(course, pass_mark=60)
    essay = make_essay_quiz(course)
    task = make_task(course, make_rubric(uni), author)
    programme = make_programme(uni, "p-gb", [course], author=author)

    zhang = make_user(uni, "zhang", full_name="张三", department=edu)
    li = make_user(uni, "li", full_name="李四", department=phy)
    wang = make_user(uni, "wang", full_name="王五", department=edu)
    zhang.employee_no, li.employee_no, wang.employee_no = "E001", "E002", "E003"
    make_user(uni, "outsider", full_name="陈局外", department=edu)

    training_class = TrainingClass(
        institution_id=uni.id,
        code="gb-class",
        title="谈心谈话专题班",
        course_id=course.id,
        starts_on=date(2026, 9, 1),
        ends_on=date.today() + timedelta(days=60),
        enrolment_mode=EnrolmentMode.ASSIGNED,
        status=ClassStatus.OPEN,
    )
    training_class.trainers = [trainer2]
    db.session.add(training_class)
    db.session.flush()
    classes.add_member(training_class, zhang, by=trainer2)
    course_services.enrol(li, programme)
    course_services.enrol(wang, programme)

    zhang_attempt = submit(zhang, quiz, right(quiz))
    for lesson in course.lessons:
        finish_lesson(zhang, lesson)
    db.session.add(
        CourseCompletion(
            user_id=zhang.id,
            course_id=course.id,
            completed_at=datetime(2026, 10, 8, 4, 0, tzinfo=timezone.utc),
            hours=Decimal("2"),
        )
    )
    li_attempt = submit(li, quiz, wrong(quiz))
    li_essay_attempt = submit(li, essay, {essay.questions[0].id: "倾听与共情。"})
    finish_lesson(li, course.lessons[0])
    submission = TaskSubmission(task_id=task.id, user_id=li.id, number=1, anonymous_code="GB0001")
    db.session.add(submission)
    db.session.commit()
    return SimpleNamespace(
        course=course.id,
        quiz=quiz.id,
        essay=essay.id,
        task=task.id,
        submission=submission.id,
        training_class=training_class.id,
        zhang_attempt=zhang_attempt,
        li_attempt=li_attempt,
        li_essay_attempt=li_essay_attempt,
        edu=edu.id,
        phy=phy.id,
    )


@pytest.fixture
def world(app_ctx):
    return build_world()


def page_of(login, username: str, world, query: str = "") -> str:
    response = login(username).get(f"/manage/courses/{world.course}/gradebook{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_author_gets_every_learner(login, world):
    html = page_of(login, "author", world)
    assert "张三" in html
    assert "李四" in html
    assert "王五" in html
    assert "陈局外" not in html
    assert "3 名学员" in html
    # A grade links to the attempt it comes from: 张三 passed with 100.
    assert f'/manage/attempts/{world.zhang_attempt}">100%</a>' in html
    # The attempt count links to the quiz's results.
    assert f"/manage/quizzes/{world.quiz}/results" in html
    assert "已通过" in html
    # The essay awaiting a grade is shown as such and links to its grading page.
    assert "/manage/grading/" in html
    # The task: 李四 waits for a score, the others have not submitted.
    assert f"/manage/submissions/{world.submission}" in html
    # Lessons done and the completion of 张三 with its hours.
    assert "2 / 2" in html


def test_awaiting_essay_shows_no_zero(login, world, english):
    html = page_of(login, "author", world, "?q=E002")
    assert "Awaiting grading" in html
    assert "Awaiting scoring" in html
    # The failed choice quiz shows its grade; the essay quiz shows no grade yet.
    assert f'/manage/attempts/{world.li_attempt}">0%</a>' in html
    assert f"/manage/attempts/{world.li_essay_attempt}" not in html


def test_admin_gets_every_learner(login, world):
    html = page_of(login, "admin", world)
    assert "张三" in html
    assert "李四" in html
    assert "王五" in html


def test_class_trainer_gets_class_members(login, world):
    html = page_of(login, "trainer2", world)
    assert "张三" in html
    assert "李四" not in html
    assert "王五" not in html


def _add_li_to_the_class(world) -> None:
    training_class = db.session.get(TrainingClass, world.training_class)
    li = db.session.get(TaskSubmission, world.submission).user
    classes.add_member(training_class, li, by=training_class.trainers[0])
    db.session.commit()


def test_class_trainer_links_open_pages(login, world, english):
    _add_li_to_the_class(world)
    html = page_of(login, "trainer2", world, "?q=E002")
    assert "李四" in html
    assert "Awaiting scoring" in html
    # trainer2 does not moderate the task, so the cell has no moderation link,
    assert "/manage/submissions/" not in html
    # but grades the course's essays as a trainer of a class that offers it.
    assert "/manage/grading/" in html


@pytest.mark.parametrize(
    "username, status", [("stranger", 403), ("hr", 403), ("zhang", 403), ("admin_b", 404)]
)
def test_others_refused_like_quiz_results(login, world, username, status):
    client = login(username)
    for suffix in ("", ".csv", ".xlsx"):
        response = client.get(f"/manage/courses/{world.course}/gradebook{suffix}")
        assert response.status_code == status, (suffix, response.status_code)


def test_unknown_course_is_404(login, world):
    assert login("admin").get("/manage/courses/999999/gradebook").status_code == 404


def test_filters(login, world):
    by_class = page_of(login, "author", world, f"?class={world.training_class}")
    assert "张三" in by_class
    assert "李四" not in by_class
    by_department = page_of(login, "author", world, f"?department={world.phy}")
    assert "李四" in by_department
    assert "张三" not in by_department
    completed = page_of(login, "author", world, "?status=completed")
    assert "张三" in completed
    assert "李四" not in completed
    assert "王五" not in completed
    unfinished = page_of(login, "author", world, "?status=in_progress")
    assert "张三" not in unfinished
    assert "李四" in unfinished
    assert "王五" in unfinished
    by_number = page_of(login, "author", world, "?q=E003")
    assert "王五" in by_number
    assert "张三" not in by_number
    by_name = page_of(login, "author", world, "?q=李")
    assert "李四" in by_name
    assert "王五" not in by_name
    full_width = page_of(login, "author", world, "?q=Ｅ００３")
    assert "王五" in full_width
    assert "张三" not in full_width


def test_rejected_filters_explained(login, world, english):
    html = page_of(login, "author", world, "?class=abc&department=99999&status=done")
    assert "Class filter: abc is not one of the classes" in html
    assert "Department filter: 99999 is not a department" in html
    assert "Completion filter: done is not a completion status" in html
    assert "张三" in html
    assert "李四" in html


def test_class_trainer_other_class_filter(login, world, app):
    with app.app_context():
        uni_id = db.session.get(TrainingClass, world.training_class).institution_id
        other = TrainingClass(
            institution_id=uni_id, code="gb-other", title="另一个班",
            course_id=world.course, starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 1),
            status=ClassStatus.OPEN,
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    html = page_of(login, "trainer2", world, f"?class={other_id}")
    assert "张三" in html
    assert "另一个班" not in html


def test_page_out_of_range_redirects(login, world):
    path = f"/manage/courses/{world.course}/gradebook?page=9&status=completed"
    response = login("author").get(path)
    assert response.status_code == 302
    assert "status=completed" in response.headers["Location"]
    assert "page=" not in response.headers["Location"]


def test_count_is_the_total(login, world, app, english):
    with app.app_context():
        from courses.models import Course

        course = db.session.get(Course, world.course)
        uni = db.session.get(Institution, course.institution_id)
        programme = db.session.scalar(
            sa.select(course_services.Programme).where(
                course_services.Programme.code == "p-gb"
            )
        )
        for number in range(52):
            learner = make_user(uni, f"bulk{number:02d}", full_name=f"批量{number:02d}")
            course_services.enrol(learner, programme)
        db.session.commit()
    html = page_of(login, "author", world)
    assert "55 learners" in html
    assert "Page 1 of 2" in html
    second = page_of(login, "author", world, "?page=2")
    assert second.count("<tr>") == 1 + 5


def test_csv_export_filtered_with_bom(login, world):
    response = login("author").get(
        f"/manage/courses/{world.course}/gradebook.csv?department={world.edu}"
    )
    assert response.status_code == 200
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    assert "张三" in text
    assert "王五" in text
    assert "李四" not in text
    assert "E001" in text
    assert "2026-10-08" in text
    zhang = next(line for line in text.splitlines() if line.startswith("张三"))
    assert zhang.split(",")[4:7] == ["100", "是", "1"]
    assert zhang.endswith(",2,2,2026-10-08,2")
    assert response.headers["Content-Type"].startswith("text/csv")


def test_csv_export_awaiting_states(login, world, english):
    text = login("author").get(
        f"/manage/courses/{world.course}/gradebook.csv?q=E002"
    ).get_data().decode("utf-8-sig")
    assert "Awaiting grading" in text
    assert "Awaiting scoring" in text


def test_xlsx_export_class_trainer_rows(login, world):
    from openpyxl import load_workbook

    response = login("trainer2").get(f"/manage/courses/{world.course}/gradebook.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == "张三"
    assert rows[1][4] == 100


def test_released_task_score_shown(login, world, english, app):
    with app.app_context():
        submission = db.session.get(TaskSubmission, world.submission)
        submission.final_score = Decimal("75")
        submission.released_at = datetime(2026, 10, 9, tzinfo=timezone.utc)
        db.session.commit()
    html = page_of(login, "author", world, "?q=E002")
    assert ">75</a>" in html
    assert "Passed" in html
    assert "Awaiting scoring" not in html
    # A trainer who does not moderate the task gets the task's results page.
    _add_li_to_the_class(world)
    html = page_of(login, "trainer2", world, "?q=E002")
    assert f"/tasks/{world.task}/results" in html


def test_course_and_class_pages_link(login, world):
    author = login("author")
    course_page = author.get(f"/manage/courses/{world.course}").get_data(as_text=True)
    assert f"/manage/courses/{world.course}/gradebook" in course_page
    class_page = login("trainer2").get(f"/classes/{world.training_class}").get_data(as_text=True)
    assert f"/manage/courses/{world.course}/gradebook" in class_page


def test_course_page_hides_link_from_others(login, world):
    page = login("stranger").get(f"/manage/courses/{world.course}").get_data(as_text=True)
    assert f"/manage/courses/{world.course}/gradebook" not in page


def test_programme_class_trainer_gets_members(login, world, app):
    from courses.models import Programme

    with app.app_context():
        course = db.session.get(TrainingClass, world.training_class).course
        programme = db.session.scalar(sa.select(Programme).filter_by(code="p-gb"))
        trainer3 = make_user(
            db.session.get(Institution, course.institution_id), "trainer3", Role.TRAINER
        )
        programme_class = TrainingClass(
            institution_id=course.institution_id, code="gb-prog", title="项目班",
            programme_id=programme.id, starts_on=date(2026, 9, 1),
            ends_on=date.today() + timedelta(days=60), status=ClassStatus.OPEN,
        )
        programme_class.trainers = [trainer3]
        db.session.add(programme_class)
        db.session.flush()
        wang = db.session.scalar(sa.select(User).filter_by(username="wang"))
        classes.add_member(programme_class, wang, by=trainer3)
        db.session.commit()
    html = page_of(login, "trainer3", world)
    assert "王五" in html
    assert "张三" not in html
    assert "李四" not in html


def test_other_version_pins_left_out(login, world, app):
    from courses.models import Course, Enrolment, EnrolmentCourse

    with app.app_context():
        course = db.session.get(Course, world.course)
        newer = make_course(
            db.session.get(Institution, course.institution_id), "gb-next", lessons=1
        )
        newer.code, newer.version = "gb", 2
        wang = db.session.scalar(sa.select(User).filter_by(username="wang"))
        enrolment = db.session.scalar(sa.select(Enrolment).filter_by(user_id=wang.id))
        pin = db.session.scalar(sa.select(EnrolmentCourse).filter_by(enrolment_id=enrolment.id))
        pin.course_id = newer.id
        db.session.commit()
        newer_id = newer.id
    html = page_of(login, "author", world)
    assert "王五" not in html
    assert "李四" in html
    newer_page = login("author").get(f"/manage/courses/{newer_id}/gradebook")
    assert "王五" in newer_page.get_data(as_text=True)


def test_teacher_reviews_a_learner_attempt(login, world, english):
    response = login("author").get(f"/manage/attempts/{world.li_essay_attempt}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "李四" in html
    assert "倾听与共情。" in html
    assert "Learner's answer:" in html
    assert "/manage/grading/" in html
    # The score waits for the essay's grade, so none is shown.
    assert "Percent" not in html


def test_class_trainer_reviews_attempts_of_the_course(login, world):
    response = login("trainer2").get(f"/manage/attempts/{world.zhang_attempt}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "username, status",
    [("stranger", 403), ("hr", 403), ("li", 403), ("zhang", 403), ("admin_b", 404)],
)
def test_attempt_review_refused_to_others(login, world, username, status):
    response = login(username).get(f"/manage/attempts/{world.zhang_attempt}")
    assert response.status_code == status


def test_unsubmitted_attempt_review_is_404(login, world, app):
    with app.app_context():
        quiz = db.session.get(Quiz, world.quiz)
        wang = db.session.scalar(sa.select(User).filter_by(username="wang"))
        attempt_id = quiz_services.start_attempt(wang, quiz).id
        db.session.commit()
    assert login("author").get(f"/manage/attempts/{attempt_id}").status_code == 404
    assert login("author").get("/manage/attempts/999999").status_code == 404


@pytest.mark.parametrize(
    "method, expected",
    [(GradingMethod.HIGHEST, 1), (GradingMethod.LAST, 3), (GradingMethod.AVERAGE, 3)],
)
def test_grade_links_to_the_attempt_that_counts(method, expected):
    submitted = datetime(2026, 10, 1, tzinfo=timezone.utc)
    attempts = [
        Attempt(id=1, submitted_at=submitted, score=Decimal(9), max_score=Decimal(10)),
        Attempt(id=2, submitted_at=submitted, score=Decimal(0), max_score=Decimal(10),
                needs_grading=True),
        Attempt(id=3, submitted_at=submitted, score=Decimal(5), max_score=Decimal(10)),
        Attempt(id=4, submitted_at=None),
    ]
    for attempt in attempts:
        attempt.needs_grading = bool(attempt.needs_grading)
    quiz = Quiz(grading_method=method)
    assert gradebook._review_attempt_id(quiz, attempts) == expected


def test_grade_link_before_any_graded_attempt():
    submitted = datetime(2026, 10, 1, tzinfo=timezone.utc)
    waiting = Attempt(id=7, submitted_at=submitted, needs_grading=True)
    quiz = Quiz(grading_method=GradingMethod.HIGHEST)
    assert gradebook._review_attempt_id(quiz, [waiting]) == 7
    assert gradebook._review_attempt_id(quiz, [Attempt(id=8, submitted_at=None)]) is None
