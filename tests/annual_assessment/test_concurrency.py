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
from tests.overlap import overlap

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

    def finalise():
        assessment = db.session.get(AnnualAssessment, assessment_id)
        services.finalise(
            assessment,
            db.session.get(User, world.hr),
            date(world.year, 12, 20),
            "未提交，按规定定档",
        )

    errors = overlap(app, finalise)

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


def test_parallel_first_writes_share_assessment(app, world, postgres_only):
    """Two first writes to one counselor's assessment, such as two HR officers scoring."""
    ids = []

    def open_assessment():
        # The second insert waits on the unique key until the first transaction ends.
        scheme = db.session.get(AssessmentScheme, world.scheme)
        assessment = services.assessment_for(scheme, db.session.get(User, world.bob))
        ids.append(assessment.id)

    errors = overlap(app, open_assessment)

    assert errors == []
    assert len(ids) == 2
    assert ids[0] == ids[1]


def test_parallel_imports_in_other_orders(app, world, postgres_only, monkeypatch):
    """Two score files that list the same counselors in opposite orders."""
    from lms.annual_assessment import importing

    with app.app_context():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        people = [db.session.get(User, world.alice), db.session.get(User, world.bob)]
        for person in people:
            services.assessment_for(scheme, person)
        db.session.commit()

    first_scored = threading.Event()
    second_done = threading.Event()
    record_score = services.record_score

    def record_and_hold(*args, **kwargs):
        row = record_score(*args, **kwargs)
        if threading.current_thread().name == "first" and not first_scored.is_set():
            # Hold the first lock while the second file starts.
            first_scored.set()
            second_done.wait(timeout=3)
        return row

    monkeypatch.setattr(services, "record_score", record_and_hold)
    errors = []

    def save(order):
        with app.app_context():
            try:
                scheme = db.session.get(AssessmentScheme, world.scheme)
                component = next(c for c in scheme.components if c.name == "学工部考核")
                hr = db.session.get(User, world.hr)
                parsed = importing.Parsed()
                for number, person_id in enumerate(order, start=2):
                    person = db.session.get(User, person_id)
                    parsed.rows.append(importing.ScoreRow(number, person, component, "80"))
                importing.save_all(parsed, scheme, hr)
                db.session.commit()
            except Exception as exc:  # reported by the asserts below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def second():
        first_scored.wait(timeout=30)
        save([world.bob, world.alice])
        second_done.set()

    threads = [
        threading.Thread(target=save, args=([world.alice, world.bob],), name="first"),
        threading.Thread(target=second, name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []


def test_parallel_new_schemes_one_saved(app, world, postgres_only):
    """The new-scheme form sent twice at once, as by a double click."""
    problems = []

    def create():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        saved, found = services.save_scheme(
            world.uni,
            world.year + 1,
            db.session.get(User, world.hr),
            title="next year",
            min_sample_share=scheme.min_sample_share,
            components=services.component_specs(scheme),
            bands=services.band_specs(scheme),
        )
        problems.append(found)

    errors = overlap(app, create)

    assert errors == []
    assert problems[0] == []
    assert [problem.field for problem in problems[1]] == ["year"]


def test_scheme_edit_during_first_score(app, world, postgres_only, monkeypatch):
    """Institution HR saves the scheme while the year's first score is entered."""
    from lms.audit import AuditEntry
    from lms.annual_assessment.models import ComponentScore

    checked = threading.Event()
    second_done = threading.Event()
    is_locked = services.is_locked

    def check_and_hold(scheme):
        found = is_locked(scheme)
        if threading.current_thread().name == "edit":
            checked.set()
            second_done.wait(timeout=3)
        return found

    monkeypatch.setattr(services, "is_locked", check_and_hold)
    errors = []

    def edit():
        with app.app_context():
            try:
                scheme = db.session.get(AssessmentScheme, world.scheme)
                saved, problems = services.save_scheme(
                    world.uni,
                    world.year,
                    db.session.get(User, world.hr),
                    title="edited",
                    min_sample_share=scheme.min_sample_share,
                    components=services.component_specs(scheme),
                    bands=services.band_specs(scheme),
                    scheme=scheme,
                )
                db.session.commit()
            except Exception as exc:  # reported by the asserts below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    def score():
        checked.wait(timeout=30)
        with app.app_context():
            try:
                scheme = db.session.get(AssessmentScheme, world.scheme)
                component = next(c for c in scheme.components if c.name == "学工部考核")
                assessment = services.assessment_for(scheme, db.session.get(User, world.bob))
                services.record_score(assessment, component, db.session.get(User, world.hr), "80")
                db.session.commit()
            except Exception as exc:  # reported by the asserts below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()
        second_done.set()

    threads = [threading.Thread(target=edit, name="edit"), threading.Thread(target=score)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with app.app_context():
        scored = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "annual_assessment.scored")
        )
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(ComponentScore))
    # The edit keeps the components in place, so the score waits for it and
    # is stored under the same component: audited once, stored once.
    assert errors == []
    assert scored == stored == 1


