"""Lost-update protection for rows that several people edit.

Each editable row carries ``lock_version``, a counter that SQLAlchemy raises on
every UPDATE of the row and checks in the UPDATE's WHERE clause
(``version_id_col``), and ``changed_by_id`` and ``changed_at``, who made the
last change and when.

An edit page sends the version it showed back in the hidden ``lock_version``
field (or, for a client that is not a browser, in an ``If-Match`` header). The
save goes ahead only if the row still has that version. Otherwise the page
comes back with status 409 and the user's typed values still in the form. It
names who changed the row and when, and lists the saved values that differ
from the typed ones. Its hidden field carries the new version, so saving again
keeps the user's values on purpose. A save that races another one between the
check and the commit fails on the UPDATE's WHERE clause and is rejected the
same way.

A post without a version is not checked, so a page opened before the column
existed still saves.

A grade (an essay answer's points, a task submission's final score) keeps its
version in a ``grade_version`` column that only ``advance`` raises, because
the same rows get other writes, such as a learner's autosaves, that must not
be checked. A stale grade is rejected the same way, naming who saved which grade.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, g, has_request_context, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy.orm.exc import StaleDataError

from lms.db import UTCDateTime, now_utc
from lms.extensions import db
from lms.i18n import format_datetime, join_names

logger = logging.getLogger("lms.revisions")

#: Name of the hidden form field that carries the version a page showed.
FIELD = "lock_version"

#: WTForms field types that hold no value a person typed.
_SKIPPED_TYPES = frozenset(
    {"HiddenField", "CSRFTokenField", "SubmitField", "FileField", "MultipleFileField"}
)

__all__ = [
    "Conflict",
    "GradeConflict",
    "StaleDataError",
    "StaleGrade",
    "Versioned",
    "advance",
    "check",
    "differences",
    "grade_conflict",
    "is_stale",
    "save",
    "show_conflict",
    "save_or_create",
    "stale",
    "touch",
]


class Versioned:
    """Mixin for a model that people edit through a form."""

    lock_version: so.Mapped[int] = so.mapped_column(
        default=1, server_default=sa.text("1")
    )
    changed_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    changed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    @so.declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.lock_version}


def _actor_id() -> Optional[int]:
    """Return the id of the logged-in user without loading anything."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    if user is None or not user.is_authenticated:
        return None
    identity = sa.inspect(user).identity
    return identity[0] if identity else None


@sa.event.listens_for(Versioned, "before_insert", propagate=True)
def _stamp_insert(mapper, connection, target) -> None:
    target.changed_at = now_utc()
    target.changed_by_id = _actor_id()


@sa.event.listens_for(Versioned, "before_update", propagate=True)
def _stamp_update(mapper, connection, target) -> None:
    session = so.object_session(target)
    if session is None or not session.is_modified(target, include_collections=False):
        return
    target.changed_at = now_utc()
    target.changed_by_id = _actor_id()


