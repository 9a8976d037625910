"""The language of someone a job writes to (a summary's teacher, a nudged student, a card's
teacher): not the update's sender, since there is none, but the recipient's.

Read from their profile (their choice, else their Telegram app's language) and remembered
for a minute per process: the card refresh asks every few seconds per card, and a language
changes rarely (a change reaches cards within the minute).
"""

from __future__ import annotations

import time

from bot.context import AttnContext, HoldsBotData
from bot.text import default_language, pick_language
from services.errors import StorageUnavailable
from services.users import UserService

TTL_SECONDS = 60.0
LIMIT = 10_000


class RecipientLanguages:
    """Each recipient's language, read from their profile, kept for TTL_SECONDS."""

    def __init__(self, users: UserService) -> None:
        self.users = users
        self._known: dict[int, tuple[str, float]] = {}

    async def of(self, user_id: int) -> str:
        """Their language; the installation's default while storage is away."""
        now = time.monotonic()
        known = self._known.get(user_id)
        if known is not None and known[1] > now:
            return known[0]
        try:
            choice, code = await self.users.language_of(user_id)
        except StorageUnavailable:
            return default_language()
        language = pick_language(choice, code)
        if len(self._known) >= LIMIT:
            self._known.clear()
        self._known[user_id] = (language, now + TTL_SECONDS)
        return language

    def forget(self, user_id: int) -> None:
        """Their language changed (set_language): read it again next time."""
        self._known.pop(user_id, None)


LANGUAGES_KEY = "recipient_languages"


def recipient_languages(context: AttnContext) -> RecipientLanguages:
    """The process's `RecipientLanguages` (made at first use, over the running services)."""
    return languages_of(context.application, context.services.users)


def languages_of(application: HoldsBotData, users: UserService) -> RecipientLanguages:
    """The process's `RecipientLanguages`, for code with no handler context (the web
    pages, in the teacher's language)."""
    bot_data = application.bot_data
    found: RecipientLanguages | None = bot_data.get(LANGUAGES_KEY)
    if found is None or found.users is not users:
        found = bot_data[LANGUAGES_KEY] = RecipientLanguages(users)
    return found
