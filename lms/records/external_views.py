"""External training pages: the learner's submission form, HR's queue and review,
and the evidence download. Routes are registered on the records blueprint."""

import logging
from typing import Optional

from babel.lists import format_list
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms import uploads
from lms.accounts.access import LEARNER_ROLES, get_person_or_404, hr_scope, roles_required
from lms.accounts.forms import EmptyForm
from lms.accounts.models import Role
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.i18n import format_date, plural_count
from lms.labels import label
from lms.records import day_cap, external
from lms.records.day_cap import max_hours_per_day
from lms.records.forms import (
    EnteredTrainingForm,
    ExternalTrainingForm,
    ReviewForm,
    WithdrawApprovalForm,
)
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    TrainingKind,
    TrainingTier,
)
from lms.records.views import _require_hr_of, bp

logger = logging.getLogger("lms.records")

_EVIDENCE_ERRORS = {
    "extension": lambda: _("Upload a PDF, JPEG or PNG file (.pdf, .jpg, .jpeg, .png)."),
    "content": lambda: _(
        "The file content is not a PDF, JPEG or PNG image matching its extension."
    ),
    "size": lambda: _("The file is larger than 10 MB."),
}


def _load_visible(training_id: int) -> ExternalTraining:
    """Load a submission the current user may see, else 404, so that other
    people cannot tell whether an id exists."""
    training = external.find(training_id)
    if training is None or not external.can_view(current_user, training):
        abort(404)
    return training


def _flag_duplicate(form: ExternalTrainingForm, person, *, entered_by_hr: bool) -> bool:
    """Add an error to the title when ``person`` already has this training; return True then."""
    existing = external.find_overlapping(
        person.id,
        form.title.data,
        form.organiser.data,
        form.start_date.data,
        form.end_date.data,
    )
    if existing is None:
        return False
    details = {
        "title": existing.title,
        "organiser": existing.organiser,
        "start": format_date(existing.start_date),
        "end": format_date(existing.end_date),
        "status": label(existing.status),
    }
    if entered_by_hr:
        message = _(
            "%(name)s already has %(title)s by %(organiser)s from %(start)s to %(end)s"
            " (%(status)s), shown at %(url)s. Change the title, organiser or dates"
            " if this is a different training.",
            name=person.full_name,
            url=url_for(".review_external", training_id=existing.id),
            **details,
        )
    else:
        message = _(
            "You already submitted %(title)s by %(organiser)s from %(start)s to"
            " %(end)s (%(status)s). It is listed under My submissions. Change the"
            " title, organiser or dates if this is a different training.",
            **details,
        )
    form.title.errors = list(form.title.errors) + [message]
    logger.info(
        "External training of user %s rejected as a duplicate of %s",
        person.id,
        existing.id,
    )
    return True


def _flag_day_cap(form: ExternalTrainingForm, person) -> bool:
    """Add an error to the hours when trainings on these dates exceed a full day's 学时 a day.

    The form caps each training alone. With the person's other trainings
    whose dates overlap it and the class sessions credited on the days they
    cover together, those days still earn at most a full day each
    (``day_cap``). Return True when the error is added.
    """
    shared = day_cap.shared_days(
        person.id,
        form.start_date.data,
        form.end_date.data,
        [ExternalTrainingStatus.PENDING, ExternalTrainingStatus.APPROVED],
    )
    if not shared.trainings and not shared.sessions:
        return False
    total = form.hours.data + shared.hours
    if total <= shared.max_hours:
        return False
    form.hours.errors = list(form.hours.errors) + [_day_cap_message(shared, total)]
    logger.info(
        "External training of user %s rejected: %s hours with trainings %s and "
        "class sessions %s over %d days",
        person.id,
        total,
        [other.id for other in shared.trainings],
        [session.session_id for session in shared.sessions],
        shared.days,
    )
    return True


