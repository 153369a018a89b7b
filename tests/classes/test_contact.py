"""Gender and mobile phone: kept by the roster import, shown on rosters to their trainers."""

import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from courses import classes
from courses.class_models import TrainingClass
from lms.accounts.models import Gender, Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class, user
from tests.classes.test_import import HEADER, _csv, _pending_id, _upload
from tests.factories import build_learning_world, make_user


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    counselor = db.session.get(User, world.counselor)
    counselor.employee_no = "E1001"
    world.klass = make_class(world).id
    db.session.commit()
    return world


def _import(trainer, world, rows) -> tuple[int, str]:
    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "roster.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)
    return pending_id, page


def test_import_stores_gender_and_phone_of_new_person(world, login):
    trainer = login("trainer")
    rows = [["T2026001", "王小明", "教育学院", "男", "138 0013 8000", ""]]
    pending_id, _page = _import(trainer, world, rows)

    done = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    assert done.status_code == 200
    db.session.expire_all()
    created = db.session.scalar(sa.select(User).filter_by(employee_no="T2026001"))
    assert created.gender is Gender.MALE
    assert created.phone == "13800138000"


def test_import_fills_empty_fields_of_existing_person(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "女", "13800138001", ""]]
    pending_id, page = _import(trainer, world, rows)

    assert "differs from the one on the account" not in page
    trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    db.session.expire_all()
    counselor = db.session.get(User, world.counselor)
    assert counselor.gender is Gender.FEMALE
    assert counselor.phone == "13800138001"
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="profile.updated"))
    assert entry.subject_id == world.counselor
    assert entry.actor_id == world.trainer
    assert entry.data["changes"]["phone"] == [None, "*******8001"]


def test_import_keeps_existing_phone_and_notes_it(world, login, english):
    counselor = db.session.get(User, world.counselor)
    counselor.phone = "13900000000"
    counselor.gender = Gender.MALE
    db.session.commit()
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "女", "13800138001", ""]]

    pending_id, page = _import(trainer, world, rows)

    assert "The mobile number differs from the one on the account, which is kept." in page
    assert "The gender differs from the one on the account, which is kept." in page
    # The uploader may not see the stored number before the person joins the class.
    assert "13900000000" not in page
    done = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")
    assert done.status_code == 200
    db.session.expire_all()
    counselor = db.session.get(User, world.counselor)
    assert counselor.phone == "13900000000"
    assert counselor.gender is Gender.MALE
    assert db.session.scalar(sa.select(AuditEntry).filter_by(action="profile.updated")) is None


def _class_with_phone(world) -> int:
    counselor = user(world.counselor)
    counselor.phone = "13912345678"
    counselor.gender = Gender.FEMALE
    classes.add_member(db.session.get(TrainingClass, world.klass), counselor,
                       by=user(world.trainer))
    db.session.commit()
    return world.klass


def test_trainer_of_class_sees_phone_on_roster(world, login, english):
    class_id = _class_with_phone(world)

    page = login("trainer").get(f"/classes/{class_id}/roster").get_data(as_text=True)

    assert "13912345678" in page
    assert "Female" in page


def test_trainer_of_other_class_sees_no_phone(world, login):
    class_id = _class_with_phone(world)
    institution = db.session.get(Institution, world.uni_a)
    other_trainer = make_user(institution, "trainer2", Role.TRAINER, full_name="另一位培训师")
    other_class = make_class(world, code="2026-04")
    other_class.trainers = [other_trainer]
    db.session.commit()
    trainer2 = login("trainer2")

    for url in (f"/classes/{class_id}/roster", f"/classes/{class_id}/roster.xlsx"):
        response = trainer2.get(url)
        assert response.status_code == 403, url
        assert b"13912345678" not in response.data
    own = trainer2.get(f"/classes/{other_class.id}/roster")
    assert own.status_code == 200
    assert "13912345678" not in own.get_data(as_text=True)


def test_roster_export_has_contact_columns(world, login, english):
    class_id = _class_with_phone(world)

    response = login("trainer").get(f"/classes/{class_id}/roster.xlsx")

    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    header = rows[0]
    assert header[10:12] == ("Gender", "Mobile phone")
    zhang = next(row for row in rows[1:] if row[1] == "张老师")
    assert zhang[11] == "13912345678"
    assert zhang[10] == "Female"
