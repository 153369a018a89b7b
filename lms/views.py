"""Home page routing and the language switch."""

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from lms.accounts.forms import EmptyForm
from lms.accounts.models import Role
from lms.extensions import db

bp = Blueprint("main", __name__)

_HOME_BY_ROLE = {
    Role.COUNSELOR: "courses.my_learning",
    Role.PARTY_WORKER: "courses.my_learning",
    Role.TRAINER: "courses.catalogue",
    Role.HR: "records.people",
    Role.ADMIN: "records.people",
}


@bp.route("/")
@login_required
def dashboard():
    return redirect(url_for(_HOME_BY_ROLE[current_user.role]))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    """Store the chosen UI language on the account, or in the session for guests."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    session["locale"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    target = request.referrer or url_for("main.dashboard")
    if not target.startswith(request.host_url):
        target = url_for("main.dashboard")
    return redirect(target)


@bp.route("/healthz")
def health():
    return {"status": "ok"}


@bp.route("/favicon.ico")
def favicon():
    """Send browsers that ask for /favicon.ico to the SVG icon the pages link to."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)
