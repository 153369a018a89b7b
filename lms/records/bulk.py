"""Record many HR events from one spreadsheet: annual grades, titles, ranks, honours, posts.

HR systems export the year's assessment results or a batch of title changes
as CSV or XLSX. Each row names a person by employee number (or username), the
kind of event, its date and its value in the words HR uses (优秀, 讲师,
正科级, 省级 ...). The whole file is checked first; a file with any problem
writes nothing, and every problem names its row, its column and the fix.

Rows of kind 入党 and 转正 set the Party dates on the person's profile
(the probation start and the full-member date) instead of adding an entry
to the record, because the Party training rules read them there.
"""

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import labels, tabular
from lms.accounts.models import User
from lms.compliance.models import PartyStatus
from lms.i18n import format_date
from lms.records import appointments, events
from lms.records.models import ProgressionKind


class PartyEvent(enum.Enum):
    """A Party date that a row sets on the profile."""

    PROBATION = "party_probation"  # 入党: the probation starts
    FULL_MEMBER = "party_full_member"  # 转正: admission to full membership


labels.register(
    "PartyEvent",
    {
        PartyEvent.PROBATION.value: _l("Became a probationary Party member"),
        PartyEvent.FULL_MEMBER.value: _l("Became a full Party member"),
    },
)

#: Column -> names HR exports use for it.
COLUMNS = {
    "person": ("工号", "职工号", "用户名", "employee number", "employee_no", "username"),
    "kind": ("类型", "事项", "kind", "type"),
    "date": ("日期", "时间", "date", "occurred on"),
    "value": ("结果", "内容", "值", "value", "result"),
    "year": ("年度", "年份", "year"),
    "level": ("级别", "level"),
    "ended_on": ("结束日期", "离任日期", "end date", "ended on", "ended_on"),
    "unit": ("单位", "任职单位", "unit", "institution"),
    "note": ("备注", "说明", "note"),
}
REQUIRED = ("person", "kind", "date", "value")

#: Words for each kind, in Chinese and English.
KIND_WORDS = {
    ProgressionKind.ASSESSMENT_GRADE: ("年度考核", "考核", "annual assessment", "assessment_grade"),
    ProgressionKind.TITLE_CHANGE: ("职称", "专业技术职务", "title", "title_change"),
    ProgressionKind.RANK_CHANGE: ("职级", "行政职级", "rank", "rank_change"),
    ProgressionKind.COMPETENCY_LEVEL: (
        "能力等级",
        "competency level",
        "competency_level",
    ),
    ProgressionKind.HONOUR: ("荣誉", "表彰", "honour", "honor"),
    ProgressionKind.APPOINTMENT: ("任职", "任职经历", "岗位", "appointment", "post"),
    PartyEvent.PROBATION: ("入党", "预备党员", "probationary member", "party_probation"),
    PartyEvent.FULL_MEMBER: ("转正", "正式党员", "full member", "party_full_member"),
}

#: Maximum length of a post's institution or unit, the same as on the record's entry form.
MAX_UNIT_LENGTH = 200

MAX_ROWS = 5000
#: Maximum length of a note, the same as on the record's entry form.
MAX_NOTE_LENGTH = 1000


@dataclass
class Problem:
    row: int
    column: str
    message: str


@dataclass
class Parsed:
    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _lookup(words: dict, text: str) -> Optional[str]:
    """Return the stored value whose Chinese or code matches ``text``."""
    wanted = tabular.normalise(text).lower().replace(" ", "")
    for value, chinese in words.items():
        if wanted in (value.lower(), chinese.lower()):
            return value
    return None


def _kind_of(text: str) -> ProgressionKind | PartyEvent | None:
    wanted = tabular.normalise(text).lower()
    for kind, words in KIND_WORDS.items():
        if wanted in (w.lower() for w in words):
            return kind
    return None


def _parse_date(text: str) -> Optional[date]:
    cleaned = tabular.normalise(text).replace("/", "-").replace(".", "-")
    cleaned = cleaned.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split("-")))
    except ValueError:
        return None


