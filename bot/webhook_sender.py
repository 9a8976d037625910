"""The HTTP client of the outgoing webhooks (services/webhooks.py): httpx, one pooled client
per process, no redirects followed (a receiver that moved says so with a 3xx: not
delivered), a whole-request time-out per delivery."""

from __future__ import annotations

import asyncio

import httpx

from bot.web.api_models import webhook_body
from services.clock import Clock
from services.ports import RecordStores
from services.webhooks import WebhookCourier


class HttpxWebhookSender:
    """`WebhookSender` over httpx; the client is made at the first delivery."""

    def __init__(self) -> None:
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # no proxy or netrc from the environment
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
            )
        return self._client

    async def post(self, url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
        """POST and read the answer, all within `seconds` (a receiver that accepts and then
        says nothing, or trickles, is cut off too)."""
        async with asyncio.timeout(seconds):
            response = await self._http().post(url, content=body, headers=headers, timeout=seconds)
        return response.status_code

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def webhook_courier_over(
    records: RecordStores, clock: Clock, timeout_seconds: float
) -> WebhookCourier:
    """The courier of the composition root: the records' outbox and API reads, httpx, and
    the API's JSON shapes."""
    return WebhookCourier(
        webhooks=records.webhooks,
        reads=records.api_reads,
        sender=HttpxWebhookSender(),
        render=webhook_body,
        clock=clock,
        timeout_seconds=timeout_seconds,
    )
