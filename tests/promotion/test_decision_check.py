"""The rule is checked again when a reviewer decides, and approving an
application that fails that check needs a written override."""

from datetime import date

import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionTrack,
)
from lms.records import events
from lms.records.models import ProgressionEntry, ProgressionKind
from lms.stored_text import render_item
from tests.conftest import count
from tests.promotion.conftest import add_grade, make_rule, set_title


def _eligible_world(world):
    """Make the counselor a lecturer since 2022 with three good grades."""
    set_title(world.counselor, "lecturer", date(2022, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = make_rule(
        world.uni.id, min_years=5, assessment_years=3, min_grade="competent"
    )
    db.session.commit()
    return rule


def _apply(login, rule):
    counselor = login("counselor1")
    response = counselor.post(f"/promotions/apply/{rule.id}", {"statement": "课题"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    return db.session.scalars(sa.select(PromotionApplication)).one()


def _record_title(world, title: str, day: date) -> None:
    events.record_event(
        world.counselor, world.hr, ProgressionKind.TITLE_CHANGE, day, {"title": title}
    )
    db.session.commit()


def _overrides() -> int:
    return len(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "promotion.override")
        ).all()
    )


def _status(application_id: int) -> ApplicationStatus:
    db.session.expire_all()
    return db.session.get(PromotionApplication, application_id).status


def test_decision_page_shows_current_check(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    url = f"/promotions/applications/{application.id}"

    page = login("dept_hr").get(url).get_data(as_text=True)

    assert "Check as of 2027-09-01" in page
    assert "The applicant still holds the starting step" in page
    assert "Reason to approve despite the failed check" not in page


def test_changed_title_requires_override(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    _record_title(world, "associate_professor", date(2027, 8, 20))
    dept_hr = login("dept_hr")
    url = f"/promotions/applications/{application.id}"

    page = dept_hr.get(url).get_data(as_text=True)
    assert "Professional title: Associate professor" in page
    assert (
        "Professional title: the applicant&#39;s record now shows Associate "
        "professor, not Lecturer, the step this application starts from." in page
    )
    assert "Reason to approve despite the failed check" in page

    plain = dept_hr.post(f"{url}/decide", {"outcome": "approve", "comment": ""})

    assert plain.status_code == 400
    assert (
        "Reason to approve despite the failed check: The applicant no longer "
        "meets this rule" in plain.get_data(as_text=True)
    )
    assert _status(application.id) is ApplicationStatus.DEPARTMENT_REVIEW
    assert count(PromotionDecision) == 0

    forced = dept_hr.post(
        f"{url}/decide",
        {"outcome": "approve", "override_reason": "职称变更记录有误，待更正"},
    )

    assert forced.status_code == 302
    assert _status(application.id) is ApplicationStatus.INSTITUTION_REVIEW
    decision = db.session.scalars(sa.select(PromotionDecision)).one()
    assert decision.override_reason == "职称变更记录有误，待更正"
    assert len(decision.overridden_problems) == 1
    assert "副教授" in render_item(decision.overridden_problems[0], "zh_CN")
    audit = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "promotion.override")
    ).one()
    assert audit.actor_id == world.dept_hr.id
    assert audit.subject_id == application.id
    assert audit.data["reason"] == "职称变更记录有误，待更正"
    assert audit.data["step"] == "department"
    applicant_page = login("counselor1").get(url).get_data(as_text=True)
    assert "Approved although the check at decision time failed:" in applicant_page
    assert "Reason: 职称变更记录有误，待更正" in applicant_page


def test_reject_needs_no_override(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    _record_title(world, "associate_professor", date(2027, 8, 20))

    response = login("dept_hr").post(
        f"/promotions/applications/{application.id}/decide",
        {"outcome": "reject", "comment": "已是副教授"},
    )

    assert response.status_code == 302
    assert _status(application.id) is ApplicationStatus.REJECTED
    decision = db.session.scalars(sa.select(PromotionDecision)).one()
    assert decision.override_reason == ""
    assert _overrides() == 0


def test_institution_step_checks_grades_again(world, frozen, login, english):
    rule = _eligible_world(world)
    application = _apply(login, rule)
    url = f"/promotions/applications/{application.id}"
    assert login("dept_hr").post(f"{url}/decide", {"outcome": "approve"}).status_code == 302
    # HR corrects the 2025 grade after the department step.
    graded = db.session.scalars(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.kind == ProgressionKind.ASSESSMENT_GRADE,
            ProgressionEntry.occurred_on == date(2025, 12, 20),
        )
    ).one()
    events.record_event(
        world.counselor,
        world.hr,
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 1, 10),
        {"grade": "incompetent", "year": 2025},
        corrects=graded,
    )
    db.session.commit()
    hr = login("hr")

    page = hr.get(url).get_data(as_text=True)
    assert "2025: Incompetent" in page
    plain = hr.post(f"{url}/decide", {"outcome": "approve"})
    assert plain.status_code == 400
    assert _status(application.id) is ApplicationStatus.INSTITUTION_REVIEW

    forced = hr.post(
        f"{url}/decide", {"outcome": "approve", "override_reason": "考核结果申诉已受理"}
    )

    assert forced.status_code == 302
    assert _status(application.id) is ApplicationStatus.APPROVED
    title = engine.positions(world.counselor)[PromotionTrack.PROFESSIONAL_TITLE]
    assert title.value == "associate_professor"
    assert _overrides() == 1


def test_override_reason_ignored_when_check_passes(world, frozen, login):
    rule = _eligible_world(world)
    application = _apply(login, rule)

    response = login("dept_hr").post(
        f"/promotions/applications/{application.id}/decide",
        {"outcome": "approve", "override_reason": "无需"},
    )

    assert response.status_code == 302
    decision = db.session.scalars(sa.select(PromotionDecision)).one()
    assert decision.override_reason == ""
    assert decision.overridden_problems == []
