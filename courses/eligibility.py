"""Self-enrolment rules: who may enrol in a programme, and through which training class.

Self-enrolment follows the programme's own fields:

- audience: a programme that names the posts it is meant for takes only
  people in those posts (``learning.audience_includes``);
- level: a counselor whose years of service (``learning.person_level``)
  put them at another level of the competency standard than the
  programme's cannot enrol themselves. An unknown level does not block;
- classes: a programme offered by a training class that is not cancelled is
  taken through a class, so the class's enrolment mode and capacity apply;
- tier: places in a provincial or national programme without a class are
  given by nomination, never by self-enrolment.

Trainers and admins still add anyone to a class of the programme, with a
warning when the person is outside its audience or level.
"""

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

import sqlalchemy as sa

from courses import learning
from courses.class_models import ClassStatus, EnrolmentMode, TrainingClass
from courses.models import Programme, TargetLevel
from lms.accounts.models import User
from lms.extensions import db
from lms.records.models import TrainingTier


class Refusal(enum.Enum):
    """Reason a learner cannot enrol themselves in a programme."""

    #: The programme names posts, and the learner's post is not one of them.
    AUDIENCE = "audience"
    #: The programme names posts, and the learner has no recorded post.
    POST_MISSING = "post_missing"
    #: The learner's level of the competency standard differs.
    LEVEL = "level"
    #: A provincial or national programme without a class: by nomination.
    NOMINATION = "nomination"
    #: The programme is taught through classes, and none takes requests now.
    NO_OPEN_CLASS = "no_open_class"
    #: The programme is taught through several open classes, so one must be chosen.
    CHOOSE_CLASS = "choose_class"


@dataclass(frozen=True)
class SelfEnrolment:
    """Whether and how a learner may enrol themselves in one programme."""

    refusal: Optional[Refusal] = None
    #: The learner's level, when the refusal is ``LEVEL``.
    level: Optional[TargetLevel] = None
    #: The class that the programme's enrol button joins, if exactly one.
    via_class: Optional[TrainingClass] = None
    #: Open classes of the programme that the learner may ask to join.
    open_classes: list[TrainingClass] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def audience_refusal(
    user: User, programme: Programme, today: Optional[date] = None
) -> tuple[Optional[Refusal], Optional[TargetLevel]]:
    """Return why ``user`` is outside the programme's audience or level, and their level."""
    if learning.names_an_audience(programme):
        if user.post is None:
            return Refusal.POST_MISSING, None
        if not learning.audience_includes(programme, user.post):
            return Refusal.AUDIENCE, None
    level = learning.person_level(user, today)
    if level is not None and level is not programme.level:
        return Refusal.LEVEL, level
    return None, None


def programme_classes(programme: Programme) -> list[TrainingClass]:
    """Return the classes that offer the programme and are not cancelled."""
    return list(
        db.session.scalars(
            sa.select(TrainingClass)
            .where(
                TrainingClass.programme_id == programme.id,
                TrainingClass.status != ClassStatus.CANCELLED,
            )
            .order_by(TrainingClass.starts_on, TrainingClass.id)
        )
    )


def takes_requests(training_class: TrainingClass, today: date) -> bool:
    """Return whether a learner may ask to join the class now."""
    return (
        training_class.status is ClassStatus.OPEN
        and training_class.enrolment_mode is not EnrolmentMode.ASSIGNED
        and training_class.ends_on >= today
    )


def self_enrolment(user: User, programme: Programme, today: date) -> SelfEnrolment:
    """Return whether and how ``user`` may enrol themselves in ``programme`` on ``today``."""
    refusal, level = audience_refusal(user, programme, today)
    if refusal is not None:
        return SelfEnrolment(refusal=refusal, level=level)

    offering = programme_classes(programme)
    if offering:
        joinable = [each for each in offering if takes_requests(each, today)]
        if len(joinable) == 1:
            return SelfEnrolment(via_class=joinable[0], open_classes=joinable)
        if joinable:
            return SelfEnrolment(refusal=Refusal.CHOOSE_CLASS, open_classes=joinable)
        return SelfEnrolment(refusal=Refusal.NO_OPEN_CLASS)

    if programme.tier is not TrainingTier.SCHOOL:
        return SelfEnrolment(refusal=Refusal.NOMINATION)
    return SelfEnrolment()
