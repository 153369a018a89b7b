"""Trainer authoring of quizzes, their questions and random draws.

Functions take plain dicts of form values and raise ``AuthoringError`` with
one message per invalid field. They flush but never commit; views commit.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from assessments import question_forms, services
from assessments.models import (
    Attempt,
    AttemptQuestion,
    GradingMethod,
    Question,
    QuestionCategory,
    Quiz,
    QuizDraw,
    ReviewTiming,
)
from assessments.tasks_models import Contest, ContestEvent
from courses import logger
from courses.authoring import (
    AuthoringError,
    move,
    optional_int,
    reject,
    renumber,
    required_int,
    text_field,
)
from courses.models import Course, PublicationStatus
from lms import audit
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import format_local_datetime
from lms.input_ranges import scheduled_to_utc
from lms.labels import label
from lms.organisations.models import Institution

#: Choice rows shown on the question form.
CHOICE_SLOTS = question_forms.CHOICE_SLOTS
#: The browser's datetime-local format, read in the institution's time zone.
LOCAL_TIME_FORMAT = "%Y-%m-%dT%H:%M"
REVIEW_PARTS = ("score", "responses", "correct", "feedback")
#: The quiz form's label of each review part, for messages about it.
REVIEW_PART_LABELS = {
    "score": _l("Score"),
    "responses": _l("Their answers"),
    "correct": _l("Correct answers"),
    "feedback": _l("Feedback and explanations"),
}
#: Quiz settings that stay editable once the course is published: the
#: schedule only, so a trainer can move or extend the window of a live quiz.
SCHEDULE_FIELDS = ("opens_at", "closes_at")


def is_locked(quiz_or_course: Quiz | Course) -> bool:
    """Return whether the quiz's course is published or archived, so learners may see it."""
    course = quiz_or_course.course if isinstance(quiz_or_course, Quiz) else quiz_or_course
    return course.status is not PublicationStatus.DRAFT


def _published_message(course: Course) -> str:
    return _(
        "The course of this quiz is not a draft (status: %(status)s), so its"
        " questions and grading cannot change. Create a new version of the course,"
        " edit the quiz there and publish it. Learners who started this version keep it.",
        status=label(course.status),
    )


def require_draft_quiz(quiz_or_course: Quiz | Course) -> None:
    """Reject a change to the questions or grading of a quiz learners may see."""
    if is_locked(quiz_or_course):
        course = (
            quiz_or_course.course if isinstance(quiz_or_course, Quiz) else quiz_or_course
        )
        raise reject(_published_message(course))


def institution_zone(institution_id: int) -> ZoneInfo:
    institution = db.session.get(Institution, institution_id)
    return ZoneInfo(institution.timezone if institution is not None else "Asia/Shanghai")


def parse_local_time(
    data: dict,
    field: str,
    zone: ZoneInfo,
    errors: dict,
    label: str,
    stored: datetime | None = None,
) -> datetime | None:
    """Read a datetime-local value entered in ``zone`` and return it in UTC.

    ``label`` names the field in messages; ``stored`` is the saved value,
    which is kept even when it lies outside the plausible window.
    """
    raw = (data.get(field) or "").strip()
    if not raw:
        return None
    try:
        local = datetime.strptime(raw, LOCAL_TIME_FORMAT)
    except ValueError:
        errors[field] = _("Enter a date and time such as 2026-09-01T14:00.")
        return None
    return scheduled_to_utc(local, zone, field, label, errors, stored)


def _closing_moved_into_past(closes_at: datetime, quiz: Quiz | None) -> bool:
    """Return whether a new or changed closing time has already passed.

    An unchanged closing time is kept even when it has passed, so a closed
    quiz can still be edited. The form has minute precision.
    """
    if closes_at > now_utc():
        return False
    if quiz is None or quiz.closes_at is None:
        return True
    return quiz.closes_at.replace(second=0, microsecond=0) != closes_at


