"""Leave limit of training classes: time missed per member, withdrawal, reinstatement.

《干部教育培训工作条例》 (2023) limits leave during off-the-job training
(脱产培训) to 1/7 of the total training time; a trainee beyond it is
withdrawn (退学). A class keeps its limit as a fraction
(``TrainingClass.leave_limit``), 1/7 by default for an off-the-job class.

A member's time is counted in the 学时 of the class's sessions, a full or a
half day as ``classes.hours_for`` converts it. The scheduled time is that of
every session of the class, held or not. The time missed is that of the
sessions marked excused or absent. Late counts as attended, and a session
without a mark is not missed.

A member beyond the limit is withdrawn with the reason ``LEAVE_LIMIT``,
audited and notified. Correcting a mark never reinstates anyone by itself:
a trainer reinstates a member withdrawn for leave once they are within the
limit again. While withdrawn for leave, the member cannot complete the
class's programme or single course, so no certificate follows from it.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from courses import class_notices, classes, logger, services
from courses.class_models import (
    Attendance,
    AttendanceStatus,
    ClassMember,
    ClassSession,
    ClassStatus,
    MemberStatus,
    SessionLength,
    TrainingClass,
    WithdrawalReason,
)
from courses.models import Course, Enrolment
from lms import audit
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db

#: The limit of 《干部教育培训工作条例》 for off-the-job training.
OFF_THE_JOB_LIMIT = Fraction(1, 7)

#: Marks whose session time counts as missed.
MISSED_STATUSES = (AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT)

#: Largest denominator of a stored limit; finer values are rounded to it.
MAX_LIMIT_DENOMINATOR = 1000


# Standing ---------------------------------------------------------------------


@dataclass(frozen=True)
class LeaveStanding:
    """A member's missed time in a class against the class's leave limit."""

    #: 学时 of every session of the class.
    scheduled_hours: Decimal
    #: 学时 of the member's sessions marked excused or absent.
    missed_hours: Decimal
    #: Share of the scheduled time the class allows to miss; None for no limit.
    limit: Optional[Fraction]
    #: 学时 of one full-day session of the class, the unit of the warning.
    full_day_hours: Decimal

    @property
    def share(self) -> Optional[Fraction]:
        """Return the share of the scheduled time missed, or None without sessions."""
        if not self.scheduled_hours:
            return None
        return Fraction(self.missed_hours) / Fraction(self.scheduled_hours)

    @property
    def allowed_hours(self) -> Optional[Fraction]:
        """Return the 学时 the member may miss in all, or None for no limit."""
        if self.limit is None:
            return None
        return self.limit * Fraction(self.scheduled_hours)

    @property
    def remaining_hours(self) -> Optional[Fraction]:
        """Return the 学时 the member may still miss (0 when beyond), or None."""
        allowed = self.allowed_hours
        if allowed is None:
            return None
        return max(allowed - Fraction(self.missed_hours), Fraction(0))

    @property
    def over_limit(self) -> bool:
        """Return whether the missed time is beyond the limit; exactly at it is allowed."""
        allowed = self.allowed_hours
        return allowed is not None and Fraction(self.missed_hours) > allowed

    @property
    def near_limit(self) -> bool:
        """Return whether the member has missed time and one more full day would exceed."""
        remaining = self.remaining_hours
        if remaining is None or self.over_limit or not self.missed_hours:
            return False
        return remaining < Fraction(self.full_day_hours)


def floor_hours(value: Fraction) -> Decimal:
    """Return ``value`` rounded down to 0.1 学时, so an allowance is never overstated."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_FLOOR
    )


def scheduled_hours(training_class: TrainingClass) -> Decimal:
    """Return the 学时 of every session of the class."""
    return sum(
        (classes.hours_for(training_class, session.length) for session in training_class.sessions),
        Decimal(0),
    )


def class_allowance(training_class: TrainingClass) -> Optional[Decimal]:
    """Return the 学时 a member of the class may miss, rounded down, or None for no limit."""
    limit = training_class.leave_limit
    if limit is None:
        return None
    return floor_hours(limit * Fraction(scheduled_hours(training_class)))


def _missed_by_user(
    training_class: TrainingClass, user_ids: Optional[Iterable[int]] = None
) -> dict[int, Decimal]:
    """Return the 学时 of sessions marked excused or absent, per user, in one query."""
    query = (
        sa.select(Attendance.user_id, ClassSession.length, sa.func.count())
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(
            ClassSession.class_id == training_class.id,
            Attendance.status.in_(MISSED_STATUSES),
        )
        .group_by(Attendance.user_id, ClassSession.length)
    )
    if user_ids is not None:
        query = query.where(Attendance.user_id.in_(list(user_ids)))
    missed: dict[int, Decimal] = {}
    for user_id, length, sessions in db.session.execute(query):
        hours = classes.hours_for(training_class, length) * sessions
        missed[user_id] = missed.get(user_id, Decimal(0)) + hours
    return missed


