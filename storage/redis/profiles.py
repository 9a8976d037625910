"""Cached profiles of recently active users: touched on every update (`touch_profile.lua`,
which also claims the update and reads any lock-out), moved to PostgreSQL when idle (the
seen index `keys.seen_index`, `remove_idle_profile.lua`), merged with registered names
(`merge_registration.lua`) and forgotten on request. Implements `ProfileCache`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis.typing import EncodableT

from services.clock import from_ms, to_ms
from services.errors import StorageUnavailable
from services.models import UserProfile
from services.ports.values import Visit
from storage.redis import keys
from storage.redis.codec import profile_fields, profile_from, text, texts
from storage.redis.errors import UNAVAILABLE, redis_guard
from storage.redis.scripts import Scripts

_SEEN_INDEX_SECONDS = 60.0
# Users per merge_registrations call: a few hundred microseconds of Lua, so other clients
# are not held up behind a large burst's merges.
MERGE_BATCH = 200


@dataclass(frozen=True, slots=True)
class Touch:
    """One call of touch_profile.lua, prepared (see `RedisProfileCache.prepare_touch`)."""

    user_id: int
    keys: list[str]
    args: list[EncodableT]
    index_due: bool  # the idle index is due for this user (in `keys` on one server)
    seen_ms: int
    at: float  # when prepared (monotonic)

    @property
    def seen_entry(self) -> dict[str, int]:
        """The user's entry in the idle index."""
        return {str(self.user_id): self.seen_ms}


