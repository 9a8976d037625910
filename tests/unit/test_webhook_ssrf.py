"""Breaker B16 (issue 16): an outgoing webhook URL must not reach inside the deployment.
FAILS on main at 24652b1: check_webhook_url accepts every one of these (not landed)."""

from __future__ import annotations

import pytest

from services.errors import InvalidArgument
from services.webhooks import check_webhook_url

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://192.168.1.1/hook",
        "https://127.0.0.1:6379/",
        "https://[::1]/",
        "https://0x7f000001/",
        "http://localhost:5432/",
    ],
)
def test_internal_addresses_are_refused_in_production(url: str) -> None:
    with pytest.raises(InvalidArgument):
        check_webhook_url(url)
