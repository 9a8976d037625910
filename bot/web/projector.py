"""The projector page: `/projector/<session>/<token>` and its server-sent events.

The page (HTML, then /static/projector.js and projector.css; no inline script or style, so
the strict CSP holds) shows the code and its QR full screen, the count and the time left; the
events stream (`…/events`) sends the state again each time it changes, within the second a
code rotates (services/projector.py says how), and says "refused" when the link is replaced.
It works in any browser, with no Telegram: a classroom PC opens the link from the card.

A refused link (wrong, replaced, expired, unknown session) gets the same plain page whatever
the reason, with no data about the session.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from html import escape
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from bot.card import qr_link
from bot.cards import checkin_links_of
from bot.container import Services
from bot.context import AttnApplication
from bot.languages import languages_of
from bot.text import default_language, t
from bot.web.deps import attn_application, attn_services
from services.clock import to_ms
from services.errors import StorageUnavailable
from services.projector import ProjectorView
from services.qr import CheckInLinks

router = APIRouter(include_in_schema=False)

_SESSION_ID = re.compile(r"[0-9a-f]{12}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
_RTL = {"fa", "ar", "he", "ur"}
# Sent with every stream: how soon a browser reconnects after losing it (ms), and what tells
# a proxy not to hold the events back (nginx buffers responses by default).
_RETRY_MS = 1000
STREAM_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
KEEP_ALIVE_SECONDS = 15.0


def qr_svg(link: str) -> str:
    """The QR of `link` as inline SVG that scales to its box (no size, a viewBox), dark on
    white whatever the page's theme: phone cameras read dark-on-light codes best."""
    svg: str = segno.make(link, error="m").svg_inline(
        scale=1, border=2, omitsize=True, dark="#000", light="#fff"
    )
    return svg


def _heading(view: ProjectorView, language: str) -> str:
    if view.course_name:
        return t(
            "projector.heading",
            course=view.course_name,
            title=view.title,
            html=False,
            language=language,
        )
    return view.title


def _count(view: ProjectorView, language: str) -> str:
    if view.roster_size is None:
        return t("projector.count", count=view.checked_in, html=False, language=language)
    return t(
        "projector.count_roster",
        count=view.checked_in,
        roster=view.roster_size,
        html=False,
        language=language,
    )


def _time_left(view: ProjectorView, now: datetime) -> str:
    """What the page shows before its script ticks (the script keeps it current)."""
    seconds = max(0, int((view.ends_at - now).total_seconds() + 0.999))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _page(language: str, title: str, body: str, data: dict[str, str] | None = None) -> str:
    direction = "rtl" if language in _RTL else "ltr"
    attributes = "".join(f' data-{name}="{escape(value)}"' for name, value in (data or {}).items())
    return (
        "<!doctype html>\n"
        f'<html lang="{escape(language)}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="robots" content="noindex, nofollow">\n'
        '<link rel="icon" href="data:,">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="stylesheet" href="/static/projector.css">\n'
        '<script src="/static/projector.js" defer></script>\n'
        f"</head>\n<body{attributes}>\n{body}\n</body>\n</html>\n"
    )


def refusal_page(language: str) -> HTMLResponse:
    """The same plain page for every refused link: nothing about the session."""
    title = t("projector.refused_title", html=False, language=language)
    text = t("projector.refused", html=False, language=language)
    body = (
        f'<main class="refused" id="refusal">\n<h1>{escape(title)}</h1>\n'
        f"<p>{escape(text)}</p>\n</main>"
    )
    return HTMLResponse(_page(language, title, body), status_code=404)


