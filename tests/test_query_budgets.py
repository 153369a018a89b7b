"""SQL query budgets per page: a list page's query count must not grow with its rows.

Each test renders a page with a small and a large data set and asserts that
both stay under the page's budget and that the large one needs no more
queries than the small one, so a query per row (an N+1) fails here long
before it shows in a benchmark.
"""

import re
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from certificates.models import Certificate, CertificateStatus
from courses import services as course_services
from lms import audit
from lms.accounts.models import Role
from lms.annual_assessment import services as assessment_services
from lms.annual_assessment.services import seed_default_scheme
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from lms.records.services import current_year
from tests.conftest import database_sessions
from tests.factories import (
    finish_lesson,
    make_course,
    make_department,
    make_institution,
    make_programme,
    make_quiz,
    make_user,
)


@contextmanager
def counted_queries(app):
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def queries_for(app, client, path: str) -> int:
    client.get(path)  # warm caches that a server keeps between requests
    with counted_queries(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    return len(statements)


def _world(people: int, courses: int, lessons: int):
    institution = make_institution()
    department = make_department(institution, "edu", "教育学院")
    hr = make_user(institution, "hr", Role.HR)
    scheme = seed_default_scheme(institution.id, current_year(hr))
    component = scheme.components[0]
    course_list = [make_course(institution, f"c{n}", lessons=lessons) for n in range(courses)]
    programme = make_programme(institution, "p1", course_list)
    counselors = []
    for number in range(people):
        user = make_user(institution, f"u{number}", department=department)
        course_services.enrol(user, programme)
        db.session.add(
            HoursEntry(
                user_id=user.id, source_type="manual", source_id=number, title="专题培训",
                occurred_on=date(2026, 3, 1), year=2026, tier=TrainingTier.SCHOOL,
                kind=TrainingKind.THEMATIC, hours=Decimal("8"),
            )
        )
        db.session.add(
            Certificate(
                serial=f"SR-2026-{number + 1:06d}", verification_code=f"CODE{number:08d}",
                achievement_key=f"test:{number}", holder_id=user.id,
                institution_id=institution.id, programme_id=programme.id,
                holder_name=user.full_name, title=programme.title, hours=Decimal("8"),
                issued_on=date(2026, 3, 1), status=CertificateStatus.VALID,
            )
        )
        assessment = assessment_services.assessment_for(scheme, user)
        assessment_services.record_score(assessment, component, hr, "80")
        counselors.append(user)
    db.session.commit()
    return hr, counselors[0], programme, course_list[0]


SMALL = {"people": 3, "courses": 2, "lessons": 2}
LARGE = {"people": 30, "courses": 6, "lessons": 12}

#: Page -> maximum queries per request, login and session checks included.
#: The learner pages repeat a few per-course lookups (enrolment, completed
#: lessons, quizzes) once per request; the budgets hold them where they are.
BUDGETS = {
    "/people": 12,
    "/people/*/record": 20,
    "/compliance": 24,
    "/certificates/issued": 10,
    "/certificates": 10,
    "/learning": 24,
    "/programmes/*": 20,
    "/courses/*": 20,
    "/courses/*/lessons/*": 16,
    "/admin/audit": 14,
    "/annual-assessment/schemes/*/sheet": 12,
    "/compliance/rules": 7,
}


def _pages(programme, course, lesson, counselor):
    scheme = assessment_services.scheme_of(counselor.institution_id, current_year(counselor))
    return [
        ("hr", "/people"),
        ("hr", f"/annual-assessment/schemes/{scheme.id}/sheet"),
        ("hr", "/compliance/rules"),
        ("hr", f"/people/{counselor.id}/record"),
        ("hr", "/compliance"),
        ("hr", "/certificates/issued"),
        (counselor.username, "/certificates"),
        (counselor.username, "/learning"),
        (counselor.username, f"/programmes/{programme.id}"),
        (counselor.username, f"/courses/{course.id}"),
        (counselor.username, f"/courses/{course.id}/lessons/{lesson.id}"),
    ]


def _budget_key(path: str) -> str:
    parts = ["*" if part.isdigit() else part for part in path.split("/")]
    return "/".join(parts)


@database_sessions
def test_session_check_is_one_query(app, login):
    """Every logged-in request pays for the session check, so it is one statement."""
    with app.app_context():
        make_user(make_institution("floor"), "floor")
        db.session.commit()
    assert queries_for(app, login("floor").client, "/healthz") == 1


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
def test_pages_stay_within_budget(app, app_ctx, login, size):
    hr, counselor, programme, course = _world(**size)
    for username, path in _pages(programme, course, course.lessons[-1], counselor):
        count = queries_for(app, login(username).client, path)
        budget = BUDGETS[_budget_key(path)]
        assert count <= budget, f"{path} ran {count} queries; budget {budget}"


def test_query_count_does_not_grow_with_rows(app, login):
    counts = {}
    for name, size in (("small", SMALL), ("large", LARGE)):
        with app.app_context():
            hr, counselor, programme, course = _world(**size)
            pages = _pages(programme, course, course.lessons[-1], counselor)
            counts[name] = {
                _budget_key(path): queries_for(app, login(username).client, path)
                for username, path in pages
            }
        _empty_tables(app)
    grown = {
        page: (counts["small"][page], counts["large"][page])
        for page in counts["small"]
        if counts["large"][page] > counts["small"][page]
    }
    assert not grown, f"queries grow with rows (small, large): {grown}"


def _empty_tables(app):
    with app.app_context():
        db.session.rollback()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.session.remove()


def _learner_with_programmes(programmes: int):
    institution = make_institution()
    learner = make_user(institution, "many")
    for number in range(programmes):
        courses = [make_course(institution, f"p{number}c{n}", lessons=3) for n in range(3)]
        programme = make_programme(institution, f"p{number}", courses)
        course_services.enrol(learner, programme)
        finish_lesson(learner, courses[0].lessons[0])
    db.session.commit()
    return learner


def test_learning_queries_do_not_grow_with_enrolments(app, login):
    counts = {}
    for programmes in (1, 6):
        with app.app_context():
            learner = _learner_with_programmes(programmes)
            counts[programmes] = queries_for(app, login(learner.username).client, "/learning")
        _empty_tables(app)

    assert counts[6] <= BUDGETS["/learning"]
    assert counts[6] == counts[1], f"queries per enrolment count: {counts}"


def test_learning_reads_missing_profile_once(app, login):
    with app.app_context():
        learner = _learner_with_programmes(2)
        client = login(learner.username).client
    client.get("/learning")
    with counted_queries(app) as statements:
        response = client.get("/learning")
    _empty_tables(app)

    assert response.status_code == 200
    profile_reads = [s for s in statements if "FROM person_profile" in s]
    assert len(profile_reads) == 1, profile_reads


def _quiz_taker(app, questions: int, time_limit_minutes=None) -> tuple[int, dict]:
    """Enrol a learner "taker" in a course with a quiz; return its id and right answers."""
    from tests.factories import correct_answers, make_quiz

    with app.app_context():
        institution = make_institution()
        learner = make_user(institution, "taker")
        course = make_course(institution, "qc", lessons=1)
        quiz = make_quiz(course, questions=questions, time_limit_minutes=time_limit_minutes)
        course_services.enrol(learner, make_programme(institution, "qp", [course]))
        db.session.commit()
        return quiz.id, correct_answers(quiz)


def _start_queries(app, login, questions: int) -> int:
    quiz_id, _answers = _quiz_taker(app, questions)
    session = login("taker")
    with counted_queries(app) as statements:
        response = session.post(f"/quizzes/{quiz_id}/start")
    assert response.status_code == 302
    assert "/attempts/" in response.headers["Location"]
    _empty_tables(app)
    return len(statements)


def test_quiz_start_queries_do_not_grow_with_questions(app, login):
    few = _start_queries(app, login, questions=2)
    many = _start_queries(app, login, questions=20)

    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "postgresql":
        # The session check, the quiz with the learner's attempts, course
        # standing and questions, and one INSERT of the attempt with its
        # questions.
        assert many <= 3
    else:
        # The session check, the quiz with the learner's attempts and course
        # standing, the questions, two INSERTs and BEGIN IMMEDIATE.
        assert many <= 6
    assert many == few, f"queries per question: {few} with 2, {many} with 20"


def _taker_with_attempts(app, login, attempts: int):
    """Return the quiz id and the client of a taker who submitted ``attempts`` attempts."""
    quiz_id, _answers = _quiz_taker(app, questions=2)
    session = login("taker")
    for _ in range(attempts):
        attempt_url = session.post(f"/quizzes/{quiz_id}/start").headers["Location"]
        response = session.post(f"{attempt_url}/submit", data={})
        assert response.status_code == 302, (attempt_url, response.status_code)
    return quiz_id, session


def test_quiz_page_attempts_read_once(app, login):
    """The page shows the attempts, the grade and the attempts left from one read."""
    quiz_id, session = _taker_with_attempts(app, login, attempts=2)

    with counted_queries(app) as statements:
        response = session.get(f"/quizzes/{quiz_id}")

    assert response.status_code == 200
    assert len(_reads_of_attempt_lists(statements)) == 1, statements
    _empty_tables(app)


def _reads_of_attempt_lists(statements: list[str]) -> list[str]:
    """Return the statements that read a learner's attempts at a quiz in order."""
    return [s for s in statements if re.search(r"FROM attempt\s+WHERE.*ORDER BY attempt.number", s, re.S)]


def test_outline_quizzes_attempts_read_once(app, login):
    """The quiz list and the completion check share one read of each."""
    quiz_id, session = _taker_with_attempts(app, login, attempts=1)
    with app.app_context():
        from assessments.models import Quiz

        course_id = db.session.get(Quiz, quiz_id).course_id

    with counted_queries(app) as statements:
        response = session.get(f"/courses/{course_id}")

    assert response.status_code == 200
    quiz_lists = [s for s in statements if re.search(r"FROM quiz\s+WHERE", s)]
    assert len(quiz_lists) == 1, quiz_lists
    assert len(_reads_of_attempt_lists(statements)) == 1, statements
    _empty_tables(app)


def _autosave_queries(app, login, questions: int, time_limit_minutes=None) -> list[str]:
    quiz_id, answers = _quiz_taker(app, questions, time_limit_minutes)
    session = login("taker")
    url = session.post(f"/quizzes/{quiz_id}/start").headers["Location"] + "/answers"
    session.post(url, data=answers)
    with counted_queries(app) as statements:
        response = session.post(url, data=answers)
    assert response.status_code == 200
    assert response.json["saved"] == questions
    _empty_tables(app)
    return statements


def test_autosave_queries_do_not_grow_with_questions(app, login):
    few = _autosave_queries(app, login, questions=2)
    many = _autosave_queries(app, login, questions=20)

    # The session, the attempt with its quiz, and the slots with their
    # questions and answers; SQLite adds BEGIN IMMEDIATE. The choices are not
    # read: a response is checked against the choices the attempt showed.
    assert len(many) <= 4
    assert not any("FROM choice" in statement for statement in many)
    assert len(many) == len(few), f"queries per question: {len(few)} with 2, {len(many)} with 20"
    # The answers arrive as stored, so nothing is written.
    assert not any(s.startswith(("UPDATE", "INSERT")) for s in many)
    # A save that only updates stored answers cannot conflict with a parallel one.
    assert not any("SAVEPOINT" in statement for statement in many)
    # One transaction per request: after the commit nothing reloads the user.
    assert sum(s.replace('"', "").startswith("SELECT user.id") for s in many) <= 1
    assert sum(statement == "BEGIN IMMEDIATE" for statement in many) <= 1


def test_timed_autosave_reads_the_extra_time_once(app, login):
    statements = _autosave_queries(app, login, questions=3, time_limit_minutes=30)

    assert sum("quiz_grant" in statement for statement in statements) == 1


def test_timed_autosave_costs_no_extra_statement(app, login):
    """The learner's extra time comes in the query that reads the attempt."""
    untimed = _autosave_queries(app, login, questions=3)
    timed = _autosave_queries(app, login, questions=3, time_limit_minutes=30)

    assert len(timed) == len(untimed), timed


def test_autosave_writes_only_the_changed_answer(app, login):
    from assessments.models import AttemptAnswer, Choice

    quiz_id, answers = _quiz_taker(app, questions=5)
    session = login("taker")
    url = session.post(f"/quizzes/{quiz_id}/start").headers["Location"] + "/answers"
    session.post(url, data=answers)
    field = next(iter(answers))
    question_id = int(field[1:])
    with app.app_context():
        saved_before = {
            a.question_id: a.saved_at for a in db.session.scalars(sa.select(AttemptAnswer))
        }
        other = db.session.scalar(
            sa.select(Choice.id).where(
                Choice.question_id == question_id, Choice.id != int(answers[field][0])
            )
        )
    changed = dict(answers, **{field: [str(other)]})

    with counted_queries(app) as statements:
        response = session.post(url, data=changed)

    assert response.status_code == 200
    assert response.json["saved"] == 5
    writes = [s for s in statements if s.startswith(("UPDATE", "INSERT"))]
    assert len(writes) == 1, writes
    assert writes[0].startswith("UPDATE attempt_answer"), writes
    with app.app_context():
        rows = {a.question_id: a for a in db.session.scalars(sa.select(AttemptAnswer))}
    assert rows[question_id].response == [other]
    assert rows[question_id].saved_at > saved_before[question_id]
    for row in rows.values():
        if row.question_id != question_id:
            assert row.saved_at == saved_before[row.question_id]
    _empty_tables(app)


def _audit_world(rounds: int) -> None:
    """Add an admin "auditor" and ten audit entries of varied subjects per round.

    Each round adds its own users, departments, course, programme, quiz and
    certificate, so more rounds give the page more subjects to name. Each
    round also has two entries without a subject and one of a missing user.
    """
    institution = make_institution()
    admin = make_user(institution, "auditor", Role.ADMIN)
    for number in range(rounds):
        person = make_user(institution, f"a{number}", full_name=f"审计对象{number}")
        hr = make_user(institution, f"hr{number}", Role.HR)
        before = make_department(institution, f"d{number}a", f"院系甲{number}")
        after = make_department(institution, f"d{number}b", f"院系乙{number}")
        course = make_course(institution, f"ac{number}", lessons=1)
        programme = make_programme(institution, f"ap{number}", [course])
        quiz = make_quiz(course)
        certificate = Certificate(
            serial=f"AU-2026-{number + 1:06d}", verification_code=f"AUDIT{number:08d}",
            achievement_key=f"audit:{number}", holder_id=person.id,
            institution_id=institution.id, programme_id=programme.id,
            holder_name=person.full_name, title=programme.title, hours=Decimal("8"),
            issued_on=date(2026, 3, 1), status=CertificateStatus.VALID,
        )
        db.session.add(certificate)
        db.session.flush()
        role = {"from": "counselor", "to": "hr"}
        scope = {"before": before.id, "after": after.id}
        grant = {"user_id": person.id, "extra_minutes": 5, "extra_attempts": 1, "reason": "病假"}
        entries = [
            ("account.role_changed", "user", person.id, role),
            ("profile.updated", "person_profile", person.id, {"changes": {"phone": [None, "1"]}}),
            ("account.hr_scope_changed", "user", hr.id, scope),
            ("certificate.issued", "certificate", certificate.id,
             {"serial": certificate.serial, "hours": "8"}),
            ("course.published", "course", course.id, {}),
            ("programme.published", "programme", programme.id, {}),
            ("quiz.grant_set", "quiz", quiz.id, grant),
            ("job.pause", "job", 0, {"job_id": "nightly"}),
            ("account.login_failed", "user", 0, {"username": "nobody", "ip": "127.0.0.1"}),
            ("account.disabled", "user", 900000 + number, {}),
        ]
        for action, subject_type, subject_id, data in entries:
            audit.record(action, subject_type, subject_id, action, actor_id=admin.id,
                         institution_id=institution.id, data=data)
    db.session.commit()


def test_audit_log_queries_do_not_grow_with_rows(app, login):
    counts = {}
    for rounds in (1, 3):
        with app.app_context():
            _audit_world(rounds)
        counts[rounds] = queries_for(app, login("auditor").client, "/admin/audit")
        _empty_tables(app)

    assert counts[3] <= BUDGETS["/admin/audit"]
    assert counts[3] == counts[1], f"queries per audit row: {counts}"


def _institution_with_people(people: int):
    institution = make_institution()
    department = make_department(institution, "edu", "教育学院")
    make_user(institution, "hr", Role.HR)
    for number in range(people):
        make_user(institution, f"u{number:04d}", department=department)
    db.session.commit()
    return department


def test_people_list_queries_do_not_grow_with_people(app, login):
    """The people list pages in SQL, so 130 people cost what 5 do."""
    counts = {}
    for people in (5, 130):
        with app.app_context():
            department = _institution_with_people(people)
            hr = login("hr").client
            paths = [
                "/people",
                f"/people?department={department.id}&status=active&q=%E7%94%A8",
            ]
            counts[people] = [queries_for(app, hr, path) for path in paths]
        _empty_tables(app)
    assert counts[130] == counts[5]
    assert max(counts[130]) <= BUDGETS["/people"]


def test_people_list_loads_one_page_of_people(app, login):
    """The people list loads only the people it shows, not the whole institution."""
    from lms.accounts.models import User

    with app.app_context():
        _institution_with_people(130)
    hr = login("hr").client
    loaded = []

    def remember(user, context):
        loaded.append(user.id)

    event.listen(User, "load", remember)
    try:
        response = hr.get("/people?page=2")
    finally:
        event.remove(User, "load", remember)
    assert response.status_code == 200
    # The 50 people of the page and the signed-in HR officer.
    assert len(set(loaded)) <= 51


def _institution_with_applications(applications: int, waiting: bool = False):
    """Create ``applications`` approved applications, or waiting ones if ``waiting``."""
    from datetime import datetime, timezone

    from lms.promotion.models import (
        ApplicationStatus,
        PromotionApplication,
        PromotionTrack,
    )
    from tests.promotion.conftest import make_rule

    department = _institution_with_people(applications)
    rule = make_rule(department.institution_id)
    from lms.accounts.models import User

    counselors = sa.select(User).where(User.department_id == department.id)
    for person in db.session.scalars(counselors):
        db.session.add(
            PromotionApplication(
                rule_id=rule.id, applicant_id=person.id,
                institution_id=person.institution_id, department_id=department.id,
                track=PromotionTrack.PROFESSIONAL_TITLE, from_value="讲师",
                to_value="副教授",
                status=ApplicationStatus.DEPARTMENT_REVIEW
                if waiting
                else ApplicationStatus.APPROVED,
                closed_at=None if waiting else datetime(2026, 6, 1, tzinfo=timezone.utc),
            )
        )
    db.session.commit()


def test_application_list_queries_do_not_grow(app, login):
    """The list of all applications pages in SQL, so 130 cost what 5 do."""
    counts = {}
    for applications in (5, 130):
        with app.app_context():
            _institution_with_applications(applications)
            hr = login("hr").client
            paths = ["/promotions/review", "/promotions/review?page=2&q=%E7%94%A8"]
            if applications == 5:
                paths[1] = "/promotions/review?q=%E7%94%A8"
            counts[applications] = [queries_for(app, hr, path) for path in paths]
        _empty_tables(app)
    assert counts[130] == counts[5]


def test_application_list_loads_one_page(app, login):
    """The review page loads the shown page of applications, not all of them."""
    from lms.promotion.models import PromotionApplication

    with app.app_context():
        _institution_with_applications(130)
    hr = login("hr").client
    loaded = []

    def remember(application, context):
        loaded.append(application.id)

    event.listen(PromotionApplication, "load", remember)
    try:
        response = hr.get("/promotions/review?page=2")
    finally:
        event.remove(PromotionApplication, "load", remember)
    assert response.status_code == 200
    # One page of 50. The applications are closed, so the review queue adds none.
    assert len(set(loaded)) <= 50


def test_review_queue_queries_do_not_grow(app, login):
    """The review queue pages in SQL, so 130 waiting applications cost what 5 do."""
    counts = {}
    for applications in (5, 130):
        with app.app_context():
            _institution_with_applications(applications, waiting=True)
            hr = login("hr").client
            paths = ["/promotions/review", "/promotions/review?queue_page=2&status=approved"]
            if applications == 5:
                paths[1] = "/promotions/review?status=approved"
            counts[applications] = [queries_for(app, hr, path) for path in paths]
        _empty_tables(app)
    assert counts[130] == counts[5]


def test_review_queue_loads_one_page(app, login):
    """The review page loads the shown page of the queue, not every waiting one."""
    from lms.promotion.models import PromotionApplication

    with app.app_context():
        _institution_with_applications(130, waiting=True)
    hr = login("hr").client
    loaded = []

    def remember(application, context):
        loaded.append(application.id)

    event.listen(PromotionApplication, "load", remember)
    try:
        response = hr.get("/promotions/review?queue_page=3&status=approved")
    finally:
        event.remove(PromotionApplication, "load", remember)
    assert response.status_code == 200
    # The third page of the queue has the last 30, and no application is approved.
    assert len(set(loaded)) == 30


def _gradebook_world(learners: int, quizzes: int, tasks: int) -> int:
    """Add a course with quizzes, tasks and learners who took each; return its id."""
    from assessments import services as quiz_services
    from assessments.tasks_models import TaskSubmission
    from courses.models import CourseCompletion
    from lms.db import now_utc
    from tests.factories import make_department, make_rubric, make_task

    institution = make_institution()
    department = make_department(institution, "edu", "教育学院")
    author = make_user(institution, "author", Role.TRAINER)
    course = make_course(institution, "gb", lessons=3, author=author)
    quiz_list = [make_quiz(course) for _number in range(quizzes)]
    rubric = make_rubric(institution)
    task_list = [make_task(course, rubric, author, f"任务{n}") for n in range(tasks)]
    programme = make_programme(institution, "p-gb", [course])
    now = now_utc()
    for number in range(learners):
        learner = make_user(institution, f"u{number}", department=department)
        course_services.enrol(learner, programme)
        finish_lesson(learner, course.lessons[0])
        for quiz in quiz_list:
            attempt = quiz_services.start_attempt(learner, quiz)
            right = {q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions}
            quiz_services.submit_attempt(attempt, right)
        for task in task_list:
            db.session.add(
                TaskSubmission(
                    task_id=task.id, user_id=learner.id, number=1,
                    anonymous_code=f"T{task.id}U{learner.id}",
                    final_score=Decimal(70) if number % 2 else None,
                    released_at=now if number % 2 else None,
                )
            )
        if number % 3 == 0:
            db.session.add(
                CourseCompletion(user_id=learner.id, course_id=course.id, hours=Decimal(2))
            )
    db.session.commit()
    return course.id


def test_gradebook_queries_do_not_grow_with_learners_or_columns(app, login):
    """The gradebook reads each kind of figure once, whatever its rows and columns."""
    counts = {}
    for learners, quizzes, tasks in ((3, 1, 1), (30, 3, 3)):
        with app.app_context():
            course_id = _gradebook_world(learners, quizzes, tasks)
        author = login("author").client
        counts[learners] = [
            queries_for(app, author, f"/manage/courses/{course_id}/gradebook"),
            queries_for(app, author, f"/manage/courses/{course_id}/gradebook?status=completed"),
        ]
        _empty_tables(app)
    assert counts[30] == counts[3]
    assert counts[3][0] <= 24, counts
