import logging
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts import services, sessions
from lms.accounts.access import roles_required
from lms.accounts.forms import ChangePasswordForm, EmptyForm, LoginForm
from lms.accounts.models import Role, User
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
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=login_rate_key, methods=["POST"]
)
@limiter.limit(
    lambda: current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"],
    key_func=account_rate_key,
    methods=["POST"],
    deduct_when=_form_rejected,
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = db.session.scalar(
            sa.select(User).where(User.username == form.username.data.strip())
        )
        if user is None or not user.check_password(form.password.data) or not user.active:
            logger.info("Failed login for %r from %s", form.username.data, request.remote_addr)
            flash(_("Invalid username or password."), "error")
            return render_template("lms/login.html", form=form), 200
        sessions.start(user, remember=form.remember.data)
        db.session.commit()
        logger.info("User %r logged in", user)
        if user.password_must_change:
            return redirect(url_for("accounts.change_password"))
        return redirect(_safe_next(form.next.data))
    return render_template("lms/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        sessions.end()
        db.session.commit()
    return redirect(url_for("accounts.login"))


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
        flash(
            _("Your password was changed. Other sessions ended: %(count)s.", count=ended),
            "success",
        )
        return redirect(url_for("main.dashboard"))
    return render_template("lms/account_password.html", form=form)


def _managed_person_or_404(person_id: int) -> User:
    """Load an account of the admin's own institution; 404 for others."""
    person = db.session.get(User, person_id)
    if person is None or person.institution_id != current_user.institution_id:
        abort(404)
    return person


@bp.route("/people/<int:person_id>/account")
@roles_required(Role.ADMIN)
def manage_account(person_id: int):
    person = _managed_person_or_404(person_id)
    return render_template(
        "lms/account_manage.html",
        person=person,
        active_sessions=sessions.active_sessions(person),
        form=EmptyForm(),
    )


@bp.route("/people/<int:person_id>/sessions/end", methods=["POST"])
@roles_required(Role.ADMIN)
def end_sessions(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = services.end_sessions(current_user, person)
    db.session.commit()
    flash(_("Sessions ended: %(count)s.", count=ended), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))


@bp.route("/people/<int:person_id>/disable", methods=["POST"])
@roles_required(Role.ADMIN)
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
@roles_required(Role.ADMIN)
def enable_account(person_id: int):
    person = _managed_person_or_404(person_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.set_active(current_user, person, True)
    db.session.commit()
    flash(_("The account of %(name)s is enabled.", name=person.full_name), "success")
    return redirect(url_for("accounts.manage_account", person_id=person.id))
