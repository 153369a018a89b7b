"""Translated names of the yearly assessment's enums and of the nine duties."""

from flask_babel import lazy_gettext as _l

from lms import labels

COMPONENT_KIND = {
    "department": _l("Department review (院系)"),
    "institution": _l("Student affairs office (学工部)"),
    "students": _l("Student evaluation (学生评议)"),
    "bonus": _l("Bonus points (加分)"),
}

ASSESSMENT_STATUS = {
    "open": _l("Open for filing"),
    # Not plain "Submitted": that msgid is also a column header of submission
    # times and is translated as one (提交时间).
    "submitted": _l("Filing submitted"),
    "finalised": _l("Finalised"),
}

#: The nine duties, by area code of the seeded 2017 duty framework.
DUTY_LABELS = {
    "theory_values": _l("Theoretical education and value guidance"),
    "party_league_class": _l("Party, League and class building"),
    "study_style": _l("Study culture"),
    "student_affairs": _l("Daily student affairs"),
    "mental_health": _l("Mental-health education and counselling"),
    "online": _l("Online ideological and political education"),
    "crisis": _l("Campus crisis response"),
    "career": _l("Career planning, employment and entrepreneurship guidance"),
    "research": _l("Theoretical and practical research"),
}

labels.register("ComponentKind", COMPONENT_KIND)
labels.register("AssessmentStatus", ASSESSMENT_STATUS)
labels.register("duty", DUTY_LABELS)
