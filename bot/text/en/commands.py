"""What each command is for and how it is written, as the menus and /help show them.

Keys: `command.<name>.about` (a short line for the menu, ≤ 256 characters) and
`command.<name>.usage` (the syntax, as /help and usage replies show it).
"""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {}
