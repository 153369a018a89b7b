"""Question banks and categories of an institution: listing and writes."""

from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import ngettext

from assessments import logger, question_forms
from assessments.models import (
    Question,
    QuestionBank,
    QuestionCategory,
    QuestionTag,
    Quiz,
    QuizDraw,
)
from courses.authoring import AuthoringError, reject, text_field
from courses.models import Course, PublicationStatus
from lms.accounts.models import User
from lms.extensions import db


def banks_of(institution_id: int) -> list[QuestionBank]:
    return list(
        db.session.scalars(
            sa.select(QuestionBank)
            .filter_by(institution_id=institution_id)
            .order_by(QuestionBank.name)
        )
    )


def categories_of(institution_id: int) -> list[QuestionCategory]:
    """Return every category of the institution's banks, ordered by bank and path."""
    rows = db.session.scalars(
        sa.select(QuestionCategory)
        .join(QuestionBank, QuestionBank.id == QuestionCategory.bank_id)
        .where(QuestionBank.institution_id == institution_id)
    )
    return sorted(rows, key=lambda c: (c.bank.name, c.path))


def create_bank(institution_id: int, data: dict, actor: User) -> QuestionBank:
    """Create a bank with one top category of the same name."""
    errors: dict[str, str] = {}
    name = text_field(data, "name", errors, max_length=200)
    description = text_field(data, "description", errors, max_length=2000, required=False)
    if errors:
        raise AuthoringError(errors)
    taken = db.session.scalar(
        sa.select(QuestionBank.id).filter_by(institution_id=institution_id, name=name)
    )
    if taken:
        raise reject(_("A bank named %(name)s already exists.", name=name), "name")
    bank = QuestionBank(institution_id=institution_id, name=name, description=description)
    bank.categories.append(QuestionCategory(name=name))
    db.session.add(bank)
    db.session.flush()
    logger.info("Question bank %s created by %r", bank.id, actor)
    return bank


def create_category(
    bank: QuestionBank, data: dict, actor: User
) -> QuestionCategory:
    """Add a category to ``bank``, below the category ``parent_id`` names."""
    errors: dict[str, str] = {}
    name = text_field(data, "name", errors, max_length=200)
    parent = category_of(bank, data.get("parent_id"))
    if parent is None:
        errors["parent_id"] = _("Choose a parent category of this bank.")
    if errors:
        raise AuthoringError(errors)
    if any(child.name == name for child in parent.children):
        raise reject(
            _("%(parent)s already has a category named %(name)s.", parent=parent.path, name=name),
            "name",
        )
    category = QuestionCategory(bank_id=bank.id, parent=parent, name=name)
    db.session.add(category)
    db.session.flush()
    logger.info("Category %s added to bank %s by %r", category.id, bank.id, actor)
    return category


def update_category(category: QuestionCategory, data: dict, actor: User) -> None:
    """Rename ``category`` and move it below the category ``parent_id`` names.

    A bank's top category stays on top. Any other category moves only below
    a category of its bank that is outside its own subtree.
    """
    errors: dict[str, str] = {}
    name = text_field(data, "name", errors, max_length=200)
    parent = category.parent
    if parent is not None:
        parent = category_of(category.bank, data.get("parent_id"))
        if parent is None:
            errors["parent_id"] = _("Choose a parent category of this bank.")
        elif parent.id in category.subtree_ids():
            errors["parent_id"] = _(
                "Choose a parent outside this category and the categories below it."
            )
    if errors:
        raise AuthoringError(errors)
    siblings = parent.children if parent is not None else []
    if any(other.name == name and other.id != category.id for other in siblings):
        raise reject(
            _("%(parent)s already has a category named %(name)s.", parent=parent.path, name=name),
            "name",
        )
    short_before = short_draw_quizzes(category.bank)
    category.name = name
    category.parent = parent
    db.session.flush()
    reject_short_draws(category.bank, short_before, "parent_id")
    logger.info(
        "Category %s of bank %s renamed or moved by %r", category.id, category.bank_id, actor
    )


def category_of(bank: QuestionBank, raw_id) -> Optional[QuestionCategory]:
    """Return the category of ``bank`` with the given id, or None."""
    try:
        category_id = int(raw_id)
    except (TypeError, ValueError):
        return None
    category = db.session.get(QuestionCategory, category_id)
    if category is None or category.bank_id != bank.id:
        return None
    return category


