"""Demo data: the 2014 counselor competency standard, the nine duties of the
2017 regulation with the mapping between the two, a demo university with
one account per role, a published pre-job programme with real lessons, an
intermediate programme authored through the trainer authoring services, an
open training class, a case-study course whose essay counselor2 has submitted
for the trainer to grade, and a second institution whose HR officer and counselor
show that each institution's HR lists only its own people.

``seed_demo`` looks every row up by its natural key and creates only the
rows that are missing. Rows that already exist keep their current values, so
an administrator's edits survive a second run and existing accounts keep
their passwords. The caller commits.
"""

import logging
import secrets
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

import nh3
import sqlalchemy as sa

from lms.accounts.models import Post, Role, User
from lms.compliance.models import PartyStatus, PersonProfile
from lms.compliance.seed import seed_rules
from lms.competencies.models import (
    AreaMapping,
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
    MappingRelation,
)
from lms.db import now_utc
from lms.promotion.seed import seed_rules as seed_promotion_rules
from lms.extensions import db
from lms.organisations.models import Department, Institution
from lms.records.models import TrainingKind, TrainingTier
from lms.seed_content.case_study import (
    CASE_QUIZ,
    CASE_STUDY_PROGRAMME,
    CASE_WRITING,
    SUBMITTED_ESSAY,
)
from lms.seed_content.duties_2017 import DUTIES_2017, MAPPINGS_2014_TO_2017
from lms.seed_content.framework import COUNSELOR_2014
from lms.seed_content.intermediate import INTERMEDIATE_PROGRAMME
from lms.seed_content.organisation import (
    ACCOUNTS,
    DEMO_UNIVERSITY,
    SECOND_ACCOUNTS,
    SECOND_INSTITUTION,
)
from lms.seed_content.programme import JUNIOR_PRE_JOB
from lms.seed_content.specs import (
    AccountSpec,
    AreaMappingSpec,
    AuthoredQuizSpec,
    CourseSpec,
    FrameworkSpec,
    InstitutionSpec,
    ProgrammeSpec,
    QuizSpec,
)

if TYPE_CHECKING:
    from courses.models import Course

logger = logging.getLogger("lms.seed")

#: Tags kept in lesson HTML. nh3 drops every other tag, and removes script and
#: style elements together with their content.
LESSON_TAGS = {"h2", "h3", "p", "ul", "ol", "li", "strong", "em", "br", "blockquote"}

ModelT = TypeVar("ModelT")


class _Seeder:
    """Get-or-create helper that counts the rows it creates, per table."""

    def __init__(self) -> None:
        self.created: Counter[str] = Counter()

    def get_or_create(self, model: type[ModelT], keys: dict, values: dict) -> ModelT:
        row = db.session.scalar(sa.select(model).filter_by(**keys))
        if row is not None:
            return row
        row = model(**keys, **values)
        db.session.add(row)
        db.session.flush()
        self.created[model.__tablename__] += 1
        return row


