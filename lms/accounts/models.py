import enum
import functools
import secrets
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.organisations.models import Department, Institution


class Role(enum.Enum):
    """What a person does on the platform; decides which views they reach."""

    COUNSELOR = "counselor"
    PARTY_WORKER = "party_worker"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"

    @property
    def is_learner(self) -> bool:
        return self in (Role.COUNSELOR, Role.PARTY_WORKER)


class Post(enum.Enum):
    """The post a learner holds, which decides the training rules that apply."""

    FULL_TIME_COUNSELOR = "full_time_counselor"  # 专职辅导员
    PART_TIME_COUNSELOR = "part_time_counselor"  # 兼职辅导员
    PARTY_ORGANISER = "party_organiser"  # 组织员
    TEACHER_BRANCH_SECRETARY = "teacher_branch_secretary"  # 教师党支部书记
    DEPARTMENT_PARTY_SECRETARY = "department_party_secretary"  # 院系党组织书记


class Gender(enum.Enum):
    MALE = "male"  # 男
    FEMALE = "female"  # 女


class User(UserMixin, db.Model):
    __tablename__ = "user"
    __table_args__ = (
        sa.CheckConstraint(
            "hr_department_id IS NULL OR role = 'hr'", name="hr_scope_only_for_hr"
        ),
        # The people lists and rule evaluation select an institution's (or a
        # department's) accounts ordered by name, so the page reads in index order.
        sa.Index("ix_user_institution_id_full_name", "institution_id", "full_name", "id"),
        sa.Index(
            "ix_user_institution_id_department_id_full_name",
            "institution_id",
            "department_id",
            "full_name",
            "id",
        ),
        # Record uploads and roster imports find people by employee number.
        sa.Index("ix_user_institution_id_employee_no", "institution_id", "employee_no"),
        # Login and account creation match usernames ignoring letter case.
        sa.Index("ix_user_lower_username", sa.func.lower(sa.text("username"))),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    full_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    employee_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    email: so.Mapped[Optional[str]] = so.mapped_column(sa.String(254))
    # Contact data: shown only to the person, HR and admins of the institution,
    # and trainers on the roster of a class the person belongs to.
    gender: so.Mapped[Optional[Gender]] = so.mapped_column(enum_column(Gender))
    #: Mainland mobile number, 11 digits without a country prefix.
    phone: so.Mapped[Optional[str]] = so.mapped_column(sa.String(11))
    role: so.Mapped[Role] = so.mapped_column(enum_column(Role))
    post: so.Mapped[Optional[Post]] = so.mapped_column(enum_column(Post))
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    department_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("department.id"), index=True
    )
    #: Department an HR officer is limited to; None gives HR the whole institution.
    hr_department_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("department.id"), index=True
    )
    #: "zh_CN" or "en"; None follows the browser.
    locale: so.Mapped[Optional[str]] = so.mapped_column(sa.String(8))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: Set on accounts whose password someone else chose (e.g. a bulk import);
    #: every page then redirects to the change-password page until it is changed.
    password_must_change: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    #: An administrator who also runs the platform's shared scheduled jobs,
    #: which work for every institution. Set with ``flask lms operator``.
    platform_operator: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    institution: so.Mapped[Institution] = so.relationship()
    department: so.Mapped[Optional[Department]] = so.relationship(
        foreign_keys=[department_id]
    )
    hr_department: so.Mapped[Optional[Department]] = so.relationship(
        foreign_keys=[hr_department_id]
    )

    def set_password(self, password: str) -> None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


def user_by_username(username: str) -> Optional["User"]:
    """Return the account named ``username``, ignoring letter case.

    People type "Counselor1" for "counselor1" (phone keyboards capitalise the
    first letter). An exact match wins, so accounts that were created before
    usernames were unique regardless of case each stay reachable.
    """
    exact = db.session.scalar(sa.select(User).where(User.username == username))
    if exact is not None:
        return exact
    matches = db.session.scalars(
        sa.select(User).where(sa.func.lower(User.username) == username.lower()).limit(2)
    ).all()
    return matches[0] if len(matches) == 1 else None


def username_taken(username: str) -> bool:
    """Tell whether an account already has ``username`` in any letter case."""
    same = sa.select(User.id).where(sa.func.lower(User.username) == username.lower())
    return db.session.scalar(same.limit(1)) is not None


@functools.lru_cache(maxsize=4)
def _placeholder_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(32), method=method)


def check_password_of_unknown_user(password: str) -> bool:
    """Hash ``password`` as a login check would, and return False.

    A login as a username that does not exist takes as long as one with a
    wrong password, so the response time does not tell whether the account
    exists.
    """
    method = current_app.config["PASSWORD_HASH_METHOD"]
    check_password_hash(_placeholder_hash(method), password)
    return False


class UserSession(db.Model):
    """A login stored server-side. The signed cookie carries only its random token.

    ``id`` is the SHA-256 hex digest of the token, so a copy of this table
    cannot be replayed as a cookie. A session is valid while ``revoked_at``
    is unset, ``expires_at`` lies ahead and ``last_seen_at`` is within the
    idle timeout.
    """

    __tablename__ = "user_session"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    ip: so.Mapped[Optional[str]] = so.mapped_column(sa.String(45))
    user_agent: so.Mapped[Optional[str]] = so.mapped_column(sa.String(256))
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<UserSession {self.id[:8]} user={self.user_id}>"
