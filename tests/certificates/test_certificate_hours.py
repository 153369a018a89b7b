"""Revoking a certificate may also withdraw the hours its training credited.

The ledger keeps every credited row; withdrawing appends correcting rows
with the opposite hours, so the compliance figures net them to zero.
"""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments.models import Quiz
from certificates import hours as certificate_hours
from certificates import services
from certificates.models import Certificate, CertificateStatus
from courses.models import Programme
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.compliance import ledger
from lms.compliance.models import ComplianceRule
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.notifications.models import Notification
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    HoursEntry,
    ProgressionEntry,
    TrainingKind,
    TrainingTier,
)
from lms.records.services import current_year
from tests.factories import build_learning_world, correct_answers

REASON = "结业考试系他人代考"
#: The world's programme credits course 1 (2 hours) and course 2 (1.5 hours).
PROGRAMME_HOURS = Decimal("3.5")


@pytest.fixture
def world(app_ctx):
    """The learning world with an in-service programme and the seeded rules."""
    world = build_learning_world()
    # Pre-job training does not count toward the yearly school-level rule.
    db.session.get(Programme, world.programme).kind = TrainingKind.THEMATIC
    seed_rules()
    db.session.commit()
    return world


def _complete_programme(world, login) -> Certificate:
    """Enrol counselor1, finish both courses and the quiz through the pages."""
    counselor = login("counselor1")
    counselor.post(f"/programmes/{world.programme}/enrol")
    for course_id, lesson_ids in [
        (world.course1, world.lessons1),
        (world.course2, world.lessons2),
    ]:
        for lesson_id in lesson_ids:
            counselor.get(f"/courses/{course_id}/lessons/{lesson_id}")
            counselor.post(f"/courses/{course_id}/lessons/{lesson_id}/complete")
    quiz = db.session.get(Quiz, world.quiz)
    response = counselor.post(f"/quizzes/{quiz.id}/start")
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))
    db.session.expire_all()
    return db.session.scalar(sa.select(Certificate).filter_by(holder_id=world.counselor))


@pytest.fixture
def cert(world, login) -> Certificate:
    return _complete_programme(world, login)


def _net_hours(user_id: int) -> Decimal:
    db.session.expire_all()
    total = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).where(HoursEntry.user_id == user_id)
    )
    return Decimal(total or 0)


def _corrections(user_id: int) -> list[HoursEntry]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(HoursEntry)
        .where(HoursEntry.user_id == user_id, HoursEntry.corrects_id.is_not(None))
        .order_by(HoursEntry.id)
    ).all()


def _revoke_and_withdraw(cert: Certificate, actor_id: int, reason: str = REASON):
    actor = db.session.get(User, actor_id)
    services.revoke(cert, reason, actor)
    return certificate_hours.withdraw_hours(cert, actor, reason)


def _school_yearly_row(session, world) -> dict:
    """Return counselor1's row of the yearly school-level rule's CSV export."""
    rule_id = db.session.scalar(
        sa.select(ComplianceRule.id).filter_by(code="counselor-school-yearly")
    )
    response = session.get(f"/compliance/rules/{rule_id}/export.csv")
    assert response.status_code == 200
    rows = csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    [row] = [row for row in rows if row["Name"] == "张老师"]
    return row


def _english(session):
    session.post("/language/en")
    return session


# Ledger correction ------------------------------------------------------------------


def test_completion_credits_programme_rows(world, cert):
    rows = certificate_hours.credited_entries(cert)

    assert cert is not None
    assert sorted(row.hours for row in rows) == [Decimal("1.5"), Decimal("2")]
    assert certificate_hours.withdrawable_hours(cert) == PROGRAMME_HOURS


def test_withdrawal_appends_opposite_rows(world, cert):
    credited = {row.id: row.hours for row in certificate_hours.credited_entries(cert)}

    corrections = _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    assert len(corrections) == 2
    assert _net_hours(world.counselor) == 0
    for correction in _corrections(world.counselor):
        assert correction.hours == -credited[correction.corrects_id]
        assert correction.source_type == certificate_hours.LEDGER_SOURCE_TYPE
        assert correction.source_id == correction.corrects_id
    # The credited rows stay as they were.
    for row_id, hours in credited.items():
        assert db.session.get(HoursEntry, row_id).hours == hours
    assert certificate_hours.credited_entries(cert) == []
    assert certificate_hours.withdrawable_hours(cert) == 0


