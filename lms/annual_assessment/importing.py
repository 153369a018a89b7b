"""Import component scores of one department's counselors from CSV or XLSX.

The sheet has one row per counselor: 工号 (or 用户名), then one column per
component, headed with the component's name as the scheme spells it, and
for the student evaluation the columns 抽样人数 and 学生人数. A blank cell
leaves that score as it is. A cell of a component that the importer does
not enter must be blank or repeat the stored score, as a downloaded sheet
does. A 姓名 cell, when filled, must be the name of the counselor the
工号 finds, so a mistyped 工号 does not score someone else. The whole file
is checked first, and a file with any problem saves nothing. Each problem
names its row and column. A cell that repeats the stored score is left
out, so it is neither saved again nor audited.
"""

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Optional

from flask_babel import gettext as _

from lms import tabular
from lms.accounts.models import User
from lms.annual_assessment import services
from lms.annual_assessment.models import (
    AssessmentComponent,
    AssessmentScheme,
    ComponentKind,
    ComponentScore,
)
from lms.i18n import join_names

PERSON_COLUMNS = ("工号", "职工号", "用户名", "employee number", "employee_no", "username")
SAMPLE_COLUMNS = ("抽样人数", "评议人数", "sampled students", "sample size")
STUDENT_COLUMNS = ("学生人数", "所带学生数", "number of students", "students")
NAME_COLUMNS = ("姓名", "name", "full name")
NAME_COLUMN = NAME_COLUMNS[0]
MAX_ROWS = 2000


@dataclass
class Problem:
    row: int
    column: str
    message: str


@dataclass
class ScoreRow:
    row: int
    person: User
    component: AssessmentComponent
    score: object
    sample_size: Optional[int] = None
    student_count: Optional[int] = None
    #: The stored values this row replaces; None where nothing is stored.
    old_score: Optional[Decimal] = None
    old_sample_size: Optional[int] = None
    old_student_count: Optional[int] = None


