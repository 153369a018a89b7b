"""Error pages that name the failure without leaking internals."""

import logging

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

from lms.extensions import db

logger = logging.getLogger("lms.errors")

_HANDLED = (400, 404, 405, 413, 429)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def _render(status: int, description: str = ""):
    if _wants_json():
        return jsonify(error=status, message=description), status
    return render_template("errors/error.html", status=status, description=description), status


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
        return _render(403)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _render(400, "csrf")

    @app.errorhandler(OverflowError)
    @app.errorhandler(DataError)
    def out_of_range(error):
        # A number or date typed into a URL or form that no column can hold
        # (an id of 30 digits, the year 9999 plus a day) is bad input, not
        # a server fault. Nothing was written: the transaction is rolled back.
        db.session.rollback()
        logger.info(
            "Out-of-range value on %s %s: %s", request.method, request.path, error
        )
        return _render(400, "out_of_range")

    @app.errorhandler(500)
    def server_error(error):
        db.session.rollback()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
