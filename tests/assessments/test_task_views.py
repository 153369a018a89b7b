import pytest
"""Performance-task pages with real logins: authoring, submitting, scoring, release."""

import io
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa

from assessments import moderation, tasks
from assessments.tasks_models import PerformanceTask, Rubric, ScoreSheet, TaskSubmission
from courses import authoring, versions
from courses.models import Course
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.competencies.models import CompetencyItem
from lms.extensions import db
from lms.seed import seed_demo
from tests.assessments.task_builders import WEIGHTED_DEFINITION, make_task, user
from tests.conftest import TEST_PASSWORD

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")
#: A due date year that lies ahead and within the plausible window.
NEXT_YEAR = datetime.now(UTC).year + 1


def _task_form(world, rubric_id, **overrides):
    data = {
        "course_id": str(world.course1),
        "kind": "case_analysis",
        "title": "学生矛盾案例分析",
        "rubric_id": str(rubric_id),
        "aggregation": "trimmed_mean",
        "divergence_margin": "1",
        "pass_mark": "60",
        "moderator_id": str(world.trainer),
        "blind_candidates": "y",
        "published": "y",
        "due_at": f"{NEXT_YEAR}-09-01T18:00",
    }
    data.update(overrides)
    return data


def test_trainer_builds_rubric_and_task(world, login):
    trainer = login("trainer")

    bad = trainer.post(
        "/manage/rubrics/new",
        data={"code": "w", "title": "权重", "definition": "内容 | 1\n- 好 | lots"},
    )
    assert bad.status_code == 400
    assert "Line 2" in bad.get_data(as_text=True)

    created = trainer.post(
        "/manage/rubrics/new",
        data={"code": "w", "title": "权重", "definition": WEIGHTED_DEFINITION},
    )
    assert created.status_code == 302
    rubric = db.session.scalar(sa.select(Rubric).filter_by(code="w"))
    assert rubric.max_points == Decimal(4)

    missing = trainer.post(
        "/manage/tasks/new", data=_task_form(world, rubric.id, title="")
    )
    assert missing.status_code == 400
    assert "Enter a title" in missing.get_data(as_text=True)

    saved = trainer.post("/manage/tasks/new", data=_task_form(world, rubric.id))
    assert saved.status_code == 302
    task = db.session.scalar(sa.select(PerformanceTask))
    # 18:00 in Shanghai
    assert task.due_at.isoformat() == f"{NEXT_YEAR}-09-01T10:00:00+00:00"
    assert [item.code for item in task.competencies] == ["1.5"]

    for person in (world.hr, world.admin):
        response = trainer.post(
            f"/manage/tasks/{task.id}/assessors", data={"user_id": str(person)}
        )
        assert response.status_code == 302
    page = trainer.get(f"/manage/tasks/{task.id}").get_data(as_text=True)
    assert "钱人事" in page
    assert "孙管理员" in page


def test_rubric_of_another_institution_is_not_found(world, login):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    other = make_rubric_b(world)
    trainer = login("trainer")

    assert trainer.get(f"/manage/rubrics/{other}").status_code == 404
    response = trainer.post(f"/manage/tasks/{task.id}", data=_task_form(world, other))
    assert response.status_code == 400
    assert "Choose a rubric of your institution" in response.get_data(as_text=True)


def make_rubric_b(world) -> int:
    rubric = Rubric(institution_id=world.uni_b, code="b", title="乙校标准")
    db.session.add(rubric)
    db.session.commit()
    return rubric.id


def _submit_as_counselor(login, task_id, **data):
    counselor = login("counselor1")
    files = data.pop("files", None)
    payload = dict(data)
    if files:
        payload["files"] = files
    return counselor, counselor.post(
        f"/tasks/{task_id}/submit", data=payload, content_type="multipart/form-data"
    )


