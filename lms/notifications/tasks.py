"""Job functions run by ``lms.scheduler``; each takes ``now`` and returns counts.

They are safe to run twice for the same time: reminders are deduplicated
by the outbox key, delivery claims rows, and cleanup deletes by age.
"""

import logging
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app

from lms.db import now_utc
from lms.extensions import db
from lms.i18n import user_language
from lms.notifications import services, setting
from lms.notifications.models import JobRun, Notification
from lms.stored_text import StoredText, stored_date, stored_gettext, stored_ngettext

logger = logging.getLogger("lms.notifications")

#: Reminder stages as (largest number of days left, kind), most urgent first.
#: A certificate gets the most urgent stage its days left fall into, so a
#: daily run sends each reminder on its day and a missed day is caught up
#: on the next run.
EXPIRY_STAGES = (
    (7, "certificate_expiring_7"),
    (30, "certificate_expiring_30"),
    (90, "certificate_expiring_90"),
)
EXPIRED_KIND = "certificate_expired"
#: Days after expiry during which the expiry notice is still sent. Older
#: expiries get none, so a first run does not message every past holder.
EXPIRED_NOTICE_DAYS = 7


def deliver_notifications(now: Optional[datetime] = None) -> dict:
    """Send the e-mail copies that are due."""
    return services.deliver_pending(now or now_utc()).as_dict()


#: Time after which cleanup treats a run that never finished as crashed.
UNFINISHED_RUN_GRACE = timedelta(days=1)


def cleanup_expired(now: Optional[datetime] = None) -> dict:
    """Delete job history and read notifications older than their retention."""
    now = now or now_utc()
    run_cutoff = now - timedelta(days=int(setting("LMS_JOB_RUN_RETENTION_DAYS")))
    read_cutoff = now - timedelta(days=int(setting("LMS_NOTIFICATION_RETENTION_DAYS")))
    # A run that has not finished may be this very run, whose row records
    # its result: a ``now`` past the retention (``run-job --now``) would
    # otherwise delete it. Runs left unfinished by a crash go a day later.
    unfinished_cutoff = now_utc() - UNFINISHED_RUN_GRACE
    runs = db.session.execute(
        sa.delete(JobRun).where(
            JobRun.started_at < run_cutoff,
            sa.or_(JobRun.finished_at.is_not(None), JobRun.started_at < unfinished_cutoff),
        )
    ).rowcount
    notifications = db.session.execute(
        sa.delete(Notification).where(
            Notification.read_at.is_not(None), Notification.read_at < read_cutoff
        )
    ).rowcount
    return {"job_runs_deleted": runs, "notifications_deleted": notifications}


def cleanup_sessions(now: Optional[datetime] = None) -> dict:
    """Delete server-side session records that ended more than 30 days ago."""
    from lms.accounts import sessions

    return {"sessions_deleted": sessions.purge_expired_sessions(now or now_utc())}


#: Folders under ``UPLOAD_DIR`` that hold files only for the length of a task
#: (an import being previewed, an upload not yet attached to anything).
TEMPORARY_UPLOAD_FOLDERS = ("tmp", "imports", "framework_imports", "question_imports")

#: Counts that ``cleanup_temp_uploads`` returns. ``files_deleted`` counts every
#: file deleted, preview files and lesson images included. Each
#: ``*_previews_deleted`` count is the number of abandoned previews of one
#: upload flow, and ``lesson_images_deleted`` the number of lesson images that
#: no lesson shows.
CLEANUP_COUNTS = (
    "files_deleted",
    "folders_deleted",
    "hr_record_previews_deleted",
    "score_sheet_previews_deleted",
    "roster_previews_deleted",
    "question_import_previews_deleted",
    "framework_import_previews_deleted",
    "lesson_images_deleted",
)


def cleanup_temp_uploads(now: Optional[datetime] = None) -> dict:
    """Delete temporary uploads and unconfirmed previews older than the configured age.

    The age is ``LMS_TEMP_UPLOAD_MAX_AGE_HOURS``. Previews of class rosters
    and question imports are rows, deleted unless they were confirmed. The
    files of question imports awaiting confirmation stay. The other previews
    are files in the temporary folders, which a confirmation deletes.
    Images uploaded with a lesson form are deleted when the text of no
    lesson, of any course version, shows them (``lesson_images.purge_unreferenced``).
    Symbolic links are deleted as links and never followed, and folders left
    empty are removed, but never the temporary folders themselves.
    """
    from assessments import pending_imports
    from courses import class_import, lesson_images

    now = now or now_utc()
    cutoff = now - timedelta(hours=int(setting("LMS_TEMP_UPLOAD_MAX_AGE_HOURS")))
    counts = dict.fromkeys(CLEANUP_COUNTS, 0)
    counts["roster_previews_deleted"] = class_import.purge_unconfirmed(cutoff)
    questions = pending_imports.purge_unimported(cutoff)
    counts["question_import_previews_deleted"] = questions
    keep = {"question_imports": pending_imports.awaiting_names()}

    upload_dir = Path(current_app.config["UPLOAD_DIR"])
    for name in TEMPORARY_UPLOAD_FOLDERS:
        root = upload_dir / name
        if root.is_dir() and not root.is_symlink():
            _delete_old_files(root, cutoff.timestamp(), counts, keep.get(name, set()))
    images = lesson_images.purge_unreferenced(cutoff)
    counts["lesson_images_deleted"] = images
    counts["files_deleted"] += images

    deleted = ", ".join(f"{key}={value}" for key, value in counts.items() if value)
    if deleted:
        logger.info("temporary upload cleanup: %s", deleted)
    return counts


