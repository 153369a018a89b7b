"""Readable names of the objects that audit entries refer to by type and id.

The audit page collects the ``(subject_type, id)`` pairs of the entries it
shows and loads the names in each table with one query, so the page's query
count grows with the number of subject types, not with its rows. Tables are
looked up in the SQLAlchemy metadata by name, which keeps this module free
of imports from the course, assessment and certificate packages.
"""

from collections import defaultdict
from typing import Callable, Iterable, NamedTuple, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from lms.extensions import db
from lms.i18n import format_date
from lms.stored_text import render_stored

SubjectKey = tuple[str, int]


def _user_name(row) -> str:
    return _("%(name)s (%(username)s)", name=row.full_name, username=row.username)


def _column(name: str) -> Callable[[sa.Row], str]:
    return lambda row: getattr(row, name)


#: Per subject type: the table, the columns to load and how a row becomes a
#: name. Subject types missing here and from ``JOINED_SOURCES`` are shown by
#: id. Entries about a scheduled job as a whole have subject id 0 and name
#: the job in their data (see ``audit_summaries.job_label``).
NAME_SOURCES: dict[str, tuple[str, tuple[str, ...], Callable[[sa.Row], str]]] = {
    "user": ("user", ("full_name", "username"), _user_name),
    # A profile entry's subject id is the id of the person's user account.
    "person_profile": ("user", ("full_name", "username"), _user_name),
    "department": ("department", ("name",), _column("name")),
    "annual_assessment_scheme": ("annual_assessment_scheme", ("title",), _column("title")),
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
    "compliance_rule": ("compliance_rule", ("name",), _column("name")),
}


def _table(name: str) -> sa.Table:
    return db.metadata.tables[name]


def _attempts() -> tuple[sa.Select, sa.ColumnElement]:
    attempt, quiz, user = _table("attempt"), _table("quiz"), _table("user")
    query = (
        sa.select(attempt.c.id, attempt.c.number, quiz.c.title, user.c.full_name)
        .join(quiz, quiz.c.id == attempt.c.quiz_id)
        .join(user, user.c.id == attempt.c.user_id)
    )
    return query, user.c.institution_id


def _attempt_answers() -> tuple[sa.Select, sa.ColumnElement]:
    answer, attempt, quiz, user = (
        _table("attempt_answer"), _table("attempt"), _table("quiz"), _table("user")
    )
    query = (
        sa.select(answer.c.id, attempt.c.number, quiz.c.title, user.c.full_name)
        .join(attempt, attempt.c.id == answer.c.attempt_id)
        .join(quiz, quiz.c.id == attempt.c.quiz_id)
        .join(user, user.c.id == attempt.c.user_id)
    )
    return query, user.c.institution_id


def _attempt_name(row) -> str:
    return _(
        "%(person)s, %(quiz)s, attempt %(number)s",
        person=row.full_name, quiz=row.title, number=row.number,
    )


def _submissions() -> tuple[sa.Select, sa.ColumnElement]:
    submission, task, user = (
        _table("task_submission"), _table("performance_task"), _table("user")
    )
    query = (
        sa.select(submission.c.id, submission.c.number, task.c.title, user.c.full_name)
        .join(task, task.c.id == submission.c.task_id)
        .join(user, user.c.id == submission.c.user_id)
    )
    return query, user.c.institution_id


def _submission_name(row) -> str:
    return _(
        "%(person)s, %(task)s, submission %(number)s",
        person=row.full_name, task=row.title, number=row.number,
    )


def _score_sheets() -> tuple[sa.Select, sa.ColumnElement]:
    sheet, submission, task = (
        _table("score_sheet"), _table("task_submission"), _table("performance_task")
    )
    learner, assessor = _table("user").alias("learner"), _table("user").alias("assessor")
    query = (
        sa.select(
            sheet.c.id,
            task.c.title,
            learner.c.full_name,
            assessor.c.full_name.label("assessor"),
        )
        .join(submission, submission.c.id == sheet.c.submission_id)
        .join(task, task.c.id == submission.c.task_id)
        .join(learner, learner.c.id == submission.c.user_id)
        .join(assessor, assessor.c.id == sheet.c.assessor_id)
    )
    return query, learner.c.institution_id


