"""In-app and e-mail notices to learners about their place in a training class."""

from flask import current_app
from flask_babel import force_locale, gettext

from courses.class_models import ClassMember, MemberStatus
from lms.notifications import services as notifications

#: Notification kind per member status that is announced.
KINDS = {
    MemberStatus.ENROLLED: "class_enrolled",
    MemberStatus.WAITING: "class_waiting",
    MemberStatus.REJECTED: "class_rejected",
}


def _locale(user) -> str:
    languages = current_app.config.get("LANGUAGES", ["zh_CN", "en"])
    if user.locale in languages:
        return user.locale
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def _texts(member: ClassMember) -> tuple[str, str]:
    training_class = member.training_class
    period = f"{training_class.starts_on.isoformat()} – {training_class.ends_on.isoformat()}"
    if member.status is MemberStatus.ENROLLED:
        title = gettext("You are enrolled in %(title)s", title=training_class.title)
        body = gettext("The class runs %(period)s.", period=period)
    elif member.status is MemberStatus.WAITING:
        title = gettext("You are on the waiting list of %(title)s", title=training_class.title)
        body = gettext("You get a place automatically when one frees up.")
    else:
        title = gettext("Your request to join %(title)s was declined", title=training_class.title)
        body = gettext("Ask the trainers of the class if you have questions.")
    return title, body


def _send(member: ClassMember, kind: str, title: str, body: str, key: str) -> None:
    notifications.enqueue(
        member.user, kind, "class_member", member.id, title, body,
        link=f"/classes/{member.class_id}", key_suffix=key,
    )


def announce_leave_withdrawal(member: ClassMember, standing, *, key: str) -> None:
    """Tell the learner they were withdrawn for missing more time than the limit allows.

    ``key`` distinguishes this withdrawal from earlier ones of the same place.
    """
    training_class = member.training_class
    limit = f"{standing.limit.numerator}/{standing.limit.denominator}"
    with force_locale(_locale(member.user)):
        title = gettext("You were withdrawn from %(title)s", title=training_class.title)
        body = gettext(
            "You missed %(missed)s of the %(scheduled)s 学时 of the class's sessions "
            "(excused or absent), more than the %(limit)s of its time that the class "
            "allows. If a mark is wrong, ask the trainers of the class to correct it "
            "and reinstate you.",
            missed=standing.missed_hours,
            scheduled=standing.scheduled_hours,
            limit=limit,
        )
    _send(member, "class_withdrawn_leave", title, body, key)


def announce_reinstatement(member: ClassMember, *, key: str) -> None:
    """Tell the learner a trainer took them back into the class after a leave withdrawal."""
    with force_locale(_locale(member.user)):
        title = gettext(
            "You are enrolled again in %(title)s", title=member.training_class.title
        )
        body = gettext(
            "A trainer of the class reinstated you: the time you missed is within "
            "the class's leave limit again."
        )
    _send(member, "class_reinstated", title, body, key)


def announce(member: ClassMember) -> None:
    """Queue one notice per member and status, in the learner's language."""
    kind = KINDS.get(member.status)
    if kind is None:
        return
    user = member.user
    with force_locale(_locale(user)):
        title, body = _texts(member)
    notifications.enqueue(
        user, kind, "class_member", member.id, title, body,
        link=f"/classes/{member.class_id}",
    )
