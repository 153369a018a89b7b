"""Translated display labels for enum values, exposed as the Jinja ``label`` filter.

The dictionaries are keyed by the enum *value* (the string stored in the
database and in JSON details), so a label can be looked up both for an enum
member and for a bare value such as ``detail["tier"]``. Enum classes are
matched by class name, which keeps this module free of imports from the
course, assessment and certificate packages.
"""

import enum
from datetime import date
from typing import Optional

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.i18n import format_date

TRAINING_TIER = {
    "school": _l("School level"),
    "provincial": _l("Provincial level"),
    "national": _l("National level"),
}

TRAINING_KIND = {
    "pre_job": _l("Pre-job training"),
    "demonstration": _l("Demonstration training"),
    "thematic": _l("Thematic training"),
    "full_coverage": _l("Full-coverage training"),
    "backbone_camp": _l("Backbone training camp"),
    "online": _l("Online training"),
}

TARGET_LEVEL = {
    "junior": _l("Junior"),
    "intermediate": _l("Intermediate"),
    "senior": _l("Senior"),
}

ROLE = {
    "counselor": _l("Counselor"),
    "party_worker": _l("Party-work staff"),
    "trainer": _l("Trainer"),
    "hr": _l("HR"),
    "admin": _l("Administrator"),
}

POST = {
    "full_time_counselor": _l("Full-time counselor"),
    "part_time_counselor": _l("Part-time counselor"),
    "party_organiser": _l("Party organiser"),
    "teacher_branch_secretary": _l("Teachers' Party branch secretary"),
    "department_party_secretary": _l("Department Party secretary"),
}

PROGRESSION_KIND = {
    "appointment": _l("Appointment"),
    "training": _l("Training"),
    "certificate": _l("Certificate"),
    "competency_level": _l("Competency level"),
    "assessment_grade": _l("Assessment grade"),
    "honour": _l("Honour"),
    "achievement": _l("Achievement"),
    "title_change": _l("Title change"),
    "rank_change": _l("Rank change"),
}

CERTIFICATE_STATUS = {
    "valid": _l("Valid"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
}

PUBLICATION_STATUS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "archived": _l("Archived"),
}

LESSON_KIND = {
    "text": _l("Reading"),
    "video": _l("Video"),
    "file": _l("Document"),
    "offline": _l("Offline session"),
}

FRAMEWORK_STATUS = {
    "draft": _l("Draft"),
    "published": _l("Published"),
    "retired": _l("Retired"),
}

QUESTION_KIND = {
    "single": _l("Single choice"),
    "multiple": _l("Multiple choice"),
    "true_false": _l("True or false"),
    "fill_blank": _l("Fill in the blanks"),
    "matching": _l("Matching"),
    "ordering": _l("Ordering"),
    "short_answer": _l("Short answer"),
    "essay": _l("Essay"),
}

GENDER = {
    "male": _l("Male"),
    "female": _l("Female"),
}

#: Label tables by enum class name, and by the short name templates pass
#: with a bare string value, e.g. ``detail.tier|label("tier")``.
_TABLES = {
    "TrainingTier": TRAINING_TIER,
    "TrainingKind": TRAINING_KIND,
    "TargetLevel": TARGET_LEVEL,
    "Role": ROLE,
    "Post": POST,
    "Gender": GENDER,
    "ProgressionKind": PROGRESSION_KIND,
    "CertificateStatus": CERTIFICATE_STATUS,
    "PublicationStatus": PUBLICATION_STATUS,
    "LessonKind": LESSON_KIND,
    "QuestionKind": QUESTION_KIND,
    "FrameworkStatus": FRAMEWORK_STATUS,
    "tier": TRAINING_TIER,
    "kind": TRAINING_KIND,
    "level": TARGET_LEVEL,
    "role": ROLE,
    "post": POST,
    "progression": PROGRESSION_KIND,
    "certificate_status": CERTIFICATE_STATUS,
    "publication": PUBLICATION_STATUS,
    "lesson_kind": LESSON_KIND,
    "question_kind": QUESTION_KIND,
}


def register(name: str, table: dict) -> None:
    """Make ``table`` available to ``label`` under ``name``.

    Packages whose label tables live with their own code (and would import
    this module back) register them when they are imported.
    """
    _TABLES[name] = table


def label(value, table: Optional[str] = None) -> str:
    """Return the translated label of an enum member or of a bare enum value.

    An enum member picks its table by class name. A bare string needs
    ``table`` (a key of ``_TABLES``). ``None`` gives an empty string, and a
    value without a label is shown as it is stored.
    """
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        labels = _TABLES.get(table or type(value).__name__, {})
        key = value.value
    else:
        labels = _TABLES.get(table, {}) if table else {}
        key = str(value)
    found = labels.get(key)
    return str(found) if found is not None else key


#: Target level of each standard competency level name, in Chinese and English.
STANDARD_LEVEL_NAMES = {
    "初级": "junior",
    "中级": "intermediate",
    "高级": "senior",
    "junior": "junior",
    "intermediate": "intermediate",
    "senior": "senior",
}


def level_label(level) -> str:
    """Return the translated name of a competency framework level.

    A level whose code is a target level (junior, intermediate, senior), or
    whose name is a standard level name (初级, 中级, 高级 or the English
    words), gets the same translated label as a programme's level. Any other
    level shows the name its framework gives it, which is not translated.
    """
    found = TARGET_LEVEL.get(level.code)
    if found is None:
        found = TARGET_LEVEL.get(STANDARD_LEVEL_NAMES.get(_normalised(level.name)))
    return str(found) if found is not None else level.name


def level_name_hidden(level) -> bool:
    """Return whether ``level_label`` shows a standard label in place of a custom name.

    That is the case for a level with a target level code and a name of its
    own, e.g. code senior and name 高级辅导员.
    """
    return level.code in TARGET_LEVEL and _normalised(level.name) not in STANDARD_LEVEL_NAMES


def _normalised(name: str) -> str:
    return name.strip().lower()


def format_iso_date(value: str | None) -> str:
    """Format a date stored as an ISO string (e.g. in JSON details) for the locale."""
    if not value:
        return ""
    try:
        parsed = date.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return format_date(parsed, "long")


def person_label(user) -> str:
    """Return the person's name followed by their employee number (工号), if any.

    Lists where people are picked or marked use it, so that people of the same
    name can be distinguished.
    """
    if not user.employee_no:
        return user.full_name
    return _("%(name)s (%(employee_no)s)", name=user.full_name, employee_no=user.employee_no)


def init_app(app: Flask) -> None:
    app.add_template_filter(label, "label")
    app.add_template_filter(level_label, "level_label")
    app.add_template_filter(level_name_hidden, "level_name_hidden")
    app.add_template_filter(format_iso_date, "isodate_format")
    app.add_template_filter(person_label, "person")
