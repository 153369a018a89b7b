"""Parallel requests on one assessment or one access code, on PostgreSQL where they overlap.

SQLite starts writing requests with BEGIN IMMEDIATE, so its transactions
never overlap and this test runs only when LMS_TEST_DATABASE_URL points at
PostgreSQL.
"""

import threading
from datetime import date

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.annual_assessment import services
from lms.annual_assessment.models import AnnualAssessment, AssessmentScheme
from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind

SCORES = {"院系考核": "80", "学工部考核": "90", "加分": "3"}


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")


def _scored_assessment(world) -> int:
    scheme = db.session.get(AssessmentScheme, world.scheme)
    person = db.session.get(User, world.alice)
    hr = db.session.get(User, world.hr)
    assessment = services.assessment_for(scheme, person)
    for component in scheme.components:
        if component.name in SCORES:
            services.record_score(assessment, component, hr, SCORES[component.name])
        else:
            services.record_score(assessment, component, hr, "84", 12, 40)
    db.session.commit()
    return assessment.id


def test_parallel_finalise_writes_one_grade(app, world, postgres_only):
    with app.app_context():
        assessment_id = _scored_assessment(world)

    first_done = threading.Event()
    second_done = threading.Event()
    errors = []

    def finalise(before_commit=None):
        with app.app_context():
            try:
                assessment = db.session.get(AnnualAssessment, assessment_id)
                services.finalise(
                    assessment,
                    db.session.get(User, world.hr),
                    date(world.year, 12, 20),
                    "未提交，按规定定档",
                )
                if before_commit is not None:
                    before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the asserts below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def hold_open():
        # Keep the first transaction open until the second is done, or for a
        # few seconds while the row lock makes the second wait.
        first_done.set()
        second_done.wait(timeout=3)

    def second():
        first_done.wait(timeout=30)
        finalise()
        second_done.set()

    threads = [threading.Thread(target=finalise, args=(hold_open,)), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(errors) == 1
    assert isinstance(errors[0], services.AssessmentError)
    with app.app_context():
        grades = db.session.scalar(
            sa.select(sa.func.count()).select_from(ProgressionEntry).where(
                ProgressionEntry.user_id == world.alice,
                ProgressionEntry.kind == ProgressionKind.ASSESSMENT_GRADE,
            )
        )
        assert grades == 1


def test_parallel_submit_of_one_code_stores_one_response(app, world, postgres_only):
    """Two students' requests with one code: the second waits, then finds it used."""
    from lms.annual_assessment import evaluation
    from lms.annual_assessment.models import EvaluationResponse

    with app.app_context():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        assessment = services.assessment_for(scheme, db.session.get(User, world.alice))
        opened, codes = evaluation.open_evaluation(
            assessment, db.session.get(User, world.hr), "10"
        )
        scores = {d.id: 90 for d in scheme.dimensions}
        db.session.commit()

    first_done = threading.Event()
    second_done = threading.Event()
    errors = []

    def submit(before_commit=None):
        with app.app_context():
            try:
                evaluation.submit_response(codes[0], scores, "", date(world.year, 6, 1))
                if before_commit is not None:
                    before_commit()
                db.session.commit()
            except Exception as exc:  # reported by the asserts below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def hold_open():
        first_done.set()
        second_done.wait(timeout=3)

    def second():
        first_done.wait(timeout=30)
        submit()
        second_done.set()

    threads = [threading.Thread(target=submit, args=(hold_open,)), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(errors) == 1
    assert isinstance(errors[0], evaluation.CodeRejected)
    assert errors[0].reason == "used"
    with app.app_context():
        responses = db.session.scalar(
            sa.select(sa.func.count()).select_from(EvaluationResponse)
        )
        assert responses == 1
