"""Training classes: access, membership with capacity and waiting list, rules.

Functions raise ``ClassError`` for a change the class rules reject. They
flush but never commit; views commit. Membership of a class that
offers a programme goes through ``courses.services.enrol``, so completion
and hours work as for any enrolled learner.
"""

from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from courses import class_notices, learning, logger, services
from courses.class_models import (
    ClassMember,
    ClassStatus,
    EnrolmentMode,
    MemberStatus,
    SessionLength,
    TrainingClass,
    WithdrawalReason,
)
from courses.models import Course, PublicationStatus, TargetLevel
from lms import audit
from lms.accounts.models import Post, Role, User
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db

#: Member states that hold or wait for a seat.
ACTIVE_STATES = (MemberStatus.PENDING, MemberStatus.WAITING, MemberStatus.ENROLLED)


class ClassError(Exception):
    """A membership change that the class rules reject. ``code`` names the rule."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# Access -------------------------------------------------------------------


def is_trainer_of(user: User, training_class: TrainingClass) -> bool:
    return any(trainer.id == user.id for trainer in training_class.trainers)


def outside_audience(training_class: TrainingClass, people: list[User]) -> list[User]:
    """Return the people whose post the class's programme is not meant for.

    A class of a single course, or of a programme that names no posts,
    has no audience to check, and a person without a recorded post is not
    counted as outside it.
    """
    programme = training_class.programme
    if programme is None or not learning.names_an_audience(programme):
        return []
    return [
        person
        for person in people
        if person.post is not None and not learning.audience_includes(programme, person.post)
    ]


def outside_level(
    training_class: TrainingClass, people: list[User]
) -> list[tuple[User, TargetLevel]]:
    """Return the people whose level differs from the class's programme, with their level.

    A person's level follows from their years of service
    (``learning.person_level``). People whose level is unknown, and every
    person in a class of a single course, are left out.
    """
    programme = training_class.programme
    if programme is None:
        return []
    outside = []
    for person in people:
        level = learning.person_level(person)
        if level is not None and level is not programme.level:
            outside.append((person, level))
    return outside


def can_manage(user: User, training_class: TrainingClass) -> bool:
    """Return whether ``user`` may edit the class, its members and attendance."""
    if training_class.institution_id != user.institution_id:
        return False
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.TRAINER and is_trainer_of(user, training_class)


def can_view_roster(user: User, training_class: TrainingClass) -> bool:
    """Return whether ``user`` may read the roster: managers, and HR of the institution."""
    if can_manage(user, training_class):
        return True
    return user.role is Role.HR and training_class.institution_id == user.institution_id


def is_visible_to_learner(user: User, training_class: TrainingClass) -> bool:
    """Return whether a learner may open the class: open ones, or ones they belong to.

    A draft class is hidden from its members too, until it opens.
    """
    if training_class.institution_id != user.institution_id:
        return False
    if training_class.status is ClassStatus.OPEN:
        return True
    if training_class.status is ClassStatus.DRAFT:
        return False
    return find_member(training_class, user) is not None


def hours_for(training_class: TrainingClass, length: SessionLength) -> Decimal:
    """Return the 学时 an attended session of ``length`` earns in this class."""
    if length is SessionLength.FULL_DAY:
        own = training_class.full_day_hours
        default = current_app.config["CLASS_FULL_DAY_HOURS"]
    else:
        own = training_class.half_day_hours
        default = current_app.config["CLASS_HALF_DAY_HOURS"]
    return Decimal(own if own is not None else str(default))


# Listing ------------------------------------------------------------------


def classes_of(institution_id: int) -> list[TrainingClass]:
    return list(
        db.session.scalars(
            sa.select(TrainingClass)
            .where(TrainingClass.institution_id == institution_id)
            .order_by(TrainingClass.starts_on.desc(), TrainingClass.code)
        )
    )


def open_classes(institution_id: int) -> list[TrainingClass]:
    return list(
        db.session.scalars(
            sa.select(TrainingClass)
            .where(
                TrainingClass.institution_id == institution_id,
                TrainingClass.status == ClassStatus.OPEN,
            )
            .order_by(TrainingClass.starts_on, TrainingClass.code)
        )
    )


def memberships_of(user: User) -> list[ClassMember]:
    """Return the user's class memberships that still hold or await a seat.

    Places in draft classes are left out, because learners see a class only
    once it opens.
    """
    return list(
        db.session.scalars(
            sa.select(ClassMember)
            .join(TrainingClass, TrainingClass.id == ClassMember.class_id)
            .where(
                ClassMember.user_id == user.id,
                ClassMember.status.in_(ACTIVE_STATES),
                TrainingClass.status != ClassStatus.DRAFT,
            )
            .order_by(TrainingClass.starts_on)
        )
    )


def find_member(training_class: TrainingClass, user: User) -> Optional[ClassMember]:
    return db.session.scalar(
        sa.select(ClassMember).filter_by(class_id=training_class.id, user_id=user.id)
    )


def members_in(training_class: TrainingClass, *states: MemberStatus) -> list[ClassMember]:
    return list(
        db.session.scalars(
            sa.select(ClassMember)
            .where(ClassMember.class_id == training_class.id, ClassMember.status.in_(states))
            .options(so.joinedload(ClassMember.user))
            .order_by(ClassMember.requested_at, ClassMember.id)
        )
    )


def waiting_position(member: ClassMember) -> Optional[int]:
    """Return the member's place on the waiting list, counting from 1, or None."""
    if member.status is not MemberStatus.WAITING:
        return None
    waiting = members_in(member.training_class, MemberStatus.WAITING)
    return next(i for i, each in enumerate(waiting, start=1) if each.id == member.id)


