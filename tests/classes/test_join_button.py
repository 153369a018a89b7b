"""The class page offers the join button only to learners whom joining would accept."""

from datetime import date, timedelta

import pytest

from courses.class_models import EnrolmentMode
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.factories import build_learning_world

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _join_form(class_id: int) -> str:
    return f'action="/classes/{class_id}/join"'


def test_audience_member_sees_button(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()

    page = login("counselor1").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert _join_form(klass.id) in page


def test_outsider_sees_reason_not_button(world, login):
    """The programme is for full-time counselors, so the organiser's request would be rejected."""
    klass = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()

    page = login("organiser").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert _join_form(klass.id) not in page
    assert "meant for other posts than yours" in page


@pytest.mark.parametrize("mode", [EnrolmentMode.SELF, EnrolmentMode.APPROVAL])
def test_ended_class_hides_button(world, login, mode):
    klass = make_class(world, mode=mode)
    klass.starts_on = date.today() - timedelta(days=30)
    klass.ends_on = date.today() - timedelta(days=2)
    db.session.commit()

    page = login("counselor1").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert _join_form(klass.id) not in page
    assert "The class has ended, so it takes no more enrolments." in page
