"""A course's gradebook: each learner's quizzes, tasks, lessons, completion and 学时.

The learners of a course version are the people whose programme
enrolment follows it (``services.enrolments_for_course``, completed
enrolments included), the enrolled members of classes that offer it
alone, and everyone who completed it.

Which learners a viewer is shown:

- administrators of the course's institution and the trainers who author
  or co-teach any version of it get every learner.
- A trainer who teaches it only through training classes that offer it
  (``courses.teaching``) gets the enrolled members of those classes.
- Nobody else reads the gradebook, as with a quiz's results page.

The page counts the filtered learners in one statement and loads one page
of them, then reads every figure of that page in one grouped statement per
kind (attempts, essays awaiting a grade, task submissions, lessons,
completions), so the statement count does not grow with the learners or
the columns. Exports run the same query without the page limit, in chunks.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from assessments import services as quiz_services
from assessments.models import Attempt, AttemptAnswer, GradingMethod, Quiz
from assessments.tasks_models import (
    PerformanceTask,
    Rubric,
    RubricCriterion,
    TaskSubmission,
)
from courses import services, teachers
from courses.class_models import (
    ClassMember,
    ClassStatus,
    MemberStatus,
    TrainingClass,
    class_trainer,
)
from courses.models import (
    Course,
    CourseCompletion,
    Enrolment,
    Lesson,
    LessonProgress,
    ProgrammeCourse,
)
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Department
from lms.records.people_search import contains_text, parse_search

#: ``?status=`` values of the completion filter.
COMPLETED = "completed"
IN_PROGRESS = "in_progress"
STATUSES = (COMPLETED, IN_PROGRESS)

#: Learners whose figures one export statement reads at a time.
EXPORT_CHUNK = 500


# Access --------------------------------------------------------------------------


@dataclass
class Viewer:
    """The part of one course's gradebook that a user may read."""

    user: User
    #: True for administrators, authors and co-teachers: every learner.
    sees_everyone: bool
    #: The classes offering the course whose members the user is shown
    #: (every such class for those shown everyone), newest first.
    classes: list[TrainingClass]

    @property
    def class_ids(self) -> list[int]:
        return [each.id for each in self.classes]


def offering_classes(course: Course) -> sa.Select:
    """SELECT the classes that offer any version of ``course``, alone or in a programme.

    Cancelled classes are left out.
    """
    versions = sa.select(Course.id).where(
        Course.institution_id == course.institution_id, Course.code == course.code
    )
    programmes = sa.select(ProgrammeCourse.programme_id).where(
        ProgrammeCourse.course_id.in_(versions)
    )
    return (
        sa.select(TrainingClass)
        .where(
            TrainingClass.institution_id == course.institution_id,
            TrainingClass.status != ClassStatus.CANCELLED,
            sa.or_(
                TrainingClass.course_id.in_(versions),
                TrainingClass.programme_id.in_(programmes),
            ),
        )
        .order_by(TrainingClass.starts_on.desc(), TrainingClass.code)
    )


def viewer_for(user: User, course: Course) -> Optional[Viewer]:
    """Return the part of the gradebook of ``course`` that ``user`` reads, or None.

    The caller has checked the institution and that ``user`` may grade the
    course (``courses.teaching.may_grade``).
    """
    if user.institution_id != course.institution_id:
        return None
    if user.role is Role.ADMIN or (
        user.role is Role.TRAINER and teachers.teaches_in_person(user, course)
    ):
        return Viewer(user, True, list(db.session.scalars(offering_classes(course))))
    if user.role is not Role.TRAINER:
        return None
    trained = sa.select(class_trainer.c.class_id).where(class_trainer.c.user_id == user.id)
    classes = list(
        db.session.scalars(offering_classes(course).where(TrainingClass.id.in_(trained)))
    )
    if not classes:
        return None
    return Viewer(user, False, classes)


# Filters ------------------------------------------------------------------------


@dataclass
class Filters:
    """The valid filters of one request, and a message for each rejected one."""

    search: str = ""
    training_class: Optional[TrainingClass] = None
    department: Optional[Department] = None
    status: Optional[str] = None
    errors: list[str] = field(default_factory=list)

    def query_args(self) -> dict[str, str]:
        """Return the filters as query arguments for page and export links."""
        args = {}
        if self.search:
            args["q"] = self.search
        if self.training_class is not None:
            args["class"] = str(self.training_class.id)
        if self.department is not None:
            args["department"] = str(self.department.id)
        if self.status is not None:
            args["status"] = self.status
        return args