def local_time_input(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime(LOCAL_TIME_FORMAT) if moment else ""


def _local_text(moment: datetime, zone: ZoneInfo) -> str:
    """Format an aware datetime in ``zone`` for a message, in the reader's language."""
    return format_local_datetime(moment.astimezone(zone).replace(tzinfo=None))


def _choice(data: dict, field: str, enum_cls, default, errors: dict):
    raw = (data.get(field) or default.value).strip()
    for member in enum_cls:
        if member.value == raw:
            return member
    errors[field] = _("Choose one of the listed values.")
    return default


def save_quiz(
    course: Course, data: dict, actor: User, quiz: Quiz | None = None
) -> Quiz:
    """Create a quiz on ``course``, or update ``quiz``, from form values.

    An empty ``max_attempts`` allows unlimited attempts and an empty
    ``time_limit_minutes`` makes the quiz untimed. ``opens_at`` and
    ``closes_at`` are read in the institution's time zone.
    """
    errors: dict[str, str] = {}
    title = text_field(data, "title", errors, max_length=200)
    instructions = text_field(
        data, "instructions", errors, max_length=10000, required=False
    )
    pass_mark = required_int(data, "pass_mark", errors, minimum=0, maximum=100)
    max_attempts = optional_int(data, "max_attempts", errors, minimum=1, maximum=100)
    time_limit = optional_int(
        data, "time_limit_minutes", errors, minimum=1, maximum=24 * 60
    )
    zone = institution_zone(course.institution_id)
    opens_at = parse_local_time(
        data, "opens_at", zone, errors, _("Opens at"), quiz.opens_at if quiz else None
    )
    closes_at = parse_local_time(
        data, "closes_at", zone, errors, _("Closes at"), quiz.closes_at if quiz else None
    )
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_at"] = _("The closing time must be after the opening time.")
    elif closes_at and _closing_moved_into_past(closes_at, quiz):
        errors["closes_at"] = _(
            "The closing time %(value)s has already passed. Enter a closing time after now "
            "(%(now)s), or leave it empty so the quiz stays open.",
            value=_local_text(closes_at, zone),
            now=_local_text(now_utc(), zone),
        )
    method = _choice(data, "grading_method", GradingMethod, GradingMethod.HIGHEST, errors)
    timings = {
        part: _choice(data, f"review_{part}", ReviewTiming, ReviewTiming.IMMEDIATELY, errors)
        for part in REVIEW_PARTS
    }
    for part, timing in timings.items():
        if timing is ReviewTiming.AFTER_CLOSE and closes_at is None and not errors.get("closes_at"):
            errors[f"review_{part}"] = _(
                "%(part)s: the quiz has no closing time, so “Only after the quiz closes” "
                "would never show it. Set a closing time, or choose another option.",
                part=REVIEW_PART_LABELS[part],
            )
    if errors:
        raise AuthoringError(errors)
    if quiz is None:
        require_draft_quiz(course)
    elif is_locked(quiz):
        _reject_locked_changes(
            quiz,
            {
                "title": title,
                "instructions": instructions,
                "pass_mark": pass_mark,
                "max_attempts": max_attempts,
                "time_limit_minutes": time_limit,
                "grading_method": method,
                "shuffle_questions": bool(data.get("shuffle_questions")),
                "shuffle_choices": bool(data.get("shuffle_choices")),
                **{f"review_{part}": timing for part, timing in timings.items()},
            },
        )

    created = quiz is None
    if quiz is None:
        quiz = Quiz(course_id=course.id)
        db.session.add(quiz)
    quiz.title = title
    quiz.instructions = instructions
    quiz.pass_mark = pass_mark
    quiz.max_attempts = max_attempts
    quiz.time_limit_minutes = time_limit
    quiz.opens_at = opens_at
    quiz.closes_at = closes_at
    quiz.grading_method = method
    quiz.shuffle_questions = bool(data.get("shuffle_questions"))
    quiz.shuffle_choices = bool(data.get("shuffle_choices"))
    for part, timing in timings.items():
        setattr(quiz, f"review_{part}", timing)
    db.session.flush()
    logger.info(
        "Quiz %s of %r %s by %r", quiz.id, course, "created" if created else "updated", actor
    )
    return quiz


def _reject_locked_changes(quiz: Quiz, values: dict) -> None:
    """Reject changes other than the schedule to a quiz of a published course."""
    changed = [name for name, value in values.items() if getattr(quiz, name) != value]
    if not changed:
        return
    message = _(
        "The course of this quiz is not a draft (status: %(status)s), so only the"
        " opening and closing times can change. Create a new version of the course"
        " to change anything else.",
        status=label(quiz.course.status),
    )
    raise AuthoringError({name: message for name in changed})


def quiz_form_values(quiz: Quiz) -> dict:
    """Return the form values that show ``quiz``'s settings for editing."""
    zone = institution_zone(quiz.course.institution_id)
    values = {
        "title": quiz.title,
        "instructions": quiz.instructions,
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts or "",
        "time_limit_minutes": quiz.time_limit_minutes or "",
        "opens_at": local_time_input(quiz.opens_at, zone),
        "closes_at": local_time_input(quiz.closes_at, zone),
        "grading_method": quiz.grading_method.value,
        "shuffle_questions": "1" if quiz.shuffle_questions else "",
        "shuffle_choices": "1" if quiz.shuffle_choices else "",
    }
    for part in REVIEW_PARTS:
        values[f"review_{part}"] = getattr(quiz, f"review_{part}").value
    return values


def new_quiz_values() -> dict:
    """Return the defaults a new quiz form starts with."""
    return {
        "pass_mark": 60,
        "max_attempts": 3,
        "grading_method": GradingMethod.HIGHEST.value,
        "review_score": ReviewTiming.IMMEDIATELY.value,
        "review_responses": ReviewTiming.IMMEDIATELY.value,
        "review_correct": ReviewTiming.AFTER_FINAL.value,
        "review_feedback": ReviewTiming.AFTER_FINAL.value,
    }


def quiz_form_context(institution_id: int) -> dict:
    """Return the choice lists the quiz form template needs."""
    from assessments.banks import categories_of

    return {
        "grading_methods": list(GradingMethod),
        "review_timings": list(ReviewTiming),
        "categories": categories_of(institution_id),
    }


def question_form_context() -> dict:
    """Return the choice lists the question form template needs."""
    from assessments.models import ChoiceScoring, QuestionKind

    return {
        "kinds": list(QuestionKind),
        "scorings": list(ChoiceScoring),
        "slots": range(1, CHOICE_SLOTS + 1),
        "blank": question_forms.BLANK,
    }


def answer_count(question: Question) -> int:
    """Return the number of attempts that asked ``question``, open or submitted."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AttemptQuestion)
        .filter_by(question_id=question.id)
    )


def reject_if_answered(question: Question, action: str) -> None:
    answered = answer_count(question)
    if answered:
        raise reject(
            ngettext(
                "%(num)d attempt asked this question, so you cannot"
                " %(action)s it: its score would no longer match. Add a new question instead.",
                "%(num)d attempts asked this question, so you cannot"
                " %(action)s it: their scores would no longer match. Add a new question instead.",
                answered,
                action=action,
            )
        )


def save_question(
    quiz: Quiz, data: dict, actor: User, question: Question | None = None
) -> Question:
    """Create a question at the end of ``quiz``, or update ``question``.

    A question that an attempt asked cannot change.
    """
    require_draft_quiz(quiz)
    if question is not None:
        reject_if_answered(question, _("change"))
    fields, errors = question_forms.validate(data)
    if errors:
        raise AuthoringError(errors)

    created = question is None
    if question is None:
        position = max((each.position for each in quiz.questions), default=0) + 1
        question = Question(position=position)
        quiz.questions.append(question)
    question_forms.apply(question, fields)
    db.session.flush()
    logger.info(
        "Question %s of quiz %s %s by %r",
        question.id,
        quiz.id,
        "created" if created else "updated",
        actor,
    )
    return question


def delete_question(quiz: Quiz, question: Question, actor: User) -> None:
    """Delete an unanswered question and renumber the rest."""
    require_draft_quiz(quiz)
    reject_if_answered(question, _("delete"))
    quiz.questions.remove(question)
    db.session.flush()
    renumber(quiz.questions)
    logger.info("Question %s of quiz %s deleted by %r", question.id, quiz.id, actor)


def add_bank_question(quiz: Quiz, source: Question, actor: User) -> Question:
    """Copy a bank question to the end of ``quiz`` as a fixed question."""
    require_draft_quiz(quiz)
    copy = question_forms.copy_question(source)
    copy.position = max((each.position for each in quiz.questions), default=0) + 1
    quiz.questions.append(copy)
    db.session.flush()
    logger.info("Bank question %s copied to quiz %s by %r", source.id, quiz.id, actor)
    return copy


def move_question(quiz: Quiz, question: Question, direction: str, actor: User) -> None:
    """Move a question up or down in a quiz of a draft course."""
    require_draft_quiz(quiz)
    move(list(quiz.questions), question, direction, actor)


def _pool_size(category: QuestionCategory, include_subcategories: bool) -> int:
    ids = category.subtree_ids() if include_subcategories else [category.id]
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Question).where(Question.category_id.in_(ids))
    )


def _pool_ids(draw: QuizDraw) -> set[int]:
    ids = draw.category.subtree_ids() if draw.include_subcategories else [draw.category_id]
    return set(
        db.session.scalars(sa.select(Question.id).where(Question.category_id.in_(ids)))
    )


def draw_shortfall(quiz: Quiz) -> tuple[QuizDraw, int] | None:
    """Return the first draw whose pool runs short, with the questions left for it.

    Draws run in ``services.draw_order``, so a draw gets its pool less the
    questions that the narrower draws inside it took.
    """
    pools = [_pool_ids(draw) for draw in quiz.draws]
    for index in services.draw_order([len(pool) for pool in pools]):
        draw = quiz.draws[index]
        taken = sum(
            quiz.draws[other].count
            for other in range(len(pools))
            if (other != index and pools[other] < pools[index])
            or (pools[other] == pools[index] and other < index)
        )
        if len(pools[index]) - taken < draw.count:
            return draw, max(len(pools[index]) - taken, 0)
    return None


def save_draw(quiz: Quiz, category: QuestionCategory | None, data: dict, actor: User) -> QuizDraw:
    """Add a draw of N random questions from ``category``, or change its count."""
    require_draft_quiz(quiz)
    errors: dict[str, str] = {}
    count = required_int(data, "count", errors, minimum=1, maximum=500)
    if category is None:
        errors["category_id"] = _("Choose a category of one of your question banks.")
    if errors:
        raise AuthoringError(errors)
    include = bool(data.get("include_subcategories"))
    available = _pool_size(category, include)
    if count > available:
        raise reject(
            ngettext(
                "The category %(name)s has %(num)d question; draw at most that many.",
                "The category %(name)s has %(num)d questions; draw at most that many.",
                available,
                name=category.path,
            ),
            "count",
        )
    draw = db.session.scalar(
        sa.select(QuizDraw).filter_by(quiz_id=quiz.id, category_id=category.id)
    )
    if draw is None:
        draw = QuizDraw(quiz_id=quiz.id, category_id=category.id)
        quiz.draws.append(draw)
    draw.count = count
    draw.include_subcategories = include
    db.session.flush()
    shortfall = draw_shortfall(quiz)
    if shortfall is not None:
        short, left = shortfall
        raise reject(
            _(
                "The draws overlap: after the other draws take their questions,"
                " %(name)s has %(left)d left for a draw of %(count)d. Draw fewer"
                " questions, or draw from categories that do not contain each other.",
                name=short.category.path,
                left=left,
                count=short.count,
            ),
            "count",
        )
    logger.info("Draw of %s from category %s on quiz %s set by %r", count, category.id, quiz.id, actor)
    return draw


def delete_draw(quiz: Quiz, draw: QuizDraw, actor: User) -> None:
    require_draft_quiz(quiz)
    quiz.draws.remove(draw)
    db.session.flush()
    logger.info("Draw %s of quiz %s deleted by %r", draw.id, quiz.id, actor)


def quiz_problems(course: Course) -> list[str]:
    """Return why the course's quizzes are not ready to publish; empty when they are."""
    problems = []
    for quiz in db.session.scalars(
        sa.select(Quiz).filter_by(course_id=course.id).order_by(Quiz.id)
    ):
        if not quiz.questions and not quiz.draws:
            problems.append(_("The quiz %(title)s has no questions.", title=quiz.title))
        shortfall = draw_shortfall(quiz) if quiz.draws else None
        if shortfall is not None:
            short, left = shortfall
            problems.append(
                ngettext(
                    "The quiz %(title)s draws %(num)d question from %(name)s,"
                    " which has %(left)d left after the quiz's other draws.",
                    "The quiz %(title)s draws %(num)d questions from %(name)s,"
                    " which has %(left)d left after the quiz's other draws.",
                    short.count,
                    title=quiz.title,
                    name=short.category.path,
                    left=left,
                )
            )
    return problems


_COPIED_QUIZ_FIELDS = (
    "title",
    "instructions",
    "pass_mark",
    "max_attempts",
    "time_limit_minutes",
    "opens_at",
    "closes_at",
    "grading_method",
    "shuffle_questions",
    "shuffle_choices",
    "review_score",
    "review_responses",
    "review_correct",
    "review_feedback",
)


def copy_quizzes(source: Course, target: Course) -> None:
    """Copy every quiz of ``source``, with questions, choices and draws, onto ``target``."""
    for quiz in db.session.scalars(
        sa.select(Quiz).filter_by(course_id=source.id).order_by(Quiz.id)
    ):
        copy = Quiz(course_id=target.id)
        for name in _COPIED_QUIZ_FIELDS:
            setattr(copy, name, getattr(quiz, name))
        for question in quiz.questions:
            copy.questions.append(question_forms.copy_question(question))
        for draw in quiz.draws:
            copy.draws.append(
                QuizDraw(
                    category_id=draw.category_id,
                    count=draw.count,
                    include_subcategories=draw.include_subcategories,
                )
            )
        db.session.add(copy)
    db.session.flush()


# Deleting a quiz ---------------------------------------------------------------


def attempt_count(quiz: Quiz) -> int:
    """Return the number of attempts at ``quiz``, open or submitted."""
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Attempt).where(Attempt.quiz_id == quiz.id)
    )


