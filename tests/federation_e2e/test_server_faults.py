"""RES-09 and FLT-10 against real processes: `redfed run` (Hypercorn) and `redfed worker`.

RES-09: 1,000 connections, the catalogue's figure, trickle request headers a byte every 2 s
(slowloris; the catalogue's 10 s would only be gentler). Other clients are still served
promptly, and Hypercorn closes each trickling connection once its keep-alive timeout has
passed without a complete request (cli/server.py sets 10 s: the timer runs from the
connection's start until a request's headers are complete, however often bytes arrive;
read_timeout alone would not do, it restarts with every byte).

FLT-10: SIGTERM with work in flight. A request whose body is still arriving when the server is
told to stop is answered (202) and its activity stored; activities stored but not yet applied
stay queued in the database across the shutdown. A `redfed worker` told to stop in the middle
of a batch (its jobs waiting on a slow remote server) finishes the batch, records it, and
exits 0; nothing is left `running`.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.fediverse import FakeInstance
from tests.support.live import eventually, free_port, instance_environ

SLOW_CONNECTIONS = 1000
KEEP_ALIVE_SECONDS = 10  # cli/server.py


class Process:
    def __init__(self, proc: asyncio.subprocess.Process, log: Path, base: str) -> None:
        self.proc, self.log, self.base = proc, log, base

    async def terminate(self, within: float = 30.0) -> int:
        self.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(within):
            return await self.proc.wait()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _log_path(data_dir: Path, command: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir / f"{command}.log"


@asynccontextmanager
async def redfed(data_dir: Path, command: str, port: int, **env: str) -> AsyncIterator[Process]:
    """`python -m redfed.cli <command>` on its own SQLite file in `data_dir`; killed if still
    running at the end."""
    log = _log_path(data_dir, command)
    args = ["run", "--no-first-admin"] if command == "run" else [command]
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "redfed.cli",
            *args,
            env=instance_environ(data_dir, port, **env),
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        yield Process(proc, log, f"http://127.0.0.1:{port}")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _healthy(process: Process, session: aiohttp.ClientSession) -> bool:
    if process.proc.returncode is not None:
        raise AssertionError(f"redfed exited early:\n{process.tail()}")
    try:
        async with session.get(f"{process.base}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientConnectionError:
        return False


async def _wait_started(process: Process) -> None:
    async with aiohttp.ClientSession() as session:
        await eventually(lambda: _healthy(process, session), within=30, what="redfed to start")


# --- RES-09 ------------------------------------------------------------------------------------


async def _trickle(base_port: int, stop: asyncio.Event) -> float | None:
    """Open a connection and send a request line and headers a byte every 2 s, never ending
    them; returns how many seconds the server kept it open (None: still open at `stop`)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", base_port)
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    try:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            with suppress(TimeoutError):
                async with asyncio.timeout(2.0):
                    if await reader.read(1024) == b"":
                        return time.monotonic() - started  # closed by the server
            if stop.is_set():
                return None
        return None
    except (ConnectionError, OSError):
        return time.monotonic() - started
    finally:
        writer.close()
        with suppress(Exception):
            await writer.wait_closed()


async def test_res09_slowloris_does_not_starve_other_clients(tmp_path: Path) -> None:
    port = free_port()
    async with redfed(tmp_path / "srv", "run", port) as server:
        await _wait_started(server)
        stop = asyncio.Event()
        # Given 1,000 connections trickling their headers
        slow = [asyncio.create_task(_trickle(port, stop)) for _ in range(SLOW_CONNECTIONS)]
        await asyncio.sleep(1.0)
        # Then ordinary clients are still answered promptly, again and again
        latencies = []
        async with aiohttp.ClientSession() as session:
            for _ in range(10):
                began = time.monotonic()
                async with asyncio.timeout(5):
                    async with session.get(f"{server.base}/healthz") as response:
                        assert response.status == 200
                latencies.append(time.monotonic() - began)
                await asyncio.sleep(0.3)
        assert max(latencies) < 3.0, latencies
        # And every trickling connection is closed by the server after its keep-alive timeout
        try:
            async with asyncio.timeout(KEEP_ALIVE_SECONDS + 15):
                held = await asyncio.gather(*slow)
        finally:
            stop.set()
        assert all(h is not None for h in held), f"{held.count(None)} still open"
        assert max(h for h in held if h is not None) < KEEP_ALIVE_SECONDS + 6
        assert server.proc.returncode is None  # and the server is still up
        assert await server.terminate() == 0


