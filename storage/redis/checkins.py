"""Check-ins, judged atomically by `check_in.lua` (the hot path: one round trip per check-in),
the wrong-code guard (`take_guess.lua`, `settle_guess.lua`) and the teacher's live marks
(`mark_live.lua`). Implements `CheckInStore`."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable
from datetime import datetime
from typing import Any

from redis.exceptions import NoScriptError
from redis.typing import EncodableT

from services.clock import from_ms, to_ms
from services.errors import StorageUnavailable
from services.models import AttendanceStatus, CheckIn, CheckInOutcome, CheckInResult, UserProfile
from services.ports.values import GuessLimit, Visit
from storage.redis import keys
from storage.redis.batching import BatchedScript
from storage.redis.codec import checkin_from, checkin_keys, parse_checkin_value, text
from storage.redis.codes import CodeRoutes
from storage.redis.errors import UNAVAILABLE, redis_guard
from storage.redis.profiles import RedisProfileCache, visit_from
from storage.redis.scripts import ARRIVAL_ARGUMENTS, Scripts

# check_in.lua's outcome codes (the first element of its reply), by position.
_OUTCOMES = (
    CheckInOutcome.WRONG_CODE,  # 0: no session has the code
    CheckInOutcome.LOCKED_OUT,
    CheckInOutcome.CLOSED,
    CheckInOutcome.EXPIRED_CODE,
    CheckInOutcome.WRONG_CODE,
    CheckInOutcome.NOT_ENROLLED,
    CheckInOutcome.NEEDS_LOCATION,
    CheckInOutcome.RECORDED,  # 7: present
    CheckInOutcome.RECORDED,  # 8: late
    CheckInOutcome.DUPLICATE,
)
_NO_SESSION, _LOCKED, _RECORDED, _RECORDED_LATE, _DUPLICATE = 0, 1, 7, 8, 9
_LOCKED_OUT = CheckInResult(CheckInOutcome.LOCKED_OUT)  # nothing about the session the code named
_NO_SUCH_CODE = CheckInResult(CheckInOutcome.WRONG_CODE)
_PRESENT, _LATE = AttendanceStatus.PRESENT, AttendanceStatus.LATE


class RedisCheckInStore:
    """Who checked in to an open session. Works on one server or on Redis Cluster."""

    def __init__(
        self, scripts: Scripts, routes: CodeRoutes, profiles: RedisProfileCache | None = None
    ) -> None:
        # With `profiles` on one server: /checkin updates in one step (`visit_and_check_in`).
        self._profiles = None if scripts.cluster else profiles
        self._visit_and_check_in = BatchedScript(scripts.visit_and_check_in_many, ARRIVAL_ARGUMENTS)
        self._scripts = scripts
        self._redis = scripts.redis
        self._routes = routes
        self._check_in = scripts.check_in
        self._cluster = scripts.cluster
        self._keys_of: dict[str, tuple[bytes, ...]] = {}
        self._guard: tuple[GuessLimit | None, str, bytes] = (None, "", b"")

    def check_in(
        self,
        code: str,
        student_id: int,
        now: datetime,
        *,
        metres: int | None = None,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> Awaitable[CheckInResult]:
        """Find the session by its code (unless a QR link named it) and run the atomic
        check-in script on it.

        With a `guard`, at most `guard.limit` codes of the student are judged in any window,
        whatever the concurrency, and the limit-th wrong one locks them out (outcome
        LOCKED_OUT, which says nothing about the session the code named). On one Redis
        server the guard runs inside the check-in script itself (one round trip, as without
        it). On a cluster the student's keys are in another hash slot, so a guess is taken
        in the student's slot before the code is judged and settled after (given back unless
        wrong). A code that names no session is judged by its lookup alone, so it is counted
        the same take-then-settle way in both setups.

        (A plain function handing over the one coroutine that does the work: on the hottest
        path every coroutine level costs a little.)
        """
        if guard is not None and self._cluster:
            return self._check_in_on_cluster(code, student_id, now, metres, session_id, guard)
        return self._judge(code, student_id, now, metres, session_id, guard)

    async def _check_in_on_cluster(
        self,
        code: str,
        student_id: int,
        now: datetime,
        metres: int | None,
        session_id: str | None,
        guard: GuessLimit,
    ) -> CheckInResult:
        """`check_in` with the guard on Redis Cluster: take a guess, judge, settle it."""
        token = await self.take_guess(student_id, now, guard.window_seconds, guard.limit)
        if token is None:
            return _LOCKED_OUT
        try:
            result = await self._judge(code, student_id, now, metres, session_id, None)
        except Exception:
            with contextlib.suppress(StorageUnavailable):
                await self._settle(student_id, token, False, now, guard)
            raise
        wrong = result.outcome is CheckInOutcome.WRONG_CODE
        if await self._settle(student_id, token, wrong, now, guard):
            return _LOCKED_OUT
        return result

    async def _judge(
        self,
        code: str,
        student_id: int,
        now: datetime,
        metres: int | None,
        session_id: str | None,
        guard: GuessLimit | None,
    ) -> CheckInResult:
        """Resolve the code (unless named) and run the check-in script (guarded in-script
        when `guard` is given: single Redis server only; a code no session has is then
        counted here, take-then-settle, as no script saw it).

        The hottest path: every argument costs client time to encode, so the session's keys
        are built once per session, the guard's settings travel as one prebuilt argument,
        the script is called by its SHA straight on the client (its reload after a Redis
        restart aside), and the compact reply is read by position (see check_in.lua)."""
        named = session_id
        now_ms = to_ms(now)
        args: tuple[EncodableT, ...] = (
            code,
            student_id,
            now_ms,
            b"" if guard is None else self._guard_argument(guard),
        )
        if metres is not None:
            args += (metres,)
        try:  # (not redis_guard: this is the hottest path, and a plain try costs nothing)
            for fresh in (False, True):
                session_id = (
                    named
                    or (None if fresh else self._routes.cached(code))
                    or await self._routes.resolve(code, fresh)
                )
                if session_id is None:
                    break
                keys_of_session = self._session_keys(session_id)
                try:
                    reply = await self._redis.execute_command(
                        "EVALSHA", self._check_in.sha, len(keys_of_session), *keys_of_session, *args
                    )
                except NoScriptError:  # Redis restarted: the wrapper loads it again
                    reply = await self._check_in(keys=keys_of_session, args=args)
                found = reply[0]
                if found == _NO_SESSION and not fresh and named is None:
                    continue  # the cached route may be stale: look the code up once more
                break
        except UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
        if session_id is not None:
            result = _result(reply, session_id, now_ms)
            if result is not None:
                return result
        if guard is not None:
            # No session has this code: the lookup was the judgement, and no script counted
            # it. Count it.
            token = await self.take_guess(student_id, now, guard.window_seconds, guard.limit)
            if token is None or await self._settle(student_id, token, True, now, guard):
                return _LOCKED_OUT
        return _NO_SUCH_CODE

    async def visit_and_check_in(
        self,
        profile: UserProfile,
        update_id: int | None,
        code: str,
        now: datetime,
        *,
        session_id: str | None = None,
        guard: GuessLimit | None = None,
    ) -> tuple[Visit, CheckInResult | None] | None:
        """touch_profile.lua then check_in.lua as one atomic step: the update's claim, the
        profile, the lock-out and the check-in in one round trip, the session found by the
        code's route in the same step; sent with the other arrivals of this turn of the
        event loop as one command (`visit_and_check_in_many_script`, storage.redis.batching).
        One Redis server only: None on a cluster. A code no session has is judged again by
        `check_in`, which counts it against the guard as always (take, then settle: no
        session's script counted it)."""
        if self._profiles is None or not _word(code) or not _word(session_id or "-"):
            return None  # (the script reads them as words: always, once validated)
        now_ms = to_ms(now)
        try:
            touch, numbers = await self._profiles.prepare_arrival(profile, update_id, now_ms)
            words = f"{numbers} {code} {session_id or '-'}"
            if guard is not None:
                words = f"{words} {self._guard_text(guard)}"
            reply = await self._visit_and_check_in((*touch.keys, words, *touch.args))
        except UNAVAILABLE as exc:
            raise StorageUnavailable("Redis") from exc
        touched = reply[0]
        visit = visit_from(touched)
        await self._profiles.touched(touch, visit)
        if visit.duplicate:
            return visit, None
        result = _result(reply[1], text(touched[5]), now_ms) if touched[5] else None
        if result is None:  # no session has the code, or it is gone (a stale QR link)
            result = await self.check_in(
                code, profile.user_id, now, session_id=session_id, guard=guard
            )
        return visit, result

    def _session_keys(self, session_id: str) -> tuple[bytes, ...]:
        """The check-in script's keys of a session, encoded once (sessions are few, check-ins
        many). On a single server only the two it always reads: it names the other two from
        the first (fewer arguments to encode on the hot path); a cluster gets all four, as it
        requires every key declared."""
        known = self._keys_of.get(session_id)
        if known is None:
            if len(self._keys_of) > 10_000:
                self._keys_of.clear()
            named = checkin_keys(session_id) if self._cluster else checkin_keys(session_id)[:2]
            known = self._keys_of[session_id] = tuple(k.encode() for k in named)
        return known

    def _guard_argument(self, guard: GuessLimit) -> bytes:
        """The guard's settings as check_in.lua's one argument (built once per limit)."""
        self._guard_text(guard)
        return self._guard[2]

    def _guard_text(self, guard: GuessLimit) -> str:
        """The guard's settings as check_in.lua reads them (built once per limit)."""
        if guard is not self._guard[0]:
            settings = (
                guard.window_seconds * 1000,
                guard.limit,
                guard.lock_seconds * 1000,
                keys.ATTEMPTS_SAFETY_TTL,
                keys.UNSETTLED_GUESS_SECONDS * 1000,
            )
            words = " ".join(map(str, settings))
            self._guard = (guard, words, words.encode())
        return self._guard[1]

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

    async def take_guess(
        self, user_id: int, now: datetime, window_seconds: int, limit: int
    ) -> str | None:
        """Take one of the user's `limit` code guesses per sliding window, before the code is
        judged; the token to settle it with, or None when the user may not guess now."""
        token = secrets.token_hex(6)
        async with redis_guard():
            allowed, _ = await self._scripts.take_guess(
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
        async with redis_guard():
            locked = await self._scripts.settle_guess(
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

    async def checked_in(self, session_id: str) -> dict[int, CheckIn]:
        async with redis_guard():
            values = await self._redis.hgetall(keys.session_checkins(session_id))
        return {int(text(k)): checkin_from(session_id, text(k), text(v)) for k, v in values.items()}

    async def checkin_count(self, session_id: str) -> int:
        async with redis_guard():
            return int(await self._redis.hlen(keys.session_checkins(session_id)))

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
        *,
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
        async with redis_guard():
            outcome, previous = await self._scripts.mark_live(
                keys=[
                    keys.session(session_id),
                    keys.session_checkins(session_id),
                    keys.session_marks(session_id),
                ],
                args=[student_id, status, condition],
            )
        before = text(previous)
        return text(outcome), AttendanceStatus(before) if before else None


def _word(value: str) -> bool:
    """ASCII letters and digits (or "-"): what the one-step script reads as one word."""
    return value.isascii() and (value.isalnum() or value == "-")


def _result(reply: list[Any], session_id: str, now_ms: int) -> CheckInResult | None:
    """check_in.lua's compact reply, read by position; None when no session was there."""
    found = reply[0]
    if found < _RECORDED:
        if found == _NO_SESSION:
            return None
        if found == _LOCKED:
            return _LOCKED_OUT
        title = text(reply[1]) if len(reply) > 1 else ""
        return CheckInResult(_OUTCOMES[found], session_id, title)
    if found == _DUPLICATE:
        when, late = parse_checkin_value(text(reply[4]))
    else:
        when, late = now_ms, found == _RECORDED_LATE
    return CheckInResult(
        _OUTCOMES[found],
        session_id,
        text(reply[1]),
        when,
        _LATE if late else _PRESENT,
        reply[2],
        None,
        text(reply[3]) or None,
    )
