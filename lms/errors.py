"""Error pages that name the failure without leaking internals."""

import logging
from typing import Optional
from urllib.parse import urlsplit

import redis
from flask import Flask, flash, g, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_url
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from lms import uploads
from lms.extensions import db, login_manager

logger = logging.getLogger("lms.errors")

_HANDLED = (400, 404, 405, 429)


def _wants_json() -> bool:
    """Return True when the client reads JSON rather than an HTML page.

    True when the Accept header prefers JSON over HTML, or when a script
    sent the request (an X-Requested-With header or a JSON body) without
    naming text/html in its Accept header.
    """
    accept = request.accept_mimetypes
    best = accept.best_match(["application/json", "text/html"])
    if best == "application/json" and not accept.accept_html:
        return True
    scripted = bool(request.headers.get("X-Requested-With")) or request.is_json
    names_html = any(value == "text/html" for value in accept.values())
    return scripted and not names_html


#: Errors of the shared store (Redis) that contains sessions and rate limits.
STORE_ERRORS = (redis.ConnectionError, redis.TimeoutError)


def _render(status: int, description: str = ""):
    if _wants_json():
        return jsonify(error=status, message=description), status
    try:
        page = render_template("errors/error.html", status=status, description=description)
    except STORE_ERRORS as error:
        # An error raised before the session was read (an expired form's
        # CSRF check) renders its page for the current user, which needs
        # Redis: without it, the page is the one for an unreachable store.
        return _store_unavailable(error)
    return page, status


def _store_unavailable(error: Exception):
    """Log that Redis is unreachable and return the 503 page of a guest.

    Sessions and rate limits live in Redis, so without it no login can be
    checked. The page is rendered for a guest, because loading the current
    user would query Redis again.
    """
    db.session.rollback()
    g._login_user = login_manager.anonymous_user()
    logger.error("Redis unavailable on %s %s: %s", request.method, request.path, error)
    if _wants_json():
        return jsonify(error=503, message=""), 503
    return render_template("errors/error.html", status=503, description=""), 503


def _described(error: HTTPException) -> str:
    """Return the message a view passed to ``abort``, or "" for the default text."""
    if error.description == type(error).description:
        return ""
    return str(error.description)


def _login_required_json():
    """Return a 401 that a script can tell apart from a network failure."""
    return (
        jsonify(
            error="login_required",
            message=str(login_manager.login_message),
            login=login_url(login_manager.login_view),
        ),
        401,
    )


def _same_site_referrer() -> Optional[str]:
    """Return the Referer when it is a page of this site, else None."""
    referrer = request.referrer or ""
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return referrer


#: SQLSTATE of "string data, right truncation": PostgreSQL raises it for text
#: longer than its varchar column. SQLite stores such text at full length.
STRING_TOO_LONG = "22001"


def _is_string_too_long(error: Exception) -> bool:
    """Return True for a database error about text longer than its column."""
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) == STRING_TOO_LONG


def init_app(app: Flask) -> None:
    for status in _HANDLED:
        app.register_error_handler(status, lambda e, s=status: _render(s))

    @app.errorhandler(403)
    def forbidden(error):
        user_id = current_user.get_id() if current_user.is_authenticated else None
        logger.warning(
            "Forbidden %s %s for user %s from %s",
            request.method,
            request.path,
            user_id,
            request.remote_addr,
        )
        return _render(403, _described(error))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        try:
            logged_in = current_user.is_authenticated
        except STORE_ERRORS as store_error:
            return _store_unavailable(store_error)
        if _wants_json() and not logged_in:
            # Logging out drops the form's token with the session. A script
            # posting from a page of the old session gets the login-required
            # response, because reloading that page would not help.
            return _login_required_json()
        if _wants_json():
            message = _(
                "The form expired or was sent from another site. "
                "Reload the page and try again."
            )
            return jsonify(error="csrf", message=message), 400
        return _render(400, "csrf")

    @login_manager.unauthorized_handler
    def unauthorized():
        # A script gets a 401; a browser is redirected to the login page.
        if _wants_json():
            return _login_required_json()
        if request.method in ("GET", "HEAD"):
            flash(str(login_manager.login_message), login_manager.login_message_category)
            return redirect(login_url(login_manager.login_view, next_url=request.url))
        # A form posted after the session ended. The login cannot send the
        # browser back to a POST-only address, so it returns to the page the
        # form was on, with a message that the form's data was not saved.
        flash(_("You were logged out, so what you sent was not saved. "
                "Log in and send it again."), "error")
        back = _same_site_referrer()
        if back is None:
            return redirect(login_url(login_manager.login_view))
        return redirect(login_url(login_manager.login_view, next_url=back))

    @app.errorhandler(413)
    def too_large(error):
        # Werkzeug raises this when the form is first read and the body is
        # larger than MAX_CONTENT_LENGTH. The form's data is lost, so the page
        # names the limit and links back to the form.
        limit = uploads.megabytes(uploads.request_limit())
        logger.info(
            "Request of %s bytes over the %s MB limit on %s %s",
            request.content_length,
            limit,
            request.method,
            request.path,
        )
        message = _(
            "The upload is larger than %(limit)s MB, the most one form can send, "
            "so nothing was saved. Go back, choose a smaller file and send the "
            "form again.",
            limit=limit,
        )
        if _wants_json():
            return jsonify(error=413, message=message), 413
        page = render_template(
            "errors/error.html",
            status=413,
            description=message,
            back=_same_site_referrer(),
        )
        return page, 413

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(error):
        # A number or date typed into a URL or form that no column can hold
        # (an id of 30 digits, the year 9999 plus a day), or text longer than
        # its varchar column, is bad input, not a server fault. The rollback
        # undoes only the failed transaction, so what the request committed
        # before it stays saved.
        db.session.rollback()
        if _is_string_too_long(error):
            logger.warning(
                "Value too long for its column on %s %s: %s",
                request.method,
                request.path,
                error,
            )
            return _render(400, "value_too_long")
        logger.info(
            "Out-of-range value on %s %s: %s", request.method, request.path, error
        )
        return _render(400, "out_of_range")

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def shared_store_unavailable(error):
        return _store_unavailable(error)

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