def test_blind_scoring_and_release_gating(world, login):
    task = make_task(world, assessors=("hr", "counselor2"), moderator="trainer")
    db.session.commit()
    counselor, response = _submit_as_counselor(
        login,
        task.id,
        text="这是我的分析",
        files=[(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "张老师的分析.pdf")],
    )
    assert response.status_code == 302
    submission = db.session.scalar(sa.select(TaskSubmission))
    code = submission.anonymous_code

    hr = login("hr")
    queue = hr.get("/assess").get_data(as_text=True)
    assert code in queue
    assert "张老师" not in queue
    hr_sheet = db.session.scalar(sa.select(ScoreSheet).filter_by(assessor_id=world.hr))
    second_sheet = db.session.scalar(
        sa.select(ScoreSheet).filter_by(assessor_id=world.counselor2)
    )
    form = _levels(task, [1, 2, 1])
    assert hr.post(f"/assess/{hr_sheet.id}", data=form).status_code == 302

    second = login("counselor2")
    page = second.get(f"/assess/{second_sheet.id}").get_data(as_text=True)
    assert code in page
    assert "张老师" not in page  # neither the name nor the original file name
    assert "3.75" not in page
    assert "钱人事" not in page  # nor the other assessor's score
    assert second.get(f"/assess/{hr_sheet.id}").status_code == 404
    assert second.get(f"/manage/submissions/{submission.id}").status_code == 403
    assert second.post(f"/assess/{second_sheet.id}", data={}).status_code == 400
    download = second.get(f"/tasks/files/{submission.files[0].id}")
    assert download.status_code == 200
    assert code in download.headers["Content-Disposition"]
    download.close()
    scored = second.post(f"/assess/{second_sheet.id}", data=_levels(task, [1, 2, 1]))
    assert scored.status_code == 302

    before = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "3.75" not in before
    assert "Being assessed" in before

    trainer = login("trainer")
    overview = trainer.get(f"/manage/tasks/{task.id}/submissions").get_data(
        as_text=True
    )
    assert "张老师" in overview
    assert "3.75" in overview
    review = trainer.get(f"/manage/submissions/{submission.id}").get_data(as_text=True)
    assert "钱人事" in review
    assert "良好 · 0.75" in review
    no_reason = trainer.post(
        f"/manage/submissions/{submission.id}", data={"final_score": "150"}
    )
    assert no_reason.status_code == 400
    rejected = no_reason.get_data(as_text=True)
    assert "Final score: enter a number from 0 to 4" in rejected
    assert "Reason: required when the final score differs from the panel score." in rejected
    assert trainer.post(
        f"/manage/submissions/{submission.id}",
        data={"final_score": "", "reason": "两位评委一致", "feedback": "对策具体可行"},
    ).status_code == 302

    still_hidden = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "3.75" not in still_hidden
    assert "Panel mean" not in still_hidden
    assert "对策具体可行" not in still_hidden

    released = trainer.post(f"/manage/submissions/{submission.id}/release")
    assert released.status_code == 302
    after = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "3.75" in after
    assert "Panel mean" in after  # the criterion breakdown
    assert "对策具体可行" in after

    export = login("hr").get(f"/tasks/{task.id}/results.csv")
    assert export.status_code == 200
    first_row = export.data.decode("utf-8-sig").splitlines()[1].split(",")
    assert first_row[0] == "张老师"
    assert first_row[3:5] == ["3.75", "4"]
    results = login("hr").get(f"/tasks/{task.id}/results").get_data(as_text=True)
    assert "张老师" in results
    assert "3.75" in results


def _levels(task, positions):
    criteria = [c for r in task.rubrics for c in r.criteria]
    return {
        f"criterion-{criterion.id}": str(criterion.levels[p - 1].id)
        for criterion, p in zip(criteria, positions)
    }


def test_other_counselor_sees_no_submission(world, login):
    task = make_task(world, assessors=("hr",))
    submission = tasks.submit(
        task, user("counselor1"), files=[("a.pdf", io.BytesIO(b"%PDF-1.4\n"))]
    )
    db.session.commit()
    other = login("counselor2")

    assert other.get(f"/tasks/files/{submission.files[0].id}").status_code == 404
    assert "counselor1" not in other.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert other.get(f"/manage/submissions/{submission.id}").status_code == 403


