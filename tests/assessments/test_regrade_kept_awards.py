"""Essay regrades that turn a passed attempt into a not-passed one after awards."""

from decimal import Decimal

import sqlalchemy as sa

from assessments import authoring
from assessments.models import Attempt, AttemptAnswer, Quiz
from certificates import services as certificate_services
from certificates.models import Certificate, CertificateStatus
from courses.models import CourseCompletion, Programme
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.db import now_utc
from lms.extensions import db
from lms.notifications.models import Notification
from tests.factories import as_draft, make_user


def _essay_quiz(world) -> Quiz:
    """Make the world quiz a single 10-point essay with a pass mark of 60 %."""
    quiz = db.session.get(Quiz, world.quiz)
    trainer = db.session.get(User, world.trainer)
    quiz.questions.clear()
    db.session.flush()
    with as_draft(quiz.course):
        authoring.save_question(
            quiz, {"kind": "essay", "text": "论述", "points": "10"}, trainer
        )
    db.session.commit()
    return quiz


def _submitted_essay(world, login) -> AttemptAnswer:
    quiz = _essay_quiz(world)
    counselor = login("counselor1")
    assert counselor.post(f"/programmes/{world.programme}/enrol").status_code == 302
    started = counselor.post(f"/quizzes/{quiz.id}/start")
    attempt_id = int(started.headers["Location"].rsplit("/", 1)[1])
    question = quiz.questions[0]
    counselor.post(
        f"/attempts/{attempt_id}/submit",
        data={"seen": [str(question.id)], f"q{question.id}": "我的论述"},
    )
    db.session.expire_all()
    return db.session.scalar(sa.select(AttemptAnswer).filter_by(attempt_id=attempt_id))


def _award_course_and_certificate(world) -> Certificate:
    """Record the course completion and issue the programme certificate."""
    db.session.add(
        CourseCompletion(
            user_id=world.counselor, course_id=world.course1, hours=Decimal(2)
        )
    )
    learner = db.session.get(User, world.counselor)
    programme = db.session.get(Programme, world.programme)
    with certificate_services.pdf_after_commit():
        cert = certificate_services.issue_programme_certificate(
            learner, programme, now_utc()
        )
    db.session.commit()
    return cert


def test_pass_to_fail_needs_confirmation(world, login, english):
    """A lower grade is saved only once the grader confirms the kept awards."""
    answer = _submitted_essay(world, login)
    trainer = login("trainer")
    url = f"/manage/grading/{answer.id}"
    assert trainer.post(url, data={"point_1": "8"}).status_code == 302
    cert = _award_course_and_certificate(world)

    refused = trainer.post(url, data={"point_1": "0", "comment": "离题"})

    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "turns a passed attempt into a not-passed one" in page
    assert cert.serial in page
    assert 'name="confirm_kept"' in page
    assert 'value="0"' in page
    assert "离题" in page
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer.id).awarded == Decimal(8)
    assert db.session.get(Attempt, answer.attempt_id).passed is True

    saved = trainer.post(
        url,
        data={"point_1": "0", "comment": "离题", "confirm_kept": "y"},
        follow_redirects=True,
    )

    assert saved.status_code == 200
    flashed = saved.get_data(as_text=True)
    assert "Grade saved." in flashed
    assert f'/verify/{cert.verification_code}">{cert.serial}</a>' in flashed
    assert "Only HR staff or an administrator" in flashed
    db.session.expire_all()
    assert db.session.get(Attempt, answer.attempt_id).passed is False
    assert db.session.get(Certificate, cert.id).status is CertificateStatus.VALID
    graded = db.session.scalars(
        sa.select(AuditEntry)
        .filter_by(action="quiz.essay_graded")
        .order_by(AuditEntry.id)
    ).all()
    assert graded[-1].data["pass_to_fail"] is True
    assert graded[-1].data["kept_certificates"] == [cert.serial]
    assert graded[-1].data["kept_completion"] is True
    assert graded[0].data["pass_to_fail"] is False
    regraded = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="quiz.regraded").order_by(AuditEntry.id)
    ).all()
    assert regraded[-1].data["pass_to_fail"] is True


