"""What a course's owner is told of its outgoing webhook (services/webhook_settings.py
`tell_owners`, sent by bot/alerts.py): a delivery given up, or a hook that started failing;
the course, the session, the last error and the URL without its query."""

from __future__ import annotations

from datetime import tzinfo

from bot.replies.format import fmt_datetime
from bot.text import Text, t
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
