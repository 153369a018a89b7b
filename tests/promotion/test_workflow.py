"""Applying and the two review steps through the test client, for every role."""

import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications.models import EmailStatus, Notification
from lms.promotion import engine
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionRule,
    PromotionTrack,
)
from lms.records.models import (
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
    TrainingTier,
)
from tests.conftest import count
from tests.promotion.conftest import add_entry, add_grade, make_rule, set_title


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


def _application() -> PromotionApplication:
    db.session.expire_all()
    return db.session.scalars(sa.select(PromotionApplication)).one()


def _apply(login, rule, statement="主持校级课题一项"):
    counselor = login("counselor1")
    response = counselor.post(f"/promotions/apply/{rule.id}", {"statement": statement})
    assert response.status_code == 302, response.get_data(as_text=True)
    return counselor


def _decide(client, application_id, outcome, comment=""):
    return client.post(
        f"/promotions/applications/{application_id}/decide",
        {"outcome": outcome, "comment": comment},
    )


def test_counselor_sees_why_not_yet_and_when(world, frozen, login):
    _eligible_world(world)
    set_title(world.counselor2, "lecturer", date(2024, 9, 1))
    db.session.commit()

    page = login("counselor2").get("/promotions").get_data(as_text=True)

    assert "Lecturer → Associate professor" in page
    assert "3 of 5 required years as Lecturer; eligible from 2029-09-01" in page
    assert "No annual assessment grade on record for 2024, 2025, 2026" in page
    assert "/promotions/apply/" not in page


def test_ineligible_counselor_cannot_apply(world, frozen, login):
    rule = _eligible_world(world)
    set_title(world.counselor2, "lecturer", date(2024, 9, 1))
    db.session.commit()

    counselor2 = login("counselor2")
    response = counselor2.post(f"/promotions/apply/{rule.id}", {"statement": ""})

    assert response.status_code == 400
    assert count(PromotionApplication) == 0


def test_full_review_with_return_and_resubmit(world, frozen, login):
    rule = _eligible_world(world)
    counselor = _apply(login, rule)
    application = _application()
    assert application.status is ApplicationStatus.DEPARTMENT_REVIEW
    assert application.department_id == world.marxism.id
    evidence = application.evidence
    assert evidence["person"]["name"] == "林晓雯"
    assert evidence["grades"] == {
        "2024": "competent",
        "2025": "competent",
        "2026": "competent",
    }
    assert evidence["positions"]["professional_title"] == {
        "value": "lecturer",
        "since": "2022-09-01",
    }
    assert all(condition["met"] for condition in evidence["conditions"])

    # Applying twice for the same rule is refused while the first is open.
    again = counselor.post(f"/promotions/apply/{rule.id}", {"statement": "再次申请"})
    assert again.status_code == 409

    dept_hr, hr, hr2 = login("dept_hr"), login("hr"), login("hr2")
    url = f"/promotions/applications/{application.id}"

    # Institution HR waits for the department step, which has its own HR officer.
    assert hr.get(url).status_code == 200
    assert _decide(hr, application.id, "approve").status_code == 403
    assert _decide(login("physics_hr"), application.id, "approve").status_code == 404

    assert _decide(dept_hr, application.id, "approve").status_code == 302
    assert _application().status is ApplicationStatus.INSTITUTION_REVIEW
    # The department officer does not decide the institution step.
    assert _decide(dept_hr, application.id, "approve").status_code == 403

    # Returning needs a comment.
    assert _decide(hr, application.id, "return", "  ").status_code == 400
    assert _decide(hr, application.id, "return", "请补充工作业绩材料").status_code == 302
    application = _application()
    assert application.status is ApplicationStatus.RETURNED
    page = counselor.get(url).get_data(as_text=True)
    assert "请补充工作业绩材料" in page and "Edit and resubmit" in page

    statement = "主持校级课题一项，获省级辅导员素质能力大赛二等奖"
    response = counselor.post(f"{url}/resubmit", {"statement": statement})
    assert response.status_code == 302
    application = _application()
    assert application.status is ApplicationStatus.DEPARTMENT_REVIEW
    assert application.revision == 2
    assert "二等奖" in application.statement

    assert _decide(dept_hr, application.id, "approve", "材料齐全").status_code == 302
    assert _decide(hr2, application.id, "approve").status_code == 302

    application = _application()
    assert application.status is ApplicationStatus.APPROVED
    assert application.closed_at is not None
    entry = db.session.get(ProgressionEntry, application.progression_entry_id)
    assert entry.kind is ProgressionKind.TITLE_CHANGE
    assert entry.detail["title"] == "associate_professor"
    assert "副教授" in entry.title
    positions = engine.positions(application.applicant)
    assert positions[PromotionTrack.PROFESSIONAL_TITLE].value == "associate_professor"

    actions = db.session.scalars(
        sa.select(AuditEntry.action)
        .where(AuditEntry.subject_type == "promotion_application")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "promotion.applied",
        "promotion.department_approved",
        "promotion.returned",
        "promotion.resubmitted",
        "promotion.department_approved",
        "promotion.approved",
    ]
    notifications = db.session.scalars(
        sa.select(Notification)
        .where(Notification.recipient_id == world.counselor.id)
        .order_by(Notification.id)
    ).all()
    assert [n.title for n in notifications] == [
        "Your promotion application passed the department review",
        "Your promotion application was returned for changes",
        "Your promotion application passed the department review",
        "Your promotion was approved",
    ]
    assert "请补充工作业绩材料" in notifications[1].body
    assert all(n.link == url for n in notifications)