def seed_demo(password: str | None = None) -> dict[str, str]:
    """Create the missing demo rows and return the accounts created in this run.

    The result maps each new username to its password: ``password`` when
    given, else a fresh random one per account. Accounts that already exist
    are not in the result and their passwords are not changed.
    """
    from certificates.template_services import ensure_default_templates, refresh_builtin_layouts

    seeder = _Seeder()
    framework = seed_national_standards(seeder)
    institution = _seed_institution(seeder, DEMO_UNIVERSITY)
    created_accounts = _seed_accounts(seeder, institution, ACCOUNTS, password)
    pre_job = _seed_programme(seeder, institution, framework, JUNIOR_PRE_JOB)
    seed_authored_programme(seeder, institution, framework, INTERMEDIATE_PROGRAMME)
    seed_authored_programme(seeder, institution, framework, CASE_STUDY_PROGRAMME)
    _seed_class(seeder, institution, JUNIOR_PRE_JOB.code)
    _seed_workshop_class(seeder, institution, INTERMEDIATE_PROGRAMME.code)
    _seed_question_bank(seeder, institution)
    _seed_rubrics(seeder, institution)
    seed_promotion_rules(institution.id, pre_job.id)
    _seed_career(seeder, institution)
    _seed_assessment_scheme(seeder, institution)
    _seed_essay_attempt(seeder, institution)
    ensure_default_templates(institution)
    refresh_builtin_layouts(institution)

    second = _seed_institution(seeder, SECOND_INSTITUTION)
    created_accounts |= _seed_accounts(seeder, second, SECOND_ACCOUNTS, password)
    # Its own copy of the pre-job programme, so its counselor has something
    # to take and its HR officer progress to review.
    _seed_programme(seeder, second, framework, JUNIOR_PRE_JOB)
    ensure_default_templates(second)
    refresh_builtin_layouts(second)

    if seeder.created:
        logger.info("Demo seed created rows: %s", dict(sorted(seeder.created.items())))
    else:
        logger.info("Demo seed created nothing because every row was already present")
    return created_accounts


def seed_national_standards(seeder: "_Seeder | None" = None) -> Framework:
    """Add what is national, not the demo's, where missing, and return the 2014 standard.

    That is the 2014 counselor competency standard, the nine duties of the
    2017 regulation with the mapping between their areas, and the national
    training-hour rules. ``flask lms create-institution`` runs it too.
    """
    seeder = seeder or _Seeder()
    framework = _seed_framework(seeder, COUNSELOR_2014)
    _seed_framework(seeder, DUTIES_2017)
    _seed_mappings(seeder, MAPPINGS_2014_TO_2017)
    seed_rules()
    return framework


def _seed_framework(seeder: _Seeder, spec: FrameworkSpec) -> Framework:
    framework = seeder.get_or_create(
        Framework,
        {"code": spec.code, "version_number": 1},
        {
            "title": spec.title,
            "issuer": spec.issuer,
            "document_no": spec.document_no,
            "year": spec.year,
            "version": spec.version,
            "notes": spec.notes,
            "status": FrameworkStatus.PUBLISHED,
            "published_at": now_utc(),
        },
    )
    levels = {
        level.code: seeder.get_or_create(
            Level,
            {"framework_id": framework.id, "code": level.code},
            {
                "name": level.name,
                "position": level.position,
                "min_years": level.min_years,
                "max_years": level.max_years,
            },
        )
        for level in spec.levels
    }
    areas = {
        area.code: seeder.get_or_create(
            FunctionalArea,
            {"framework_id": framework.id, "code": area.code},
            {"name": area.name, "position": area.position},
        )
        for area in spec.areas
    }
    for item in spec.items:
        level = levels[item.level]
        area = areas[item.area]
        seeder.get_or_create(
            CompetencyItem,
            {"level_id": level.id, "area_id": area.id},
            {
                "framework_id": framework.id,
                "code": item.code or f"{level.position}.{area.position}",
                "summary": item.summary,
                "work_content": "\n".join(item.work_content),
                "ability_requirements": "\n".join(item.ability_requirements),
                "knowledge_requirements": "\n".join(item.knowledge_requirements),
            },
        )
    return framework


def _seed_mappings(seeder: _Seeder, specs: tuple[AreaMappingSpec, ...]) -> None:
    for spec in specs:
        source = _first_version_area(spec.source_framework, spec.source_area)
        target = _first_version_area(spec.target_framework, spec.target_area)
        seeder.get_or_create(
            AreaMapping,
            {"source_area_id": source.id, "target_area_id": target.id},
            {"relation": MappingRelation(spec.relation)},
        )


def _first_version_area(framework_code: str, area_code: str) -> FunctionalArea:
    return db.session.scalar(
        sa.select(FunctionalArea)
        .join(Framework, Framework.id == FunctionalArea.framework_id)
        .where(
            Framework.code == framework_code,
            Framework.version_number == 1,
            FunctionalArea.code == area_code,
        )
    )