def _day_cap_message(shared: day_cap.SharedDays, total) -> str:
    """Return the message that names what shares the days and the cap they exceed."""
    listed = [
        ngettext(
            "%(title)s (%(start)s – %(end)s, %(hours)s hour)",
            "%(title)s (%(start)s – %(end)s, %(hours)s hours)",
            plural_count(other.hours),
            title=other.title,
            start=format_date(other.start_date),
            end=format_date(other.end_date),
            hours=format(other.hours, "f"),
        )
        for other in shared.trainings
    ] + [
        ngettext(
            "%(title)s (class session on %(date)s, %(hours)s hour)",
            "%(title)s (class session on %(date)s, %(hours)s hours)",
            plural_count(session.hours),
            title=session.title,
            date=format_date(session.held_on),
            hours=format(session.hours, "f"),
        )
        for session in shared.sessions
    ]
    values = {
        "trainings": format_list(listed, locale=get_locale()),
        "total": format(total, "f"),
        "first": format_date(shared.first),
        "last": format_date(shared.last),
        "max": day_cap.cap_hours_text(shared.max_hours),
        "per_day": format(max_hours_per_day(), "f"),
    }
    if not shared.sessions:
        return ngettext(
            "Trainings already submitted on these dates: %(trainings)s. With this "
            "one they come to %(total)s hours from %(first)s to %(last)s, but "
            "%(num)d day earns at most %(max)s, %(per_day)s per day as a full "
            "day counts. Lower the hours or correct the dates.",
            "Trainings already submitted on these dates: %(trainings)s. With this "
            "one they come to %(total)s hours from %(first)s to %(last)s, but "
            "%(num)d days earn at most %(max)s, %(per_day)s per day as a full "
            "day counts. Lower the hours or correct the dates.",
            shared.days,
            **values,
        )
    return ngettext(
        "Trainings and class sessions already on these dates: %(trainings)s. With "
        "this one they come to %(total)s hours from %(first)s to %(last)s, but "
        "%(num)d day earns at most %(max)s, %(per_day)s per day as a full "
        "day counts, class sessions included. Lower the hours or correct the dates.",
        "Trainings and class sessions already on these dates: %(trainings)s. With "
        "this one they come to %(total)s hours from %(first)s to %(last)s, but "
        "%(num)d days earn at most %(max)s, %(per_day)s per day as a full "
        "day counts, class sessions included. Lower the hours or correct the dates.",
        shared.days,
        **values,
    )


def _render_submit(form: ExternalTrainingForm, status: int = 200):
    return (
        render_template(
            "lms/records/external.html",
            form=form,
            submissions=external.submissions_of(current_user),
        ),
        status,
    )


@bp.route("/records/external", methods=["GET", "POST"])
@roles_required(*LEARNER_ROLES)
def external_trainings():
    """Submit a training taken outside the platform, and list one's submissions."""
    form = ExternalTrainingForm()
    form.today = local_today(current_user.institution)
    if request.method == "GET":
        return _render_submit(form)
    evidence = _check_submission(form, current_user, entered_by_hr=False)
    if evidence is None:
        return _render_submit(form, 400)

    extension, content = evidence
    upload = form.evidence.data
    training = external.submit(
        current_user,
        title=form.title.data.strip(),
        organiser=form.organiser.data.strip(),
        tier=TrainingTier(form.tier.data),
        kind=TrainingKind(form.kind.data),
        start_date=form.start_date.data,
        end_date=form.end_date.data,
        hours=form.hours.data,
        evidence_name=upload.filename or "",
        extension=extension,
        content=content,
        exam_passed=form.exam_passed(),
    )
    db.session.commit()
    flash(
        _(
            "Submitted %(title)s. The hours count once HR approves it.",
            title=training.title,
        ),
        "success",
    )
    return redirect(url_for(".external_trainings"))


def _is_valid(*fields) -> bool:
    return all(field.data is not None and not field.errors for field in fields)


