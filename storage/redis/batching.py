"""Arrivals gathered by the turn of the event loop: the calls of one script made in the
same turn go to Redis as one call of its batch version.

A hall checks in at once: a hundred requests (Mini App check-ins, /checkin updates) reach the
same line within one turn of the loop, and each would take a pooled connection, set its
timeouts, encode its command and parse its answer on its own. That client work per command
costs several times what Redis spends running the script. Gathered, they cost one command
(as `merge_registrations_script` does for the registration loader). Nothing waits for a batch
to fill: a batch is what one turn gathered, sent on the next turn, so a lone call goes at
once. Each call stays its own script run (atomic, answered on its own: an error reply in the
batch reaches only its caller). A batch is sent once (`LuaScript.call_once`): a lost
connection reaches every caller of the batch as StorageUnavailable, never a second run that
would answer the first as duplicates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ResponseError
from redis.typing import EncodableT

from storage.redis.scripts import LuaScript

#: Calls beyond this in one turn go in further batches (bounds one command and one script
#: run: Redis serves nobody else while a script runs).
MAX_BATCH = 200

_Call = tuple[Sequence[EncodableT], "asyncio.Future[Any]"]


class BatchedScript:
    """`await batched(args)` is one call's reply from `script`, which takes the calls'
    arguments one after the other (`arity` each) and replies with a list, one per call."""

    def __init__(self, script: LuaScript, arity: int) -> None:
        self._script = script
        self._arity = arity
        self._waiting: list[_Call] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # the one `_waiting` is sent on
        self._sending: set[asyncio.Task[None]] = set()

    def __call__(self, args: Sequence[EncodableT]) -> asyncio.Future[Any]:
        """This call's reply, to await.

        Raises:
            UnicodeEncodeError: a text argument cannot be sent (a lone surrogate): raised
                here, to this caller alone, not to everyone in the batch.
        """
        if len(args) != self._arity:
            raise ValueError(f"{len(args)} arguments; the script takes {self._arity} per call")
        encoded = [arg.encode() if isinstance(arg, str) else arg for arg in args]
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # calls left by a loop that closed before sending them
            self._waiting, self._loop = [], loop
        reply: asyncio.Future[Any] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._send)
        self._waiting.append((encoded, reply))
        return reply

    def _send(self) -> None:
        waiting, self._waiting = self._waiting, []
        loop = asyncio.get_running_loop()
        for start in range(0, len(waiting), MAX_BATCH):
            task = loop.create_task(self._run(waiting[start : start + MAX_BATCH]))
            self._sending.add(task)  # (the loop keeps only weak references to tasks)
            task.add_done_callback(self._sending.discard)

    async def _run(self, batch: list[_Call]) -> None:
        # A caller cancelled before its batch left (the phone went away, the update was cut
        # off) is not sent at all, as a command never written.
        batch = [call for call in batch if not call[1].done()]
        if not batch:
            return
        args: list[EncodableT] = []
        for call_args, _ in batch:
            args.extend(call_args)
        try:
            replies = await self._script.call_once(args)
        except Exception as exc:  # the connection or the server failed: every caller hears it
            for _, reply in batch:
                _settle(reply, error=exc)
            return
        except BaseException:  # cancelled (the loop is closing): so are the callers
            for _, reply in batch:
                reply.cancel()
            raise
        if not isinstance(replies, list) or len(replies) != len(batch):
            error = ResponseError(f"{len(batch)} calls, but the script answered {replies!r:.80}")
            for _, reply in batch:
                _settle(reply, error=error)
            return
        for (_, reply), answer in zip(batch, replies, strict=True):
            if isinstance(answer, Exception):  # this call's own error reply
                _settle(reply, error=answer)
            else:
                _settle(reply, answer)


def _settle(reply: asyncio.Future[Any], answer: Any = None, error: Exception | None = None) -> None:
    if reply.done():  # its caller was cancelled (the phone went away): nobody to tell
        return
    if error is None:
        reply.set_result(answer)
    else:
        reply.set_exception(error)
