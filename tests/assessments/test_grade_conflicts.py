"""Lost-update protection of essay grades and task final scores."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments import marking, tasks
from assessments.models import AttemptAnswer
from assessments.tasks_models import TaskSubmission
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms import revisions
from lms.extensions import db
from tests.assessments.task_builders import make_rubric, make_task, user
from tests.assessments.test_attempt_views import (
    _all_kinds_quiz,
    _attempt,
    _enrolled,
    _form_for,
    _start,
)

pytestmark = pytest.mark.usefixtures("english")

_VERSION_RE = re.compile(r'name="lock_version" value="(\d+)"')


def _submitted_essay(world, login) -> tuple[int, int]:
    """Submit an attempt of every question kind; return the attempt and essay answer ids."""
    quiz = _all_kinds_quiz(world)
    counselor = _enrolled(login, world)
    attempt_id = _start(counselor, quiz.id)
    counselor.post(f"/attempts/{attempt_id}/submit", data=_form_for(quiz, _attempt(attempt_id)))
    answer_id = db.session.scalar(
        sa.select(AttemptAnswer.id).where(
            AttemptAnswer.attempt_id == attempt_id, AttemptAnswer.awarded.is_(None)
        )
    )
    return attempt_id, answer_id


def _opened_version(session, url: str) -> str:
    page = session.get(url).get_data(as_text=True)
    match = _VERSION_RE.search(page)
    assert match, "grading page has no version field"
    return match.group(1)


def _grade_entries(answer_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "quiz.essay_graded", AuditEntry.subject_id == answer_id)
            .order_by(AuditEntry.id)
        )
    )


def test_stale_essay_grade_gets_409(world, login):
    attempt_id, answer_id = _submitted_essay(world, login)
    url = f"/manage/grading/{answer_id}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    trainer_version = _opened_version(trainer, url)
    assert trainer_version == admin_version
    saved = trainer.post(url, data={"point_1": "4", "comment": "很好", "lock_version": trainer_version})
    assert saved.status_code == 302

    stale = admin.post(url, data={"point_1": "3", "comment": "一般", "lock_version": admin_version})

    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Not saved: changed by someone else" in page
    assert "赵培训师 saved the grade 4 of 4 points on" in page
    assert 'id="reload-grade"' in page
    db.session.expire_all()
    answer = db.session.get(AttemptAnswer, answer_id)
    assert answer.awarded == Decimal("4")
    assert answer.comment == "很好"
    assert answer.graded_by_id == world.trainer
    assert _attempt(attempt_id).score == Decimal("13")
    entries = _grade_entries(answer_id)
    assert len(entries) == 1
    assert entries[0].actor_id == world.trainer



def test_stale_grade_of_one_point_singular(world, login):
    attempt_id, answer_id = _submitted_essay(world, login)
    answer = db.session.get(AttemptAnswer, answer_id)
    answer.question.points = Decimal("1")
    db.session.commit()
    url = f"/manage/grading/{answer_id}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    trainer_version = _opened_version(trainer, url)
    saved = trainer.post(url, data={"point_1": "1", "comment": "好", "lock_version": trainer_version})
    assert saved.status_code == 302

    stale = admin.post(url, data={"point_1": "0", "comment": "", "lock_version": admin_version})

    assert stale.status_code == 409
    assert "saved the grade 1 of 1 point on" in stale.get_data(as_text=True)

def test_conflict_lists_differing_saved_values(world, login):
    _attempt_id, answer_id = _submitted_essay(world, login)
    url = f"/manage/grading/{answer_id}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    trainer.post(url, data={"point_1": "4", "comment": "很好", "lock_version": admin_version})

    stale = admin.post(url, data={"point_1": "3", "comment": "很好", "lock_version": admin_version})

    page = stale.get_data(as_text=True)
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td></tr>', page)
    assert rows == [("Scoring point 1 (Overall)", "4")]


def test_grader_saves_again_after_conflict(world, login):
    attempt_id, answer_id = _submitted_essay(world, login)
    url = f"/manage/grading/{answer_id}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    trainer.post(url, data={"point_1": "4", "lock_version": admin_version})
    stale = admin.post(url, data={"point_1": "3", "lock_version": admin_version})
    fresh_version = _VERSION_RE.search(stale.get_data(as_text=True)).group(1)
    assert fresh_version != admin_version

    again = admin.post(url, data={"point_1": "3", "lock_version": fresh_version})

    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer_id).awarded == Decimal("3")
    assert _attempt(attempt_id).score == Decimal("12")
    entries = _grade_entries(answer_id)
    assert [entry.actor_id for entry in entries] == [world.trainer, world.admin]
    assert entries[1].data["previous"] == "4.0000"


def test_invalid_grade_keeps_posted_version(world, login):
    _attempt_id, answer_id = _submitted_essay(world, login)
    url = f"/manage/grading/{answer_id}"
    admin = login("admin")
    version = _opened_version(admin, url)

    rejected = admin.post(url, data={"point_1": "9", "lock_version": version})

    assert rejected.status_code == 400
    assert _VERSION_RE.search(rejected.get_data(as_text=True)).group(1) == version


def test_grade_racing_another_save_is_stale(world, login):
    _attempt_id, answer_id = _submitted_essay(world, login)
    answer = db.session.get(AttemptAnswer, answer_id)
    shown_version = str(answer.grade_version)
    trainer = db.session.get(User, world.trainer)
    # Another request saved a grade after this one loaded the answer.
    db.session.execute(
        sa.update(AttemptAnswer)
        .where(AttemptAnswer.id == answer_id)
        .values(grade_version=AttemptAnswer.grade_version + 1)
        .execution_options(synchronize_session=False)
    )

    with pytest.raises(revisions.StaleGrade):
        marking.grade_essay(answer, {"point_1": "2"}, trainer, shown_version)

    db.session.rollback()
    assert db.session.get(AttemptAnswer, answer_id).awarded is None


def test_post_without_version_still_saves(world, login):
    _attempt_id, answer_id = _submitted_essay(world, login)
    trainer = login("trainer")
    trainer.get(f"/manage/grading/{answer_id}")

    response = trainer.post(f"/manage/grading/{answer_id}", data={"point_1": "2"})

    assert response.status_code == 302
    db.session.expire_all()
    answer = db.session.get(AttemptAnswer, answer_id)
    assert answer.awarded == Decimal("2")
    assert answer.grade_version == 1


@pytest.fixture
def moderated_submission(world) -> int:
    """Add a task moderated by the trainer and assessed by HR; return its submission id."""
    task = make_task(world, assessors=("hr",), moderator="trainer")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()
    return submission.id


def _moderation_entries(submission_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "task.moderated", AuditEntry.subject_id == submission_id)
            .order_by(AuditEntry.id)
        )
    )


def test_stale_final_score_gets_409(world, login, moderated_submission):
    url = f"/manage/submissions/{moderated_submission}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    saved = trainer.post(
        url, data={"final_score": "3", "reason": "复核后给分", "lock_version": admin_version}
    )
    assert saved.status_code == 302

    stale = admin.post(
        url, data={"final_score": "1", "reason": "另行评定", "lock_version": admin_version}
    )

    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Not saved: changed by someone else" in page
    assert "赵培训师 saved the grade 3 of" in page
    assert 'id="reload-final-score"' in page
    db.session.expire_all()
    submission = db.session.get(TaskSubmission, moderated_submission)
    assert submission.final_score == 3
    assert submission.final_reason == "复核后给分"
    assert [entry.actor_id for entry in _moderation_entries(moderated_submission)] == [
        world.trainer
    ]

    fresh_version = _VERSION_RE.search(page).group(1)
    again = admin.post(
        url, data={"final_score": "1", "reason": "另行评定", "lock_version": fresh_version}
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(TaskSubmission, moderated_submission).final_score == 1
    assert [entry.actor_id for entry in _moderation_entries(moderated_submission)] == [
        world.trainer,
        world.admin,
    ]


def test_stale_final_score_of_one_point_singular(world, login):
    rubric = make_rubric(world.uni_a, "one", "完成 | 1\n- 完成 | 1\n- 未完成 | 0\n")
    task = make_task(world, rubric=rubric, assessors=("hr",), moderator="trainer")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()
    assert task.max_points == 1
    url = f"/manage/submissions/{submission.id}"
    admin = login("admin")
    trainer = login("trainer")
    admin_version = _opened_version(admin, url)
    saved = trainer.post(
        url, data={"final_score": "1", "reason": "复核后给分", "lock_version": admin_version}
    )
    assert saved.status_code == 302

    stale = admin.post(
        url, data={"final_score": "0", "reason": "另行评定", "lock_version": admin_version}
    )

    assert stale.status_code == 409
    assert "saved the grade 1 of 1 point on" in stale.get_data(as_text=True)