def enrolled_count(training_class: TrainingClass) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ClassMember)
        .where(
            ClassMember.class_id == training_class.id,
            ClassMember.status == MemberStatus.ENROLLED,
        )
    )


def seats_left(training_class: TrainingClass) -> Optional[int]:
    """Return the free seats, or None for a class without a capacity."""
    if training_class.capacity is None:
        return None
    return max(training_class.capacity - enrolled_count(training_class), 0)


def is_course_of_member_class(user: User, course: Course) -> bool:
    """Return whether ``user`` is enrolled in a class that offers ``course`` alone."""
    return (
        db.session.scalar(
            sa.select(ClassMember.id)
            .join(TrainingClass, TrainingClass.id == ClassMember.class_id)
            .where(
                ClassMember.user_id == user.id,
                ClassMember.status == MemberStatus.ENROLLED,
                TrainingClass.course_id == course.id,
                TrainingClass.status != ClassStatus.DRAFT,
            )
            .limit(1)
        )
        is not None
    )


def course_class_learners(course_ids: list[int]) -> set[tuple[int, int]]:
    """Return (course id, user id) for members enrolled in classes offering those courses alone."""
    if not course_ids:
        return set()
    rows = db.session.execute(
        sa.select(TrainingClass.course_id, ClassMember.user_id)
        .join(ClassMember, ClassMember.class_id == TrainingClass.id)
        .where(
            TrainingClass.course_id.in_(course_ids),
            TrainingClass.status != ClassStatus.CANCELLED,
            ClassMember.status == MemberStatus.ENROLLED,
        )
    ).all()
    return {(course_id, user_id) for course_id, user_id in rows}


# Membership -------------------------------------------------------------------


def lock_seats(training_class: TrainingClass) -> None:
    """Serialise seat counting per class with a row lock (SQLite locks every write anyway)."""
    db.session.execute(
        sa.select(TrainingClass.id)
        .where(TrainingClass.id == training_class.id)
        .with_for_update()
    )


def _check_eligible(training_class: TrainingClass, user: User) -> None:
    if user.institution_id != training_class.institution_id:
        raise ClassError("other_institution")
    if not user.role.is_learner:
        raise ClassError("not_learner")
    if not user.active:
        raise ClassError("inactive")
    if training_class.status is ClassStatus.CANCELLED:
        raise ClassError("cancelled")


def _check_audience(training_class: TrainingClass, user: User) -> None:
    """Reject a learner's own request when the class's programme is not meant for them.

    Trainers may still add such a person (``add_member``), with a warning.
    """
    from courses import eligibility

    if training_class.programme is None:
        return
    refusal, _level = eligibility.audience_refusal(
        user, training_class.programme, local_today(user.institution)
    )
    if refusal is not None:
        raise ClassError(f"outside_{refusal.value}")


def join_refusal(training_class: TrainingClass, user: User) -> Optional[str]:
    """Return the code of the reason ``request_place`` would turn the learner away, or None.

    Only the reasons the class page cannot read from the class's status and
    enrolment mode are checked: its end date and its programme's audience.
    """
    if training_class.ends_on < local_today(user.institution):
        return "ended"
    try:
        _check_audience(training_class, user)
    except ClassError as error:
        return error.code
    return None


def _has_seat(training_class: TrainingClass) -> bool:
    left = seats_left(training_class)
    return left is None or left > 0


