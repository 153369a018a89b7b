"""Session records in Redis, for deployments that set ``LMS_REDIS_URL``.

Each record is a hash at ``{prefix}session:{id}``, which Redis deletes at
the record's absolute expiry plus the retention period. ``{prefix}user:{id}``
is the set of a user's record ids, used to revoke them all at once. Writes
take effect immediately, not at the request's database commit.

The store also keeps a copy of each logged-in user's row, so that a request
reads its session and its user in one round trip to Redis and none to the
database. ``{prefix}user-row:{id}`` holds the row's columns (never the
password hash) as JSON, tagged with the user's generation, a counter at
``{prefix}user-generation:{id}``. Every commit that changes or deletes a
user through the ORM increments the counter, and a copy counts only while
its tag equals the counter. A copy is tagged with the counter read before
its row was read from the database, so a row read before a change never
counts after it, whenever its copy is written (and such a write is
rejected). The product changes the user table only through the ORM; a
change made in SQL directly reaches requests when the copy expires,
``USER_ROW_TTL`` after it was written.
"""

import enum
import functools
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Optional

import redis
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, has_app_context

from lms.accounts.models import User
from lms.accounts.sessions import RETENTION, SessionRecord, touch_interval
from lms.extensions import db

logger = logging.getLogger("lms.accounts.redis_sessions")

#: How long a copy of a user row lives after it was written.
USER_ROW_TTL = timedelta(minutes=10)

#: How long a user's generation counter lives after its last change. It
#: outlives every copy tagged with it, so an expired counter (read as 0)
#: never matches a copy written before it expired.
USER_GENERATION_TTL = timedelta(days=1)

_FIELDS = ("user_id", "created_at", "last_seen_at", "expires_at", "ip", "user_agent", "revoked_at")
_TIMES = ("created_at", "last_seen_at", "expires_at", "revoked_at")

#: Sets ``last_seen_at`` only on an existing record, in one round trip. An
#: HSET on a key that expired in between would recreate it without a TTL.
_TOUCH_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[1])
end
return 0
"""

#: Returns the record's fields as HGETALL does, and in the same round trip
#: applies the rule of ``sessions.needs_touch``. KEYS are the record, the
#: user's row copy and the user's generation. ARGV contains the user id, the
#: time now, the idle cutoff and the touch cutoff. ``last_seen_at`` becomes
#: the time now when the record belongs to that user, is unrevoked, expires
#: after now, and was last seen after the idle cutoff and at or before the
#: touch cutoff. Times compare as text, which is time order because ``_iso``
#: writes every time in one format. Also returns the row copy when its tag
#: equals the generation (else false), and the generation.
_GET_AND_TOUCH_SCRIPT = """
local fields = redis.call('HGETALL', KEYS[1])
local record = {}
for i = 1, #fields, 2 do
  record[fields[i]] = fields[i + 1]
end
local seen = record['last_seen_at']
if record['user_id'] == ARGV[1] and record['revoked_at'] == ''
    and record['expires_at'] and record['expires_at'] > ARGV[2]
    and seen and seen > ARGV[3] and seen <= ARGV[4] then
  redis.call('HSET', KEYS[1], 'last_seen_at', ARGV[2])
end
local generation = redis.call('GET', KEYS[3]) or '0'
local copy = redis.call('HMGET', KEYS[2], 'generation', 'columns')
local columns = false
if copy[1] == generation then
  columns = copy[2]
end
return {fields, columns, generation}
"""

#: Writes a user's row copy (KEYS[1]) tagged with generation ARGV[1], unless
#: the generation at KEYS[2] has moved since the caller read it.
_REMEMBER_USER_SCRIPT = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'generation', ARGV[1], 'columns', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""


def _iso(moment: datetime) -> str:
    """Write an aware time as UTC with microseconds, so that text order is time order."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


