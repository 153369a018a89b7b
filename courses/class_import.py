"""Enrol a class from a CSV or XLSX roster exported by an HR system.

``preview`` reads the file, normalises every cell and stores the result in a
``PendingImport`` row with every problem found (row, column, code). Nothing
else is written. ``confirm`` checks the stored rows again against the
current accounts and, only when no row has a problem, creates the missing
accounts and enrols everyone. A person is matched by employee number within
the institution, then by e-mail, so importing the same file twice creates
nobody twice.
"""

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from courses import logger
from courses.class_models import PendingImport, TrainingClass
from courses.classes import add_member
from lms import audit, tabular, uploads
from lms.column_lengths import max_length, too_long
from lms.accounts import contact
from lms.accounts.models import Gender, Post, Role, User
from lms.db import now_utc
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.input_ranges import EARLIEST_POST_START, latest_post_start
from lms.labels import format_iso_date
from lms.onboarding import CJK_GAP, EMPLOYEE_NO_RE
from lms.organisations.models import Department, Institution

#: Field -> headers people use for it in HR exports.
COLUMNS = {
    "employee_no": ("工号", "职工号", "教工号", "人员编号", "员工编号", "employee no", "employee number"),
    "full_name": ("姓名", "name", "full name"),
    "department": ("院系", "部门", "所在院系", "所在单位", "单位", "学院", "department"),
    "gender": ("性别", "gender", "sex"),
    "phone": ("手机", "手机号", "手机号码", "联系电话", "电话", "phone", "mobile"),
    "email": ("邮箱", "电子邮箱", "电子邮件", "e-mail", "email"),
    "post": ("岗位", "岗位类别", "post"),
    "post_started_on": ("上岗日期", "上岗时间", "任职日期", "post start date", "start date"),
}
REQUIRED = ("employee_no", "full_name", "department")
#: Header shown in messages for each field.
HEADER_NAMES = {
    "employee_no": "工号",
    "full_name": "姓名",
    "department": "院系",
    "gender": "性别",
    "phone": "手机",
    "email": "邮箱",
    "post": "岗位",
    "post_started_on": "上岗日期",
}
POST_NAMES = {
    "专职辅导员": Post.FULL_TIME_COUNSELOR,
    "兼职辅导员": Post.PART_TIME_COUNSELOR,
    "组织员": Post.PARTY_ORGANISER,
    "教师党支部书记": Post.TEACHER_BRANCH_SECRETARY,
    "院系党组织书记": Post.DEPARTMENT_PARTY_SECRETARY,
    **{post.value: post for post in Post},
}
#: Stored value of each post; the "post" cell of a checked row contains one of them.
POST_VALUES = {post.value for post in Post}
PARTY_POSTS = {
    Post.PARTY_ORGANISER,
    Post.TEACHER_BRANCH_SECRETARY,
    Post.DEPARTMENT_PARTY_SECRETARY,
}
GENDERS = {
    "男": "男", "男性": "男", "m": "男", "male": "男",
    "女": "女", "女性": "女", "f": "女", "female": "女",
}
#: Stored gender of each value in ``GENDERS``.
GENDER_VALUES = {"男": Gender.MALE, "女": Gender.FEMALE}
#: Value shown in the preview for each stored gender.
GENDER_NAMES = {gender: name for name, gender in GENDER_VALUES.items()}
DEPARTMENT_SUFFIXES = ("学院", "系", "院")
EMPLOYEE_NO = EMPLOYEE_NO_RE
MOBILE = contact.MOBILE
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SCIENTIFIC = re.compile(r"\d+(\.\d+)?[eE][+-]?\d+")
#: Dates as HR exports write them: 2025-09-01, 2025/9/1, 2025.9.1,
#: 2025年9月1日 or 20250901. A time after the date (from an XLSX date cell) is
#: ignored.
DATE = re.compile(
    r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))(?:[T ][\d:.]*)?"
)
#: Column that stores each text field of a row, whose length limits the cell.
#: The department is only matched against ``Department.name``, so a longer
#: cell cannot name a department. Gender, post and post start date are stored
#: as codes and dates, so they have no entry.
LENGTH_COLUMNS = {
    "employee_no": User.employee_no,
    "full_name": User.full_name,
    "department": Department.name,
    "phone": User.phone,
    "email": User.email,
}
#: Years a post start date is parsed in; a year outside them is reported as
#: invalid. ``_check_row`` then rejects a date outside the plausible range.
POST_START_YEARS = range(1950, 2100)
MAX_ROWS = 5000
#: A preview older than this must be uploaded again.
PENDING_LIFETIME = timedelta(hours=24)


