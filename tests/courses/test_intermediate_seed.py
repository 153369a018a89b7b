"""The intermediate demo programme, authored through the trainer services."""

import re
from decimal import Decimal

import sqlalchemy as sa

from courses import services
from courses.models import LessonKind, Programme, PublicationStatus
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier
from tests.factories import finish_lesson, open_lesson

CODE = "intermediate-upgrade-2026"


def _programme() -> Programme:
    return db.session.scalar(sa.select(Programme).filter_by(code=CODE))


def test_intermediate_programme_shape(app_ctx, seeded):
    programme = _programme()

    assert programme.title == "中级辅导员能力提升培训"
    assert programme.status is PublicationStatus.PUBLISHED
    assert programme.tier is TrainingTier.PROVINCIAL
    assert programme.kind is TrainingKind.DEMONSTRATION
    assert programme.level.value == "intermediate"
    assert programme.audience_posts == ["full_time_counselor"]
    assert programme.min_elective_hours == Decimal(4)
    assert [(link.course.code, link.required) for link in programme.courses] == [
        ("mid-theme-education", True),
        ("mid-crisis-intervention", True),
        ("mid-academic-guidance", False),
        ("mid-crisis-opinion", False),
    ]
    opinion = programme.courses[3]
    assert [each.course.code for each in opinion.prerequisites] == [
        "mid-crisis-intervention"
    ]


def test_intermediate_lessons_are_real_content(app_ctx, seeded):
    programme = _programme()

    for link in programme.courses:
        course = link.course
        assert course.status is PublicationStatus.PUBLISHED
        assert course.competencies, course.code
        assert all(item.code.startswith("2.") for item in course.competencies)
        minutes = sum(lesson.duration_minutes for lesson in course.lessons)
        assert minutes == int(course.credit_hours) * 45, course.code
        for lesson in course.lessons:
            assert lesson.body_html.count("<p>") >= 1, lesson.title
            assert "<script" not in lesson.body_html
    theme = programme.courses[0].course
    assert [module.title for module in theme.modules] == ["项目设计", "评估与总结"]
    assert [lesson.module.title for lesson in theme.lessons] == [
        "项目设计",
        "项目设计",
        "评估与总结",
    ]
    offline = programme.courses[1].course.lessons[-1]
    assert offline.kind is LessonKind.OFFLINE
    assert offline.session_place == "学生发展中心团体辅导室"
    assert offline.session_starts_at.isoformat() == "2026-10-16T06:00:00+00:00"


def test_intermediate_authored_by_trainer(app_ctx, seeded):
    trainer = db.session.scalar(sa.select(User).filter_by(username="trainer"))
    programme = _programme()

    entries = db.session.scalars(
        sa.select(AuditEntry).filter_by(
            subject_type="programme", subject_id=programme.id
        )
    ).all()

    assert programme.author_id == trainer.id
    assert [(entry.action, entry.actor_id) for entry in entries] == [
        ("programme.created", trainer.id),
        ("programme.published", trainer.id),
    ]


def test_intermediate_completion_rule(app_ctx, seeded):
    learner = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
    enrolment = services.enrol(learner, _programme())
    links = enrolment.programme.courses

    for link in links[:2]:
        for lesson in link.course.lessons:
            # The offline workshop is completed by an attendance mark.
            attended = lesson.kind is LessonKind.OFFLINE
            open_lesson(learner, lesson)
            services.complete_lesson(learner, lesson, attended=attended)
    after_required = enrolment.completed_at
    for lesson in links[2].course.lessons:
        finish_lesson(learner, lesson)

    assert after_required is None
    assert enrolment.completed_at is not None


def test_catalogue_shows_audience_posts(app_ctx, seeded, login):
    page = login("counselor1").get("/programmes").get_data(as_text=True)

    assert "中级辅导员能力提升培训" in page
    assert re.search(
        r'专职辅导员\s*<br><span class="muted">工作四年以上的专职辅导员</span>', page
    )
