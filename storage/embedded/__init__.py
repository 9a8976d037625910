"""Embedded Redis and PostgreSQL servers, used when the operator configured no URLs.

Why: ATTN must run on a bare machine with no infrastructure. Both servers run as direct children
of the bot, in their own session (a Ctrl+C at the terminal must not stop them before the bot
has finished its own shutdown) and with a parent-death signal, so a SIGKILLed bot does not
leave them running. Each start also repairs whatever a crash left behind: stale pid files,
socket files, lock files, and servers still running from an earlier process.

`process` supervises one child process, `supervisor` the lifecycle both servers share (data
directory, lock, clean stop), `redis` and `postgres` one server each (`postgres_access`: who
runs PostgreSQL and whether it reaches its files). Linux only: leftovers are found in /proc.
"""

from storage.embedded.postgres import EmbeddedPostgres, start_embedded_postgres
from storage.embedded.process import EmbeddedServerError
from storage.embedded.redis import EmbeddedRedis, start_embedded_redis

__all__ = [
    "EmbeddedPostgres",
    "EmbeddedRedis",
    "EmbeddedServerError",
    "start_embedded_postgres",
    "start_embedded_redis",
]