def _values(kind: ProgressionKind, row: dict, on: Optional[date], add) -> Optional[dict]:
    """Return the event's values for ``events.record_event`` or report what is wrong.

    ``on`` is None when the row's date is invalid: the values are still
    checked, against today where they depend on the date, and the row's date
    problem is already reported.
    """
    value = row.get("value", "")
    if kind is ProgressionKind.ASSESSMENT_GRADE:
        grade = _lookup(events.ASSESSMENT_GRADES, value)
        if grade is None:
            add("value", _l("Write one of 优秀, 合格, 基本合格 or 不合格."))
        latest = on.year if on else date.today().year
        year = row.get("year") or str(latest)
        if not year.isdecimal() or not 1990 <= int(year) <= latest:
            add("year", _l("Write the assessment year as four digits, not after the date."))
            return None
        if grade is None:
            return None
        return {"grade": grade, "year": int(year)}
    if kind is ProgressionKind.TITLE_CHANGE:
        title = _lookup(events.PROFESSIONAL_TITLES, value)
        if title is None:
            add("value", _l("Write one of 助教, 讲师, 副教授 or 教授."))
            return None
        return {"title": title}
    if kind is ProgressionKind.RANK_CHANGE:
        rank = _lookup(events.ADMINISTRATIVE_RANKS, value)
        if rank is None:
            add("value", _l("Write one of 科员, 副科级, 正科级, 副处级 or 正处级."))
            return None
        return {"rank": rank}
    if kind is ProgressionKind.COMPETENCY_LEVEL:
        level = _lookup(events.COMPETENCY_LEVELS, value)
        if level is None:
            add("value", _l("Write one of 初级, 中级 or 高级."))
            return None
        return {"level": level}
    if kind is ProgressionKind.APPOINTMENT:
        return _appointment_values(row, on, add)
    level = _lookup(events.HONOUR_LEVELS, row.get("level", ""))
    if level is None:
        add("level", _l("Write the honour's level: 校级, 省级 or 国家级."))
        return None
    name = value.strip()
    if not name or len(name) > 200:
        add("value", _l("Write the honour's name, at most 200 characters."))
        return None
    return {"name": name, "level": level, "year": on.year if on else None}


def _appointment_values(row: dict, on: Optional[date], add) -> Optional[dict]:
    """Return a post held from ``on``, with its optional last day and unit."""
    post = _lookup(events.POST_NAMES, row.get("value", ""))
    if post is None:
        add("value", _l("Write one of 专职辅导员, 兼职辅导员, 组织员, 教师党支部书记 or 院系党组织书记."))
        return None
    ended_on = None
    raw_end = (row.get("ended_on") or "").strip()
    if raw_end:
        ended_on = _parse_date(raw_end)
        if ended_on is None:
            add(
                "ended_on",
                _l(
                    "“%(value)s” is not a valid date: write the last day in the post "
                    "as YYYY-MM-DD, such as 2026-08-31, or leave it empty.",
                    value=raw_end,
                ),
            )
            return None
        if on is not None and ended_on < on:
            add(
                "ended_on",
                _l(
                    "The last day in the post is before its start date %(start)s: "
                    "write a date on or after it.",
                    start=format_date(on),
                ),
            )
            return None
        if ended_on > date.today():
            add(
                "ended_on",
                _l(
                    "The last day in the post is in the future: leave it empty "
                    "while the person holds the post."
                ),
            )
            return None
    unit = (row.get("unit") or "").strip()
    if len(unit) > MAX_UNIT_LENGTH:
        add(
            "unit",
            _l("Shorten the institution or unit to at most %(max)d characters.", max=MAX_UNIT_LENGTH),
        )
        return None
    return {"post": post, "ended_on": ended_on, "unit": unit}


def _grade_before_post_message(year: int, first_post: date):
    return _l(
        "The grade is for %(year)s, before the person's earliest recorded post "
        "began (%(start)s). Correct the year, or first add the earlier post to "
        "their record.",
        year=year,
        start=format_date(first_post),
    )


