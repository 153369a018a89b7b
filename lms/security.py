"""Response headers that every page carries."""

from flask import Flask, g, request
from flask_login import AnonymousUserMixin, current_user

#: No inline script or style anywhere: templates use static files only.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _logged_in() -> bool:
    """Return whether the request has a logged-in user.

    Flask-Login keeps the request's user in ``g._login_user``, and a user it
    loaded is active. Reading one of its attributes after the view's commit
    expired them would reload the row, and on SQLite a POST would open a
    second write transaction for it.
    """
    user = g.get("_login_user")
    if user is None:
        return current_user.is_authenticated
    return not isinstance(user, AnonymousUserMixin)


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static" and _logged_in():
        # Pages behind login carry personal data: no browser or proxy may store
        # them. A view that sets its own Cache-Control keeps it.
        headers.setdefault("Cache-Control", "private, no-store")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