def standings(
    training_class: TrainingClass, user_ids: Optional[Iterable[int]] = None
) -> dict[int, LeaveStanding]:
    """Return the leave standing of each given user (default: every member) of the class."""
    if user_ids is None:
        user_ids = [member.user_id for member in training_class.members]
    user_ids = list(user_ids)
    scheduled = scheduled_hours(training_class)
    full_day = classes.hours_for(training_class, SessionLength.FULL_DAY)
    missed = _missed_by_user(training_class, user_ids)
    return {
        user_id: LeaveStanding(
            scheduled_hours=scheduled,
            missed_hours=missed.get(user_id, Decimal(0)),
            limit=training_class.leave_limit,
            full_day_hours=full_day,
        )
        for user_id in user_ids
    }


def standing_of(training_class: TrainingClass, user: User) -> LeaveStanding:
    """Return one person's leave standing in the class."""
    return standings(training_class, [user.id])[user.id]


# Limit values -------------------------------------------------------------------


#: Words that set "no limit" in the limit field, compared in lower case.
NO_LIMIT_WORDS = ("none", "no limit", "无", "不限", "无限制")


class LimitError(ValueError):
    """A leave limit that cannot be read; the message names the fix."""


def parse_limit(raw: str, off_the_job: bool) -> Optional[Fraction]:
    """Read a limit from the class form; raise ``LimitError`` with a message.

    Blank gives the default: 1/7 for off-the-job training, else no limit.
    A fraction (1/7), a decimal (0.15) or a percentage (15%) sets a share
    above 0 and below 1; "none" sets no limit.
    """
    text = (raw or "").strip().lower()
    if not text:
        return OFF_THE_JOB_LIMIT if off_the_job else None
    if text in NO_LIMIT_WORDS:
        return None
    try:
        value = _fraction_of(text)
    except (ValueError, ZeroDivisionError):
        raise LimitError(_(
            "Enter the leave limit as a fraction such as 1/7, a decimal such as 0.15 "
            "or a percentage, or write none for no limit."
        )) from None
    if not 0 < value < 1:
        raise LimitError(_(
            "Enter a leave limit above 0 and below 1, such as 1/7, or write none for "
            "no limit."
        ))
    value = value.limit_denominator(MAX_LIMIT_DENOMINATOR)
    if not 0 < value < 1:
        raise LimitError(_(
            "Enter a leave limit from 1/1000 to 999/1000, such as 1/7, or write none "
            "for no limit."
        ))
    return value


def _fraction_of(text: str) -> Fraction:
    if text.endswith("%"):
        return Fraction(text[:-1].strip()) / 100
    if "/" in text:
        top, _sep, bottom = text.partition("/")
        return Fraction(int(top.strip()), int(bottom.strip()))
    return Fraction(text)


def limit_text(limit: Optional[Fraction]) -> str:
    """Return the limit as the form shows it: "1/7", or "" for none."""
    return "" if limit is None else f"{limit.numerator}/{limit.denominator}"


def percent_text(share: Fraction) -> str:
    """Return a share as a percentage with one decimal, e.g. "14.3%"."""
    percent = Decimal(share.numerator * 100) / Decimal(share.denominator)
    return f"{percent.quantize(Decimal('0.1'))}%"


# Enforcement ---------------------------------------------------------------------


def enforce(
    training_class: TrainingClass, by: User, user_ids: Optional[Iterable[int]] = None
) -> list[ClassMember]:
    """Withdraw the enrolled members (all, or those in ``user_ids``) beyond the limit.

    Only a class whose sessions take place withdraws anyone. Returns the
    members withdrawn now.
    """
    if training_class.leave_limit is None:
        return []
    if training_class.status not in (ClassStatus.OPEN, ClassStatus.CLOSED):
        return []
    enrolled = classes.members_in(training_class, MemberStatus.ENROLLED)
    if user_ids is not None:
        wanted = set(user_ids)
        enrolled = [member for member in enrolled if member.user_id in wanted]
    by_user = standings(training_class, [member.user_id for member in enrolled])
    withdrawn = []
    for member in enrolled:
        standing = by_user[member.user_id]
        if standing.over_limit:
            withdraw_for_leave(member, standing, by)
            withdrawn.append(member)
    return withdrawn


def _facts(standing: LeaveStanding) -> dict:
    return {
        "missed_hours": str(standing.missed_hours),
        "scheduled_hours": str(standing.scheduled_hours),
        "limit": limit_text(standing.limit),
    }


