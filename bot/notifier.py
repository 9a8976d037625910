"""Delivers summaries to teachers through Telegram (the services' `Notifier`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta, tzinfo

from telegram import Bot, InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import replies
from bot.cards import CardPublisher
from bot.languages import RecipientLanguages
from bot.replies.files import export_header
from bot.text import speaking, t
from services.delivery import DeliveryFailed
from services.export import rows_to_csv
from services.models import ExportRow, Nudge, SessionSummary, SummaryPart, SummaryProgress

# 400 answers that mean the recipient does not exist for the bot (not that this one message
# was wrong): Telegram's wording, lower-cased.
_NO_SUCH_CHAT = ("chat not found", "user not found", "peer_id_invalid", "chat_id is empty")


def delivery_failure(exc: TelegramError) -> DeliveryFailed:
    """What a Telegram error means for an outbound message, in the services' terms.

    403 (blocked by the user, can't initiate conversation, user is deactivated, kicked from
    the chat) and 400 "chat not found": the recipient is unreachable, trying again cannot
    help. Any other 400: this message was refused, trying it again cannot help either.
    429: try again after `retry_after`. Network errors, time-outs and the rest: transient.
    """
    reason = f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, Forbidden):
        return DeliveryFailed(reason, permanent=True, unreachable=True)
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        unreachable = any(marker in text for marker in _NO_SUCH_CHAT)
        return DeliveryFailed(reason, permanent=True, unreachable=unreachable)
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return DeliveryFailed(reason, retry_after=seconds)
    return DeliveryFailed(reason)  # NetworkError (TimedOut included), a 5xx: transient


@asynccontextmanager
async def classified() -> AsyncIterator[None]:
    """Turn Telegram's errors inside into `DeliveryFailed` for the services."""
    try:
        yield
    except TelegramError as exc:
        raise delivery_failure(exc) from exc


class TelegramNotifier:
    """Sends a session summary: the text, the card made final, then the CSV of every record."""

    def __init__(self, bot: Bot, tz: tzinfo, languages: RecipientLanguages | None = None) -> None:
        """`languages`: each recipient's (a job); None: the update's (a handler answering
        the teacher who asked)."""
        self._bot = bot
        self._tz = tz
        self._languages = languages
        self._cards = CardPublisher(bot, tz)

    async def send_summary(
        self, summary: SessionSummary, progress: SummaryProgress | None = None
    ) -> None:
        """To the teacher privately (a group's card never carries names), then the card
        becomes final, then the CSV.

        With `progress` (a queued summary), the parts Telegram took on an earlier attempt
        are skipped and each part is recorded once Telegram took it: a retry after a failed
        upload sends only what is left, never the text again.

        Raises:
            DeliveryFailed: Telegram refused the text or the file (see `delivery_failure`).
        """
        done = progress.done if progress is not None else frozenset()
        parts = (
            (SummaryPart.TEXT, self._send_text),
            (SummaryPart.CARD, self._finish_card),
            (SummaryPart.CSV, self._send_csv),
        )
        async with classified():
            language = await self._language(summary.teacher_id)
            for part, send in parts:
                if part in done:
                    continue
                with speaking(language):  # the teacher's, for the text, the card and the CSV
                    await send(summary)
                if progress is not None:
                    await progress.record(part)

    async def _send_text(self, summary: SessionSummary) -> None:
        await self._bot.send_message(summary.teacher_id, replies.summary_text(summary, self._tz))

    async def _send_csv(self, summary: SessionSummary) -> None:
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
        zone = replies.zone_of(summary.time_zone, self._tz)  # the course's zone
        data = rows_to_csv(rows, zone, export_header()).encode("utf-8")
        await self._bot.send_document(
            summary.teacher_id,
            InputFile(
                data, filename=t("files.name.session", session=summary.session_id, html=False)
            ),
        )

    async def _finish_card(self, summary: SessionSummary) -> None:
        await self._cards.finalise(summary)

    async def send_nudge(self, nudge: Nudge) -> None:
        """Raises `DeliveryFailed` when Telegram refused it."""
        async with classified():
            with speaking(await self._language(nudge.student_id)):
                text = replies.nudge_text(nudge)
            await self._bot.send_message(nudge.student_id, text)

    async def _language(self, user_id: int) -> str | None:
        return await self._languages.of(user_id) if self._languages is not None else None