class RedisProfileCache:
    """Profiles in Redis. Works on one server or on Redis Cluster."""

    def __init__(self, scripts: Scripts) -> None:
        self._scripts = scripts
        self._redis = scripts.redis
        self._cluster = scripts.cluster
        self._touch_profile = scripts.touch_profile
        self._seen_indexed: dict[int, float] = {}
        self._update_floor = "0"
        self._update_floor_read = -1e9
        self._update_floor_reading: asyncio.Future[None] | None = None

    async def touch_profile(self, profile: UserProfile, update_id: int | None = None) -> Visit:
        """Claim the update, refresh a cached profile and read any lock-out, in one round trip."""
        touch = await self.prepare_touch(profile, update_id)
        try:
            if touch.index_due and self._cluster:
                # A cluster pipeline cannot carry EVALSHA and the seen index is on another
                # slot: both go out at once, so the caller still waits one round trip.
                reply, _ = await asyncio.gather(
                    self._touch_profile(keys=touch.keys, args=touch.args),
                    self._redis.zadd(keys.seen_index(), touch.seen_entry),
                )
            else:
                reply = await self._touch_profile(keys=touch.keys, args=touch.args)
        except UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
        visit = visit_from(reply)
        await self.touched(touch, visit)
        return visit

    async def prepare_touch(self, profile: UserProfile, update_id: int | None) -> Touch:
        """touch_profile.lua's keys and arguments for this visit. On one server the idle index
        is among the keys when due; on a cluster the caller adds the user to it separately."""
        if update_id is not None:
            await self._refresh_update_floor()
        seen = to_ms(profile.last_seen) if profile.last_seen else 0
        # The idle index only needs minute precision (profiles idle for 30 minutes move to
        # PostgreSQL, and the sweep re-checks the profile's own last-seen time), so it is
        # written once a minute per user: most updates cost one script call and no pipeline.
        now = time.monotonic()
        index_due = now - self._seen_indexed.get(profile.user_id, -1e9) >= _SEEN_INDEX_SECONDS
        user_id = profile.user_id
        touch_keys = [keys.profile(user_id), keys.attempts(user_id), keys.menu(user_id)]
        if index_due and not self._cluster:
            touch_keys.append(keys.seen_index())  # the script updates it in the same call
        args = self.touch_args(profile, update_id)
        return Touch(profile.user_id, touch_keys, args, index_due, seen, now)

    async def prepare_arrival(
        self, profile: UserProfile, update_id: int | None, seen: int
    ) -> tuple[Touch, str]:
        """The touch half of the one-step visit and check-in (`visit_and_check_in_many_script`,
        one server only), seen at `seen` (ms; the check-in's time too): the profile key alone
        (the script names the user's other keys) and, as arguments, the names and the
        language code; with the numbers that start the script's first argument ("<seen ms>
        <update id, or - for none> <user id> <global floor> <1|0: the idle index is due>")."""
        await self._refresh_update_floor()
        user_id = profile.user_id
        now = time.monotonic()
        index_due = now - self._seen_indexed.get(user_id, -1e9) >= _SEEN_INDEX_SECONDS
        names: list[EncodableT] = [
            profile.first_name,
            profile.last_name or "",
            profile.username or "",
            profile.language_code or "",
        ]
        update = "-" if update_id is None else update_id
        numbers = f"{seen} {update} {user_id} {self._update_floor} {1 if index_due else 0}"
        return Touch(user_id, [keys.profile(user_id)], names, index_due, seen, now), numbers

    async def touched(self, touch: Touch, visit: Visit) -> None:
        """Bookkeeping after the touch: when the idle index was last written for the user."""
        index_due = touch.index_due
        if not index_due and not visit.cached and not visit.duplicate:
            # A profile created just now must be in the idle index, or the sweep never finds it.
            async with redis_guard():
                await self._redis.zadd(keys.seen_index(), touch.seen_entry)
            index_due = True
        if index_due:
            if len(self._seen_indexed) > 100_000:
                self._seen_indexed.clear()
            self._seen_indexed[touch.user_id] = touch.at

    def touch_args(self, profile: UserProfile, update_id: int | None) -> list[EncodableT]:
        """touch_profile.lua's arguments (its keys: the profile, the attempts, the menu,
        optionally the idle index)."""
        return [
            profile.first_name,
            profile.last_name or "",
            profile.username or "",
            to_ms(profile.last_seen) if profile.last_seen else 0,
            "" if update_id is None else update_id,
            keys.PROFILE_SAFETY_TTL,
            profile.language_code or "",
            profile.user_id,
            keys.UPDATE_WINDOW_IDS,
            keys.UPDATE_WINDOW_QUIET_SECONDS * 1000,
            self._update_floor,
        ]

    async def _refresh_update_floor(self) -> None:
        """Read the global update floor at most once a minute: it only rises, by the user
        sweep, and only matters to windows created after a profile went idle for 30 minutes,
        so a value a minute old is as good (and costs one GET a minute, not one per update).
        The updates arriving while it is read wait for that one read (a hall arriving together
        would otherwise send a GET each, and open a pooled connection each to send it)."""
        if time.monotonic() - self._update_floor_read < _SEEN_INDEX_SECONDS:
            return
        reading = self._update_floor_reading
        if reading is None or reading.done():
            reading = self._update_floor_reading = asyncio.ensure_future(self._read_update_floor())
            reading.add_done_callback(_retrieved)  # (a failure with no caller left is no warning)
        await asyncio.shield(reading)  # (a caller that goes away leaves the read to the others)

    async def _read_update_floor(self) -> None:
        now = time.monotonic()
        async with redis_guard():
            floor = await self._redis.get(keys.update_floor())
        self._update_floor = "0" if floor is None else text(floor)
        self._update_floor_read = now

    async def _raise_update_floor(self, update_id: str) -> None:
        if update_id:
            floor = await self._scripts.raise_update_floor(
                keys=[keys.update_floor()], args=[update_id]
            )
            self._update_floor = text(floor)

    async def release_update_claim(self, user_id: int, *, update_id: int) -> None:
        async with redis_guard():
            await self._scripts.release_update(keys=[keys.profile(user_id)], args=[update_id])

    async def store_profile(self, profile: UserProfile) -> None:
        seen = to_ms(profile.last_seen) if profile.last_seen else 0
        async with redis_guard(), self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(keys.profile(profile.user_id), mapping=profile_fields(profile))
            pipe.expire(keys.profile(profile.user_id), keys.PROFILE_SAFETY_TTL)
            pipe.zadd(keys.seen_index(), {str(profile.user_id): seen})
            await pipe.execute()

    async def cached_profile(self, user_id: int) -> UserProfile | None:
        async with redis_guard():
            fields = await self._redis.hgetall(keys.profile(user_id))
        if not fields:
            return None
        return profile_from(user_id, texts(fields))

    async def cached_profiles(self, user_ids: Sequence[int]) -> dict[int, UserProfile]:
        if not user_ids:
            return {}
        async with redis_guard(), self._redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.hgetall(keys.profile(user_id))
            replies = await pipe.execute()
        return {
            user_id: profile_from(user_id, texts(fields))
            for user_id, fields in zip(user_ids, replies, strict=True)
            if fields
        }

    async def idle_profiles(self, cutoff: datetime, limit: int) -> list[int]:
        async with redis_guard():
            ids = await self._redis.zrangebyscore(
                keys.seen_index(), "-inf", to_ms(cutoff), start=0, num=limit
            )
        return [int(text(i)) for i in ids]

    async def remove_profile_if_idle(self, user_id: int, last_seen: datetime | None) -> bool:
        """Drop a persisted profile unless the user was seen again since `last_seen`."""
        seen = to_ms(last_seen) if last_seen else 0
        async with redis_guard():
            removed, highest = await self._scripts.remove_idle_profile(
                keys=[keys.profile(user_id)], args=[seen]
            )
            if int(removed) == 1:
                # Its update claims go with it: later windows start above them.
                await self._raise_update_floor(text(highest))
                # Only drop the index entry if it still carries the persisted time.
                score = await self._redis.zscore(keys.seen_index(), str(user_id))
                if score is None or int(score) <= seen:
                    await self._redis.zrem(keys.seen_index(), str(user_id))
        return int(removed) == 1

    async def merge_registrations(self, registered: dict[int, tuple[str, ...]]) -> None:
        """Put registered names (from PostgreSQL) into cached profiles, never over one set
        meanwhile (a /register wins), and only into profiles still cached; each value is
        (full name, number) or (full name, number, chosen language). On one server in
        batches of `MERGE_BATCH` users per script call (a burst of returning students is a
        few commands, not one per student); on a cluster one call per user."""
        async with redis_guard():
            if self._cluster:
                merge = self._scripts.merge_registration
                await asyncio.gather(
                    *(
                        merge(keys=[keys.profile(uid), keys.forgotten(uid)], args=_merged(values))
                        for uid, values in registered.items()
                    )
                )
                return
            items = list(registered.items())
            batches = [items[i : i + MERGE_BATCH] for i in range(0, len(items), MERGE_BATCH)]
            merge_many = self._scripts.merge_registrations

            def build(pipe: Any) -> None:
                for batch in batches:
                    args: list[EncodableT] = []
                    for user_id, values in batch:
                        args.append(user_id)
                        args.extend(_merged(values))
                    merge_many.queue(pipe, [], args)

            await self._scripts.pipeline(build)

    async def forget_user(self, user_id: int) -> None:
        """Drop everything Redis holds about the user (profile, pending action, attempts) and
        take them off the rosters of live sessions (a check-in already made stays, and is
        saved under their pseudonym)."""
        async with redis_guard():
            live = [text(s) for s in await self._redis.zrange(keys.due_index(), 0, -1)]
            if self._cluster:
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


def _retrieved(done: asyncio.Future[None]) -> None:
    if not done.cancelled():
        done.exception()


def visit_from(reply: list[Any]) -> Visit:
    """The Visit in touch_profile.lua's reply (the one-step script may add a sixth element)."""
    if int(reply[2]) == 1:
        return Visit(cached=False, duplicate=True)
    cached, locked, _, chosen, menu = reply[:5]
    return Visit(
        int(cached) == 1,
        from_ms(locked) if int(locked) else None,
        False,
        text(chosen) or None,
        text(menu),
    )


def _merged(values: tuple[str, ...]) -> list[EncodableT]:
    """The merge script's arguments: name, number, chosen language ('' when none)."""
    full_name, number, *rest = values
    return [full_name, number, rest[0] if rest else ""]