def _check_submission(
    form: ExternalTrainingForm, person, *, entered_by_hr: bool
) -> Optional[tuple[str, bytes]]:
    """Validate a training for ``person``; return its evidence, or None with the errors set.

    A check that needs only some fields runs when those are valid, even if
    others are not, so one response names every field to correct.
    """
    valid = form.validate_on_submit()
    if form.meta.csrf and form.csrf_token.errors:
        return None
    dates = (form.start_date, form.end_date)
    if _is_valid(form.title, form.organiser, *dates):
        valid = not _flag_duplicate(form, person, entered_by_hr=entered_by_hr) and valid
    if _is_valid(*dates, form.hours):
        valid = not _flag_day_cap(form, person) and valid
    upload = _read_upload(form) if _is_valid(form.evidence) else None
    return upload if valid else None


def _read_upload(form) -> Optional[tuple[str, bytes]]:
    """Return (extension, content) of the form's evidence, or None with the error set."""
    upload = form.evidence.data
    try:
        return external.read_evidence(upload.filename or "", upload.stream)
    except external.EvidenceError as error:
        logger.info(
            "Evidence %r from user %s rejected: %s",
            (upload.filename or "")[:100],
            current_user.id,
            error.code,
        )
        form.evidence.errors = list(form.evidence.errors) + [
            _EVIDENCE_ERRORS[error.code]()
        ]
        return None


@bp.route("/people/<int:person_id>/external/new", methods=["GET", "POST"])
@login_required
def enter_external(person_id: int):
    """HR enters a training the person took elsewhere, with evidence; approved on entry."""
    person = get_person_or_404(person_id)
    _require_hr_of(person)
    form = EnteredTrainingForm()
    form.today = local_today(person.institution)
    status = 200
    if request.method == "POST":
        status = 400
        upload = _check_submission(form, person, entered_by_hr=True)
        if upload is not None:
            extension, content = upload
            training = external.enter_for(
                person,
                current_user,
                title=form.title.data.strip(),
                organiser=form.organiser.data.strip(),
                tier=TrainingTier(form.tier.data),
                kind=TrainingKind(form.kind.data),
                start_date=form.start_date.data,
                end_date=form.end_date.data,
                hours=form.hours.data,
                exam_passed=form.exam_passed(),
                evidence_name=form.evidence.data.filename or "",
                extension=extension,
                content=content,
                note=(form.note.data or "").strip(),
            )
            db.session.commit()
            flash(
                _(
                    "Entered %(title)s for %(name)s; its hours are credited.",
                    title=training.title,
                    name=person.full_name,
                ),
                "success",
            )
            return redirect(url_for(".review_external", training_id=training.id))
    return (
        render_template("lms/records/external_enter.html", person=person, form=form),
        status,
    )


@bp.route("/records/external/pending")
@roles_required(Role.HR, Role.ADMIN)
def external_queue():
    return render_template(
        "lms/records/external_queue.html",
        pending=external.pending_for(
            current_user.institution_id, hr_scope(current_user)
        ),
    )


@bp.route("/records/external/<int:training_id>/review", methods=["GET", "POST"])
@login_required
def review_external(training_id: int):
    """Approve or reject a submission; HR and admins of the submitter's institution."""
    training = _load_visible(training_id)
    if not external.can_review(current_user, training):
        abort(403)
    form = ReviewForm()
    status = 200
    if request.method == "POST":
        if training.status is not ExternalTrainingStatus.PENDING:
            flash(_("This submission was already reviewed; nothing changed."), "info")
            return redirect(url_for(".review_external", training_id=training.id))
        if form.validate_on_submit():
            reason = (form.reason.data or "").strip()
            if form.decision.data == "approve":
                decided = external.approve(training, current_user, reason)
                message = _(
                    "Approved %(title)s; its hours are credited.", title=training.title
                )
            else:
                decided = external.reject(training, current_user, reason)
                message = _("Rejected %(title)s.", title=training.title)
            db.session.commit()
            if not decided:
                message = _("This submission was already reviewed; nothing changed.")
            flash(message, "success" if decided else "info")
            return redirect(url_for(".external_queue"))
        status = 400
    return (
        render_template(
            "lms/records/external_review.html",
            training=training,
            entry_note=external.shows_entry_note(training),
            form=form,
            withdraw_form=WithdrawApprovalForm(),
        ),
        status,
    )


