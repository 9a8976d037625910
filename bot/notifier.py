"""Delivers summaries to teachers through Telegram (the services' `Notifier`)."""

from __future__ import annotations

import logging
from datetime import tzinfo

from telegram import Bot, InputFile
from telegram.error import TelegramError

from bot import replies
from bot.card import final_card_text
from services.export import rows_to_csv
from services.models import ExportRow, Nudge, SessionSummary

log = logging.getLogger(__name__)


class TelegramNotifier:
    """Sends a session summary: the text, then the CSV of every record."""

    def __init__(self, bot: Bot, tz: tzinfo) -> None:
        self._bot = bot
        self._tz = tz

    async def send_summary(self, summary: SessionSummary) -> None:
        """To the teacher privately (a group's card never carries names), then the card
        becomes final."""
        await self._bot.send_message(summary.teacher_id, replies.summary_text(summary, self._tz))
        await self._finish_card(summary)
        if not summary.lines:
            return
        rows = [
            ExportRow(
                session_id=summary.session_id,
                session_title=summary.title,
                teacher_id=summary.teacher_id,
                student_id=line.student_id,
                student_name=line.name,
                checked_in_at=line.checked_in_at,
                status=line.status,
            )
            for line in summary.lines
        ]
        data = rows_to_csv(rows, self._tz).encode("utf-8")
        await self._bot.send_document(
            summary.teacher_id,
            InputFile(data, filename=f"attendance-{summary.session_id}.csv"),
        )

    async def _finish_card(self, summary: SessionSummary) -> None:
        if summary.card_chat_id is None or summary.card_message_id is None:
            return
        try:
            if summary.card_chat_id < 0:  # a group's card is a text message
                await self._bot.edit_message_text(
                    final_card_text(summary),
                    chat_id=summary.card_chat_id,
                    message_id=summary.card_message_id,
                    reply_markup=None,
                )
            else:
                await self._bot.edit_message_caption(
                    chat_id=summary.card_chat_id,
                    message_id=summary.card_message_id,
                    caption=final_card_text(summary),
                    reply_markup=None,
                )
        except TelegramError as exc:  # deleted by the teacher, too old: the summary counts
            log.info("could not finalise the card of session %s: %s", summary.session_id, exc)

    async def send_nudge(self, nudge: Nudge) -> None:
        await self._bot.send_message(nudge.student_id, replies.nudge_text(nudge))