def test_withdrawal_corrects_timeline_with_reason(world, cert):
    _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    entries = db.session.scalars(
        sa.select(ProgressionEntry).filter_by(
            source_type=certificate_hours.TIMELINE_SOURCE_TYPE
        )
    ).all()
    assert len(entries) == 2
    for entry in entries:
        assert entry.corrects_id is not None
        assert entry.detail["withdrawn"] is True
        assert entry.detail["reason"] == REASON
        assert entry.detail["certificate_serial"] == cert.serial
        assert entry.created_by_id == world.hr


def test_withdrawal_audited_and_notified(world, cert):
    _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    [entry] = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate.hours_withdrawn")
    ).all()
    assert entry.actor_id == world.hr
    assert entry.subject_id == cert.id
    assert entry.data["hours"] == "3.5"
    assert entry.data["reason"] == REASON
    [notice] = db.session.scalars(
        sa.select(Notification).filter_by(
            kind=certificate_hours.NOTIFICATION_KIND, recipient_id=world.counselor
        )
    ).all()
    assert notice.subject_id == cert.id


def test_second_withdrawal_adds_nothing(world, cert):
    _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    again = certificate_hours.withdraw_hours(
        cert, db.session.get(User, world.admin), "再次撤回"
    )
    db.session.commit()

    assert again == []
    assert len(_corrections(world.counselor)) == 2
    assert _net_hours(world.counselor) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .filter_by(action="certificate.hours_withdrawn")
        )
        == 1
    )


def test_withdrawal_needs_revoked_certificate(world, cert):
    hr = db.session.get(User, world.hr)

    with pytest.raises(services.CertificateError):
        certificate_hours.withdraw_hours(cert, hr, REASON)

    assert _corrections(world.counselor) == []


def test_withdrawal_needs_reason(world, cert):
    hr = db.session.get(User, world.hr)
    services.revoke(cert, REASON, hr)

    with pytest.raises(services.CertificateError):
        certificate_hours.withdraw_hours(cert, hr, "  ")


def test_withdrawal_rejects_other_institution(world, cert):
    services.revoke(cert, REASON, db.session.get(User, world.hr))

    with pytest.raises(services.CertificatePermissionError):
        certificate_hours.withdraw_hours(cert, db.session.get(User, world.hr_b), REASON)


def test_withdrawal_keeps_other_trainings(world, cert):
    other = HoursEntry(
        user_id=world.counselor,
        source_type="course_completion",
        source_id=9999,
        title="其他培训",
        occurred_on=date(current_year(db.session.get(User, world.counselor)), 3, 1),
        year=current_year(db.session.get(User, world.counselor)),
        tier=TrainingTier.SCHOOL,
        hours=Decimal("6"),
    )
    db.session.add(other)
    db.session.commit()

    _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    assert _net_hours(world.counselor) == Decimal("6")
    assert all(row.corrects_id != other.id for row in _corrections(world.counselor))


def test_withdrawn_exam_no_longer_counts(world, cert):
    filters = [HoursEntry.user_id == world.counselor]
    assert ledger.exam_results(filters) == {world.counselor: True}

    _revoke_and_withdraw(cert, world.hr)
    db.session.commit()

    assert ledger.exam_results(filters) == {}