def bank_questions(
    bank: QuestionBank,
    category: Optional[QuestionCategory] = None,
    tag: str = "",
) -> list[Question]:
    """Return the bank's questions, optionally under one category or with one tag."""
    ids = (
        category.subtree_ids()
        if category is not None
        else [c.id for c in bank.categories]
    )
    query = sa.select(Question).where(Question.category_id.in_(ids))
    if tag:
        query = query.where(
            Question.id.in_(sa.select(QuestionTag.question_id).filter_by(value=tag))
        )
    # The bank page shows every question's tags and checks its choices for export.
    query = query.options(so.selectinload(Question.tags), so.selectinload(Question.choices))
    return list(db.session.scalars(query.order_by(Question.category_id, Question.position)))


def save_bank_question(
    category: QuestionCategory,
    data: dict,
    actor: User,
    question: Optional[Question] = None,
) -> Question:
    """Create a question in ``category``, or update ``question`` and move it there."""
    from assessments.authoring import reject_if_answered

    if question is not None:
        reject_if_answered(question, _("change"))
    fields, errors = question_forms.validate(data)
    if errors:
        raise AuthoringError(errors)
    created = question is None
    short_before = set() if created else short_draw_quizzes(category.bank)
    if question is None:
        question = Question(position=len(category.questions) + 1)
    question.category = category
    db.session.add(question)
    question_forms.apply(question, fields)
    db.session.flush()
    if not created:
        reject_short_draws(category.bank, short_before, "category_id")
    logger.info(
        "Bank question %s %s by %r", question.id, "created" if created else "updated", actor
    )
    return question


def delete_bank_question(question: Question, actor: User) -> None:
    from assessments.authoring import reject_if_answered

    reject_if_answered(question, _("delete"))
    bank = question.category.bank
    short_before = short_draw_quizzes(bank)
    db.session.delete(question)
    db.session.flush()
    reject_short_draws(bank, short_before)
    logger.info("Bank question %s deleted by %r", question.id, actor)


def _published_quizzes_drawing_from(bank: QuestionBank) -> list[Quiz]:
    return list(
        db.session.scalars(
            sa.select(Quiz)
            .join(Course, Course.id == Quiz.course_id)
            .where(
                Course.status == PublicationStatus.PUBLISHED,
                Quiz.id.in_(
                    sa.select(QuizDraw.quiz_id)
                    .join(QuestionCategory, QuestionCategory.id == QuizDraw.category_id)
                    .where(QuestionCategory.bank_id == bank.id)
                ),
            )
            .order_by(Quiz.id)
        )
    )


def short_draw_quizzes(bank: QuestionBank) -> set[int]:
    """Return the ids of published quizzes whose draws from ``bank`` already run short."""
    from assessments.authoring import draw_shortfall

    return {
        quiz.id
        for quiz in _published_quizzes_drawing_from(bank)
        if draw_shortfall(quiz) is not None
    }


def reject_short_draws(bank: QuestionBank, short_before: set[int], field: str = "form") -> None:
    """Raise when a change leaves a published quiz's random draw from ``bank`` short.

    Call after flushing a change that deletes or moves questions or
    categories, with ``short_draw_quizzes`` taken before it. The caller
    rolls the change back on the error. An attempt draws its questions
    when it starts, so a short pool would stop every learner from starting
    the quiz. A quiz that ``short_before`` lists was short before the
    change and does not block it. Quizzes of draft courses are checked
    when the course is published instead.
    """
    from assessments.authoring import draw_shortfall

    for quiz in _published_quizzes_drawing_from(bank):
        if quiz.id in short_before:
            continue
        shortfall = draw_shortfall(quiz)
        if shortfall is None:
            continue
        draw, left = shortfall
        raise reject(
            ngettext(
                "The quiz %(quiz)s of the published course %(course)s draws %(num)d"
                " question from %(category)s, which would have %(left)d left, so no"
                " learner could start it. Add questions to that category first, or"
                " draw fewer in a new version of the course.",
                "The quiz %(quiz)s of the published course %(course)s draws %(num)d"
                " questions from %(category)s, which would have %(left)d left, so no"
                " learner could start it. Add questions to that category first, or"
                " draw fewer in a new version of the course.",
                draw.count,
                quiz=quiz.title,
                course=quiz.course.title,
                category=draw.category.path,
                left=left,
            ),
            field,
        )
