"""Performance-task services: scoring, blindness, moderation, release, resubmission."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments import moderation, rubrics, tasks
from assessments.tasks_models import Aggregation, Rubric, ScoreSheet, TaskKind
from courses.authoring import AuthoringError
from lms.audit import AuditEntry
from lms.competencies.evidence import CompetencyEvidence
from lms.db import now_utc
from lms.extensions import db
from lms.notifications.models import Notification
from tests.assessments.task_builders import make_rubric, make_task, score, user

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")


def submit(task, username="counselor1", **kwargs):
    kwargs.setdefault("text", "案例分析正文")
    return tasks.submit(task, user(username), **kwargs)


def test_weighted_total_is_exact(world):
    task = make_task(world)
    submission = submit(task)

    total = score(submission, "trainer", [1, 2, 1])

    assert total == Decimal("3.75")
    assert moderation.panel_summary(submission).aggregate == Decimal("3.75")


def test_submission_assigned_to_panel_not_candidate(world):
    task = make_task(world, assessors=("trainer", "counselor2"))
    submission = submit(task)
    own = submit(task, "counselor2")

    assert {s.assessor.username for s in submission.sheets} == {"trainer", "counselor2"}
    assert {s.assessor.username for s in own.sheets} == {"trainer"}


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        (Aggregation.MEAN, None),  # checked as a third of 10.25 below
        (Aggregation.MEDIAN, "3.5"),
        (Aggregation.TRIMMED_MEAN, "3.5"),
    ],
)
def test_panel_aggregate_by_method(world, method, expected):
    task = make_task(world, aggregation=method)
    submission = submit(task)
    score(submission, "trainer", [1, 2, 1])  # 3.75
    score(submission, "hr", [2, 1, 1])  # 1.5 + 1 + 1 = 3.5
    score(submission, "counselor2", [2, 2, 2])  # 3 * 0.5 + 3 * 0.25 * 2 = 3

    summary = moderation.panel_summary(submission)

    if method is Aggregation.MEAN:
        # 3.75 + 3.5 + 3 = 10.25, a third of which does not end.
        assert summary.aggregate * 3 == Decimal("10.25")
    else:
        assert summary.aggregate == Decimal(expected)
    assert summary.complete


def test_criterion_means_are_exact(world):
    task = make_task(world)
    submission = submit(task)
    score(submission, "trainer", [1, 2, 1])  # 2, 0.75, 1
    score(submission, "hr", [2, 2, 4])  # 1.5, 0.75, 0.25

    means = [(c.title, mean) for c, mean in moderation.criterion_means(submission)]

    assert means == [
        ("内容", Decimal("1.75")),
        ("表达", Decimal("0.75")),
        ("仪态", Decimal("0.625")),
    ]


def test_divergence_flag(world):
    task = make_task(world, margin="1")
    submission = submit(task)
    score(submission, "trainer", [1, 1, 1])  # 4
    score(submission, "hr", [4, 4, 4])  # 1

    assert moderation.panel_summary(submission).divergent is True

    task.divergence_margin = Decimal(3)
    assert moderation.panel_summary(submission).divergent is False


def test_heart_talk_role_mean(world):
    counselor_role = rubrics.save_rubric(
        world.uni_a,
        {"code": "c", "title": "辅导员角色", "definition": "谈话 | 1\n- 好 | 100\n- 差 | 60"},
        user("trainer"),
    )
    student_role = rubrics.save_rubric(
        world.uni_a,
        {"code": "s", "title": "学生角色", "definition": "配合 | 1\n- 好 | 100\n- 差 | 75"},
        user("trainer"),
    )
    task = make_task(
        world,
        kind=TaskKind.HEART_TALK,
        rubric=counselor_role,
        student_rubric=student_role,
    )
    submission = submit(task)

    assert score(submission, "trainer", [2, 2]) == Decimal("67.5")


def test_heart_talk_needs_student_rubric(world):
    with pytest.raises(AuthoringError) as raised:
        make_task(world, kind=TaskKind.HEART_TALK)
    assert "student_rubric_id" in raised.value.errors


def test_sheet_needs_every_criterion(world):
    task = make_task(world)
    submission = submit(task)
    sheet = submission.sheets[0]
    criterion = task.rubric.criteria[0]

    with pytest.raises(tasks.TaskError, match="表达"):
        chosen = {criterion.id: str(criterion.levels[0].id)}
        moderation.save_sheet(sheet, chosen, "", sheet.assessor)


def test_foreign_level_is_rejected(world):
    task = make_task(world)
    submission = submit(task)
    sheet = submission.sheets[0]
    first, second, third = task.rubric.criteria
    chosen = {
        first.id: str(second.levels[0].id),
        second.id: str(second.levels[0].id),
        third.id: str(third.levels[0].id),
    }

    with pytest.raises(tasks.TaskError, match="内容"):
        moderation.save_sheet(sheet, chosen, "", sheet.assessor)


def test_blind_task_hides_candidate_name(world):
    task = make_task(world, blind=True, assessors=("hr",))
    submission = submit(task)

    code = submission.anonymous_code
    assert moderation.candidate_label(submission, user("hr")) == code
    assert moderation.candidate_label(submission, user("admin")) == "张老师"
    assert moderation.is_moderator(user("trainer"), task) is False

    task.blind_candidates = False
    assert moderation.candidate_label(submission, user("hr")) == "张老师"


def test_moderation_reason_and_audit(world):
    task = make_task(world)
    submission = submit(task)
    score(submission, "trainer", [1, 2, 1])
    moderator = user("admin")

    with pytest.raises(moderation.ModerationErrors, match="Reason") as raised:
        moderation.moderate(submission, "3.5", "", "", moderator)
    assert set(raised.value.errors) == {"reason"}

    final = moderation.moderate(submission, "", "与评委意见一致", "分析到位", moderator)
    assert final == Decimal("3.75")

    final = moderation.moderate(submission, "3.5", "第二位评委复核后下调", "", moderator)
    assert final == Decimal("3.5")

    entries = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="task.moderated").order_by(AuditEntry.id)
    ).all()
    assert [(e.data["before"], e.data["after"]) for e in entries] == [
        (None, "3.75"),
        # Audit entries write scores with at least two decimals.
        ("3.75", "3.50"),
    ]
    assert entries[-1].data["reason"] == "第二位评委复核后下调"
    assert entries[-1].data["panel"] == "3.75"
    scored = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="task.scored")
    ).all()
    assert [e.data["after"] for e in scored] == ["3.75"]


def test_panel_score_needs_no_reason(world):
    task = make_task(world)
    submission = submit(task)
    score(submission, "trainer", [1, 2, 1])
    moderator = user("admin")

    blank = moderation.moderate(submission, "", "", "", moderator)
    typed = moderation.moderate(submission, "3.75", "", "", moderator)

    assert blank == Decimal("3.75")
    assert typed == Decimal("3.75")
    entries = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="task.moderated").order_by(AuditEntry.id)
    ).all()
    assert [(e.data["after"], e.data["reason"]) for e in entries] == [
        ("3.75", ""),
        ("3.75", ""),
    ]


def test_moderation_reports_every_error(world):
    task = make_task(world)
    submission = submit(task)
    score(submission, "trainer", [1, 2, 1])

    for raw in ("150", "abc"):
        with pytest.raises(moderation.ModerationErrors) as raised:
            moderation.moderate(submission, raw, "", "", user("admin"))
        assert set(raised.value.errors) == {"final_score", "reason"}, raw
    unscored = submit(task, "counselor2")
    with pytest.raises(moderation.ModerationErrors) as raised:
        moderation.moderate(unscored, "", "", "", user("admin"))
    assert set(raised.value.errors) == {"final_score", "reason"}


def test_moderated_score_within_rubric(world):
    task = make_task(world)
    submission = submit(task)

    with pytest.raises(tasks.TaskError, match="0 to 4 with at most two"):
        moderation.moderate(submission, "4.5", "理由", "", user("admin"))
    with pytest.raises(tasks.TaskError, match="two decimal places"):
        moderation.moderate(submission, "3.125", "理由", "", user("admin"))
    with pytest.raises(tasks.TaskError, match="no assessor"):
        moderation.moderate(submission, "", "理由", "", user("admin"))


def test_rescoring_is_audited(world):
    task = make_task(world)
    submission = submit(task)
    score(submission, "trainer", [1, 1, 1])
    score(submission, "trainer", [2, 2, 2])

    entries = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="task.scored").order_by(AuditEntry.id)
    ).all()
    assert [(e.data["before"], e.data["after"]) for e in entries] == [
        (None, "4.00"),
        ("4.00", "3.00"),
    ]


def test_release_gating_and_once(world):
    task = make_task(world)
    submission = submit(task)

    with pytest.raises(tasks.TaskError):
        moderation.release(submission, user("admin"))
    assert moderation.passed(submission) is None

    moderation.moderate(submission, "3", "合议", "", user("admin"))
    assert moderation.released_result(task, user("counselor1")) is None
    assert moderation.release(submission, user("admin")) is True
    assert moderation.release(submission, user("admin")) is False

    assert moderation.released_result(task, user("counselor1")) == submission
    notices = db.session.scalars(
        sa.select(Notification).filter_by(kind="task_result")
    ).all()
    recipients = [(n.recipient_id, n.subject_id) for n in notices]
    assert recipients == [(world.counselor, submission.id)]
    assert "3" in notices[0].body
    assert "4" in notices[0].body
    assert moderation.passed(submission) is True  # 3 of 4 is 75 %, pass mark 60 %
    with pytest.raises(tasks.TaskError):
        score(submission, "hr", [1, 1, 1])
    with pytest.raises(tasks.TaskError):
        moderation.moderate(submission, "4", "改分", "", user("admin"))


def test_release_moderated_skips_unmoderated(world):
    task = make_task(world)
    moderated = submit(task)
    pending = submit(task, "organiser")
    moderation.moderate(moderated, "2", "合议", "", user("admin"))

    assert moderation.release_moderated(task, user("admin")) == 1
    assert moderation.release_moderated(task, user("admin")) == 0
    assert moderated.released_at is not None
    assert pending.released_at is None


def test_release_records_evidence_once(world):
    task = make_task(world)
    submission = submit(task)
    moderation.moderate(submission, "3", "合议", "", user("admin"))
    moderation.release(submission, user("admin"))
    moderation.release(submission, user("admin"))

    rows = db.session.scalars(sa.select(CompetencyEvidence)).all()
    assert [(r.source_type, r.source_id, r.fraction) for r in rows] == [
        ("task_submission", submission.id, Decimal("0.75"))
    ]
    assert rows[0].item_id == task.competencies[0].id


def test_resubmission_rules(world):
    rubric = make_rubric(world.uni_a)
    strict = make_task(world, rubric=rubric)
    submit(strict)
    with pytest.raises(tasks.TaskError, match="no resubmission"):
        submit(strict)

    task = make_task(world, rubric=rubric, resubmission=True)
    first = submit(task)
    with pytest.raises(tasks.TaskError, match="being assessed"):
        submit(task)

    moderation.moderate(first, "1", "需要改进", "请补充对策", user("admin"))
    moderation.release(first, user("admin"))
    second = submit(task, text="修改后的分析")

    assert second.number == 2
    assessors = {s.assessor.username for s in second.sheets}
    assert assessors == {"trainer", "hr", "counselor2"}
    assert second.anonymous_code != first.anonymous_code


def test_due_date_closes_submission(world):
    task = make_task(world)
    task.due_at = now_utc() - timedelta(minutes=1)

    with pytest.raises(tasks.TaskError, match="due date"):
        submit(task)


def test_unpublished_task_rejects_submission(world):
    task = make_task(world)
    task.published = False

    with pytest.raises(tasks.TaskError, match="not open"):
        submit(task)


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        (TaskKind.CLASS_MEETING, {"text": "只有文字"}, "Video"),
        (TaskKind.PORTFOLIO, {"text": "只有说明"}, "Evidence"),
        (TaskKind.CASE_DISCUSSION, {"text": "笔记"}, "Role"),
        (TaskKind.CASE_ANALYSIS, {"text": ""}, "Analysis"),
        (
            TaskKind.SPEECH,
            {"text": "", "video_url": "javascript:alert(1)"},
            "Video link",
        ),
    ],
)
def test_each_kind_checks_its_content(world, kind, kwargs, message):
    task = make_task(world, kind=kind)

    with pytest.raises(tasks.TaskError, match=message):
        tasks.submit(task, user("counselor1"), **kwargs)


def test_portfolio_files_checked_and_stored(world):
    task = make_task(world, kind=TaskKind.PORTFOLIO)

    with pytest.raises(tasks.TaskError, match="not an accepted type"):
        tasks.submit(task, user("counselor1"), files=[("run.exe", io.BytesIO(b"MZ"))])
    with pytest.raises(tasks.TaskError, match="fake.pdf is not a real PDF file"):
        fake = [("fake.pdf", io.BytesIO(b"not a pdf"))]
        tasks.submit(task, user("counselor1"), files=fake)

    submission = tasks.submit(
        task,
        user("counselor1"),
        text="年度工作实绩",
        files=[("获奖证书.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))],
    )
    assert [(f.original_name, f.media_type) for f in submission.files] == [
        ("获奖证书.pdf", "application/pdf")
    ]


def test_submitted_file_keeps_last_path_component(world):
    task = make_task(world, kind=TaskKind.PORTFOLIO)

    submission = tasks.submit(
        task,
        user("counselor1"),
        files=[("..\\..\\获奖证书.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))],
    )

    assert [f.original_name for f in submission.files] == ["获奖证书.pdf"]


def test_class_meeting_takes_a_video_link(world):
    task = make_task(world, kind=TaskKind.CLASS_MEETING)

    submission = tasks.submit(
        task, user("counselor1"), video_url="https://video.example.edu.cn/meeting/1"
    )

    assert submission.video_url == "https://video.example.edu.cn/meeting/1"


def test_removed_assessor_keeps_scored_sheets(world):
    task = make_task(world)
    scored = submit(task)
    unscored = submit(task, "organiser")
    score(scored, "hr", [1, 1, 1])

    tasks.remove_assessor(task, world.hr, user("trainer"))

    sheets = db.session.scalars(
        sa.select(ScoreSheet).filter_by(assessor_id=world.hr)
    ).all()
    assert [s.submission_id for s in sheets] == [scored.id]
    assert unscored.id not in {s.submission_id for s in sheets}


def test_scored_task_locks_rubric(world):
    task = make_task(world)
    score(submit(task), "trainer", [1, 1, 1])
    other = make_rubric(world.uni_a, "other")
    data = {
        "course_id": str(world.course1), "kind": "speech", "title": task.title,
        "rubric_id": str(other.id), "aggregation": "median", "pass_mark": "60",
        "moderator_id": str(world.admin),
    }

    with pytest.raises(AuthoringError) as raised:
        tasks.save_task(world.uni_a, data, user("trainer"), task)
    assert "rubric_id" in raised.value.errors

    data.update(kind="case_analysis", rubric_id=str(task.rubric_id))
    tasks.save_task(world.uni_a, data, user("trainer"), task)
    assert task.aggregation is Aggregation.MEDIAN


def test_rubric_errors_name_the_line(world):
    with pytest.raises(AuthoringError) as raised:
        make_rubric(world.uni_a, "bad", "内容 | 1\n- 好 | many\n- 差 | 1")
    assert "Line 2" in raised.value.errors["definition"]

    with pytest.raises(AuthoringError) as raised:
        make_rubric(world.uni_a, "bad", "- 好 | 1")
    assert "Line 1" in raised.value.errors["definition"]


def test_rubric_copy_and_lock(world):
    rubric = make_rubric(world.uni_a)
    definition = rubrics.format_definition(rubric)
    copy = rubrics.copy_rubric(rubric, user("trainer"))

    assert rubrics.format_definition(copy) == definition
    assert copy.code == "weighted-copy"
    assert copy.copied_from_id == rubric.id

    task = make_task(world, rubric=rubric)
    score(submit(task), "trainer", [1, 1, 1])
    with pytest.raises(AuthoringError) as raised:
        rubrics.save_rubric(
            world.uni_a,
            {"code": rubric.code, "title": rubric.title, "definition": definition},
            user("trainer"),
            rubric,
        )
    assert "form" in raised.value.errors


def test_seeded_rubrics_100_points_idempotent(world):
    assert rubrics.seed_rubrics(world.uni_a) == len(rubrics.SEED_RUBRICS)
    assert rubrics.seed_rubrics(world.uni_a) == 0

    seeded = db.session.scalars(
        sa.select(Rubric).where(
            Rubric.code.in_([code for code, *_rest in rubrics.SEED_RUBRICS])
        )
    ).all()
    assert {r.code: r.max_points for r in seeded} == {
        code: Decimal(100) for code, *_ in rubrics.SEED_RUBRICS
    }
    class_meeting = next(r for r in seeded if r.code == "class-meeting-100")
    assert [c.max_points for c in class_meeting.criteria] == [20, 20, 20, 30, 10]
    discussion = next(r for r in seeded if r.code == "case-discussion-100")
    assert [c.max_points for c in discussion.criteria] == [30, 70]
