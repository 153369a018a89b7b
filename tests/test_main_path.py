"""The main job end to end: enrol, learn, pass quizzes, get a verifiable certificate."""

import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from assessments.models import Attempt, Quiz
from certificates.models import Certificate
from courses.models import Programme
from lms.accounts.models import User
from lms.extensions import db
from lms.records.models import HoursEntry, ProgressionEntry, ProgressionKind
from tests.conftest import demo_row

PROGRAMME_CODE = "junior-prejob-2026"


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _correct_answers(quiz: Quiz) -> dict:
    form = {}
    for question in quiz.questions:
        form[f"q{question.id}"] = [str(c.id) for c in question.choices if c.is_correct]
    return form


def _wrong_answers(quiz: Quiz) -> dict:
    form = {}
    for question in quiz.questions:
        wrong = [c for c in question.choices if not c.is_correct]
        form[f"q{question.id}"] = [str(wrong[0].id)]
    return form


def _take_quiz(counselor, quiz: Quiz, answers: dict, username: str = "counselor1") -> Attempt:
    response = counselor.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302
    user = _user(username)
    attempt = db.session.scalar(
        sa.select(Attempt).filter_by(quiz_id=quiz.id, user_id=user.id, submitted_at=None)
    )
    assert attempt is not None
    page = counselor.get(f"/attempts/{attempt.id}")
    assert page.status_code == 200
    response = counselor.post(f"/attempts/{attempt.id}/submit", data=answers)
    assert response.status_code == 302
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def _work_through(counselor, programme: Programme, username: str = "counselor1") -> None:
    for link in programme.courses:
        course = link.course
        assert counselor.get(f"/courses/{course.id}").status_code == 200
        for lesson in course.lessons:
            url = f"/courses/{course.id}/lessons/{lesson.id}"
            assert counselor.get(url).status_code == 200
            assert counselor.post(f"{url}/complete").status_code == 302
        quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=course.id))
        attempt = _take_quiz(counselor, quiz, _correct_answers(quiz), username)
        assert attempt.passed


def test_counselor_completes_programme_and_gets_certificate(app_ctx, seeded, login, client):
    counselor = login("counselor1")
    programme = demo_row(Programme, code=PROGRAMME_CODE)

    assert programme.title in counselor.get("/programmes").get_data(as_text=True)
    assert counselor.post(f"/programmes/{programme.id}/enrol").status_code == 302
    assert programme.title in counselor.get("/learning").get_data(as_text=True)

    _work_through(counselor, programme)

    holder = _user("counselor1")
    certificates = db.session.scalars(
        sa.select(Certificate).filter_by(holder_id=holder.id)
    ).all()
    assert len(certificates) == 1
    certificate = certificates[0]
    assert certificate.holder_name == holder.full_name
    assert certificate.hours == programme.total_hours

    listing = counselor.get("/certificates").get_data(as_text=True)
    assert certificate.serial in listing

    pdf = counselor.get(f"/certificates/{certificate.serial}.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    assert holder.full_name in reader.pages[0].extract_text()

    public = client.get(f"/verify/{certificate.verification_code}")
    page = public.get_data(as_text=True)
    assert public.status_code == 200
    assert holder.full_name in page
    assert programme.title in page
    assert certificate.serial in page


def test_second_institution_completes_programme(app_ctx, seeded, login):
    counselor = login("counselor3")
    holder = _user("counselor3")
    programme = db.session.scalar(
        sa.select(Programme).filter_by(code=PROGRAMME_CODE, institution_id=holder.institution_id)
    )
    first = db.session.scalar(
        sa.select(Programme).filter_by(code=PROGRAMME_CODE).where(
            Programme.institution_id != holder.institution_id
        )
    )

    listing = counselor.get("/programmes").get_data(as_text=True)
    assert f"/programmes/{programme.id}" in listing
    assert f"/programmes/{first.id}" not in listing
    assert counselor.post(f"/programmes/{first.id}/enrol").status_code == 404
    assert counselor.post(f"/programmes/{programme.id}/enrol").status_code == 302

    _work_through(counselor, programme, "counselor3")

    certificate = db.session.scalar(sa.select(Certificate).filter_by(holder_id=holder.id))
    assert certificate.serial.startswith("MD-")
    people = login("hr2").get("/people").get_data(as_text=True)
    assert holder.full_name in people


def test_completion_reaches_progression_record(app_ctx, seeded, login):
    counselor = login("counselor1")
    programme = demo_row(Programme, code=PROGRAMME_CODE)
    counselor.post(f"/programmes/{programme.id}/enrol")
    _work_through(counselor, programme)
    holder = _user("counselor1")

    hours = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).filter_by(user_id=holder.id)
    )
    assert hours == programme.total_hours
    kinds = db.session.scalars(
        sa.select(ProgressionEntry.kind).filter_by(user_id=holder.id)
    ).all()
    assert kinds.count(ProgressionKind.TRAINING) == len(programme.courses)
    assert kinds.count(ProgressionKind.CERTIFICATE) == 1

    certificate = db.session.scalar(sa.select(Certificate).filter_by(holder_id=holder.id))
    record_url = f"/people/{holder.id}/record"

    own = counselor.get(record_url)
    assert own.status_code == 200
    assert certificate.serial in own.get_data(as_text=True)

    hr_page = login("hr").get(record_url)
    assert hr_page.status_code == 200
    hr_text = hr_page.get_data(as_text=True)
    assert certificate.serial in hr_text
    for link in programme.courses:
        assert link.course.title in hr_text

    other = login("counselor2")
    assert other.get(record_url).status_code == 404
    assert other.get(f"/certificates/{certificate.serial}.pdf").status_code == 404


