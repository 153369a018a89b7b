"""Quiz attempts: start or resume, save answers as they come, submit once.

Every function that depends on the time takes ``now`` (an aware UTC
datetime, default: the current time), so tests run on a fixed clock.
"""

import functools
import hashlib
import hmac
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from assessments import grading, logger
from assessments.models import (
    SCORE_PLACES,
    Attempt,
    AttemptAnswer,
    AttemptQuestion,
    Choice,
    GradingMethod,
    Question,
    QuestionKind,
    Quiz,
    QuizDraw,
    QuizGrant,
)
from assessments.responses import clean_response, has_input
from courses import services as course_services
from courses.models import Course
from lms import audit, signals
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.records.services import local_date

#: Grace period for network latency between the deadline and a save.
SUBMIT_GRACE = timedelta(seconds=30)


class AttemptError(Exception):
    """The attempt cannot be started, saved or submitted; ``code`` gives the reason.

    Codes: ``not_open``, ``closed``, ``no_attempts``, ``passed``,
    ``locked`` (prerequisite courses incomplete), ``not_enough_questions``,
    ``conflict`` (a parallel start conflicted and its attempt is gone),
    ``submitted``, ``time_up``.
    """

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# Queries ------------------------------------------------------------------


def attempts_for(user: User, quiz: Quiz) -> list[Attempt]:
    """Return the learner's attempts at the quiz, by number.

    Within one GET request the list is kept: the quiz page reads it for the
    attempts, the grade and the attempts left, the course outline for the
    quiz list and the completion check, and a GET starts no attempt.
    """
    cache = course_services.request_cache("attempts_for")
    if cache is not None and (user.id, quiz.id) in cache:
        return list(cache[(user.id, quiz.id)])
    attempts = list(
        db.session.scalars(
            sa.select(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id).order_by(Attempt.number)
        )
    )
    if cache is not None:
        cache[(user.id, quiz.id)] = attempts
    return list(attempts)


def open_attempt(user: User, quiz: Quiz) -> Optional[Attempt]:
    return db.session.scalar(
        sa.select(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id, submitted_at=None)
    )


def grant_for(user: User, quiz: Quiz) -> Optional[QuizGrant]:
    return db.session.scalar(sa.select(QuizGrant).filter_by(user_id=user.id, quiz_id=quiz.id))


def allowed_attempts(user: User, quiz: Quiz) -> Optional[int]:
    """Return the quiz's attempt limit plus the learner's granted extra; None is unlimited."""
    if quiz.max_attempts is None:
        return None
    return _attempt_limit(quiz, grant_for(user, quiz))


def _attempt_limit(quiz: Quiz, grant: Optional[QuizGrant]) -> Optional[int]:
    if quiz.max_attempts is None:
        return None
    return quiz.max_attempts + (grant.extra_attempts if grant else 0)


def attempts_left(user: User, quiz: Quiz) -> Optional[int]:
    """Return how many attempts the learner may still start; None means unlimited."""
    allowed = allowed_attempts(user, quiz)
    if allowed is None:
        return None
    return max(allowed - len(attempts_for(user, quiz)), 0)


def quiz_grade(
    user: User, quiz: Quiz, attempts: Optional[list[Attempt]] = None
) -> Optional[Decimal]:
    """Return the learner's percentage by the quiz's grading method, or None yet.

    Attempts still waiting for an essay grade do not count. A caller that
    has already loaded the learner's ``attempts`` at the quiz passes them.
    """
    if attempts is None:
        attempts = attempts_for(user, quiz)
    graded = [
        attempt
        for attempt in attempts
        if attempt.submitted_at is not None and not attempt.needs_grading and attempt.max_score
    ]
    if not graded:
        return None
    percents = [attempt.score * 100 / attempt.max_score for attempt in graded]
    if quiz.grading_method is GradingMethod.LAST:
        value = percents[-1]
    elif quiz.grading_method is GradingMethod.AVERAGE:
        value = sum(percents, Decimal(0)) / len(percents)
    else:
        value = max(percents)
    return value.quantize(Decimal("0.01"))


def has_passed(user: User, quiz: Quiz, attempts: Optional[list[Attempt]] = None) -> bool:
    grade = quiz_grade(user, quiz, attempts)
    return grade is not None and grade >= quiz.pass_mark


def window_error(quiz: Quiz, now: datetime) -> Optional[str]:
    """Return ``not_open`` or ``closed`` when ``now`` is outside the quiz's window."""
    if quiz.opens_at is not None and now < quiz.opens_at:
        return "not_open"
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return "closed"
    return None


#: Default of ``deadline``'s ``grant``: the learner's extra time is looked up.
UNKNOWN_GRANT: Any = object()


