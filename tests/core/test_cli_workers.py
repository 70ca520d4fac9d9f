"""`redfed run` with `server.workers` > 1: several server processes on one port (PostgreSQL),
started and stopped as one; refused with one line on SQLite."""

from __future__ import annotations

import asyncio
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.core.test_cli_run import STARTUP_TIMEOUT, _environ, _finish, _free_port, _redfed


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            kids += [int(child) for child in children.read().split()]
    return kids


def _gone(pids: list[int]) -> bool:
    return not any(os.path.exists(f"/proc/{pid}") for pid in pids)


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return int(response.status)


async def _start_two_servers(
    tmp_path: Path, migrated: str
) -> tuple[asyncio.subprocess.Process, int, str]:
    """`redfed run` with two server processes on PostgreSQL; returns it, its port and its
    first line (skips on SQLite)."""
    if not migrated.startswith("postgres"):
        pytest.skip("server.workers > 1 is for PostgreSQL (REDFED_TEST_DATABASE_URL)")
    port = _free_port()
    env = _environ(
        tmp_path,
        port,
        REDFED_SERVER_WORKERS="2",
        REDFED_DATABASE_URL=migrated,
        REDFED_WORKER_IN_PROCESS="false",
    )
    proc = await _redfed(env, "run", "--no-migrate", "--no-first-admin")
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), STARTUP_TIMEOUT)).decode()
    return proc, port, line


async def test_several_workers_on_sqlite_are_refused_with_one_line(tmp_path: Path) -> None:
    env = _environ(tmp_path, _free_port(), REDFED_SERVER_WORKERS="2")
    code, out, err = await _finish(await _redfed(env, "run", "--no-first-admin"))
    assert code == 1
    assert err.strip().splitlines() == [
        "redfed: server.workers > 1 needs PostgreSQL (SQLite has one writer at a time); "
        "set server.workers = 1"
    ]
    assert "redfed is running" not in out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="counts processes through /proc")
async def test_two_workers_serve_one_port_and_stop_together(tmp_path: Path, migrated: str) -> None:
    proc, port, line = await _start_two_servers(tmp_path, migrated)
    assert f"open http://localhost:{port}/" in line
    servers = _children(proc.pid)
    assert len(servers) == 2
    for _ in range(4):
        assert await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz") == 200
    # One server process dying stops the other: no half-running server.
    os.kill(servers[0], signal.SIGKILL)
    code, out, _ = await _finish(proc)
    assert code != 0
    assert "redfed is running" not in out  # announced once, by the first process only
    assert await asyncio.to_thread(_gone, servers)


async def test_two_workers_stop_cleanly_on_sigterm(tmp_path: Path, migrated: str) -> None:
    proc, _port, _line = await _start_two_servers(tmp_path, migrated)
    servers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    code, _, err = await _finish(proc)
    assert code == 0, err
    assert await asyncio.to_thread(_gone, servers)
