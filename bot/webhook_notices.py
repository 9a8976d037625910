"""Tells a course's owner of its outgoing webhook (services/webhooks.py `WebhookNoticeSender`):
a delivery given up, or a hook that started failing; in the owner's language, the URL without
its query, and Telegram's refusals turned into `DeliveryFailed`."""

from __future__ import annotations

from datetime import tzinfo

from telegram import Bot

from bot.languages import RecipientLanguages
from bot.notifier import classified
from bot.replies.format import fmt_datetime
from bot.text import Text, speaking, t
from services.ports.webhooks import GAVE_UP, WebhookNotice
from services.webhooks import shown_url

#: The error as a notice shows it, at most this long.
ERROR_CHARACTERS = 300


def notice_text(notice: WebhookNotice, tz: tzinfo) -> Text:
    if notice.session_title is not None and notice.session_started_at is not None:
        session = t(
            "webhook.notice.session",
            title=notice.session_title,
            when=fmt_datetime(notice.session_started_at, tz),
        )
    else:
        session = t("webhook.notice.session_gone", session=notice.session_id)
    key = "webhook.notice.gave_up" if notice.kind == GAVE_UP else "webhook.notice.failing"
    return t(
        key,
        name=notice.course_name,
        course_id=notice.course_id,
        url=shown_url(notice.url),
        session=session,
        attempts=notice.attempts,
        error=notice.error[:ERROR_CHARACTERS],
    )


class TelegramWebhookNoticeSender:
    """`WebhookNoticeSender` over the Bot API (sent from a job: the paced broadcast lane)."""

    def __init__(self, bot: Bot, tz: tzinfo, languages: RecipientLanguages) -> None:
        self._bot = bot
        self._tz = tz
        self._languages = languages

    async def send_webhook_notice(self, notice: WebhookNotice) -> None:
        async with classified():
            with speaking(await self._languages.of(notice.owner_id)):
                text = notice_text(notice, self._tz)
            await self._bot.send_message(notice.owner_id, text)