def test_score_page_after_scheme_edit(app, world, postgres_only, monkeypatch, login, english):
    """The score form posted while institution HR saves the scheme keeps the score."""
    from lms.annual_assessment.models import ComponentScore

    checked = threading.Event()
    posted = threading.Event()
    is_locked = services.is_locked

    def check_and_hold(scheme):
        found = is_locked(scheme)
        if threading.current_thread().name == "edit":
            checked.set()
            posted.wait(timeout=3)
        return found

    monkeypatch.setattr(services, "is_locked", check_and_hold)

    def edit():
        with app.app_context():
            scheme = db.session.get(AssessmentScheme, world.scheme)
            services.save_scheme(
                world.uni,
                world.year,
                db.session.get(User, world.hr),
                title="edited",
                min_sample_share=scheme.min_sample_share,
                components=services.component_specs(scheme),
                bands=services.band_specs(scheme),
                scheme=scheme,
            )
            db.session.commit()
            db.session.remove()

    hr = login("hr")
    component = world.components["学工部考核"]
    url = f"/annual-assessment/schemes/{world.scheme}/people/{world.bob}/components/{component}"
    thread = threading.Thread(target=edit, name="edit")
    thread.start()
    checked.wait(timeout=30)
    response = hr.post(url, {"score": "80"})
    posted.set()
    thread.join(timeout=60)

    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalars(
            sa.select(ComponentScore.score).where(ComponentScore.component_id == component)
        ).all()
    assert [str(score) for score in stored] == ["80.0"]


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

    def submit():
        evaluation.submit_response(codes[0], scores, "", date(world.year, 6, 1))

    errors = overlap(app, submit)

    assert len(errors) == 1
    assert isinstance(errors[0], evaluation.CodeRejected)
    assert errors[0].reason == "used"
    with app.app_context():
        responses = db.session.scalar(
            sa.select(sa.func.count()).select_from(EvaluationResponse)
        )
        assert responses == 1


def _open_evaluation(app, world):
    from lms.annual_assessment import evaluation

    with app.app_context():
        scheme = db.session.get(AssessmentScheme, world.scheme)
        assessment = services.assessment_for(scheme, db.session.get(User, world.alice))
        opened, codes = evaluation.open_evaluation(
            assessment, db.session.get(User, world.hr), "10"
        )
        scores = {d.id: 90 for d in scheme.dimensions}
        db.session.commit()
        return opened.id, codes, scores


def _first_then_second(first, second):
    """Return work that runs ``first`` on its first call and ``second`` after."""
    calls = []

    def work():
        calls.append(None)
        (first if len(calls) == 1 else second)()

    return work


def test_submit_waits_for_void_of_its_code(app, world, postgres_only):
    """HR voids a code while a student submits it: the submission finds it void."""
    from lms.annual_assessment import evaluation, evaluation_withdrawal
    from lms.annual_assessment.models import EvaluationCode, EvaluationResponse, StudentEvaluation

    evaluation_id, codes, scores = _open_evaluation(app, world)

    def void():
        found = db.session.get(StudentEvaluation, evaluation_id)
        evaluation_withdrawal.void_codes(found, db.session.get(User, world.hr), "1")

    def submit():
        evaluation.submit_response(codes[0], scores, "", date(world.year, 6, 1))

    errors = overlap(app, _first_then_second(void, submit))

    assert len(errors) == 1
    assert isinstance(errors[0], evaluation.CodeRejected)
    assert errors[0].reason == "void"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 0
        first = db.session.scalar(sa.select(EvaluationCode).order_by(EvaluationCode.id))
        assert first.is_void
        assert not first.used


def test_submit_waits_for_discard(app, world, postgres_only):
    """HR discards the evaluation while a student submits: the code is then unknown."""
    from lms.annual_assessment import evaluation, evaluation_withdrawal
    from lms.annual_assessment.models import EvaluationCode, EvaluationResponse, StudentEvaluation

    evaluation_id, codes, scores = _open_evaluation(app, world)

    def discard():
        found = db.session.get(StudentEvaluation, evaluation_id)
        evaluation_withdrawal.discard(found, db.session.get(User, world.hr), "误开")

    def submit():
        evaluation.submit_response(codes[0], scores, "", date(world.year, 6, 1))

    errors = overlap(app, _first_then_second(discard, submit))

    assert len(errors) == 1
    assert isinstance(errors[0], evaluation.CodeRejected)
    assert errors[0].reason == "unknown"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(EvaluationResponse.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(EvaluationCode.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(StudentEvaluation.id))) == 0