def test_bad_upload_names_file_and_types(world, login):
    task = make_task(world)
    db.session.commit()
    _counselor, response = _submit_as_counselor(
        login, task.id, files=[(io.BytesIO(b"MZ\x90\x00"), "tool.exe")]
    )

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "tool.exe" in text
    assert "pdf" in text
    count = sa.select(sa.func.count()).select_from(TaskSubmission)
    assert db.session.scalar(count) == 0



def test_removed_assessor_cannot_rescore(world, login):
    task = make_task(world, assessors=("hr", "counselor2"), moderator="trainer")
    db.session.commit()
    _counselor, response = _submit_as_counselor(
        login,
        task.id,
        text="这是我的分析",
        files=[(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "分析.pdf")],
    )
    assert response.status_code == 302
    submission = db.session.scalar(sa.select(TaskSubmission))
    file_url = f"/tasks/files/{submission.files[0].id}"
    hr_sheet = db.session.scalar(sa.select(ScoreSheet).filter_by(assessor_id=world.hr))
    hr = login("hr")
    assert hr.post(f"/assess/{hr_sheet.id}", data=_levels(task, [1, 1, 1])).status_code == 302
    removed = login("trainer").post(f"/manage/tasks/{task.id}/assessors/{world.hr}/remove")
    assert removed.status_code == 302

    rescored = hr.post(f"/assess/{hr_sheet.id}", data=_levels(task, [4, 4, 4]))

    assert rescored.status_code == 400
    assert "no longer on the assessor panel" in rescored.get_data(as_text=True)
    db.session.expire_all()
    sheet = db.session.get(ScoreSheet, hr_sheet.id)
    assert moderation.sheet_total(sheet) == Decimal(4)
    assert hr.get(file_url).status_code == 404

def _contest_form(title, mode, first, second, third):
    return {
        "title": title,
        "award_mode": mode,
        "first_tier": first,
        "second_tier": second,
        "third_tier": third,
    }


def test_contest_pages(world, login):
    task = make_task(world)
    db.session.commit()
    trainer = login("trainer")

    response = trainer.post(
        "/manage/contests/new",
        data=_contest_form("辅导员素质能力大赛", "rank_share", "10", "20", "30"),
    )
    assert response.status_code == 302
    contest_url = response.headers["Location"]
    manage_url = contest_url.replace("/contests/", "/manage/contests/")
    event = {"source": f"task:{task.id}", "weight": "40"}
    assert trainer.post(f"{manage_url}/events", data=event).status_code == 302
    entrants = f"{manage_url}/entrants"
    added = trainer.post(entrants, data={"user_id": str(world.counselor)})
    assert added.status_code == 302
    assert trainer.post(entrants, data={"user_id": str(world.hr)}).status_code == 400

    page = login("hr").get(contest_url).get_data(as_text=True)
    assert "张老师" in page
    assert "案例分析任务" in page

    bad = trainer.post(
        manage_url, data=_contest_form("大赛", "threshold", "70", "80", "60")
    )
    assert bad.status_code == 400
    assert "Thresholds must fall" in bad.get_data(as_text=True)
    saved = trainer.post(
        manage_url, data=_contest_form("2026年大赛", "threshold", "90", "80", "70")
    )
    assert saved.status_code == 302

    export = login("hr").get(f"{contest_url}/standings.csv")
    assert export.status_code == 200
    text = export.data.decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.split(",")[3] == "案例分析任务"
    assert first.split(",")[1] == "张老师"



