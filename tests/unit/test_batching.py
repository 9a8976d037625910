"""storage.redis.batching: the calls of one turn of the event loop go as one call of the
batch script, each caller gets its own answer (or its own error), a failed call reaches
every caller of its batch, and a caller that went away disturbs nobody. The script here
stands in for Redis (tests/integration/test_checkin_arrival.py runs the real one)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from storage.redis.batching import MAX_BATCH, BatchedScript
from storage.redis.scripts import LuaScript


class EchoScript:
    """Answers each call (two arguments) with its arguments joined; "fail" is an error
    reply of its own; `lost` makes the whole call fail as a dropped connection does."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []
        self.lost = False
        self.release = asyncio.Event()
        self.release.set()
        self.entered = asyncio.Event()

    async def call_once(self, args: Sequence[Any]) -> Any:
        self.calls.append(list(args))
        self.entered.set()
        await self.release.wait()
        if self.lost:
            raise RedisConnectionError("Connection closed by server.")
        pairs = [args[i : i + 2] for i in range(0, len(args), 2)]
        return [
            ResponseError("ERR failed") if a == b"fail" else f"{a.decode()}:{b.decode()}"
            for a, b in pairs
        ]


def batched(script: EchoScript) -> BatchedScript:
    return BatchedScript(cast(LuaScript, script), 2)


async def test_one_turn_is_one_call_and_each_caller_gets_its_own_answer() -> None:
    script = EchoScript()
    batch = batched(script)
    answers = await asyncio.gather(*(batch((f"a{i}", f"b{i}")) for i in range(50)))
    assert answers == [f"a{i}:b{i}" for i in range(50)]
    assert len(script.calls) == 1 and len(script.calls[0]) == 100


async def test_calls_of_later_turns_go_in_later_calls() -> None:
    script = EchoScript()
    batch = batched(script)
    assert await batch(("x", "1")) == "x:1"  # a lone call: sent on the next turn
    assert await batch(("y", "2")) == "y:2"
    assert script.calls == [[b"x", b"1"], [b"y", b"2"]]


async def test_a_crowd_beyond_the_limit_is_split() -> None:
    script = EchoScript()
    batch = batched(script)
    answers = await asyncio.gather(*(batch((str(i), "v")) for i in range(MAX_BATCH + 5)))
    assert answers == [f"{i}:v" for i in range(MAX_BATCH + 5)]
    assert [len(call) // 2 for call in script.calls] == [MAX_BATCH, 5]


async def test_an_error_reply_reaches_only_its_caller() -> None:
    batch = batched(EchoScript())
    answers = await asyncio.gather(
        batch(("ok", "1")), batch(("fail", "2")), batch(("ok", "3")), return_exceptions=True
    )
    assert answers[0] == "ok:1" and answers[2] == "ok:3"
    assert isinstance(answers[1], ResponseError)


async def test_a_lost_connection_reaches_every_caller_of_the_batch() -> None:
    script = EchoScript()
    script.lost = True
    batch = batched(script)
    answers = await asyncio.gather(
        *(batch((str(i), "v")) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(a, RedisConnectionError) for a in answers)
    script.lost = False
    assert await batch(("next", "turn")) == "next:turn"  # the next batch is sent as usual


async def test_a_caller_that_went_away_disturbs_nobody() -> None:
    script = EchoScript()
    script.release.clear()
    batch = batched(script)
    gone = asyncio.ensure_future(batch(("gone", "1")))
    stays = asyncio.ensure_future(batch(("stays", "2")))
    await script.entered.wait()
    gone.cancel()  # the phone disconnected while Redis ran the batch
    script.release.set()
    assert await stays == "stays:2"
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_script_answering_the_wrong_count_fails_every_caller() -> None:
    class Short(EchoScript):
        async def call_once(self, args: Sequence[Any]) -> Any:
            return (await super().call_once(args))[:-1]

    batch = batched(Short())
    answers = await asyncio.gather(batch(("a", "1")), batch(("b", "2")), return_exceptions=True)
    assert all(isinstance(a, ResponseError) for a in answers)


async def test_a_call_with_the_wrong_arity_is_refused_at_once() -> None:
    with pytest.raises(ValueError):
        batched(EchoScript())(("only one",))


async def test_an_argument_that_cannot_be_sent_fails_only_its_caller() -> None:
    """A lone surrogate cannot be encoded: that call raises at once and the batch it would
    have joined is sent without it (encoded together, it failed everyone)."""
    script = EchoScript()
    batch = batched(script)
    first = batch(("a", "1"))
    with pytest.raises(UnicodeEncodeError):
        batch(("bad\ud800", "2"))
    last = batch(("c", "3"))
    assert await asyncio.gather(first, last) == ["a:1", "c:3"]
    assert script.calls == [[b"a", b"1", b"c", b"3"]]


async def test_a_caller_cancelled_before_its_batch_left_is_not_sent() -> None:
    script = EchoScript()
    batch = batched(script)
    gone = batch(("gone", "1"))
    stays = batch(("stays", "2"))
    gone.cancel()  # before the next turn: nothing was written yet
    assert await stays == "stays:2"
    assert script.calls == [[b"stays", b"2"]]


def test_calls_left_by_a_closed_loop_do_not_stop_the_next_loop() -> None:
    script = EchoScript()
    batch = batched(script)
    first = asyncio.new_event_loop()

    async def join_then_stop() -> None:
        batch(("left", "1"))  # its batch would be sent on the next turn, which never comes
        asyncio.get_running_loop().stop()

    task = first.create_task(join_then_stop())
    first.run_forever()
    assert task.done()
    first.close()

    async def later() -> Any:
        return await asyncio.wait_for(batch(("next", "2")), 5)

    assert asyncio.run(later()) == "next:2"
    assert script.calls == [[b"next", b"2"]]