def deadline(attempt: Attempt, grant: Any = UNKNOWN_GRANT) -> Optional[datetime]:
    """Return when the attempt ends: its time limit, extended time, or the quiz closing.

    ``grant`` is the learner's ``QuizGrant`` at the quiz (or None) when the
    caller has read it already, which saves a query.
    """
    quiz = attempt.quiz
    limits = []
    if quiz.time_limit_minutes is not None:
        if grant is UNKNOWN_GRANT:
            grant = grant_for(attempt.user, quiz)
        minutes = quiz.time_limit_minutes + (grant.extra_minutes if grant else 0)
        limits.append(attempt.started_at + timedelta(minutes=minutes))
    if quiz.closes_at is not None:
        limits.append(quiz.closes_at)
    return min(limits) if limits else None


#: Default of the ``limit`` arguments below: the deadline is looked up.
#: Passing the deadline read earlier in the request saves a query.
UNKNOWN_DEADLINE: Any = object()


def seconds_left(
    attempt: Attempt, now: Optional[datetime] = None, limit: Any = UNKNOWN_DEADLINE
) -> Optional[int]:
    if limit is UNKNOWN_DEADLINE:
        limit = deadline(attempt)
    if limit is None:
        return None
    return max(int((limit - (now or now_utc())).total_seconds()), 0)


def is_expired(attempt: Attempt, now: datetime, limit: Any = UNKNOWN_DEADLINE) -> bool:
    if limit is UNKNOWN_DEADLINE:
        limit = deadline(attempt)
    return limit is not None and now > limit + SUBMIT_GRACE


# Starting ------------------------------------------------------------------


@dataclass
class StartContext:
    """A learner's attempts, grant and course standing at one quiz, read in one query."""

    quiz: Quiz
    #: The learner's attempts at the quiz, by number.
    attempts: list[Attempt]
    grant: Optional[QuizGrant]
    standing: course_services.CourseStanding
    #: The quiz's own questions with their choices, read by the same query on
    #: PostgreSQL. None on SQLite, where starting reads them separately.
    fixed_questions: Optional[list["LayoutQuestion"]] = None


def load_start_context(user: User, quiz_id: int) -> Optional[StartContext]:
    """Load a quiz for ``user`` to start, or return None when there is no such quiz.

    One query reads the quiz with its course, the learner's attempts and
    grant, whether the quiz draws from banks, and the learner's standing in
    the course for the access and prerequisite checks. On PostgreSQL it also
    reads the quiz's own questions with their choices, as one JSON value,
    which saves a new attempt a round trip to the database.
    """
    dialect = db.session.get_bind().dialect.name
    rows = db.session.execute(
        _start_context_query(dialect), {"user_id": user.id, "quiz_id": quiz_id}
    ).all()
    if not rows:
        return None
    quiz, grant, _attempt, draws_from_banks, fixed, *standing = rows[0]
    if not draws_from_banks:
        set_committed_value(quiz, "draws", [])
    return StartContext(
        quiz=quiz,
        attempts=[row[2] for row in rows if row[2] is not None],
        grant=grant,
        standing=course_services.standing_from_values(standing),
        fixed_questions=None if dialect != "postgresql" else _questions_from_json(fixed or []),
    )


@functools.cache
def _start_context_query(dialect: str) -> sa.Select:
    """Build the query of ``load_start_context`` once per process and dialect."""
    user_id, quiz_id = sa.bindparam("user_id"), sa.bindparam("quiz_id")
    has_draws = sa.select(QuizDraw.id).where(QuizDraw.quiz_id == Quiz.id).exists()
    # The course id comes from a subquery of its own, because the standing's
    # nested subqueries cannot refer to the outer quiz row.
    quiz_table = Quiz.__table__.alias("quiz_of_course")
    course_id = (
        sa.select(quiz_table.c.course_id).where(quiz_table.c.id == quiz_id).scalar_subquery()
    )
    return (
        sa.select(
            Quiz,
            QuizGrant,
            Attempt,
            has_draws,
            _fixed_questions_json(quiz_id) if dialect == "postgresql" else sa.null(),
            *course_services.standing_columns(user_id, course_id),
        )
        .join(Quiz.course)
        .outerjoin(QuizGrant, sa.and_(QuizGrant.quiz_id == Quiz.id, QuizGrant.user_id == user_id))
        .outerjoin(Attempt, sa.and_(Attempt.quiz_id == Quiz.id, Attempt.user_id == user_id))
        .where(Quiz.id == quiz_id)
        .order_by(Attempt.number)
        .options(so.contains_eager(Quiz.course))
    )