def departments_of(institution_id: int) -> list[Department]:
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(Department.institution_id == institution_id)
            .order_by(Department.name)
        )
    )


def _id_in(raw: str, choices: dict):
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) < 12:
        return choices.get(int(raw))
    return None


def parse_filters(args, viewer: Viewer, departments: list[Department]) -> Filters:
    """Read ``q``, ``class``, ``department`` and ``status`` from request arguments.

    A rejected value is left out of the filters and explained in ``errors``.
    """
    filters = Filters()
    filters.search, search_error = parse_search(args.get("q", ""))
    if search_error:
        filters.errors.append(search_error)

    raw_class = args.get("class", "").strip()
    if raw_class:
        filters.training_class = _id_in(raw_class, {c.id: c for c in viewer.classes})
        if filters.training_class is None:
            filters.errors.append(
                _(
                    "Class filter: %(value)s is not one of the classes listed for this "
                    "course. Showing every class.",
                    value=raw_class[:40],
                )
            )

    raw_department = args.get("department", "").strip()
    if raw_department:
        filters.department = _id_in(raw_department, {d.id: d for d in departments})
        if filters.department is None:
            filters.errors.append(
                _(
                    "Department filter: %(value)s is not a department of your "
                    "institution. Showing everyone.",
                    value=raw_department[:40],
                )
            )

    raw_status = args.get("status", "").strip()
    if raw_status:
        if raw_status in STATUSES:
            filters.status = raw_status
        else:
            filters.errors.append(
                _(
                    "Completion filter: %(value)s is not a completion status. "
                    "Showing completed and unfinished learners.",
                    value=raw_status[:40],
                )
            )
    return filters


# The learner query --------------------------------------------------------------


def _class_members(class_ids) -> sa.Select:
    return sa.select(ClassMember.user_id).where(
        ClassMember.class_id.in_(class_ids), ClassMember.status == MemberStatus.ENROLLED
    )


def _learner_condition(course: Course) -> sa.ColumnElement[bool]:
    """Return the condition on ``User`` that keeps the learners of ``course``."""
    following = sa.select(Enrolment.user_id).where(
        services.enrolments_following(course.id)
    )
    in_class = (
        sa.select(ClassMember.user_id)
        .join(TrainingClass, TrainingClass.id == ClassMember.class_id)
        .where(
            TrainingClass.course_id == course.id,
            TrainingClass.status != ClassStatus.CANCELLED,
            ClassMember.status == MemberStatus.ENROLLED,
        )
    )
    completed = sa.select(CourseCompletion.user_id).where(
        CourseCompletion.course_id == course.id
    )
    return sa.or_(
        User.id.in_(following),
        User.id.in_(in_class),
        User.id.in_(completed),
    )


def learner_query(course: Course, viewer: Viewer, filters: Filters) -> sa.Select:
    """Return the select of the learners shown to ``viewer`` that match ``filters``, by name."""
    query = sa.select(User).where(
        User.institution_id == course.institution_id, _learner_condition(course)
    )
    if not viewer.sees_everyone:
        query = query.where(User.id.in_(_class_members(viewer.class_ids)))
    if filters.training_class is not None:
        query = query.where(User.id.in_(_class_members([filters.training_class.id])))
    if filters.department is not None:
        query = query.where(User.department_id == filters.department.id)
    if filters.status is not None:
        done = (
            sa.select(CourseCompletion.id)
            .where(
                CourseCompletion.user_id == User.id,
                CourseCompletion.course_id == course.id,
            )
            .exists()
        )
        query = query.where(done if filters.status == COMPLETED else ~done)
    if filters.search:
        query = query.where(
            sa.or_(
                contains_text(User.full_name, filters.search),
                contains_text(User.username, filters.search),
                contains_text(User.employee_no, filters.search),
            )
        )
    return query.options(so.joinedload(User.department)).order_by(User.full_name, User.id)


# Columns and cells --------------------------------------------------------------