def _contest_titles(quiz: Quiz) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Contest.title)
            .join(ContestEvent, ContestEvent.contest_id == Contest.id)
            .where(ContestEvent.quiz_id == quiz.id)
            .order_by(Contest.title)
        )
    )


def delete_problem(quiz: Quiz) -> str | None:
    """Return why ``quiz`` cannot be deleted, or None when it can."""
    attempts = attempt_count(quiz)
    if attempts:
        return ngettext(
            "%(num)d attempt was made at this quiz, so it cannot be deleted: its"
            " score and the learner's record depend on it. Close the quiz instead by"
            " setting its closing time.",
            "%(num)d attempts were made at this quiz, so it cannot be deleted: their"
            " scores and the learners' records depend on it. Close the quiz instead by"
            " setting its closing time.",
            attempts,
        )
    contests = _contest_titles(quiz)
    if contests:
        return _(
            "The quiz is an event of the contest %(titles)s. Remove it from the contest"
            " first, then delete the quiz.",
            titles="、".join(contests),
        )
    if is_locked(quiz):
        return _(
            "The course of this quiz is not a draft (status: %(status)s), so learners may"
            " see the quiz and it cannot be deleted. Close the quiz instead by setting its"
            " closing time, or create a new version of the course without it.",
            status=label(quiz.course.status),
        )
    return None


def delete_quiz(quiz: Quiz, actor: User) -> None:
    """Delete a quiz without attempts, with its questions and draws; audited.

    Raises AuthoringError with the reason from ``delete_problem`` otherwise.
    """
    problem = delete_problem(quiz)
    if problem is not None:
        raise reject(problem)
    course = quiz.course
    questions = len(quiz.questions)
    audit.record(
        "quiz.deleted",
        "quiz",
        quiz.id,
        f"{course.code} {course.title}: quiz {quiz.title} deleted",
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={
            "title": quiz.title,
            "course_id": course.id,
            "course_code": course.code,
            "questions": questions,
        },
    )
    db.session.delete(quiz)
    db.session.flush()
    logger.info("Quiz %s of course %s deleted by %r", quiz.id, course.id, actor)