def test_reject_with_a_reason(world, frozen, login):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()

    assert _decide(login("dept_hr"), application.id, "reject").status_code == 400
    reason = "年度考核材料不实"
    response = _decide(login("dept_hr"), application.id, "reject", reason)
    assert response.status_code == 302

    application = _application()
    assert application.status is ApplicationStatus.REJECTED
    assert application.progression_entry_id is None
    [notification] = db.session.scalars(
        sa.select(Notification).where(Notification.recipient_id == application.applicant_id)
    ).all()
    assert notification.title == "Your promotion application was rejected"
    assert "年度考核材料不实" in notification.body
    audit = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "promotion.rejected")
    ).one()
    assert audit.actor_id == world.dept_hr.id
    assert audit.data["comment"] == "年度考核材料不实"


def test_counselor_and_other_institution_cannot_review(world, frozen, login):
    rule = _eligible_world(world)
    counselor = _apply(login, rule)
    application = _application()
    url = f"/promotions/applications/{application.id}"

    assert _decide(counselor, application.id, "approve").status_code == 403
    assert _decide(login("counselor2"), application.id, "approve").status_code == 403
    assert login("counselor2").get(url).status_code == 404

    hr_other = login("hr_other")
    assert hr_other.get(url).status_code == 404
    assert _decide(hr_other, application.id, "approve").status_code == 404
    assert login("physics_hr").get(url).status_code == 404
    queue = login("physics_hr").get("/promotions/review").get_data(as_text=True)
    assert "/promotions/applications/" not in queue

    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW
    assert count(PromotionDecision) == 0


def test_department_step_without_officer(
    world, frozen, login
):
    rule = _eligible_world(world)
    world.dept_hr.hr_department_id = None
    db.session.commit()
    _apply(login, rule)
    application = _application()

    hr = login("hr")
    assert _decide(hr, application.id, "approve").status_code == 302
    # The same person may not also decide the institution step.
    assert _decide(hr, application.id, "approve").status_code == 403
    assert _decide(login("admin"), application.id, "approve").status_code == 302
    assert _application().status is ApplicationStatus.APPROVED


def test_withdraw_closes_the_application(world, frozen, login):
    rule = _eligible_world(world)
    counselor = _apply(login, rule)
    application = _application()

    url = f"/promotions/applications/{application.id}/withdraw"
    assert counselor.post(url).status_code == 400
    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW

    assert counselor.post(url, {"confirm": "y"}).status_code == 302
    assert _application().status is ApplicationStatus.WITHDRAWN
    assert _decide(login("dept_hr"), application.id, "approve").status_code == 403
    # A new application is possible once the first is closed.
    again = counselor.post(f"/promotions/apply/{rule.id}", {"statement": ""})
    assert again.status_code == 302