def _seed_institution(seeder: _Seeder, spec: InstitutionSpec) -> Institution:
    institution = seeder.get_or_create(
        Institution,
        {"code": spec.code},
        {
            "name": spec.name,
            "name_en": spec.name_en,
            "timezone": spec.timezone,
            "serial_prefix": spec.serial_prefix,
        },
    )
    for department in spec.departments:
        seeder.get_or_create(
            Department,
            {"institution_id": institution.id, "code": department.code},
            {"name": department.name},
        )
    return institution


def _seed_accounts(
    seeder: _Seeder,
    institution: Institution,
    accounts: tuple[AccountSpec, ...],
    password: str | None,
) -> dict[str, str]:
    departments = {
        department.code: department
        for department in db.session.scalars(
            sa.select(Department).filter_by(institution_id=institution.id)
        )
    }
    created: dict[str, str] = {}
    for spec in accounts:
        exists = db.session.scalar(sa.select(User.id).filter_by(username=spec.username))
        if exists is not None:
            continue
        user = User(
            username=spec.username,
            full_name=spec.full_name,
            employee_no=spec.employee_no,
            email=spec.email,
            role=Role(spec.role),
            post=Post(spec.post) if spec.post else None,
            institution_id=institution.id,
            department_id=departments[spec.department].id if spec.department else None,
            hr_department_id=(
                departments[spec.hr_department].id if spec.hr_department else None
            ),
            platform_operator=spec.platform_operator,
        )
        account_password = password or secrets.token_urlsafe(9)
        user.set_password(account_password)
        db.session.add(user)
        db.session.flush()
        if spec.years_in_post is not None or spec.party_status is not None:
            profile = PersonProfile(
                user_id=user.id,
                party_committee_member=spec.party_committee_member,
            )
            if spec.years_in_post is not None:
                profile.post_started_on = _post_start(institution, spec.years_in_post)
            if spec.party_status is not None:
                profile.party_status = PartyStatus(spec.party_status)
            if spec.years_as_member is not None:
                full_member_on = _post_start(institution, spec.years_as_member)
                profile.full_member_on = full_member_on
                profile.probation_started_on = full_member_on.replace(
                    year=full_member_on.year - 1
                )
            db.session.add(profile)
        seeder.created[User.__tablename__] += 1
        created[spec.username] = account_password
    return created


def _post_start(institution: Institution, years: int) -> date:
    """Return 1 September ``years`` academic years before the institution's today."""
    from lms.compliance.windows import local_today

    today = local_today(institution)
    start_year = today.year - years - (1 if (today.month, today.day) < (9, 1) else 0)
    return date(start_year, 9, 1)


def _seed_programme(
    seeder: _Seeder, institution: Institution, framework: Framework, spec: ProgrammeSpec
):
    # courses sits above lms, so the seed imports it at call time like the app factory.
    from courses.models import (
        Programme,
        ProgrammeCourse,
        PublicationStatus,
        TargetLevel,
    )

    author = _trainer_of(institution)
    programme = seeder.get_or_create(
        Programme,
        {"institution_id": institution.id, "code": spec.code},
        {
            "author_id": author.id if author is not None else None,
            "title": spec.title,
            "summary": spec.summary,
            "tier": TrainingTier(spec.tier),
            "kind": TrainingKind(spec.kind),
            "level": TargetLevel(spec.level),
            "audience": spec.audience,
            "status": PublicationStatus.PUBLISHED,
            "certificate_validity_months": spec.certificate_validity_months,
        },
    )
    items = {
        item.code: item
        for item in db.session.scalars(
            sa.select(CompetencyItem).filter_by(framework_id=framework.id)
        )
    }
    for position, course_spec in enumerate(spec.courses, start=1):
        course = _seed_course(seeder, institution, items, course_spec)
        seeder.get_or_create(
            ProgrammeCourse,
            {"programme_id": programme.id, "course_id": course.id},
            {"position": position, "required": True},
        )
    return programme


