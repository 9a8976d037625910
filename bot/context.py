"""A typed context so handlers reach the services and the time zone without casts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from services.models import UserProfile
from services.ports import Visit

if TYPE_CHECKING:
    from bot.container import Services
    from bot.settings import Settings

SERVICES_KEY = "services"
# The validated settings (bot.app.build_application puts them there): what handlers need of
# them, such as whether the web features are on (`Settings.web_enabled`).
SETTINGS_KEY = "settings"

# PTB's own default for user_data, chat_data and bot_data (`ContextTypes.DEFAULT_TYPE` uses
# it): ATTN keeps typed values under fixed keys and reads each back through a typed accessor.
PTBData = dict[Any, Any]


class HoldsBotData(Protocol):
    """Whatever keeps ATTN's per-process objects in `bot_data`: the application, both as
    built (`AttnApplication`) and as `context.application`, which PTB types with its context
    type variable left unbound, so it does not match `AttnApplication` itself."""

    @property
    def bot_data(self) -> PTBData: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """An update whose visit (claim, profile, lock-out) the gate left to its check-in, so
    both are one Redis step (see `bot.gate.claim_update`)."""

    profile: UserProfile
    update_id: int


class AttnContext(CallbackContext[ExtBot[None], PTBData, PTBData, PTBData]):
    """The callback context of every ATTN handler and job."""

    def __init__(
        self,
        application: AttnApplication,
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        # Set by the first handler of each update (PTB builds one context per update and
        # passes it to every handler group), so the check-in knows about a lock-out without
        # another round trip.
        self.visit: Visit | None = None
        # Set instead of `visit` when the update's check-in takes its visit along.
        self.arrival: Arrival | None = None
        # The last background reply to this update, so the next one goes out after it.
        self.last_reply: asyncio.Task[None] | None = None
        # A group was already told to open the private chat (once per update is enough).
        self.pointed_to_private = False

    @property
    def locked_until(self) -> datetime | None:
        return self.visit.locked_until if self.visit else None

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def settings(self) -> Settings:
        settings: Settings = self.application.bot_data[SETTINGS_KEY]
        return settings

    @property
    def web_enabled(self) -> bool:
        """The projector page and the Mini App exist on this server (ATTN_PUBLIC_URL is set);
        when not, say `web.off` where their button would be."""
        return self.settings.web_enabled

    @property
    def tz(self) -> tzinfo:
        defaults = self.bot.defaults
        return defaults.tzinfo if defaults and defaults.tzinfo else UTC


# The Application `bot.app.build_application` returns: the bot has no per-call rate-limit
# arguments (FloodLimiter takes none), every callback gets an AttnContext, jobs included.
AttnApplication = Application[
    ExtBot[None], AttnContext, PTBData, PTBData, PTBData, JobQueue[AttnContext]
]