def withdraw_for_leave(member: ClassMember, standing: LeaveStanding, by: User) -> None:
    """Withdraw a member beyond the leave limit, audit it and notify the learner.

    ``by`` is the person whose change took the member beyond the limit. A
    freed seat goes to the waiting list as for any withdrawal.
    """
    training_class = member.training_class
    member.status = MemberStatus.WITHDRAWN
    member.withdrawal_reason = WithdrawalReason.LEAVE_LIMIT
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    db.session.flush()
    entry = audit.record(
        "class.member_withdrawn_leave", "class_member", member.id,
        f"{member.user.full_name} → {training_class.title}",
        actor_id=by.id, institution_id=training_class.institution_id,
        data=_facts(standing),
    )
    db.session.flush()
    class_notices.announce_leave_withdrawal(member, standing, key=str(entry.id))
    logger.info(
        "User %r withdrawn from class %r beyond its leave limit, by %r",
        member.user, training_class, by,
    )
    classes.promote_waiting(training_class)


def can_reinstate(member: ClassMember) -> bool:
    """Return whether the member was withdrawn for leave, so a trainer may reinstate them."""
    return (
        member.status is MemberStatus.WITHDRAWN
        and member.withdrawal_reason is WithdrawalReason.LEAVE_LIMIT
    )


def reinstate(member: ClassMember, by: User) -> ClassMember:
    """Enrol again a member withdrawn for leave who is within the limit now.

    Raises ``ClassError``: "not_leave_withdrawal" for any other member,
    "still_over_limit" while the missed time is beyond the limit, "full"
    when no seat is free. Completion held by the withdrawal is evaluated again.
    """
    if not can_reinstate(member):
        raise classes.ClassError("not_leave_withdrawal")
    training_class = member.training_class
    standing = standing_of(training_class, member.user)
    if standing.over_limit:
        raise classes.ClassError("still_over_limit")
    classes.lock_seats(training_class)
    if classes.seats_left(training_class) == 0:
        raise classes.ClassError("full")
    member.status = MemberStatus.ENROLLED
    member.withdrawal_reason = None
    member.decided_at = now_utc()
    member.decided_by_id = by.id
    db.session.flush()
    entry = audit.record(
        "class.member_reinstated", "class_member", member.id,
        f"{member.user.full_name} → {training_class.title}",
        actor_id=by.id, institution_id=training_class.institution_id,
        data=_facts(standing),
    )
    db.session.flush()
    class_notices.announce_reinstatement(member, key=str(entry.id))
    logger.info("User %r reinstated in class %r by %r", member.user, training_class, by)
    _complete_held(member)
    return member


def _complete_held(member: ClassMember) -> None:
    """Evaluate the completion that the leave withdrawal held back."""
    training_class = member.training_class
    if member.enrolment is not None:
        services.evaluate_programme(member.enrolment)
    elif training_class.course is not None:
        services.evaluate_course(member.user, training_class.course)


# Completion held while withdrawn for leave ----------------------------------------


def _withdrawn_for_leave(user_id: int, *conditions) -> bool:
    """Return whether the user is withdrawn for leave from a class matching
    ``conditions`` and enrolled in no class matching them."""
    base = (
        sa.select(ClassMember.id)
        .join(TrainingClass, TrainingClass.id == ClassMember.class_id)
        .where(
            ClassMember.user_id == user_id,
            TrainingClass.status != ClassStatus.CANCELLED,
            *conditions,
        )
        .limit(1)
    )
    withdrawn = db.session.scalar(
        base.where(
            ClassMember.status == MemberStatus.WITHDRAWN,
            ClassMember.withdrawal_reason == WithdrawalReason.LEAVE_LIMIT,
        )
    )
    if withdrawn is None:
        return False
    enrolled = db.session.scalar(base.where(ClassMember.status == MemberStatus.ENROLLED))
    return enrolled is None


def programme_held(enrolment: Enrolment) -> Optional[str]:
    """Hold a programme's completion while its learner is withdrawn for leave from a class of it."""
    if _withdrawn_for_leave(
        enrolment.user_id, TrainingClass.programme_id == enrolment.programme_id
    ):
        return _("Withdrawn from the training class for leave beyond its limit.")
    return None


def course_held(user: User, course: Course) -> Optional[str]:
    """Hold a course's completion while the learner is withdrawn for leave from a class of it alone.

    NOTE: this also blocks the course for a learner who follows it through a
    programme enrolment of their own, because a completion does not record
    the way the course was taken.
    """
    if _withdrawn_for_leave(user.id, TrainingClass.course_id == course.id):
        return _("Withdrawn from the training class for leave beyond its limit.")
    return None


services.register_completion_check(course_held)
services.register_programme_hold(programme_held)