def test_external_certificate_withdraws_approval(
    world, login, tmp_path, app, monkeypatch
):
    monkeypatch.setitem(app.config, "EVIDENCE_DIR", str(tmp_path))
    training = ExternalTraining(
        user_id=world.counselor,
        title="省级辅导员骨干培训",
        organiser="省教育厅",
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.BACKBONE_CAMP,
        start_date=date(2026, 4, 1),
        end_date=date(2026, 4, 3),
        hours=Decimal("24"),
        evidence_path="evidence-1.pdf",
        evidence_name="结业证书.pdf",
        evidence_type="application/pdf",
    )
    db.session.add(training)
    db.session.commit()
    hr = login("hr")
    hr.post(f"/records/external/{training.id}/review", data={"decision": "approve"})
    hr.post(f"/records/external/{training.id}/certificate")
    db.session.expire_all()
    external_cert = db.session.scalar(
        sa.select(Certificate).where(Certificate.programme_id.is_(None))
    )
    assert certificate_hours.withdrawable_hours(external_cert) == Decimal("24")

    response = hr.post(
        f"/certificates/{external_cert.serial}/revoke",
        data={"reason": REASON, "hours": "withdraw"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    training = db.session.get(ExternalTraining, training.id)
    assert training.status is ExternalTrainingStatus.REJECTED
    assert _net_hours(world.counselor) == 0
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert "external_training.withdrawn" in actions
    assert "certificate.hours_withdrawn" in actions


# Revoke form ---------------------------------------------------------------------------


def test_form_offers_choice_with_hours(world, cert, login):
    page = _english(login("hr")).get(f"/certificates/{cert.serial}").get_data(as_text=True)

    assert "Keep the hours in the ledger" in page
    assert "Withdraw the hours this training credited" in page
    assert "with 3.5 hours in the hours ledger" in page
    assert re.search(r'value="keep"[^>]*checked|checked[^>]*value="keep"', page)


def test_revoke_keeps_hours_by_default(world, cert, login):
    hr = _english(login("hr"))
    before = _school_yearly_row(hr, world)

    response = hr.post(f"/certificates/{cert.serial}/revoke", data={"reason": REASON})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.REVOKED
    assert _net_hours(world.counselor) == PROGRAMME_HOURS
    assert _corrections(world.counselor) == []
    assert _school_yearly_row(hr, world) == before
    assert before["Achieved"] == "3.5"


@pytest.mark.parametrize("username", ["hr", "admin"])
def test_revoke_with_withdrawal_updates_compliance(world, cert, login, username):
    manager = _english(login(username))
    before = _school_yearly_row(manager, world)
    record_before = manager.get(f"/people/{world.counselor}/record").get_data(as_text=True)

    response = manager.post(
        f"/certificates/{cert.serial}/revoke",
        data={"reason": REASON, "hours": "withdraw"},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "3.5 hours were withdrawn from the hours ledger." in page
    assert "3.5 hours no longer count toward the training requirements." in page
    after = _school_yearly_row(manager, world)
    assert (before["Achieved"], before["Missing"]) == ("3.5", "12.5")
    assert (after["Achieved"], after["Missing"]) == ("0", "16")
    year = current_year(db.session.get(User, world.counselor))
    assert "3.5 of 16 school-level hours" in record_before
    record = manager.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert f"0 of 16 school-level hours (not counting pre-job training) in {year}" in record
    assert f"Hours withdrawn with certificate {cert.serial}" in record
    assert f"Reason: {REASON}" in record


def test_holder_sees_owed_hours_and_notice(world, cert, login):
    login("hr").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )
    counselor = _english(login("counselor1"))

    record = counselor.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    inbox = counselor.get("/notifications").get_data(as_text=True)

    assert "16 missing by" in record
    assert f"Hours of certificate {cert.serial} withdrawn" in inbox
    assert "The 3.5 hours credited for" in inbox
    assert REASON in inbox


def test_other_institution_hr_refused(world, cert, login):
    response = login("hr_b").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )

    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.VALID
    assert _net_hours(world.counselor) == PROGRAMME_HOURS


def test_holder_cannot_withdraw(world, cert, login):
    response = login("counselor1").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )

    assert response.status_code == 403
    assert _net_hours(world.counselor) == PROGRAMME_HOURS


def test_missing_reason_names_field(world, cert, login):
    hr = _english(login("hr"))

    response = hr.post(
        f"/certificates/{cert.serial}/revoke", data={"reason": " ", "hours": "withdraw"}
    )

    assert response.status_code == 400
    assert "Reason for revocation: This field is required." in response.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.VALID
    assert _net_hours(world.counselor) == PROGRAMME_HOURS


def test_unknown_hours_choice_names_field(world, cert, login):
    hr = _english(login("hr"))

    response = hr.post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "delete"}
    )

    assert response.status_code == 400
    assert "Training hours: Choose one of the listed options." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.VALID


