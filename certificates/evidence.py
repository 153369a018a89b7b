"""Certificates as plain values for the promotion checks and the HR dossier.

The core package reads certificates through the function below, which the
app factory registers with ``lms.promotion.engine``, so the core never
imports this package.
"""

from datetime import date

from certificates.services import certificates_of, status_of
from lms.accounts.models import User
from lms.extensions import db


def held_certificates(user_id: int, today: date) -> list[dict]:
    """Return the user's certificates, newest first, with their status on ``today``."""
    user = db.session.get(User, user_id)
    if user is None:
        return []
    return [
        {
            "programme_id": cert.programme_id,
            "title": cert.title,
            "serial": cert.serial,
            "hours": str(cert.hours),
            "issued_on": cert.issued_on,
            "expires_on": cert.expires_on,
            "status": status_of(cert, today).value,
        }
        for cert in certificates_of(user)
    ]
