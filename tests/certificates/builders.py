"""Builders for certificate tests; each adds rows to the session and flushes.

Every account gets ``TEST_PASSWORD`` so tests can log in through the real
login form. Callers commit when a request must see the rows.
"""

from datetime import datetime, timezone
from decimal import Decimal
from typing import Optional

from certificates import services
from certificates.models import Certificate
from courses.models import (
    Course,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
    TargetLevel,
)
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Department, Institution
from lms.records.models import TrainingKind, TrainingTier
from tests.conftest import TEST_PASSWORD

#: 10:00 in Shanghai on 1 May 2026.
COMPLETED_AT = datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)


def make_institution(
    code: str = "uni-a", name: str = "树人示范大学", prefix: str = "SR"
) -> Institution:
    institution = Institution(
        code=code, name=name, name_en="Shuren Demo University", serial_prefix=prefix
    )
    db.session.add(institution)
    db.session.flush()
    return institution


def make_department(
    institution: Institution, code: str = "xg", name: str = "学生工作部"
) -> Department:
    department = Department(institution_id=institution.id, code=code, name=name)
    db.session.add(department)
    db.session.flush()
    return department


def make_user(
    institution: Institution,
    username: str,
    role: Role = Role.COUNSELOR,
    *,
    full_name: Optional[str] = None,
    employee_no: Optional[str] = None,
    department: Optional[Department] = None,
) -> User:
    user = User(
        username=username,
        full_name=full_name or f"测试{username}",
        employee_no=employee_no,
        role=role,
        institution_id=institution.id,
        department_id=department.id if department else None,
    )
    user.set_password(TEST_PASSWORD)
    db.session.add(user)
    db.session.flush()
    return user


def make_programme(
    institution: Institution,
    code: str = "junior-prejob",
    *,
    title: str = "初级辅导员岗位培训",
    course_hours: tuple = (Decimal("16"), Decimal("24")),
    validity_months: Optional[int] = 36,
) -> Programme:
    """Create a published programme whose courses add up to ``sum(course_hours)``."""
    programme = Programme(
        institution_id=institution.id,
        code=code,
        title=title,
        tier=TrainingTier.SCHOOL,
        kind=TrainingKind.PRE_JOB,
        level=TargetLevel.JUNIOR,
        status=PublicationStatus.PUBLISHED,
        certificate_validity_months=validity_months,
    )
    db.session.add(programme)
    db.session.flush()
    for position, hours in enumerate(course_hours, start=1):
        course = Course(
            institution_id=institution.id,
            code=f"{code}-c{position}",
            title=f"{title} 第{position}单元",
            credit_hours=hours,
            status=PublicationStatus.PUBLISHED,
        )
        db.session.add(course)
        db.session.flush()
        db.session.add(
            ProgrammeCourse(
                programme_id=programme.id, course_id=course.id, position=position
            )
        )
    db.session.flush()
    db.session.refresh(programme)
    return programme


def issue(
    user: User, programme: Programme, completed_at: datetime = COMPLETED_AT
) -> Certificate:
    return services.issue_programme_certificate(user, programme, completed_at)
