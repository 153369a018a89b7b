"""Search text and status filter of the promotion application lists: all
applications, and the queue of those waiting for the viewer's decision."""

from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _

from lms.promotion.models import ApplicationStatus
from lms.records.people_search import parse_search

#: Query argument prefix of the review queue's filters and page, which share
#: the review page with the list of all applications.
QUEUE_PREFIX = "queue_"

#: The statuses of an application that waits for a review decision.
WAITING_STATUSES = (
    ApplicationStatus.DEPARTMENT_REVIEW,
    ApplicationStatus.INSTITUTION_REVIEW,
)


@dataclass
class ApplicationFilters:
    """The valid filters of one request, and a message for each rejected one.

    ``prefix`` starts the name of each query argument.
    """

    search: str = ""
    status: Optional[ApplicationStatus] = None
    errors: list[str] = field(default_factory=list)
    prefix: str = ""

    def query_args(self) -> dict[str, str]:
        """Return the filters as query arguments for page and export links."""
        args = {}
        if self.search:
            args[self.prefix + "q"] = self.search
        if self.status is not None:
            args[self.prefix + "status"] = self.status.value
        return args


def parse_filters(
    args,
    prefix: str = "",
    statuses: tuple[ApplicationStatus, ...] = tuple(ApplicationStatus),
) -> ApplicationFilters:
    """Read ``q`` and ``status``, each after ``prefix``, from request arguments.

    A status outside ``statuses`` is rejected like an unknown one. A rejected
    value is left out of the filters and explained in ``errors``.
    """
    filters = ApplicationFilters(prefix=prefix)
    filters.search, search_error = parse_search(args.get(prefix + "q", ""))
    if search_error:
        filters.errors.append(search_error)

    raw_status = args.get(prefix + "status", "").strip()
    if raw_status:
        try:
            status = ApplicationStatus(raw_status)
        except ValueError:
            status = None
        if status in statuses:
            filters.status = status
        elif status is not None:
            # Only the queue limits the statuses, and its field is the review step.
            filters.errors.append(
                _(
                    "Review step filter: applications with the status %(value)s wait "
                    "for nobody's decision. Showing both review steps.",
                    value=raw_status[:40],
                )
            )
        elif set(statuses) != set(ApplicationStatus):
            filters.errors.append(
                _(
                    "Review step filter: %(value)s is not a review step. "
                    "Showing both review steps.",
                    value=raw_status[:40],
                )
            )
        else:
            filters.errors.append(
                _(
                    "Status filter: %(value)s is not an application status. "
                    "Showing every status.",
                    value=raw_status[:40],
                )
            )
    return filters