def _fixed_questions_json(quiz_id: sa.BindParameter) -> sa.ScalarSelect:
    """Select the quiz's own questions and their choices as one JSON array (PostgreSQL).

    Each element is ``[question id, kind, points as text, choice id, text,
    match text]``, one per question and choice, in the order of
    ``_fixed_questions_query``. A question without choices has one element
    whose last three items are null. The subquery does not depend on the
    outer row, so PostgreSQL computes it once per query.
    """
    question = Question.__table__.alias("fixed_question")
    choice = Choice.__table__.alias("fixed_choice")
    element = sa.func.json_build_array(
        question.c.id,
        question.c.kind,
        sa.cast(question.c.points, sa.Text),
        choice.c.id,
        choice.c.text,
        choice.c.match_text,
    )
    return (
        sa.select(
            sa.func.json_agg(
                postgresql.aggregate_order_by(element, question.c.position, choice.c.position)
            )
        )
        .select_from(question.outerjoin(choice, choice.c.question_id == question.c.id))
        .where(question.c.quiz_id == quiz_id)
        .scalar_subquery()
    )


def _questions_from_json(elements: list) -> list["LayoutQuestion"]:
    questions: dict[int, LayoutQuestion] = {}
    for question_id, kind, points, choice_id, text, match_text in elements:
        item = questions.get(question_id)
        if item is None:
            item = questions[question_id] = LayoutQuestion(
                question_id, QuestionKind(kind), Decimal(points)
            )
        if choice_id is not None:
            item.choices.append((choice_id, text, match_text))
    return list(questions.values())


def start_attempt(
    user: User,
    quiz: Quiz,
    now: Optional[datetime] = None,
    context: Optional[StartContext] = None,
) -> Attempt:
    """Resume the open attempt, or start the next one within the window and limits.

    A new attempt also needs the prerequisite courses of the quiz's course.
    ``context`` is what ``load_start_context`` returned for this learner and
    quiz in the same transaction; without it the context is loaded here.
    """
    now = now or now_utc()
    if context is None:
        context = load_start_context(user, quiz.id)
    attempts = context.attempts
    current = next((each for each in attempts if each.submitted_at is None), None)
    if current is not None:
        if not close_if_expired(current, now):
            return current
    if course_services.missing_prerequisites(user, quiz.course, context.standing):
        raise AttemptError("locked")
    problem = window_error(quiz, now)
    if problem:
        raise AttemptError(problem)
    used = len(attempts)
    allowed = _attempt_limit(quiz, context.grant)
    if allowed is not None and used >= allowed:
        raise AttemptError("no_attempts")
    if has_passed(user, quiz, attempts):
        raise AttemptError("passed")

    number = used + 1
    rows, max_score = _lay_out(quiz, user, number, context.fixed_questions)
    values = {
        "quiz_id": quiz.id,
        "user_id": user.id,
        "number": number,
        "started_at": now,
        "submitted_at": None,
        "score": None,
        "max_score": max_score,
        "passed": False,
        "needs_grading": False,
        "closed_at_deadline": False,
    }
    if db.session.get_bind().dialect.name == "postgresql":
        attempt_id = _insert_attempt_with_questions(values, rows)
    else:
        attempt_id = _insert_attempt(values)
        if attempt_id is not None:
            _insert_attempt_questions([dict(row, attempt_id=attempt_id) for row in rows])
    if attempt_id is None:
        # A parallel request (a double click) took this attempt number or
        # opened an attempt first, so its attempt is the one to use.
        existing = open_attempt(user, quiz) or next(iter(attempts_for(user, quiz)[-1:]), None)
        if existing is None:
            raise AttemptError("conflict")
        return existing
    attempt = _persistent_attempt(attempt_id, values)
    logger.info("Attempt %s at quiz %s started by %r", number, quiz.id, user)
    return attempt


def _insert_attempt(values: dict) -> Optional[int]:
    """Insert an attempt row and return its id, or None when a unique key rejects it.

    ON CONFLICT DO NOTHING leaves the transaction usable, so no savepoint is
    needed around the insert. On PostgreSQL a conflicting row that another
    transaction has not committed yet makes this insert wait for that
    transaction's end.
    """
    dialect = db.session.get_bind().dialect.name
    return db.session.execute(_attempt_insert(dialect), values).scalar()


@functools.cache
def _attempt_insert(dialect: str) -> sa.Insert:
    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    if dialect not in inserts:
        raise NotImplementedError(
            f"starting an attempt is not supported on {dialect}; use PostgreSQL or SQLite"
        )
    table = Attempt.__table__
    return inserts[dialect](table).on_conflict_do_nothing().returning(table.c.id)


#: Attempt questions per multi-row INSERT, 5 parameters each, well below
#: SQLite's default limit of 32,766 parameters per statement (3.32 and later).
ATTEMPT_QUESTIONS_PER_INSERT = 500
ATTEMPT_QUESTION_COLUMNS = ("attempt_id", "question_id", "position", "choice_order", "match_options")