def _trainer_of(institution: Institution) -> User | None:
    """Return the institution's first trainer, who authors its demo content, or None."""
    return db.session.scalar(
        sa.select(User)
        .filter_by(institution_id=institution.id, role=Role.TRAINER)
        .order_by(User.id)
        .limit(1)
    )


def _seed_rubrics(seeder: _Seeder, institution: Institution) -> None:
    # assessments sits above lms, so the seed imports it at call time like the app factory.
    from assessments.rubrics import seed_rubrics

    added = seed_rubrics(institution.id)
    if added:
        seeder.created["rubric"] += added


def _seed_course(
    seeder: _Seeder,
    institution: Institution,
    items: dict[str, CompetencyItem],
    spec: CourseSpec,
) -> "Course":
    # courses sits above lms, so the seed imports it at call time like the app factory.
    from courses.models import Course, Lesson, LessonKind, PublicationStatus

    author = _trainer_of(institution)
    course = seeder.get_or_create(
        Course,
        {"institution_id": institution.id, "code": spec.code},
        {
            "author_id": author.id if author is not None else None,
            "title": spec.title,
            "summary": spec.summary,
            "credit_hours": Decimal(spec.credit_hours),
            "status": PublicationStatus.PUBLISHED,
        },
    )
    for position, lesson in enumerate(spec.lessons, start=1):
        seeder.get_or_create(
            Lesson,
            {"course_id": course.id, "position": position},
            {
                "title": lesson.title,
                "kind": LessonKind.TEXT,
                "body_html": clean_lesson_html(lesson.body_html),
                "duration_minutes": lesson.duration_minutes,
            },
        )
    for code in spec.competencies:
        item = items[code]
        if item not in course.competencies:
            course.competencies.append(item)
            seeder.created["course_competency"] += 1
    db.session.flush()
    if spec.quiz is not None:
        _seed_quiz(seeder, course, spec.quiz)
    return course


def seed_authored_programme(
    seeder: _Seeder, institution: Institution, framework: Framework, spec: ProgrammeSpec
) -> None:
    """Author and publish a programme with the services behind the trainer pages.

    Does nothing when the programme's code exists, so a second run and a
    trainer's later edits are left alone. The demo ``trainer`` account is
    the recorded author.
    """
    # courses sits above lms, so the seed imports it at call time like the app factory.
    from courses import authoring, sections
    from courses.models import Programme

    exists = db.session.scalar(
        sa.select(Programme.id).filter_by(institution_id=institution.id, code=spec.code)
    )
    if exists is not None:
        return
    author = _trainer_of(institution)
    if author is None:
        logger.warning("No trainer account to author %s; skipped", spec.code)
        return
    items = {
        item.code: item.id
        for item in db.session.scalars(
            sa.select(CompetencyItem).filter_by(framework_id=framework.id)
        )
    }
    courses = {}
    for course_spec in spec.courses:
        existing = _latest_published_course(institution.id, course_spec.code)
        if existing is not None:
            courses[course_spec.code] = existing
            continue
        course = authoring.save_course(
            institution.id,
            {
                "code": course_spec.code,
                "title": course_spec.title,
                "summary": course_spec.summary,
                "credit_hours": course_spec.credit_hours,
                "competency_ids": [items[code] for code in course_spec.competencies],
            },
            author,
        )
        modules = {}
        for lesson in course_spec.lessons:
            if lesson.module and lesson.module not in modules:
                modules[lesson.module] = sections.save_module(
                    course, {"title": lesson.module}, author
                )
            authoring.save_lesson(
                course,
                {
                    "title": lesson.title,
                    "kind": lesson.kind,
                    "duration_minutes": str(lesson.duration_minutes),
                    "body_html": lesson.body_html,
                    "session_starts_at": lesson.session_starts_at or "",
                    "session_place": lesson.session_place or "",
                    "module_id": (
                        str(modules[lesson.module].id) if lesson.module else ""
                    ),
                },
                author,
            )
        if course_spec.authored_quiz is not None:
            _author_quiz(course, course_spec.authored_quiz, author)
        authoring.publish_course(course, author)
        courses[course_spec.code] = course
        seeder.created["course"] += 1

    programme = authoring.save_programme(
        institution.id,
        {
            "code": spec.code,
            "title": spec.title,
            "summary": spec.summary,
            "tier": spec.tier,
            "kind": spec.kind,
            "level": spec.level,
            "audience": spec.audience,
            "audience_posts": list(spec.audience_posts),
            "min_elective_hours": spec.min_elective_hours,
            "certificate_validity_months": str(spec.certificate_validity_months or ""),
        },
        author,
    )
    links = {}
    for code, course in courses.items():
        links[code] = authoring.add_course(
            programme, course, code not in spec.electives, author
        )
    for code, prerequisite in spec.prerequisites:
        chosen = [each.id for each in links[code].prerequisites]
        authoring.set_prerequisites(
            programme, links[code], chosen + [links[prerequisite].id], author
        )
    authoring.publish_programme(programme, author)
    seeder.created["programme"] += 1