class ImportRejected(ValueError):
    """The stored import cannot be confirmed. ``code`` gives the reason."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Preview:
    rows: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


# Normalising cells -------------------------------------------------------------


def _number_text(value: str) -> str:
    """Return the digits of a number a spreadsheet wrote as 20230001.0.

    Scientific notation such as 1.38E+10 is returned unchanged, because the
    spreadsheet already dropped digits and the row is reported instead.
    """
    compact = value.replace(" ", "").replace(",", "")
    if re.fullmatch(r"\d+\.0+", compact):
        return compact.split(".")[0]
    return compact


def is_scientific(value: str) -> bool:
    return SCIENTIFIC.fullmatch(value) is not None


def employee_no(value: str) -> str:
    return _number_text(tabular.normalise(value)).upper()


def full_name(value: str) -> str:
    """Remove the spaces people type between the Chinese characters of a name."""
    return CJK_GAP.sub("", tabular.normalise(value))


def phone(value: str) -> str:
    digits = _number_text(tabular.normalise(value)).replace("-", "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def post_start_date(value: str) -> Optional[date]:
    """Parse a roster's post start date, or return None if it is not a valid date."""
    match = DATE.fullmatch(value.replace(" ", ""))
    if match is None:
        return None
    year, month, day, compact_month, compact_day = match.groups()
    try:
        parsed = date(int(year), int(month or compact_month), int(day or compact_day))
    except ValueError:
        return None
    return parsed if parsed.year in POST_START_YEARS else None


def department_key(name: str) -> str:
    key = tabular.normalise(name).replace(" ", "").lower()
    for suffix in DEPARTMENT_SUFFIXES:
        if key.endswith(suffix):
            return key[: -len(suffix)] if len(key) > len(suffix) else key
    return key


def _department_index(institution_id: int) -> dict[str, Department]:
    index: dict[str, Department] = {}
    departments = db.session.scalars(
        sa.select(Department).where(Department.institution_id == institution_id)
    )
    for department in departments:
        index.setdefault(department_key(department.name), department)
        index.setdefault(department.code.lower(), department)
    return index


# Reading and checking ------------------------------------------------------------


#: The columns that identify a row's person: a problem in one of them stops the look-up.
IDENTITY_COLUMNS = frozenset(HEADER_NAMES[name] for name in ("employee_no", "full_name", "email"))


def _problem(row: int, fieldname: str, code: str, **params) -> dict:
    return {"row": row, "column": HEADER_NAMES.get(fieldname, fieldname), "code": code, **params}


def read_table(filename: str, content: bytes) -> tuple[tabular.Table, list[dict]]:
    """Read the file and return the table with the file-level problems."""
    table = tabular.read_upload(filename, content, max_rows=MAX_ROWS)
    found = tabular.map_headers(table, COLUMNS)
    missing = [name for name in REQUIRED if name not in found]
    titles = [header for header in table.headers if header]
    if len(titles) == 1 and not found:
        # HR exports often put a title such as 2026年辅导员名单 above the header row.
        return table, [_problem(1, "employee_no", "title_row", value=titles[0])]
    problems = [
        _problem(1, name, "missing_column", aliases="、".join(COLUMNS[name][1:4]))
        for name in missing
    ]
    if not table.rows and not problems:
        problems.append(_problem(2, "employee_no", "no_rows"))
    return table, problems


def _row_values(number: int, cells: dict, found: dict[str, str]) -> dict:
    raw = {name: cells.get(header, "") for name, header in found.items()}
    return {
        "row": number,
        "employee_no": employee_no(raw.get("employee_no", "")),
        "full_name": full_name(raw.get("full_name", "")),
        "department": tabular.normalise(raw.get("department", "")),
        "gender": tabular.normalise(raw.get("gender", "")),
        "phone": phone(raw.get("phone", "")) if raw.get("phone") else "",
        "email": tabular.normalise(raw.get("email", "")).replace(" ", "").lower(),
        "post": tabular.normalise(raw.get("post", "")).replace(" ", ""),
        "post_started_on": tabular.normalise(raw.get("post_started_on", "")),
    }


