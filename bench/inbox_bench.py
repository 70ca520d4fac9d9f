"""Inbox throughput: signed Creates accepted per second by the real app (Hypercorn subprocess,
loopback HTTP, key cache warm) and processed per second by the worker, on SQLite or PostgreSQL.

    .venv/bin/python bench/inbox_bench.py [-n 3000] [--concurrency 64] [--database-url postgres://…]
                                          [--ceiling] [--workers 2]

The server runs as `redfed run` (worker off) in its own process; this process plays the remote
servers (aiohttp, real RSA keys), pre-signs every request, then drains the queue with a Worker.
Targets on 2 cores: ≥ 1,000 accepted/s, ≥ 300 processed/s. Besides the rates (which depend on
what else the machine runs), it prints CPU milliseconds per request (the server process) and per
job (this process while draining), which do not. `--ceiling` first measures GET /healthz on the
same server: what Quart + Hypercorn reach with no work at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fediverse import FakeActor, FakeInstance  # noqa: E402
from tests.support.live import spawn_instance  # noqa: E402

from redfed.config import load_settings  # noqa: E402
from redfed.db import close_database, open_database  # noqa: E402
from redfed.federation.http import SafeHttpClient  # noqa: E402
from redfed.models import Account, Follow, FollowState, Job, Note  # noqa: E402
from redfed.runtime import Runtime  # noqa: E402
from redfed.services.accounts import create_local_account  # noqa: E402
from redfed.worker.handlers import default_handlers  # noqa: E402
from redfed.worker.runner import Worker  # noqa: E402

ACTORS = 20


def _environ(database_url: str, workers: int) -> dict[str, str]:
    env = {"REDFED_WORKER_IN_PROCESS": "false"}
    if workers > 1:
        env["REDFED_SERVER_WORKERS"] = str(workers)
    if database_url:
        env["REDFED_DATABASE_URL"] = database_url
    return env


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc; 0.0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            kids += [int(child) for child in children.read().split()]
    return kids


def _server_cpu() -> float:
    """CPU seconds of this process's descendants: the `redfed run` server and, with
    `--workers`, its server processes."""
    if not os.path.isdir("/proc"):
        return 0.0
    total, todo = 0.0, _children(os.getpid())
    while todo:
        pid = todo.pop()
        total += _process_cpu(pid)
        with contextlib.suppress(OSError):
            todo += _children(pid)
    return total


def _database_cpu(database_url: str) -> float:
    """CPU seconds of the PostgreSQL backends serving this bench's scratch database (their
    process titles name it; the server's pool keeps them open through the run)."""
    name = database_url.rsplit("/", 1)[-1]
    if not name.startswith("redfed_inbox_bench_") or not os.path.isdir("/proc"):
        return 0.0
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                title = cmdline.read()
            if title.startswith(b"postgres:") and f" {name} ".encode() in title:
                total += _process_cpu(int(pid))
    return total


async def _ceiling(base: str, n: int, concurrency: int) -> None:
    """GET /healthz n times: the per-request cost of the web stack alone."""
    host = base.removeprefix("http://")
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    started, cpu, client_cpu = time.perf_counter(), _server_cpu(), time.process_time()
    statuses = await _send_all(base, [request] * n, concurrency)
    elapsed, cpu = time.perf_counter() - started, _server_cpu() - cpu
    client_cpu = time.process_time() - client_cpu
    print(
        f"  ceiling  : GET /healthz {n / elapsed:,.0f}/s, "
        f"server CPU {1000 * cpu / n:.2f} ms/request (= {n / cpu if cpu else 0:,.0f}/s on one "
        f"core), client CPU {1000 * client_cpu / n:.2f} ms/request; {statuses}"
    )


