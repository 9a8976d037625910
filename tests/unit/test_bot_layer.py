"""The bot layer's shared pieces: the card publisher (the one place that knows a private
card is a QR photo and a group card is text without the code) and the prompts enum."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from telegram import Bot, InputFile, InputMediaPhoto, Message
from telegram.error import BadRequest

from bot.cards import CardPublisher
from bot.prompts import PendingAction
from services.models import CardState, Session, SessionSummary
from services.users import UserService

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEACHER = 1001
GROUP = -100123


class RecordingBot:
    """Just the Bot API methods a card uses: records each call, answers with a message."""

    username = "attn_test_bot"

    def __init__(self, refuse: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._refuse = refuse

    def __getattr__(self, method: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, {"args": args, **kwargs}))
            if self._refuse is not None:
                raise self._refuse
            return cast(Message, type("Sent", (), {"message_id": 42 + len(self.calls)})())

        return call

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]


def publisher(bot: RecordingBot) -> CardPublisher:
    return CardPublisher(cast(Bot, bot), UTC)


def a_session(code: str = "K7M2QA") -> Session:
    return Session(
        id="0123456789ab",
        teacher_id=TEACHER,
        chat_id=GROUP,
        title="Algebra",
        code=code,
        started_at=START,
        ends_at=START + timedelta(minutes=10),
    )


async def test_a_private_card_is_a_qr_photo_whose_caption_has_the_code() -> None:
    bot = RecordingBot()
    message_id, view = await publisher(bot).post(TEACHER, a_session())
    [(method, call)] = bot.calls
    assert method == "send_photo"
    assert call["args"][0] == TEACHER
    assert isinstance(call["args"][1], InputFile)
    assert "K7M2QA" in call["caption"] and call["caption"] == view.text
    assert call["reply_markup"] is view.keyboard is not None
    assert message_id == 43
    assert view.code == "K7M2QA"


async def test_a_group_card_is_text_without_code_or_qr() -> None:
    bot = RecordingBot()
    _, view = await publisher(bot).post(GROUP, a_session())
    [(method, call)] = bot.calls
    assert method == "send_message"
    assert call["args"] == (GROUP, view.text)
    assert "K7M2QA" not in view.text
    assert view.code == ""  # so a new code never asks for a new image there


async def test_edits_keep_each_card_in_its_form() -> None:
    bot = RecordingBot()
    cards = publisher(bot)
    session = a_session()
    state = CardState(session, 3)
    group_view = cards.view(state, START, GROUP)
    private_view = cards.view(state, START, TEACHER)
    await cards.edit(GROUP, 7, session, group_view, new_code=True)
    await cards.edit(TEACHER, 8, session, private_view, new_code=True)
    await cards.edit(TEACHER, 8, session, private_view, new_code=False)
    assert bot.methods() == ["edit_message_text", "edit_message_media", "edit_message_caption"]
    media = bot.calls[1][1]["args"][0]
    assert isinstance(media, InputMediaPhoto)
    assert media.caption == private_view.text
    # Uploaded as attach://, or Telegram answers "media not found" and the QR freezes.
    assert isinstance(media.media, InputFile) and media.media.attach_uri
    assert "K7M2QA" not in bot.calls[0][1]["args"][0]


def a_summary(card_chat_id: int | None) -> SessionSummary:
    return SessionSummary(
        session_id="0123456789ab",
        teacher_id=TEACHER,
        chat_id=GROUP,
        title="Algebra",
        started_at=START,
        ends_at=START + timedelta(minutes=10),
        card_chat_id=card_chat_id,
        card_message_id=None if card_chat_id is None else 9,
    )


@pytest.mark.parametrize(
    ("chat_id", "method"),
    [(GROUP, "edit_message_text"), (TEACHER, "edit_message_caption"), (None, None)],
)
async def test_finalise_edits_the_card_in_its_form_without_buttons(
    chat_id: int | None, method: str | None
) -> None:
    bot = RecordingBot()
    await publisher(bot).finalise(a_summary(chat_id))
    assert bot.methods() == ([method] if method else [])
    if method:
        assert bot.calls[0][1]["reply_markup"] is None


async def test_finalise_is_best_effort() -> None:
    """A card the teacher deleted must not make the summary fail."""
    bot = RecordingBot(refuse=BadRequest("Message to edit not found"))
    await publisher(bot).finalise(a_summary(GROUP))
    assert bot.methods() == ["edit_message_text"]


def test_pending_action_values_are_the_stored_ones() -> None:
    """The values are what Redis holds for prompts already asked: they never change."""
    assert {action.name: action.value for action in PendingAction} == {
        "CHECKIN": "checkin",
        "GEO_CHECKIN": "geo_checkin",
        "GEO_ANCHOR": "geo_anchor",
        "REGISTER": "register",
        "EXCUSE": "excuse",
        "CLAIM": "claim",
    }


async def test_a_prompt_round_trips_through_the_user_service(users: UserService) -> None:
    await users.expect_reply(TEACHER, PendingAction.GEO_CHECKIN, "payload")
    expected = await users.take_expected_reply(
        TEACHER, (PendingAction.GEO_ANCHOR, PendingAction.GEO_CHECKIN)
    )
    assert expected is not None
    assert expected[0] == PendingAction.GEO_CHECKIN and expected[1] == "payload"


PROMPT_CALLS = {"expect_reply": 1, "take_expected_reply": 1, "ask_for_location": 2}
"""Calls that name a prompt, and the position of the argument that names it."""


def literal_prompts(tree: ast.AST) -> list[int]:
    """Lines where a prompt is named by a string literal instead of `PendingAction`."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name is None and isinstance(node.func, ast.Name):
            name = node.func.id
        position = PROMPT_CALLS.get(name or "")
        if position is None or len(node.args) <= position:
            continue
        arg = node.args[position]
        items = arg.elts if isinstance(arg, ast.Tuple) else [arg]
        if any(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
            lines.append(node.lineno)
    return lines


def prompt_constants(tree: ast.AST) -> list[int]:
    """Lines where a name is given a prompt's value (`CHECKIN_ACTION = "checkin"`): a second
    spelling of what `PendingAction` spells."""
    values = {action.value for action in PendingAction}
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Constant)
        and node.value.value in values
    ]


def test_prompts_are_named_by_the_enum_everywhere() -> None:
    found = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path == ROOT / "bot" / "prompts.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if lines := literal_prompts(tree) + prompt_constants(tree):
            found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def test_a_literal_prompt_is_caught() -> None:
    source = (
        "async def f(users, update, context):\n"
        "    await users.expect_reply(1, 'checkin')\n"
        "    await users.take_expected_reply(1, ('geo_anchor', 'geo_checkin'))\n"
        "    await users.expect_reply(1, PendingAction.CHECKIN, 'payload')\n"
        "    await ask_for_location(update, context, 'geo_checkin', 'Share it')\n"
    )
    assert literal_prompts(ast.parse(source)) == [2, 3, 5]
    assert prompt_constants(ast.parse('CHECKIN_ACTION = "checkin"\nPNG = "checkin.png"\n')) == [1]
