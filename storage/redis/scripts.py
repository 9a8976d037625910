"""The Lua scripts (`storage/redis/lua/*.lua`, each documenting its keys and arguments),
called by SHA1, and the batching helpers that survive a Redis restart.

Every multi-key invariant of the live store is one script. They are loaded once at start-up
(`Scripts.load`); when the server has lost its script cache (a restart), a call loads its
script again and retries once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio.cluster import RedisCluster
from redis.typing import EncodableT, KeyT

from storage.redis.client import LiveRedis


def load_script(name: str) -> str:
    """The text of `storage/redis/lua/<name>.lua`."""
    return resources.files("storage.redis").joinpath("lua", f"{name}.lua").read_text("utf-8")


def one_step(first: str, second: str) -> str:
    """Two scripts as one atomic script, for a single Redis server (on a cluster their keys
    may sit on different nodes): `first` runs on the leading keys and arguments, and unless
    its reply's third element is 1 (a refusal: nothing more to do), `second` on the rest.
    The caller passes the number of `first`'s keys and arguments as the first two arguments.
    Returns {first's reply} or {first's reply, second's reply}. Each script stays the one
    file it is (its `KEYS` and `ARGV` are the function's own), so neither is copied.
    """
    return (
        f"local function first(KEYS, ARGV)\n{first}\nend\n"
        f"local function second(KEYS, ARGV)\n{second}\nend\n"
        "local nkeys, nargs = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
        "local keys1, args1, keys2, args2 = {}, {}, {}, {}\n"
        "for i = 1, #KEYS do\n"
        "  if i <= nkeys then keys1[i] = KEYS[i] else keys2[i - nkeys] = KEYS[i] end\n"
        "end\n"
        "for i = 3, #ARGV do\n"
        "  if i - 2 <= nargs then args1[i - 2] = ARGV[i] else args2[i - 2 - nargs] = ARGV[i] end\n"
        "end\n"
        "local reply = first(keys1, args1)\n"
        "if reply[3] == 1 then\n"
        "  return {reply}\n"
        "end\n"
        "return {reply, second(keys2, args2)}\n"
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

    async def __call__(self, keys: Sequence[KeyT], args: Sequence[EncodableT] = ()) -> Any:
        try:
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)
        except redis_errors.NoScriptError:
            await self._redis.script_load(self.text)
            return await self._redis.evalsha(self.sha, len(keys), *keys, *args)

    def queue(self, pipe: Any, keys: Sequence[str], args: Sequence[EncodableT]) -> None:
        """Queue a call on a pipeline (run `Scripts.pipeline`, which handles a lost cache)."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)


class Scripts:
    """Every script of the live store, read once per process and shared by all its stores."""

    def __init__(self, redis: LiveRedis) -> None:
        self.redis = redis
        self._all: list[LuaScript] = []
        # sessions
        self.claim_teacher_slot = self._script("claim_teacher_slot")
        self.release_teacher_slot = self._script("release_teacher_slot")
        self.extend_teacher_slot = self._script("extend_teacher_slot")
        self.extend_session = self._script("extend_session")
        self.end_session = self._script("end_session")
        self.join_roster = self._script("join_roster")
        self.leave_roster = self._script("leave_roster")
        self.new_projector_link = self._script("new_projector_link")
        # check-ins and codes
        self.check_in = self._script("check_in")
        self.mark_live = self._script("mark_live")
        self.take_guess = self._script("take_guess")
        self.settle_guess = self._script("settle_guess")
        self.rotate_code = self._script("rotate_code")
        # cards
        self.claim_card_edit = self._script("claim_card_edit")
        self.release_card_edit = self._script("release_card_edit")
        self.drop_one_card = self._script("drop_one_card")
        # sweeps
        self.claim_sweep = self._script("claim_sweep")
        self.finish_sweep = self._script("finish_sweep")
        self.finish_sweep_whole = self._script("finish_sweep_whole")
        self.release_sweep = self._script("release_sweep")
        # profiles, chat state, pacing
        self.touch_profile = self._script("touch_profile")
        # one server only: an update's claim and profile touch, then its check-in
        self.visit_and_check_in = self._add(
            LuaScript(self.redis, one_step(load_script("touch_profile"), load_script("check_in")))
        )
        self.release_update = self._script("release_update")
        self.raise_update_floor = self._script("raise_update_floor")
        self.remove_idle_profile = self._script("remove_idle_profile")
        self.merge_registration = self._script("merge_registration")
        self.pop_pending_action = self._script("pop_pending_action")
        self.send_slot = self._script("send_slot")
        # the REST API
        self.take_api_request = self._script("take_api_request")

    def _script(self, name: str) -> LuaScript:
        return self._add(LuaScript(self.redis, load_script(name)))

    def _add(self, script: LuaScript) -> LuaScript:
        self._all.append(script)
        return script

    @property
    def cluster(self) -> bool:
        """True on Redis Cluster, whose pipelines cannot carry EVALSHA."""
        return isinstance(self.redis, RedisCluster)

    async def load(self) -> None:
        """Load every script into Redis (at start-up, and after a restart emptied its cache)."""
        for script in self._all:
            await self.redis.script_load(script.text)

    async def pipeline(self, build: Callable[[Any], None]) -> list[Any]:
        """Run the commands `build` queues in one round trip; if Redis lost its scripts (a
        restart), load them and run once more (everything queued here is idempotent)."""
        for attempt in (1, 2):
            async with self.redis.pipeline(transaction=False) as pipe:
                build(pipe)
                try:
                    return list(await pipe.execute())
                except redis_errors.NoScriptError:
                    if attempt == 2:
                        raise
            await self.load()
        raise AssertionError("unreachable")

    async def batch(
        self, script: LuaScript, calls: Sequence[tuple[list[str], list[EncodableT]]]
    ) -> list[Any]:
        """Run `script` once per (keys, args): pipelined on one server; all at once on a
        cluster, whose pipelines cannot carry EVALSHA (the calls may sit on different nodes)."""
        if self.cluster:
            return list(await asyncio.gather(*(script(keys=k, args=a) for k, a in calls)))

        def build(pipe: Any) -> None:
            for script_keys, script_args in calls:
                script.queue(pipe, script_keys, script_args)

        return await self.pipeline(build)