def _enrol(member: ClassMember) -> None:
    """Give the member a seat; outside a draft class, also enrol and notify them.

    In a draft class the seat is held: the programme enrolment and the
    notice wait for ``start_held_places`` when the class opens.
    """
    training_class = member.training_class
    programme = training_class.programme
    if programme is not None and programme.status is not PublicationStatus.PUBLISHED:
        raise ClassError("programme_closed")
    member.status = MemberStatus.ENROLLED
    member.enrolled_at = now_utc()
    db.session.flush()
    if training_class.status is ClassStatus.DRAFT:
        logger.info("User %r has a place in draft class %r", member.user, training_class)
        return
    _start(member)
    logger.info("User %r enrolled in class %r", member.user, training_class)


def _start(member: ClassMember) -> None:
    """Enrol an enrolled member in the class's programme and notify them; idempotent."""
    programme = member.training_class.programme
    if programme is not None and member.enrolment is None:
        try:
            member.enrolment = services.enrol(member.user, programme)
        except services.EnrolmentError:
            raise ClassError("programme_closed") from None
        db.session.flush()
    class_notices.announce(member)


def start_held_places(training_class: TrainingClass) -> int:
    """Enrol and notify the people placed while the class was a draft; return how many.

    Notices are kept once per member and status, so a member notified
    before gets no second notice.
    """
    started = 0
    for member in members_in(training_class, MemberStatus.ENROLLED, MemberStatus.WAITING):
        if member.status is MemberStatus.ENROLLED:
            _start(member)
        else:
            class_notices.announce(member)
        started += 1
    logger.info("Places of %d people started in class %r", started, training_class)
    return started


def held_places(training_class: TrainingClass) -> int:
    """Return the seats and waiting places held in a draft class, or 0 outside one."""
    if training_class.status is not ClassStatus.DRAFT:
        return 0
    return len(members_in(training_class, MemberStatus.ENROLLED, MemberStatus.WAITING))


def _place(training_class: TrainingClass, user: User, status: MemberStatus, source: str):
    """Create or reuse the member row in ``status``. A rejoin goes to the end of the queue."""
    member = find_member(training_class, user)
    if member is None:
        member = ClassMember(
            class_id=training_class.id, user_id=user.id, status=status, source=source
        )
        member.training_class = training_class
        member.user = user
        db.session.add(member)
    else:
        member.status = status
        member.source = source
        member.requested_at = now_utc()
        member.decided_at = None
        member.decided_by_id = None
        member.withdrawal_reason = None
    db.session.flush()
    if status is MemberStatus.WAITING and training_class.status is not ClassStatus.DRAFT:
        class_notices.announce(member)
    return member


def add_member(
    training_class: TrainingClass, user: User, *, by: User, source: str = "hand"
) -> ClassMember:
    """Enrol ``user`` as an organiser does, or queue them when the class is full."""
    _check_eligible(training_class, user)
    member = find_member(training_class, user)
    if member is not None and member.status in (MemberStatus.ENROLLED, MemberStatus.WAITING):
        return member
    lock_seats(training_class)
    if _has_seat(training_class):
        member = _place(training_class, user, MemberStatus.ENROLLED, source)
        _enrol(member)
    else:
        member = _place(training_class, user, MemberStatus.WAITING, source)
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    return member


def request_place(training_class: TrainingClass, user: User) -> ClassMember:
    """Let a learner join an open class as its enrolment mode allows.

    Self-enrolment takes a seat or a place on the waiting list; a class
    that needs approval records a pending request. A learner outside the
    audience or level of the class's programme is rejected, and so is one
    whom a trainer or the leave limit withdrew: only a trainer brings them
    back, by adding them again or by reinstating them.
    """
    _check_eligible(training_class, user)
    if training_class.status is not ClassStatus.OPEN:
        raise ClassError("not_open")
    if training_class.enrolment_mode is EnrolmentMode.ASSIGNED:
        raise ClassError("assigned_only")
    if training_class.ends_on < local_today(user.institution):
        raise ClassError("ended")
    # Locked before the member is looked up, so that a second request of the
    # same learner (a double click) finds the first one's row once it is
    # committed, rather than inserting another and failing on the unique key.
    lock_seats(training_class)
    member = find_member(training_class, user)
    if member is not None and member.status in ACTIVE_STATES:
        return member
    if member is not None and member.withdrawal_reason is WithdrawalReason.LEAVE_LIMIT:
        # Only the class's trainers end a withdrawal for leave, by reinstating.
        raise ClassError("withdrawn_for_leave")
    if member is not None and member.withdrawal_reason is WithdrawalReason.TRAINER:
        # Only the class's managers undo their withdrawal, by adding the person again.
        raise ClassError("withdrawn_by_trainer")
    _check_audience(training_class, user)
    if training_class.enrolment_mode is EnrolmentMode.APPROVAL:
        return _place(training_class, user, MemberStatus.PENDING, "self")
    if _has_seat(training_class):
        member = _place(training_class, user, MemberStatus.ENROLLED, "self")
        _enrol(member)
        return member
    return _place(training_class, user, MemberStatus.WAITING, "self")