def _insert_attempt_questions(rows: list[dict]) -> None:
    """Insert an attempt's question rows with one multi-row INSERT per 500 rows.

    One statement, not an executemany: psycopg sends an executemany as one
    prepared execution per row in pipeline mode, which cost about 1 ms of
    CPU per start for ten questions. The rows go through Core because they
    need nothing from the ORM.
    """
    for start in range(0, len(rows), ATTEMPT_QUESTIONS_PER_INSERT):
        chunk = rows[start:start + ATTEMPT_QUESTIONS_PER_INSERT]
        params = {
            f"{column}_{index}": row[column]
            for index, row in enumerate(chunk)
            for column in ATTEMPT_QUESTION_COLUMNS
        }
        db.session.execute(_attempt_questions_insert(len(chunk)), params)


@functools.lru_cache(maxsize=64)
def _attempt_questions_insert(count: int) -> sa.TextClause:
    """Build the INSERT of ``count`` attempt questions once per process and count.

    A text statement, because SQLAlchemy does not cache the compiled form
    of a multi-row ``insert().values()``, and compiling it cost more than
    the executemany it replaces. The bind parameters keep the columns'
    types, so the JSON columns are serialised as the ORM would.
    """
    table = AttemptQuestion.__table__
    names = ", ".join(ATTEMPT_QUESTION_COLUMNS)
    rows = ", ".join(
        "(" + ", ".join(f":{column}_{index}" for column in ATTEMPT_QUESTION_COLUMNS) + ")"
        for index in range(count)
    )
    return sa.text(f"INSERT INTO {table.name} ({names}) VALUES {rows}").bindparams(
        *(
            sa.bindparam(f"{column}_{index}", type_=table.c[column].type)
            for index in range(count)
            for column in ATTEMPT_QUESTION_COLUMNS
        )
    )


def _insert_attempt_with_questions(values: dict, rows: list[dict]) -> Optional[int]:
    """Insert an attempt and its question rows in one statement (PostgreSQL).

    The question rows are inserted from the attempt insert's RETURNING.
    When a unique key rejects the attempt (ON CONFLICT DO NOTHING), no row
    goes in and the result is None, as from ``_insert_attempt``. The rows
    travel as one JSON array, so the statement has the same text for any
    number of questions and a connection reuses one prepared form of it.
    """
    params = {f"attempt_{key}": value for key, value in values.items()}
    params["layout"] = json.dumps(
        [[row[column] for column in ATTEMPT_QUESTION_COLUMNS[1:]] for row in rows],
        ensure_ascii=False,
    )
    statement = _attempt_with_questions_insert(tuple(values))
    return db.session.execute(statement, params).scalar()


@functools.cache
def _attempt_with_questions_insert(attempt_columns: tuple[str, ...]) -> sa.TextClause:
    """Build the statement of ``_insert_attempt_with_questions`` once per process.

    A data-modifying WITH: the attempt's INSERT ... RETURNING feeds the
    INSERT of its questions, which unpacks the layout array with one
    element per question. The foreign key check finds the new attempt,
    because PostgreSQL runs it at the end of the whole statement.
    """
    attempt, question = Attempt.__table__, AttemptQuestion.__table__
    values = ", ".join(f":attempt_{name}" for name in attempt_columns)
    sql = (
        f"WITH new_attempt AS (INSERT INTO {attempt.name} ({', '.join(attempt_columns)})"
        f" VALUES ({values}) ON CONFLICT DO NOTHING RETURNING id),"
        f" new_questions AS (INSERT INTO {question.name} ({', '.join(ATTEMPT_QUESTION_COLUMNS)})"
        " SELECT new_attempt.id, (item->>0)::integer, (item->>1)::integer, item->2, item->3"
        " FROM new_attempt, json_array_elements(CAST(:layout AS json)) AS item)"
        " SELECT id FROM new_attempt"
    )
    return sa.text(sql).bindparams(
        *(sa.bindparam(f"attempt_{name}", type_=attempt.c[name].type) for name in attempt_columns),
        sa.bindparam("layout", type_=sa.Text),
    )


def _persistent_attempt(attempt_id: int, values: dict) -> Attempt:
    """Return the inserted attempt as a session object without reading it back."""
    attempt = Attempt(id=attempt_id, **values)
    so.make_transient_to_detached(attempt)
    db.session.add(attempt)
    # A new attempt has no answers yet; saving them appends to this list.
    set_committed_value(attempt, "answers", [])
    return attempt


