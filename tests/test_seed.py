"""Demo seed: idempotency, framework shape, programme content and CLI commands."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments.models import CHOICE_KINDS, Question, QuestionKind, Quiz
from courses.models import Course, Programme, PublicationStatus
from lms.accounts.models import Post, Role, User
from lms.competencies.models import CompetencyItem, Framework
from lms.extensions import db
from lms.seed import clean_lesson_html, seed_demo
from lms.seed_content.programme import JUNIOR_PRE_JOB
from tests.conftest import demo_row

FIRST_USERNAMES = {"counselor1", "counselor2", "organiser", "trainer", "hr", "hr_cs", "admin"}
SECOND_USERNAMES = {"counselor3", "hr2"}
DEMO_USERNAMES = FIRST_USERNAMES | SECOND_USERNAMES


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def demo_programme() -> Programme:
    return demo_row(Programme, code="junior-prejob-2026")


def programme_courses() -> list[Course]:
    return [link.course for link in demo_programme().courses]


def quiz_of(course: Course) -> Quiz:
    return db.session.scalar(sa.select(Quiz).filter_by(course_id=course.id))


def home_location(session) -> str:
    """Return where the dashboard sends a logged-in session; /login if it is not."""
    response = session.get("/")
    assert response.status_code == 302
    return response.headers["Location"]


def test_seed_twice_creates_nothing_new(app_ctx):
    first = seed_demo()
    db.session.commit()
    counts = table_counts()

    second = seed_demo()
    db.session.commit()

    assert set(first) == DEMO_USERNAMES
    assert second == {}
    assert table_counts() == counts
    assert counts["user"] == len(DEMO_USERNAMES)
    assert counts["competency_item"] == 27 + 9
    assert counts["competency_area_mapping"] == 9


def test_seed_random_passwords_log_in(app_ctx):
    created = seed_demo()
    db.session.commit()

    assert len(set(created.values())) == len(created)
    for username, password in created.items():
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        assert len(password) >= 12
        assert user.check_password(password)


def test_seed_keeps_existing_password(app_ctx, seeded):
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    counselor.set_password("changed-by-admin")
    db.session.commit()

    assert seed_demo(password="another-password") == {}
    assert counselor.check_password("changed-by-admin")


def test_seed_keeps_edited_values(app_ctx):
    seed_demo()
    db.session.commit()
    course = demo_row(Course, code="mental-health-practice")
    course.credit_hours = Decimal(10)
    db.session.commit()

    seed_demo()
    db.session.commit()

    assert course.credit_hours == Decimal(10)


def test_demo_accounts_roles_and_posts(app, seeded, login):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        assert set(users) == DEMO_USERNAMES
        assert users["counselor1"].role is Role.COUNSELOR
        assert users["counselor1"].post is Post.FULL_TIME_COUNSELOR
        assert users["counselor2"].post is Post.FULL_TIME_COUNSELOR
        assert users["counselor1"].department_id != users["counselor2"].department_id
        assert users["organiser"].role is Role.PARTY_WORKER
        assert users["organiser"].post is Post.PARTY_ORGANISER
        assert users["trainer"].role is Role.TRAINER
        assert users["hr"].role is Role.HR
        assert users["admin"].role is Role.ADMIN
        assert users["counselor3"].role is Role.COUNSELOR
        assert users["hr2"].role is Role.HR
        for user in users.values():
            expected = "demo-univ" if user.username in FIRST_USERNAMES else "demo-normal"
            assert user.institution.code == expected, user.username
            assert user.institution.timezone == "Asia/Shanghai"
            assert user.employee_no
        assert users["counselor3"].department.institution_id == users["hr2"].institution_id

    for username in DEMO_USERNAMES:
        assert home_location(login(username)) != "/login", username


def test_framework_has_three_levels_by_nine_areas(app_ctx, seeded):
    framework = db.session.scalar(sa.select(Framework).filter_by(code="counselor-2014"))
    items = db.session.scalars(
        sa.select(CompetencyItem).filter_by(framework_id=framework.id)
    ).all()

    assert framework.issuer == "教育部"
    assert framework.year == 2014
    assert [level.code for level in framework.levels] == [
        "junior",
        "intermediate",
        "senior",
    ]
    assert [(lv.min_years, lv.max_years) for lv in framework.levels] == [
        (1, 3),
        (4, 8),
        (9, None),
    ]
    assert len(framework.areas) == 9
    assert len(items) == 27
    assert {item.code for item in items} == {
        f"{level}.{area}" for level in range(1, 4) for area in range(1, 10)
    }
    for item in items:
        assert item.code == f"{item.level.position}.{item.area.position}"
        assert item.summary
        assert item.work_content
        assert item.ability_requirements
        assert item.knowledge_requirements


def test_framework_item_mental_health_junior(app_ctx, seeded):
    item = db.session.scalar(sa.select(CompetencyItem).filter_by(code="1.5"))

    assert item.level.code == "junior"
    assert item.area.code == "mental_health"
    assert "转介" in item.summary


def test_programme_is_published_pre_job(app_ctx, seeded):
    programme = demo_programme()

    assert programme.title == "初级辅导员岗位培训"
    assert programme.status is PublicationStatus.PUBLISHED
    assert programme.kind.value == "pre_job"
    assert programme.tier.value == "school"
    assert programme.level.value == "junior"
    assert programme.certificate_validity_months == 36
    assert len(programme.courses) >= 3
    assert all(link.required for link in programme.courses)


def test_programme_summary_matches_courses(app_ctx, seeded):
    programme = demo_programme()
    total = programme.total_hours

    assert total == sum(Decimal(spec.credit_hours) for spec in JUNIOR_PRE_JOB.courses)
    assert f"{len(programme.courses)}门" in programme.summary
    assert f"{total.normalize()}学时" in programme.summary


def test_courses_have_lessons_hours_and_competencies(app_ctx, seeded):
    for course in programme_courses():
        assert course.status is PublicationStatus.PUBLISHED, course.code
        assert course.credit_hours > 0, course.code
        assert len(course.lessons) >= 3, course.code
        assert course.competencies, course.code
        assert all(item.level.code == "junior" for item in course.competencies)
        minutes = sum(lesson.duration_minutes for lesson in course.lessons)
        assert minutes == course.credit_hours * 45, course.code


def test_lesson_html_is_clean(app_ctx, seeded):
    for course in programme_courses():
        for lesson in course.lessons:
            html = lesson.body_html
            assert "<script" not in html.lower(), lesson.title
            assert "<h2>" in html, lesson.title
            assert html.count("<p>") >= 2, lesson.title
            assert clean_lesson_html(html) == html, lesson.title


def test_clean_lesson_html_strips_script():
    dirty = '<h2>标题</h2><p onclick="x()">正文</p><script>alert(1)</script><a href="x">链接</a>'

    cleaned = clean_lesson_html(dirty)

    assert cleaned == "<h2>标题</h2><p>正文</p>链接"


def test_quizzes_mix_question_kinds(app_ctx, seeded):
    for course in programme_courses():
        quiz = quiz_of(course)
        assert quiz is not None, course.code
        assert quiz.pass_mark == 60
        assert quiz.max_attempts == 3
        assert quiz.time_limit_minutes == 20
        assert 5 <= len(quiz.questions) <= 6, course.code
        assert quiz.max_score == 100, course.code
        assert {q.kind for q in quiz.questions} == set(CHOICE_KINDS), course.code
        assert "满分100分" in quiz.instructions


def test_quiz_questions_have_valid_answers(app_ctx, seeded):
    questions = db.session.scalars(
        sa.select(Question).where(Question.quiz_id.is_not(None))
    ).all()
    assert questions

    for question in questions:
        correct = [choice for choice in question.choices if choice.is_correct]
        assert question.explanation, question.text
        assert question.points > 0, question.text
        if question.kind is QuestionKind.ESSAY:
            # A trainer grades an essay by its scoring points, not by choices.
            assert question.answer_key["points"], question.text
            continue
        assert len(correct) >= 1, question.text
        if question.kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE):
            assert len(correct) == 1, question.text
        if question.kind is QuestionKind.TRUE_FALSE:
            # Stored as data; ``Choice.label`` shows it in the reader's language.
            assert [c.text for c in question.choices] == ["true", "false"]
        if question.kind is QuestionKind.MULTIPLE:
            assert len(correct) < len(question.choices), question.text


def test_demo_bank_has_every_kind_once(app_ctx, seeded):
    from assessments import demo, question_forms
    from assessments.models import QuestionBank

    [bank] = db.session.scalars(sa.select(QuestionBank)).all()
    questions = db.session.scalars(
        sa.select(Question).where(Question.category_id.is_not(None))
    ).all()

    assert bank.name == demo.BANK_NAME
    assert sorted(q.kind.value for q in questions) == sorted(k.value for k in QuestionKind)
    for question in questions:
        assert question.explanation, question.text
        values = question_forms.form_values(question)
        assert question_forms.validate(values)[1] == {}, question.text
    assert seed_demo() == {}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuestionBank)) == 1


def test_seed_cli_prints_accounts_then_already_present(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["lms", "seed"])
    second = runner.invoke(args=["lms", "seed"])

    assert first.exit_code == 0, first.output
    for username in DEMO_USERNAMES:
        assert re.search(
            rf"^\s+{username}\s+\w+\s+\S{{12}}$", first.output, re.MULTILINE
        ), username
    assert "local demonstration only" in first.output
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    assert "flask lms set-password USERNAME" in second.output


def test_seed_cli_passwords_log_in(app, login):
    result = app.test_cli_runner().invoke(args=["lms", "seed"])
    match = re.search(
        r"^\s+counselor1\s+counselor\s+(\S+)$", result.output, re.MULTILINE
    )

    assert match, result.output
    assert home_location(login("counselor1", match.group(1))) == "/learning"


def test_set_password_changes_password(app, seeded, login):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["lms", "set-password", "counselor1"],
        input="new-secret-99\nnew-secret-99\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password updated for counselor1" in result.output
    assert "new-secret-99" not in result.output
    assert home_location(login("counselor1", "new-secret-99")) == "/account/password"


def test_set_password_rejects_short_password(app, seeded, login):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["lms", "set-password", "counselor1"], input="abcde\nabcde\n"
    )

    assert result.exit_code == 1
    assert "too short" in result.output
    assert "minimum is 8" in result.output
    assert home_location(login("counselor1", seeded)) == "/learning"


def test_set_password_unknown_user(app, seeded):
    result = app.test_cli_runner().invoke(
        args=["lms", "set-password", "nobody"], input="long-enough-1\nlong-enough-1\n"
    )

    assert result.exit_code == 1
    assert "No account with username 'nobody'" in result.output


@pytest.mark.parametrize("command", ["seed", "set-password"])
def test_cli_help_describes_command(app, command):
    result = app.test_cli_runner().invoke(args=["lms", command, "--help"])

    assert result.exit_code == 0
    assert "Usage:" in result.output
    assert (
        ("demo" in result.output)
        if command == "seed"
        else ("at least 8" in result.output)
    )


def test_demo_counselor_may_apply_for_promotion(app, seeded, login, english):
    page = login("counselor2").get("/promotions").get_data(as_text=True)

    assert "助教" in page
    assert "Eligible" in page
    assert "/promotions/apply/" in page


def test_demo_promotion_two_review_steps(app, seeded, login):
    from lms.promotion.models import ApplicationStatus, PromotionApplication

    counselor = login("counselor2")
    page = counselor.get("/promotions").get_data(as_text=True)
    rule_id = re.search(r"/promotions/apply/(\d+)", page).group(1)
    assert counselor.post(
        f"/promotions/apply/{rule_id}", {"statement": "主持院级课题一项"}
    ).status_code == 302
    with app.app_context():
        application_id = db.session.scalars(sa.select(PromotionApplication.id)).one()
    decide = f"/promotions/applications/{application_id}/decide"
    institution_hr, department_hr = login("hr"), login("hr_cs")

    # 计算机科学与技术学院 has its own HR officer, who takes the first step.
    assert institution_hr.post(decide, {"outcome": "approve"}).status_code == 403
    assert department_hr.post(decide, {"outcome": "approve"}).status_code == 302
    assert department_hr.post(decide, {"outcome": "approve"}).status_code == 403
    assert institution_hr.post(decide, {"outcome": "approve"}).status_code == 302

    with app.app_context():
        application = db.session.get(PromotionApplication, application_id)
        assert application.status is ApplicationStatus.APPROVED


def test_department_hr_sees_only_its_department(app, seeded, login):
    from lms.compliance.models import ComplianceRule
    from lms.organisations.models import Department

    officer = login("hr_cs")
    listed = officer.get("/people").get_data(as_text=True)
    overview = officer.get("/compliance").get_data(as_text=True)
    with app.app_context():
        other = demo_row(Department, code="marxism").id
        rule = db.session.scalar(sa.select(ComplianceRule.id).filter_by(code="counselor-school-yearly"))
    asked = officer.get(f"/compliance/rules/{rule}?department={other}").get_data(as_text=True)

    assert "周子航" in listed
    assert "陈立新" in listed
    assert "林晓雯" not in listed
    # Each rule's table has one row, for the officer's department.
    section = overview.split('id="rule-', 1)[1].split("</table>", 1)[0]
    assert section.count("计算机科学与技术学院") == 1
    assert "马克思主义学院" not in asked
    assert "院系筛选：只能查看计算机科学与技术学院的人员" in asked
    assert "林晓雯" not in asked


def test_each_institutions_hr_sees_only_its_own_people(app, seeded, login):
    with app.app_context():
        ids = {
            u.username: u.id
            for u in db.session.scalars(
                sa.select(User).where(User.username.in_(["counselor1", "counselor3"]))
            )
        }
    first, second = login("hr"), login("hr2")

    first_list = first.get("/people").get_data(as_text=True)
    second_list = second.get("/people").get_data(as_text=True)

    assert "林晓雯" in first_list
    assert "何雨桐" not in first_list
    assert "何雨桐" in second_list
    assert "林晓雯" not in second_list
    assert second.get(f"/people/{ids['counselor3']}/record").status_code == 200
    assert second.get(f"/people/{ids['counselor1']}/record").status_code == 404
    assert first.get(f"/people/{ids['counselor3']}/record").status_code == 404


def test_demo_counselors_have_post_start_dates_and_levels(app, seeded, login):
    from courses.learning import person_level
    from lms.compliance.models import PersonProfile

    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        starts = {
            name: db.session.get(PersonProfile, users[name].id).post_started_on
            for name in ("counselor1", "counselor2", "organiser", "counselor3")
        }
        levels = {name: person_level(users[name]) for name in ("counselor1", "counselor2")}
        assert db.session.get(PersonProfile, users["hr"].id) is None

    assert all(start.month == 9 and start.day == 1 for start in starts.values())
    assert starts["counselor1"].year - starts["counselor2"].year == 3
    assert levels["counselor1"].value == "junior"
    assert levels["counselor2"].value == "intermediate"
    page = login("counselor1").get("/learning").get_data(as_text=True)
    assert "初级辅导员岗位培训" in page
    assert "中级辅导员能力提升培训" not in page


def test_demo_counselor2_has_earlier_part_time_post(app, seeded, login):
    from courses.learning import counselor_service, person_level
    from lms.compliance.models import PersonProfile
    from lms.compliance.windows import local_today
    from lms.records.models import ProgressionEntry, ProgressionKind

    with app.app_context():
        person = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
        start = db.session.get(PersonProfile, person.id).post_started_on
        [entry] = db.session.scalars(
            sa.select(ProgressionEntry).filter_by(
                user_id=person.id, kind=ProgressionKind.APPOINTMENT
            )
        ).all()
        service = counselor_service(person, local_today(person.institution))
        level = person_level(person)
        person_id = person.id

    assert entry.detail["post"] == "part_time_counselor"
    assert entry.occurred_on.year == start.year - 2
    assert entry.detail["ended_on"] == f"{start.year}-08-31"
    assert [period.source for period in service.periods] == ["record", "profile"]
    assert service.year == 6
    assert level.value == "intermediate"
    page = login("hr").get(f"/people/{person_id}/record").get_data(as_text=True)
    assert 'id="counselor-service"' in page
    assert "兼职辅导员" in page
    assert "中级辅导员能力提升培训" in login("counselor2").get("/learning").get_data(
        as_text=True
    )


def test_seed_adds_no_earlier_post_to_existing_career(app_ctx):
    from lms.records.models import ProgressionEntry, ProgressionKind

    seed_demo()
    db.session.commit()
    appointments = sa.select(sa.func.count()).where(
        ProgressionEntry.kind == ProgressionKind.APPOINTMENT
    )
    # An existing demo database has the career rows but no earlier post.
    db.session.execute(
        sa.delete(ProgressionEntry).where(
            ProgressionEntry.kind == ProgressionKind.APPOINTMENT
        )
    )
    db.session.commit()

    seed_demo()
    db.session.commit()

    assert db.session.scalar(appointments) == 0


def test_demo_organiser_party_rules_apply(app, seeded, login):
    from courses.learning import person_level
    from lms.compliance.models import PartyStatus, PersonProfile

    with app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(username="organiser"))
        profile = db.session.get(PersonProfile, organiser.id)
        assert profile.party_status is PartyStatus.MEMBER
        assert profile.party_committee_member
        assert profile.post_started_on is not None
        assert person_level(organiser) is None

    page = login("organiser").get("/learning").get_data(as_text=True)

    assert "党员每年集中学习培训不少于32学时" in page
    assert "基层党组织书记和委员每年集中学习培训不少于56学时" in page
    assert "目前没有适用的学时规则" not in page


def test_demo_organiser_not_new_party_member(app, seeded):
    from lms.compliance.engine import Status, Uncovered, evaluate_all
    from lms.compliance.models import PersonProfile

    with app.app_context():
        organiser = db.session.scalar(sa.select(User).filter_by(username="organiser"))
        profile = db.session.get(PersonProfile, organiser.id)
        verdicts = {verdict.rule.code: verdict for verdict in evaluate_all(organiser)}

        assert profile.probation_started_on < profile.full_member_on
        for code in ("party-probationary-training", "party-new-member-training"):
            assert verdicts[code].status is Status.NOT_APPLICABLE, code
            assert verdicts[code].reason is Uncovered.NOT_NEW_PARTY_MEMBER, code


def test_demo_workshop_completed_by_attendance(app, seeded, login, english):
    from courses.class_models import ClassSession, TrainingClass
    from courses.models import Lesson, LessonProgress

    with app.app_context():
        training_class = db.session.scalar(
            sa.select(TrainingClass).filter_by(code="demo-intermediate-class")
        )
        session = db.session.scalar(
            sa.select(ClassSession).filter_by(class_id=training_class.id)
        )
        lesson = db.session.get(Lesson, session.lesson_id)
        counselor = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
        ids = (training_class.id, session.id, lesson.id, lesson.course_id, counselor.id)
        assert session.title == "团体辅导工作坊（面授）"
        assert session.place == "学生发展中心团体辅导室"
    class_id, session_id, lesson_id, course_id, counselor_id = ids

    learner = login("counselor2")
    page = learner.get(f"/courses/{course_id}/lessons/{lesson_id}").get_data(as_text=True)
    assert "团体辅导工作坊（面授）" in page
    assert "学生发展中心团体辅导室" in page
    assert learner.post(f"/courses/{course_id}/lessons/{lesson_id}/complete").status_code == 302

    trainer = login("trainer")
    sheet = f"/classes/{class_id}/sessions/{session_id}/attendance"
    assert trainer.get(sheet).status_code == 200
    response = trainer.post(sheet, data={f"mark-{counselor_id}": "present"})
    assert response.status_code == 302

    with app.app_context():
        assert db.session.scalar(
            sa.select(LessonProgress.id).filter_by(user_id=counselor_id, lesson_id=lesson_id)
        ) is not None


def test_programme_audience_punctuation(app, seeded, login):
    from courses.models import Programme

    with app.app_context():
        programme_id = db.session.scalar(
            sa.select(Programme.id).where(Programme.audience.like("%四年以上%"))
        )
    chinese = login("counselor2").get(f"/programmes/{programme_id}").get_data(as_text=True)
    english_session = login("counselor1")
    english_session.post("/language/en")
    english = english_session.get(f"/programmes/{programme_id}").get_data(as_text=True)

    assert "<dd>专职辅导员（工作四年以上的专职辅导员）</dd>" in chinese
    assert "<dd>Full-time counselor (工作四年以上的专职辅导员)</dd>" in english



def test_demo_trainer_authors_junior_programme(app, seeded, login):
    """The demo trainer changes the seeded junior programme and drafts its courses' versions."""
    with app.app_context():
        programme = demo_programme()
        programme_id = programme.id
        trainer_id = demo_row(User, username="trainer").id
        assert programme.author_id == trainer_id
        assert {course.author_id for course in programme_courses()} == {trainer_id}
        course_id = programme_courses()[0].id
        second = db.session.scalar(
            sa.select(Programme)
            .filter_by(code=JUNIOR_PRE_JOB.code)
            .where(Programme.id != programme_id)
        )
        # The second institution has no trainer, so its copy stays without an author.
        assert second.author_id is None
    trainer = login("trainer")

    page = trainer.get(f"/manage/programmes/{programme_id}").get_data(as_text=True)
    response = trainer.post(f"/manage/courses/{course_id}/versions")

    assert "<fieldset disabled" not in page
    assert response.status_code == 302
