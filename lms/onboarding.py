"""Set up a real institution on an empty database, without the demo data.

An operator runs ``flask lms create-institution`` once per university and
``flask lms create-account`` for its first administrator. The administrator
then works in the web pages: they create accounts there with the same
``create_account``, give trainers and HR their roles, and counselors also
come in through class roster imports.

Creating an institution also adds what every institution reads but no
page creates: the two national competency standards with the mapping
between them, the national training-hour rules, the default certificate
templates and the competition rubrics. Each is added only where missing.
"""

import logging
import re
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask_babel import force_locale

from lms import audit, tabular
from lms.accounts.models import Post, Role, User, username_taken
from lms.accounts.passwords import describe, password_problem
from lms.extensions import db
from lms.organisations.models import Department, Institution

logger = logging.getLogger("lms.onboarding")

#: Institution and department codes: letters, digits, "-" and "_", as the demo's "demo-univ".
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


class OnboardingError(ValueError):
    """A value the operator gave cannot be used; the message names the value and the fix."""


def _check_code(value: str, kind: str) -> str:
    value = (value or "").strip()
    if not CODE_RE.match(value):
        raise OnboardingError(
            f"The {kind} code {value!r} is invalid: use 1 to 32 letters, digits, "
            "'-' or '_', starting with a letter or digit, such as bnu or cs-school."
        )
    return value


#: Lengths of the user table's employee_no and email columns.
EMPLOYEE_NO_MAX = 32
EMAIL_MAX = 254
#: One @ with text on each side and a dot in the domain, without spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Employee numbers as roster imports store and match them: 3 to 32
#: upper-case letters, digits or hyphens.
EMPLOYEE_NO_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,31}$")
#: A space between two Chinese characters (or the middle dot of
#: transliterated names), which people type by habit inside a name.
CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\u00b7]) (?=[\u3400-\u9fff\u00b7])")


def normalise_employee_no(value: Optional[str]) -> str:
    """Return an employee number as roster imports match it: half-width, upper case."""
    return tabular.normalise(value).replace(" ", "").upper()


def normalise_full_name(value: Optional[str]) -> str:
    """Return a name with single spaces and none between Chinese characters."""
    return CJK_GAP.sub("", tabular.normalise(value))


def _check_name(
    value: str, kind: str, limit: int, missing: str = "give it as the argument"
) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise OnboardingError(f"The {kind} name is missing; {missing}.")
    if len(value) > limit:
        raise OnboardingError(
            f"The {kind} name has {len(value)} characters; the maximum is {limit}."
        )
    return value


def ensure_national_data() -> None:
    """Add the national standards, their mapping and the national rules where missing."""
    from lms.seed import seed_national_standards

    seed_national_standards()


def create_institution(
    code: str,
    name: str,
    *,
    name_en: Optional[str] = None,
    timezone: str = "Asia/Shanghai",
    serial_prefix: str = "SR",
    departments: tuple[tuple[str, str], ...] = (),
) -> Institution:
    """Create an institution with its departments and default templates; flush only.

    ``departments`` are (code, name) pairs. Raises ``OnboardingError`` for
    a taken or invalid code, an unknown time zone or a serial prefix that
    is invalid or already used by another institution.
    """
    # certificates and assessments sit above lms, so they are imported here.
    from assessments.rubrics import seed_rubrics
    from certificates.serials import (
        SerialPatternError,
        check_prefix,
        check_prefix_unshared,
        serial_pattern,
    )
    from certificates.template_services import (
        ensure_default_templates,
        refresh_builtin_layouts,
    )

    code = _check_code(code, "institution")
    name = _check_name(name, "institution", 200)
    if db.session.scalar(sa.select(Institution.id).filter_by(code=code)) is not None:
        raise OnboardingError(
            f"An institution with the code {code!r} exists already; choose another code."
        )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise OnboardingError(
            f"The time zone {timezone!r} is unknown; give an IANA name such as "
            "Asia/Shanghai or Asia/Urumqi."
        ) from None
    institution = Institution(
        code=code,
        name=name,
        name_en=_check_name(name_en, "English", 200) if name_en else None,
        timezone=timezone,
        serial_prefix=serial_prefix,
    )
    db.session.add(institution)
    db.session.flush()
    try:
        check_prefix(serial_prefix)
        check_prefix_unshared(institution, serial_prefix, serial_pattern(institution.id))
    except SerialPatternError as error:
        with force_locale("en"):
            message = str(error)
        raise OnboardingError(f"--serial-prefix {serial_prefix}: {message}") from None
    for department_code, department_name in departments:
        _check_name(
            department_name, "department", 200,
            f"write --department {department_code}=NAME (CODE=NAME), "
            "such as cs=计算机科学与技术学院",
        )
        add_department(institution, department_code, department_name)
    ensure_national_data()
    ensure_default_templates(institution)
    refresh_builtin_layouts(institution)
    seed_rubrics(institution.id)
    audit.record(
        "institution.created",
        "institution",
        institution.id,
        f"Institution {code} ({name}) created from the command line",
        institution_id=institution.id,
        data={"departments": [code for code, _name in departments]},
    )
    logger.info("Created %r with %d department(s)", institution, len(departments))
    return institution


def add_department(institution: Institution, code: str, name: str) -> Department:
    """Add a 院系 to ``institution``; flush only. Raises ``OnboardingError`` for a taken code."""
    code = _check_code(code, "department")
    name = _check_name(name, "department", 200)
    existing = db.session.scalar(
        sa.select(Department.id).filter_by(institution_id=institution.id, code=code)
    )
    if existing is not None:
        raise OnboardingError(
            f"{institution.code} has a department with the code {code!r} already."
        )
    department = Department(institution_id=institution.id, code=code, name=name)
    db.session.add(department)
    db.session.flush()
    return department


