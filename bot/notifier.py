"""Delivers summaries to teachers through Telegram (the services' `Notifier`)."""

from __future__ import annotations

from datetime import tzinfo

from telegram import Bot, InputFile

from bot import replies
from services.export import rows_to_csv
from services.models import ExportRow, Nudge, SessionSummary


class TelegramNotifier:
    """Sends a session summary: the text, then the CSV of every record."""

    def __init__(self, bot: Bot, tz: tzinfo) -> None:
        self._bot = bot
        self._tz = tz

    async def send_summary(self, summary: SessionSummary) -> None:
        await self._bot.send_message(summary.chat_id, replies.summary_text(summary, self._tz))
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
            summary.chat_id,
            InputFile(data, filename=f"attendance-{summary.session_id}.csv"),
        )

    async def send_nudge(self, nudge: Nudge) -> None:
        await self._bot.send_message(nudge.student_id, replies.nudge_text(nudge))
