"""A department HR officer reads only their own department's part of a roster."""

import io

import sqlalchemy as sa
from openpyxl import load_workbook

from courses import classes
from courses.class_models import TrainingClass
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.factories import make_user


def test_department_hr_sees_own_department_only(app_ctx, seeded, login):
    training_class = db.session.scalar(sa.select(TrainingClass).order_by(TrainingClass.id))
    trainer = db.session.scalar(sa.select(User).filter_by(username="trainer"))
    first, second = (
        db.session.scalar(sa.select(User).filter_by(username=name))
        for name in ("counselor1", "counselor2")
    )
    for person in (first, second):
        classes.add_member(training_class, person, by=trainer)
    officer = make_user(first.institution, "hr-dept", Role.HR)
    officer.hr_department_id = second.department_id
    db.session.commit()

    limited = login("hr-dept")
    page = limited.get(f"/classes/{training_class.id}/roster").get_data(as_text=True)
    assert second.full_name in page
    assert first.full_name not in page
    workbook = load_workbook(
        io.BytesIO(limited.get(f"/classes/{training_class.id}/roster.xlsx").data)
    )
    names = [row[1] for row in workbook.active.iter_rows(min_row=2, values_only=True)]
    assert names == [second.full_name]

    page = login("hr").get(f"/classes/{training_class.id}/roster").get_data(as_text=True)
    assert first.full_name in page
    assert second.full_name in page
