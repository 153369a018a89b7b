"""Deleting a quiz: allowed without attempts or contests in a draft course, and audited."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments.models import Question, Quiz
from assessments.services import start_attempt
from assessments.tasks_models import Contest, ContestEvent
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_user


def _quiz_exists(quiz_id: int) -> bool:
    db.session.expire_all()
    return db.session.get(Quiz, quiz_id) is not None


def test_confirmation_page_in_chinese(draft_quiz, login):
    page = login("trainer").get(f"/manage/quizzes/{draft_quiz}/delete").get_data(as_text=True)

    assert "删除测验" in page
    assert "此操作无法撤销" in page
    assert "Delete the quiz" not in page
    assert "cannot be undone" not in page


def test_edit_page_links_delete(draft_quiz, login):
    page = login("trainer").get(f"/manage/quizzes/{draft_quiz}").get_data(as_text=True)

    assert f"/manage/quizzes/{draft_quiz}/delete" in page


def test_delete_quiz_without_attempts(world, draft_quiz, login):
    course_id = db.session.get(Quiz, draft_quiz).course_id
    question_ids = [q.id for q in db.session.get(Quiz, draft_quiz).questions]

    response = login("trainer").post(f"/manage/quizzes/{draft_quiz}/delete")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/manage/courses/{course_id}")
    assert not _quiz_exists(draft_quiz)
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Question).where(Question.id.in_(question_ids))
    ) == 0
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="quiz.deleted"))
    assert entry is not None
    assert entry.subject_id == draft_quiz
    assert entry.actor_id == world.trainer
    assert entry.data["questions"] == len(question_ids)


def test_deleted_quiz_in_audit_log_in_chinese(draft_quiz, login):
    title = db.session.get(Quiz, draft_quiz).title
    login("trainer").post(f"/manage/quizzes/{draft_quiz}/delete")

    page = login("admin").get("/admin/audit?action=quiz.").get_data(as_text=True)

    assert f"已删除测验“{title}”" in page
    assert "deleted from course" not in page


def test_delete_needs_csrf(draft_quiz, login):
    session = login("trainer")

    response = session.client.post(f"/manage/quizzes/{draft_quiz}/delete", data={})

    assert response.status_code == 400
    assert _quiz_exists(draft_quiz)


def test_quiz_with_attempts_is_kept(world, draft_quiz, login):
    start_attempt(db.session.get(User, world.counselor), db.session.get(Quiz, draft_quiz))
    db.session.commit()
    session = login("trainer")

    response = session.post(f"/manage/quizzes/{draft_quiz}/delete", follow_redirects=True)
    page = response.get_data(as_text=True)

    assert _quiz_exists(draft_quiz)
    assert "不能删除" in page
    assert "关闭" in page
    assert "cannot be deleted" not in page
    assert db.session.scalar(sa.select(AuditEntry).filter_by(action="quiz.deleted")) is None


def test_confirmation_explains_attempts(world, draft_quiz, login):
    start_attempt(db.session.get(User, world.counselor), db.session.get(Quiz, draft_quiz))
    db.session.commit()

    page = login("trainer").get(f"/manage/quizzes/{draft_quiz}/delete").get_data(as_text=True)

    assert 'id="delete-problem"' in page
    assert "关闭" in page
    assert f'action="/manage/quizzes/{draft_quiz}/delete"' not in page


def test_quiz_with_attempts_message_in_english(world, draft_quiz, login, english):
    start_attempt(db.session.get(User, world.counselor), db.session.get(Quiz, draft_quiz))
    db.session.commit()

    response = login("trainer").post(
        f"/manage/quizzes/{draft_quiz}/delete", follow_redirects=True
    )

    assert "1 attempt was made at this quiz, so it cannot be deleted" in response.get_data(
        as_text=True
    )
    assert "Close the quiz instead" in response.get_data(as_text=True)


def test_quiz_in_contest_is_kept(world, draft_quiz, login, english):
    contest = Contest(institution_id=world.uni_a, title="素质能力大赛")
    db.session.add(contest)
    db.session.flush()
    db.session.add(
        ContestEvent(contest_id=contest.id, position=1, weight=Decimal(1), quiz_id=draft_quiz)
    )
    db.session.commit()

    response = login("trainer").post(
        f"/manage/quizzes/{draft_quiz}/delete", follow_redirects=True
    )

    assert _quiz_exists(draft_quiz)
    assert "The quiz is an event of the contest 素质能力大赛" in response.get_data(as_text=True)


def test_quiz_of_published_course_is_kept(world, login, english):
    response = login("trainer").post(f"/manage/quizzes/{world.quiz}/delete", follow_redirects=True)

    assert _quiz_exists(world.quiz)
    assert "is not a draft" in response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["counselor1", "hr"])
def test_other_roles_cannot_delete(draft_quiz, login, username):
    response = login(username).post(f"/manage/quizzes/{draft_quiz}/delete")

    assert response.status_code == 403
    assert _quiz_exists(draft_quiz)


def test_other_institution_gets_404(world, draft_quiz, login):
    make_user(db.session.get(Institution, world.uni_b), "trainer_b", Role.TRAINER)
    db.session.commit()

    response = login("trainer_b").post(f"/manage/quizzes/{draft_quiz}/delete")

    assert response.status_code == 404
    assert _quiz_exists(draft_quiz)