def layout_random(quiz: Quiz, user: User, number: int) -> random.Random:
    """Return the random source for one attempt's draw and shuffle.

    It is seeded from the secret key, quiz, learner and attempt number, so the
    same attempt always gets the same layout and learners cannot predict it.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"{quiz.id}:{user.id}:{number}".encode()
    return random.Random(hmac.new(key, message, hashlib.sha256).hexdigest())


@dataclass
class LayoutQuestion:
    """The columns of a question and its choices that laying out an attempt reads."""

    id: int
    kind: QuestionKind
    points: Decimal
    #: (id, text, match_text) of each choice, by position.
    choices: list[tuple[int, str, Optional[str]]] = field(default_factory=list)


def draw_order(pool_sizes: list[int]) -> list[int]:
    """Return the indexes of a quiz's draws from the smallest pool to the largest.

    Two draws' pools are either disjoint or nested, because each is one category
    or one category's subtree. Drawing the narrower pools first leaves a wider
    draw every question of its pool that the narrower ones did not take, so a
    quiz whose draws fit by ``authoring.draw_shortfall`` never runs short.
    """
    return sorted(range(len(pool_sizes)), key=lambda index: pool_sizes[index])


def draw_questions(
    quiz: Quiz, rng: random.Random, fixed: Optional[list[LayoutQuestion]] = None
) -> list[LayoutQuestion]:
    """Return the fixed questions and, per draw, ``count`` random ones of its category.

    Each comes with its choices: the fixed ones from one query, unless
    ``fixed`` already holds them, the drawn ones from one query per draw and
    one for all their choices.
    """
    chosen = list(fixed) if fixed is not None else _fixed_questions(quiz)
    taken = {question.id for question in chosen}
    table = Question.__table__
    pools = []
    for draw in quiz.draws:
        category_ids = (
            draw.category.subtree_ids() if draw.include_subcategories else [draw.category_id]
        )
        pools.append(
            [
                LayoutQuestion(row.id, row.kind, row.points)
                for row in db.session.execute(
                    sa.select(table.c.id, table.c.kind, table.c.points)
                    .where(table.c.category_id.in_(category_ids))
                    .order_by(table.c.id)
                )
            ]
        )
    picks: dict[int, list[LayoutQuestion]] = {}
    for index in draw_order([len(pool) for pool in pools]):
        pool = [question for question in pools[index] if question.id not in taken]
        count = quiz.draws[index].count
        if len(pool) < count:
            raise AttemptError("not_enough_questions")
        picks[index] = rng.sample(pool, count)
        taken.update(question.id for question in picks[index])
    drawn = [question for index in range(len(pools)) for question in picks[index]]
    _load_choices(drawn)
    return chosen + drawn


def _fixed_questions(quiz: Quiz) -> list[LayoutQuestion]:
    questions: dict[int, LayoutQuestion] = {}
    for row in db.session.execute(_fixed_questions_query(), {"quiz_id": quiz.id}):
        item = questions.get(row.id)
        if item is None:
            item = questions[row.id] = LayoutQuestion(row.id, row.kind, row.points)
        if row.choice_id is not None:
            item.choices.append((row.choice_id, row.text, row.match_text))
    return list(questions.values())


@functools.cache
def _fixed_questions_query() -> sa.Select:
    """Build the query of the quiz's own questions with their choices once per process."""
    question, choice = Question.__table__.c, Choice.__table__.c
    return (
        sa.select(
            question.id,
            question.kind,
            question.points,
            choice.id.label("choice_id"),
            choice.text,
            choice.match_text,
        )
        .select_from(
            Question.__table__.outerjoin(Choice.__table__, choice.question_id == question.id)
        )
        .where(question.quiz_id == sa.bindparam("quiz_id"))
        .order_by(question.position, choice.position)
    )


def _load_choices(questions: list[LayoutQuestion]) -> None:
    """Fill in the choices of ``questions``, in one query."""
    if not questions:
        return
    by_id = {question.id: question for question in questions}
    choice = Choice.__table__.c
    for row in db.session.execute(
        sa.select(choice.question_id, choice.id, choice.text, choice.match_text)
        .where(choice.question_id.in_(list(by_id)))
        .order_by(choice.question_id, choice.position)
    ):
        by_id[row.question_id].choices.append((row.id, row.text, row.match_text))


def _choice_order(question: LayoutQuestion, shuffle: bool, rng: random.Random) -> list[int]:
    in_place = [choice_id for choice_id, _text, _match in question.choices]
    ids = list(in_place)
    if question.kind is QuestionKind.ORDERING:
        rng.shuffle(ids)
        if len(ids) > 1 and ids == in_place:
            ids = ids[1:] + ids[:1]
    elif shuffle and question.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        rng.shuffle(ids)
    elif question.kind is QuestionKind.MATCHING:
        ids = [choice_id for choice_id, text, _match in question.choices if text]
    return ids


