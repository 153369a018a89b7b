"""An application whose rule HR turned off is neither resubmitted nor approved.
HR can still return or reject it."""

from datetime import date

import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionRule,
)
from tests.conftest import count
from tests.promotion.conftest import add_grade, make_rule, set_title


def _eligible_world(world) -> PromotionRule:
    """Make the counselor a lecturer since 2022 with three good grades."""
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = make_rule(
        world.uni.id, min_years=5, assessment_years=3, min_grade="competent"
    )
    db.session.commit()
    return rule


def _apply(login, rule) -> PromotionApplication:
    response = login("counselor1").post(
        f"/promotions/apply/{rule.id}", {"statement": "主持校级课题一项"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return _application()


def _application() -> PromotionApplication:
    db.session.expire_all()
    return db.session.scalars(sa.select(PromotionApplication)).one()


def _decide(client, application, outcome, comment="", **extra):
    return client.post(
        f"/promotions/applications/{application.id}/decide",
        {"outcome": outcome, "comment": comment, **extra},
    )


def _turn_off(rule_id: int) -> None:
    db.session.expire_all()
    db.session.get(PromotionRule, rule_id).active = False
    db.session.commit()


def _actions() -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.subject_type == "promotion_application")
            .order_by(AuditEntry.id)
        )
    )


def _returned(world, login, rule) -> PromotionApplication:
    application = _apply(login, rule)
    response = _decide(login("dept_hr"), application, "return", "请补充材料")
    assert response.status_code == 302
    return _application()


def test_resubmit_blocked_when_rule_off(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _returned(world, login, rule)
    _turn_off(rule.id)
    counselor = login("counselor1")
    url = f"/promotions/applications/{application.id}"

    page = counselor.get(url).get_data(as_text=True)

    assert "HR has turned off the rule of this application" in page
    assert f'action="{url}/resubmit"' not in page

    response = counselor.post(f"{url}/resubmit", {"statement": "补充材料后再次提交"})

    assert response.status_code == 400
    assert "HR has turned off the rule of this application" in response.get_data(
        as_text=True
    )
    application = _application()
    assert application.status is ApplicationStatus.RETURNED
    assert application.revision == 1
    assert "promotion.resubmitted" not in _actions()


def test_department_approval_blocked_when_rule_off(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    _turn_off(rule.id)
    dept_hr = login("dept_hr")

    page = dept_hr.get(f"/promotions/applications/{application.id}").get_data(
        as_text=True
    )
    assert "HR has turned off the rule of this application" in page
    assert 'value="approve"' not in page

    response = _decide(
        dept_hr, application, "approve", "同意", override_reason="规则已停用，仍批准"
    )

    assert response.status_code == 400
    assert "HR has turned off the rule of this application" in response.get_data(
        as_text=True
    )
    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW
    assert count(PromotionDecision) == 0
    assert _actions() == ["promotion.applied"]


def test_institution_approval_blocked_when_rule_off(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    assert _decide(login("dept_hr"), application, "approve").status_code == 302
    _turn_off(rule.id)

    response = _decide(login("hr"), application, "approve", "同意")

    assert response.status_code == 400
    application = _application()
    assert application.status is ApplicationStatus.INSTITUTION_REVIEW
    assert application.progression_entry_id is None
    assert _actions() == ["promotion.applied", "promotion.department_approved"]


def test_reject_allowed_when_rule_off(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    _turn_off(rule.id)

    response = _decide(login("dept_hr"), application, "reject", "该晋升规则已停用")

    assert response.status_code == 302
    assert _application().status is ApplicationStatus.REJECTED
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "promotion.rejected")
    ).one()
    assert entry.actor_id == world.dept_hr.id
    assert entry.data["comment"] == "该晋升规则已停用"
    assert entry.data["rule_active"] is False


def test_return_allowed_when_rule_off(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    assert _decide(login("dept_hr"), application, "approve").status_code == 302
    _turn_off(rule.id)

    response = _decide(login("hr"), application, "return", "规则已停用，请撤回")

    assert response.status_code == 302
    assert _application().status is ApplicationStatus.RETURNED
    assert _actions()[-1] == "promotion.returned"


def test_rule_off_note_in_chinese(world, frozen, login):
    rule = _eligible_world(world)
    application = _returned(world, login, rule)
    _turn_off(rule.id)
    for user in (world.counselor, world.dept_hr):
        db.session.get(type(user), user.id).locale = "zh_CN"
    db.session.commit()
    url = f"/promotions/applications/{application.id}"

    mine = login("counselor1").get(url).get_data(as_text=True)

    assert "人事部门已停用本申请依据的晋升规则，不能再重新提交。您可以撤回申请。" in mine

    resubmit = login("counselor1").post(f"{url}/resubmit", {"statement": "再次提交"})
    assert resubmit.get_data(as_text=True).count("人事部门已停用") == 1


def test_decision_audit_records_rule_state(world, frozen, login):
    rule = _eligible_world(world)
    application = _apply(login, rule)

    assert _decide(login("dept_hr"), application, "approve").status_code == 302

    entry = db.session.scalars(
        sa.select(AuditEntry).where(
            AuditEntry.action == "promotion.department_approved"
        )
    ).one()
    assert entry.data["rule_active"] is True
