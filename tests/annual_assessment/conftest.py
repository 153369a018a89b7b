"""A small world for the yearly assessment: two institutions, two departments."""

from types import SimpleNamespace

import pytest

from lms.accounts.models import Role
from lms.annual_assessment.services import seed_default_scheme
from lms.extensions import db
from lms.records.services import current_year
from tests.factories import make_department, make_institution, make_user


@pytest.fixture
def world(app):
    with app.app_context():
        uni = make_institution("uni-a", "示范大学")
        edu = make_department(uni, "edu", "教育学院")
        cs = make_department(uni, "cs", "计算机学院")
        alice = make_user(uni, "alice", full_name="王老师", department=edu)
        alice.employee_no = "E001"
        bob = make_user(uni, "bob", full_name="李老师", department=cs)
        bob.employee_no = "C001"
        hr = make_user(uni, "hr", Role.HR)
        hr_cs = make_user(uni, "hr_cs", Role.HR)
        hr_cs.hr_department_id = cs.id
        admin = make_user(uni, "admin", Role.ADMIN)
        trainer = make_user(uni, "trainer", Role.TRAINER)
        other = make_institution("uni-b", "明德学院")
        carol = make_user(other, "carol", full_name="赵老师")
        hr2 = make_user(other, "hr2", Role.HR)
        year = current_year(alice)
        scheme = seed_default_scheme(uni.id, year)
        other_scheme = seed_default_scheme(other.id, year)
        db.session.commit()
        return SimpleNamespace(
            uni=uni.id,
            edu=edu.id,
            cs=cs.id,
            alice=alice.id,
            bob=bob.id,
            hr=hr.id,
            hr_cs=hr_cs.id,
            admin=admin.id,
            trainer=trainer.id,
            carol=carol.id,
            hr2=hr2.id,
            year=year,
            scheme=scheme.id,
            components={c.name: c.id for c in scheme.components},
            other_scheme=other_scheme.id,
        )