def projector_page(
    view: ProjectorView,
    language: str,
    bot_username: str,
    events_url: str,
    now: datetime,
    links: CheckInLinks | None = None,
) -> str:
    """The page of a valid link, showing `view`; its script follows `events_url`. The QR
    carries what the card's does (`links`: the Mini App's startapp link when the bot has
    one, else the chat's start link)."""

    def say(key: str) -> str:
        return escape(t(key, html=False, language=language))

    scan = escape(t("projector.scan", bot=bot_username, html=False, language=language))
    count = escape(_count(view, language))
    left = _time_left(view, now)
    hidden = "" if view.ended else " hidden"

    heading = _heading(view, language)
    qr = qr_svg(qr_link(bot_username, view.session_id, view.code, links)) if view.code else ""
    refused_title = t("projector.refused_title", html=False, language=language)
    body = f"""<main id="projector">
<header class="top">
<h1 id="heading">{escape(heading)}</h1>
<p id="status" class="status" role="status" hidden>{say("projector.reconnecting")}</p>
</header>
<div class="board">
<figure class="qr-box">
<div id="qr" class="qr" role="img" aria-label="{say("projector.qr_label")}">{qr}</div>
</figure>
<div class="facts">
<p id="ended" class="ended-note" role="status"{hidden}>{say("projector.ended")}</p>
<p id="code-label" class="label">{say("projector.code_label")}</p>
<p id="code" class="code" dir="ltr" aria-labelledby="code-label">{escape(view.code)}</p>
<p class="scan">{scan}</p>
<p id="count" class="count" aria-live="polite" aria-atomic="true">{count}</p>
<p class="left"><span id="left-label">{say("projector.time_left")}</span>
<span id="left" role="timer" aria-labelledby="left-label" dir="ltr">{left}</span></p>
</div>
</div>
</main>"""
    data = {
        "events": events_url,
        "ends-at": str(to_ms(view.ends_at)),
        "now": str(to_ms(now)),
        "ended": "1" if view.ended else "",
        "refused-title": refused_title,
        "refused-text": t("projector.refused", html=False, language=language),
    }
    title = t("projector.page_title", heading=heading, html=False, language=language)
    html = _page(language, title, body, data)
    if view.ended:
        html = html.replace("<body ", '<body class="ended" ', 1)
    return html


def _well_formed(session_id: str, token: str) -> bool:
    return bool(_SESSION_ID.fullmatch(session_id) and _TOKEN.fullmatch(token))


async def _language(application: AttnApplication, services: Services, view: ProjectorView) -> str:
    """The teacher's language (their choice, else their Telegram app's), as on the card."""
    return await languages_of(application, services.users).of(view.teacher_id)


def _unavailable() -> Response:
    return Response("storage unavailable\n", 503, {"Retry-After": "2"}, media_type="text/plain")


@router.get("/projector/{session_id}/{token}")
@router.head("/projector/{session_id}/{token}", include_in_schema=False)
async def projector(
    session_id: str,
    token: str,
    application: Annotated[AttnApplication, Depends(attn_application)],
    services: Annotated[Services, Depends(attn_services)],
) -> Response:
    if not _well_formed(session_id, token):
        return refusal_page(default_language())
    try:
        view = await services.projector.view(session_id, token)
    except StorageUnavailable:
        return _unavailable()
    if view is None:
        return refusal_page(default_language())
    language = await _language(application, services, view)
    events = f"/projector/{session_id}/{token}/events"
    page = projector_page(
        view,
        language,
        application.bot.username,
        events,
        services.projector.now(),
        checkin_links_of(application, application.bot),
    )
    return HTMLResponse(page)


def _event(name: str, data: object, event_id: int | None = None) -> str:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


@router.get("/projector/{session_id}/{token}/events")
async def projector_events(
    request: Request,
    session_id: str,
    token: str,
    application: Annotated[AttnApplication, Depends(attn_application)],
    services: Annotated[Services, Depends(attn_services)],
) -> Response:
    """Server-sent events: `state` (the whole state, each time it changes; the QR only
    when the code did), `refused` (the link stopped working: the page says so and stops).
    A browser that reconnects gets the current state at once; a refused link gets
    `refused` and the end of the stream, so the browser does not keep asking."""
    if not _well_formed(session_id, token):
        return StreamingResponse(
            iter([f"retry: {_RETRY_MS}\n\n", _event("refused", {})]),
            media_type="text/event-stream",
            headers=STREAM_HEADERS,
        )
    web_state = getattr(request.app.state, "web", None)
    stopping: asyncio.Event | None = getattr(web_state, "stopping", None)

    projector_service = services.projector
    bot_username = application.bot.username
    links = checkin_links_of(application, application.bot)  # the card's QR, the same

    async def stream() -> AsyncIterator[str]:
        yield f"retry: {_RETRY_MS}\n\n"
        shown_code: str | None = None
        language: str | None = None
        sent = 0
        async for view in projector_service.updates(
            session_id, token, keep_alive=KEEP_ALIVE_SECONDS, stopping=stopping
        ):
            if view is None:
                yield _event("refused", {})
                return
            if language is None:
                language = await _language(application, services, view)
            state: dict[str, object] = {
                "code": view.code,
                "count": _count(view, language),
                "ends_at": to_ms(view.ends_at),
                "now": to_ms(projector_service.now()),
                "ended": view.ended,
            }
            if view.code != shown_code:
                state["qr"] = (
                    qr_svg(qr_link(bot_username, view.session_id, view.code, links))
                    if view.code
                    else ""
                )
                shown_code = view.code
            sent += 1
            yield _event("state", state, sent)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=STREAM_HEADERS)
