"""The Redis store: live sessions, check-ins, code lookups and user profile caches.

Every multi-key invariant is one Lua script (called by SHA, see `LuaScript`); every key
name comes from `storage.keys`. Connection failures surface as `StorageUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from importlib import resources
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio.cluster import RedisCluster
from redis.typing import EncodableT, FieldT

from services.clock import from_ms, to_ms
from services.errors import StorageUnavailable
from services.models import (
    AttendanceStatus,
    CardState,
    CheckIn,
    CheckInOutcome,
    Session,
    SessionState,
    UserProfile,
)
from services.numbers import NumberOutOfRange
from services.ports import GuessLimit, RawCheckIn, SweepClaim, Visit
from storage import keys
from storage.redis_client import LiveRedis

_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ClusterDownError,
    ConnectionError,
    OSError,
)

# Code -> session routing changes only when a session starts or ends, and the check-in script
# re-checks the code against the session, so a briefly stale entry is harmless: it costs one
# extra lookup, never a wrong record.
_CODE_CACHE_SECONDS = 2.0
_SEEN_INDEX_SECONDS = 60.0

# Telegram's flood limits (a little under, for clock jitter): per bot, per private chat, per
# group.
TELEGRAM_PER_SECOND = 29
PRIVATE_CHAT_GAP_MS = 1050
GROUP_PER_MINUTE = 19


def load_script(name: str) -> str:
    """The text of `storage/lua/<name>.lua`."""
    return resources.files("storage").joinpath("lua", f"{name}.lua").read_text("utf-8")


@asynccontextmanager
async def _redis_guard() -> AsyncIterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StorageUnavailable("Redis") from exc


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _pairs(flat: Sequence[Any]) -> dict[str, str]:
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _session_fields(session: Session) -> dict[FieldT, EncodableT]:
    return {
        "id": session.id,
        "teacher_id": str(session.teacher_id),
        "chat_id": str(session.chat_id),
        "title": session.title,
        "code": session.code,
        "started_at": str(to_ms(session.started_at)),
        "ends_at": str(to_ms(session.ends_at)),
        "late_at": str(to_ms(session.late_at)) if session.late_at else "",
        "course_id": str(session.course_id) if session.course_id is not None else "",
        "course_name": session.course_name or "",
        "roster": "1" if session.has_roster else "",
        "roster_size": str(session.roster_size),
        "prev_code": "",
        "prev_until": "0",
        "geo": "1" if session.geo else "",
        "anchor": "",
        "rotation": str(session.rotation_seconds),
        "grace": str(session.grace_seconds),
        "code_since": str(to_ms(session.code_since or session.started_at)),
        "state": session.state.value,
        "lease": "",
        "lease_until": "0",
    }


def _session_from(fields: dict[str, str]) -> Session:
    return Session(
        id=fields["id"],
        teacher_id=int(fields["teacher_id"]),
        chat_id=int(fields["chat_id"]),
        title=fields["title"],
        code=fields["code"],
        started_at=from_ms(fields["started_at"]),
        ends_at=from_ms(fields["ends_at"]),
        state=SessionState(fields["state"]),
        late_at=from_ms(fields["late_at"]) if fields.get("late_at") else None,
        course_id=int(fields["course_id"]) if fields.get("course_id") else None,
        course_name=fields.get("course_name") or None,
        roster_size=int(fields.get("roster_size") or 0),
        geo=fields.get("geo") == "1",
        anchor=_anchor_from(fields.get("anchor", "")),
        rotation_seconds=int(fields.get("rotation") or 0),
        grace_seconds=int(fields.get("grace") or 0),
        code_since=from_ms(fields["code_since"]) if fields.get("code_since") else None,
        card_chat_id=int(fields["card_chat"]) if fields.get("card_chat") else None,
        card_message_id=int(fields["card_msg"]) if fields.get("card_msg") else None,
        code_card_chat_id=int(fields["code_card_chat"]) if fields.get("code_card_chat") else None,
        code_card_message_id=int(fields["code_card_msg"]) if fields.get("code_card_msg") else None,
    )


@functools.lru_cache(maxsize=4096)
def _checkin_keys(session_id: str) -> list[str]:
    """The check-in script's keys for a session (built once per session, not per check-in)."""
    return [
        keys.session(session_id),
        keys.session_checkins(session_id),
        keys.session_roster(session_id),
        keys.session_codes(session_id),
    ]


def _anchor_from(text: str) -> tuple[float, float] | None:
    lat, _, lon = text.partition(",")
    return (float(lat), float(lon)) if lat and lon else None


def _parse_checkin_value(value: str) -> tuple[datetime, bool]:
    """ "<ms><p|l>[ <metres>]" -> (time, late)."""
    stamp = value.split(" ", 1)[0]
    return from_ms(stamp[:-1]), stamp.endswith("l")


_PRESENT, _LATE = AttendanceStatus.PRESENT, AttendanceStatus.LATE


def _checkin_from(session_id: str, student: str | bytes, value: str | bytes) -> CheckIn:
    """ "<ms><p|l>[ <metres>]" -> CheckIn, straight from the reply's bytes (sweeps parse
    thousands: no decoding, no datetime)."""
    if isinstance(value, str):
        value = value.encode()
    stamp, _, metres = value.partition(b" ")
    status = _LATE if stamp[-1:] == b"l" else _PRESENT
    return CheckIn(
        session_id, int(student), int(stamp[:-1]), status, int(metres) if metres else None
    )


