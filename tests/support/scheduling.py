"""The order tests are handed to pytest-xdist's workers in: the slowest files first.

Why: the suite's wall time on two workers is set by its tail. The files below are most of the
suite's time and mostly wait (two minutes of code rotations, a timetable's next whole minute,
a minute before a stuck delivery is given up, restarts), and one of them arriving last keeps
one worker busy for minutes while the other has nothing left. Handed out first, they spread
over both workers and the many short tests fill in around them (longest first, the classic
greedy schedule). Measured on CI's two cores: the README's `pytest -n 2` took 1034 s with
tests/e2e and tests/faults serialized on one worker, about 750 s spread and ordered like this.

The seconds are one measured run's (`pytest -n 2 --durations=0`, summed by file); they only
order the files, so a stale or missing entry costs some wall time, never a test. Files not
listed take their directory's default. Within a file the tests keep their order, and a
file's tests stay together, so module-scoped fixtures start once per worker as before.
"""

from __future__ import annotations

from pathlib import Path

# Seconds one file's tests took in all (test-by-test, summed), for files over ~10 s.
FILE_SECONDS = {
    "e2e/test_rotation.py": 142,
    "web/test_projector.py": 130,
    "faults/test_undeliverable.py": 121,
    "e2e/test_timetable_flow.py": 110,
    "faults/test_kill_during_sweep.py": 80,
    "faults/test_webhook_cluster.py": 78,
    "e2e/test_operator.py": 73,
    "e2e/test_course_flow.py": 71,
    "e2e/test_burst.py": 63,
    "e2e/test_shutdown.py": 51,
    "faults/test_postgres_outage.py": 31,
    "e2e/test_course_staff.py": 30,
    "integration/test_flood.py": 28,
    "web/test_dashboard_page.py": 28,
    "e2e/test_group_flow.py": 26,
    "faults/test_kill_burst.py": 23,
    "e2e/test_flood_wait.py": 21,
    "e2e/test_polling_flow.py": 18,
    "unit/test_flood_limiter.py": 17,
    "e2e/test_restart.py": 16,
    "e2e/test_webhook.py": 16,
    "integration/test_codes.py": 16,
    "bot/test_reply_lanes.py": 15,
    "e2e/test_menus.py": 14,
    "unit/test_reply_lane.py": 14,
    "integration/test_embedded.py": 13,
    "web/test_miniapp_page.py": 13,
    "fakes/test_bot_api_server.py": 12,
}

# A file not listed above: what a file of its directory usually takes.
DIRECTORY_SECONDS = {"e2e": 10, "faults": 10, "web": 5, "integration": 3}


def file_seconds(relative: Path) -> float:
    """The expected seconds of the test file at `relative` (a path under tests/)."""
    known = FILE_SECONDS.get(relative.as_posix())
    if known is not None:
        return known
    return DIRECTORY_SECONDS.get(relative.parts[0], 0) if relative.parts else 0
