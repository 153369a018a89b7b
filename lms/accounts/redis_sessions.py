"""Session records in Redis, for deployments that set ``LMS_REDIS_URL``.

Each record is a hash at ``{prefix}session:{id}``, which Redis deletes at
the record's absolute expiry plus the retention period. ``{prefix}user:{id}``
is the set of a user's record ids, used to revoke them all at once. Writes
take effect immediately, not at the request's database commit.
"""

from datetime import datetime, timedelta, timezone
from typing import Optional

import redis

from lms.accounts.models import User
from lms.accounts.sessions import RETENTION, TOUCH_INTERVAL, SessionRecord
from lms.extensions import db

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
#: applies the rule of ``sessions.needs_touch``. ARGV contains the user id, the
#: time now, the idle cutoff and the touch cutoff. ``last_seen_at`` becomes
#: the time now when the record belongs to that user, is unrevoked, expires
#: after now, and was last seen after the idle cutoff and at or before the
#: touch cutoff. Times compare as text, which is time order because ``_iso``
#: writes every time in one format.
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
return fields
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

    @classmethod
    def from_url(cls, url: str, prefix: str = "shuren:") -> "RedisSessionStore":
        return cls(redis.Redis.from_url(url, decode_responses=True), prefix)

    def _session_key(self, session_id: str) -> str:
        return f"{self.prefix}session:{session_id}"

    def _user_key(self, user_id: int) -> str:
        return f"{self.prefix}user:{user_id}"

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
        """Read the record and refresh it when due in one round trip, then load its user."""
        flat = self._get_and_touch(
            keys=[self._session_key(session_id)],
            args=[str(user_id), _iso(now), _iso(now - idle), _iso(now - TOUCH_INTERVAL)],
        )
        if not flat:
            return None, None
        record = _record(session_id, dict(zip(flat[::2], flat[1::2])))
        return record, db.session.get(User, record.user_id)

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
