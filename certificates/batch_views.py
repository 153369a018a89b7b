"""Pages to issue certificates to a cohort at once and follow the progress."""

from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from certificates import batches, services
from certificates.batches import (
    BatchStatus,
    CertificateBatch,
    CertificateBatchItem,
    ItemStatus,
)
from courses.class_models import TrainingClass
from courses.models import Programme, PublicationStatus
from lms.accounts.access import hr_scope, roles_required
from lms.accounts.models import Role
from lms.choice_fields import SelectField
from lms.extensions import db
from lms.form_messages import PlatformForm

bp = Blueprint("certificate_batches", __name__)

BATCH_ROLES = (Role.HR, Role.ADMIN, Role.TRAINER)
#: Maximum number of people listed on a batch page. The counts cover every item.
ITEM_LIST_LIMIT = 1000


class BatchForm(PlatformForm):
    #: "programme:<id>" or "class:<id>".
    target = SelectField()


class ActionForm(PlatformForm):
    """CSRF-only form for the resume and retry buttons."""


def _target_choices() -> dict[str, list[tuple[str, str]]]:
    """Programmes and programme classes of the institution, grouped for the select."""
    programmes = db.session.execute(
        sa.select(Programme.id, Programme.title)
        .where(
            Programme.institution_id == current_user.institution_id,
            Programme.status != PublicationStatus.DRAFT,
        )
        .order_by(Programme.title)
    ).all()
    classes = db.session.execute(
        sa.select(TrainingClass.id, TrainingClass.title)
        .where(
            TrainingClass.institution_id == current_user.institution_id,
            TrainingClass.programme_id.is_not(None),
        )
        .order_by(TrainingClass.starts_on.desc(), TrainingClass.id.desc())
    ).all()
    return {
        _("Everyone who completed a programme"): [
            (f"programme:{pid}", title) for pid, title in programmes
        ],
        _("Members of a training class"): [(f"class:{cid}", title) for cid, title in classes],
    }


def _selected(value: str):
    """Return (programme, training class) named by a choice value."""
    kind, _sep, number = (value or "").partition(":")
    if not number.isdigit():
        return None, None
    if kind == "programme":
        programme = db.session.get(Programme, int(number))
        return programme, None
    if kind == "class":
        return None, db.session.get(TrainingClass, int(number))
    return None, None


def batch_access_required(view):
    """Require a batch role whose reach is the whole institution; others get 403.

    A batch issues to everyone of the institution who completed a programme,
    and its pages count and list all of them, so HR limited to a department
    may not run or open batches.
    """

    @wraps(view)
    @roles_required(*BATCH_ROLES)
    def wrapped(*args, **kwargs):
        if hr_scope(current_user) is not None:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _batch_or_404(batch_id: int) -> CertificateBatch:
    batch = db.session.get(CertificateBatch, batch_id)
    if batch is None or batch.institution_id != current_user.institution_id:
        abort(404)
    return batch


@bp.route("/certificates/batches", methods=["GET", "POST"])
@batch_access_required
def index():
    form = BatchForm()
    form.target.choices = _target_choices()
    form.target.label.text = _("Issue to")
    status = 200
    if form.validate_on_submit():
        programme, training_class = _selected(form.target.data)
        try:
            batch = batches.create_batch(
                current_user, programme, training_class=training_class
            )
        except batches.NothingToIssue:
            form.target.errors = [
                _("Everyone in this selection who completed the programme already "
                  "holds its certificate or had it revoked, so there is nothing to "
                  "issue. Reissue a revoked certificate from its own page.")
            ]
            status = 400
        except batches.BatchError:
            form.target.errors = [
                _("Nobody in this selection has completed the programme yet, "
                  "so there is nothing to issue.")
            ]
            status = 400
        else:
            db.session.commit()
            batches.start_in_background(batch.id)
            flash(_("The batch is queued; certificates are being issued."), "success")
            return redirect(url_for(".detail", batch_id=batch.id))
    elif form.is_submitted():
        status = 400
    rows = [(batch, batches.progress(batch)) for batch in batches.batches_of(current_user.institution_id)]
    return render_template("certificates/batches.html", form=form, rows=rows), status


@bp.route("/certificates/batches/<int:batch_id>")
@batch_access_required
def detail(batch_id: int):
    batch = _batch_or_404(batch_id)
    counts = batches.progress(batch)
    listed = sa.select(CertificateBatchItem).where(CertificateBatchItem.batch_id == batch.id)
    # Failed items first, so they are not cut off by the limit.
    items = db.session.scalars(
        listed
        .options(
            sa.orm.joinedload(CertificateBatchItem.user),
            sa.orm.joinedload(CertificateBatchItem.certificate),
        )
        .order_by(
            (CertificateBatchItem.status != ItemStatus.FAILED),
            CertificateBatchItem.id,
        )
        .limit(ITEM_LIST_LIMIT)
    ).all()
    # Trainers may run batches, but certificates are open only to their
    # holders and to HR and admins in scope (services.can_view).
    viewable = {
        item.certificate_id
        for item in items
        if item.certificate is not None and services.can_view(current_user, item.certificate)
    }
    return render_template(
        "certificates/batch.html",
        batch=batch,
        counts=counts,
        items=items,
        viewable=viewable,
        form=ActionForm(),
        stalled=batches.runner_is_gone(batch),
    )


@bp.route("/certificates/batches/<int:batch_id>/progress.json")
@batch_access_required
def progress(batch_id: int):
    batch = _batch_or_404(batch_id)
    return jsonify(status=batch.status.value, **batches.progress(batch))


@bp.route("/certificates/batches/<int:batch_id>/resume", methods=["POST"])
@batch_access_required
def resume(batch_id: int):
    batch = _batch_or_404(batch_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    retried = batches.retry_failed(batch, current_user)
    db.session.commit()
    if batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        batches.start_in_background(batch.id)
        flash(
            ngettext(
                "The batch continues, and %(num)d failed item is retried.",
                "The batch continues, and %(num)d failed items are retried.",
                retried,
            ),
            "success",
        )
    else:
        flash(_("Nothing is left to issue in this batch."), "info")
    return redirect(url_for(".detail", batch_id=batch.id))
