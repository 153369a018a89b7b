"""Readable names of the objects that audit entries refer to by type and id.

The audit page collects the ``(subject_type, id)`` pairs of the entries it
shows and loads the names in each table with one query, so the page's query
count grows with the number of subject types, not with its rows. Tables are
looked up in the SQLAlchemy metadata by name, which keeps this module free
of imports from the course, assessment and certificate packages.
"""

from collections import defaultdict
from typing import Callable, Iterable, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.extensions import db

SubjectKey = tuple[str, int]


def _user_name(row) -> str:
    return _("%(name)s (%(username)s)", name=row.full_name, username=row.username)


def _column(name: str) -> Callable[[sa.Row], str]:
    return lambda row: getattr(row, name)


#: Per subject type: the table, the columns to load and how a row becomes a
#: name. Subject types missing here have no obvious name column, so the
#: audit page shows them by id.
NAME_SOURCES: dict[str, tuple[str, tuple[str, ...], Callable[[sa.Row], str]]] = {
    "user": ("user", ("full_name", "username"), _user_name),
    # A profile entry's subject id is the id of the person's user account.
    "person_profile": ("user", ("full_name", "username"), _user_name),
    "department": ("department", ("name",), _column("name")),
    "institution": ("institution", ("name",), _column("name")),
    "certificate": ("certificate", ("serial",), _column("serial")),
    "certificate_template": ("certificate_template", ("name",), _column("name")),
    "framework": ("competency_framework", ("title",), _column("title")),
    "course": ("course", ("title",), _column("title")),
    "programme": ("programme", ("title",), _column("title")),
    "training_class": ("training_class", ("title",), _column("title")),
    "quiz": ("quiz", ("title",), _column("title")),
    "performance_task": ("performance_task", ("title",), _column("title")),
    "rubric": ("rubric", ("title",), _column("title")),
    "contest": ("contest", ("title",), _column("title")),
    "external_training": ("external_training", ("title",), _column("title")),
    "promotion_rule": ("promotion_rule", ("name",), _column("name")),
}


def load_names(
    keys: Iterable[SubjectKey], institution_id: Optional[int]
) -> dict[SubjectKey, str]:
    """Load the names of ``keys`` with one query per table.

    Rows of a table with an ``institution_id`` column are read only when they
    belong to ``institution_id``. A key whose row is missing (deleted, another
    institution's, or id 0) or whose name is empty is left out of the result.
    """
    ids_by_table: dict[str, set[int]] = defaultdict(set)
    types_by_table: dict[str, set[str]] = defaultdict(set)
    for subject_type, subject_id in keys:
        source = NAME_SOURCES.get(subject_type)
        if source is None or not subject_id:
            continue
        ids_by_table[source[0]].add(subject_id)
        types_by_table[source[0]].add(subject_type)

    names: dict[SubjectKey, str] = {}
    for table_name, ids in ids_by_table.items():
        table = db.metadata.tables[table_name]
        subject_types = sorted(types_by_table[table_name])
        columns = NAME_SOURCES[subject_types[0]][1]
        query = sa.select(table.c.id, *(table.c[name] for name in columns)).where(
            table.c.id.in_(sorted(ids))
        )
        if "institution_id" in table.c:
            query = query.where(table.c.institution_id == institution_id)
        for row in db.session.execute(query):
            for subject_type in subject_types:
                name = NAME_SOURCES[subject_type][2](row)
                if name:
                    names[(subject_type, row.id)] = name
    return names
