"""Which commands a process writes to Redis: a test counts round trips with it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from redis.asyncio.connection import AbstractConnection


@contextlib.contextmanager
def commands_sent() -> Iterator[list[str]]:
    """The names of the commands written to Redis meanwhile, whichever way they are written
    (a client call, a pipeline, a batch sent on a connection; fakeredis's connections too):
    every command is written by a connection's `send_command`."""
    sent: list[str] = []
    original = AbstractConnection.send_command

    async def recording(self: AbstractConnection, *args: Any, **options: Any) -> None:
        sent.append(str(args[0]))
        await original(self, *args, **options)

    AbstractConnection.send_command = recording  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        AbstractConnection.send_command = original  # type: ignore[method-assign]
