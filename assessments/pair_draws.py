"""Drawing the groups and A/B roles of a paired case discussion (案例研讨).

In the counselor competency competition the organisers draw each
candidate's group and role before the discussion, and pair candidates of
different 院系 where they can. Candidates never choose them, so a
submission takes the group and role of the candidate's draw.
"""

import random
from collections import defaultdict
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from assessments import logger
from assessments.tasks_models import PairDraw, PairRole, PerformanceTask, TaskKind
from courses import services as course_services
from lms import audit
from lms.accounts.models import User
from lms.extensions import db

_random = random.SystemRandom()


class DrawError(Exception):
    """A draw that cannot be made; the message names the fix."""


def draw_of(task: PerformanceTask, user: User) -> Optional[PairDraw]:
    return db.session.scalar(sa.select(PairDraw).filter_by(task_id=task.id, user_id=user.id))


def draws(task: PerformanceTask) -> list[PairDraw]:
    """Return the task's draws by group and role."""
    return list(
        db.session.scalars(
            sa.select(PairDraw)
            .filter_by(task_id=task.id)
            .order_by(PairDraw.pair_group, PairDraw.pair_role)
        )
    )


def undrawn_candidates(task: PerformanceTask) -> list[User]:
    """Return the active learners who may submit to the task and have no draw yet."""
    drawn = sa.select(PairDraw.user_id).where(PairDraw.task_id == task.id)
    learners = db.session.scalars(
        sa.select(User)
        .where(
            User.institution_id == task.institution_id,
            User.active.is_(True),
            User.id.not_in(drawn),
        )
        .order_by(User.id)
    )
    return [
        person
        for person in learners
        if person.role.is_learner and course_services.can_view_course(person, task.course)
    ]


def _pairs(people: list[User]) -> list[list[User]]:
    """Pair ``people`` at random, each pair from two 院系 where the numbers allow.

    The largest remaining 院系 gives one member of each pair and the next
    largest the other, which leaves the fewest pairs from one 院系. An odd
    person ends alone.
    """
    by_department: dict[Optional[int], list[User]] = defaultdict(list)
    for person in people:
        by_department[person.department_id].append(person)
    for members in by_department.values():
        _random.shuffle(members)
    pairs = []
    while sum(len(members) for members in by_department.values()) >= 2:
        order = sorted(
            (key for key, members in by_department.items() if members),
            key=lambda key: (len(by_department[key]), _random.random()),
            reverse=True,
        )
        first = by_department[order[0]].pop()
        second_key = order[1] if len(order) > 1 else order[0]
        pairs.append([first, by_department[second_key].pop()])
    rest = [person for members in by_department.values() for person in members]
    if rest:
        pairs.append(rest)
    _random.shuffle(pairs)
    return pairs


def _open_slot(task: PerformanceTask) -> Optional[tuple[int, PairRole]]:
    """Return a group of an earlier draw that has one member, with its free role."""
    rows = db.session.execute(
        sa.select(PairDraw.pair_group, sa.func.min(PairDraw.pair_role))
        .where(PairDraw.task_id == task.id)
        .group_by(PairDraw.pair_group)
        .having(sa.func.count() == 1)
        .order_by(PairDraw.pair_group)
    ).first()
    if rows is None:
        return None
    group, taken = rows
    taken = taken if isinstance(taken, PairRole) else PairRole(taken)
    return group, PairRole.B if taken is PairRole.A else PairRole.A


def draw_pairs(task: PerformanceTask, actor: User) -> list[PairDraw]:
    """Draw a group and role for every candidate without one; flush only.

    Candidates drawn earlier keep their slots, so a candidate who joins the
    course later is drawn by running this again. A person left alone first
    fills a group an earlier draw left with one member. Raises DrawError
    for a task of another kind or when no candidate is left to draw.
    """
    if task.kind is not TaskKind.CASE_DISCUSSION:
        raise DrawError(_("Only a paired case discussion draws groups and roles."))
    people = undrawn_candidates(task)
    if not people:
        raise DrawError(
            _(
                "Every learner of the course %(course)s already has a group and role.",
                course=task.course.title,
            )
        )
    next_group = (
        db.session.scalar(
            sa.select(sa.func.max(PairDraw.pair_group)).where(PairDraw.task_id == task.id)
        )
        or 0
    ) + 1
    made = []
    for pair in _pairs(people):
        if len(pair) == 1:
            slot = _open_slot(task)
            if slot is not None:
                made.append(_add(task, pair[0], slot[0], slot[1], actor))
                continue
        roles = [PairRole.A, PairRole.B]
        _random.shuffle(roles)
        for person, role in zip(pair, roles):
            made.append(_add(task, person, next_group, role, actor))
        next_group += 1
    audit.record(
        "task.pairs_drawn",
        "performance_task",
        task.id,
        f"{task.title}: {len(made)} candidates drawn",
        actor_id=actor.id,
        institution_id=task.institution_id,
        data={
            "draws": [
                {"user_id": row.user_id, "group": row.pair_group, "role": row.pair_role.value}
                for row in made
            ]
        },
    )
    logger.info("Pairs of task %r drawn by user %s: %s candidates", task, actor.id, len(made))
    return made


def _add(task, person, group: int, role: PairRole, actor: User) -> PairDraw:
    row = PairDraw(
        task_id=task.id, user_id=person.id, pair_group=group, pair_role=role,
        drawn_by_id=actor.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise DrawError(
            _("Another draw of this task ran at the same time; reload the page and draw again.")
        ) from None
    return row
