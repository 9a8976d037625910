"""One bot process's share of a burst of wrong codes from one student (run as a subprocess).

    python -m tests.support.guess_burst REDIS_URL DATABASE_URL STUDENT SESSION_ID COUNT
                                        CLOCK_ISO START_AT

Builds the real services (its own Redis and PostgreSQL clients, as another replica would),
waits until the wall-clock time START_AT so that every process fires at once, sends COUNT
wrong codes concurrently, and prints the outcomes as a JSON list.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime

from bot.bootstrap import build_services
from services.clock import ManualClock
from tests.conftest import make_settings


async def main(argv: list[str]) -> None:
    redis_url, database_url, student, session_id, count, clock_iso, start_at = argv
    clock = ManualClock(datetime.fromisoformat(clock_iso))
    services = await build_services(make_settings(), redis_url, database_url, clock=clock)
    try:
        await asyncio.sleep(max(0.0, float(start_at) - time.time()))
        results = await asyncio.gather(
            *(
                services.checkins.check_in(
                    int(student), "ZZZZZZ", session_id=session_id if i % 2 else None
                )
                for i in range(int(count))
            )
        )
    finally:
        await services.close()
    print(json.dumps([r.outcome.value for r in results]))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