def parse(filename: str, content: bytes, institution_id: int, department_id=None) -> Parsed:
    """Read and check the whole file; people must belong to the HR officer's scope."""
    result = Parsed()
    try:
        table = tabular.read_upload(filename, content, max_rows=MAX_ROWS)
    except tabular.TableError as error:
        messages = {
            "empty": _l("The file is empty: put a header row and one row per event."),
            "encoding": _l("The file's text encoding is not recognised: save it as UTF-8 or GBK CSV, or XLSX."),
            "too_many_rows": _l("The file has more than %(max)d rows: split it.", max=MAX_ROWS),
            "binary": _l(
                "The file %(name)s is not text: it contains binary data. Save the "
                "records as CSV (UTF-8 or GBK) or XLSX and upload that file.",
                name=filename,
            ),
        }
        message = messages.get(error.code, _l("This is not a CSV or XLSX table."))
        if error.code == "encoding" and error.detail:
            message = tabular.encoding_error_message(error)
        if error.code == "quote":
            message = tabular.quote_error_message(error)
        if error.code == "too_many_columns":
            message = tabular.columns_error_message()
        result.problems.append(Problem(1, "", str(message)))
        return result
    headers = tabular.map_headers(table, COLUMNS)
    missing = [name for name in REQUIRED if name not in headers]
    if missing:
        for name in missing:
            result.problems.append(
                Problem(1, COLUMNS[name][0], str(_l("This column is missing from the header row.")))
            )
        return result

    keys = {row[headers["person"]] for _number, row in table.rows}
    people = {}
    scope = [User.institution_id == institution_id]
    if department_id is not None:
        scope.append(User.department_id == department_id)
    for user in db_people(keys, scope):
        people[user.employee_no] = user
        people[user.username] = user

    grade_years: set = set()
    #: Earlier posts of each person in the rows checked so far.
    posts_in_file: dict[int, list[appointments.HeldPost]] = {}
    for number, raw in table.rows:
        row = {name: raw.get(header, "") for name, header in headers.items()}

        def add(column: str, message) -> None:
            header = headers.get(column, COLUMNS[column][0])
            result.problems.append(Problem(number, header, str(message)))

        # Each check below reports its problem and the next one still runs,
        # so one upload lists every problem of the row.
        problems_before = len(result.problems)
        person = people.get(row["person"]) if row["person"] else None
        if not row["person"]:
            add("person", _l("The employee number is missing: write the person's employee number or username."))
        elif person is None and department_id is not None:
            add("person", _l("No person of your department has this employee number or username."))
        elif person is None:
            add("person", _l("No person of your institution has this employee number or username."))
        kind = _kind_of(row["kind"])
        if kind is None:
            add("kind", _l("Write 年度考核, 职称, 职级, 能力等级, 荣誉, 任职, 入党 or 转正."))
        on = _parse_date(row["date"])
        if on is None:
            add(
                "date",
                _l(
                    "“%(value)s” is not a valid date: write it as YYYY-MM-DD, "
                    "such as 2026-09-01.",
                    value=row["date"],
                ),
            )
        elif on > date.today():
            add("date", _l("Write a date that is not in the future, such as 2026-09-01."))
            on = None
        elif on.year < 1950:
            add("date", _l("Write a date in 1950 or later, such as 2026-09-01."))
            on = None
        values = None
        if kind is not None:
            values = {} if isinstance(kind, PartyEvent) else _values(kind, row, on, add)
        if len(result.problems) > problems_before:
            continue
        first_post = (
            events.grade_before_first_post(person, values["year"])
            if kind is ProgressionKind.ASSESSMENT_GRADE
            else None
        )
        if first_post is not None:
            add("year", _grade_before_post_message(values["year"], first_post))
            continue
        if kind is ProgressionKind.ASSESSMENT_GRADE and events.assessed_year(person, values["year"]):
            add(
                "year",
                _l(
                    "The grade for this year comes from the person's finalised annual "
                    "assessment; reopen the assessment to change it."
                ),
            )
            continue
        seen = (person.id, values.get("year"))
        if kind is ProgressionKind.ASSESSMENT_GRADE and (
            seen in grade_years or events.grade_recorded_for(person, values["year"])
        ):
            add("year", _l("This person already has an annual grade for this year; correct it on their record."))
            continue
        if kind is ProgressionKind.ASSESSMENT_GRADE:
            grade_years.add(seen)
        note = row.get("note") or ""
        if len(note) > MAX_NOTE_LENGTH:
            add(
                "note",
                _l(
                    "The note has %(length)d characters: shorten it to at most %(max)d.",
                    length=len(note),
                    max=MAX_NOTE_LENGTH,
                ),
            )
            continue
        if kind is ProgressionKind.APPOINTMENT:
            row_post = appointments.HeldPost(values["post"], on, values["ended_on"], number)
            conflict = appointments.find_conflict(
                person, on, row_post.ended_on, upload_rows=posts_in_file.get(person.id, [])
            )
            if conflict is not None:
                add("date" if conflict.field == "occurred_on" else "ended_on", conflict.message)
                continue
            posts_in_file.setdefault(person.id, []).append(row_post)
        result.rows.append(
            {"row": number, "person": person, "kind": kind, "on": on, "values": values, "note": note}
        )
    _check_party_dates(result, headers)
    return result


