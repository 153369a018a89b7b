"""Training class pages under /classes.

Trainers of a class and admins manage it. HR may read the rosters of its
own institution, and learners may open open classes and their own
membership. A class of another institution gives 404.
"""

from functools import wraps

import sqlalchemy as sa

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from courses import class_attendance, class_authoring, class_leave, classes
from courses.authoring import AuthoringError, courses_of, programmes_of
from courses.class_models import (
    ClassMember,
    ClassSession,
    ClassStatus,
    EnrolmentMode,
    MemberStatus,
    SessionLength,
    TrainingClass,
    WithdrawalReason,
)
from courses.models import PublicationStatus
from lms import labels, revisions
from lms.accounts.access import roles_required
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.i18n import join_names
from lms.records.models import TrainingKind, TrainingTier

bp = Blueprint("classes", __name__, url_prefix="/classes")

MEMBER_STATUS = {
    "pending": _l("Awaiting approval"),
    "waiting": _l("Waiting list"),
    "enrolled": _l("Enrolled"),
    "withdrawn": _l("Withdrawn"),
    "rejected": _l("Rejected"),
}
labels.register("member_status", MEMBER_STATUS)
labels.register("MemberStatus", MEMBER_STATUS)
labels.register("ClassStatus", {
    "draft": _l("Draft"),
    "open": _l("Open for enrolment"),
    "closed": _l("Enrolment closed"),
    "cancelled": _l("Cancelled"),
})
labels.register("EnrolmentMode", {
    "assigned": _l("Assigned by trainers"),
    "self": _l("Self-enrolment"),
    "approval": _l("Self-enrolment with approval"),
})
labels.register("WithdrawalReason", {
    "self": _l("Left the class"),
    "trainer": _l("Withdrawn by a trainer"),
    "leave_limit": _l("Leave beyond the class's limit"),
})
labels.register("SessionLength", {
    "half_day": _l("Half day"),
    "full_day": _l("Full day"),
})
labels.register("AttendanceStatus", {
    "present": _l("Present"),
    "late": _l("Late"),
    "excused": _l("Excused"),
    "absent": _l("Absent"),
})

MANAGER_ROLES = (Role.TRAINER, Role.ADMIN)
ROSTER_ROLES = (Role.TRAINER, Role.HR, Role.ADMIN)


# Loading ----------------------------------------------------------------------


def _load(class_id: int) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or training_class.institution_id != current_user.institution_id:
        abort(404)
    return training_class


def class_roles_required(*roles: Role):
    """Require login and one of ``roles`` on a route about the class ``class_id``.

    A class of another institution, or an unknown id, gives 404 before the
    role is checked, so the status never reveals that the class exists.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            _load(kwargs["class_id"])
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _managed(class_id: int) -> TrainingClass:
    training_class = _load(class_id)
    if not classes.can_manage(current_user, training_class):
        abort(403, description=_(
            "Only the class's trainers and administrators manage this class. "
            "Ask an administrator to add you as one of its trainers."
        ))
    return training_class


def _roster_class(class_id: int) -> TrainingClass:
    training_class = _load(class_id)
    if not classes.can_view_roster(current_user, training_class):
        abort(403)
    return training_class


def _member(training_class: TrainingClass, member_id: int) -> ClassMember:
    member = db.session.get(ClassMember, member_id)
    if member is None or member.class_id != training_class.id:
        abort(404)
    return member


def _session(training_class: TrainingClass, session_id: int) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None or session.class_id != training_class.id:
        abort(404)
    return session


def withdrawn_by_trainer_message(training_class: TrainingClass) -> str:
    """Tell a learner taken off the roster that only the class's trainers add them again."""
    names = join_names(trainer.full_name for trainer in training_class.trainers)
    if not names:
        return _(
            "You were taken off the roster of this class, so you cannot join it again "
            "yourself. Ask the class's trainers to add you again."
        )
    return _(
        "You were taken off the roster of this class, so you cannot join it again "
        "yourself. Ask the class's trainers (%(names)s) to add you again.",
        names=names,
    )


