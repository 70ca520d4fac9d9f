"""Delivery benchmark: one public note to N followers on M instances played by one loopback sink.

The sink runs in its own process, so the figures measure redfed rather than the sink sharing
its event loop (on 2 cores the sink still takes some of the CPU: its CPU time is printed).

    .venv/bin/python bench/delivery_bench.py [--followers 10000] [--instances 1000]
        [--concurrency 64] [--workers 1] [--repeat 1]
        [--database-url postgres://postgres@127.0.0.1:5432/postgres]

Two figures, not to be confused: HTTP POSTs/s (one signed POST per distinct inbox; the
followers of one instance share its shared inbox, so 10,000 followers on 1,000 instances are
1,000 POSTs) and followers reached/s (the followers behind the inboxes that got their POST).
Also printed: CPU milliseconds per POST in the worker process(es), in their signing helper
process(es) and in the sink, and the cost of one signature alone, so the bottleneck (signing,
job bookkeeping, HTTP) can be read off on a shared machine where wall-clock time is noisy.
`--workers N` (PostgreSQL only: SQLite has one worker) runs N `Worker`s in N processes, as N
`redfed worker` processes would. `--repeat R` posts R notes one after another (with one
worker, the later ones find the connections to the same instances still open, as a running
worker would).
SQLite in a temp dir by default; with --database-url a scratch PostgreSQL database is created
next to it and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.connection
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.sink import LoopbackDns, Sink  # noqa: E402

from redfed.activitypub import uris  # noqa: E402
from redfed.config import Settings, load_settings  # noqa: E402
from redfed.db import close_database, migrate_database, open_database  # noqa: E402
from redfed.federation.http import SafeHttpClient  # noqa: E402
from redfed.federation.keys import generate_rsa_keypair  # noqa: E402
from redfed.federation.signatures import sign_request  # noqa: E402
from redfed.models import Account, Follow, FollowState, Job, JobState, Note  # noqa: E402
from redfed.runtime import Runtime  # noqa: E402
from redfed.services import delivery, outbox  # noqa: E402
from redfed.worker.handlers import default_handlers  # noqa: E402
from redfed.worker.runner import Worker  # noqa: E402

BASE = "https://bench.test"
SPAWN = multiprocessing.get_context("spawn")


def _serve_sink(conn: multiprocessing.connection.Connection) -> None:
    """The sink process: sends its port, then answers "stats" with (POSTs per host, its CPU
    seconds so far) until "stop"."""

    async def serve() -> None:
        sink = await Sink().start()
        conn.send(sink.port)
        loop = asyncio.get_running_loop()
        while (message := await loop.run_in_executor(None, conn.recv)) != "stop":
            assert message == "stats"
            conn.send((Counter(d.host for d in sink.deliveries), time.process_time()))
        conn.send(None)
        await sink.stop()

    asyncio.run(serve())


class RemoteSink:
    """The bench's handle on the sink process: its URLs, what it received, its CPU time."""

    def __init__(self) -> None:
        self._conn, child = multiprocessing.Pipe()
        self._process = SPAWN.Process(target=_serve_sink, args=(child,), daemon=True)
        self._process.start()
        self.port = int(self._conn.recv())

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def stats(self) -> tuple[Counter[str], float]:
        self._conn.send("stats")
        posts, cpu = self._conn.recv()
        return posts, float(cpu)

    def stop(self) -> None:
        self._conn.send("stop")
        self._conn.recv()
        self._process.join(timeout=10)