@dataclass
class Columns:
    """The graded items of a course version, in the order the gradebook shows them."""

    quizzes: list[Quiz]
    tasks: list[PerformanceTask]
    lessons_total: int


def columns_of(course: Course) -> Columns:
    """Load the course's quizzes, tasks with their rubrics, and lesson count."""
    tasks = list(
        db.session.scalars(
            sa.select(PerformanceTask)
            .where(PerformanceTask.course_id == course.id)
            .order_by(PerformanceTask.created_at, PerformanceTask.id)
            .options(
                so.selectinload(PerformanceTask.rubric)
                .selectinload(Rubric.criteria)
                .selectinload(RubricCriterion.levels),
                so.selectinload(PerformanceTask.assessors),
            )
        )
    )
    lessons_total = db.session.scalar(
        sa.select(sa.func.count(Lesson.id)).where(Lesson.course_id == course.id)
    )
    return Columns(quiz_services.quizzes_for_course(course), tasks, lessons_total or 0)


@dataclass
class QuizCell:
    attempts: int
    #: Percentage by the quiz's grading method; None before a graded attempt.
    grade: Optional[Decimal]
    passed: bool
    #: A submitted attempt waits for an essay grade.
    awaiting_grading: bool
    #: The first ungraded essay answer, for the grading link.
    answer_id: Optional[int]
    #: The attempt the grade comes from (the best one under "highest", else
    #: the last graded one), or the last submitted one before any is graded.
    review_attempt_id: Optional[int]


@dataclass
class TaskCell:
    #: "not_submitted", "awaiting_scoring" or "scored".
    state: str
    #: The latest released submission, whose final score counts.
    released: Optional[TaskSubmission] = None
    #: The latest submission, which may wait for scoring after a released one.
    latest: Optional[TaskSubmission] = None
    passed: Optional[bool] = None

    @property
    def score(self) -> Optional[Decimal]:
        return self.released.final_score if self.released is not None else None

    @property
    def newer_awaiting(self) -> bool:
        """A later submission than the released one waits for its score."""
        return (
            self.released is not None
            and self.latest is not None
            and self.latest.id != self.released.id
        )


@dataclass
class Row:
    user: User
    quizzes: list[QuizCell]
    tasks: list[TaskCell]
    lessons_done: int
    completed_at: Optional[datetime]
    #: 学时 the completion credited; None before completion.
    hours: Optional[Decimal]
    #: The credited hours were taken back (a revoked certificate).
    hours_withdrawn: bool


def task_passed(task: PerformanceTask, submission: TaskSubmission) -> bool:
    """Return whether a released final score reaches the pass mark, as ``moderation.passed``."""
    return submission.final_score * 100 >= task.max_points * task.pass_mark


def may_moderate(viewer: User, task: PerformanceTask) -> bool:
    """Return whether ``viewer`` opens the task's submissions as its manager.

    This follows ``assessments.moderation.is_moderator`` without a query per
    task, because a gradebook viewer already grades the course.
    """
    if viewer.id == task.moderator_id:
        return True
    if viewer.role is not Role.ADMIN or viewer.institution_id != task.institution_id:
        return False
    return not any(member.user_id == viewer.id for member in task.assessors)


def _review_attempt_id(quiz: Quiz, attempts: list[Attempt]) -> Optional[int]:
    """Return the id of the attempt a grade cell links to, or None before a submission."""
    submitted = [attempt for attempt in attempts if attempt.submitted_at is not None]
    graded = [a for a in submitted if not a.needs_grading and a.max_score]
    if not graded:
        return submitted[-1].id if submitted else None
    if quiz.grading_method is GradingMethod.HIGHEST:
        best = max(graded, key=lambda attempt: attempt.score / attempt.max_score)
        return best.id
    return graded[-1].id