def _lay_out(
    quiz: Quiz, user: User, number: int, fixed: Optional[list[LayoutQuestion]] = None
) -> tuple[list[dict], Decimal]:
    """Draw and order the questions of the learner's attempt ``number``.

    Returns the ``attempt_question`` rows to insert, without the attempt id,
    and the attempt's maximum score. ``fixed`` is the quiz's own questions
    when they were read already.
    """
    rng = layout_random(quiz, user, number)
    questions = draw_questions(quiz, rng, fixed)
    if quiz.shuffle_questions:
        rng.shuffle(questions)
    rows = []
    for position, question in enumerate(questions, start=1):
        options: list[str] = []
        if question.kind is QuestionKind.MATCHING:
            options = sorted({match for _id, _text, match in question.choices if match})
            rng.shuffle(options)
        rows.append(
            {
                "position": position,
                "question_id": question.id,
                "choice_order": _choice_order(question, quiz.shuffle_choices, rng),
                "match_options": options,
            }
        )
    return rows, sum((question.points for question in questions), Decimal(0))


# Saving and submitting -----------------------------------------------------


def _answers_by_question(attempt: Attempt) -> dict[int, AttemptAnswer]:
    return {answer.question_id: answer for answer in attempt.answers}


def load_slots(attempt: Attempt, with_answers: bool = False) -> list[AttemptQuestion]:
    """Load the attempt's questions with each question, and for grading its choices.

    Grading reads every slot's question and choices; loading them lazily
    would cost two queries per question. Each slot has one question, which
    comes joined to it, and a second query reads all their choices. With
    ``with_answers`` (saving) the choices stay unloaded, because a response
    is checked against the slot's ``choice_order``. The one query then also
    reads the attempt's answers, which saving compares with the responses
    it receives.
    """
    statement = (
        sa.select(AttemptQuestion)
        .where(AttemptQuestion.attempt_id == attempt.id)
        .order_by(AttemptQuestion.position)
    )
    if not with_answers:
        statement = statement.options(
            so.joinedload(AttemptQuestion.question).selectinload(Question.choices)
        )
        slots = list(db.session.scalars(statement))
        set_committed_value(attempt, "questions", slots)
        return slots
    rows = db.session.execute(
        statement.options(so.joinedload(AttemptQuestion.question))
        .add_columns(AttemptAnswer)
        .outerjoin(
            AttemptAnswer,
            sa.and_(
                AttemptAnswer.attempt_id == AttemptQuestion.attempt_id,
                AttemptAnswer.question_id == AttemptQuestion.question_id,
            ),
        )
    ).all()
    slots = [slot for slot, _answer in rows]
    set_committed_value(attempt, "questions", slots)
    # Answers are written only for the attempt's own questions, so these are all of them.
    set_committed_value(attempt, "answers", [answer for _slot, answer in rows if answer])
    return slots


def _load_missing_choices(attempt: Attempt) -> None:
    """Read the choices of the attempt's questions that have none loaded, in one query."""
    missing = [
        slot.question
        for slot in attempt.questions
        if "choices" in sa.inspect(slot.question).unloaded
    ]
    if not missing:
        return
    rows = db.session.scalars(
        sa.select(Choice)
        .where(Choice.question_id.in_([question.id for question in missing]))
        .order_by(Choice.question_id, Choice.position)
    )
    by_question: dict[int, list[Choice]] = {question.id: [] for question in missing}
    for choice in rows:
        by_question[choice.question_id].append(choice)
    for question in missing:
        set_committed_value(question, "choices", by_question[question.id])


def save_answers(
    attempt: Attempt,
    responses: dict[int, Any],
    now: Optional[datetime] = None,
    ignored: Optional[list[int]] = None,
    limit: Any = UNKNOWN_DEADLINE,
) -> int:
    """Store the given responses of an open attempt; return how many were stored.

    Responses to questions the attempt does not ask are skipped. A response
    that carries input but nothing the question accepts (a choice of
    another question, say) is skipped too, so the answer saved before it
    stays. Its question id is appended to ``ignored`` when a list is given.
    Raises ``AttemptError("time_up")`` after the deadline (and closes the
    attempt) and ``AttemptError("submitted")`` once the attempt is submitted.
    """
    now = now or now_utc()
    if attempt.submitted_at is not None:
        raise AttemptError("submitted")
    if close_if_expired(attempt, now, limit):
        raise AttemptError("time_up")
    slots = {slot.question_id: slot for slot in attempt.questions}
    skipped: list[int] = []
    existing = _answers_by_question(attempt)
    if all(question_id in existing for question_id in responses if question_id in slots):
        # Only updates of rows that exist: no parallel save can make them
        # conflict, so the savepoint and its two statements are not needed.
        stored = _store_responses(attempt, slots, responses, now, skipped)
        return _report_skipped(attempt, stored, skipped, ignored)
    try:
        with db.session.begin_nested():
            stored = _store_responses(attempt, slots, responses, now, skipped)
    except IntegrityError:
        # A parallel autosave inserted one of these answer rows first, so
        # reload the rows and write over them, once.
        logger.info("Parallel save of attempt %s; retrying over its rows", attempt.id)
        db.session.expire(attempt, ["answers"])
        skipped.clear()
        with db.session.begin_nested():
            stored = _store_responses(attempt, slots, responses, now, skipped)
    return _report_skipped(attempt, stored, skipped, ignored)