class RedisSessionStore:
    def __init__(self, client: redis.Redis, prefix: str = "shuren:") -> None:
        self.client = client
        self.prefix = prefix
        self._touch = client.register_script(_TOUCH_SCRIPT)
        self._get_and_touch = client.register_script(_GET_AND_TOUCH_SCRIPT)
        self._remember_user = client.register_script(_REMEMBER_USER_SCRIPT)
        _watch_user_changes()

    @classmethod
    def from_url(cls, url: str, prefix: str = "shuren:") -> "RedisSessionStore":
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix)

    def _session_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}"

    def _user_row_key(self, user_id: int) -> str:
        return f"{self.prefix}user-row:{user_id}"

    def _user_generation_key(self, user_id: int) -> str:
        return f"{self.prefix}user-generation:{user_id}"

    def create(self, record: SessionRecord) -> None:
        fields = {
            "user_id": str(record.user_id),
            "created_at": _iso(record.created_at),
            "last_seen_at": _iso(record.last_seen_at),
            "expires_at": _iso(record.expires_at),
            "ip": record.ip or "",
            "user_agent": record.user_agent or "",
            "revoked_at": "",
        }
        key = self._session_key(record.id)
        user_key = self._user_key(record.user_id)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping=fields)
        pipe.expireat(key, record.expires_at + RETENTION)
        pipe.sadd(user_key, record.id)
        # The newest session expires last, so its expiry covers the whole set.
        pipe.expireat(user_key, record.expires_at + RETENTION)
        pipe.execute()

    def get(self, session_id: str) -> Optional[SessionRecord]:
        fields = self.client.hgetall(self._session_key(session_id))
        if not fields:
            return None
        return _record(session_id, fields)

    def get_with_user(self, session_id: str) -> tuple[Optional[SessionRecord], Optional[User]]:
        """Return the record and its user row, which lives in the database."""
        record = self.get(session_id)
        if record is None:
            return None, None
        return record, db.session.get(User, record.user_id)

    def get_and_touch(
        self, session_id: str, user_id: int, now: datetime, idle: timedelta
    ) -> tuple[Optional[SessionRecord], Optional[User]]:
        """Read the record, refresh it when due and read the user's row copy in one round trip.

        The user comes from the copy when the record belongs to ``user_id``
        and the copy is current. Otherwise the user is read from the
        database, and for a valid record the copy is written for the next
        requests.
        """
        flat, columns, generation = self._get_and_touch(
            keys=[
                self._session_key(session_id),
                self._user_row_key(user_id),
                self._user_generation_key(user_id),
            ],
            args=[str(user_id), _iso(now), _iso(now - idle), _iso(now - touch_interval(idle))],
        )
        if not flat:
            return None, None
        record = _record(session_id, dict(zip(flat[::2], flat[1::2])))
        if record.user_id != user_id:
            return record, db.session.get(User, record.user_id)
        if columns is not None:
            return record, _user_from_copy(user_id, columns)
        user = db.session.get(User, user_id)
        if user is not None and user.active and record.is_valid(now, idle):
            self._remember_user(
                keys=[self._user_row_key(user_id), self._user_generation_key(user_id)],
                args=[generation, _copy_of(user), int(USER_ROW_TTL.total_seconds())],
            )
        return record, user

    def forget_users(self, user_ids) -> None:
        """Make every copy of these users' rows stale; called after a commit that changed them."""
        ttl = int(USER_GENERATION_TTL.total_seconds())
        pipe = self.client.pipeline(transaction=False)
        for user_id in user_ids:
            pipe.incr(self._user_generation_key(user_id))
            pipe.expire(self._user_generation_key(user_id), ttl)
            pipe.delete(self._user_row_key(user_id))
        pipe.execute()

    def touch(self, session_id: str, now: datetime) -> None:
        self._touch(keys=[self._session_key(session_id)], args=[_iso(now)])

    def revoke(self, session_id: str, now: datetime) -> None:
        key = self._session_key(session_id)
        if self.client.hget(key, "revoked_at") == "":
            self.client.hset(key, "revoked_at", _iso(now))

    def revoke_all(self, user_id: int, now: datetime, *, keep: Optional[str] = None) -> int:
        revoked = 0
        for session_id in self.client.smembers(self._user_key(user_id)):
            if session_id == keep:
                continue
            key = self._session_key(session_id)
            state = self.client.hget(key, "revoked_at")
            if state is None:
                self.client.srem(self._user_key(user_id), session_id)
            elif state == "":
                self.client.hset(key, "revoked_at", _iso(now))
                revoked += 1
        return revoked

    def list_for_user(self, user_id: int) -> list[SessionRecord]:
        records = []
        for session_id in self.client.smembers(self._user_key(user_id)):
            record = self.get(session_id)
            if record is not None:
                records.append(record)
        return sorted(records, key=lambda r: r.last_seen_at, reverse=True)

    def purge(self, user_id: int, before: datetime) -> None:
        # Redis expires each record by itself; only drop ids of vanished records.
        user_key = self._user_key(user_id)
        for session_id in self.client.smembers(user_key):
            if not self.client.exists(self._session_key(session_id)):
                self.client.srem(user_key, session_id)

    def purge_expired(self, now: datetime, idle, retention) -> int:
        """Drop the ids of vanished records from every user's set; return the count.

        Redis deletes the records themselves through their TTL, so only the
        per-user sets need cleaning.
        """
        removed = 0
        for user_key in self.client.scan_iter(match=f"{self.prefix}user:*"):
            for session_id in self.client.smembers(user_key):
                if not self.client.exists(self._session_key(session_id)):
                    removed += self.client.srem(user_key, session_id)
        return removed


