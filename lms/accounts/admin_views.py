"""Admin pages: the institution's security settings and the read-only audit log."""

import json
from datetime import datetime, time, timedelta, timezone
from typing import NamedTuple, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms import exports, labels
from lms.accounts import two_factor
from lms.accounts.access import roles_required
from lms.accounts.forms import AuditFilterForm, SecuritySettingsForm
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.audit_subjects import load_names, load_titles
from lms.audit_summaries import actions_labelled, describe, name_from_data, referenced_subjects
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
    actor_text = (form.actor.data or "").strip().lower()
    if actor_text:
        query = query.where(
            sa.or_(
                sa.func.lower(actor.username) == actor_text,
                sa.func.lower(actor.full_name).contains(actor_text, autoescape=True),
            )
        )
    action_text = (form.action.data or "").strip()
    if action_text:
        matches = AuditEntry.action.startswith(action_text, autoescape=True)
        labelled = actions_labelled(action_text)
        if labelled:
            matches = sa.or_(matches, AuditEntry.action.in_(labelled))
        query = query.where(matches)
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


class AuditRow(NamedTuple):
    """One row of the audit page. The ``*_with_ids`` texts name subjects by id."""

    entry: AuditEntry
    actor: Optional[User]
    subject: str
    subject_with_ids: str
    summary: str
    summary_with_ids: str


def _audit_rows(rows, institution_id: int) -> list[AuditRow]:
    """Build the page rows, loading the names of referenced subjects in one batch."""
    keys = [key for entry, _actor in rows for key in referenced_subjects(entry)]
    names = load_names(keys, institution_id)
    titles = load_titles(keys, institution_id)
    result = []
    for entry, actor in rows:
        username = actor.username if actor else None
        subject_type = labels.label(entry.subject_type, "audit_subject_type")
        # Events without one object (a job, a login) are stored with subject id 0.
        subject_with_ids = (
            f"{subject_type} {entry.subject_id}" if entry.subject_id else subject_type
        )
        subject_name = names.get((entry.subject_type, entry.subject_id)) or name_from_data(entry)
        subject = f"{subject_type} {subject_name}" if subject_name else subject_with_ids
        result.append(
            AuditRow(
                entry=entry,
                actor=actor,
                subject=subject,
                subject_with_ids=subject_with_ids,
                summary=describe(entry, username, names, titles),
                summary_with_ids=describe(entry, username, titles=titles),
            )
        )
    return result


#: Columns of the audit export: stable names, so a script or a log
#: archive can read every export the same way.
EXPORT_COLUMNS = (
    "created_at_utc", "actor_username", "actor_name", "action", "action_label",
    "subject_type", "subject_id", "subject", "summary", "data",
)
EXPORT_BATCH = 500


def _export_rows(query: sa.Select, institution_id: int):
    """Yield the export's rows, loading subject names one batch at a time."""
    offset = 0
    while True:
        rows = db.session.execute(query.limit(EXPORT_BATCH).offset(offset)).all()
        for row in _audit_rows(rows, institution_id):
            entry, actor = row.entry, row.actor
            yield (
                entry.created_at.astimezone(timezone.utc).isoformat(),
                actor.username if actor else "",
                actor.full_name if actor else "",
                entry.action,
                labels.label(entry.action, "audit_action"),
                entry.subject_type,
                entry.subject_id,
                row.subject,
                row.summary,
                json.dumps(entry.data or {}, ensure_ascii=False, sort_keys=True),
            )
        if len(rows) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


@bp.route("/admin/audit.csv")
@roles_required(Role.ADMIN)
def audit_export():
    """Download the entries the audit page's filters select, as CSV."""
    form = AuditFilterForm(request.args)
    if not form.validate():
        return audit_log()
    institution_id = current_user.institution_id
    rows = list(_export_rows(audit_query(form, institution_id), institution_id))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    response = exports.csv_response(f"audit-{stamp}.csv", EXPORT_COLUMNS, rows)
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
        entries = _audit_rows(rows[:PAGE_SIZE], current_user.institution_id)
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
