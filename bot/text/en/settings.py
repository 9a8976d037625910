"""/settings: one message whose buttons change the user's own preferences in place."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    # The language's own name, as its speakers write it: each catalog names itself.
    "language.name": "English",
    "settings.title": "⚙️ <b>Settings</b>",
    "settings.language": "Language: {name}",
    "settings.language_from_telegram": "Language: {name} (as in your Telegram app)",
    "settings.telegram_language_button": "Telegram's language",
    "settings.saved": "Saved.",
    # A button for the current choice: marked, in the language's own words.
    "settings.chosen": "✓ {name}",
    "error.invalid.settings.button": "That button no longer works. Send /settings again.",
}
