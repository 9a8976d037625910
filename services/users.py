"""User profiles: cached in Redis while a user is active, kept in PostgreSQL for good."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from services.clock import Clock
from services.errors import InvalidArgument, StorageUnavailable
from services.models import Preferences, UserProfile
from services.ports import CardStore, ChatStateStore, ProfileCache, UserRecords, Visit
from services.session_options import JOINERS, joined

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 100
_STUDENT_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9./-]{0,31}")
PENDING_ACTION_MINUTES = 5
# One "open the bot privately" line per group in this many seconds, whoever triggers it.
GROUP_POINTER_SECONDS = 60


def clean_full_name(text: str) -> str:
    """A registered name: letters, spaces and the usual name punctuation, 2-100 characters."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidArgument("full_name", "length")
    for index, ch in enumerate(name):
        # Letters with their marks (Hindi, Thai... write vowels as spacing marks, Mc), and
        # the joiner inside a Persian name ("حسین‌زاده").
        mark = unicodedata.category(ch)[0] == "M"
        if not (ch.isalpha() or ch in " .'-" or mark or (ch in JOINERS and joined(name, index))):
            raise InvalidArgument("full_name", "characters")
    if not any(ch.isalpha() for ch in name):
        raise InvalidArgument("full_name", "characters")
    return name


class RegistrationLoader:
    """Brings registered names back into newly cached profiles, many users per query.

    Users who are in PostgreSQL get their registered name and number merged into the cache
    (never over one set meanwhile); users who are not get a row with their Telegram names, so
    summaries and exports, which read names from PostgreSQL, can name them.
    """

    BATCH_DELAY_SECONDS = 0.02

    def __init__(self, *, profiles: ProfileCache, users: UserRecords) -> None:
        self._profiles = profiles
        self._users = users
        self._pending: dict[int, UserProfile] = {}
        self._task: asyncio.Task[None] | None = None

    def request(self, profile: UserProfile) -> None:
        self._pending[profile.user_id] = profile
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def settle(self) -> None:
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._pending:
            await asyncio.sleep(self.BATCH_DELAY_SECONDS)  # let a burst gather
            batch, self._pending = self._pending, {}
            try:
                await self._load(batch)
            except StorageUnavailable:
                # The registered name stays safe in PostgreSQL; the user sweep upserts the
                # Telegram names later, and COALESCE there never erases a registered one.
                log.warning("profiles of %d users not loaded: storage unavailable", len(batch))
            except Exception:
                log.exception("loading %d profiles failed", len(batch))

    async def _load(self, batch: dict[int, UserProfile]) -> None:
        stored = await self._users.load_profiles(list(batch))
        newcomers = [p for uid, p in batch.items() if uid not in stored]
        if newcomers:
            await self._users.add_new_users(newcomers)
        registered: dict[int, tuple[str, ...]] = {
            uid: (p.full_name or "", p.student_number or "", p.language or "")
            for uid, p in stored.items()
            if p.full_name or p.student_number or p.language
        }
        if registered:
            await self._profiles.merge_registrations(registered)