def test_rules_are_edited_by_institution_hr_only(world, frozen, login):
    db.session.commit()
    hr = login("hr")
    data = {
        "code": "rank-clerk-deputy",
        "name": "科员晋升副科级",
        "from_step": "administrative_rank:clerk",
        "to_step": "administrative_rank:section_deputy",
        "min_years": "3",
        "assessment_years": "3",
        "min_grade": "competent",
        "min_excellent": "0",
        "compliance_required": "y",
        "required_programme": "",
        "required_level": "",
        "source": "本校干部选拔任用办法",
        "active": "y",
    }
    assert hr.post("/promotions/rules/new", data).status_code == 302
    rule = engine.rules_of(world.uni.id)[0]
    assert (rule.track, rule.min_years, rule.compliance_required) == (
        PromotionTrack.ADMINISTRATIVE_RANK,
        3,
        True,
    )
    assert db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == "promotion_rule.created")
    )

    downward = dict(
        data,
        code="bad",
        from_step="administrative_rank:section_chief",
        to_step="administrative_rank:clerk",
    )
    response = hr.post("/promotions/rules/new", downward)
    assert response.status_code == 400
    assert "To: Choose a step above From." in response.get_data(as_text=True)
    across = dict(data, code="bad", to_step="professional_title:lecturer")
    assert hr.post("/promotions/rules/new", across).status_code == 400
    duplicate = hr.post("/promotions/rules/new", data)
    assert "rank-clerk-deputy is already used" in duplicate.get_data(as_text=True)

    assert login("dept_hr").get(f"/promotions/rules/{rule.id}").status_code == 403
    assert login("dept_hr").get("/promotions/rules").status_code == 200
    assert login("hr_other").get(f"/promotions/rules/{rule.id}").status_code == 404
    assert login("counselor1").get("/promotions/rules").status_code == 403


def test_admin_limits_an_hr_account_to_a_department(world, frozen, login):
    db.session.commit()
    admin = login("admin")
    url = f"/people/{world.hr.id}/hr-scope"

    assert admin.post(url, {"department": str(world.physics.id)}).status_code == 302
    db.session.expire_all()
    assert world.hr.hr_department_id == world.physics.id
    assert db.session.scalar(
        sa.select(AuditEntry.id).where(AuditEntry.action == "account.hr_scope_changed")
    )
    people = login("hr").get("/people").get_data(as_text=True)
    assert "周子航" in people
    assert "林晓雯" not in people

    assert admin.post(url, {"department": "all"}).status_code == 302
    db.session.expire_all()
    assert world.hr.hr_department_id is None

    # Only HR accounts get a scope, and only departments of their institution.
    counselor_url = f"/people/{world.counselor.id}/hr-scope"
    admin.post(counselor_url, {"department": str(world.physics.id)})
    db.session.expire_all()
    assert world.counselor.hr_department_id is None
    assert admin.post(url, {"department": "999"}).status_code == 400
    assert login("hr").post(url, {"department": "all"}).status_code == 403


def test_hr_sees_a_person_eligibility(world, frozen, login):
    _eligible_world(world)

    page = login("dept_hr").get(f"/people/{world.counselor.id}/promotions")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Promotions of 林晓雯" in text
    assert "Eligible" in text
    assert "/promotions/apply/" not in text
    url = f"/people/{world.counselor.id}/promotions"
    assert login("physics_hr").get(url).status_code == 404


def test_approved_rank_promotion_updates_the_profile(world, frozen, app_ctx):
    from lms.compliance.models import CadreRank, PersonProfile
    from lms.promotion import review, services
    from lms.promotion.models import ReviewOutcome

    clerk = {"rank": "clerk"}
    add_entry(world.counselor, ProgressionKind.RANK_CHANGE, date(2021, 7, 1), clerk)
    rule = make_rule(
        world.uni.id,
        code="rank-clerk-deputy",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="clerk",
        to_value="section_deputy",
        min_years=3,
    )
    application = services.apply(world.counselor, rule, "")
    review.decide(application, world.dept_hr, ReviewOutcome.APPROVE, "")
    review.decide(application, world.hr, ReviewOutcome.APPROVE, "同意")

    profile = db.session.get(PersonProfile, world.counselor.id)
    assert profile.cadre_rank is CadreRank.SECTION_DEPUTY
    entry = db.session.get(ProgressionEntry, application.progression_entry_id)
    assert profile.rank_since == entry.occurred_on
    assert entry.kind is ProgressionKind.RANK_CHANGE
    assert entry.detail["rank"] == "section_deputy"
    position = engine.positions(world.counselor)[PromotionTrack.ADMINISTRATIVE_RANK]
    assert (position.value, position.since) == ("section_deputy", date(2027, 9, 1))


