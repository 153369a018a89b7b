import pytest

from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    """Return the ids of the committed data that build_learning_world adds."""
    return build_learning_world()


@pytest.fixture
def draft_quiz(world) -> int:
    """Return the id of the quiz on a new draft version of course 1, open to edits."""
    import sqlalchemy as sa

    from assessments.models import Quiz
    from courses import versions
    from courses.models import Course
    from lms.accounts.models import User
    from lms.extensions import db

    course = db.session.get(Course, world.course1)
    draft = versions.new_version(course, db.session.get(User, world.trainer))
    db.session.commit()
    return db.session.scalar(sa.select(Quiz.id).where(Quiz.course_id == draft.id))
