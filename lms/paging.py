"""Paging for long lists: reading ``?page=`` and slicing a query in the database."""

from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from lms.extensions import db

#: Rows per page on the HR lists.
PAGE_SIZE = 50

#: Digits a page number may have; longer values are out of range like 0 or -1.
MAX_PAGE_DIGITS = 9


def page_number(raw: str) -> Optional[int]:
    """Return ``raw`` as a page number of at least 1, or None when it is not one."""
    raw = raw.strip()
    if not raw:
        return 1
    # isdigit() alone accepts "²", which int() rejects.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_PAGE_DIGITS:
        return None
    number = int(raw)
    return number if number >= 1 else None


def count_rows(query: sa.Select) -> int:
    """Count the rows ``query`` selects, in one statement."""
    counted = query.order_by(None).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(counted))


def last_page(total: int, size: int = PAGE_SIZE) -> int:
    """Return the number of the last page; an empty list still has page 1."""
    return max(1, -(-total // size))


@dataclass
class Page:
    """One page of a list: its rows, its number and the size of the whole list."""

    items: list
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def last(self) -> int:
        return last_page(self.total, self.size)

    @property
    def first_row(self) -> int:
        """Return the 1-based position of the first row shown, 0 when none is."""
        return (self.number - 1) * self.size + 1 if self.items else 0

    @property
    def last_row(self) -> int:
        return (self.number - 1) * self.size + len(self.items)


def fetch_page(
    query: sa.Select, number: int, total: int, size: int = PAGE_SIZE
) -> Page:
    """Load page ``number`` of ``query``, which must already be ordered."""
    rows = db.session.scalars(query.limit(size).offset((number - 1) * size)).all()
    return Page(items=list(rows), number=number, total=total, size=size)


def redirect_if_out_of_range(
    endpoint: str,
    raw: str,
    total: int,
    link_args: dict,
    *,
    param: str = "page",
    anchor: Optional[str] = None,
):
    """Return a redirect to the nearest page that exists, or None when ``raw`` is one.

    A number past the end goes to the last page. Any other value that is not
    a page number (0, -1, "abc", a 30-digit number) goes to the first page.
    Both flash a message naming the page shown. ``link_args`` keeps the
    list's filters. ``param`` names the query argument of the page number,
    for a page that shows two paged lists; ``anchor`` is the fragment of
    the redirect.
    """
    number = page_number(raw)
    last = last_page(total)
    if number is not None and number <= last:
        return None
    shown = last if number is not None else 1
    flash(
        _(
            "Page %(page)s does not exist: this list fills pages 1 to %(last)s, "
            "and this is page %(shown)s.",
            page=raw.strip()[:30],
            last=last,
            shown=shown,
        ),
        "info",
    )
    args = dict(link_args)
    args[param] = shown if shown > 1 else None
    return redirect(url_for(endpoint, _anchor=anchor, **args))
