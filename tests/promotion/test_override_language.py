"""An override's failed checks are stored as message and parameters, so the
application page and the audit log show them in the reader's language."""

from datetime import date

import sqlalchemy as sa

from lms import audit
from lms.extensions import db
from lms.promotion.models import PromotionDecision, ReviewOutcome, ReviewStep
from tests.promotion.test_decision_check import _apply, _eligible_world, _record_title

REASON = "职称变更记录有误，待更正"
ENGLISH_CHECK = (
    "Professional title: the applicant&#39;s record now shows Associate "
    "professor, not Lecturer, the step this application starts from."
)
CHINESE_CHECK = "职称：申请人档案现为副教授，不是本申请的起始级别讲师。"


def _override(world, login, reviewer_locale: str):
    """Apply, change the title on the record and approve with an override."""
    rule = _eligible_world(world)
    application = _apply(login, rule)
    _record_title(world, "associate_professor", date(2027, 8, 20))
    world.dept_hr.locale = reviewer_locale
    db.session.commit()
    url = f"/promotions/applications/{application.id}"
    response = login("dept_hr").post(
        f"{url}/decide", {"outcome": "approve", "override_reason": REASON}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return url


def _read_as(world, login, locale: str, url: str) -> tuple[str, str]:
    """Return the application page and the audit log as the applicant and the admin see them."""
    world.counselor.locale = locale
    world.admin.locale = locale
    db.session.commit()
    page = login("counselor1").get(url).get_data(as_text=True)
    log = login("admin").get("/admin/audit?action=promotion.override")
    return page, log.get_data(as_text=True)


def test_chinese_override_reads_in_english(world, frozen, login):
    url = _override(world, login, "zh_CN")

    page, log = _read_as(world, login, "en", url)

    assert ENGLISH_CHECK in page
    assert CHINESE_CHECK not in page
    assert (
        "Department review: approved despite a failed check (Professional title: "
        "the applicant&#39;s record now shows Associate professor, not Lecturer, "
        f"the step this application starts from). Reason: {REASON}" in log
    )
    assert "申请人档案现为" not in log


def test_english_override_reads_in_chinese(world, frozen, login):
    url = _override(world, login, "en")

    page, log = _read_as(world, login, "zh_CN", url)

    assert CHINESE_CHECK in page
    assert "the applicant&#39;s record now shows" not in page
    assert (
        "院系审核：复核未通过（职称：申请人档案现为副教授，不是本申请的起始级别讲师）"
        f"，仍予以通过。理由：{REASON}" in log
    )


def test_override_stores_message_and_parameters(world, frozen, login):
    _override(world, login, "zh_CN")

    decision = db.session.scalars(sa.select(PromotionDecision)).one()
    (problem,) = decision.overridden_problems
    entry = db.session.scalars(
        sa.select(audit.AuditEntry).where(audit.AuditEntry.action == "promotion.override")
    ).one()

    assert problem["msgid"] == (
        "%(track)s: the applicant's record now shows %(current)s, not %(step)s, "
        "the step this application starts from."
    )
    assert problem["params"]["current"] == {
        "languages": {"zh_CN": "副教授", "en": "Associate professor"}
    }
    assert entry.data["problems"] == [problem]


def test_plain_text_overrides_still_show(world, frozen, login, english):
    """Rows written before the checks were stored as messages keep their text."""
    rule = _eligible_world(world)
    application = _apply(login, rule)
    decision = PromotionDecision(
        application_id=application.id,
        revision=application.revision,
        step=ReviewStep.DEPARTMENT,
        outcome=ReviewOutcome.APPROVE,
        override_reason=REASON,
        overridden_problems=["专业技术职务：申请人档案现为副教授。"],
        reviewer_id=world.dept_hr.id,
    )
    db.session.add(decision)
    db.session.flush()
    audit.record(
        "promotion.override",
        "promotion_application",
        application.id,
        "林晓雯: 讲师 → 副教授, department approved despite a failed check",
        actor_id=world.dept_hr.id,
        institution_id=world.uni.id,
        data={
            "decision_id": decision.id,
            "step": "department",
            "revision": 1,
            "reason": REASON,
            "problems": ["专业技术职务：申请人档案现为副教授。"],
            "applicant_id": world.counselor.id,
        },
    )
    db.session.commit()

    page = login("counselor1").get(
        f"/promotions/applications/{application.id}"
    ).get_data(as_text=True)
    log = login("admin").get("/admin/audit?action=promotion.override").get_data(
        as_text=True
    )

    assert "<li>专业技术职务：申请人档案现为副教授。</li>" in page
    assert (
        "Department review: approved despite a failed check "
        f"(专业技术职务：申请人档案现为副教授). Reason: {REASON}" in log
    )
