"""Emptying the test database between tests: DELETE in foreign-key order, not TRUNCATE.

Why: TRUNCATE gives every table new files and syncs them, about 45 ms a table on a durable
PostgreSQL (0.6 s for the 14 tables, before every test that stands on the database); DELETE
of the few rows a test leaves takes about 20 ms for all of them. What remains is the same:
no rows, sequences as they were (TRUNCATE here never restarted them either).
"""

from __future__ import annotations

from collections.abc import Iterable
from graphlib import TopologicalSorter

import asyncpg

_FOREIGN_KEYS = """
SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent
FROM pg_constraint WHERE contype = 'f'
"""


async def delete_all_rows(conn: asyncpg.Connection, tables: Iterable[str]) -> None:
    """Delete every row of `tables` (plain names), referencing tables before the tables they
    reference, in one transaction."""
    wanted = list(tables)
    children: dict[str, set[str]] = {table: set() for table in wanted}
    for row in await conn.fetch(_FOREIGN_KEYS):
        child, parent = row["child"].strip('"'), row["parent"].strip('"')
        if parent in children and child in children and child != parent:
            children[parent].add(child)
    # A table's "predecessors" are the tables referencing it: they are emptied first.
    order = list(TopologicalSorter(children).static_order())
    # Names from the test's own table list or pg_tables, never from input.
    await conn.execute("".join(f'DELETE FROM "{table}";' for table in order))  # noqa: S608
