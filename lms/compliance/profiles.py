"""Person profile lookups, which remember a missing profile for a GET request."""

from typing import Optional

from flask import g, has_request_context, request

from lms.compliance.models import PersonProfile
from lms.extensions import db


def find_profile(user_id: int) -> Optional[PersonProfile]:
    """Return the profile of the user ``user_id``, or None when they have none.

    The session's identity map keeps a profile once loaded, but not the
    fact that there is none, so the dashboard and the compliance rules read
    a missing profile again for each check. A GET request remembers the
    absence until it ends. Other requests may create the profile, so they
    look it up each time.
    """
    missing = None
    if has_request_context() and request.method == "GET":
        missing = g.setdefault("_profiles_missing", set())
        if user_id in missing:
            return None
    profile = db.session.get(PersonProfile, user_id)
    if profile is None and missing is not None:
        missing.add(user_id)
    return profile