def check_rows(training_class: TrainingClass, rows: list[dict]) -> Preview:
    """Check normalised rows against each other and the institution's data.

    Fills in ``department_id``, ``post`` value, the matched ``user_id`` and
    ``action`` ("new" or "existing") on each row, and on an existing
    person's row the ``notes`` about roster values that will not be applied.
    """
    preview = Preview()
    departments = _department_index(training_class.institution_id)
    today = local_today(db.session.get(Institution, training_class.institution_id))
    seen: dict[str, int] = {}
    for values in rows:
        row = dict(values)
        problems = _check_row(row, departments, seen, today)
        if not any(problem["column"] in IDENTITY_COLUMNS for problem in problems):
            # The row names a person clearly enough to look them up, so a
            # wrong person is reported together with the row's other problems.
            problems += _match_person(training_class, row)
        preview.rows.append(row)
        preview.problems.extend(problems)
    return preview


def _check_row(
    row: dict, departments: dict, seen: dict[str, int], today: date
) -> list[dict]:
    number = row["row"]
    problems = [
        _problem(number, name, "required") for name in REQUIRED if not row.get(name)
    ]
    # A cell longer than its column gets only that problem, because checking
    # its content as well would repeat the same fault in other words.
    long_fields = set()
    for name, column in LENGTH_COLUMNS.items():
        limit = too_long(row[name], column)
        if limit is not None:
            long_fields.add(name)
            problems.append(
                _problem(number, name, "too_long", max=limit, length=len(row[name]))
            )
    number_value = row["employee_no"] if "employee_no" not in long_fields else ""
    if is_scientific(number_value):
        problems.append(_problem(number, "employee_no", "scientific", value=number_value))
    elif number_value and not EMPLOYEE_NO.match(number_value):
        problems.append(_problem(number, "employee_no", "employee_no_malformed", value=number_value))
    elif number_value in seen:
        problems.append(
            _problem(number, "employee_no", "duplicate", value=number_value, first=seen[number_value])
        )
    elif number_value:
        seen[number_value] = number
    if row["department"] and "department" not in long_fields:
        department = departments.get(department_key(row["department"]))
        if department is None:
            names = sorted({dept.name for dept in departments.values()})
            problems.append(
                _problem(number, "department", "department_unknown",
                         value=row["department"], choices="、".join(names))
            )
        else:
            row["department_id"] = department.id
    if row["gender"]:
        gender = GENDERS.get(row["gender"].lower())
        if gender is None:
            problems.append(_problem(number, "gender", "gender_invalid", value=row["gender"]))
        row["gender"] = gender or row["gender"]
    if "phone" in long_fields:
        pass
    elif is_scientific(row["phone"]):
        problems.append(_problem(number, "phone", "scientific", value=row["phone"]))
    elif row["phone"] and not MOBILE.match(row["phone"]):
        problems.append(_problem(number, "phone", "phone_invalid", value=row["phone"]))
    if row["email"] and "email" not in long_fields and not EMAIL.match(row["email"]):
        problems.append(_problem(number, "email", "email_invalid", value=row["email"]))
    if row["post"]:
        post = POST_NAMES.get(row["post"])
        if post is None:
            problems.append(_problem(number, "post", "post_unknown", value=row["post"]))
        else:
            row["post"] = post.value
    if row.get("post_started_on"):
        started = post_start_date(row["post_started_on"])
        if started is None:
            problems.append(
                _problem(number, "post_started_on", "post_start_invalid",
                         value=row["post_started_on"])
            )
        elif not EARLIEST_POST_START <= started <= latest_post_start(today):
            problems.append(
                _problem(number, "post_started_on", "post_start_implausible",
                         value=row["post_started_on"],
                         min=EARLIEST_POST_START.isoformat(),
                         max=latest_post_start(today).isoformat())
            )
        else:
            row["post_started_on"] = started.isoformat()
    return problems


