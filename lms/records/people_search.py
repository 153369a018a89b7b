"""Search text, role and status filters of the HR people list and its export."""

import unicodedata
from dataclasses import dataclass, field
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.accounts.models import Role, User
from lms.labels import label

#: Maximum length of a search text, in characters; a full name has at most 100.
MAX_SEARCH_LENGTH = 100

#: ``?status=`` values and the ``User.active`` value each one selects.
STATUSES = {"active": True, "inactive": False}


@dataclass
class PeopleFilters:
    """The valid filters of one request, and a message for each rejected one."""

    search: str = ""
    role: Optional[Role] = None
    active: Optional[bool] = None
    errors: list[str] = field(default_factory=list)

    def query_args(self) -> dict[str, str]:
        """Return the filters as query arguments for page and export links."""
        args = {}
        if self.search:
            args["q"] = self.search
        if self.role is not None:
            args["role"] = self.role.value
        if self.active is not None:
            args["status"] = "active" if self.active else "inactive"
        return args


def parse_search(raw: str) -> tuple[str, Optional[str]]:
    """Return the search text with whitespace collapsed, and an error if too long.

    NFKC turns the full-width letters and digits that a Chinese input method
    types in full-width mode ("Ｅ００３") into the ASCII ones that usernames
    and employee numbers are stored with. A search text that is too long is
    dropped, so the list is not searched.
    """
    # PostgreSQL rejects NUL characters in text parameters.
    search = unicodedata.normalize("NFKC", raw.replace("\x00", ""))
    search = " ".join(search.split())
    if len(search) <= MAX_SEARCH_LENGTH:
        return search, None
    message = _(
        "Search text is too long: it has %(length)d characters and the "
        "limit is %(limit)d, so it is ignored.",
        length=len(search),
        limit=MAX_SEARCH_LENGTH,
    )
    return "", message


def parse_filters(args) -> PeopleFilters:
    """Read ``q``, ``role`` and ``status`` from request arguments.

    A rejected value is left out of the filters and explained in ``errors``.
    """
    filters = PeopleFilters()
    filters.search, search_error = parse_search(args.get("q", ""))
    if search_error:
        filters.errors.append(search_error)

    raw_role = args.get("role", "").strip()
    if raw_role:
        try:
            filters.role = Role(raw_role)
        except ValueError:
            filters.errors.append(
                _(
                    "Role filter: %(value)s is not a role. Showing every role.",
                    value=raw_role[:40],
                )
            )

    raw_status = args.get("status", "").strip()
    if raw_status:
        if raw_status in STATUSES:
            filters.active = STATUSES[raw_status]
        else:
            filters.errors.append(
                _(
                    "Status filter: %(value)s is not a status. Showing active and "
                    "inactive accounts.",
                    value=raw_status[:40],
                )
            )
    return filters


def contains_text(column, text: str) -> sa.ColumnElement[bool]:
    """Return a case-insensitive substring match that takes % and _ literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def people_query(
    institution_id: int, department_id: Optional[int], filters: PeopleFilters
) -> sa.Select:
    """Return the select of the people matching ``filters``, ordered by name.

    The search text matches part of the full name, username or employee
    number, ignoring case.
    """
    query = sa.select(User).where(User.institution_id == institution_id)
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    if filters.search:
        query = query.where(
            sa.or_(
                contains_text(User.full_name, filters.search),
                contains_text(User.username, filters.search),
                contains_text(User.employee_no, filters.search),
            )
        )
    if filters.role is not None:
        query = query.where(User.role == filters.role)
    if filters.active is not None:
        query = query.where(User.active == filters.active)
    return query.order_by(User.full_name, User.id)


def role_choices() -> list[tuple[str, str]]:
    """Return (value, label) for every role, for the role filter."""
    return [(role.value, label(role)) for role in Role]
