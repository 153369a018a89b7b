"""A trainer offers in a class only courses whose co-teachers they may add.

A class's trainers grade what it offers, so choosing the offering, or the
trainers, of a class follows the rule of the course's Teachers page: its
author (of any version) or an administrator.
"""

from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from courses.class_models import TrainingClass
from courses.models import Course, CourseTeacher, ProgrammeCourse, PublicationStatus
from courses.teaching import teaches
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class, user
from tests.factories import build_learning_world, make_course, make_programme, make_user
from tests.revisions.forms import edit_form, text_of


@pytest.fixture
def world(app_ctx):
    """The learning world, where ``trainer`` authors courses 1 and 2, plus:

    ``trainer2`` authoring course 4 and a programme of it alone, a programme
    of courses 1 and 4, and ``trainer3`` authoring nothing.
    """
    world = build_learning_world()
    uni_a = db.session.get(Institution, world.uni_a)
    trainer2 = make_user(uni_a, "trainer2", Role.TRAINER, full_name="陈培训师")
    trainer3 = make_user(uni_a, "trainer3", Role.TRAINER, full_name="刘培训师")
    course4 = make_course(uni_a, "c4", title="网络思政工作", lessons=1, author=trainer2)
    course1 = db.session.get(Course, world.course1)
    own = make_programme(
        uni_a, "p-own", [course4], title="网络思政专题", author=trainer2
    )
    mixed = make_programme(uni_a, "p-mixed", [course1, course4], title="综合能力提升")
    db.session.commit()
    world.trainer2 = trainer2.id
    world.trainer3 = trainer3.id
    world.course4 = course4.id
    world.own_programme = own.id
    world.mixed_programme = mixed.id
    return world


def _new_class(offering: str, trainer_ids: list[int], code: str = "2026-07") -> dict:
    return {
        "code": code, "title": "第7期", "offering": offering,
        "starts_on": "2026-09-01", "ends_on": "2026-09-20",
        "enrolment_mode": "assigned", "tier": "school", "kind": "",
        "trainer_ids": [str(each) for each in trainer_ids],
    }


def _created(code: str = "2026-07") -> TrainingClass | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(TrainingClass).filter_by(code=code))


def _course(course_id: int) -> Course:
    return db.session.get(Course, course_id)


def _admin_class(world, offering: str) -> TrainingClass:
    """Add a class that an administrator set up for ``trainer2`` to train."""
    klass = make_class(world, course_only=True)
    kind, _sep, raw_id = offering.partition(":")
    klass.course_id = int(raw_id) if kind == "c" else None
    klass.programme_id = int(raw_id) if kind == "p" else None
    klass.trainers = [user(world.trainer2)]
    db.session.commit()
    return klass


def _shown_form(client, klass: TrainingClass) -> dict:
    url = f"/classes/{klass.id}/edit"
    return edit_form(client.get(url).get_data(as_text=True), url)


# Creating ----------------------------------------------------------------------


def test_trainer_offers_own_course(world, login):
    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"c:{world.course4}", [world.trainer2])
    )

    assert response.status_code == 302
    assert _created().course_id == world.course4


def test_trainer_offers_newer_version(world, login):
    older = _course(world.course4)
    newer = Course(
        institution_id=world.uni_a, code="c4", version=2, previous_version_id=older.id,
        title="网络思政工作（修订）", summary="", credit_hours=older.credit_hours,
        status=PublicationStatus.PUBLISHED, author_id=world.admin,
    )
    db.session.add(newer)
    db.session.commit()

    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"c:{newer.id}", [world.trainer2])
    )

    assert response.status_code == 302
    assert _created().course_id == newer.id


def test_trainer_cannot_offer_others_course(world, login, english):
    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"c:{world.course1}", [world.trainer2])
    )

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'id="offering-error"' in page
    assert "You can offer only courses you author" in page
    assert "心理危机识别" in page
    assert _created() is None
    assert not teaches(user(world.trainer2), _course(world.course1))


def test_co_teacher_cannot_offer_course(world, login, english):
    db.session.add(CourseTeacher(
        course_id=world.course1, user_id=world.trainer2, added_by_id=world.trainer
    ))
    db.session.commit()

    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"c:{world.course1}", [world.trainer2])
    )

    assert response.status_code == 400
    assert _created() is None


def test_trainer_offers_programme_of_own_courses(world, login):
    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"p:{world.own_programme}", [world.trainer2])
    )

    assert response.status_code == 302
    assert _created().programme_id == world.own_programme


