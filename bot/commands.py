"""The one command registry: each command declared once, where its handler lives.

A handler module ends with `COMMANDS: tuple[Command, ...]`; `bot.handlers` gathers them in
order into a `Registry`, which registers the `CommandHandler`s and is the only source of the
per-role menus, `/help`, the welcome's usage lines and (checked by a test) the README's
command tables. Descriptions and usage lines are catalog keys, `command.<name>.about` and
`command.<name>.usage`, so they are translated with the rest.

Who may use a command is enforced by the services (`require_teacher`, `require_admin`,
`CourseAccess`) on every call; the role here decides who is *shown* it, and the two are kept
in step by tests. A teacher command with a `staff` permission is also shown to course staff
(co-teachers, assistants) who are not teachers, when a role of theirs grants it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from html import unescape
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Update
from telegram.ext import CommandHandler, filters

from bot.text import Raw, Text, join, t
from services.course_access import Permission

if TYPE_CHECKING:
    from bot.context import AttnApplication, AttnContext, HoldsBotData

# PTB's handler callback shape (`HandlerCallback`): a coroutine function of update and context.
Callback = Callable[[Update, "AttnContext"], Coroutine[Any, Any, None]]

# Only new messages: an edited "/checkin" must not run the command again.
NEW = filters.UpdateType.MESSAGE

COMMANDS_KEY = "commands"


class Role(enum.Enum):
    """Who a command is for, in the order menus, /help and the README list them."""

    STUDENT = "student"  # checking in and courses; teachers and admins may use them too
    TEACHER = "teacher"  # admins are teachers too
    ADMIN = "admin"
    EVERYONE = "everyone"  # about the bot and your own data

    def shown_to(self, *, is_teacher: bool, is_admin: bool) -> bool:
        if self is Role.ADMIN:
            return is_admin
        if self is Role.TEACHER:
            return is_teacher or is_admin
        return True


_ROLE_ORDER = {role: rank for rank, role in enumerate(Role)}


class ChatKind(enum.Enum):
    """Where a command is answered: a private chat, or a group (answers go privately)."""

    PRIVATE = "private"
    GROUP = "group"


ANY_CHAT = frozenset(ChatKind)


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its name, handler, who it is for and where it works."""

    name: str
    callback: Callback
    role: Role
    chats: frozenset[ChatKind] = ANY_CHAT
    #: The course permission that lets staff who are not teachers use it (None: teachers').
    staff: Permission | None = None
    #: Its handler remembers its answer for the last update (`RememberingCommandHandler`).
    remembers_match: bool = False

    def shown_to(
        self, *, is_teacher: bool, is_admin: bool, staff: frozenset[Permission] = frozenset()
    ) -> bool:
        if self.role.shown_to(is_teacher=is_teacher, is_admin=is_admin):
            return True
        return self.role is Role.TEACHER and self.staff is not None and self.staff in staff

    @property
    def about_key(self) -> str:
        return f"command.{self.name}.about"

    @property
    def usage_key(self) -> str:
        return f"command.{self.name}.usage"

    def about(self, language: str | None = None) -> Text:
        """The short line of the menu and /help (Telegram HTML)."""
        return t(self.about_key, language=language)

    def usage(self) -> Text:
        """How the command is written, e.g. `/extend [minutes]` (Telegram HTML)."""
        return t(self.usage_key)

    def handler(self) -> CommandHandler[AttnContext, None]:
        """The `CommandHandler` that runs it, only where it works."""
        where: filters.BaseFilter = NEW
        if self.chats != ANY_CHAT:
            if ChatKind.PRIVATE in self.chats:
                where = where & filters.ChatType.PRIVATE
            else:
                where = where & filters.ChatType.GROUPS
        if self.remembers_match:
            return RememberingCommandHandler(self.name, self.callback, filters=where)
        return CommandHandler(self.name, self.callback, filters=where)


# What `CommandHandler.check_update` answers.
_Match = bool | tuple[list[str], bool | dict[str, list[Any]] | None] | None


