"""Lost-update protection of the institution's compliance rules."""

from decimal import Decimal

import sqlalchemy as sa

from lms.accounts.models import Role
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import TrainingTier
from tests.revisions.forms import text_of


def _own_rule() -> ComplianceRule:
    institution = db.session.scalar(
        sa.select(Institution).where(Institution.code == "demo-univ")
    )
    rule = ComplianceRule(
        institution_id=institution.id,
        code="school-yearly-8",
        name="本校辅导员每年校级培训不少于8学时",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(8),
        tiers=[TrainingTier.SCHOOL],
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def test_stale_rule_save_rejected(app, race):
    with app.app_context():
        rule = _own_rule()
        rule_id, old_name, old_hours = rule.id, rule.name, rule.min_hours
    new_hours = str(int(old_hours) + 2)

    edit = race(f"/compliance/rules/{rule_id}/edit", "admin", "hr")
    edit.first_saves(min_hours=new_hours)
    html = edit.second_saves(name="改过名的规则")

    text = text_of(html)
    assert "changed this on" in text
    assert "Saved values that differ from the form" in text
    with app.app_context():
        rule = db.session.get(ComplianceRule, rule_id)
        assert rule.name == old_name
        assert rule.min_hours == Decimal(new_hours)
        assert rule.lock_version == 2

    edit.second_saves_again()
    with app.app_context():
        rule = db.session.get(ComplianceRule, rule_id)
        assert rule.name == "改过名的规则"
        assert rule.lock_version == 3