@dataclass
class Parsed:
    rows: list[ScoreRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: Number of filled cells that repeat the stored score.
    unchanged: int = 0

    def digest(self) -> str:
        """Return a fingerprint of the changes, to tell whether a confirmation saves what the preview showed."""
        changes = [
            [
                row.person.id,
                row.component.id,
                _text(row.old_score),
                _text(row.old_sample_size),
                _text(row.old_student_count),
                _text(row.score),
                _text(row.sample_size),
                _text(row.student_count),
            ]
            for row in self.rows
        ]
        return hashlib.sha256(json.dumps(changes).encode()).hexdigest()


def _text(value) -> str:
    return "" if value is None else str(value)


def _name_key(name: str) -> str:
    """Return a name without the spaces people type between its characters."""
    return "".join(tabular.normalise(name or "").split()).casefold()


def _table_problem(error: tabular.TableError, filename: str) -> str:
    if error.code == "encoding":
        return tabular.encoding_error_message(error)
    if error.code == "quote":
        return tabular.quote_error_message(error)
    if error.code == "too_many_columns":
        return tabular.columns_error_message()
    if error.code == "too_large":
        return _(
            "The workbook unpacks to more than %(max)d MB. Copy the score sheet "
            "into a new XLSX file, or save it as CSV, and upload that.",
            max=tabular.MAX_XLSX_UNPACKED // (1024 * 1024),
        )
    messages = {
        "empty": _("The file is empty: put a header row and one row per counselor."),
        "too_many_rows": _("The file has more than %(max)d rows: split it.", max=MAX_ROWS),
        "binary": _(
            "The file %(name)s is not text: save the scores as CSV (UTF-8 or GBK) or XLSX.",
            name=filename,
        ),
    }
    return messages.get(error.code, _("This is not a CSV or XLSX table."))


def parse(
    filename: str,
    content: bytes,
    scheme: AssessmentScheme,
    viewer: User,
    department_id: Optional[int],
) -> Parsed:
    """Read and check a score sheet; rows name counselors the sheet lists."""
    result = Parsed()
    try:
        table = tabular.read_upload(filename, content, max_rows=MAX_ROWS)
    except tabular.TableError as error:
        result.problems.append(Problem(1, "", _table_problem(error, filename)))
        return result

    aliases = {
        "person": PERSON_COLUMNS,
        "name": NAME_COLUMNS,
        "sample": SAMPLE_COLUMNS,
        "students": STUDENT_COLUMNS,
    }
    for component in scheme.components:
        aliases[f"component-{component.id}"] = (component.name,)
    headers = tabular.map_headers(table, aliases)
    if "person" not in headers:
        result.problems.append(
            Problem(1, PERSON_COLUMNS[0], _("This column is missing from the header row."))
        )
        return result
    components = [c for c in scheme.components if f"component-{c.id}" in headers]
    if not components:
        result.problems.append(
            Problem(
                1,
                "",
                _(
                    "No column is headed with a component name of the scheme; "
                    "use the names %(names)s.",
                    names=join_names(c.name for c in scheme.components),
                ),
            )
        )
        return result

    counselors = services.counselors_of(scheme.institution_id, department_id)
    people = {}
    for person in counselors:
        if person.employee_no:
            people[person.employee_no] = person
        people[person.username] = person
    seen: dict[int, int] = {}

    for number, raw in table.rows:
        def add(column: str, message: str) -> None:
            result.problems.append(Problem(number, column, message))

        key = raw.get(headers["person"], "")
        person = people.get(key)
        if person is None:
            add(
                headers["person"],
                _(
                    "“%(value)s” is not the employee number or username of a counselor "
                    "on this score sheet.",
                    value=key[:40],
                ),
            )
            continue
        if person.id in seen:
            add(
                headers["person"],
                _("This counselor is already on row %(row)s; keep one row per counselor.", row=seen[person.id]),
            )
            continue
        seen[person.id] = number
        name = raw.get(headers.get("name", ""), "") if "name" in headers else ""
        # A row whose name does not match imports nothing, but its scores are
        # still checked, so every problem of the row shows at once.
        name_matches = not name or _name_key(name) == _name_key(person.full_name)
        if not name_matches:
            add(
                headers["name"],
                _(
                    "“%(value)s” is not the name of %(number)s, who is %(name)s. "
                    "Check the employee number and the name in this row.",
                    value=name[:40],
                    number=key[:40],
                    name=person.full_name,
                ),
            )
        assessment = services.find_assessment(scheme, person)
        if assessment is not None and assessment.is_finalised:
            add(
                headers["person"],
                _("The assessment of %(name)s is finalised; reopen it before importing scores.", name=person.full_name),
            )
            continue
        stored = services.scores_by_component(assessment) if assessment is not None else {}
        online = services.evaluation_of(assessment) if assessment is not None else None
        for component in components:
            column = headers[f"component-{component.id}"]
            cell = raw.get(column, "")
            if not cell:
                continue
            sample = students = None
            if component.kind is ComponentKind.STUDENTS:
                sample = raw.get(headers.get("sample", ""), "")
                students = raw.get(headers.get("students", ""), "")
            if not services.may_score(viewer, component, person):
                # A downloaded sheet carries the scores others entered, so
                # department HR may upload it again with those cells as they were.
                if not _is_stored(stored.get(component.id), cell, sample, students):
                    add(column, _("You do not enter “%(name)s”; leave this column empty.", name=component.name))
                continue
            if component.kind is ComponentKind.STUDENTS and online is not None:
                # The score of an online evaluation comes back in a downloaded
                # sheet, so only a changed cell is a problem.
                if not _is_stored(stored.get(component.id), cell, sample, students):
                    add(column, services.online_evaluation_message(person))
                continue
            try:
                value, sample, students = services.check_score(
                    scheme, component, cell, sample, students
                )
            except services.AssessmentError as error:
                target = {
                    "sample_size": headers.get("sample", SAMPLE_COLUMNS[0]),
                    "student_count": headers.get("students", STUDENT_COLUMNS[0]),
                }.get(error.field, column)
                add(target, error.message)
                continue
            if not name_matches:
                continue
            before = stored.get(component.id)
            if (
                before is not None
                and Decimal(before.score) == value
                and before.sample_size == sample
                and before.student_count == students
            ):
                result.unchanged += 1
                continue
            result.rows.append(
                ScoreRow(
                    number,
                    person,
                    component,
                    value,
                    sample,
                    students,
                    old_score=Decimal(before.score) if before is not None else None,
                    old_sample_size=before.sample_size if before is not None else None,
                    old_student_count=before.student_count if before is not None else None,
                )
            )
    return result


def _same_number(cell, stored) -> bool:
    if stored is None:
        return not str(cell or "").strip()
    try:
        return Decimal(str(cell).strip()) == Decimal(stored)
    except InvalidOperation:
        return False


def _is_stored(score: Optional[ComponentScore], cell: str, sample, students) -> bool:
    """Return whether a score cell, with its counts, repeats the stored score."""
    if score is None or not _same_number(cell, score.score):
        return False
    if sample is None:
        return True
    return _same_number(sample, score.sample_size) and _same_number(students, score.student_count)


def save_all(parsed: Parsed, scheme: AssessmentScheme, actor: User) -> int:
    """Record every parsed score and return how many; the caller commits.

    A score that ``record_score`` rejects, because its assessment was
    finalised after ``parse`` checked it, is added to ``parsed.problems``
    instead, and the caller then rolls back.

    Rows are saved in counselor-id order, so two imports lock the
    assessments they share in the same order and cannot deadlock on each
    other on PostgreSQL.
    """
    for row in sorted(parsed.rows, key=lambda score_row: score_row.person.id):
        assessment = services.assessment_for(scheme, row.person)
        try:
            services.record_score(
                assessment, row.component, actor, row.score, row.sample_size, row.student_count
            )
        except services.AssessmentError as error:
            parsed.problems.append(Problem(row.row, row.component.name, error.message))
    return len(parsed.rows)


def sheet_headers(scheme: AssessmentScheme) -> list[str]:
    """Return the header row of a score sheet that ``parse`` reads back."""
    headers = [PERSON_COLUMNS[0], NAME_COLUMN]
    for component in scheme.components:
        headers.append(component.name)
        if component.kind is ComponentKind.STUDENTS:
            headers += [SAMPLE_COLUMNS[0], STUDENT_COLUMNS[0]]
    return headers
