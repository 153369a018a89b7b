"""Home page routing and the language switch."""

from typing import Optional
from urllib.parse import urlsplit

import redis
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

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
    return redirect(_page_to_reload(request.referrer) or url_for("main.dashboard"))


def _get_routing_error(path: str) -> Optional[type[Exception]]:
    """Return the routing error that a GET of ``path`` raises, or None when it loads."""
    adapter = current_app.create_url_adapter(request)
    try:
        adapter.match(path, method="GET")
    except RequestRedirect:
        return None
    except (MethodNotAllowed, NotFound) as error:
        return type(error)
    return None


def _page_to_reload(referrer: Optional[str]) -> Optional[str]:
    """Return the same-site page to show in the new language, or None for home.

    A form with a problem is shown again at the address it was posted to,
    and some of those accept only POST (``/tasks/5/submit``), so loading
    them again would get 405. The switch then returns to the nearest
    address above it that loads with GET (``/tasks/5``), without the
    form's query string. Other addresses are returned unchanged.
    """
    if not referrer or not referrer.startswith(request.host_url):
        return None
    path = urlsplit(referrer).path.removeprefix(request.script_root) or "/"
    if _get_routing_error(path) is not MethodNotAllowed:
        return referrer
    while path != "/":
        path = path.rsplit("/", 1)[0] or "/"
        if path != "/" and _get_routing_error(path) is None:
            return request.script_root + path
    return None


@bp.route("/healthz")
def health():
    """Return ok while this process serves requests: a liveness check that queries no other service."""
    return {"status": "ok"}


@bp.route("/readyz")
def ready():
    """Check that the database and, when configured, Redis respond; return 503 if one fails."""
    checks = {"database": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.error("Readiness: database failed: %s", error)
        checks["database"] = "failed"
    url = current_app.config.get("SESSION_STORE_URL")
    if url:
        try:
            current_app.extensions["lms_session_store"].client.ping()
            checks["redis"] = "ok"
        except redis.RedisError as error:
            current_app.logger.error("Readiness: Redis failed: %s", error)
            checks["redis"] = "failed"
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503


@bp.route("/favicon.ico")
def favicon():
    """Send browsers that ask for /favicon.ico to the SVG icon the pages link to."""
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)
