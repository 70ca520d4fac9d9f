"""Fixtures for end-to-end federation: instance A served in this process over loopback HTTP (on the
test database), instance B a real `redfed run` subprocess with its own SQLite file and data dir.

Tortoise keeps one connection registry per process, so two instances with two databases cannot
share a process: B lives in its own, and the test drives it only through HTTP, like a person.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from redfed.app import create_app
from redfed.config import Settings
from redfed.runtime import Runtime
from redfed.worker.runner import Worker
from tests.conftest import make_settings
from tests.support.live import Browser, reserve_port, serve_app, spawn_instance


@dataclass(frozen=True)
class LiveApp:
    settings: Settings
    base: str
    runtime: Runtime
    worker: Worker

    @property
    def domain(self) -> str:
        return self.settings.instance.domain


def live_settings(data_dir: Path, database_url: str, port: int, **sections: Any) -> Settings:
    worker = {"in_process": True, "poll_seconds": 0.05, **sections.pop("worker", {})}
    return make_settings(
        data_dir,
        database_url,
        instance={"domain": f"127.0.0.1:{port}", "scheme": "http", "name": "instance A"},
        worker=worker,
        **sections,
    )


@pytest.fixture
async def instance_a(tmp_path: Path, db: str) -> AsyncIterator[LiveApp]:
    """Instance A: the real app under Hypercorn on the test database, worker in-process."""
    sock = reserve_port()
    settings = live_settings(tmp_path / "a", db, sock.getsockname()[1])
    app = create_app(settings, manage_database=False)
    async with serve_app(settings, sock=sock, app=app) as base:
        yield LiveApp(settings, base, app.config["REDFED_RUNTIME"], app.config["REDFED_WORKER"])


@pytest.fixture
async def instance_b(tmp_path: Path) -> AsyncIterator[str]:
    """Base URL of instance B, a `redfed run` subprocess (SQLite, open registration)."""
    async with spawn_instance(tmp_path / "b") as base:
        yield base


@pytest.fixture
async def browsers() -> AsyncIterator[Any]:
    opened: list[Browser] = []

    def open_browser(base: str) -> Browser:
        browser = Browser(base)
        opened.append(browser)
        return browser

    yield open_browser
    for browser in opened:
        await browser.close()
