"""``flask lms ...`` commands.

Output is in English and not translated, because these commands are for
operators and the locale selector in ``lms.i18n`` reads the request and the
logged-in user, which a CLI run does not have.
"""

import logging

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup, ScriptInfo
from flask_babel import force_locale

from lms.accounts.models import Post, Role, User, user_by_username
from lms.accounts.passwords import MIN_LENGTH, describe, password_problem
from lms.accounts.sessions import revoke_user_sessions
from lms.audit import record
from lms.cli_errors import describe_database_error
from lms.extensions import db
from lms.seed import seed_demo

logger = logging.getLogger("lms.cli")


class LmsGroup(AppGroup):
    """Command group that turns a database error of any subcommand into one line.

    The line names the cause and the fix (see ``lms.cli_errors``) and the
    command exits with status 1. The traceback is logged at DEBUG level.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except sa.exc.SQLAlchemyError as exc:
            logger.debug("flask lms %s failed", ctx.invoked_subcommand, exc_info=True)
            raise click.ClickException(
                describe_database_error(exc, _database_url(ctx))
            ) from None


def _database_url(ctx: click.Context) -> sa.engine.URL | None:
    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
        return sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    except (click.ClickException, sa.exc.ArgumentError, KeyError):
        # The URL only completes the message, so a message without it will do.
        return None


lms_cli = LmsGroup("lms", help="Shuren administration commands.")


@lms_cli.command(
    "seed",
    short_help="Load the demo data and print the new accounts' passwords.",
    help=(
        "Load the demo data: the 2014 counselor competency framework and the 2017 "
        "duties mapped to it, a demo university with one account per role, a "
        "pre-job and an intermediate programme with lessons and quizzes, a "
        "case-study course with an essay awaiting grading, a "
        "question bank, rubrics, a training class, promotion rules and "
        "certificate templates. Rows that already exist are left unchanged, so "
        "running it again is safe. Prints the password of each new account."
    ),
)
def seed_command() -> None:
    created = seed_demo()
    db.session.commit()

    if not created:
        click.echo("Demo data is already present; no accounts were created.")
        click.echo(
            "Passwords were printed when the demo data was first seeded. "
            "To set a new one, run: flask lms set-password USERNAME"
        )
        return

    roles = dict(
        db.session.execute(
            sa.select(User.username, User.role).where(User.username.in_(created))
        ).all()
    )
    width = max(len("username"), *(len(name) for name in created))
    click.echo("Created demo accounts:")
    click.echo(f"  {'username':<{width}}  {'role':<12}  password")
    for username, password in created.items():
        click.echo(f"  {username:<{width}}  {roles[username].value:<12}  {password}")
    click.echo(
        "These demo passwords are for local demonstration only. Change them with "
        "`flask lms set-password USERNAME` before anyone else can reach this server."
    )


@lms_cli.command(
    "set-password",
    short_help="Set a new password for an account (prompts for it).",
    help=(
        "Set a new password for the account USERNAME. Prompts twice for the "
        f"password without echoing it. It must be at least {MIN_LENGTH} characters "
        "long, not a common password, and must not contain the username or the "
        "employee number. The account's sessions are ended, and its owner must "
        "change the password at the next login."
    ),
)
@click.argument("username")
def set_password_command(username: str) -> None:
    user = user_by_username(username)
    if user is None:
        raise click.ClickException(
            f"No account with username {username!r}."
        )

    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, username=user.username, employee_no=user.employee_no)
    if problem is not None:
        with force_locale("en"):
            reason = describe(problem, password)
        raise click.ClickException(f"{reason} The password was not changed.")

    user.set_password(password)
    user.password_must_change = True
    ended = revoke_user_sessions(user)
    # first_password_expired counts the days from this entry.
    record(
        "account.password_set",
        "user",
        user.id,
        f"Password of {user.username} set from the command line",
        institution_id=user.institution_id,
    )
    db.session.commit()
    logger.info("Password set for %r from the command line", user)
    click.echo(
        f"Password updated for {username}; {ended} session(s) ended. "
        "The password must be changed at the next login."
    )


@lms_cli.command(
    "reset-two-factor",
    short_help="Turn off the two-factor login of an account that lost its device.",
    help=(
        "Turn off the two-factor login of the account USERNAME and end its "
        "sessions, for someone who lost both the authenticator and the recovery "
        "codes when no other admin of the institution can reset it on the "
        "account page. If the institution requires two-factor login for the "
        "role, the owner sets it up again at the next login. The reset is audited."
    ),
)
@click.argument("username")
def reset_two_factor_command(username: str) -> None:
    from lms.accounts import two_factor

    user = user_by_username(username)
    if user is None:
        raise click.ClickException(
            f"No account with username {username!r}."
        )
    if not two_factor.is_enabled(user):
        click.echo(f"{username} has no two-factor login; nothing was changed.")
        return
    two_factor.reset_from_command_line(user)
    ended = revoke_user_sessions(user)
    db.session.commit()
    logger.info("Two-factor login of %r reset from the command line", user)
    click.echo(
        f"Two-factor login of {username} is off; {ended} session(s) ended. "
        "They log in with the password and set it up again if it is required."
    )


@lms_cli.command(
    "apply-day-cap",
    short_help="Credit class sessions again under the daily cap of 学时.",
    help=(
        "Credit again the class sessions that share dates with approved trainings "
        "taken elsewhere, so that each day counts at most a full day's 学时 "
        "(LMS_CLASS_FULL_DAY_HOURS) from both together. Approving or withdrawing a "
        "training does this for its dates; run this once for data recorded before "
        "the cap covered class sessions. Lowered sessions get correction rows in "
        "the hours ledger. Running it again changes nothing."
    ),
)
def apply_day_cap_command() -> None:
    from lms.records import day_cap

    count = day_cap.announce_approved_trainings()
    db.session.commit()
    logger.info("Daily cap applied around %d approved trainings", count)
    click.echo(f"Checked the class sessions on the dates of {count} approved trainings.")


@lms_cli.command(
    "operator",
    short_help="Grant or revoke the platform operator right of an admin.",
    help=(
        "Make the admin USERNAME a platform operator, who sees and runs "
        "the scheduled jobs that every institution shares on the Jobs page. "
        "With --revoke, the account stops being one. The change is audited."
    ),
)
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Revoke the right instead of granting it.")
def operator_command(username: str, revoke: bool) -> None:
    user = user_by_username(username)
    if user is None:
        raise click.ClickException(
            f"No account with username {username!r}."
        )
    if user.role is not Role.ADMIN and not revoke:
        raise click.ClickException(
            f"{username} has the role {user.role.value}; only an admin can be a "
            "platform operator. Change the role first."
        )
    granting = not revoke
    if user.platform_operator == granting:
        state = "is already" if granting else "is not"
        click.echo(f"{username} {state} a platform operator; nothing changed.")
        return
    user.platform_operator = granting
    record(
        "account.operator_granted" if granting else "account.operator_revoked",
        "user",
        user.id,
        f"{user.username} {'made' if granting else 'no longer'} a platform operator "
        "from the command line",
        institution_id=user.institution_id,
    )
    db.session.commit()
    logger.info("Platform operator %s for %r from the command line",
                "granted" if granting else "revoked", user)
    click.echo(f"{username} {'is now' if granting else 'is no longer'} a platform operator.")


@lms_cli.command(
    "serve",
    help=(
        "Serve the app with Werkzeug on HOST:PORT and run the scheduled jobs "
        "in this process. For a single-machine demo; production runs gunicorn "
        "and `flask lms scheduler` as separate processes."
    ),
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=5000, show_default=True, help="TCP port to bind.")
def serve_command(host: str, port: int) -> None:
    from flask import current_app
    from werkzeug.serving import make_server

    from lms.scheduler import start_in_process

    app = current_app._get_current_object()
    # Flask's app.run() refuses to start inside a flask CLI command, so the
    # Werkzeug server is made directly. Binding before the scheduler starts
    # stops a second `serve` on a taken port before it runs any job.
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        raise click.ClickException(
            f"Cannot serve on {host}:{port}: {exc.strerror or exc}. Stop the program "
            "that uses the port, or choose another one with --port."
        ) from None
    start_in_process(app)
    click.echo(f"Shuren is serving on http://{host}:{port}/ (Ctrl-C stops it)")
    click.echo(
        "Sign in with a demo account printed when the demo was seeded; "
        "`flask lms set-password USERNAME` sets a new password."
    )
    server.serve_forever()


@lms_cli.command(
    "backup",
    help=(
        "Write a backup archive (.tar.gz) of the database and of every stored "
        "file (uploads, evidence, certificates). SQLite is copied with its "
        "online backup API, PostgreSQL with pg_dump, so the app may keep "
        "running. Default OUTPUT: instance/backups/shuren-<UTC time>.tar.gz."
    ),
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Archive to write.")
def backup_command(output: str | None) -> None:
    from datetime import datetime, timezone
    from pathlib import Path

    from flask import current_app

    from lms.backup import BackupError, create_backup

    if output is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        output = Path(current_app.instance_path) / "backups" / f"shuren-{stamp}.tar.gz"
    try:
        summary = create_backup(current_app._get_current_object(), Path(output))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    logger.info("Backup written to %s", summary.path)
    click.echo(
        f"Backup of the {summary.dialect} database and {summary.files} file(s) "
        f"written to {summary.path} ({summary.size} bytes)."
    )


@lms_cli.command(
    "restore",
    help=(
        "Replace this instance's database and stored files with those of the "
        "backup ARCHIVE made by `flask lms backup`. The archive is checked "
        "first (manifest, checksums, no unsafe paths or links). Stop the app "
        "and the scheduler before restoring. A database that already holds "
        "accounts is replaced only with --force."
    ),
)
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(archive: str, force: bool) -> None:
    from pathlib import Path

    from flask import current_app

    from lms.backup import BackupError, restore_backup

    try:
        manifest = restore_backup(current_app._get_current_object(), Path(archive), force=force)
    except BackupError as exc:
        raise click.ClickException(f"{exc}. Nothing was changed.") from None
    logger.warning("Instance restored from %s", archive)
    click.echo(
        f"Restored the backup of {manifest['created_at']} "
        f"(schema revision {manifest['alembic_revision']}). "
        "Run `flask db upgrade` if this release has newer migrations."
    )


def _parse_department(value: str) -> tuple[str, str]:
    code, separator, name = value.partition("=")
    if not separator:
        raise click.BadParameter(
            f"{value!r} has no '='; write CODE=NAME, such as cs=计算机科学与技术学院."
        )
    return code.strip(), name.strip()


@lms_cli.command(
    "create-institution",
    short_help="Create a university with its departments, without demo data.",
    help=(
        "Create the institution CODE named NAME on an empty or shared database, "
        "with its departments (院系), the default certificate templates and the "
        "competition rubrics. The national competency standards and "
        "training-hour rules are added too where missing. No demo data is "
        "loaded. Then run `flask lms create-account` for its first admin."
    ),
)
@click.argument("code")
@click.argument("name")
@click.option("--name-en", help="English name, shown on English certificates.")
@click.option("--timezone", default="Asia/Shanghai", show_default=True,
              help="IANA time zone for deadlines and yearly quotas.")
@click.option("--serial-prefix", default="SR", show_default=True,
              help="Letters or digits that start certificate serials; unique per institution.")
@click.option("--department", "departments", multiple=True, metavar="CODE=NAME",
              help="A 院系; repeat the option for each.")
def create_institution_command(
    code: str, name: str, name_en: str | None, timezone: str, serial_prefix: str,
    departments: tuple[str, ...],
) -> None:
    from lms.onboarding import OnboardingError, create_institution

    pairs = tuple(_parse_department(value) for value in departments)
    try:
        institution = create_institution(
            code, name, name_en=name_en, timezone=timezone,
            serial_prefix=serial_prefix, departments=pairs,
        )
    except OnboardingError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was created.") from None
    db.session.commit()
    click.echo(
        f"Created institution {institution.code} ({institution.name}) with "
        f"{len(pairs)} department(s). Next: flask lms create-account USERNAME "
        f"--institution {institution.code} --role admin --full-name NAME"
    )


@lms_cli.command(
    "add-department",
    short_help="Add a department (院系) to an institution.",
    help="Add the department CODE named NAME to the institution INSTITUTION_CODE.",
)
@click.argument("institution_code")
@click.argument("code")
@click.argument("name")
def add_department_command(institution_code: str, code: str, name: str) -> None:
    from lms.onboarding import OnboardingError, add_department, institution_by_code

    try:
        department = add_department(institution_by_code(institution_code), code, name)
    except OnboardingError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was added.") from None
    db.session.commit()
    click.echo(f"Added department {department.code} ({department.name}) to {institution_code}.")


@lms_cli.command(
    "create-account",
    short_help="Create an account, such as an institution's first admin.",
    help=(
        "Create the account USERNAME in an institution. Prompts twice for the "
        f"password without echoing it (at least {MIN_LENGTH} characters, not a "
        "common password, without the username or employee number). With "
        "--first-password a random password is printed instead, and its owner "
        "must change it at the first login. Counselors without --post are "
        "full-time counselors."
    ),
)
@click.argument("username")
@click.option("--institution", "institution_code", required=True, help="Institution code.")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--full-name", required=True, help="The person's name, e.g. 王敏.")
@click.option("--department", "department_code", help="Department code.")
@click.option("--post", type=click.Choice([post.value for post in Post]),
              help="Post of a counselor or party worker.")
@click.option("--employee-no",
              help="Employee number (工号), stored half-width and upper case as "
                   "roster imports match it: 3 to 32 letters, digits or hyphens.")
@click.option("--email", help="E-mail address.")
@click.option("--first-password", is_flag=True,
              help="Print a random first password that must be changed at login.")
def create_account_command(
    username: str, institution_code: str, role: str, full_name: str,
    department_code: str | None, post: str | None, employee_no: str | None,
    email: str | None, first_password: bool,
) -> None:
    import secrets

    from lms.onboarding import OnboardingError, create_account, institution_by_code

    if first_password:
        password = secrets.token_urlsafe(12)
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_account(
            institution_by_code(institution_code), username, full_name, Role(role),
            password, department_code=department_code,
            post=Post(post) if post else None, employee_no=employee_no, email=email,
            must_change=first_password,
        )
    except OnboardingError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.username} in {institution_code}.")
    if first_password:
        click.echo(f"First password: {password} (it must be changed at the first login)")


def init_app(app: Flask) -> None:
    app.cli.add_command(lms_cli)