def test_revoking_twice_withdraws_once(world, cert, login):
    hr = _english(login("hr"))
    url = f"/certificates/{cert.serial}/revoke"

    hr.post(url, data={"reason": REASON, "hours": "withdraw"})
    second = hr.post(url, data={"reason": REASON, "hours": "withdraw"}, follow_redirects=True)

    assert "was already revoked" in second.get_data(as_text=True)
    assert len(_corrections(world.counselor)) == 2
    assert _net_hours(world.counselor) == 0


def test_withdrawal_without_hours_says_so(world, login):
    """A certificate issued by hand, with no completion in the ledger."""
    cert = services.issue_programme_certificate(
        db.session.get(User, world.counselor2),
        db.session.get(Programme, world.programme),
        services.now_utc(),
    )
    db.session.commit()
    hr = _english(login("hr"))
    page = hr.get(f"/certificates/{cert.serial}").get_data(as_text=True)

    response = hr.post(
        f"/certificates/{cert.serial}/revoke",
        data={"reason": REASON, "hours": "withdraw"},
        follow_redirects=True,
    )

    assert "Withdraw the hours this training credited" not in page
    assert "No hours credited for its training were left to withdraw." in (
        response.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.REVOKED


def test_dossier_shows_withdrawal_reason(world, cert, login):
    from pypdf import PdfReader

    hr = login("hr")
    hr.post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )

    response = hr.get(f"/people/{world.counselor}/dossier.pdf")

    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert REASON in text


# Programme progress after a withdrawal ------------------------------------------------


def _revoke_through_form(login, cert: Certificate, hours: str = "withdraw") -> None:
    response = login("hr").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": hours}
    )
    assert response.status_code == 302


def _programme_card(page: str) -> str:
    """Return the text of the learning page's programme card."""
    start = page.index("初级辅导员岗前培训</a></h2>")
    return " ".join(page[start : page.index("</section>", start)].split())


def test_learning_page_shows_withdrawn_hours(world, cert, login):
    """Does the holder's programme card follow the ledger after a withdrawal?"""
    counselor = _english(login("counselor1"))
    before = _programme_card(counselor.get("/learning").get_data(as_text=True))
    _revoke_through_form(login, cert)

    card = _programme_card(counselor.get("/learning").get_data(as_text=True))

    assert "3.5 of 3.5 earned" in before
    assert "withdrawn" not in before
    assert "2 of 2 completed" in card
    assert "0 of 3.5 earned" in card
    assert (
        "3.5 hours of the completed courses were withdrawn and no longer count "
        "toward your training requirements." in card
    )
    assert f'href="/people/{world.counselor}/record"' in card


def test_learning_page_withdrawn_hours_chinese(world, cert, login):
    _revoke_through_form(login, cert)

    card = _programme_card(login("counselor1").get("/learning").get_data(as_text=True))

    assert "已获得 0 / 3.5" in card
    assert "已完成课程的 3.5 学时已撤回，不再计入您的培训要求。" in card


def test_learning_page_kept_hours(world, cert, login):
    """Revoking without withdrawing leaves the hours earned."""
    _revoke_through_form(login, cert, hours="keep")

    card = _programme_card(
        _english(login("counselor1")).get("/learning").get_data(as_text=True)
    )

    assert "3.5 of 3.5 earned" in card
    assert "withdrawn" not in card


def test_learners_report_shows_withdrawn_hours(world, cert, login):
    """Do the trainer's learners page and its CSV agree with the ledger?"""
    _revoke_through_form(login, cert)
    trainer = _english(login("trainer"))

    page = trainer.get(f"/manage/programmes/{world.programme}/learners")
    export = trainer.get(f"/manage/programmes/{world.programme}/learners.csv")

    [row] = re.findall(r"<tr>\s*<td>张老师.*?</tr>", page.get_data(as_text=True), re.S)
    cells = [
        " ".join(cell.split()) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)
    ]
    assert cells[4] == "2 / 2"
    assert cells[5] == '0<br><span class="muted">3.5 hours withdrawn</span>'
    text = export.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["Courses completed"] == "2"
    assert rows[0]["Hours completed"] == "0"
    assert rows[0]["Hours withdrawn"] == "3.5"
