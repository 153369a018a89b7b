import logging
import os
import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from lms import audit
from lms.accounts import services, sessions, two_factor
from lms.accounts.access import person_roles_required
from lms.accounts.passwords import first_password_expired
from lms.accounts.forms import (
    ChangePasswordForm,
    EmptyForm,
    LoginForm,
    PasswordConfirmForm,
    RoleForm,
    TwoFactorCodeForm,
)
from lms.accounts.models import (
    Role,
    User,
    check_password_of_unknown_user,
    user_by_username,
)
from lms.extensions import (
    account_rate_key,
    db,
    limiter,
    login_manager,
    login_rate_key,
    user_rate_key,
)

logger = logging.getLogger("lms.accounts")

bp = Blueprint("accounts", __name__)

login_manager.user_loader(sessions.load_user)


def _safe_next(target: str | None) -> str:
    """Return ``target`` only if it is a path on this site, else the dashboard."""
    if not target:
        return url_for("main.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("main.dashboard")
    if "\\" in target:
        return url_for("main.dashboard")
    return target


def _form_rejected(response) -> bool:
    """Count a POST as a failed attempt when it re-renders the form (200), not on 302."""
    return response.status_code == 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=login_rate_key,
    methods=["POST"],
    deduct_when=_form_rejected,
)
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    key_func=account_rate_key,
    methods=["POST"],
    deduct_when=_form_rejected,
)
def login():
    if current_user.is_authenticated:
        # Another tab may have logged in again while this one showed that
        # the login had ended. Its login link then still returns to its page.
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        username = form.username.data.strip()
        user = user_by_username(username)
        if user is None:
            password_ok = check_password_of_unknown_user(form.password.data)
        else:
            password_ok = user.check_password(form.password.data)
        if not password_ok:
            logger.info("Failed login for %r from %s", form.username.data, request.remote_addr)
            _audit_failed_login(user, username)
            db.session.commit()
            flash(_("Invalid username or password."), "error")
            return render_template("lms/login.html", form=form), 200
        if not user.active:
            # The reason is given only after the right password. Every path
            # checks one hash, so the message reveals nothing to someone
            # without the password and takes no longer.
            logger.info("Login to disabled account %r from %s", user, request.remote_addr)
            _audit_failed_login(user, username, reason="disabled")
            db.session.commit()
            flash(
                _(
                    "This account is disabled, so it cannot log in. Ask your HR "
                    "office or an administrator to enable it."
                ),
                "error",
            )
            return render_template("lms/login.html", form=form), 200
        if first_password_expired(user):
            logger.info("Expired first password for %r from %s", user, request.remote_addr)
            _audit_failed_login(user, username)
            db.session.commit()
            flash(
                _(
                    "Your first password has expired. Ask your HR office or an "
                    "administrator to set a new one."
                ),
                "error",
            )
            return render_template("lms/login.html", form=form), 200
        if two_factor.is_enabled(user):
            session[PENDING_KEY] = {
                "user_id": user.id,
                "remember": bool(form.remember.data),
                "next": form.next.data or "",
                "at": time.time(),
            }
            return redirect(url_for("accounts.login_verify"))
        return _finish_login(user, remember=form.remember.data, next_url=form.next.data)
    return render_template("lms/login.html", form=form)


#: Session key of a login whose password was right and whose second factor is due.
PENDING_KEY = "_2fa_pending"

#: Seconds the second step may take after the password step.
PENDING_SECONDS = 300


def _audit_failed_login(user, username: str, reason: str = "") -> None:
    data = {"username": username[:64], "ip": request.remote_addr}
    if reason:
        data["reason"] = reason
    audit.record(
        "account.login_failed",
        "user",
        user.id if user is not None else 0,
        f"failed login as {username[:64]!r} from {request.remote_addr}"
        + (f" ({reason})" if reason else ""),
        actor_id=None,
        institution_id=user.institution_id if user is not None else None,
        data=data,
    )


def _finish_login(user: User, *, remember: bool, next_url: str, method: str = "password"):
    sessions.start(user, remember=remember)
    audit.record(
        "account.login",
        "user",
        user.id,
        f"{user.username} logged in from {request.remote_addr} ({method})",
        actor_id=user.id,
        institution_id=user.institution_id,
        data={"method": method, "ip": request.remote_addr},
    )
    db.session.commit()
    logger.info("User %r logged in", user)
    if user.password_must_change:
        return redirect(url_for("accounts.change_password"))
    return redirect(_safe_next(next_url))


