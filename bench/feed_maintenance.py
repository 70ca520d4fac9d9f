"""Feed maintenance at 1M notes (issue 4, item 6), on SQLite and PostgreSQL: the daily chunked
decay (wall, CPU, chunks), how long a like waits while it runs (and while the old hourly
single-statement decay runs), a like's bookkeeping and its co-engagement job, the hourly
trending recompute.

    .venv/bin/python bench/feed_maintenance.py [--db sqlite|postgres|both] [--likes N]

The world is feed_latency's `--reuse` one (10,000 users, 1,000,000 notes; seeded through
feed_latency when missing). Everything runs on a COPY of it, dropped afterwards, so the
latency data stay as they are. CPU is this process's: SQLite's work counts, PostgreSQL's not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench import feed_latency as fl  # noqa: E402

from redfed.db import close_database, migrate_database, open_database  # noqa: E402

WRITE_EVERY = 0.05  # seconds between the concurrent likes while a decay runs


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def line(label: str, values: list[float]) -> None:
    values = values or [float("nan")]
    print(
        f"  {label:<36} n={len(values):<5} p50={statistics.median(values):8.1f} ms"
        f"  p99={fl.pct(values, 0.99):8.1f} ms  max={max(values):8.1f} ms"
    )


async def timed(work: Awaitable[Any]) -> tuple[Any, float, float]:
    """(result, wall s, CPU s of this process)."""
    c0, t0 = time.process_time(), time.perf_counter()
    result = await work
    return result, time.perf_counter() - t0, time.process_time() - c0


# --- the work measured ------------------------------------------------------------------------


async def daily_decay(fs: Any) -> list[float]:
    """The product's decay as the feed.decay job runs it (its position saved in a job row in
    every chunk's transaction), without a budget: the whole day. Returns each chunk's ms, the
    time between progress callbacks: the previous commit, the next chunk-end read, the update.
    On SQLite in one process a like waits for about one of these."""
    from redfed.models import Job
    from redfed.services import jobs
    from redfed.services.feed import maintenance

    far = datetime.now(UTC) + timedelta(days=365)  # the bench's Worker never claims it anyway
    job = await jobs.enqueue(maintenance.DECAY_KIND, {"day": 0}, run_at=far)
    assert job is not None
    payload: dict[str, Any] = {"day": 0}
    marks = [time.perf_counter()]

    async def save(position: tuple[int, int]) -> None:  # as maintenance.handle_decay's
        payload.update(signal=position[0], after=position[1])
        await Job.filter(id=job.id).update(payload=payload)
        marks.append(time.perf_counter())

    left = await maintenance.decay_signals(fs, maintenance.DECAY_PERIOD, progress=save)
    assert left is None
    return [(b - a) * 1000 for a, b in zip(marks, marks[1:], strict=False)]


async def old_decay(fs: Any) -> None:
    """THE OLD WAY, FOR COMPARISON ONLY (the hourly decay before bc523ca, written out here):
    every engaged note, author and neighbour pair rewritten in single statements, each holding
    SQLite's write lock (PostgreSQL: the rows' locks) from start to end, every hour."""
    from tortoise.expressions import F

    from redfed.models import AuthorEngagement, Note, NoteNeighbour
    from redfed.services.feed.coengagement import decay_factor

    hour, floor = 3600.0, 1e-3
    f_eng = decay_factor(hour, fs.engagement_half_life_days)
    f_nb = decay_factor(hour, fs.neighbour_half_life_days)
    f_author = decay_factor(hour, fs.author_half_life_days)
    await Note.filter(engagement__gt=floor).update(engagement=F("engagement") * f_eng)
    await Note.filter(engagement__gt=0, engagement__lte=floor).update(engagement=0.0)
    await AuthorEngagement.filter(engagement__gt=0).update(engagement=F("engagement") * f_author)
    await NoteNeighbour.all().update(score=F("score") * f_nb)
    await NoteNeighbour.filter(score__lt=floor).delete()


class Liker:
    """Likes as a request records them: record_event(LIKE) in the like's transaction, by a
    random seeded user (30 likes each already) on a random note of the last ~week."""

    def __init__(self, accounts: list[Any], notes: list[Any], fs: Any) -> None:
        self.accounts, self.notes, self.fs = accounts, notes, fs
        self.rng = random.Random(11)

    @classmethod
    async def create(cls, users: int, fs: Any) -> Liker:
        from redfed.models import Account, Note

        rng = random.Random(5)
        ids = await Note.all().order_by("-id").limit(125_000).values_list("id", flat=True)
        notes = await Note.filter(id__in=rng.sample(list(ids), min(2000, len(ids))))
        accounts = await Account.filter(id__in=rng.sample(range(1, users + 1), min(500, users)))
        return cls(list(accounts), list(notes), fs)

    async def like(self) -> float:
        """One like's write; its wall ms (accounts and notes are read beforehand)."""
        from tortoise.transactions import in_transaction

        from redfed.services.feed.events import record_event
        from redfed.services.feed.types import FeedEvent as Kind

        account, note = self.rng.choice(self.accounts), self.rng.choice(self.notes)
        t0 = time.perf_counter()
        async with in_transaction():
            await record_event(account, Kind.LIKE, note, self.fs)
        return (time.perf_counter() - t0) * 1000

    async def beside(self, work: Callable[[], Awaitable[Any]]) -> tuple[Any, list[float]]:
        """Run `work` while another task likes every WRITE_EVERY s; each like's ms."""
        waits: list[float] = []
        done = asyncio.Event()

        async def keep_liking() -> None:
            while not done.is_set():
                waits.append(await self.like())
                await asyncio.sleep(WRITE_EVERY)

        writer = asyncio.create_task(keep_liking())
        await asyncio.sleep(0.2)  # the writer is under way before the work starts
        try:
            result = await work()
        finally:
            done.set()
            await writer
        return result, waits