def class_error_message(
    error: classes.ClassError, training_class: TrainingClass | None = None
) -> str:
    if error.code == "withdrawn_by_trainer" and training_class is not None:
        return withdrawn_by_trainer_message(training_class)
    messages = {
        "other_institution": _("This person belongs to another institution."),
        "not_learner": _("Only counselors and party-work staff can join a class."),
        "inactive": _("This account is disabled."),
        "cancelled": _("The class is cancelled."),
        "not_open": _("The class is not open for enrolment."),
        "ended": _("The class has ended, so it takes no more enrolments."),
        "assigned_only": _("Places in this class are assigned by its trainers."),
        "programme_closed": _("The class's programme is not open for enrolment. Publish it first."),
        "not_pending": _("This request was already decided."),
        "not_member": _("This person holds no place in the class."),
        "not_leave_withdrawal": _(
            "Only a member withdrawn for leave beyond the class's limit can be reinstated. "
            "Add other people again with the roster's forms."
        ),
        "still_over_limit": _(
            "The person's missed time is still beyond the class's leave limit. Correct "
            "their attendance marks or raise the leave limit on the class form first."
        ),
        "draft_after_start": _(
            "People have been placed in this class since it opened, so it cannot "
            "become a draft again. Close the class to stop enrolment, or cancel it."
        ),
        "withdrawn_by_trainer": _(
            "You were taken off the roster of this class, so you cannot join it again "
            "yourself. Ask the class's trainers to add you again."
        ),
        "withdrawn_for_leave": _(
            "You were withdrawn from this class for leave beyond its limit, so you "
            "cannot join it again yourself. If a mark is wrong, ask the trainers of "
            "the class to correct it and reinstate you."
        ),
        "full": _(
            "The class is full. Raise its capacity on the class form, then reinstate "
            "the person."
        ),
        "outside_audience": _(
            "The class's programme is meant for other posts than yours, so you "
            "cannot join it yourself. Ask HR if your post is recorded wrongly."
        ),
        "outside_post_missing": _(
            "The class's programme is meant for certain posts, and your post is not "
            "recorded, so you cannot join it yourself. Ask HR to record your post."
        ),
        "outside_level": _(
            "The class's programme is for another level of the competency standard "
            "than your years of service give, so you cannot join it yourself."
        ),
    }
    return messages.get(error.code, error.code)


def flash_leave_withdrawals(training_class: TrainingClass, members: list[ClassMember]) -> None:
    """Tell the trainer who was withdrawn for leave beyond the class's limit."""
    if not members:
        return
    flash(
        ngettext(
            "%(names)s missed more of the class's time than its leave limit of "
            "%(limit)s allows and was withdrawn. If a mark is wrong, correct it and "
            "reinstate the person from the roster.",
            "%(names)s missed more of the class's time than its leave limit of "
            "%(limit)s allows and were withdrawn. If a mark is wrong, correct it and "
            "reinstate the people from the roster.",
            len(members),
            names=join_names(member.user.full_name for member in members),
            limit=class_leave.limit_text(training_class.leave_limit),
        ),
        "warning",
    )


def draft_notice() -> str:
    """Explain what adding people to a draft class does and does not do yet."""
    return _(
        "This class is a draft. People added to it hold their places without being "
        "notified: when the class opens, they are enrolled in what it offers, notified "
        "and shown the class."
    )


@bp.app_context_processor
def _class_helpers() -> dict:
    return {"draft_notice": draft_notice}


# Lists and detail ---------------------------------------------------------------


@bp.route("")
@login_required
def index():
    institution_id = current_user.institution_id
    if current_user.role.is_learner:
        memberships = classes.memberships_of(current_user)
        mine = {member.class_id for member in memberships}
        others = [c for c in classes.open_classes(institution_id) if c.id not in mine]
        return render_template(
            "classes/index_learner.html",
            memberships=memberships,
            open_classes=others,
            join_notes={c.id: _join_note(c) for c in others},
        )
    return render_template(
        "classes/index.html",
        classes=classes.classes_of(institution_id),
        can_create=current_user.role in MANAGER_ROLES,
    )


