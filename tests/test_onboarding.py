"""Setting up a real institution from the command line, without demo data."""

import sqlalchemy as sa

from certificates.template_models import CertificateTemplate
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.compliance.models import ComplianceRule
from lms.competencies.models import Framework
from lms.extensions import db
from lms.organisations.models import Department, Institution
from tests.test_seed import home_location

PASSWORD = "campus-start-2026"


def _create_bnu(runner):
    return runner.invoke(
        args=[
            "lms", "create-institution", "bnu", "北京师范大学",
            "--serial-prefix", "BNU",
            "--department", "edu=教育学部",
            "--department", "psy=心理学部",
        ]
    )


def test_empty_database_gets_institution_and_admin(app, login):
    runner = app.test_cli_runner()

    created = _create_bnu(runner)
    account = runner.invoke(
        args=["lms", "create-account", "wangmin", "--institution", "bnu",
              "--role", "admin", "--full-name", "王敏"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert created.exit_code == 0, created.output
    assert account.exit_code == 0, account.output
    assert PASSWORD not in account.output
    with app.app_context():
        institution = db.session.scalar(sa.select(Institution).filter_by(code="bnu"))
        assert institution.serial_prefix == "BNU"
        assert [d.name for d in institution.departments] == ["教育学部", "心理学部"]
        # What every institution reads: national standards and rules, templates.
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Framework)) == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplianceRule)) > 0
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(CertificateTemplate)
            .filter_by(institution_id=institution.id)
        ) == 2
        # No demo data.
        assert db.session.scalar(sa.select(User.id).filter_by(username="counselor1")) is None
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert {"institution.created", "account.created"} <= actions
    assert home_location(login("wangmin", PASSWORD)) == "/people"


def test_first_password_must_be_changed(app, login):
    runner = app.test_cli_runner()
    _create_bnu(runner)

    result = runner.invoke(
        args=["lms", "create-account", "zhaohr", "--institution", "bnu", "--role", "hr",
              "--full-name", "赵琳", "--department", "psy", "--first-password"]
    )

    assert result.exit_code == 0, result.output
    password = result.output.split("First password: ")[1].split()[0]
    assert home_location(login("zhaohr", password)) == "/account/password"
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username="zhaohr"))
        assert user.role is Role.HR
        assert user.department.code == "psy"


def test_create_institution_rejects_taken_code_and_prefix(app):
    runner = app.test_cli_runner()
    _create_bnu(runner)

    same_code = runner.invoke(args=["lms", "create-institution", "bnu", "另一所"])
    same_prefix = runner.invoke(
        args=["lms", "create-institution", "pku", "北京大学", "--serial-prefix", "bnu"]
    )
    bad_zone = runner.invoke(
        args=["lms", "create-institution", "pku", "北京大学", "--timezone", "Beijing"]
    )
    bad_department = runner.invoke(
        args=["lms", "create-institution", "pku", "北京大学", "--department", "law"]
    )

    assert same_code.exit_code == 1
    assert "exists already" in same_code.output
    assert same_prefix.exit_code == 1
    assert "--serial-prefix bnu: 北京师范大学 already uses the serial prefix BNU" in same_prefix.output
    assert bad_zone.exit_code == 1
    assert "Asia/Shanghai" in bad_zone.output
    assert bad_department.exit_code == 2
    assert "CODE=NAME" in bad_department.output
    with app.app_context():
        assert db.session.scalar(sa.select(Institution.id).filter_by(code="pku")) is None


def test_create_account_names_what_is_wrong(app):
    runner = app.test_cli_runner()
    _create_bnu(runner)

    def create(*extra, password=PASSWORD):
        return runner.invoke(
            args=["lms", "create-account", *extra], input=f"{password}\n{password}\n"
        )

    unknown_school = create("li", "--institution", "xyz", "--role", "admin", "--full-name", "李")
    unknown_department = create(
        "li", "--institution", "bnu", "--role", "trainer", "--full-name", "李", "--department", "law"
    )
    weak = create("li", "--institution", "bnu", "--role", "admin", "--full-name", "李",
                  password="abc")
    party = create("li", "--institution", "bnu", "--role", "party_worker", "--full-name", "李")

    assert unknown_school.exit_code == 1
    assert "Known codes: bnu" in unknown_school.output
    assert unknown_department.exit_code == 1
    assert "Known codes: edu, psy" in unknown_department.output
    assert weak.exit_code == 1
    assert "No account was created" in weak.output
    assert party.exit_code == 1
    assert "--post" in party.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).filter_by(username="li")) is None