def _match_person(training_class: TrainingClass, row: dict) -> list[dict]:
    """Find the row's account by employee number, then by e-mail."""
    number = row["row"]
    user = db.session.scalar(
        sa.select(User).where(
            User.institution_id == training_class.institution_id,
            User.employee_no == row["employee_no"],
        )
    )
    if user is None and row["email"]:
        by_email = db.session.scalar(
            sa.select(User).where(sa.func.lower(User.email) == row["email"])
        )
        if by_email is not None:
            if by_email.institution_id != training_class.institution_id:
                return [_problem(number, "email", "email_elsewhere", value=row["email"])]
            if by_email.employee_no and by_email.employee_no != row["employee_no"]:
                return [
                    _problem(number, "email", "email_conflict",
                             value=row["email"], other=by_email.employee_no)
                ]
            user = by_email
    if user is None:
        row["action"] = "new"
        row["user_id"] = None
        return []
    if not user.role.is_learner:
        return [_problem(number, "employee_no", "not_learner", value=row["employee_no"])]
    if row["full_name"] and full_name(user.full_name) != row["full_name"]:
        # A mistyped employee number matches another person, and enrolling that
        # person would put the wrong name on the class and its certificates.
        return [
            _problem(number, "full_name", "name_mismatch", value=row["full_name"],
                     other=user.full_name, employee_no=user.employee_no or row["email"])
        ]
    row["action"] = "existing"
    row["user_id"] = user.id
    row["notes"] = _kept_values(user, row)
    row["fills"] = _filled_values(user, row)
    return []


def _filled_values(user: User, row: dict) -> list[dict]:
    """Return the empty account and HR profile fields that confirming fills from the row.

    Each item names the column and the roster value, which the trainer
    uploaded and may therefore see.
    """
    fills = []
    if not user.employee_no:
        fills.append({"column": HEADER_NAMES["employee_no"], "value": row["employee_no"]})
    if row["gender"] in GENDER_VALUES and user.gender is None:
        fills.append({"column": HEADER_NAMES["gender"], "value": row["gender"]})
    if row["phone"] and not user.phone:
        fills.append({"column": HEADER_NAMES["phone"], "value": row["phone"]})
    if row.get("post_started_on") and _stored_post_start(user) is None:
        fills.append(
            {"column": HEADER_NAMES["post_started_on"], "value": row["post_started_on"]}
        )
    return fills


def filled_rows(rows: list[dict]) -> int:
    """Return how many rows of a checked roster fill empty fields of existing accounts."""
    return sum(1 for row in rows if row.get("fills"))


def _kept_values(user: User, row: dict) -> list[dict]:
    """Return a note per roster value that differs from the person's stored one.

    Confirming fills only empty fields (see ``_filled_values``), so these
    values are not applied.
    The note leaves out the stored value, because the trainer uploading the
    roster may not be allowed to see the person's contact data yet.
    """
    notes = []
    if row.get("department_id") and user.department_id and row["department_id"] != user.department_id:
        notes.append({"column": HEADER_NAMES["department"], "code": "department_kept"})
    stored_gender = GENDER_NAMES.get(user.gender) if user.gender else None
    if row["gender"] and stored_gender and row["gender"] != stored_gender:
        notes.append({"column": HEADER_NAMES["gender"], "code": "gender_kept"})
    if row["phone"] and user.phone and row["phone"] != user.phone:
        notes.append({"column": HEADER_NAMES["phone"], "code": "phone_kept"})
    if row["post"] in POST_VALUES and user.post is not None and row["post"] != user.post.value:
        notes.append({"column": HEADER_NAMES["post"], "code": "post_kept"})
    stored_start = _stored_post_start(user)
    if (
        row.get("post_started_on")
        and stored_start is not None
        and row["post_started_on"] != stored_start.isoformat()
    ):
        notes.append({"column": HEADER_NAMES["post_started_on"], "code": "post_start_kept"})
    return notes


def _stored_post_start(user: User) -> Optional[date]:
    from lms.compliance.models import PersonProfile

    profile = db.session.get(PersonProfile, user.id)
    return profile.post_started_on if profile else None


