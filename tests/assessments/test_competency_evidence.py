"""Competency evidence from quizzes and tasks, attainment, and the radar chart."""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from assessments import services as quiz_services
from assessments.models import Quiz
from lms.charts import radar_svg
from lms.competencies import evidence
from lms.competencies.evidence import CompetencyEvidence
from lms.competencies.models import CompetencyItem, Level
from lms.extensions import db
from lms.seed import seed_demo
from tests.assessments.task_builders import user
from tests.conftest import TEST_PASSWORD


def _answers(quiz: Quiz, right: bool) -> dict[int, set[int]]:
    return {
        q.id: {c.id for c in q.choices if c.is_correct == right} for q in quiz.questions
    }


def test_passed_quiz_records_evidence_once(world):
    quiz = db.session.get(Quiz, world.quiz)
    counselor = user("counselor1")

    failed = quiz_services.start_attempt(counselor, quiz)
    quiz_services.submit_attempt(failed, _answers(quiz, right=False))
    assert db.session.scalars(sa.select(CompetencyEvidence)).all() == []

    attempt = quiz_services.start_attempt(counselor, quiz)
    quiz_services.submit_attempt(attempt, _answers(quiz, right=True))
    quiz_services.submit_attempt(attempt, _answers(quiz, right=True))

    rows = db.session.scalars(sa.select(CompetencyEvidence)).all()
    assert [(r.source_type, r.source_id, r.fraction, r.user_id) for r in rows] == [
        ("quiz_attempt", attempt.id, Decimal(1), counselor.id)
    ]
    assert rows[0].item_id == quiz.course.competencies[0].id


def test_record_evidence_is_idempotent_per_source_and_item(world):
    item = db.session.scalar(sa.select(CompetencyItem))
    counselor = user("counselor1")

    first = evidence.record_evidence(
        counselor.id, "task_submission", 7, [item.id], Decimal("0.8"), date(2026, 5, 1)
    )
    again = evidence.record_evidence(
        counselor.id,
        "task_submission",
        7,
        [item.id, item.id],
        Decimal("0.9"),
        date(2026, 5, 2),
    )

    assert (first, again) == (1, 0)
    assert db.session.scalar(sa.select(CompetencyEvidence.fraction)) == Decimal("0.8")


def test_attainment_by_area_and_level(app_ctx):
    seed_demo(password=TEST_PASSWORD)
    counselor = user("counselor1")
    items = {i.code: i for i in db.session.scalars(sa.select(CompetencyItem))}
    # Area 5 at level 1 fully, area 5 at level 2 half, area 1 at level 1 from two
    # sources of which the better one counts.
    for source_type, source_id, code, fraction in (
        ("quiz_attempt", 1, "1.5", "1"),
        ("task_submission", 2, "2.5", "0.5"),
        ("quiz_attempt", 3, "1.1", "0.6"),
        ("task_submission", 4, "1.1", "0.9"),
    ):
        evidence.record_evidence(
            counselor.id,
            source_type,
            source_id,
            [items[code].id],
            Decimal(fraction),
            date(2026, 3, source_id),
        )

    by_area = evidence.attainment_by_area(counselor)

    assert [area.position for area, _value in by_area] == list(range(1, 10))
    values = {area.position: value for area, value in by_area}
    assert values[5] == Decimal("0.5")  # (1 + 0.5 + 0) / 3
    assert values[1] == Decimal("0.3")  # (0.9 + 0 + 0) / 3
    assert values[2] == Decimal(0)

    junior = db.session.scalar(sa.select(Level).filter_by(position=1))
    junior_values = {
        area.position: value
        for area, value in evidence.attainment_by_area(counselor, junior)
    }
    assert (junior_values[5], junior_values[1]) == (Decimal(1), Decimal("0.9"))

    by_level = {
        level.position: value
        for level, value in evidence.attainment_by_level(counselor)
    }
    assert by_level[1] == Decimal("0.211111")  # (1 + 0.9) / 9
    assert by_level[2] == Decimal("0.055556")  # 0.5 / 9
    assert by_level[3] == Decimal(0)


def test_default_framework_only_for_counselors(app_ctx):
    seed_demo(password=TEST_PASSWORD)

    assert len(evidence.attainment_by_area(user("counselor1"))) == 9
    assert evidence.attainment_by_area(user("organiser")) == []


def test_attainment_follows_the_framework_of_the_evidence(world):
    # The test world's only framework is not the default one, so a person
    # without evidence has no framework and no radar.
    item = db.session.scalar(sa.select(CompetencyItem))
    counselor = user("counselor1")
    assert evidence.attainment_by_area(counselor) == []

    evidence.record_evidence(
        counselor.id, "quiz_attempt", 1, [item.id], Decimal("0.75"), date(2026, 3, 1)
    )

    assert [(a.code, v) for a, v in evidence.attainment_by_area(counselor)] == [
        ("mental", Decimal("0.75"))
    ]
    assert evidence.radar_for(counselor) is None  # fewer than three areas


def test_radar_svg_escapes_labels_and_places_values():
    labels = ["思想政治教育", "<script>alert(1)</script>", "学业指导 & 发展"]
    svg = str(radar_svg(labels, [Decimal(1), Decimal("0.5"), 0], title="能力 \"雷达\""))

    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "思想政治教育" in svg
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "学业指导 &amp; 发展" in svg
    assert 'aria-label="能力 &#34;雷达&#34;"' in svg
    assert "思想政治教育: 100%" in svg
    assert "50%" in svg
    assert "style=" not in svg
    assert "<script" not in svg


def test_radar_svg_rejects_mismatched_input():
    import pytest

    with pytest.raises(ValueError):
        radar_svg(["a", "b", "c"], [1, 2])
    with pytest.raises(ValueError):
        radar_svg(["a", "b"], [1, 1])