class RememberingCommandHandler(CommandHandler["AttnContext", None]):
    """A `CommandHandler` that remembers its answer for the last update it was asked about.

    Why: the gate asks the /checkin handler whether it takes an update (bot/gate.py
    `checks_in_by_code`, to give the check-in the update's visit), and python-telegram-bot
    asks again right after, for the same update. The answer depends on the update alone, so
    the second time it is the first one's; another update in between only means asking again.
    """

    __slots__ = ("_last",)

    def __init__(self, command: str, callback: Callback, filters: filters.BaseFilter) -> None:
        super().__init__(command, callback, filters=filters)
        self._last: tuple[object, _Match] = (None, None)

    def check_update(self, update: object) -> _Match:
        last, answer = self._last
        if update is not last:
            answer = super().check_update(update)
            self._last = (update, answer)
        return answer


class Registry:
    """Every command in declaration order; names are unique."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands = tuple(commands)
        self._by_name: dict[str, Command] = {}
        for command in self._commands:
            if command.name in self._by_name:
                raise ValueError(f"command /{command.name} declared twice")
            self._by_name[command.name] = command

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands)

    def __len__(self) -> int:
        return len(self._commands)

    def __getitem__(self, name: str) -> Command:
        return self._by_name[name]

    def by_role(self) -> list[Command]:
        """Grouped by role (students first, everyone last), declaration order within."""
        return sorted(self._commands, key=lambda c: _ROLE_ORDER[c.role])

    def visible_to(
        self, *, is_teacher: bool, is_admin: bool, staff: frozenset[Permission] = frozenset()
    ) -> list[Command]:
        """Exactly the commands this user may use, as the menu and /help list them (`staff`:
        what their course roles allow, for staff who are not teachers)."""
        return [
            c
            for c in self.by_role()
            if c.shown_to(is_teacher=is_teacher, is_admin=is_admin, staff=staff)
        ]

    def menu(
        self,
        *,
        is_teacher: bool,
        is_admin: bool,
        language: str | None = None,
        staff: frozenset[Permission] = frozenset(),
    ) -> list[BotCommand]:
        """The Telegram command menu (plain text, at most 256 characters a line)."""
        return _menu(
            self.visible_to(is_teacher=is_teacher, is_admin=is_admin, staff=staff), language
        )

    def group_menu(self, names: Iterable[str], language: str | None = None) -> list[BotCommand]:
        """The menu of group chats: those of `names` declared here that work in groups."""
        wanted = set(names)
        return _menu(
            [c for c in self.by_role() if c.name in wanted and ChatKind.GROUP in c.chats],
            language,
        )

    def help_text(
        self, *, is_teacher: bool, is_admin: bool, staff: frozenset[Permission] = frozenset()
    ) -> Text:
        """/help: each visible command's usage and what it is for."""
        lines = [
            t("help.line", usage=Raw(c.usage()), about=Raw(c.about()))
            for c in self.visible_to(is_teacher=is_teacher, is_admin=is_admin, staff=staff)
        ]
        return join([t("help.heading"), *lines])

    def add_handlers(self, application: AttnApplication) -> None:
        """Register every command's handler, and the registry for menus and /help."""
        application.bot_data[COMMANDS_KEY] = self
        for command in self._commands:
            application.add_handler(command.handler())


def _menu(commands: Iterable[Command], language: str | None) -> list[BotCommand]:
    return [BotCommand(c.name, unescape(c.about(language))[:256]) for c in commands]


def commands_of(application: HoldsBotData) -> Registry:
    """The registry `add_handlers` put in the application (for /help and the menus)."""
    registry: Registry = application.bot_data[COMMANDS_KEY]
    return registry


def welcome(registry: Registry, first_name: str, *, is_teacher: bool) -> Text:
    """/start without a payload: hello, and the first commands of the user's role."""
    hello = t("welcome.hello", first_name=first_name)
    if is_teacher:
        # Students' /checkin is said as they type it (with CODE), not as its usage line.
        usage = {n: Raw(registry[n].usage()) for n in ("start_session", "end_session")}
        teacher = t(
            "welcome.teacher",
            start_session=usage["start_session"],
            end_session=usage["end_session"],
        )
        return join([hello, teacher], "\n\n")
    return join([hello, t("welcome.student", register=Raw(registry["register"].usage()))], "\n\n")
