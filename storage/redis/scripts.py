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
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.typing import EncodableT, KeyT

from storage.redis import keys
from storage.redis.client import LiveRedis


def load_script(name: str) -> str:
    """The text of `storage/redis/lua/<name>.lua`."""
    return resources.files("storage.redis").joinpath("lua", f"{name}.lua").read_text("utf-8")


def _lua(value: str) -> str:
    """A Lua string literal (the key names baked into a script are plain ASCII)."""
    assert value.isascii() and "'" not in value and "\\" not in value
    return f"'{value}'"


def _around(build: Callable[[Any], str]) -> tuple[str, str]:
    """What a key-building function puts before and after its argument."""
    before, after = build("\0").split("\0")
    return before, after


def _visit_and_check_in_function() -> str:
    """touch_profile.lua then check_in.lua as one Lua function, for a single Redis server
    (on a cluster the user's and the session's keys sit in different slots): a /checkin
    update's claim, profile and lock-out, then, unless it is a duplicate, its check-in, in one
    round trip. Each script stays the one file it is (its `KEYS` and `ARGV` are the local
    function's own), so neither is copied.

    The hottest call of the bot, so it takes as few arguments as it can (each costs the
    client time to encode, more than the script takes to split one): the constant ones (the
    profile's safety TTL, the update window's size and quiet time) are written into the
    script; the numbers, the code and the session travel as one argument; the user's other
    keys are named from their profile key; and the session is found by its code's route in
    the same step (`keys.code`): no route cache and no lookup first, so the update's claim
    reaches Redis as soon as a plain visit's would. Undeclared keys are allowed on a single
    server.

    Called as `visit_and_check_in_many_script`'s function, once per arrival (see there).

    KEYS[1] the user's profile hash (keys.profile)
    ARGV[1] "<now ms> <update id, or -: none to claim (a Mini App request)> <user id>
            <global update floor> <1|0: the idle index is due> <code (normalized)> <the
            session a QR link named, or -: the code's> [<the wrong-code guard's settings,
            as check_in.lua takes them>]"
    ARGV[2] first name  ARGV[3] last name  ARGV[4] username  ARGV[5] Telegram language code
    Returns {touch_profile.lua's reply} for a duplicate update, else {touch_profile.lua's
    reply with the session id ('' when no session has the code) as its sixth element,
    check_in.lua's reply ({0} when no session has the code)}.
    """
    attempts = keys.attempts(0).removeprefix(keys.profile(0))
    menu = keys.menu(0).removeprefix(keys.profile(0))
    assert attempts != keys.attempts(0) and menu != keys.menu(0)
    code_before, code_after = _around(keys.code)
    session_before, session_after = _around(keys.session)
    checkins_before, checkins_after = _around(keys.session_checkins)
    assert code_after == "" and session_before == checkins_before
    return (
        f"local function touch(KEYS, ARGV)\n{load_script('touch_profile')}\nend\n"
        f"local function check_in(KEYS, ARGV)\n{load_script('check_in')}\nend\n"
        "local function visit_and_check_in(KEYS, ARGV)\n"
        "local now, update, user, floor, due, code, session, guard = string.match(ARGV[1],\n"
        "  '^(%d+) ([%d-]+) (%d+) (%d+) ([01]) (%w+) ([%w-]+) ?(.*)$')\n"
        "if update == '-' then\n"
        "  update = ''\n"
        "end\n"
        "local profile = KEYS[1]\n"
        f"local user_keys = {{profile, profile .. {_lua(attempts)}, profile .. {_lua(menu)}}}\n"
        "if due == '1' then\n"
        f"  user_keys[4] = {_lua(keys.seen_index())}\n"
        "end\n"
        "local visit = touch(user_keys, {ARGV[2], ARGV[3], ARGV[4], now, update,\n"
        f"  '{keys.PROFILE_SAFETY_TTL}', ARGV[5], user, '{keys.UPDATE_WINDOW_IDS}',\n"
        f"  '{keys.UPDATE_WINDOW_QUIET_SECONDS * 1000}', floor}})\n"
        "if visit[3] == 1 then\n"
        "  return {visit}\n"
        "end\n"
        "if session == '-' then\n"
        f"  session = redis.call('GET', {_lua(code_before)} .. code)\n"
        "end\n"
        "if not session then\n"
        "  visit[6] = ''\n"
        "  return {visit, {0}}\n"
        "end\n"
        "visit[6] = session\n"
        f"local session_key = {_lua(session_before)} .. session\n"
        "return {visit, check_in(\n"
        f"  {{session_key .. {_lua(session_after)}, session_key .. {_lua(checkins_after)}}},\n"
        "  {code, user, now, guard})}\n"
        "end\n"
    )


