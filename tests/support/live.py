"""Live redfed instances for end-to-end tests: the real app under Hypercorn on 127.0.0.1, in this
process (`serve_app`) or as a `redfed run` subprocess (`spawn_instance`), and a `Browser` that
drives the HTML forms over real HTTP like a person (cookies, CSRF tokens, multipart uploads).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from quart import Quart

from redfed.app import create_app
from redfed.config import Settings

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
STEP_SECONDS = 0.05


def reserve_port() -> socket.socket:
    """A listening socket on a free 127.0.0.1 port: build the settings with its port, then hand
    it to `serve_app`. Connections made before the app is up wait in the backlog (no race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def free_port() -> int:
    """A port that was free a moment ago (for subprocesses, which bind it themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve_app(
    settings: Settings,
    *,
    sock: socket.socket | None = None,
    manage_database: bool = False,
    start_worker: bool | None = None,
    app: Quart | None = None,
) -> AsyncIterator[str]:
    """Serve `create_app(settings)` (or `app`, built by the caller from the same settings, to
    reach its runtime and worker) with Hypercorn on the port of `settings.instance.domain`, or
    on `sock` from `reserve_port()`; yields the base URL. Leaves no task behind."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    host, _, port = settings.instance.domain.partition(":")
    assert host == "127.0.0.1" and settings.instance.scheme == "http", "live apps are loopback http"
    if sock is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(port)))
        sock.listen(128)
    assert sock.getsockname()[1] == int(port), "the socket and the settings disagree on the port"
    config = Config()
    config.bind = [f"fd://{os.dup(sock.fileno())}"]  # Hypercorn owns (and closes) the duplicate
    sock.close()
    config.accesslog = None
    config.errorlog = None
    config.graceful_timeout = 2.0
    if app is None:
        app = create_app(settings, start_worker=start_worker, manage_database=manage_database)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    try:
        yield settings.base_url
    finally:
        stop.set()
        await task


# --- subprocess instances ----------------------------------------------------------------------


def instance_environ(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    """Environment for `redfed run` on 127.0.0.1:port with its own SQLite file in `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
    env.update(
        REDFED_CONFIG="/dev/null",  # no instance-config/redfed.toml from the working directory
        REDFED_INSTANCE_DOMAIN=f"127.0.0.1:{port}",
        REDFED_INSTANCE_SCHEME="http",
        REDFED_SERVER_HOST="127.0.0.1",
        REDFED_SERVER_PORT=str(port),
        REDFED_STORAGE_DATA_DIR=str(data_dir),
        REDFED_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true",
        REDFED_WORKER_IN_PROCESS="true",
        REDFED_WORKER_POLL_SECONDS="0.05",
        REDFED_TRANSLATION_ENABLED="false",
    )
    env.update(extra)
    return env


@asynccontextmanager
async def spawn_instance(
    data_dir: Path, *, start_seconds: float = 20.0, **env: str
) -> AsyncIterator[str]:
    """`python -m redfed.cli run` in a subprocess with its own data dir and database; yields the
    base URL once /healthz answers. SIGTERM on exit (graceful), SIGKILL if it hangs."""
    port = free_port()
    log = _open_log(data_dir)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        "run",
        "--no-first-admin",
        env=instance_environ(data_dir, port, **env),
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(proc, base, start_seconds, data_dir / "server.log")
        yield base
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        log.close()


def _open_log(data_dir: Path) -> Any:
    data_dir.mkdir(parents=True, exist_ok=True)
    return (data_dir / "server.log").open("wb")


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


async def _wait_healthy(proc: Any, base: str, seconds: float, log_path: Path) -> None:
    async with aiohttp.ClientSession() as session:

        async def healthy() -> bool:
            if proc.returncode is not None:
                raise AssertionError(f"redfed exited early:\n{_tail(log_path)}")
            try:
                async with session.get(f"{base}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientConnectionError:
                return False

        await eventually(healthy, within=seconds, what=f"{base} to start")


# --- waiting for another process -------------------------------------------------------------


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 20.0, what: str = "a condition"
) -> Any:
    """Poll `check` every 50 ms until it returns something truthy; fail after `within` seconds.
    Only for waiting on another process, where there is nothing to await directly."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(STEP_SECONDS)


# --- a person with a browser -------------------------------------------------------------------


class Browser:
    """One person's browser on one instance: cookie jar, CSRF token from the last form page."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        # unsafe=True: aiohttp refuses cookies for IP-address hosts otherwise.
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str, *, status: int | None = 200) -> str:
        async with self.session.get(self.base + path, allow_redirects=True) as response:
            text = await response.text()
            if status is not None:
                assert response.status == status, f"GET {path}: {response.status}\n{text[:2000]}"
            found = _CSRF_RE.search(text)
            if found:
                self.csrf = found.group(1)
            return text

    async def status(self, path: str) -> int:
        async with self.session.get(self.base + path, allow_redirects=False) as response:
            await response.read()
            return response.status

    async def post(
        self,
        path: str,
        fields: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        csrf: bool = True,
    ) -> tuple[int, str]:
        """POST a form (multipart when `files`), without following the redirect."""
        data: Any
        values = dict(fields or {})
        if csrf:
            values.setdefault("csrf_token", self.csrf)
        if files:
            data = aiohttp.FormData()
            for key, value in values.items():
                data.add_field(key, value)
            for key, (filename, content, content_type) in files.items():
                data.add_field(key, content, filename=filename, content_type=content_type)
        else:
            data = values
        url = self.base + path
        async with self.session.post(url, data=data, allow_redirects=False) as response:
            return response.status, response.headers.get("Location", "") or await response.text()

    async def sign_up(self, username: str, password: str) -> None:
        await self.get("/signup")
        status, where = await self.post("/signup", {"username": username, "password": password})
        assert status == 302, f"sign-up of {username} failed: {status} {where[:2000]}"
        await self.get("/settings/account")  # signed in: the session's CSRF token

    async def log_in(self, username: str, password: str) -> None:
        await self.get("/login")
        status, where = await self.post("/login", {"username": username, "password": password})
        assert status == 302, f"log-in of {username} failed: {status} {where[:2000]}"
        await self.get("/settings/account")  # the session's CSRF token
