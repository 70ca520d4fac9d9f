"""Suite-wide fixtures: a real database (SQLite, or PostgreSQL when REDFED_TEST_DATABASE_URL is
set), settings pointing at a temporary data dir, and the app inside `test_app()`.

The schema is built once per run by the real migrations; each test that uses the database
starts from empty tables (they are emptied after every test).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise, connections

from redfed.app import create_app
from redfed.config import Settings, load_settings
from redfed.db import close_database, is_postgres, migrate_database, open_database
from redfed.worker.runner import Worker

TEST_DOMAIN = "redfed.test"


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("REDFED_TEST_DATABASE_URL", "")
    return f"redfed database: {'PostgreSQL ' + url if url else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get("REDFED_TEST_DATABASE_URL", "")
    if not server_url:
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'redfed-test.sqlite3'}"
        return
    # A scratch database per run, so parallel runs and leftovers never collide.
    name = f"redfed_test_{uuid.uuid4().hex[:10]}"
    _postgres_admin(server_url, f'CREATE DATABASE "{name}"')
    base = server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        _postgres_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin(server_url: str, statement: str) -> None:
    import asyncio

    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
async def migrated(database_url: str) -> AsyncIterator[str]:
    await migrate_database(database_url)
    await close_database()
    yield database_url


@pytest.fixture
async def db(migrated: str) -> AsyncIterator[str]:
    """An open database with empty tables; emptied again after the test."""
    await open_database(migrated)
    try:
        yield migrated
    finally:
        await _empty_all_tables(migrated)
        await close_database()


async def _empty_all_tables(database_url: str) -> None:
    conn = connections.get("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    if is_postgres(database_url):
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        script = "PRAGMA foreign_keys=OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables)
        await conn.execute_script(script + "PRAGMA foreign_keys=ON;")


def make_settings(data_dir: Path, database_url: str, **sections: dict[str, Any]) -> Settings:
    """Settings for a test instance; `sections` override keys, e.g. instance={"domain": ...}."""
    overrides: dict[str, dict[str, Any]] = {
        "instance": {"domain": TEST_DOMAIN, "scheme": "https", "name": "redfed test"},
        "storage": {"data_dir": str(data_dir)},
        "database": {"url": database_url},
        "federation": {"allow_private_addresses": True},
        "worker": {"in_process": False},
    }
    for section, values in sections.items():
        overrides.setdefault(section, {}).update(values)
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def settings(tmp_path: Path, migrated: str) -> Settings:
    return make_settings(tmp_path / "data", migrated)


@pytest.fixture
async def app(settings: Settings, db: str) -> AsyncIterator[Any]:
    """The app with its start-up hooks run (the plain test client skips them)."""
    application = create_app(settings, start_worker=False, manage_database=False)
    async with application.test_app() as test_app:
        yield test_app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runtime(app: Any) -> Any:
    return app.app.config["REDFED_RUNTIME"]


@pytest.fixture
def worker(app: Any) -> Worker:
    return app.app.config["REDFED_WORKER"]


# --- accounts (make_local_account, login) ------------------------------------------------------


@pytest.fixture
def make_local_account(settings: Settings, db: str) -> Any:
    """`await make_local_account("alice", admin=False, locked=False)`: a local Account (with
    `account.user` loaded) made by the real service.
    Its password is support.accounts.TEST_PASSWORD."""
    from redfed.services.accounts import create_local_account
    from tests.support.accounts import TEST_PASSWORD

    async def make(
        username: str,
        *,
        admin: bool = False,
        locked: bool = False,
        password: str = TEST_PASSWORD,
        **options: Any,
    ) -> Any:
        return await create_local_account(
            settings, username, password, admin=admin, locked=locked, **options
        )

    return make


@pytest.fixture
def login() -> Any:
    """`await login(client, account)`: logs in through the real form; returns the CSRF token."""
    from tests.support.accounts import login_client

    return login_client


# --- notes (make_note) -------------------------------------------------------------------------


@pytest.fixture
def make_note(settings: Settings, db: str) -> Any:
    """`await make_note(account, title="…", text="…", visibility=…, photos=0..n, in_reply_to=None)`:
    a local note made by the real service (photos are real PNGs made with Pillow)."""
    from redfed.models import Visibility
    from redfed.runtime import Runtime
    from redfed.services.media import PhotoUpload
    from redfed.services.notes import NoteDraft, create_local_note
    from tests.support.notes import image_bytes

    rt = Runtime(settings=settings)

    async def make(
        account: Any,
        *,
        title: str = "",
        text: str = "",
        visibility: Any = Visibility.PUBLIC,
        photos: int = 0,
        in_reply_to: Any = None,
        **draft: Any,
    ) -> Any:
        if not (title or text or photos):
            text = "A note"
        uploads = [PhotoUpload(image_bytes(), f"p{i}.png", f"photo {i}") for i in range(photos)]
        note_draft = NoteDraft(title=title, text=text, visibility=Visibility(visibility), **draft)
        return await create_local_note(rt, account, note_draft, uploads, in_reply_to=in_reply_to)

    return make