#: Arguments per arrival in `visit_and_check_in_many_script`.
ARRIVAL_ARGUMENTS = 6


def visit_and_check_in_many_script() -> str:
    """`_visit_and_check_in_function` for every arrival a turn of the event loop gathered
    (storage.redis.batching), for a single Redis server: a hall checking in at once costs
    one command to encode, send and parse per batch, not one per student (the client's
    work per command is several times Redis's). Each arrival stays its own: it runs in a
    protected call, so an error in one is its own error reply, and the others are answered.

    ARGV: six per arrival: the profile key, then the function's ARGV[1..5].
    Returns one reply per arrival, in order: the function's, or an error reply.
    """
    return (
        f"{_visit_and_check_in_function()}"
        "local replies = {}\n"
        f"for i = 1, #ARGV, {ARRIVAL_ARGUMENTS} do\n"
        "  local ok, reply = pcall(visit_and_check_in, {ARGV[i]},\n"
        "    {ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]})\n"
        "  if not ok then\n"
        "    reply = type(reply) == 'table' and reply or redis.error_reply(tostring(reply))\n"
        "  end\n"
        "  replies[#replies + 1] = reply\n"
        "end\n"
        "return replies\n"
    )


def merge_registrations_script() -> str:
    """merge_registration.lua for many users in one call, for a single Redis server (the
    users' keys sit in different slots on a cluster; undeclared keys are allowed on one
    server): a burst of returning students costs one command to encode per batch, not one
    per student. The file stays the one script it is (its `KEYS` and `ARGV` are the local
    function's own).

    ARGV: four per user: the user id, the full name, the student number, the chosen
    language ('' when none). Returns how many profiles were merged into.
    """
    profile_before, profile_after = _around(keys.profile)
    forgotten = keys.forgotten(0).removeprefix(keys.profile(0))
    assert forgotten != keys.forgotten(0)
    return (
        f"local function merge(KEYS, ARGV)\n{load_script('merge_registration')}\nend\n"
        "local merged = 0\n"
        "for i = 1, #ARGV, 4 do\n"
        f"  local profile = {_lua(profile_before)} .. ARGV[i] .. {_lua(profile_after)}\n"
        f"  merged = merged + merge({{profile, profile .. {_lua(forgotten)}}},\n"
        "    {ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]})\n"
        "end\n"
        "return merged\n"
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

    async def call_once(self, args: Sequence[EncodableT]) -> Any:
        """One call with no keys declared (a batch script, on a single server), sent once:
        never again by the client after a lost connection, as redis-py's retry would. A
        script that claims updates, run again after its reply was lost, answers its own
        first run as a duplicate: every student of the batch would be left without a word.
        Sent once, they hear that Redis is unavailable and are asked to try again (their
        next try finds their check-in, if the first run made it). A server that lost its
        scripts (a restart) gets the script again, then the call."""
        redis = self._redis
        assert isinstance(redis, Redis), "batch scripts run on a single server"
        pool = redis.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            try:
                await connection.send_command("EVALSHA", self.sha, 0, *args)
                return await connection.read_response()
            except redis_errors.NoScriptError:
                await connection.send_command("SCRIPT", "LOAD", self.text)
                await connection.read_response()
                await connection.send_command("EVALSHA", self.sha, 0, *args)
                return await connection.read_response()
        except redis_errors.ResponseError:
            raise  # an error reply: the connection is as good as before
        except BaseException:  # lost, timed out or cancelled mid-reply: never reused
            await connection.disconnect(nowait=True)
            raise
        finally:
            await pool.release(connection)

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
        # one server only: updates' claims and profile touches, then their check-ins
        self.visit_and_check_in_many = self._add(
            LuaScript(self.redis, visit_and_check_in_many_script())
        )
        self.release_update = self._script("release_update")
        self.raise_update_floor = self._script("raise_update_floor")
        self.remove_idle_profile = self._script("remove_idle_profile")
        self.merge_registration = self._script("merge_registration")
        # one server only: many users' merges in one call
        self.merge_registrations = self._add(LuaScript(self.redis, merge_registrations_script()))
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