def _author_quiz(course: "Course", spec: AuthoredQuizSpec, author: User) -> None:
    # assessments sits above lms, so the seed imports it at call time like the app factory.
    from assessments import authoring as quiz_authoring

    quiz = quiz_authoring.save_quiz(course, dict(spec.values), author)
    for values in spec.questions:
        quiz_authoring.save_question(quiz, dict(values), author)


def _seed_essay_attempt(seeder: _Seeder, institution: Institution) -> None:
    """Have counselor2 submit the case-study essay, which then awaits the trainer's grade.

    Enrolment, start and submission go through the services behind the
    learner's pages, so the attempt is submitted, needs grading and is not
    passed, and the course credits no 学时 until the essay is graded. Nothing
    is added when counselor2 already has an attempt at the quiz.
    """
    # courses and assessments sit above lms, so the seed imports them at call time.
    from assessments.demo import submit_essay_attempt
    from assessments.models import Quiz
    from courses import services as course_services
    from courses.models import Programme

    learner = db.session.scalar(
        sa.select(User).filter_by(institution_id=institution.id, username=CAREER_USERNAME)
    )
    programme = db.session.scalar(
        sa.select(Programme).filter_by(
            institution_id=institution.id, code=CASE_STUDY_PROGRAMME.code
        )
    )
    course = _latest_published_course(institution.id, CASE_WRITING.code)
    if learner is None or programme is None or course is None:
        return
    quiz = db.session.scalar(
        sa.select(Quiz).filter_by(course_id=course.id, title=CASE_QUIZ.values["title"])
    )
    if quiz is None:
        logger.warning(
            "Course %s has no quiz %r; no essay seeded",
            course.code,
            CASE_QUIZ.values["title"],
        )
        return
    course_services.enrol(learner, programme)
    if submit_essay_attempt(learner, quiz, SUBMITTED_ESSAY):
        seeder.created["attempt"] += 1


def _latest_published_course(institution_id: int, code: str) -> "Course | None":
    from courses.models import Course, PublicationStatus

    return db.session.scalar(
        sa.select(Course)
        .filter_by(
            institution_id=institution_id,
            code=code,
            status=PublicationStatus.PUBLISHED,
        )
        .order_by(Course.version.desc())
    )