@bp.route("/records/external/<int:training_id>/withdraw", methods=["POST"])
@login_required
def withdraw_external(training_id: int):
    """Withdraw an approval given in error and take the hours back."""
    training = _load_visible(training_id)
    if not external.can_review(current_user, training):
        abort(403)

    if training.status is not ExternalTrainingStatus.APPROVED:
        logger.info(
            "Withdrawal of external training %s by user %s rejected: status %s",
            training.id,
            current_user.id,
            training.status.value,
        )
        flash(_("Only an approved training can be withdrawn; nothing changed."), "info")
        return redirect(url_for(".review_external", training_id=training.id))

    form = WithdrawApprovalForm()
    hold = external.withdrawal_hold(training)
    if hold is not None:
        logger.info(
            "Withdrawal of external training %s by user %s rejected: %s",
            training.id,
            current_user.id,
            hold,
        )
        flash(hold, "error")
        return redirect(url_for(".review_external", training_id=training.id))

    if not form.validate_on_submit():
        return (
            render_template(
                "lms/records/external_review.html",
                training=training,
                entry_note=external.shows_entry_note(training),
                form=ReviewForm(formdata=None),
                withdraw_form=form,
            ),
            400,
        )

    withdrawn = external.withdraw(training, current_user, form.reason.data.strip())
    db.session.commit()
    if withdrawn:
        flash(
            _("Withdrew the approval of %(title)s; its hours no longer count.", title=training.title),
            "success",
        )
    else:
        flash(_("Only an approved training can be withdrawn; nothing changed."), "info")
    return redirect(url_for(".review_external", training_id=training.id))


@bp.route("/records/external/<int:training_id>/cancel", methods=["POST"])
@login_required
def cancel_external(training_id: int):
    """Let the submitter take back a submission that HR has not decided yet."""
    training = _load_visible(training_id)
    if training.user_id != current_user.id:
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)

    title = training.title
    evidence_path = external.cancel(training, current_user)
    if evidence_path is None:
        logger.info(
            "Cancellation of external training %s by user %s rejected: status %s",
            training.id,
            current_user.id,
            training.status.value,
        )
        flash(
            _(
                "Only a submission awaiting review can be cancelled. HR has "
                "already decided on %(title)s, so nothing changed.",
                title=title,
            ),
            "info",
        )
        return redirect(url_for(".external_trainings"))

    db.session.commit()
    _remove_evidence(evidence_path)
    flash(
        _(
            "Cancelled %(title)s. You may correct it and submit it again.",
            title=title,
        ),
        "success",
    )
    return redirect(url_for(".external_trainings"))


def _remove_evidence(evidence_path: str) -> None:
    """Delete a cancelled submission's evidence file; a leftover file is only logged."""
    try:
        (external.evidence_dir() / evidence_path).unlink(missing_ok=True)
    except OSError as error:
        logger.error("Evidence file %s could not be deleted: %s", evidence_path, error)


@bp.route("/records/external/<int:training_id>/evidence")
@login_required
def external_evidence(training_id: int):
    """Send the evidence file as a download, never rendered inline."""
    training = _load_visible(training_id)
    path = external.evidence_file(training)
    if not path.is_file():
        logger.error(
            "Evidence file %s of external training %s is missing",
            training.evidence_path,
            training.id,
        )
        abort(404)
    extension = uploads.extension_of(training.evidence_path)
    fallback = f"evidence-{training.id}.{extension}"
    # Rows stored before names were cut to their last component may hold a path.
    name = uploads.client_filename(training.evidence_name) or fallback
    response = send_file(
        path,
        mimetype=training.evidence_type,
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    uploads.set_disposition(response, name, fallback)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
