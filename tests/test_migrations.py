"""The Alembic revisions build exactly the schema the models declare."""

import os
import warnings

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_babel import force_locale
from flask_migrate import downgrade, upgrade

from lms import create_app
from lms.extensions import db
from lms.notifications.models import Notification


@pytest.fixture
def fresh_app(tmp_path):
    """Yield an app on an empty database of the backend under test."""
    url = os.environ.get("LMS_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite3"}
        )
        return

    # A private database, so the migrations start from nothing on PostgreSQL too.
    name = f"shuren_migrations_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    private_url = sa.engine.make_url(url).set(database=name)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": private_url.render_as_string(hide_password=False),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def test_upgrade_matches_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection, warnings.catch_warnings():
            # SQLite's dialect cannot reflect an index on an expression such
            # as lower(username); the plan tests check that index instead.
            warnings.filterwarnings(
                "ignore", "Skipped unsupported reflection of expression-based index"
            )
            warnings.filterwarnings("ignore", ".*skipping metadata-specified expression-based")
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_has_every_check_constraint(fresh_app):
    """Alembic does not compare CHECK constraints, so compare their names here."""
    with fresh_app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        missing = []
        for table in db.metadata.sorted_tables:
            declared = {
                str(constraint.name)
                for constraint in table.constraints
                if isinstance(constraint, sa.CheckConstraint)
            }
            found = {c["name"] for c in inspector.get_check_constraints(table.name)}
            missing += [f"{table.name}.{name}" for name in sorted(declared - found)]
    assert missing == []


