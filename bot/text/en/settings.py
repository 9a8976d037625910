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
    "settings.nudges_on": "Low-attendance warnings: on",
    "settings.nudges_off": "Low-attendance warnings: off",
    "settings.nudges_on_button": "🔔 Warnings on",
    "settings.nudges_off_button": "🔕 Warnings off",
    "settings.session_length": "Sessions last {minutes} min unless you say otherwise",
    "settings.rotation_fixed": "The check-in code stays the same for the whole session",
    "settings.rotation_every": "The check-in code changes every {seconds} s",
    "settings.length_button": "{minutes} min",
    "settings.fixed_button": "Fixed code",
    "settings.rotate_button": "New code every {seconds} s",
    "settings.saved": "Saved.",
    # A button for the current choice: marked, in the language's own words.
    "settings.chosen": "✓ {name}",
    "error.invalid.settings.button": "That button no longer works. Send /settings again.",
}
