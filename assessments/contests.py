"""Contests (素质能力大赛): weighted events, standings with ties, and award tiers.

A contest's owner (the trainer or administrator who created it) and the
administrators of its institution manage it: its title and awards, events
and entrants. Only administrators change the owner.

Each event score is a percentage of its maximum: the latest released task
score, or the best submitted quiz attempt. The weighted total is
``sum(weight * percent) / sum(weight)``, so it is out of 100 whatever the
weights add up to.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from assessments import moderation
from assessments.models import Attempt, Quiz
from assessments.tasks_models import (
    AwardMode,
    Contest,
    ContestEntrant,
    ContestEvent,
    PerformanceTask,
)
from courses import teachers, teaching
from courses.authoring import AuthoringError
from lms import audit
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.input_ranges import typed_decimal

AWARDS = (_l("First prize"), _l("Second prize"), _l("Third prize"))


def _tier(raw: str, field: str, errors: dict) -> Decimal:
    value = typed_decimal(raw)
    if value is None or not value.is_finite() or value < 0 or value > 1000:
        errors[field] = _("Enter a number from 0 to 1000, e.g. 10.")
        return Decimal(0)
    return value


def save_contest(
    institution_id: int, data: dict, actor: User, contest: Optional[Contest] = None
) -> Contest:
    """Create or update a contest from form values, or raise AuthoringError."""
    errors: dict[str, str] = {}
    title = (data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    try:
        mode = AwardMode(data.get("award_mode"))
    except ValueError:
        errors["award_mode"] = _("Choose how awards are given.")
        mode = None
    tiers = [
        _tier(data.get(name), name, errors)
        for name in ("first_tier", "second_tier", "third_tier")
    ]
    if mode is AwardMode.RANK_SHARE and sum(tiers) > 100:
        errors["third_tier"] = _("The three shares add up to more than 100 percent.")
    if mode is AwardMode.THRESHOLD and not tiers[0] >= tiers[1] >= tiers[2]:
        errors["second_tier"] = _("Thresholds must fall from first to third prize.")
    if mode is AwardMode.RANK_COUNT:
        for name, value in zip(("first_tier", "second_tier", "third_tier"), tiers):
            if name not in errors and value != value.to_integral_value():
                errors[name] = _("Enter a whole number of places, e.g. 1, 2 or 5.")
    if errors:
        raise AuthoringError(errors)
    if contest is None:
        contest = Contest(institution_id=institution_id, owner_id=actor.id)
        db.session.add(contest)
    contest.title = title
    contest.award_mode = mode
    contest.first_tier, contest.second_tier, contest.third_tier = tiers
    db.session.flush()
    audit.record(
        "contest.saved", "contest", contest.id, title,
        actor_id=actor.id, institution_id=institution_id,
    )
    return contest


def may_manage(user: User, contest: Contest) -> bool:
    """Return whether ``user`` changes the contest: its owner and administrators."""
    if user.institution_id != contest.institution_id:
        return False
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.TRAINER and contest.owner_id == user.id


def may_read_standings(user: User, contest: Contest) -> bool:
    """Return whether ``user`` reads every entrant's event scores in the contest.

    The managers do, and HR officers (a department HR officer sees only the
    rows of their department). Another trainer does only when they may read
    the results of every event, that is, grade each event's course.
    """
    if user.institution_id != contest.institution_id:
        return False
    if may_manage(user, contest) or user.role is Role.HR:
        return True
    if user.role is not Role.TRAINER:
        return False
    return all(
        teaching.may_grade(user, (event.task or event.quiz).course)
        for event in contest.events
    )


def set_owner(contest: Contest, data: dict, actor: User) -> User:
    """Make the user named by ``data["owner_username"]`` the owner of ``contest``."""
    user = teachers.institution_member(
        contest.institution_id, data, "owner_username"
    )
    if user.role not in teachers.AUTHOR_ROLES:
        raise AuthoringError(
            {
                "owner_username": _(
                    "%(name)s (%(username)s) is not a trainer or administrator, so"
                    " cannot own a contest. Choose a trainer.",
                    name=user.full_name,
                    username=user.username,
                )
            }
        )
    if user.id == contest.owner_id:
        raise AuthoringError(
            {
                "owner_username": _(
                    "%(name)s already owns this contest.", name=user.full_name
                )
            }
        )
    previous = contest.owner_id
    contest.owner_id = user.id
    db.session.flush()
    audit.record(
        "contest.owner_changed",
        "contest",
        contest.id,
        contest.title,
        actor_id=actor.id,
        institution_id=contest.institution_id,
        data={"previous_owner_id": previous, "owner_id": user.id},
    )
    return user


def event_sources(institution_id: int, actor: User) -> list[tuple[str, str]]:
    """Return the ``task:<id>`` and ``quiz:<id>`` events ``actor`` may add, with titles.

    An event shows every entrant's score on it, so a trainer adds only tasks
    and quizzes of courses they teach, whose results they already read
    (``courses.teaching.gradable_clause``). Administrators add any task or
    quiz of their institution.
    """
    tasks = sa.select(PerformanceTask).where(
        PerformanceTask.institution_id == institution_id,
        teaching.gradable_clause(actor, PerformanceTask.course_id),
    )
    quizzes = (
        sa.select(Quiz)
        .where(teaching.gradable_clause(actor, Quiz.course_id))
        .options(so.joinedload(Quiz.course))
    )
    # Versions of a course carry quizzes of the same title, so each names its version.
    return [(f"task:{task.id}", task.title) for task in db.session.scalars(tasks)] + [
        (
            f"quiz:{quiz.id}",
            _(
                "%(quiz)s (%(course)s, version %(version)d)",
                quiz=quiz.title,
                course=quiz.course.code,
                version=quiz.course.version,
            ),
        )
        for quiz in db.session.scalars(quizzes)
    ]


def _event_source(contest: Contest, source: str, actor: User, errors: dict):
    """Return the task and quiz named by ``source`` if ``actor`` may add it, else record an error."""
    kind, _sep, raw_id = (source or "").partition(":")
    task = quiz = None
    if kind == "task" and raw_id.isdigit() and len(raw_id) < 10:
        task = db.session.get(PerformanceTask, int(raw_id))
        if task is not None and (
            task.institution_id != contest.institution_id
            or not teaching.may_grade(actor, task.course)
        ):
            task = None
    elif kind == "quiz" and raw_id.isdigit() and len(raw_id) < 10:
        quiz = db.session.get(Quiz, int(raw_id))
        if quiz is not None and (
            quiz.course.institution_id != contest.institution_id
            or not teaching.may_grade(actor, quiz.course)
        ):
            quiz = None
    if task is None and quiz is None:
        # Another course's task or quiz gets the message of an unknown one,
        # so the field does not reveal which ids exist.
        errors["source"] = _(
            "Task or quiz: choose one from the list. It lists the tasks and"
            " quizzes of the courses you teach."
        )
        return None, None
    duplicate = any(
        (task is not None and event.task_id == task.id)
        or (quiz is not None and event.quiz_id == quiz.id)
        for event in contest.events
    )
    if duplicate:
        errors["source"] = _(
            "Task or quiz: %(title)s is already an event of this contest, and"
            " each task or quiz counts once. Change its weight by removing it"
            " and adding it again.",
            title=task.title if task is not None else quiz.title,
        )
    return task, quiz


def add_event(contest: Contest, source: str, raw_weight: str, actor: User) -> ContestEvent:
    """Add a task (``task:<id>``) or quiz (``quiz:<id>``) to ``contest`` and audit it.

    The source must be one of ``event_sources`` for ``actor`` and not yet
    an event of the contest, else AuthoringError is raised.
    """
    errors = {}
    weight = _tier(raw_weight, "weight", errors)
    if not errors and weight == 0:
        errors["weight"] = _("The weight must be greater than 0.")
    task, quiz = _event_source(contest, source, actor, errors)
    if errors:
        raise AuthoringError(errors)
    position = max((e.position for e in contest.events), default=0) + 1
    event = ContestEvent(position=position, weight=weight, task=task, quiz=quiz)
    contest.events.append(event)
    db.session.flush()
    # The weight decides every entrant's total and award, like a grade does.
    audit.record(
        "contest.event_added",
        "contest",
        contest.id,
        f"{event.title} ({weight})",
        actor_id=actor.id,
        institution_id=contest.institution_id,
        data={"event_id": event.id, "weight": str(weight)},
    )
    return event


def add_entrant(contest: Contest, user: User, actor: User) -> bool:
    """Enter a learner of the institution and audit it; return False if already entered."""
    if user.institution_id != contest.institution_id or not user.role.is_learner:
        message = _(
            "Choose a counselor or party-work staff member of your institution."
        )
        raise AuthoringError({"user_id": message})
    if any(e.user_id == user.id for e in contest.entrants):
        return False
    contest.entrants.append(ContestEntrant(user_id=user.id))
    db.session.flush()
    audit.record(
        "contest.entrant_added",
        "contest",
        contest.id,
        user.full_name,
        actor_id=actor.id,
        institution_id=contest.institution_id,
        data={"user_id": user.id},
    )
    return True


def remove_event(contest: Contest, event_id: int, actor: User) -> bool:
    """Remove an event and renumber the rest; return False when it is not found."""
    event = next((e for e in contest.events if e.id == event_id), None)
    if event is None:
        return False
    contest.events.remove(event)
    db.session.flush()
    # Renumber in two passes so the unique (contest, position) never collides.
    for offset, remaining in enumerate(contest.events, start=1):
        remaining.position = -offset
    db.session.flush()
    for remaining in contest.events:
        remaining.position = -remaining.position
    db.session.flush()
    audit.record(
        "contest.event_removed",
        "contest",
        contest.id,
        event.title,
        actor_id=actor.id,
        institution_id=contest.institution_id,
    )
    return True


def remove_entrant(contest: Contest, user_id: int, actor: User) -> bool:
    """Withdraw an entrant; return False when the person is not entered."""
    entrant = next((e for e in contest.entrants if e.user_id == user_id), None)
    if entrant is None:
        return False
    contest.entrants.remove(entrant)
    db.session.flush()
    audit.record(
        "contest.entrant_removed",
        "contest",
        contest.id,
        entrant.user.full_name,
        actor_id=actor.id,
        institution_id=contest.institution_id,
    )
    return True


def event_percent(event: ContestEvent, user: User) -> Optional[Fraction]:
    """Return the user's score in one event as an exact percentage, None without one."""
    if event.task is not None:
        result = moderation.released_result(event.task, user)
        if result is None or event.task.max_points == 0:
            return None
        return Fraction(result.final_score) * 100 / Fraction(event.task.max_points)
    best = db.session.execute(
        sa.select(Attempt.score, Attempt.max_score)
        .where(
            Attempt.quiz_id == event.quiz_id,
            Attempt.user_id == user.id,
            Attempt.submitted_at.is_not(None),
            Attempt.max_score > 0,
        )
    ).all()
    if not best:
        return None
    return max(Fraction(score) * 100 / Fraction(maximum) for score, maximum in best)


