"""Server-side login sessions bound to Flask-Login.

The signed Flask cookie carries a random 256-bit token under ``SESSION_KEY``.
The session record lives in the ``user_session`` table, or in Redis when
``SESSION_STORE_URL`` is set. The user loader accepts a cookie only while its
record exists, belongs to the same user, is not revoked and has passed
neither the idle nor the absolute timeout. Revoking the record therefore
ends the login even for someone who kept a copy of the cookie.

Flask-Login's remember cookie is never issued. "Remember me" makes the
signed cookie persistent (it outlives the browser), but the record still
decides whether the login is valid.
"""

import functools
import hashlib
import logging
import math
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Optional, Protocol

import sqlalchemy as sa
from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from lms.accounts.models import User, UserSession
from lms.db import READ_ONLY_METHODS, now_utc
from lms.extensions import db

logger = logging.getLogger("lms.accounts.sessions")

#: Key of the session token in Flask's signed cookie.
SESSION_KEY = "_sid"

#: Session keys kept across the login rotation; everything else is dropped.
KEPT_ACROSS_LOGIN = ("locale",)

#: ``last_seen_at`` is written at most this often, not on every request, so
#: the idle timeout is enforced to within this margin. An idle timeout
#: shorter than two intervals is touched every half of it instead.
TOUCH_INTERVAL = timedelta(seconds=60)

#: Response header of a logged-in request: whole seconds until its login
#: ends, unless a later request extends it. Page scripts read it to time the
#: expiry warning.
SECONDS_LEFT_HEADER = "X-Login-Seconds-Left"

#: Revoked and expired records stay this long for the admin's view, then
#: the next login of the same user deletes them.
RETENTION = timedelta(days=30)

#: Endpoints a user whose password must change can still reach.
ALLOWED_WHILE_PASSWORD_MUST_CHANGE = frozenset(
    {
        "accounts.change_password",
        "accounts.keep_alive",
        "accounts.logout",
        "main.set_language",
        "main.health",
        "static",
    }
)


def clock() -> datetime:
    """Return the current aware UTC time; tests monkeypatch this to move time."""
    return now_utc()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SessionRecord:
    """One server-side session, as every store returns it."""

    id: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: Optional[str] = None
    user_agent: Optional[str] = None
    revoked_at: Optional[datetime] = None

    def is_valid(self, now: datetime, idle: timedelta) -> bool:
        return (
            self.revoked_at is None
            and now < self.expires_at
            and now - self.last_seen_at < idle
        )


class SessionStore(Protocol):
    """Storage of session records; ids are token hashes, never raw tokens."""

    def create(self, record: SessionRecord) -> None: ...

    def get(self, session_id: str) -> Optional[SessionRecord]: ...

    def get_with_user(self, session_id: str) -> tuple[Optional[SessionRecord], Optional[User]]:
        """Return the record and the user it belongs to; (None, None) when not found."""
        ...

    def get_and_touch(
        self, session_id: str, user_id: int, now: datetime, idle: timedelta
    ) -> tuple[Optional[SessionRecord], Optional[User]]:
        """Return the record and its user as ``get_with_user`` does, read before any refresh.

        Also sets the record's ``last_seen_at`` to ``now`` when it belongs to
        ``user_id`` and ``needs_touch`` is true for it.
        """
        ...

    def touch(self, session_id: str, now: datetime) -> None: ...

    def revoke(self, session_id: str, now: datetime) -> None: ...

    def revoke_all(self, user_id: int, now: datetime, *, keep: Optional[str] = None) -> int:
        """Revoke every unrevoked session of ``user_id`` except ``keep``; return the count."""
        ...

    def list_for_user(self, user_id: int) -> list[SessionRecord]: ...

    def purge(self, user_id: int, before: datetime) -> None:
        """Delete the user's records that expired or were revoked before ``before``."""
        ...

    def purge_expired(self, now: datetime, idle: timedelta, retention: timedelta) -> int:
        """Delete every record that ended more than ``retention`` ago; return the count."""
        ...


