"""Small builders for test data; each adds rows to the session and flushes.

Every account gets ``TEST_PASSWORD`` so tests can log in through the real
login form. Callers commit when the data must be visible to requests.
"""

from contextlib import contextmanager
from decimal import Decimal
from typing import Optional

from assessments.models import Choice, Question, QuestionKind, Quiz
from assessments.tasks_models import (
    Aggregation,
    PerformanceTask,
    Rubric,
    RubricCriterion,
    RubricLevel,
    TaskKind,
)
from courses.models import (
    Course,
    Lesson,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
    TargetLevel,
)
from lms.accounts.models import Post, Role, User
from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
)
from lms.db import now_utc
from lms.extensions import db
from lms.organisations.models import Department, Institution
from lms.records.models import TrainingKind, TrainingTier
from tests.conftest import TEST_PASSWORD


def make_institution(code: str = "uni-a", name: str = "示范大学") -> Institution:
    institution = Institution(code=code, name=name, serial_prefix=code[:4].upper())
    db.session.add(institution)
    db.session.flush()
    return institution


def make_department(institution: Institution, code: str, name: str) -> Department:
    department = Department(institution_id=institution.id, code=code, name=name)
    db.session.add(department)
    db.session.flush()
    return department


def make_user(
    institution: Institution,
    username: str,
    role: Role = Role.COUNSELOR,
    *,
    full_name: Optional[str] = None,
    post: Optional[Post] = None,
    department: Optional[Department] = None,
    platform_operator: bool = False,
) -> User:
    if post is None and role is Role.COUNSELOR:
        post = Post.FULL_TIME_COUNSELOR
    user = User(
        username=username,
        full_name=full_name or f"用户{username}",
        role=role,
        post=post,
        institution_id=institution.id,
        department_id=department.id if department else None,
        platform_operator=platform_operator,
    )
    user.set_password(TEST_PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def make_course(
    institution: Institution,
    code: str,
    *,
    title: Optional[str] = None,
    hours: str = "2",
    lessons: int = 2,
    author: Optional[User] = None,
) -> Course:
    """Add a published course with ``lessons`` short text lessons."""
    course = Course(
        institution_id=institution.id,
        author_id=author.id if author is not None else None,
        code=code,
        title=title or f"课程{code}",
        summary=f"{code} 的简介",
        credit_hours=Decimal(hours),
        status=PublicationStatus.PUBLISHED,
    )
    for position in range(1, lessons + 1):
        course.lessons.append(
            Lesson(
                position=position,
                title=f"{code} 第{position}课",
                body_html=f"<p>{code} 第{position}课的正文</p>",
                duration_minutes=30,
            )
        )
    db.session.add(course)
    db.session.flush()
    return course


def make_programme(
    institution: Institution,
    code: str,
    courses: list[Course],
    *,
    title: Optional[str] = None,
    status: PublicationStatus = PublicationStatus.PUBLISHED,
    tier: TrainingTier = TrainingTier.SCHOOL,
    kind: TrainingKind = TrainingKind.PRE_JOB,
    level: TargetLevel = TargetLevel.JUNIOR,
    author: Optional[User] = None,
) -> Programme:
    programme = Programme(
        institution_id=institution.id,
        author_id=author.id if author is not None else None,
        code=code,
        title=title or f"培训项目{code}",
        summary="项目说明",
        tier=tier,
        kind=kind,
        level=level,
        audience="专职辅导员",
        status=status,
    )
    for position, course in enumerate(courses, start=1):
        programme.courses.append(
            ProgrammeCourse(course_id=course.id, position=position)
        )
    db.session.add(programme)
    db.session.flush()
    return programme


def open_lesson(user: User, lesson: Lesson) -> None:
    """Record that ``user`` opened ``lesson``, as the lesson page does."""
    from courses import lesson_time

    lesson_time.record_first_view(user, lesson, lesson_time.first_viewed_at(user, lesson))


def finish_lesson(user: User, lesson: Lesson) -> None:
    """Open ``lesson`` and mark it complete, as a learner does on the lesson page."""
    from courses import services

    open_lesson(user, lesson)
    services.complete_lesson(user, lesson)


@contextmanager
def as_draft(course: Course):
    """Set ``course`` to draft for the block, so test setup can author its quizzes."""
    status = course.status
    course.status = PublicationStatus.DRAFT
    try:
        yield course
    finally:
        course.status = status


def make_quiz(
    course: Course,
    *,
    questions: int = 2,
    pass_mark: int = 60,
    max_attempts: Optional[int] = 3,
    time_limit_minutes: Optional[int] = None,
) -> Quiz:
    """Add a quiz whose first question is multiple choice and the rest single choice.

    The correct choices move around: question 1 has choices A and C right,
    later questions have their last choice right, so a test cannot pass by
    always picking the first one.
    """
    quiz = Quiz(
        course_id=course.id,
        title=f"{course.title} 测验",
        instructions="请独立作答。",
        pass_mark=pass_mark,
        max_attempts=max_attempts,
        time_limit_minutes=time_limit_minutes,
    )
    for position in range(1, questions + 1):
        kind = QuestionKind.MULTIPLE if position == 1 else QuestionKind.SINGLE
        question = Question(
            position=position,
            kind=kind,
            text=f"第{position}题",
            points=Decimal(1),
            explanation=f"第{position}题的解析",
        )
        for choice_position, letter in enumerate("ABC", start=1):
            if kind is QuestionKind.MULTIPLE:
                right = letter in "AC"
            else:
                right = letter == "C"
            question.choices.append(
                Choice(position=choice_position, text=f"选项{letter}", is_correct=right)
            )
        quiz.questions.append(question)
    db.session.add(quiz)
    db.session.flush()
    return quiz


def make_competency(
    code: str = "1.5", summary: str = "识别并转介心理危机学生"
) -> CompetencyItem:
    """Add a one-cell framework (初级 x 心理健康教育) and return its item."""
    framework = Framework(
        code=f"fw-{code}",
        title="辅导员职业能力标准",
        status=FrameworkStatus.PUBLISHED,
        published_at=now_utc(),
    )
    db.session.add(framework)
    db.session.flush()
    level = Level(framework_id=framework.id, code="junior", name="初级", position=1)
    area = FunctionalArea(
        framework_id=framework.id,
        code="mental",
        name="心理健康教育与咨询工作",
        position=5,
    )
    db.session.add_all([level, area])
    db.session.flush()
    item = CompetencyItem(
        framework_id=framework.id,
        level_id=level.id,
        area_id=area.id,
        code=code,
        summary=summary,
    )
    db.session.add(item)
    db.session.flush()
    return item


def correct_answers(quiz: Quiz) -> dict[str, list[str]]:
    """Return form data that selects exactly the correct choices."""
    return {
        f"q{question.id}": [str(c.id) for c in question.choices if c.is_correct]
        for question in quiz.questions
    }


def wrong_answers(quiz: Quiz) -> dict[str, list[str]]:
    """Return form data that selects one wrong choice per question."""
    return {
        f"q{question.id}": [
            str(next(c.id for c in question.choices if not c.is_correct))
        ]
        for question in quiz.questions
    }


def build_learning_world(
    *, time_limit_minutes: Optional[int] = None, max_attempts: int = 3
):
    """Add two institutions with staff, learners and programmes; return their ids.

    Institution A has a published programme of two courses: course 1 has two
    lessons, a competency item and a two-question quiz, course 2 has one
    lesson and no quiz. A also has a draft programme. Institution B has its
    own published programme and staff. The result is committed.
    """
    from types import SimpleNamespace

    uni_a = make_institution("uni-a", "甲大学")
    uni_b = make_institution("uni-b", "乙大学")
    school = make_department(uni_a, "edu", "教育学院")
    physics = make_department(uni_a, "phy", "物理学院")
    other_school = make_department(uni_b, "law", "法学院")

    counselor = make_user(uni_a, "counselor1", full_name="张老师", department=school)
    counselor2 = make_user(uni_a, "counselor2", full_name="李老师", department=physics)
    organiser = make_user(
        uni_a,
        "organiser",
        Role.PARTY_WORKER,
        full_name="王组织员",
        post=Post.PARTY_ORGANISER,
    )
    trainer = make_user(uni_a, "trainer", Role.TRAINER, full_name="赵培训师")
    hr = make_user(uni_a, "hr", Role.HR, full_name="钱人事")
    admin = make_user(uni_a, "admin", Role.ADMIN, full_name="孙管理员", platform_operator=True)
    counselor_b = make_user(
        uni_b, "counselor_b", full_name="周老师", department=other_school
    )
    hr_b = make_user(uni_b, "hr_b", Role.HR, full_name="吴人事")

    # The trainer authors institution A's courses, so teaches them and grades their work.
    course1 = make_course(
        uni_a, "c1", title="心理危机识别", hours="2", lessons=2, author=trainer
    )
    course1.competencies.append(make_competency())
    course2 = make_course(
        uni_a, "c2", title="学生资助政策", hours="1.5", lessons=1, author=trainer
    )
    quiz = make_quiz(
        course1, time_limit_minutes=time_limit_minutes, max_attempts=max_attempts
    )
    # The trainer also authors institution A's programmes, so changes them.
    programme = make_programme(
        uni_a, "p1", [course1, course2], title="初级辅导员岗前培训", author=trainer
    )
    draft_course = make_course(uni_a, "c3", title="草稿课程", lessons=1, author=trainer)
    draft = make_programme(
        uni_a,
        "p-draft",
        [draft_course],
        title="未发布项目",
        status=PublicationStatus.DRAFT,
        author=trainer,
    )
    course_b = make_course(uni_b, "cb", title="乙校课程", lessons=1)
    programme_b = make_programme(uni_b, "pb", [course_b], title="乙校专题培训")
    db.session.commit()

    return SimpleNamespace(
        uni_a=uni_a.id,
        uni_b=uni_b.id,
        school=school.id,
        physics=physics.id,
        other_school=other_school.id,
        counselor=counselor.id,
        counselor2=counselor2.id,
        organiser=organiser.id,
        trainer=trainer.id,
        hr=hr.id,
        admin=admin.id,
        counselor_b=counselor_b.id,
        hr_b=hr_b.id,
        course1=course1.id,
        course2=course2.id,
        lessons1=[lesson.id for lesson in course1.lessons],
        lessons2=[lesson.id for lesson in course2.lessons],
        quiz=quiz.id,
        programme=programme.id,
        draft=draft.id,
        draft_course=draft_course.id,
        course_b=course_b.id,
        programme_b=programme_b.id,
    )


def make_rubric(institution, code: str = "r100") -> Rubric:
    """Add a one-criterion rubric worth 100 points."""
    rubric = Rubric(institution_id=institution.id, code=code, title="评分量表")
    criterion = RubricCriterion(position=1, title="分析", weight=Decimal(1))
    for position, points in enumerate((0, 60, 100), start=1):
        criterion.levels.append(
            RubricLevel(position=position, title=f"档{position}", points=Decimal(points))
        )
    rubric.criteria.append(criterion)
    db.session.add(rubric)
    db.session.flush()
    return rubric


def make_task(course, rubric, moderator, title: str = "案例分析") -> PerformanceTask:
    """Add a published case-analysis task of ``course`` with a pass mark of 60."""
    task = PerformanceTask(
        institution_id=course.institution_id,
        course_id=course.id,
        kind=TaskKind.CASE_ANALYSIS,
        title=title,
        rubric_id=rubric.id,
        aggregation=Aggregation.MEAN,
        pass_mark=60,
        published=True,
        moderator_id=moderator.id,
    )
    db.session.add(task)
    db.session.flush()
    return task
