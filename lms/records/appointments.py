"""Checks that an earlier post HR records fits the person's other posts.

An earlier post (an APPOINTMENT entry) may not overlap another earlier post
on the record, a post of the same upload, or the current post on the
profile. A post without a last day ends the day before the next post
starts (see ``courses.learning.counselor_posts``), so it overlaps only a
post that starts on the same day or one that ends after it starts.
"""

from dataclasses import dataclass
from datetime import date
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from lms import labels
from lms.accounts.models import User
from lms.compliance.models import PersonProfile
from lms.extensions import db
from lms.i18n import format_date
from lms.records.models import ProgressionEntry, ProgressionKind


@dataclass(frozen=True)
class HeldPost:
    """A post the person held, from the record or from a row of an upload."""

    post: str
    started_on: date
    ended_on: Optional[date]
    #: The upload row the post comes from; None for an entry on the record.
    row: Optional[int] = None


@dataclass(frozen=True)
class PostConflict:
    """The form field ("occurred_on" or "ended_on") at fault and the message."""

    field: str
    message: str


def recorded_posts(person: User, replaced_id: Optional[int] = None) -> list[HeldPost]:
    """Return the person's uncorrected earlier posts, leaving out ``replaced_id``."""
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    entries = db.session.scalars(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.APPOINTMENT,
            ProgressionEntry.id.not_in(corrected),
        )
    )
    return [
        HeldPost(
            (entry.detail or {}).get("post") or "",
            entry.occurred_on,
            _iso_date((entry.detail or {}).get("ended_on")),
        )
        for entry in entries
        if entry.id != replaced_id
    ]


def _iso_date(value) -> Optional[date]:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def find_conflict(
    person: User,
    started_on: date,
    ended_on: Optional[date],
    *,
    replaced_id: Optional[int] = None,
    upload_rows: Iterable[HeldPost] = (),
) -> Optional[PostConflict]:
    """Return the first clash of a new earlier post with the person's posts, or None.

    ``replaced_id`` is the entry a correction replaces, which is left out.
    ``upload_rows`` are the person's posts in earlier rows of the same upload.
    """
    current = _current_post_conflict(person, started_on, ended_on)
    if current is not None:
        return current
    for held in [*recorded_posts(person, replaced_id), *upload_rows]:
        conflict = _overlap(started_on, ended_on, held)
        if conflict is not None:
            return conflict
    return None


def _current_post_conflict(
    person: User, started_on: date, ended_on: Optional[date]
) -> Optional[PostConflict]:
    """Return the clash with the current post on the profile, if its start is known."""
    profile = db.session.get(PersonProfile, person.id)
    current = profile.post_started_on if profile is not None else None
    if current is None:
        return None
    post = labels.label(person.post) or _("not recorded")
    if started_on >= current:
        return PostConflict(
            "occurred_on",
            _(
                "First day in the post: %(start)s is on or after %(current)s, when "
                "the current post (%(post)s) started. Record only posts held "
                "before it, or change the current post on the profile.",
                start=format_date(started_on),
                current=format_date(current),
                post=post,
            ),
        )
    if ended_on is not None and ended_on >= current:
        return PostConflict(
            "ended_on",
            _(
                "Last day in the post: %(end)s is on or after %(current)s, when "
                "the current post (%(post)s) started. Enter a day before %(current)s.",
                end=format_date(ended_on),
                current=format_date(current),
                post=post,
            ),
        )
    return None


def _overlap(
    started_on: date, ended_on: Optional[date], held: HeldPost
) -> Optional[PostConflict]:
    """Return the clash of the new post with ``held``, or None if they do not overlap."""
    if held.started_on == started_on or (
        held.started_on < started_on
        and held.ended_on is not None
        and held.ended_on >= started_on
    ):
        return PostConflict(
            "occurred_on",
            _(
                "First day in the post: %(start)s falls within another post: "
                "%(other)s. Enter a first day after that post ends, or correct "
                "that post.",
                start=format_date(started_on),
                other=describe(held),
            ),
        )
    if started_on < held.started_on and ended_on is not None and ended_on >= held.started_on:
        return PostConflict(
            "ended_on",
            _(
                "Last day in the post: %(end)s overlaps another post: %(other)s. "
                "Enter a last day before %(other_start)s, or correct that post.",
                end=format_date(ended_on),
                other=describe(held),
                other_start=format_date(held.started_on),
            ),
        )
    return None


def describe(held: HeldPost) -> str:
    """Name a held post with its dates, and its row when it comes from an upload."""
    values = {
        "post": labels.label(held.post, "Post"),
        "start": format_date(held.started_on),
        "end": format_date(held.ended_on) if held.ended_on else "",
        "row": held.row,
    }
    if held.row is None and held.ended_on is None:
        return _("%(post)s from %(start)s", **values)
    if held.row is None:
        return _("%(post)s from %(start)s to %(end)s", **values)
    if held.ended_on is None:
        return _("%(post)s in row %(row)s, from %(start)s", **values)
    return _("%(post)s in row %(row)s, from %(start)s to %(end)s", **values)