def touch_interval(idle: timedelta) -> timedelta:
    """Return how long after a touch the next request touches the record again."""
    return min(TOUCH_INTERVAL, idle / 2)


def needs_touch(record: SessionRecord, now: datetime, idle: timedelta) -> bool:
    """Return whether a request at ``now`` writes the record's ``last_seen_at``.

    True only for a valid record last seen ``touch_interval`` or longer ago.
    """
    return record.is_valid(now, idle) and now - record.last_seen_at >= touch_interval(idle)


@functools.cache
def _session_with_user() -> sa.Select:
    """Build the query of ``SqlSessionStore.get_with_user`` once per process."""
    return (
        sa.select(User, *UserSession.__table__.c)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == sa.bindparam("session_id"))
    )


class SqlSessionStore:
    """Records in the ``user_session`` table.

    Writes go through ``db.session``, so they commit with the request that
    made them (a logout or a revocation together with its audit entry).
    The exception is ``touch`` in a reading request (GET, HEAD, OPTIONS),
    which commits on its own connection at once, because such requests
    commit nothing.
    """

    def create(self, record: SessionRecord) -> None:
        db.session.add(UserSession(**asdict(record)))
        db.session.flush()

    def get(self, session_id: str) -> Optional[SessionRecord]:
        row = db.session.execute(
            sa.select(UserSession.__table__).where(UserSession.id == session_id)
        ).mappings().first()
        return SessionRecord(**row) if row is not None else None

    def get_with_user(self, session_id: str) -> tuple[Optional[SessionRecord], Optional[User]]:
        """Return the record and its user in one query (every request runs this)."""
        row = db.session.execute(_session_with_user(), {"session_id": session_id}).first()
        if row is None:
            return None, None
        user, *values = row
        return SessionRecord(**dict(zip(UserSession.__table__.c.keys(), values))), user

    def get_and_touch(
        self, session_id: str, user_id: int, now: datetime, idle: timedelta
    ) -> tuple[Optional[SessionRecord], Optional[User]]:
        record, user = self.get_with_user(session_id)
        if record is not None and record.user_id == user_id and needs_touch(record, now, idle):
            self.touch(session_id, now)
        return record, user

    def touch(self, session_id: str, now: datetime) -> None:
        table = UserSession.__table__
        statement = sa.update(table).where(table.c.id == session_id).values(last_seen_at=now)
        if has_request_context() and request.method not in READ_ONLY_METHODS:
            # A writing request already holds a transaction, and on SQLite
            # its write lock, which a second connection would wait for until
            # busy_timeout and then fail. The touch commits with the request.
            # NOTE: a writing request that ends without a commit drops the
            # touch, so the idle timeout counts from the touch before it. On
            # PostgreSQL the row stays locked until the request ends, so a
            # touch by another request of the same session waits for it.
            db.session.execute(statement)
            return
        with db.engine.begin() as connection:
            connection.execute(statement)

    def revoke(self, session_id: str, now: datetime) -> None:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == session_id, UserSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_all(self, user_id: int, now: datetime, *, keep: Optional[str] = None) -> int:
        statement = sa.update(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
        )
        if keep is not None:
            statement = statement.where(UserSession.id != keep)
        result = db.session.execute(statement.values(revoked_at=now))
        return result.rowcount

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        rows = db.session.execute(
            sa.select(UserSession.__table__)
            .where(UserSession.user_id == user_id)
            .order_by(UserSession.last_seen_at.desc())
        ).mappings()
        return [SessionRecord(**row) for row in rows]

    def purge(self, user_id: int, before: datetime) -> None:
        db.session.execute(
            sa.delete(UserSession).where(
                UserSession.user_id == user_id,
                sa.or_(UserSession.expires_at < before, UserSession.revoked_at < before),
            )
        )

    def purge_expired(self, now: datetime, idle: timedelta, retention: timedelta) -> int:
        # A record ends at its absolute expiry, at revocation, or when it
        # has been idle for ``idle``, whichever comes first.
        cutoff = now - retention
        result = db.session.execute(
            sa.delete(UserSession).where(
                sa.or_(
                    UserSession.expires_at < cutoff,
                    UserSession.revoked_at < cutoff,
                    UserSession.last_seen_at < cutoff - idle,
                )
            )
        )
        return result.rowcount


