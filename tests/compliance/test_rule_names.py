"""Shared compliance rule names in the reader's language."""

import sqlalchemy as sa

from lms.extensions import db


def test_shared_rule_names_in_english(app_ctx, seeded, login, english):
    from lms.compliance.models import SHARED_RULE_NAMES, ComplianceRule
    from lms.compliance.seed import RULES

    seeded_names = {spec["code"]: spec["name"] for spec in RULES}
    assert {code: names[0] for code, names in SHARED_RULE_NAMES.items()} == seeded_names
    page = login("counselor2").get("/learning").get_data(as_text=True)
    assert "Full-time counselors: at least 16 hours of school-level training a year" in page
    assert "专职辅导员每年参加校级培训不少于16学时" not in page

    rule = db.session.scalar(sa.select(ComplianceRule).filter_by(code="counselor-school-yearly"))
    rule.name = "本校专职辅导员年度培训"
    db.session.commit()
    edited = login("counselor2").get("/learning").get_data(as_text=True)
    assert "本校专职辅导员年度培训" in edited


def test_shared_rule_names_in_chinese(app_ctx, seeded, login):
    page = login("counselor2").get("/learning").get_data(as_text=True)

    assert "专职辅导员每年参加校级培训不少于16学时" in page
