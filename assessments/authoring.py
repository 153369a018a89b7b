"""Trainer authoring of quizzes and their questions: validation and writes.

Functions take plain dicts of form values and raise ``AuthoringError`` with
one message per invalid field. They flush but never commit; views commit.
"""

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from assessments.models import AttemptAnswer, Choice, Question, QuestionKind, Quiz
from courses import logger
from courses.authoring import (
    AuthoringError,
    optional_int,
    reject,
    renumber,
    required_int,
    text_field,
)
from courses.models import Course
from lms.accounts.models import User
from lms.extensions import db

#: Choice rows shown on the question form.
CHOICE_SLOTS = 6
MAX_POINTS = Decimal("9999.9")


def save_quiz(
    course: Course, data: dict, actor: User, quiz: Quiz | None = None
) -> Quiz:
    """Create a quiz on ``course``, or update ``quiz``, from form values.

    An empty ``max_attempts`` allows unlimited attempts and an empty
    ``time_limit_minutes`` makes the quiz untimed.
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
    if errors:
        raise AuthoringError(errors)

    created = quiz is None
    if quiz is None:
        quiz = Quiz(course_id=course.id)
        db.session.add(quiz)
    quiz.title = title
    quiz.instructions = instructions
    quiz.pass_mark = pass_mark
    quiz.max_attempts = max_attempts
    quiz.time_limit_minutes = time_limit
    db.session.flush()
    logger.info(
        "Quiz %s of %r %s by %r",
        quiz.id,
        course,
        "created" if created else "updated",
        actor,
    )
    return quiz


def answer_count(question: Question) -> int:
    """Return the number of submitted answers to ``question``.

    An attempt stores its answers only when it is submitted, so open
    attempts do not count.
    """
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AttemptAnswer)
        .filter_by(question_id=question.id)
    )


def _reject_if_answered(question: Question, action: str) -> None:
    answered = answer_count(question)
    if answered:
        raise reject(
            _(
                "%(count)d submitted answers refer to this question, so you cannot"
                " %(action)s it: their scores would no longer match. Add a new question instead.",
                count=answered,
                action=action,
            )
        )


def _points(data: dict, errors: dict) -> Decimal | None:
    raw = (data.get("points") or "").strip() or "1"
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors["points"] = _("Points must be a number, e.g. 1 or 2.5.")
        return None
    if not value.is_finite() or value <= 0 or value > MAX_POINTS:
        errors["points"] = _(
            "Points must be greater than 0 and at most %(max)s.", max=MAX_POINTS
        )
        return None
    if value != value.quantize(Decimal("0.1")):
        errors["points"] = _("Points can have one decimal place at most.")
        return None
    return value


def _choices(
    data: dict, kind: QuestionKind | None, errors: dict
) -> list[tuple[str, bool]]:
    """Read the filled choice rows and check the number of correct ones for ``kind``."""
    choices = []
    for slot in range(1, CHOICE_SLOTS + 1):
        text = (data.get(f"choice_{slot}") or "").strip()
        correct = bool(data.get(f"correct_{slot}"))
        if not text:
            if correct:
                errors[f"choice_{slot}"] = _("A choice marked correct needs a text.")
            continue
        if len(text) > 500:
            errors[f"choice_{slot}"] = _("Enter at most %(max)d characters.", max=500)
        choices.append((text, correct))
    if kind is None:
        return choices

    correct_count = sum(1 for _text_value, correct in choices if correct)
    if kind is QuestionKind.TRUE_FALSE:
        if len(choices) != 2:
            errors["choices"] = _("A true/false question needs exactly two choices.")
        elif correct_count != 1:
            errors["choices"] = _(
                "A true/false question needs exactly one correct choice."
            )
    elif len(choices) < 2:
        errors["choices"] = _("Enter at least two choices.")
    elif kind is QuestionKind.SINGLE and correct_count != 1:
        errors["choices"] = _(
            "A single-choice question needs exactly one correct choice; %(count)d are marked.",
            count=correct_count,
        )
    elif kind is QuestionKind.MULTIPLE and correct_count < 1:
        errors["choices"] = _(
            "A multiple-choice question needs at least one correct choice."
        )
    return choices


def save_question(
    quiz: Quiz, data: dict, actor: User, question: Question | None = None
) -> Question:
    """Create a question at the end of ``quiz``, or update ``question``.

    Choices come from the fields ``choice_1`` .. ``choice_6`` with the
    checkboxes ``correct_1`` .. ``correct_6``; empty rows are skipped. A
    question that submitted attempts answered cannot change.
    """
    if question is not None:
        _reject_if_answered(question, _("change"))
    errors: dict[str, str] = {}
    kind = None
    raw_kind = (data.get("kind") or "").strip()
    for member in QuestionKind:
        if member.value == raw_kind:
            kind = member
    if kind is None:
        errors["kind"] = _("Choose one of the listed values.")
    text = text_field(data, "text", errors, max_length=5000)
    points = _points(data, errors)
    explanation = text_field(
        data, "explanation", errors, max_length=5000, required=False
    )
    choices = _choices(data, kind, errors)
    if errors:
        raise AuthoringError(errors)

    created = question is None
    if question is None:
        position = max((each.position for each in quiz.questions), default=0) + 1
        question = Question(position=position)
        quiz.questions.append(question)
    question.kind = kind
    question.text = text
    question.points = points
    question.explanation = explanation
    question.choices.clear()
    db.session.flush()
    for position, (choice_text, correct) in enumerate(choices, start=1):
        question.choices.append(
            Choice(position=position, text=choice_text, is_correct=correct)
        )
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
    _reject_if_answered(question, _("delete"))
    quiz.questions.remove(question)
    db.session.flush()
    renumber(quiz.questions)
    logger.info("Question %s of quiz %s deleted by %r", question.id, quiz.id, actor)


def quiz_problems(course: Course) -> list[str]:
    """Return why the course's quizzes are not ready to publish; empty when they are."""
    problems = []
    for quiz in db.session.scalars(
        sa.select(Quiz).filter_by(course_id=course.id).order_by(Quiz.id)
    ):
        if not quiz.questions:
            problems.append(_("The quiz %(title)s has no questions.", title=quiz.title))
    return problems


def copy_quizzes(source: Course, target: Course) -> None:
    """Copy every quiz of ``source``, with questions and choices, onto ``target``."""
    for quiz in db.session.scalars(
        sa.select(Quiz).filter_by(course_id=source.id).order_by(Quiz.id)
    ):
        copy = Quiz(
            course_id=target.id,
            title=quiz.title,
            instructions=quiz.instructions,
            pass_mark=quiz.pass_mark,
            max_attempts=quiz.max_attempts,
            time_limit_minutes=quiz.time_limit_minutes,
        )
        for question in quiz.questions:
            question_copy = Question(
                position=question.position,
                kind=question.kind,
                text=question.text,
                points=question.points,
                explanation=question.explanation,
            )
            for choice in question.choices:
                question_copy.choices.append(
                    Choice(
                        position=choice.position,
                        text=choice.text,
                        is_correct=choice.is_correct,
                    )
                )
            copy.questions.append(question_copy)
        db.session.add(copy)
    db.session.flush()