def test_revocation_appears_on_record(app_ctx, seeded, login):
    counselor = login("counselor1")
    programme = demo_row(Programme, code=PROGRAMME_CODE)
    counselor.post(f"/programmes/{programme.id}/enrol")
    _work_through(counselor, programme)
    holder = _user("counselor1")
    certificate = db.session.scalar(sa.select(Certificate).filter_by(holder_id=holder.id))

    hr = login("hr")
    response = hr.post(
        f"/certificates/{certificate.serial}/revoke", data={"reason": "培训记录造假"}
    )

    assert response.status_code == 302
    entries = db.session.scalars(
        sa.select(ProgressionEntry).filter_by(
            user_id=holder.id, source_type="certificate_revocation"
        )
    ).all()
    assert len(entries) == 1
    record = counselor.get(f"/people/{holder.id}/record").get_data(as_text=True)
    assert "培训记录造假" in record


def test_failed_quiz_does_not_complete_course(app_ctx, seeded, login):
    counselor = login("counselor1")
    programme = demo_row(Programme, code=PROGRAMME_CODE)
    counselor.post(f"/programmes/{programme.id}/enrol")
    course = programme.courses[0].course
    for lesson in course.lessons:
        counselor.get(f"/courses/{course.id}/lessons/{lesson.id}")
        counselor.post(f"/courses/{course.id}/lessons/{lesson.id}/complete")
    quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=course.id))

    attempt = _take_quiz(counselor, quiz, _wrong_answers(quiz))

    assert attempt.passed is False
    holder = _user("counselor1")
    assert db.session.scalar(sa.select(HoursEntry).filter_by(user_id=holder.id)) is None


def test_replayed_requests_issue_one_certificate(app_ctx, seeded, login):
    counselor = login("counselor1")
    programme = demo_row(Programme, code=PROGRAMME_CODE)
    counselor.post(f"/programmes/{programme.id}/enrol")
    _work_through(counselor, programme)

    last_course = programme.courses[-1].course
    last_lesson = last_course.lessons[-1]
    url = f"/courses/{last_course.id}/lessons/{last_lesson.id}/complete"
    for _ in range(3):
        counselor.post(url)
    quiz = db.session.scalar(sa.select(Quiz).filter_by(course_id=last_course.id))
    attempt = db.session.scalar(sa.select(Attempt).filter_by(quiz_id=quiz.id))
    counselor.post(f"/attempts/{attempt.id}/submit", data=_correct_answers(quiz))
    counselor.post(f"/programmes/{programme.id}/enrol")

    holder = _user("counselor1")
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(Certificate).filter_by(holder_id=holder.id)
    )
    assert total == 1
    entries = db.session.scalar(
        sa.select(sa.func.count()).select_from(HoursEntry).filter_by(user_id=holder.id)
    )
    assert entries == len(programme.courses)


@pytest.mark.parametrize("username", ["trainer", "hr", "hr_cs", "admin", "organiser"])
def test_other_roles_log_in(seeded, login, username):
    session = login(username)
    assert session.get("/", follow_redirects=True).status_code == 200