def _report_skipped(
    attempt: Attempt, stored: int, skipped: list[int], ignored: Optional[list[int]]
) -> int:
    """Log the skipped answers, add them to ``ignored`` and return ``stored``."""
    if skipped:
        logger.info("Attempt %s: ignored invalid answers to questions %s", attempt.id, skipped)
    if ignored is not None:
        ignored.extend(skipped)
    return stored


def _store_responses(
    attempt: Attempt, slots: dict, responses: dict, now: datetime, skipped: list[int]
) -> int:
    existing = _answers_by_question(attempt)
    stored = 0
    for question_id, raw in responses.items():
        slot = slots.get(question_id)
        if slot is None:
            continue
        response = clean_response(
            slot.question, _plain(raw), slot.match_options, slot.choice_order
        )
        if response is None and has_input(raw):
            skipped.append(question_id)
            continue
        answer = existing.get(question_id)
        stored += 1
        if answer is not None and answer.response == response:
            # Autosave sends the whole form, so most answers arrive as
            # stored. They keep the time they were given: writing the row
            # again would change nothing the grading reads.
            continue
        if answer is None:
            answer = AttemptAnswer(question_id=question_id)
            attempt.answers.append(answer)
        answer.response = response
        answer.saved_at = now
    db.session.flush()
    return stored


def _plain(raw: Any) -> Any:
    if isinstance(raw, (set, frozenset)):
        return sorted(raw)
    return raw


def close_if_expired(attempt: Attempt, now: datetime, limit: Any = UNKNOWN_DEADLINE) -> bool:
    """Close an open attempt whose deadline passed, at its deadline; return whether it did."""
    if attempt.submitted_at is not None or not is_expired(attempt, now, limit):
        return False
    _load_missing_choices(attempt)
    _finalize(attempt, deadline(attempt), closed_at_deadline=True)
    return True


def submit_attempt(
    attempt: Attempt,
    responses: Optional[dict[int, Any]] = None,
    now: Optional[datetime] = None,
) -> Attempt:
    """Save the last responses, then grade and close the attempt once.

    A second submission, from a double click or another tab, changes nothing.
    After the deadline the last responses are dropped and the attempt closes
    at the deadline with the answers saved before it.
    """
    now = now or now_utc()
    if attempt.submitted_at is not None:
        return attempt
    if close_if_expired(attempt, now):
        return attempt
    if responses:
        save_answers(attempt, responses, now)
    _finalize(attempt, now, closed_at_deadline=False)
    return attempt


