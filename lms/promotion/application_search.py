"""Search text and status filter of the list of all promotion applications."""

from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _

from lms.promotion.models import ApplicationStatus
from lms.records.people_search import parse_search


@dataclass
class ApplicationFilters:
    """The valid filters of one request, and a message for each rejected one."""

    search: str = ""
    status: Optional[ApplicationStatus] = None
    errors: list[str] = field(default_factory=list)

    def query_args(self) -> dict[str, str]:
        """Return the filters as query arguments for page and export links."""
        args = {}
        if self.search:
            args["q"] = self.search
        if self.status is not None:
            args["status"] = self.status.value
        return args


def parse_filters(args) -> ApplicationFilters:
    """Read ``q`` and ``status`` from request arguments.

    A rejected value is left out of the filters and explained in ``errors``.
    """
    filters = ApplicationFilters()
    filters.search, search_error = parse_search(args.get("q", ""))
    if search_error:
        filters.errors.append(search_error)

    raw_status = args.get("status", "").strip()
    if raw_status:
        try:
            filters.status = ApplicationStatus(raw_status)
        except ValueError:
            filters.errors.append(
                _(
                    "Status filter: %(value)s is not an application status. "
                    "Showing every status.",
                    value=raw_status[:40],
                )
            )
    return filters
