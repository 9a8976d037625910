"""Sends absence alerts and weekly digests (the services' `AlertSender`), each in its
recipient's language, and turns Telegram's refusals into `DeliveryFailed`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo

from telegram import Bot

from bot.languages import RecipientLanguages
from bot.notifier import classified
from bot.replies.format import fit, fmt_datetime, more, zone_of
from bot.telegram_limits import Block, ShortList
from bot.text import Text, speaking, t
from bot.webhook_notices import notice_text
from services.ports.grading import AbsenceAlert, Digest, DigestCourse
from services.ports.webhooks import WebhookNotice


def alert_text(alert: AbsenceAlert) -> Text:
    if alert.student_name is None:
        return t("warning.absences_student", count=alert.absences, course=alert.course_name)
    return t(
        "warning.absences_teacher",
        count=alert.absences,
        course=alert.course_name,
        student=alert.student_name,
    )


def _course_blocks(part: DigestCourse, tz: tzinfo) -> list[Block]:
    blocks: list[Block] = [t("warning.digest.course", course=part.course_name)]
    listed = more("warning.digest.more")
    if part.at_risk:
        items = [t("warning.digest.at_risk_item", name=n, percent=p) for n, p in part.at_risk]
        blocks.append(ShortList(t("warning.digest.at_risk") + "\n", items, "\n", listed, cap=30))
    else:
        blocks.append(t("warning.digest.nobody_at_risk"))
    if part.unclaimed:
        items = [t("warning.digest.unclaimed_item", name=n) for n in part.unclaimed]
        blocks.append(ShortList(t("warning.digest.unclaimed") + "\n", items, "\n", listed, cap=30))
    if part.low_sessions:
        zone = zone_of(part.time_zone, tz)
        items = [
            t("warning.digest.low_item", when=fmt_datetime(w, zone), title=title, percent=p)
            for w, title, p in part.low_sessions
        ]
        blocks.append(ShortList(t("warning.digest.low") + "\n", items, "\n", listed, cap=10))
    return blocks


def digest_text(digest: Digest, tz: tzinfo) -> Text:
    """The digest, fitted into one message (long lists end with "… and N more")."""
    blocks: list[Block] = [t("warning.digest.title", week=digest.week)]
    if not digest.courses:
        blocks.append(t("warning.digest.no_courses"))
    for part in digest.courses:
        blocks.extend(_course_blocks(part, tz))
    return fit(blocks)


class TelegramAlertSender:
    """`AlertSender` and `WebhookNoticeSender` over the Bot API: what the bot tells a
    teacher or student on its own (from a job: the paced broadcast lane), each message in
    its recipient's language."""

    def __init__(self, bot: Bot, tz: tzinfo, languages: RecipientLanguages) -> None:
        self._bot = bot
        self._tz = tz
        self._languages = languages

    async def _send(self, recipient: int, text: Callable[[], Text]) -> None:
        async with classified():
            with speaking(await self._languages.of(recipient)):
                message = text()
            await self._bot.send_message(recipient, message)

    async def send_absence_alert(self, alert: AbsenceAlert) -> None:
        await self._send(alert.recipient, lambda: alert_text(alert))

    async def send_digest(self, digest: Digest) -> None:
        await self._send(digest.teacher_id, lambda: digest_text(digest, self._tz))

    async def send_webhook_notice(self, notice: WebhookNotice) -> None:
        await self._send(notice.owner_id, lambda: notice_text(notice, self._tz))