def _seed_quiz(seeder: _Seeder, course: "Course", spec: QuizSpec) -> None:
    # assessments sits above lms, so the seed imports it at call time like the app factory.
    from assessments.models import Choice, Question, QuestionKind, Quiz
    from assessments.question_forms import true_false_value

    quiz = seeder.get_or_create(
        Quiz,
        {"course_id": course.id, "title": spec.title},
        {
            "instructions": quiz_instructions(spec),
            "pass_mark": spec.pass_mark,
            "max_attempts": spec.max_attempts,
            "time_limit_minutes": spec.time_limit_minutes,
        },
    )
    for position, question_spec in enumerate(spec.questions, start=1):
        question = seeder.get_or_create(
            Question,
            {"quiz_id": quiz.id, "position": position},
            {
                "kind": QuestionKind(question_spec.kind),
                "text": question_spec.text,
                "points": Decimal(question_spec.points),
                "explanation": question_spec.explanation,
            },
        )
        for choice_position, (text, is_correct) in enumerate(
            question_spec.choices, start=1
        ):
            if question.kind is QuestionKind.TRUE_FALSE:
                text = true_false_value(text)
            seeder.get_or_create(
                Choice,
                {"question_id": question.id, "position": choice_position},
                {"text": text, "is_correct": is_correct},
            )


def _seed_question_bank(seeder: _Seeder, institution: Institution) -> None:
    # assessments sits above lms, so the seed imports it at call time like the app factory.
    from assessments.demo import seed_demo_bank

    trainer = _trainer_of(institution)
    if trainer is not None and seed_demo_bank(institution.id, trainer):
        seeder.created["question_bank"] += 1


def clean_lesson_html(html: str) -> str:
    """Return lesson HTML with only the tags in ``LESSON_TAGS`` and no attributes."""
    return nh3.clean(html.strip(), tags=LESSON_TAGS, attributes={})


def quiz_instructions(spec: QuizSpec) -> str:
    """Build the Chinese quiz instructions from the values stored on the quiz row."""
    total = sum(question.points for question in spec.questions)
    parts = [
        f"本测验共{len(spec.questions)}题，满分{total}分，得分达到满分的{spec.pass_mark}%即为通过。"
    ]
    if spec.time_limit_minutes is not None:
        parts.append(f"限时{spec.time_limit_minutes}分钟。")
    if spec.max_attempts is not None:
        parts.append(f"最多可作答{spec.max_attempts}次。")
    parts.append("单选题和判断题只有一个正确答案；多选题须选出全部正确答案才得分。")
    return "".join(parts)


def _seed_class(seeder: _Seeder, institution: Institution, programme_code: str) -> None:
    """Add an open self-enrolment class of the programme with an opening session.

    The class starts two weeks after the day the seed first runs.
    """
    from datetime import timedelta

    from courses.class_models import (
        ClassSession,
        ClassStatus,
        EnrolmentMode,
        SessionLength,
        TrainingClass,
    )
    from courses.models import Programme

    programme = db.session.scalar(
        sa.select(Programme).filter_by(institution_id=institution.id, code=programme_code)
    )
    trainers = list(
        db.session.scalars(
            sa.select(User).where(
                User.institution_id == institution.id, User.role == Role.TRAINER
            )
        )
    )
    starts = date.today() + timedelta(days=14)
    training_class = seeder.get_or_create(
        TrainingClass,
        {"institution_id": institution.id, "code": "demo-prejob-class"},
        {
            "title": f"{starts.year}年新入职辅导员岗前培训班",
            "summary": "集中面授与线上学习相结合，面授出勤计入校级学时。",
            "programme_id": programme.id,
            "starts_on": starts,
            "ends_on": starts + timedelta(days=30),
            "capacity": 40,
            "enrolment_mode": EnrolmentMode.SELF,
            "status": ClassStatus.OPEN,
            "tier": TrainingTier.SCHOOL,
            "kind": TrainingKind.PRE_JOB,
        },
    )
    if not training_class.trainers:
        training_class.trainers = trainers
    seeder.get_or_create(
        ClassSession,
        {"class_id": training_class.id, "title": "开班式与专题讲座"},
        {
            "held_on": training_class.starts_on,
            "length": SessionLength.FULL_DAY,
            "place": "行政楼报告厅",
        },
    )



