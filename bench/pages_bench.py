"""Page latency at scale: seed 1,000 accounts and 100,000 photo notes (with likes, comments,
tags, follows), serve them with `redfed run` (Hypercorn, a subprocess), and measure p50/p99 over
real HTTP with a modest concurrent client: Explore anonymous and logged in, a note page with 50
comments, a profile page. SQLite (bench/.data/) and PostgreSQL (a scratch database, dropped).

Run: .venv/bin/python bench/pages_bench.py [--db sqlite|postgres|both] [--notes N] [--queries]
`--queries` also counts the SQL statements each page runs (in-process, one request each).
Target on a 2-core machine: p99 ≤ 50 ms for each page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.seed import DATA_DIR, Seeded, postgres_scratch, seed, sqlite_scratch  # noqa: E402

from redfed.config import load_settings  # noqa: E402
from redfed.db import close_database, migrate_database, open_database  # noqa: E402

TARGET_P99_MS = 50.0
VIEWER, VIEWER_PASSWORD = "benchviewer", "bench-viewer-password"
DEFAULT_PG = os.environ.get("REDFED_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, port: int, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDFED_")}
    env.update(
        REDFED_CONFIG="/dev/null",
        REDFED_DATABASE_URL=database_url,
        REDFED_INSTANCE_DOMAIN=f"127.0.0.1:{port}",
        REDFED_SERVER_PORT=str(port),
        REDFED_STORAGE_DATA_DIR=str(data_dir),
        REDFED_TRANSLATION_ENABLED="false",
    )
    return env


async def prepare(database_url: str, port: int, notes: int, accounts: int) -> Seeded:
    from redfed.services.accounts import create_local_account

    settings = load_settings(environ=server_env(database_url, port, DATA_DIR / "media"))
    await migrate_database(database_url)
    await close_database()
    await open_database(database_url)
    try:
        seeded = await seed(
            settings.base_url, notes=notes, accounts=accounts, likes=3 * notes, comments=notes // 5
        )
        await create_local_account(settings, VIEWER, VIEWER_PASSWORD)
    finally:
        await close_database()
    return seeded


async def start_server(env: dict[str, str]) -> Any:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "redfed.cli",
        "run",
        "--no-migrate",
        "--no-first-admin",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdout is not None
    while line := await asyncio.wait_for(proc.stdout.readline(), 120):
        if b"open http" in line:
            asyncio.create_task(_drain(proc.stdout))
            return proc
    raise RuntimeError("redfed run exited before serving")


async def wait_ready(base: str) -> None:
    """`redfed run` prints its address just before Hypercorn binds: wait for /healthz."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{base} did not answer")


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def stop_server(proc: Any) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def log_in(session: aiohttp.ClientSession, base: str) -> None:
    async with session.get(f"{base}/login") as response:
        token = _CSRF.search(await response.text()).group(1)  # type: ignore[union-attr]
    form = {"username": VIEWER, "password": VIEWER_PASSWORD, "csrf_token": token}
    async with session.post(f"{base}/login", data=form, allow_redirects=False) as response:
        assert response.status in (302, 303), f"log-in failed: {response.status}"


async def measure(
    session: aiohttp.ClientSession, url: str, requests: int, concurrency: int
) -> list[float]:
    """Latencies (ms) of `requests` GETs, `concurrency` at a time, after a short warm-up."""

    async def one() -> float:
        began = time.perf_counter()
        async with session.get(url) as response:
            await response.read()
            assert response.status == 200, f"GET {url}: {response.status}"
        return (time.perf_counter() - began) * 1000

    for _ in range(5):
        await one()
    timings: list[float] = []

    async def worker(count: int) -> None:
        for _ in range(count):
            timings.append(await one())

    await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def bench_backend(name: str, database_url: str, args: argparse.Namespace) -> list[tuple]:
    port = free_port()
    print(f"== {name}: seeding {args.notes} notes")
    seeded = await prepare(database_url, port, args.notes, args.accounts)
    env = server_env(database_url, port, DATA_DIR / f"{name}-data")
    if args.queries:
        from bench.query_counter import count_queries

        await count_queries(env, seeded, VIEWER, VIEWER_PASSWORD)
    proc = await start_server(env)
    base = f"http://127.0.0.1:{port}"
    await wait_ready(base)
    rows = []
    try:
        jar = aiohttp.CookieJar(unsafe=True)
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with (
            aiohttp.ClientSession() as anon,
            aiohttp.ClientSession(cookie_jar=jar, connector=connector) as viewer,
        ):
            await log_in(viewer, base)
            pages = [
                ("Explore, anonymous", anon, "/"),
                ("Explore, logged in", viewer, "/"),
                ("note + 50 comments", viewer, seeded.busy_note_path),
                ("profile", anon, seeded.profile_path),
            ]
            for label, session, path in pages:
                t = await measure(session, base + path, args.requests, args.concurrency)
                rows.append((name, label, statistics.median(t), percentile(t, 99), len(t)))
    finally:
        await stop_server(proc)
    return rows


def print_table(rows: list[tuple]) -> None:
    print(f"\n{'database':<10} {'page':<22} {'p50 ms':>8} {'p99 ms':>8} {'n':>5}  target")
    for db, label, p50, p99, n in rows:
        verdict = "ok" if p99 <= TARGET_P99_MS else "MISSED"
        print(f"{db:<10} {label:<22} {p50:>8.1f} {p99:>8.1f} {n:>5}  {verdict}")


async def run(args: argparse.Namespace) -> None:
    if args.db == "sqlite":
        rows = await bench_backend("sqlite", sqlite_scratch("pages"), args)
    else:
        async with postgres_scratch(args.postgres) as url:
            rows = await bench_backend("postgres", url, args)
    print_table(rows)


def run_both() -> None:
    """One process per database: Tortoise caches each model's INSERT in the first dialect."""
    import subprocess

    for db in ("sqlite", "postgres"):
        argv = [a for a in sys.argv[1:] if a not in ("--db", "both")]
        subprocess.run([sys.executable, __file__, "--db", db, *argv], check=True)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_PG,
        help="a server URL to create the "
        "scratch database on (default $REDFED_BENCH_POSTGRES_URL or local)",
    )
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--queries", action="store_true", help="count SQL statements per page")
    args = parser.parse_args()
    if args.db == "both":
        run_both()
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
