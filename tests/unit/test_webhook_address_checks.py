"""Outgoing webhooks stay outside the deployment (issue 16): the URL check in every address
notation, ATTN_WEBHOOK_ALLOW_PRIVATE for tests, and the send-time check of what a name
resolves to."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from bot import webhook_sender
from bot.webhook_sender import HttpxWebhookSender, WebhookRefused, checked_addresses
from services.errors import InvalidArgument
from services.webhooks import check_webhook_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "url",
    [
        "https://127.1/",
        "https://0177.0.0.1/",
        "https://0/",
        "https://[::ffff:127.0.0.1]/",
        "https://[fd00::1]/",
        "https://172.16.0.1/",
        "https://100.64.0.1/",
        "https://localhost./",
        "https://printer.local/",
        "https://metadata.google.internal/",
        "https://a.localhost/",
    ],
)
def test_more_internal_forms_are_refused(url: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_webhook_url(url)
    assert (refused.value.field, refused.value.problem) == ("webhook_url", "internal")


@pytest.mark.parametrize(
    "url", ["https://lms.example.org/attn", "https://93.184.216.34/hook", "https://[2606:4700::1]/"]
)
def test_public_addresses_are_kept(url: str) -> None:
    assert check_webhook_url(url) == url


def test_login_and_plain_http_are_refused() -> None:
    for url in ("https://user@lms.example.org/", "http://lms.example.org/", "ftp://x.org/"):
        with pytest.raises(InvalidArgument):
            check_webhook_url(url)


def test_allow_private_lets_this_machine_through_but_not_metadata() -> None:
    for url in ("http://127.0.0.1:8080/h", "http://localhost:9/", "https://10.0.0.1/"):
        assert check_webhook_url(url, allow_private=True) == url
    with pytest.raises(InvalidArgument):
        check_webhook_url("https://169.254.169.254/", allow_private=True)
    with pytest.raises(InvalidArgument):
        check_webhook_url("http://10.0.0.1/", allow_private=True)


def resolving_to(address: str) -> Any:
    async def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address(address)]

    return resolve


async def test_a_name_resolving_inside_is_refused_at_send_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A public-looking name that points at 127.0.0.1 passes the URL check, but nothing is
    sent: the sender raises (the courier records it as a failed attempt)."""
    url = "https://hooks.example.org:6379/"
    assert check_webhook_url(url) == url
    monkeypatch.setattr(webhook_sender, "resolve", resolving_to("127.0.0.1"))
    sender = HttpxWebhookSender()
    with pytest.raises(WebhookRefused, match=r"hooks\.example\.org .*127\.0\.0\.1"):
        await sender.post(url, b"{}", {}, 5.0)
    await sender.aclose()
    # Tests' receivers, with ATTN_WEBHOOK_ALLOW_PRIVATE.
    allowed = await checked_addresses("hooks.example.org", 6379, allow_private=True)
    assert allowed == [ipaddress.ip_address("127.0.0.1")]