def _seed_workshop_class(seeder: _Seeder, institution: Institution, programme_code: str) -> None:
    """Add a class that delivers the offline lessons of a programme, with counselor2 in it.

    An offline lesson is completed only by a trainer's attendance mark at a
    class session that delivers it, so without such a class no learner could
    finish the programme. Each session takes the lesson's date and place;
    no attendance is recorded, which the demo ``trainer`` does.
    """
    from zoneinfo import ZoneInfo

    from courses import classes
    from courses.class_models import (
        ClassSession,
        ClassStatus,
        EnrolmentMode,
        SessionLength,
        TrainingClass,
    )
    from courses.models import LessonKind, Programme

    code = "demo-intermediate-class"
    exists = db.session.scalar(
        sa.select(TrainingClass.id).filter_by(institution_id=institution.id, code=code)
    )
    programme = db.session.scalar(
        sa.select(Programme).filter_by(institution_id=institution.id, code=programme_code)
    )
    if exists is not None or programme is None:
        return
    zone = ZoneInfo(institution.timezone)
    lessons = [
        lesson
        for link in programme.courses
        for lesson in link.course.lessons
        if lesson.kind is LessonKind.OFFLINE and lesson.session_starts_at is not None
    ]
    if not lessons:
        return
    days = [lesson.session_starts_at.astimezone(zone).date() for lesson in lessons]
    trainer = db.session.scalar(
        sa.select(User).filter_by(institution_id=institution.id, role=Role.TRAINER)
    )
    learner = db.session.scalar(sa.select(User).filter_by(username=CAREER_USERNAME))
    if trainer is None:
        return
    starts = min(days)
    training_class = TrainingClass(
        institution_id=institution.id,
        code=code,
        title=f"{starts.year}年中级辅导员能力提升培训班",
        summary="省级示范培训的面授部分。培训师登记出勤后，学员的面授课节即为完成。",
        programme_id=programme.id,
        starts_on=starts,
        ends_on=max(date.today() + timedelta(days=60), starts + timedelta(days=30)),
        capacity=40,
        enrolment_mode=EnrolmentMode.ASSIGNED,
        status=ClassStatus.OPEN,
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.DEMONSTRATION,
    )
    training_class.trainers = [trainer]
    db.session.add(training_class)
    db.session.flush()
    seeder.created[TrainingClass.__tablename__] += 1
    for lesson, day in zip(lessons, days):
        db.session.add(
            ClassSession(
                class_id=training_class.id,
                title=lesson.title,
                held_on=day,
                length=SessionLength.HALF_DAY,
                place=lesson.session_place or "",
                lesson_id=lesson.id,
            )
        )
    db.session.flush()
    if learner is not None and learner.institution_id == institution.id:
        classes.add_member(training_class, learner, by=trainer)


#: Demo counselor whose record makes the 助教 → 讲师 promotion rule apply.
#: counselor1 is left without a career record for the main walk-through.
CAREER_USERNAME = "counselor2"


def _seed_assessment_scheme(seeder: _Seeder, institution: Institution) -> None:
    """Add the default annual assessment scheme for the current year, if missing."""
    from lms.annual_assessment.services import seed_default_scheme
    from lms.compliance.windows import local_today

    if seed_default_scheme(institution.id, local_today(institution).year) is not None:
        seeder.created["annual_assessment_scheme"] += 1


