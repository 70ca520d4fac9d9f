"""Fixtures for the browser tests: a real `redfed run` subprocess on a free loopback port with a
fresh data dir (SQLite), and headless Debian Chromium driven by Playwright (never downloaded).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_OPEN_LINE = re.compile(rb"open (http://\S+?)/? ")
START_TIMEOUT = 30.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (run `make browser-deps` as root)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@dataclass(frozen=True)
class LiveServer:
    base: str
    data_dir: Path
    environ: dict[str, str]
    output: list[str]

    async def cli(self, *args: str) -> str:
        """`redfed <args>` against the same data dir and database; returns stdout."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "redfed.cli",
            *args,
            env=self.environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode == 0, f"redfed {' '.join(args)}: {err.decode()[-2000:]}"
        return out.decode()

    async def create_user(self, username: str) -> str:
        """`redfed user create` as an admin would; returns the password it prints."""
        created = await self.cli("user", "create", username)
        found = re.search(r"Password: (\S+)", created)
        assert found, created
        return found.group(1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environ(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
    env.update(
        REDFED_CONFIG="/dev/null",  # never the developer's instance-config/redfed.toml
        REDFED_INSTANCE_DOMAIN=f"127.0.0.1:{port}",
        REDFED_INSTANCE_SCHEME="http",
        REDFED_SERVER_HOST="127.0.0.1",
        REDFED_SERVER_PORT=str(port),
        REDFED_STORAGE_DATA_DIR=str(data_dir),
        REDFED_REGISTRATION_MODE="open",
        REDFED_WORKER_POLL_SECONDS="0.05",
        REDFED_TRANSLATION_ENABLED="false",
    )
    return env


async def _read_until_open(proc: Any, output: list[str]) -> str:
    while True:
        line = await proc.stdout.readline()
        if not line:
            raise AssertionError("redfed run exited before serving:\n" + "".join(output[-40:]))
        output.append(line.decode(errors="replace"))
        found = _OPEN_LINE.search(line)
        if found:
            return found.group(1).decode()


async def _drain(proc: Any, output: list[str]) -> None:
    while line := await proc.stdout.readline():
        output.append(line.decode(errors="replace"))


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """`redfed run` (migrations, first admin) in a subprocess; ready once it prints its URL."""
    port = _free_port()
    env = server_environ(tmp_path / "data", port)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        "run",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    drain: asyncio.Task[None] | None = None
    try:
        try:
            opened = await asyncio.wait_for(_read_until_open(proc, output), START_TIMEOUT)
        except TimeoutError:
            raise AssertionError("redfed run did not serve:\n" + "".join(output[-40:])) from None
        # The printed address says localhost; the browser uses the configured 127.0.0.1 host.
        base = opened.replace("localhost", "127.0.0.1")
        drain = asyncio.create_task(_drain(proc, output))
        yield LiveServer(base, tmp_path / "data", env, output)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if drain is not None:
            await drain


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """Headless Debian Chromium (Playwright never downloads a browser here)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()
