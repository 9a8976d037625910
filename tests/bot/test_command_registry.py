"""The registry is the only source of commands: a new declaration reaches the handlers, the
menu and /help of its role, and nothing registers a command outside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update
from telegram.ext import CommandHandler

import bot.handlers
from bot.commands import Command, Registry, Role
from bot.container import Services
from bot.context import AttnContext
from bot.handlers import COMMANDS, REGISTRY
from bot.replying import respond
from bot.text import en, t
from tests.conftest import ADMIN_ID, TEACHER_ID, make_settings
from tests.support.bot_harness import BotHarness
from tests.support.telegram import ApiCall

STUDENT = 52_525
PRODUCT = Path(__file__).resolve().parents[2] / "bot"


async def pause_command(update: Update, context: AttnContext) -> None:
    """/pause_demo [minutes]"""
    respond(context, update, t("command.pause_demo.about"))


PAUSE = Command("pause_demo", pause_command, Role.TEACHER)


@pytest.fixture
async def demo_bot(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotHarness]:
    """The bot with one more teacher command, declared the way a handler module declares it."""
    monkeypatch.setitem(en.MESSAGES, "command.pause_demo.about", "pause the open session")
    monkeypatch.setitem(en.MESSAGES, "command.pause_demo.usage", "/pause_demo [minutes]")
    monkeypatch.setattr(bot.handlers, "REGISTRY", Registry([*COMMANDS, PAUSE]))
    async with BotHarness(make_settings(), services) as harness:
        yield harness


def menu(harness: BotHarness, chat_id: int | None) -> list[str]:
    """The commands of the last menu set for a chat (None: the default menu)."""
    calls: list[ApiCall] = []
    for call in harness.request.calls:
        if call.method != "setMyCommands":
            continue
        scope = call.params.get("scope", {})
        # The default menu: the one without a language (one is also set per language).
        default = scope.get("type") == "default" and "language_code" not in call.params
        if default if chat_id is None else scope.get("chat_id") == chat_id:
            calls.append(call)
    return [c["command"] for c in calls[-1].params["commands"]]


async def test_a_command_declared_for_teachers_reaches_their_menu_and_help_only(
    demo_bot: BotHarness,
) -> None:
    assert "pause_demo" in menu(demo_bot, TEACHER_ID)
    assert "pause_demo" in menu(demo_bot, ADMIN_ID)
    assert "pause_demo" not in menu(demo_bot, None)  # students: the default menu
    [teacher_help] = await demo_bot.send(TEACHER_ID, "/help")
    assert "/pause_demo [minutes] — pause the open session" in teacher_help
    [student_help] = await demo_bot.send(STUDENT, "/help")
    assert "/pause_demo" not in student_help and "/checkin" in student_help
    # Registered from the declaration alone: the teacher's command runs.
    assert await demo_bot.send(TEACHER_ID, "/pause_demo 5") == ["pause the open session"]


async def test_help_and_menus_list_what_the_registry_shows_each_role(bot: BotHarness) -> None:
    [student_help] = await bot.send(STUDENT, "/help")
    [teacher_help] = await bot.send(TEACHER_ID, "/help")
    for command in REGISTRY:
        line = f"{command.usage()} — {command.about()}"
        assert (line in teacher_help) == (command.role is not Role.ADMIN), command.name
        assert (line in student_help) == (command.role in (Role.STUDENT, Role.EVERYONE))
    shown = REGISTRY.visible_to(is_teacher=False, is_admin=False)
    assert menu(bot, None) == [c.name for c in shown]
    assert menu(bot, ADMIN_ID) == [c.name for c in REGISTRY.by_role()]


async def test_every_command_handler_comes_from_the_registry(bot: BotHarness) -> None:
    registered = [
        (sorted(h.commands), h.callback)
        for handlers in bot.app.handlers.values()
        for h in handlers
        if isinstance(h, CommandHandler)
    ]
    assert registered == [([c.name], c.callback) for c in REGISTRY]


def test_no_command_handler_is_built_outside_the_registry() -> None:
    """A stray `CommandHandler(...)` in a handler module would bypass menus and /help."""
    builders = sorted(
        str(path.relative_to(PRODUCT))
        for path in PRODUCT.rglob("*.py")
        if "CommandHandler(" in path.read_text(encoding="utf-8")
    )
    assert builders == ["commands.py"]