def build_rows(course: Course, columns: Columns, users: list[User]) -> list[Row]:
    """Return one row per user in ``users``, reading each kind of figure in one statement."""
    user_ids = [user.id for user in users]
    quiz_ids = [quiz.id for quiz in columns.quizzes]
    task_ids = [task.id for task in columns.tasks]

    attempts: dict[tuple[int, int], list[Attempt]] = {}
    pending: dict[tuple[int, int], int] = {}
    if user_ids and quiz_ids:
        for attempt in db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.user_id.in_(user_ids), Attempt.quiz_id.in_(quiz_ids))
            .order_by(Attempt.user_id, Attempt.quiz_id, Attempt.number)
        ):
            attempts.setdefault((attempt.user_id, attempt.quiz_id), []).append(attempt)
        pending = {
            (user_id, quiz_id): answer_id
            for user_id, quiz_id, answer_id in db.session.execute(
                sa.select(Attempt.user_id, Attempt.quiz_id, sa.func.min(AttemptAnswer.id))
                .join(AttemptAnswer, AttemptAnswer.attempt_id == Attempt.id)
                .where(
                    Attempt.user_id.in_(user_ids),
                    Attempt.quiz_id.in_(quiz_ids),
                    Attempt.submitted_at.is_not(None),
                    Attempt.needs_grading.is_(True),
                    AttemptAnswer.awarded.is_(None),
                )
                .group_by(Attempt.user_id, Attempt.quiz_id)
            )
        }

    submissions: dict[tuple[int, int], list[TaskSubmission]] = {}
    if user_ids and task_ids:
        for submission in db.session.scalars(
            sa.select(TaskSubmission)
            .where(TaskSubmission.user_id.in_(user_ids), TaskSubmission.task_id.in_(task_ids))
            .order_by(TaskSubmission.number)
        ):
            submissions.setdefault((submission.user_id, submission.task_id), []).append(
                submission
            )

    lessons_done: dict[int, int] = {}
    completions: dict[int, tuple] = {}
    if user_ids:
        lessons_done = dict(
            db.session.execute(
                sa.select(LessonProgress.user_id, sa.func.count())
                .join(Lesson, Lesson.id == LessonProgress.lesson_id)
                .where(LessonProgress.user_id.in_(user_ids), Lesson.course_id == course.id)
                .group_by(LessonProgress.user_id)
            ).all()
        )
        completions = {
            user_id: (completed_at, Decimal(hours), bool(withdrawn))
            for user_id, completed_at, hours, withdrawn in db.session.execute(
                sa.select(
                    CourseCompletion.user_id,
                    CourseCompletion.completed_at,
                    CourseCompletion.hours,
                    services.completion_hours_withdrawn(),
                ).where(
                    CourseCompletion.user_id.in_(user_ids),
                    CourseCompletion.course_id == course.id,
                )
            )
        }

    rows = []
    for user in users:
        quiz_cells = []
        for quiz in columns.quizzes:
            user_attempts = attempts.get((user.id, quiz.id), [])
            grade = quiz_services.quiz_grade(user, quiz, user_attempts)
            quiz_cells.append(
                QuizCell(
                    attempts=len(user_attempts),
                    grade=grade,
                    passed=grade is not None and grade >= quiz.pass_mark,
                    awaiting_grading=any(
                        a.submitted_at is not None and a.needs_grading for a in user_attempts
                    ),
                    answer_id=pending.get((user.id, quiz.id)),
                    review_attempt_id=_review_attempt_id(quiz, user_attempts),
                )
            )
        task_cells = []
        for task in columns.tasks:
            handed_in = submissions.get((user.id, task.id), [])
            released = [s for s in handed_in if s.released_at is not None]
            if released:
                task_cells.append(
                    TaskCell(
                        "scored", released[-1], handed_in[-1],
                        task_passed(task, released[-1]),
                    )
                )
            elif handed_in:
                task_cells.append(TaskCell("awaiting_scoring", None, handed_in[-1]))
            else:
                task_cells.append(TaskCell("not_submitted"))
        completed_at, hours, withdrawn = completions.get(user.id, (None, None, False))
        rows.append(
            Row(
                user=user,
                quizzes=quiz_cells,
                tasks=task_cells,
                lessons_done=lessons_done.get(user.id, 0),
                completed_at=completed_at,
                hours=hours,
                hours_withdrawn=withdrawn,
            )
        )
    return rows


def all_rows(course: Course, columns: Columns, query: sa.Select):
    """Yield the rows of every learner ``query`` selects, a chunk of learners at a time."""
    offset = 0
    while True:
        users = list(
            db.session.scalars(query.limit(EXPORT_CHUNK).offset(offset)).unique()
        )
        if not users:
            return
        yield from build_rows(course, columns, users)
        if len(users) < EXPORT_CHUNK:
            return
        offset += EXPORT_CHUNK