def _count_queries(client, url) -> int:
    executed = []

    def record(*args):
        executed.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return len(executed)


def test_review_queue_queries_do_not_grow(world, frozen, login):
    from lms.promotion import services
    from tests.factories import make_user

    rule = _eligible_world(world)
    services.apply(world.counselor, rule, "")
    db.session.commit()
    hr = login("hr")
    one = _count_queries(hr.client, "/promotions/review")
    assert one > 0

    for index in range(4):
        person = make_user(world.uni, f"extra{index}", department=world.physics)
        set_title(person, "lecturer", date(2020, 9, 1))
        for year in (2024, 2025, 2026):
            add_grade(person, year, "competent")
        services.apply(person, rule, "")
    db.session.commit()

    assert _count_queries(hr.client, "/promotions/review") == one


def test_eligibility_page_queries_do_not_grow_with_rules(world, frozen, login):
    set_title(world.counselor, "lecturer", date(2020, 9, 1))
    conditions = dict(assessment_years=3, min_grade="competent", compliance_required=True)
    make_rule(world.uni.id, **conditions)
    db.session.commit()
    counselor = login("counselor1")
    one = _count_queries(counselor.client, "/promotions")

    for index in range(3):
        make_rule(world.uni.id, code=f"extra-{index}", min_years=index, **conditions)
    db.session.commit()

    assert _count_queries(counselor.client, "/promotions") == one


def _rule_data(**overrides) -> dict:
    data = {
        "code": "rank-clerk-chief",
        "name": "科员晋升正科级",
        "from_step": "administrative_rank:clerk",
        "to_step": "administrative_rank:section_chief",
        "min_years": "3",
        "assessment_years": "",
        "min_grade": "",
        "min_excellent": "0",
        "required_programme": "",
        "required_level": "",
        "source": "",
        "active": "y",
    }
    data.update(overrides)
    return data


def test_rule_skipping_a_step_rejected(world, frozen, login, english):
    db.session.commit()
    hr = login("hr")

    response = hr.post("/promotions/rules/new", _rule_data())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "To: A rule moves a person up one step, so choose 副科级" in page
    assert "To: To:" not in page
    assert engine.rules_of(world.uni.id, active_only=False) == []

    titles = _rule_data(
        code="title-assistant-associate",
        from_step="professional_title:teaching_assistant",
        to_step="professional_title:associate_professor",
    )
    response = hr.post("/promotions/rules/new", titles)
    assert response.status_code == 400
    assert "so choose 讲师" in response.get_data(as_text=True)


def test_rule_one_step_up_accepted(world, frozen, login):
    db.session.commit()
    hr = login("hr")

    data = _rule_data(code="rank-deputy-chief", from_step="administrative_rank:section_deputy")
    response = hr.post("/promotions/rules/new", data)

    assert response.status_code == 302
    [rule] = engine.rules_of(world.uni.id, active_only=False)
    assert (rule.from_value, rule.to_value) == ("section_deputy", "section_chief")


def test_rule_check_rejects_skipped_step(world):
    rule = PromotionRule(
        institution_id=world.uni.id,
        code="skip",
        name="助教晋升教授",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="teaching_assistant",
        to_value="professor",
        min_years=0,
    )

    with pytest.raises(ValueError, match="not the step right after"):
        rule.check()


def _review_notes(user) -> list[Notification]:
    return db.session.scalars(
        sa.select(Notification)
        .where(Notification.recipient_id == user.id, Notification.kind == "promotion_review_due")
        .order_by(Notification.id)
    ).all()


def test_reviewers_are_told_at_each_step(world, frozen, login):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()

    [note] = _review_notes(world.dept_hr)
    assert note.title == "A promotion application waits for your review"
    assert "林晓雯" in note.body
    assert note.link == f"/promotions/applications/{application.id}"
    assert _review_notes(world.hr) == []
    assert _review_notes(world.physics_hr) == []
    assert _review_notes(world.admin) == []

    assert _decide(login("dept_hr"), application.id, "approve").status_code == 302

    assert len(_review_notes(world.hr)) == 1
    assert len(_review_notes(world.hr2)) == 1
    assert len(_review_notes(world.dept_hr)) == 1
    assert _review_notes(world.admin) == []
    assert _review_notes(world.hr_other) == []
    # The department request is done; the institution requests are new.
    db.session.expire_all()
    assert _review_notes(world.dept_hr)[0].read_at is not None
    assert _review_notes(world.hr)[0].read_at is None

    assert _decide(login("hr"), application.id, "approve").status_code == 302

    db.session.expire_all()
    # hr2 did not decide, but nothing waits for them any more.
    [note] = _review_notes(world.hr2)
    assert note.read_at is not None
    assert note.email_status is not EmailStatus.PENDING