def get_store() -> SessionStore:
    return current_app.extensions["lms_session_store"]


def _idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _max_age_of(app: Flask) -> timedelta:
    return timedelta(hours=app.config["SESSION_MAX_HOURS"])


def _max_age() -> timedelta:
    return _max_age_of(current_app)


def current_session_id() -> Optional[str]:
    """Return the record id of the request's session, or None for guests."""
    token = session.get(SESSION_KEY)
    return hash_token(token) if token else None


def _note_login_end(record: SessionRecord, last_seen: datetime, idle: timedelta) -> None:
    """Keep, for this request, when its login ends unless a later request extends it."""
    g.lms_login_ends_at = min(last_seen + idle, record.expires_at)
    g.lms_login_extendable = last_seen + idle < record.expires_at


def seconds_left() -> Optional[int]:
    """Return whole seconds until the request's login ends, or None for a guest.

    Counted from the session record as this request left it: a request that
    refreshed the idle timer counts from its own time.
    """
    ends_at = g.get("lms_login_ends_at")
    if ends_at is None:
        return None
    return max(0, int((ends_at - clock()).total_seconds()))


def extendable() -> bool:
    """Return whether a request now would move the login's end later.

    False once the idle end has reached the absolute end of the session.
    """
    return bool(g.get("lms_login_extendable"))


def warning_seconds() -> int:
    """Return how many seconds before an idle login ends its pages warn.

    This is ``SESSION_WARNING_SECONDS``, but at most half the idle timeout.
    With a lead as long as the idle timeout, pages would warn as soon as
    they load, and a keepalive would not move the end past the warning, so
    typing would send one every second.
    """
    half_idle = _idle_timeout().total_seconds() / 2
    return max(1, int(min(current_app.config["SESSION_WARNING_SECONDS"], half_idle)))


#: Keepalive calls allowed per hour under any idle timeout.
KEEPALIVE_PER_HOUR = 60


def keepalive_rate_limit() -> str:
    """Return the keepalive rate limit of one user, in Flask-Limiter's notation.

    Typing sends a keepalive at most once per half idle timeout (see
    ``warning_seconds``). The limit is four calls per idle timeout, twice
    that rate to leave room for clicks, and at least ``KEEPALIVE_PER_HOUR``.
    """
    idle_seconds = _idle_timeout().total_seconds()
    per_hour = max(KEEPALIVE_PER_HOUR, math.ceil(4 * 3600 / idle_seconds))
    return f"{per_hour} per hour"


def keep_alive() -> None:
    """Refresh the idle timer of the request's session now; the caller commits.

    The user loader touches a record only once per touch interval, so this
    writes ``last_seen_at`` whatever the time of the last touch.
    """
    session_id = current_session_id()
    record = get_store().get(session_id) if session_id is not None else None
    if record is None:
        return
    now = clock()
    get_store().touch(session_id, now)
    _note_login_end(record, now, _idle_timeout())