async def pair_jobs(url: str) -> tuple[list[float], list[float]]:
    """Run every queued feed.coengage job through the product's Worker, one at a time;
    (wall ms, CPU ms) of each job's handler."""
    from redfed.config import load_settings
    from redfed.runtime import Runtime
    from redfed.services.feed.events import COENGAGEMENT_JOB, pair_liked_note_job
    from redfed.worker.runner import Worker

    walls: list[float] = []
    cpus: list[float] = []

    async def handler(rt: Runtime, job: Any) -> None:
        _, wall, cpu = await timed(pair_liked_note_job(rt, job))
        walls.append(wall * 1000)
        cpus.append(cpu * 1000)

    rt = Runtime(settings=load_settings(environ={}, overrides={"database": {"url": url}}))
    await Worker(rt, {COENGAGEMENT_JOB: handler}, concurrency=1).run_until_idle(max_rounds=10**6)
    return walls, cpus


# --- one database ---------------------------------------------------------------------------


async def measure(kind: str, url: str, args: argparse.Namespace) -> None:
    from redfed.config import load_settings
    from redfed.services.feed import maintenance
    from redfed.services.feed.signals import feed_settings

    await migrate_database(url)
    await open_database(url)
    try:
        fs = await feed_settings(load_settings(environ={}, overrides={"database": {"url": url}}))
        liker = await Liker.create(args.users, fs)
        print(f"{kind}: {load()}")

        chunk = maintenance.DECAY_CHUNK
        print(f"{kind}: 1. daily decay (maintenance.decay_signals, {chunk}-row chunks, no budget)")
        chunks, wall, cpu = await timed(daily_decay(fs))
        print(f"  wall {wall:.1f} s, CPU {cpu:.1f} s, {len(chunks)} chunks; {load()}")
        line("chunk cycle (between progress calls)", chunks)

        print(f"{kind}: 2. a like every {WRITE_EVERY * 1000:.0f} ms while a decay runs")
        line("likes, nothing else running", [await liker.like() for _ in range(100)])
        (_, wall, cpu), waits = await liker.beside(lambda: timed(daily_decay(fs)))
        line(f"likes, daily decay ({wall:.0f} s)", waits)
        (_, wall, cpu), waits = await liker.beside(lambda: timed(old_decay(fs)))
        line(f"likes, OLD hourly decay ({wall:.0f} s)", waits)
        print(f"  the old hourly decay alone: wall {wall:.1f} s, CPU {cpu:.1f} s; {load()}")

        print(f"{kind}: 3. like bookkeeping (seeded users, 30+ likes each)")
        c0 = time.process_time()
        likes = [await liker.like() for _ in range(args.likes)]
        line("record_event(LIKE) + transaction", likes)
        print(f"  CPU {(time.process_time() - c0) * 1000 / args.likes:.1f} ms a like")
        walls, cpus = await pair_jobs(url)
        line("feed.coengage job (every queued)", walls)
        line("  its CPU", cpus)
        print(f"  {load()}")

        print(f"{kind}: 4. hourly recompute_trending")
        for _ in range(3):
            n, wall, cpu = await timed(maintenance.recompute_trending(datetime.now(UTC)))
            print(f"  {n} trending notes: wall {wall * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms")
        print(f"{kind}: done; {load()}")
    finally:
        await close_database()


