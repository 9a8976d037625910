"""Timing helpers: a fixed-concurrency driver and the statistics the report needs.

Why one driver for every throughput number: the service and its baseline must be driven the
same way (same worker count, same per-item bookkeeping), or their ratio measures the harness.
"""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Run:
    """One timed run: items done, wall time, and each item's latency (seconds)."""

    items: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else math.inf


async def run_concurrent(
    items: int, concurrency: int, work: Callable[[int], Awaitable[object]]
) -> Run:
    """Run `work(0..items-1)` with exactly `concurrency` items in flight until all are done.

    Workers pull the next index as soon as they finish one, so the load stays at
    `concurrency` (a batch-by-batch gather would idle while waiting for each batch's slowest).
    """
    indexes = iter(range(items))
    latencies: list[float] = []
    clock = time.perf_counter

    async def worker() -> None:
        for index in indexes:
            started = clock()
            await work(index)
            latencies.append(clock() - started)

    gc.collect()
    started = clock()
    await gather_all(worker() for _ in range(min(concurrency, items)))
    return Run(items=items, seconds=clock() - started, latencies=latencies)


async def gather_all(coroutines: Iterable[Coroutine[Any, Any, object]]) -> None:
    """Run the coroutines concurrently; if one fails or the bench is interrupted, every other
    one is cancelled *and finished* before this returns.

    Why not `asyncio.gather`: on cancellation it returns at once while its children still
    run, and they would keep writing to Redis while the bench cleans up.
    """
    async with asyncio.TaskGroup() as group:
        for coroutine in coroutines:
            group.create_task(coroutine)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Series:
    """The repeated measurements of one metric."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else math.nan

    @property
    def min(self) -> float:
        return min(self.values) if self.values else math.nan

    @property
    def max(self) -> float:
        return max(self.values) if self.values else math.nan
