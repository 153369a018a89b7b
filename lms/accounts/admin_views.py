"""Admin pages: the institution's security settings and the read-only audit log."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.accounts import two_factor
from lms.accounts.access import roles_required
from lms.accounts.forms import AuditFilterForm, SecuritySettingsForm
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.audit_summaries import describe
from lms.extensions import db

bp = Blueprint("admin", __name__)

PAGE_SIZE = 50


@bp.route("/admin/security", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def security():
    institution_id = current_user.institution_id
    form = SecuritySettingsForm(
        require_two_factor=two_factor.institution_requires(institution_id)
    )
    if form.validate_on_submit():
        two_factor.set_requirement(current_user, bool(form.require_two_factor.data))
        db.session.commit()
        flash(_("The security settings are saved."), "success")
        return redirect(url_for("admin.security"))
    return render_template("lms/admin/security.html", form=form), 400 if form.errors else 200


def _zone() -> ZoneInfo:
    try:
        return ZoneInfo(current_user.institution.timezone)
    except (ValueError, LookupError):
        return ZoneInfo("Asia/Shanghai")


def audit_query(form: AuditFilterForm, institution_id: int) -> sa.Select:
    """Build the filtered query of the institution's audit entries, newest first."""
    actor = so.aliased(User)
    query = (
        sa.select(AuditEntry, actor)
        .outerjoin(actor, actor.id == AuditEntry.actor_id)
        .where(AuditEntry.institution_id == institution_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if form.actor.data:
        query = query.where(sa.func.lower(actor.username) == form.actor.data.strip().lower())
    if form.action.data:
        query = query.where(AuditEntry.action.startswith(form.action.data.strip(), autoescape=True))
    if form.subject_type.data:
        query = query.where(AuditEntry.subject_type == form.subject_type.data.strip())
    if form.subject_id.data is not None:
        query = query.where(AuditEntry.subject_id == form.subject_id.data)
    zone = _zone()
    if form.date_from.data:
        start = datetime.combine(form.date_from.data, time.min, tzinfo=zone)
        query = query.where(AuditEntry.created_at >= start)
    if form.date_to.data:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time.min, tzinfo=zone)
        query = query.where(AuditEntry.created_at < end)
    return query


@bp.route("/admin/audit")
@roles_required(Role.ADMIN)
def audit_log():
    form = AuditFilterForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    valid = form.validate()
    entries, has_next = [], False
    if valid:
        query = audit_query(form, current_user.institution_id)
        rows = db.session.execute(
            query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)
        ).all()
        has_next = len(rows) > PAGE_SIZE
        entries = [
            (entry, actor, describe(entry, actor.username if actor else None))
            for entry, actor in rows[:PAGE_SIZE]
        ]
    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.institution_id == current_user.institution_id)
        .distinct()
        .order_by(AuditEntry.action)
    ).all()
    filters = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "lms/admin/audit.html",
        form=form,
        entries=entries,
        page=page,
        has_next=has_next,
        actions=actions,
        filters=filters,
    ), 200 if valid else 400