@dataclass
class Conflict:
    """A rejected save: the row as it is now, and who changed it last and when."""

    row: Versioned
    changed_by: Optional[str] = None
    changed_at: Optional[datetime] = None
    #: (label, saved value) of each field whose saved value differs from the typed one.
    fresh: list[tuple[str, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        """Say who changed the row and when."""
        when = format_datetime(self.changed_at, "short") if self.changed_at else None
        if self.changed_by and when:
            return _(
                "%(name)s changed this on %(when)s, after this page was opened.",
                name=self.changed_by,
                when=when,
            )
        if when:
            return _(
                "Someone else changed this on %(when)s, after this page was opened.",
                when=when,
            )
        return _("Someone else changed this after this page was opened.")


class StaleGrade(Exception):
    """A grade saved from a page that showed an older version of it (see ``advance``)."""


@dataclass
class GradeConflict(Conflict):
    """A rejected grade: who saved a grade after the page was opened, and the score."""

    score: str = ""

    @property
    def message(self) -> str:
        """Say who saved which grade and when."""
        when = format_datetime(self.changed_at, "short") if self.changed_at else "—"
        if self.changed_by:
            return _(
                "%(name)s saved the grade %(score)s on %(when)s, after this page was opened.",
                name=self.changed_by,
                score=self.score,
                when=when,
            )
        return _(
            "Someone else saved the grade %(score)s on %(when)s, after this page was opened.",
            score=self.score,
            when=when,
        )


def grade_conflict(row, grader_id: Optional[int], graded_at, score: str) -> GradeConflict:
    """Return the conflict of a grade rejected by ``advance``, naming the saved grade."""
    from lms.accounts.models import User

    grader = db.session.get(User, grader_id) if grader_id else None
    return GradeConflict(
        row=row,
        changed_by=grader.full_name if grader is not None else None,
        changed_at=graded_at,
        score=score,
    )


def posted_version() -> Optional[str]:
    """Return the version the posted page showed, or None when it sent none."""
    raw = request.form.get(FIELD)
    if raw is None:
        raw = request.headers.get("If-Match")
        if raw is not None:
            raw = raw.strip().removeprefix("W/").strip('"')
    if raw is None or raw.strip() == "":
        return None
    return raw.strip()


def check(row: Versioned) -> Optional[Conflict]:
    """Return a conflict if the posted version is not the row's version now."""
    posted = posted_version()
    if posted is None or posted == str(row.lock_version):
        return None
    logger.info(
        "Stale save of %s rejected: page showed version %r, row has %s",
        _name(row), posted, row.lock_version,
    )
    return _conflict(row)


def stale(row: Versioned) -> Conflict:
    """Roll back after a save lost the race on the UPDATE, and return the conflict."""
    db.session.rollback()
    logger.info("Concurrent save of %s rejected", _name(row))
    return _conflict(row)


def save(row: Versioned, apply: Callable[[], object], values=None) -> Optional[Conflict]:
    """Apply a posted edit of ``row`` and commit, or return why it was rejected.

    ``apply`` makes the change, and its exceptions pass through uncommitted.
    ``values`` returns what the edit page shows of a row. When that differs
    after ``apply`` but the row itself was not updated, only its child rows
    changed (a question's choices, say), so the row's version is raised.
    """
    conflict = check(row)
    if conflict is not None:
        return conflict
    before = values(row) if values is not None else None
    version = row.lock_version
    try:
        apply()
        if values is not None:
            db.session.flush()
            db.session.expire(row)
            if row.lock_version == version and values(row) != before:
                touch(row)
        db.session.commit()
    except StaleDataError:
        return stale(row)
    return None


def save_or_create(
    row: Optional[Versioned],
    apply: Callable[[], object],
    load: Callable[[], Optional[Versioned]],
    values=None,
) -> Optional[Conflict]:
    """Like ``save``, for a row that the page may have shown before it existed.

    Without a row the page showed version 0, and ``apply`` creates the row.
    When someone else created it first, the insert fails on the primary key
    and the save is rejected with ``load``'s row, as a stale one would be.
    """
    if row is not None:
        return save(row, apply, values)
    try:
        apply()
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        row = load()
        if row is None:
            raise
        logger.info("Concurrent creation of %s rejected", _name(row))
        return _conflict(row)
    return None


def is_stale(version: int) -> bool:
    """Return whether the posted page showed a version other than ``version``."""
    posted = posted_version()
    return posted is not None and posted != str(version)


def advance(row, column: str, shown_version: Optional[str]) -> bool:
    """Raise the version counter ``column`` of ``row`` in the database by one.

    It serves a row whose other writes must not be checked, as ``Versioned``
    would check them. The UPDATE matches only while the counter is still
    ``shown_version``, so of two saves from pages that showed the same
    version only the first succeeds, and the second returns False. With
    ``shown_version`` None the counter is raised unchecked.
    """
    model = type(row)
    counter = getattr(model, column)
    statement = sa.update(model).where(model.id == row.id)
    if shown_version is not None:
        if not shown_version.isdecimal() or len(shown_version) > 9:
            return False
        statement = statement.where(counter == int(shown_version))
    result = db.session.execute(
        statement.values({column: counter + 1}).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        logger.info(
            "Stale save of %s rejected: page showed version %r", _name(row), shown_version
        )
        return False
    return True


def touch(row: Versioned) -> None:
    """Raise the row's version at the next flush, for a change kept elsewhere."""
    row.changed_at = now_utc()


def _name(row: Versioned) -> str:
    identity = sa.inspect(row).identity or ()
    return f"{type(row).__name__} {'/'.join(str(part) for part in identity)}"


def _conflict(row: Versioned) -> Conflict:
    from lms.accounts.models import User

    try:
        db.session.refresh(row)
    except sa.exc.InvalidRequestError:
        # Someone deleted the row meanwhile, so there is nothing left to edit.
        abort(404)
    changer = db.session.get(User, row.changed_by_id) if row.changed_by_id else None
    return Conflict(
        row=row,
        changed_by=changer.full_name if changer is not None else None,
        changed_at=row.changed_at,
    )


def show_conflict(conflict: Conflict, fresh: list[tuple[str, str]]) -> None:
    """Show the conflict on the page being rendered, with the saved values."""
    conflict.fresh = fresh
    g.edit_conflict = conflict


def lock_version_input(
    row: Optional[Versioned], of_page: bool = True, version: Optional[int] = None
) -> Markup:
    """Render the hidden field with the version the next save is checked against.

    It is the row's version on a fresh page and after a conflict, and the posted
    version when a form comes back with errors, so that a change made meanwhile
    is still noticed. A row not stored yet has version 0, so a page that creates
    the row on its first save notices when someone else created it first.

    A small form for one of several rows on a page (a module's title on the
    course page) passes ``of_page=False``: it always carries its row's version,
    and the page's ETag stays the version of the page's own row.

    A row whose version is kept in another column (see ``advance``) passes it
    as ``version``.
    """
    if version is not None:
        value = str(version)
    else:
        value = str(row.lock_version or 0) if row is not None else "0"
    if not of_page:
        return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, value)
    if g.get("edit_conflict") is None and request.method == "POST":
        value = posted_version() or value
    g.lock_version_shown = value
    return Markup('<input type="hidden" name="%s" value="%s">') % (
        FIELD,
        escape(value),
    )


def _shown(field) -> str:
    """Return a field's value as a person reads it."""
    data = field.data
    if field.type == "BooleanField":
        return _("Yes") if data else _("No")
    choices = getattr(field, "choices", None)
    if choices and not callable(choices):
        labels = {str(value): str(label) for value, label, *_rest in _pairs(choices)}
        if isinstance(data, (list, tuple, set)):
            return join_names(labels.get(str(item), str(item)) for item in data) or "—"
        if data is not None and str(data) in labels:
            return labels[str(data)]
    if data is None or data == "" or data == []:
        return "—"
    if isinstance(data, (date, datetime)):
        return data.isoformat()
    if isinstance(data, Decimal):
        return format(data.normalize(), "f")
    return str(data)


def _pairs(choices):
    for choice in choices:
        if isinstance(choice, (tuple, list)):
            yield choice[0], choice[1]
        else:
            yield choice, choice


def _flatten(form, prefix: str = ""):
    for item in form:
        if item.type in _SKIPPED_TYPES:
            continue
        label = f"{prefix}{item.label.text}"
        if item.type == "FieldList":
            for number, entry in enumerate(item.entries, start=1):
                if entry.type == "FormField":
                    yield from _flatten(entry.form, f"{label} {number} · ")
                else:
                    yield entry.name, f"{label} {number}", entry
        elif item.type == "FormField":
            yield from _flatten(item.form, f"{label} · ")
        else:
            yield item.name, label, item


def form_values(form) -> dict:
    """Return what each field of a WTForms form shows, by field name."""
    return {name: _shown(item) for name, _label, item in _flatten(form)}


def differences(typed_form, fresh_form) -> list[tuple[str, str]]:
    """List (label, saved value) of each field whose saved value is not the typed one."""
    typed = form_values(typed_form)
    return [
        (label, _shown(item))
        for name, label, item in _flatten(fresh_form)
        if typed.get(name) != _shown(item)
    ]


def value_differences(typed: dict, fresh: dict, fields: dict) -> list[tuple[str, str]]:
    """List (label, saved value) for a page whose values are plain strings.

    ``fields`` maps each field name to its label, or to (label, show) where
    ``show`` turns one stored value into the text a person reads.
    """
    found = []
    for name, spec in fields.items():
        label, show = spec if isinstance(spec, tuple) else (spec, str)
        if _plain(typed.get(name)) == _plain(fresh.get(name)):
            continue
        value = fresh.get(name)
        items = value if isinstance(value, (list, tuple)) else [value]
        text = join_names(show(item) for item in items if item not in (None, ""))
        found.append((str(label), text or "—"))
    return found


def _plain(value):
    """Return ``value`` as compared: lists unordered, numbers by their value."""
    if isinstance(value, (list, tuple)):
        return sorted(_plain(item) for item in value)
    text = "" if value is None else str(value).strip().replace("\r\n", "\n")
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return format(number.normalize(), "f") if number.is_finite() else text


def init_app(app) -> None:
    """Make the hidden field and the conflict panel available to templates."""
    app.add_template_global(lock_version_input)

    @app.context_processor
    def _edit_conflict() -> dict:
        return {"edit_conflict": g.get("edit_conflict")}

    @app.after_request
    def _version_etag(response):
        # A client that is not a browser reads the version here and sends it
        # back in If-Match.
        shown = g.get("lock_version_shown")
        if shown is not None and request.method == "GET" and response.status_code == 200:
            response.set_etag(shown, weak=True)
        return response