async def seed(sink: RemoteSink, followers: int, instances: int, keys: tuple[str, str]) -> Account:
    actor = uris.actor_uri(BASE, "alice")
    alice = await Account.create(
        username="alice",
        uri=actor,
        inbox_uri=uris.inbox_uri(actor),
        public_key_id=uris.key_id(actor),
        followers_uri=uris.followers_uri(actor),
        private_key_pem=keys[0],
        public_key_pem=keys[1],
    )
    remote = [
        Account(
            username=f"u{n}",
            domain=instance_host(n, instances),
            uri=sink.url(instance_host(n, instances), f"/users/u{n}"),
            inbox_uri=sink.url(instance_host(n, instances), f"/users/u{n}/inbox"),
            shared_inbox_uri=sink.url(instance_host(n, instances), "/inbox"),
        )
        for n in range(followers)
    ]
    await Account.bulk_create(remote, batch_size=1000)
    await Follow.bulk_create(
        [
            Follow(follower_id=a.id, followee_id=alice.id, state=FollowState.ACCEPTED)
            for a in remote
        ],
        batch_size=1000,
    )
    return alice


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) a live process has used so far; 0 when there is none."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_cpu() -> tuple[float, float]:
    """CPU seconds of this process, and of its signing helper (if it started one)."""
    return time.process_time(), process_cpu(delivery.signing_helper_pid())


def cpu_since(before: tuple[float, float]) -> tuple[float, float]:
    now = worker_cpu()
    return now[0] - before[0], now[1] - before[1]


def instance_host(follower: int, instances: int) -> str:
    return f"i{follower % instances}.bench"


async def post_note(alice: Account, n: int) -> None:
    note = Note(
        account=alice, published_at=datetime.now(UTC), title=f"Bench {n}", content_html="<p>x</p>"
    )
    note.uri = uris.note_uri(alice.uri, note.id)  # the id is made in Python, before saving
    await note.save()
    await outbox.note_created(note)


def signing_cost(keys: tuple[str, str], n: int = 300) -> float:
    """CPU milliseconds of one `sign_request` (RSA-2048 PKCS#1 v1.5 over a 1.2 KB body)."""
    started = time.process_time()
    for _ in range(n):
        sign_request(
            "POST", "https://a.example/inbox", body=b"x" * 1200, key_id="k", private_key_pem=keys[0]
        )
    return (time.process_time() - started) / n * 1000


def make_settings(url: str, data: Path, concurrency: int) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "instance": {"domain": "bench.test", "scheme": "https"},
            "storage": {"data_dir": str(data)},
            "database": {"url": url},
            "federation": {"allow_private_addresses": True},
            "worker": {"concurrency": concurrency},
        },
    )


def bench_client() -> SafeHttpClient:
    return SafeHttpClient(
        allow_private_addresses=True, user_agent="bench", dns_backend=LoopbackDns()
    )


async def drain_queue(settings: Settings, http: SafeHttpClient) -> None:
    """Run one worker until no job is due (what one `redfed worker` process does). Its HTTP
    client and signing helper are made beforehand: a running worker made them long ago."""
    worker = Worker(
        Runtime(settings, http=http), default_handlers(), concurrency=settings.worker.concurrency
    )
    await worker.run_forever(until_idle=True)


def _worker_process(
    settings: Settings, start: Any, conn: multiprocessing.connection.Connection
) -> None:
    async def run() -> None:
        await open_database(settings.database.url)
        await delivery.start_signing_helper()
        async with bench_client() as http:
            conn.send("ready")
            start.wait()
            began = worker_cpu()
            try:
                await drain_queue(settings, http)
            finally:
                await close_database()
            conn.send(cpu_since(began))

    asyncio.run(run())


async def deliver_with_processes(
    settings: Settings, count: int
) -> tuple[tuple[float, float], float]:
    """Drain the queue with `count` worker processes, started beforehand; returns their CPU
    seconds together (theirs, their signing helpers') and the wall-clock seconds."""
    start = SPAWN.Event()
    pipes, processes = [], []
    for _ in range(count):
        mine, theirs = multiprocessing.Pipe()
        process = SPAWN.Process(target=_worker_process, args=(settings, start, theirs))
        process.start()
        pipes.append(mine)
        processes.append(process)
    loop = asyncio.get_running_loop()
    for conn in pipes:  # every process has its database open before the clock starts
        await loop.run_in_executor(None, conn.recv)
    began = time.perf_counter()
    start.set()
    spent = [await loop.run_in_executor(None, conn.recv) for conn in pipes]
    cpu = (sum(worker for worker, _ in spent), sum(helper for _, helper in spent))
    seconds = time.perf_counter() - began
    for process in processes:
        process.join(timeout=10)
    return cpu, seconds