def test_add_department_to_institution(app):
    runner = app.test_cli_runner()
    _create_bnu(runner)

    added = runner.invoke(args=["lms", "add-department", "bnu", "law", "法学院"])
    again = runner.invoke(args=["lms", "add-department", "bnu", "law", "法学院"])

    assert added.exit_code == 0, added.output
    assert again.exit_code == 1
    assert "already" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(Department.name).filter_by(code="law")) == "法学院"


def test_create_account_checks_lengths_and_email(app):
    """Values longer than their columns are rejected by option name before any INSERT."""
    runner = app.test_cli_runner()
    _create_bnu(runner)

    def create(username, *extra):
        return runner.invoke(
            args=["lms", "create-account", username, "--institution", "bnu",
                  "--role", "counselor", "--full-name", "李", *extra],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )

    long_number = create("li1", "--employee-no", "9" * 33)
    long_email = create("li2", "--email", "a" * 250 + "@x.cn")
    not_email = create("li3", "--email", "notanemail")

    assert long_number.exit_code == 1
    assert "--employee-no" in long_number.output
    assert "32" in long_number.output
    assert long_email.exit_code == 1
    assert "--email" in long_email.output
    assert "254" in long_email.output
    assert not_email.exit_code == 1
    assert "--email" in not_email.output
    assert "name@example.com" in not_email.output
    with app.app_context():
        assert db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.username.in_(["li1", "li2", "li3"]))
        ) == 0


def test_missing_names_point_to_their_option(app):
    """A name given through an option is asked for through that option."""
    runner = app.test_cli_runner()
    no_department_name = runner.invoke(
        args=["lms", "create-institution", "bnu", "北京师范大学", "--serial-prefix", "BNU",
              "--department", "edu="]
    )
    _create_bnu(runner)
    no_full_name = runner.invoke(
        args=["lms", "create-account", "li", "--institution", "bnu", "--role", "admin",
              "--full-name", " "],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert no_department_name.exit_code == 1
    assert "--department edu=" in no_department_name.output
    assert "CODE=NAME" in no_department_name.output
    assert "as the argument" not in no_department_name.output
    assert no_full_name.exit_code == 1
    assert "--full-name" in no_full_name.output
    assert "as the argument" not in no_full_name.output


def test_create_account_rejects_taken_employee_no(app):
    """An employee number identifies one person of an institution, in any case."""
    runner = app.test_cli_runner()
    _create_bnu(runner)

    def create(username, number):
        return runner.invoke(
            args=["lms", "create-account", username, "--institution", "bnu",
                  "--role", "counselor", "--full-name", "李", "--employee-no", number],
            input=f"{PASSWORD}\n{PASSWORD}\n",
        )

    first = create("li1", "T2025-7")
    second = create("li2", "t2025-7")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 1
    assert "--employee-no T2025-7" in second.output
    assert "li1" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).filter_by(username="li2")) is None


def test_create_account_normalises_employee_no(app):
    """The command stores the number as the browser form and roster imports do."""
    runner = app.test_cli_runner()
    _create_bnu(runner)

    created = runner.invoke(
        args=["lms", "create-account", "li1", "--institution", "bnu",
              "--role", "counselor", "--full-name", "李", "--employee-no", " ｔ2025－7 "],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert created.exit_code == 0, created.output
    with app.app_context():
        stored = db.session.scalar(sa.select(User.employee_no).filter_by(username="li1"))
        assert stored == "T2025-7"


def test_create_account_rejects_bad_employee_no(app):
    runner = app.test_cli_runner()
    _create_bnu(runner)

    created = runner.invoke(
        args=["lms", "create-account", "li1", "--institution", "bnu",
              "--role", "counselor", "--full-name", "李", "--employee-no", "T2025/7"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert created.exit_code == 1
    assert "--employee-no T2025/7" in created.output
    assert "3 to 32 letters, digits or hyphens" in created.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).filter_by(username="li1")) is None