def _pending_login() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending.get("user_id"))
    if user is None or not user.active:
        return None
    return user


def _two_factor_rate_key() -> str:
    pending = session.get(PENDING_KEY)
    user_id = pending.get("user_id") if isinstance(pending, dict) else None
    return f"2fa:{user_id}"


def _two_factor_rate_limit() -> str:
    return current_app.config.get(
        "TWO_FACTOR_RATE_LIMIT",
        os.environ.get("LMS_TWO_FACTOR_RATE_LIMIT", "5 per minute; 20 per hour"),
    )


@bp.route("/login/verify", methods=["GET", "POST"])
@limiter.limit(
    _two_factor_rate_limit,
    key_func=_two_factor_rate_key,
    methods=["POST"],
    deduct_when=_form_rejected,
)
def login_verify():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    user = _pending_login()
    if user is None:
        flash(_("Your login timed out. Enter your username and password again."), "error")
        return redirect(url_for("accounts.login"))
    form = TwoFactorCodeForm()
    if form.validate_on_submit():
        method = two_factor.verify_login(user, form.code.data, sessions.clock())
        if method is None:
            db.session.commit()
            flash(_("The code is wrong or was already used. Enter the current code."), "error")
            return render_template("lms/two_factor_verify.html", form=form), 200
        pending = session.get(PENDING_KEY) or {}
        response = _finish_login(
            user,
            remember=bool(pending.get("remember")),
            next_url=pending.get("next", ""),
            method=method,
        )
        # Flashed after the login, because starting the session clears the cookie.
        if method == "recovery_code":
            flash(
                _(
                    "You logged in with a recovery code. Recovery codes left: %(count)s.",
                    count=two_factor.remaining_recovery_codes(user),
                ),
                "success",
            )
        return response
    return render_template("lms/two_factor_verify.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.login"))
    sessions.end()
    db.session.commit()
    response = redirect(url_for("accounts.login"))
    # Browsers that honour it drop cached pages and site storage of the login.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/session/keepalive", methods=["POST"])
@limiter.limit(sessions.keepalive_rate_limit, key_func=user_rate_key)
def keep_alive():
    """Restart the idle timer of the login, for the expiry warning's button.

    Returns JSON: the seconds until the login ends and whether a later call
    could move that end (not once the session's absolute end is reached).
    A request whose login already ended gets 401 and a message saying so,
    not a redirect to the login page.
    """
    if not current_user.is_authenticated:
        return (
            jsonify(
                error="login_required",
                message=_(
                    "Your login has already ended, so it cannot be kept. Log in "
                    "again; text you typed in this page's text boxes is kept in "
                    "this browser as a draft."
                ),
                login=url_for("accounts.login"),
            ),
            401,
        )
    sessions.keep_alive()
    db.session.commit()
    return jsonify(seconds_left=sessions.seconds_left(), extendable=sessions.extendable())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", key_func=user_rate_key, methods=["POST"], deduct_when=_form_rejected)
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm(user)
    if form.validate_on_submit():
        ended = services.change_password(
            user, form.new_password.data, keep_session=sessions.current_session_id()
        )
        db.session.commit()
        message = _("Your password was changed.")
        if ended:
            message = ngettext(
                "Your password was changed. %(num)d other session was ended.",
                "Your password was changed. %(num)d other sessions were ended.",
                ended,
            )
        flash(message, "success")
        return redirect(url_for("main.dashboard"))
    return render_template("lms/account_password.html", form=form)


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", key_func=user_rate_key, methods=["POST"], deduct_when=_form_rejected)
def own_sessions():
    """List the user's active sessions; end the others once the password is re-entered."""
    user = current_user._get_current_object()
    form = PasswordConfirmForm(user)
    current_id = sessions.current_session_id()
    if form.validate_on_submit():
        ended = services.end_other_sessions(user, keep=current_id)
        db.session.commit()
        if ended:
            flash(
                ngettext(
                    "%(num)d other session was ended.",
                    "%(num)d other sessions were ended.",
                    ended,
                ),
                "success",
            )
        else:
            flash(_("No other session was active."), "info")
        return redirect(url_for("accounts.own_sessions"))
    return render_template(
        "lms/account_sessions.html",
        form=form,
        active_sessions=sessions.active_sessions(user),
        current_id=current_id,
    )


