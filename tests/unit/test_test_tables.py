"""The tests empty every table between tests on real PostgreSQL: a table a migration adds but
`TABLES` forgets carries one test's rows into the next (it did: user_preferences)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import TABLES

MIGRATIONS = Path(__file__).resolve().parents[2] / "storage" / "postgres" / "migrations"


def test_every_migrated_table_is_emptied_between_tests() -> None:
    created = {
        name
        for path in MIGRATIONS.glob("*.sql")
        for name in re.findall(
            r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)", path.read_text(encoding="utf-8")
        )
    }
    assert created, MIGRATIONS
    assert created - {"schema_migrations"} == set(TABLES)