def _score_sheet_name(row) -> str:
    return _(
        "%(assessor)s on %(person)s, %(task)s",
        assessor=row.assessor, person=row.full_name, task=row.title,
    )


def _applications() -> tuple[sa.Select, sa.ColumnElement]:
    application, rule, user = (
        _table("promotion_application"), _table("promotion_rule"), _table("user")
    )
    query = (
        sa.select(application.c.id, rule.c.name.label("title"), user.c.full_name)
        .join(rule, rule.c.id == application.c.rule_id)
        .join(user, user.c.id == application.c.applicant_id)
    )
    return query, application.c.institution_id


def _career_entries() -> tuple[sa.Select, sa.ColumnElement]:
    entry, user = _table("progression_entry"), _table("user")
    query = sa.select(
        entry.c.id, entry.c.title, entry.c.title_data, user.c.full_name
    ).join(user, user.c.id == entry.c.user_id)
    return query, user.c.institution_id


def _career_entry_name(row) -> str:
    return _(
        "%(person)s: %(title)s",
        person=row.full_name,
        title=render_stored(row.title_data, row.title),
    )


def _class_members() -> tuple[sa.Select, sa.ColumnElement]:
    member, training_class, user = (
        _table("class_member"), _table("training_class"), _table("user")
    )
    query = (
        sa.select(member.c.id, training_class.c.title, user.c.full_name)
        .join(training_class, training_class.c.id == member.c.class_id)
        .join(user, user.c.id == member.c.user_id)
    )
    return query, training_class.c.institution_id


def _person_and_title(row) -> str:
    return _("%(person)s: %(title)s", person=row.full_name, title=row.title)


def _class_sessions() -> tuple[sa.Select, sa.ColumnElement]:
    session, training_class = _table("class_session"), _table("training_class")
    query = sa.select(session.c.id, session.c.title, session.c.held_on).join(
        training_class, training_class.c.id == session.c.class_id
    )
    return query, training_class.c.institution_id


def _session_name(row) -> str:
    return _("%(date)s %(title)s", date=format_date(row.held_on, "long"), title=row.title)


def _attendance() -> tuple[sa.Select, sa.ColumnElement]:
    attendance, session, training_class, user = (
        _table("class_attendance"), _table("class_session"), _table("training_class"),
        _table("user"),
    )
    query = (
        sa.select(attendance.c.id, session.c.title, session.c.held_on, user.c.full_name)
        .join(session, session.c.id == attendance.c.session_id)
        .join(training_class, training_class.c.id == session.c.class_id)
        .join(user, user.c.id == attendance.c.user_id)
    )
    return query, training_class.c.institution_id


def _attendance_name(row) -> str:
    return _("%(person)s: %(session)s", person=row.full_name, session=_session_name(row))


def _job_runs() -> tuple[sa.Select, None]:
    run = _table("job_run")
    # Jobs run for every institution and a run row names no person.
    return sa.select(run.c.id, run.c.job_id), None


def _job_run_name(row) -> str:
    from lms.audit_summaries import job_label

    return job_label(row.job_id)


def _certificate_batches() -> tuple[sa.Select, sa.ColumnElement]:
    batch, programme, training_class = (
        _table("certificate_batch"), _table("programme"), _table("training_class")
    )
    query = (
        sa.select(
            batch.c.id,
            sa.func.coalesce(training_class.c.title, programme.c.title).label("title"),
        )
        .outerjoin(programme, programme.c.id == batch.c.programme_id)
        .outerjoin(training_class, training_class.c.id == batch.c.class_id)
    )
    return query, batch.c.institution_id