def test_contest_additions_are_audited(world, login):
    task = make_task(world)
    db.session.commit()
    trainer = login("trainer")
    response = trainer.post(
        "/manage/contests/new",
        data=_contest_form("辅导员素质能力大赛", "rank_share", "10", "20", "30"),
    )
    manage_url = response.headers["Location"].replace("/contests/", "/manage/contests/")

    event = {"source": f"task:{task.id}", "weight": "40"}
    assert trainer.post(f"{manage_url}/events", data=event).status_code == 302
    entrant = {"user_id": str(world.counselor)}
    assert trainer.post(f"{manage_url}/entrants", data=entrant).status_code == 302

    rows = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action.like("contest.%_added"))
    ).all()
    by_action = {row.action: row for row in rows}
    assert set(by_action) == {"contest.event_added", "contest.entrant_added"}
    assert by_action["contest.event_added"].actor_id == world.trainer
    assert by_action["contest.event_added"].data["weight"] == "40"
    assert by_action["contest.entrant_added"].actor_id == world.trainer
    assert by_action["contest.entrant_added"].data["user_id"] == world.counselor

def test_record_radar_for_owner_and_hr(app, login):
    with app.app_context():
        seed_demo(password=TEST_PASSWORD)
        from lms.competencies import evidence
        from datetime import date

        owner = user("counselor1")
        item = db.session.scalar(sa.select(CompetencyItem).filter_by(code="1.5"))
        evidence.record_evidence(
            owner.id, "quiz_attempt", 1, [item.id], Decimal(1), date(2026, 3, 1)
        )
        db.session.commit()
        owner_id = owner.id

    for username in ("counselor1", "hr"):
        page = login(username).get(f"/people/{owner_id}/record").get_data(as_text=True)
        assert "<svg" in page
        assert "心理健康教育与咨询工作" in page
        assert "职业规划与就业创业指导" in page
        assert "33%" in page  # area 5: one of its three items fully attained


def test_only_the_moderator_reaches_submissions(world, login):
    task = make_task(world, assessors=("hr",), moderator="admin")
    db.session.commit()
    trainer = login("trainer")

    listing = trainer.get("/manage/tasks").get_data(as_text=True)
    assert "Moderated by 孙管理员" in listing
    assert trainer.get(f"/manage/tasks/{task.id}/submissions").status_code == 403
    admin = login("admin")
    assert admin.get(f"/manage/tasks/{task.id}/submissions").status_code == 200


