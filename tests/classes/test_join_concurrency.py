"""Two requests of one learner to join one class at once, on PostgreSQL where they overlap.

SQLite starts writing requests with BEGIN IMMEDIATE, so its transactions
never overlap and these tests run only when LMS_TEST_DATABASE_URL points at
PostgreSQL.
"""

import pytest
import sqlalchemy as sa

from courses import classes
from courses.class_models import ClassMember, EnrolmentMode, MemberStatus, TrainingClass
from lms.accounts.models import User
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.factories import build_learning_world
from tests.overlap import overlap


@pytest.fixture
def postgres_only(app):
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect != "postgresql":
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")


@pytest.mark.parametrize("mode", [EnrolmentMode.APPROVAL, EnrolmentMode.SELF])
def test_double_join_keeps_one_member_without_error(app, postgres_only, mode):
    with app.app_context():
        world = build_learning_world()
        class_id = make_class(world, mode=mode).id
        counselor_id = world.counselor
        db.session.commit()

    def join():
        classes.request_place(
            db.session.get(TrainingClass, class_id), db.session.get(User, counselor_id)
        )

    errors = overlap(app, join)

    assert errors == []
    with app.app_context():
        members = db.session.scalars(
            sa.select(ClassMember).filter_by(class_id=class_id, user_id=counselor_id)
        ).all()
        assert len(members) == 1
        expected = MemberStatus.PENDING if mode is EnrolmentMode.APPROVAL else MemberStatus.ENROLLED
        assert members[0].status is expected