def preview(training_class: TrainingClass, filename: str, content: bytes, by: User) -> PendingImport:
    """Read and check an upload, and store the result for the preview page.

    Raises ``tabular.TableError`` for a file that is not a table.
    """
    purge_expired()
    table, problems = read_table(filename, content)
    found = tabular.map_headers(table, COLUMNS)
    rows = [_row_values(number, cells, found) for number, cells in table.rows]
    checked = Preview(rows=rows)
    if not problems:
        checked = check_rows(training_class, rows)
    pending = PendingImport(
        class_id=training_class.id,
        created_by_id=by.id,
        filename=uploads.client_filename(filename, 200),
        encoding=table.encoding or "xlsx",
        rows=checked.rows,
        problems=problems + checked.problems,
    )
    db.session.add(pending)
    db.session.flush()
    logger.info(
        "Roster upload %s for %r by %r: %d rows, %d problems",
        pending.id, training_class, by, len(rows), len(pending.problems),
    )
    return pending


def purge_expired() -> int:
    """Delete stored uploads older than ``PENDING_LIFETIME``, which contain personal data."""
    result = db.session.execute(
        sa.delete(PendingImport).where(PendingImport.created_at < now_utc() - PENDING_LIFETIME)
    )
    return result.rowcount


def purge_unconfirmed(cutoff: datetime) -> int:
    """Delete the previews made before ``cutoff`` that were never confirmed.

    Returns how many were deleted.
    """
    result = db.session.execute(
        sa.delete(PendingImport).where(
            PendingImport.created_at < cutoff, PendingImport.confirmed_at.is_(None)
        )
    )
    return result.rowcount


# Confirming -----------------------------------------------------------------------


def _username_for(row: dict, institution_code: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]", "", row["employee_no"].lower()) or "user"
    for candidate in (base, _username(f"{institution_code}-", base, "")):
        if candidate not in taken and not _username_exists(candidate):
            return candidate
    suffix = 2
    while True:
        candidate = _username(f"{institution_code}-", base, f"-{suffix}")
        if candidate not in taken and not _username_exists(candidate):
            return candidate
        suffix += 1


def _username(prefix: str, base: str, suffix: str) -> str:
    """Join the parts, cutting ``base`` so the result fits ``User.username``.

    An institution code and an employee number may each have 32 characters,
    so with the hyphen and a suffix they can exceed the column's 64.
    """
    room = max_length(User.username) - len(prefix) - len(suffix)
    return prefix + base[:room] + suffix


def _username_exists(username: str) -> bool:
    return db.session.scalar(sa.select(User.id).filter_by(username=username)) is not None


def new_account_post(row: dict) -> Post:
    """Return the post a new account gets from a checked row: 专职辅导员 when the cell is empty."""
    return Post(row["post"]) if row.get("post") else Post.FULL_TIME_COUNSELOR


def _create_person(training_class: TrainingClass, row: dict, taken: set[str]) -> tuple[User, str]:
    post = new_account_post(row)
    password = secrets.token_urlsafe(9)
    user = User(
        username=_username_for(row, _institution_code(training_class), taken),
        full_name=row["full_name"],
        employee_no=row["employee_no"],
        email=row["email"] or None,
        role=Role.PARTY_WORKER if post in PARTY_POSTS else Role.COUNSELOR,
        post=post,
        institution_id=training_class.institution_id,
        department_id=row.get("department_id"),
        gender=GENDER_VALUES.get(row["gender"]),
        phone=row["phone"] or None,
        password_must_change=True,
    )
    user.set_password(password)
    taken.add(user.username)
    db.session.add(user)
    db.session.flush()
    return user, password


def _institution_code(training_class: TrainingClass) -> str:
    from lms.organisations.models import Institution

    institution = db.session.get(Institution, training_class.institution_id)
    return re.sub(r"[^a-z0-9-]", "", institution.code.lower()) or "inst"


