"""Database set-up: the Tortoise configuration, migrations, and connection lifetime."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from redfed.errors import ConfigError

log = logging.getLogger(__name__)

# SQLite: WAL lets readers and the writer work at once, the busy timeout makes a writer wait
# for the lock instead of failing with "database is locked" (FLT-09).
_SQLITE_PRAGMAS = "journal_mode=WAL&busy_timeout=10000&synchronous=NORMAL&foreign_keys=ON"


def tortoise_config(database_url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            "models": {
                "models": ["redfed.models"],
                "default_connection": "default",
                "migrations": "redfed.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(database_url: str) -> str | dict[str, Any]:
    scheme = urlsplit(database_url).scheme
    if scheme == "sqlite":
        path = database_url[len("sqlite://") :]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        separator = "&" if "?" in database_url else "?"
        expanded = expand_db_url(f"{database_url}{separator}{_SQLITE_PRAGMAS}")
        # Transactions that take the write lock when they begin (redfed/sqlite_engine.py).
        return {**expanded, "engine": "redfed.sqlite_engine"}
    if scheme in ("postgres", "postgresql", "asyncpg"):
        return database_url.replace("postgresql://", "postgres://", 1)
    raise ConfigError(
        f"config: database.url {database_url!r} must start with sqlite:// or postgres://"
    )


def is_postgres(database_url: str) -> bool:
    return urlsplit(database_url).scheme in ("postgres", "postgresql", "asyncpg")


async def migrate_database(database_url: str) -> None:
    """Apply every pending migration (idempotent), then close: the migration run initialises
    Tortoise in its own way, so callers open the database afresh with `open_database`."""
    await run_migrations(config=tortoise_config(database_url))
    await Tortoise.close_connections()
    log.info("db.migrated url_scheme=%s", urlsplit(database_url).scheme)


async def open_database(database_url: str) -> None:
    await Tortoise.init(config=tortoise_config(database_url))


async def close_database() -> None:
    await Tortoise.close_connections()