def test_trainer_cannot_offer_programme_partly_own(world, login, english):
    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"p:{world.mixed_programme}", [world.trainer2])
    )

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'id="offering-error"' in page
    assert "综合能力提升" in page
    assert "心理危机识别" in page
    assert _created() is None
    assert not teaches(user(world.trainer2), _course(world.course1))


def test_trainer_cannot_offer_programme_of_others(world, login):
    response = login("trainer2").post(
        "/classes/new", data=_new_class(f"p:{world.programme}", [world.trainer2])
    )

    assert response.status_code == 400
    assert _created() is None


def test_author_adds_colleague_as_trainer(world, login):
    response = login("trainer").post(
        "/classes/new",
        data=_new_class(f"c:{world.course1}", [world.trainer, world.trainer3]),
    )

    assert response.status_code == 302
    assert teaches(user(world.trainer3), _course(world.course1))


@pytest.mark.parametrize("offering", ["c:course1", "p:mixed_programme", "p:programme"])
def test_admin_offers_anything(world, login, offering):
    kind, _sep, name = offering.partition(":")
    data = _new_class(f"{kind}:{getattr(world, name)}", [world.trainer3])

    response = login("admin").post("/classes/new", data=data)

    assert response.status_code == 302
    assert [trainer.id for trainer in _created().trainers] == [world.trainer3]


# Editing a class set up by an administrator ---------------------------------------


def test_class_trainer_edits_dates(world, login):
    klass = _admin_class(world, f"c:{world.course1}")
    trainer2 = login("trainer2")
    later = klass.ends_on + timedelta(days=10)
    data = _shown_form(trainer2, klass) | {"ends_on": later.isoformat(), "capacity": "25"}

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    assert response.status_code == 302
    saved = _created(klass.code)
    assert saved.ends_on == later
    assert saved.capacity == 25
    assert saved.course_id == world.course1


def test_class_trainer_cannot_change_offering(world, login, english):
    klass = _admin_class(world, f"c:{world.course1}")
    trainer2 = login("trainer2")
    data = _shown_form(trainer2, klass) | {"offering": f"c:{world.course4}"}

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'id="offering-error"' in page
    assert "心理危机识别" in page
    assert _created(klass.code).course_id == world.course1


def test_class_trainer_cannot_offer_others_course(world, login, english):
    klass = _admin_class(world, f"c:{world.course4}")
    trainer2 = login("trainer2")
    data = _shown_form(trainer2, klass) | {"offering": f"c:{world.course1}"}

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "You can offer only courses you author" in page
    assert _created(klass.code).course_id == world.course4
    assert not teaches(user(world.trainer2), _course(world.course1))


def test_class_trainer_cannot_add_trainer(world, login, english):
    klass = _admin_class(world, f"c:{world.course1}")
    trainer2 = login("trainer2")
    data = _shown_form(trainer2, klass) | {
        "trainer_ids": [str(world.trainer2), str(world.trainer3)],
    }

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'id="trainer_ids-error"' in page
    assert "心理危机识别" in page
    assert [t.id for t in _created(klass.code).trainers] == [world.trainer2]
    assert not teaches(user(world.trainer3), _course(world.course1))


def test_class_trainer_cannot_change_programme_trainers(world, login, english):
    klass = _admin_class(world, f"p:{world.mixed_programme}")
    klass.trainers = [user(world.trainer2), user(world.trainer3)]
    db.session.commit()
    trainer2 = login("trainer2")
    data = _shown_form(trainer2, klass) | {"trainer_ids": [str(world.trainer2)]}

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    assert response.status_code == 400
    assert 'id="trainer_ids-error"' in response.get_data(as_text=True)
    assert len(_created(klass.code).trainers) == 2


def test_author_changes_trainers_of_own_class(world, login):
    klass = _admin_class(world, f"c:{world.course4}")
    trainer2 = login("trainer2")
    data = _shown_form(trainer2, klass) | {
        "trainer_ids": [str(world.trainer2), str(world.trainer3)],
    }

    response = trainer2.post(f"/classes/{klass.id}/edit", data=data)

    assert response.status_code == 302
    assert teaches(user(world.trainer3), _course(world.course4))


def test_admin_changes_offering_and_trainers(world, login):
    klass = _admin_class(world, f"c:{world.course1}")
    admin = login("admin")
    data = _shown_form(admin, klass) | {
        "offering": f"p:{world.mixed_programme}",
        "trainer_ids": [str(world.trainer2), str(world.trainer3)],
    }

    response = admin.post(f"/classes/{klass.id}/edit", data=data)

    assert response.status_code == 302
    saved = _created(klass.code)
    assert saved.programme_id == world.mixed_programme
    assert len(saved.trainers) == 2