@bp.route("/<int:class_id>")
@login_required
def detail(class_id: int):
    training_class = _load(class_id)
    member = None
    my_marks = {}
    if current_user.role.is_learner:
        if not classes.is_visible_to_learner(current_user, training_class):
            abort(404)
        member = classes.find_member(training_class, current_user)
        my_marks = class_attendance.marks_of(current_user, training_class)
    return detail_page(training_class, member, my_marks)


def _join_note(training_class: TrainingClass) -> str:
    """Return why the learner cannot take a place in a listed class themselves, or ""."""
    if training_class.enrolment_mode is EnrolmentMode.ASSIGNED:
        return _("Places in this class are assigned by its trainers.")
    code = classes.join_refusal(training_class, current_user)
    if code is None:
        return ""
    return class_error_message(classes.ClassError(code), training_class)


def _join_refusal_text(training_class: TrainingClass, member) -> str:
    """Return why the learner cannot join the class, or "" when joining would be accepted."""
    if not current_user.role.is_learner:
        return ""
    if member is not None and member.status in classes.ACTIVE_STATES:
        return ""
    code = classes.join_refusal(training_class, current_user)
    if code is None:
        return ""
    return class_error_message(classes.ClassError(code), training_class)


def _my_leave(training_class: TrainingClass, member) -> class_leave.LeaveStanding | None:
    """Return the learner's own leave standing while they are or were enrolled."""
    if member is None or member.status not in (MemberStatus.ENROLLED, MemberStatus.WITHDRAWN):
        return None
    return class_leave.standing_of(training_class, member.user)


def _next_statuses(training_class: TrainingClass) -> list[ClassStatus]:
    """Return the statuses the class may be set to, for its status buttons."""
    if training_class.status is ClassStatus.CANCELLED:
        return []
    return [
        status
        for status in ClassStatus
        if status is not training_class.status
        and (status is not ClassStatus.DRAFT or class_authoring.can_return_to_draft(training_class))
    ]


def detail_page(
    training_class: TrainingClass,
    member=None,
    my_marks=None,
    session_values: dict | None = None,
    session_errors: dict | None = None,
    status: int = 200,
):
    """Render the class page, with the session arguments in the "Add a session" form."""
    page = render_template(
        "classes/detail.html",
        training_class=training_class,
        member=member,
        my_marks=my_marks or {},
        my_leave=_my_leave(training_class, member),
        leave_withdrawn=member is not None and class_leave.can_reinstate(member),
        trainer_withdrawn_text=(
            withdrawn_by_trainer_message(training_class)
            if member is not None
            and member.status is MemberStatus.WITHDRAWN
            and member.withdrawal_reason is WithdrawalReason.TRAINER
            else ""
        ),
        join_refusal_text=_join_refusal_text(training_class, member),
        leave_allowed=class_leave.class_allowance(training_class),
        floor_hours=class_leave.floor_hours,
        percent_text=class_leave.percent_text,
        limit_text=class_leave.limit_text,
        waiting_position=classes.waiting_position(member) if member else None,
        seats_left=classes.seats_left(training_class),
        enrolled=classes.enrolled_count(training_class),
        can_manage=classes.can_manage(current_user, training_class),
        can_view_roster=classes.can_view_roster(current_user, training_class),
        hours_full=classes.hours_for(training_class, SessionLength.FULL_DAY),
        hours_half=classes.hours_for(training_class, SessionLength.HALF_DAY),
        lessons=class_attendance.offline_lessons(training_class),
        lengths=list(SessionLength),
        statuses=_next_statuses(training_class),
        session_values=session_values or {},
        session_errors=session_errors or {},
    )
    return page, status


# Creating and editing -------------------------------------------------------------


def _form_values(training_class=None) -> dict:
    if training_class is None:
        return {
            "enrolment_mode": EnrolmentMode.ASSIGNED.value,
            "tier": TrainingTier.SCHOOL.value,
            "trainer_ids": [str(current_user.id)],
        }
    offering = class_authoring.offering_value(training_class)
    values = {
        field: getattr(training_class, field)
        for field in ("code", "title", "summary", "capacity", "full_day_hours", "half_day_hours")
    }
    values = {key: "" if value is None else str(value) for key, value in values.items()}
    values.update(
        starts_on=training_class.starts_on.isoformat(),
        ends_on=training_class.ends_on.isoformat(),
        enrolment_mode=training_class.enrolment_mode.value,
        tier=training_class.tier.value,
        kind=training_class.kind.value if training_class.kind else "",
        offering=offering,
        trainer_ids=[str(trainer.id) for trainer in training_class.trainers],
        off_the_job="y" if training_class.off_the_job else "",
        leave_limit=_limit_value(training_class),
    )
    return values