def _finalize(attempt: Attempt, submitted_at: datetime, *, closed_at_deadline: bool) -> None:
    limit = deadline(attempt)
    answers = _answers_by_question(attempt)
    awarded: dict[int, Optional[Decimal]] = {}
    for slot in attempt.questions:
        answer = answers.get(slot.question_id)
        counted = answer is not None and (
            limit is None or answer.saved_at is None or answer.saved_at <= limit + SUBMIT_GRACE
        )
        response = answer.response if counted else None
        awarded[slot.question_id] = grading.grade(slot.question, response)

    score = sum((value for value in awarded.values() if value is not None), Decimal(0))
    needs_grading = any(value is None for value in awarded.values())
    passed = not needs_grading and passes_mark(attempt, score)

    # Only the request whose update matches an open attempt records the result,
    # so a double click or a second tab cannot submit twice.
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(
            submitted_at=submitted_at,
            score=score,
            passed=passed,
            needs_grading=needs_grading,
            closed_at_deadline=closed_at_deadline,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(attempt)
        return
    for question_id, value in awarded.items():
        answer = answers.get(question_id)
        if answer is None:
            answer = AttemptAnswer(question_id=question_id, response=None)
            attempt.answers.append(answer)
        elif limit is not None and answer.saved_at and answer.saved_at > limit + SUBMIT_GRACE:
            answer.response = None
        answer.awarded = value
    db.session.flush()
    db.session.refresh(attempt)
    _record_grade(attempt, "quiz.graded")
    if passed:
        _on_pass(attempt)


def _on_pass(attempt: Attempt) -> None:
    """Announce a passed attempt (competency evidence listens) and re-evaluate its course."""
    user = attempt.user
    signals.quiz_passed.send(
        None,
        user_id=user.id,
        quiz_id=attempt.quiz_id,
        attempt_id=attempt.id,
        score=attempt.score,
        max_score=attempt.max_score,
        passed_on=local_date(user, attempt.submitted_at),
        competency_item_ids=[item.id for item in attempt.quiz.course.competencies],
    )
    course_services.evaluate_course(user, attempt.quiz.course)


def passes_mark(attempt: Attempt, score: Decimal) -> bool:
    """Return whether ``score`` reaches the quiz's pass mark on this attempt."""
    max_score = attempt.max_score
    return max_score > 0 and score * 100 >= max_score * attempt.quiz.pass_mark


def _record_grade(
    attempt: Attempt,
    action: str,
    actor: Optional[User] = None,
    pass_to_fail: bool = False,
) -> None:
    user = attempt.user
    suffix = " (closed at the deadline)" if attempt.closed_at_deadline else ""
    audit.record(
        action,
        "attempt",
        attempt.id,
        f"{attempt.quiz.title}: {attempt.score}/{attempt.max_score}{suffix}",
        actor_id=(actor or user).id,
        institution_id=user.institution_id,
        data={
            "score": str(attempt.score),
            "max_score": str(attempt.max_score),
            "passed": attempt.passed,
            "needs_grading": attempt.needs_grading,
            "closed_at_deadline": attempt.closed_at_deadline,
            "pass_to_fail": pass_to_fail,
        },
    )
    logger.info(
        "Attempt %s graded %s/%s for %r", attempt.id, attempt.score, attempt.max_score, user
    )


def regrade_attempt(attempt: Attempt, actor: User) -> None:
    """Recompute a submitted attempt's score after a trainer graded an essay."""
    was_passed = attempt.passed
    values = [answer.awarded for answer in attempt.answers]
    attempt.score = sum((v for v in values if v is not None), Decimal(0)).quantize(
        SCORE_PLACES
    )
    attempt.needs_grading = any(v is None for v in values)
    attempt.passed = not attempt.needs_grading and passes_mark(attempt, attempt.score)
    db.session.flush()
    pass_to_fail = was_passed and not attempt.passed
    _record_grade(attempt, "quiz.regraded", actor, pass_to_fail)
    if attempt.passed:
        _on_pass(attempt)


def close_expired_attempts(now: Optional[datetime] = None) -> int:
    """Close every open attempt whose deadline passed; return how many were closed.

    The ``close_expired_attempts`` scheduled job calls this, so abandoned
    attempts are graded without their learner coming back. An attempt that
    fails to close is logged and left open for the next run.
    """
    now = now or now_utc()
    closed = 0
    # The other scheduled jobs start at the same second and commit their run
    # records. On SQLite a transaction that has read cannot write after such
    # a commit, so a run that begins a transaction takes the write lock first.
    if not db.session().in_transaction():
        db.session.connection(execution_options={"sqlite_immediate": True})
    query = (
        sa.select(Attempt)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(
            Attempt.submitted_at.is_(None),
            sa.or_(Quiz.time_limit_minutes.is_not(None), Quiz.closes_at.is_not(None)),
        )
        .order_by(Attempt.id)
    )
    for attempt in db.session.scalars(query).all():
        try:
            with db.session.begin_nested():
                if close_if_expired(attempt, now):
                    closed += 1
        except Exception:
            logger.exception("Closing expired attempt %s failed", attempt.id)
    return closed


def close_expired_attempts_job(now: Optional[datetime] = None) -> dict:
    """Scheduled job: close expired attempts and return the count for the run history."""
    return {"closed": close_expired_attempts(now)}


# Course completion ----------------------------------------------------------


def quizzes_passed(user: User, course: Course) -> Optional[str]:
    """Completion check: every quiz of the course is passed by its grading method."""
    quizzes = quizzes_for_course(course)
    if not quizzes:
        return None
    missing = sum(1 for quiz in quizzes if not has_passed(user, quiz))
    return f"quizzes:{missing}" if missing else None


def has_quiz(course: Course) -> bool:
    """Exam check: a course with a quiz completes only once the quiz is passed."""
    return bool(quizzes_for_course(course))


def connect_listeners() -> None:
    course_services.register_completion_check(quizzes_passed)
    course_services.register_exam_check(has_quiz)


def quizzes_for_course(course: Course) -> list[Quiz]:
    """Return the course's quizzes in the order they were made.

    Within one GET request the list is kept, because the course outline
    needs it for its quiz list and again for the completion check.
    """
    cache = course_services.request_cache("quizzes_for_course")
    if cache is not None and course.id in cache:
        return list(cache[course.id])
    quizzes = list(
        db.session.scalars(
            sa.select(Quiz).filter_by(course_id=course.id).order_by(Quiz.id)
        )
    )
    if cache is not None:
        cache[course.id] = quizzes
    return list(quizzes)
