"""The committed migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise, connections

from redfed.db import close_database, migrate_database, open_database, tortoise_config


async def _sqlite_columns() -> dict[str, set[str]]:
    conn = connections.get("default")
    tables = await conn.execute_query_dict(
        "SELECT name FROM sqlite_master WHERE type='table'"
        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'tortoise_%'"
    )
    out = {}
    for row in tables:
        cols = await conn.execute_query_dict(f'PRAGMA table_info("{row["name"]}")')
        out[row["name"]] = {c["name"] for c in cols}
    return out


async def test_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'migrated.sqlite3'}"
    await migrate_database(url)
    await open_database(url)
    migrated = await _sqlite_columns()
    await close_database()

    await Tortoise.init(config=tortoise_config(f"sqlite://{tmp_path / 'generated.sqlite3'}"))
    await Tortoise.generate_schemas()
    generated = await _sqlite_columns()
    await close_database()

    assert migrated == generated, "models changed without a migration: run `make migrations`"


async def test_migrating_twice_is_a_no_op(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'twice.sqlite3'}"
    await migrate_database(url)
    await close_database()
    await migrate_database(url)
    await close_database()