def _preview_kind(folder: str, file_name: str) -> Optional[str]:
    """Return the preview count that deleting ``folder/file_name`` adds one to."""
    from lms.annual_assessment.views import IMPORT_PREFIX as SCORE_SHEET_PREFIX
    from lms.competencies.import_views import IMPORT_AREA as FRAMEWORK_AREA
    from lms.records.bulk_views import STORED_PREFIX as HR_RECORDS_PREFIX

    if folder == FRAMEWORK_AREA:
        return "framework_import_previews_deleted"
    if file_name.startswith(HR_RECORDS_PREFIX):
        return "hr_record_previews_deleted"
    if file_name.startswith(SCORE_SHEET_PREFIX):
        return "score_sheet_previews_deleted"
    return None


def _delete_old_files(root: Path, cutoff: float, counts: dict, keep: set[str]) -> None:
    """Delete the files under ``root`` last changed before ``cutoff``, a POSIX time.

    Files directly in ``root`` whose names are in ``keep`` stay.
    """
    # Deleting an entry updates its folder's mtime, so a folder emptied by
    # this run is removed even though its mtime is now recent.
    emptied: set[Path] = set()
    for folder, subfolders, files in os.walk(root, topdown=False, followlinks=False):
        folder_path = Path(folder)
        links = [name for name in subfolders if (folder_path / name).is_symlink()]
        for file_name in files + links:
            path = folder_path / file_name
            if folder_path == root and file_name in keep:
                continue
            try:
                if path.lstat().st_mtime < cutoff:
                    path.unlink()
                    counts["files_deleted"] += 1
                    emptied.add(folder_path)
                    if folder_path == root:
                        kind = _preview_kind(root.name, file_name)
                        if kind is not None:
                            counts[kind] += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                logger.warning("could not delete temporary upload %s: %s", path, exc)
        if folder_path == root:
            continue
        try:
            old = folder_path in emptied or folder_path.lstat().st_mtime < cutoff
            if old and not any(folder_path.iterdir()):
                folder_path.rmdir()
                counts["folders_deleted"] += 1
                emptied.add(folder_path.parent)
        except OSError as exc:
            logger.warning("could not delete temporary folder %s: %s", folder_path, exc)


def expiry_reminder_kind(days_left: int) -> Optional[str]:
    """Return the reminder kind for a certificate with ``days_left`` days to expiry."""
    if days_left <= 0:
        return EXPIRED_KIND if days_left > -EXPIRED_NOTICE_DAYS else None
    for max_days, kind in EXPIRY_STAGES:
        if days_left <= max_days:
            return kind
    return None


def certificate_expiry_reminders(now: Optional[datetime] = None) -> dict:
    """Queue expiry reminders for valid certificates, in each holder's language.

    Days left are counted from the holder's local date in their
    institution's zone. Revoked and superseded certificates, certificates
    without an expiry date and inactive holders get no reminder.
    """
    from certificates.models import Certificate, CertificateStatus
    from lms.accounts.models import User

    now = now or now_utc()
    utc_today = now.date()
    # One day of margin on each side covers every zone's local date.
    earliest = utc_today - timedelta(days=EXPIRED_NOTICE_DAYS + 1)
    latest = utc_today + timedelta(days=EXPIRY_STAGES[-1][0] + 1)
    certificates = db.session.scalars(
        sa.select(Certificate)
        .join(Certificate.holder)
        .where(
            Certificate.status == CertificateStatus.VALID,
            Certificate.expires_on.is_not(None),
            Certificate.expires_on.between(earliest, latest),
            User.active.is_(True),
        )
        .order_by(Certificate.id)
    ).all()

    queued = 0
    for certificate in certificates:
        holder = certificate.holder
        days_left = (certificate.expires_on - local_date(holder, now)).days
        kind = expiry_reminder_kind(days_left)
        if kind is None:
            continue
        key = services.dedupe_key(holder.id, kind, "certificate", certificate.id)
        if db.session.scalar(sa.select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        title, body = _render_expiry(certificate, holder, days_left)
        services.enqueue(holder, kind, "certificate", certificate.id, title, body, now=now)
        queued += 1
    return {"checked": len(certificates), "queued": queued}


def local_date(user, now: datetime) -> date:
    """Return the date of ``now`` in the zone of ``user``'s institution."""
    zone_name = user.institution.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning(
            "institution %s has unknown zone %r; using the default zone",
            user.institution_id,
            zone_name,
        )
        zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return now.astimezone(zone).date()


def user_locale(user) -> str:
    """Return the language notifications to ``user`` are written in."""
    return user_language(user)


def _render_expiry(certificate, holder, days_left: int) -> tuple[StoredText, StoredText]:
    """Return the reminder's title and body, shown in the reader's language."""
    expires = stored_date(certificate.expires_on, "long")
    if days_left <= 0:
        title = stored_gettext("Your certificate has expired")
        body = stored_gettext(
            'The certificate "%(title)s" (serial %(serial)s) expired on %(date)s.',
            title=certificate.title,
            serial=certificate.serial,
            date=expires,
        )
    else:
        title = stored_ngettext(
            "Your certificate expires in %(num)d day",
            "Your certificate expires in %(num)d days",
            days_left,
        )
        body = stored_gettext(
            'The certificate "%(title)s" (serial %(serial)s) expires on %(date)s. '
            "If it needs renewing, start before that date.",
            title=certificate.title,
            serial=certificate.serial,
            date=expires,
        )
    return title, body