class UserService:
    """Keeps each active user's profile in Redis and moves idle ones to PostgreSQL."""

    def __init__(
        self,
        *,
        profiles: ProfileCache,
        chat_state: ChatStateStore,
        cards: CardStore,
        users: UserRecords,
        clock: Clock,
        idle_minutes: int,
    ) -> None:
        self._profiles = profiles
        self._chat_state = chat_state
        self._cards = cards  # only the group pointer's claim
        self._users = users
        self._clock = clock
        self._idle = timedelta(minutes=idle_minutes)
        self._loader = RegistrationLoader(profiles=profiles, users=users)

    async def seen(self, profile: UserProfile, update_id: int | None = None) -> Visit:
        """Record an interaction: refresh the cached profile, loading it back if it was swept.

        Returns the visit, which carries any lock-out for too many wrong codes, and whether
        this update id was already handled (Telegram redelivers; several processes share).
        """
        current = replace(profile, last_seen=self._clock.now())
        visit = await self._profiles.touch_profile(current, update_id)
        self.visited(current, visit)
        return visit

    def visited(self, profile: UserProfile, visit: Visit) -> None:
        """After a profile was touched (by `seen`, or in the same step as a check-in)."""
        if not visit.cached and not visit.duplicate:
            # Newly cached: its registered name comes from PostgreSQL in the background, in
            # batches, so no update waits for PostgreSQL (nor fails while it is away).
            self._loader.request(profile)

    async def menu_version(self, user_id: int) -> str | None:
        """The version of the command menu last set in the user's private chat (None: none)."""
        return await self._chat_state.menu_version(user_id)

    async def remember_menu(self, user_id: int, version: str | None) -> None:
        """Remember the menu just set, so it is set once per role and version, not per message."""
        await self._chat_state.remember_menu(user_id, version)

    async def may_point_group(self, chat_id: int) -> bool:
        """True when the group may get an "open the bot privately" line now: at most one per
        group every GROUP_POINTER_SECONDS, whoever asks (30 students who never opened the
        bot checking in from the group would otherwise get 30 lines, over Telegram's 20
        messages a minute per group, and the group's card would wait behind them)."""
        return await self._cards.claim_group_pointer(chat_id, seconds=GROUP_POINTER_SECONDS)

    async def release_update(self, user_id: int, update_id: int) -> None:
        """Forget that an update was handled: it was cut off and will be delivered again."""
        await self._profiles.release_update_claim(user_id, update_id=update_id)

    async def settle(self) -> None:
        """Wait until every background profile load has finished (shutdown and tests)."""
        await self._loader.settle()

    async def register(
        self, profile: UserProfile, full_name_text: str, student_number: str | None
    ) -> UserProfile:
        """Set the name (and optional student number) teachers see.

        Raises:
            InvalidArgument: the name or number is malformed.
        """
        full_name = clean_full_name(full_name_text)
        if student_number is not None and not _STUDENT_NUMBER.fullmatch(student_number):
            raise InvalidArgument("student_number", "format")
        updated = replace(
            profile,
            full_name=full_name,
            student_number=student_number,
            last_seen=self._clock.now(),
        )
        await self._users.save_registration(
            updated, full_name=full_name, student_number=student_number
        )
        await self._profiles.store_profile(updated)
        return updated

    async def set_language(self, user_id: int, language: str | None) -> None:
        """Remember the language the user chose (None: follow their Telegram app's), for good
        and in their cached profile, so their next update and jobs writing to them use it.

        Which languages exist is the bot's business (its catalogs); it checks before calling.
        """
        await self._users.save_language(user_id, language=language)
        cached = await self._profiles.cached_profile(user_id)
        if cached is not None:
            await self._profiles.store_profile(replace(cached, language=language))

    async def preferences(self, user_id: int) -> Preferences:
        """What the user set in /settings besides the language (the defaults if nothing)."""
        return await self._users.load_preferences(user_id)

    async def save_preferences(self, user_id: int, preferences: Preferences) -> None:
        """Keep the user's /settings choices; the values are checked by the caller's buttons
        and again by the table's constraints."""
        await self._users.save_preferences(user_id, preferences)

    async def language_of(self, user_id: int) -> tuple[str | None, str | None]:
        """(chosen language, Telegram language code) of a user a job writes to: the cached
        profile's, else the saved one's ((None, None) for someone never seen)."""
        profile = await self._profiles.cached_profile(user_id)
        if profile is None:
            profile = await self._users.load_profile(user_id)
        if profile is None:
            return None, None
        return profile.language, profile.language_code

    async def expect_reply(self, user_id: int, action: str, payload: str = "") -> None:
        """Remember that the user's next plain text answers `action` (e.g. a check-in code)."""
        until = self._clock.now() + timedelta(minutes=PENDING_ACTION_MINUTES)
        await self._chat_state.set_pending_action(user_id, action, until=until, payload=payload)

    async def take_expected_reply(
        self, user_id: int, only: Sequence[str] = ()
    ) -> tuple[str, str] | None:
        """(action, payload) the user's message answers, if pending; consumed once. With
        `only`, a pending action of another kind is not consumed (a typed text must not use
        up a "share your location" prompt)."""
        return await self._chat_state.pop_pending_action(user_id, self._clock.now(), only)

    async def sweep_idle_users(self, batch: int = 500) -> int:
        """Persist profiles idle longer than the idle time, then drop them from Redis.

        Safe to run twice or concurrently: the upsert is idempotent and a profile is only
        dropped if the user was not seen again since it was read.
        """
        cutoff = self._clock.now() - self._idle
        user_ids = await self._profiles.idle_profiles(cutoff, batch)
        if not user_ids:
            return 0
        cached = await self._profiles.cached_profiles(user_ids)
        idle = [p for p in cached.values() if p.last_seen is not None and p.last_seen <= cutoff]
        await self._users.upsert_profiles(idle)
        for profile in idle:
            await self._profiles.remove_profile_if_idle(profile.user_id, profile.last_seen)
        for user_id in set(user_ids) - set(cached):
            # In the index but no longer cached (a crash between the two removals).
            await self._profiles.remove_profile_if_idle(user_id, None)
        return len(idle)