def confirm(pending: PendingImport, by: User) -> dict:
    """Create missing accounts and enrol every row, all or nothing.

    Returns {"created": [(user, first password)], "enrolled": n, "waiting": n}.
    Raises ``ImportRejected`` when the import was confirmed or deleted
    already, is too old, or has problems now. The caller rolls back on any
    exception.
    """
    if pending.confirmed_at is not None:
        raise ImportRejected("confirmed")
    if now_utc() - pending.created_at > PENDING_LIFETIME:
        raise ImportRejected("expired")
    if pending.problems:
        raise ImportRejected("problems")
    training_class = db.session.get(TrainingClass, pending.class_id)
    checked = check_rows(training_class, [_stored_values(row) for row in pending.rows])
    if checked.problems:
        pending.problems = checked.problems
        raise ImportRejected("problems")
    claimed = db.session.execute(
        sa.update(PendingImport)
        .where(PendingImport.id == pending.id, PendingImport.confirmed_at.is_(None))
        .values(confirmed_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        # The cleanup job may have deleted the preview since it was loaded.
        exists = sa.select(PendingImport.id).where(PendingImport.id == pending.id)
        raise ImportRejected("confirmed" if db.session.scalar(exists) else "deleted")

    result = {"created": [], "enrolled": 0, "waiting": 0, "already": 0, "people": []}
    taken: set[str] = set()
    for row in checked.rows:
        if row["action"] == "new":
            user, password = _create_person(training_class, row, taken)
            result["created"].append((user, password))
        else:
            user = db.session.get(User, row["user_id"])
            if not user.employee_no:
                user.employee_no = row["employee_no"]
            _fill_contact(user, row, by)
        _fill_post_start(user, row, by)
        _enrol_row(training_class, user, by, result)
    audit.record(
        "class.roster_imported", "training_class", training_class.id,
        f"{pending.filename}: {len(checked.rows)}",
        actor_id=by.id, institution_id=training_class.institution_id,
        data={"created": len(result["created"]), "enrolled": result["enrolled"],
              "waiting": result["waiting"]},
    )
    logger.info("Roster upload %s confirmed by %r", pending.id, by)
    return result


def _fill_contact(user: User, row: dict, by: User) -> None:
    """Copy the roster's gender and phone into the fields the person left empty."""
    gender = user.gender or GENDER_VALUES.get(row["gender"])
    phone = user.phone or row["phone"] or None
    contact.update_contact(user, by, gender=gender, phone=phone)


def _fill_post_start(user: User, row: dict, by: User) -> None:
    """Record the roster's post start date when the person has none; keep a stored one."""
    from lms.compliance.models import PartyStatus
    from lms.records.events import profile_of, update_profile

    if not row.get("post_started_on"):
        return
    profile = profile_of(user)
    if profile is not None and profile.post_started_on is not None:
        return
    update_profile(
        user,
        by,
        party_status=profile.party_status if profile else PartyStatus.NONE,
        party_committee_member=profile.party_committee_member if profile else False,
        cadre_rank=profile.cadre_rank if profile else None,
        full_time=profile.full_time if profile else None,
        post_started_on=date.fromisoformat(row["post_started_on"]),
    )


def _stored_values(row: dict) -> dict:
    """Return the normalised cells of a stored row, without the results of checking.

    Checking stores a post as its enum value, which ``POST_NAMES`` also reads.
    """
    keys = (
        "row", "employee_no", "full_name", "department", "gender", "phone", "email", "post",
        "post_started_on",
    )
    return {key: row.get(key) or "" for key in keys}


def _enrol_row(training_class: TrainingClass, user: User, by: User, result: dict) -> None:
    from courses.class_models import MemberStatus
    from courses.classes import find_member

    existing = find_member(training_class, user)
    if existing is not None and existing.status in (MemberStatus.ENROLLED, MemberStatus.WAITING):
        result["already"] += 1
        return
    member = add_member(training_class, user, by=by, source="import")
    key = "enrolled" if member.status is MemberStatus.ENROLLED else "waiting"
    result[key] += 1
    result["people"].append(user)


# Messages -------------------------------------------------------------------------


def problem_message(problem: dict) -> str:
    """Return the sentence that explains what is wrong with a cell and how to fix it."""
    code = problem["code"]
    value = problem.get("value", "")
    if code == "missing_column":
        return _("The column is missing. Add a column headed %(column)s (also accepted: %(aliases)s).",
                 column=problem["column"], aliases=problem.get("aliases", ""))
    if code == "title_row":
        return _(
            "The first row contains only %(value)s, which looks like a title. Delete "
            "the rows above the header row, so that the first row has the column "
            "headers such as 工号, 姓名 and 院系, and upload the file again.",
            value=value,
        )
    if code == "no_rows":
        return _("The file has a header row but no people. Add one row per person.")
    if code == "required":
        return _("The cell is empty. Fill in %(column)s.", column=problem["column"])
    if code == "too_long":
        return _(
            "at most %(max)d characters (%(length)d given). Shorten the cell.",
            max=problem.get("max", 0),
            length=problem.get("length", 0),
        )
    if code == "scientific":
        return _("%(value)s is in scientific notation, so the spreadsheet dropped digits. Format the column as text and export the file again.", value=value)
    if code == "name_mismatch":
        return _("This row matches the account of %(other)s (%(number)s), not %(value)s. Check the employee number, e-mail and name in this row.",
                 number=problem.get("employee_no", ""), other=problem.get("other", ""), value=value)
    if code == "employee_no_malformed":
        return _("%(value)s is not an employee number. Use 3 to 32 letters, digits or hyphens.", value=value)
    if code == "duplicate":
        return _("Employee number %(value)s already appears in row %(first)s. Keep one of the two rows.",
                 value=value, first=problem.get("first"))
    if code == "department_unknown":
        return _("There is no department %(value)s. Use one of: %(choices)s.",
                 value=value, choices=problem.get("choices", ""))
    if code == "gender_invalid":
        return _("%(value)s is not a gender. Write 男 or 女.", value=value)
    if code == "phone_invalid":
        return _("%(value)s is not a mobile number. Write 11 digits starting with 1.", value=value)
    if code == "email_invalid":
        return _("%(value)s is not an e-mail address. Write it as name@example.edu.cn.", value=value)
    if code == "post_unknown":
        return _("There is no post %(value)s. Use one of: %(choices)s.",
                 value=value, choices="、".join(list(POST_NAMES)[:5]))
    if code == "post_start_invalid":
        return _("%(value)s is not a valid post start date. Write it as YYYY-MM-DD, for example 2025-09-01, or leave the cell empty.", value=value)
    if code == "post_start_implausible":
        return _(
            "%(value)s is not a plausible post start date. Write a date from "
            "%(min)s to %(max)s (one year after today), or leave the cell empty.",
            value=value,
            min=format_iso_date(problem.get("min")),
            max=format_iso_date(problem.get("max")),
        )
    if code == "email_elsewhere":
        return _("The e-mail address %(value)s belongs to an account of another institution. Leave the cell empty or correct it.", value=value)
    if code == "email_conflict":
        return _("The e-mail address %(value)s belongs to the person with employee number %(other)s. Check both numbers.",
                 value=value, other=problem.get("other"))
    if code == "not_learner":
        return _("Employee number %(value)s belongs to a staff account, which cannot join a class. Remove the row.", value=value)
    return code


def note_message(note: dict) -> str:
    """Return the sentence that explains why a roster value will not be applied."""
    if note["code"] == "department_kept":
        return _("The department differs from the one on the account, which is kept. Ask HR to move the person if the roster is right.")
    if note["code"] == "gender_kept":
        return _("The gender differs from the one on the account, which is kept. Ask HR to correct the account if the roster is right.")
    if note["code"] == "phone_kept":
        return _("The mobile number differs from the one on the account, which is kept. Ask HR or the person to correct the account if the roster is right.")
    if note["code"] == "post_kept":
        return _("The post differs from the one on the account, which is kept. Ask HR to correct the account if the roster is right.")
    if note["code"] == "post_start_kept":
        return _("The post start date differs from the one on the person's profile, which is kept. Ask HR to correct the profile if the roster is right.")
    return note["code"]


def table_error_message(error: tabular.TableError) -> str:
    if error.code == "encoding":
        return tabular.encoding_error_message(error)
    if error.code == "quote":
        return tabular.quote_error_message(error)
    if error.code == "too_many_columns":
        return tabular.columns_error_message()
    if error.code == "too_many_rows":
        return _("The file has more than %(max)s rows. Split it into smaller files.", max=MAX_ROWS)
    if error.code == "too_large":
        return _(
            "The spreadsheet unpacks to more than %(max)s MB. Copy the roster sheet "
            "into a new XLSX file, or save it as CSV, and upload that.",
            max=tabular.MAX_XLSX_UNPACKED // (1024 * 1024),
        )
    if error.code == "empty":
        return _("The file is empty. Export the roster with a header row such as 工号, 姓名, 院系.")
    if error.code == "binary":
        return _(
            "The file is not text: it contains binary data. Save the roster as CSV "
            "(UTF-8 or GBK) or XLSX and upload that file."
        )
    return _("The file cannot be read as a table. Upload a CSV or XLSX file exported from a spreadsheet.")