def _record(session_id: str, fields: dict[str, str]) -> SessionRecord:
    values: dict = {name: fields.get(name) or None for name in _FIELDS}
    for name in _TIMES:
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    values["user_id"] = int(values["user_id"])
    return SessionRecord(id=session_id, **values)


@functools.cache
def _copied_columns() -> tuple[tuple[str, object], ...]:
    """Return (attribute name, decoder) for each user column kept in a row copy."""
    columns = []
    for prop in sa.inspect(User).column_attrs:
        if prop.key == "password_hash":
            continue
        column_type = prop.columns[0].type
        if isinstance(column_type, sa.Enum):
            decode = column_type.enum_class
        elif isinstance(column_type, sa.DateTime) or isinstance(
            getattr(column_type, "impl", None), sa.DateTime
        ):
            decode = datetime.fromisoformat
        else:
            decode = None
        columns.append((prop.key, decode))
    return tuple(columns)


def _copy_of(user: User) -> str:
    values = {}
    for key, _decode in _copied_columns():
        value = getattr(user, key)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        values[key] = value
    return json.dumps(values, ensure_ascii=False)


def _user_from_copy(user_id: int, columns: str) -> User:
    """Return the user of a row copy as a persistent object of this request's session.

    The password hash is left unloaded, so reading it loads it from the
    database. A user already in the session is returned as it is, and
    during a flush the user is read from the database.
    """
    identity = sa.inspect(User).identity_key_from_primary_key((user_id,))
    present = db.session.identity_map.get(identity)
    if present is not None:
        return present
    if db.session()._flushing:
        # The first read of the user can come from inside a flush, as when
        # a row stamps who changed it. A flush may not add objects, but it
        # may load them, so the row comes from the database.
        return db.session.get(User, user_id)
    values = json.loads(columns)
    for key, decode in _copied_columns():
        if decode is not None and values[key] is not None:
            values[key] = decode(values[key])
    user = User(**values)
    so.make_transient_to_detached(user)
    db.session.add(user)
    return user


@functools.cache
def _watch_user_changes() -> None:
    """Have every commit that changes or deletes users make their row copies stale."""
    sa.event.listen(so.Session, "after_flush", _note_changed_users)
    # A rolled-back change leaves its ids noted, and the next commit makes
    # those copies stale too: a needless database read, never a stale user.
    sa.event.listen(so.Session, "after_commit", _forget_changed_users)


def _note_changed_users(session: so.Session, _flush_context) -> None:
    changed = {
        user.id
        for user in session.dirty
        if isinstance(user, User) and session.is_modified(user, include_collections=False)
    }
    changed.update(user.id for user in session.deleted if isinstance(user, User))
    if changed:
        session.info.setdefault("lms_changed_users", set()).update(changed)


def _forget_changed_users(session: so.Session) -> None:
    changed = session.info.pop("lms_changed_users", None)
    if not changed or not has_app_context():
        return
    store = current_app.extensions.get("lms_session_store")
    forget = getattr(store, "forget_users", None)
    if forget is None:
        return
    try:
        forget(changed)
    except redis.RedisError:
        # The change is committed; the copies expire on their own.
        logger.exception("Could not mark the row copies of users %s stale", sorted(changed))
