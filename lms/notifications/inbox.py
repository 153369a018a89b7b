"""A user's in-app notifications and their e-mail settings."""

import logging
from typing import Optional

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from lms import revisions
from lms.accounts.forms import EmptyForm
from lms.db import now_utc
from lms.extensions import db
from lms.notifications import preferences, services
from lms.notifications.models import EmailSettings, Notification

logger = logging.getLogger("lms.notifications")

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 30


@bp.app_context_processor
def _unread_notifications():
    def unread_count() -> int:
        if not current_user.is_authenticated:
            return 0
        try:
            return db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Notification)
                .where(
                    Notification.recipient_id == current_user.id,
                    Notification.read_at.is_(None),
                )
            )
        except SQLAlchemyError:
            # The badge is not worth failing a page, e.g. an error page
            # rendered after a failed transaction.
            logger.exception("unread count failed for user %s", current_user.id)
            return 0

    return {"unread_notification_count": unread_count}


@bp.route("/notifications")
@login_required
def inbox():
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == current_user.id)
    )
    last_page = max(1, -(-total // PAGE_SIZE))
    raw = request.args.get("page", "1").strip()
    # A page number too long to be a page is out of range like any other.
    # str.isdigit() also accepts digits that int() rejects, such as "²".
    page = int(raw) if raw.isdecimal() and len(raw) <= 12 else None
    if page is None or not 1 <= page <= last_page:
        shown = last_page if page is not None and page > last_page else 1
        flash(
            _(
                "Page %(page)s does not exist: the notifications fill pages 1 to "
                "%(last)s, and this is page %(shown)s.",
                page=raw[:30],
                last=last_page,
                shown=shown,
            ),
            "info",
        )
        return redirect(url_for(".inbox", page=shown if shown > 1 else None))
    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.recipient_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "lms/notifications.html",
        notifications=rows[:PAGE_SIZE],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
        form=EmptyForm(),
    )


def _own_notification_or_404(notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != current_user.id:
        abort(404)
    return notification


def _safe_link(link: Optional[str]) -> Optional[str]:
    """Return the notification's link only if it is a path on this site."""
    if link and link.startswith("/") and not link.startswith("//") and "\\" not in link:
        return link
    return None


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = _own_notification_or_404(notification_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_read(notification)
    db.session.commit()
    if request.form.get("open") and _safe_link(notification.link):
        return redirect(_safe_link(notification.link))
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    if not EmptyForm().validate_on_submit():
        abort(400)
    db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=now_utc())
    )
    db.session.commit()
    flash(_("All notifications are marked read."), "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Turn e-mail copies of each group of notification kinds on or off."""
    user = current_user._get_current_object()
    groups = preferences.groups_for(user)
    form = EmptyForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    if request.method == "GET":
        return _settings_page(user, groups, form, None)

    chosen = set(request.form.getlist("email"))
    row = db.session.get(EmailSettings, user.id)

    def apply():
        for group in groups:
            preferences.set_group(user, group, group.key in chosen)
        if row is None:
            db.session.add(EmailSettings(user_id=user.id))
            db.session.flush()

    def values(_row) -> set:
        return _enabled_keys(user, groups)

    conflict = revisions.save_or_create(
        row, apply, lambda: db.session.get(EmailSettings, user.id), values
    )
    if conflict is None:
        flash(_("Your e-mail settings are saved."), "success")
        return redirect(url_for("notifications.settings"))
    labels = {group.key: (group.label, _on_off) for group in groups}
    typed = {group.key: group.key in chosen for group in groups}
    fresh = {key: key in _enabled_keys(user, groups) for key in labels}
    revisions.show_conflict(
        conflict, revisions.value_differences(typed, fresh, labels)
    )
    return _settings_page(user, groups, form, conflict.row, chosen), 409


def _enabled_keys(user, groups) -> set:
    return {group.key for group in groups if preferences.group_enabled(user, group)}


def _on_off(enabled: bool) -> str:
    return _("E-mail on") if enabled else _("E-mail off")


def _settings_page(user, groups, form, row, chosen: Optional[set] = None):
    """Render the settings page, ticking ``chosen`` groups when given."""
    if chosen is None:
        chosen = _enabled_keys(user, groups)
    return render_template(
        "lms/notification_settings.html",
        form=form,
        groups=[(group, group.key in chosen) for group in groups],
        has_email=bool(user.email),
        settings=row if row is not None else db.session.get(EmailSettings, user.id),
    )
