"""The msgid "Name" is a person's name (姓名); a thing's name has its own msgid."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME_MSGID = re.compile(r"""_\(\s*["']Name["']\s*\)""")
#: Files whose "Name" column or field is a person's full name.
PEOPLE_NAME_FILES = {
    "courses/class_roster_views.py",
    "courses/gradebook_views.py",
    "lms/compliance/views.py",
    "lms/promotion/export_views.py",
    "templates/certificates/batch.html",
    "templates/classes/attendance.html",
    "templates/classes/import_done.html",
    "templates/classes/roster.html",
    "templates/courses/manage/gradebook.html",
    "templates/lms/compliance/rule.html",
    "templates/lms/records/external_queue.html",
    "templates/lms/records/external_review.html",
    "templates/lms/records/people.html",
}


def _files_using_name_msgid() -> set[str]:
    found = set()
    for folder in ("templates", "lms", "courses", "assessments", "certificates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".html", ".py") or not path.is_file():
                continue
            if NAME_MSGID.search(path.read_text(encoding="utf-8")):
                found.add(path.relative_to(ROOT).as_posix())
    return found


def test_name_msgid_only_for_people():
    assert _files_using_name_msgid() == PEOPLE_NAME_FILES


def test_bank_form_says_bank_name(seeded, login):
    page = login("trainer").get("/manage/banks").get_data(as_text=True)

    assert "题库名称" in page
    assert "姓名" not in page


def test_promotion_rules_header_says_rule_name(seeded, login):
    page = login("hr").get("/promotions/rules").get_data(as_text=True)

    assert "规则名称" in page
    assert "姓名" not in page