def _check_party_dates(result: Parsed, headers: dict) -> None:
    """Add a problem for each person whose Party dates, stored and uploaded, contradict each other."""
    rows_of = defaultdict(dict)
    for row in result.rows:
        if not isinstance(row["kind"], PartyEvent):
            continue
        seen = rows_of[row["person"].id]
        if row["kind"] in seen:
            result.problems.append(
                Problem(
                    row["row"],
                    headers["kind"],
                    str(_l("The file has two rows of this kind for this person: keep one.")),
                )
            )
            continue
        seen[row["kind"]] = row
    for rows in rows_of.values():
        problem_row, message = _party_dates_problem(rows)
        if message:
            result.problems.append(Problem(problem_row["row"], headers["date"], message))


def _party_dates_problem(rows: dict) -> tuple[Optional[dict], Optional[str]]:
    """Return (row, message) when one person's Party rows cannot stand with their profile."""
    any_row = next(iter(rows.values()))
    profile = events.profile_of(any_row["person"])
    probation_row = rows.get(PartyEvent.PROBATION)
    full_row = rows.get(PartyEvent.FULL_MEMBER)
    probation = probation_row["on"] if probation_row else (
        profile.probation_started_on if profile else None
    )
    full = None
    if full_row:
        full = full_row["on"]
    elif profile is not None and profile.party_status is PartyStatus.MEMBER:
        full = profile.full_member_on

    if probation is not None and full is not None:
        message = events.full_member_date_problem(probation, full)
        if message:
            return full_row or probation_row, message

    probationary = full_row is None and (
        profile is None or profile.party_status is not PartyStatus.MEMBER
    )
    if probationary and events.probation_over(probation_row["on"], date.today()):
        return probation_row, str(
            _l(
                "A probation lasts one year, or two when extended, so a probation"
                " that began on %(date)s has ended. Add a 转正 row with the"
                " full-member date.",
                date=format_date(probation_row["on"]),
            )
        )
    return None, None


def db_people(keys: set[str], scope: list) -> list[User]:
    from lms.extensions import db

    if not keys:
        return []
    return list(
        db.session.scalars(
            sa.select(User).where(
                *scope, sa.or_(User.employee_no.in_(keys), User.username.in_(keys))
            )
        )
    )


def record_all(parsed: Parsed, actor: User) -> int:
    """Append every parsed event; the caller commits. Return how many."""
    for row in parsed.rows:
        if isinstance(row["kind"], PartyEvent):
            full_member = row["kind"] is PartyEvent.FULL_MEMBER
            events.record_party_date(row["person"], actor, full_member, row["on"])
            continue
        events.record_event(
            row["person"], actor, row["kind"], row["on"], row["values"], row["note"]
        )
    return len(parsed.rows)