def test_task_due_out_of_range_message(world, login, english):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    trainer = login("trainer")

    response = trainer.post(
        f"/manage/tasks/{task.id}",
        data=_task_form(world, task.rubric_id, due_at="0001-01-01T00:00"),
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Due: 0001-01-01 00:00 is not a plausible date." in page
    assert "Enter a date and time from 2000-01-01 00:00 to " in page
    assert 'value="0001-01-01T00:00"' in page


def test_task_due_far_ahead_rejected(world, login, english):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    trainer = login("trainer")

    response = trainer.post(
        f"/manage/tasks/{task.id}",
        data=_task_form(world, task.rubric_id, due_at="2999-01-01T00:00"),
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Due: 2999-01-01 00:00 is not a plausible date." in page
    assert "Enter a date and time from 2000-01-01 00:00 to " in page
    db.session.expire_all()
    assert db.session.get(PerformanceTask, task.id).due_at is None


def test_task_form_labels_task_instructions(world, login):
    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    assert "Task instructions" in page


def test_new_task_rejects_past_due(world, login):
    rubric = make_task(world).rubric_id
    db.session.commit()
    trainer = login("trainer")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(PerformanceTask))

    response = trainer.post(
        "/manage/tasks/new",
        data=_task_form(world, rubric, due_at="2020-01-01T10:00"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The due date 2020-01-01 10:00 has already passed." in page
    assert "or leave it empty for no due date" in page
    after = db.session.scalar(sa.select(sa.func.count()).select_from(PerformanceTask))
    assert after == before


def test_case_analysis_rejects_student_rubric(world, login):
    """A student-role rubric on a written case analysis is rejected, not dropped."""
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    trainer = login("trainer")
    form = _task_form(world, task.rubric_id, student_rubric_id=str(task.rubric_id))

    created = trainer.post("/manage/tasks/new", data=form)
    edited = trainer.post(f"/manage/tasks/{task.id}", data=form)

    for response in (created, edited):
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Student-role rubric: only a heart-to-heart talk role-play" in page
        assert "Task saved." not in page
    count = db.session.scalar(sa.select(sa.func.count()).select_from(PerformanceTask))
    assert count == 1
    db.session.expire_all()
    assert db.session.get(PerformanceTask, task.id).student_rubric_id is None


def test_overdue_task_saves_unchanged_due(world, login):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    task.due_at = datetime(2020, 1, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    db.session.commit()
    trainer = login("trainer")

    unchanged = trainer.post(
        f"/manage/tasks/{task.id}",
        data=_task_form(world, task.rubric_id, title="改名", due_at="2020-01-01T10:00"),
    )
    moved = trainer.post(
        f"/manage/tasks/{task.id}",
        data=_task_form(world, task.rubric_id, due_at="2020-01-02T10:00"),
    )

    assert unchanged.status_code == 302
    assert moved.status_code == 400
    assert "The due date 2020-01-02 10:00 has already passed." in moved.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(PerformanceTask, task.id)
    assert saved.title == "改名"
    assert saved.due_at == datetime(2020, 1, 1, 2, 0, tzinfo=UTC)


def test_fake_pdf_attachment_names_content(world, login):
    task = make_task(world)
    db.session.commit()

    _counselor, response = _submit_as_counselor(
        login,
        task.id,
        text="这是我的分析",
        files=[(io.BytesIO(b"just some text, not a PDF"), "a.pdf")],
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "File a.pdf is not a real PDF file" in page
    assert "Save or export the file again as PDF" in page
    assert "not an accepted type" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TaskSubmission)) == 0


def test_sole_assessor_own_submission_warns(world, login):
    """A panel whose only assessor is the candidate warns the trainer everywhere."""
    task = make_task(world, assessors=(), moderator="trainer")
    db.session.commit()
    trainer = login("trainer")

    added = trainer.post(
        f"/manage/tasks/{task.id}/assessors",
        data={"user_id": str(world.counselor)},
        follow_redirects=True,
    ).get_data(as_text=True)
    _counselor, submitted = _submit_as_counselor(login, task.id, text="我的分析")

    assert "张老师 is also a learner of this task and will not score" in added
    assert submitted.status_code == 302
    submission = db.session.scalar(sa.select(TaskSubmission))
    assert submission.sheets == []
    warning = (
        "No assessor can score this submission: 张老师, the only assessor, "
        "is its candidate and does not score their own work."
    )
    panel = trainer.get(f"/manage/tasks/{task.id}").get_data(as_text=True)
    assert warning in panel
    assert "also a learner of this task: will not score their own submission" in panel
    review = trainer.get(f"/manage/submissions/{submission.id}").get_data(as_text=True)
    assert warning in review
    assert "enter the final score yourself with a reason" in review
    overview = trainer.get(f"/manage/tasks/{task.id}/submissions").get_data(
        as_text=True
    )
    assert warning in overview


def test_other_assessor_clears_warning(world, login):
    """A second assessor gets the submission, so no warning is shown."""
    task = make_task(world, assessors=("counselor1",), moderator="trainer")
    db.session.commit()
    _counselor, submitted = _submit_as_counselor(login, task.id, text="我的分析")
    assert submitted.status_code == 302
    trainer = login("trainer")

    added = trainer.post(
        f"/manage/tasks/{task.id}/assessors",
        data={"user_id": str(world.hr)},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "钱人事 is also a learner" not in added
    submission = db.session.scalar(sa.select(TaskSubmission))
    review = trainer.get(f"/manage/submissions/{submission.id}").get_data(as_text=True)
    assert "No assessor can score this submission" not in review


def test_grading_forms_reload_saved_text(world, login):
    """The final-score and score-sheet forms show the saved feedback and comment."""
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    _counselor, submitted = _submit_as_counselor(login, task.id, text="我的分析")
    assert submitted.status_code == 302
    submission = db.session.scalar(sa.select(TaskSubmission))
    sheet = submission.sheets[0]
    hr = login("hr")
    form = {**_levels(task, [1, 2, 1]), "comment": "结构清晰"}
    assert hr.post(f"/assess/{sheet.id}", data=form).status_code == 302
    trainer = login("trainer")
    url = f"/manage/submissions/{submission.id}"

    saved = trainer.post(
        url, data={"final_score": "3", "reason": "复核后下调", "feedback": "对策可再具体"}
    )

    assert saved.status_code == 302
    page = trainer.get(url).get_data(as_text=True)
    assert 'name="final_score" value="3"' in page
    assert ">复核后下调</textarea>" in page
    assert ">对策可再具体</textarea>" in page
    sheet_page = hr.get(f"/assess/{sheet.id}").get_data(as_text=True)
    assert "结构清晰</textarea>" in sheet_page


def test_task_form_names_course_versions(world, login):
    trainer_user = db.session.get(User, world.trainer)
    version1 = db.session.get(Course, world.course1)
    version2 = versions.new_version(version1, trainer_user)
    authoring.publish_course(version2, trainer_user)
    db.session.commit()

    page = login("trainer").get("/manage/tasks/new").get_data(as_text=True)

    assert f"{version1.code} v1 {version1.title} (Archived)" in page
    assert f"{version1.code} v2 {version1.title} (Published)" in page


@pytest.mark.parametrize(
    "field, message",
    [
        ("course_id", "Choose a course of your institution."),
        ("rubric_id", "Choose a rubric of your institution."),
        ("moderator_id", "Choose a trainer, HR officer or administrator of your institution."),
        ("competency_ids", "Choose competency items from the list."),
    ],
)
def test_new_task_huge_id_keeps_typed_fields(world, login, field, message):
    rubric = make_task(world).rubric_id
    db.session.commit()
    form = _task_form(world, rubric, title="我的任务标题", instructions="已经写好的说明")
    form[field] = "99999999999999999999999"

    response = login("trainer").post("/manage/tasks/new", data=form)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert "我的任务标题" in page
    assert "已经写好的说明" in page


def test_no_resubmit_block_when_resubmission_is_not_allowed(world, login):
    task = make_task(world, assessors=("hr",), resubmission=False)
    db.session.commit()
    counselor, response = _submit_as_counselor(login, task.id, text="我的分析")
    assert response.status_code == 302
    counselor.post("/language/en")

    page = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)

    assert "<h2>Resubmit</h2>" not in page
    assert "allows no resubmission" not in page
    assert "Not allowed" in page


def test_resubmit_block_waits_for_release_when_allowed(world, login):
    task = make_task(world, assessors=("hr",), resubmission=True)
    db.session.commit()
    counselor, _response = _submit_as_counselor(login, task.id, text="我的分析")
    counselor.post("/language/en")

    page = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)

    assert "<h2>Resubmit</h2>" not in page
    assert page.count("you can resubmit once its result is released") == 1
    assert f'action="/tasks/{task.id}/submit"' not in page


def _release(submission: TaskSubmission, score: int) -> None:
    submission.final_score = Decimal(score)
    submission.released_at = datetime.now(UTC)
    db.session.commit()


def test_resubmission_under_review_message_once(world, login):
    task = make_task(world, assessors=("hr",), resubmission=True)
    db.session.commit()
    counselor, _response = _submit_as_counselor(login, task.id, text="第一次")
    _release(db.session.scalar(sa.select(TaskSubmission)), 3)
    _counselor, resubmitted = _submit_as_counselor(login, task.id, text="第二次")
    assert resubmitted.status_code == 302
    counselor.post("/language/en")

    page = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)
    rejected = counselor.post(
        f"/tasks/{task.id}/submit", data={"text": "第三次"}, content_type="multipart/form-data"
    )
    rejected_page = rejected.get_data(as_text=True)

    assert "<h2>Resubmit</h2>" not in page
    assert page.count("you can resubmit once its result is released") == 1
    assert rejected.status_code == 400
    assert "<h2>Resubmit</h2>" not in rejected_page
    assert rejected_page.count("you can resubmit once its result is released") == 1


def test_resubmit_block_after_release(world, login):
    task = make_task(world, assessors=("hr",), resubmission=True)
    db.session.commit()
    counselor, _response = _submit_as_counselor(login, task.id, text="第一次")
    _release(db.session.scalar(sa.select(TaskSubmission)), 3)
    counselor.post("/language/en")

    page = counselor.get(f"/tasks/{task.id}").get_data(as_text=True)

    assert "<h2>Resubmit</h2>" in page
    assert f'action="/tasks/{task.id}/submit"' in page


def test_second_submission_without_resubmission_names_the_rule(world, login):
    task = make_task(world, assessors=("hr",), resubmission=False)
    db.session.commit()
    counselor, _response = _submit_as_counselor(login, task.id, text="第一次")
    counselor.post("/language/en")

    response = counselor.post(
        f"/tasks/{task.id}/submit", data={"text": "第二次"}, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert "this task allows no resubmission" in response.get_data(as_text=True)


def test_assessor_choices_leave_out_moderator_and_panel(world, login):
    task = make_task(world, assessors=("trainer",), moderator="hr")
    db.session.commit()

    response = login("admin").get(f"/manage/tasks/{task.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:300]
    choices = page.split('<select id="user_id" name="user_id">', 1)[1].split("</select>", 1)[0]
    assert f'value="{user("hr").id}"' not in choices
    assert f'value="{user("trainer").id}"' not in choices
    assert f'value="{user("admin").id}"' in choices


def _flashes_after(session, response) -> str:
    """Return the page a redirect leads to, with the messages flashed on the way."""
    return session.get(response.headers["Location"]).get_data(as_text=True)


def test_assessor_of_other_institution_looks_missing(world, login):
    """Another institution's user id gets the same message as an unused id."""
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    trainer = login("trainer")
    url = f"/manage/tasks/{task.id}/assessors"
    missing = db.session.scalar(sa.select(sa.func.max(User.id))) + 1000

    pages = {}
    for person in (world.hr_b, missing):
        response = trainer.post(url, data={"user_id": str(person)})
        assert response.status_code == 302
        pages[person] = _flashes_after(trainer, response)

    for page in pages.values():
        assert "Assessor: choose a person from the list." in page
        assert "of your institution" not in page


def test_entrant_of_other_institution_looks_missing(world, login):
    """Another institution's user id gets the same message as an unused id."""
    trainer = login("trainer")
    response = trainer.post(
        "/manage/contests/new",
        data=_contest_form("辅导员素质能力大赛", "rank_share", "10", "20", "30"),
    )
    manage_url = response.headers["Location"].replace("/contests/", "/manage/contests/")
    missing = db.session.scalar(sa.select(sa.func.max(User.id))) + 1000

    for person in (world.counselor_b, missing):
        response = trainer.post(f"{manage_url}/entrants", data={"user_id": str(person)})
        page = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "Entrant: choose a person from the list." in page
        assert "of your institution" not in page


def test_release_all_says_why_nothing_was_released(world, login):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    db.session.commit()
    _submit_as_counselor(login, task.id, text="这是我的分析")
    sheet = db.session.scalar(sa.select(ScoreSheet).filter_by(assessor_id=world.hr))
    assert login("hr").post(f"/assess/{sheet.id}", data=_levels(task, [1, 2, 1])).status_code == 302
    submission = db.session.scalar(sa.select(TaskSubmission))
    trainer = login("trainer")

    unscored = trainer.post(f"/manage/tasks/{task.id}/release", follow_redirects=True)
    trainer.post(f"/manage/submissions/{submission.id}", data={"final_score": "", "feedback": "好"})
    released = trainer.post(f"/manage/tasks/{task.id}/release", follow_redirects=True)
    again = trainer.post(f"/manage/tasks/{task.id}/release", follow_redirects=True)

    assert "No result was released: 1 submission has no final score yet." in unscored.get_data(
        as_text=True
    )
    assert "1 result released." in released.get_data(as_text=True)
    assert "every submission&#39;s result is released already" in again.get_data(as_text=True)
