"""`redfed run` and `redfed worker` as an admin meets them: real subprocesses on loopback.

A start-up failure ends the process with one line and a non-zero status (never a hang), and the
"open http://…" line appears only once a connection to that address is served.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT = 30.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
    env.update(
        REDFED_CONFIG="/dev/null",
        REDFED_INSTANCE_DOMAIN=f"127.0.0.1:{port}",
        REDFED_INSTANCE_SCHEME="http",
        REDFED_SERVER_HOST="127.0.0.1",
        REDFED_SERVER_PORT=str(port),
        REDFED_STORAGE_DATA_DIR=str(data_dir),
        REDFED_TRANSLATION_ENABLED="false",
        **extra,
    )
    return env


async def _redfed(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _finish(proc: asyncio.subprocess.Process) -> tuple[int, str, str]:
    """Wait (bounded) for a process that should exit by itself; a hang fails the test."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), STARTUP_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError("the process hung instead of exiting") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _closed_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    return _free_port()


async def test_port_in_use_exits_with_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        proc = await _redfed(_environ(tmp_path, port), "run")
        code, out, err = await _finish(proc)
    assert code == 1
    assert err.strip().splitlines() == [
        f"redfed: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "redfed is running" not in out
    # It failed before migrating: nothing was written to the data dir.
    assert os.listdir(tmp_path) == []


async def test_unreachable_database_exits_with_one_line(tmp_path: Path) -> None:
    url = f"postgres://redfed@127.0.0.1:{_closed_port()}/redfed"
    env = _environ(tmp_path, _free_port(), REDFED_DATABASE_URL=url)
    env_two = _environ(tmp_path, _free_port(), REDFED_DATABASE_URL=url)
    migrating, opening, working = await asyncio.gather(
        _finish(await _redfed(env, "run")),
        _finish(await _redfed(env_two, "run", "--no-migrate")),
        _finish(await _redfed(env, "worker")),
    )
    for (code, out, err), step in ((migrating, "migrate"), (opening, "open")):
        assert code == 1
        lines = err.strip().splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"redfed: could not start: cannot {step} the database: ")
        assert "redfed is running" not in out
    code, out, err = working
    assert code == 1
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("redfed: could not start: ")
    assert "worker is running" not in out


async def _read_until(stream: asyncio.StreamReader, needle: str) -> str:
    while line := (await stream.readline()).decode():
        if needle in line:
            return line
    raise AssertionError(f"the output ended before {needle!r}")


def _get(url: str) -> int:
    # One attempt, no retry: the announcement promised the address answers now.
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return int(response.status)


async def test_announces_only_once_serving_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    proc = await _redfed(_environ(tmp_path, port), "run")
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(_read_until(proc.stdout, "open http"), STARTUP_TIMEOUT)
        assert f"open http://localhost:{port}/" in line
        status = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/healthz")
        assert status == 200
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    code, _, err = await _finish(proc)
    assert code == 0, err