def test_downgrade_to_base_and_back(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
    assert set(db.metadata.tables) <= tables


#: The schema of the first release; databases of that release must upgrade.
RELEASE_REVISION = "a1c023be0e5d"

RELEASE_ROWS = [
    ("institution", {"id": 1, "code": "uni-a", "name": "甲大学", "timezone": "Asia/Shanghai",
                     "serial_prefix": "SR"}),
    ("department", {"id": 1, "institution_id": 1, "code": "edu", "name": "教育学院"}),
    ("user", {"id": 1, "username": "counselor1", "full_name": "张老师", "role": "counselor",
              "post": "full_time_counselor", "institution_id": 1, "department_id": 1,
              "active": True, "created_at": "2026-01-05 08:00:00.000000"}),
    ("user", {"id": 2, "username": "hr", "full_name": "钱人事", "role": "hr",
              "institution_id": 1, "active": True,
              "created_at": "2026-01-05 08:00:00.000000"}),
    ("competency_framework", {"id": 1, "identifier": "6f1c7a2e-0000-4000-8000-000000000001",
                              "code": "counselor-2014", "title": "高等学校辅导员职业能力标准",
                              "version": "1"}),
    ("competency_level", {"id": 1, "framework_id": 1, "code": "junior", "name": "初级",
                          "position": 1}),
    ("competency_area", {"id": 1, "framework_id": 1, "code": "a1", "name": "思想政治教育",
                         "position": 1}),
    ("competency_item", {"id": 1, "identifier": "6f1c7a2e-0000-4000-8000-000000000002",
                         "framework_id": 1, "level_id": 1, "area_id": 1, "code": "1.1",
                         "summary": "开展思想理论教育"}),
    # A framework a trainer made and published through the app. The audit
    # entry takes its id from the sequence, which later logins use too.
    ("user", {"id": 3, "username": "trainer", "full_name": "孙培训", "role": "trainer",
              "institution_id": 1, "active": True,
              "created_at": "2026-01-05 08:00:00.000000"}),
    # The only institution's administrator runs the shared jobs after the upgrade.
    ("user", {"id": 4, "username": "admin", "full_name": "刘管理", "role": "admin",
              "institution_id": 1, "active": True,
              "created_at": "2026-01-05 08:00:00.000000"}),
    ("competency_framework", {"id": 2, "identifier": "6f1c7a2e-0000-4000-8000-000000000003",
                              "code": "uni-a-own", "title": "甲大学辅导员能力框架",
                              "version": "1"}),
    ("audit_entry", {"created_at": "2026-02-01 08:00:00.000000", "actor_id": 3,
                     "action": "framework.published", "subject_type": "framework",
                     "subject_id": 2, "summary": "甲大学辅导员能力框架 (1)", "data": "{}"}),
    ("course", {"id": 1, "institution_id": 1, "code": "c1", "title": "心理危机识别",
                "summary": "", "credit_hours": 2, "status": "published"}),
    ("course_competency", {"course_id": 1, "item_id": 1}),
    ("programme", {"id": 1, "institution_id": 1, "code": "p1", "title": "岗前培训",
                   "summary": "", "tier": "school", "kind": "pre_job", "level": "junior",
                   "audience": "专职辅导员", "status": "published"}),
    ("programme_course", {"id": 1, "programme_id": 1, "course_id": 1, "position": 1,
                          "required": True}),
    ("lesson", {"id": 1, "course_id": 1, "position": 1, "title": "第一课", "kind": "text",
                "body_html": "<p>正文</p>", "duration_minutes": 45}),
    ("enrolment", {"id": 1, "user_id": 1, "programme_id": 1,
                   "enrolled_at": "2026-03-01 08:00:00.000000",
                   "completed_at": "2026-03-02 08:00:00.000000"}),
    ("lesson_progress", {"id": 1, "user_id": 1, "lesson_id": 1,
                         "completed_at": "2026-03-02 08:00:00.000000"}),
    ("course_completion", {"id": 1, "user_id": 1, "course_id": 1, "enrolment_id": 1,
                           "completed_at": "2026-03-02 08:00:00.000000", "hours": 2}),
    ("hours_entry", {"id": 1, "user_id": 1, "source_type": "course_completion",
                     "source_id": 1, "title": "心理危机识别", "occurred_on": "2026-03-02",
                     "year": 2026, "tier": "school", "kind": "pre_job", "hours": 2,
                     "created_at": "2026-03-02 08:00:00.000000"}),
    ("certificate", {"id": 1, "serial": "SR-2026-000001", "verification_code": "ABCDEFGHJKMN",
                     "achievement_key": "programme:1:user:1", "holder_id": 1,
                     "institution_id": 1, "programme_id": 1, "holder_name": "张老师",
                     "title": "岗前培训", "hours": 2, "issued_on": "2026-03-02",
                     "status": "valid", "render_data": "{}",
                     "created_at": "2026-03-02 08:00:00.000000"}),
]


def test_upgrade_from_release_keeps_data(fresh_app):
    """A database of the first release, with data, upgrades and still serves its users."""
    from werkzeug.security import generate_password_hash

    from tests.conftest import TEST_PASSWORD, LoggedIn

    password_hash = generate_password_hash(TEST_PASSWORD, "pbkdf2:sha256:1000")
    with fresh_app.app_context():
        upgrade(revision=RELEASE_REVISION)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in RELEASE_ROWS:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                if table_name == "user":
                    row = {**row, "password_hash": password_hash}
                # Reflected SQLite DATETIME and DATE columns want Python values.
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        counts = {
            name: db.session.scalar(sa.text(f'SELECT COUNT(*) FROM "{name}"'))
            for name, _ in RELEASE_ROWS
        }
        owners = dict(db.session.execute(
            sa.text("SELECT id, institution_id FROM competency_framework")
        ).all())
        # The course completion's hours belong to the programme it completed.
        training = db.session.execute(
            sa.text("SELECT training_type, training_id FROM hours_entry WHERE id = 1")
        ).one()
        operators = db.session.scalars(
            sa.text('SELECT username FROM "user" WHERE platform_operator')
        ).all()
        db.session.remove()
    assert tuple(training) == ("programme", 1)
    assert counts["user"] == 4
    assert operators == ["admin"]
    # The seeded standard stays national; the published one is its institution's.
    assert owners == {1: None, 2: 1}
    assert all(counts[name] >= 1 for name, _ in RELEASE_ROWS)

    counselor = LoggedIn(fresh_app.test_client(), "counselor1")
    for path in ("/learning", "/certificates", "/certificates/SR-2026-000001", "/people/1/record"):
        assert counselor.client.get(path).status_code == 200, path
    hr = LoggedIn(fresh_app.test_client(), "hr")
    for path in ("/people", "/compliance", "/certificates/issued"):
        assert hr.client.get(path).status_code == 200, path


def _python_value(column_type, value):
    from datetime import date, datetime

    if isinstance(value, str) and isinstance(column_type, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and isinstance(column_type, sa.Date):
        return date.fromisoformat(value)
    if isinstance(column_type, sa.JSON) and isinstance(value, str):
        import json

        return json.loads(value)
    return value


def test_true_false_choices_become_data(fresh_app):
    """Choices stored as 正确/错误 become true/false, other labels stay, feedback is ''."""
    rows = [
        ("institution", {"id": 1, "code": "uni-a", "name": "甲大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SR"}),
        ("question_bank", {"id": 1, "institution_id": 1, "name": "题库", "description": "",
                           "created_at": "2026-01-05 08:00:00.000000"}),
        ("question_category", {"id": 1, "bank_id": 1, "name": "题库"}),
        ("question", {"id": 1, "category_id": 1, "position": 1, "kind": "true_false",
                      "text": "判断", "points": 1, "scoring": "all_or_nothing",
                      "answer_key": "{}", "explanation": ""}),
        ("question", {"id": 2, "category_id": 1, "position": 2, "kind": "single",
                      "text": "单选", "points": 1, "scoring": "all_or_nothing",
                      "answer_key": "{}", "explanation": ""}),
        ("choice", {"id": 1, "question_id": 1, "position": 1, "text": "正确",
                    "is_correct": False}),
        ("choice", {"id": 2, "question_id": 1, "position": 2, "text": "错误",
                    "is_correct": True}),
        ("choice", {"id": 3, "question_id": 2, "position": 1, "text": "正确",
                    "is_correct": True}),
    ]
    with fresh_app.app_context():
        upgrade(revision="5e23dc16ebdb")
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        upgraded = db.session.execute(
            sa.text("SELECT id, text, feedback FROM choice ORDER BY id")
        ).all()
        db.session.remove()
        downgrade(revision="5e23dc16ebdb")
        downgraded = db.session.scalars(sa.text("SELECT text FROM choice ORDER BY id")).all()
        db.session.remove()

    assert [tuple(row) for row in upgraded] == [
        (1, "true", ""), (2, "false", ""), (3, "正确", "")
    ]
    assert downgraded == ["正确", "错误", "正确"]


#: The revision before course co-teachers, whose courses may lack an author.
BEFORE_CO_TEACHERS = "bad675862c76"


def test_course_authors_recovered_from_creation_entries(fresh_app):
    """A course without author gets the creator its ``course.created`` entry names.

    Course 1 has such an entry, course 2 has only a publication entry, and
    course 3 names a creator of another institution, so only course 1 gets
    an author. Course 4 keeps the author it has.
    """
    def course(course_id: int, author_id=None) -> tuple:
        return ("course", {"id": course_id, "institution_id": 1, "code": f"c{course_id}",
                           "title": f"课程{course_id}", "summary": "", "credit_hours": 2,
                           "status": "draft", "author_id": author_id})

    def entry(action: str, actor_id: int, course_id: int) -> tuple:
        return ("audit_entry", {"created_at": "2026-02-01 08:00:00.000000",
                                "actor_id": actor_id, "action": action,
                                "subject_type": "course", "subject_id": course_id,
                                "summary": f"c{course_id}", "data": "{}",
                                "institution_id": 1})

    rows = [
        ("institution", {"id": 1, "code": "uni-a", "name": "甲大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SR"}),
        ("institution", {"id": 2, "code": "uni-b", "name": "乙大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SB"}),
        ("user", {"id": 1, "username": "trainer", "full_name": "孙培训", "role": "trainer",
                  "institution_id": 1, "active": True, "password_hash": "x",
                  "created_at": "2026-01-05 08:00:00.000000"}),
        ("user", {"id": 2, "username": "trainer-b", "full_name": "周培训",
                  "role": "trainer", "institution_id": 2, "active": True,
                  "password_hash": "x", "created_at": "2026-01-05 08:00:00.000000"}),
        course(1), course(2), course(3), course(4, author_id=2),
        entry("course.created", 1, 1),
        entry("course.published", 1, 2),
        entry("course.created", 2, 3),
        entry("course.created", 1, 4),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_CO_TEACHERS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        authors = dict(
            db.session.execute(sa.text("SELECT id, author_id FROM course")).all()
        )
        db.session.remove()
        downgrade(revision=BEFORE_CO_TEACHERS)
        kept = dict(db.session.execute(sa.text("SELECT id, author_id FROM course")).all())
        db.session.remove()

    assert authors == {1: 1, 2: None, 3: None, 4: 2}
    assert kept == authors


BEFORE_CONTEST_OWNERS = "b6d2e8f41a07"


def test_contest_owners_recovered_from_first_save(fresh_app):
    """A contest gets as owner the actor of its oldest ``contest.saved`` entry.

    Contest 1 was created by the trainer and later saved by the administrator.
    Contest 2 has no entry, and contest 3 names a creator of another
    institution, so neither gets an owner.
    """
    def contest(contest_id: int) -> tuple:
        return ("contest", {"id": contest_id, "institution_id": 1,
                            "title": f"大赛{contest_id}", "award_mode": "rank_share",
                            "first_tier": 10, "second_tier": 20, "third_tier": 30,
                            "created_at": "2026-02-01 08:00:00.000000"})

    def entry(entry_id: int, actor_id: int, contest_id: int) -> tuple:
        return ("audit_entry", {"id": entry_id, "created_at": "2026-02-01 08:00:00.000000",
                                "actor_id": actor_id, "action": "contest.saved",
                                "subject_type": "contest", "subject_id": contest_id,
                                "summary": f"大赛{contest_id}", "data": "{}",
                                "institution_id": 1})

    def person(user_id: int, username: str, role: str, institution_id: int) -> tuple:
        return ("user", {"id": user_id, "username": username, "full_name": username,
                         "role": role, "institution_id": institution_id, "active": True,
                         "password_hash": "x", "created_at": "2026-01-05 08:00:00.000000"})

    rows = [
        ("institution", {"id": 1, "code": "uni-a", "name": "甲大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SR"}),
        ("institution", {"id": 2, "code": "uni-b", "name": "乙大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SB"}),
        person(1, "trainer", "trainer", 1),
        person(2, "admin", "admin", 1),
        person(3, "trainer-b", "trainer", 2),
        contest(1), contest(2), contest(3),
        entry(1, 1, 1),
        entry(2, 2, 1),
        entry(3, 3, 3),
        entry(4, 2, 3),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_CONTEST_OWNERS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        owners = dict(db.session.execute(sa.text("SELECT id, owner_id FROM contest")).all())
        db.session.remove()
        downgrade(revision=BEFORE_CONTEST_OWNERS)
        db.session.remove()

    assert owners == {1: 1, 2: None, 3: None}


#: The revision before ledger rows recorded training days.
BEFORE_TRAINING_DAYS = "b9160b43005f"


def test_training_days_filled_from_external_trainings(fresh_app):
    """An external training's rows get its days per year, its corrections minus them."""
    entry = {"user_id": 1, "source_type": "external_training", "source_id": 1,
             "title": "省级专题培训", "tier": "provincial", "kind": "thematic",
             "created_at": "2026-01-10 08:00:00.000000"}
    rows = [
        RELEASE_ROWS[0],
        ("user", {"id": 1, "username": "counselor1", "full_name": "张老师",
                  "role": "counselor", "institution_id": 1, "active": True,
                  "password_hash": "x",
                  "created_at": "2026-01-05 08:00:00.000000"}),
        ("external_training", {"id": 1, "user_id": 1, "title": "省级专题培训",
                               "organiser": "省委教育工委", "tier": "provincial",
                               "kind": "thematic", "start_date": "2025-12-25",
                               "end_date": "2026-01-05", "hours": 72,
                               "evidence_path": "e1", "evidence_name": "证书.pdf",
                               "evidence_type": "application/pdf", "status": "approved",
                               "submitted_at": "2026-01-06 08:00:00.000000",
                               "review_reason": ""}),
        ("hours_entry", {**entry, "id": 1, "occurred_on": "2025-12-31", "year": 2025,
                         "hours": 42}),
        ("hours_entry", {**entry, "id": 2, "occurred_on": "2026-01-05", "year": 2026,
                         "hours": 30}),
        ("hours_entry", {**entry, "id": 3, "source_type": None, "source_id": None,
                         "corrects_id": 2, "occurred_on": "2026-01-05", "year": 2026,
                         "hours": -30}),
        ("hours_entry", {**entry, "id": 4, "source_type": "manual", "source_id": 9,
                         "occurred_on": "2026-02-01", "year": 2026, "hours": 8}),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_TRAINING_DAYS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        days = dict(db.session.execute(
            sa.text("SELECT id, days FROM hours_entry ORDER BY id")
        ).all())
        db.session.remove()

    assert {key: None if value is None else float(value) for key, value in days.items()} == {
        1: 7.0, 2: 5.0, 3: -5.0, 4: None
    }


#: The revision before electives were credited only up to the programme's minimum.
BEFORE_ELECTIVE_CAP = "f3a8c61d07b2"


def test_elective_hours_capped_on_upgrade(fresh_app):
    """Electives beyond the minimum are taken back in completion order, once."""
    from datetime import date, datetime, timedelta, timezone
    from decimal import Decimal

    from courses.models import CourseCompletion, Enrolment
    from lms.records.models import HoursEntry, ProgressionEntry, ProgressionKind, TrainingTier
    from tests.factories import make_course, make_institution, make_programme, make_user

    with fresh_app.app_context():
        upgrade(revision=BEFORE_ELECTIVE_CAP)
        uni = make_institution()
        user = make_user(uni, "counselor1")
        required = make_course(uni, "r", title="必修课", hours="2")
        first = make_course(uni, "e1", title="选修一", hours="3")
        second = make_course(uni, "e2", title="选修二", hours="2")
        programme = make_programme(uni, "p", [required, first, second])
        programme.min_elective_hours = Decimal(4)
        for link in programme.courses[1:]:
            link.required = False
        enrolment = Enrolment(user_id=user.id, programme_id=programme.id)
        db.session.add(enrolment)
        db.session.flush()
        start = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
        for offset, course in enumerate([required, first, second]):
            completion = CourseCompletion(
                user_id=user.id, course_id=course.id, enrolment_id=enrolment.id,
                completed_at=start + timedelta(days=offset), hours=course.credit_hours,
            )
            db.session.add(completion)
            db.session.flush()
            db.session.add(HoursEntry(
                user_id=user.id, source_type="course_completion", source_id=completion.id,
                training_type="programme", training_id=programme.id, title=course.title,
                occurred_on=date(2026, 3, 1 + offset), year=2026,
                tier=TrainingTier.SCHOOL, hours=course.credit_hours,
            ))
            db.session.add(ProgressionEntry(
                user_id=user.id, kind=ProgressionKind.TRAINING,
                occurred_on=date(2026, 3, 1 + offset), title=course.title,
                detail={"hours": str(course.credit_hours)},
                source_type="course_completion", source_id=completion.id,
            ))
        db.session.commit()
        db.session.remove()

        upgrade()
        net = db.session.execute(
            sa.text("SELECT title, SUM(hours) FROM hours_entry GROUP BY title")
        ).all()
        completion_hours = db.session.execute(
            sa.text("SELECT course_id, hours FROM course_completion ORDER BY course_id")
        ).all()
        timeline = db.session.execute(
            sa.text("SELECT detail FROM progression_entry"
                    " WHERE source_type = 'programme_hours_cap'")
        ).all()
        db.session.remove()
        downgrade(revision=BEFORE_ELECTIVE_CAP)
        restored = db.session.execute(
            sa.text("SELECT hours FROM course_completion ORDER BY course_id")
        ).scalars().all()
        remaining = db.session.scalar(sa.text("SELECT count(*) FROM hours_entry"))
        db.session.remove()

    assert {title: float(hours) for title, hours in net} == {
        "必修课": 2.0, "选修一": 3.0, "选修二": 1.0
    }
    assert [float(hours) for _course, hours in completion_hours] == [2.0, 3.0, 1.0]
    [(detail,)] = timeline
    detail = detail if isinstance(detail, dict) else __import__("json").loads(detail)
    assert detail["hours"] == "1.0"
    assert detail["course_hours"] == "2.0"
    assert [float(hours) for hours in restored] == [2.0, 3.0, 2.0]
    assert remaining == 3


#: The revision before rank periods were kept.
BEFORE_RANK_PERIODS = "a71c3e5d9b20"


def test_rank_periods_filled_on_upgrade(fresh_app):
    """Record rank changes and the profile's rank give one period per date."""
    entry = {"user_id": 1, "kind": "rank_change", "title": "职级变更",
             "created_at": "2026-01-10 08:00:00.000000"}
    rows = [
        RELEASE_ROWS[0],
        RELEASE_ROWS[1],
        ("user", {**RELEASE_ROWS[2][1], "password_hash": "x"}),
        ("person_profile", {"user_id": 1, "party_status": "none",
                            "party_committee_member": False,
                            "cadre_rank": "section_deputy", "rank_since": "2025-09-01",
                            "lock_version": 1,
                            "updated_at": "2026-01-10 08:00:00.000000"}),
        ("progression_entry", {**entry, "id": 1, "occurred_on": "2023-03-01",
                               "detail": '{"rank": "clerk"}'}),
        # A mistyped date that the next entry corrects leaves no period.
        ("progression_entry", {**entry, "id": 2, "occurred_on": "2024-02-01",
                               "detail": '{"rank": "section_deputy"}'}),
        ("progression_entry", {**entry, "id": 3, "occurred_on": "2025-09-01",
                               "detail": '{"rank": "section_deputy"}', "corrects_id": 2}),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_RANK_PERIODS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        periods = db.session.execute(
            sa.text("SELECT rank, since FROM cadre_rank_period ORDER BY since")
        ).all()
        db.session.remove()

    assert [(rank, str(since)[:10]) for rank, since in periods] == [
        ("clerk", "2023-03-01"), ("section_deputy", "2025-09-01")
    ]


BEFORE_NOTICE_DATES = "352f8cf9d193"


def _notice(row_id: int, kind: str, body_data: dict) -> tuple[str, dict]:
    return ("notification", {
        "id": row_id, "recipient_id": 1, "kind": kind, "subject_type": "training_class",
        "subject_id": 1, "dedupe_key": f"1:{kind}:{row_id}", "title": "培训班",
        "body": "", "body_data": body_data, "email_status": "skipped",
        "email_attempts": 0, "created_at": "2026-08-01 08:00:00.000000",
    })


def test_class_notice_dates_become_stored_dates(fresh_app):
    """A queued cancellation keeps its period as dates, a reminder its Chinese dates."""
    cancelled = {
        "msgid": "The class planned for %(period)s will not take place, so its "
                 "sessions are off. Ask its trainers if you have questions.",
        "params": {"period": "2026-09-01 – 2026-09-30"},
    }
    reminder = {"languages": {
        "zh_CN": "培训班“示范班”将于2026-09-01开班。",
        "en": 'The training class "示范班" starts on 2026-09-01.',
    }}
    rows = [
        RELEASE_ROWS[0],
        ("user", {"id": 1, "username": "counselor1", "full_name": "张老师",
                  "role": "counselor", "institution_id": 1, "active": True,
                  "password_hash": "x", "created_at": "2026-01-05 08:00:00.000000"}),
        _notice(1, "class_cancelled", cancelled),
        _notice(2, "class_starts", reminder),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_NOTICE_DATES)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        with fresh_app.test_request_context():
            notices = {row.id: row for row in db.session.scalars(sa.select(Notification))}
            with force_locale("zh_CN"):
                chinese = notices[1].display_body
            with force_locale("en"):
                english = notices[1].display_body
            reminder_text = notices[2].body_data["languages"]
        db.session.remove()
        downgrade(revision=BEFORE_NOTICE_DATES)
        restored = db.session.execute(
            sa.select(Notification.body_data).where(Notification.id == 1)
        ).scalar_one()
        db.session.remove()

    assert "2026年9月1日至2026年9月30日" in chinese
    assert "2026-09-01 to 2026-09-30" in english
    assert reminder_text["zh_CN"] == "培训班“示范班”将于2026年9月1日开班。"
    assert reminder_text["en"] == 'The training class "示范班" starts on 2026-09-01.'
    assert restored["params"]["period"] == "2026-09-01 – 2026-09-30"


#: The revision before the division-level cadre rule accepted three months.
BEFORE_DIVISION_MONTHS = "5d1e7b9c2a40"


def _division_rule(row_id: int, institution_id, **values) -> tuple[str, dict]:
    from lms.compliance import seed

    return ("compliance_rule", {
        "id": row_id, "institution_id": institution_id, "code": "cadre-division-5y",
        "name": seed._OLD_DIVISION_CADRE_NAME,
        "source": seed._HOURS_DIVISION_CADRE_SOURCE, "verified": True, "active": True,
        "roles": '["counselor", "party_worker"]', "posts": "[]",
        "full_time_only": False, "party_member_only": False,
        "party_committee_only": False,
        "cadre_ranks": '["division_deputy", "division_chief"]', "new_to_post": False,
        "new_to_post_months": 12, "window_kind": "rolling_years_after_rank",
        "window_years": 5, "window_months": 12, "min_hours": 550, "tiers": "[]",
        "kinds": "[]", "excluded_kinds": "[]", "at_risk_days": 180,
        "created_at": "2026-01-05 08:00:00.000000", **values,
    })


def test_division_rule_accepts_three_months_on_upgrade(fresh_app):
    """The national rule gets the days; changed rules and adaptations keep theirs."""
    from lms.compliance import seed

    rows = [
        RELEASE_ROWS[0],
        _division_rule(1, None),
        # An institution's adaptation with the national values and its own.
        _division_rule(2, 1, at_risk_days=90),
        ("institution", {"id": 2, "code": "uni-b", "name": "乙大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SB"}),
        _division_rule(3, 2, name="县处级干部脱产培训", min_hours=600),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_DIVISION_MONTHS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        query = sa.text(
            "SELECT id, name, source, min_hours, min_days, hours_per_day, lock_version"
            " FROM compliance_rule ORDER BY id"
        )
        upgraded = {row.id: row for row in db.session.execute(query)}
        db.session.remove()
        downgrade(revision=BEFORE_DIVISION_MONTHS)
        restored = db.session.execute(query).first()
        db.session.remove()

    national = upgraded[1]
    assert (national.name, national.source) == (
        seed.DIVISION_CADRE_NAME, seed.DIVISION_CADRE_SOURCE
    )
    assert (float(national.min_days), float(national.hours_per_day)) == (90.0, 8.0)
    assert national.lock_version == 2
    for own in (upgraded[2], upgraded[3]):
        assert own.source == seed._HOURS_DIVISION_CADRE_SOURCE
        assert (own.min_days, own.hours_per_day, own.lock_version) == (None, None, 1)
    assert upgraded[3].name == "县处级干部脱产培训"
    assert (restored.name, restored.min_days) == (seed._OLD_DIVISION_CADRE_NAME, None)


def test_division_rule_changed_by_hand_keeps_its_values(fresh_app):
    rows = [RELEASE_ROWS[0], _division_rule(1, None, source="按本省规定核对")]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_DIVISION_MONTHS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        rule = db.session.execute(
            sa.text("SELECT source, min_days FROM compliance_rule")
        ).one()
        db.session.remove()

    assert tuple(rule) == ("按本省规定核对", None)


BEFORE_EMPLOYEE_NUMBERS = "7b3e5a91c2d4"


def _account(user_id: int, institution_id: int, employee_no) -> tuple[str, dict]:
    return ("user", {
        "id": user_id, "username": f"user{user_id}", "full_name": f"教师{user_id}",
        "role": "counselor", "institution_id": institution_id, "active": True,
        "password_hash": "x", "employee_no": employee_no,
        "created_at": "2026-01-05 08:00:00.000000",
    })


def test_employee_numbers_normalised_on_upgrade(fresh_app):
    """Lower-case and full-width numbers become upper case unless taken."""
    rows = [
        RELEASE_ROWS[0],
        ("institution", {"id": 2, "code": "uni-b", "name": "乙大学",
                         "timezone": "Asia/Shanghai", "serial_prefix": "SB"}),
        _account(1, 1, "t-2019-001"),
        _account(2, 1, "ＴＸ２０２０"),
        _account(3, 1, "T2021 007"),
        # Taken: by an account that already has the normal form, and by an
        # earlier account whose number normalises to the same.
        _account(4, 1, "HR-01"),
        _account(5, 1, "hr-01"),
        _account(6, 1, "abc-9"),
        _account(7, 1, "ＡＢＣ-9"),
        # Another institution may have the same number.
        _account(8, 2, "hr-01"),
        _account(9, 1, None),
        _account(10, 1, "ABC123"),
    ]
    with fresh_app.app_context():
        upgrade(revision=BEFORE_EMPLOYEE_NUMBERS)
        with db.engine.begin() as connection:
            metadata = sa.MetaData()
            for table_name, row in rows:
                table = sa.Table(table_name, metadata, autoload_with=connection)
                values = {
                    key: _python_value(table.c[key].type, value) for key, value in row.items()
                }
                connection.execute(table.insert().values(**values))
        upgrade()
        numbers = dict(
            db.session.execute(sa.text('SELECT id, employee_no FROM "user"')).all()
        )
        db.session.remove()
        downgrade(revision=BEFORE_EMPLOYEE_NUMBERS)
        after_downgrade = db.session.execute(
            sa.text('SELECT employee_no FROM "user" WHERE id = 1')
        ).scalar_one()
        db.session.remove()

    assert numbers[1] == "T-2019-001"
    assert numbers[2] == "TX2020"
    assert numbers[3] == "T2021007"
    assert numbers[4] == "HR-01"
    assert numbers[5] == "hr-01"
    assert numbers[6] == "ABC-9"
    assert numbers[7] == "ＡＢＣ-9"
    assert numbers[8] == "HR-01"
    assert numbers[9] is None
    assert numbers[10] == "ABC123"
    assert after_downgrade == "T-2019-001"


#: The revision before programmes credited elsewhere counted as trainings.
BEFORE_PROGRAMME_COMPLETION_ROWS = "c4f2a8d61e95"


def test_programme_completion_rows_on_upgrade(fresh_app):
    """A completed programme without 学时 of its own gets a row of 0 学时, once."""
    from datetime import date, datetime, timezone
    from decimal import Decimal

    from certificates.models import Certificate, CertificateStatus
    from courses.models import Enrolment
    from lms.records.models import HoursEntry, TrainingKind, TrainingTier
    from tests.factories import make_course, make_institution, make_programme, make_user

    with fresh_app.app_context():
        upgrade(revision=BEFORE_PROGRAMME_COMPLETION_ROWS)
        uni = make_institution()
        user = make_user(uni, "counselor1")
        shared = make_course(uni, "x", title="X", hours="4")
        school = make_programme(uni, "a", [shared], title="校级培训")
        provincial = make_programme(
            uni, "b", [shared], title="省级培训", tier=TrainingTier.PROVINCIAL,
            kind=TrainingKind.DEMONSTRATION,
        )
        revoked = make_programme(uni, "c", [shared], title="已撤销")
        unfinished = make_programme(uni, "d", [shared], title="未完成")
        # 23:30 UTC is the next day in Shanghai.
        completed = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)
        for programme in (school, provincial, revoked, unfinished):
            db.session.add(Enrolment(
                user_id=user.id, programme_id=programme.id,
                completed_at=None if programme is unfinished else completed,
            ))
        db.session.add(HoursEntry(
            user_id=user.id, source_type="course_completion", source_id=1,
            training_type="programme", training_id=school.id, title="X",
            occurred_on=date(2026, 3, 2), year=2026, tier=TrainingTier.SCHOOL,
            hours=Decimal(4),
        ))
        db.session.add(Certificate(
            serial="S1", verification_code="V1", achievement_key="K1", holder_id=user.id,
            institution_id=uni.id, programme_id=revoked.id, holder_name="张", title="已撤销",
            hours=Decimal(4), issued_on=date(2026, 3, 2), status=CertificateStatus.REVOKED,
            revoked_at=completed, revoked_reason="有误",
        ))
        db.session.commit()
        provincial_id = provincial.id
        db.session.remove()

        upgrade()
        rows = db.session.execute(sa.text(
            "SELECT training_id, title, occurred_on, year, tier, kind, hours, source_id"
            " FROM hours_entry WHERE source_type = 'programme_completion'"
        )).all()
        db.session.remove()
        downgrade(revision=BEFORE_PROGRAMME_COMPLETION_ROWS)
        remaining = db.session.scalar(sa.text("SELECT count(*) FROM hours_entry"))
        db.session.remove()

    [row] = rows
    assert row.training_id == row.source_id == provincial_id
    assert row.title == "省级培训"
    assert str(row.occurred_on) == "2026-03-02"
    assert (row.year, row.tier, row.kind, float(row.hours)) == (
        2026, "provincial", "demonstration", 0.0
    )
    assert remaining == 1