def _seed_career(seeder: _Seeder, institution: Institution) -> None:
    """Add a title, annual grades and the hours of past years to the demo counselor.

    The title 助教 dates from 1 September three years before the day the seed
    first runs, the three previous years are graded 合格 and have 16
    school-level 学时 each, and last year also has a provincial training. So
    the counselor meets every condition of the example 助教 → 讲师 rule and
    may apply for it. Before the current post the counselor was a part-time
    counselor for two academic years, which the record shows as an earlier
    post: years of service count both posts, and the level stays 中级
    (year 6 of service). The rows
    have no recording HR account, like other seeded rows, and are not audited.
    Nothing is added when a title is already on the counselor's record.
    """

    from lms.compliance.windows import local_today
    from lms.records.events import ASSESSMENT_GRADES, PROFESSIONAL_TITLES, title_text
    from lms.records.models import HoursEntry, ProgressionEntry, ProgressionKind

    person = db.session.scalar(
        sa.select(User).filter_by(
            username=CAREER_USERNAME, institution_id=institution.id
        )
    )
    if person is None:
        return
    has_title = db.session.scalar(
        sa.select(ProgressionEntry.id).where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.TITLE_CHANGE,
        )
    )
    if has_title is not None:
        return
    today = local_today(institution)
    entries = [
        ProgressionEntry(
            user_id=person.id,
            kind=ProgressionKind.TITLE_CHANGE,
            occurred_on=date(today.year - 3, 9, 1),
            title=f"专业技术职务：{PROFESSIONAL_TITLES['teaching_assistant']}",
            title_data=title_text(
                ProgressionKind.TITLE_CHANGE, {"title": "teaching_assistant"}
            ).to_json(),
            detail={"title": "teaching_assistant", "note": ""},
        )
    ]
    earlier_post = _earlier_post_entry(person, institution)
    if earlier_post is not None:
        entries.append(earlier_post)
    for year in range(today.year - 3, today.year):
        entries.append(
            ProgressionEntry(
                user_id=person.id,
                kind=ProgressionKind.ASSESSMENT_GRADE,
                occurred_on=date(year, 12, 31),
                title=f"{year}年度考核：{ASSESSMENT_GRADES['competent']}",
                title_data=title_text(
                    ProgressionKind.ASSESSMENT_GRADE, {"grade": "competent", "year": year}
                ).to_json(),
                detail={"grade": "competent", "year": year, "note": ""},
            )
        )
    last_year = today.year - 1
    trainings = [
        (
            f"{last_year}年全省高校辅导员骨干培训班",
            date(last_year, 7, 10),
            TrainingTier.PROVINCIAL,
            TrainingKind.BACKBONE_CAMP,
            Decimal(24),
        )
    ]
    for year in range(today.year - 3, today.year):
        trainings.append(
            (
                f"{year}年校级辅导员业务培训",
                date(year, 10, 20),
                TrainingTier.SCHOOL,
                TrainingKind.THEMATIC,
                Decimal(16),
            )
        )
    for title, occurred_on, tier, kind, hours in trainings:
        entries.append(
            HoursEntry(
                user_id=person.id,
                title=title,
                occurred_on=occurred_on,
                year=occurred_on.year,
                tier=tier,
                kind=kind,
                hours=hours,
            )
        )
    for entry in entries:
        db.session.add(entry)
        seeder.created[entry.__tablename__] += 1
    db.session.flush()


def _earlier_post_entry(person: User, institution: Institution):
    """Return a part-time counselor post held in the two academic years before the current post.

    Returns None when the person's profile has no post start date.
    """
    from lms.records.events import POST_NAMES, title_text
    from lms.records.models import ProgressionEntry, ProgressionKind

    profile = db.session.get(PersonProfile, person.id)
    if profile is None or profile.post_started_on is None:
        return None
    current_start = profile.post_started_on
    post = Post.PART_TIME_COUNSELOR
    return ProgressionEntry(
        user_id=person.id,
        kind=ProgressionKind.APPOINTMENT,
        occurred_on=date(current_start.year - 2, 9, 1),
        title=f"任职：{POST_NAMES[post.value]}",
        title_data=title_text(ProgressionKind.APPOINTMENT, {"post": post.value}).to_json(),
        detail={
            "post": post.value,
            "ended_on": (current_start - timedelta(days=1)).isoformat(),
            "unit": "计算机科学与技术学院",
            "note": "",
        },
    )