#: Subject types named from joined tables. Each entry pairs a builder of the
#: query (the subject's id first, as ``id``) and of the column with the
#: owning institution's id (None for subjects no institution owns), with the
#: function that turns a row into a name.
JOINED_SOURCES: dict[
    str,
    tuple[
        Callable[[], tuple[sa.Select, Optional[sa.ColumnElement]]], Callable[[sa.Row], str]
    ],
] = {
    "attempt": (_attempts, _attempt_name),
    "attempt_answer": (_attempt_answers, _attempt_name),
    "task_submission": (_submissions, _submission_name),
    "score_sheet": (_score_sheets, _score_sheet_name),
    "promotion_application": (_applications, _person_and_title),
    "progression_entry": (_career_entries, _career_entry_name),
    "class_member": (_class_members, _person_and_title),
    "certificate_batch": (_certificate_batches, _column("title")),
    "class_session": (_class_sessions, _session_name),
    "class_attendance": (_attendance, _attendance_name),
    "job_run": (_job_runs, _job_run_name),
}


def load_names(
    keys: Iterable[SubjectKey], institution_id: Optional[int]
) -> dict[SubjectKey, str]:
    """Load the names of ``keys`` with one query per table or joined subject type.

    Rows of a table with an ``institution_id`` column, and subjects whose
    person, class or batch belongs to an institution, are read only when they
    belong to ``institution_id``. A key whose row is missing (deleted,
    another institution's, or id 0) or whose name is empty is left out of
    the result.
    """
    ids_by_table: dict[str, set[int]] = defaultdict(set)
    types_by_table: dict[str, set[str]] = defaultdict(set)
    joined_ids: dict[str, set[int]] = defaultdict(set)
    for subject_type, subject_id in keys:
        if not subject_id:
            continue
        if subject_type in JOINED_SOURCES:
            joined_ids[subject_type].add(subject_id)
            continue
        source = NAME_SOURCES.get(subject_type)
        if source is None:
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
    for subject_type, ids in joined_ids.items():
        build, name_of = JOINED_SOURCES[subject_type]
        query, institution_column = build()
        subject_id = query.selected_columns[0]
        query = query.where(subject_id.in_(sorted(ids)))
        if institution_column is not None:
            query = query.where(institution_column == institution_id)
        for row in db.session.execute(query):
            name = name_of(row)
            if name:
                names[(subject_type, row.id)] = name
    return names


class StoredTitle(NamedTuple):
    """A row's headline as stored in the default language, and as the reader sees it."""

    stored: str
    shown: str


#: Subject types whose rows keep a headline the platform wrote as stored
#: text (a ``title_data`` column, see ``lms.stored_text``) beside the
#: ``title`` in the default language. Each gives a query like those of
#: ``JOINED_SOURCES`` that selects ``id``, ``title`` and ``title_data``.
STORED_TITLES: dict[
    str, Callable[[], tuple[sa.Select, Optional[sa.ColumnElement]]]
] = {
    "progression_entry": _career_entries,
}


def load_titles(
    keys: Iterable[SubjectKey], institution_id: Optional[int]
) -> dict[SubjectKey, StoredTitle]:
    """Load the stored-text headlines of ``keys``, one query per subject type.

    Only rows that keep their headline as stored text and belong to
    ``institution_id`` are in the result, with the headline rendered in the
    current language.
    """
    ids_by_type: dict[str, set[int]] = defaultdict(set)
    for subject_type, subject_id in keys:
        if subject_id and subject_type in STORED_TITLES:
            ids_by_type[subject_type].add(subject_id)
    titles: dict[SubjectKey, StoredTitle] = {}
    for subject_type, ids in ids_by_type.items():
        query, institution_column = STORED_TITLES[subject_type]()
        subject_id = query.selected_columns[0]
        query = query.where(subject_id.in_(sorted(ids)))
        if institution_column is not None:
            query = query.where(institution_column == institution_id)
        for row in db.session.execute(query):
            if row.title_data:
                titles[(subject_type, row.id)] = StoredTitle(
                    row.title, render_stored(row.title_data, row.title)
                )
    return titles