# The form ----------------------------------------------------------------------------


def _option_values(page: str) -> set[str]:
    select = page.split('<select id="offering"', 1)[1].split("</select>", 1)[0]
    return {part.split('"', 1)[0] for part in select.split('value="')[1:]}


def test_form_lists_offerable_for_trainer(world, login):
    page = login("trainer2").get("/classes/new").get_data(as_text=True)

    assert _option_values(page) == {f"c:{world.course4}", f"p:{world.own_programme}"}


def test_form_lists_everything_for_admin(world, login):
    page = login("admin").get("/classes/new").get_data(as_text=True)

    options = _option_values(page)
    assert f"c:{world.course1}" in options
    assert f"p:{world.mixed_programme}" in options
    assert f"p:{world.programme}" in options


def test_edit_form_keeps_current_offering(world, login, english):
    klass = _admin_class(world, f"c:{world.course1}")
    trainer2 = login("trainer2")

    page = trainer2.get(f"/classes/{klass.id}/edit").get_data(as_text=True)

    assert _shown_form(trainer2, klass)["offering"] == f"c:{world.course1}"
    assert _option_values(page) == {f"c:{world.course1}"}
    assert "only an administrator can change who trains it" in text_of(page)


def test_edit_form_of_own_class(world, login, english):
    klass = _admin_class(world, f"c:{world.course4}")

    page = login("trainer2").get(f"/classes/{klass.id}/edit").get_data(as_text=True)

    assert _option_values(page) == {f"c:{world.course4}", f"p:{world.own_programme}"}
    assert "only an administrator can change" not in text_of(page)


def test_form_explains_nothing_to_offer(world, login, english):
    response = login("trainer3").get("/classes/new")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="offering"' not in page
    assert "You author no published course" in text_of(page)


# Adding a course to an offered programme ------------------------------------------


def _add_to_programme(client, programme_id: int, course_id: int):
    return client.post(
        f"/manage/programmes/{programme_id}/courses",
        data={"course_id": str(course_id)},
        follow_redirects=True,
    )


def _programme_codes(programme_id: int) -> set[str]:
    db.session.expire_all()
    return {
        course.code
        for course in db.session.scalars(
            sa.select(Course)
            .join(ProgrammeCourse, ProgrammeCourse.course_id == Course.id)
            .where(ProgrammeCourse.programme_id == programme_id)
        )
    }


def test_offered_programme_rejects_foreign_course(world, login, english):
    _admin_class(world, f"p:{world.own_programme}")

    page = _add_to_programme(login("trainer2"), world.own_programme, world.course1)

    text = unescape(page.get_data(as_text=True))
    assert "only the author of" in text
    assert "Ask its author or an administrator" in text
    assert _programme_codes(world.own_programme) == {"c4"}
    assert not teaches(user(world.trainer2), _course(world.course1))


def test_offered_programme_takes_authors_course(world, login, english):
    _admin_class(world, f"p:{world.own_programme}")
    uni_a = db.session.get(Institution, world.uni_a)
    course5 = make_course(uni_a, "c5", title="班级管理", lessons=1, author=user(world.trainer2))
    db.session.commit()

    page = _add_to_programme(login("trainer2"), world.own_programme, course5.id)

    assert "Course c5 added." in unescape(page.get_data(as_text=True))
    assert _programme_codes(world.own_programme) == {"c4", "c5"}


def test_offered_programme_rejects_non_author(world, login, english):
    """The author of a course cannot add it to a programme written by someone else."""
    _admin_class(world, f"p:{world.own_programme}")

    response = login("trainer").post(
        f"/manage/programmes/{world.own_programme}/courses",
        data={"course_id": str(world.course1)},
    )

    assert response.status_code == 403
    assert _programme_codes(world.own_programme) == {"c4"}


def test_offered_programme_takes_admins_choice(world, login, english):
    _admin_class(world, f"p:{world.own_programme}")

    _add_to_programme(login("admin"), world.own_programme, world.course1)

    assert _programme_codes(world.own_programme) == {"c4", "c1"}


def test_unoffered_programme_takes_any_course(world, login, english):
    page = _add_to_programme(login("trainer2"), world.own_programme, world.course1)

    assert "Course c1 added." in unescape(page.get_data(as_text=True))
    assert _programme_codes(world.own_programme) == {"c4", "c1"}
