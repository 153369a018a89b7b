"""Lists that pick or mark people show the employee number next to each name."""

import pytest

from courses import classes
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.task_builders import make_task
from tests.assessments.task_builders import user as user_named
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, make_user

NAMESAKES = {"newcomer1": "E2001", "newcomer2": "E2002"}


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    institution = db.session.get(Institution, world.uni_a)
    for username, number in NAMESAKES.items():
        make_user(institution, username, full_name="新人甲").employee_no = number
    db.session.commit()
    return world


def _shows_both(page: str) -> bool:
    return all(f"新人甲 ({number})" in page for number in NAMESAKES.values())


def test_attendance_sheet_shows_numbers(world, login, english):
    klass = make_class(world)
    for username in NAMESAKES:
        classes.add_member(klass, user_named(username), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()

    page = login("trainer").get(
        f"/classes/{klass.id}/sessions/{session.id}/attendance"
    ).get_data(as_text=True)

    assert _shows_both(page)


def test_add_members_shows_numbers(world, login, english):
    klass = make_class(world)
    db.session.commit()

    page = login("trainer").get(f"/classes/{klass.id}/roster").get_data(as_text=True)

    assert _shows_both(page)


def test_task_people_show_numbers(world, login, english):
    # HR officers may moderate and assess any task, so both lists show them.
    for username in NAMESAKES:
        user_named(username).role = Role.HR
    task = make_task(world, assessors=("newcomer1",))
    db.session.commit()

    page = login("admin").get(f"/manage/tasks/{task.id}").get_data(as_text=True)

    # E2001 sits on the panel, so the choice of new assessors leaves them out.
    assert page.count("新人甲 (E2001)") == 2
    assert page.count("新人甲 (E2002)") == 2


def test_chinese_label_uses_full_width_brackets(world, login):
    klass = make_class(world)
    db.session.commit()

    page = login("trainer").get(f"/classes/{klass.id}/roster").get_data(as_text=True)

    assert "新人甲（E2001）" in page