async def main(args: argparse.Namespace) -> None:
    data = Path(tempfile.mkdtemp(prefix="redfed-bench-"))
    url = f"sqlite://{data / 'bench.sqlite3'}"
    if args.database_url:
        url = await scratch_postgres(args.database_url)
    elif args.workers > 1:
        raise SystemExit("--workers > 1 needs PostgreSQL (SQLite runs one worker)")
    settings = make_settings(url, data, args.concurrency)
    await migrate_database(url)
    await close_database()
    await open_database(url)
    sink = RemoteSink()
    keys = generate_rsa_keypair()
    print(
        f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}; "
        f"{args.followers} followers on {args.instances} instances; "
        f"{args.workers} worker process(es), concurrency {args.concurrency}; {args.repeat} note(s)"
    )
    print(f"signing alone: {signing_cost(keys):.2f} ms CPU per signature")
    try:
        alice = await seed(sink, args.followers, args.instances, keys)
        followers_per_host = Counter(
            instance_host(n, args.instances) for n in range(args.followers)
        )
        # One client for every note, as a running worker keeps one: the second note finds the
        # connections of the first still open (aiohttp keeps idle ones 15 s) when one process
        # delivers; worker processes (--workers) start cold each time.
        async with bench_client() as http:
            for round_ in range(args.repeat):
                await report_one_note(args, settings, sink, http, alice, round_, followers_per_host)
    finally:
        sink.stop()
        await close_database()
        if args.database_url:
            await scratch_postgres(args.database_url, drop=url.rsplit("/", 1)[1])


async def report_one_note(
    args: argparse.Namespace,
    settings: Settings,
    sink: RemoteSink,
    http: SafeHttpClient,
    alice: Account,
    round_: int,
    followers_per_host: Counter[str],
) -> None:
    before, sink_cpu_before = sink.stats()
    await post_note(alice, round_)
    started = time.perf_counter()
    # The federate job alone: render the note and write one deliver job per inbox.
    await Worker(Runtime(settings, http=http), default_handlers()).run_once()
    fanned = time.perf_counter()
    if args.workers == 1:
        await delivery.start_signing_helper()
        cpu_before, began = worker_cpu(), time.perf_counter()
        await drain_queue(settings, http)
        spent, seconds = cpu_since(cpu_before), time.perf_counter() - began
    else:
        spent, seconds = await deliver_with_processes(settings, args.workers)
    after, sink_cpu_after = sink.stats()
    posts = after - before
    total_posts = sum(posts.values())
    reached = sum(followers_per_host[host] for host in posts)
    jobs = await Job.filter(kind="deliver", state=JobState.DONE).count()
    print(f"note {round_ + 1}: fan-out {fanned - started:.2f} s (deliver jobs done so far: {jobs})")
    print(
        f"  HTTP POSTs to inboxes: {total_posts} to {len(posts)} distinct inboxes in "
        f"{seconds:.2f} s = {total_posts / seconds:.0f} POSTs/s"
    )
    print(f"  followers reached: {reached} = {reached / seconds:.0f} followers/s")
    per_post = 1000 / total_posts
    print(
        f"  CPU per POST: worker(s) {spent[0] * per_post:.2f} ms + signing helper(s) "
        f"{spent[1] * per_post:.2f} ms; sink {(sink_cpu_after - sink_cpu_before) * per_post:.2f} ms"
    )
    print(f"  total (fan-out + deliveries): {fanned - started + seconds:.2f} s")


async def scratch_postgres(server_url: str, drop: str = "") -> str:
    """A fresh database next to `server_url` (never the server's own database)."""
    import asyncpg

    admin = await asyncpg.connect(server_url.replace("postgres://", "postgresql://", 1))
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')
            return ""
        name = f"redfed_bench_{int(time.time())}"
        await admin.execute(f'CREATE DATABASE "{name}"')
        return f"{server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--database-url", default="")
    asyncio.run(main(parser.parse_args()))