def start(user: User, *, remember: bool = False) -> SessionRecord:
    """Log ``user`` in with a new server-side session.

    The previous cookie's session, if any, is revoked and every other key
    of the pre-login cookie except the language choice is dropped, so
    nothing chosen before login (including the CSRF token) survives it.
    The caller commits.
    """
    store = get_store()
    now = clock()
    previous = current_session_id()
    if previous is not None:
        store.revoke(previous, now)
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)

    token = secrets.token_urlsafe(32)
    record = SessionRecord(
        id=hash_token(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + _max_age(),
        ip=(request.remote_addr or "")[:45] or None,
        user_agent=(request.user_agent.string or "")[:256] or None,
    )
    store.purge(user.id, now - RETENTION)
    store.create(record)
    login_user(user, remember=False)
    session[SESSION_KEY] = token
    session.permanent = remember
    _note_login_end(record, now, _idle_timeout())
    return record


def end() -> None:
    """Revoke the current session and log out; the caller commits."""
    session_id = current_session_id()
    if session_id is not None:
        get_store().revoke(session_id, clock())
    g.pop("lms_login_ends_at", None)
    g.pop("lms_login_extendable", None)
    logout_user()
    kept = {key: session[key] for key in KEPT_ACROSS_LOGIN if key in session}
    session.clear()
    session.update(kept)


def revoke_user_sessions(user: User, *, keep: Optional[str] = None) -> int:
    """Revoke every session of ``user`` except the one with id ``keep``; return the count."""
    count = get_store().revoke_all(user.id, clock(), keep=keep)
    logger.info("Revoked %s session(s) of %r", count, user)
    return count


def purge_expired_sessions(now: Optional[datetime] = None) -> int:
    """Delete the session records that ended more than ``RETENTION`` ago; return the count."""
    count = get_store().purge_expired(now or clock(), _idle_timeout(), RETENTION)
    logger.info("Purged %s ended session record(s)", count)
    return count


def active_sessions(user: User) -> list[SessionRecord]:
    now = clock()
    idle = _idle_timeout()
    return [r for r in get_store().list_for_user(user.id) if r.is_valid(now, idle)]


def load_user(user_id: str) -> Optional[User]:
    """Flask-Login user loader: the user of a valid session record, else None."""
    token = session.get(SESSION_KEY)
    if not token:
        return None
    if not user_id.isdigit():
        return None
    now = clock()
    idle = _idle_timeout()
    record, user = get_store().get_and_touch(hash_token(token), int(user_id), now, idle)
    if record is None or str(record.user_id) != user_id:
        return None
    if not record.is_valid(now, idle):
        logger.info("Rejected expired or revoked session of user %s", record.user_id)
        return None
    if user is None or not user.active:
        return None
    last_seen = record.last_seen_at
    if needs_touch(record, now, idle) and _touch_is_durable():
        last_seen = now
    _note_login_end(record, last_seen, idle)
    return user


def _touch_is_durable() -> bool:
    """Return whether this request's touch is stored whether or not it commits.

    The database store writes a writing request's touch in that request's
    transaction, which a request that ends without a commit drops. The end
    of such a login is then counted from the touch before.
    """
    if not isinstance(get_store(), SqlSessionStore):
        return True
    return not has_request_context() or request.method in READ_ONLY_METHODS


def _add_seconds_left_header(response):
    left = seconds_left()
    if left is not None and request.endpoint != "static":
        response.headers[SECONDS_LEFT_HEADER] = str(left)
    return response


def _enforce_password_change():
    """Send users whose password must change to the change-password page."""
    if not current_user.is_authenticated or not current_user.password_must_change:
        return None
    if request.endpoint in ALLOWED_WHILE_PASSWORD_MUST_CHANGE:
        return None
    return redirect(url_for("accounts.change_password"))


def _make_store(app: Flask) -> SessionStore:
    url = app.config.get("SESSION_STORE_URL")
    if not url:
        return SqlSessionStore()
    from lms.accounts.redis_sessions import RedisSessionStore

    return RedisSessionStore.from_url(url, prefix=app.config["SESSION_REDIS_PREFIX"])


def init_app(app: Flask) -> None:
    app.extensions["lms_session_store"] = _make_store(app)
    # A "remember me" cookie lives no longer than the session it points to.
    app.permanent_session_lifetime = _max_age_of(app)
    # The hook reads current_user, so the session check (and its touch of
    # last_seen_at) runs before any view writes to the database.
    app.before_request(_enforce_password_change)
    app.after_request(_add_seconds_left_header)
    app.add_template_global(seconds_left, "login_seconds_left")
    app.add_template_global(extendable, "login_extendable")
    app.add_template_global(warning_seconds, "login_warning_seconds")