@dataclass
class Standing:
    user: User
    scores: list[Optional[Fraction]]
    total: Optional[Fraction]
    rank: Optional[int] = None
    award: Optional[int] = None  # 0, 1, 2 for first, second and third prize

    @property
    def award_label(self) -> str:
        return str(AWARDS[self.award]) if self.award is not None else ""


def weighted_total(
    weights: list[Decimal], scores: list[Optional[Fraction]]
) -> Optional[Fraction]:
    """Return the weighted mean of the event percentages, a missing event counting 0."""
    if all(score is None for score in scores) or not weights:
        return None
    weight_sum = sum((Fraction(w) for w in weights), Fraction(0))
    return sum(
        (Fraction(w) * (s or 0) for w, s in zip(weights, scores)), Fraction(0)
    ) / weight_sum


def rank(standings: list[Standing]) -> None:
    """Set standard competition ranks (1, 2, 2, 4) by total; no score gives no rank."""
    ranked = [s for s in standings if s.total is not None]
    for standing in ranked:
        standing.rank = 1 + sum(1 for other in ranked if other.total > standing.total)


def _count(share: Decimal, entrants: int) -> int:
    count = (Decimal(entrants) * share / 100).quantize(Decimal(1), ROUND_HALF_UP)
    return int(count)


def assign_awards(contest: Contest, standings: list[Standing]) -> None:
    """Set each ranked entrant's award tier from the contest's rule.

    By rank share, the first prize goes to ranks within the first share of
    ranked entrants (rounded half up), and the second to ranks within the
    first two shares combined. By places, the first prize goes to ranks up
    to the first number, the second to ranks up to the first two numbers
    combined, whatever the number of entrants. Tied entrants share a rank
    and so a prize. By threshold, a total at or above a tier's minimum
    earns that tier.
    """
    ranked = [s for s in standings if s.rank is not None]
    tiers = (contest.first_tier, contest.second_tier, contest.third_tier)
    if contest.award_mode is AwardMode.THRESHOLD:
        for standing in ranked:
            reached = (
                i
                for i, minimum in enumerate(tiers)
                if standing.total >= Fraction(minimum)
            )
            standing.award = next(reached, None)
        return
    cutoffs = []
    cumulative = Decimal(0)
    for share in tiers:
        cumulative += share
        if share <= 0:
            cutoffs.append(None)
        elif contest.award_mode is AwardMode.RANK_COUNT:
            cutoffs.append(int(cumulative))
        else:
            cutoffs.append(_count(cumulative, len(ranked)))
    for standing in ranked:
        within = (
            i
            for i, cutoff in enumerate(cutoffs)
            if cutoff is not None and standing.rank <= cutoff
        )
        standing.award = next(within, None)


def standings(contest: Contest) -> list[Standing]:
    """Return each entrant's scores, weighted total, rank and award, best first."""
    weights = [event.weight for event in contest.events]
    rows = []
    for entrant in contest.entrants:
        scores = [event_percent(event, entrant.user) for event in contest.events]
        rows.append(Standing(entrant.user, scores, weighted_total(weights, scores)))
    rank(rows)
    assign_awards(contest, rows)
    rows.sort(key=lambda s: (s.rank is None, s.rank or 0, s.user.full_name))
    return rows
