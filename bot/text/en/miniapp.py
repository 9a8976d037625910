"""The Mini App: the check-in page inside Telegram and the answers only it gives."""

from __future__ import annotations

from bot.text.message import Message

MESSAGES: dict[str, Message] = {
    "miniapp.title": "Check in",
    # The button under "send me the code" in the private chat, opening the Mini App.
    "miniapp.open_button": "📷 Scan it in the app",
    "miniapp.code_label": "Code shown by your teacher",
    "miniapp.code_hint": "6 letters and digits, like K7M2QX",
    "miniapp.scan": "Scan the QR code",
    "miniapp.scan_prompt": "Point your camera at the QR code your teacher shows",
    "miniapp.scan_not_ours": (
        "That QR code is not a check-in code. Scan the one your teacher shows."
    ),
    "miniapp.submit": "Check in",
    "miniapp.sending": "Checking you in…",
    "miniapp.locating": "Checking where you are…",
    "miniapp.location_denied": (
        "This session needs your location, and it could not be read. Allow location access "
        "for Telegram and try again. Nothing was recorded."
    ),
    "miniapp.history": "My attendance",
    "miniapp.back": "Back to check-in",
    "miniapp.loading": "Loading…",
    "miniapp.network": "No connection to the server. Check your internet and try again.",
    "miniapp.slow_down": "Too many requests at once. Wait a few seconds and try again.",
    "miniapp.not_a_code": "That is not a code: it has 6 letters and digits, like K7M2QX.",
    "miniapp.needs_location": (
        "<b>{title}</b> checks where you are: allow access to your location to finish checking in."
    ),
    "miniapp.location_refused": (
        "Your location could not be read correctly. Try again where your phone has a clear "
        "view of the sky or Wi-Fi. Nothing was recorded."
    ),
    "miniapp.refused.missing": "Open this page from the bot in Telegram to check in.",
    "miniapp.refused.invalid": (
        "This page could not confirm who you are, so nothing was recorded. Close it and "
        "open it again from the bot."
    ),
    "miniapp.refused.expired": (
        "This page was opened too long ago, so nothing was recorded. Close it and open it "
        "again from the bot."
    ),
}