# --- FLT-10 ------------------------------------------------------------------------------------


def _jobs(db_file: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db_file) as conn:
        return [(k, s) for k, s in conn.execute("SELECT kind, state FROM jobs WHERE kind='inbox'")]


def _note_uris(db_file: Path) -> set[str]:
    with sqlite3.connect(db_file) as conn:
        return {u for (u,) in conn.execute("SELECT uri FROM notes")}


async def _post_trickled(
    remote: FakeInstance,
    actor: Any,
    base: str,
    port: int,
    activity: dict[str, Any],
    halfway: asyncio.Event,
    go_on: asyncio.Event,
) -> int:
    """POST a signed activity over a raw connection, its body sent in two halves: `halfway` is
    set after the first, the second waits for `go_on`. Returns the response status."""
    body = json.dumps(activity).encode()
    headers = remote.signed_headers(actor, "POST", f"{base}/inbox", body)
    head = f"POST /inbox HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode() + b"\r\n" + body[: len(body) // 2])
        await writer.drain()
        halfway.set()
        await go_on.wait()
        writer.write(body[len(body) // 2 :])
        await writer.drain()
        status_line = await reader.readline()
        return int(status_line.split()[1])
    finally:
        writer.close()
        with suppress(Exception):
            await writer.wait_closed()


@asynccontextmanager
async def fake_remote() -> AsyncIterator[FakeInstance]:
    remote = await FakeInstance().start()
    try:
        yield remote
    finally:
        await remote.close()


async def test_flt10_sigterm_drains_in_flight_work_and_keeps_queued_jobs(tmp_path: Path) -> None:
    async with fake_remote() as remote:
        await _flt10(tmp_path, remote)


async def _flt10(tmp_path: Path, remote: FakeInstance) -> None:
    data = tmp_path / "srv"
    db_file = data / "redfed.sqlite3"
    bob = remote.add_actor("bob")
    parent = remote.note(bob, "<p>parent on a slow server</p>")
    remote.delays[parent["id"].split(remote.domain, 1)[1]] = 2.0
    replies = [remote.note(bob, f"<p>reply {i}</p>", inReplyTo=parent["id"]) for i in range(4)]
    port = free_port()
    # Given a server without an in-process worker, which stores four activities
    async with redfed(data, "run", port, REDFED_WORKER_IN_PROCESS="false") as server:
        await _wait_started(server)
        for note in replies:
            status = await remote.post_live(
                server.base, bob, "/inbox", remote.activity(bob, "Create", note)
            )
            assert status == 202
        # When SIGTERM arrives while a fifth activity's body is still on its way
        last = remote.note(bob, "<p>in flight</p>")
        halfway, go_on = asyncio.Event(), asyncio.Event()
        posting = asyncio.create_task(
            _post_trickled(
                remote, bob, server.base, port, remote.activity(bob, "Create", last), halfway, go_on
            )
        )
        await halfway.wait()
        await asyncio.sleep(0.2)  # the request is being read by the server
        server.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        go_on.set()
        # Then that request is still answered, and the server exits cleanly
        assert await asyncio.wait_for(posting, 15) == 202
        async with asyncio.timeout(30):
            assert await server.proc.wait() == 0, server.tail()
    # And every activity is in the database, queued, none lost
    assert sorted(_jobs(db_file)) == [("inbox", "queued")] * 5
    # Given a worker applying them (each reply waits 2 s for its parent on the slow server)
    async with redfed(data, "worker", port, REDFED_WORKER_POLL_SECONDS="0.05") as worker:
        parent_path = parent["id"].split(remote.domain, 1)[1]
        await eventually(
            lambda: _asked(remote, parent_path), within=30, what="the worker to fetch the parent"
        )
        # When it is told to stop in the middle of that batch
        code = await worker.terminate()
        # Then it finished and recorded the batch before exiting
        assert code == 0, worker.tail()
    assert sorted(_jobs(db_file)) == [("inbox", "done")] * 5
    stored = _note_uris(db_file)
    assert {n["id"] for n in replies} | {last["id"], parent["id"]} <= stored


async def _asked(remote: FakeInstance, path: str) -> bool:
    return remote.hits(path) > 0