def _profile_fields(profile: UserProfile) -> dict[FieldT, EncodableT]:
    return {
        "first_name": profile.first_name,
        "last_name": profile.last_name or "",
        "username": profile.username or "",
        "full_name": profile.full_name or "",
        "student_number": profile.student_number or "",
        "last_seen": str(to_ms(profile.last_seen)) if profile.last_seen else "0",
    }


def _profile_from(user_id: int, fields: dict[str, str]) -> UserProfile:
    return UserProfile(
        user_id=user_id,
        first_name=fields.get("first_name", ""),
        last_name=fields.get("last_name") or None,
        username=fields.get("username") or None,
        full_name=fields.get("full_name") or None,
        student_number=fields.get("student_number") or None,
        last_seen=from_ms(fields["last_seen"]) if fields.get("last_seen", "0") != "0" else None,
    )


class LuaScript:
    """One Lua script, called by its SHA1 in one round trip.

    Lighter than redis-py's `AsyncScript` on the hot path (no per-call checks), and it loads
    the script again when the server lost its script cache (a restart), then retries once.
    """

    def __init__(self, redis: LiveRedis, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        self._redis = redis

    async def __call__(self, keys: Sequence[str], args: Sequence[EncodableT] = ()) -> Any:
        try:
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)
        except redis_errors.NoScriptError:
            await self._redis.script_load(self.text)
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)

    def queue(self, pipe: Any, keys: Sequence[str], args: Sequence[EncodableT]) -> None:
        """Queue a call on a pipeline (run `_pipeline`, which handles a lost script cache)."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)


class RedisLiveStore:
    """Live state in Redis. Works on a standalone server or, unchanged, on Redis Cluster."""

    def __init__(self, redis: LiveRedis) -> None:
        self._redis = redis
        self._scripts: list[LuaScript] = []
        self._seen_indexed: dict[int, float] = {}
        self._code_cache: dict[str, tuple[str, float]] = {}
        self._check_in = self._script("check_in")
        self._claim_teacher_slot = self._script("claim_teacher_slot")
        self._release_teacher_slot = self._script("release_teacher_slot")
        self._end_session = self._script("end_session")
        self._claim_sweep = self._script("claim_sweep")
        self._finish_sweep = self._script("finish_sweep")
        self._release_sweep = self._script("release_sweep")
        self._touch_profile = self._script("touch_profile")
        self._remove_idle_profile = self._script("remove_idle_profile")
        self._pop_pending_action = self._script("pop_pending_action")
        self._mark_live = self._script("mark_live")
        self._rotate_code = self._script("rotate_code")
        self._take_guess = self._script("take_guess")
        self._settle_guess = self._script("settle_guess")
        self._claim_card_edit = self._script("claim_card_edit")
        self._release_card_edit = self._script("release_card_edit")
        self._drop_one_card = self._script("drop_one_card")
        self._extend_session = self._script("extend_session")
        self._extend_teacher_slot = self._script("extend_teacher_slot")
        self._merge_registration = self._script("merge_registration")
        self._send_slot = self._script("send_slot")

    def _script(self, name: str) -> LuaScript:
        script = LuaScript(self._redis, load_script(name))
        self._scripts.append(script)
        return script

    async def load_scripts(self) -> None:
        """Load every script into Redis (at start-up, and after a restart emptied its cache)."""
        for script in self._scripts:
            await self._redis.script_load(script.text)

    async def _pipeline(self, build: Callable[[Any], None]) -> list[Any]:
        """Run the commands `build` queues in one round trip; if Redis lost its scripts (a
        restart), load them and run once more (everything queued here is idempotent)."""
        for attempt in (1, 2):
            async with self._redis.pipeline(transaction=False) as pipe:
                build(pipe)
                try:
                    return list(await pipe.execute())
                except redis_errors.NoScriptError:
                    if attempt == 2:
                        raise
            await self.load_scripts()
        raise AssertionError("unreachable")

    async def _script_batch(
        self, script: LuaScript, calls: Sequence[tuple[list[str], list[EncodableT]]]
    ) -> list[Any]:
        """Run `script` once per (keys, args): pipelined on one server; all at once on a
        cluster, whose pipelines cannot carry EVALSHA (the calls may sit on different nodes)."""
        if isinstance(self._redis, RedisCluster):
            return list(await asyncio.gather(*(script(keys=k, args=a) for k, a in calls)))

        def build(pipe: Any) -> None:
            for script_keys, script_args in calls:
                script.queue(pipe, script_keys, script_args)

        return await self._pipeline(build)

    @property
    def redis(self) -> LiveRedis:
        """The client, for health checks and tests."""
        return self._redis

    # --- sessions -----------------------------------------------------------------------

    async def claim_teacher_slot(
        self, session: Session, now: datetime, replace: str = ""
    ) -> str | None:
        """Take the teacher's slot for `session` in one atomic step; None when taken, else
        the slot's value ("<session id> <ends ms> [<claimed ms>]"). `replace` names a holder
        value the caller found stale: only that exact value is taken over."""
        async with _redis_guard():
            holder = await self._claim_teacher_slot(
                keys=[keys.teacher_slot(session.teacher_id)],
                args=[session.id, to_ms(session.ends_at), to_ms(now), replace],
            )
        return _text(holder) if holder else None

    async def release_teacher_slot(self, teacher_id: int, session_id: str) -> None:
        async with _redis_guard():
            await self._release_teacher_slot(
                keys=[keys.teacher_slot(teacher_id)], args=[session_id]
            )

    async def teacher_current_session(self, teacher_id: int) -> str | None:
        async with _redis_guard():
            value = await self._redis.get(keys.teacher_slot(teacher_id))
        return _text(value).split(" ", 1)[0] if value else None

    async def create_session(self, session: Session, roster: Sequence[int] = ()) -> bool:
        """Store a new session (and its roster); False when its code is taken by a live session."""
        ttl = keys.SESSION_SAFETY_TTL
        async with _redis_guard():
            taken = await self._redis.set(keys.code(session.code), session.id, nx=True, ex=ttl)
            if not taken:
                return False
            async with self._redis.pipeline(transaction=True) as pipe:
                # One MULTI on one hash slot: the session never exists without its roster.
                pipe.hset(keys.session(session.id), mapping=_session_fields(session))
                pipe.expire(keys.session(session.id), ttl)
                if roster:
                    pipe.sadd(keys.session_roster(session.id), *roster)
                    pipe.expire(keys.session_roster(session.id), ttl)
                pipe.sadd(keys.session_codes(session.id), session.code)
                pipe.expire(keys.session_codes(session.id), ttl)
                await pipe.execute()
            await self._redis.zadd(keys.due_index(), {session.id: to_ms(session.ends_at)})
            if session.rotation_seconds > 0:
                due = to_ms(session.started_at) + session.rotation_seconds * 1000
                await self._redis.zadd(keys.rotation_index(), {session.id: due})
        return True

    async def discard_session(self, session: Session) -> None:
        """Remove a session that was never shown to anyone: its keys, its code route, its
        index entries and the teacher's slot (if it still names it). Nothing is persisted."""
        async with _redis_guard():
            route = await self._redis.get(keys.code(session.code))
            if route is not None and _text(route) == session.id:
                await self._redis.delete(keys.code(session.code))
            await self._redis.delete(*keys.session_keys(session.id))
            await self._redis.zrem(keys.due_index(), session.id)
            await self._redis.zrem(keys.card_index(), session.id)
            await self._redis.zrem(keys.rotation_index(), session.id)
            await self._release_teacher_slot(
                keys=[keys.teacher_slot(session.teacher_id)], args=[session.id]
            )
        self._code_cache.pop(session.code, None)

    async def set_anchor(self, session_id: str, latitude: float, longitude: float) -> bool:
        """Store where the classroom is for a live location-checked session (deleted with the
        session at the sweep; never written to PostgreSQL)."""
        async with _redis_guard():
            if not await self._redis.hexists(keys.session(session_id), "geo"):
                return False
            await self._redis.hset(
                keys.session(session_id), "anchor", f"{latitude:.5f},{longitude:.5f}"
            )
        return True

    # --- live session cards ------------------------------------------------------------

    async def attach_card(
        self, session_id: str, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None:
        """Remember where the session's card is (and what it shows), to keep it fresh."""
        async with _redis_guard():
            await self._redis.hset(
                keys.session(session_id),
                mapping={
                    "card_chat": chat_id,
                    "card_msg": message_id,
                    "card_render": fingerprint,
                    "card_edited": to_ms(now),
                },
            )
            session = await self.session(session_id)
            if session is not None:
                await self._redis.zadd(keys.card_index(), {session_id: to_ms(session.ends_at)})

    async def attach_code_card(
        self, session_id: str, chat_id: int, message_id: int, fingerprint: str, now: datetime
    ) -> None:
        """Remember the teacher's private code card of a group session (kept fresh too)."""
        async with _redis_guard():
            await self._redis.hset(
                keys.session(session_id),
                mapping={
                    "code_card_chat": chat_id,
                    "code_card_msg": message_id,
                    "code_card_render": fingerprint,
                    "code_card_edited": to_ms(now),
                },
            )
            session = await self.session(session_id)
            if session is not None:
                await self._redis.zadd(keys.card_index(), {session_id: to_ms(session.ends_at)})

    async def card_states(self, limit: int) -> list[CardState]:
        """Every session with a card to keep fresh, with its check-in count; one batch."""
        async with _redis_guard():
            ids = [_text(i) for i in await self._redis.zrange(keys.card_index(), 0, limit - 1)]
            if not ids:
                return []
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in ids:
                    pipe.hgetall(keys.session(session_id))
                    pipe.hlen(keys.session_checkins(session_id))
                replies = await pipe.execute()
        states = []
        for i, session_id in enumerate(ids):
            fields, count = replies[2 * i], replies[2 * i + 1]
            if not fields:
                await self.drop_card(session_id)
                continue
            texts = {_text(k): _text(v) for k, v in fields.items()}
            session = _session_from(texts)
            states.append(
                CardState(
                    session,
                    int(count),
                    card_live=texts.get("card_off") != "1",
                    code_card_live=texts.get("code_card_off") != "1",
                )
            )
        return states

    async def claim_card_edit(
        self,
        session_id: str,
        now: datetime,
        min_interval_s: float,
        fingerprint: str,
        card: str = "card",
    ) -> tuple[str, str]:
        """('edit', previous fingerprint) when this process may edit the card now; `card`
        names which of the session's cards ("card", or "code_card" for a group session's
        private code card)."""
        async with _redis_guard():
            answer, previous = await self._claim_card_edit(
                keys=[keys.session(session_id)],
                args=[to_ms(now), int(min_interval_s * 1000), fingerprint, card],
            )
        return _text(answer), _text(previous)

    async def drop_card(self, session_id: str) -> None:
        async with _redis_guard():
            await self._redis.zrem(keys.card_index(), session_id)

    async def release_card_edit(
        self, session_id: str, card: str, claimed: str, previous: str, retry_at: datetime
    ) -> None:
        """Telegram refused the edit `claim_card_edit` allowed: the card shows `previous`
        again (unless another process claimed a newer render meanwhile), and is not edited
        before `retry_at`."""
        async with _redis_guard():
            await self._release_card_edit(
                keys=[keys.session(session_id)],
                args=[card, claimed, previous, to_ms(retry_at)],
            )

    async def drop_one_card(self, session_id: str, card: str) -> None:
        """Stop keeping one of the session's cards fresh ("card" or "code_card"); the session
        leaves the card index only when it has no other card left."""
        async with _redis_guard():
            none_left = await self._drop_one_card(keys=[keys.session(session_id)], args=[card])
            if int(none_left):
                await self._redis.zrem(keys.card_index(), session_id)

    async def extend_session(self, session_id: str, now: datetime, seconds: int) -> datetime | None:
        """Move an open session's end; None when it is not open any more.

        Raises:
            NumberOutOfRange: the session would last longer than `keys.MAX_SESSION_SECONDS`
                (its range names the minutes still allowed).
        """
        async with _redis_guard():
            raw_ends, left_ms = await self._extend_session(
                keys=[keys.session(session_id)],
                args=[to_ms(now), seconds * 1000, keys.MAX_SESSION_SECONDS * 1000],
            )
            ends = int(raw_ends)
            if ends < 0:
                raise NumberOutOfRange("extend_minutes", "range", 1, int(left_ms) // 60_000)
            if not ends:
                return None
            await self._redis.zadd(keys.due_index(), {session_id: ends})
            if await self._redis.zscore(keys.card_index(), session_id) is not None:
                await self._redis.zadd(keys.card_index(), {session_id: ends})
            teacher = await self._redis.hget(keys.session(session_id), "teacher_id")
            if teacher is not None:
                await self._extend_teacher_slot(
                    keys=[keys.teacher_slot(int(teacher))], args=[session_id, ends]
                )
        return from_ms(ends)

    async def add_to_roster(self, session_id: str, student_id: int) -> None:
        """A student who joins the course during its live session may check in at once."""
        async with _redis_guard():
            await self._redis.sadd(keys.session_roster(session_id), student_id)

    async def roster(self, session_id: str) -> set[int]:
        async with _redis_guard():
            members = await self._redis.smembers(keys.session_roster(session_id))
        return {int(_text(m)) for m in members}

    async def checked_in(self, session_id: str) -> dict[int, CheckIn]:
        async with _redis_guard():
            values = await self._redis.hgetall(keys.session_checkins(session_id))
        return {
            int(_text(k)): _checkin_from(session_id, _text(k), _text(v)) for k, v in values.items()
        }

    async def live_status(
        self, session_id: str, student_id: int
    ) -> tuple[str, AttendanceStatus | None]:
        """A student's current status in a live session (the teacher's mark, else their
        check-in's): ("ok"|"sealed"|"gone", status or None when neither)."""
        return await self._run_mark_live(session_id, student_id, "?", "?")

    async def mark_live(
        self,
        session_id: str,
        student_id: int,
        status: AttendanceStatus,
        expected: AttendanceStatus | None,
    ) -> tuple[str, AttendanceStatus | None]:
        """A teacher's correction on a live session, made only if the student's current
        status is still `expected` (None: no check-in and no mark): ("ok"|"sealed"|"gone"|
        "changed", the status before)."""
        condition = expected.value if expected is not None else "-"
        return await self._run_mark_live(session_id, student_id, status.value, condition)

    async def _run_mark_live(
        self, session_id: str, student_id: int, status: str, condition: str
    ) -> tuple[str, AttendanceStatus | None]:
        async with _redis_guard():
            outcome, previous = await self._mark_live(
                keys=[
                    keys.session(session_id),
                    keys.session_checkins(session_id),
                    keys.session_marks(session_id),
                ],
                args=[student_id, status, condition],
            )
        before = _text(previous)
        return _text(outcome), AttendanceStatus(before) if before else None

    async def session(self, session_id: str) -> Session | None:
        async with _redis_guard():
            fields = await self._redis.hgetall(keys.session(session_id))
        if not fields:
            return None
        return _session_from({_text(k): _text(v) for k, v in fields.items()})

    async def checkin_count(self, session_id: str) -> int:
        async with _redis_guard():
            return int(await self._redis.hlen(keys.session_checkins(session_id)))

    async def _resolve_code(self, code: str, fresh: bool) -> str | None:
        cached = self._code_cache.get(code)
        if cached and not fresh and time.monotonic() - cached[1] < _CODE_CACHE_SECONDS:
            return cached[0]
        value = await self._redis.get(keys.code(code))
        if value is None:
            self._code_cache.pop(code, None)
            return None
        session_id = _text(value)
        if len(self._code_cache) > 10_000:
            self._code_cache.clear()
        self._code_cache[code] = (session_id, time.monotonic())
        return session_id

    async def check_in(
        self,
        code: str,
        student_id: int,
        now: datetime,
        metres: int | None = None,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> RawCheckIn:
        """Find the session by its code (unless a QR link named it) and run the atomic
        check-in script on it.

        With a `guard`, at most `guard.limit` codes of the student are judged in any window,
        whatever the concurrency, and the limit-th wrong one locks them out (outcome
        LOCKED_OUT). On one Redis server the guard runs inside the check-in script itself
        (one round trip, as without it). On a cluster the student's keys are in another hash
        slot, so a guess is taken in the student's slot before the code is judged and settled
        after (given back unless wrong). A code that names no session is judged by its lookup
        alone, so it is counted the same take-then-settle way in both setups.
        """
        cluster = isinstance(self._redis, RedisCluster)
        token: str | None = None
        if guard is not None and cluster:
            token = await self.take_guess(student_id, now, guard.window_seconds, guard.limit)
            if token is None:
                return RawCheckIn(CheckInOutcome.LOCKED_OUT)
        try:
            raw = await self._judge(
                code, student_id, now, metres, session_id, None if cluster else guard
            )
        except Exception:
            if token is not None:
                with contextlib.suppress(StorageUnavailable):
                    await self._settle(student_id, token, False, now, guard)
            raise
        if guard is None:
            return raw
        wrong = raw.outcome is CheckInOutcome.WRONG_CODE
        if token is None and wrong and raw.session_id is None:
            # No session has this code: the lookup was the judgement. Count it.
            token = await self.take_guess(student_id, now, guard.window_seconds, guard.limit)
            if token is None:
                return RawCheckIn(CheckInOutcome.LOCKED_OUT)
        if token is not None and await self._settle(student_id, token, wrong, now, guard):
            return RawCheckIn(CheckInOutcome.LOCKED_OUT)
        return raw

    async def _settle(
        self, student_id: int, token: str, wrong: bool, now: datetime, guard: GuessLimit | None
    ) -> bool:
        """Settle a taken guess; True when this verdict locked the student out."""
        assert guard is not None
        locked = await self.settle_guess(
            student_id,
            token,
            wrong,
            now,
            guard.window_seconds,
            guard.limit,
            guard.lock_seconds,
        )
        return locked is not None

    async def _judge(
        self,
        code: str,
        student_id: int,
        now: datetime,
        metres: int | None,
        session_id: str | None,
        guard: GuessLimit | None,
    ) -> RawCheckIn:
        """Resolve the code (unless named) and run the check-in script (guarded in-script
        when `guard` is given: single Redis server only)."""
        named = session_id
        args: list[EncodableT] = [code, student_id, to_ms(now), "" if metres is None else metres]
        guard_keys: list[str] = []
        if guard is not None:
            guard_keys = [keys.attempts(student_id), keys.guesses(student_id)]
            args += [
                guard.window_seconds * 1000,
                guard.limit,
                guard.lock_seconds * 1000,
                keys.ATTEMPTS_SAFETY_TTL,
                secrets.token_hex(6),
                keys.UNSETTLED_GUESS_SECONDS * 1000,
            ]
        try:  # (not _redis_guard: this is the hottest path, and a plain try costs nothing)
            for fresh in (False, True):
                session_id = named or await self._resolve_code(code, fresh)
                if session_id is None:
                    return RawCheckIn(CheckInOutcome.WRONG_CODE)
                outcome, title, value, count = await self._check_in(
                    keys=[*_checkin_keys(session_id), *guard_keys], args=args
                )
                name = _text(outcome)
                if name == "no_session" and not fresh and named is None:
                    continue  # the cached route may be stale: look the code up once more
                break
        except _UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
        if name == "no_session":
            return RawCheckIn(CheckInOutcome.WRONG_CODE)
        text_value = _text(value)
        when, late = _parse_checkin_value(text_value) if text_value else (None, False)
        return RawCheckIn(
            outcome=CheckInOutcome(name),
            session_id=session_id,
            session_title=_text(title),
            checked_in_at=when,
            late=late,
            count=int(count),
        )

    async def end_session(self, session_id: str, now: datetime) -> bool:
        """End the session now; False when it had already ended."""
        async with _redis_guard():
            ended = await self._end_session(keys=[keys.session(session_id)], args=[to_ms(now)])
            if int(ended) == 1:
                await self._redis.zadd(keys.due_index(), {session_id: to_ms(now)})
        return int(ended) == 1

    # --- attendance sweep ---------------------------------------------------------------

    async def due_sessions(self, now: datetime, limit: int) -> list[str]:
        async with _redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.due_index(), "-inf", to_ms(now), start=0, num=limit
            )
        return [_text(i) for i in ids]

    async def claim_for_sweep(
        self, session_id: str, now: datetime, lease_seconds: float
    ) -> SweepClaim | None:
        """Seal and lease an ended session; None if it is not due, busy or already gone."""
        token = secrets.token_hex(8)
        until = to_ms(now) + int(lease_seconds * 1000)
        async with _redis_guard():
            reply = await self._claim_sweep(
                keys=keys.session_keys(session_id), args=[to_ms(now), token, until]
            )
            outcome = _text(reply[0])
            if outcome == "gone":
                await self._redis.zrem(keys.due_index(), session_id)
        if outcome != "claimed":
            return None
        session = _session_from(_pairs(reply[1]))
        flat = reply[2]
        checkins = [_checkin_from(session_id, flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]
        roster = [int(_text(m)) for m in reply[3]]
        marks = {int(k): AttendanceStatus(v) for k, v in _pairs(reply[4]).items()}
        codes = [_text(c) for c in reply[5]]
        return SweepClaim(session, checkins, token, roster=roster, marks=marks, codes=codes)

    async def release_sweep(self, session_id: str, token: str) -> None:
        async with _redis_guard():
            await self._release_sweep(keys=[keys.session(session_id)], args=[token])

    async def finish_sweep(self, claim: SweepClaim) -> bool:
        """Remove a persisted session's keys: code route, session keys, index entry, slot."""
        session = claim.session
        codes = set(claim.codes) | {session.code}
        async with _redis_guard():
            # Code routes first: a route left behind by a crash only blocks its code until
            # the safety TTL, never misroutes (the session keys are checked by every script).
            # GETs in a pipeline, not MGET: the code keys sit on different cluster slots.
            async with self._redis.pipeline(transaction=False) as pipe:
                for code in codes:
                    pipe.get(keys.code(code))
                routes = await pipe.execute()
            mine = [c for c, sid in zip(codes, routes, strict=True) if sid == session.id.encode()]
            for code in mine:
                await self._redis.delete(keys.code(code))
            deleted = await self._finish_sweep(
                keys=keys.session_keys(session.id), args=[claim.token]
            )
            if int(deleted) == 1:
                await self._redis.zrem(keys.due_index(), session.id)
                await self._redis.zrem(keys.card_index(), session.id)
                await self._redis.zrem(keys.rotation_index(), session.id)
                await self._release_teacher_slot(
                    keys=[keys.teacher_slot(session.teacher_id)], args=[session.id]
                )
        for code in codes:
            self._code_cache.pop(code, None)
        return int(deleted) == 1

    # --- code rotation --------------------------------------------------------------------

    async def due_rotations(self, now: datetime, limit: int) -> list[str]:
        async with _redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.rotation_index(), "-inf", to_ms(now), start=0, num=limit
            )
        return [_text(i) for i in ids]

    async def rotate_codes(self, now: datetime, new_codes: dict[str, str]) -> dict[str, str]:
        """Rotate each session's code to the drawn one if due; returns {session: new code}.

        Each drawn code is reserved with SET NX on its lookup key first, so no two live
        sessions ever share one; a code that cannot be reserved, or is not used because the
        rotation was not due, is simply not rotated in (the session is retried next time).
        Batched: three pipelined round trips however many sessions are due.
        """
        ttl = keys.SESSION_SAFETY_TTL
        now_ms = to_ms(now)
        items = list(new_codes.items())
        async with _redis_guard():
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id, code in items:
                    pipe.set(keys.code(code), session_id, nx=True, ex=ttl)
                reserved = await pipe.execute()
            ready = [item for item, ok in zip(items, reserved, strict=True) if ok]
            outcomes = await self._script_batch(
                self._rotate_code,
                [
                    ([keys.session(sid), keys.session_codes(sid)], [code, now_ms])
                    for sid, code in ready
                ],
            )
            rotated: dict[str, str] = {}
            async with self._redis.pipeline(transaction=False) as pipe:
                for (session_id, code), (outcome, due) in zip(ready, outcomes, strict=True):
                    name = _text(outcome)
                    if name == "rotated":
                        rotated[session_id] = code
                        pipe.zadd(keys.rotation_index(), {session_id: int(due)})
                    else:
                        pipe.delete(keys.code(code))
                        if name == "closed":
                            pipe.zrem(keys.rotation_index(), session_id)
                        else:
                            pipe.zadd(keys.rotation_index(), {session_id: int(due)})
                await pipe.execute()
        return rotated

    async def touch_profile(self, profile: UserProfile, update_id: int | None = None) -> Visit:
        """Claim the update, refresh a cached profile and read any lock-out, in one round trip."""
        seen = to_ms(profile.last_seen) if profile.last_seen else 0
        touch_keys = [
            keys.profile(profile.user_id),
            keys.attempts(profile.user_id),
            keys.update_claim(profile.user_id, update_id or 0),
        ]
        touch_args: list[EncodableT] = [
            profile.first_name,
            profile.last_name or "",
            profile.username or "",
            seen,
            keys.UPDATE_CLAIM_TTL if update_id is not None else 0,
            keys.PROFILE_SAFETY_TTL,
        ]
        seen_entry = {str(profile.user_id): seen}
        # The idle index only needs minute precision (profiles idle for 30 minutes move to
        # PostgreSQL, and the sweep re-checks the profile's own last-seen time), so it is
        # written once a minute per user: most updates cost one script call and no pipeline.
        now = time.monotonic()
        index_due = now - self._seen_indexed.get(profile.user_id, -1e9) >= _SEEN_INDEX_SECONDS
        try:
            if not index_due:
                cached, locked, duplicate = await self._touch_profile(
                    keys=touch_keys, args=touch_args
                )
            elif isinstance(self._redis, RedisCluster):
                # A cluster pipeline cannot carry EVALSHA and the seen index is on another
                # slot: both go out at once, so the caller still waits one round trip.
                (cached, locked, duplicate), _ = await asyncio.gather(
                    self._touch_profile(keys=touch_keys, args=touch_args),
                    self._redis.zadd(keys.seen_index(), seen_entry),
                )
            else:  # one server: the script updates the idle index too, in the same call
                cached, locked, duplicate = await self._touch_profile(
                    keys=[*touch_keys, keys.seen_index()], args=[*touch_args, profile.user_id]
                )
        except _UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
        if not index_due and int(cached) == 0 and int(duplicate) == 0:
            # A profile created just now must be in the idle index, or the sweep never finds it.
            async with _redis_guard():
                await self._redis.zadd(keys.seen_index(), seen_entry)
            index_due = True
        if index_due:
            if len(self._seen_indexed) > 100_000:
                self._seen_indexed.clear()
            self._seen_indexed[profile.user_id] = now
        return Visit(
            int(cached) == 1, from_ms(locked) if int(locked) else None, int(duplicate) == 1
        )

    async def take_guess(
        self, user_id: int, now: datetime, window_seconds: int, limit: int
    ) -> str | None:
        """Take one of the user's `limit` code guesses per sliding window, before the code is
        judged; the token to settle it with, or None when the user may not guess now."""
        token = secrets.token_hex(6)
        async with _redis_guard():
            allowed, _ = await self._take_guess(
                keys=[keys.attempts(user_id), keys.guesses(user_id)],
                args=[
                    to_ms(now),
                    window_seconds * 1000,
                    limit,
                    token,
                    keys.ATTEMPTS_SAFETY_TTL,
                    keys.UNSETTLED_GUESS_SECONDS * 1000,
                ],
            )
        return token if int(allowed) == 1 else None

    async def settle_guess(
        self,
        user_id: int,
        token: str,
        wrong: bool,
        now: datetime,
        window_seconds: int,
        limit: int,
        lock_seconds: int,
    ) -> datetime | None:
        """The verdict on a taken guess: given back when not wrong; a wrong one counts, and
        the lock end is returned when it reached the limit."""
        async with _redis_guard():
            locked = await self._settle_guess(
                keys=[keys.attempts(user_id), keys.guesses(user_id)],
                args=[
                    to_ms(now),
                    window_seconds * 1000,
                    limit,
                    token,
                    "1" if wrong else "0",
                    lock_seconds * 1000,
                    keys.ATTEMPTS_SAFETY_TTL,
                ],
            )
        return from_ms(locked) if int(locked) else None

    async def store_profile(self, profile: UserProfile) -> None:
        seen = to_ms(profile.last_seen) if profile.last_seen else 0
        async with _redis_guard(), self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.profile(profile.user_id), mapping=_profile_fields(profile))
            pipe.expire(keys.profile(profile.user_id), keys.PROFILE_SAFETY_TTL)
            pipe.zadd(keys.seen_index(), {str(profile.user_id): seen})
            await pipe.execute()

    async def cached_profile(self, user_id: int) -> UserProfile | None:
        async with _redis_guard():
            fields = await self._redis.hgetall(keys.profile(user_id))
        if not fields:
            return None
        return _profile_from(user_id, {_text(k): _text(v) for k, v in fields.items()})

    async def cached_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        if not user_ids:
            return {}
        async with _redis_guard(), self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hgetall(keys.profile(user_id))
            replies = await pipe.execute()
        return {
            user_id: _profile_from(user_id, {_text(k): _text(v) for k, v in fields.items()})
            for user_id, fields in zip(user_ids, replies, strict=True)
            if fields
        }

    async def idle_profiles(self, cutoff: datetime, limit: int) -> list[int]:
        async with _redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.seen_index(), "-inf", to_ms(cutoff), start=0, num=limit
            )
        return [int(_text(i)) for i in ids]

    async def remove_profile_if_idle(self, user_id: int, last_seen: datetime | None) -> bool:
        """Drop a persisted profile unless the user was seen again since `last_seen`."""
        seen = to_ms(last_seen) if last_seen else 0
        async with _redis_guard():
            removed = await self._remove_idle_profile(keys=[keys.profile(user_id)], args=[seen])
            if int(removed) == 1:
                # Only drop the index entry if it still carries the persisted time.
                score = await self._redis.zscore(keys.seen_index(), str(user_id))
                if score is None or int(score) <= seen:
                    await self._redis.zrem(keys.seen_index(), str(user_id))
        return int(removed) == 1

    async def set_pending_action(
        self, user_id: int, action: str, until: datetime, payload: str = ""
    ) -> None:
        async with _redis_guard():
            await self._redis.set(
                keys.pending_action(user_id),
                f"{action} {to_ms(until)} {payload}",
                ex=keys.PENDING_ACTION_TTL,
            )

    async def put_start_choice(self, user_id: int, token: str, value: str) -> None:
        async with _redis_guard():
            await self._redis.set(
                keys.start_choice(user_id, token), value, ex=keys.PENDING_ACTION_TTL
            )

    async def take_start_choice(self, user_id: int, token: str) -> str | None:
        """The stored choice, for exactly one caller (GET and DEL in one MULTI)."""
        key = keys.start_choice(user_id, token)
        async with _redis_guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.delete(key)
            value, _ = await pipe.execute()
        return _text(value) if value is not None else None

    async def pop_pending_action(
        self, user_id: int, now: datetime, only: Sequence[str] = ()
    ) -> tuple[str, str] | None:
        """(action, payload) if one is pending and not expired; removed either way. With
        `only`, an action not among those is left pending and None is returned."""
        async with _redis_guard():
            value = await self._pop_pending_action(
                keys=[keys.pending_action(user_id)], args=[to_ms(now), *only]
            )
        if not value:
            return None
        action, _, payload = _text(value).partition(" ")
        return action, payload

    # --- health ---------------------------------------------------------------------------

    async def ping(self) -> None:
        """Raise StorageUnavailable unless Redis answers PING."""
        async with _redis_guard():
            await self._redis.ping()

    async def reserve_send_slot(self, chat_id: int | None) -> float:
        """0 when one more message may go out now (it is counted), else seconds to wait."""
        kind = "" if chat_id is None else ("p" if chat_id > 0 else "g")
        chat_key = keys.chat_send_log(chat_id) if chat_id is not None else keys.send_log()
        async with _redis_guard():
            wait_ms = await self._send_slot(
                keys=[keys.send_log(), chat_key],
                args=[
                    TELEGRAM_PER_SECOND,
                    PRIVATE_CHAT_GAP_MS,
                    GROUP_PER_MINUTE,
                    kind,
                    secrets.token_hex(6),
                ],
            )
        return int(wait_ms) / 1000.0

    async def release_update_claim(self, user_id: int, update_id: int) -> None:
        async with _redis_guard():
            await self._redis.delete(keys.update_claim(user_id, update_id))

    async def merge_registrations(self, registered: dict[int, tuple[str, str]]) -> None:
        """Put registered names (from PostgreSQL) into cached profiles, never over one set
        meanwhile (a /register wins), and only into profiles still cached."""

        def build(pipe: Any) -> None:
            for user_id, (full_name, number) in registered.items():
                self._merge_registration.queue(
                    pipe, [keys.profile(user_id), keys.forgotten(user_id)], [full_name, number]
                )

        async with _redis_guard():
            if isinstance(self._redis, RedisCluster):
                await asyncio.gather(
                    *(
                        self._merge_registration(
                            keys=[keys.profile(uid), keys.forgotten(uid)], args=[name, number]
                        )
                        for uid, (name, number) in registered.items()
                    )
                )
            else:
                await self._pipeline(build)

    async def menu_version(self, user_id: int) -> str | None:
        """The version of the command menu last set in the user's private chat, if any."""
        async with _redis_guard():
            value = await self._redis.get(keys.menu(user_id))
        return None if value is None else _text(value)

    async def remember_menu(self, user_id: int, version: str | None) -> None:
        """Remember the menu just set (None: the chat's own menu was removed)."""
        async with _redis_guard():
            if version is None:
                await self._redis.delete(keys.menu(user_id))
            else:
                await self._redis.set(keys.menu(user_id), version, ex=keys.MENU_TTL)

    async def claim_group_pointer(self, chat_id: int, seconds: int) -> bool:
        """True for the first caller (any process) in `seconds`: one SET NX EX decides."""
        async with _redis_guard():
            claimed = await self._redis.set(keys.group_pointer(chat_id), "1", nx=True, ex=seconds)
        return bool(claimed)

    async def forget_user(self, user_id: int) -> None:
        """Drop everything Redis holds about the user (profile, pending action, attempts) and
        take them off the rosters of live sessions (a check-in already made stays, and is
        saved under their pseudonym)."""
        async with _redis_guard():
            live = [_text(s) for s in await self._redis.zrange(keys.due_index(), 0, -1)]
            if isinstance(self._redis, RedisCluster):
                await asyncio.gather(
                    *(self._redis.srem(keys.session_roster(sid), str(user_id)) for sid in live)
                )
            elif live:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for sid in live:
                        pipe.srem(keys.session_roster(sid), str(user_id))
                    await pipe.execute()
            await self._redis.delete(
                keys.profile(user_id),
                keys.pending_action(user_id),
                keys.attempts(user_id),
                keys.guesses(user_id),
            )
            # Registered names being loaded right now were read before this: never merge them.
            await self._redis.set(keys.forgotten(user_id), "1", ex=keys.FORGOTTEN_MARKER_TTL)
            await self._redis.zrem(keys.seen_index(), str(user_id))
