from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.container import Services
from tests.conftest import make_settings
from tests.support.bot_harness import BotHarness


@pytest.fixture
async def bot(services: Services) -> AsyncIterator[BotHarness]:
    async with BotHarness(make_settings(), services) as harness:
        yield harness