def _limit_value(training_class: TrainingClass) -> str:
    """Return the leave limit field: the fraction, "none", or blank for the default.

    An off-the-job class without a limit shows "none" in the reader's
    language (one of class_leave.NO_LIMIT_WORDS), because a blank field would
    save the default of 1/7.
    """
    limit = training_class.leave_limit
    if limit is None:
        return _("none") if training_class.off_the_job else ""
    return class_leave.limit_text(limit)


def _render_form(training_class, values: dict, errors: dict, status: int = 200):
    institution_id = current_user.institution_id
    published = PublicationStatus.PUBLISHED
    staff = [
        user for user in db.session.scalars(
            sa.select(User).where(
                User.institution_id == institution_id,
                User.role.in_(MANAGER_ROLES),
                User.active.is_(True),
            ).order_by(User.full_name)
        )
    ]
    programmes, courses = class_authoring.offer_choices(
        current_user,
        [p for p in programmes_of(institution_id) if p.status is published],
        [c for c in courses_of(institution_id) if c.status is published],
        training_class,
    )
    return render_template(
        "classes/form.html",
        training_class=training_class,
        values=values,
        errors=errors,
        programmes=programmes,
        courses=courses,
        offering_locked=class_authoring.offering_locked(current_user, training_class),
        trainers=staff,
        modes=list(EnrolmentMode),
        tiers=list(TrainingTier),
        kinds=list(TrainingKind),
    ), status