def test_withdrawal_settles_review_requests(world, frozen, login):
    rule = _eligible_world(world)
    counselor = _apply(login, rule)
    application = _application()

    response = counselor.post(
        f"/promotions/applications/{application.id}/withdraw", {"confirm": "y"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    [note] = _review_notes(world.dept_hr)
    assert note.read_at is not None
    assert note.email_status is EmailStatus.SKIPPED


@pytest.mark.usefixtures("english")
def test_promotions_without_steps_say_none_recorded(world, frozen, login):
    make_rule(world.uni.id)
    db.session.commit()

    own = login("counselor1").get("/promotions").get_data(as_text=True)
    hr_view = login("hr").get(f"/people/{world.counselor.id}/promotions")

    assert "HR has not recorded your title, rank or competency level yet" in own
    assert "starts at a current step" not in own
    assert "HR has not recorded a title, rank or competency level for this person" in (
        hr_view.get_data(as_text=True)
    )


@pytest.mark.usefixtures("english")
def test_promotions_step_without_rule_says_no_rule(world, frozen, login):
    make_rule(world.uni.id)
    set_title(world.counselor, "professor", date(2020, 9, 1))
    db.session.commit()

    page = login("counselor1").get("/promotions").get_data(as_text=True)

    assert "No promotion rule of the institution starts at a current step" in page
    assert "HR has not recorded" not in page


def test_application_snapshot_hours_without_trailing_zero(world, frozen, login):
    rule = _eligible_world(world)
    for source_id, (year, hours) in enumerate([(2026, "28"), (2025, "12.5")], 1):
        db.session.add(
            HoursEntry(
                user_id=world.counselor.id,
                source_type="test",
                source_id=source_id,
                title=f"{year}年校级培训",
                occurred_on=date(year, 5, 10),
                year=year,
                tier=TrainingTier.SCHOOL,
                hours=Decimal(hours),
            )
        )
    db.session.commit()
    counselor = _apply(login, rule)

    page = counselor.get(
        f"/promotions/applications/{_application().id}"
    ).get_data(as_text=True)

    assert "<td>28</td>" in page
    assert "<td>12.5</td>" in page
    assert "28.0" not in page


@pytest.mark.usefixtures("english")
def test_decision_errors_name_each_field_once(world, frozen, login):
    rule = _eligible_world(world)
    _apply(login, rule)
    dept_hr = login("dept_hr")
    url = f"/promotions/applications/{_application().id}/decide"

    no_comment = dept_hr.post(url, {"outcome": "reject", "comment": ""})
    no_outcome = dept_hr.post(url, {"comment": "请补充材料"})

    page = no_comment.get_data(as_text=True)
    assert no_comment.status_code == 400
    assert "Comment to the applicant: Say what to change" in page
    assert "Comment to the applicant: Comment:" not in page
    assert "Reject the application" in page
    outcome_page = no_outcome.get_data(as_text=True)
    assert no_outcome.status_code == 400
    assert "Decision: Choose approve, return for changes or reject" in outcome_page
    assert "Decision: Decision:" not in outcome_page


def _with_certificate_evidence(status: str) -> PromotionApplication:
    application = _application()
    certificate = {
        "title": "辅导员岗前培训",
        "serial": "SR-2027-0001",
        "issued_on": "2027-06-01",
        "expires_on": None,
        "status": status,
    }
    application.evidence = {**application.evidence, "certificates": [certificate]}
    db.session.commit()
    return application


def test_application_labels_certificate_status(world, frozen, login, english):
    counselor = _apply(login, _eligible_world(world))
    application = _with_certificate_evidence("expiring_soon")

    page = counselor.get(f"/promotions/applications/{application.id}").get_data(as_text=True)

    assert "SR-2027-0001 · 2027-06-01 · Expiring soon</li>" in page


def test_application_hides_raw_certificate_status(world, frozen, login):
    counselor = _apply(login, _eligible_world(world))
    application = _with_certificate_evidence("valid")

    page = counselor.get(f"/promotions/applications/{application.id}").get_data(as_text=True)

    assert "SR-2027-0001" in page
    assert " · valid</li>" not in page


def test_review_note_names_next_step(world, frozen, login, english):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    url = f"/promotions/applications/{application.id}"
    hr, dept_hr = login("hr"), login("dept_hr")

    waiting = hr.get(url).get_data(as_text=True)
    assert (
        "Next step: department review, decided by HR of the applicant&#39;s department."
    ) in waiting
    assert "Reviewers: 马部门人事." in waiting
    assert 'id="review-note"' not in dept_hr.get(url).get_data(as_text=True)

    assert _decide(dept_hr, application.id, "approve").status_code == 302
    refused = _decide(dept_hr, application.id, "approve")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Next step: institution review" in page
    assert "You decided the department review of this submission" in page
    assert "赵静" in page
    assert "钱人事" in page


def test_institution_hr_after_unstaffed_department_step(world, frozen, login, english):
    world.dept_hr.hr_department_id = world.physics.id
    db.session.commit()
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    url = f"/promotions/applications/{application.id}"
    hr, hr2 = login("hr"), login("hr2")

    note = hr2.get(url).get_data(as_text=True)
    assert "The applicant&#39;s department has no HR officer" not in note  # hr2 may decide
    assert _decide(hr, application.id, "approve").status_code == 302
    assert _application().status is ApplicationStatus.INSTITUTION_REVIEW

    page = hr.get(url).get_data(as_text=True)
    assert 'id="review-note"' in page
    assert "You decided the department review of this submission" in page
    assert "钱人事" in page
    assert _decide(hr, application.id, "approve").status_code == 403
    # Department-limited HR never decides the institution step.
    assert _decide(login("physics_hr"), application.id, "approve").status_code == 404
    assert _decide(hr2, application.id, "approve").status_code == 302
    assert _application().status is ApplicationStatus.APPROVED


def test_decision_error_shown_once_in_chinese(world, frozen, login):
    rule = _eligible_world(world)
    world.dept_hr.locale = "zh_CN"
    db.session.commit()
    _apply(login, rule)
    url = f"/promotions/applications/{_application().id}/decide"

    response = login("dept_hr").post(url, {"outcome": "reject", "comment": ""})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count("请说明需要修改的内容或不予通过的理由。") == 1, page
    assert "给申请人的意见：请说明需要修改的内容" in page
    assert "给申请人的意见: " not in page
    assert 'href="#comment"' in page


def test_missing_outcome_shown_once_in_fieldset(world, frozen, login, english):
    rule = _eligible_world(world)
    _apply(login, rule)
    url = f"/promotions/applications/{_application().id}/decide"

    response = login("dept_hr").post(url, {"comment": "请补充材料"})

    page = response.get_data(as_text=True)
    message = "Choose approve, return for changes or reject the application."
    assert response.status_code == 400
    assert page.count(message) == 1
    fieldset = page[page.index('<fieldset id="outcome">') :]
    assert message in fieldset[: fieldset.index("</fieldset>")]


def test_apply_error_shown_once(world, frozen, login, english):
    rule = _eligible_world(world)

    response = login("counselor1").post(
        f"/promotions/apply/{rule.id}", {"statement": "长" * 4001}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert page.count("Enter at most 4000 characters.") == 1
    assert "Correct the fields marked below:" in page
    assert count(PromotionApplication) == 0


def test_application_punctuation_in_chinese(world, frozen, login):
    rule = _eligible_world(world)
    rule.source = "人社部发〔2017〕号"
    world.counselor.locale = "zh_CN"
    world.dept_hr.locale = "zh_CN"
    db.session.commit()
    counselor = _apply(login, rule)
    _decide(login("dept_hr"), _application().id, "approve")

    apply_page = counselor.get(f"/promotions/apply/{rule.id}").get_data(as_text=True)
    application_page = counselor.get(
        f"/promotions/applications/{_application().id}"
    ).get_data(as_text=True)

    assert "依据：人社部发〔2017〕号" in apply_page
    assert "依据: " not in apply_page
    assert '<span class="badge badge-ok">达标</span>' in apply_page
    assert "合规" not in apply_page
    assert "（第1次提交）" in application_page
    assert "(第1次提交)" not in application_page


def test_promotions_say_what_the_record_lacks(world, frozen, login):
    make_rule(world.uni.id)
    world.counselor.locale = "zh_CN"
    db.session.commit()

    page = login("counselor1").get("/promotions").get_data(as_text=True)

    assert "档案中未记录" in page
    assert "记录中没有" not in page


def test_rule_editor_steps_in_english(world, frozen, login, english):
    rule = make_rule(world.uni.id)
    db.session.commit()

    page = login("hr").get(f"/promotions/rules/{rule.id}").get_data(as_text=True)

    for label in ("Junior", "Teaching assistant", "Clerk", "Deputy section level"):
        assert f">{label}</option>" in page, label
    for name in ("初级", "助教", "科员", "副科级"):
        assert name not in page, name


def test_rule_editor_steps_in_chinese(world, frozen, login):
    rule = make_rule(world.uni.id)
    world.hr.locale = "zh_CN"
    db.session.commit()

    page = login("hr").get(f"/promotions/rules/{rule.id}").get_data(as_text=True)

    for name in ("初级", "助教", "科员", "副科级"):
        assert f">{name}</option>" in page, name


def test_evidence_lists_current_year_without_hours(world, frozen, login):
    rule = _eligible_world(world)
    db.session.add(
        HoursEntry(
            user_id=world.counselor.id,
            source_type="test",
            source_id=1,
            title="2025年校级培训",
            occurred_on=date(2025, 5, 10),
            year=2025,
            tier=TrainingTier.SCHOOL,
            hours=Decimal(20),
        )
    )
    db.session.commit()
    _apply(login, rule)
    application = _application()

    page = login("hr").get(f"/promotions/applications/{application.id}")

    assert application.evidence["hours"] == {
        "2025": {"school": "20.0"},
        "2026": {},
        "2027": {},
    }
    assert "<tr><td>2027</td><td>0</td><td>0</td><td>0</td></tr>" in page.get_data(as_text=True)


def test_old_evidence_shows_missing_years(world, frozen, login):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    application.evidence = {**application.evidence, "hours": {"2025": {"school": "20.0"}}}
    db.session.commit()

    page = login("hr").get(f"/promotions/applications/{application.id}")

    html = page.get_data(as_text=True)
    assert "<tr><td>2026</td><td>0</td><td>0</td><td>0</td></tr>" in html
    assert "<tr><td>2027</td><td>0</td><td>0</td><td>0</td></tr>" in html


def _decision_form(page: str) -> dict:
    """Return the hidden step and revision of the decision form on ``page``."""
    return {
        name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)
        for name in ("step", "revision")
    }


def test_second_decision_on_step_redirects(world, frozen, login, english):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    url = f"/promotions/applications/{application.id}"
    dept_hr = login("dept_hr")
    shown = _decision_form(dept_hr.get(url).get_data(as_text=True))
    posted = {"outcome": "approve", "comment": "", **shown}
    assert dept_hr.post(f"{url}/decide", posted).status_code == 302

    again = dept_hr.post(f"{url}/decide", posted)

    assert again.status_code == 302
    assert again.headers["Location"].endswith(url)
    page = dept_hr.get(url).get_data(as_text=True)
    assert "Department review: you already decided on" in page
    assert "(approved). That decision stands; the form was not saved again." in page
    assert "Your decision was not saved." not in page
    assert count(PromotionDecision) == 1


def test_stale_form_does_not_decide_next_step(world, frozen, login, english):
    world.dept_hr.hr_department_id = world.physics.id
    db.session.commit()
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    url = f"/promotions/applications/{application.id}"
    hr, hr2 = login("hr"), login("hr2")
    stale = _decision_form(hr2.get(url).get_data(as_text=True))
    assert _decide(hr, application.id, "approve").status_code == 302

    response = hr2.post(f"{url}/decide", {"outcome": "approve", **stale})

    assert response.status_code == 302
    assert _application().status is ApplicationStatus.INSTITUTION_REVIEW
    page = hr2.get(url).get_data(as_text=True)
    assert "Department review: already decided by 赵静" in page


def test_promotions_page_names_level_by_service(app, seeded, login, english):
    page = login("counselor2").get("/promotions").get_data(as_text=True)

    assert "Not on the record" in page
    assert "Intermediate by years of service, which decides the programmes offered" in page


def test_rule_code_line_break_duplicate(world, frozen, login, english):
    db.session.commit()
    hr = login("hr")
    data = _rule_data(code="rank-deputy-chief", from_step="administrative_rank:section_deputy")
    assert hr.post("/promotions/rules/new", data).status_code == 302

    response = hr.post("/promotions/rules/new", dict(data, code="rank-deputy-chief\n"))

    assert response.status_code == 400
    assert "rank-deputy-chief is already used" in response.get_data(as_text=True)


def test_rule_sent_twice_at_once(app, world, frozen, login, english, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        # SQLite makes the other request wait for this one's write lock.
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")
    from lms.promotion import services
    from lms.promotion.models import PromotionRule

    db.session.commit()
    save_rule = services.save_rule

    def save_after_other(rule, actor, **options):
        with app.app_context():
            other = PromotionRule(institution_id=rule.institution_id)
            for name in ("code", "name", "track", "from_value", "to_value", "min_years"):
                setattr(other, name, getattr(rule, name))
            db.session.add(other)
            db.session.commit()
        return save_rule(rule, actor, **options)

    monkeypatch.setattr(services, "save_rule", save_after_other)
    data = _rule_data(code="rank-deputy-chief", from_step="administrative_rank:section_deputy")
    response = login("hr").post("/promotions/rules/new", data)

    assert response.status_code == 400
    assert "rank-deputy-chief is already used" in response.get_data(as_text=True)


def test_rule_steps_without_track_rejected(world, frozen, login, english):
    db.session.commit()
    hr = login("hr")

    for steps, message in (
        ({"from_step": "zz:clerk", "to_step": "zz:section_chief"}, "is not one of the listed options"),
        ({"from_step": "长" * 300, "to_step": "长" * 300}, "is not one of the listed options"),
        ({"from_step": "", "to_step": ""}, "This field is required"),
    ):
        response = hr.post("/promotions/rules/new", _rule_data(**steps))

        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert message in page
        assert 'value="科员晋升正科级"' in page
    assert engine.rules_of(world.uni.id, active_only=False) == []


def test_rule_errors_name_their_field_once(world, frozen, login, english):
    db.session.commit()
    hr = login("hr")
    data = _rule_data(
        code="rank-clerk-deputy",
        to_step="administrative_rank:section_deputy",
        min_excellent="2",
    )

    response = hr.post("/promotions/rules/new", data)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "Excellent grades needed in the checked years: "
        "Also set how many annual assessments are checked." in page
    )
    assert "Excellent grades: " not in page


def _decide_step(client, application, step, outcome="approve", comment="同意"):
    return client.post(
        f"/promotions/applications/{application.id}/decide",
        {
            "step": step,
            "revision": str(application.revision),
            "outcome": outcome,
            "comment": comment,
        },
    )


def test_institution_decision_before_department_step(world, frozen, login, english):
    """A stale or second-tab form for the institution step records nothing."""
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()
    hr = login("hr")

    response = _decide_step(hr, application, "institution")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/promotions/applications/{application.id}")
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "The department review comes first" in page
    assert count(PromotionDecision) == 0
    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW


def test_institution_form_never_decides_department_step(world, frozen, login, english):
    """Where institution HR may decide the department step, the form still names its step."""
    rule = _eligible_world(world)
    world.dept_hr.hr_department_id = None
    db.session.commit()
    _apply(login, rule)
    application = _application()
    hr = login("hr")

    response = _decide_step(hr, application, "institution")

    assert response.status_code == 302
    page = hr.get(response.headers["Location"]).get_data(as_text=True)
    assert "The department review comes first" in page
    assert count(PromotionDecision) == 0
    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW


def test_out_of_turn_keeps_permission_failures(world, frozen, login):
    rule = _eligible_world(world)
    _apply(login, rule)
    application = _application()

    # Department HR never decides the institution step, in turn or not.
    assert _decide_step(login("dept_hr"), application, "institution").status_code == 403
    assert _decide_step(login("counselor2"), application, "institution").status_code == 403
    assert _decide_step(login("hr_other"), application, "institution").status_code == 404
    assert count(PromotionDecision) == 0
    assert _application().status is ApplicationStatus.DEPARTMENT_REVIEW
