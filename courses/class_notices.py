"""In-app and e-mail notices to learners about their place in a training class."""

from courses.class_models import ClassMember, MemberStatus
from lms.i18n import plural_count
from lms.notifications import services as notifications
from lms.stored_text import (
    StoredText,
    reword_as_plural,
    stored_date,
    stored_gettext,
    stored_ngettext,
)

#: Notification kind per member status that is announced.
KINDS = {
    MemberStatus.ENROLLED: "class_enrolled",
    MemberStatus.WAITING: "class_waiting",
    MemberStatus.REJECTED: "class_rejected",
}


def _period(training_class) -> StoredText:
    return stored_gettext(
        "%(start)s to %(end)s",
        start=stored_date(training_class.starts_on),
        end=stored_date(training_class.ends_on),
    )


def _texts(member: ClassMember) -> tuple[StoredText, StoredText]:
    training_class = member.training_class
    period = _period(training_class)
    if member.status is MemberStatus.ENROLLED:
        title = stored_gettext("You are enrolled in %(title)s", title=training_class.title)
        body = stored_gettext("The class runs %(period)s.", period=period)
    elif member.status is MemberStatus.WAITING:
        title = stored_gettext(
            "You are on the waiting list of %(title)s", title=training_class.title
        )
        body = stored_gettext("You get a place automatically when one frees up.")
    else:
        title = stored_gettext(
            "Your request to join %(title)s was declined", title=training_class.title
        )
        body = stored_gettext("Ask the trainers of the class if you have questions.")
    return title, body


def _send(
    member: ClassMember, kind: str, title: StoredText, body: StoredText, key: str
) -> None:
    notifications.enqueue(
        member.user, kind, "class_member", member.id, title, body,
        link=f"/classes/{member.class_id}", key_suffix=key,
    )


# Notices stored before the message had a plural form.
reword_as_plural(
    "You missed %(missed)s of the %(scheduled)s hours of the class's sessions "
    "(excused or absent), more than the %(limit)s of its time that the class "
    "allows. If a mark is wrong, ask the trainers of the class to correct it "
    "and reinstate you.",
    "You missed %(missed)s of the %(scheduled)s hour of the class's sessions "
    "(excused or absent), more than the %(limit)s of its time that the class "
    "allows. If a mark is wrong, ask the trainers of the class to correct it "
    "and reinstate you.",
    "You missed %(missed)s of the %(scheduled)s hours of the class's sessions "
    "(excused or absent), more than the %(limit)s of its time that the class "
    "allows. If a mark is wrong, ask the trainers of the class to correct it "
    "and reinstate you.",
    "scheduled",
)


def announce_leave_withdrawal(member: ClassMember, standing, *, key: str) -> None:
    """Tell the learner they were withdrawn for missing more time than the limit allows.

    ``key`` distinguishes this withdrawal from earlier ones of the same place.
    """
    training_class = member.training_class
    limit = f"{standing.limit.numerator}/{standing.limit.denominator}"
    title = stored_gettext("You were withdrawn from %(title)s", title=training_class.title)
    scheduled = str(standing.scheduled_hours)
    body = stored_ngettext(
        "You missed %(missed)s of the %(scheduled)s hour of the class's sessions "
        "(excused or absent), more than the %(limit)s of its time that the class "
        "allows. If a mark is wrong, ask the trainers of the class to correct it "
        "and reinstate you.",
        "You missed %(missed)s of the %(scheduled)s hours of the class's sessions "
        "(excused or absent), more than the %(limit)s of its time that the class "
        "allows. If a mark is wrong, ask the trainers of the class to correct it "
        "and reinstate you.",
        plural_count(scheduled),
        missed=str(standing.missed_hours),
        scheduled=scheduled,
        limit=limit,
    )
    _send(member, "class_withdrawn_leave", title, body, key)


def announce_reinstatement(member: ClassMember, *, key: str) -> None:
    """Tell the learner a trainer took them back into the class after a leave withdrawal."""
    title = stored_gettext(
        "You are enrolled again in %(title)s", title=member.training_class.title
    )
    body = stored_gettext(
        "A trainer of the class reinstated you: the time you missed is within "
        "the class's leave limit again."
    )
    _send(member, "class_reinstated", title, body, key)


def announce(member: ClassMember) -> None:
    """Queue one notice per member and status, shown in the reader's language."""
    kind = KINDS.get(member.status)
    if kind is None:
        return
    title, body = _texts(member)
    notifications.enqueue(
        member.user, kind, "class_member", member.id, title, body,
        link=f"/classes/{member.class_id}",
    )


def announce_cancellation(member: ClassMember) -> None:
    """Notify a member with a place, waiting place or request that the class is cancelled."""
    training_class = member.training_class
    title = stored_gettext("%(title)s is cancelled", title=training_class.title)
    body = stored_gettext(
        "The class planned for %(period)s will not take place, so its sessions "
        "are off. Ask its trainers if you have questions.",
        period=_period(training_class),
    )
    _send(member, "class_cancelled", title, body, "cancelled")