def institution_by_code(code: str) -> Institution:
    institution = db.session.scalar(sa.select(Institution).filter_by(code=code))
    if institution is None:
        known = db.session.scalars(sa.select(Institution.code).order_by(Institution.code))
        raise OnboardingError(
            f"No institution with the code {code!r}. Known codes: "
            f"{', '.join(known) or 'none yet; run flask lms create-institution first'}."
        )
    return institution


def create_account(
    institution: Institution,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    *,
    department_code: Optional[str] = None,
    post: Optional[Post] = None,
    employee_no: Optional[str] = None,
    email: Optional[str] = None,
    must_change: bool = False,
    actor: Optional[User] = None,
) -> User:
    """Create an account of ``institution``; flush only.

    Learners (counselors and party workers) need a post; a counselor
    without one is a full-time counselor. Raises ``OnboardingError`` for a
    taken or invalid username, an unknown department or a weak password.
    ``actor`` is the administrator who creates the account in the browser,
    or None for the command line; the audit entry names the one or the other.
    """
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise OnboardingError(
            f"The username {username!r} is invalid: use 2 to 64 letters, digits, "
            "'.', '-' or '_', starting with a letter or digit."
        )
    if username_taken(username):
        raise OnboardingError(f"The username {username!r} is taken; choose another.")
    full_name = _check_name(full_name, "person's", 100, "give it with --full-name")
    # Roster imports match numbers half-width and upper case, like the browser form.
    employee_no = normalise_employee_no(employee_no) or None
    if employee_no is not None and len(employee_no) > EMPLOYEE_NO_MAX:
        raise OnboardingError(
            f"--employee-no has {len(employee_no)} characters; the maximum is "
            f"{EMPLOYEE_NO_MAX}. No account was created."
        )
    if employee_no is not None and not EMPLOYEE_NO_RE.match(employee_no):
        raise OnboardingError(
            f"--employee-no {employee_no} is invalid: use 3 to 32 letters, digits "
            "or hyphens, starting with a letter or digit. No account was created."
        )
    if employee_no is not None:
        _check_employee_no_free(institution, employee_no)
    email = (email or "").strip() or None
    if email is not None:
        if len(email) > EMAIL_MAX:
            raise OnboardingError(
                f"--email has {len(email)} characters; the maximum is {EMAIL_MAX}. "
                "No account was created."
            )
        if not EMAIL_RE.match(email):
            raise OnboardingError(
                f"--email {email!r} is not an e-mail address; write it as "
                "name@example.com. No account was created."
            )
    department = None
    if department_code:
        department = db.session.scalar(
            sa.select(Department).filter_by(institution_id=institution.id, code=department_code)
        )
        if department is None:
            known = sorted(d.code for d in institution.departments)
            raise OnboardingError(
                f"{institution.code} has no department {department_code!r}. Known codes: "
                f"{', '.join(known) or 'none; add one with flask lms add-department'}."
            )
    if role.is_learner and post is None:
        if role is not Role.COUNSELOR:
            raise OnboardingError(
                "A party worker needs --post: party_organiser, teacher_branch_secretary "
                "or department_party_secretary."
            )
        post = Post.FULL_TIME_COUNSELOR
    if not role.is_learner and post is not None:
        raise OnboardingError(f"A {role.value} account has no post; leave out --post.")
    problem = password_problem(password, username=username, employee_no=employee_no)
    if problem is not None:
        with force_locale("en"):
            raise OnboardingError(f"{describe(problem, password)} No account was created.")
    user = User(
        username=username,
        full_name=full_name,
        role=role,
        post=post,
        institution_id=institution.id,
        department_id=department.id if department else None,
        employee_no=employee_no or None,
        email=email or None,
        password_must_change=must_change,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    if actor is not None:
        _audit_created_by(actor, user)
        return user
    audit.record(
        "account.created",
        "user",
        user.id,
        f"Account {username} ({role.value}) created from the command line",
        institution_id=institution.id,
        data={"role": role.value},
    )
    logger.info("Created %r in %r from the command line", user, institution)
    return user


def _check_employee_no_free(institution: Institution, employee_no: str) -> None:
    """Raise ``OnboardingError`` when another account of ``institution`` has the number.

    Roster imports find a person by employee number, so two accounts with one
    number would make an import enrol whichever the database returns first.
    The comparison ignores case, because older accounts may store lower case.
    """
    holder = db.session.scalar(
        sa.select(User.username).where(
            User.institution_id == institution.id,
            sa.func.upper(User.employee_no) == employee_no.upper(),
        ).limit(1)
    )
    if holder is not None:
        raise OnboardingError(
            f"--employee-no {employee_no} belongs to the account {holder} already; "
            "a person has one account. No account was created."
        )


def _audit_created_by(actor: User, user: User) -> None:
    """Audit an account that ``actor`` created, with every stored field but the password."""
    audit.record(
        "account.created_by_admin",
        "user",
        user.id,
        f"{actor.username} created the account {user.username} ({user.role.value})",
        actor_id=actor.id,
        institution_id=user.institution_id,
        data={
            "username": user.username,
            "full_name": user.full_name,
            "role": user.role.value,
            "post": user.post.value if user.post else None,
            "employee_no": user.employee_no,
            "email": user.email,
            "department_id": user.department_id,
        },
    )
    logger.info("Account %r created by %r", user, actor)
