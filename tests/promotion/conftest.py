"""A promotion world: two departments with their own HR, institution HR, an
admin, and HR of a second institution."""

from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Optional

import pytest

from lms.accounts.models import Role, User
from lms.extensions import db
from lms.promotion.models import PromotionRule, PromotionTrack
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.factories import make_department, make_institution, make_user

#: 2027-09-01 10:00 in Asia/Shanghai.
NOW = datetime(2027, 9, 1, 2, 0, tzinfo=timezone.utc)


def add_entry(
    user: User,
    kind: ProgressionKind,
    occurred_on: date,
    detail: dict,
    *,
    corrects: Optional[ProgressionEntry] = None,
) -> ProgressionEntry:
    entry = ProgressionEntry(
        user_id=user.id,
        kind=kind,
        occurred_on=occurred_on,
        title=f"{kind.value} {detail}",
        detail=detail,
        corrects_id=corrects.id if corrects else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def set_title(user: User, title: str, day: date) -> ProgressionEntry:
    return add_entry(user, ProgressionKind.TITLE_CHANGE, day, {"title": title})


def set_level(user: User, level: str, day: date) -> ProgressionEntry:
    return add_entry(user, ProgressionKind.COMPETENCY_LEVEL, day, {"level": level})


def add_grade(user: User, year: int, grade: str) -> ProgressionEntry:
    return add_entry(
        user,
        ProgressionKind.ASSESSMENT_GRADE,
        date(year, 12, 20),
        {"year": year, "grade": grade},
    )


def make_rule(institution_id: int, **values) -> PromotionRule:
    defaults = dict(
        code="title-lecturer-associate",
        name="讲师晋升副教授",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="lecturer",
        to_value="associate_professor",
        min_years=0,
    )
    defaults.update(values)
    rule = PromotionRule(institution_id=institution_id, **defaults)
    rule.check()
    db.session.add(rule)
    db.session.flush()
    return rule


def build_world() -> SimpleNamespace:
    """Add the institutions and accounts; the caller commits."""
    uni = make_institution("uni-a", "甲大学")
    other_uni = make_institution("uni-b", "乙大学")
    marxism = make_department(uni, "marxism", "马克思主义学院")
    physics = make_department(uni, "phy", "物理学院")

    counselor = make_user(uni, "counselor1", full_name="林晓雯", department=marxism)
    counselor2 = make_user(uni, "counselor2", full_name="周子航", department=physics)
    dept_hr = make_user(uni, "dept_hr", Role.HR, full_name="马部门人事")
    dept_hr.hr_department_id = marxism.id
    physics_hr = make_user(uni, "physics_hr", Role.HR, full_name="物理人事")
    physics_hr.hr_department_id = physics.id
    hr = make_user(uni, "hr", Role.HR, full_name="赵静")
    hr2 = make_user(uni, "hr2", Role.HR, full_name="钱人事")
    admin = make_user(uni, "admin", Role.ADMIN, full_name="刘建华")
    hr_other = make_user(other_uni, "hr_other", Role.HR, full_name="吴人事")

    for user in (counselor, counselor2, dept_hr, physics_hr, hr, hr2, admin, hr_other):
        user.locale = "en"
    db.session.flush()
    return SimpleNamespace(
        uni=uni,
        other_uni=other_uni,
        marxism=marxism,
        physics=physics,
        counselor=counselor,
        counselor2=counselor2,
        dept_hr=dept_hr,
        physics_hr=physics_hr,
        hr=hr,
        hr2=hr2,
        admin=admin,
        hr_other=hr_other,
    )


@pytest.fixture
def world(app_ctx):
    return build_world()


@pytest.fixture
def frozen(monkeypatch):
    """Freeze the clock the compliance windows and promotion checks read."""

    def freeze(moment: datetime) -> None:
        monkeypatch.setattr("lms.compliance.windows.now_utc", lambda: moment)
        monkeypatch.setattr("lms.records.services.now_utc", lambda: moment)

    freeze(NOW)
    return freeze