def approve(member: ClassMember, by: User) -> ClassMember:
    """Accept a pending request: a seat if one is free, else the waiting list."""
    if member.status is not MemberStatus.PENDING:
        raise ClassError("not_pending")
    training_class = member.training_class
    lock_seats(training_class)
    if _has_seat(training_class):
        _enrol(member)
    else:
        member.status = MemberStatus.WAITING
        if training_class.status is not ClassStatus.DRAFT:
            class_notices.announce(member)
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    db.session.flush()
    audit.record(
        "class.request_approved", "class_member", member.id,
        f"{member.user.full_name} → {training_class.title}",
        actor_id=by.id, institution_id=training_class.institution_id,
        data={"status": member.status.value},
    )
    return member


def reject(member: ClassMember, by: User) -> ClassMember:
    """Turn down a pending request or a place on the waiting list."""
    if member.status not in (MemberStatus.PENDING, MemberStatus.WAITING):
        raise ClassError("not_pending")
    member.status = MemberStatus.REJECTED
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    db.session.flush()
    class_notices.announce(member)
    audit.record(
        "class.request_rejected", "class_member", member.id,
        f"{member.user.full_name} → {member.training_class.title}",
        actor_id=by.id, institution_id=member.training_class.institution_id,
    )
    return member


def withdraw(member: ClassMember, by: User) -> ClassMember:
    """Take a person out of the class and give a freed seat to the first waiting person.

    The programme enrolment stays, so progress already made is kept. A
    withdrawal by someone other than the member is audited like an approval.
    """
    if member.status not in ACTIVE_STATES:
        raise ClassError("not_member")
    held_seat = member.status is MemberStatus.ENROLLED
    before = member.status
    member.status = MemberStatus.WITHDRAWN
    member.withdrawal_reason = (
        WithdrawalReason.SELF if by.id == member.user_id else WithdrawalReason.TRAINER
    )
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    db.session.flush()
    logger.info("User %r withdrawn from class %r by %r", member.user, member.training_class, by)
    if by.id != member.user_id:
        audit.record(
            "class.member_withdrawn", "class_member", member.id,
            f"{member.user.full_name} → {member.training_class.title}",
            actor_id=by.id, institution_id=member.training_class.institution_id,
            data={"before": before.value},
        )
    if held_seat:
        promote_waiting(member.training_class)
    return member


def promote_waiting(training_class: TrainingClass) -> list[ClassMember]:
    """Give free seats to the waiting list, first come first served."""
    promoted = []
    lock_seats(training_class)
    for member in members_in(training_class, MemberStatus.WAITING):
        if not _has_seat(training_class):
            break
        _enrol(member)
        promoted.append(member)
    return promoted


# Enrolment by rule ------------------------------------------------------------


def people_matching(
    institution_id: int,
    *,
    role: Optional[Role] = None,
    post: Optional[Post] = None,
    department_id: Optional[int] = None,
    level=None,
) -> list[User]:
    """Return the active learners of an institution that match every given criterion."""
    from courses.learning import person_level

    query = sa.select(User).where(
        User.institution_id == institution_id,
        User.active.is_(True),
        User.role.in_([Role.COUNSELOR, Role.PARTY_WORKER]),
    )
    if role is not None:
        query = query.where(User.role == role)
    if post is not None:
        query = query.where(User.post == post)
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    people = list(db.session.scalars(query.order_by(User.full_name, User.id)))
    if level is not None:
        people = [person for person in people if person_level(person) is level]
    return people


def enrol_by_rule(training_class: TrainingClass, people: list[User], by: User) -> dict:
    """Add everyone in ``people``; return counts of enrolled, waiting and skipped."""
    counts = {"enrolled": 0, "waiting": 0, "already": 0}
    for person in people:
        existing = find_member(training_class, person)
        if existing is not None and existing.status in (
            MemberStatus.ENROLLED, MemberStatus.WAITING
        ):
            counts["already"] += 1
            continue
        member = add_member(training_class, person, by=by, source="rule")
        counts["enrolled" if member.status is MemberStatus.ENROLLED else "waiting"] += 1
    logger.info("Rule enrolment into %r by %r: %s", training_class, by, counts)
    return counts


# NOTE: a course taken through a course-only class has no programme
# enrolment, so its completion is credited as a school-level training
# without a kind, whatever tier and kind the class has.
services.register_course_access(is_course_of_member_class)
