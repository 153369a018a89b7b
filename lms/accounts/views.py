import logging
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.accounts.forms import EmptyForm, LoginForm
from lms.accounts.models import User
from lms.extensions import db, limiter, login_manager, login_rate_key

logger = logging.getLogger("lms.accounts")

bp = Blueprint("accounts", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id))


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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=login_rate_key, methods=["POST"]
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
        login_user(user, remember=form.remember.data)
        logger.info("User %r logged in", user)
        return redirect(_safe_next(form.next.data))
    return render_template("lms/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if EmptyForm().validate_on_submit():
        logout_user()
    return redirect(url_for("accounts.login"))