def _managed_person_or_404(person_id: int) -> User:
    """Load an account of the admin's own institution; 404 for others."""
    person = db.session.get(User, person_id)
    if person is None or person.institution_id != current_user.institution_id:
        abort(404)
    return person


@bp.route("/people/<int:person_id>/account")
@person_roles_required(Role.ADMIN)
def manage_account(person_id: int):
    person = _managed_person_or_404(person_id)
    return render_manage_page(person)


def render_manage_page(
    person: User, status: int = 200, hr_scope_form=None, first_password=None
):
    """Render the account page of ``person`` and the errors of a rejected HR scope form.

    ``first_password`` is shown once, in the response to the request that
    created the account.
    """
    role_form = RoleForm(formdata=None, role=person.role.value)
    role_form.role.choices = _role_choices()
    return _render_manage(person, role_form, status, hr_scope_form, first_password)


def _render_manage(
    person: User,
    role_form: RoleForm,
    status: int = 200,
    hr_scope_form=None,
    first_password=None,
):
    return (
        render_template(
            "lms/account_manage.html",
            person=person,
            active_sessions=sessions.active_sessions(person),
            form=EmptyForm(),
            role_form=role_form,
            hr_scope_errors=hr_scope_form.department.errors if hr_scope_form else [],
            two_factor_enabled=two_factor.is_enabled(person),
            first_password=first_password,
            first_password_days=current_app.config.get("FIRST_PASSWORD_DAYS", 14),
        ),
        status,
    )


def _role_choices() -> list[tuple[str, str]]:
    from lms.labels import label

    return [(role.value, label(role)) for role in Role]


@bp.route("/people/<int:person_id>/role", methods=["POST"])
@person_roles_required(Role.ADMIN)
def change_role(person_id: int):
    person = _managed_person_or_404(person_id)
    form = RoleForm()
    form.role.choices = _role_choices()
    if not form.validate_on_submit():
        return _render_manage(person, form, 400)
    scope = person.hr_department
    try:
        services.set_role(current_user, person, Role(form.role.data))
    except ValueError:
        flash(_("You cannot change your own role; ask another admin."), "error")
        return redirect(url_for("accounts.manage_account", person_id=person.id))
    db.session.commit()
    flash(_("The role of %(name)s is now %(role)s.", name=person.full_name, role=_role_label(person.role)), "success")
    if scope is not None and person.hr_department_id is None:
        flash(
            _(
                "%(name)s is no longer HR, so the department HR scope "
                "(%(department)s) was removed.",
                name=person.full_name,
                department=scope.name,
            ),
            "info",
        )
    return redirect(url_for("accounts.manage_account", person_id=person.id))


def _role_label(role: Role) -> str:
    from lms.labels import label

    return str(label(role))


@bp.route("/people/<int:person_id>/sessions/end", methods=["POST"])
@person_roles_required(Role.ADMIN)
def end_sessions(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = services.end_sessions(current_user, person)
    db.session.commit()
    flash(_("Sessions ended: %(count)s.", count=ended), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))


@bp.route("/people/<int:person_id>/disable", methods=["POST"])
@person_roles_required(Role.ADMIN)
def disable_account(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if person.id == current_user.id:
        flash(_("You cannot disable your own account."), "error")
        return redirect(url_for("accounts.manage_account", person_id=person.id))
    services.set_active(current_user, person, False)
    db.session.commit()
    flash(_("The account of %(name)s is disabled.", name=person.full_name), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))


@bp.route("/people/<int:person_id>/enable", methods=["POST"])
@person_roles_required(Role.ADMIN)
def enable_account(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_active(current_user, person, True)
    db.session.commit()
    flash(_("The account of %(name)s is enabled.", name=person.full_name), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))


from lms.accounts import two_factor_views  # noqa: E402, F401  (registers routes on bp)
from lms.accounts import account_views  # noqa: E402, F401  (registers routes on bp)