def _presign(remote: FakeInstance, actors: list[FakeActor], base: str, n: int) -> list[bytes]:
    """n Creates to the shared inbox as whole HTTP/1.1 requests, signed before the clock starts
    (the Date header must stay within the signature window: the run takes seconds)."""
    host = base.removeprefix("http://")
    signed = []
    for i in range(n):
        actor = actors[i % len(actors)]
        note = remote.note(actor, f"<p>note {i} {uuid.uuid4().hex}</p>", store=False)
        activity = remote.activity(actor, "Create", note, to=note["to"], cc=note["cc"])
        body = json.dumps(activity).encode()
        headers = remote.signed_headers(actor, "POST", f"{base}/inbox", body)
        headers = {k: v for k, v in headers.items() if k.lower() != "host"}
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        signed.append(
            f"POST /inbox HTTP/1.1\r\nHost: {host}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
    return signed


async def _send_all(base: str, requests: list[bytes], concurrency: int) -> dict[int, int]:
    """Send prepared requests over `concurrency` keep-alive connections; the status counts.

    A bare asyncio client, not aiohttp: 0.08-0.12 ms CPU per request against aiohttp's
    0.23-0.26 ms (GET /healthz, 64 connections), so on a 2-core machine the load generator
    takes less of the core the server needs."""
    host, _, port = base.removeprefix("http://").partition(":")
    statuses: dict[int, int] = {}
    queue = iter(requests)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for raw in queue:
                writer.write(raw)
                status = int((await reader.readline()).split()[1])
                length, close = 0, False
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                if length:
                    await reader.readexactly(length)
                statuses[status] = statuses.get(status, 0) + 1
                if close:  # Hypercorn's keep_alive_max_requests: open a new connection
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses


async def _post_all(base: str, requests: list[bytes], concurrency: int) -> tuple[float, int]:
    started = time.perf_counter()
    statuses = await _send_all(base, requests, concurrency)
    elapsed = time.perf_counter() - started
    bad = sum(v for k, v in statuses.items() if k != 202)
    if bad:
        print(f"  non-202 answers: {statuses}")
    return elapsed, statuses.get(202, 0)


async def _drain(settings: Any) -> tuple[float, int]:
    runtime = Runtime(settings=settings)
    async with SafeHttpClient(
        allow_private_addresses=True,
        user_agent="redfed-bench",
        max_json_bytes=2**20,
        max_media_bytes=2**20,
    ) as http:
        runtime.http = http
        worker = Worker(runtime, default_handlers(), concurrency=settings.worker.concurrency)
        started = time.perf_counter()
        ran = await worker.run_until_idle(max_rounds=100_000)
        return time.perf_counter() - started, ran


async def run(
    n: int, concurrency: int, database_url: str, ceiling: bool = False, workers: int = 1
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="redfed-inbox-bench-"))
    remote = await FakeInstance().start()
    actors = [remote.add_actor(f"poster{i}") for i in range(ACTORS)]
    async with spawn_instance(data_dir, **_environ(database_url, workers)) as base:
        if ceiling:
            await _ceiling(base, 300, concurrency)  # warm-up
            await _ceiling(base, n, concurrency)
        env = {"REDFED_STORAGE_DATA_DIR": str(data_dir), "REDFED_DATABASE_URL": database_url}
        settings = load_settings(Path("/dev/null"), environ={k: v for k, v in env.items() if v})
        settings = _with_domain(settings, base)
        await open_database(settings.database_url)
        alice = await create_local_account(settings, "alice", "bench password 123")
        # Warm the key cache: one Create per actor, then alice follows them all.
        warm = _presign(remote, actors, base, ACTORS)
        await _post_all(base, warm, min(concurrency, ACTORS))
        for account in await Account.filter(domain=remote.domain):
            await Follow.create(
                follower=alice,
                followee=account,
                state=FollowState.ACCEPTED,
                uri=f"{base}/follows/{uuid.uuid4().hex}",
            )
        await _drain(settings)
        requests = _presign(remote, actors, base, n)
        server_cpu, client_cpu = _server_cpu(), time.process_time()
        database_cpu = _database_cpu(database_url)
        accept_s, accepted = await _post_all(base, requests, concurrency)
        server_cpu, client_cpu = _server_cpu() - server_cpu, time.process_time() - client_cpu
        database_cpu = _database_cpu(database_url) - database_cpu
        worker_cpu = time.process_time()
        process_s, processed = await _drain(settings)
        worker_cpu = time.process_time() - worker_cpu
        stored = await Note.filter(account__domain=remote.domain).count()
        dead = await Job.filter(kind="inbox", state="dead").count()
        await close_database()
    await remote.close()
    shutil.rmtree(data_dir, ignore_errors=True)  # kept only when the run failed (server.log)
    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(
        f"inbox bench ({kind}, {n} signed Creates, {concurrency} connections, {ACTORS} actors, "
        f"{workers} server process{'es' if workers > 1 else ''})"
    )
    rate = accepted / accept_s
    print(
        f"  accepted : {accepted} in {accept_s:.2f} s = {rate:,.0f}/s (target ≥ 1,000/s); "
        f"server CPU {1000 * server_cpu / max(accepted, 1):.2f} ms/request, "
        f"client CPU {1000 * client_cpu / max(accepted, 1):.2f} ms/request"
        + (
            f", PostgreSQL CPU {1000 * database_cpu / accepted:.2f} ms/request"
            if kind == "PostgreSQL" and accepted
            else ""
        )
    )
    print(
        f"  processed: {processed} jobs in {process_s:.2f} s = {processed / process_s:,.0f}/s "
        f"(target ≥ 300/s); worker CPU {1000 * worker_cpu / max(processed, 1):.2f} ms/job; "
        f"notes stored {stored}, dead jobs {dead}"
    )


def _with_domain(settings: Any, base: str) -> Any:
    from dataclasses import replace

    instance = replace(settings.instance, domain=base.removeprefix("http://"), scheme="http")
    return replace(settings, instance=instance)


async def _scratch_postgres(server_url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def run_on(
    n: int, concurrency: int, server_url: str, ceiling: bool = False, workers: int = 1
) -> None:
    """SQLite in a temporary data dir, or a scratch database on the PostgreSQL server."""
    if not server_url:
        await run(n, concurrency, "", ceiling, workers)
        return
    name = f"redfed_inbox_bench_{uuid.uuid4().hex[:8]}"
    await _scratch_postgres(server_url, f'CREATE DATABASE "{name}"')
    try:
        await run(n, concurrency, f"{server_url.rsplit('/', 1)[0]}/{name}", ceiling, workers)
    finally:
        await _scratch_postgres(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="signed Creates to send")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default="", help="postgres://… server")
    parser.add_argument("--ceiling", action="store_true", help="measure GET /healthz first")
    parser.add_argument(
        "--workers", type=int, default=1, help="server.workers (server processes; PostgreSQL)"
    )
    args = parser.parse_args()
    asyncio.run(run_on(args.n, args.concurrency, args.database_url, args.ceiling, args.workers))


if __name__ == "__main__":
    main()
