"""The lock version check itself: races at the UPDATE, headers, pages with errors."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms import revisions
from lms.accounts.models import Role, User
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import TrainingTier
from tests.revisions.forms import edit_form, text_of


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).where(User.username == username))


def _rule() -> int:
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
    return rule.id


def _save_elsewhere(rule_id: int, actor_id: int) -> None:
    """Change the rule on another connection, as a second server process would."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.update(ComplianceRule)
            .where(ComplianceRule.id == rule_id)
            .values(
                min_hours=Decimal(12),
                lock_version=ComplianceRule.lock_version + 1,
                changed_by_id=actor_id,
                changed_at=sa.func.now(),
            )
        )


def test_new_rows_start_at_version_one(app, seeded):
    with app.app_context():
        rule = db.session.get(ComplianceRule, _rule())
        assert rule.lock_version == 1
        assert rule.changed_at is not None


def test_save_losing_update_race_rejected(app, seeded, english):
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            pytest.skip(
                "SQLite runs writing requests one at a time (BEGIN IMMEDIATE), so"
                " two saves cannot interleave; the PostgreSQL run covers this."
            )
        rule_id = _rule()
        admin = _user("admin")
        admin_id, admin_name = admin.id, admin.full_name

    with app.test_request_context(method="POST", data={"lock_version": "1"}):
        rule = db.session.get(ComplianceRule, rule_id)
        assert revisions.check(rule) is None
        _save_elsewhere(rule_id, admin_id)

        def rename() -> None:
            rule.name = "后保存的名称"

        conflict = revisions.save(rule, rename)

        assert conflict is not None
        assert conflict.changed_by == admin_name
        assert admin_name in conflict.message
        assert rule.name != "后保存的名称"
        assert rule.min_hours == Decimal(12)
        db.session.remove()

    with app.app_context():
        assert db.session.get(ComplianceRule, rule_id).lock_version == 2


def test_if_match_header_checked(app, race):
    with app.app_context():
        rule_id = _rule()

    url = f"/compliance/rules/{rule_id}/edit"
    edit = race(url, "admin", "hr")
    edit.first_saves(min_hours="10")
    data = dict(edit.second_page)
    data.pop("lock_version")
    data["name"] = "改过名的规则"

    stale = edit.second.post(url, data=data, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 409
    fresh = edit.second.post(url, data=data, headers={"If-Match": '"2"'})
    assert fresh.status_code == 302


def test_error_page_keeps_opened_version(app, race):
    with app.app_context():
        rule_id = _rule()

    url = f"/compliance/rules/{rule_id}/edit"
    edit = race(url, "admin", "hr")
    edit.first_saves(min_hours="10")
    invalid = edit.second.post(url, data={**edit.second_page, "min_hours": "-1"})
    assert invalid.status_code == 400
    page = edit_form(invalid.get_data(as_text=True))
    assert page["lock_version"] == "1"

    rejected = edit.second.post(url, data={**page, "min_hours": "9"})
    assert rejected.status_code == 409
    assert "Your changes were not saved" in text_of(rejected.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(ComplianceRule, rule_id).min_hours == Decimal(10)


@pytest.mark.parametrize("version", ["abc", "0", "99", "²"])
def test_wrong_version_rejected(app, race, version):
    with app.app_context():
        rule_id = _rule()

    url = f"/compliance/rules/{rule_id}/edit"
    edit = race(url, "admin", "hr")
    response = edit.second.post(
        url, data={**edit.second_page, "lock_version": version, "name": "新名称"}
    )
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(ComplianceRule, rule_id).name != "新名称"


def test_save_records_changer(app, race):
    with app.app_context():
        rule_id = _rule()

    edit = race(f"/compliance/rules/{rule_id}/edit", "admin", "hr")
    edit.first_saves(min_hours="10")
    with app.app_context():
        rule = db.session.get(ComplianceRule, rule_id)
        assert rule.changed_by_id == _user("admin").id
        assert rule.lock_version == 2


def test_edit_page_sends_version_etag(app, race):
    with app.app_context():
        rule_id = _rule()

    url = f"/compliance/rules/{rule_id}/edit"
    edit = race(url, "admin", "hr")
    assert edit.first.get(url).headers["ETag"] == 'W/"1"'
    edit.first_saves(min_hours="10")
    assert edit.first.get(url).headers["ETag"] == 'W/"2"'
