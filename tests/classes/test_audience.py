"""Adding people to a class whose programme is meant for other posts warns the trainer."""

import io

import pytest
import sqlalchemy as sa

from courses.class_models import ClassMember, MemberStatus
from lms.accounts.models import User
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.factories import build_learning_world

pytestmark = pytest.mark.usefixtures("english")

#: The programme of ``build_learning_world`` is meant for full-time counselors.
WARNING = "not in the audience of the programme 初级辅导员岗前培训 (专职辅导员)"


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    world.klass = make_class(world).id
    db.session.commit()
    return world


def _enrolled(world, user_id: int) -> bool:
    db.session.expire_all()
    status = db.session.scalar(
        sa.select(ClassMember.status).filter_by(class_id=world.klass, user_id=user_id)
    )
    return status is MemberStatus.ENROLLED


def test_outsider_added_with_warning(world, login):
    response = login("trainer").post(
        f"/classes/{world.klass}/members",
        data={"user_ids": [str(world.organiser), str(world.counselor)]},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert f"王组织员 is {WARNING}" in page
    assert "张老师 is not" not in page
    assert "王组织员、张老师" not in page
    assert _enrolled(world, world.organiser)
    assert _enrolled(world, world.counselor)


def test_audience_members_added_silently(world, login):
    response = login("trainer").post(
        f"/classes/{world.klass}/members",
        data={"user_ids": [str(world.counselor), str(world.counselor2)]},
        follow_redirects=True,
    )

    assert WARNING not in response.get_data(as_text=True)
    assert _enrolled(world, world.counselor2)


def test_course_class_has_no_audience(world, login):
    course_class = make_class(world, code="2026-course", course_only=True)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{course_class.id}/members",
        data={"user_ids": [str(world.organiser)]},
        follow_redirects=True,
    )

    assert "not in the audience" not in response.get_data(as_text=True)


def test_roster_import_warns_about_outsiders(world, login):
    organiser = db.session.get(User, world.organiser)
    organiser.employee_no = "P2001"
    db.session.commit()
    content = "工号,姓名,院系\r\nP2001,王组织员,教育学院\r\n".encode("utf-8")
    trainer = login("trainer")
    upload = trainer.post(
        f"/classes/{world.klass}/import",
        data={"file": (io.BytesIO(content), "roster.csv")},
        content_type="multipart/form-data",
    )
    confirm_url = upload.headers["Location"] + "/confirm"

    done = trainer.post(confirm_url)

    assert done.status_code == 200
    assert f"王组织员 is {WARNING}" in done.get_data(as_text=True)
    assert _enrolled(world, world.organiser)