def test_admin_grader_gets_certificate_page(world, login, english):
    """A grader who may revoke the certificate is linked to its page."""
    answer = _submitted_essay(world, login)
    admin = login("admin")
    url = f"/manage/grading/{answer.id}"
    assert admin.post(url, data={"point_1": "8"}).status_code == 302
    cert = _award_course_and_certificate(world)

    saved = admin.post(
        url, data={"point_1": "1", "confirm_kept": "y"}, follow_redirects=True
    )

    assert f'/certificates/{cert.serial}">{cert.serial}</a>' in saved.get_data(
        as_text=True
    )


def test_pass_to_fail_without_awards_saves(world, login, english):
    """Without a completion or certificate a lower grade needs no confirmation."""
    answer = _submitted_essay(world, login)
    trainer = login("trainer")
    url = f"/manage/grading/{answer.id}"
    assert trainer.post(url, data={"point_1": "8"}).status_code == 302

    assert trainer.post(url, data={"point_1": "0"}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Attempt, answer.attempt_id).passed is False


def test_higher_grade_needs_no_confirmation(world, login, english):
    """A regrade that keeps the pass saves without the confirmation box."""
    answer = _submitted_essay(world, login)
    trainer = login("trainer")
    url = f"/manage/grading/{answer.id}"
    assert trainer.post(url, data={"point_1": "7"}).status_code == 302
    _award_course_and_certificate(world)

    assert trainer.post(url, data={"point_1": "9", "comment": "论证充分"}).status_code == 302

    page = trainer.get(url).get_data(as_text=True)
    assert 'name="point_1" value="9"' in page
    assert "论证充分</textarea>" in page


def _regrade_to_fail(world, login) -> Certificate:
    """Pass the essay, award the certificate, then confirm a failing regrade."""
    answer = _submitted_essay(world, login)
    trainer = login("trainer")
    url = f"/manage/grading/{answer.id}"
    assert trainer.post(url, data={"point_1": "8"}).status_code == 302
    cert = _award_course_and_certificate(world)
    saved = trainer.post(url, data={"point_1": "0", "confirm_kept": "y"})
    assert saved.status_code == 302
    db.session.expire_all()
    return db.session.get(Certificate, cert.id)


def _notifications(kind: str) -> list[Notification]:
    return list(
        db.session.scalars(sa.select(Notification).filter_by(kind=kind).order_by(Notification.id))
    )


def test_failing_regrade_notifies_hr(world, login):
    """Institution HR and HR of the holder's department hear of it in their language."""
    institution = db.session.get(User, world.hr).institution
    school = db.session.get(User, world.counselor).department
    db.session.get(User, world.hr).locale = "en"
    same = make_user(institution, "hr_edu", Role.HR, department=school)
    same.hr_department_id = school.id
    physics = db.session.get(User, world.counselor2).department
    other = make_user(institution, "hr_phy", Role.HR, department=physics)
    other.hr_department_id = physics.id
    db.session.commit()

    cert = _regrade_to_fail(world, login)

    sent = _notifications("certificate_basis_failed")
    by_recipient = {note.recipient_id: note for note in sent}
    assert sorted(by_recipient) == sorted([world.hr, same.id])
    english = by_recipient[world.hr]
    assert cert.serial in english.title
    assert "regraded to a fail" in english.title
    assert "张老师" in english.body
    assert "赵培训师" in english.body
    assert english.link == f"/certificates/{cert.serial}"
    chinese = by_recipient[same.id]
    assert cert.serial in chinese.title
    assert "张老师" in chinese.body
    assert "regraded" not in chinese.body
    assert cert.status is CertificateStatus.VALID


def test_certificate_page_shows_failed_basis(world, login, english):
    """HR sees the regrade on the certificate page, and the holder does not."""
    cert = _regrade_to_fail(world, login)

    page = login("hr").get(f"/certificates/{cert.serial}").get_data(as_text=True)
    own = login("counselor1").get(f"/certificates/{cert.serial}").get_data(as_text=True)

    assert 'id="failed-basis"' in page
    assert "赵培训师 regraded the attempt" in page
    assert "to a fail" in page
    assert 'id="failed-basis"' not in own


def test_failing_regrade_without_certificate_notifies_nobody(world, login):
    answer = _submitted_essay(world, login)
    trainer = login("trainer")
    url = f"/manage/grading/{answer.id}"
    assert trainer.post(url, data={"point_1": "8"}).status_code == 302

    trainer.post(url, data={"point_1": "0", "confirm_kept": "y"})

    assert _notifications("certificate_basis_failed") == []