def _submitted() -> dict:
    data = request.form.to_dict()
    data["trainer_ids"] = request.form.getlist("trainer_ids")
    return data


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def new_class():
    if request.method == "GET":
        return _render_form(None, _form_values(), {})
    data = _submitted()
    try:
        training_class = class_authoring.create_class(data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _render_form(None, data, error.errors, 400)
    db.session.commit()
    flash(_("Class %(title)s created as a draft.", title=training_class.title), "success")
    return redirect(url_for("classes.detail", class_id=training_class.id))


@bp.route("/<int:class_id>/edit", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def edit_class(class_id: int):
    training_class = _managed(class_id)
    if request.method == "GET":
        return _render_form(training_class, _form_values(training_class), {})
    data = _submitted()
    try:
        withdrawn: list = []
        conflict = revisions.save(
            training_class,
            lambda: withdrawn.extend(_update_class(training_class, data)),
            _form_values,
        )
    except AuthoringError as error:
        db.session.rollback()
        return _render_form(training_class, data, error.errors, 400)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    if conflict is not None:
        fresh = _form_values(training_class)
        revisions.show_conflict(
            conflict, revisions.value_differences(data, fresh, _class_fields(fresh))
        )
        return _render_form(training_class, data, {}, 409)
    flash(_("Class saved."), "success")
    flash_leave_withdrawals(training_class, withdrawn)
    return redirect(url_for("classes.detail", class_id=class_id))


def _update_class(training_class: TrainingClass, data: dict) -> list:
    """Save the class form and return the members its leave limit withdraws."""
    class_authoring.update_class(training_class, data, current_user)
    class_attendance.resync_class(training_class)
    return class_leave.enforce(training_class, current_user)


def _class_fields(fresh: dict) -> dict:
    """Label and display of each field of the class form, for a rejected save."""
    names = {
        str(user.id): user.full_name
        for user in db.session.scalars(
            sa.select(User).where(User.id.in_([int(i) for i in fresh["trainer_ids"]]))
        )
    }
    return {
        "code": _l("Code"),
        "title": _l("Title"),
        "summary": _l("Summary"),
        "starts_on": _l("Start date"),
        "ends_on": _l("End date"),
        "capacity": _l("Capacity"),
        "enrolment_mode": (
            _l("Enrolment"),
            lambda value: labels.label(value, "EnrolmentMode"),
        ),
        "tier": (_l("Tier"), lambda value: labels.label(value, "tier")),
        "kind": (_l("Kind"), lambda value: labels.label(value, "kind")),
        "full_day_hours": _l("Hours for a full-day session"),
        "half_day_hours": _l("Hours for a half-day session"),
        "trainer_ids": (_l("Trainers"), lambda value: names.get(value, value)),
    }


@bp.route("/<int:class_id>/status", methods=["POST"])
@class_roles_required(*MANAGER_ROLES)
def set_status(class_id: int):
    training_class = _managed(class_id)
    status = next((s for s in ClassStatus if s.value == request.form.get("status")), None)
    if status is None:
        flash(_("Choose one of the listed statuses."), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    if status is ClassStatus.CANCELLED:
        # Cancelling cannot be undone and notifies every member: it is done
        # only from its confirmation page.
        return redirect(url_for("classes.cancel_class", class_id=class_id))
    return _change_status(training_class, status, _("Class status changed."))


def _change_status(training_class: TrainingClass, status: ClassStatus, done: str):
    """Set the class status, flash the outcome and return to the class page."""
    class_id = training_class.id
    try:
        class_authoring.set_status(training_class, status, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/cancel", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def cancel_class(class_id: int):
    """Confirm and cancel a class, which notifies its members and cannot be undone."""
    training_class = _managed(class_id)
    if request.method == "GET" or training_class.status is ClassStatus.CANCELLED:
        # A cancelled class shows why nothing more happens, also to a second click.
        return render_template(
            "classes/cancel_confirm.html",
            training_class=training_class,
            notified=(
                0
                if training_class.status is ClassStatus.DRAFT
                else len(classes.members_in(training_class, *classes.ACTIVE_STATES))
            ),
        )
    return _change_status(training_class, ClassStatus.CANCELLED, _("The class is cancelled."))


# Learner membership -------------------------------------------------------------


@bp.route("/<int:class_id>/join", methods=["POST"])
@class_roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def join(class_id: int):
    training_class = _load(class_id)
    if not classes.is_visible_to_learner(current_user, training_class):
        abort(404)
    try:
        member = classes.request_place(training_class, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error, training_class), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(member_status_message(member), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


def member_status_message(member: ClassMember) -> str:
    if member.status is MemberStatus.ENROLLED:
        return _("You are enrolled in this class.")
    if member.status is MemberStatus.WAITING:
        return _("The class is full. You are on the waiting list and move up when a place frees.")
    return _("Your request was sent. A trainer of the class will decide on it.")


def _leave_rejection(training_class: TrainingClass, member: ClassMember) -> str | None:
    """Return why the learner cannot leave the class now, or None when they can."""
    if member.status not in classes.ACTIVE_STATES:
        # A second click or a resubmit from the browser history: the person
        # has already left, so show that instead of the trainers' roster error.
        return _("You have already left this class.")
    if (
        training_class.enrolment_mode is EnrolmentMode.ASSIGNED
        and member.status is MemberStatus.ENROLLED
    ):
        return _("Places in this class are assigned by its trainers. Ask them to withdraw you.")
    return None


@bp.route("/<int:class_id>/leave", methods=["GET", "POST"])
@class_roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def leave(class_id: int):
    """Confirm and withdraw the current learner from a class."""
    training_class = _load(class_id)
    member = classes.find_member(training_class, current_user)
    if member is None:
        abort(404)
    rejection = _leave_rejection(training_class, member)
    if rejection is not None:
        category = "info" if member.status not in classes.ACTIVE_STATES else "error"
        flash(rejection, category)
        return redirect(url_for("classes.detail", class_id=class_id))
    if request.method == "GET":
        return render_template(
            "classes/leave_confirm.html",
            training_class=training_class,
            member=member,
            waiting_position=classes.waiting_position(member),
            has_capacity=training_class.capacity is not None,
        )
    try:
        classes.withdraw(member, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("You left the class."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


# The roster and session pages register their routes on ``bp`` when imported.
from courses import class_roster_views, class_session_views  # noqa: E402

del class_roster_views, class_session_views