async def ensure_seeded(url: str, users: int, notes: int) -> None:
    """feed_latency's world in `url`, seeded through feed_latency's functions when missing."""
    await migrate_database(url)
    if await fl.seeded_notes(url) == notes:
        return
    print(f"seeding {users} users, {notes} notes through feed_latency (minutes)")
    world = fl.World(users, notes)
    if url.startswith("sqlite://"):
        fl.seed_sqlite(Path(url[len("sqlite://") :]), world)
    else:
        await fl.seed_postgres(url, world)


async def run_sqlite(args: argparse.Namespace) -> None:
    source = fl.DATA / f"feed_latency-{args.users}-{args.notes}.sqlite3"
    await ensure_seeded(f"sqlite://{source}", args.users, args.notes)
    with tempfile.TemporaryDirectory(dir=fl.DATA) as scratch:
        copy = Path(scratch) / "copy.sqlite3"
        t0 = time.perf_counter()
        con = sqlite3.connect(source)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # The backup API rather than a file copy: a consistent snapshot even if a process
        # still has a WAL open on the source.
        with sqlite3.connect(copy) as target:
            con.backup(target)
        con.close()
        print(f"sqlite: copied the world in {time.perf_counter() - t0:.0f} s")
        await measure("sqlite", f"sqlite://{copy}", args)


async def run_postgres(args: argparse.Namespace) -> None:
    import asyncpg

    source = f"redfed_feedbench_{args.users}_{args.notes}"
    source_url = await fl.scratch_postgres(args.postgres, keep=source)
    await ensure_seeded(source_url, args.users, args.notes)
    name = f"redfed_feedmaint_{os.getpid()}"
    con = await asyncpg.connect(args.postgres.replace("postgres://", "postgresql://", 1))
    try:
        t0 = time.perf_counter()
        for attempt in range(30):  # TEMPLATE needs the source free of other sessions
            try:
                await con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
                break
            except asyncpg.ObjectInUseError:
                if attempt == 29:
                    raise
                await asyncio.sleep(10)
        print(f"postgres: copied the world in {time.perf_counter() - t0:.0f} s")
        await measure("postgres", f"{args.postgres.rsplit('/', 1)[0]}/{name}", args)
    finally:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await con.close()


def run(args: argparse.Namespace) -> None:
    if args.db == "both":
        fl.rerun_per_database(__file__)
        return
    fl.DATA.mkdir(parents=True, exist_ok=True)
    if args.chunk:  # try another chunk size (read by maintenance at each chunk)
        from redfed.services.feed import maintenance

        maintenance.DECAY_CHUNK = args.chunk
    asyncio.run(run_sqlite(args) if args.db == "sqlite" else run_postgres(args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--likes", type=int, default=300)
    parser.add_argument(
        "--chunk", type=int, default=0, help="decay chunk rows (default: product's)"
    )
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    run(parser.parse_args())
